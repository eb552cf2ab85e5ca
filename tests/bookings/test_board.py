"""Issue 9, item 18: a long day's board draws what the desk acts on now and folds the rest; its version moves only when
what it shows moves (no clock tick that redraws every board at once); the day calendar lists an advisor's visits on
demand."""

from datetime import timedelta

import pytest
from django.urls import reverse

from bookings.models import Booking
from bookings.selectors import board as board_selectors
from bookings.selectors import bookings as booking_selectors
from bookings.selectors.board import board_version_now, day_board
from bookings.services.recalls import recall_campaign_create, recall_vin_mark_done, recall_vins_import
from tests.bookings.conftest import moment
from tests.factories import AdvisorProfileFactory, BookingFactory, ClientFactory, ServiceAreaFactory, VehicleFactory

pytestmark = pytest.mark.django_db


def visit(client, advisor, area, starts_at, **fields) -> Booking:
    """Half an hour's work, written directly: the services refuse a time that has passed (test_board_poll_cache too)."""
    return BookingFactory(client=client, advisor=advisor, area=area, starts_at=starts_at, planned_minutes=30, **fields)


@pytest.fixture
def long_day(monkeypatch, travel, day, car_owner, petrov, sidorov, to2):
    """At 12:00 a day folded from four visits on: one late (11:00), one arrived (10:00), one due at 12:30, one later
    (15:00), one done (09:00)."""
    monkeypatch.setattr(board_selectors, "BOARD_WHOLE_UP_TO", 4)
    travel(moment(day, 12))
    return {
        "late": visit(car_owner, petrov, to2.area, moment(day, 11)),
        "arrived": visit(car_owner, sidorov, to2.area, moment(day, 10), status="arrived"),
        "due": visit(car_owner, petrov, to2.area, moment(day, 12, 30)),
        "later": visit(car_owner, sidorov, to2.area, moment(day, 15)),
        "done": visit(car_owner, petrov, to2.area, moment(day, 9), status="completed"),
    }


def test_a_long_day_draws_the_late_the_arrived_and_the_next_hour_and_folds_the_rest(as_manager, long_day, day):
    page = as_manager.get(reverse("bookings:board"), {"day": day.isoformat()})
    board = page.context["board"]
    html = page.content.decode()

    assert [row.pk for row in board.rows] == [long_day[k].pk for k in ("arrived", "late", "due")]
    assert {fold.name: (fold.count, fold.shown, fold.rows) for fold in board.folds} == {
        "later": (1, False, []),
        "done": (1, False, []),
    }
    assert f'data-booking="{long_day["later"].pk}"' not in html
    assert 'id="fold-later"' in html and "show=later" in html

    opened = as_manager.get(reverse("bookings:board"), {"day": day.isoformat(), "show": "later"})
    later = {fold.name: fold for fold in opened.context["board"].folds}["later"]
    assert [row.pk for row in later.rows] == [long_day["later"].pk]
    # The opened fold stays open through the poll and the Arrived button.
    assert f"version={opened.context['version']}&amp;show=later" in opened.content.decode()
    assert "arrived/?day=" in opened.content.decode() and "&amp;show=later" in opened.content.decode()
    # A fold that does not exist is ignored, never a 500.
    assert as_manager.get(reverse("bookings:board"), {"day": day.isoformat(), "show": "x"}).status_code == 200


def test_before_the_day_begins_a_long_board_shows_its_first_hour(long_day, manager, day, travel):
    travel(moment(day, 6))
    board = day_board(day, user=manager, now=moment(day, 6))
    # The first open visit is at 11:00: the visits until 12:00 are drawn, and the arrived one.
    assert [row.pk for row in board.rows] == [long_day["arrived"].pk, long_day["late"].pk]
    assert {fold.name: fold.count for fold in board.folds} == {"later": 2, "done": 1}


def test_the_version_does_not_tick_with_the_clock(manager, day, car_owner, petrov, to2, travel):
    noon = moment(day, 12)
    travel(noon)
    visit(car_owner, petrov, to2.area, moment(day, 16))
    # Nothing the board shows changes in the next hours, so no poll redraws it (every board did every 5 minutes).
    versions = {board_version_now(day, user=manager, now=noon + timedelta(minutes=m)) for m in (0, 5, 10, 60, 180)}
    assert len(versions) == 1
    # Until the client is late.
    assert board_version_now(day, user=manager, now=moment(day, 16, 16)) not in versions


def test_a_long_boards_version_moves_when_a_visit_comes_within_the_hour(long_day, manager, day):
    at_noon = board_version_now(day, user=manager, now=moment(day, 12))
    assert board_version_now(day, user=manager, now=moment(day, 12, 10)) == at_noon
    assert board_version_now(day, user=manager, now=moment(day, 14, 5)) != at_noon  # 15:00 is within the hour
    # And the board drawn then agrees with the poll, so the poll is quiet after the redraw.
    later = moment(day, 14, 5)
    assert day_board(day, user=manager, now=later).version == board_version_now(day, user=manager, now=later)


