"""Issue 14 in a real browser: a manager takes a tow order from a phone call (the client found with the search box),
dispatches it, marks it on the way and delivered, and the car's workshop visit appears on today's board."""

import re
from datetime import time

import pytest
from playwright.sync_api import expect

from accounts.roles import Role
from bookings.models import Booking
from clientdesk.calendar import at
from reception.models import TowOrder
from reception.services.tow import tow_contractor_create
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


def test_a_manager_takes_a_tow_order_and_the_delivered_car_is_on_todays_board(page, js_errors, live_server, travel):
    # given: noon of a working day, a workshop with an advisor and diagnostics, a client with a car, a tow service
    day = working_day(2)
    travel(at(day, time(12)))
    UserFactory(username="maria", role=Role.MANAGER)
    AdvisorProfileFactory(user__username="petrov", user__last_name="Петров", user__role=Role.ADVISOR)
    area = ServiceAreaFactory(name="Слесарный цех", code="mech", daily_capacity_minutes=600)
    ServiceTypeFactory(name="Диагностика", code="diagnostics", area=area, standard_minutes=60)
    client = client_with_phone("+79123456789", name="Иванов Иван")
    VehicleFactory(owner=client, make="Kia", model="Rio", plate="А123ВС77")
    tow_contractor_create(by=None, name="Эвакуатор-24", phones=["+74951234567"], call_out_rate=3500, rate_per_km=50)

    page.goto(f"{live_server.url}/accounts/login/")
    switch_language(page, "en")
    sign_in(page, live_server, "maria", "en")

    # when: the client calls; the manager opens the dispatch board and takes the order
    page.get_by_role("button", name="Workshop", exact=True).click()
    page.get_by_role("link", name="Tow dispatch").click()
    page.get_by_role("link", name="New tow order").click()
    page.get_by_label("Find a client").fill("912 345")
    page.get_by_role("radio", name=re.compile("Иванов Иван")).check()
    page.get_by_role("radio", name=re.compile("Kia Rio")).check()
    page.get_by_label("Pick-up address").fill("МКАД, 41-й км")
    page.get_by_label("Landmark").fill("у заправки")
    page.get_by_label("Phone on site").fill("8 912 345-67-89")
    page.get_by_label("Accident").check()
    page.get_by_role("button", name="Take the order").click()

    # then: the order's card
    order = TowOrder.objects.get()
    expect(page).to_have_url(f"{live_server.url}{order.get_absolute_url()}")
    assert (order.client, order.problem, order.phone_on_site) == (client, "accident", "+79123456789")

    # when: the tow service is told, drives, and brings the car in
    page.get_by_label("Tow service").select_option(label="Эвакуатор-24")
    page.get_by_role("button", name="Dispatched").click()
    expect(page.locator(".tow-status-dispatched")).to_be_visible()
    page.get_by_role("button", name="On the way").click()
    expect(page.locator(".tow-status-on_the_way")).to_be_visible()
    page.get_by_role("button", name="Delivered to the workshop").click()
    expect(page.locator(".tow-status-delivered")).to_be_visible()
    expect(page.locator("#tow-booking")).to_be_visible()

    # then: the visit is on today's board, the client arrived
    booking = Booking.objects.get()
    assert TowOrder.objects.get().booking == booking
    page.goto(f"{live_server.url}/workshop/board/")
    expect(page.locator(".board-row.state-arrived", has_text="Иванов Иван")).to_be_visible()
    assert js_errors == []
