"""Domain events: how a lower app lets a higher one react without importing it.

A service of the lower app publishes an event (a frozen dataclass of ids and plain values) inside its transaction;
the higher app subscribes a handler in its `AppConfig.ready()`. Handlers run once the transaction commits, each in
a transaction of its own, in the order they subscribed; a handler that fails is logged and, when it subscribed as
`durable`, retried by a Celery task (`clientdesk.tasks.redeliver_event`), so a reaction that must not be lost
survives a passing fault. A rolled-back transaction publishes nothing.

    # bookings/events.py                      # calls/apps.py, in ready()
    @dataclass(frozen=True)                   events.subscribe(BookingChanged, calls_follow_booking, durable=True)
    class BookingChanged(DomainEvent):
        booking_id: int

A handler subscribed `in_transaction=True` runs instead at once, inside the publisher's transaction: for a reaction
that must commit or roll back with the change itself (a webhook's outbox row, a loaner reserved with its booking). It
may raise to refuse the change (the publisher's transaction rolls back and the caller sees the error), so it must be
quick and must not call out of the database.

This is not Django's model signals: an event names a business fact, is published by the one service that makes it
happen, and its subscribers are listed in one place per app.
"""

import dataclasses
import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils.module_loading import import_string

from clientdesk.celery import send_after_commit

logger = logging.getLogger(__name__)

REDELIVER_TASK = "clientdesk.tasks.redeliver_event"


@dataclasses.dataclass(frozen=True)
class DomainEvent:
    """Base of every event. Fields hold ids and JSON-friendly values, never model instances: a handler reloads what
    it needs (the row may have changed since), and a retried event travels through the broker as JSON."""

    def payload(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


Handler = Callable[[Any], None]


@dataclasses.dataclass(frozen=True)
class Subscription:
    handler: Handler
    durable: bool
    in_transaction: bool = False


_subscriptions: dict[type[DomainEvent], list[Subscription]] = defaultdict(list)


def dotted_name(obj) -> str:
    return f"{obj.__module__}.{obj.__qualname__}"


def subscribe(
    event_type: type[DomainEvent], handler: Handler, *, durable: bool = False, in_transaction: bool = False
) -> None:
    """Call `handler(event)` after each commit that published an `event_type` (or, `in_transaction`, at once inside
    the publisher's transaction). Subscribing twice is harmless (an app's `ready()` may run again in tests)."""
    if not (isinstance(event_type, type) and issubclass(event_type, DomainEvent)):
        raise TypeError(f"{event_type!r} is not a DomainEvent")
    if durable and in_transaction:
        raise ValueError("an in-transaction handler commits or rolls back with its publisher: it cannot be retried")
    if durable and "<locals>" in handler.__qualname__:
        raise ValueError("a durable handler must be a module-level function, so a retry can find it by name")
    subscription = Subscription(handler=handler, durable=durable, in_transaction=in_transaction)
    if subscription not in _subscriptions[event_type]:
        _subscriptions[event_type].append(subscription)


def subscribers(event_type: type[DomainEvent]) -> list[Subscription]:
    return list(_subscriptions.get(event_type, ()))


def publish(event: DomainEvent) -> None:
    """Run the in-transaction handlers of `event` now (an exception propagates to the publisher), and deliver it to the
    others once the current transaction commits (at once outside one)."""
    if not isinstance(event, DomainEvent):
        raise TypeError(f"{event!r} is not a DomainEvent")
    for subscription in subscribers(type(event)):
        if subscription.in_transaction:
            subscription.handler(event)
        else:
            transaction.on_commit(lambda s=subscription: deliver(event, s))


def deliver(event: DomainEvent, subscription: Subscription, *, retry: bool = True) -> bool:
    """Run one handler in its own transaction; True when it succeeded. A failure is logged, then queued for a retry
    when the subscription is durable (and `retry`), never raised: the publisher's work is committed already."""
    try:
        with transaction.atomic():
            subscription.handler(event)
    except Exception:
        logger.exception("%s failed on %r", dotted_name(subscription.handler), event)
        if subscription.durable and retry:
            _queue_retry(event, subscription.handler)
        return False
    return True


def _queue_retry(event: DomainEvent, handler: Handler) -> None:
    # By the task's name: the task module imports this one.
    send_after_commit(REDELIVER_TASK, dotted_name(type(event)), event.payload(), dotted_name(handler))


def redeliver(event_name: str, payload: dict[str, Any], handler_name: str) -> bool:
    """Run one handler again for an event that came back from the broker (the retry task's body)."""
    event_type = import_string(event_name)
    handler = import_string(handler_name)
    subscription = next((s for s in subscribers(event_type) if s.handler is handler), None)
    if subscription is None:
        logger.warning("%s no longer subscribes to %s; dropping the retry", handler_name, event_name)
        return True
    return deliver(event_type(**payload), subscription, retry=False)
