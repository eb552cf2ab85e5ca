"""The DMS pushing one new record from many connections at once (a retrying sync, parallel workers): one row, and
every writer told it succeeded (201 for the one that created it, 200 for the rest), never a 400 or a 500."""

import json

import pytest
from rest_framework.test import APIClient

from accounts.services.users import api_key_create
from clients.models import Client, Vehicle
from tests.concurrency import run_at_once

WRITERS = 20


def race(raw_key: str, path: str, body: dict) -> tuple[list[int], list[BaseException]]:
    def push(_n: int) -> int:
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw_key}")
        response = api.put(path, json.dumps(body), content_type="application/json")
        assert response.status_code < 400, response.content
        return response.status_code

    return run_at_once(WRITERS, push)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_writers_upserting_one_new_client_get_one_row_and_twenty_successes(integration, head):
    _key, raw = api_key_create(user=integration, name="DMS", by=head)
    body = {"name": "Гонщиков Иван", "kind": "person", "phones": [{"number": "89123456789"}]}

    codes, errors = race(raw, "/api/v1/clients/dms/RACE-1/", body)

    assert errors == []
    assert sorted(codes) == [200] * (WRITERS - 1) + [201]
    assert Client.objects.filter(dms_id="RACE-1").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_writers_upserting_one_new_vehicle_get_one_row_and_twenty_successes(integration, head):
    _key, raw = api_key_create(user=integration, name="DMS", by=head)
    owner = Client.objects.create(name="Владелец", kind=Client.Kind.PERSON, dms_id="OWNER-1")
    body = {"owner_dms_id": owner.dms_id, "vin": "XTA21099012345678", "make": "Lada", "model": "Vesta", "year": 2020}

    codes, errors = race(raw, "/api/v1/vehicles/dms/CAR-1/", body)

    assert errors == []
    assert sorted(codes) == [200] * (WRITERS - 1) + [201]
    assert Vehicle.objects.filter(dms_id="CAR-1").count() == 1
