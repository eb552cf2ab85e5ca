"""A service advisor's own figures (issue 12, item 8): their arrivals and their load, beside the previous period and
the advisors' average, against hand counts of a prepared workshop with visits on both sides of midnight in
Europe/Moscow; each figure's list; nobody else's figures; the queries the page costs."""

from datetime import date, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bookings.models import Booking
from clientdesk.calendar import at
from clientdesk.dashboard import Period, advisor_tiles, draw, own_tiles
from clientdesk.models import CalendarDay
from tests.factories import AdvisorProfileFactory, BookingFactory, ClientFactory, ServiceAreaFactory, UserFactory
from tests.reports.test_dashboard import charts, figures, rows_behind

pytestmark = pytest.mark.django_db

DAY = date(2026, 3, 2)  # a Monday, open 08:00–20:00 by the default week
BEFORE = date(2026, 3, 1)  # the Sunday before, opened 10:00–16:00 as a working day off
AFTER = DAY + timedelta(days=1)
S = Booking.Status


def moment(day: date, hour: int, minute: int = 0):
    return at(day, time(hour, minute))


@pytest.fixture
def day_period() -> Period:
    return Period.of("custom", DAY, first=DAY, last=DAY)


@pytest.fixture
def workshop(db):
    """Petrov (30-minute slots) and Sidorov (60-minute slots) and their visits; returns the two advisors."""
    CalendarDay.objects.create(date=BEFORE, kind=CalendarDay.Kind.WORKING, opens=time(10), closes=time(16))
    area = ServiceAreaFactory(name="Слесарный цех", code="mech", daily_capacity_minutes=4800)
    petrov = AdvisorProfileFactory(user__username="petrov", user__last_name="Петров", slot_minutes=30).user
    sidorov = AdvisorProfileFactory(user__username="sidorov", user__last_name="Сидоров", slot_minutes=60).user
    client = ClientFactory(name="Иванов Иван")

    def visit(advisor, when, status, slot=30):
        BookingFactory(
            client=client,
            area=area,
            advisor=advisor,
            starts_at=when,
            advisor_until=when + timedelta(minutes=slot),
            status=status,
        )

    # Petrov's Monday: 00:30 (21:30 UTC on the Sunday) completed, 10:00 arrived, 11:00 in service, 12:00 no-show,
    # 13:00 scheduled, 14:00 cancelled, 23:30 confirmed; Sunday 23:45 completed; Tuesday 00:10 (21:10 UTC on the
    # Monday) scheduled.
    visit(petrov, moment(DAY, 0, 30), S.COMPLETED)
    visit(petrov, moment(DAY, 10), S.ARRIVED)
    visit(petrov, moment(DAY, 11), S.IN_SERVICE)
    visit(petrov, moment(DAY, 12), S.NO_SHOW)
    visit(petrov, moment(DAY, 13), S.SCHEDULED)
    visit(petrov, moment(DAY, 14), S.CANCELLED)
    visit(petrov, moment(DAY, 23, 30), S.CONFIRMED)
    visit(petrov, moment(BEFORE, 23, 45), S.COMPLETED)
    visit(petrov, moment(AFTER, 0, 10), S.SCHEDULED)
    # Sidorov's Monday: 10:00 completed, 11:00 no-show (an hour's slot each)
    visit(sidorov, moment(DAY, 10), S.COMPLETED, slot=60)
    visit(sidorov, moment(DAY, 11), S.NO_SHOW, slot=60)
    return {"petrov": petrov, "sidorov": sidorov, "area": area, "client": client}


def test_the_advisors_arrivals_equal_the_hand_count(workshop, day_period):
    got = figures(draw(advisor_tiles, user=workshop["petrov"], period=day_period))
    # booked (not cancelled): 00:30, 10:00, 11:00, 12:00, 13:00, 23:30; the Sunday: 23:45
    assert (got["my-booked"].value, got["my-booked"].previous) == (6, 1)
    # arrived (arrived, in service, completed): 00:30, 10:00, 11:00; the Sunday: 23:45
    assert (got["my-arrived"].value, got["my-arrived"].previous) == (3, 1)
    assert (got["my-no-shows"].value, got["my-no-shows"].previous) == (1, 0)
    assert (got["my-completed"].value, got["my-completed"].previous) == (1, 1)
    # the advisors' average, over the two advisors: Petrov's and Sidorov's (2 booked, 1 arrived, 1 no-show) halved
    assert [got[k].average for k in ("my-booked", "my-arrived", "my-no-shows", "my-completed")] == [4.0, 2.0, 1.0, 1.0]


