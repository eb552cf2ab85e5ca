from datetime import time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from bookings.models import Booking
from bookings.selectors.slots import Slot
from bookings.services.bookings import booking_create
from calls.models import Call, CallRules, CallTask, Survey, SurveyQuestion, SurveyResponse, TaskOutcome
from calls.services.calls import (
    TaskClaimed,
    call_task_claim,
    call_task_claim_next,
    call_task_work,
    call_tasks_reassign,
    release_stale_claims,
)
from calls.services.planning import run_planners
from clientdesk.calendar import BusinessCalendar, at, local_date
from clientdesk.errors import Conflict
from clients.models import Delivery
from tests.bookings.conftest import working_day
from tests.factories import ClientFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def confirmation(manager, car_owner, petrov, to2):
    """A confirmation task due now (its booking is for a later working day)."""
    visit = working_day(3)
    booking = booking_create(
        by=manager,
        client=car_owner,
        advisor=petrov,
        starts_at=at(visit, time(11)),
        service_types=[to2],
        vehicle=car_owner.vehicles.get(),
    )
    return CallTask.objects.create(
        kind="confirmation",
        client=car_owner,
        booking=booking,
        due_at=timezone.now(),
        next_attempt_at=timezone.now(),
        assignee=manager,
    )


@pytest.fixture
def follow_up(manager, car_owner):
    delivery = Delivery.objects.create(
        client=car_owner, vehicle=car_owner.vehicles.get(), delivered_at=timezone.now() - timedelta(days=7)
    )
    return CallTask.objects.create(
        kind="follow_up",
        client=car_owner,
        delivery=delivery,
        due_at=timezone.now(),
        next_attempt_at=timezone.now(),
        assignee=manager,
    )


@pytest.fixture
def survey():
    survey = Survey.objects.create(name="CSI", is_active=True)
    SurveyQuestion.objects.create(survey=survey, position=1, text="Оцените выдачу автомобиля", kind="scale5")
    SurveyQuestion.objects.create(survey=survey, position=2, text="Порекомендуете нас?", kind="scale10")
    SurveyQuestion.objects.create(survey=survey, position=3, text="Что улучшить?", kind="text", counts_for_csi=False)
    return survey


def test_confirmed_confirms_the_booking_and_logs_the_call(manager, confirmation):
    task = call_task_work(task=confirmation, by=manager, outcome=TaskOutcome.CONFIRMED, notes="ждём")
    assert (task.status, task.attempts) == ("done", 1)
    assert task.booking.__class__.objects.get(pk=task.booking_id).status == "confirmed"
    call = Call.objects.get()
    assert (call.task, call.direction, call.purpose, call.client) == (task, "out", "confirmation", task.client)


@pytest.mark.parametrize(
    ("kind", "outcome", "extra", "logged"),
    [
        ("confirmation", TaskOutcome.CONFIRMED, {}, "confirmed"),
        ("confirmation", TaskOutcome.CANCELLED, {"cancel_reason": "продал машину"}, "cancelled"),
        ("follow_up", TaskOutcome.ANSWERED, {}, "talked"),
        ("follow_up", TaskOutcome.DECLINED, {}, "declined"),
        ("follow_up", TaskOutcome.NO_ANSWER, {}, "no_answer"),
    ],
)
def test_the_call_log_keeps_what_the_task_call_was(request, manager, kind, outcome, extra, logged):
    task = request.getfixturevalue("confirmation" if kind == "confirmation" else "follow_up")
    call_task_work(task=task, by=manager, outcome=outcome, **extra)
    assert Call.objects.get().outcome == logged


def test_reschedule_moves_and_confirms_the_visit(manager, confirmation, petrov):
    new_time = at(local_date(confirmation.booking.starts_at), time(16))
    task = call_task_work(
        task=confirmation, by=manager, outcome=TaskOutcome.RESCHEDULED, new_starts_at=new_time, new_advisor=petrov
    )
    booking = Booking.objects.get(pk=task.booking_id)
    assert (booking.starts_at, booking.status, task.status) == (new_time, "confirmed", "done")


