"""Factories for every model, in one place. Phones are made E.164 and unique; VINs and plates valid."""

import random
import string
from datetime import timedelta

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.models import User
from accounts.roles import Role
from bookings.models import Booking
from calls.models import Call
from clients.models import Client, ClientPhone, Vehicle

VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
PLATE_LETTERS = "АВЕКМНОРСТУХ"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Sequence(lambda n: f"Имя{n}")
    last_name = "Менеджерова"
    role = Role.MANAGER
    password = factory.PostGenerationMethodCall("set_password", "Secret-pass-123")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save()


class ClientFactory(DjangoModelFactory):
    class Meta:
        model = Client

    name = factory.Sequence(lambda n: f"Клиентов Клиент {n}")
    consent_personal_data = True
    consent_personal_data_at = factory.LazyFunction(timezone.now)


class PhoneFactory(DjangoModelFactory):
    class Meta:
        model = ClientPhone

    client = factory.SubFactory(ClientFactory)
    number = factory.Sequence(lambda n: f"+7916{n:07d}")
    is_primary = True


def random_vin(rng: random.Random | None = None) -> str:
    rng = rng or random
    return "".join(rng.choice(VIN_CHARS) for _ in range(17))


class VehicleFactory(DjangoModelFactory):
    class Meta:
        model = Vehicle

    owner = factory.SubFactory(ClientFactory)
    vin = factory.Sequence(lambda n: f"XTA{n:014d}")
    plate = factory.Sequence(lambda n: f"{PLATE_LETTERS[n % 12]}{n % 1000:03d}{PLATE_LETTERS[(n // 12) % 12]}В77")
    make = "Lada"
    model = "Vesta"
    year = 2021


class CallFactory(DjangoModelFactory):
    class Meta:
        model = Call

    direction = Call.Direction.INBOUND
    client = factory.SubFactory(ClientFactory)
    phone_number = "+79160000000"
    phone_e164 = "+79160000000"
    manager = factory.SubFactory(UserFactory)
    purpose = Call.Purpose.CONSULTATION
    outcome = Call.Outcome.RESOLVED


def client_with_phone(number: str, **kwargs) -> Client:
    client = ClientFactory(**kwargs)
    PhoneFactory(client=client, number=number)
    return client


def random_name(n: int = 8) -> str:
    return "".join(random.choice(string.ascii_lowercase) for _ in range(n))


# --- workshop -------------------------------------------------------------------------------------------------------


class ServiceAreaFactory(DjangoModelFactory):
    class Meta:
        model = "bookings.ServiceArea"
        django_get_or_create = ("code",)

    name = factory.Sequence(lambda n: f"Цех {n}")
    code = factory.Sequence(lambda n: f"area-{n}")
    daily_capacity_minutes = 8 * 60 * 4


class ServiceTypeFactory(DjangoModelFactory):
    class Meta:
        model = "bookings.ServiceType"

    name = factory.Sequence(lambda n: f"ТО-{n}")
    code = factory.Sequence(lambda n: f"type-{n}")
    area = factory.SubFactory(ServiceAreaFactory)
    standard_minutes = 90


class AdvisorProfileFactory(DjangoModelFactory):
    class Meta:
        model = "bookings.AdvisorProfile"

    user = factory.SubFactory(UserFactory, role=Role.ADVISOR, last_name="Мастеров")
    slot_minutes = 30


def advisor(**kwargs) -> User:
    return AdvisorProfileFactory(**kwargs).user


class AdvisorFactory(UserFactory):
    """An advisor: a user with the advisor's role and an AdvisorProfile (`profile__slot_minutes=60`)."""

    role = Role.ADVISOR
    last_name = "Мастеров"
    profile = factory.RelatedFactory(AdvisorProfileFactory, factory_related_name="user")


class BookingFactory(DjangoModelFactory):
    """A workshop visit written straight to the table, as the services would not (they refuse a time that has passed
    and an area over capacity). Tomorrow at this minute unless `starts_at` is given; a client (the car's owner when a
    vehicle is given), an area and an advisor made when not given; the advisor's slot half an hour from `starts_at`,
    an hour's work. A status comes with what the model ties to it, set by Booking.take_status: a cancellation's reason
    (`status_note`), the time it was confirmed or arrived (`status_at`, the booked time unless given); a column given
    outright wins (`BookingFactory(status="confirmed", confirmed_at=None)`)."""

    class Meta:
        model = Booking

    class Params:
        status_at = factory.SelfAttribute("starts_at")
        status_note = "передумал"

    vehicle = None
    client = factory.Maybe("vehicle", factory.SelfAttribute("vehicle.owner"), factory.SubFactory(ClientFactory))
    area = factory.SubFactory(ServiceAreaFactory)
    advisor = factory.SubFactory(AdvisorFactory)
    starts_at = factory.LazyFunction(lambda: timezone.now().replace(second=0, microsecond=0) + timedelta(days=1))
    advisor_until = factory.LazyAttribute(lambda booking: booking.starts_at + timedelta(minutes=30))
    planned_minutes = 60
    status = Booking.Status.SCHEDULED

    @classmethod
    def _adjust_kwargs(cls, **kwargs):
        # The columns Booking.take_status sets for the status, read off a blank booking; the ones passed are kept.
        taken = Booking()
        taken.take_status(kwargs["status"], at=kwargs["status_at"], note=kwargs["status_note"])
        for column in ("cancel_reason", "confirmed_at", "arrived_at"):
            kwargs.setdefault(column, getattr(taken, column))
        return kwargs
