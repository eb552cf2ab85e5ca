"""Issue 9, item 10 in a real browser: a visit booked for 09:00 in the dealership's zone (Moscow, UTC+3) is told as
09:00 in the pop-up message, never as the database's 06:00; so is its move, and the card's confirmation."""

from datetime import time

import pytest
from playwright.sync_api import expect

from accounts.roles import Role
from bookings.models import Booking
from clientdesk.calendar import at
from tests.bookings.conftest import working_day
from tests.browser.test_manager_desk import sign_in, switch_language
from tests.factories import (
    AdvisorProfileFactory,
    ServiceAreaFactory,
    ServiceTypeFactory,
    UserFactory,
    VehicleFactory,
    client_with_phone,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_visit_booked_for_nine_is_told_as_nine(page, js_errors, live_server, settings):
    # given: the dealership in Moscow, a workshop with one advisor and a client with a car
    settings.TIME_ZONE = "Europe/Moscow"
    UserFactory(username="maria", role=Role.MANAGER)
    AdvisorProfileFactory(user__username="petrov", user__last_name="Петров", user__role=Role.ADVISOR)
    area = ServiceAreaFactory(name="Слесарный цех", code="mech", daily_capacity_minutes=600)
    ServiceTypeFactory(name="Диагностика", code="diag", area=area, standard_minutes=60)
    client = client_with_phone("+79123456789", name="Иванов Иван")
    VehicleFactory(owner=client, make="Kia", model="Rio")
    day = working_day(2)

    # when: the manager books the 09:00 slot
    page.goto(f"{live_server.url}/accounts/login/")
    switch_language(page, "en")
    sign_in(page, live_server, "maria", "en")
    page.goto(f"{live_server.url}/clients/{client.pk}/")
    page.get_by_role("link", name="Book a visit").click()
    page.get_by_label("Day", exact=True).fill(day.isoformat())
    page.get_by_label("Диагностика", exact=True).check()
    nine = page.locator("#slot-list .slot", has_text="09:00")
    expect(nine).to_be_visible()
    nine.click()
    page.get_by_role("button", name="Book", exact=True).click()

    # then: the pop-up says 09:00, in the one format, and never the UTC 06:00
    booking = Booking.objects.get()
    assert booking.starts_at == at(day, time(9))
    message = page.locator(".alert-success")
    expect(message).to_contain_text("Booked: Иванов Иван")
    expect(message).to_contain_text("09:00")
    expect(message).not_to_contain_text("06:00")

    # when: the visit is confirmed on the card
    page.locator('[data-action="confirm"]').first.click()

    # then: that message too names the visit at 09:00
    confirmed = page.locator(".alert-success")
    expect(confirmed).to_contain_text("09:00")
    expect(confirmed).not_to_contain_text("06:00")
    assert js_errors == []
