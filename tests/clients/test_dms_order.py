"""The DMS's writes land in the order it made them: each record carries the DMS's own `dms_updated_at`; a write
older than the one held is refused with 409 `stale` and changes nothing; the same time again is the same write."""

import json

import pytest

from clients.models import Client, Delivery, Vehicle


def put(api, path: str, body: dict):
    return api.put(path, json.dumps(body), content_type="application/json")


CLIENT = {"name": "Петров Иван", "kind": "person"}
NOON, ONE, ELEVEN = "2026-12-06T12:00:00+03:00", "2026-12-06T13:00:00+03:00", "2026-12-06T11:00:00+03:00"


@pytest.mark.django_db
def test_an_older_write_than_the_one_held_is_refused_as_stale_and_changes_nothing(dms_api):
    put(dms_api, "/api/v1/clients/dms/C-1/", {**CLIENT, "dms_updated_at": NOON})
    history = Client.history.count()

    late = put(dms_api, "/api/v1/clients/dms/C-1/", {**CLIENT, "name": "Старое Имя", "dms_updated_at": ELEVEN})

    assert late.status_code == 409
    assert late.json()["code"] == "stale"
    assert late.json()["held_dms_updated_at"].startswith("2026-12-06T")
    assert Client.objects.get().name == "Петров Иван"
    assert Client.history.count() == history


@pytest.mark.django_db
def test_a_newer_write_lands_and_the_same_time_again_is_a_no_op(dms_api):
    put(dms_api, "/api/v1/clients/dms/C-1/", {**CLIENT, "dms_updated_at": NOON})

    newer = put(dms_api, "/api/v1/clients/dms/C-1/", {**CLIENT, "name": "Петров Иван Ильич", "dms_updated_at": ONE})
    history = Client.history.count()
    same = put(dms_api, "/api/v1/clients/dms/C-1/", {**CLIENT, "name": "Петров Иван Ильич", "dms_updated_at": ONE})

    assert (newer.status_code, same.status_code) == (200, 200)
    assert newer.json()["dms_updated_at"] is not None
    assert Client.objects.get().name == "Петров Иван Ильич"
    assert Client.history.count() == history


@pytest.mark.django_db
def test_a_write_without_a_time_is_taken_as_new(dms_api):
    put(dms_api, "/api/v1/clients/dms/C-1/", {**CLIENT, "dms_updated_at": NOON})

    assert put(dms_api, "/api/v1/clients/dms/C-1/", {**CLIENT, "name": "Без Времени"}).status_code == 200
    assert Client.objects.get().name == "Без Времени"


@pytest.mark.django_db
def test_vehicles_and_deliveries_keep_the_order_too(dms_api):
    put(dms_api, "/api/v1/clients/dms/C-1/", CLIENT)
    car = {"owner_dms_id": "C-1", "vin": "XTA21099012345678", "make": "Lada", "model": "Vesta", "dms_updated_at": NOON}
    put(dms_api, "/api/v1/vehicles/dms/V-1/", car)
    sale = {"client_dms_id": "C-1", "vehicle_dms_id": "V-1", "delivered_at": "2026-12-01T12:00:00+03:00"}
    assert put(dms_api, "/api/v1/deliveries/dms/D-1/", {**sale, "dms_updated_at": NOON}).status_code == 201

    old_car = put(dms_api, "/api/v1/vehicles/dms/V-1/", {**car, "model": "Granta", "dms_updated_at": ELEVEN})
    old_sale = put(
        dms_api,
        "/api/v1/deliveries/dms/D-1/",
        {**sale, "delivered_at": "2026-11-30T12:00:00+03:00", "dms_updated_at": ELEVEN},
    )

    assert (old_car.status_code, old_sale.status_code) == (409, 409)
    assert Vehicle.objects.get().model == "Vesta"
    assert Delivery.objects.get().delivered_at.day == 1
