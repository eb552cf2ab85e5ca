import json
import re

import pytest
from django.db import connection
from django.urls import reverse

from clients.models import Client, ClientPhone, Vehicle
from tests.factories import ClientFactory, PhoneFactory, VehicleFactory, client_with_phone

pytestmark = pytest.mark.django_db

CLIENTS = "/api/v1/clients/"
VEHICLES = "/api/v1/vehicles/"


def test_create_client_normalises_and_answers_201(api_as_manager):
    response = api_as_manager.post(
        CLIENTS,
        {"name": "Иванов Иван", "phones": [{"number": "8 (912) 345-67-89"}], "consent_personal_data": True},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["phones"] == [{"number": "+79123456789", "kind": "mobile", "is_primary": True, "comment": ""}]
    assert body["consent_personal_data_at"] is not None


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "A", "phones": [{"number": "12345"}]}, "phones"),
        ({"name": "A", "phones": [{"number": "abc"}]}, "phones"),
        ({"name": "A", "phones": "89123456789"}, "phones"),
        ({"name": "A", "email": "not-an-email"}, "email"),
        ({"name": "A", "kind": "robot"}, "kind"),
        ({"name": "A", "consent_marketing": "maybe"}, "consent_marketing"),
        ({"name": "A", "consent_marketing": True}, "consent_marketing"),
        ({"name": "A", "assigned_manager": 999999}, "assigned_manager"),
        ({"name": "A" * 300}, "name"),
        ({"name": "A", "phones": [{"number": "89123456789"}, {"number": "+79123456789"}]}, "phones"),
    ],
)
def test_bad_input_is_400_with_field_errors_and_changes_nothing(api_as_manager, payload, field):
    response = api_as_manager.post(CLIENTS, payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Client.objects.exists()


@pytest.mark.parametrize("body", ["not json", "[1, 2]", "null", '{"name": {"nested": 1}}', '{"phones": [null]}'])
def test_garbage_bodies_never_500(api_as_manager, body):
    response = api_as_manager.post(CLIENTS, body, content_type="application/json")
    assert response.status_code == 400
    assert not Client.objects.exists()


def test_duplicate_dms_id_is_409_naming_the_holder(api_as_manager):
    holder = ClientFactory(dms_id="D-1")
    response = api_as_manager.post(CLIENTS, {"name": "B", "dms_id": "D-1"}, format="json")
    assert response.status_code == 409
    assert response.json()["existing_id"] == holder.pk
    assert Client.objects.count() == 1


def test_dms_upsert_twice_gives_one_row(dms_api):
    payload = {"name": "Петров Пётр", "phones": [{"number": "+7 903 111-22-33"}], "source": "dms"}
    first = dms_api.put(f"{CLIENTS}dms/A-77/", payload, format="json")
    second = dms_api.put(f"{CLIENTS}dms/A-77/", {**payload, "name": "Петров П."}, format="json")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert Client.objects.filter(dms_id="A-77").count() == 1
    assert ClientPhone.objects.count() == 1
    assert Client.objects.get().name == "Петров П."


def test_dms_upsert_bad_input_is_400(dms_api):
    response = dms_api.put(f"{CLIENTS}dms/A-77/", {"phones": [{"number": "1"}]}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"name", "phones"}


def test_a_body_over_the_limit_is_413_in_json_and_changes_nothing(dms_api, settings):
    body = json.dumps({"name": "Иванов", "notes": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)})
    response = dms_api.post(CLIENTS, body, content_type="application/json")
    assert response.status_code == 413
    assert "2.5" in response.json()["detail"]  # the limit, in MB, in either language
    assert not Client.objects.exists()


def test_update_and_partial_update(api_as_manager):
    client = client_with_phone("+79123456789", name="Old")
    response = api_as_manager.patch(f"{CLIENTS}{client.pk}/", {"name": "New"}, format="json")
    assert response.status_code == 200
    assert response.json()["phones"][0]["number"] == "+79123456789"  # phones untouched when not sent
    response = api_as_manager.put(
        f"{CLIENTS}{client.pk}/", {"name": "Newer", "phones": [{"number": "89031112233"}]}, format="json"
    )
    assert response.status_code == 200
    assert [p["number"] for p in response.json()["phones"]] == ["+79031112233"]


def test_delete_is_not_offered(api_as_manager):
    client = ClientFactory()
    assert api_as_manager.delete(f"{CLIENTS}{client.pk}/").status_code == 405
    assert Client.objects.filter(pk=client.pk).exists()