def test_cancel_needs_a_reason_then_cancels_the_booking(manager, confirmation):
    with pytest.raises(ValidationError) as exc:
        call_task_work(task=confirmation, by=manager, outcome=TaskOutcome.CANCELLED)
    assert "cancel_reason" in exc.value.message_dict
    assert not Call.objects.exists()
    call_task_work(task=confirmation, by=manager, outcome=TaskOutcome.CANCELLED, cancel_reason="продал машину")
    assert Booking.objects.get(pk=confirmation.booking_id).cancel_reason == "продал машину"


def test_no_answer_is_retried_with_spacing_then_unreachable(manager, confirmation):
    rules = CallRules.current()
    rules.max_attempts, rules.retry_minutes = 3, 90
    rules.save()
    before = timezone.now()
    task = call_task_work(task=confirmation, by=manager, outcome=TaskOutcome.NO_ANSWER)
    assert (task.status, task.attempts) == ("open", 1)
    assert task.next_attempt_at >= before + timedelta(minutes=90)
    local = timezone.localtime(task.next_attempt_at)
    assert time(9) <= local.time() <= time(21)
    assert BusinessCalendar().is_working_day(local.date())
    task = call_task_work(task=task, by=manager, outcome=TaskOutcome.BUSY)
    assert task.status == "open"
    task = call_task_work(task=task, by=manager, outcome=TaskOutcome.NO_ANSWER)
    assert (task.status, task.attempts) == ("unreachable", 3)
    assert task.closed_at is not None
    with pytest.raises(Conflict):
        call_task_work(task=task, by=manager, outcome=TaskOutcome.NO_ANSWER)
    assert Call.objects.count() == 3


def test_wrong_number_flags_the_client(manager, confirmation):
    call_task_work(task=confirmation, by=manager, outcome=TaskOutcome.WRONG_NUMBER)
    confirmation.client.refresh_from_db()
    assert "Wrong number" in confirmation.client.data_issue and "+7 912 345-67-89" in confirmation.client.data_issue


def test_call_back_at_the_asked_time(manager, confirmation):
    with pytest.raises(ValidationError):
        call_task_work(task=confirmation, by=manager, outcome=TaskOutcome.CALL_BACK)
    day = working_day(1)
    task = call_task_work(task=confirmation, by=manager, outcome=TaskOutcome.CALL_BACK, call_back_at=at(day, time(18)))
    assert (task.status, task.next_attempt_at) == ("open", at(day, time(18)))


def test_an_outcome_must_fit_the_kind(manager, follow_up):
    with pytest.raises(ValidationError) as exc:
        call_task_work(task=follow_up, by=manager, outcome=TaskOutcome.CONFIRMED)
    assert "outcome" in exc.value.message_dict


def test_follow_up_records_the_survey_and_its_csi(manager, follow_up, survey):
    questions = {q.text: q.pk for q in survey.questions.all()}
    answers = {
        str(questions["Оцените выдачу автомобиля"]): "5",
        str(questions["Порекомендуете нас?"]): "8",
        str(questions["Что улучшить?"]): "Быстрее оформлять документы",
    }
    call_task_work(task=follow_up, by=manager, outcome=TaskOutcome.ANSWERED, survey_answers=answers)
    response = SurveyResponse.objects.get(delivery=follow_up.delivery)
    assert response.csi == 90  # (5/5 + 8/10) / 2
    assert response.answers.count() == 3


def test_bad_survey_answers_change_nothing(manager, follow_up, survey):
    question = survey.questions.get(kind="scale5")
    with pytest.raises(ValidationError):
        call_task_work(task=follow_up, by=manager, outcome=TaskOutcome.ANSWERED, survey_answers={str(question.pk): "9"})
    follow_up.refresh_from_db()
    assert follow_up.status == "open" and not Call.objects.exists() and not SurveyResponse.objects.exists()


def test_claims_keep_two_managers_off_one_client(manager, confirmation):
    colleague = UserFactory(username="colleague")
    call_task_claim(task=confirmation, by=manager)
    with pytest.raises(Conflict):
        call_task_claim(task=confirmation, by=colleague)
    CallTask.objects.filter(pk=confirmation.pk).update(claimed_at=timezone.now() - timedelta(hours=1))
    assert release_stale_claims() == 1
    assert CallTask.objects.get(pk=confirmation.pk).status == "open"


