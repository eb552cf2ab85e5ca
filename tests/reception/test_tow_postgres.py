"""A tow order marked delivered from several places at once (a double click, the API retrying, a colleague), on
PostgreSQL with real threads: one booking."""

import pytest

from bookings.models import Booking
from reception.models import TowOrder
from reception.services.tow import tow_order_deliver
from tests.concurrency import run_at_once
from tests.factories import UserFactory
from tests.reception.conftest import put_in, take_order

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_five_deliveries_at_once_make_one_booking(car_owner, contractor, diagnostics, petrov, noon):
    order = put_in(take_order(by=None, client=car_owner), TowOrder.Status.ON_THE_WAY, contractor=contractor)
    managers = [UserFactory(username=f"desk{n}") for n in range(5)]

    def attempt(n: int) -> int:
        return tow_order_deliver(order=order, by=managers[n]).booking_id

    outcomes, errors = run_at_once(len(managers), attempt)

    assert errors == []
    booking = Booking.objects.get()
    assert outcomes == [booking.pk] * 5
    assert TowOrder.objects.get().transitions.filter(to_status="delivered").count() == 1
