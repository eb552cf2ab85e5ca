"""Webhooks to the DMS: the outbox written with the change, signed deliveries to a real HTTP receiver, retries with
backoff, the delivery log, replay, switching off after sustained failure, order per record, exactly one delivery per
event even with two workers."""

import json
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from rest_framework.test import APIClient

from clientdesk.models import Notification
from clients.models import Client
from clients.services.clients import client_create, client_update
from tests.concurrency import run_at_once
from tests.webhooks.receiver import Receiver
from webhooks import services
from webhooks.models import Delivery, DeliveryAttempt, Endpoint, OutboxEvent
from webhooks.services import backoff, deliver_due, deliver_next, endpoint_create

LATER = timedelta(days=2)  # past any backoff


def later():
    return timezone.now() + LATER


@pytest.fixture
def api_as_head(head):
    api = APIClient()
    api.force_authenticate(head)
    return api


def endpoint_for(receiver: Receiver, owner, **extra) -> Endpoint:
    endpoint = endpoint_create(by=None, owner=owner, url=receiver.url, **extra)
    receiver.secret = endpoint.secret
    return endpoint


@pytest.mark.django_db
def test_a_change_writes_its_outbox_row_in_its_own_transaction(manager):
    client = client_create(by=manager, name="Иванов Иван")
    with pytest.raises(RuntimeError), transaction.atomic():
        client_create(by=manager, name="Откатившийся Клиент")
        raise RuntimeError

    events = list(OutboxEvent.objects.values_list("event_type", "record_id"))
    assert events == [("client.created", client.pk)]


@pytest.mark.django_db
def test_an_unchanged_push_announces_nothing(manager):
    client = client_create(by=manager, name="Иванов Иван")
    client_update(client=client, by=manager, name="Иванов Иван")
    client_update(client=client, by=manager, name="Иванов Пётр")

    assert list(OutboxEvent.objects.order_by("id").values_list("event_type", flat=True)) == [
        "client.created",
        "client.updated",
    ]


@pytest.mark.django_db
def test_a_bulk_batch_announces_each_record_with_one_statement(dms_api):
    body = {"records": [{"dms_id": f"C-{n}", "name": f"Клиент {n}"} for n in range(5)]}
    dms_api.post("/api/v1/clients/bulk/", json.dumps(body), content_type="application/json")

    assert OutboxEvent.objects.filter(event_type="client.created").count() == 5
    assert sorted(OutboxEvent.objects.values_list("payload__dms_id", flat=True)) == [f"C-{n}" for n in range(5)]


@pytest.mark.django_db
def test_a_delivery_is_signed_and_retried_with_backoff_until_it_lands(manager, integration):
    with Receiver(fail_first=2) as receiver:
        endpoint = endpoint_for(receiver, integration)
        client = client_create(by=manager, name="Иванов Иван", dms_id="C-1")

        first = deliver_next()
        delivery = Delivery.objects.get()
        assert delivery.status == "pending" and delivery.attempts == 1
        waited = delivery.next_attempt_at - timezone.now()
        assert timedelta(seconds=services.RETRY_BASE_SECONDS * 0.5 - 2) <= waited <= timedelta(seconds=30)
        assert deliver_next() is None  # not due yet
        deliver_next(now=later())
        deliver_next(now=later())

    assert first is not None
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and delivery.attempts == 3
    assert [r["code"] for r in receiver.requests] == [500, 500, 200]
    assert all(r["signed"] for r in receiver.requests)
    assert receiver.accepted == [delivery.event_id]
    sent = receiver.requests[-1]["body"]
    assert sent["type"] == "client.created"
    assert sent["record"] == {"type": "client", "id": client.pk}
    assert sent["data"] == {"id": client.pk, "dms_id": "C-1"}
    log = list(DeliveryAttempt.objects.order_by("id").values_list("status_code", "ok", "response_excerpt"))
    assert log == [(500, False, "try again later"), (500, False, "try again later"), (200, True, "ok")]
    endpoint.refresh_from_db()
    assert endpoint.failures_in_a_row == 0 and endpoint.failing_since is None


def test_backoff_doubles_with_jitter_up_to_its_cap():
    for attempts in range(1, 12):
        ceiling = min(services.RETRY_MAX_SECONDS, services.RETRY_BASE_SECONDS * 2 ** (attempts - 1))
        waits = {backoff(attempts).total_seconds() for _ in range(20)}
        assert all(ceiling / 2 <= w <= ceiling for w in waits)
        assert len(waits) > 1  # jittered


@pytest.mark.django_db
def test_a_wrong_signature_is_refused_by_the_receiver(manager, integration):
    with Receiver() as receiver:
        endpoint_for(receiver, integration)
        receiver.secret = "not the secret"
        client_create(by=manager, name="Иванов Иван")
        deliver_next()

    assert receiver.requests[0]["signed"] is False
    assert Delivery.objects.get().status == "pending"


