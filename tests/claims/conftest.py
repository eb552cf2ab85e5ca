import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.utils import timezone

from claims.models import ClaimCategory
from claims.services import claim_register
from tests.factories import CallFactory, ClientFactory, VehicleFactory


def add_default_categories() -> None:
    """The categories the migration adds (again, after a transactional test emptied the tables)."""
    importlib.import_module("claims.migrations.0002_default_categories").add_categories(apps, None)


@pytest.fixture
def categories(db) -> dict[str, ClaimCategory]:
    """The default categories, by code."""
    add_default_categories()
    return {c.code: c for c in ClaimCategory.objects.all()}


@pytest.fixture
def car_client(db):
    client = ClientFactory(name="Петров Иван Сергеевич")
    VehicleFactory(owner=client)
    return client


@pytest.fixture
def make_claim(manager, categories, car_client):
    def make(*, by=None, client=None, category="refund", **kwargs):
        client = client or car_client
        kwargs.setdefault("vehicle", client.vehicles.first())
        return claim_register(
            by=by or manager,
            client=client,
            category=ClaimCategory.objects.get(code=category),
            client_words=kwargs.pop("client_words", "После ремонта стучит подвеска"),
            demand=kwargs.pop("demand", "Вернуть деньги за ремонт"),
            **kwargs,
        )

    return make


@pytest.fixture
def complaint_call(manager, car_client):
    return CallFactory(
        client=car_client,
        manager=manager,
        purpose="complaint",
        notes="Клиент недоволен ремонтом: стук в подвеске",
        started_at=timezone.now() - timedelta(minutes=10),
    )


@pytest.fixture(autouse=True)
def week(db):
    """A Monday-to-Friday department, as the demo sets it up."""
    from datetime import time

    from clientdesk.models import WorkingHours

    for weekday in range(5):
        WorkingHours.objects.get_or_create(weekday=weekday, defaults={"opens": time(9), "closes": time(18)})
