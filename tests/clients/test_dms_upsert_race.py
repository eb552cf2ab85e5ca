"""The DMS pushing one new record from many connections at once (a retrying sync, parallel workers): one row, and
every writer told it succeeded (201 for the one that created it, 200 for the rest), never a 400 or a 500."""

import json
import threading

import pytest
from django.db import connections
from rest_framework.test import APIClient

from accounts.services.users import api_key_create
from clients.models import Client, Vehicle

WRITERS = 20


def race(raw_key: str, path: str, body: dict) -> tuple[list[int], list[BaseException]]:
    barrier = threading.Barrier(WRITERS)
    codes: list[int] = []
    errors: list[BaseException] = []

    def push() -> None:
        try:
            api = APIClient()
            api.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw_key}")
            barrier.wait()
            response = api.put(path, json.dumps(body), content_type="application/json")
            codes.append(response.status_code)
            if response.status_code >= 400:
                errors.append(AssertionError(response.content))
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=push) for _ in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return codes, errors


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
