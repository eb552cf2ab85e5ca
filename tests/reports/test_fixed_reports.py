"""The reports on fixed forms (issue 12, item 5): the daily report and the weekly summary equal the hand counts of
the prepared department (tests/reports/conftest.py) as a page, a PDF and an XLSX; another app's section appears
through the registry; the weekly mail goes once a week, even when the task runs twice or two beats race."""

import io
from datetime import time, timedelta

import pytest
from django.core import mail
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader

from clientdesk.calendar import at
from clientdesk.dashboard import Figure, Period, Tile, TileData, report_sections
from reports import tasks
from reports.models import ReportMailing, ReportRecipient
from reports.services.fixed import fixed_report, report_period, report_recipients_set, weekly_report_mail
from tests.concurrency import run_at_once
from tests.factories import CallFactory
from tests.reports.conftest import DAY

pytestmark = pytest.mark.django_db

EN = {"Accept-Language": "en"}


def lines(report) -> dict:
    return {figure.key: figure for section in report.sections for figure in section.figures}


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_periods():
    assert report_period("daily", None, today=DAY) == Period("today", DAY, DAY)
    last_week = report_period("weekly", None, today=DAY + timedelta(days=2))
    assert (last_week.first, last_week.last) == (DAY - timedelta(days=7), DAY - timedelta(days=1))
    this_week = report_period("weekly", DAY + timedelta(days=3), today=DAY)
    assert (this_week.first, this_week.last) == (DAY, DAY + timedelta(days=6))


def test_the_daily_report_equals_the_hand_count(department, head):
    report = fixed_report("daily", user=head, period=report_period("daily", DAY, today=DAY))
    got = lines(report)
    assert [s.key for s in report.sections][:5] == ["calls", "bookings", "confirmations", "follow-ups", "csi"]
    # the same hand counts as the dashboard's (tests/reports/test_dashboard.py), midnight in Moscow included
    assert (got["inbound"].value, got["inbound"].previous) == (4, 2)
    assert (got["tasks-due"].value, got["tasks-done"].value, got["tasks-overdue"].value) == (5, 3, 1)
    assert (got["no-shows"].value, got["no-show-rate"].value, got["visits-ended"].value) == (1, 50.0, 2)
    assert (got["confirmation-rate"].value, got["follow-ups-on-time"].value) == (33.3, 50.0)
    assert (got["csi"].value, got["csi"].previous) == (90.0, 60.0)
    assert got["workshop-load"].value == 37.5
    # five bookings made "today" (the fixture's, whatever their visits' days), none the day before
    assert got["bookings-made"].previous == 0


def test_the_weekly_summary_counts_the_week(department, head):
    report = fixed_report("weekly", user=head, period=report_period("weekly", DAY, today=DAY))
    got = lines(report)
    # Monday's four inbound calls and Tuesday's 00:10; the Sunday before is last week's
    assert (got["inbound"].value, got["inbound"].previous) == (5, 2)
    # the campaign's two tasks due on the Wednesday join the day's five
    assert got["tasks-due"].value == 7


def test_another_apps_section_appears_through_the_registry(department, head, monkeypatch):
    def claims(user, period):
        return TileData(figures=[Figure("claims-open", "Открытые претензии", 3, previous=5, better="down")])

    monkeypatch.setitem(report_sections._items, "claims", (70, Tile("claims", "Претензии", claims)))
    report = fixed_report("daily", user=head, period=Period.of("today", DAY))
    assert report.sections[-1].key == "claims"
    assert lines(report)["claims-open"].good is True