def test_the_visits_by_day_follow_moscows_midnight(workshop):
    two_days = Period.of("custom", DAY, first=DAY, last=AFTER)
    chart = charts(draw(advisor_tiles, user=workshop["petrov"], period=two_days))["my-visits-by-day"]
    assert chart.labels == ["02.03", "03.03"]
    data = {series.label: series.data for series in chart.series}
    # 00:30 Monday is Monday's (21:30 UTC on Sunday); 00:10 Tuesday is Tuesday's (21:10 UTC on Monday)
    assert data == {
        "Completed": [1, 0],
        "Arrived, in service": [2, 0],
        "No-shows": [1, 0],
        "Awaited": [2, 1],
    }


def test_the_same_visits_in_another_zone_move_the_midnight(workshop, settings):
    # given the dealership moved to Yekaterinburg (UTC+5, two hours ahead of Moscow): Monday's 23:30 falls on
    # Tuesday, the Sunday's 23:45 on Monday
    settings.TIME_ZONE = "Asia/Yekaterinburg"
    petrov = workshop["petrov"]
    got = figures(draw(advisor_tiles, user=petrov, period=Period.of("custom", DAY, first=DAY, last=DAY)))
    # booked: 00:30, 10:00, 11:00, 12:00, 13:00 (Moscow) and the Sunday's 23:45; nothing left on the Sunday
    assert (got["my-booked"].value, got["my-booked"].previous) == (6, 0)
    assert (got["my-arrived"].value, got["my-completed"].value, got["my-no-shows"].value) == (4, 2, 1)
    two_days = Period.of("custom", DAY, first=DAY, last=AFTER)
    chart = charts(draw(advisor_tiles, user=petrov, period=two_days))["my-visits-by-day"]
    assert {series.label: series.data for series in chart.series} == {
        "Completed": [2, 0],
        "Arrived, in service": [2, 0],
        "No-shows": [1, 0],
        "Awaited": [1, 2],
    }


def test_the_advisors_load_equals_the_hand_count(workshop, day_period):
    got = figures(draw(advisor_tiles, user=workshop["petrov"], period=day_period))
    # held slots (not cancelled, not no-shows): 00:30, 10:00, 11:00, 13:00, 23:30 — five half hours; the Sunday one
    assert (got["my-booked-minutes"].value, got["my-booked-minutes"].previous) == (150, 30)
    # capacity: Monday 08:00–20:00 is 24 slots of 30 minutes; the Sunday opened 10:00–16:00, 12 slots
    assert (got["my-capacity-minutes"].value, got["my-capacity-minutes"].previous) == (720, 360)
    assert (got["my-load"].value, got["my-load"].previous) == (20.8, 8.3)
    # the advisors: Petrov 150 + Sidorov 60 (his no-show frees its slot) of 720 + 720 (12 slots of an hour)
    assert got["my-load"].average == 14.6
    assert (got["my-booked-minutes"].average, got["my-capacity-minutes"].average) == (105.0, 720.0)
    chart = charts(draw(advisor_tiles, user=workshop["petrov"], period=day_period))["my-load-by-day"]
    assert [series.data for series in chart.series] == [[150], [720]]


def test_a_closed_day_has_no_capacity_and_no_load(workshop):
    sunday = Period.of("custom", DAY, first=DAY + timedelta(days=6), last=DAY + timedelta(days=6))
    got = figures(draw(advisor_tiles, user=workshop["petrov"], period=sunday))
    assert (got["my-capacity-minutes"].value, got["my-load"].value) == (0, None)


def test_each_figure_opens_the_visits_it_counts(workshop, day_period, web):
    petrov = workshop["petrov"]
    web.force_login(petrov)
    tiles = draw(advisor_tiles, user=petrov, period=day_period)
    for key, figure in figures(tiles).items():
        if key in {"my-booked", "my-arrived", "my-no-shows", "my-completed"}:
            assert rows_behind(web, figure.url) == figure.value, key
    assert rows_behind(web, figures(tiles)["my-booked-minutes"].url) == 5  # the five held slots
    bars = charts(tiles)["my-visits-by-day"]
    for series in bars.series:
        assert rows_behind(web, series.urls[0]) == series.data[0], series.label


