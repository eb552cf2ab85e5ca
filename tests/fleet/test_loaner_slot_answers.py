"""`free_loaner_slot_keys` answers what the plain definition answers on a tricky day: loaners held at the edges of
slots (a car free again exactly when a slot starts, one taken exactly when the work plus the buffer ends), a cancelled
reservation (which holds nothing), a car in maintenance and one whose insurance has lapsed, and the loaner
of the visit being moved (left out). Its PostgreSQL query and its portable path (the ORM, for SQLite) both agree."""

import types
from datetime import timedelta

import pytest

from bookings.selectors.slots import free_slots
from fleet import selectors
from fleet.models import FleetCar, Reservation
from fleet.services.reservations import reservation_cancel, reservation_create, return_buffer
from tests.factories import BookingFactory, ClientFactory
from tests.fleet.conftest import make_car, moment

pytestmark = pytest.mark.django_db


def reference(slots, *, planned_minutes, exclude_booking=None) -> set[str]:
    """Slot by slot: some loaner that may go out (reservable, insured and inspected through the day the last slot's
    car is back) is held by no reservation overlapping the work plus the return buffer."""
    if not slots:
        return set()
    extra = timedelta(minutes=planned_minutes) + return_buffer(Reservation.Kind.LOANER)
    last_day = (max(s.starts_at for s in slots) + timedelta(minutes=planned_minutes)).date()
    cars = [
        car
        for car in FleetCar.objects.filter(use=FleetCar.Use.LOANER).exclude(state__in=FleetCar.UNRESERVABLE)
        if car.insurance_until >= last_day and (car.inspection_until is None or car.inspection_until >= last_day)
    ]
    held = Reservation.objects.holding()
    if exclude_booking is not None:
        held = held.exclude(booking=exclude_booking)
    held = list(held.values_list("car_id", "starts_at", "free_from"))
    keys = set()
    for slot in slots:
        until = slot.starts_at + extra
        if any(
            all(not (car_id == car.pk and start < until and free > slot.starts_at) for car_id, start, free in held)
            for car in cars
        ):
            keys.add(slot.key)
    return keys


def portable(*args, **kwargs):
    real = selectors.connection
    selectors.connection = types.SimpleNamespace(vendor="sqlite")
    try:
        return selectors.free_loaner_slot_keys(*args, **kwargs)
    finally:
        selectors.connection = real


@pytest.fixture
def tricky(day, area, petrov, car_owner):
    buffer = return_buffer(Reservation.Kind.LOANER)
    first, second = make_car(), make_car()
    broken, lapsing = make_car(), make_car()
    FleetCar.objects.filter(pk=broken.pk).update(state=FleetCar.State.IN_MAINTENANCE)
    FleetCar.objects.filter(pk=lapsing.pk).update(insurance_until=day - timedelta(days=1))
    client = ClientFactory()
    # `first` is free again exactly at 11:00 (due back 10:00 plus the buffer) and taken from 15:00
    reservation_create(by=None, car=first, client=client, starts_at=moment(day, 8), ends_at=moment(day, 11) - buffer)
    reservation_create(by=None, car=first, client=client, starts_at=moment(day, 15), ends_at=moment(day, 19))
    # `second` is held all day by the loaner of a visit (left out when that visit is moved), and a cancelled one
    booking = BookingFactory(client=car_owner, area=area, advisor=petrov, starts_at=moment(day, 8))
    reservation_create(
        by=None, car=second, client=car_owner, starts_at=moment(day, 8), ends_at=moment(day, 19), booking=booking
    )
    # a cancelled one in `first`'s free hours holds nothing
    cancelled = reservation_create(
        by=None, car=first, client=client, starts_at=moment(day, 11, 30), ends_at=moment(day, 12, 30)
    )
    reservation_cancel(reservation=cancelled, by=None, reason="передумал")
    return types.SimpleNamespace(booking=booking, first=first, second=second)


@pytest.mark.parametrize("minutes", [60, 180, 600])
@pytest.mark.parametrize("moved", [False, True])
def test_loaner_keys_answer_as_the_definition_on_a_tricky_day(tricky, day, area, minutes, moved):
    slots = free_slots(day=day, area=area, planned_minutes=60, not_before=moment(day, 0))
    kwargs = {"planned_minutes": minutes, "exclude_booking": tricky.booking if moved else None}
    expected = reference(slots, **kwargs)
    assert selectors.free_loaner_slot_keys(slots, **kwargs) == expected
    assert portable(slots, **kwargs) == expected
    if not moved and minutes < 600:
        assert 0 < len(expected) < len(slots)  # some slots with a loaner, some without: the comparison says something


def test_the_edges_of_a_held_loaner(tricky, day, area, petrov):
    slots = [s for s in free_slots(day=day, area=area, planned_minutes=60) if s.advisor_id == petrov.pk]
    keys = selectors.free_loaner_slot_keys(slots, planned_minutes=60)
    starts = {s.starts_at for s in slots if s.key in keys}
    buffer = return_buffer(Reservation.Kind.LOANER)
    assert moment(day, 10, 30) not in starts and moment(day, 11) in starts  # free again exactly at 11:00
    last = moment(day, 15) - timedelta(hours=1) - buffer  # the work and the buffer end exactly at 15:00
    assert last in starts and last + timedelta(minutes=30) not in starts