def test_the_page_the_pdf_and_the_xlsx(department, head, as_head):
    query = {"day": DAY.isoformat()}
    page = as_head.get(reverse("reports:daily"), query, headers=EN)
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-figure="inbound"' in html and 'data-section="bookings"' in html
    assert 'class="text-end text-danger bad">+50.0' in html  # no-shows rose: red
    # each figure opens the list behind it, as on the dashboard
    inbound_url = lines(fixed_report("daily", user=head, period=Period.of("today", DAY)))["inbound"].url
    assert f'href="{inbound_url.replace("&", "&amp;")}"' in html
    pdf = as_head.get(reverse("reports:daily"), {**query, "as": "pdf"})
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF-")
    text = pdf_text(pdf.content)
    assert "Входящие звонки" in text or "Inbound calls" in text
    assert "2 марта 2026" in text or "March 2, 2026" in text
    book = as_head.get(reverse("reports:weekly"), {**query, "as": "xlsx"}, headers={"Accept-Language": "ru"})
    rows = list(load_workbook(io.BytesIO(book.content)).active.iter_rows(values_only=True))
    assert rows[0][0] == "Недельная сводка" or rows[0][0] == "Weekly summary"
    cells = {row[0]: row[1:] for row in rows if row and row[0]}
    inbound = next(v for k, v in cells.items() if k in ("Входящие звонки", "Inbound calls") and v[0] is not None)
    assert inbound[:2] == (5, 2)


def test_a_date_no_record_can_have_means_today(as_head):
    assert as_head.get(reverse("reports:daily"), {"day": "0001-01-01"}).status_code == 200
    assert as_head.get(reverse("reports:weekly"), {"day": "nonsense"}).status_code == 200


# --- the recipients and the Monday mail -------------------------------------------------------------------------------


def test_the_head_sets_the_recipients(as_head, head):
    response = as_head.post(reverse("reports:recipients"), {"emails": "Olga@Example.com\nboss@example.com, x@y.ru"})
    assert response.status_code == 302
    assert sorted(ReportRecipient.objects.values_list("email", flat=True)) == [
        "boss@example.com",
        "olga@example.com",
        "x@y.ru",
    ]
    as_head.post(reverse("reports:recipients"), {"emails": "boss@example.com"})
    assert list(ReportRecipient.objects.values_list("email", flat=True)) == ["boss@example.com"]
    assert ReportRecipient.history.filter(history_type="-", history_user=head).count() == 2
    page = as_head.get(reverse("reports:recipients")).content.decode()
    assert "boss@example.com" in page


def test_a_wrong_address_is_a_field_error(as_head):
    response = as_head.post(reverse("reports:recipients"), {"emails": "ok@example.com\nnot an address"}, headers=EN)
    assert response.status_code == 400
    assert "not an address" in response.content.decode()
    assert not ReportRecipient.objects.exists()


MONDAY_MORNING = at(DAY + timedelta(days=7), time(8))  # Monday 9 March, 08:00 in Moscow


def test_the_weekly_mail_goes_once_even_when_run_twice(department, head, mailoutbox):
    report_recipients_set(by=head, emails=["olga@example.com", "boss@example.com"])
    assert weekly_report_mail(now=MONDAY_MORNING) is True
    assert weekly_report_mail(now=MONDAY_MORNING + timedelta(minutes=1)) is False
    assert weekly_report_mail(now=MONDAY_MORNING + timedelta(days=2)) is False  # later that week: nothing more
    [message] = mailoutbox
    assert sorted(message.to) == ["boss@example.com", "olga@example.com"]
    assert "2" in message.subject
    names = [name for name, _content, _type in message.attachments]
    assert names == ["weekly-report-2026-03-02.pdf", "weekly-report-2026-03-02.xlsx"]
    mailing = ReportMailing.objects.get()
    assert (mailing.report, mailing.period_start, mailing.sent_at is not None) == ("weekly", DAY, True)
    # the week after: its own mail
    assert weekly_report_mail(now=MONDAY_MORNING + timedelta(days=7)) is True
    assert len(mailoutbox) == 2


