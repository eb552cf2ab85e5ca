"""A visit's confirmation call closes, with the reason, whenever the booking gets there another way: the client
arrived, the visit started or was completed, it was cancelled or the client did not come; by a service, the card,
the API or another task (issue 9, item 2). The reason shows on the head's task board, in the task's history and in
the task API."""

from datetime import time

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from bookings.services.bookings import booking_cancel, booking_create, booking_transition
from calls.models import CallTask, TaskCloseReason, TaskOutcome
from calls.services.calls import call_task_claim, call_task_claim_next, call_task_work
from clientdesk.calendar import at
from clientdesk.errors import Conflict
from tests.bookings.conftest import moment

pytestmark = pytest.mark.django_db


@pytest.fixture
def visit(manager, car_owner, petrov, to2, day):
    """A booking at 11:00 on a working day ahead, with its confirmation call still open."""
    booking = booking_create(
        by=manager, client=car_owner, advisor=petrov, starts_at=at(day, time(11)), service_types=[to2]
    )
    now = timezone.now()
    task = CallTask.objects.create(
        kind="confirmation", client=car_owner, booking=booking, due_at=now, next_attempt_at=now, assignee=manager
    )
    return booking, task


def closed(task) -> tuple[str, str]:
    task.refresh_from_db()
    return task.status, task.closed_reason


def test_arrival_closes_the_call_as_done_with_the_reason(
    visit, manager, day, travel, django_capture_on_commit_callbacks
):
    # given: the visit's morning, its confirmation call never made
    booking, task = visit
    travel(moment(day, 10, 50))
    # when: the front desk marks the client arrived
    with django_capture_on_commit_callbacks(execute=True):
        booking_transition(booking=booking, by=manager, to="arrived")
    # then: the call is closed, saying why, and the task's history says so too
    assert closed(task) == ("done", "arrived")
    assert task.closed_at is not None and task.claimed_by is None
    assert task.outcome_display == "The client arrived"
    assert task.history.first().history_change_reason == "client arrived"


@pytest.mark.parametrize(
    ("steps", "status", "reason", "history"),
    [
        (["arrived", "in_service"], "done", "arrived", "client arrived"),
        (["arrived", "in_service", "completed"], "done", "completed", "visit completed"),
        (["no_show"], "cancelled", "no_show", "client did not come"),
        (["confirmed"], "done", "confirmed", "booking confirmed"),
    ],
)
def test_a_call_missed_by_earlier_steps_closes_at_the_next_one(
    visit, manager, day, travel, django_capture_on_commit_callbacks, steps, status, reason, history
):
    # given: the earlier steps announced nothing to the calls app (the task was made after them)
    booking, task = visit
    travel(moment(day, 11, 5))
    for step in steps[:-1]:
        booking = booking_transition(booking=booking, by=manager, to=step)
    CallTask.objects.filter(pk=task.pk).update(status="open", closed_at=None, outcome="", closed_reason="")
    # when: the last step is taken
    with django_capture_on_commit_callbacks(execute=True):
        booking_transition(booking=booking, by=manager, to=steps[-1])
    # then: the call closes with that step's reason
    assert closed(task) == (status, reason)
    assert task.outcome == str(TaskCloseReason(reason).label)
    assert task.history.first().history_change_reason == history


def test_cancelling_closes_the_call_as_cancelled(visit, manager, django_capture_on_commit_callbacks):
    booking, task = visit
    with django_capture_on_commit_callbacks(execute=True):
        booking_cancel(booking=booking, by=manager, reason="продал машину")
    assert closed(task) == ("cancelled", "cancelled")


def test_a_call_closed_by_the_booking_cannot_be_worked_and_says_why(visit, manager, django_capture_on_commit_callbacks):
    # given: a manager opened the task while a colleague cancelled the visit on the phone
    booking, task = visit
    with django_capture_on_commit_callbacks(execute=True):
        booking_cancel(booking=booking, by=manager, reason="передумал")
    # when: the manager logs the outcome
    with pytest.raises(Conflict) as refused:
        call_task_work(task=task, by=manager, outcome=TaskOutcome.CONFIRMED)
    # then: refused, naming the reason, and the booking stays cancelled
    assert "Visit cancelled" in str(refused.value.message)
    booking.refresh_from_db()
    assert booking.status == "cancelled"


def test_moving_a_closed_booking_back_reopens_the_call_without_the_old_reason(
    visit, manager, django_capture_on_commit_callbacks
):
    booking, task = visit
    with django_capture_on_commit_callbacks(execute=True):
        booking = booking_transition(booking=booking, by=manager, to="confirmed")
    assert closed(task) == ("done", "confirmed")
    with django_capture_on_commit_callbacks(execute=True):
        booking_transition(booking=booking, by=manager, to="scheduled")
    assert closed(task) == ("open", "")
    assert task.outcome == "" and task.closed_at is None


