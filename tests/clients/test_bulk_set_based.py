"""The set-based bulk on PostgreSQL: a batch in a fixed number of statements, whatever its size, answering exactly as
the record-by-record path would — history recorded, `dms_updated_at` ordering kept, unchanged records untouched,
valid records landing beside refused ones, safe to resend, and queueing with single upserts of the same DMS ids."""

import json

import pytest
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.services.users import api_key_create
from clients.models import Client, ClientPhone, Vehicle
from clients.services import bulk as bulk_services
from clients.services.clients import PhoneInput, client_merge
from tests.concurrency import run_at_once

pytestmark = pytest.mark.postgres


def bulk(api, resource: str, records: list[dict]):
    response = api.post(f"/api/v1/{resource}/bulk/", json.dumps({"records": records}), content_type="application/json")
    assert response.status_code == 200, response.content
    return response.json()


def person(n: int, **extra) -> dict:
    return {
        "dms_id": f"C-{n}",
        "name": f"Клиент Номер {n}",
        "kind": "person",
        "phones": [{"number": f"8912{n:07d}", "is_primary": True}, {"number": f"8913{n:07d}", "kind": "work"}],
        **extra,
    }


def car(n: int, owner: str = "C-1", **extra) -> dict:
    return {"dms_id": f"V-{n}", "owner_dms_id": owner, "vin": f"XTA2109901{n:07d}", "make": "Lada", "model": "Vesta"}


def statuses(answer: dict) -> list[str]:
    return [r["status"] for r in answer["results"]]


def queries_for(api, resource: str, records: list[dict]) -> int:
    with CaptureQueriesContext(connection) as captured:
        bulk(api, resource, records)
    return len(captured)


@pytest.mark.django_db
def test_a_batch_takes_the_same_number_of_statements_whatever_its_size(dms_api):
    bulk(dms_api, "clients", [person(1000)])  # the key's first use of the day is recorded once
    small = queries_for(dms_api, "clients", [person(n) for n in range(5)])
    large = queries_for(dms_api, "clients", [person(n) for n in range(100, 300)])
    assert large == small
    assert large <= 20

    small_again = queries_for(dms_api, "clients", [person(n, name="Другое Имя") for n in range(5)])
    large_again = queries_for(dms_api, "clients", [person(n, name="Другое Имя") for n in range(100, 300)])
    assert large_again == small_again
    assert Client.objects.filter(name="Другое Имя").count() == 205


@pytest.mark.django_db
def test_created_records_have_their_phones_and_history(dms_api, integration):
    answer = bulk(dms_api, "clients", [person(1, consent_personal_data=True), person(2)])

    assert statuses(answer) == ["created", "created"]
    client = Client.objects.get(dms_id="C-1")
    assert answer["results"][0]["id"] == client.pk
    assert client.search_name == "клиент номер 1"
    assert (
        Client.objects.filter(source="dms", kind="person").count() == 2
    )  # defaults stored: a DMS record came from the DMS
    assert client.consent_personal_data_at is not None  # stamped, as the single upsert stamps it
    assert list(client.phones.values_list("number", "is_primary")) == [("+79120000001", True), ("+79130000001", False)]
    assert list(Client.history.values_list("history_type", flat=True)) == ["+", "+"]
    assert set(Client.history.values_list("history_user", flat=True)) == {integration.pk}
    assert ClientPhone.history.filter(history_type="+").count() == 4


@pytest.mark.django_db
def test_the_same_batch_again_is_unchanged_and_moves_nothing(dms_api):
    records = [
        person(n, email=f"Client{n}@Example.com", consent_marketing=True, consent_personal_data=True) for n in range(20)
    ]
    bulk(dms_api, "clients", records)
    before = (
        list(Client.objects.order_by("id").values_list("updated_at", flat=True)),
        Client.history.count(),
        ClientPhone.history.count(),
    )

    answer = bulk(dms_api, "clients", records)

    assert answer["counts"] == {"created": 0, "updated": 0, "unchanged": 20, "error": 0}
    after = (
        list(Client.objects.order_by("id").values_list("updated_at", flat=True)),
        Client.history.count(),
        ClientPhone.history.count(),
    )
    assert after == before


