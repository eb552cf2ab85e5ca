"""Every write of the webhooks app: the outbox, endpoints, deliveries and their attempts, and the change feed's
sequencing.

Delivery, in short: an event handler writes the outbox row and one `Delivery` per endpoint that wants it, in the
transaction of the change. A worker takes one due delivery at a time with `SELECT … FOR UPDATE SKIP LOCKED` and holds
that row lock while it posts, so two workers never send the same delivery, and once it is marked delivered no one sends
it again: exactly one successful delivery per event and endpoint (the receiver can still dedupe by the event id). A
delivery waits while an earlier one for the same record and endpoint is still pending, so a record's events arrive in
order. A failure is retried with exponential backoff and jitter up to `MAX_ATTEMPTS`; an endpoint failing for
`DISABLE_AFTER` (or `DISABLE_AFTER_FAILURES` attempts in a row) is disabled and the heads are told.
"""

import hashlib
import hmac
import json
import random
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import User
from accounts.roles import Role
from clientdesk.celery import send_after_commit
from clientdesk.locks import lock_for
from clientdesk.notify import notify
from clientdesk.timefmt import local_datetime_text
from webhooks.models import Delivery, DeliveryAttempt, Endpoint, EventType, OutboxEvent

DELIVER_TASK = "webhooks.tasks.deliver_webhooks"
MAX_ATTEMPTS = 8
RETRY_BASE_SECONDS = 30
RETRY_MAX_SECONDS = 6 * 3600
DISABLE_AFTER = timedelta(hours=24)
DISABLE_AFTER_FAILURES = 20
TIMEOUT_SECONDS = 10
EXCERPT = 500

SIGNATURE_HEADER = "X-ClientDesk-Signature"
TIMESTAMP_HEADER = "X-ClientDesk-Timestamp"
EVENT_ID_HEADER = "X-ClientDesk-Event-Id"
EVENT_TYPE_HEADER = "X-ClientDesk-Event"


# --- the outbox --------------------------------------------------------------------------------------------------


def outbox_record(*, event_type: str, record_type: str, rows: Iterable[tuple[int, dict]]) -> list[OutboxEvent]:
    """Write one outbox row per (record id, payload) and a delivery for each active endpoint that wants the event;
    call inside the transaction of the change. The worker is asked to deliver once it commits."""
    events = _insert_events(event_type, record_type, list(rows))
    endpoints = [e for e in Endpoint.objects.filter(is_active=True) if e.wants(event_type)]
    if events and endpoints:
        now = timezone.now()
        Delivery.objects.bulk_create(
            Delivery(event=event, endpoint=endpoint, record_key=f"{record_type}:{event.record_id}", next_attempt_at=now)
            for event in events
            for endpoint in endpoints
        )
        send_after_commit(DELIVER_TASK)
    return events


def _insert_events(event_type: str, record_type: str, rows: list[tuple[int, dict]]) -> list[OutboxEvent]:
    """The outbox rows, in one statement on PostgreSQL (a bulk batch announces a thousand records at once)."""
    if connection.vendor != "postgresql" or not rows:
        return OutboxEvent.objects.bulk_create(
            OutboxEvent(event_type=event_type, record_type=record_type, record_id=record_id, payload=payload)
            for record_id, payload in rows
        )
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO webhooks_outboxevent (event_type, record_type, record_id, payload, created_at) "
            "SELECT %s, %s, r, p::jsonb, %s FROM unnest(%s::bigint[], %s::text[]) WITH ORDINALITY AS u(r, p, n) "
            "ORDER BY n RETURNING id",
            [
                event_type,
                record_type,
                now,
                [record_id for record_id, _payload in rows],
                [json.dumps(payload, ensure_ascii=False) for _record_id, payload in rows],
            ],
        )
        ids = [row[0] for row in cursor.fetchall()]
    return [
        OutboxEvent(
            id=pk, event_type=event_type, record_type=record_type, record_id=record_id, payload=payload, created_at=now
        )
        for pk, (record_id, payload) in zip(ids, rows, strict=True)
    ]


# --- endpoints ---------------------------------------------------------------------------------------------------


def _clean_events(events: list[str]) -> list[str]:
    unknown = sorted(set(events) - set(EventType.values))
    if unknown:
        raise ValidationError({"events": _("Unknown events: %(events)s.") % {"events": ", ".join(unknown)}})
    return sorted(set(events))


