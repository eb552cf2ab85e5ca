from datetime import date, time, timedelta

import pytest
from django.utils import timezone

from accounts.models import Absence
from bookings.models import Booking
from bookings.services.bookings import booking_cancel, booking_confirm, booking_create, booking_reschedule
from calls import handlers as calls_events
from calls.models import CallRules, CallTask
from calls.selectors import manager_queue
from calls.services.planning import (
    PLAN_SOON_EXPIRES,
    PLAN_SOON_MARKER,
    planning_request_soon,
    planning_request_taken,
    run_planners,
)
from clientdesk.calendar import BusinessCalendar, at, local_date
from clientdesk.models import CalendarDay, Heartbeat
from clients.models import Delivery
from tests.bookings.conftest import working_day
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def visit_and_call_day(min_offset=3):
    """A visit day whose previous working day (the call day) is still ahead of today."""
    visit = working_day(min_offset)
    calendar = BusinessCalendar()
    return visit, calendar.previous_working_day(visit)


def book_on(day, by, client, advisor, types, hour=11):
    return booking_create(by=by, client=client, advisor=advisor, starts_at=at(day, time(hour)), service_types=types)


def test_a_booking_gets_exactly_one_confirmation_due_the_working_day_before(manager, car_owner, petrov, to2):
    visit, call_day = visit_and_call_day()
    booking = book_on(visit, manager, car_owner, petrov, [to2])
    now = at(call_day, time(8, 30))

    first = run_planners(now=now)
    second = run_planners(now=now + timedelta(minutes=5))

    assert (first.confirmations, second.confirmations) == (1, 0)
    task = CallTask.objects.get()
    assert (task.kind, task.booking, task.client) == ("confirmation", booking, car_owner)
    assert task.due_at == at(call_day, time(10)) == task.next_attempt_at
    assert task.assignee == manager  # the only manager on duty


def test_nothing_is_planned_before_the_call_day(manager, car_owner, petrov, to2):
    visit, call_day = visit_and_call_day(min_offset=4)
    book_on(visit, manager, car_owner, petrov, [to2])
    the_day_before = BusinessCalendar().previous_working_day(call_day)
    assert run_planners(now=at(the_day_before, time(20))).confirmations == 0


def test_days_off_are_skipped(manager, car_owner, petrov, to2):
    # A Monday visit: Sunday is off and this Saturday is made a holiday, so the call is on Friday.
    monday = working_day(7)
    while monday.weekday() != 0:
        monday += timedelta(days=1)
    friday, saturday = monday - timedelta(days=3), monday - timedelta(days=2)
    CalendarDay.objects.create(date=saturday, kind=CalendarDay.Kind.HOLIDAY)
    book_on(monday, manager, car_owner, petrov, [to2])
    assert run_planners(now=at(friday, time(9))).confirmations == 1
    assert CallTask.objects.get().due_at == at(friday, time(10))


def test_a_day_of_missed_beats_is_caught_up_overdue(manager, car_owner, petrov, to2):
    visit, call_day = visit_and_call_day()
    book_on(visit, manager, car_owner, petrov, [to2], hour=15)
    morning_of_visit = at(visit, time(8))
    assert run_planners(now=morning_of_visit).confirmations == 1
    task = CallTask.objects.get()
    assert task.due_at == at(call_day, time(10)) < morning_of_visit
    queue = manager_queue(manager, now=morning_of_visit)
    assert [t.pk for t in queue.tasks] == [task.pk] and queue.tasks[0].is_overdue


def test_a_visit_booked_on_its_own_day_gets_no_confirmation_call(manager, car_owner, petrov, to2):
    visit, call_day = visit_and_call_day()
    same_day = book_on(visit, manager, car_owner, petrov, [to2], hour=15)
    ahead = book_on(visit, manager, car_owner, petrov, [to2], hour=17)
    # The first was booked that morning, when the client rang; the second the day before, after the call hour.
    Booking.objects.filter(pk=same_day.pk).update(created_at=at(visit, time(8, 40)))
    Booking.objects.filter(pk=ahead.pk).update(created_at=at(call_day, time(18)))

    assert run_planners(now=at(visit, time(9))).confirmations == 1
    assert CallTask.objects.get().booking == ahead


def test_confirmed_and_past_visits_get_no_call(manager, car_owner, petrov, to2):
    visit, call_day = visit_and_call_day()
    booking = book_on(visit, manager, car_owner, petrov, [to2], hour=9)
    booking_confirm(booking=booking, by=manager)
    assert run_planners(now=at(call_day, time(12))).confirmations == 0
    assert run_planners(now=at(visit, time(10))).confirmations == 0