@pytest.mark.django_db
def test_changes_land_with_history_and_a_phone_change_moves_only_updated_at(dms_api):
    bulk(dms_api, "clients", [person(1), person(2), person(3)])
    old = dict(Client.objects.values_list("dms_id", "updated_at"))
    new_phones = [{"number": "89130000002", "kind": "work", "is_primary": True}, {"number": "89990000002"}]

    answer = bulk(
        dms_api,
        "clients",
        [person(1, name="Новое Имя"), person(2, phones=new_phones), person(3)],
    )

    assert statuses(answer) == ["updated", "updated", "unchanged"]
    now = dict(Client.objects.values_list("dms_id", "updated_at"))
    assert now["C-1"] > old["C-1"] and now["C-2"] > old["C-2"] and now["C-3"] == old["C-3"]
    assert Client.history.filter(history_type="~").count() == 1  # the name; a phone keeps its own history
    second = Client.objects.get(dms_id="C-2")
    assert list(second.phones.values_list("number", "is_primary", "kind")) == [
        ("+79130000002", True, "work"),
        ("+79990000002", False, "mobile"),
    ]
    assert ClientPhone.history.filter(history_type="-", number="+79120000002").count() == 1
    assert ClientPhone.history.filter(history_type="~", number="+79130000002").count() == 1


@pytest.mark.django_db
def test_stale_and_invalid_records_are_answered_one_by_one_and_the_rest_land(dms_api, manager):
    bulk(dms_api, "clients", [person(1, dms_updated_at="2026-12-06T12:00:00+03:00")])

    answer = bulk(
        dms_api,
        "clients",
        [
            person(1, name="Старое", dms_updated_at="2026-12-06T11:00:00+03:00"),
            person(2, consent_marketing=True),  # marketing without personal data: the model refuses it
            person(3, assigned_manager=manager.pk),
            person(4, assigned_manager=999999),
            person(5, phones=[{"number": "123"}]),
            person(6, name="  "),
        ],
    )

    assert statuses(answer) == ["error", "error", "created", "error", "error", "error"]
    assert answer["results"][0]["errors"]["code"] == "stale"
    assert "consent_marketing" in answer["results"][1]["errors"]
    assert "assigned_manager" in answer["results"][3]["errors"]
    assert "phones" in answer["results"][4]["errors"]
    assert "name" in answer["results"][5]["errors"]
    assert Client.objects.get(dms_id="C-1").name == "Клиент Номер 1"
    assert Client.objects.get(dms_id="C-3").assigned_manager == manager
    assert set(Client.objects.values_list("dms_id", flat=True)) == {"C-1", "C-3"}


@pytest.mark.django_db
def test_a_dms_id_twice_in_a_batch_is_taken_in_order(dms_api):
    answer = bulk(dms_api, "clients", [person(1), person(2), person(1, name="Второй Раз")])

    assert statuses(answer) == ["created", "created", "updated"]
    assert Client.objects.get(dms_id="C-1").name == "Второй Раз"


@pytest.mark.django_db
def test_a_dms_id_of_a_merged_client_updates_the_client_kept(dms_api, head):
    bulk(dms_api, "clients", [person(1)])
    kept = Client.objects.create(name="Основная Карточка", kind="person")
    client_merge(source=Client.objects.get(dms_id="C-1"), target=kept, by=head)

    answer = bulk(dms_api, "clients", [{**person(1), "name": "Из DMS"}])

    assert statuses(answer) == ["updated"]
    assert answer["results"][0]["id"] == kept.pk
    kept.refresh_from_db()
    assert kept.name == "Из DMS"


