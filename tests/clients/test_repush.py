"""The DMS sending a record again exactly as we hold it changes nothing: `updated_at` stays (a DMS polling with
`updated_since` does not see it as changed) and no history row is written, for the client, its phones, vehicles and
deliveries. A real change still lands, with its history."""

import json

import pytest

from clients.models import Client, ClientPhone, Delivery, Vehicle

CLIENT = {
    "name": "Петров Иван Сергеевич",
    "kind": "person",
    "email": "Petrov@Example.com",
    "consent_personal_data": True,
    "consent_marketing": True,
    "phones": [{"number": "8 (912) 345-67-89", "is_primary": True}, {"number": "+7 912 000 11 22", "kind": "work"}],
}


def put(api, path: str, body: dict):
    return api.put(path, json.dumps(body), content_type="application/json")


def snapshot() -> tuple:
    return (
        list(Client.objects.values_list("updated_at", flat=True)),
        Client.history.count(),
        ClientPhone.history.count(),
        list(Vehicle.objects.values_list("updated_at", flat=True)),
        Vehicle.history.count(),
        Delivery.objects.count(),
    )


@pytest.mark.django_db
def test_a_client_pushed_again_as_it_is_writes_nothing(dms_api):
    created = put(dms_api, "/api/v1/clients/dms/C-1/", CLIENT)
    assert created.status_code == 201, created.json()
    before = snapshot()

    again = put(dms_api, "/api/v1/clients/dms/C-1/", CLIENT)

    assert again.status_code == 200
    assert snapshot() == before


@pytest.mark.django_db
def test_a_real_change_still_lands_with_its_history(dms_api):
    put(dms_api, "/api/v1/clients/dms/C-1/", CLIENT)
    history = Client.history.count()

    put(dms_api, "/api/v1/clients/dms/C-1/", {**CLIENT, "name": "Петров Иван Петрович"})

    assert Client.objects.get().name == "Петров Иван Петрович"
    assert Client.history.count() == history + 1


@pytest.mark.django_db
def test_a_phone_list_sent_again_keeps_its_rows_and_history(dms_api):
    put(dms_api, "/api/v1/clients/dms/C-1/", CLIENT)
    phones = ClientPhone.history.count()

    put(dms_api, "/api/v1/clients/dms/C-1/", CLIENT)
    swapped = [{**CLIENT["phones"][0], "is_primary": False}, {**CLIENT["phones"][1], "is_primary": True}]
    put(dms_api, "/api/v1/clients/dms/C-1/", {**CLIENT, "phones": swapped})

    assert ClientPhone.history.count() == phones + 2  # only the swap: one primary off, one on
    assert ClientPhone.objects.get(is_primary=True).number == "+79120001122"


@pytest.mark.django_db
def test_a_vehicle_and_a_delivery_pushed_again_write_nothing(dms_api):
    put(dms_api, "/api/v1/clients/dms/C-1/", CLIENT)
    car = {"owner_dms_id": "C-1", "vin": "XTA21099012345678", "make": "Lada", "model": "Vesta", "year": 2024}
    put(dms_api, "/api/v1/vehicles/dms/V-1/", car)
    handover = {"client_dms_id": "C-1", "vehicle_dms_id": "V-1", "delivered_at": "2026-12-01T12:00:00+03:00"}
    recorded = put(dms_api, "/api/v1/deliveries/dms/D-1/", handover)
    assert recorded.status_code == 201, recorded.json()
    before = snapshot()
    delivery_changed = Delivery.objects.get().updated_at if hasattr(Delivery, "updated_at") else None

    assert put(dms_api, "/api/v1/vehicles/dms/V-1/", car).status_code == 200
    assert put(dms_api, "/api/v1/deliveries/dms/D-1/", handover).status_code == 200

    assert snapshot() == before
    if delivery_changed is not None:
        assert Delivery.objects.get().updated_at == delivery_changed
