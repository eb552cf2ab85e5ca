"""Issue 4 in a real browser: the manager works the outbound queue — a confirmation (confirmed) and a 7-day
follow-up (survey answered) — and the booking and the survey show it."""

from datetime import time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.roles import Role
from bookings.models import Booking
from bookings.services.bookings import booking_create
from calls.models import CallTask, Survey, SurveyQuestion, SurveyResponse
from clientdesk.calendar import at
from clients.models import Delivery
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


def test_manager_works_a_confirmation_and_a_follow_up_with_its_survey(page, js_errors, live_server):
    # given: a booking to confirm and a buyer to call back, both due now in Maria's queue
    maria = UserFactory(username="maria", role=Role.MANAGER)
    area = ServiceAreaFactory(name="Слесарный цех", code="mech", daily_capacity_minutes=600)
    to2 = ServiceTypeFactory(name="ТО-2", code="to2", area=area, standard_minutes=180)
    advisor = AdvisorProfileFactory(user__username="petrov", user__last_name="Петров").user
    booked = client_with_phone("+79123456789", name="Иванов Иван")
    car = VehicleFactory(owner=booked, make="Kia", model="Rio")
    booking = booking_create(
        by=maria,
        client=booked,
        vehicle=car,
        advisor=advisor,
        starts_at=at(working_day(2), time(11)),
        service_types=[to2],
    )
    buyer = client_with_phone("+79031112233", name="Покупателева Анна")
    delivery = Delivery.objects.create(
        client=buyer,
        vehicle=VehicleFactory(owner=buyer, make="Haval", model="Jolion"),
        delivered_at=timezone.now() - timedelta(days=7),
    )
    survey = Survey.objects.create(name="CSI", is_active=True)
    score = SurveyQuestion.objects.create(survey=survey, position=1, text="Rate the handover", kind="scale5")
    comment = SurveyQuestion.objects.create(survey=survey, position=2, text="What to improve?", kind="text")
    now = timezone.now()
    CallTask.objects.create(
        kind="confirmation",
        client=booked,
        booking=booking,
        due_at=now - timedelta(minutes=5),
        next_attempt_at=now - timedelta(minutes=5),
        assignee=maria,
    )
    CallTask.objects.create(
        kind="follow_up", client=buyer, delivery=delivery, due_at=now, next_attempt_at=now, assignee=maria
    )

    # when: she opens the queue
    page.goto(f"{live_server.url}/accounts/login/")
    switch_language(page, "en")
    sign_in(page, live_server, "maria", "en")
    page.get_by_role("link", name="Call queue", exact=True).click()
    rows = page.locator("#queue .queue-row")
    expect(rows).to_have_count(2)
    expect(page.locator('#queue-kinds [data-kind="confirmation"] .badge')).to_have_text("1")

    # and takes the next call: the confirmation, due first
    page.get_by_role("button", name="Next call").click()
    expect(page.locator("#task-panel")).to_contain_text("Visit confirmation")
    expect(page.locator("#client-name")).to_have_text("Иванов Иван")
    page.get_by_label("Confirmed the visit", exact=True).check()
    page.get_by_label("Notes", exact=True).fill("Будет к 11:00")
    page.get_by_role("button", name="Log the call").click()

    # then: back in the queue, one call left; it is the follow-up with the survey
    expect(page).to_have_url(f"{live_server.url}/calls/queue/")
    expect(rows).to_have_count(1)
    rows.first.get_by_role("button", name="Call").click()
    expect(page.locator("#task-panel")).to_contain_text("7-day follow-up")
    page.get_by_label("Talked", exact=True).check()
    page.locator("#survey").get_by_label("Rate the handover", exact=True).select_option("4")
    page.locator("#survey").get_by_label("What to improve?", exact=True).fill("Всё понравилось")
    page.get_by_role("button", name="Log the call").click()
    expect(page).to_have_url(f"{live_server.url}/calls/queue/")
    expect(page.locator("#queue")).to_contain_text("Nothing is due")

    # and the booking shows it confirmed, the buyer's card shows the survey
    page.goto(f"{live_server.url}{booking.get_absolute_url()}")
    expect(page.locator(".status-confirmed")).to_be_visible()
    expect(page.locator("#trail")).to_contain_text("on the confirmation call")
    page.goto(f"{live_server.url}/clients/{buyer.pk}/")
    expect(page.locator(".survey-result")).to_contain_text("CSI 80.0%")

    assert Booking.objects.get(pk=booking.pk).status == "confirmed"
    response = SurveyResponse.objects.get(delivery=delivery)
    assert {a.question_id: (a.score, a.text) for a in response.answers.all()} == {
        score.pk: (4, ""),
        comment.pk: (None, "Всё понравилось"),
    }
    assert set(CallTask.objects.values_list("status", flat=True)) == {"done"}
    assert js_errors == []