def test_list_filters_share_the_page_filterset(api_as_manager, manager):
    mine = ClientFactory(assigned_manager=manager, source="dms")
    ClientFactory(source="call")
    client_with_phone("+79261234567", name="Телефонов")
    response = api_as_manager.get(CLIENTS, {"source": "dms"})
    assert [c["id"] for c in response.json()["results"]] == [mine.pk]
    response = api_as_manager.get(CLIENTS, {"assigned_manager": manager.pk})
    assert [c["id"] for c in response.json()["results"]] == [mine.pk]
    response = api_as_manager.get(CLIENTS, {"q": "926 123"})
    assert [c["name"] for c in response.json()["results"]] == ["Телефонов"]
    assert api_as_manager.get(CLIENTS, {"source": "nonsense"}).status_code == 400


def test_cursor_pagination_walks_every_row_once(api_as_manager):
    ids = {ClientFactory().pk for _ in range(7)}
    seen, url = [], CLIENTS + "?page_size=3"
    while url:
        body = api_as_manager.get(url).json()
        seen += [c["id"] for c in body["results"]]
        url = body["next"]
    assert sorted(seen) == sorted(ids)
    assert "count" not in body


@pytest.mark.parametrize("rows", [5, 50])
def test_client_list_query_count_is_pinned(api_as_manager, django_assert_num_queries, rows):
    for i in range(rows):
        client = client_with_phone(f"+7926000{i:04d}")
        PhoneFactory(client=client, number=f"+7903000{i:04d}", is_primary=False)
        VehicleFactory(owner=client)
    # the page of clients with their phones in one query on PostgreSQL (the read plan in clientdesk.api); two elsewhere
    with django_assert_num_queries(1 if connection.vendor == "postgresql" else 2):
        response = api_as_manager.get(CLIENTS, {"page_size": 100})
    assert len(response.json()["results"]) == rows


def test_vehicle_create_by_owner_dms_id_and_upsert(dms_api):
    owner = ClientFactory(dms_id="C-1")
    payload = {"owner_dms_id": "C-1", "vin": "xta21099012345678", "plate": "a123bc77", "make": "Lada", "model": "Vesta"}
    first = dms_api.put(f"{VEHICLES}dms/V-1/", payload, format="json")
    second = dms_api.put(f"{VEHICLES}dms/V-1/", {**payload, "mileage": 12000}, format="json")
    assert (first.status_code, second.status_code) == (201, 200)
    vehicle = Vehicle.objects.get()
    assert (vehicle.owner_id, vehicle.vin, vehicle.plate, vehicle.mileage) == (
        owner.pk,
        "XTA21099012345678",
        "А123ВС77",
        12000,
    )


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({"owner_dms_id": "C-1", "vin": "XTA2109O012345678", "make": "Lada", "model": "Vesta"}, {"vin"}),
        ({"owner_dms_id": "C-1", "plate": "Ж123ВС77", "make": "Lada", "model": "Vesta"}, {"plate"}),
        ({"owner_dms_id": "C-1", "year": 1800, "make": "Lada", "model": "Vesta"}, {"year"}),
        ({"owner_dms_id": "nobody", "make": "Lada", "model": "Vesta"}, {"owner_dms_id"}),
        ({"make": "Lada", "model": "Vesta"}, {"owner"}),
        ({"owner_dms_id": "C-1"}, {"make", "model"}),
        ({"owner_dms_id": "C-1", "make": "Lada", "model": "Vesta", "mileage": -5}, {"mileage"}),
    ],
)
def test_vehicle_bad_input_is_400(dms_api, payload, fields):
    ClientFactory(dms_id="C-1")
    response = dms_api.post(VEHICLES, payload, format="json")
    assert response.status_code == 400, response.content
    assert fields <= set(response.json())
    assert not Vehicle.objects.exists()


def test_vin_on_file_is_409(dms_api):
    VehicleFactory(vin="XTA21099012345678")
    owner = ClientFactory()
    response = dms_api.post(
        VEHICLES, {"owner": owner.pk, "vin": "XTA21099012345678", "make": "K", "model": "R"}, format="json"
    )
    assert response.status_code == 409
    assert "vin" in response.json()


def test_schema_and_docs(api_as_manager):
    schema = api_as_manager.get("/api/schema/", {"format": "json"})
    assert schema.status_code == 200
    paths = json.loads(schema.content)["paths"]
    assert "/api/v1/clients/dms/{dms_id}/" in paths
    docs = api_as_manager.get(reverse("api-docs"))
    assert docs.status_code == 200
    # Swagger UI's files come from the sidecar package, served locally: nothing is loaded from another host.
    assert not re.search(rb"""(src|href)=["']?(https?:)?//""", docs.content)


def test_openapi_schema_is_valid_and_warning_free(tmp_path):
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    assert (tmp_path / "schema.yaml").stat().st_size > 10_000
