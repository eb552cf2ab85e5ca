"""The last loaner under contention, on PostgreSQL with real threads; and the exclusion constraint by itself."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction

from fleet.models import Reservation
from fleet.services.reservations import CarUnavailable, reservation_create
from tests.concurrency import run_at_once
from tests.factories import ClientFactory, UserFactory
from tests.fleet.conftest import make_car, moment

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_twenty_managers_reserving_the_last_loaner_get_one_reservation(day):
    car = make_car()
    managers = [UserFactory(username=f"racer{n}") for n in range(20)]
    clients = [ClientFactory() for _ in range(20)]

    def attempt(n: int) -> str:
        try:
            reservation_create(
                by=managers[n], car=car, client=clients[n], starts_at=moment(day, 10), ends_at=moment(day, 12)
            )
        except CarUnavailable:
            return "refused"
        return "reserved"

    outcomes, errors = run_at_once(20, attempt)

    assert errors == []
    assert sorted(outcomes) == ["refused"] * 19 + ["reserved"]
    assert Reservation.objects.filter(car=car).count() == 1


def test_the_exclusion_constraint_itself_refuses_an_overlap_but_not_a_cancelled_one(day):
    car, client = make_car(), ClientFactory()
    start = moment(day, 10)
    fields = dict(car=car, client=client, starts_at=start, ends_at=start + timedelta(hours=2))
    Reservation.objects.create(free_from=start + timedelta(hours=3), **fields)
    with pytest.raises(IntegrityError, match="reservation_car_no_overlap"), transaction.atomic():
        Reservation.objects.create(free_from=start + timedelta(hours=3), **fields)
    Reservation.objects.create(
        free_from=start + timedelta(hours=3), status="cancelled", cancel_reason="передумал", **fields
    )
    # right after the buffer the car is free again
    later = start + timedelta(hours=3)
    Reservation.objects.create(
        car=car,
        client=client,
        starts_at=later,
        ends_at=later + timedelta(hours=1),
        free_from=later + timedelta(hours=1),
    )


def test_the_constraint_refusal_becomes_a_clear_conflict(day, monkeypatch):
    """A writer that raced past the Python check meets the constraint and gets CarUnavailable, not a 500."""
    from fleet.services import reservations

    car = make_car()
    reservation_create(by=None, car=car, client=ClientFactory(), starts_at=moment(day, 10), ends_at=moment(day, 12))
    monkeypatch.setattr(reservations, "_clashes", lambda *a, **k: False)
    with pytest.raises(CarUnavailable, match="a moment ago"):
        reservation_create(by=None, car=car, client=ClientFactory(), starts_at=moment(day, 11), ends_at=moment(day, 12))
