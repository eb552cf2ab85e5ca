"""Input that looks filled but is not (issue 9, item 8): a model year beyond next year, names of only zero-width or
control characters, whitespace-only DMS ids. Refused (or normalised) in the normaliser and the services, so the
pages, the API and the DMS upsert all get the same answer."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from clientdesk.calendar import local_date
from clients.models import Client, Vehicle
from clients.normalize import max_model_year, normalize_dms_id, normalize_name
from clients.services.clients import (
    client_create,
    client_update,
    client_upsert_by_dms_id,
    vehicle_create,
    vehicle_update,
    vehicle_upsert_by_dms_id,
)
from tests.factories import ClientFactory, VehicleFactory

pytestmark = pytest.mark.django_db

CLIENTS = "/api/v1/clients/"
VEHICLES = "/api/v1/vehicles/"
# Zero-width space, zero-width joiner, left-to-right mark, BOM, a bell, a tab and a newline.
INVISIBLE = "\u200b\u200d\u200e\ufeff\x07\t\n"


def next_year() -> int:
    return local_date(timezone.now()).year + 1


# --- the normaliser ---------------------------------------------------------------------------------------------------


def test_a_name_loses_its_invisible_characters_and_keeps_its_letters():
    assert normalize_name(f"  Иванов\u200b  Иван{INVISIBLE}Иванович ") == "Иванов Иван Иванович"
    assert normalize_name("ООО «Ромашка»") == "ООО «Ромашка»"


@pytest.mark.parametrize("raw", ["", "   ", INVISIBLE, "\u200b\u200b", "\x00\x1f\x7f", "\u2060\u00ad"])
def test_a_name_with_nothing_visible_is_refused(raw):
    with pytest.raises(ValidationError):
        normalize_name(raw)


@pytest.mark.parametrize(("raw", "stored"), [("  D-1 ", "D-1"), ("   ", ""), ("\u200b", ""), (None, ""), ("\t", "")])
def test_dms_ids_are_stripped_and_blank_is_none(raw, stored):
    assert normalize_dms_id(raw) == stored


def test_the_model_year_may_be_next_year_and_not_later():
    assert max_model_year() == next_year()


# --- the services -----------------------------------------------------------------------------------------------------


def test_a_blank_looking_client_name_is_refused_on_create_and_update(manager):
    with pytest.raises(ValidationError) as refused:
        client_create(by=manager, name="\u200b\u200b ")
    assert "name" in refused.value.message_dict and not Client.objects.exists()
    client = client_create(by=manager, name="Петров\u200b Пётр")
    assert client.name == "Петров Пётр" and client.search_name == "петров петр"
    with pytest.raises(ValidationError) as refused:
        client_update(client=client, by=manager, name="\ufeff\u200e")
    assert "name" in refused.value.message_dict
    client.refresh_from_db()
    assert client.name == "Петров Пётр"


def test_whitespace_only_dms_ids_are_none_and_do_not_clash(manager):
    first = client_create(by=manager, name="Первый", dms_id="   ")
    second = client_create(by=manager, name="Второй", dms_id=" \u200b ")
    assert (first.dms_id, second.dms_id) == ("", "")
    third = client_create(by=manager, name="Третий", dms_id="  D-9  ")
    assert third.dms_id == "D-9"
    car = vehicle_create(by=manager, owner=first, make="Lada", model="Vesta", dms_id="  ")
    assert car.dms_id == ""
    assert vehicle_update(vehicle=car, by=manager, dms_id=" V-1 ").dms_id == "V-1"


@pytest.mark.parametrize("dms_id", ["", "   ", "\u200b"])
def test_the_dms_upsert_refuses_a_blank_dms_id(integration, dms_id):
    with pytest.raises(ValidationError) as refused:
        client_upsert_by_dms_id(by=integration, dms_id=dms_id, name="Иванов")
    assert "dms_id" in refused.value.message_dict
    owner = ClientFactory()
    with pytest.raises(ValidationError) as refused:
        vehicle_upsert_by_dms_id(by=integration, dms_id=dms_id, owner=owner, make="Lada", model="Niva")
    assert "dms_id" in refused.value.message_dict
    assert Client.objects.count() == 1 and not Vehicle.objects.exists()


def test_the_dms_upsert_strips_its_dms_id(integration):
    client, created = client_upsert_by_dms_id(by=integration, dms_id=" A-1 ", name="Иванов")
    again, created_again = client_upsert_by_dms_id(by=integration, dms_id="A-1", name="Иванов И.")
    assert (created, created_again, client.pk, client.dms_id) == (True, False, again.pk, "A-1")


def test_a_model_year_beyond_next_year_is_refused_and_next_year_is_fine(manager):
    owner = ClientFactory()
    with pytest.raises(ValidationError) as refused:
        vehicle_create(by=manager, owner=owner, make="Lada", model="Vesta", year=next_year() + 1)
    assert "year" in refused.value.message_dict and not Vehicle.objects.exists()
    car = vehicle_create(by=manager, owner=owner, make="Lada", model="Vesta", year=next_year())
    with pytest.raises(ValidationError):
        vehicle_update(vehicle=car, by=manager, year=2099)
    car.refresh_from_db()
    assert car.year == next_year()


def test_the_database_still_holds_the_outer_bounds():
    # A CHECK cannot read today's date: the database keeps 1950–2100, the services next year.
    car = VehicleFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Vehicle.objects.filter(pk=car.pk).update(year=2101)


# --- the API and the pages --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "field"),
    [({"name": "\u200b\u200d"}, "name"), ({"name": f"{INVISIBLE}  {INVISIBLE}"}, "name")],
)
def test_the_api_refuses_a_blank_looking_name(api_as_manager, payload, field):
    response = api_as_manager.post(CLIENTS, payload, format="json", headers={"Accept-Language": "en"})
    assert response.status_code == 400, response.content
    assert response.json()[field] == ["Enter a name: this one has no visible letters."]
    assert not Client.objects.exists()


def test_the_api_refuses_a_year_beyond_next_year(api_as_manager):
    owner = ClientFactory()
    body = {"owner": owner.pk, "make": "Lada", "model": "Vesta", "year": next_year() + 1}
    response = api_as_manager.post(VEHICLES, body, format="json", headers={"Accept-Language": "en"})
    assert response.status_code == 400, response.content
    assert response.json()["year"] == [f"The model year can be at most {next_year()} (next year)."]
    assert not Vehicle.objects.exists()


@pytest.mark.parametrize("dms_id", ["%20%20", "%E2%80%8B"])
def test_the_dms_upsert_over_the_api_refuses_a_blank_dms_id(dms_api, dms_id):
    response = dms_api.put(f"{CLIENTS}dms/{dms_id}/", {"name": "Иванов"}, format="json")
    assert response.status_code == 400, response.content
    assert "dms_id" in response.json()
    assert not Client.objects.exists()


def test_the_client_form_refuses_a_blank_looking_name(as_manager):
    data = {
        "kind": "person",
        "name": "\u200b\u200b",
        "source": "call",
        "phones-TOTAL_FORMS": "0",
        "phones-INITIAL_FORMS": "0",
        "phones-MIN_NUM_FORMS": "0",
        "phones-MAX_NUM_FORMS": "10",
    }
    response = as_manager.post(reverse("clients:create"), data, headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert "Enter a name: this one has no visible letters." in response.content.decode()
    assert not Client.objects.exists()


def test_the_vehicle_form_refuses_a_year_beyond_next_year(as_manager):
    owner = ClientFactory()
    data = {"make": "Lada", "model": "Vesta", "year": str(next_year() + 1)}
    response = as_manager.post(
        reverse("clients:vehicle-create", args=[owner.pk]), data, headers={"Accept-Language": "en"}
    )
    assert response.status_code == 400
    assert f"The model year can be at most {next_year()} (next year)." in response.content.decode()
    assert not Vehicle.objects.exists()