@pytest.mark.django_db
def test_a_clash_with_a_writer_that_took_no_lock_falls_back_to_record_by_record(dms_api, monkeypatch):
    bulk(dms_api, "clients", [person(1)])

    def clash(*args, **kwargs):
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(bulk_services, "_write_clients", clash)
    answer = bulk(dms_api, "clients", [person(1, name="Новое Имя"), person(2), person(3, phones=[{"number": "1"}])])

    assert statuses(answer) == ["updated", "created", "error"]
    assert Client.objects.get(dms_id="C-1").name == "Новое Имя"
    assert Client.objects.filter(dms_id="C-2").exists()


@pytest.mark.django_db(transaction=True)
def test_bulks_and_single_upserts_of_the_same_new_ids_at_once_make_one_row_each(integration, head):
    _key, raw = api_key_create(user=integration, name="DMS", by=head)
    records = [person(n) for n in range(30)]

    def push(n: int) -> int:
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
        if n % 2:
            response = api.put("/api/v1/clients/dms/C-7/", json.dumps(person(7)), content_type="application/json")
            assert response.status_code in (200, 201), response.content
            return response.status_code
        # Each bulk in its own order: locks are still taken in one fixed order, so no deadlock.
        ordered = records[n:] + records[:n]
        answer = bulk(api, "clients", ordered)
        assert answer["counts"]["error"] == 0, answer
        return answer["counts"]["created"]

    results, errors = run_at_once(8, push)

    assert errors == []
    assert Client.objects.count() == 30
    assert ClientPhone.objects.count() == 60
    assert Client.history.filter(history_type="+").count() == 30


# --- vehicles ----------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_vehicles_in_bulk_set_based(dms_api):
    bulk(dms_api, "clients", [person(1), person(2)])
    other = Client.objects.get(dms_id="C-2")
    taken = {**car(9), "dms_id": "V-OTHER"}
    bulk(dms_api, "vehicles", [taken])

    answer = bulk(
        dms_api,
        "vehicles",
        [
            car(1),
            {key: value for key, value in car(2).items() if key != "owner_dms_id"} | {"owner": other.pk},
            {**car(3), "owner_dms_id": "C-404"},
            {**car(4), "vin": car(9)["vin"]},  # held by another vehicle
            {**car(5), "year": 1900},
            {**car(6), "vin": "XTA2109901000001I"},
        ],
    )

    assert statuses(answer) == ["created", "created", "error", "error", "error", "error"]
    assert "owner_dms_id" in answer["results"][2]["errors"]
    assert answer["results"][3]["errors"]["vin"]
    assert "year" in answer["results"][4]["errors"]
    assert "vin" in answer["results"][5]["errors"]
    assert Vehicle.objects.get(dms_id="V-2").owner == other
    assert Vehicle.history.filter(history_type="+").count() == 3


@pytest.mark.django_db
def test_vehicles_again_unchanged_then_changed_then_stale(dms_api):
    bulk(dms_api, "clients", [person(1), person(2)])
    records = [{**car(n), "dms_updated_at": "2026-12-01T10:00:00Z"} for n in range(10)]
    bulk(dms_api, "vehicles", records)
    before = (list(Vehicle.objects.order_by("id").values_list("updated_at", flat=True)), Vehicle.history.count())

    again = bulk(dms_api, "vehicles", records)
    assert again["counts"]["unchanged"] == 10
    assert (
        list(Vehicle.objects.order_by("id").values_list("updated_at", flat=True)),
        Vehicle.history.count(),
    ) == before

    changed = bulk(
        dms_api,
        "vehicles",
        [
            {**records[0], "owner_dms_id": "C-2", "mileage": 12000, "dms_updated_at": "2026-12-02T10:00:00Z"},
            {**records[1], "mileage": 1, "dms_updated_at": "2026-11-30T10:00:00Z"},
        ],
    )
    assert statuses(changed) == ["updated", "error"]
    assert changed["results"][1]["errors"]["code"] == "stale"
    first = Vehicle.objects.get(dms_id="V-0")
    assert (first.owner.dms_id, first.mileage) == ("C-2", 12000)
    assert Vehicle.history.filter(history_type="~").count() == 1
    assert Vehicle.objects.get(dms_id="V-1").mileage is None


