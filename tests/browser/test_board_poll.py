"""Issue 9, item 18, in a real browser with the shared cache on as in production: the open board polls every 30 s,
gets 204 from the quiet-poll shortcut (bookings.middleware) while nothing changed, and redraws itself in place once a
visit of the day changes."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.roles import Role
from bookings.models import Booking
from clientdesk.calendar import day_bounds, local_date
from tests.browser.test_manager_desk import sign_in, switch_language
from tests.factories import AdvisorFactory, BookingFactory, UserFactory, client_with_phone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_open_board_stays_quiet_until_a_visit_changes(page, js_errors, live_server, auth_cache):
    UserFactory(username="maria", role=Role.MANAGER)
    advisor = AdvisorFactory(last_name="Павлов")
    now = timezone.now()
    # Written directly: the services refuse a time that has passed, and the board is today's (whatever the clock).
    starts_at = min(now + timedelta(hours=2), day_bounds(local_date(now))[1] - timedelta(minutes=31))
    booking = BookingFactory(
        client=client_with_phone("+79123456789", name="Иванов Иван"), advisor=advisor, starts_at=starts_at
    )
    auth_cache.clear()  # the set-up's own "gone" marks would keep the day's digest out of the cache for a few seconds
    page.clock.install()
    page.goto(f"{live_server.url}/accounts/login/")
    switch_language(page, "en")
    sign_in(page, live_server, "maria", "en")
    page.goto(f"{live_server.url}/workshop/board/")
    version = page.locator("#board").get_attribute("data-version")

    def poll():
        with page.expect_response(lambda r: "/workshop/board/" in r.url and "version=" in r.url) as answer:
            page.clock.run_for(31_000)
        return answer.value

    for _ in range(2):
        quiet = poll()
        # Nothing for the page to swap, answered before the locale middleware (no Content-Language).
        assert quiet.status == 204 and "content-language" not in quiet.headers
        assert "no-store" in quiet.headers["cache-control"]
    assert page.locator("#board").get_attribute("data-version") == version

    booking.status = Booking.Status.CONFIRMED
    booking.confirmed_at = timezone.now()
    booking.save()
    assert poll().status == 200
    expect(page.locator("#board")).not_to_have_attribute("data-version", version)
    expect(page.locator(".board-row", has_text="Иванов Иван")).to_have_class(re.compile(r"\bstate-(late|expected)\b"))
    assert js_errors == []
