"""Issue 11 in a real browser: a manager books a visit with a loaner (the slot picker marks the slots with a loaner
free), hands the car over with a damage mark, takes it back with new damage; the transport department head, on the
fleet board in another browser, is told without a reload and clears the car."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from accounts.roles import Role
from bookings.models import Booking
from clientdesk.models import Notification
from fleet.models import CarInspection, FleetCar, Reservation
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
from tests.fleet.conftest import make_car

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOTIFICATION_POLL_MS = 15_000  # the bell polls every 10 s


def test_a_loaner_goes_out_with_a_visit_comes_back_damaged_and_the_transport_head_clears_it(
    browser, page, js_errors, live_server
):
    # given: a workshop with one advisor, a client with a car, one loaner, the transport head
    UserFactory(username="maria", role=Role.MANAGER)
    transport = UserFactory(username="semen", role=Role.TRANSPORT_HEAD, email="semen@example.com")
    AdvisorProfileFactory(user__username="petrov", user__last_name="Петров", user__role=Role.ADVISOR)
    area = ServiceAreaFactory(name="Слесарный цех", code="mech", daily_capacity_minutes=600)
    ServiceTypeFactory(name="ТО-2", code="to2", area=area, standard_minutes=180)
    client = client_with_phone("+79123456789", name="Иванов Иван")
    VehicleFactory(owner=client, make="Kia", model="Rio")
    loaner = make_car(make="Skoda", model="Rapid", plate="М001ММ77", mileage_km=15000)
    day = working_day(2)

    # and: the transport head has the fleet board open in another browser
    transport_context = browser.new_context(locale="en-US")
    transport_page = transport_context.new_page()
    transport_page.goto(f"{live_server.url}/accounts/login/")
    transport_page.get_by_label("Username", exact=True).fill("semen")
    transport_page.get_by_label("Password", exact=True).fill("Secret-pass-123")
    transport_page.get_by_label("Password", exact=True).press("Enter")
    transport_page.goto(f"{live_server.url}/fleet/")
    expect(transport_page.locator("#notification-count")).to_have_text("0")
    transport_page.evaluate("window.sameDocument = true")

    # when: the manager books a visit with a loaner from the client's card
    page.goto(f"{live_server.url}/accounts/login/")
    switch_language(page, "en")
    sign_in(page, live_server, "maria", "en")
    page.goto(f"{live_server.url}/clients/{client.pk}/")
    page.get_by_role("link", name="Book a visit").click()
    page.get_by_label("Day", exact=True).fill(day.isoformat())
    page.get_by_label("ТО-2", exact=True).check()
    page.get_by_label("Needs a loaner").check()
    wanted = page.locator("#slot-list .slot", has_text="11:00")
    expect(wanted).to_have_attribute("data-needs_loaner", "1")
    wanted.click()
    page.get_by_role("button", name="Book", exact=True).click()

    # then: the booking card shows its loaner
    booking = Booking.objects.get()
    expect(page).to_have_url(f"{live_server.url}{booking.get_absolute_url()}")
    reservation = Reservation.objects.get(booking=booking)
    assert reservation.car == loaner
    expect(page.locator("#booking-loaner")).to_contain_text("М001ММ77")

    # when: the client takes the car, with a scratch on the rear bumper noted
    page.locator("#booking-loaner").get_by_role("link", name=re.compile("М001ММ77")).click()
    page.get_by_role("link", name="Hand the car over").click()
    page.get_by_label("Mileage, km").fill("15000")
    page.get_by_label("Fuel, %").fill("80")
    page.get_by_label("Driving licence number").fill("77 12 345678")
    page.get_by_label("Licence valid until").fill((day + timedelta(days=900)).isoformat())
    page.locator("#id_marks-0-zone").select_option("rear_bumper")
    page.locator("#id_marks-0-kind").select_option("scratch")
    page.get_by_label("The client and I have signed the act").check()
    page.get_by_role("button", name="Hand over").click()
    expect(page.locator("#reservation-status")).to_have_text("Out")

    # and: brings it back with the same scratch and a new dent on the bonnet
    page.get_by_role("link", name="Take the car back").click()
    page.get_by_label("Mileage, km").fill("15120")
    page.get_by_label("Fuel, %").fill("60")
    page.locator("#id_marks-0-zone").select_option("rear_bumper")
    page.locator("#id_marks-0-kind").select_option("scratch")
    page.locator("#id_marks-1-zone").select_option("bonnet")
    page.locator("#id_marks-1-kind").select_option("dent")
    page.locator("#id_marks-1-note").fill("вмятина 3 см")
    page.get_by_label("The client and I have signed the act").check()
    page.get_by_role("button", name="Take back").click()

    # then: the differences, with the new damage only
    expect(page.locator("#differences")).to_contain_text("Driven 120 km")
    expect(page.locator("#differences")).to_contain_text("Bonnet")
    expect(page.locator("#differences")).not_to_contain_text("Rear bumper")
    assert FleetCar.objects.get(pk=loaner.pk).state == FleetCar.State.NEEDS_INSPECTION

    # and: the transport head is told without a reload, and clears the car from its page
    expect(transport_page.locator("#notification-count")).to_have_text("1", timeout=NOTIFICATION_POLL_MS)
    assert transport_page.evaluate("window.sameDocument") is True
    transport_page.locator("#notifications-button").click()
    notice = transport_page.locator(".notification-item")
    expect(notice).to_contain_text("М001ММ77")
    notice.click()
    expect(transport_page.locator("#open-inspection")).to_contain_text("вмятина 3 см")
    transport_page.get_by_label("Note").fill("Вмятина в допуске, оформлена")
    transport_page.get_by_role("button", name="Cleared: may go out").click()
    expect(transport_page.locator("#car-state")).to_have_text("Available")
    assert CarInspection.objects.get().closed_by == transport
    assert Notification.objects.filter(user=transport).count() == 1
    assert js_errors == []
    transport_context.close()
