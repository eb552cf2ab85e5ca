"""Who may open what in claims: every page and endpoint, anonymous and each role; refused writes change nothing."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as DjangoTestClient
from django.urls import resolve, reverse
from rest_framework.test import APIClient

from claims import services
from claims.models import Claim, ClaimCategory
from tests.accounts.test_role_matrix import ROLES, all_routes

pytestmark = pytest.mark.django_db

DESK = {"manager", "head"}
SEES = {"manager", "head", "workshop_mgmt"}  # the claim is escalated to the workshop's management
PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def objects(users, make_claim, settings, tmp_path, complaint_call):
    settings.MEDIA_ROOT = tmp_path
    claim = services.claim_escalate(claim=make_claim(), by=users["manager"], to="workshop_mgmt")
    attachment = services.claim_attach(claim=claim, by=users["manager"], file=SimpleUploadedFile("a.pdf", PDF_BYTES))
    return {
        "claim": claim,
        "attachment": attachment,
        "category": ClaimCategory.objects.get(code="refund"),
        "call": complaint_call,
    }


def page_matrix(o):
    """(url, roles that get 200, roles that get 404 rather than 403: they may use the page but not see the row)"""
    claim = o["claim"]
    return [
        (reverse("claims:list"), DESK | {"workshop_mgmt", "sales_mgmt"}, set()),
        (reverse("claims:create"), DESK, set()),
        (reverse("claims:create") + f"?client={claim.client_id}", DESK, set()),
        (reverse("claims:create") + f"?call={o['call'].pk}", DESK, set()),
        (reverse("claims:detail", args=[claim.pk]), SEES, {"sales_mgmt"}),
        (reverse("claims:print", args=[claim.pk, "card"]), SEES, {"sales_mgmt"}),
        (reverse("claims:pdf", args=[claim.pk, "card"]), SEES, {"sales_mgmt"}),
        (reverse("claims:attachment", args=[o["attachment"].pk]), SEES, {"sales_mgmt"}),
        (reverse("claims:category-list"), {"head"}, set()),
        (reverse("claims:category-create"), {"head"}, set()),
        (reverse("claims:category-edit", args=[o["category"].pk]), {"head"}, set()),
    ]


def api_matrix(o):
    claim = o["claim"]
    return [
        ("/api/v1/claims/", DESK | {"workshop_mgmt", "sales_mgmt", "integration"}, set()),
        (f"/api/v1/claims/{claim.pk}/", SEES | {"integration"}, {"sales_mgmt"}),
        ("/api/v1/claim-categories/", DESK | {"workshop_mgmt", "sales_mgmt", "integration"}, set()),
        (
            f"/api/v1/claim-categories/{o['category'].pk}/",
            DESK | {"workshop_mgmt", "sales_mgmt", "integration"},
            set(),
        ),
    ]


def logged_in(user):
    web = DjangoTestClient()
    web.force_login(user)
    return web


def test_anonymous_is_sent_to_sign_in(objects):
    web = DjangoTestClient()
    for url, _allowed, _hidden in page_matrix(objects):
        response = web.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login")), url
    response = web.post(reverse("claims:step", args=[objects["claim"].pk, "close"]))
    assert response.status_code == 302
    api = APIClient()
    for url, _allowed, _hidden in api_matrix(objects):
        assert api.get(url).status_code in (401, 403), url


@pytest.mark.parametrize("role", ROLES)
def test_pages_by_role(users, objects, role):
    web = logged_in(users[role])
    for url, allowed, hidden in page_matrix(objects):
        expected = 200 if role in allowed else 404 if role in hidden else 403
        assert web.get(url).status_code == expected, (role, url)


@pytest.mark.parametrize("role", ROLES)
def test_api_by_role(users, objects, role):
    api = APIClient()
    api.force_authenticate(users[role])
    for url, allowed, hidden in api_matrix(objects):
        expected = 200 if role in allowed else 404 if role in hidden else 403
        assert api.get(url).status_code == expected, (role, url)


# Who decides the claim escalated to the workshop's management: the head and that management.
DECIDERS = {"head", "workshop_mgmt"}
DECISION = {"outcome": "refused", "decision_text": "Нет оснований"}


@pytest.mark.parametrize("role", ROLES)
def test_steps_by_role_and_refused_ones_change_nothing(users, objects, role):
    claim = objects["claim"]
    web = logged_in(users[role])
    before = (claim.status, claim.transitions.count())
    response = web.post(reverse("claims:step", args=[claim.pk, "decide"]), DECISION)
    if role in DECIDERS:
        assert response.status_code == 302
        claim.refresh_from_db()
        assert claim.status == Claim.Status.DECIDED
        return
    assert response.status_code in (403, 404), role
    response = web.post(reverse("claims:step", args=[claim.pk, "reopen"]), {"reason": "x"})
    assert response.status_code in (403, 404), role
    response = web.post(reverse("claims:category-create"), {"code": "x", "name": "X", "term_days": 5, "order": 1})
    assert response.status_code == 403
    claim.refresh_from_db()
    assert (claim.status, claim.transitions.count()) == before
    assert not ClaimCategory.objects.filter(code="x").exists()


@pytest.mark.parametrize("role", ["advisor", "transport_head", "legal", "workshop_mgmt", "sales_mgmt", "integration"])
def test_who_does_not_work_claims_registers_none(users, objects, role, car_client):
    web = logged_in(users[role])
    data = {"client": car_client.pk, "kind": "oral", "channel": "phone", "client_words": "x", "demand": "y"}
    assert web.post(reverse("claims:create"), data).status_code == 403
    api = APIClient()
    api.force_authenticate(users[role])
    data = {"client": car_client.pk, "category": "other", "client_words": "x", "demand": "y"}
    assert api.post("/api/v1/claims/", data, format="json").status_code == 403
    assert Claim.objects.count() == 1


def test_every_claims_route_is_in_the_matrix(objects):
    covered = {resolve(url.split("?")[0]).route for url, _a, _h in page_matrix(objects)}
    post_only = {"claims/<int:pk>/<slug:step>/"}  # the card's steps: tested above
    for route in all_routes():
        if route.startswith("claims/") and route not in post_only:
            assert route in covered, f"{route} is not in the claims role matrix"
