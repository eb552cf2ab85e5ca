"""Issue 9, item 3 in a real browser: a 7-day follow-up logged as "Talked" with the survey left empty is refused
with the message shown beside the questions and nothing saved; the manager then records that the buyer declined the
survey, and the CSI report counts it apart."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.forms import LoginForm
from accounts.roles import Role
from calls.models import Call, CallTask, Survey, SurveyQuestion, SurveyResponse
from clients.models import Delivery
from tests.browser.test_manager_desk import PASSWORD, label, sign_in, switch_language
from tests.factories import UserFactory, VehicleFactory, client_with_phone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_empty_survey_is_refused_then_declined_is_recorded(page, js_errors, live_server):
    # given: a buyer to call back on the 7th day, and the survey in use
    maria = UserFactory(username="maria", role=Role.MANAGER)
    UserFactory(username="olga", role=Role.HEAD)
    buyer = client_with_phone("+79031112233", name="Покупателева Анна")
    delivery = Delivery.objects.create(
        client=buyer,
        vehicle=VehicleFactory(owner=buyer, make="Haval", model="Jolion"),
        delivered_at=timezone.now() - timedelta(days=7),
    )
    survey = Survey.objects.create(name="CSI", is_active=True)
    SurveyQuestion.objects.create(survey=survey, position=1, text="Rate the handover", kind="scale5")
    SurveyQuestion.objects.create(survey=survey, position=2, text="What to improve?", kind="text")
    now = timezone.now()
    task = CallTask.objects.create(
        kind="follow_up", client=buyer, delivery=delivery, due_at=now, next_attempt_at=now, assignee=maria
    )

    # when: Maria takes the call and logs "Talked" with the survey empty
    page.goto(f"{live_server.url}/accounts/login/")
    switch_language(page, "en")
    sign_in(page, live_server, "maria", "en")
    page.get_by_role("link", name="Call queue", exact=True).click()
    page.locator("#queue .queue-row").first.get_by_role("button", name="Call").click()
    expect(page.locator("#task-panel")).to_contain_text("7-day follow-up")
    page.get_by_label("Talked", exact=True).check()
    page.get_by_role("button", name="Log the call").click()

    # then: refused, saying why, with the unanswered question marked; nothing saved, the task still open
    expect(page.locator("#task-panel")).to_contain_text(
        "The survey is not complete: answer the questions marked, or record that the buyer declined the survey."
    )
    expect(page.locator("#survey")).to_contain_text("Answer this question.")
    assert not Call.objects.exists() and not SurveyResponse.objects.exists()
    assert CallTask.objects.get(pk=task.pk).status == "in_progress"

    # when: she records that the buyer declined the survey
    page.get_by_label("Talked, declined the survey", exact=True).check()
    page.get_by_role("button", name="Log the call").click()

    # then: the call is logged, the task done, the response stored as declined, with no score
    expect(page).to_have_url(f"{live_server.url}/calls/queue/")
    expect(page.locator("#queue")).to_contain_text("Nothing is due")
    response = SurveyResponse.objects.get(delivery=delivery)
    assert (response.declined, response.csi, response.answers.count()) == (True, None, 0)
    assert CallTask.objects.get(pk=task.pk).status == "done"
    page.goto(f"{live_server.url}/clients/{buyer.pk}/")
    expect(page.locator(".survey-result")).to_contain_text("Declined the survey")

    # and the head's CSI report counts it apart from the answers
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label(label(LoginForm(), "username", "en"), exact=True).fill("olga")
    password = page.get_by_label(label(LoginForm(), "password", "en"), exact=True)
    password.fill(PASSWORD)
    password.press("Enter")
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))  # the head lands on her own start page
    page.goto(f"{live_server.url}/calls/surveys/csi/")
    expect(page.locator("#csi-declined")).to_have_text("1 buyer declined the survey (not counted in the CSI).")
    # the refused form is answered 400, which the browser notes in its console; anything else is an error
    assert [e for e in js_errors if "status of 400" not in e] == []
