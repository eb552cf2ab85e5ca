"""Reservations: no car promised twice, the cars that may not go out, moving and cancelling, the loaner inside the
workshop booking (all or nothing, moving and cancelling with it)."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from bookings.models import Booking
from bookings.services.bookings import booking_cancel, booking_create, booking_reschedule
from clientdesk.errors import Conflict
from fleet.models import FleetCar, Reservation
from fleet.services import cars
from fleet.services.reservations import (
    CarUnavailable,
    free_cars,
    reservation_cancel,
    reservation_create,
    reservation_move,
)
from tests.factories import ClientFactory
from tests.fleet.conftest import make_car, moment

pytestmark = pytest.mark.django_db


def reserve(car, day, start=10, end=12, **kwargs):
    return reservation_create(
        by=None,
        car=car,
        client=kwargs.pop("client", None) or ClientFactory(),
        starts_at=moment(day, start),
        ends_at=moment(day, end),
        **kwargs,
    )


def test_an_overlapping_reservation_is_refused_and_the_buffer_counts(loaner, day, manager):
    first = reserve(loaner, day, 10, 12)
    assert first.free_from == moment(day, 13)  # the default hour to make the car ready again
    with pytest.raises(CarUnavailable, match="already reserved"):
        reserve(loaner, day, 11, 14)
    with pytest.raises(CarUnavailable):
        reserve(loaner, day, 12, 14)  # inside the return buffer
    later = reserve(loaner, day, 13, 15)
    assert later.status == Reservation.Status.RESERVED
    assert Reservation.objects.filter(car=loaner).count() == 2


def test_a_cancelled_reservation_frees_the_car_and_keeps_its_reason(loaner, day, manager):
    first = reserve(loaner, day)
    reservation_cancel(reservation=first, by=manager, reason="Клиент передумал")
    again = reserve(loaner, day)
    first.refresh_from_db()
    assert first.cancel_reason == "Клиент передумал"
    assert [t.to_status for t in first.transitions.all()] == ["reserved", "cancelled"]
    assert again.pk != first.pk
    with pytest.raises(Conflict):
        reservation_cancel(reservation=first, by=manager, reason="ещё раз")
    with pytest.raises(ValidationError):
        reservation_cancel(reservation=again, by=manager, reason=" ")


@pytest.mark.parametrize("state", ["needs_inspection", "in_maintenance", "retired"])
def test_a_car_that_may_not_go_out_is_not_reserved(day, state):
    car = make_car()
    FleetCar.objects.filter(pk=car.pk).update(state=state)
    car.refresh_from_db()
    with pytest.raises(CarUnavailable, match="cannot be reserved"):
        reserve(car, day)
    assert not Reservation.objects.exists()


def test_a_car_whose_insurance_lapses_before_it_is_back_is_not_reserved(day):
    car = make_car(insurance_until=day - timedelta(days=1))
    with pytest.raises(CarUnavailable, match="insurance"):
        reserve(car, day)
    assert free_cars(use="loaner", starts_at=moment(day, 10), ends_at=moment(day, 12)) == []
    cars.car_update(car=car, by=None, insurance_until=day)
    assert reserve(car, day).pk


def test_a_demo_car_is_not_lent_as_a_loaner(demo, day):
    with pytest.raises(ValidationError):
        reserve(demo, day)


def test_moving_checks_the_car_again_and_is_recorded(loaner, day, manager):
    first = reserve(loaner, day, 10, 12)
    second = reserve(loaner, day, 14, 16)
    with pytest.raises(CarUnavailable):
        reservation_move(reservation=second, by=manager, starts_at=moment(day, 11), ends_at=moment(day, 13))
    moved = reservation_move(reservation=second, by=manager, starts_at=moment(day, 15), ends_at=moment(day, 17))
    assert moved.free_from == moment(day, 18)
    assert first.transitions.count() == 1 and moved.transitions.count() == 2


# --- the loaner inside the workshop booking ---------------------------------------------------------------------


def book(car_owner, petrov, to2, day, hour=10, **kwargs):
    return booking_create(
        by=None, client=car_owner, advisor=petrov, starts_at=moment(day, hour), service_types=[to2], **kwargs
    )


def test_a_booking_with_a_loaner_reserves_one_for_the_planned_work(loaner, car_owner, petrov, to2, day):
    booking = book(car_owner, petrov, to2, day, needs_loaner=True)
    reservation = Reservation.objects.get(booking=booking)
    assert reservation.car == loaner and reservation.client == car_owner
    assert reservation.starts_at == moment(day, 10) and reservation.ends_at == moment(day, 13)  # ТО-2: 180 min


def test_a_booking_without_a_free_loaner_is_not_made_at_all(loaner, car_owner, petrov, sidorov, to2, day):
    reserve(loaner, day, 9, 11)
    with pytest.raises(CarUnavailable, match="No loaner is free"):
        book(car_owner, petrov, to2, day, needs_loaner=True)
    assert not Booking.objects.exists()
    assert Reservation.objects.count() == 1
    # without a loaner the same visit is booked
    assert book(car_owner, petrov, to2, day).pk


@override_settings(LOANER_RETURN_BUFFER_MINUTES=120)
def test_the_return_buffer_is_a_setting(loaner, car_owner, petrov, to2, day):
    booking = book(car_owner, petrov, to2, day, needs_loaner=True)
    assert Reservation.objects.get(booking=booking).free_from == moment(day, 15)


def test_moving_the_booking_moves_its_loaner_and_a_taken_time_refuses_the_move(loaner, car_owner, petrov, to2, day):
    booking = book(car_owner, petrov, to2, day, needs_loaner=True)
    booking_reschedule(booking=booking, by=None, starts_at=moment(day, 14))
    reservation = Reservation.objects.get(booking=booking)
    assert reservation.starts_at == moment(day, 14) and reservation.ends_at == moment(day, 17)
    reserve(loaner, day + timedelta(days=7), 9, 18)
    next_week = moment(day + timedelta(days=7), 10)
    with pytest.raises(CarUnavailable):
        booking_reschedule(booking=booking, by=None, starts_at=next_week)
    booking.refresh_from_db()
    reservation.refresh_from_db()
    assert booking.starts_at == moment(day, 14) and reservation.starts_at == moment(day, 14)


def test_moving_the_booking_takes_another_loaner_when_its_own_is_taken(car_owner, petrov, to2, day):
    first, second = make_car(mileage_km=1000), make_car(mileage_km=5000)
    booking = book(car_owner, petrov, to2, day, needs_loaner=True)
    assert Reservation.objects.get(booking=booking).car == first
    other_day = day + timedelta(days=7)
    reserve(first, other_day, 9, 18)
    booking_reschedule(booking=booking, by=None, starts_at=moment(other_day, 10))
    assert Reservation.objects.get(booking=booking).car == second


def test_cancelling_the_booking_releases_its_loaner(loaner, car_owner, petrov, to2, day):
    booking = book(car_owner, petrov, to2, day, needs_loaner=True)
    booking_cancel(booking=booking, by=None, reason="Передумал")
    reservation = Reservation.objects.get(booking=booking)
    assert reservation.status == Reservation.Status.CANCELLED
    assert reservation.cancel_reason == "The workshop visit was cancelled."
    assert free_cars(use="loaner", starts_at=moment(day, 10), ends_at=moment(day, 13)) == [loaner]
