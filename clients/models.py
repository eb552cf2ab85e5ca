from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from accounts.roles import Capability
from clientdesk.indexes import TrigramIndex
from clientdesk.models import TimeStampedModel
from clientdesk.querysets import VisibleQuerySet
from clientdesk.timefmt import local_date_text
from clients.normalize import MIN_MODEL_YEAR, format_phone, validate_model_year


class ClientQuerySet(VisibleQuerySet):
    view_capability = Capability.VIEW_CLIENTS

    def active(self):
        """Clients not merged into another one."""
        return self.filter(merged_into__isnull=True)


class Client(TimeStampedModel):
    """A person or company the department serves. Merged duplicates stay as rows pointing at the client kept."""

    class Kind(models.TextChoices):
        PERSON = "person", _("Person")
        COMPANY = "company", _("Company")

    class Source(models.TextChoices):
        DMS = "dms", _("Dealership system")
        CALL = "call", _("Phone call")
        WALK_IN = "walk_in", _("Walk-in")
        WEBSITE = "website", _("Website")
        REFERRAL = "referral", _("Referral")
        OTHER = "other", _("Other")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.PERSON)
    name = models.CharField(_("name"), max_length=255, help_text=_("Full name, or the company's name."))
    search_name = models.CharField(_("name for search"), max_length=255, editable=False)
    email = models.EmailField(_("email"), blank=True, help_text=_("Stored in lower case."))
    preferred_contact_time = models.CharField(
        _("preferred contact time"), max_length=100, blank=True, help_text=_("For example: weekdays after 18:00.")
    )
    notes = models.TextField(_("notes"), blank=True)
    consent_personal_data = models.BooleanField(_("consent to personal-data processing"), default=False)
    consent_personal_data_at = models.DateTimeField(_("personal-data consent given"), null=True, blank=True)
    consent_marketing = models.BooleanField(_("consent to marketing calls and messages"), default=False)
    consent_marketing_at = models.DateTimeField(_("marketing consent given"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.CALL)
    dms_id = models.CharField(_("DMS id"), max_length=64, blank=True, help_text=_("The client's id in the DMS."))
    dms_updated_at = models.DateTimeField(
        _("changed in the DMS"),
        null=True,
        blank=True,
        help_text=_("When the DMS last changed this record, as the DMS says; a push older than this is refused."),
    )
    assigned_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned manager"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_clients",
    )
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_clients",
    )
    merged_at = models.DateTimeField(_("merged"), null=True, blank=True)
    data_issue = models.CharField(
        _("data to check"),
        max_length=300,
        blank=True,
        help_text=_("Set when a call found something wrong (a wrong number); clear it once fixed."),
    )

    history = HistoricalRecords(excluded_fields=["updated_at"])
    objects = ClientQuerySet.as_manager()

    class Meta:
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        constraints = [
            models.UniqueConstraint(
                fields=["dms_id"],
                condition=~Q(dms_id=""),
                name="client_dms_id_unique",
                violation_error_message=_("Another client has this DMS id."),
            ),
            models.CheckConstraint(
                condition=Q(consent_personal_data=False) | Q(consent_personal_data_at__isnull=False),
                name="client_pd_consent_dated",
                violation_error_message=_("A consent to personal-data processing needs its date."),
            ),
            models.CheckConstraint(
                condition=Q(consent_marketing=False) | Q(consent_marketing_at__isnull=False),
                name="client_marketing_consent_dated",
                violation_error_message=_("A marketing consent needs its date."),
            ),
            models.CheckConstraint(condition=~Q(merged_into=F("id")), name="client_not_merged_into_itself"),
        ]
        indexes = [
            models.Index(fields=["updated_at"], name="client_updated_idx"),
            models.Index(fields=["email"], condition=~Q(email=""), name="client_email_idx"),
            TrigramIndex("search_name", name="client_name_trgm"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("clients:detail", args=[self.pk])

    @staticmethod
    def search_key(text: str) -> str:
        """The form names are searched in: case-folded in Python (SQLite folds only ASCII), ё read as е."""
        return " ".join(text.split()).casefold().replace("ё", "е")

    def save(self, *args, **kwargs):
        # search_name is derived from name on every save, so no write path can let the two drift apart.
        self.search_name = self.search_key(self.name)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "name" in update_fields:
            kwargs["update_fields"] = {*update_fields, "search_name"}
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if self.consent_marketing and not self.consent_personal_data:
            raise ValidationError(
                {"consent_marketing": _("Marketing consent needs consent to personal-data processing first.")}
            )

    @property
    def is_merged(self) -> bool:
        return self.merged_into_id is not None


class ClientPhone(models.Model):
    """One of a client's phone numbers, stored in E.164; at most one is primary."""

    # A person or a company has a few numbers; more in one request is a broken import, refused before any work.
    MAX_PER_CLIENT = 10

    class Kind(models.TextChoices):
        MOBILE = "mobile", _("Mobile")
        WORK = "work", _("Work")
        HOME = "home", _("Home")
        OTHER = "other", _("Other")

    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="phones")
    number = models.CharField(_("number"), max_length=16, help_text=_("Stored in E.164: +79123456789."))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.MOBILE)
    is_primary = models.BooleanField(_("primary"), default=False)
    comment = models.CharField(_("comment"), max_length=100, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("phone")
        verbose_name_plural = _("phones")
        ordering = ["-is_primary", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "number"],
                name="phone_unique_per_client",
                violation_error_message=_("The client already has this number."),
            ),
            models.UniqueConstraint(
                fields=["client"],
                condition=Q(is_primary=True),
                name="phone_one_primary",
                violation_error_message=_("The client already has a primary phone."),
            ),
            models.CheckConstraint(condition=Q(number__startswith="+"), name="phone_is_e164"),
        ]
        indexes = [
            models.Index(fields=["number"], name="phone_number_idx"),
            TrigramIndex("number", name="phone_number_trgm"),
        ]

    def __str__(self) -> str:
        return self.display

    @property
    def display(self) -> str:
        return format_phone(self.number)


