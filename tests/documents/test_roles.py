"""Who may open what among the paper's pages and endpoints: anonymous and each role; refused writes change nothing."""

from datetime import date

import pytest
from django.test import Client as DjangoTestClient
from django.urls import resolve, reverse
from rest_framework.test import APIClient

from documents.models import Correspondence, Document, Registry
from documents.services import document_register
from documents.services.mail import mail_register
from documents.services.registries import registry_create
from tests.accounts.test_role_matrix import ROLES, all_routes
from tests.factories import VehicleFactory

pytestmark = pytest.mark.django_db

VIEW = {"manager", "head", "legal"}
EDIT = {"manager", "head"}


@pytest.fixture
def objects(users):
    vehicle = VehicleFactory()
    doc = document_register(
        by=users["manager"], kind="sale_contract", issued_on=date(2026, 11, 2), vehicle=vehicle, state="signed"
    )
    other = document_register(by=users["manager"], kind="waybill", issued_on=date(2026, 11, 2), state="signed")
    return {
        "doc": doc,
        "other": other,
        "draft": document_register(
            by=users["manager"], kind="contract", issued_on=date(2026, 11, 2), needs_approval=True
        ),
        "registry": registry_create(by=users["manager"], destination="accounting", documents=[doc]),
        "mail": mail_register(
            by=users["manager"], dated_on=date(2026, 11, 2), sender="ООО Ромашка", recipient="Дилер", subject="Счёт"
        ),
    }


def page_matrix(o):
    return [
        (reverse("documents:list") + "?q=Lada", VIEW),
        (reverse("documents:create"), EDIT),
        (reverse("documents:detail", args=[o["doc"].pk]), VIEW),
        (reverse("documents:edit", args=[o["doc"].pk]), EDIT),
        (reverse("documents:contract-list"), VIEW),
        (reverse("documents:registry-list"), VIEW),
        (reverse("documents:registry-create") + "?destination=archive", EDIT),
        (reverse("documents:registry-detail", args=[o["registry"].pk]), VIEW),
        (reverse("documents:registry-print", args=[o["registry"].pk]), VIEW),
        (reverse("documents:registry-pdf", args=[o["registry"].pk]), VIEW),
        (reverse("documents:mail-list"), VIEW),
        (reverse("documents:mail-create"), EDIT),
        (reverse("documents:mail-edit", args=[o["mail"].pk]), EDIT),
    ]


def post_matrix(o):
    """POST-only actions: (url, data, roles allowed through the door)."""
    return [
        (reverse("documents:step", args=[o["other"].pk, "at_accounting"]), {}, EDIT),
        (reverse("documents:registry-confirm", args=[o["registry"].pk]), {"received_name": "Бухгалтер"}, EDIT),
        (reverse("documents:registry-cancel", args=[o["registry"].pk]), {"reason": "ошибка"}, EDIT),
        (reverse("documents:mail-hand-over", args=[o["mail"].pk]), {}, EDIT),
    ]


def api_matrix(o):
    return [
        ("/api/v1/documents/", VIEW | {"integration"}),
        ("/api/v1/documents/?q=Lada", VIEW | {"integration"}),
        (f"/api/v1/documents/{o['doc'].pk}/", VIEW | {"integration"}),
        ("/api/v1/document-registries/", VIEW | {"integration"}),
        (f"/api/v1/document-registries/{o['registry'].pk}/", VIEW | {"integration"}),
    ]


def logged_in(user):
    web = DjangoTestClient()
    web.force_login(user)
    return web


def test_anonymous_is_sent_to_sign_in(objects):
    web = DjangoTestClient()
    for url, _allowed in page_matrix(objects):
        response = web.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login")), url
    for url, data, _allowed in post_matrix(objects):
        response = web.post(url, data)
        assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login")), url
    api = APIClient()
    for url, _allowed in api_matrix(objects):
        assert api.get(url).status_code in (401, 403), url


@pytest.mark.parametrize("role", ROLES)
def test_pages_by_role(users, objects, role):
    web = logged_in(users[role])
    for url, allowed in page_matrix(objects):
        assert web.get(url).status_code == (200 if role in allowed else 403), (role, url)


@pytest.mark.parametrize("role", ROLES)
def test_api_by_role(users, objects, role):
    api = APIClient()
    api.force_authenticate(users[role])
    for url, allowed in api_matrix(objects):
        assert api.get(url).status_code == (200 if role in allowed else 403), (role, url)


def _state(o):
    return (
        Document.objects.get(pk=o["other"].pk).state,
        Registry.objects.get(pk=o["registry"].pk).state,
        Correspondence.objects.get(pk=o["mail"].pk).handed_over_at,
        Document.objects.count(),
    )


@pytest.mark.parametrize("role", [r for r in ROLES if r not in EDIT])
def test_refused_page_writes_change_nothing(users, objects, role):
    web = logged_in(users[role])
    before = _state(objects)
    for url, data, _allowed in post_matrix(objects):
        assert web.post(url, data).status_code == 403, (role, url)
    response = web.post(reverse("documents:create"), {"kind": "other", "issued_on": "2026-11-02", "start": "signed"})
    assert response.status_code == 403
    assert _state(objects) == before


@pytest.mark.parametrize("role", [r for r in ROLES if r not in EDIT | {"integration"}])
def test_refused_api_writes_change_nothing(users, objects, role):
    api = APIClient()
    api.force_authenticate(users[role])
    before = _state(objects)
    response = api.post("/api/v1/documents/", {"kind": "other", "issued_on": "2026-11-02"}, format="json")
    assert response.status_code == 403
    response = api.post(f"/api/v1/documents/{objects['other'].pk}/transition/", {"to": "lost", "comment": "x"})
    assert response.status_code == 403
    assert _state(objects) == before


def test_the_integration_pushes_documents_but_opens_no_page(users, objects):
    api = APIClient()
    api.force_authenticate(users["integration"])
    response = api.post("/api/v1/documents/", {"kind": "waybill", "issued_on": "2026-11-02", "dms_id": "W-1"})
    assert response.status_code == 201
    assert logged_in(users["integration"]).get(reverse("documents:list")).status_code == 403


def test_approve_is_the_heads_and_endorse_legals(users, objects):
    draft = objects["draft"]
    for role in ("manager", "legal"):
        response = logged_in(users[role]).post(reverse("documents:step", args=[draft.pk, "approved"]))
        assert response.status_code == 403, role
    assert logged_in(users["head"]).post(reverse("documents:step", args=[draft.pk, "approved"])).status_code == 302
    for role in ("manager", "head"):
        response = logged_in(users[role]).post(reverse("documents:step", args=[draft.pk, "endorsed"]))
        assert response.status_code == 403, role
    assert logged_in(users["legal"]).post(reverse("documents:step", args=[draft.pk, "endorsed"])).status_code == 302
    assert Document.objects.get(pk=draft.pk).state == "endorsed"


def test_every_documents_route_is_in_this_matrix(objects):
    covered = {resolve(url.split("?")[0]).route for url, _ in page_matrix(objects)}
    covered |= {resolve(url).route for url, _data, _allowed in post_matrix(objects)}
    routes = [route for route in all_routes() if route.startswith("documents/")]
    assert routes
    for route in routes:
        assert route in covered, f"{route} is not in the documents role matrix"
