"""Booking a test drive (2.1.12): a client or a new contact from the sales floor, a demo car for a time, the sales
manager who rides along, the route, and the client's driving licence checked (an expired one is refused)."""

from dataclasses import dataclass
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from clients.models import Client
from clients.services.clients import PhoneInput, client_create
from fleet.models import FleetCar, Reservation, TestDrive
from fleet.services.acts import licence_refusal
from fleet.services.reservations import reservation_create


@dataclass(frozen=True)
class NewContact:
    """Someone from the sales floor not on file yet: taken on as a client with the test drive."""

    name: str
    phone: str


@transaction.atomic
def test_drive_book(
    *,
    by: User | None,
    client: Client | NewContact,
    car: FleetCar,
    starts_at: datetime,
    ends_at: datetime,
    sales_manager: str,
    route: str,
    licence_number: str,
    licence_valid_until: date | None,
) -> TestDrive:
    """Reserve a demo car for a test drive; the licence must be valid through the day the car is due back."""
    errors = licence_refusal(licence_valid_until, number=licence_number, through=ends_at)
    if not sales_manager.strip():
        errors["sales_manager"] = _("Name the sales manager who goes along.")
    if not route.strip():
        errors["route"] = _("Describe the route.")
    if isinstance(client, NewContact) and not (client.name.strip() and client.phone.strip()):
        errors["client"] = _("Find the client, or give the new contact's name and phone.")
    if errors:
        raise ValidationError(errors)
    if isinstance(client, NewContact):
        client = client_create(by=by, name=client.name, phones=[PhoneInput(number=client.phone, is_primary=True)])
    reservation = reservation_create(
        by=by,
        car=car,
        client=client,
        starts_at=starts_at,
        ends_at=ends_at,
        kind=Reservation.Kind.TEST_DRIVE,
    )
    drive = TestDrive(
        reservation=reservation,
        sales_manager=sales_manager.strip()[:100],
        route=route.strip()[:300],
        licence_number=licence_number.strip().upper()[:20],
        licence_valid_until=licence_valid_until,
    )
    drive._history_user = by
    drive.save()
    return drive