@transaction.atomic
def endpoint_create(*, by: User | None, owner: User, url: str, events: list[str] | None = None) -> Endpoint:
    endpoint = Endpoint(owner=owner, url=url, events=_clean_events(events or []))
    endpoint.full_clean()
    endpoint._history_user = by
    endpoint.save()
    return endpoint


@transaction.atomic
def endpoint_update(*, endpoint: Endpoint, by: User | None, **fields) -> Endpoint:
    endpoint = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
    if "events" in fields:
        fields["events"] = _clean_events(fields["events"])
    for name in ("url", "events"):
        if name in fields:
            setattr(endpoint, name, fields[name])
    if fields.get("is_active") and not endpoint.is_active:
        endpoint.is_active, endpoint.disabled_reason, endpoint.failing_since = True, "", None
        endpoint.failures_in_a_row = 0
    elif fields.get("is_active") is False:
        endpoint.is_active = False
    endpoint.full_clean()
    endpoint._history_user = by
    endpoint.save()
    if endpoint.is_active:
        send_after_commit(DELIVER_TASK)
    return endpoint


@transaction.atomic
def endpoint_rotate_secret(*, endpoint: Endpoint, by: User | None) -> Endpoint:
    endpoint = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
    endpoint.secret = Endpoint._meta.get_field("secret").default()
    endpoint._history_user = by
    endpoint._change_reason = gettext_noop("secret rotated")
    endpoint.save(update_fields=["secret", "updated_at"])
    return endpoint


# --- signing and sending -----------------------------------------------------------------------------------------


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """`v1=` and the hex HMAC-SHA256 of "<timestamp>.<body>" under the endpoint's secret."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


def event_body(event: OutboxEvent) -> bytes:
    return json.dumps(
        {
            "id": event.pk,
            "type": event.event_type,
            "record": {"type": event.record_type, "id": event.record_id},
            "data": event.payload,
            "occurred_at": event.created_at.isoformat(),
        },
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()


def _post(endpoint: Endpoint, event: OutboxEvent) -> tuple[int | None, str, str]:
    """POST the event; (HTTP status or None, the start of the answer, an error text)."""
    body = event_body(event)
    timestamp = str(int(time.time()))
    request = urllib.request.Request(  # noqa: S310 - the URL was validated as http(s) by the model's URLField
        endpoint.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "ClientDesk-Webhooks/1",
            EVENT_ID_HEADER: str(event.pk),
            EVENT_TYPE_HEADER: event.event_type,
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: signature(endpoint.secret, timestamp, body),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:  # noqa: S310
            return answer.status, answer.read(EXCERPT).decode(errors="replace"), ""
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(EXCERPT).decode(errors="replace"), ""
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return None, "", str(getattr(exc, "reason", exc))[:300]


def backoff(attempts: int) -> timedelta:
    """The wait before attempt `attempts + 1`: doubling from RETRY_BASE_SECONDS, capped, with jitter (half to all of
    it), so endpoints that failed together do not retry together."""
    ceiling = min(RETRY_MAX_SECONDS, RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1))
    return timedelta(seconds=ceiling * random.uniform(0.5, 1.0))  # noqa: S311 - jitter, not a secret


def _due(now):
    earlier = Delivery.objects.filter(
        endpoint=OuterRef("endpoint"),
        record_key=OuterRef("record_key"),
        status=Delivery.Status.PENDING,
        id__lt=OuterRef("id"),
    )
    return (
        Delivery.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now, endpoint__is_active=True)
        .exclude(Exists(earlier))
        .select_related("event", "endpoint")
        .order_by("id")
    )


def deliver_next(*, now=None) -> Delivery | None:
    """Take one due delivery (locked: no other worker can take it meanwhile), post it, log the attempt and decide
    what next; None when nothing is due."""
    with transaction.atomic():
        delivery = _due(now or timezone.now()).first()
        if delivery is None:
            return None
        started = time.monotonic()
        status_code, excerpt, error = _post(delivery.endpoint, delivery.event)
        latency = int((time.monotonic() - started) * 1000)
        ok = status_code is not None and 200 <= status_code < 300
        DeliveryAttempt.objects.create(
            delivery=delivery,
            status_code=status_code,
            latency_ms=latency,
            response_excerpt=excerpt[:EXCERPT],
            error=error,
            ok=ok,
        )
        _after_attempt(delivery, ok=ok)
        return delivery


def _after_attempt(delivery: Delivery, *, ok: bool) -> None:
    now = timezone.now()
    endpoint = Endpoint.objects.select_for_update().get(pk=delivery.endpoint_id)
    delivery.attempts += 1
    if ok:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = Delivery.Status.DELIVERED, now, None
        endpoint.failing_since, endpoint.failures_in_a_row = None, 0
        _count_failures(endpoint)
    else:
        if delivery.attempts >= MAX_ATTEMPTS:
            delivery.status, delivery.next_attempt_at = Delivery.Status.FAILED, None
        else:
            wait = backoff(delivery.attempts)
            delivery.next_attempt_at = now + wait
            send_after_commit(DELIVER_TASK, options={"countdown": int(wait.total_seconds()) + 1})
        endpoint.failing_since = endpoint.failing_since or now
        endpoint.failures_in_a_row += 1
        _count_failures(endpoint)
        if endpoint.failures_in_a_row >= DISABLE_AFTER_FAILURES or now - endpoint.failing_since >= DISABLE_AFTER:
            _disable(endpoint)
    delivery.save(update_fields=["status", "attempts", "next_attempt_at", "delivered_at"])


def _count_failures(endpoint: Endpoint) -> None:
    """The worker's counters, written without a history row per attempt (the attempt log has each one)."""
    Endpoint.objects.filter(pk=endpoint.pk).update(
        failing_since=endpoint.failing_since, failures_in_a_row=endpoint.failures_in_a_row
    )