def test_nothing_goes_before_monday_morning_or_to_nobody(department, head, mailoutbox):
    assert weekly_report_mail(now=MONDAY_MORNING) is False  # no recipients: nothing claimed
    assert not ReportMailing.objects.exists()
    report_recipients_set(by=head, emails=["olga@example.com"])
    assert weekly_report_mail(now=MONDAY_MORNING - timedelta(hours=2)) is False  # Monday 06:00
    assert weekly_report_mail(now=MONDAY_MORNING) is True
    assert len(mailoutbox) == 1


def test_a_mail_that_failed_is_sent_by_the_next_run(department, head, mailoutbox, monkeypatch):
    report_recipients_set(by=head, emails=["olga@example.com"])

    def broken(self, fail_silently=False):
        raise ConnectionError("smtp down")

    monkeypatch.setattr(mail.EmailMessage, "send", broken)
    with pytest.raises(ConnectionError):
        weekly_report_mail(now=MONDAY_MORNING)
    assert not ReportMailing.objects.exists()  # unclaimed
    monkeypatch.undo()
    assert weekly_report_mail(now=MONDAY_MORNING + timedelta(hours=1)) is True
    assert len(mailoutbox) == 1


def test_a_claim_whose_sender_died_is_taken_over_once(head, mailoutbox):
    report_recipients_set(by=head, emails=["olga@example.com"])
    ReportMailing.objects.create(report="weekly", period_start=DAY, claimed_at=MONDAY_MORNING)
    assert weekly_report_mail(now=MONDAY_MORNING + timedelta(minutes=30)) is False  # still being sent, maybe
    assert weekly_report_mail(now=MONDAY_MORNING + timedelta(hours=2)) is True
    assert weekly_report_mail(now=MONDAY_MORNING + timedelta(hours=4)) is False
    assert len(mailoutbox) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_beats_at_once_send_one_mail(head, mailoutbox):
    report_recipients_set(by=head, emails=["olga@example.com"])
    sent, errors = run_at_once(4, lambda n: weekly_report_mail(now=MONDAY_MORNING))
    assert errors == []
    assert sorted(sent) == [False, False, False, True]
    assert len(mailoutbox) == 1
    assert ReportMailing.objects.count() == 1


def test_the_task_runs_the_service(head, mailoutbox, monkeypatch):
    monkeypatch.setattr(tasks, "weekly_report_mail", lambda: "ran")
    assert tasks.mail_weekly_report.run() == "ran"


def test_the_same_data_in_another_zone_moves_the_midnight(department, head, settings):
    # in Yekaterinburg (UTC+5) Moscow's Monday 23:59 call is Tuesday's, the Sunday's 23:30 is Monday's
    settings.TIME_ZONE = "Asia/Yekaterinburg"
    got = lines(fixed_report("daily", user=head, period=Period.of("today", DAY)))
    assert (got["inbound"].value, got["inbound"].previous) == (4, 1)
    # the callback due at 23:30 on the Sunday in Moscow is due at 01:30 on the Monday here: six tasks due
    assert got["tasks-due"].value == 6
    # CSI: Moscow's 00:20 answer (80) is the Monday's either way; the Sunday's 23:50 (60) joins the Monday here
    assert got["csi"].value == 80.0


@pytest.mark.parametrize("page", ["reports:daily", "reports:weekly"])
def test_the_reports_cost_the_same_queries_for_few_and_many_rows(department, head, manager, page, as_head):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert as_head.get(reverse(page), {"day": DAY.isoformat()}).status_code == 200
        return len(queries)

    few = count()
    start = Period.of("today", DAY).start
    for n in range(30):
        CallFactory(manager=manager, started_at=start + timedelta(minutes=n))
    assert count() == few


def test_a_recipient_is_stored_in_lower_case_so_one_address_is_one_row(head):
    report_recipients_set(by=head, emails=["Boss@Example.com", "boss@example.COM"])
    assert list(ReportRecipient.objects.values_list("email", flat=True)) == ["boss@example.com"]
    with pytest.raises(IntegrityError), transaction.atomic():
        ReportRecipient.objects.create(email="Boss@Example.com")
