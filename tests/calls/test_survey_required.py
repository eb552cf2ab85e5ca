"""A 7-day follow-up worked as "we talked" needs the survey's required questions (those with a score) answered; a
buyer who will not answer is recorded as "declined the survey", counted apart in the CSI report and never as a score
(issue 9, item 3). The same rule on the queue's task page and in the call-task API."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from calls.models import Call, CallTask, Survey, SurveyQuestion, SurveyResponse, TaskOutcome
from calls.services.calls import call_task_work, outcomes_for
from calls.services.surveys import csi_report, csi_summary
from clients.models import Delivery

pytestmark = pytest.mark.django_db


@pytest.fixture
def survey(db):
    survey = Survey.objects.create(name="CSI", is_active=True)
    SurveyQuestion.objects.create(survey=survey, position=1, text="Оцените выдачу автомобиля", kind="scale5")
    SurveyQuestion.objects.create(survey=survey, position=2, text="Всё ли объяснили?", kind="yes_no")
    SurveyQuestion.objects.create(survey=survey, position=3, text="Что улучшить?", kind="text", counts_for_csi=False)
    return survey


@pytest.fixture
def follow_up(manager, car_owner):
    delivery = Delivery.objects.create(
        client=car_owner, vehicle=car_owner.vehicles.get(), delivered_at=timezone.now() - timedelta(days=7)
    )
    earlier = timezone.now() - timedelta(hours=1)
    return CallTask.objects.create(
        kind="follow_up", client=car_owner, delivery=delivery, due_at=earlier, next_attempt_at=earlier, assignee=manager
    )


def ids(survey) -> dict[str, int]:
    return {q.kind: q.pk for q in survey.questions.all()}


def untouched(task) -> bool:
    fresh = CallTask.objects.get(pk=task.pk)
    return (
        (fresh.status, fresh.attempts) == ("open", 0)
        and not Call.objects.exists()
        and not SurveyResponse.objects.exists()
    )


# --- the service ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("answers", [None, {}, {"scale5": "", "yes_no": " "}, {"scale5": "4", "text": "всё хорошо"}])
def test_talked_with_a_required_question_blank_is_refused_per_question_and_saves_nothing(
    manager, follow_up, survey, answers
):
    # given: the follow-up call and the survey in use (the yes/no and the score are required, the text is not)
    q = ids(survey)
    given = None if answers is None else {str(q[kind]): value for kind, value in answers.items()}
    # when: the manager logs "we talked" with a required question unanswered
    with pytest.raises(ValidationError) as refused:
        call_task_work(task=follow_up, by=manager, outcome=TaskOutcome.ANSWERED, survey_answers=given)
    # then: each blank required question is named, the text one is not, and nothing is stored
    errors = refused.value.message_dict
    assert f"q_{q['yes_no']}" in errors and f"q_{q['text']}" not in errors
    assert ("survey" in errors) and untouched(follow_up)


def test_talked_with_the_required_answers_records_the_survey(manager, follow_up, survey):
    q = ids(survey)
    task = call_task_work(
        task=follow_up,
        by=manager,
        outcome=TaskOutcome.ANSWERED,
        survey_answers={str(q["scale5"]): "4", str(q["yes_no"]): "1"},
    )
    response = SurveyResponse.objects.get(delivery=follow_up.delivery)
    assert (task.status, response.declined, response.csi) == ("done", False, Decimal("90.0"))


def test_declined_the_survey_is_recorded_apart_and_never_scored(manager, follow_up, survey):
    # given: a buyer who talks but will not answer
    assert TaskOutcome.SURVEY_DECLINED in outcomes_for("follow_up")
    assert TaskOutcome.SURVEY_DECLINED not in outcomes_for("confirmation")
    # when
    task = call_task_work(task=follow_up, by=manager, outcome=TaskOutcome.SURVEY_DECLINED)
    # then: the task is done, the call says "talked", the response is stored as declined, with no score or answers
    assert task.status == "done" and task.outcome == "Talked, declined the survey"
    assert Call.objects.get().outcome == "talked"
    response = SurveyResponse.objects.get(delivery=follow_up.delivery)
    assert (response.declined, response.csi, response.answers.count(), response.taken_by) == (True, None, 0, manager)


def test_without_a_survey_in_use_talked_needs_no_answers(manager, follow_up):
    task = call_task_work(task=follow_up, by=manager, outcome=TaskOutcome.ANSWERED)
    assert task.status == "done" and not SurveyResponse.objects.exists()


def test_the_csi_report_counts_answered_and_declined_apart(manager, survey, car_owner):
    # given: one buyer answered with full marks, two declined
    q = ids(survey)
    for n in range(3):
        delivery = Delivery.objects.create(
            client=car_owner, vehicle=car_owner.vehicles.get(), delivered_at=timezone.now() - timedelta(days=7 + n)
        )
        task = CallTask.objects.create(
            kind="follow_up", client=car_owner, delivery=delivery, due_at=timezone.now(), next_attempt_at=timezone.now()
        )
        if n == 0:
            answers = {str(q["scale5"]): "5", str(q["yes_no"]): "1"}
            call_task_work(task=task, by=manager, outcome=TaskOutcome.ANSWERED, survey_answers=answers)
        else:
            call_task_work(task=task, by=manager, outcome=TaskOutcome.SURVEY_DECLINED)
    # when
    report = csi_report(survey=survey)
    # then: the CSI is the one answer's; the declined are counted apart, in the month and overall
    assert (report["csi"], report["answered"], report["declined"]) == (Decimal("100.0"), 1, 2)
    assert (report["months"][-1]["answered"], report["months"][-1]["declined"]) == (1, 2)
    assert csi_summary() == {"csi": Decimal("100.0"), "answered": 1, "declined": 2}


def test_the_report_page_shows_the_declined(as_head, manager, follow_up, survey):
    call_task_work(task=follow_up, by=manager, outcome=TaskOutcome.SURVEY_DECLINED)
    page = as_head.get(reverse("calls:survey-report"), headers={"Accept-Language": "en"}).content.decode()
    assert "1 buyer declined the survey (not counted in the CSI)." in page
    assert "Declined the survey" in page


# --- the queue's task page ------------------------------------------------------------------------------------------


def test_the_task_page_refuses_an_empty_survey_beside_the_questions(as_manager, follow_up, survey):
    q = ids(survey)
    response = as_manager.post(
        reverse("calls:task", args=[follow_up.pk]), {"outcome": "answered"}, headers={"Accept-Language": "en"}
    )
    assert response.status_code == 400
    form = response.context["outcome_form"]
    assert form.errors[f"q_{q['scale5']}"] == ["Answer this question."]
    assert f"q_{q['text']}" not in form.errors
    assert "record that the buyer declined the survey" in response.content.decode()
    assert untouched(follow_up)


def test_the_task_page_records_declined(as_manager, follow_up, survey):
    response = as_manager.post(reverse("calls:task", args=[follow_up.pk]), {"outcome": "survey_declined"})
    assert response.status_code == 302
    assert SurveyResponse.objects.get(delivery=follow_up.delivery).declined


# --- the API --------------------------------------------------------------------------------------------------------


def outcome_url(task) -> str:
    return f"/api/v1/call-tasks/{task.pk}/outcome/"


def test_the_api_refuses_an_empty_survey_with_field_errors_per_question(api_as_manager, follow_up, survey):
    q = ids(survey)
    response = api_as_manager.post(
        outcome_url(follow_up),
        {"outcome": "answered", "survey_answers": {str(q["scale5"]): "5"}},
        format="json",
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["survey_answers"] == {str(q["yes_no"]): ["Answer this question."]}
    assert "survey" in body
    assert untouched(follow_up)


def test_the_api_records_declined(api_as_manager, follow_up, survey):
    response = api_as_manager.post(outcome_url(follow_up), {"outcome": "survey_declined"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "done"
    assert SurveyResponse.objects.get(delivery=follow_up.delivery).declined


def test_the_api_bounds_the_survey_answers(api_as_manager, follow_up, survey):
    answers = {str(n): "5" for n in range(1, 20_001)}
    response = api_as_manager.post(
        outcome_url(follow_up),
        {"outcome": "answered", "survey_answers": answers},
        format="json",
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 400, response.content[:300]
    assert response.json()["survey_answers"] == ["A survey has at most 50 questions."]
    assert untouched(follow_up)