def test_a_long_day_calendar_lists_an_advisors_visits_on_demand(
    as_manager, monkeypatch, day, car_owner, petrov, sidorov, to2
):
    monkeypatch.setattr(booking_selectors, "DAY_LISTED_UP_TO", 1)
    mine = visit(car_owner, petrov, to2.area, moment(day, 9))
    visit(car_owner, petrov, to2.area, moment(day, 10))
    visit(car_owner, sidorov, to2.area, moment(day, 11))
    url = reverse("bookings:day")

    page = as_manager.get(url, {"day": day.isoformat()})
    plan = page.context["plan"]
    assert not plan.listed
    assert {a.user_id: (a.count, a.first, a.last, a.bookings) for a in plan.advisors} == {
        petrov.pk: (2, "09:00", "10:00", None),
        sidorov.pk: (1, "11:00", "11:00", None),
    }
    assert mine.get_absolute_url() not in page.content.decode()

    # Opening the card asks for that one list (HTMX); without JavaScript the link opens the card on the page.
    fragment = as_manager.get(url, {"day": day.isoformat(), "advisor": petrov.pk}, headers={"HX-Request": "true"})
    assert "<html" not in fragment.content.decode() and mine.get_absolute_url() in fragment.content.decode()
    assert fragment.content.decode().count("<li>") == 2
    opened = as_manager.get(url, {"day": day.isoformat(), "advisor": petrov.pk})
    by_advisor = {a.user_id: a for a in opened.context["plan"].advisors}
    assert [v.pk for v in by_advisor[petrov.pk].bookings] == [mine.pk, mine.pk + 1]
    assert by_advisor[sidorov.pk].bookings is None


def test_a_day_calendar_card_spans_an_advisors_visits_over_their_areas(
    as_manager, monkeypatch, day, car_owner, petrov, sidorov, to2
):
    monkeypatch.setattr(booking_selectors, "DAY_LISTED_UP_TO", 1)
    body_shop = ServiceAreaFactory(name="Кузовной цех", code="body", daily_capacity_minutes=480)
    visit(car_owner, petrov, to2.area, moment(day, 9, 30))
    visit(car_owner, petrov, body_shop, moment(day, 8, 15) + timedelta(seconds=20, microseconds=5))
    visit(car_owner, petrov, to2.area, moment(day, 16))
    visit(car_owner, petrov, body_shop, moment(day, 15))

    plan = as_manager.get(reverse("bookings:day"), {"day": day.isoformat()}).context["plan"]
    assert {a.user_id: (a.count, a.first, a.last) for a in plan.advisors} == {
        petrov.pk: (4, "08:15", "16:00"),
        sidorov.pk: (0, "", ""),
    }
    assert {load.area.code: load.used for load in plan.areas} == {"mech": 60, "body": 60}


def test_a_redraw_in_place_sends_no_query_for_the_filters_form(as_manager, long_day, day, django_assert_num_queries):
    poll = {"day": day.isoformat(), "version": "stale"}
    # session, user, the poll's version, the board's counts, its rows (no VIN on these visits: no recall lookup);
    # not the filter's areas and advisors, which only the full page draws
    with django_assert_num_queries(5):
        response = as_manager.get(reverse("bookings:board"), poll, headers={"HX-Request": "true"})
    assert response.status_code == 200 and "<select" not in response.content.decode()


def test_the_board_marks_the_cars_with_open_recalls_by_code(
    as_manager, manager, head, travel, day, car_owner, petrov, to2
):
    # given: the car's VIN in a campaign without dates, one running today, one done for this car, one not begun and
    # one ended; another visit's car in no campaign
    travel(moment(day, 9))
    vin = car_owner.vehicles.get().vin
    campaigns = {
        code: recall_campaign_create(by=head, name=f"Кампания {code}", manufacturer_code=code, **dates)
        for code, dates in {
            "RUN": {"starts_on": day - timedelta(days=10), "ends_on": day},
            "OPEN": {},
            "DONE": {},
            "FUTURE": {"starts_on": day + timedelta(days=1)},
            "ENDED": {"ends_on": day - timedelta(days=1)},
        }.items()
    }
    for campaign in campaigns.values():
        recall_vins_import(campaign=campaign, vins=[vin], by=head)
    recall_vin_mark_done(recall_vin=campaigns["DONE"].vins.get(vin=vin), by=head)
    recalled = visit(car_owner, petrov, to2.area, moment(day, 10), vehicle=car_owner.vehicles.get())
    other = visit(ClientFactory(), petrov, to2.area, moment(day, 11), vehicle=VehicleFactory(vin="XTA21099087654321"))

    # when
    board = day_board(day, user=manager, now=moment(day, 9))
    page = as_manager.get(reverse("bookings:board"), {"day": day.isoformat()}).content.decode()

    # then: the open campaigns running today, the one without a start first
    by_pk = {row.pk: row for row in board.all_rows}
    assert by_pk[recalled.pk].open_recalls == ["OPEN", "RUN"] and by_pk[other.pk].open_recalls == []
    assert page.count("recall-badge") == 1 and "OPEN RUN</span>" in page


