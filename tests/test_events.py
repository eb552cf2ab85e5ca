"""Domain events (clientdesk/events.py): delivered after commit, never on rollback, a failure logged and retried."""

import logging
from dataclasses import dataclass

import pytest
from django.db import transaction

from clientdesk import events
from clientdesk.models import Heartbeat

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class ThingHappened(events.DomainEvent):
    thing_id: int


SEEN: list[int] = []
FAILURES = {"left": 0}


def remember(event: ThingHappened) -> None:
    SEEN.append(event.thing_id)


def write_then_maybe_fail(event: ThingHappened) -> None:
    """A handler that writes, then fails while FAILURES["left"] > 0: its write must not survive the failure."""
    Heartbeat.objects.create(name=f"thing-{event.thing_id}-{len(SEEN)}", beat_at="2026-01-01T00:00Z")
    if FAILURES["left"]:
        FAILURES["left"] -= 1
        raise RuntimeError("a passing fault")
    SEEN.append(event.thing_id)


@pytest.fixture(autouse=True)
def _clean_subscriptions():
    saved = {k: list(v) for k, v in events._subscriptions.items()}
    SEEN.clear()
    FAILURES["left"] = 0
    yield
    events._subscriptions.clear()
    events._subscriptions.update(saved)


def test_subscribers_hear_of_an_event_only_once_its_transaction_commits(django_capture_on_commit_callbacks):
    events.subscribe(ThingHappened, remember)
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            events.publish(ThingHappened(thing_id=1))
            assert SEEN == []  # not inside the transaction
    assert SEEN == [1]


def test_a_rolled_back_transaction_publishes_nothing(django_capture_on_commit_callbacks):
    events.subscribe(ThingHappened, remember)
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(ZeroDivisionError), transaction.atomic():
            events.publish(ThingHappened(thing_id=2))
            _ = 1 / 0
    assert SEEN == []


def test_subscribing_twice_delivers_once(django_capture_on_commit_callbacks):
    events.subscribe(ThingHappened, remember)
    events.subscribe(ThingHappened, remember)
    with django_capture_on_commit_callbacks(execute=True):
        events.publish(ThingHappened(thing_id=3))
    assert SEEN == [3]


def refuse(event: ThingHappened) -> None:
    Heartbeat.objects.create(name=f"refused-{event.thing_id}", beat_at="2026-01-01T00:00Z")
    raise ValueError("no such thing")


def test_an_in_transaction_handler_runs_at_once_and_its_work_rolls_back_with_the_publisher(
    django_capture_on_commit_callbacks,
):
    events.subscribe(ThingHappened, remember, in_transaction=True)
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(ZeroDivisionError), transaction.atomic():
            events.publish(ThingHappened(thing_id=4))
            assert SEEN == [4]  # inside the transaction
            _ = 1 / 0


def test_an_in_transaction_handler_may_refuse_the_change(django_capture_on_commit_callbacks):
    events.subscribe(ThingHappened, refuse, in_transaction=True)
    events.subscribe(ThingHappened, remember)
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(ValueError, match="no such thing"), transaction.atomic():
            Heartbeat.objects.create(name="publisher", beat_at="2026-01-01T00:00Z")
            events.publish(ThingHappened(thing_id=5))
    assert not Heartbeat.objects.filter(name__in=["publisher", "refused-5"]).exists()
    assert SEEN == []  # the after-commit subscriber heard nothing of a change that did not happen
    with pytest.raises(ValueError, match="cannot be retried"):
        events.subscribe(ThingHappened, remember, durable=True, in_transaction=True)


def test_only_events_and_named_handlers_are_accepted():
    with pytest.raises(TypeError):
        events.subscribe(dict, remember)
    with pytest.raises(TypeError):
        events.publish({"thing_id": 1})
    with pytest.raises(ValueError, match="module-level"):
        events.subscribe(ThingHappened, lambda e: None, durable=True)


def test_a_failing_handler_is_logged_and_undone_and_the_publisher_keeps_its_work(
    django_capture_on_commit_callbacks, caplog
):
    events.subscribe(ThingHappened, write_then_maybe_fail)  # not durable: logged, not retried
    FAILURES["left"] = 1
    with caplog.at_level(logging.ERROR, logger="clientdesk.events"):
        with django_capture_on_commit_callbacks(execute=True):
            Heartbeat.objects.create(name="publisher", beat_at="2026-01-01T00:00Z")
            events.publish(ThingHappened(thing_id=4))
    assert Heartbeat.objects.filter(name="publisher").exists()
    assert not Heartbeat.objects.filter(name__startswith="thing-4").exists()  # the handler's write rolled back
    assert "write_then_maybe_fail failed" in caplog.text


def test_a_durable_handler_that_fails_is_retried_by_the_task(django_capture_on_commit_callbacks, celery_eager):
    # given a durable handler that fails on the first delivery only
    events.subscribe(ThingHappened, write_then_maybe_fail, durable=True)
    FAILURES["left"] = 1
    # when the event is published (the retry task runs in-process here)
    with django_capture_on_commit_callbacks(execute=True):
        events.publish(ThingHappened(thing_id=5))
    # then the retry delivered it, once
    assert SEEN == [5]
    assert Heartbeat.objects.filter(name__startswith="thing-5").count() == 1


def test_a_retry_for_a_handler_that_no_longer_subscribes_is_dropped():
    assert events.redeliver(events.dotted_name(ThingHappened), {"thing_id": 6}, events.dotted_name(remember))
    assert SEEN == []


def test_the_apps_subscribe_to_the_facts_below_them():
    """Who listens to what, in order: (handler, durable, in the publisher's transaction). The fleet reserves or moves
    the loaner and the webhooks write their outbox inside the change's own transaction; the rest react after it."""
    name = events.dotted_name
    expected = {
        "clients.events.DeliveryRecorded": [("documents.services.expected.on_delivery_recorded", True, False)],
        "clients.events.DeliveryCorrected": [
            ("documents.services.expected.on_delivery_corrected", True, False),
            ("calls.handlers.follow_delivery", True, False),
        ],
        "clients.events.ClientsChanged": [("webhooks.handlers.clients_changed", False, True)],
        "clients.events.VehiclesChanged": [("webhooks.handlers.vehicles_changed", False, True)],
        "bookings.events.BookingBooked": [
            ("fleet.handlers.loaner_with_booking", False, True),
            ("calls.handlers.follow_booking", True, False),
            ("webhooks.handlers.booking_booked", False, True),
        ],
        "bookings.events.BookingMoved": [
            ("fleet.handlers.loaner_follows_booking_move", False, True),
            ("calls.handlers.follow_booking", True, False),
            ("webhooks.handlers.booking_moved", False, True),
        ],
        "bookings.events.BookingStatusChanged": [
            ("fleet.handlers.loaner_follows_booking_status", False, True),
            ("calls.handlers.follow_booking", True, False),
            ("reception.events.tint_order_follows_its_booking", True, False),
            ("webhooks.handlers.booking_status_changed", False, True),
        ],
        "fleet.events.LoanerReturnOverdue": [("calls.services.loaners.call_about_overdue_loaner", True, False)],
        "calls.events.CallTaskClosed": [("webhooks.handlers.call_task_closed", False, True)],
        "calls.events.SurveyAnswered": [("webhooks.handlers.survey_answered", False, True)],
    }
    actual = {
        name(event): [(name(s.handler), s.durable, s.in_transaction) for s in events.subscribers(event)]
        for event in events._subscriptions
        if events.subscribers(event)
    }
    assert actual == expected
