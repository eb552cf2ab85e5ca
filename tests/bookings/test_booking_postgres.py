"""The advisor's last slot under contention, on PostgreSQL with real threads."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction

from bookings.models import Booking
from bookings.services.bookings import SlotUnavailable, booking_create
from tests.bookings.conftest import moment
from tests.concurrency import run_at_once
from tests.factories import BookingFactory, UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_twenty_managers_racing_for_the_last_slot_get_one_booking_and_nineteen_refusals(car_owner, petrov, to2, day):
    managers = [UserFactory(username=f"racer{n}") for n in range(20)]

    def attempt(n: int) -> str:
        try:
            booking_create(
                by=managers[n], client=car_owner, advisor=petrov, starts_at=moment(day, 10), service_types=[to2]
            )
        except SlotUnavailable as exc:
            return "refused" if exc.alternatives else "refused-without-alternatives"
        return "booked"

    outcomes, errors = run_at_once(len(managers), attempt)

    assert errors == []
    assert sorted(outcomes) == ["booked"] + ["refused"] * 19
    assert Booking.objects.filter(advisor=petrov).count() == 1


def test_the_exclusion_constraint_itself_refuses_an_overlap(car_owner, petrov, area, day):
    first = moment(day, 10)
    fields = dict(client=car_owner, area=area, advisor=petrov)
    BookingFactory(starts_at=first, **fields)
    with pytest.raises(IntegrityError, match="booking_advisor_no_overlap"), transaction.atomic():
        BookingFactory(starts_at=first + timedelta(minutes=15), **fields)
    # a cancelled booking does not hold the slot
    BookingFactory(starts_at=first + timedelta(hours=2), status="cancelled", **fields)
    BookingFactory(starts_at=first + timedelta(hours=2), **fields)
