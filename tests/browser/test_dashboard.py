"""The dashboards in a real browser (issue 12): the head signs in and lands on the department's dashboard, the
charts are drawn, she changes the period, clicks a bar and a figure and lands on the list behind each; a manager
opens her own figures from the navigation. Screenshots go to /tmp for a look."""

import re
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.roles import Role
from calls.models import Call
from clientdesk.calendar import local_date
from tests.browser.test_manager_desk import PASSWORD, switch_language
from tests.factories import CallFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(tempfile.gettempdir())


def sign_in(page, live_server, username: str, lands_on: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    switch_language(page, "en")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("#id_password").press("Enter")
    expect(page).to_have_url(f"{live_server.url}{lands_on}")


def drawn(page, key: str) -> bool:
    """The chart on the canvas exists and has painted something (a blank canvas encodes to a short PNG)."""
    return page.evaluate(
        """key => {
            const canvas = document.querySelector(`canvas[data-chart="${key}"]`);
            return !!(canvas && Chart.getChart(canvas) && canvas.toDataURL().length > 3000);
        }""",
        key,
    )


def click_bar(page, key: str, dataset: int, index: int) -> None:
    """Click the middle of one bar, where Chart.js drew it."""
    box = page.evaluate(
        """([key, dataset, index]) => {
            const canvas = document.querySelector(`canvas[data-chart="${key}"]`);
            const bar = Chart.getChart(canvas).getDatasetMeta(dataset).data[index];
            const horizontal = bar.horizontal;
            return horizontal ? {x: (bar.x + bar.base) / 2, y: bar.y} : {x: bar.x, y: (bar.y + bar.base) / 2};
        }""",
        [key, dataset, index],
    )
    page.locator(f'canvas[data-chart="{key}"]').click(position=box)


def test_the_head_reads_the_dashboard_and_drills_down(page, js_errors, live_server):
    # given: inbound calls this morning, three by Maria and one by Anna, and a call of last month
    olga = UserFactory(username="olga", role=Role.HEAD, first_name="Ольга", last_name="Иванова")
    maria = UserFactory(username="maria", role=Role.MANAGER, first_name="Мария", last_name="Смирнова")
    anna = UserFactory(username="anna", role=Role.MANAGER, first_name="Анна", last_name="Петрова")
    now = timezone.now()
    for minutes in (5, 10, 15):
        CallFactory(manager=maria, started_at=now - timedelta(minutes=minutes))
    CallFactory(manager=anna, started_at=now - timedelta(minutes=20))
    CallFactory(manager=anna, started_at=now - timedelta(days=40))
    assert olga.pk

    # when: the head signs in
    sign_in(page, live_server, "olga", "/reports/")

    # then: today's figures and the charts are drawn
    expect(page.locator('[data-figure="inbound"] .figure-value')).to_be_visible()
    page.wait_for_function("() => typeof Chart !== 'undefined' && Chart.getChart(document.querySelector('canvas'))")
    assert drawn(page, "inbound-by-manager") and drawn(page, "inbound-by-hour") and drawn(page, "csi-trend")
    page.screenshot(path=SHOTS / "dashboard-head-today.png", full_page=True)

    # when: she picks yesterday and today (the calls of the last half hour, even just after midnight)
    page.locator("#period-picker").get_by_role("link", name="This week").click()
    expect(page).to_have_url(re.compile(r"/reports/\?period=week$"))
    page.locator("#period-from").fill(str(local_date(now) - timedelta(days=1)))
    page.locator("#period-to").fill(str(local_date(now)))
    page.locator("#period-custom").get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"/reports/\?period=custom&from="))
    expect(page.locator('[data-figure="inbound"] .figure-value')).to_have_text("4")
    page.wait_for_function("() => Chart.getChart(document.querySelector('canvas[data-chart=\"inbound-by-manager\"]'))")
    page.screenshot(path=SHOTS / "dashboard-head-range.png", full_page=True)
    page.set_viewport_size({"width": 1366, "height": 768})
    page.screenshot(path=SHOTS / "dashboard-head-1366x768.png")

    # and clicks Maria's bar (the managers are listed busiest first)
    click_bar(page, "inbound-by-manager", 0, 0)

    # then: the call log lists Maria's three inbound calls of the two days
    expect(page).to_have_url(re.compile(rf"/calls/\?.*manager={maria.pk}"))
    expect(page.locator("table tbody tr")).to_have_count(3)
    assert Call.objects.filter(manager=maria).count() == 3

    # when: back on the dashboard she clicks the inbound figure
    page.go_back()
    page.locator('[data-figure="inbound"]').click()
    expect(page).to_have_url(re.compile(r"/calls/\?direction=in&started_after="))
    expect(page.locator("table tbody tr")).to_have_count(4)
    assert js_errors == []


def test_the_manager_sees_her_own_figures(page, js_errors, live_server):
    maria = UserFactory(username="maria", role=Role.MANAGER, first_name="Мария", last_name="Смирнова")
    anna = UserFactory(username="anna", role=Role.MANAGER, first_name="Анна", last_name="Петрова")
    now = timezone.now()
    CallFactory(manager=maria, started_at=now - timedelta(minutes=5))
    for minutes in (10, 15, 20):
        CallFactory(manager=anna, started_at=now - timedelta(minutes=minutes))

    sign_in(page, live_server, "maria", "/clients/")
    page.locator("#user-menu [data-bs-toggle=dropdown]").click()  # her own figures are in her menu
    page.locator("#nav-my-figures").click()

    expect(page.locator("h1")).to_have_text("My figures")
    expect(page.locator('[data-figure="my-calls"] .figure-value')).to_have_text("1")
    expect(page.locator('[data-figure="my-calls"]')).to_contain_text("average: 2.0")
    expect(page.locator("#nav-dashboard")).to_have_count(0)
    page.screenshot(path=SHOTS / "dashboard-manager.png", full_page=True)
    assert js_errors == []
