from datetime import time, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from accounts.roles import Capability
from clientdesk.querysets import VisibleQuerySet
from clientdesk.timefmt import local_datetime_text
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
        CONFIRMED = "confirmed", _("Visit confirmed")
        CANCELLED = "cancelled", _("Visit cancelled")
        TALKED = "talked", _("Talked")
        DECLINED = "declined", _("Not interested")
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
    task = models.ForeignKey(
        "calls.CallTask",
        verbose_name=_("call task"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="calls",
        help_text=_("The outbound task this call worked."),
    )
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
            models.Index(fields=["vehicle", "-started_at"], name="call_vehicle_time_idx"),
            models.Index(fields=["manager", "-started_at"], name="call_manager_time_idx"),
            models.Index(fields=["-started_at", "-id"], name="call_time_idx"),
            models.Index(fields=["phone_e164"], name="call_phone_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {local_datetime_text(self.started_at)}"

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
        return self.phone_label(self.phone_e164, self.phone_number)

    @staticmethod
    def phone_label(e164: str, number: str) -> str:
        """The number as people read it, from its columns: also for rows read as values() (the timeline's lines)."""
        return format_phone(e164) if e164 else number


class CallRules(models.Model):
    """The department's rules for outbound calls, one row the head edits (defaults match DOMAIN.md)."""

    calling_from = models.TimeField(_("calls from"), default=time(9))
    calling_until = models.TimeField(_("calls until"), default=time(21))
    confirmation_hour = models.TimeField(
        _("confirmation calls from"), default=time(10), help_text=_("On the working day before the visit.")
    )
    follow_up_day = models.PositiveSmallIntegerField(
        _("follow-up on day"), default=7, help_text=_("Days after the car was handed over.")
    )
    retry_minutes = models.PositiveSmallIntegerField(_("retry after, minutes"), default=120)
    max_attempts = models.PositiveSmallIntegerField(_("attempts before 'unreachable'"), default=3)
    planner_catch_up_days = models.PositiveSmallIntegerField(
        _("catch up missed planning for, days"), default=14, help_text=_("How far back a planner looks after downtime.")
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("call rules")
        verbose_name_plural = _("call rules")
        constraints = [
            models.CheckConstraint(
                condition=Q(calling_from__lt=F("calling_until")),
                name="call_rules_window_ordered",
                violation_error_message=_("The calling window must open before it closes."),
            ),
            models.CheckConstraint(
                condition=Q(max_attempts__gte=1, max_attempts__lte=20), name="call_rules_attempts_sane"
            ),
            models.CheckConstraint(condition=Q(retry_minutes__gte=5), name="call_rules_retry_sane"),
            models.CheckConstraint(
                condition=Q(follow_up_day__gte=1, follow_up_day__lte=60), name="call_rules_day_sane"
            ),
            # One department, one set of rules: the single row has id 1.
            models.CheckConstraint(condition=Q(id=1), name="call_rules_single_row"),
        ]

    def __str__(self) -> str:
        return str(_("Call rules"))

    @classmethod
    def current(cls) -> "CallRules":
        """The rules, made with the defaults on first use; two first uses at once still make one row."""
        return cls.objects.get_or_create(pk=1)[0]


class Campaign(models.Model):
    """An outbound campaign the head runs: a script, a segment of consenting clients, days to spread the calls over."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        RUNNING = "running", _("Running")
        FINISHED = "finished", _("Finished")
        CANCELLED = "cancelled", _("Cancelled")

    name = models.CharField(_("name"), max_length=200)
    script = models.TextField(_("script"), help_text=_("What the manager says."))
    segment = models.JSONField(_("segment"), default=dict, blank=True)
    starts_on = models.DateField(_("call from"))
    ends_on = models.DateField(_("call until"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    launched_at = models.DateTimeField(_("launched"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(starts_on__lte=F("ends_on")),
                name="campaign_dates_ordered",
                violation_error_message=_("The campaign must start before it ends."),
            )
        ]

    def __str__(self) -> str:
        return self.name


class CampaignMember(models.Model):
    """A client a campaign will call, and the day the call is planned for."""

    campaign = models.ForeignKey(Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="members")
    client = models.ForeignKey(
        "clients.Client", verbose_name=_("client"), on_delete=models.PROTECT, related_name="campaign_memberships"
    )
    planned_for = models.DateField(_("planned for"))

    class Meta:
        verbose_name = _("campaign member")
        verbose_name_plural = _("campaign members")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "client"], name="campaign_member_once"),
        ]
        indexes = [models.Index(fields=["campaign", "planned_for"], name="campaign_member_day_idx")]

    def __str__(self) -> str:
        return f"{self.campaign} · {self.client}"


class Survey(models.Model):
    """The short satisfaction survey (CSI) of the 7-day follow-up call; the head defines its questions."""

    name = models.CharField(_("name"), max_length=200)
    is_active = models.BooleanField(_("in use"), default=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"],
                condition=Q(is_active=True),
                name="survey_one_active",
                violation_error_message=_("Only one survey can be in use."),
            )
        ]

    def __str__(self) -> str:
        return self.name


class SurveyQuestion(models.Model):
    class Kind(models.TextChoices):
        SCALE_5 = "scale5", _("Score 1–5")
        SCALE_10 = "scale10", _("Score 0–10")
        YES_NO = "yes_no", _("Yes / no")
        TEXT = "text", _("Free text")

    survey = models.ForeignKey(Survey, verbose_name=_("survey"), on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    text = models.CharField(_("question"), max_length=300)
    kind = models.CharField(_("answer"), max_length=10, choices=Kind.choices, default=Kind.SCALE_5)
    counts_for_csi = models.BooleanField(_("counts for CSI"), default=True)

    class Meta:
        verbose_name = _("survey question")
        verbose_name_plural = _("survey questions")
        ordering = ["survey", "position", "id"]

    def __str__(self) -> str:
        return self.text

    @property
    def is_required(self) -> bool:
        """A question with a score must be answered on the follow-up call (the CSI is made of them); free text may
        stay empty."""
        return self.kind != self.Kind.TEXT

    @property
    def max_score(self) -> int | None:
        return {self.Kind.SCALE_5: 5, self.Kind.SCALE_10: 10, self.Kind.YES_NO: 1}.get(self.kind)


class SurveyResponse(models.Model):
    """A buyer's answers to the follow-up survey: one per delivery."""

    delivery = models.OneToOneField(
        "clients.Delivery", verbose_name=_("delivery"), on_delete=models.PROTECT, related_name="survey_response"
    )
    survey = models.ForeignKey(Survey, verbose_name=_("survey"), on_delete=models.PROTECT, related_name="responses")
    declined = models.BooleanField(
        _("declined the survey"),
        default=False,
        db_default=False,
        help_text=_("The buyer talked but would not answer: counted apart in the CSI report, never as a score."),
    )
    answered_at = models.DateTimeField(_("answered"), default=timezone.now)
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("asked by"), on_delete=models.PROTECT, related_name="+"
    )
    csi = models.DecimalField(_("CSI, %"), max_digits=5, decimal_places=1, null=True, blank=True)

    class Meta:
        verbose_name = _("survey response")
        verbose_name_plural = _("survey responses")
        indexes = [models.Index(fields=["answered_at"], name="survey_response_at_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(declined=False) | Q(csi__isnull=True), name="survey_response_declined_has_no_score"
            )
        ]

    def __str__(self) -> str:
        return f"{self.delivery} · {self.csi}"


class SurveyAnswer(models.Model):
    response = models.ForeignKey(
        SurveyResponse, verbose_name=_("response"), on_delete=models.CASCADE, related_name="answers"
    )
    question = models.ForeignKey(SurveyQuestion, verbose_name=_("question"), on_delete=models.PROTECT, related_name="+")
    score = models.PositiveSmallIntegerField(_("score"), null=True, blank=True)
    text = models.TextField(_("text"), blank=True)

    class Meta:
        verbose_name = _("survey answer")
        verbose_name_plural = _("survey answers")
        constraints = [models.UniqueConstraint(fields=["response", "question"], name="survey_answer_once")]

    def __str__(self) -> str:
        return f"{self.question}: {self.score if self.score is not None else self.text}"


class TaskOutcome(models.TextChoices):
    """How a call task went; each outcome has its consequence (see calls.services.call_task_work)."""

    CONFIRMED = "confirmed", _("Confirmed the visit")
    RESCHEDULED = "rescheduled", _("Moved the visit")
    CANCELLED = "cancelled", _("Cancelled the visit")
    ANSWERED = "answered", _("Talked")
    SURVEY_DECLINED = "survey_declined", _("Talked, declined the survey")
    DECLINED = "declined", _("Not interested")
    CALL_BACK = "call_back", _("Asked to call back")
    NO_ANSWER = "no_answer", _("No answer")
    BUSY = "busy", _("Busy")
    WRONG_NUMBER = "wrong_number", _("Wrong number")


class TaskCloseReason(models.TextChoices):
    """Why a visit's confirmation call was closed without being made: the booking got there another way."""

    CONFIRMED = "confirmed", _("Visit confirmed another way")
    ARRIVED = "arrived", _("The client arrived")
    COMPLETED = "completed", _("Visit completed")
    CANCELLED = "cancelled", _("Visit cancelled")
    NO_SHOW = "no_show", _("The client did not come")


class CallTaskQuerySet(VisibleQuerySet):
    view_capability = Capability.VIEW_CALLS

    def pending(self):
        return self.filter(status__in=CallTask.PENDING)


class CallTask(models.Model):
    """An outbound call that must be made: what it is for, when it is due, who makes it, how it went.

    A unique constraint on (kind, what it is for) makes every planner idempotent: a second beat, a retry or a replay
    inserts nothing twice.
    """

    class Kind(models.TextChoices):
        CONFIRMATION = "confirmation", _("Visit confirmation")
        FOLLOW_UP = "follow_up", _("7-day follow-up")
        CAMPAIGN = "campaign", _("Campaign")
        CALLBACK = "callback", _("Call back")
        LOANER_RETURN = "loaner", _("Loaner not returned")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")
        UNREACHABLE = "unreachable", _("Unreachable")
        CANCELLED = "cancelled", _("Cancelled")

    PENDING = (Status.OPEN, Status.IN_PROGRESS)

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    # Indexed by call_task_client_idx (client, newest first), which also serves the foreign key.
    client = models.ForeignKey(
        "clients.Client",
        verbose_name=_("client"),
        on_delete=models.PROTECT,
        related_name="call_tasks",
        db_index=False,
    )
    booking = models.ForeignKey(
        "bookings.Booking",
        verbose_name=_("booking"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="call_tasks",
    )
    delivery = models.ForeignKey(
        "clients.Delivery",
        verbose_name=_("delivery"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="call_tasks",
    )
    campaign_member = models.OneToOneField(
        CampaignMember,
        verbose_name=_("campaign member"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="task",
    )
    # The loaner (or demo car) the client has not brought back: the fleet app announces it, this app calls.
    loaner_reservation = models.ForeignKey(
        "fleet.Reservation",
        verbose_name=_("loaner reservation"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="call_tasks",
    )
    due_at = models.DateTimeField(_("due"))
    next_attempt_at = models.DateTimeField(_("next attempt"))
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="call_tasks",
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.OPEN)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    outcome = models.CharField(_("outcome"), max_length=200, blank=True)
    closed_reason = models.CharField(
        _("closed because"),
        max_length=12,
        choices=TaskCloseReason.choices,
        blank=True,
        default="",
        # The planners insert tasks in SQL, naming only the columns they set.
        db_default="",
        help_text=_("Set when the booking closed the call (the client came, the visit was cancelled…)."),
    )
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("taken by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    claimed_at = models.DateTimeField(_("taken"), null=True, blank=True)
    closed_at = models.DateTimeField(_("finished"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    history = HistoricalRecords()
    objects = CallTaskQuerySet.as_manager()

    class Meta:
        verbose_name = _("call task")
        verbose_name_plural = _("call tasks")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "booking"], condition=Q(booking__isnull=False), name="call_task_once_per_booking"
            ),
            models.UniqueConstraint(
                fields=["kind", "delivery"], condition=Q(delivery__isnull=False), name="call_task_once_per_delivery"
            ),
            models.UniqueConstraint(
                fields=["kind", "loaner_reservation"],
                condition=Q(loaner_reservation__isnull=False),
                name="call_task_once_per_loaner",
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind="confirmation", booking__isnull=False, delivery__isnull=True, campaign_member__isnull=True)
                    | Q(kind="follow_up", delivery__isnull=False, booking__isnull=True, campaign_member__isnull=True)
                    | Q(kind="campaign", campaign_member__isnull=False, booking__isnull=True, delivery__isnull=True)
                    | Q(kind="callback", campaign_member__isnull=True, delivery__isnull=True)
                    | Q(
                        kind="loaner",
                        loaner_reservation__isnull=False,
                        booking__isnull=True,
                        delivery__isnull=True,
                        campaign_member__isnull=True,
                    )
                ),
                name="call_task_target_fits_kind",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["open", "in_progress"], closed_at__isnull=True)
                | Q(status__in=["done", "unreachable", "cancelled"], closed_at__isnull=False),
                name="call_task_closed_when_finished",
            ),
        ]
        indexes = [
            models.Index(
                fields=["assignee", "next_attempt_at"],
                condition=Q(status__in=["open", "in_progress"]),
                name="call_task_queue_idx",
            ),
            models.Index(
                fields=["next_attempt_at"], condition=Q(status__in=["open", "in_progress"]), name="call_task_due_idx"
            ),
            models.Index(fields=["client", "-created_at"], name="call_task_client_idx"),
            # The dashboards read the tasks of a period by when they were due (calls.dashboard, reports).
            models.Index(fields=["due_at"], name="call_task_due_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.client}"

    @property
    def is_pending(self) -> bool:
        return self.status in self.PENDING

    @property
    def outcome_display(self) -> str:
        """How the task went, in the reader's language when the booking closed it."""
        return str(self.get_closed_reason_display()) if self.closed_reason else self.outcome