@pytest.mark.django_db
def test_a_failing_endpoint_gives_up_then_is_switched_off_and_the_head_told(manager, integration, head, monkeypatch):
    monkeypatch.setattr(services, "MAX_ATTEMPTS", 2)
    monkeypatch.setattr(services, "DISABLE_AFTER_FAILURES", 3)
    with Receiver(fail_first=100) as receiver:
        endpoint = endpoint_for(receiver, integration)
        client_create(by=manager, name="Первый Клиент")
        client_create(by=manager, name="Второй Клиент")
        for _ in range(6):
            deliver_next(now=later())

    statuses = list(Delivery.objects.order_by("id").values_list("status", "attempts"))
    assert statuses == [("failed", 2), ("pending", 1)]
    endpoint.refresh_from_db()
    assert not endpoint.is_active and endpoint.disabled_reason
    assert len(receiver.requests) == 3  # nothing more once switched off
    assert Notification.objects.filter(user=head, title__contains=receiver.url[:20]).exists()
    # the history has the subscription made and switched off, not a row per failed attempt
    history = list(endpoint.history.order_by("history_id").values_list("is_active", "history_change_reason"))
    assert history == [(True, None), (False, "disabled after sustained failure")]


@pytest.mark.django_db
def test_the_head_replays_a_delivery_from_the_log_and_switches_an_endpoint_back_on(
    manager, integration, head, api_as_head
):
    with Receiver() as receiver:
        endpoint = endpoint_for(receiver, integration)
        client_create(by=manager, name="Иванов Иван")
        deliver_due()
        delivery = Delivery.objects.get()

        answer = api_as_head.post(f"/api/v1/webhook-deliveries/{delivery.pk}/replay/")
        assert answer.status_code == 200
        assert answer.json()["status"] == "pending"
        deliver_due()

        Endpoint.objects.filter(pk=endpoint.pk).update(is_active=False, disabled_reason="x", failures_in_a_row=9)
        back = api_as_head.patch(f"/api/v1/webhook-endpoints/{endpoint.pk}/", {"is_active": True}, format="json")

    assert back.status_code == 200 and back.json()["is_active"] and back.json()["failures_in_a_row"] == 0
    switched_on = endpoint.history.latest("history_id")
    assert (switched_on.is_active, switched_on.history_user) == (True, head)
    assert receiver.accepted == [delivery.event_id, delivery.event_id]
    listed = api_as_head.get("/api/v1/webhook-deliveries/", {"endpoint": endpoint.pk}).json()["results"]
    assert [len(d["log"]) for d in listed] == [2]


@pytest.mark.django_db
def test_a_records_events_arrive_in_order_even_when_the_first_fails(manager, integration):
    with Receiver(fail_first=1) as receiver:
        endpoint_for(receiver, integration)
        client = client_create(by=manager, name="Иванов Иван")
        client_update(client=client, by=manager, name="Иванов Пётр")
        other = client_create(by=manager, name="Другой Клиент")

        deliver_due()  # the first fails; the second waits behind it; the other client's goes
        waiting = list(Delivery.objects.order_by("id").values_list("status", flat=True))
        deliver_due()
        deliver_next(now=later())
        deliver_next(now=later())

    created, updated, other_created = OutboxEvent.objects.order_by("id")
    assert waiting == ["pending", "pending", "delivered"]
    assert receiver.accepted == [other_created.pk, created.pk, updated.pk]
    assert other_created.record_id == other.pk


@pytest.mark.django_db
def test_endpoint_events_filter_and_bad_input(integration, api_as_head):
    with Receiver() as receiver:
        answer = api_as_head.post(
            "/api/v1/webhook-endpoints/",
            {"owner": integration.pk, "url": receiver.url, "events": ["booking.moved"]},
            format="json",
        )
        assert answer.status_code == 201, answer.json()
        assert len(answer.json()["secret"]) > 30
        client_create(by=None, name="Иванов Иван")
    assert OutboxEvent.objects.count() == 1
    assert not Delivery.objects.exists()  # the endpoint wants booking moves only
    bad = api_as_head.post(
        "/api/v1/webhook-endpoints/", {"owner": integration.pk, "url": "ftp://x", "events": ["nope"]}, format="json"
    )
    assert bad.status_code == 400 and {"url", "events"} <= set(bad.json())


@pytest.mark.postgres  # row locks with SKIP LOCKED; SQLite runs one writer at a time anyway
@pytest.mark.django_db(transaction=True)
def test_two_workers_deliver_each_event_exactly_once(manager, integration):
    with Receiver(delay=0.02) as receiver:
        endpoint_for(receiver, integration)
        for n in range(12):
            client_create(by=manager, name=f"Клиент {n}")

        results, errors = run_at_once(2, lambda _n: deliver_due())

    assert errors == []
    assert sum(results) == 12
    assert sorted(receiver.accepted) == sorted(OutboxEvent.objects.values_list("id", flat=True))
    assert len(receiver.requests) == 12
    assert Delivery.objects.filter(status="delivered").count() == 12
    assert Client.objects.count() == 12
