"""Headers every answer carries (Content-Security-Policy, Permissions-Policy, no-store where personal data goes), the
proxy headers believed only from TRUSTED_PROXIES, and wrong API keys throttled per address."""

import json
import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client as DjangoTestClient
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import ApiKey
from accounts.services.users import api_key_create
from clientdesk.middleware import client_ip

pytestmark = pytest.mark.django_db

CSP = "Content-Security-Policy"


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()
    yield
    cache.clear()


def directives(response) -> dict[str, list[str]]:
    policy = response[CSP]
    return {part.split()[0]: part.split()[1:] for part in policy.split("; ")}


def assert_strict(response):
    policy = directives(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    for directive in ("script-src", "style-src-elem"):
        assert "'unsafe-inline'" not in policy[directive] and "'unsafe-eval'" not in policy[directive]
    # style attributes only (progress bars); never inline <style> elements or scripts
    assert policy["style-src-attr"] == ["'unsafe-inline'"]
    return policy


def test_every_kind_of_page_answers_with_the_policy(as_manager, manager, integration, head):
    _key, raw = api_key_create(user=integration, name="DMS", by=head)
    anonymous = DjangoTestClient()
    answers = {
        "sign-in": anonymous.get(reverse("accounts:login")),
        "password reset": anonymous.get(reverse("accounts:password-reset")),
        "page": as_manager.get(reverse("clients:search")),
        "not found": as_manager.get("/no/such/page/"),
        "admin sign-in": anonymous.get(reverse("admin:login")),
        "health": anonymous.get(reverse("health")),
        "api": APIClient(HTTP_AUTHORIZATION=f"Api-Key {raw}").get("/api/v1/clients/"),
        "api refused": APIClient().get("/api/v1/clients/"),
        "api docs": as_manager.get(reverse("api-docs")),
    }
    for name, response in answers.items():
        assert CSP in response, name
        assert_strict(response)
        assert "camera=()" in response["Permissions-Policy"], name


def test_pages_use_no_nonce_and_the_api_docs_page_uses_one_for_its_own_inline_code(as_manager):
    page = as_manager.get(reverse("clients:search"))
    assert "'nonce-" not in page[CSP]
    docs = as_manager.get(reverse("api-docs"))
    nonce = re.search(r"'nonce-([^']+)'", directives(docs)["script-src"][-1]).group(1)
    html = docs.content.decode()
    assert html.count(f'nonce="{nonce}"') == 2  # its one <style> and its one inline <script>
    assert len(re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*nonce=)", html)) == 0


def test_templates_have_no_inline_scripts_or_event_handlers():
    """Inline code would be refused by the policy: scripts live in static/js."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "templates"
    for path in root.rglob("*.html"):
        if path.parts[-2] == "drf_spectacular":
            continue
        text = path.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), path
        assert not re.search(r"\son[a-z]+\s*=|\shx-on", text), path
        assert not re.search(r"<style", text), path
        assert "javascript:" not in text, path


def test_api_answers_with_personal_data_are_never_stored_even_without_a_session(integration, head):
    _key, raw = api_key_create(user=integration, name="DMS", by=head)
    response = APIClient(HTTP_AUTHORIZATION=f"Api-Key {raw}").get("/api/v1/clients/")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "no-store" in APIClient().get("/api/v1/clients/")["Cache-Control"]


def test_signed_in_pages_are_never_stored(as_manager):
    assert "no-store" in as_manager.get(reverse("clients:search"))["Cache-Control"]


# --- X-Forwarded-* from the proxy only -----------------------------------------------------------------------------


@override_settings(SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"), TRUSTED_PROXIES=[])
def test_x_forwarded_proto_from_an_untrusted_peer_is_ignored():
    response = DjangoTestClient(REMOTE_ADDR="198.51.100.1", HTTP_X_FORWARDED_PROTO="https").get(reverse("health"))
    assert not response.wsgi_request.is_secure()
    assert "HTTP_X_FORWARDED_PROTO" not in response.wsgi_request.META


@override_settings(SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"), TRUSTED_PROXIES=["10.0.0.0/24"])
def test_x_forwarded_proto_and_for_from_the_trusted_proxy_count():
    web = DjangoTestClient(
        REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_PROTO="https", HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.4"
    )
    request = web.get(reverse("health")).wsgi_request
    assert request.is_secure()
    # the right-most address the proxy saw; the left part is whatever the client wrote
    assert request.META["REMOTE_ADDR"] == "198.51.100.4"
    assert request.META["PROXY_ADDR"] == "10.0.0.5"


@override_settings(TRUSTED_PROXIES=["10.0.0.1", "10.0.0.2"])
def test_a_chain_of_trusted_proxies_is_walked_and_garbage_stops_the_walk():
    request = (
        DjangoTestClient(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.4, 10.0.0.2").get("/").wsgi_request
    )
    assert request.META["REMOTE_ADDR"] == "198.51.100.4"
    request = DjangoTestClient(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="not-an-ip").get("/").wsgi_request
    assert request.META["REMOTE_ADDR"] == "10.0.0.1"


# --- Wrong API keys ------------------------------------------------------------------------------------------------


def wrong_key(address: str = "198.51.100.1", key: str = "cd_deadbeef_wrong"):
    return APIClient(REMOTE_ADDR=address, HTTP_AUTHORIZATION=f"Api-Key {key}").get("/api/v1/clients/")


def test_twenty_wrong_keys_in_a_minute_then_429_with_retry_after_for_that_address(integration, head, caplog):
    _key, raw = api_key_create(user=integration, name="DMS", by=head)
    for _ in range(20):
        assert wrong_key().status_code == 401
    response = wrong_key()
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert "detail" in json.loads(response.content)
    # even the right key waits from that address; another address is not affected
    assert (
        APIClient(REMOTE_ADDR="198.51.100.1", HTTP_AUTHORIZATION=f"Api-Key {raw}").get("/api/v1/clients/").status_code
        == 429
    )
    assert (
        APIClient(REMOTE_ADDR="198.51.100.2", HTTP_AUTHORIZATION=f"Api-Key {raw}").get("/api/v1/clients/").status_code
        == 200
    )
    assert "API key refused: address=198.51.100.1 key_prefix=deadbeef" in caplog.text
    assert "API key throttled: address=198.51.100.1" in caplog.text
    assert "wrong" not in caplog.text


def test_a_wrong_key_costs_one_read_and_no_write_and_a_throttled_one_no_query():
    with CaptureQueriesContext(connection) as failing:
        wrong_key()
    assert [q["sql"].split()[0] for q in failing.captured_queries] == ["SELECT"]
    for _ in range(20):
        wrong_key()
    with CaptureQueriesContext(connection) as throttled:
        assert wrong_key().status_code == 429
    assert throttled.captured_queries == []


def test_a_cache_that_is_down_throttles_nothing_and_breaks_nothing(monkeypatch, integration, head):
    _key, raw = api_key_create(user=integration, name="DMS", by=head)

    def down(*args, **kwargs):
        raise ConnectionError("cache down")

    for name in ("get", "add", "incr", "set"):
        monkeypatch.setattr(cache, name, down)
    assert wrong_key().status_code == 401
    assert APIClient(HTTP_AUTHORIZATION=f"Api-Key {raw}").get("/api/v1/clients/").status_code == 200
    assert ApiKey.objects.get().last_used_at is not None


@pytest.mark.parametrize(
    ("remote_addr", "expected"),
    [("203.0.113.7", "203.0.113.7"), ("::1", "::1"), ("unknown", None), ("", None), (None, None)],
)
def test_the_address_axes_stores_parses_or_is_none(rf, remote_addr, expected):
    """PostgreSQL's IP column refuses anything else; a sign-in made in code (force_login) has no address."""
    request = rf.get("/")
    request.META.pop("REMOTE_ADDR", None)
    if remote_addr is not None:
        request.META["REMOTE_ADDR"] = remote_addr

    assert client_ip(request) == expected


@pytest.mark.django_db
def test_force_login_works_on_every_database(manager):
    client = DjangoTestClient()
    client.force_login(manager)

    assert client.get("/clients/").status_code == 200