def test_a_colleagues_fresh_claim_keeps_others_from_working_the_task(manager, head, confirmation):
    colleague = UserFactory(username="colleague")
    call_task_claim(task=confirmation, by=colleague)
    with pytest.raises(TaskClaimed) as exc:
        call_task_work(task=confirmation, by=manager, outcome=TaskOutcome.CONFIRMED, take_over=True)
    assert str(colleague) in str(exc.value.message) and not exc.value.can_take_over
    with pytest.raises(TaskClaimed) as exc:
        call_task_work(task=confirmation, by=head, outcome=TaskOutcome.CONFIRMED)
    assert exc.value.can_take_over
    assert not Call.objects.exists()
    assert CallTask.objects.get(pk=confirmation.pk).claimed_by == colleague
    # the one holding it works it; a stale claim is no obstacle
    CallTask.objects.filter(pk=confirmation.pk).update(claimed_at=timezone.now() - timedelta(hours=1))
    task = call_task_work(task=confirmation, by=manager, outcome=TaskOutcome.BUSY)
    assert task.status == "open"


def test_the_head_takes_a_claimed_task_over_on_record(manager, head, confirmation):
    call_task_claim(task=confirmation, by=manager)
    task = call_task_claim(task=confirmation, by=head, take_over=True)
    assert task.claimed_by == head
    record = CallTask.history.filter(id=confirmation.pk).latest("history_date")
    assert record.history_change_reason.startswith(f"taken over from {manager}")
    with pytest.raises(TaskClaimed):
        call_task_claim(task=confirmation, by=manager)


def test_take_next_takes_the_earliest_due(manager, confirmation, follow_up):
    CallTask.objects.filter(pk=follow_up.pk).update(next_attempt_at=timezone.now() - timedelta(hours=2))
    task = call_task_claim_next(by=manager)
    assert task.pk == follow_up.pk and task.status == "in_progress" and task.claimed_by == manager
    assert call_task_claim_next(by=manager).pk == confirmation.pk
    assert call_task_claim_next(by=manager) is None


def test_head_reassigns_in_bulk(head, manager, confirmation, follow_up, advisor):
    other = UserFactory(username="other")
    assert call_tasks_reassign(task_ids=[confirmation.pk, follow_up.pk], to=other, by=head) == 2
    assert set(CallTask.objects.values_list("assignee", flat=True)) == {other.pk}
    with pytest.raises(ValidationError):
        call_tasks_reassign(task_ids=[confirmation.pk], to=advisor, by=head)


# --- pages -----------------------------------------------------------------------------------------------------------


def test_queue_page_lists_due_tasks_with_counts(as_manager, confirmation, follow_up):
    CallTask.objects.filter(pk=follow_up.pk).update(next_attempt_at=timezone.now() - timedelta(hours=3))
    page = as_manager.get(reverse("calls:queue"))
    tasks = page.context["queue"].tasks
    assert [t.pk for t in tasks] == [follow_up.pk, confirmation.pk]
    assert tasks[0].is_overdue and not tasks[1].is_overdue
    assert page.context["queue"].counts == {"confirmation": 1, "follow_up": 1}
    only = as_manager.get(reverse("calls:queue"), {"kind": "follow_up"}).context["queue"].tasks
    assert [t.pk for t in only] == [follow_up.pk]


def test_one_click_takes_the_task_and_opens_the_card_with_its_context(as_manager, manager, confirmation):
    response = as_manager.post(reverse("calls:task-take", args=[confirmation.pk]))
    assert response["Location"] == reverse("calls:task", args=[confirmation.pk])
    page = as_manager.get(response["Location"]).content.decode()
    assert confirmation.client.name in page and 'id="task-panel"' in page
    assert confirmation.booking.get_absolute_url() in page


def test_working_the_task_from_its_page(as_manager, confirmation):
    response = as_manager.post(reverse("calls:task", args=[confirmation.pk]), {"outcome": "confirmed", "notes": "ок"})
    assert response.status_code == 302 and response["Location"] == reverse("calls:queue")
    assert CallTask.objects.get(pk=confirmation.pk).status == "done"


