"""The call-task API: the list and its filters, and logging an outcome as an action on the task."""

from datetime import time, timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from bookings.models import Booking
from bookings.services.bookings import booking_create
from calls.models import Call, CallTask, Survey, SurveyQuestion, SurveyResponse
from clientdesk.calendar import at, local_date
from clients.models import Delivery
from tests.bookings.conftest import working_day
from tests.factories import ClientFactory, UserFactory

pytestmark = pytest.mark.django_db

TASKS = "/api/v1/call-tasks/"


@pytest.fixture
def confirmation(manager, car_owner, petrov, to2):
    booking = booking_create(
        by=manager,
        client=car_owner,
        advisor=petrov,
        starts_at=at(working_day(3), time(11)),
        service_types=[to2],
        vehicle=car_owner.vehicles.get(),
    )
    now = timezone.now()
    return CallTask.objects.create(
        kind="confirmation", client=car_owner, booking=booking, due_at=now, next_attempt_at=now, assignee=manager
    )


@pytest.fixture
def follow_up(manager, car_owner):
    delivery = Delivery.objects.create(
        client=car_owner, vehicle=car_owner.vehicles.get(), delivered_at=timezone.now() - timedelta(days=7)
    )
    earlier = timezone.now() - timedelta(hours=3)
    return CallTask.objects.create(
        kind="follow_up", client=car_owner, delivery=delivery, due_at=earlier, next_attempt_at=earlier, assignee=None
    )


@pytest.fixture
def survey(db):
    survey = Survey.objects.create(name="CSI", is_active=True)
    SurveyQuestion.objects.create(survey=survey, position=1, text="Оцените выдачу", kind="scale5")
    SurveyQuestion.objects.create(survey=survey, position=2, text="Что улучшить?", kind="text", counts_for_csi=False)
    return survey


def outcome_url(task) -> str:
    return f"{TASKS}{task.pk}/outcome/"


def unchanged(task) -> bool:
    fresh = CallTask.objects.get(pk=task.pk)
    return (fresh.status, fresh.attempts, fresh.next_attempt_at) == (task.status, task.attempts, task.next_attempt_at)


# --- reading -----------------------------------------------------------------------------------------------------


def test_list_and_retrieve(api_as_manager, confirmation, follow_up):
    response = api_as_manager.get(TASKS)
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [row["id"] for row in rows] == [follow_up.pk, confirmation.pk]
    body = api_as_manager.get(f"{TASKS}{confirmation.pk}/").json()
    assert body == rows[1]
    assert (body["kind"], body["booking"], body["delivery"], body["campaign"]) == (
        "confirmation",
        confirmation.booking_id,
        None,
        None,
    )
    assert (body["status"], body["attempts"], body["assignee"]) == ("open", 0, confirmation.assignee_id)
    assert api_as_manager.get(f"{TASKS}999999/").status_code == 404


def test_list_filters(api_as_manager, manager, confirmation, follow_up):
    other_client = ClientFactory()
    done_at = timezone.now() - timedelta(days=2)
    done = CallTask.objects.create(
        kind="callback",
        client=other_client,
        due_at=done_at,
        next_attempt_at=done_at,
        assignee=manager,
        status="done",
        closed_at=done_at,
    )

    def ids(**query):
        response = api_as_manager.get(TASKS, query)
        assert response.status_code == 200, response.content
        return sorted(row["id"] for row in response.json()["results"])

    assert ids(kind="confirmation") == [confirmation.pk]
    assert ids(kind=["confirmation", "follow_up"]) == sorted([confirmation.pk, follow_up.pk])
    assert ids(status="done") == [done.pk]
    assert ids(status=["open", "in_progress"]) == sorted([confirmation.pk, follow_up.pk])
    assert ids(assignee=manager.pk) == sorted([confirmation.pk, done.pk])
    assert ids(assignee="none") == [follow_up.pk]
    assert ids(client=other_client.pk) == [done.pk]
    assert ids(booking=confirmation.booking_id) == [confirmation.pk]
    assert ids(delivery=follow_up.delivery_id) == [follow_up.pk]
    assert ids(due_before=(timezone.now() - timedelta(days=1)).isoformat()) == [done.pk]
    assert ids(due_after=(timezone.now() - timedelta(hours=1)).isoformat()) == [confirmation.pk]
    # overdue: pending and more than an hour behind; a closed task is never overdue
    assert ids(overdue="true") == [follow_up.pk]
    assert ids(overdue="false") == sorted([confirmation.pk, done.pk])
    for bad in ({"kind": "teleport"}, {"due_before": "soon"}, {"assignee": 999999}, {"client": "x"}):
        assert api_as_manager.get(TASKS, bad).status_code == 400, bad


