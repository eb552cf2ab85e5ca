from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from accounts.roles import Capability
from clientdesk.querysets import VisibleQuerySet
from clients.normalize import format_phone


class CallQuerySet(VisibleQuerySet):
    view_capability = Capability.VIEW_CALLS


class Call(models.Model):
    """One phone conversation (or attempt), inbound or outbound, as the manager logged it."""

    class Direction(models.TextChoices):
        INBOUND = "in", _("Inbound")
        OUTBOUND = "out", _("Outbound")

    class Purpose(models.TextChoices):
        BOOKING = "booking", _("Booking")
        CONSULTATION = "consultation", _("Consultation")
        COMPLAINT = "complaint", _("Complaint")
        CONFIRMATION = "confirmation", _("Visit confirmation")
        FOLLOW_UP = "follow_up", _("Follow-up")
        CAMPAIGN = "campaign", _("Campaign")
        OTHER = "other", _("Other")

    class Outcome(models.TextChoices):
        RESOLVED = "resolved", _("Resolved")
        BOOKED = "booked", _("Booked a visit")
        CALLBACK = "callback", _("Call back later")
        TRANSFERRED = "transferred", _("Transferred")
        NO_ANSWER = "no_answer", _("No answer")
        BUSY = "busy", _("Busy")
        WRONG_NUMBER = "wrong_number", _("Wrong number")

    # Outcomes that only make sense when we were the ones calling.
    OUTBOUND_ONLY_OUTCOMES = frozenset({Outcome.NO_ANSWER, Outcome.BUSY})

    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices)
    client = models.ForeignKey(
        "clients.Client",
        verbose_name=_("client"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="calls",
        help_text=_("Empty for an unknown caller."),
    )
    vehicle = models.ForeignKey(
        "clients.Vehicle",
        verbose_name=_("vehicle"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="calls",
    )
    phone_number = models.CharField(_("number dialled"), max_length=32, blank=True)
    phone_e164 = models.CharField(_("number (E.164)"), max_length=16, blank=True, editable=False)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("manager"), on_delete=models.PROTECT, related_name="calls"
    )
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    duration = models.PositiveIntegerField(_("duration, s"), default=0)
    purpose = models.CharField(_("purpose"), max_length=16, choices=Purpose.choices, default=Purpose.OTHER)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, default=Outcome.RESOLVED)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("logged"), default=timezone.now, editable=False)

    history = HistoricalRecords()
    objects = CallQuerySet.as_manager()

    class Meta:
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        constraints = [
            models.CheckConstraint(
                condition=Q(client__isnull=False) | ~Q(phone_number=""), name="call_has_client_or_number"
            ),
            models.CheckConstraint(
                condition=Q(direction="out") | ~Q(outcome__in=["no_answer", "busy"]),
                name="call_inbound_was_answered",
            ),
        ]
        indexes = [
            models.Index(fields=["client", "-started_at"], name="call_client_time_idx"),
            models.Index(fields=["manager", "-started_at"], name="call_manager_time_idx"),
            models.Index(fields=["-started_at", "-id"], name="call_time_idx"),
            models.Index(fields=["phone_e164"], name="call_phone_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.started_at:%Y-%m-%d %H:%M}"

    def clean(self) -> None:
        errors = {}
        if self.client_id is None and not self.phone_number:
            errors["phone_number"] = _("Give the number, or choose the client.")
        if self.vehicle_id and self.client_id and self.vehicle.owner_id != self.client_id:
            errors["vehicle"] = _("This vehicle belongs to another client.")
        if self.direction == self.Direction.INBOUND and self.outcome in self.OUTBOUND_ONLY_OUTCOMES:
            errors["outcome"] = _("An inbound call was answered; 'no answer' and 'busy' are for outbound calls.")
        if self.started_at and self.started_at > timezone.now() + timedelta(minutes=5):
            errors["started_at"] = _("A call cannot start in the future.")
        if errors:
            raise ValidationError(errors)

    @property
    def phone_display(self) -> str:
        return format_phone(self.phone_e164) if self.phone_e164 else self.phone_number
