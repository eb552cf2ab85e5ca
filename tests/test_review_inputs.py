"""Input that reached a 500 or a wrong place, found reading the change again: each answers as a user would expect."""

import json

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.services.users import api_key_create
from clients.models import Client
from fleet.forms import ActForm
from tests.documents.conftest import signed_doc
from tests.fleet.conftest import make_car

pytestmark = pytest.mark.django_db

YEAR_ONE_CURSOR = "0001-01-01T00:00:00+05:00_1"


@pytest.mark.parametrize("name", ["claims:list", "documents:list"])
def test_a_cursor_from_year_one_shows_the_first_page(as_head, name):
    assert as_head.get(reverse(name), {"after": YEAR_ONE_CURSOR}).status_code == 200


@pytest.mark.parametrize("name", ["fleet:board", "fleet:test-drive-log", "bookings:board", "bookings:day"])
@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "2026-13-01"])
def test_a_day_outside_the_years_shows_the_default_day(as_manager, name, day):
    assert as_manager.get(reverse(name), {"day": day}).status_code == 200


def test_free_cars_for_year_9999_is_a_field_error(api_as_manager):
    make_car()
    response = api_as_manager.get(
        "/api/v1/fleet-free-cars/", {"starts_at": "9999-12-31T10:00:00Z", "ends_at": "9999-12-31T23:30:00Z"}
    )
    assert response.status_code == 400 and {"starts_at", "ends_at"} & set(response.json())


def test_a_bulk_record_with_a_superscript_digit_for_an_id_is_that_records_error(integration, head):
    _key, raw = api_key_create(user=integration, name="DMS", by=head)
    api = APIClient(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    body = {"records": [{"dms_id": "C-1", "name": "Иванов Иван", "assigned_manager": "²"}]}
    response = api.post("/api/v1/clients/bulk/", json.dumps(body), content_type="application/json")
    assert response.status_code == 200
    assert response.json()["results"][0]["status"] == "error"
    assert not Client.objects.exists()


def test_a_key_that_may_write_but_not_read_clients_gets_its_upsert_back(integration, head):
    _key, raw = api_key_create(user=integration, name="DMS", by=head, scopes=["edit_clients"])
    api = APIClient(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    response = api.put("/api/v1/clients/dms/C-7/", {"name": "Петров Пётр"}, format="json")
    assert response.status_code == 201 and response.json()["dms_id"] == "C-7"


def test_a_document_step_goes_back_only_to_a_page_of_this_site(as_manager, manager):
    doc = signed_doc(by=manager)
    for wanted in ("/\\evil.example", "//evil.example", "https://evil.example/"):
        response = as_manager.post(reverse("documents:step", args=[doc.pk, "at_accounting"]), {"next": wanted})
        assert response.status_code == 302 and response["Location"] == doc.get_absolute_url(), wanted
        doc.refresh_from_db()
        doc.state = "signed"
        doc.save(update_fields=["state"])


def test_a_huge_mileage_on_a_handover_is_a_field_error():
    """The page's act form caps the mileage as the API does (past 2^31 the database refused it: a 500)."""
    form = ActForm(data={"mileage_km": 10**12, "fuel_percent": 50})
    assert not form.is_valid() and "mileage_km" in form.errors
