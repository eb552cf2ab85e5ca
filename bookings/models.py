from datetime import timedelta

from django.conf import settings
from django.contrib.postgres.fields import DateTimeRangeField, RangeBoundary, RangeOperators
from django.db import models
from django.db.models import F, Func, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from accounts.roles import Capability
from clientdesk.calendar import local_date
from clientdesk.constraints import PostgresExclusionConstraint
from clientdesk.models import TimeStampedModel
from clientdesk.querysets import VisibleQuerySet
from clientdesk.timefmt import local_datetime_text


class TsTzRange(Func):
    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


class ServiceArea(models.Model):
    """A part of the workshop with its own daily capacity in standard hours (mechanical, body, tyres...)."""

    name = models.CharField(_("name"), max_length=100)
    code = models.SlugField(_("code"), max_length=30, unique=True)
    daily_capacity_minutes = models.PositiveIntegerField(
        _("daily capacity, minutes"), help_text=_("Standard hours the area can serve in a working day, in minutes.")
    )
    is_active = models.BooleanField(_("active"), default=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("service area")
        verbose_name_plural = _("service areas")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(daily_capacity_minutes__gt=0),
                name="area_capacity_positive",
                violation_error_message=_("Capacity must be positive."),
            )
        ]

    def __str__(self) -> str:
        return self.name


class ServiceType(models.Model):
    """A kind of work clients book (ТО-1, diagnostics, tyre change...), with its standard duration and area."""

    name = models.CharField(_("name"), max_length=100)
    code = models.SlugField(_("code"), max_length=30, unique=True)
    area = models.ForeignKey(ServiceArea, verbose_name=_("area"), on_delete=models.PROTECT, related_name="types")
    standard_minutes = models.PositiveIntegerField(_("standard duration, minutes"))
    is_active = models.BooleanField(_("active"), default=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("service type")
        verbose_name_plural = _("service types")
        ordering = ["area__name", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(standard_minutes__gt=0),
                name="service_type_minutes_positive",
                violation_error_message=_("Duration must be positive."),
            )
        ]

    def __str__(self) -> str:
        return self.name


# No reception slot is longer (AdvisorProfile's check constraint), so a booking overlapping a time window starts at
# most this long before it: the lower bound that lets an index serve every overlap query.
MAX_SLOT = timedelta(minutes=240)