@pytest.mark.parametrize("rows", [5, 50])
def test_task_list_query_count_is_pinned(api_as_manager, manager, django_assert_num_queries, rows):
    now = timezone.now()
    for n in range(rows):
        CallTask.objects.create(
            kind="callback",
            client=ClientFactory(),
            due_at=now,
            next_attempt_at=now - timedelta(minutes=n),
            assignee=manager,
        )
    # the page of tasks (campaign member joined for the campaign id); nothing per row
    with django_assert_num_queries(1):
        response = api_as_manager.get(TASKS)
    assert len(response.json()["results"]) == rows


# --- the outcome action ------------------------------------------------------------------------------------------


def test_confirmed_confirms_the_booking(api_as_manager, manager, confirmation):
    response = api_as_manager.post(outcome_url(confirmation), {"outcome": "confirmed", "notes": "ждём"}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["attempts"]) == ("done", 1)
    assert Booking.objects.get(pk=confirmation.booking_id).status == "confirmed"
    call = Call.objects.get()
    assert (call.task_id, call.manager, call.notes, call.direction) == (confirmation.pk, manager, "ждём", "out")


def test_no_answer_is_retried_later(api_as_manager, confirmation):
    before = timezone.now()
    response = api_as_manager.post(outcome_url(confirmation), {"outcome": "no_answer", "duration": 20}, format="json")
    assert response.status_code == 200, response.content
    task = CallTask.objects.get(pk=confirmation.pk)
    assert (task.status, task.attempts) == ("open", 1)
    assert task.next_attempt_at >= before + timedelta(minutes=120)
    assert Booking.objects.get(pk=confirmation.booking_id).status == "scheduled"
    assert Call.objects.get().duration == 20


def test_a_closed_task_is_409_and_nothing_changes(api_as_manager, confirmation):
    assert api_as_manager.post(outcome_url(confirmation), {"outcome": "confirmed"}, format="json").status_code == 200
    closed = CallTask.objects.get(pk=confirmation.pk)
    response = api_as_manager.post(
        outcome_url(confirmation), {"outcome": "no_answer"}, format="json", headers={"Accept-Language": "en"}
    )
    assert response.status_code == 409
    assert "already closed" in response.json()["detail"]
    assert unchanged(closed) and Call.objects.count() == 1


def test_reschedule_moves_the_visit(api_as_manager, confirmation, petrov):
    new_time = at(local_date(confirmation.booking.starts_at), time(16))
    response = api_as_manager.post(
        outcome_url(confirmation),
        {"outcome": "rescheduled", "new_starts_at": new_time.isoformat(), "new_advisor": petrov.pk},
        format="json",
    )
    assert response.status_code == 200, response.content
    booking = Booking.objects.get(pk=confirmation.booking_id)
    assert (booking.starts_at, booking.status) == (new_time, "confirmed")


def test_an_answered_follow_up_records_the_survey(api_as_manager, follow_up, survey):
    questions = {q.kind: q.pk for q in survey.questions.all()}
    answers = {str(questions["scale5"]): 4, str(questions["text"]): "всё хорошо"}
    response = api_as_manager.post(
        outcome_url(follow_up), {"outcome": "answered", "survey_answers": answers}, format="json"
    )
    assert response.status_code == 200, response.content
    assert SurveyResponse.objects.get(delivery=follow_up.delivery).csi == 80