@pytest.mark.django_db
def test_a_vin_twice_in_one_vehicle_batch_is_judged_in_order(dms_api):
    bulk(dms_api, "clients", [person(1)])

    answer = bulk(dms_api, "vehicles", [car(1), {**car(2), "vin": car(1)["vin"]}])

    assert statuses(answer) == ["created", "error"]
    assert "vin" in answer["results"][1]["errors"]


@pytest.mark.django_db
def test_a_vehicle_batch_takes_the_same_number_of_statements_whatever_its_size(dms_api):
    bulk(dms_api, "clients", [person(1)])
    small = queries_for(dms_api, "vehicles", [car(n) for n in range(3)])
    large = queries_for(dms_api, "vehicles", [car(n) for n in range(100, 250)])
    assert large == small


@pytest.mark.django_db
def test_the_service_itself_refuses_a_phone_the_model_would(manager):
    records = [
        bulk_services.BulkRecord(0, "C-1", {"name": "Клиент", "phones": [PhoneInput("89120000001", kind="fax")]}),
        bulk_services.BulkRecord(
            1, "C-2", {"name": "Клиент", "phones": [PhoneInput("89120000002", comment="x" * 101)]}
        ),
        bulk_services.BulkRecord(2, "C-3", {"name": "Клиент", "phones": [PhoneInput("89120000003")]}),
    ]

    outcomes = bulk_services.client_bulk_upsert(by=manager, records=records)

    assert [outcomes[i].status for i in range(3)] == ["error", "error", "created"]
    assert "kind" in outcomes[0].errors and "comment" in outcomes[1].errors


def _state() -> list[tuple]:
    fields = ("dms_id", "name", "search_name", "email", "kind", "source", "consent_personal_data", "consent_marketing")
    clients = list(Client.objects.order_by("dms_id").values_list(*fields))
    phones = list(
        ClientPhone.objects.order_by("client__dms_id", "number").values_list(
            "client__dms_id", "number", "kind", "is_primary", "comment"
        )
    )
    return [clients, phones, Client.history.count(), ClientPhone.history.count()]


MIXED = [
    person(1, email="A@Example.com", consent_personal_data=True),
    person(2, consent_marketing=True),  # refused by the model
    person(3, phones=[{"number": "8 912 000-00-03", "is_primary": False}, {"number": "+7 913 000 00 03"}]),
    person(4, dms_updated_at="2026-12-01T10:00:00Z"),
]
AGAIN = [
    person(1, email="a@example.com", consent_personal_data=True),  # unchanged once normalised
    person(3, phones=[{"number": "89130000003", "kind": "home", "is_primary": True}]),
    person(4, name="Старая Запись", dms_updated_at="2026-11-01T10:00:00Z"),  # stale
    person(5),
]


@pytest.mark.django_db
def test_the_set_based_path_ends_where_the_record_by_record_path_does(dms_api, monkeypatch):
    answers = [bulk(dms_api, "clients", MIXED), bulk(dms_api, "clients", AGAIN)]
    set_based = (_state(), [statuses(a) for a in answers])

    ClientPhone.objects.all().delete()
    Client.objects.all().delete()
    Client.history.all().delete()
    ClientPhone.history.all().delete()
    monkeypatch.setattr("clients.api.clients.connection.vendor", "sqlite")  # the API's record-by-record path
    answers = [bulk(dms_api, "clients", MIXED), bulk(dms_api, "clients", AGAIN)]
    one_by_one = (_state(), [statuses(a) for a in answers])

    assert set_based == one_by_one
    assert set_based[1] == [["created", "error", "created", "created"], ["unchanged", "updated", "error", "created"]]
