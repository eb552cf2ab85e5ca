"""A service advisor's own figures in a real browser (issue 12, item 8): the advisor signs in, opens My figures from
the user menu, sees their arrivals and load drawn as charts in English and in Russian, and a figure opens their
own visits on the bookings list."""

import re
import tempfile
from datetime import time
from pathlib import Path

import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext
from playwright.sync_api import expect

from bookings.models import Booking
from clientdesk.calendar import at, local_date
from tests.browser.test_dashboard import drawn
from tests.browser.test_manager_desk import PASSWORD, switch_language
from tests.factories import AdvisorProfileFactory, BookingFactory, ClientFactory, ServiceAreaFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(tempfile.gettempdir())


def test_the_advisor_sees_their_own_arrivals_and_load(page, js_errors, live_server):
    # given: Petrov's visits today, one completed and one a no-show; Sidorov's one, which is not Petrov's
    petrov = AdvisorProfileFactory(user__username="petrov", user__first_name="Пётр", user__last_name="Петров").user
    sidorov = AdvisorProfileFactory(user__username="sidorov", user__last_name="Сидоров").user
    area = ServiceAreaFactory(name="Слесарный цех", code="mech")
    client = ClientFactory(name="Иванов Иван")
    today = local_date(timezone.now())
    for advisor, hour, status in (
        (petrov, 10, Booking.Status.COMPLETED),
        (petrov, 11, Booking.Status.NO_SHOW),
        (sidorov, 10, Booking.Status.COMPLETED),
    ):
        BookingFactory(client=client, area=area, advisor=advisor, starts_at=at(today, time(hour)), status=status)

    # when: the advisor signs in and opens My figures from the user menu
    page.goto(f"{live_server.url}/accounts/login/")
    switch_language(page, "en")
    page.locator("#id_username").fill("petrov")
    page.locator("#id_password").fill(PASSWORD)
    page.locator("#id_password").press("Enter")
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))
    page.locator("#user-menu [data-bs-toggle=dropdown]").click()
    page.locator("#nav-my-figures").click()

    # then: their own figures beside the advisors' average, and both charts drawn
    expect(page).to_have_url(re.compile(r"/reports/mine/$"))
    expect(page.locator("h1")).to_have_text("My figures")
    expect(page.locator('[data-figure="my-booked"] .figure-value')).to_have_text("2")
    expect(page.locator('[data-figure="my-booked"]')).to_contain_text("average: 1.5")
    expect(page.locator('[data-figure="my-no-shows"] .figure-value')).to_have_text("1")
    expect(page.locator('[data-figure="my-booked-minutes"] .figure-value')).to_have_text("30")
    expect(page.locator("#tile-my-calls")).to_have_count(0)
    page.wait_for_function("() => window.Chart !== undefined")
    assert drawn(page, "my-visits-by-day") and drawn(page, "my-load-by-day")
    page.wait_for_timeout(1500)  # the charts' animation, for the screenshot
    page.screenshot(path=SHOTS / "dashboard-advisor-en.png", full_page=True)

    # and in Russian
    switch_language(page, "ru")
    with translation.override("ru"):
        expect(page.locator("h1")).to_have_text(gettext("My figures"))
        expect(page.locator("#tile-my-arrivals h2")).to_have_text(gettext("My arrivals"))
    page.wait_for_function("() => window.Chart !== undefined")
    assert drawn(page, "my-visits-by-day") and drawn(page, "my-load-by-day")
    page.wait_for_timeout(1500)
    page.screenshot(path=SHOTS / "dashboard-advisor-ru.png", full_page=True)

    # a figure opens their own visits on the bookings list: the no-show, not Sidorov's
    page.locator('[data-figure="my-no-shows"]').click()
    expect(page).to_have_url(re.compile(rf"/bookings/\?.*advisor={petrov.pk}&status=no_show"))
    expect(page.locator("table tbody tr")).to_have_count(1)
    assert js_errors == []