def test_an_advisor_sees_only_their_own_figures(workshop, day_period, manager, web):
    petrov, sidorov = workshop["petrov"], workshop["sidorov"]
    theirs = figures(draw(advisor_tiles, user=sidorov, period=day_period))
    assert (theirs["my-booked"].value, theirs["my-no-shows"].value, theirs["my-booked-minutes"].value) == (2, 1, 60)
    assert theirs["my-booked"].average == 4.0  # the same average: nothing of Petrov's own
    assert all(f"advisor={petrov.pk}" not in figure.url for figure in theirs.values())
    # the page draws Sidorov's whatever the query asks for
    web.force_login(sidorov)
    page = web.get(
        reverse("reports:mine"),
        {"period": "custom", "from": "2026-03-02", "to": "2026-03-02", "advisor": petrov.pk, "user": petrov.pk},
    )
    assert page.status_code == 200
    html = page.content.decode()
    # (the language switch repeats the page's own query; the lists behind the figures filter by advisor and status)
    assert f"advisor={sidorov.pk}&amp;status" in html and f"advisor={petrov.pk}&amp;status" not in html
    assert 'id="tile-my-arrivals"' in html and 'id="tile-my-load"' in html
    assert 'id="tile-my-calls"' not in html  # a manager's tiles are not theirs
    # nor the department's dashboard or its API
    assert web.get(reverse("reports:dashboard")).status_code == 403
    assert web.get("/api/v1/reports/dashboard/").status_code == 403


def test_a_manager_keeps_her_own_tiles(workshop, manager, web):
    web.force_login(manager)
    html = web.get(reverse("reports:mine")).content.decode()
    assert 'id="tile-my-calls"' in html
    assert 'id="tile-my-arrivals"' not in html
    assert {tile.key for tile in draw(own_tiles, user=manager, period=Period.of("today", DAY))} >= {"my-calls"}


@pytest.mark.parametrize("language", ["ru", "en"])
def test_the_page_draws_in_both_languages(workshop, web, language):
    web.force_login(workshop["petrov"])
    page = web.get(reverse("reports:mine"), {"period": "month"}, headers={"Accept-Language": language})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-chart="my-visits-by-day"' in html and 'data-chart="my-load-by-day"' in html
    assert 'id="nav-my-figures"' in html


def test_an_advisor_without_a_profile_gets_a_page(db, web):
    web.force_login(UserFactory(username="newcomer", role="advisor"))
    assert web.get(reverse("reports:mine")).status_code == 200


# --- query counts -----------------------------------------------------------------------------------------------------


def _more_visits(size: int, workshop) -> None:
    start = moment(DAY + timedelta(days=3 + size // 5), 0)  # each batch on days of its own
    for n in range(size):
        for who in ("petrov", "sidorov"):
            when = start + timedelta(minutes=60 * n + (0 if who == "petrov" else 30))
            BookingFactory(
                client=workshop["client"],
                area=workshop["area"],
                advisor=workshop[who],
                starts_at=when,
                planned_minutes=30,
                status=S.COMPLETED if n % 2 else S.SCHEDULED,
            )


# arrivals: both periods' and the advisors' counts in one, the advisors, the visits by day and status; load: the
# calendar's week and its exceptions, the held minutes, the minutes by day (the advisors read once for the page)
PINNED = {"my-arrivals": 3, "my-load": 4}
MARCH = {"period": "custom", "from": "2026-03-01", "to": "2026-03-31"}


def test_the_page_costs_the_same_queries_for_5_and_50_visits(workshop, web):
    petrov = workshop["petrov"]
    web.force_login(petrov)
    period = Period.from_query(MARCH, today=DAY)
    pages = []
    for size in (5, 45):
        _more_visits(size, workshop)
        with CaptureQueriesContext(connection) as queries:
            assert web.get(reverse("reports:mine"), MARCH).status_code == 200
        pages.append(len(queries))
    per_tile = {}
    for tile in advisor_tiles:
        with CaptureQueriesContext(connection) as queries:
            tile.compute(petrov, period)
        per_tile[tile.key] = len(queries)
    assert per_tile == {"my-arrivals": 3, "my-load": 5}  # alone, each tile reads the advisors itself
    assert pages[0] == pages[1]
    # the page: session and user, then the tiles, the advisors read once for both
    assert pages[0] == 2 + sum(PINNED.values())
