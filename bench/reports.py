"""The reports app's bench cases (issue 12, item 6), each beside its raw-SQL floor, in the style of bench/cases.py:

- the head's dashboard for a month (every tile the apps registered, the previous month beside each figure), against
  the plain SQL aggregates that give the same figures;
- a 100,000-row XLSX export of the call log (the export a Celery task builds for a long list), against the same rows
  fetched by one SQL statement and written by the same openpyxl write-only workbook.

The lead lists `CASE_BUILDERS` beside bench.cases' own.
"""

import io
import tempfile
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from django.conf import settings
from django.test import Client as WebClient
from django.utils import timezone
from openpyxl import Workbook

from accounts.models import User
from accounts.roles import Role
from bench.cases import Bench, Case
from bookings.models import Booking
from calls.models import CallTask
from clientdesk.calendar import local_date
from clientdesk.dashboard import Period
from clientdesk.exports import EXPORT_MAX_ROWS, ExportRequest, rebuild_view, safe_cell

ZONE = settings.TIME_ZONE

INBOUND = """
    SELECT EXTRACT(HOUR FROM started_at AT TIME ZONE %(zone)s) AS hour, manager_id,
           COUNT(*) FILTER (WHERE started_at >= %(start)s), SUM(duration) FILTER (WHERE started_at >= %(start)s),
           COUNT(*) FILTER (WHERE started_at < %(start)s), SUM(duration) FILTER (WHERE started_at < %(start)s)
    FROM calls_call WHERE direction = 'in' AND started_at >= %(before)s AND started_at < %(end)s
    GROUP BY 1, 2
"""
TASKS = """
    SELECT kind, assignee_id,
           COUNT(*) FILTER (WHERE due_at >= %(start)s),
           COUNT(*) FILTER (WHERE due_at >= %(start)s AND status = 'done'),
           COUNT(*) FILTER (WHERE due_at >= %(start)s AND status = 'done' AND closed_at < due_at + interval '1 day'),
           COUNT(*) FILTER (WHERE due_at >= %(start)s AND status = 'unreachable'),
           COUNT(*) FILTER (WHERE due_at >= %(start)s AND status = ANY(%(pending)s)),
           COUNT(*) FILTER (WHERE due_at < %(start)s),
           COUNT(*) FILTER (WHERE due_at < %(start)s AND status = 'done'),
           COUNT(*) FILTER (WHERE due_at < %(start)s AND status = 'done' AND closed_at < due_at + interval '1 day'),
           COUNT(*) FILTER (WHERE due_at < %(start)s AND status = 'unreachable'),
           COUNT(*) FILTER (WHERE due_at < %(start)s AND status = ANY(%(pending)s)),
           COUNT(*) FILTER (WHERE due_at >= %(start)s AND status = ANY(%(pending)s)
                            AND next_attempt_at < now() - interval '1 hour')
    FROM calls_calltask WHERE due_at >= %(before)s AND due_at < %(end)s
    GROUP BY 1, 2
"""
NO_SHOWS = """
    SELECT COUNT(*) FILTER (WHERE starts_at >= %(start)s),
           COUNT(*) FILTER (WHERE starts_at >= %(start)s AND status = 'no_show'),
           COUNT(*) FILTER (WHERE starts_at < %(start)s),
           COUNT(*) FILTER (WHERE starts_at < %(start)s AND status = 'no_show')
    FROM bookings_booking WHERE starts_at >= %(before)s AND starts_at < %(end)s AND status = ANY(%(ended)s)
"""
LOAD = """
    SELECT area_id, SUM(planned_minutes) FROM bookings_booking
    WHERE starts_at >= %(start)s AND starts_at < %(end)s AND NOT status = ANY(%(freeing)s) GROUP BY 1
"""
ADVISORS = """
    SELECT advisor_id, SUM(advisor_until - starts_at) FROM bookings_booking
    WHERE starts_at >= %(start)s AND starts_at < %(end)s AND NOT status = ANY(%(freeing)s) AND advisor_id IS NOT NULL
    GROUP BY 1
"""
CSI = """
    SELECT date_trunc('month', answered_at AT TIME ZONE %(zone)s), SUM(csi), COUNT(csi), COUNT(*)
    FROM calls_surveyresponse WHERE answered_at >= %(year)s AND answered_at < %(end)s GROUP BY 1
"""
CAMPAIGNS = """
    SELECT m.campaign_id, COUNT(*), COUNT(t.id), COUNT(t.id) FILTER (WHERE t.status = ANY(%(pending)s)),
           COUNT(t.id) FILTER (WHERE t.status = 'done'), COUNT(t.id) FILTER (WHERE t.status = 'unreachable')
    FROM calls_campaignmember m LEFT JOIN calls_calltask t ON t.campaign_member_id = m.id
    WHERE m.campaign_id IN (SELECT id FROM calls_campaign WHERE starts_on <= %(last)s AND ends_on >= %(first)s
                            AND status <> 'draft' ORDER BY starts_on DESC, id DESC LIMIT 10)
    GROUP BY 1
"""


