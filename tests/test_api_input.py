"""Bad input to the API is answered 400 (or 404 for what is not there), never 500: the classes an integrator's fuzzer
found. Each case was a 500 (or an exception) before the fix."""

import ast
import base64
import json
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from accounts.roles import Role
from clients.models import Client
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def api(db):
    client = APIClient()
    client.force_authenticate(UserFactory(role=Role.HEAD))
    return client


def cursor(**tokens: str) -> str:
    return base64.b64encode("&".join(f"{k}={v}" for k, v in tokens.items()).encode()).decode()


@pytest.mark.parametrize(
    "url",
    [
        f"/api/v1/clients/?cursor={cursor(p='abc')}",  # a position that is not an id
        f"/api/v1/calls/?cursor={cursor(p='yesterday')}",  # ... not a time
        "/api/v1/clients/?cursor=%2Fw%3D%3D",  # not ASCII once decoded (DRF answered 404)
    ],
)
def test_a_cursor_the_api_did_not_give_out_is_a_400_naming_it(api, url):
    response = api.get(url)

    assert response.status_code == 400, response.content
    assert "cursor" in response.json()


def test_a_cursor_the_api_gave_out_still_pages(api):
    for n in range(3):
        Client.objects.create(name=f"Клиент {n}", kind=Client.Kind.PERSON)
    first = api.get("/api/v1/clients/", {"page_size": 2}).json()

    second = api.get(first["next"])

    assert second.status_code == 200
    assert len(second.json()["results"]) == 1


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/bookings/?day=9999-12-31",
        "/api/v1/bookings/?day=0001-01-01",
        "/api/v1/calls/?started_after=0001-01-01T00:00:00%2B05:00",
        "/api/v1/clients/?updated_since=9999-12-31T23:59:59-12:00",
        "/api/v1/call-tasks/?due_before=0001-01-01T00:00:00%2B05:00",
        "/api/v1/deliveries/?delivered_after=1899-12-31T23:00:00Z",
    ],
)
def test_dates_outside_the_years_a_record_can_have_are_a_field_error(api, url):
    response = api.get(url)

    assert response.status_code == 400, response.content
    field = url.split("?")[1].split("=")[0]
    assert field in response.json()


def test_a_nul_byte_in_a_dms_id_never_reaches_the_database(api):
    response = api.put(
        "/api/v1/clients/dms/a%00b/", json.dumps({"name": "Иван", "kind": "person"}), content_type="application/json"
    )

    assert response.status_code in (201, 400), response.content  # refused, or stored without the control character
    assert all("\x00" not in (dms_id or "") for dms_id in Client.objects.values_list("dms_id", flat=True))


def test_a_value_the_database_cannot_store_is_a_400(api):
    response = api.get("/api/v1/clients/99999999999999999999/")

    assert response.status_code in (400, 404), response.content


def test_a_dms_id_with_a_slash_is_upserted(api):
    body = json.dumps({"name": "Иван Петров", "kind": "person"})

    created = api.put("/api/v1/clients/dms/1C%2F000123/", body, content_type="application/json")
    again = api.put("/api/v1/clients/dms/1C%2F000123/", body, content_type="application/json")

    assert (created.status_code, again.status_code) == (201, 200), created.content
    assert Client.objects.get().dms_id == "1C/000123"


def test_a_json_body_nested_too_deeply_is_a_400(api):
    body = "[" * 100_000 + "]" * 100_000

    response = api.post("/api/v1/clients/", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["detail"]


@pytest.mark.parametrize("route", ["clients", "vehicles", "deliveries"])
def test_options_on_a_dms_upsert_route_describes_its_input(api, route):
    response = api.options(f"/api/v1/{route}/dms/ABC-1/")

    assert response.status_code == 200, response.content
    assert "PUT" in response.json()["actions"]


def test_every_date_filter_is_the_bounded_one():
    """A new FilterSet that takes django-filter's own DateFilter/IsoDateTimeFilter would bring the 500 back."""
    offenders = []
    for path in ROOT.glob("*/**/*.py"):
        skip = {".venv", "node_modules", "tests"}
        if skip & set(path.parts) or path == ROOT / "clientdesk" / "filters.py":
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in {"DateFilter", "IsoDateTimeFilter", "DateTimeFilter"}:
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not offenders, f"use clientdesk.filters' bounded filters: {offenders}"
