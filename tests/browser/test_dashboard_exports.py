"""A long export and the fixed-form reports in a real browser (issue 12): the head exports the call-task board, lands
on the export's page, watches it wait and then (HTMX polling) turn into a Download button once the task has built the
file, and downloads it; she opens the daily report, its PDF and the export log."""

import io
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from playwright.sync_api import expect

from accounts.roles import Role
from calls.models import CallTask
from reports.models import Export
from reports.services.exports import export_build
from tests.browser.test_dashboard import sign_in
from tests.factories import ClientFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(tempfile.gettempdir())


def test_the_head_exports_a_long_board_in_the_background(page, js_errors, live_server, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.EXPORT_ASYNC_ROWS = 2
    UserFactory(username="olga", role=Role.HEAD, first_name="Ольга", last_name="Иванова")
    now = timezone.now()
    for name in ("Ёлкин Пётр", "Щукина Анна", "Жуков Илья"):
        CallTask.objects.create(kind="callback", client=ClientFactory(name=name), due_at=now, next_attempt_at=now)
    sign_in(page, live_server, "olga", "/reports/")
    page.goto(f"{live_server.url}/calls/head/tasks/")
    page.locator("#export a", has_text="Excel").click()
    # the export's page: waiting for a worker, polling
    expect(page.locator("#export-progress")).to_have_attribute("data-status", "queued")
    export = Export.objects.get()
    assert page.url == f"{live_server.url}/reports/exports/{export.pk}/"
    # a worker builds it; the page notices by itself
    export_build(pk=export.pk)
    expect(page.locator("#export-download")).to_be_visible(timeout=10_000)
    page.screenshot(path=str(SHOTS / "reports-export-ready.png"), full_page=True)
    with page.expect_download() as download:
        page.locator("#export-download").click()
    rows = list(load_workbook(io.BytesIO(Path(download.value.path()).read_bytes())).active.iter_rows(values_only=True))
    assert len(rows) == 1 + 3
    assert {row[3] for row in rows[1:]} == {"Ёлкин Пётр", "Щукина Анна", "Жуков Илья"}
    # the export log shows it
    page.goto(f"{live_server.url}/reports/exports/")
    expect(page.locator(f'tr[data-export="{export.pk}"]')).to_contain_text("call-tasks")
    assert js_errors == []


def test_the_head_opens_the_daily_report_and_its_pdf(page, js_errors, live_server):
    UserFactory(username="olga", role=Role.HEAD, first_name="Ольга", last_name="Иванова")
    sign_in(page, live_server, "olga", "/reports/")
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    page.goto(f"{live_server.url}/reports/daily/")
    page.locator("#report-day-input").fill(yesterday)
    page.locator("#report-day button").click()
    expect(page.locator('tbody[data-section="calls"]')).to_be_visible()
    assert f"day={yesterday}" in page.url
    with page.expect_download() as download:
        page.locator("#report-files a", has_text="PDF").click()
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF-")
    page.screenshot(path=str(SHOTS / "reports-daily.png"), full_page=True)
    assert js_errors == []
