"""What only PostgreSQL can show: trigram indexes serving the search, and concurrent DMS upserts."""

import pytest
from django.db import connection

from clients.models import Client, ClientPhone, Vehicle
from clients.selectors import search_client_ids
from clients.services.clients import PhoneInput, client_upsert_by_dms_id
from tests.concurrency import run_at_once
from tests.factories import VehicleFactory, client_with_phone

pytestmark = pytest.mark.postgres


def plan_of(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        # Leave the planner only bitmap scans, which is how a GIN index is read; on a tiny table it would rather scan.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("queryset", "index"),
    [
        (lambda: ClientPhone.objects.filter(number__contains="912345"), "phone_number_trgm"),
        (lambda: Client.objects.filter(search_name__contains="иванов"), "client_name_trgm"),
        (lambda: Vehicle.objects.filter(vin__contains="XTA2109"), "vehicle_vin_trgm"),
        (lambda: Vehicle.objects.filter(plate__contains="А123"), "vehicle_plate_trgm"),
    ],
)
def test_contains_searches_are_served_by_trigram_indexes(queryset, index):
    client = client_with_phone("+79123456789", name="Иванов Иван")
    VehicleFactory(owner=client, vin="XTA21099012345678", plate="А123ВС77")
    assert index in plan_of(queryset())


@pytest.mark.django_db
def test_search_uses_the_index_end_to_end(manager):
    client = client_with_phone("+79123456789", name="Иванов Иван")
    assert list(search_client_ids("912 345")) == [client.pk]


@pytest.mark.django_db(transaction=True)
def test_concurrent_dms_upserts_of_one_record_give_one_row(integration):
    def push(n: int) -> bool:
        _client, was_created = client_upsert_by_dms_id(
            by=integration, dms_id="DMS-RACE", name=f"Гонщиков {n}", phones=[PhoneInput("89123456789")]
        )
        return was_created

    created, errors = run_at_once(10, push)

    assert errors == []
    assert created.count(True) == 1
    assert Client.objects.filter(dms_id="DMS-RACE").count() == 1
    assert ClientPhone.objects.filter(client__dms_id="DMS-RACE").count() == 1