def _disable(endpoint: Endpoint) -> None:
    endpoint.is_active = False
    endpoint.disabled_reason = _("Disabled after %(count)d failed attempts in a row since %(since)s.") % {
        "count": endpoint.failures_in_a_row,
        "since": local_datetime_text(endpoint.failing_since),
    }
    endpoint._change_reason = gettext_noop("disabled after sustained failure")
    endpoint.save(update_fields=["is_active", "disabled_reason"])
    heads = User.objects.filter(role=Role.HEAD, is_active=True)
    notify(
        users=heads,
        title=_("Webhooks to %(url)s were switched off") % {"url": endpoint.url[:120]},
        body=endpoint.disabled_reason,
        url=f"{reverse('webhooks:list')}?endpoint={endpoint.pk}",
        email=True,
    )


def deliver_due(*, limit: int = 200) -> int:
    """Deliver what is due, one at a time, until nothing is or `limit` were tried. Returns how many were tried."""
    tried = 0
    while tried < limit and deliver_next() is not None:
        tried += 1
    return tried


@transaction.atomic
def delivery_replay(*, delivery: Delivery, by: User | None) -> Delivery:
    """Send a delivery again (delivered, given up or waiting): it becomes due now, with a fresh set of attempts; the
    log keeps every earlier attempt."""
    delivery = Delivery.objects.select_for_update().get(pk=delivery.pk)
    delivery.status, delivery.attempts = Delivery.Status.PENDING, 0
    delivery.next_attempt_at, delivery.delivered_at = timezone.now(), None
    delivery.save(update_fields=["status", "attempts", "next_attempt_at", "delivered_at"])
    send_after_commit(DELIVER_TASK)
    return delivery


# --- the change feed ---------------------------------------------------------------------------------------------

_SEQUENCE_LOCK = "webhooks.OutboxEvent.position"

# The committed rows without a position get the next ones, in id order, after the highest given. One sequencer at a
# time (the advisory lock); its UPDATE sees exactly the rows committed when it starts, so a row whose transaction
# commits later is not skipped: it gets a higher position at the next call.
_SEQUENCE_SQL = """
WITH top AS (SELECT coalesce(max(position), 0) AS position FROM webhooks_outboxevent),
ready AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM webhooks_outboxevent WHERE position IS NULL)
UPDATE webhooks_outboxevent o SET position = top.position + ready.n FROM top, ready WHERE o.id = ready.id
"""


def sequence_outbox() -> int:
    """Give positions to the committed outbox rows that have none, in their own transaction: the feed reads by
    position, which follows commit order (ids do not: a transaction that took an id first may commit last). Returns
    how many were given. See docs/readme/dms.md, "The change feed"."""
    with transaction.atomic():
        lock_for(_SEQUENCE_LOCK)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(_SEQUENCE_SQL)
                return cursor.rowcount
        # SQLite runs one writer at a time: the same, in Python.
        top = OutboxEvent.objects.exclude(position=None).order_by("-position").values_list("position", flat=True)
        position = top.first() or 0
        rows = list(OutboxEvent.objects.filter(position=None).order_by("id"))
        for row in rows:
            position += 1
            row.position = position
        OutboxEvent.objects.bulk_update(rows, ["position"])
        return len(rows)
