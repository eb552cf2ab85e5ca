"""Claims (претензии): a client's complaint the manager could not settle, registered with its statutory due date,
worked through review, escalation and decision until the client is told the outcome, then closed.

A claim's due date is computed from its category when it is received and stored (`ClaimCategory.term_days`, or the
term agreed in writing for fixing a defect, at most `max_term_days`); a category change recomputes it and leaves a
`ClaimDueChange`. Every status change leaves a `ClaimTransition` (who, when, from, to, comment); the claim's own fields
are kept by django-simple-history. The number is a yearly sequence (`П-2026-00042`) drawn from a `ClaimCounter` row
locked per year, so two claims registered at once never share one.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from accounts.roles import Capability, Role
from clientdesk.models import TimeStampedModel
from clientdesk.querysets import VisibleQuerySet
from clientdesk.uploads import stored_name
from clients.models import LinkedCarLabel

MANAGEMENT_ROLES = (Role.WORKSHOP_MANAGEMENT, Role.SALES_MANAGEMENT)


class ClaimCategoryQuerySet(VisibleQuerySet):
    view_capability = Capability.VIEW_CLAIMS


class ClaimCategory(models.Model):
    """A kind of demand with its statutory answer term in calendar days and the basis shown to the user. The head
    edits them; a category in use is made inactive, never deleted."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=150)
    term_days = models.PositiveSmallIntegerField(_("term, calendar days"))
    term_agreed = models.BooleanField(
        _("term agreed in writing"),
        default=False,
        help_text=_("The claim gives the term agreed with the client, at most the maximum term."),
    )
    max_term_days = models.PositiveSmallIntegerField(_("maximum term, calendar days"), null=True, blank=True)
    basis = models.CharField(_("basis"), max_length=300, blank=True)
    is_active = models.BooleanField(_("in use"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=100)

    history = HistoricalRecords()
    objects = ClaimCategoryQuerySet.as_manager()

    class Meta:
        verbose_name = _("claim category")
        verbose_name_plural = _("claim categories")
        ordering = ["order", "name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(term_days__gte=1),
                name="claim_category_term_positive",
                violation_error_message=_("The term is at least one day."),
            ),
            models.CheckConstraint(
                condition=Q(max_term_days__isnull=True) | Q(max_term_days__gte=models.F("term_days")),
                name="claim_category_max_not_below_term",
                violation_error_message=_("The maximum term cannot be shorter than the term."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ClaimCounter(models.Model):
    """The last claim number given in a year: its row is locked while a claim takes the next number."""

    year = models.PositiveSmallIntegerField(_("year"), primary_key=True)
    last = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("claim counter")
        verbose_name_plural = _("claim counters")

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class ClaimQuerySet(VisibleQuerySet):
    view_capability = Capability.VIEW_CLAIMS

    def visible_to(self, user):
        """The department sees every claim; the workshop's and the sales department's management see the claims
        escalated to them."""
        rows = super().visible_to(user)
        if getattr(user, "role", None) in MANAGEMENT_ROLES and not user.is_superuser:
            rows = rows.filter(escalated_to=user.role)
        return rows

    def open(self):
        return self.exclude(status__in=Claim.ANSWERED_STATUSES)


class Claim(LinkedCarLabel, TimeStampedModel):
    """A client's claim, from registration to the client informed of the outcome and the claim closed."""

    class Kind(models.TextChoices):
        ORAL = "oral", _("Oral")
        WRITTEN = "written", _("Written")

    class Channel(models.TextChoices):
        PHONE = "phone", _("Phone")
        VISIT = "visit", _("Visit")
        EMAIL = "email", _("E-mail")
        LETTER = "letter", _("Letter")
        MESSENGER = "messenger", _("Messenger")
        HOTLINE = "hotline", _("Manufacturer's hotline")

    class Status(models.TextChoices):
        REGISTERED = "registered", _("Registered")
        UNDER_REVIEW = "under_review", _("Under review")
        ESCALATED = "escalated", _("Escalated")
        DECIDED = "decided", _("Decided")
        INFORMED = "informed", _("Client informed")
        CLOSED = "closed", pgettext_lazy("claim status", "Closed")

    class Department(models.TextChoices):
        WORKSHOP = Role.WORKSHOP_MANAGEMENT.value, _("Workshop management")
        SALES = Role.SALES_MANAGEMENT.value, _("Sales department management")

    class Outcome(models.TextChoices):
        SATISFIED = "satisfied", _("Satisfied")
        PARTLY = "partly", _("Partly satisfied")
        REFUSED = "refused", _("Refused")

    class CompensationKind(models.TextChoices):
        REFUND = "refund", _("Refund")
        PRICE_REDUCTION = "price_reduction", _("Price reduction")
        FREE_REPAIR = "free_repair", _("Free repair")
        REPLACEMENT = "replacement", _("Replacement")
        DISCOUNT = "discount", _("Discount on future service")
        OTHER = "other", _("Other")

    class InformedVia(models.TextChoices):
        CALL = "call", _("Phone call")
        LETTER = "letter", _("Letter")

    # The client has had the answer: the deadline no longer runs.
    ANSWERED_STATUSES = (Status.INFORMED, Status.CLOSED)

    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    client = models.ForeignKey(
        "clients.Client", verbose_name=_("client"), on_delete=models.PROTECT, related_name="claims"
    )
    vehicle = models.ForeignKey(
        "clients.Vehicle",
        verbose_name=_("vehicle"),
        on_delete=models.PROTECT,
        related_name="claims",
        null=True,
        blank=True,
    )
    booking = models.ForeignKey(
        "bookings.Booking",
        verbose_name=_("workshop visit"),
        on_delete=models.PROTECT,
        related_name="claims",
        null=True,
        blank=True,
    )
    delivery = models.ForeignKey(
        "clients.Delivery",
        verbose_name=_("car delivery"),
        on_delete=models.PROTECT,
        related_name="claims",
        null=True,
        blank=True,
    )
    loaner = models.ForeignKey(
        "fleet.Reservation",
        verbose_name=_("loaner car record"),
        on_delete=models.PROTECT,
        related_name="claims",
        null=True,
        blank=True,
    )
    source_call = models.ForeignKey(
        "calls.Call",
        verbose_name=_("call it came from"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.ORAL)
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices, default=Channel.PHONE)
    received_at = models.DateTimeField(_("received"))
    client_words = models.TextField(_("the client's words"))
    demand = models.TextField(_("the client's demand"))
    category = models.ForeignKey(
        ClaimCategory, verbose_name=_("category"), on_delete=models.PROTECT, related_name="claims"
    )
    agreed_term_days = models.PositiveSmallIntegerField(_("term agreed in writing, days"), null=True, blank=True)
    due_date = models.DateField(_("answer due"))
    status = models.CharField(_("status"), max_length=14, choices=Status.choices, default=Status.REGISTERED)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned manager"),
        on_delete=models.PROTECT,
        related_name="claims",
    )
    escalated_to = models.CharField(
        _("escalated to"), max_length=16, choices=Department.choices, blank=True, default=""
    )
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, blank=True, default="")
    compensation_kind = models.CharField(
        _("compensation"), max_length=16, choices=CompensationKind.choices, blank=True, default=""
    )
    compensation_amount = models.DecimalField(
        _("compensation amount"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    decision_text = models.TextField(_("decision"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    informed_via = models.CharField(
        _("client informed by"), max_length=8, choices=InformedVia.choices, blank=True, default=""
    )
    informed_call = models.ForeignKey(
        "calls.Call",
        verbose_name=_("call that informed the client"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    informed_at = models.DateTimeField(_("client informed"), null=True, blank=True)
    answer_document = models.ForeignKey(
        "documents.Document",
        verbose_name=_("answer letter on file"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("registered by"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
    )

    history = HistoricalRecords(excluded_fields=["updated_at"])
    objects = ClaimQuerySet.as_manager()

    class Meta:
        verbose_name = _("claim")
        verbose_name_plural = _("claims")
        constraints = [
            # The database refuses what must never be: a closed or informed claim the client was not told of.
            models.CheckConstraint(
                condition=~Q(status__in=["informed", "closed"]) | Q(informed_at__isnull=False),
                name="claim_closed_only_when_informed",
                violation_error_message=_("A claim is closed only after the client was informed."),
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["decided", "informed", "closed"]) | ~Q(outcome=""),
                name="claim_decided_has_outcome",
                violation_error_message=_("A decided claim has its outcome."),
            ),
            models.CheckConstraint(
                condition=~Q(status="escalated") | ~Q(escalated_to=""),
                name="claim_escalated_has_addressee",
                violation_error_message=_("Choose the management the claim goes to."),
            ),
            models.CheckConstraint(
                condition=Q(compensation_amount__isnull=True) | Q(compensation_amount__gte=0),
                name="claim_compensation_not_negative",
                violation_error_message=_("The compensation cannot be negative."),
            ),
            # The decision's rules (claims.services.claim_decide and claim_reopen), held by the database too.
            models.CheckConstraint(
                condition=~Q(outcome="refused") | Q(compensation_kind="", compensation_amount__isnull=True),
                name="claim_refused_no_compensation",
                violation_error_message=_("A refused claim gives no compensation."),
            ),
            models.CheckConstraint(
                condition=Q(compensation_amount__isnull=True) | ~Q(compensation_kind=""),
                name="claim_compensation_amount_has_kind",
                violation_error_message=_("Say what the amount is for."),
            ),
            models.CheckConstraint(
                condition=~Q(outcome="") | Q(compensation_kind="", compensation_amount__isnull=True),
                name="claim_compensation_only_decided",
                violation_error_message=_("A claim gives compensation only by its decision."),
            ),
            models.CheckConstraint(
                condition=Q(status__in=["decided", "informed", "closed"]) | Q(outcome=""),
                name="claim_outcome_only_decided",
                violation_error_message=_("A claim has an outcome only once decided."),
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["decided", "informed", "closed"]) | Q(decided_at__isnull=False),
                name="claim_decided_dated",
                violation_error_message=_("A decided claim has the time of its decision."),
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["informed", "closed"]) | ~Q(informed_via=""),
                name="claim_informed_how",
                violation_error_message=_("Say how the client was informed."),
            ),
            models.CheckConstraint(
                condition=~Q(status="closed") | Q(closed_at__isnull=False),
                name="claim_closed_dated",
                violation_error_message=_("A closed claim has the time it was closed."),
            ),
            models.CheckConstraint(
                condition=Q(agreed_term_days__isnull=True) | Q(agreed_term_days__gte=1),
                name="claim_agreed_term_positive",
                violation_error_message=_("The agreed term is at least one day."),
            ),
        ]
        indexes = [
            # The list by due date: the open claims, soonest first (the deadline watch and the due-state filter).
            models.Index(
                fields=["due_date", "id"],
                condition=~Q(status__in=["informed", "closed"]),
                name="claim_open_due_idx",
            ),
            models.Index(fields=["-received_at", "-id"], name="claim_received_idx"),
            models.Index(fields=["client", "-received_at"], name="claim_client_idx"),
            models.Index(fields=["vehicle", "-received_at"], name="claim_vehicle_idx"),
            models.Index(fields=["assignee", "due_date"], name="claim_assignee_due_idx"),
            models.Index(fields=["escalated_to", "due_date"], name="claim_escalated_idx"),
        ]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse("claims:detail", args=[self.pk])

    @property
    def is_answered(self) -> bool:
        return self.status in self.ANSWERED_STATUSES

    # What a list row shows of the client, car, category and manager: read from the columns
    # `claims.selectors.claims_for_display` annotates (one model per row, not five), or from the linked rows when the
    # claim was loaded otherwise.
    @property
    def client_label(self) -> str:
        return self.__dict__["client_name"] if "client_name" in self.__dict__ else self.client.name

    @property
    def category_label(self) -> str:
        return self.__dict__["category_name"] if "category_name" in self.__dict__ else self.category.name

    @property
    def assignee_label(self) -> str:
        return self.__dict__["assignee_name"] if "assignee_name" in self.__dict__ else str(self.assignee)

    STATUS_BADGES = {
        Status.REGISTERED: "text-bg-secondary",
        Status.UNDER_REVIEW: "text-bg-info",
        Status.ESCALATED: "text-bg-warning",
        Status.DECIDED: "text-bg-primary",
        Status.INFORMED: "text-bg-success",
        Status.CLOSED: "text-bg-light",
    }

    @property
    def status_badge(self) -> str:
        return self.STATUS_BADGES.get(self.status, "text-bg-secondary")


class ClaimTransition(models.Model):
    """One step of a claim's status: who, when, from, to, with the comment (a reopening's reason, the escalation's
    note) and, for "client informed" by phone, the call."""

    claim = models.ForeignKey(Claim, verbose_name=_("claim"), on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField(_("from"), max_length=14, choices=Claim.Status.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=14, choices=Claim.Status.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+", null=True
    )
    at = models.DateTimeField(_("when"), auto_now_add=True)
    comment = models.TextField(_("comment"), blank=True)
    call = models.ForeignKey(
        "calls.Call", verbose_name=_("call"), on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    class Meta:
        verbose_name = _("claim transition")
        verbose_name_plural = _("claim transitions")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.claim_id}: {self.from_status} → {self.to_status}"


class ClaimDueChange(models.Model):
    """A due date recomputed because the category (or the agreed term) changed, with the reason given."""

    claim = models.ForeignKey(Claim, verbose_name=_("claim"), on_delete=models.CASCADE, related_name="due_changes")
    old_category = models.ForeignKey(
        ClaimCategory, verbose_name=_("old category"), on_delete=models.PROTECT, related_name="+"
    )
    new_category = models.ForeignKey(
        ClaimCategory, verbose_name=_("new category"), on_delete=models.PROTECT, related_name="+"
    )
    old_due_date = models.DateField(_("old due date"))
    new_due_date = models.DateField(_("new due date"))
    reason = models.CharField(_("reason"), max_length=300)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+", null=True
    )
    at = models.DateTimeField(_("when"), auto_now_add=True)

    class Meta:
        verbose_name = _("due date change")
        verbose_name_plural = _("due date changes")
        ordering = ["at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(reason=""),
                name="claim_due_change_has_reason",
                violation_error_message=_("Say why the category changes."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.claim_id}: {self.old_due_date} → {self.new_due_date}"


class ClaimAttachment(models.Model):
    """A scan of a written claim or a photo: checked by content, stored under a name we make, served by a view that
    checks who may see the claim."""

    claim = models.ForeignKey(Claim, verbose_name=_("claim"), on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(
        # Checked by content and size in the service (`claims.services.claim_attach`): the core's validator does
        # not serialise into a migration.
        _("file"),
        upload_to=stored_name("claims"),
        max_length=200,
    )
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("content type"), max_length=40)
    size = models.PositiveIntegerField(_("size, bytes"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.PROTECT, related_name="+", null=True
    )
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    class Meta:
        verbose_name = _("claim attachment")
        verbose_name_plural = _("claim attachments")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.original_name


class ClaimDeadlineNotice(models.Model):
    """The deadline watch told the assignee and the head that a claim is due soon or overdue: one row per claim and
    state, so a second beat, a retry or a second process tells nobody twice."""

    class State(models.TextChoices):
        DUE_SOON = "due_soon", _("Due soon")
        OVERDUE = "overdue", _("Overdue")

    claim = models.ForeignKey(Claim, verbose_name=_("claim"), on_delete=models.CASCADE, related_name="notices")
    state = models.CharField(_("state"), max_length=10, choices=State.choices)
    notified_at = models.DateTimeField(_("notified"), auto_now_add=True)

    class Meta:
        verbose_name = _("deadline notice")
        verbose_name_plural = _("deadline notices")
        constraints = [models.UniqueConstraint(fields=["claim", "state"], name="claim_notice_once_per_state")]

    def __str__(self) -> str:
        return f"{self.claim_id}: {self.state}"
