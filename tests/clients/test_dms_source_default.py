"""A client the DMS creates came from the DMS unless its record says otherwise: the single upsert and the set-based
bulk take that default from one place, so they cannot drift apart."""

import pytest

from clients.models import Client
from clients.services import clients as client_services
from clients.services.bulk import BulkRecord, client_bulk_upsert
from clients.services.clients import client_upsert_by_dms_id

pytestmark = pytest.mark.postgres  # the set-based bulk is PostgreSQL's


def _sources() -> dict[str, str]:
    return dict(Client.objects.values_list("dms_id", "source"))


def test_both_paths_take_the_default_from_its_one_place(manager, monkeypatch):
    # given the defaults of a client the DMS creates, changed where they are written
    monkeypatch.setattr(client_services, "DMS_CLIENT_DEFAULTS", {"source": Client.Source.OTHER})
    # when one client comes by the single upsert and one by the bulk
    client_upsert_by_dms_id(by=manager, dms_id="C-1", name="Один Клиент")
    client_bulk_upsert(by=manager, records=[BulkRecord(0, "C-2", {"name": "Два Клиента"})])
    # then both follow it
    assert _sources() == {"C-1": "other", "C-2": "other"}


def test_the_records_own_source_wins_on_both_paths(manager):
    client_upsert_by_dms_id(by=manager, dms_id="C-1", name="Один Клиент")
    client_upsert_by_dms_id(by=manager, dms_id="C-2", name="Два Клиента", source=Client.Source.WALK_IN)
    client_bulk_upsert(
        by=manager,
        records=[
            BulkRecord(0, "C-3", {"name": "Три Клиента"}),
            BulkRecord(1, "C-4", {"name": "Четыре Клиента", "source": Client.Source.WALK_IN}),
        ],
    )
    assert _sources() == {"C-1": "dms", "C-2": "walk_in", "C-3": "dms", "C-4": "walk_in"}
