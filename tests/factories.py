"""Factories for every model, in one place. Phones are made E.164 and unique; VINs and plates valid."""

import random
import string

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.models import User
from accounts.roles import Role
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