def test_task_page_refuses_a_task_a_colleague_is_working(as_manager, confirmation):
    colleague = UserFactory(username="colleague")
    call_task_claim(task=confirmation, by=colleague)
    url = reverse("calls:task", args=[confirmation.pk])
    page = as_manager.get(url, headers={"Accept-Language": "en"})
    assert 'id="task-claimed"' in page.content.decode() and "take_over" not in page.context["outcome_form"].fields
    response = as_manager.post(url, {"outcome": "confirmed", "take_over": "on"}, headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert f"{colleague} is calling this client right now" in response.content.decode()
    task = CallTask.objects.get(pk=confirmation.pk)
    assert (task.status, task.claimed_by, task.attempts) == ("in_progress", colleague, 0) and not Call.objects.exists()


def test_task_page_lets_the_head_take_over(as_head, head, manager, confirmation):
    call_task_claim(task=confirmation, by=manager)
    url = reverse("calls:task", args=[confirmation.pk])
    # from the queue's take button the head lands on the task, told who has it
    assert as_head.post(reverse("calls:task-take", args=[confirmation.pk]))["Location"] == url
    assert "take_over" in as_head.get(url).context["outcome_form"].fields
    assert as_head.post(url, {"outcome": "confirmed"}).status_code == 400
    assert CallTask.objects.get(pk=confirmation.pk).status == "in_progress"
    response = as_head.post(url, {"outcome": "confirmed", "take_over": "on"})
    assert response.status_code == 302
    assert CallTask.objects.get(pk=confirmation.pk).status == "done" and Call.objects.get().manager == head


def test_task_page_field_errors(as_manager, confirmation):
    response = as_manager.post(
        reverse("calls:task", args=[confirmation.pk]), {"outcome": "cancelled"}, headers={"Accept-Language": "en"}
    )
    assert response.status_code == 400 and "Say why the client cancels" in response.content.decode()
    response = as_manager.post(reverse("calls:task", args=[confirmation.pk]), {"outcome": "teleported"})
    assert response.status_code == 400
    assert CallTask.objects.get(pk=confirmation.pk).status == "open"


def test_task_page_reschedule_with_the_slot_picker(as_manager, confirmation, petrov):
    new_time = at(local_date(confirmation.booking.starts_at), time(17))
    key = Slot(petrov.pk, "x", new_time, new_time).key
    response = as_manager.post(reverse("calls:task", args=[confirmation.pk]), {"outcome": "rescheduled", "slot": key})
    assert response.status_code == 302
    assert Booking.objects.get(pk=confirmation.booking_id).starts_at == new_time


def test_task_page_survey(as_manager, follow_up, survey):
    q = {x.kind: x.pk for x in survey.questions.all()}
    response = as_manager.post(
        reverse("calls:task", args=[follow_up.pk]),
        {"outcome": "answered", f"q_{q['scale5']}": "4", f"q_{q['scale10']}": "10", f"q_{q['text']}": "всё хорошо"},
    )
    assert response.status_code == 302
    assert SurveyResponse.objects.get().csi == 90


@pytest.mark.parametrize("rows", [5, 50])
def test_queue_query_count_is_pinned(as_manager, manager, django_assert_num_queries, rows):
    now = timezone.now()
    for n in range(rows):
        client = ClientFactory()
        CallTask.objects.create(
            kind="callback", client=client, due_at=now, next_attempt_at=now - timedelta(minutes=n), assignee=manager
        )
    # session, user, the colleagues stood in for, counts by kind, the tasks with everything they show joined in; the
    # panels beside the queue: her claims due (the business calendar's week and exceptions, the claims), the loaners
    # overdue
    with django_assert_num_queries(9):
        response = as_manager.get(reverse("calls:queue"))
    assert len(response.context["queue"].tasks) == rows


def test_planned_tasks_show_in_the_queue_on_the_day(as_manager, manager, car_owner, petrov, to2):
    visit = working_day(1)
    booking_create(by=manager, client=car_owner, advisor=petrov, starts_at=at(visit, time(18)), service_types=[to2])
    run_planners()
    if local_date(timezone.now()) == BusinessCalendar().previous_working_day(visit):
        assert as_manager.get(reverse("calls:queue")).context["queue"].counts.get("confirmation") == 1
