from datetime import date, timedelta

import pytest
from django.utils import timezone

from clientdesk.calendar import local_date
from fleet.models import FleetCar
from fleet.services.cars import car_create
from tests.bookings.conftest import area, car_owner, day, diag, moment, petrov, sidorov, to2, working_day  # noqa: F401

PLATES = iter(f"А{n:03d}ВС77" for n in range(100, 999))


def far() -> date:
    return local_date(timezone.now()) + timedelta(days=365)


def make_car(*, use=FleetCar.Use.LOANER, **fields) -> FleetCar:
    values = {
        "plate": next(PLATES),
        "make": "Kia",
        "model": "Rio" if use == FleetCar.Use.LOANER else "K5",
        "use": use,
        "mileage_km": 12000,
        "fuel_percent": 80,
        "insurance_until": far(),
        "inspection_until": far(),
    }
    return car_create(by=None, **(values | fields))


@pytest.fixture
def loaner(db):
    return make_car()


@pytest.fixture
def demo(db):
    return make_car(use=FleetCar.Use.DEMO, make="Haval", model="Jolion")


@pytest.fixture
def licence():
    return {"licence_number": "77 12 345678", "licence_valid_until": far()}


__all__ = ["moment", "working_day"]
