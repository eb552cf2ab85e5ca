from datetime import time, timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from bookings.models import Booking, BookingTransition
from bookings.selectors.slots import free_slots
from bookings.services.bookings import (
    ALLOWED_TRANSITIONS,
    SlotUnavailable,
    allowed_steps,
    booking_cancel,
    booking_confirm,
    booking_create,
    booking_mark_arrived,
    booking_reschedule,
    booking_transition,
)
from clientdesk.calendar import at, local_date
from clientdesk.errors import Conflict
from clientdesk.models import CalendarDay, Notification
from tests.bookings.conftest import moment, working_day

pytestmark = pytest.mark.django_db


def book(by, client, advisor, when, types, **kwargs):
    return booking_create(by=by, client=client, advisor=advisor, starts_at=when, service_types=types, **kwargs)


def test_a_booking_takes_its_area_and_minutes_from_the_services(manager, car_owner, petrov, to2, diag, day):
    booking = book(manager, car_owner, petrov, moment(day, 10), [to2, diag], vehicle=car_owner.vehicles.get())
    assert (booking.area, booking.planned_minutes) == (to2.area, 240)
    assert booking.advisor_until - booking.starts_at == timedelta(minutes=30)
    assert booking.status == Booking.Status.SCHEDULED
    trail = list(booking.transitions.values_list("from_status", "to_status", "by"))
    assert trail == [("", "scheduled", manager.pk)]
    assert {h.history_user for h in booking.history.all()} == {manager}


def test_the_advisors_taken_slot_is_refused_with_the_nearest_free_ones(manager, car_owner, petrov, to2, day):
    book(manager, car_owner, petrov, moment(day, 10), [to2])
    with pytest.raises(SlotUnavailable) as exc:
        book(manager, car_owner, petrov, moment(day, 10, 15), [to2])
    assert "already has a client" in str(exc.value.message)
    alternatives = exc.value.alternatives
    assert alternatives and all(s.starts_at.date() >= day for s in alternatives)
    assert moment(day, 10) not in [s.starts_at for s in alternatives]
    assert Booking.objects.count() == 1


def test_another_advisor_may_take_the_same_time(manager, car_owner, petrov, sidorov, to2, day):
    book(manager, car_owner, petrov, moment(day, 10), [to2])
    assert book(manager, car_owner, sidorov, moment(day, 10), [to2]).advisor == sidorov


def test_holiday_and_outside_hours_are_refused(manager, car_owner, petrov, to2, day):
    CalendarDay.objects.create(date=day, kind=CalendarDay.Kind.HOLIDAY, note="праздник")
    with pytest.raises(SlotUnavailable, match="closed"):
        book(manager, car_owner, petrov, moment(day, 10), [to2])
    other = working_day(offset=(day - local_date(timezone.now())).days + 1)  # the next regular working day after it
    with pytest.raises(SlotUnavailable, match="08:00–20:00"):
        book(manager, car_owner, petrov, moment(other, 7, 30), [to2])
    with pytest.raises(SlotUnavailable, match="08:00–20:00"):
        book(manager, car_owner, petrov, moment(other, 19, 45), [to2])  # the 30-minute slot would end after closing
    assert not Booking.objects.exists()


def test_short_day_closes_early(manager, car_owner, petrov, to2, day):
    CalendarDay.objects.create(date=day, kind=CalendarDay.Kind.SHORT, opens=time(9), closes=time(15))
    with pytest.raises(SlotUnavailable, match="09:00–15:00"):
        book(manager, car_owner, petrov, moment(day, 15), [to2])
    assert book(manager, car_owner, petrov, moment(day, 14, 30), [to2]).pk


def test_the_past_is_refused_but_a_walk_in_may_be_booked_for_now(manager, car_owner, petrov, to2):
    from django.utils import timezone

    with pytest.raises(SlotUnavailable, match="passed"):
        book(manager, car_owner, petrov, timezone.now() - timedelta(hours=2), [to2])