def test_the_rows_read_in_sql_print_the_dealerships_times_and_names(manager, travel, day, car_owner, petrov, to2):
    # given: a visit confirmed the day before and arrived; the board reads its rows in hand-written SQL, which hands
    # back UTC moments (naive on SQLite): the texts must still be the dealership's clock
    travel(moment(day, 12))
    booking = visit(
        car_owner,
        petrov,
        to2.area,
        moment(day, 9, 5),
        vehicle=car_owner.vehicles.get(),
        status="arrived",
        confirmed_at=moment(day - timedelta(days=1), 17, 45),
        arrived_at=moment(day, 8, 58),
    )

    # when
    (row,) = day_board(day, user=manager, now=moment(day, 12)).rows

    # then
    assert (row.pk, row.starts_at, row.time) == (booking.pk, moment(day, 9, 5), "09:05")
    assert row.confirmed == f"{day - timedelta(days=1):%d.%m} 17:45" and row.arrived == "08:58"
    assert (row.client_name, row.vehicle, row.advisor_name) == (str(car_owner), str(booking.vehicle), str(petrov))
    assert (row.state, row.url, row.arrived_url) == ("arrived", booking.get_absolute_url(), row.url + "arrived/")


def test_the_filter_offers_the_active_areas_and_advisors_and_narrows_by_them(
    as_manager, travel, day, car_owner, petrov, sidorov, to2, django_assert_num_queries
):
    travel(moment(day, 12))
    retired = AdvisorProfileFactory(user__last_name="Бывший", user__is_active=False).user
    closed = ServiceAreaFactory(name="Закрытый цех", is_active=False)
    mine = visit(car_owner, sidorov, to2.area, moment(day, 11))
    visit(car_owner, petrov, to2.area, moment(day, 11, 30))

    # The filtered page reads each select's options once, to check the choice and to draw it: as many queries as
    # the page without a filter (session, user, counts, rows, the areas, the advisors; no VIN, no recall lookup).
    with django_assert_num_queries(6):
        page = as_manager.get(reverse("bookings:board"), {"day": day.isoformat(), "advisor": sidorov.pk})

    assert [row.pk for row in page.context["rows"]] == [mine.pk]
    html = page.content.decode()
    assert f'<option value="{sidorov.pk}" selected>{sidorov}</option>' in html
    assert f'<option value="{petrov.pk}">{petrov}</option>' in html and f'<option value="{to2.area.pk}">' in html
    assert str(retired) not in html and str(closed) not in html
    # An advisor who left is refused as a choice, as one who never was.
    refused = as_manager.get(reverse("bookings:board"), {"day": day.isoformat(), "advisor": retired.pk})
    assert refused.context["filter_form"].errors.keys() == {"advisor"} and len(refused.context["rows"]) == 2


def test_a_quiet_poll_reads_only_the_version_and_a_filtered_one_its_filters_options(
    as_manager, travel, day, car_owner, petrov, to2, django_assert_num_queries
):
    travel(moment(day, 12))
    visit(car_owner, petrov, to2.area, moment(day, 15))
    board = reverse("bookings:board")
    for narrowed, queries in (({}, 3), ({"advisor": petrov.pk}, 4)):
        version = as_manager.get(board, {"day": day.isoformat(), **narrowed}).context["version"]
        poll = {"day": day.isoformat(), "version": version, **narrowed}
        # session, user, the version (and the advisors, to check the one named)
        with django_assert_num_queries(queries):
            assert as_manager.get(board, poll, headers={"HX-Request": "true"}).status_code == 204


def test_the_calendars_show_the_active_areas_by_name(as_manager, day, area):
    # The areas are read in SQL (bookings.selectors.bookings.active_areas) in ServiceArea's order, the closed left out.
    ServiceAreaFactory(name="Кузовной цех", code="body", daily_capacity_minutes=600)
    ServiceAreaFactory(name="Архивный цех", code="old", is_active=False)

    plan = as_manager.get(reverse("bookings:day"), {"day": day.isoformat()}).context["plan"]
    week = as_manager.get(reverse("bookings:week"), {"day": day.isoformat()})

    assert [(str(load.area), load.area.code, load.capacity) for load in plan.areas] == [
        ("Кузовной цех", "body", 600),
        ("Слесарный цех", "mech", 480),
    ]
    assert [area.code for area in week.context["areas"]] == ["body", "mech"]
    assert "Кузовной цех" in week.content.decode() and "Архивный цех" not in week.content.decode()
