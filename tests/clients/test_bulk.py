"""Bulk upserts by DMS id: up to 1,000 records a request, each judged as the single upsert would, valid ones landing
even when others fail, and the whole request safe to send again."""

import json

import pytest
from rest_framework.test import APIClient

from clients.models import Client, ClientPhone, Delivery, Vehicle


def bulk(api, resource: str, records):
    body = {"records": records} if isinstance(records, list) else records
    return api.post(f"/api/v1/{resource}/bulk/", json.dumps(body), content_type="application/json")


def person(n: int, **extra) -> dict:
    return {"dms_id": f"C-{n}", "name": f"Клиент Номер {n}", "kind": "person", **extra}


@pytest.mark.django_db
def test_good_records_land_and_bad_ones_are_named_with_their_field_errors(dms_api):
    records = [
        person(1, phones=[{"number": "89123456789", "is_primary": True}]),
        person(2, name="\u200b\u200b"),  # nothing visible
        {"name": "Без DMS id", "kind": "person"},
        person(3, phones=[{"number": "123"}]),
        person(4, email="ivanov@example.com"),
    ]

    response = bulk(dms_api, "clients", records)

    assert response.status_code == 200
    answer = response.json()
    assert [r["status"] for r in answer["results"]] == ["created", "error", "error", "error", "created"]
    assert "name" in answer["results"][1]["errors"]
    assert "dms_id" in answer["results"][2]["errors"]
    assert "phones" in answer["results"][3]["errors"]
    assert answer["counts"] == {"created": 2, "updated": 0, "unchanged": 0, "error": 3}
    assert set(Client.objects.values_list("dms_id", flat=True)) == {"C-1", "C-4"}
    assert ClientPhone.objects.get().number == "+79123456789"


@pytest.mark.django_db
def test_the_same_bulk_twice_is_all_unchanged_and_writes_nothing(dms_api):
    records = [person(n, phones=[{"number": f"8912345670{n}", "is_primary": True}]) for n in range(5)]
    bulk(dms_api, "clients", records)
    history = (Client.history.count(), ClientPhone.history.count())

    again = bulk(dms_api, "clients", records).json()

    assert again["counts"] == {"created": 0, "updated": 0, "unchanged": 5, "error": 0}
    assert (Client.history.count(), ClientPhone.history.count()) == history


@pytest.mark.django_db
def test_a_changed_name_or_phone_is_updated(dms_api):
    bulk(dms_api, "clients", [person(1), person(2, phones=[{"number": "89120000001", "is_primary": True}])])

    answer = bulk(
        dms_api,
        "clients",
        [person(1, name="Новое Имя"), person(2, phones=[{"number": "89120000002", "is_primary": True}])],
    ).json()

    assert [r["status"] for r in answer["results"]] == ["updated", "updated"]
    assert Client.objects.get(dms_id="C-1").name == "Новое Имя"


@pytest.mark.django_db
def test_a_stale_record_is_an_error_of_its_own(dms_api):
    bulk(dms_api, "clients", [person(1, dms_updated_at="2026-12-06T12:00:00+03:00")])

    answer = bulk(dms_api, "clients", [person(1, name="Старое", dms_updated_at="2026-12-06T11:00:00+03:00")]).json()

    assert answer["results"][0]["status"] == "error"
    assert answer["results"][0]["errors"]["code"] == "stale"
    assert Client.objects.get().name == "Клиент Номер 1"


@pytest.mark.django_db
@pytest.mark.parametrize("body", [{"records": []}, {"records": "x"}, {}, {"records": [person(1)] * 1001}])
def test_an_empty_malformed_or_oversized_batch_is_a_400_and_writes_nothing(dms_api, body):
    response = bulk(dms_api, "clients", body)

    assert response.status_code == 400
    assert "records" in response.json()
    assert not Client.objects.exists()


@pytest.mark.django_db
def test_vehicles_and_deliveries_in_bulk(dms_api):
    bulk(dms_api, "clients", [person(1)])
    cars = [
        {"dms_id": "V-1", "owner_dms_id": "C-1", "vin": "XTA21099012345678", "make": "Lada", "model": "Vesta"},
        {"dms_id": "V-2", "owner_dms_id": "C-404", "vin": "XTA21099012345679", "make": "Lada", "model": "Niva"},
    ]
    sales = [{"dms_id": "D-1", "client_dms_id": "C-1", "vehicle_dms_id": "V-1", "delivered_at": "2026-12-01T12:00Z"}]

    car_answer = bulk(dms_api, "vehicles", cars).json()
    sale_answer = bulk(dms_api, "deliveries", sales).json()
    sale_again = bulk(dms_api, "deliveries", sales).json()

    assert [r["status"] for r in car_answer["results"]] == ["created", "error"]
    assert "owner_dms_id" in car_answer["results"][1]["errors"]
    assert sale_answer["counts"]["created"] == 1
    assert sale_again["counts"]["unchanged"] == 1
    assert Vehicle.objects.count() == 1
    assert Delivery.objects.count() == 1


@pytest.mark.django_db
def test_staff_without_the_right_to_edit_clients_cannot_bulk(advisor):
    api = APIClient()
    api.force_authenticate(advisor)

    assert bulk(api, "clients", [person(1)]).status_code == 403


@pytest.mark.django_db
def test_a_client_the_dms_creates_comes_from_the_dms_unless_it_says_otherwise(dms_api):
    answer = bulk(dms_api, "clients", [person(1), person(2, source="walk_in")])
    single = dms_api.put(
        "/api/v1/clients/dms/C-3/", json.dumps(person(3)), content_type="application/json"
    )  # the single upsert too

    assert answer.status_code == 200 and single.status_code == 201, (answer.content, single.content)
    sources = dict(Client.objects.values_list("dms_id", "source"))
    assert sources == {"C-1": "dms", "C-2": "walk_in", "C-3": "dms"}
    # an update leaves where the client came from alone
    Client.objects.filter(dms_id="C-1").update(source="call")
    assert bulk(dms_api, "clients", [person(1, name="Клиент Другой")]).json()["counts"]["updated"] == 1
    assert Client.objects.get(dms_id="C-1").source == "call"
