"""The calls app's facts reach the outbox with the change: a call task worked to its end, a follow-up survey
answered or declined (webhook events `call_task.closed` and `survey.answered`)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from calls.models import CallTask, Survey, SurveyQuestion, TaskOutcome
from calls.services.calls import call_task_work
from clients.models import Delivery
from tests.factories import ClientFactory, VehicleFactory
from webhooks.models import OutboxEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def follow_up(manager):
    client = ClientFactory()
    delivery = Delivery.objects.create(
        client=client, vehicle=VehicleFactory(owner=client), delivered_at=timezone.now() - timedelta(days=7)
    )
    now = timezone.now()
    return CallTask.objects.create(
        kind="follow_up", client=client, delivery=delivery, due_at=now, next_attempt_at=now, assignee=manager
    )


@pytest.fixture
def survey():
    survey = Survey.objects.create(name="CSI", is_active=True)
    score = SurveyQuestion.objects.create(survey=survey, position=1, text="Оцените выдачу", kind="scale5")
    return survey, score


def test_a_follow_up_answered_announces_the_task_and_the_survey(manager, follow_up, survey):
    _survey, question = survey
    call_task_work(task=follow_up, by=manager, outcome=TaskOutcome.ANSWERED, survey_answers={str(question.pk): "5"})
    events = {e.event_type: e for e in OutboxEvent.objects.all()}
    assert set(events) == {"call_task.closed", "survey.answered"}
    task_event = events["call_task.closed"].payload
    assert (task_event["id"], task_event["kind"], task_event["status"], task_event["outcome"]) == (
        follow_up.pk,
        "follow_up",
        "done",
        "answered",
    )
    answer = events["survey.answered"].payload
    assert answer["declined"] is False and answer["csi"] is not None
    assert answer["answers"] == [{"question": question.pk, "score": 5, "text": ""}]


def test_a_declined_survey_is_announced_as_declined(manager, follow_up, survey):
    call_task_work(task=follow_up, by=manager, outcome=TaskOutcome.SURVEY_DECLINED)
    answer = OutboxEvent.objects.get(event_type="survey.answered").payload
    assert answer["declined"] is True and answer["csi"] is None and answer["answers"] == []


def test_a_call_that_leaves_the_task_open_announces_nothing(manager, follow_up, survey):
    call_task_work(task=follow_up, by=manager, outcome=TaskOutcome.NO_ANSWER)
    assert not OutboxEvent.objects.exists()
