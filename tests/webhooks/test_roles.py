"""The webhooks' API by role: endpoints and deliveries for the head (who manages users and their keys), the change
feed for whoever may see clients; anonymous refused; refused writes change nothing; every route in the matrix."""

import pytest
from django.test import Client as DjangoTestClient
from django.urls import resolve, reverse
from rest_framework.test import APIClient

from clients.services.clients import client_create
from tests.accounts.test_role_matrix import ROLES, all_routes
from webhooks.models import Delivery, Endpoint
from webhooks.services import endpoint_create

pytestmark = pytest.mark.django_db

MANAGE = {"head"}
QUERIES = 5  # the session, its user, the endpoints, the latest deliveries, their attempts
FEED = set(ROLES)  # every role may see clients and use the API today


@pytest.fixture
def o(integration, manager):
    endpoint = endpoint_create(by=None, owner=integration, url="http://127.0.0.1:9/hook")
    client_create(by=manager, name="Иванов Иван")
    return {"endpoint": endpoint, "delivery": Delivery.objects.get()}


def api_matrix(o):
    return [
        ("/api/v1/webhook-endpoints/", MANAGE),
        (f"/api/v1/webhook-endpoints/{o['endpoint'].pk}/", MANAGE),
        ("/api/v1/webhook-deliveries/", MANAGE),
        (f"/api/v1/webhook-deliveries/{o['delivery'].pk}/", MANAGE),
        ("/api/v1/changes/", FEED),
    ]


POST_ONLY = {
    "api/v1/webhook-endpoints/(?P<pk>[^/.]+)/rotate-secret/$",
    "api/v1/webhook-deliveries/(?P<pk>[^/.]+)/replay/$",
    "webhooks/deliveries/<int:pk>/replay/",
    "webhooks/endpoints/<int:pk>/enable/",
}


def page_matrix(o):
    return [(reverse("webhooks:list"), MANAGE), (reverse("webhooks:list") + "?status=pending&endpoint=1", MANAGE)]


def logged_in(user) -> DjangoTestClient:
    web = DjangoTestClient()
    web.force_login(user)
    return web


def test_anonymous_is_refused(o):
    api, web = APIClient(), DjangoTestClient()
    for url, _allowed in api_matrix(o):
        assert api.get(url).status_code in (401, 403), url
    for url, _allowed in page_matrix(o):
        response = web.get(url)
        assert response.status_code == 302 and "login" in response["Location"], url


@pytest.mark.parametrize("role", ROLES)
def test_pages_by_role(users, o, role):
    web = logged_in(users[role])
    for url, allowed in page_matrix(o):
        assert web.get(url).status_code == (200 if role in allowed else 403), (role, url)


@pytest.mark.parametrize("role", ROLES)
def test_api_by_role(users, o, role):
    api = APIClient()
    api.force_authenticate(users[role])
    for url, allowed in api_matrix(o):
        assert api.get(url).status_code == (200 if role in allowed else 403), (role, url)


@pytest.mark.parametrize("role", [r for r in ROLES if r not in MANAGE])
def test_refused_writes_change_nothing(users, o, role, integration):
    api = APIClient()
    api.force_authenticate(users[role])
    endpoint, delivery = o["endpoint"], o["delivery"]
    secret = endpoint.secret
    body = {"owner": integration.pk, "url": "http://127.0.0.1:9/other"}
    assert api.post("/api/v1/webhook-endpoints/", body, format="json").status_code == 403
    assert (
        api.patch(f"/api/v1/webhook-endpoints/{endpoint.pk}/", {"url": body["url"]}, format="json").status_code == 403
    )
    assert api.post(f"/api/v1/webhook-endpoints/{endpoint.pk}/rotate-secret/").status_code == 403
    Delivery.objects.filter(pk=delivery.pk).update(status="failed")
    assert api.post(f"/api/v1/webhook-deliveries/{delivery.pk}/replay/").status_code == 403
    Endpoint.objects.filter(pk=endpoint.pk).update(is_active=False)
    if role != "integration":  # integration users never use pages: refused before anything else
        web = logged_in(users[role])
        assert web.post(reverse("webhooks:delivery-replay", args=[delivery.pk])).status_code == 403
        assert web.post(reverse("webhooks:endpoint-enable", args=[endpoint.pk])).status_code == 403
    assert not Endpoint.objects.get().is_active
    endpoint.refresh_from_db()
    assert (Endpoint.objects.count(), endpoint.url, endpoint.secret) == (1, "http://127.0.0.1:9/hook", secret)
    assert Delivery.objects.get().status == "failed"


def test_the_head_rotates_a_secret(users, o):
    api = APIClient()
    api.force_authenticate(users["head"])
    answer = api.post(f"/api/v1/webhook-endpoints/{o['endpoint'].pk}/rotate-secret/")
    assert answer.status_code == 200 and answer.json()["secret"] != o["endpoint"].secret
    rotated = o["endpoint"].history.latest("history_id")
    assert (rotated.history_user, rotated.history_change_reason) == (users["head"], "secret rotated")
    assert not hasattr(rotated, "secret")  # the history never holds a secret


def test_the_head_replays_and_switches_on_from_the_page(users, o):
    web = logged_in(users["head"])
    Delivery.objects.filter(pk=o["delivery"].pk).update(status="failed")
    Endpoint.objects.filter(pk=o["endpoint"].pk).update(is_active=False, disabled_reason="Отключено")
    page = web.get(reverse("webhooks:list")).content.decode()
    assert "Отключено" in page and o["endpoint"].url in page
    assert web.post(reverse("webhooks:delivery-replay", args=[o["delivery"].pk])).status_code == 302
    assert web.post(reverse("webhooks:endpoint-enable", args=[o["endpoint"].pk])).status_code == 302
    assert Delivery.objects.get().status == "pending"
    assert Endpoint.objects.get().is_active


@pytest.mark.parametrize("count", [2, 20])
def test_the_page_query_count_is_pinned(users, o, manager, count, django_assert_num_queries):
    for n in range(count):
        client_create(by=manager, name=f"Клиент {n}")
    web = logged_in(users["head"])
    web.get(reverse("webhooks:list"))
    with django_assert_num_queries(QUERIES):
        assert web.get(reverse("webhooks:list")).status_code == 200


def test_every_webhooks_route_is_in_the_matrix(o):
    covered = {resolve(url.split("?")[0]).route for url, _ in api_matrix(o)}
    covered |= {resolve(url.split("?")[0]).route for url, _ in page_matrix(o)}
    mine = ("webhook-endpoints", "webhook-deliveries", "changes")
    for route in (r.replace("/^", "/", 1) for r in all_routes()):
        if route.startswith("webhooks/") or any(route.startswith(f"api/v1/{name}") for name in mine):
            assert route in covered or route in POST_ONLY or "\\.(?P<format>" in route, route