def test_full_area_is_refused_and_the_head_may_override_with_a_reason(
    manager, head, car_owner, petrov, sidorov, to2, day
):
    book(manager, car_owner, petrov, moment(day, 9), [to2])  # 180 of 480
    book(manager, car_owner, petrov, moment(day, 11), [to2])  # 360 of 480
    with pytest.raises(SlotUnavailable) as exc:
        book(manager, car_owner, sidorov, moment(day, 12), [to2])  # would be 540
    assert "full" in str(exc.value.message) and "120 of 480 minutes left" in str(exc.value.message)
    assert all(s.starts_at.date() != day for s in exc.value.alternatives)
    with pytest.raises(ValidationError) as refused:
        book(manager, car_owner, sidorov, moment(day, 12), [to2], capacity_override_reason="VIP")
    assert "capacity_override_reason" in refused.value.message_dict
    overridden = book(head, car_owner, sidorov, moment(day, 12), [to2], capacity_override_reason="VIP-клиент")
    assert overridden.capacity_override_reason == "VIP-клиент"
    assert overridden.transitions.get().note == "VIP-клиент"


def test_the_head_cannot_double_book_an_advisor_even_with_a_reason(head, car_owner, petrov, to2, day):
    book(head, car_owner, petrov, moment(day, 9), [to2])
    with pytest.raises(SlotUnavailable):
        book(head, car_owner, petrov, moment(day, 9), [to2], capacity_override_reason="очень надо")


def test_bad_input_is_refused(manager, car_owner, petrov, to2, day):
    from tests.factories import UserFactory, VehicleFactory

    with pytest.raises(ValidationError) as exc:
        book(manager, car_owner, petrov, moment(day, 9), [], planned_minutes=None)
    assert "service_types" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        book(manager, car_owner, petrov, moment(day, 9), [to2], vehicle=VehicleFactory())
    assert "vehicle" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        book(manager, car_owner, UserFactory(), moment(day, 9), [to2])
    assert "advisor" in exc.value.message_dict
    assert not Booking.objects.exists()


@pytest.mark.parametrize("start", list(ALLOWED_TRANSITIONS))
def test_every_illegal_transition_is_refused_and_changes_nothing(manager, car_owner, petrov, to2, day, start):
    booking = book(manager, car_owner, petrov, moment(day, 9), [to2])
    Booking.objects.filter(pk=booking.pk).update(status=start, cancel_reason="x" if start == "cancelled" else "")
    for target in Booking.Status.values:
        if target in ALLOWED_TRANSITIONS[start]:
            continue
        with pytest.raises(Conflict):
            booking_transition(booking=booking, by=manager, to=target, note="причина")
        booking.refresh_from_db()
        assert booking.status == start
    assert booking.transitions.count() == 1


def test_a_booking_lives_its_whole_life(manager, advisor_user, car_owner, petrov, to2, day, travel):
    booking = book(manager, car_owner, petrov, moment(day, 9), [to2])
    booking = booking_confirm(booking=booking, by=manager)
    assert booking.confirmed_at is not None
    travel(moment(day, 8, 50))
    booking = booking_mark_arrived(booking=booking, by=manager)
    assert booking.arrived_at is not None
    booking = booking_transition(booking=booking, by=petrov, to=Booking.Status.IN_SERVICE)
    booking = booking_transition(booking=booking, by=petrov, to=Booking.Status.COMPLETED)
    assert list(booking.transitions.values_list("to_status", flat=True)) == [
        "scheduled",
        "confirmed",
        "arrived",
        "in_service",
        "completed",
    ]


def test_arrival_start_and_no_show_belong_to_the_visits_day(manager, car_owner, petrov, to2, day, travel):
    booking = book(manager, car_owner, petrov, moment(day, 14), [to2])
    # the day before: no arrival, no no-show, nothing offered
    travel(moment(day, 14) - timedelta(days=1))
    for step in (Booking.Status.ARRIVED, Booking.Status.NO_SHOW):
        with pytest.raises(Conflict):
            booking_transition(booking=booking, by=manager, to=step)
    assert allowed_steps(booking, now=timezone.now()) == {"confirmed", "cancelled"}
    booking.refresh_from_db()
    assert (booking.status, booking.arrived_at, booking.transitions.count()) == ("scheduled", None, 1)
    assert not Notification.objects.exists()
    # the visit's morning: an early client may arrive, but nobody is a no-show before the slot starts
    travel(at(day, time(0, 5)))
    with pytest.raises(Conflict):
        booking_transition(booking=booking, by=manager, to=Booking.Status.NO_SHOW)
    assert allowed_steps(booking, now=timezone.now()) == {"confirmed", "arrived", "cancelled"}
    # once the slot has started, a no-show too; the next day, no arrival for that visit any more
    travel(moment(day, 14, 1))
    assert allowed_steps(booking, now=timezone.now()) == {"confirmed", "arrived", "cancelled", "no_show"}
    travel(moment(day, 10) + timedelta(days=1))
    with pytest.raises(Conflict):
        booking_mark_arrived(booking=booking, by=manager)
    assert allowed_steps(booking, now=timezone.now()) == {"confirmed", "cancelled", "no_show"}
    travel(moment(day, 13))
    assert booking_mark_arrived(booking=booking, by=manager).status == "arrived"
    assert Notification.objects.filter(user=petrov).count() == 1


