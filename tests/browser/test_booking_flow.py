"""Issue 3 in a real browser: a manager books a visit from the client card with the slot picker, sees the recall
warning, marks the client arrived; the advisor, on their own page, is told without reloading."""

import re
from datetime import time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.roles import Role
from bookings.models import Booking
from bookings.services.recalls import recall_campaign_create, recall_vins_import
from clientdesk.calendar import at, day_bounds, local_date
from clientdesk.models import Notification
from tests.bookings.conftest import working_day
from tests.browser.test_manager_desk import sign_in, switch_language
from tests.factories import (
    AdvisorProfileFactory,
    BookingFactory,
    ServiceAreaFactory,
    ServiceTypeFactory,
    UserFactory,
    VehicleFactory,
    client_with_phone,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOTIFICATION_POLL_MS = 15_000  # the bell polls every 10 s


def test_manager_books_with_the_slot_picker_and_the_advisor_hears_of_the_arrival(
    browser, page, js_errors, live_server, travel
):
    # given: a client whose car is in an open recall campaign, a workshop with one advisor
    UserFactory(username="maria", role=Role.MANAGER)
    head = UserFactory(username="olga", role=Role.HEAD)
    advisor = AdvisorProfileFactory(user__username="petrov", user__last_name="Петров", user__role=Role.ADVISOR).user
    area = ServiceAreaFactory(name="Слесарный цех", code="mech", daily_capacity_minutes=600)
    ServiceTypeFactory(name="ТО-2", code="to2", area=area, standard_minutes=180)
    client = client_with_phone("+79123456789", name="Иванов Иван")
    VehicleFactory(owner=client, make="Kia", model="Rio", vin="XTA21099012345678")
    campaign = recall_campaign_create(by=head, name="Замена подушки безопасности", manufacturer_code="RC-77")
    recall_vins_import(campaign=campaign, vins=["XTA21099012345678"], by=head)
    day = working_day(2)

    # and: the advisor has their page open in another browser
    advisor_context = browser.new_context(locale="en-US")
    advisor_page = advisor_context.new_page()
    advisor_page.goto(f"{live_server.url}/accounts/login/")
    advisor_page.get_by_label("Username", exact=True).fill("petrov")
    advisor_page.get_by_label("Password", exact=True).fill("Secret-pass-123")
    advisor_page.get_by_label("Password", exact=True).press("Enter")
    expect(advisor_page).to_have_url(f"{live_server.url}/workshop/my-arrivals/")
    expect(advisor_page.locator("#notification-count")).to_have_text("0")
    advisor_page.evaluate("window.sameDocument = true")

    # when: the manager opens the card and books
    page.goto(f"{live_server.url}/accounts/login/")
    switch_language(page, "en")
    sign_in(page, live_server, "maria", "en")
    page.goto(f"{live_server.url}/clients/{client.pk}/")
    page.get_by_role("link", name="Book a visit").click()
    expect(page.locator(".recall-alert")).to_contain_text("RC-77")
    page.get_by_label("Day", exact=True).fill(day.isoformat())
    page.get_by_label("ТО-2", exact=True).check()
    wanted = page.locator("#slot-list .slot", has_text="11:00")
    expect(wanted).to_be_visible()
    wanted.click()
    expect(wanted).to_have_attribute("aria-checked", "true")
    page.get_by_role("button", name="Book", exact=True).click()

    # then: the booking card, with the recall shown prominently
    booking = Booking.objects.get()
    expect(page).to_have_url(f"{live_server.url}{booking.get_absolute_url()}")
    assert (booking.starts_at, booking.advisor) == (at(day, time(11)), advisor)
    expect(page.locator(".recall-alert")).to_contain_text("RC-77")

    # when: the visit's morning comes (no "arrived" before it), and the client arrives
    expect(page.get_by_role("button", name="Client arrived")).to_have_count(0)
    travel(at(day, time(10, 40)))
    page.reload()
    page.get_by_role("button", name="Client arrived").click()
    expect(page.locator(".status-arrived")).to_be_visible()

    # then: the advisor's page shows it without a reload
    expect(advisor_page.locator("#notification-count")).to_have_text("1", timeout=NOTIFICATION_POLL_MS)
    advisor_page.locator("#notifications-button").click()
    expect(advisor_page.locator(".notification-item")).to_contain_text("Иванов Иван has arrived")
    expect(advisor_page.locator(".notification-item")).to_contain_text("RC-77")
    assert advisor_page.evaluate("window.sameDocument") is True
    assert Notification.objects.filter(user=advisor).count() == 1
    assert js_errors == []
    advisor_context.close()


def test_the_front_desk_marks_an_arrival_on_the_board(page, js_errors, live_server):
    UserFactory(username="maria", role=Role.MANAGER)
    advisor = UserFactory(username="pavlov", role=Role.ADVISOR, first_name="Сергей", last_name="Павлов")
    AdvisorProfileFactory(user=advisor)
    client = client_with_phone("+79123456789", name="Иванов Иван")
    now = timezone.now()
    # Written directly: the services refuse a time that has passed, and the board is today's (whatever the clock).
    BookingFactory(
        client=client, advisor=advisor, starts_at=max(now - timedelta(minutes=30), day_bounds(local_date(now))[0])
    )

    page.goto(f"{live_server.url}/accounts/login/")
    switch_language(page, "en")
    sign_in(page, live_server, "maria", "en")
    page.goto(f"{live_server.url}/workshop/board/")
    # Narrowing the board to the advisor redraws it in place and keeps the choice in the address.
    page.locator("#board-filter").get_by_label("Advisor", exact=True).select_option(label="Сергей Павлов")
    expect(page).to_have_url(re.compile(rf"advisor={advisor.pk}"))
    row = page.locator(".board-row", has_text="Иванов Иван")
    expect(row).to_have_class(re.compile(r"\bstate-(late|expected)\b"))
    version = page.locator("#board").get_attribute("data-version")

    row.get_by_role("button", name="Arrived").click()

    # The board is drawn anew in place: one board, the client arrived, and the next poll asks with the new version.
    expect(page.locator(".board-row.state-arrived", has_text="Иванов Иван")).to_be_visible()
    expect(page.locator("#board")).to_have_count(1)
    assert page.locator("#board").get_attribute("data-version") != version
    assert js_errors == []