def _months(today: date, count: int) -> list[Period]:
    """The `count` whole months before this one."""
    months, first = [], today.replace(day=1)
    for _ in range(count):
        first = (first - timedelta(days=1)).replace(day=1)
        months.append(Period.of("month", first))
    return months


def month_dashboard(bench: Bench) -> Case:
    head = User.objects.filter(role=Role.HEAD, is_active=True).order_by("pk").first()
    if head is None:
        raise SystemExit("No active head in the database: run `manage.py seed_large` first.")
    web = WebClient()
    web.force_login(head)
    months = _months(local_date(timezone.now()), 6)
    inputs = [months[n % len(months)] for n in range(bench.sample)]
    pending = [s.value for s in CallTask.PENDING]
    ended = ["arrived", "in_service", "completed", "no_show"]
    freeing = [s.value for s in Booking.FREEING_STATUSES]

    def app(period: Period) -> object:
        query = {"period": "custom", "from": period.first.isoformat(), "to": period.last.isoformat()}
        response = web.get("/reports/", query)
        if response.status_code != 200:
            raise AssertionError(f"GET /reports/ {query} answered {response.status_code}")
        return response.content

    def floor(period: Period) -> object:
        params = {
            "zone": ZONE,
            "before": period.previous().start,
            "start": period.start,
            "end": period.end,
            "first": period.first,
            "last": period.last,
            "year": Period.of("month", period.first - timedelta(days=335)).start,
            "pending": pending,
            "ended": ended,
            "freeing": freeing,
        }
        return [bench.fetch(sql, params) for sql in (INBOUND, TASKS, NO_SHOWS, LOAD, ADVISORS, CSI, CAMPAIGNS)]

    return Case(
        "month dashboard",
        inputs,
        app,
        floor,
        "GET /reports/ as the head for one of the last six whole months (each figure beside the month before); "
        "floor: the same aggregates in plain SQL (inbound calls by hour and manager, call tasks by kind and "
        "assignee, no-shows, load by area and advisor, CSI by month, the campaigns' progress)",
        iterations=20,
        warmup=3,
    )


EXPORT_ROWS = """
    SELECT c.started_at, c.direction, cl.name, c.phone_e164, c.purpose, c.outcome,
           COALESCE(NULLIF(TRIM(u.first_name || ' ' || u.last_name), ''), u.username), c.duration, c.notes
    FROM calls_call c JOIN clients_client cl ON cl.id = c.client_id LEFT JOIN accounts_user u ON u.id = c.manager_id
    ORDER BY c.started_at DESC, c.id DESC LIMIT %s
"""


def xlsx_export(bench: Bench) -> Case:
    head = User.objects.filter(role=Role.HEAD, is_active=True).order_by("pk").first()
    request = ExportRequest(
        user_id=head.pk,
        username=head.username,
        list_name="calls",
        kind="xlsx",
        filter="",
        view="calls.views.calls.CallListView",
    )
    folder = Path(tempfile.mkdtemp(prefix="bench-export-"))

    def app(_n: int) -> object:
        view = rebuild_view(request, head)
        return view.write_export("xlsx", folder / "app.xlsx")

    def floor(_n: int) -> object:
        rows = bench.fetch(EXPORT_ROWS, [EXPORT_MAX_ROWS])
        book = Workbook(write_only=True)
        sheet = book.create_sheet("calls")
        sheet.append(["when", "direction", "client", "phone", "purpose", "outcome", "manager", "seconds", "notes"])
        for row in rows:
            sheet.append([safe_cell(timezone.localtime(row[0]).strftime("%d.%m.%Y %H:%M")), *map(safe_cell, row[1:])])
        buffer = io.BytesIO()
        book.save(buffer)
        return len(rows)

    return Case(
        "100k-row XLSX export",
        list(range(3)),
        app,
        floor,
        "the call log's 100,000 latest calls as XLSX, as the export task writes it (the list view rebuilt, its "
        "columns shown as on the page); floor: the same rows by one SQL statement, written by the same openpyxl "
        "write-only workbook",
        iterations=3,
        warmup=1,
    )


CASE_BUILDERS: list[Callable[[Bench], Case]] = [month_dashboard, xlsx_export]
