"""The paper: the documents of a car sale and of the department's own work, the transfer registries that carry them to
accounting or the archive, and the correspondence register. Every write goes through `documents.services`."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from accounts.roles import Capability
from clientdesk.indexes import TrigramIndex
from clientdesk.models import TimeStampedModel
from clientdesk.querysets import VisibleQuerySet
from clientdesk.timefmt import local_date_text
from clients.models import LinkedCarLabel


class DocumentQuerySet(VisibleQuerySet):
    view_capability = Capability.VIEW_DOCUMENTS


class Document(LinkedCarLabel, TimeStampedModel):
    """One paper: a sale contract, a handover act, a waybill... with its state from the client's signature to the
    archive shelf. `state` moves only through `documents.services.document_transition` (see `TRANSITIONS`)."""

    class Kind(models.TextChoices):
        SALE_CONTRACT = "sale_contract", _("Sale contract")
        HANDOVER_ACT = "handover_act", _("Handover act")
        WAYBILL = "waybill", _("Waybill (TTN)")
        TEMPORARY_USE_CONTRACT = "temp_use_contract", _("Temporary-use contract")
        POWER_OF_ATTORNEY = "power_of_attorney", _("Power of attorney")
        CLAIM_ANSWER = "claim_answer", _("Claim answer")
        CONTRACT = "contract", _("Contract")
        SUPPLEMENTARY_AGREEMENT = "supplementary", _("Supplementary agreement")
        OTHER = "other", _("Other")

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        APPROVED = "approved", _("Approved by the head")
        ENDORSED = "endorsed", _("Endorsed by legal")
        EXPECTED = "expected", _("Expected")
        SIGNED = "signed", _("Signed by the client")
        AT_ACCOUNTING = "at_accounting", _("Handed to accounting")
        TO_ARCHIVE = "to_archive", _("Sent to the archive")
        ARCHIVED = "archived", _("Archived")
        LOST = "lost", _("Lost")
        REPLACED = "replaced", _("Replaced")

    # The papers every delivery expects (documents.services.expected).
    DELIVERY_KINDS = (Kind.HANDOVER_ACT, Kind.WAYBILL, Kind.SALE_CONTRACT)
    # Kinds that may go through approval (draft → approved → endorsed → signed).
    CONTRACT_KINDS = (Kind.CONTRACT, Kind.SUPPLEMENTARY_AGREEMENT, Kind.SALE_CONTRACT, Kind.TEMPORARY_USE_CONTRACT)
    # States after the client's signature: the paper exists.
    SIGNED_STATES = (State.SIGNED, State.AT_ACCOUNTING, State.TO_ARCHIVE, State.ARCHIVED)
    APPROVAL_STATES = (State.DRAFT, State.APPROVED, State.ENDORSED)
    GONE_STATES = (State.LOST, State.REPLACED)

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    number = models.CharField(_("number"), max_length=64, blank=True)
    number_key = models.CharField(_("number for search"), max_length=64, blank=True, editable=False)
    issued_on = models.DateField(_("date"))
    title = models.CharField(_("title"), max_length=255, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    client = models.ForeignKey(
        "clients.Client",
        verbose_name=_("client"),
        on_delete=models.PROTECT,
        related_name="documents",
        null=True,
        blank=True,
        db_index=False,
    )
    vehicle = models.ForeignKey(
        "clients.Vehicle",
        verbose_name=_("vehicle"),
        on_delete=models.PROTECT,
        related_name="documents",
        null=True,
        blank=True,
        db_index=False,
    )
    delivery = models.ForeignKey(
        "clients.Delivery",
        verbose_name=_("delivery"),
        on_delete=models.PROTECT,
        related_name="documents",
        null=True,
        blank=True,
    )
    booking = models.ForeignKey(
        "bookings.Booking",
        verbose_name=_("booking"),
        on_delete=models.PROTECT,
        related_name="documents",
        null=True,
        blank=True,
    )
    original = models.BooleanField(_("original"), default=True, help_text=_("Unticked: a copy."))
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.EXPECTED)
    archive_box = models.CharField(_("archive box"), max_length=32, blank=True)
    archive_shelf = models.CharField(_("archive shelf"), max_length=32, blank=True)
    dms_id = models.CharField(_("DMS id"), max_length=64, blank=True, help_text=_("The document's id in the DMS."))
    replaced_by = models.ForeignKey(
        "self",
        verbose_name=_("replaced by"),
        on_delete=models.PROTECT,
        related_name="replaces",
        null=True,
        blank=True,
    )
    state_changed_at = models.DateTimeField(_("state changed"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("registered by"), on_delete=models.PROTECT, related_name="+", null=True
    )

    history = HistoricalRecords(excluded_fields=["updated_at"])
    objects = DocumentQuerySet.as_manager()

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        constraints = [
            models.UniqueConstraint(
                fields=["dms_id"],
                condition=~Q(dms_id=""),
                name="document_dms_id_unique",
                violation_error_message=_("Another document has this DMS id."),
            ),
            # A delivery expects one original of each of its papers (a lost one may be replaced by a new one).
            models.UniqueConstraint(
                fields=["delivery", "kind"],
                condition=Q(
                    delivery__isnull=False,
                    original=True,
                    kind__in=["handover_act", "waybill", "sale_contract"],
                )
                & ~Q(state__in=["lost", "replaced"]),
                name="document_one_expected_per_delivery",
                violation_error_message=_("This delivery already has this document."),
            ),
            models.CheckConstraint(
                condition=~Q(state="archived") | ~Q(archive_box=""),
                name="document_archived_has_box",
                violation_error_message=_("An archived document needs its box."),
            ),
            # Only a contract goes through approval (documents.services.document_register and _save).
            models.CheckConstraint(
                condition=~Q(state__in=["draft", "approved", "endorsed"])
                | Q(kind__in=["contract", "supplementary", "sale_contract", "temp_use_contract"]),
                name="document_approval_only_contracts",
                violation_error_message=_("Only contracts and supplementary agreements go through approval."),
            ),
            # A paper names the one that replaced it only once replaced, and never itself (document_transition).
            models.CheckConstraint(
                condition=Q(replaced_by__isnull=True) | Q(state="replaced"),
                name="document_replaced_by_only_replaced",
                violation_error_message=_("Only a replaced document names the one that replaced it."),
            ),
            models.CheckConstraint(
                condition=~Q(replaced_by=models.F("pk")),
                name="document_not_replaced_by_itself",
                violation_error_message=_("A document cannot replace itself."),
            ),
        ]
        indexes = [
            # The archive list pages newest first by (issued_on, id).
            models.Index(fields=["-issued_on", "-id"], name="document_date_idx"),
            models.Index(fields=["kind", "-issued_on", "-id"], name="document_kind_date_idx"),
            models.Index(fields=["client", "-issued_on"], name="document_client_idx"),
            # The client card's timeline pages by (created_at, id).
            models.Index(fields=["client", "-created_at"], name="document_client_created_idx"),
            models.Index(fields=["vehicle", "-issued_on"], name="document_vehicle_idx"),
            models.Index(fields=["vehicle", "-created_at"], name="document_vehicle_created_idx"),
            models.Index(fields=["archive_box", "archive_shelf"], name="document_location_idx"),
            # The papers still awaited: the overdue check and the dashboard.
            models.Index(fields=["delivery"], condition=Q(state="expected"), name="document_expected_idx"),
            models.Index(fields=["state", "-issued_on"], name="document_state_idx"),
            TrigramIndex("number_key", name="document_number_trgm"),
        ]

    def __str__(self) -> str:
        label = self.get_kind_display()
        if self.number:
            label = f"{label} № {self.number}"
        return gettext("%(document)s of %(date)s") % {"document": label, "date": local_date_text(self.issued_on)}

    def get_absolute_url(self) -> str:
        return reverse("documents:detail", args=[self.pk])

    @staticmethod
    def search_key(text: str) -> str:
        """The form numbers are searched in: no spaces, case-folded (SQLite folds only ASCII)."""
        return "".join((text or "").split()).casefold()

    def save(self, *args, **kwargs):
        # number_key is derived from number on every save, so no write path can let the two drift apart.
        self.number_key = self.search_key(self.number)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "number" in update_fields:
            kwargs["update_fields"] = {*update_fields, "number_key"}
        super().save(*args, **kwargs)

    @property
    def is_signed(self) -> bool:
        return self.state in self.SIGNED_STATES

    # What a list row shows of the client and car: read from the columns `documents.selectors.documents_for_display`
    # annotates (one model per row, not three), or from the linked rows when the document was loaded otherwise.
    @property
    def client_label(self) -> str:
        if "client_name" in self.__dict__:
            return self.client_name or ""
        return self.client.name if self.client_id else ""

    @property
    def vin_label(self) -> str:
        if "vehicle_vin" in self.__dict__:
            return self.vehicle_vin or ""
        return self.vehicle.vin if self.vehicle_id else ""

    @property
    def location(self) -> str:
        return self.place(self.archive_box, self.archive_shelf)

    @staticmethod
    def place(box: str, shelf: str) -> str:
        """Where the paper lies ("К-12 / 3"), from its columns: also for rows read as values()."""
        return " / ".join(part for part in (box, shelf) if part)

    STATE_BADGES = {
        State.DRAFT: "text-bg-secondary",
        State.APPROVED: "text-bg-info",
        State.ENDORSED: "text-bg-info",
        State.EXPECTED: "text-bg-warning",
        State.SIGNED: "text-bg-primary",
        State.AT_ACCOUNTING: "text-bg-success",
        State.TO_ARCHIVE: "text-bg-primary",
        State.ARCHIVED: "text-bg-dark",
    }

    @property
    def state_badge(self) -> str:
        return self.STATE_BADGES.get(self.state, "text-bg-danger")


class DocumentTransition(models.Model):
    """One step of a document's life: who moved it from which state to which, when, why, by which registry."""

    document = models.ForeignKey(
        Document, verbose_name=_("document"), on_delete=models.CASCADE, related_name="transitions"
    )
    from_state = models.CharField(_("state before"), max_length=16, choices=Document.State.choices, blank=True)
    to_state = models.CharField(_("state after"), max_length=16, choices=Document.State.choices)
    at = models.DateTimeField(_("when"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("who"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    comment = models.CharField(_("comment"), max_length=300, blank=True)
    registry = models.ForeignKey(
        "Registry",
        verbose_name=_("registry"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="transitions",
    )

    class Meta:
        verbose_name = _("document transition")
        verbose_name_plural = _("document transitions")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["document", "at"], name="doc_transition_document_idx")]

    def __str__(self) -> str:
        return f"{self.from_state or '∅'} → {self.to_state}"


class Registry(TimeStampedModel):
    """A transfer registry (реестр передачи): documents handed to accounting or to the archive together. When the
    receiving side confirms, every document in it moves state in one transaction, or none does."""

    class Destination(models.TextChoices):
        ACCOUNTING = "accounting", _("Accounting")
        ARCHIVE = "archive", _("Archive")

    class State(models.TextChoices):
        SENT = "sent", _("Sent")
        RECEIVED = "received", _("Received")
        CANCELLED = "cancelled", pgettext_lazy("registry", "Cancelled")

    year = models.PositiveSmallIntegerField(pgettext_lazy("registry", "year"))
    sequence = models.PositiveIntegerField(_("number in the year"))
    destination = models.CharField(pgettext_lazy("registry", "to"), max_length=12, choices=Destination.choices)
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.SENT)
    note = models.CharField(_("note"), max_length=300, blank=True)
    archive_box = models.CharField(_("archive box"), max_length=32, blank=True)
    archive_shelf = models.CharField(_("archive shelf"), max_length=32, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handed over by"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
    )
    received_at = models.DateTimeField(_("received"), null=True, blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("receipt confirmed by"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    received_name = models.CharField(
        _("received by (name)"), max_length=150, blank=True, help_text=_("Who signed for the documents.")
    )
    documents = models.ManyToManyField(Document, through="RegistryItem", related_name="registries")

    history = HistoricalRecords(excluded_fields=["updated_at"])
    objects = DocumentQuerySet.as_manager()

    class Meta:
        verbose_name = _("transfer registry")
        verbose_name_plural = _("transfer registries")
        constraints = [
            models.UniqueConstraint(fields=["year", "sequence"], name="registry_number_unique"),
            models.CheckConstraint(
                condition=~Q(state="received") | Q(received_at__isnull=False),
                name="registry_received_dated",
                violation_error_message=_("A received registry needs its time of receipt."),
            ),
            # The archive signed for its documents in a box (documents.services.registries.registry_confirm_received).
            models.CheckConstraint(
                condition=~Q(state="received", destination="archive") | ~Q(archive_box=""),
                name="registry_archived_has_box",
                violation_error_message=_("Say which box the documents are filed in."),
            ),
        ]
        indexes = [models.Index(fields=["-created_at", "-id"], name="registry_time_idx")]

    def __str__(self) -> str:
        return str(_("Registry %(number)s") % {"number": self.number})

    @property
    def number(self) -> str:
        return f"Р-{self.year}-{self.sequence:05d}"

    def get_absolute_url(self) -> str:
        return reverse("documents:registry-detail", args=[self.pk])

    STATE_BADGES = {State.SENT: "text-bg-warning", State.RECEIVED: "text-bg-success"}

    @property
    def state_badge(self) -> str:
        return self.STATE_BADGES.get(self.state, "text-bg-secondary")


class RegistryItem(models.Model):
    """A document in a registry. A document is in at most one registry still on its way (`open`)."""

    registry = models.ForeignKey(Registry, verbose_name=_("registry"), on_delete=models.CASCADE, related_name="items")
    document = models.ForeignKey(
        Document, verbose_name=_("document"), on_delete=models.PROTECT, related_name="registry_items"
    )
    open = models.BooleanField(_("on its way"), default=True)

    class Meta:
        verbose_name = _("registry line")
        verbose_name_plural = _("registry lines")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["registry", "document"], name="registry_item_unique"),
            models.UniqueConstraint(
                fields=["document"],
                condition=Q(open=True),
                name="registry_item_one_open",
                violation_error_message=_("This document is already in a registry on its way."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.registry_id}: {self.document_id}"


class DeliveryPapersFlag(models.Model):
    """The head was told that a delivery's signed papers are late: one row per delivery, so the beat tells once."""

    delivery = models.OneToOneField(
        "clients.Delivery", verbose_name=_("delivery"), on_delete=models.CASCADE, related_name="papers_flag"
    )
    flagged_at = models.DateTimeField(_("flagged"))

    class Meta:
        verbose_name = _("late papers flag")
        verbose_name_plural = _("late papers flags")

    def __str__(self) -> str:
        return f"{self.delivery_id} @ {self.flagged_at:%Y-%m-%d}"


class Correspondence(TimeStampedModel):
    """An item of incoming or outgoing mail, fax or parcel in the department's register."""

    class Direction(models.TextChoices):
        INCOMING = "in", _("Incoming")
        OUTGOING = "out", _("Outgoing")

    class Kind(models.TextChoices):
        LETTER = "letter", _("Letter")
        FAX = "fax", _("Fax")
        PARCEL = "parcel", _("Parcel")
        EMAIL = "email", _("E-mail")

    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices, default=Direction.INCOMING)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.LETTER)
    dated_on = models.DateField(_("date"))
    sender = models.CharField(pgettext_lazy("correspondence", "from"), max_length=200)
    recipient = models.CharField(pgettext_lazy("correspondence", "to"), max_length=200)
    subject = models.CharField(_("subject"), max_length=300)
    addressee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("addressee on staff"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    client = models.ForeignKey(
        "clients.Client",
        verbose_name=_("client"),
        on_delete=models.PROTECT,
        related_name="correspondence",
        null=True,
        blank=True,
    )
    handed_over_at = models.DateTimeField(pgettext_lazy("correspondence", "handed over"), null=True, blank=True)
    handed_over_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handed over by"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    tracking_number = models.CharField(_("tracking number"), max_length=64, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    flagged_at = models.DateTimeField(_("head told it is not handed over"), null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("registered by"), on_delete=models.PROTECT, related_name="+", null=True
    )

    history = HistoricalRecords(excluded_fields=["updated_at"])
    objects = DocumentQuerySet.as_manager()

    class Meta:
        verbose_name = _("correspondence item")
        verbose_name_plural = _("correspondence")
        constraints = [
            models.CheckConstraint(
                condition=Q(handed_over_at__isnull=True) | Q(handed_over_by__isnull=False),
                name="correspondence_handover_by",
                violation_error_message=_("Say who handed the item over."),
            ),
        ]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="correspondence_time_idx"),
            models.Index(
                fields=["created_at"],
                condition=Q(handed_over_at__isnull=True),
                name="correspondence_unhanded_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()}: {self.subject}"

    def get_absolute_url(self) -> str:
        return reverse("documents:mail-edit", args=[self.pk])

    @property
    def is_handed_over(self) -> bool:
        return self.handed_over_at is not None
