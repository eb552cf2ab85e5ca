"""A tow order marked delivered from several places at once (a double click, the API retrying, a colleague), on
PostgreSQL with real threads: one booking."""

import threading

import pytest
from django.db import connections

from bookings.models import Booking
from reception.models import TowOrder
from reception.services.tow import tow_order_deliver
from tests.factories import UserFactory
from tests.reception.conftest import put_in, take_order

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_five_deliveries_at_once_make_one_booking(car_owner, contractor, diagnostics, petrov, noon):
    order = put_in(take_order(by=None, client=car_owner), TowOrder.Status.ON_THE_WAY, contractor=contractor)
    managers = [UserFactory(username=f"desk{n}") for n in range(5)]
    barrier = threading.Barrier(5)
    outcomes: list[object] = []
    lock = threading.Lock()

    def attempt(manager):
        try:
            barrier.wait()
            result = tow_order_deliver(order=order, by=manager).booking_id
        except Exception as exc:  # noqa: BLE001 - any other outcome fails the test below, with its name
            result = repr(exc)
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt, args=(m,)) for m in managers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    booking = Booking.objects.get()
    assert outcomes == [booking.pk] * 5
    assert TowOrder.objects.get().transitions.filter(to_status="delivered").count() == 1