@pytest.fixture
def advisor_user(petrov):
    return petrov


def test_cancel_needs_a_reason_and_frees_the_slot(manager, car_owner, petrov, to2, day):
    booking = book(manager, car_owner, petrov, moment(day, 9), [to2])
    with pytest.raises(ValidationError):
        booking_cancel(booking=booking, by=manager, reason=" ")
    booking.refresh_from_db()
    assert booking.status == "scheduled"
    booking_cancel(booking=booking, by=manager, reason="Клиент передумал")
    assert book(manager, car_owner, petrov, moment(day, 9), [to2]).pk != booking.pk


def test_reschedule_keeps_the_old_time_in_the_trail_and_needs_confirming_again(manager, car_owner, petrov, to2, day):
    booking = book(manager, car_owner, petrov, moment(day, 9), [to2])
    booking_confirm(booking=booking, by=manager)
    moved = booking_reschedule(booking=booking, by=manager, starts_at=moment(day, 14), reason="просил позже")
    assert moved.starts_at == moment(day, 14)
    assert moved.status == "scheduled" and moved.confirmed_at is None
    last = moved.transitions.last()
    assert (last.old_starts_at, last.new_starts_at, last.note) == (moment(day, 9), moment(day, 14), "просил позже")
    # its own old slot does not block it; the capacity it already holds is not counted twice
    assert booking_reschedule(booking=moved, by=manager, starts_at=moment(day, 9)).starts_at == moment(day, 9)


def test_a_finished_booking_cannot_be_moved(manager, car_owner, petrov, to2, day):
    booking = book(manager, car_owner, petrov, moment(day, 9), [to2])
    booking_cancel(booking=booking, by=manager, reason="нет")
    with pytest.raises(Conflict):
        booking_reschedule(booking=booking, by=manager, starts_at=moment(day, 14))


def test_arrival_tells_the_advisor_in_app_and_by_email(
    manager, car_owner, petrov, to2, day, django_capture_on_commit_callbacks, celery_eager, travel
):
    petrov.email = "petrov@dealer.example"
    petrov.save()
    booking = book(manager, car_owner, petrov, moment(day, 9), [to2], vehicle=car_owner.vehicles.get())
    travel(moment(day, 9, 5))
    with django_capture_on_commit_callbacks(execute=True):
        booking_mark_arrived(booking=booking, by=manager)
    note = Notification.objects.get(user=petrov)
    assert car_owner.name in note.title
    assert note.url == booking.get_absolute_url()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["petrov@dealer.example"]


def test_free_slots_skip_taken_ones_and_respect_capacity(manager, car_owner, petrov, sidorov, to2, day):
    book(manager, car_owner, petrov, moment(day, 9), [to2])
    slots = free_slots(day=day, area=to2.area, planned_minutes=180)
    petrov_starts = {s.starts_at for s in slots if s.advisor_id == petrov.pk}
    assert moment(day, 9) not in petrov_starts and moment(day, 9, 30) in petrov_starts
    assert moment(day, 9) in {s.starts_at for s in slots if s.advisor_id == sidorov.pk}
    assert len([s for s in slots if s.advisor_id == sidorov.pk]) == 24  # 08:00–20:00 in 30-minute slots
    book(manager, car_owner, sidorov, moment(day, 9), [to2])
    assert free_slots(day=day, area=to2.area, planned_minutes=180) == []  # 360 + 180 > 480
    assert free_slots(day=day, area=to2.area, planned_minutes=120)


def test_transition_records_are_kept_even_for_refusals_nothing(manager, car_owner, petrov, to2, day):
    booking = book(manager, car_owner, petrov, moment(day, 9), [to2])
    before = BookingTransition.objects.count()
    with pytest.raises(Conflict):
        booking_transition(booking=booking, by=manager, to="completed")
    assert BookingTransition.objects.count() == before
