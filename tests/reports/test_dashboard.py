"""The dashboards' figures against hand counts of the prepared department (tests/reports/conftest.py), their
drill-down links against the lists they open, who sees which dashboard, and the queries they cost."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bookings.models import Booking
from calls.models import CallTask
from clientdesk.dashboard import Period, as_json, draw, head_tiles, own_tiles
from tests.factories import BookingFactory, CallFactory
from tests.reports.conftest import BEFORE, DAY

pytestmark = pytest.mark.django_db

EN = {"Accept-Language": "en"}


def figures(tiles) -> dict:
    return {figure.key: figure for tile in tiles for figure in tile.figures}


def charts(tiles) -> dict:
    return {chart.key: chart for tile in tiles for chart in tile.charts}


def rows_behind(web, url: str) -> int:
    """How many rows the list behind a link holds: the page's query sent to the list endpoint that shares its
    FilterSet (the call log's and bookings' pages and endpoints filter alike), every cursor page followed."""
    parts = urlsplit(url)
    endpoint = {
        reverse("calls:list"): "/api/v1/calls/",
        reverse("bookings:list"): "/api/v1/bookings/",
    }.get(parts.path, parts.path)
    assert web.get(url).status_code == 200  # the page itself opens with the link's filters
    count, next_url = 0, f"{endpoint}?{parts.query}"
    while next_url:
        answer = web.get(next_url, headers={"Accept": "application/json"})
        assert answer.status_code == 200, answer.content
        count += len(answer.json()["results"])
        next_url = answer.json()["next"]
    return count


# --- the period -----------------------------------------------------------------------------------------------------


def test_periods_and_the_ones_before_them():
    assert Period.of("today", DAY) == Period("today", DAY, DAY)
    assert Period.of("today", DAY).previous() == Period("today", BEFORE, BEFORE)
    week = Period.of("week", DAY + timedelta(days=3))
    assert (week.first, week.last) == (DAY, DAY + timedelta(days=6))
    assert week.previous().first == DAY - timedelta(days=7)
    march = Period.of("month", DAY)
    assert (march.first.isoformat(), march.last.isoformat()) == ("2026-03-01", "2026-03-31")
    assert (march.previous().first.isoformat(), march.previous().last.isoformat()) == ("2026-02-01", "2026-02-28")
    custom = Period.from_query({"period": "custom", "from": "2026-03-10", "to": "2026-03-02"}, today=DAY)
    assert (custom.first, custom.last, custom.days) == (DAY, DAY + timedelta(days=8), 9)
    assert custom.previous().last == DAY - timedelta(days=1)
    assert Period.from_query({"period": "custom", "from": "nonsense"}, today=DAY) == Period("today", DAY, DAY)
    # the day is Moscow's: it starts at 21:00 UTC the evening before
    assert Period.of("today", DAY).start.isoformat() == "2026-03-02T00:00:00+03:00"


# --- the head's figures, by hand count ------------------------------------------------------------------------------


def test_the_heads_figures_equal_the_hand_count(department, head, day_period):
    tiles = draw(head_tiles, user=head, period=day_period)
    got = figures(tiles)
    # inbound: 00:30, 10:15, 23:59 (the manager) and 10:45 (her colleague); the Sunday's 23:30 and 12:00 before
    assert (got["inbound"].value, got["inbound"].previous) == (4, 2)
    assert (got["inbound-seconds"].value, got["inbound-seconds"].previous) == (150, 60)
    by_hour = charts(tiles)["inbound-by-hour"].series[0].data
    assert (by_hour[0], by_hour[10], by_hour[23], sum(by_hour)) == (1, 2, 1, 4)
    by_manager = charts(tiles)["inbound-by-manager"]
    assert dict(zip(by_manager.labels, by_manager.series[0].data, strict=True)) == {
        "Мария Смирнова": 3,
        "Анна Петрова": 1,
    }
    # call tasks due on the day: 3 confirmations (one open since 00:30), 2 follow-ups; the callback was due the
    # evening before, in Moscow
    assert got["tasks-due"].value == 5
    assert got["tasks-done"].value == 3
    assert got["tasks-on-time"].value == 40.0  # the confirmation and the first follow-up: 2 of 5
    assert got["tasks-overdue"].value == 1
    assert got["tasks-unreachable"].value == 1
    # the Sunday before: the callback due at 23:30 and a confirmation, both done within a day
    assert (got["tasks-due"].previous, got["tasks-done"].previous, got["tasks-unreachable"].previous) == (2, 2, 0)
    assert got["tasks-on-time"].previous == 100.0
    by_assignee = charts(tiles)["tasks-by-assignee"]
    assert by_assignee.labels == ["Мария Смирнова"]
    assert [series.data for series in by_assignee.series] == [[3], [1], [1]]  # done, unreachable, pending
    assert (got["confirmation-rate"].value, got["confirmation-rate"].previous) == (33.3, 100.0)
    assert (got["confirmations-due"].value, got["confirmations-due"].previous) == (3, 1)
    assert (got["follow-ups-on-time"].value, got["follow-ups-on-time"].previous) == (50.0, None)
    # visits: completed and no-show ended on the day (the scheduled and the cancelled did not); the Sunday's came
    assert (got["no-show-rate"].value, got["no-show-rate"].previous) == (50.0, 0.0)
    assert (got["no-shows"].value, got["visits-ended"].value) == (1, 2)
    # load: 60 + 120 minutes booked (no-show and cancelled free their time) of one working day's 480
    load = charts(tiles)["load-by-area"]
    assert (load.labels, load.series[0].data, load.series[1].data) == (["Слесарный цех"], [3.0], [8.0])
    assert got["workshop-load"].value == 37.5
    # the advisor's slots: two half-hour slots held (the completed and the scheduled visit; the no-show and the
    # cancelled one free theirs), of the Monday's 12 open hours (08:00-20:00)
    advisors = charts(tiles)["load-by-advisor"]
    assert (advisors.series[0].data, advisors.series[1].data) == ([1.0], [12.0])
    # CSI: 80 at 00:20 and 100 on the day (the declined not a score); 60 at 23:50 the evening before
    assert (got["csi"].value, got["csi"].previous) == (90.0, 60.0)
    trend = charts(tiles)["csi-trend"]
    assert trend.labels[-3:] == ["01.2026", "02.2026", "03.2026"]
    assert trend.series[0].data[-3:] == [70.0, None, 80.0]  # February had no answers: a gap, not a zero
    # the campaign calling that week: one called, one waiting, one not planned yet
    campaigns = charts(tiles)["campaigns"]
    assert campaigns.labels == ["Шины"]
    assert [series.data for series in campaigns.series] == [[1], [0], [1], [1]]
    assert campaigns.series[0].urls == [reverse("calls:campaign-detail", args=[department["campaign"].pk])]


def test_the_same_data_in_another_zone_moves_the_midnight(department, head, settings):
    # given the dealership moved to Yekaterinburg (UTC+5): the 23:30 and 23:59 Moscow calls fall on the next day
    settings.TIME_ZONE = "Asia/Yekaterinburg"
    period = Period.of("custom", DAY, first=DAY, last=DAY)
    got = figures(draw(head_tiles, user=head, period=period))
    # Moscow's 00:30, 10:15, 10:45 on the day and the Sunday's 23:30 (01:30 on the Monday here); 23:59 is Tuesday's
    assert got["inbound"].value == 4
    assert got["inbound"].previous == 1


def test_every_drill_down_lists_as_many_rows_as_its_figure(department, head, day_period, web):
    web.force_login(head)
    tiles = draw(head_tiles, user=head, period=day_period)
    got = figures(tiles)
    for key in ("inbound", "tasks-due", "tasks-done", "tasks-overdue", "tasks-unreachable", "confirmations-due"):
        assert rows_behind(web, got[key].url) == got[key].value, key
    assert rows_behind(web, got["no-shows"].url) == got["no-shows"].value
    assert rows_behind(web, got["visits-ended"].url) == got["visits-ended"].value
    # the bars: each manager's inbound calls, each hour of the day, each kind's done tasks
    for chart_key in ("inbound-by-manager", "inbound-by-hour", "tasks-by-kind", "tasks-by-assignee"):
        for series in charts(tiles)[chart_key].series:
            for value, url in zip(series.data, series.urls, strict=True):
                assert rows_behind(web, url) == value, (chart_key, url)
    # the CSI month lists its answers (scored and declined): March has 3 scored and 1 declined
    trend = charts(tiles)["csi-trend"].series[0]
    assert rows_behind(web, trend.urls[-1]) == 4
    assert rows_behind(web, trend.urls[-2]) == 0


def test_the_links_keep_the_filters_of_the_lists(department, head, day_period):
    got = figures(draw(head_tiles, user=head, period=day_period))
    query = parse_qs(urlsplit(got["inbound"].url).query)
    assert query == {
        "direction": ["in"],
        "started_after": ["2026-03-02T00:00:00+03:00"],
        "started_before": ["2026-03-03T00:00:00+03:00"],
    }
    assert urlsplit(got["no-show-rate"].url).path == reverse("bookings:list")


# --- the pages --------------------------------------------------------------------------------------------------------


def test_the_head_lands_on_the_dashboard(department, head, web):
    web.force_login(head)
    assert web.get(reverse("home")).url == reverse("reports:dashboard")
    page = web.get(
        reverse("reports:dashboard"), {"period": "custom", "from": "2026-03-02", "to": "2026-03-02"}, headers=EN
    )
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="dashboard-charts"' in html and "js/dashboard.js" in html and "chart.umd.js" in html
    assert 'data-figure="inbound"' in html and 'data-chart="csi-trend"' in html
    assert "<script>" not in html  # the CSP allows scripts from files only; data goes through json_script


def test_the_page_draws_in_russian(department, head, web):
    web.force_login(head)
    page = web.get(reverse("reports:dashboard"), {"period": "month"}, headers={"Accept-Language": "ru"})
    assert page.status_code == 200


def test_a_manager_sees_only_her_own_figures_and_the_average(department, manager, colleague, day_period, web):
    # given the manager made 4 calls on the day (3 inbound), her colleague 1
    mine = figures(draw(own_tiles, user=manager, period=day_period))
    assert (mine["my-calls"].value, mine["my-calls"].average) == (4, 2.5)
    assert (mine["my-inbound"].value, mine["my-inbound"].average) == (3, 2.0)
    assert (mine["my-confirmations"].value, mine["my-confirmations"].average) == (1, 0.5)
    # the colleague sees hers, and the same averages: nothing of the manager's own
    theirs = figures(draw(own_tiles, user=colleague, period=day_period))
    assert (theirs["my-calls"].value, theirs["my-inbound"].value) == (1, 1)
    assert all(f"manager={manager.pk}" not in figure.url for figure in theirs.values())
    # and the department's page is not hers
    web.force_login(colleague)
    assert web.get(reverse("reports:dashboard")).status_code == 403
    assert web.get(reverse("reports:mine")).status_code == 200
    assert 'id="search-my-figures"' in web.get(reverse("clients:search")).content.decode()
    assert web.get("/api/v1/reports/dashboard/").status_code == 403


def test_the_api_gives_the_heads_figures(department, head, as_head):
    answer = as_head.get("/api/v1/reports/dashboard/", {"period": "custom", "from": "2026-03-02", "to": "2026-03-02"})
    assert answer.status_code == 200
    body = answer.json()
    assert body["period"] == {"kind": "custom", "first": "2026-03-02", "last": "2026-03-02"}
    assert body["previous"] == {"kind": "custom", "first": "2026-03-01", "last": "2026-03-01"}
    inbound = next(f for t in body["tiles"] for f in t["figures"] if f["key"] == "inbound")
    assert (inbound["value"], inbound["previous"], inbound["change"]) == (4, 2, 2)
    trend = next(c for t in body["tiles"] for c in t["charts"] if c["key"] == "csi-trend")
    assert trend["series"][0]["data"][-2] is None
    assert body["tiles"] == as_json(draw(head_tiles, user=head, period=Period.of("custom", DAY, first=DAY, last=DAY)))


def test_the_api_is_in_the_openapi_schema(as_head):
    schema = as_head.get("/api/schema/", headers={"Accept": "application/json"}).content.decode()
    assert "/api/v1/reports/dashboard/" in schema
    assert "DashboardFigure" in schema


# --- query counts -----------------------------------------------------------------------------------------------------


def _more_rows(size: int, department, manager, colleague):
    """`size` more calls, call tasks, visits and survey answers in March."""
    start = Period.of("today", DAY).start
    visits = start + timedelta(days=size // 5)  # each batch on a day of its own: the advisor's slots do not overlap
    for n in range(size):
        call = CallFactory(manager=manager if n % 2 else colleague, started_at=start + timedelta(minutes=n))
        CallTask.objects.create(
            kind="callback", client=call.client, due_at=start, next_attempt_at=start, assignee=manager
        )
        BookingFactory(
            client=call.client,
            area=department["area"],
            advisor=department["advisor"],
            starts_at=visits + timedelta(minutes=30 * n),
            planned_minutes=30,
            status=Booking.Status.COMPLETED,
        )


@pytest.mark.parametrize("page", ["reports:dashboard", "reports:mine"])
def test_the_dashboards_cost_the_same_queries_for_5_and_50_rows(department, head, manager, colleague, web, page):
    user, registry = (head, head_tiles) if page == "reports:dashboard" else (manager, own_tiles)
    web.force_login(user)
    period = Period.from_query(MARCH, today=DAY)
    pages, tiles = [], []
    for size in (5, 45):
        _more_rows(size, department, manager, colleague)
        with CaptureQueriesContext(connection) as queries:
            assert web.get(reverse(page), MARCH).status_code == 200
        pages.append(len(queries))
        per_tile = {}
        for tile in registry:
            with CaptureQueriesContext(connection) as queries:
                tile.compute(user, period)
            per_tile[tile.key] = len(queries)
        tiles.append(per_tile)
    assert pages[0] == pages[1]
    assert tiles[0] == tiles[1]
    # each tile's own count, pinned (tiles other apps add are held to the same-for-any-rows rule above)
    assert {key: n for key, n in tiles[0].items() if key in PINNED} == PINNED_BY_PAGE[page]
    # the page: session and user, then the tiles and nothing else; drawn together, the confirmation and follow-up
    # tiles read the outbound tile's task groups instead of one query each
    assert pages[0] == 2 + sum(tiles[0].values()) - SHARED_BY_PAGE[page]


MARCH = {"period": "custom", "from": "2026-03-01", "to": "2026-03-31"}
# inbound: the rolled-up days (none here), both periods grouped by hour and manager, the managers' names; call
# tasks: grouped by kind and assignee, the assignees' names; load: areas, minutes, the calendar's week and its
# exceptions, the advisors' slots and the advisors; CSI: the period's and the months'; campaigns: the campaigns and
# their progress; a manager's calls: hers and the department's in one, and the number of managers; her queue: the
# absences she covers, hers, the department's, the managers.
PINNED_BY_PAGE = {
    "reports:dashboard": {
        "inbound": 3,
        "outbound": 2,
        "confirmations": 1,
        "no-shows": 1,
        "workshop-load": 6,
        "follow-ups": 1,
        "csi": 2,
        "campaigns": 2,
    },
    "reports:mine": {"my-calls": 2, "my-queue": 4},
}
PINNED = {key for counts in PINNED_BY_PAGE.values() for key in counts}
SHARED_BY_PAGE = {"reports:dashboard": 2, "reports:mine": 0}


def test_the_dms_reads_the_figures_with_its_api_key(department, dms_api):
    answer = dms_api.get("/api/v1/reports/dashboard/", {"period": "custom", "from": "2026-03-02", "to": "2026-03-02"})
    assert answer.status_code == 200
    tiles = {tile["key"] for tile in answer.json()["tiles"]}
    assert {"inbound", "outbound", "no-shows", "workshop-load", "csi"} <= tiles


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_dates_no_record_can_have_mean_today(as_head, day):
    query = {"period": "custom", "from": day, "to": day}

    assert as_head.get(reverse("reports:dashboard"), query).status_code == 200  # were 500s (OverflowError)
    # the API reads its dates strictly, as its schema says (1900-9998): a field error, not a 500
    answer = as_head.get("/api/v1/reports/dashboard/", query)
    assert answer.status_code == 400 and set(answer.json()) & {"from", "to"}, answer.content


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"period": "custom"}, "from"),
        ({"period": "custom", "from": "2026-03-02"}, "to"),
        ({"period": "custom", "to": "2026-03-02"}, "from"),
        ({"period": "custom", "from": "2026-03-02", "to": "2026-03-01"}, "to"),
        ({"period": "custom", "from": "2025-01-01", "to": "2026-03-02"}, "to"),
    ],
)
def test_the_api_refuses_a_custom_period_it_cannot_read(as_head, query, field):
    answer = as_head.get("/api/v1/reports/dashboard/", query)  # answered today's figures as if nothing was wrong
    assert answer.status_code == 400 and field in answer.json(), answer.content


# --- the known bugs, fixed --------------------------------------------------------------------------------------------


def test_the_heads_own_figures_count_her_own_calls(department, head, manager, day_period, web):
    # given the head took two calls herself on the day (besides the managers' five)
    CallFactory(manager=head, started_at=day_period.start + timedelta(hours=9))
    CallFactory(manager=head, started_at=day_period.start + timedelta(hours=9, minutes=5), direction="out")
    mine = figures(draw(own_tiles, user=head, period=day_period))
    # then her figures are hers (they were 0: only managers' calls were counted)
    assert mine["my-calls"].value == 2
    assert mine["my-inbound"].value == 1
    # and the average stays the managers': 5 calls of two managers
    assert mine["my-calls"].average == 2.5
    web.force_login(head)
    page = web.get(reverse("reports:mine"), {"period": "custom", "from": "2026-03-02", "to": "2026-03-02"})
    assert page.status_code == 200
    assert f"manager={head.pk}" in page.content.decode()


def test_a_rise_is_coloured_by_whether_it_is_good(department, head, day_period, web):
    got = figures(draw(head_tiles, user=head, period=day_period))
    # no-shows rose from 0% to 50%: a rise, and a bad one
    assert got["no-show-rate"].change == 50.0 and got["no-show-rate"].good is False
    # inbound calls rose from 2 to 4: neither good nor bad
    assert got["inbound"].change == 2 and got["inbound"].good is None
    # the CSI rose from 60 to 90: good
    assert got["csi"].good is True
    # unreachable calls: 0 before, 1 now, bad
    assert got["tasks-unreachable"].good is False
    web.force_login(head)
    html = web.get(reverse("reports:dashboard"), {"period": "custom", "from": "2026-03-02", "to": "2026-03-02"})
    html = html.content.decode()
    no_show = html[html.index('data-figure="no-show-rate"') :]
    no_show = no_show[: no_show.index("</a>")]
    assert 'class="text-danger" data-change="bad"' in no_show
    csi = html[html.index('data-figure="csi"') :]
    assert 'class="text-success" data-change="good"' in csi[: csi.index("</a>")]


def test_the_api_says_which_way_is_better(department, as_head):
    answer = as_head.get("/api/v1/reports/dashboard/", {"period": "custom", "from": "2026-03-02", "to": "2026-03-02"})
    got = {f["key"]: f for t in answer.json()["tiles"] for f in t["figures"]}
    assert (got["no-shows"]["better"], got["no-shows"]["good"]) == ("down", False)
    assert (got["csi"]["better"], got["csi"]["good"]) == ("up", True)
    assert all("stack" not in s for t in answer.json()["tiles"] for c in t["charts"] for s in c["series"])


def test_a_deactivated_managers_bar_opens_her_calls(department, head, colleague, day_period, web):
    # given the colleague left after the day: her account is deactivated
    colleague.is_active = False
    colleague.save()
    tiles = draw(head_tiles, user=head, period=day_period)
    bars = charts(tiles)["inbound-by-manager"]
    assert "Анна Петрова" in bars.labels
    web.force_login(head)
    # then each manager's bar, hers too, lists as many calls as it shows (hers listed nothing: the filter refused her)
    for value, url in zip(bars.series[0].data, bars.series[0].urls, strict=True):
        assert rows_behind(web, url) == value, url


def test_the_heads_dashboard_links_her_reports(as_head, as_manager):
    html = as_head.get(reverse("reports:dashboard")).content.decode()
    for name in ("reports:daily", "reports:weekly", "reports:export-log"):
        assert f'href="{reverse(name)}"' in html
    assert 'id="report-links"' not in as_manager.get(reverse("reports:mine")).content.decode()