def test_a_moved_booking_moves_its_call_and_a_cancelled_one_cancels_it(
    manager, car_owner, petrov, to2, django_capture_on_commit_callbacks
):
    visit, call_day = visit_and_call_day()
    booking = book_on(visit, manager, car_owner, petrov, [to2])
    run_planners(now=at(call_day, time(9)))
    later = working_day((visit - local_date(timezone.now())).days + 3)
    # the call follows the booking through its events, once the booking's transaction commits
    with django_capture_on_commit_callbacks(execute=True):
        booking_reschedule(booking=booking, by=manager, starts_at=at(later, time(12)))
    task = CallTask.objects.get()
    assert task.due_at == at(BusinessCalendar().previous_working_day(later), time(10))
    assert task.is_pending
    with django_capture_on_commit_callbacks(execute=True):
        booking_cancel(booking=booking, by=manager, reason="передумал")
    task.refresh_from_db()
    assert task.status == "cancelled" and task.closed_at is not None


def test_a_visit_confirmed_another_way_closes_its_call(
    manager, car_owner, petrov, to2, django_capture_on_commit_callbacks
):
    visit, call_day = visit_and_call_day()
    booking = book_on(visit, manager, car_owner, petrov, [to2])
    run_planners(now=at(call_day, time(9)))
    with django_capture_on_commit_callbacks(execute=True):
        booking_confirm(booking=booking, by=manager, note="клиент сам позвонил")
    task = CallTask.objects.get()
    assert task.status == "done"


def test_a_moved_booking_reopens_a_done_confirmation(
    manager, car_owner, petrov, to2, django_capture_on_commit_callbacks
):
    visit, call_day = visit_and_call_day()
    booking = book_on(visit, manager, car_owner, petrov, [to2])
    run_planners(now=at(call_day, time(9)))
    with django_capture_on_commit_callbacks(execute=True):
        booking = booking_confirm(booking=booking, by=manager)
    assert CallTask.objects.get().status == "done"
    with django_capture_on_commit_callbacks(execute=True):
        booking_reschedule(booking=booking, by=manager, starts_at=at(visit, time(16)))
    task = CallTask.objects.get()
    assert task.status == "open" and task.attempts == 0


def make_delivery(client, delivered_on: date, hour=15):
    return Delivery.objects.create(
        client=client,
        vehicle=client.vehicles.get(),
        delivered_at=at(delivered_on, time(hour)),
        sales_manager="Продавцов",
    )


def test_follow_up_on_the_seventh_day(manager, car_owner):
    delivered = local_date(timezone.now()) - timedelta(days=3)
    call_day = delivered + timedelta(days=7)
    while not BusinessCalendar().is_working_day(call_day):
        call_day += timedelta(days=1)
    make_delivery(car_owner, delivered)
    before = BusinessCalendar().previous_working_day(call_day)
    assert run_planners(now=at(before, time(20))).follow_ups == (1 if before >= delivered + timedelta(days=7) else 0)
    CallTask.objects.all().delete()
    assert run_planners(now=at(call_day, time(8))).follow_ups == 1
    task = CallTask.objects.get()
    assert (task.kind, task.due_at) == ("follow_up", at(call_day, time(9)))
    assert run_planners(now=at(call_day, time(12))).follow_ups == 0


def test_follow_up_falling_on_a_sunday_moves_to_monday_and_is_caught_up_later(manager, car_owner):
    sunday = local_date(timezone.now()) + timedelta(days=10)
    while sunday.weekday() != 6:
        sunday += timedelta(days=1)
    delivered = sunday - timedelta(days=7)
    make_delivery(car_owner, delivered)
    assert run_planners(now=at(sunday, time(12))).follow_ups == 0
    monday = sunday + timedelta(days=1)
    # the planner was down on Monday and Tuesday: Wednesday's run still creates it, overdue
    assert run_planners(now=at(monday + timedelta(days=2), time(9, 30))).follow_ups == 1
    assert CallTask.objects.get().due_at == at(monday, time(9))


