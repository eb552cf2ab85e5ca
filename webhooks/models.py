"""Webhooks to the DMS and the change feed, both read from one outbox.

- `OutboxEvent`: one row per change (a client created, a booking moved…), written in the same transaction as the
  change itself by an in-transaction event handler; a rolled-back change leaves none. Its `position` is given once the
  row is committed (see `webhooks.services.sequence_outbox`), so the change feed hands rows out in commit order,
  without gaps or repeats.
- `Endpoint`: a subscription of an integration — a URL, the events it wants, the secret its requests are signed with.
- `Delivery`: one event owed to one endpoint (unique together: a second worker or a replay never makes a second one);
  its state, attempts and when to try next.
- `DeliveryAttempt`: the log, one row per HTTP attempt: status, latency, the start of the answer.
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from accounts.roles import Capability
from clientdesk.models import TimeStampedModel
from clientdesk.querysets import VisibleQuerySet


class EventType(models.TextChoices):
    CLIENT_CREATED = "client.created", _("Client created")
    CLIENT_UPDATED = "client.updated", _("Client changed")
    VEHICLE_CREATED = "vehicle.created", _("Vehicle created")
    VEHICLE_UPDATED = "vehicle.updated", _("Vehicle changed")
    BOOKING_CREATED = "booking.created", _("Booking created")
    BOOKING_MOVED = "booking.moved", _("Booking moved")
    BOOKING_STATUS = "booking.status_changed", _("Booking status changed")
    CALL_TASK_CLOSED = "call_task.closed", _("Call task worked to its end")
    SURVEY_ANSWERED = "survey.answered", _("Follow-up survey answered")


def new_secret() -> str:
    return secrets.token_urlsafe(32)


class ManagedQuerySet(VisibleQuerySet):
    """Endpoints and their deliveries: configured by whoever manages users and their API keys (the head)."""

    view_capability = Capability.MANAGE_USERS


class FeedQuerySet(VisibleQuerySet):
    """The change feed tells of clients, vehicles and bookings: read by whoever may see clients (the DMS)."""

    view_capability = Capability.VIEW_CLIENTS


class Endpoint(TimeStampedModel):
    """Where an integration wants to be told of changes, and which ones."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("integration"),
        on_delete=models.PROTECT,
        related_name="webhook_endpoints",
        help_text=_("The integration user these webhooks are for."),
    )
    url = models.URLField(_("URL"), max_length=500)
    events = models.JSONField(_("events"), default=list, blank=True, help_text=_("Event types sent; empty means all."))
    secret = models.CharField(_("secret"), max_length=100, default=new_secret, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    disabled_reason = models.CharField(_("why disabled"), max_length=300, blank=True)
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True)
    failures_in_a_row = models.PositiveIntegerField(_("failures in a row"), default=0)

    objects = ManagedQuerySet.as_manager()
    # Who changed the subscription and when: its URL, events, switching off and on. Not the secret itself (a rotation
    # is recorded with its reason, never its value), nor the failure counters a worker moves on every attempt.
    history = HistoricalRecords(excluded_fields=["secret", "failing_since", "failures_in_a_row", "updated_at"])

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.url

    def wants(self, event_type: str) -> bool:
        return not self.events or event_type in self.events


class OutboxEvent(models.Model):
    """One change, as the webhooks and the change feed tell it. Never updated but for its `position`."""

    event_type = models.CharField(_("event"), max_length=40, choices=EventType.choices)
    record_type = models.CharField(_("record type"), max_length=20)
    record_id = models.BigIntegerField(_("record id"))
    payload = models.JSONField(_("payload"), default=dict)
    created_at = models.DateTimeField(_("made"), auto_now_add=True)
    # Given once the row is committed: the commit order the change feed reads by (null until then).
    position = models.BigIntegerField(_("position"), null=True, blank=True, unique=True)

    objects = FeedQuerySet.as_manager()

    class Meta:
        verbose_name = _("outbox event")
        verbose_name_plural = _("outbox events")
        indexes = [
            models.Index(fields=["id"], condition=Q(position__isnull=True), name="outbox_unsequenced_idx"),
            models.Index(fields=["record_type", "record_id", "id"], name="outbox_record_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} #{self.record_id}"


class Delivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        DELIVERED = "delivered", pgettext_lazy("webhook delivery", "Delivered")
        FAILED = "failed", _("Given up")

    event = models.ForeignKey(OutboxEvent, verbose_name=_("event"), on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(
        Endpoint, verbose_name=_("endpoint"), on_delete=models.CASCADE, related_name="deliveries"
    )
    # Copied from the event: the order per record is kept by delivering a record's events one after another.
    record_key = models.CharField(_("record"), max_length=40)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    created_at = models.DateTimeField(_("made"), auto_now_add=True)

    objects = ManagedQuerySet.as_manager()

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [models.UniqueConstraint(fields=["event", "endpoint"], name="delivery_once_per_endpoint")]
        indexes = [
            models.Index(fields=["next_attempt_at", "id"], condition=Q(status="pending"), name="delivery_due_idx"),
            models.Index(fields=["endpoint", "record_key", "id"], name="delivery_record_order_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint}"


class DeliveryAttempt(models.Model):
    delivery = models.ForeignKey(Delivery, verbose_name=_("delivery"), on_delete=models.CASCADE, related_name="log")
    at = models.DateTimeField(_("at"), auto_now_add=True)
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    latency_ms = models.PositiveIntegerField(_("latency, ms"), default=0)
    response_excerpt = models.CharField(_("answer"), max_length=500, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    ok = models.BooleanField(_("succeeded"), default=False)

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.delivery_id}: {self.status_code or self.error}"
