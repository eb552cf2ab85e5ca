"""The documents' forms link a paper to a client, a car, a delivery, a booking (and a registry to its documents) only
among the records their user may see, as the API's inputs do: a hidden record answers as one that is not there, so a
form can neither attach nor probe it."""

import pytest
from django.urls import reverse

from accounts.roles import ROLE_CAPABILITIES, Capability, Role
from bookings.models import Booking
from clients.models import Client
from documents.forms import RegistryCreateForm
from documents.models import Correspondence, Document
from tests.documents.conftest import signed_doc
from tests.factories import BookingFactory

# A desk that keeps the paper but, by a narrower rule, reads neither the clients' base nor the workshop's bookings.
PAPER_ONLY = frozenset({Capability.USE_PAGES, Capability.VIEW_DOCUMENTS, Capability.EDIT_DOCUMENTS})


@pytest.fixture
def booking(buyer, car, head) -> Booking:
    return BookingFactory(client=buyer, vehicle=car, advisor=head)  # tomorrow


@pytest.fixture
def links(buyer, car, delivery, booking) -> dict:
    return {"client": buyer.pk, "vehicle": car.pk, "delivery": delivery.pk, "booking": booking.pk}


@pytest.fixture
def paper_only(monkeypatch):
    """Managers narrowed to the paper (set before they sign in: a user's capabilities are read once)."""
    monkeypatch.setitem(ROLE_CAPABILITIES, Role.MANAGER, PAPER_ONLY)


def _errors(response, field) -> list[str]:
    return list(response.context["form"].errors.get(field, []))


def test_registering_a_document_links_only_records_the_user_may_see(paper_only, as_manager, links):
    body = {"kind": "power_of_attorney", "issued_on": "2026-11-20", "start": "signed"}
    missing = Client.objects.order_by("-pk").first().pk + 1000
    before = Document.objects.count()  # the delivery's three expected papers
    unknown = _errors(as_manager.post(reverse("documents:create"), {**body, "client": missing}), "client")
    for field, pk in links.items():
        response = as_manager.post(reverse("documents:create"), {**body, field: pk})
        assert response.status_code == 400, field
        # word for word the answer to an id that is not there
        assert _errors(response, field) == unknown, field
    assert Document.objects.count() == before


def test_correcting_a_document_links_only_records_the_user_may_see(manager, links, paper_only, as_manager):
    doc = signed_doc(by=manager, number="1")
    body = {"kind": "handover_act", "number": "1", "issued_on": "2026-11-02"}
    for field, pk in links.items():
        response = as_manager.post(reverse("documents:edit", args=[doc.pk]), {**body, field: pk})
        assert response.status_code == 400 and _errors(response, field), field
    doc.refresh_from_db()
    assert (doc.client, doc.vehicle, doc.delivery, doc.booking) == (None, None, None, None)


def test_the_same_links_go_through_for_a_user_who_may_see_them(as_manager, links, booking):
    body = {"kind": "power_of_attorney", "issued_on": "2026-11-20", "start": "signed"}
    response = as_manager.post(reverse("documents:create"), {**body, **links})
    assert response.status_code == 302
    assert Document.objects.get(kind="power_of_attorney").booking == booking


def test_the_mail_register_names_only_a_client_the_user_may_see(paper_only, as_manager, buyer):
    body = {"direction": "in", "kind": "letter", "dated_on": "2026-11-02", "sender": "А", "recipient": "Б"}
    response = as_manager.post(reverse("documents:mail-create"), {**body, "subject": "Письмо", "client": buyer.pk})
    assert response.status_code == 400 and _errors(response, "client")
    assert not Correspondence.objects.exists()


def test_a_registry_takes_only_documents_the_user_may_see(manager, legal):
    # given a paper, and a user who (narrowed to the clients' base) may not read the documents
    doc = signed_doc(by=manager)
    can = legal.has_capability
    legal.has_capability = lambda capability: capability != Capability.VIEW_DOCUMENTS and can(capability)
    data = {"destination": "accounting", "documents": [doc.pk]}
    # when / then: the document is not one of the choices
    assert "documents" in RegistryCreateForm(data, user=legal).errors
    assert RegistryCreateForm(data, user=manager).is_valid()
