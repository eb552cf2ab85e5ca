from decimal import Decimal

import pytest
from django.utils import timezone

from bookings.models import Booking
from reception.models import TowContractor, TowOrder
from reception.services.tow import tow_contractor_create, tow_order_create
from tests.bookings.conftest import area, car_owner, day, moment, petrov, working_day  # noqa: F401 - shared fixtures
from tests.factories import BookingFactory, ServiceTypeFactory

__all__ = ["area", "car_owner", "day", "moment", "petrov", "working_day"]


@pytest.fixture
def diagnostics(area):
    """The work a towed-in car is booked for by default (bookings' own service type, as seed_workshop names it)."""
    return ServiceTypeFactory(name="Диагностика", code="diagnostics", area=area, standard_minutes=60)


@pytest.fixture
def contractor(db) -> TowContractor:
    return tow_contractor_create(
        by=None, name="Эвакуатор-24", phones=["8 (495) 123-45-67"], call_out_rate=Decimal("3500"), rate_per_km=50
    )


@pytest.fixture
def noon(travel, day):
    """Noon of a working day: the workshop is open and today's board is that day's."""
    travel(moment(day, 12))
    return timezone.now()


def take_order(*, by, client, **extra) -> TowOrder:
    fields = {"pickup_address": "МКАД, 41-й км", "landmark": "у заправки Лукойл", "phone_on_site": "89123456789"}
    return tow_order_create(by=by, client=client, **{**fields, **extra})


def put_in(order: TowOrder, status: str, *, contractor=None, booking: Booking | None = None) -> TowOrder:
    """Write a status directly (for tests of what may follow it), with what the database asks of that status."""
    fields = {"status": status}
    if status not in ("new", "cancelled"):
        fields["contractor"] = contractor
    if status in ("cancelled", "failed"):
        fields["reason"] = "так вышло"
    if status == "delivered":
        fields["booking"] = booking
    TowOrder.objects.filter(pk=order.pk).update(**fields)
    order.refresh_from_db()
    return order


def direct_booking(client, area, advisor, starts_at) -> Booking:
    """A visit written directly, past the services' rules (tests/reception/test_tow_services.py calls it)."""
    return BookingFactory(client=client, area=area, advisor=advisor, starts_at=starts_at)
