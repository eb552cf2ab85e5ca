from datetime import date, timedelta

import pytest
from django.utils import timezone

from clients.models import Delivery, Vehicle
from clients.services.deliveries import delivery_record
from documents.models import Document
from documents.services import document_register
from tests.factories import PhoneFactory, VehicleFactory


@pytest.fixture
def buyer(db):
    phone = PhoneFactory(number="+79161234567", client__name="Соколов Андрей Петрович")
    return phone.client


@pytest.fixture
def car(buyer) -> Vehicle:
    return VehicleFactory(owner=buyer, vin="XTA21099012345678", plate="А123ВС77", make="Lada", model="Vesta")


@pytest.fixture
def delivery(buyer, car, manager, django_capture_on_commit_callbacks) -> Delivery:
    """A car handed over two weeks ago; its three papers are expected through the event, as after a commit."""
    with django_capture_on_commit_callbacks(execute=True):
        return delivery_record(by=manager, client=buyer, vehicle=car, delivered_at=timezone.now() - timedelta(days=14))


def signed_doc(*, by, kind=Document.Kind.HANDOVER_ACT, number="", **extra) -> Document:
    return document_register(by=by, kind=kind, issued_on=date(2026, 11, 2), number=number, state="signed", **extra)


def put_in(document: Document, state: str, **extra) -> Document:
    """Write a state directly (for tests of what may follow it)."""
    fields = {"state": state, **extra}
    if state == "archived" and "archive_box" not in extra:
        fields["archive_box"] = "К-1"
    Document.objects.filter(pk=document.pk).update(**fields)
    document.refresh_from_db()
    return document