@pytest.mark.parametrize(
    ("action", "reason", "status"),
    [("arrived", "arrived", "done"), ("no-show", "no_show", "cancelled"), ("cancel", "cancelled", "cancelled")],
)
def test_the_booking_api_closes_the_call_and_the_task_api_shows_the_reason(
    visit, manager, day, travel, api_as_manager, django_capture_on_commit_callbacks, action, reason, status
):
    # given: the visit's slot has started
    booking, task = visit
    travel(moment(day, 11, 5))
    # when: the DMS or a script moves the booking through the API
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as_manager.post(
            f"/api/v1/bookings/{booking.pk}/{action}/", {"reason": "не приедет", "note": "не приедет"}, format="json"
        )
    assert response.status_code == 200, response.content
    # then: the task is closed, and the task API says why
    body = api_as_manager.get(f"/api/v1/call-tasks/{task.pk}/").json()
    assert (body["status"], body["closed_reason"]) == (status, reason)


def test_the_advisor_starting_the_visit_over_the_api_closes_a_left_open_call(
    visit, manager, petrov, day, travel, django_capture_on_commit_callbacks
):
    booking, task = visit
    travel(moment(day, 11, 5))
    booking = booking_transition(booking=booking, by=manager, to="arrived")
    CallTask.objects.filter(pk=task.pk).update(status="open", closed_at=None, outcome="", closed_reason="")
    advisor_api = APIClient()
    advisor_api.force_authenticate(petrov)
    with django_capture_on_commit_callbacks(execute=True):
        response = advisor_api.post(f"/api/v1/bookings/{booking.pk}/start/")
    assert response.status_code == 200, response.content
    assert closed(task) == ("done", "arrived")


def test_the_booking_card_closes_the_call(visit, manager, day, travel, web, django_capture_on_commit_callbacks):
    booking, task = visit
    travel(moment(day, 10, 45))
    web.force_login(manager)  # signed in on the visit's morning (a session ends with the shift)
    with django_capture_on_commit_callbacks(execute=True):
        response = web.post(reverse("bookings:action", args=[booking.pk, "arrived"]))
    assert response.status_code == 302 and response["Location"] == booking.get_absolute_url()
    assert closed(task) == ("done", "arrived")


def test_a_stale_queue_row_and_the_task_page_say_why_the_call_closed(
    visit, manager, as_manager, django_capture_on_commit_callbacks
):
    # given: the manager's queue still lists the call, but the visit was cancelled meanwhile
    booking, task = visit
    with django_capture_on_commit_callbacks(execute=True):
        booking_cancel(booking=booking, by=manager, reason="передумал")
    # when: the manager clicks "Call" on the stale row, then opens the task's page
    taken = as_manager.post(reverse("calls:task-take", args=[task.pk]), follow=True, headers={"Accept-Language": "en"})
    page = as_manager.get(reverse("calls:task", args=[task.pk]), headers={"Accept-Language": "en"})
    # then: both say the call is closed because the visit was cancelled; the task is not taken
    assert "already closed (Cancelled: Visit cancelled)" in taken.content.decode()
    assert "This call is closed (Cancelled): Visit cancelled." in page.content.decode()
    assert closed(task) == ("cancelled", "cancelled") and task.claimed_by is None


def test_a_call_the_planner_made_as_the_visit_was_cancelled_closes_when_taken(visit, manager):
    # given: the booking was cancelled while a planner was inserting its call, so no event found the task to close
    booking, task = visit
    booking_cancel(booking=booking, by=manager, reason="передумал")  # its event is not delivered here
    # when: a manager takes the call
    taken = call_task_claim(task=task, by=manager)
    # then: it is closed with the reason instead of being called, and nobody holds it
    assert (taken.status, taken.closed_reason, taken.claimed_by) == ("cancelled", "cancelled", None)
    assert closed(task) == ("cancelled", "cancelled")


def test_next_call_skips_a_call_whose_visit_moved_on(visit, manager, car_owner):
    booking, task = visit
    booking_transition(booking=booking, by=manager, to="confirmed")  # its event is not delivered here
    later = CallTask.objects.create(
        kind="callback",
        client=car_owner,
        due_at=timezone.now(),
        next_attempt_at=timezone.now(),
        assignee=manager,
    )
    assert call_task_claim_next(by=manager) == later
    assert closed(task) == ("done", "confirmed")
    assert call_task_claim_next(by=manager) is None
