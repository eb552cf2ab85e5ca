"""The change feed: every change in commit order, resumable from any cursor, without gaps or repeats — even while a
transaction that wrote a change earlier is still running when a later one has committed."""

import threading

import pytest
from django.db import connections, transaction

from clients.services.clients import client_create
from webhooks.models import OutboxEvent

FEED = "/api/v1/changes/"


def read(api, since=0, limit=100) -> dict:
    response = api.get(FEED, {"since": since, "limit": limit})
    assert response.status_code == 200, response.content
    return response.json()


def read_all(api, since=0, limit=2) -> list[dict]:
    seen = []
    while True:
        page = read(api, since, limit)
        seen += page["results"]
        since = page["next_since"]
        if not page["has_more"]:
            return seen


@pytest.mark.django_db(transaction=True)
def test_the_feed_resumes_from_any_cursor_without_gaps_or_repeats(dms_api, manager):
    clients = [client_create(by=manager, name=f"Клиент {n}") for n in range(5)]

    seen = read_all(dms_api, limit=2)

    assert [c["record_id"] for c in seen] == [c.pk for c in clients]
    assert [c["cursor"] for c in seen] == [1, 2, 3, 4, 5]
    assert {c["type"] for c in seen} == {"client.created"}
    # Resuming from the middle gives the rest; after the end, nothing, and the same cursor back.
    assert [c["cursor"] for c in read(dms_api, since=3)["results"]] == [4, 5]
    assert read(dms_api, since=5) == {"results": [], "next_since": 5, "has_more": False}


@pytest.mark.postgres  # two connections at once
@pytest.mark.django_db(transaction=True)
def test_a_change_committed_after_a_later_one_is_not_skipped(dms_api, manager):
    """The older transaction takes its id first and commits last: a feed by id would have handed out the later one's
    id and then skipped the older one for good. By position, each comes in the order it committed."""
    wrote, release, done = threading.Event(), threading.Event(), threading.Event()

    def older() -> None:
        try:
            with transaction.atomic():
                client_create(by=manager, name="Долгая Транзакция")
                wrote.set()
                release.wait(10)
        finally:
            connections.close_all()
            done.set()

    worker = threading.Thread(target=older)
    worker.start()
    assert wrote.wait(10)
    quick = client_create(by=manager, name="Быстрая Транзакция")

    first = read(dms_api)
    release.set()
    assert done.wait(10)
    worker.join()
    then = read(dms_api, since=first["next_since"])

    slow = OutboxEvent.objects.exclude(record_id=quick.pk).get()
    assert slow.pk < OutboxEvent.objects.get(record_id=quick.pk).pk  # the older one took its id first
    assert [(c["record_id"], c["cursor"]) for c in first["results"]] == [(quick.pk, 1)]
    assert [(c["record_id"], c["cursor"]) for c in then["results"]] == [(slow.record_id, 2)]


@pytest.mark.django_db
@pytest.mark.parametrize("params", [{"since": "x"}, {"since": -1}, {"limit": 0}, {"limit": 100000}])
def test_bad_feed_parameters_are_a_400(dms_api, params):
    assert dms_api.get(FEED, params).status_code == 400