class VehicleQuerySet(VisibleQuerySet):
    view_capability = Capability.VIEW_CLIENTS


class Vehicle(TimeStampedModel):
    """A car a client owns; `delivered_at` is set for cars this dealership sold and handed over."""

    owner = models.ForeignKey(Client, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="vehicles")
    vin = models.CharField(_("VIN"), max_length=17, blank=True)
    plate = models.CharField(_("plate"), max_length=12, blank=True)
    make = models.CharField(_("make"), max_length=50)
    model = models.CharField(_("model"), max_length=80)
    year = models.PositiveSmallIntegerField(
        _("year"),
        null=True,
        blank=True,
        validators=[MinValueValidator(MIN_MODEL_YEAR), MaxValueValidator(2100), validate_model_year],
        help_text=_("The model year: from 1950 to next year."),
    )
    colour = models.CharField(_("colour"), max_length=50, blank=True)
    mileage = models.PositiveIntegerField(_("mileage, km"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    dms_id = models.CharField(_("DMS id"), max_length=64, blank=True)
    dms_updated_at = models.DateTimeField(
        _("changed in the DMS"),
        null=True,
        blank=True,
        help_text=_("When the DMS last changed this record, as the DMS says; a push older than this is refused."),
    )

    history = HistoricalRecords(excluded_fields=["updated_at"])
    objects = VehicleQuerySet.as_manager()

    class Meta:
        verbose_name = _("vehicle")
        verbose_name_plural = _("vehicles")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["vin"],
                condition=~Q(vin=""),
                name="vehicle_vin_unique",
                violation_error_message=_("Another vehicle has this VIN."),
            ),
            models.UniqueConstraint(
                fields=["dms_id"],
                condition=~Q(dms_id=""),
                name="vehicle_dms_id_unique",
                violation_error_message=_("Another vehicle has this DMS id."),
            ),
            models.CheckConstraint(
                condition=Q(year__isnull=True) | Q(year__gte=1950, year__lte=2100),
                name="vehicle_year_sane",
                violation_error_message=_("The year must be between 1950 and 2100."),
            ),
        ]
        indexes = [
            models.Index(fields=["updated_at"], name="vehicle_updated_idx"),
            models.Index(fields=["make", "model"], name="vehicle_make_model_idx"),
            TrigramIndex("vin", name="vehicle_vin_trgm"),
            TrigramIndex("plate", name="vehicle_plate_trgm"),
        ]

    def __str__(self) -> str:
        return self.label(self.make, self.model, self.plate)

    @staticmethod
    def label(make: str, model: str, plate: str) -> str:
        """How a car is named to people ("Kia Rio А123ВС77"), from its columns: also for rows read as values()."""
        return f"{make} {model} {plate}" if plate else f"{make} {model}"


class LinkedCarLabel:
    """`car_label` of a model with a `vehicle` link (a claim, a document): read from the `vehicle_make`,
    `vehicle_model` and `vehicle_plate` columns a list annotates (no car model per row), or from the linked car when
    the row was loaded otherwise; "" without a car."""

    @property
    def car_label(self) -> str:
        if "vehicle_make" not in self.__dict__:
            return str(self.vehicle) if self.vehicle_id else ""
        if self.vehicle_id is None:
            return ""
        return Vehicle.label(self.vehicle_make, self.vehicle_model, self.vehicle_plate)


class DeliveryQuerySet(VisibleQuerySet):
    view_capability = Capability.VIEW_CLIENTS


class Delivery(TimeStampedModel):
    """A car sold here and handed over to its buyer: the 7-day follow-up call is planned from it."""

    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.PROTECT, related_name="deliveries")
    vehicle = models.ForeignKey(Vehicle, verbose_name=_("vehicle"), on_delete=models.PROTECT, related_name="deliveries")
    delivered_at = models.DateTimeField(_("handed over"))
    sales_manager = models.CharField(_("sales manager"), max_length=150, blank=True)
    dms_id = models.CharField(_("DMS id"), max_length=64, blank=True)
    dms_updated_at = models.DateTimeField(
        _("changed in the DMS"),
        null=True,
        blank=True,
        help_text=_("When the DMS last changed this record, as the DMS says; a push older than this is refused."),
    )

    history = HistoricalRecords(excluded_fields=["updated_at"])
    objects = DeliveryQuerySet.as_manager()

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["dms_id"],
                condition=~Q(dms_id=""),
                name="delivery_dms_id_unique",
                violation_error_message=_("Another delivery has this DMS id."),
            ),
            models.UniqueConstraint(
                fields=["vehicle", "delivered_at"],
                name="delivery_once_per_vehicle_and_time",
                violation_error_message=_("This handover is already recorded."),
            ),
        ]
        indexes = [models.Index(fields=["delivered_at"], name="delivery_at_idx")]

    def __str__(self) -> str:
        return f"{self.vehicle} → {self.client} ({local_date_text(self.delivered_at)})"