def test_new_tasks_go_round_robin_to_managers_on_duty(car_owner, petrov, to2):
    to2.area.daily_capacity_minutes = 24 * 60
    to2.area.save()
    managers = [UserFactory(username=f"m{n}") for n in range(3)]
    away = managers[2]
    visit, call_day = visit_and_call_day()
    Absence.objects.create(user=away, starts_on=call_day - timedelta(days=1), ends_on=call_day, substitute=managers[0])
    for hour in range(9, 15):
        book_on(visit, managers[0], car_owner, petrov, [to2], hour=hour)
    run_planners(now=at(call_day, time(9)))
    assignees = list(CallTask.objects.order_by("id").values_list("assignee_id", flat=True))
    assert set(assignees) == {managers[0].pk, managers[1].pk}
    assert assignees.count(managers[0].pk) == assignees.count(managers[1].pk) == 3


def test_an_absentees_tasks_go_to_the_substitute_and_come_back(car_owner, petrov, to2):
    owner, stand_in = UserFactory(username="owner"), UserFactory(username="standin")
    visit, call_day = visit_and_call_day(min_offset=5)
    book_on(visit, owner, car_owner, petrov, [to2])
    run_planners(now=at(call_day, time(9)))
    task = CallTask.objects.get()
    task.assignee = owner
    task.save()
    Absence.objects.create(user=owner, starts_on=call_day, ends_on=call_day, substitute=stand_in)
    during = at(call_day, time(11))
    assert [t.pk for t in manager_queue(stand_in, now=during).tasks] == [task.pk]
    after = at(visit, time(8))
    assert manager_queue(stand_in, now=after).tasks == []
    assert [t.pk for t in manager_queue(owner, now=after).tasks] == [task.pk]


def test_call_rules_are_the_departments(manager, car_owner, petrov, to2):
    rules = CallRules.current()
    rules.confirmation_hour = time(14)
    rules.save()
    visit, call_day = visit_and_call_day()
    book_on(visit, manager, car_owner, petrov, [to2])
    run_planners(now=at(call_day, time(9)))
    assert CallTask.objects.get().due_at == at(call_day, time(14))


def test_dealing_stays_even_when_the_sequence_skips_ids(car_owner, petrov, to2):
    """ON CONFLICT DO NOTHING uses up ids for the rows it skips; dealing goes by position, so each run still
    alternates, starting with whoever has the least pending work."""
    to2.area.daily_capacity_minutes = 24 * 60
    to2.area.save()
    first, second = UserFactory(username="first"), UserFactory(username="second")
    visit, call_day = visit_and_call_day()
    for hour in range(9, 13):
        book_on(visit, first, car_owner, petrov, [to2], hour=hour)
    now = at(call_day, time(9))
    run_planners(now=now)
    for minute in (0, 30):  # every later run meets the four planned bookings again (four skipped ids each time)
        booking_create(
            by=first, client=car_owner, advisor=petrov, starts_at=at(visit, time(15, minute)), service_types=[to2]
        )
        run_planners(now=now + timedelta(minutes=5 + minute))
    counts = {m: CallTask.objects.filter(assignee=m).count() for m in (first, second)}
    assert counts == {first: 3, second: 3}


# --- "plan soon": visits booked late for the next working day ---------------------------------------------------


def test_plan_soon_requests_coalesce_into_one_pending_run():
    tomorrow = BusinessCalendar().next_working_day(local_date(timezone.now()))
    visit = at(tomorrow, time(10))
    # one request is queued; while it is pending, further ones queue nothing
    assert [planning_request_soon(visit_at=visit) for _ in range(5)] == [True, False, False, False, False]
    # once the run starts, the next booking may ask again
    planning_request_taken()
    assert planning_request_soon(visit_at=visit) is True
    # a request whose message was lost expires, and then another is queued
    Heartbeat.objects.filter(name=PLAN_SOON_MARKER).update(beat_at=timezone.now() - PLAN_SOON_EXPIRES)
    assert planning_request_soon(visit_at=visit) is True
    # a visit further off waits for the beat
    assert planning_request_soon(visit_at=visit + timedelta(days=10)) is False


def test_a_burst_of_late_bookings_queues_one_planner_run(
    manager, car_owner, petrov, sidorov, to2, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(calls_events, "send_after_commit", lambda task, **kw: sent.append((task.name, kw)))
    today = local_date(timezone.now())
    tomorrow = BusinessCalendar().next_working_day(today)
    for advisor, hour in ((petrov, 10), (sidorov, 10)):
        with django_capture_on_commit_callbacks(execute=True):
            book_on(tomorrow, manager, car_owner, advisor, [to2], hour=hour)
    assert sent == [("calls.tasks.plan_calls", {"options": {"expires": int(PLAN_SOON_EXPIRES.total_seconds())}})]