class AdvisorProfile(models.Model):
    """A service advisor's reception slots: each booking takes one slot of the advisor's time."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("advisor"), on_delete=models.PROTECT, related_name="advisor_profile"
    )
    slot_minutes = models.PositiveSmallIntegerField(_("slot length, minutes"), default=30)
    is_active = models.BooleanField(_("receives clients"), default=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("advisor profile")
        verbose_name_plural = _("advisor profiles")
        constraints = [
            models.CheckConstraint(
                condition=Q(slot_minutes__gte=5, slot_minutes__lte=int(MAX_SLOT.total_seconds() // 60)),
                name="advisor_slot_sane",
                violation_error_message=_("A slot is between 5 and 240 minutes."),
            )
        ]

    def __str__(self) -> str:
        return str(self.user)


class BookingQuerySet(VisibleQuerySet):
    view_capability = Capability.VIEW_BOOKINGS

    def occupying(self):
        """Bookings that hold their advisor slot and area capacity (not cancelled, not a no-show)."""
        return self.exclude(status__in=Booking.FREEING_STATUSES)


class Booking(TimeStampedModel):
    """A client's visit to the workshop: when, which advisor receives the car, which area does the work."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        CONFIRMED = "confirmed", _("Confirmed")
        ARRIVED = "arrived", _("Arrived")
        IN_SERVICE = "in_service", _("In service")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")
        NO_SHOW = "no_show", _("No-show")

    class Source(models.TextChoices):
        CALL = "call", _("Phone call")
        WALK_IN = "walk_in", _("Walk-in")
        DMS = "dms", _("Dealership system")

    FREEING_STATUSES = (Status.CANCELLED, Status.NO_SHOW)

    # client, area and advisor lead composite indexes below, so they need no single-column index of their own.
    client = models.ForeignKey(
        "clients.Client", verbose_name=_("client"), on_delete=models.PROTECT, related_name="bookings", db_index=False
    )
    vehicle = models.ForeignKey(
        "clients.Vehicle",
        verbose_name=_("vehicle"),
        on_delete=models.PROTECT,
        related_name="bookings",
        null=True,
        blank=True,
    )
    service_types = models.ManyToManyField(ServiceType, verbose_name=_("services"), related_name="bookings", blank=True)
    area = models.ForeignKey(
        ServiceArea, verbose_name=_("area"), on_delete=models.PROTECT, related_name="bookings", db_index=False
    )
    advisor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("advisor"),
        on_delete=models.PROTECT,
        related_name="advised_bookings",
        db_index=False,
    )
    starts_at = models.DateTimeField(_("starts"))
    advisor_until = models.DateTimeField(_("advisor's slot ends"), editable=False)
    planned_minutes = models.PositiveIntegerField(_("planned work, minutes"))
    comment = models.TextField(_("comment"), blank=True)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.CALL)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.SCHEDULED)
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=200, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    arrived_at = models.DateTimeField(_("arrived"), null=True, blank=True)
    capacity_override_reason = models.CharField(
        _("reason for going over capacity"), max_length=200, blank=True, help_text=_("Department head only.")
    )
    dms_id = models.CharField(_("DMS id"), max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("booked by"), on_delete=models.PROTECT, related_name="+", null=True
    )

    history = HistoricalRecords(excluded_fields=["updated_at"], m2m_fields=[service_types])
    objects = BookingQuerySet.as_manager()

    class Meta:
        verbose_name = _("booking")
        verbose_name_plural = _("bookings")
        constraints = [
            models.CheckConstraint(
                condition=Q(advisor_until__gt=F("starts_at")),
                name="booking_slot_not_empty",
                violation_error_message=_("The advisor's slot must end after it starts."),
            ),
            models.CheckConstraint(
                condition=Q(planned_minutes__gt=0),
                name="booking_planned_positive",
                violation_error_message=_("Planned work must take some time."),
            ),
            models.CheckConstraint(
                condition=~Q(status="cancelled") | ~Q(cancel_reason=""),
                name="booking_cancel_has_reason",
                violation_error_message=_("Say why the booking is cancelled."),
            ),
            models.UniqueConstraint(
                fields=["dms_id"],
                condition=~Q(dms_id=""),
                name="booking_dms_id_unique",
                violation_error_message=_("Another booking has this DMS id."),
            ),
            # Two bookings never hold one advisor at overlapping times; the database refuses the second writer.
            PostgresExclusionConstraint(
                name="booking_advisor_no_overlap",
                expressions=[
                    ("advisor", RangeOperators.EQUAL),
                    (TsTzRange("starts_at", "advisor_until", RangeBoundary()), RangeOperators.OVERLAPS),
                ],
                condition=~Q(status__in=["cancelled", "no_show"]),
                violation_error_message=_("The advisor already has a client at this time."),
            ),
        ]
        indexes = [
            models.Index(fields=["starts_at"], name="booking_starts_idx"),
            models.Index(fields=["advisor", "starts_at"], name="booking_advisor_starts_idx"),
            models.Index(fields=["area", "starts_at"], name="booking_area_starts_idx"),
            models.Index(fields=["client", "-starts_at"], name="booking_client_starts_idx"),
            models.Index(fields=["vehicle", "-starts_at"], name="booking_vehicle_starts_idx"),
            models.Index(fields=["status", "starts_at"], name="booking_status_starts_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.client} · {local_datetime_text(self.starts_at)}"

    @classmethod
    def from_db(cls, db, field_names, values, *, fetch_mode=None):
        booking = super().from_db(db, field_names, values, fetch_mode=fetch_mode)
        # Where the visit stood when read, for what a change moves it away from (the board's poll cache forgets the
        # day, advisor and area it leaves as well as those it goes to). None for a column the read deferred.
        booking.loaded_place = tuple(booking.__dict__.get(name) for name in ("starts_at", "advisor_id", "area_id"))
        return booking

    def get_absolute_url(self) -> str:
        return reverse("bookings:detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.SCHEDULED, self.Status.CONFIRMED)

    def take_status(self, to: str, *, at, note: str = "") -> None:
        """Set the status and what goes with it (when confirmed or arrived, why cancelled); unsaved. Whether the step
        is allowed is the service's to decide (bookings.services.booking_transition)."""
        if to == self.Status.CANCELLED:
            self.cancel_reason = note.strip()[:200]
        elif to == self.Status.CONFIRMED:
            self.confirmed_at = at
        elif to == self.Status.SCHEDULED:
            self.confirmed_at = None
        elif to == self.Status.ARRIVED:
            self.arrived_at = at
        self.status = to

    STATUS_BADGES = {
        Status.SCHEDULED: "text-bg-secondary",
        Status.CONFIRMED: "text-bg-success",
        Status.ARRIVED: "text-bg-info",
        Status.IN_SERVICE: "text-bg-primary",
        Status.COMPLETED: "text-bg-dark",
    }

    @property
    def status_badge(self) -> str:
        """The Bootstrap badge class of the status, for lists that show hundreds of rows."""
        return self.STATUS_BADGES.get(self.status, "text-bg-danger")


class BookingTransition(models.Model):
    """One step of a booking's life: who moved it from which status to which, when; a reschedule keeps the old time."""

    booking = models.ForeignKey(
        Booking, verbose_name=_("booking"), on_delete=models.CASCADE, related_name="transitions"
    )
    from_status = models.CharField(_("status before"), max_length=12, choices=Booking.Status.choices, blank=True)
    to_status = models.CharField(_("status after"), max_length=12, choices=Booking.Status.choices)
    at = models.DateTimeField(_("when"), auto_now_add=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("who"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    old_starts_at = models.DateTimeField(_("old time"), null=True, blank=True)
    new_starts_at = models.DateTimeField(_("new time"), null=True, blank=True)

    class Meta:
        verbose_name = _("booking transition")
        verbose_name_plural = _("booking transitions")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["booking", "at"], name="transition_booking_idx")]

    def __str__(self) -> str:
        return f"{self.from_status or '∅'} → {self.to_status}"


class RecallCampaignQuerySet(VisibleQuerySet):
    view_capability = Capability.VIEW_BOOKINGS

    def current(self, on=None):
        """Campaigns running on the given date (today by default)."""

        day = on or local_date(timezone.now())
        return self.filter(Q(starts_on__lte=day) | Q(starts_on__isnull=True)).filter(
            Q(ends_on__gte=day) | Q(ends_on__isnull=True)
        )


class RecallCampaign(models.Model):
    """A manufacturer's recall or warranty campaign (гарантийная акция) and the VINs it covers."""

    name = models.CharField(_("name"), max_length=200)
    manufacturer_code = models.CharField(_("manufacturer code"), max_length=50, unique=True)
    description = models.TextField(_("description"), blank=True)
    starts_on = models.DateField(_("starts"), null=True, blank=True)
    ends_on = models.DateField(_("ends"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    history = HistoricalRecords()
    objects = RecallCampaignQuerySet.as_manager()

    class Meta:
        verbose_name = _("recall campaign")
        verbose_name_plural = _("recall campaigns")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(starts_on__isnull=True) | Q(ends_on__isnull=True) | Q(starts_on__lte=F("ends_on")),
                name="recall_dates_ordered",
                violation_error_message=_("The campaign must start before it ends."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.manufacturer_code} {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("bookings:recall-detail", args=[self.pk])


class RecallVin(models.Model):
    """A VIN a campaign covers; `done_at` is set when the campaign work was done on that car."""

    campaign = models.ForeignKey(
        RecallCampaign, verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="vins"
    )
    vin = models.CharField(_("VIN"), max_length=17)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("done by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    done_booking = models.ForeignKey(
        Booking, verbose_name=_("done at visit"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("campaign VIN")
        verbose_name_plural = _("campaign VINs")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "vin"],
                name="recall_vin_unique",
                violation_error_message=_("This VIN is already listed."),
            ),
            models.CheckConstraint(condition=Q(vin__regex=r"^[A-HJ-NPR-Z0-9]{17}$"), name="recall_vin_valid"),
        ]
        indexes = [models.Index(fields=["vin"], condition=Q(done_at__isnull=True), name="recall_open_vin_idx")]

    def __str__(self) -> str:
        return self.vin