@pytest.mark.parametrize(
    ("task_name", "payload", "field"),
    [
        ("confirmation", {}, "outcome"),
        ("confirmation", {"outcome": "teleported"}, "outcome"),
        ("confirmation", {"outcome": "answered"}, "outcome"),  # not an outcome of a confirmation call
        ("confirmation", {"outcome": "cancelled"}, "cancel_reason"),
        ("confirmation", {"outcome": "rescheduled"}, "new_starts_at"),
        ("confirmation", {"outcome": "rescheduled", "new_starts_at": "tomorrow"}, "new_starts_at"),
        ("confirmation", {"outcome": "rescheduled", "new_starts_at": "NOW", "new_advisor": 999999}, "new_advisor"),
        ("confirmation", {"outcome": "call_back"}, "call_back_at"),
        ("confirmation", {"outcome": "call_back", "call_back_at": "2001-01-01T10:00:00+03:00"}, "call_back_at"),
        ("confirmation", {"outcome": "confirmed", "duration": -1}, "duration"),
        ("confirmation", {"outcome": "confirmed", "duration": "long"}, "duration"),
        ("confirmation", {"outcome": "confirmed", "survey_answers": {"1": "5"}}, "survey_answers"),
        ("follow_up", {"outcome": "declined", "survey_answers": {"1": "5"}}, "survey_answers"),
        ("follow_up", {"outcome": "answered", "survey_answers": "five"}, "survey_answers"),
        ("follow_up", {"outcome": "answered", "survey_answers": {"SCALE": "9"}}, "survey"),
        ("follow_up", {"outcome": "answered", "survey_answers": {"SCALE": "soon"}}, "survey"),
        ("follow_up", {"outcome": "answered", "survey_answers": {"SCALE": {"deep": 1}}}, "survey_answers"),
        ("follow_up", {"outcome": "answered", "survey_answers": {"SCALE": "5", "999999": "5"}}, "non_field_errors"),
    ],
)
def test_bad_outcomes_are_400_with_field_errors_and_change_nothing(
    api_as_manager, confirmation, follow_up, survey, task_name, payload, field
):
    task = {"confirmation": confirmation, "follow_up": follow_up}[task_name]
    scale = survey.questions.get(kind="scale5").pk
    if "survey_answers" in payload and isinstance(payload["survey_answers"], dict):
        payload["survey_answers"] = {
            (str(scale) if key == "SCALE" else key): value for key, value in payload["survey_answers"].items()
        }
    if payload.get("new_starts_at") == "NOW":
        payload["new_starts_at"] = confirmation.booking.starts_at.isoformat()
    response = api_as_manager.post(outcome_url(task), payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert unchanged(task)
    assert not Call.objects.exists() and not SurveyResponse.objects.exists()
    assert Booking.objects.get(pk=confirmation.booking_id).status == "scheduled"


@pytest.mark.parametrize("body", ["not json", "[1, 2]", "null", '{"outcome": ["confirmed"]}', '{"outcome": null}'])
def test_garbage_bodies_never_500(api_as_manager, confirmation, body):
    response = api_as_manager.post(outcome_url(confirmation), body, content_type="application/json")
    assert response.status_code == 400
    assert unchanged(confirmation) and not Call.objects.exists()


# --- who may -----------------------------------------------------------------------------------------------------


def test_anonymous_gets_nothing(confirmation):
    api = APIClient()
    for url in (TASKS, f"{TASKS}{confirmation.pk}/"):
        assert api.get(url).status_code in (401, 403)
    assert api.post(outcome_url(confirmation), {"outcome": "confirmed"}, format="json").status_code in (401, 403)
    assert unchanged(confirmation) and not Call.objects.exists()


@pytest.mark.parametrize(
    ("role", "reads", "logs"),
    [
        ("manager", True, True),
        ("head", True, True),
        ("advisor", True, False),
        ("transport_head", False, False),
        ("integration", True, False),
    ],
)
def test_api_by_role(users, confirmation, role, reads, logs):
    api = APIClient()
    api.force_authenticate(users[role])
    assert api.get(TASKS).status_code == (200 if reads else 403)
    assert api.get(f"{TASKS}{confirmation.pk}/").status_code == (200 if reads else 403)
    response = api.post(outcome_url(confirmation), {"outcome": "confirmed"}, format="json")
    assert response.status_code == (200 if logs else 403)
    if not logs:
        assert unchanged(confirmation) and not Call.objects.exists()


def test_the_dms_with_its_key_reads_tasks_but_logs_no_outcome(dms_api, confirmation):
    assert dms_api.get(TASKS, {"booking": confirmation.booking_id}).json()["results"][0]["id"] == confirmation.pk
    assert dms_api.post(outcome_url(confirmation), {"outcome": "confirmed"}, format="json").status_code == 403
    assert unchanged(confirmation) and not Call.objects.exists()


def test_any_manager_may_log_a_colleagues_task(confirmation):
    colleague = UserFactory(username="colleague")
    api = APIClient()
    api.force_authenticate(colleague)
    response = api.post(outcome_url(confirmation), {"outcome": "busy"}, format="json")
    assert response.status_code == 200
    assert Call.objects.get().manager == colleague


# --- a task a colleague is working ---------------------------------------------------------------------------------


def test_a_task_a_colleague_is_working_is_409_naming_them(api_as_manager, confirmation):
    colleague = UserFactory(username="colleague", first_name="Ольга", last_name="Коллегова")
    CallTask.objects.filter(pk=confirmation.pk).update(
        status="in_progress", claimed_by=colleague, claimed_at=timezone.now()
    )
    response = api_as_manager.post(
        outcome_url(confirmation), {"outcome": "confirmed", "take_over": True}, format="json"
    )
    assert response.status_code == 409, response.content
    assert str(colleague) in response.json()["detail"]
    fresh = CallTask.objects.get(pk=confirmation.pk)
    assert (fresh.status, fresh.claimed_by, fresh.attempts) == ("in_progress", colleague, 0)
    assert not Call.objects.exists()
    assert Booking.objects.get(pk=confirmation.booking_id).status == "scheduled"


def test_the_head_takes_a_colleagues_task_over_and_it_is_recorded(head, manager, confirmation):
    CallTask.objects.filter(pk=confirmation.pk).update(
        status="in_progress", claimed_by=manager, claimed_at=timezone.now()
    )
    api = APIClient()
    api.force_authenticate(head)
    assert api.post(outcome_url(confirmation), {"outcome": "confirmed"}, format="json").status_code == 409
    assert not Call.objects.exists()
    response = api.post(outcome_url(confirmation), {"outcome": "confirmed", "take_over": True}, format="json")
    assert response.status_code == 200, response.content
    assert Call.objects.get().manager == head
    reason = CallTask.history.filter(id=confirmation.pk).latest("history_date").history_change_reason
    assert f"taken over from {manager}" in reason
