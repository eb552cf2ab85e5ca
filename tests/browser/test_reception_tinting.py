"""Tinting in a real browser: a manager opens a consultation whose front windows went below the limit (the warning
shown as given), picks a slot of the tinting area with the bookings' slot picker, and books it."""

import pytest
from playwright.sync_api import expect

from accounts.roles import Role
from reception.models import TintOrder
from reception.services.tinting import tint_consultation_create, tint_film_save
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


def test_a_manager_books_a_tinting_slot_for_a_warned_consultation(page, js_errors, live_server):
    manager = UserFactory(username="maria", role=Role.MANAGER)
    AdvisorProfileFactory(user__username="petrov", user__last_name="Петров", user__role=Role.ADVISOR)
    area = ServiceAreaFactory(name="Тонировка", code="tinting", daily_capacity_minutes=480)
    tinting = ServiceTypeFactory(name="Тонировка", code="tinting", area=area, standard_minutes=180)
    client = client_with_phone("+79123456789", name="Иванов Иван")
    VehicleFactory(owner=client, make="Kia", model="Rio")
    film = tint_film_save(by=None, name="Атермальная 80", light_transmission=80, prices={"front_side": 4500})
    consultation = tint_consultation_create(
        by=manager, client=client, films={"front_side": film}, glass_transmission=85, client_warned=True
    )

    page.goto(f"{live_server.url}/accounts/login/")
    switch_language(page, "en")
    sign_in(page, live_server, "maria", "en")
    page.goto(f"{live_server.url}{consultation.get_absolute_url()}")
    expect(page.locator("#tint-warning")).to_contain_text("68 %")
    slot = page.locator("#slot-list .slot").first
    expect(slot).to_be_visible()
    slot.click()
    expect(slot).to_have_attribute("aria-checked", "true")
    page.get_by_role("button", name="Book", exact=True).click()

    expect(page.locator("#tint-order-status")).to_have_text("Booked")
    order = TintOrder.objects.get()
    assert order.booking.area == area and list(order.booking.service_types.all()) == [tinting]
    assert js_errors == []
