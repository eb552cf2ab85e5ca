"""The dealership's own cars lent out: loaners for clients whose car is in the workshop, demo cars for test drives.

A car goes out for a `Reservation` (an interval, a client, a workshop booking or a test drive); two reservations of
one car never overlap (a PostgreSQL exclusion constraint over the car and the time range the car is held, which
includes the buffer for its return). It goes out and comes back with a `HandoverAct` (mileage, fuel, damage marks,
photos, the client's licence); a car that comes back with a problem opens a `CarInspection` and is not lent again
until the transport department head clears it or sends it to maintenance.
"""

from django.conf import settings
from django.contrib.postgres.fields import RangeBoundary, RangeOperators
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from accounts.roles import Capability, Role
from bookings.models import TsTzRange
from clientdesk.constraints import PostgresExclusionConstraint
from clientdesk.models import TimeStampedModel
from clientdesk.querysets import VisibleQuerySet
from clientdesk.timefmt import local_datetime_text
from clientdesk.uploads import JPEG, PNG, accept_upload, stored_name


class CarUse(models.TextChoices):
    LOANER = "loaner", _("Loaner")
    DEMO = "demo", _("Demo car")


class CarState(models.TextChoices):
    AVAILABLE = "available", _("Available")
    OUT = "out", _("Out with a client")
    NEEDS_INSPECTION = "needs_inspection", _("Needs inspection")
    IN_MAINTENANCE = "in_maintenance", _("In maintenance")
    RETIRED = "retired", _("Retired")


class CarQuerySet(VisibleQuerySet):
    view_capability = Capability.VIEW_FLEET

    def in_use(self):
        return self.exclude(state=FleetCar.State.RETIRED)


class FleetCar(TimeStampedModel):
    """One of our cars: a loaner (подменный автомобиль) or a demo car for test drives."""

    Use = CarUse
    State = CarState

    # A car in these states is not promised to anyone.
    UNRESERVABLE = (State.NEEDS_INSPECTION, State.IN_MAINTENANCE, State.RETIRED)

    plate = models.CharField(_("plate"), max_length=12, unique=True)
    vin = models.CharField(_("VIN"), max_length=17, blank=True)
    make = models.CharField(_("make"), max_length=50)
    model = models.CharField(_("model"), max_length=50)
    year = models.PositiveSmallIntegerField(_("year"), null=True, blank=True)
    colour = models.CharField(_("colour"), max_length=30, blank=True)
    use = models.CharField(_("use"), max_length=10, choices=Use.choices, default=Use.LOANER)
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.AVAILABLE)
    mileage_km = models.PositiveIntegerField(_("mileage, km"), default=0)
    fuel_percent = models.PositiveSmallIntegerField(_("fuel, %"), default=100)
    insurance_until = models.DateField(_("insurance (ОСАГО) valid until"), null=True, blank=True)
    inspection_until = models.DateField(_("technical inspection valid until"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])
    objects = CarQuerySet.as_manager()

    class Meta:
        verbose_name = _("fleet car")
        verbose_name_plural = _("fleet cars")
        ordering = ["use", "make", "model", "plate"]
        constraints = [
            models.CheckConstraint(condition=Q(fuel_percent__lte=100), name="fleet_car_fuel_percent"),
            models.UniqueConstraint(fields=["vin"], condition=~Q(vin=""), name="fleet_car_vin_unique"),
            models.CheckConstraint(condition=Q(use__in=CarUse.values), name="fleet_car_use_known"),
            models.CheckConstraint(condition=Q(state__in=CarState.values), name="fleet_car_state_known"),
        ]
        indexes = [models.Index(fields=["use", "state"], name="fleet_car_use_state_idx")]

    def __str__(self) -> str:
        return f"{self.make} {self.model} {self.plate}"

    def get_absolute_url(self) -> str:
        return reverse("fleet:car-detail", args=[self.pk])

    STATE_BADGES = {
        State.AVAILABLE: "text-bg-success",
        State.OUT: "text-bg-primary",
        State.NEEDS_INSPECTION: "text-bg-danger",
        State.IN_MAINTENANCE: "text-bg-warning",
        State.RETIRED: "text-bg-secondary",
    }

    @property
    def state_badge(self) -> str:
        return self.STATE_BADGES.get(self.state, "text-bg-secondary")


class ReservationKind(models.TextChoices):
    LOANER = "loaner", _("Loaner")
    TEST_DRIVE = "test_drive", _("Test drive")


class ReservationStatus(models.TextChoices):
    RESERVED = "reserved", _("Reserved")
    OUT = "out", _("Out")
    RETURNED = "returned", _("Returned")
    CANCELLED = "cancelled", _("Cancelled")


class ReservationQuerySet(VisibleQuerySet):
    view_capability = Capability.VIEW_FLEET

    def visible_to(self, user):
        rows = super().visible_to(user)
        # A service advisor sees the loaners of the visits booked to them, nothing else of the fleet's bookings.
        if user is not None and user.is_authenticated and user.role == Role.ADVISOR:
            return rows.filter(booking__advisor=user)
        return rows

    def holding(self):
        """Reservations that hold their car (not cancelled, not returned)."""
        return self.filter(status__in=Reservation.HOLDING)


class Reservation(TimeStampedModel):
    """A car promised to a client for an interval: a loaner with a workshop visit, or a demo car for a test drive.
    The car is held from `starts_at` to `free_from` (the return time plus the buffer to make it ready again)."""

    Kind = ReservationKind
    Status = ReservationStatus

    HOLDING = (Status.RESERVED, Status.OUT)

    car = models.ForeignKey(FleetCar, verbose_name=_("car"), on_delete=models.PROTECT, related_name="reservations")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.LOANER)
    client = models.ForeignKey(
        "clients.Client", verbose_name=_("client"), on_delete=models.PROTECT, related_name="fleet_reservations"
    )
    booking = models.ForeignKey(
        "bookings.Booking",
        verbose_name=_("workshop visit"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="loaner_reservations",
    )
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("due back"))
    free_from = models.DateTimeField(_("car free again"), editable=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RESERVED)
    checked_out_at = models.DateTimeField(_("handed over"), null=True, blank=True)
    returned_at = models.DateTimeField(_("returned"), null=True, blank=True)
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=200, blank=True)
    overdue_flagged_at = models.DateTimeField(_("overdue flagged"), null=True, blank=True)
    contract_signed_at = models.DateTimeField(_("temporary-use contract signed"), null=True, blank=True)
    contract_document_id = models.PositiveBigIntegerField(_("contract document"), null=True, blank=True)
    comment = models.CharField(_("comment"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("reserved by"), on_delete=models.PROTECT, related_name="+", null=True
    )

    history = HistoricalRecords(excluded_fields=["updated_at"])
    objects = ReservationQuerySet.as_manager()

    class Meta:
        verbose_name = _("reservation")
        verbose_name_plural = _("reservations")
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="reservation_ends_after_start"),
            models.CheckConstraint(condition=Q(free_from__gte=F("ends_at")), name="reservation_free_after_end"),
            models.CheckConstraint(condition=Q(kind__in=ReservationKind.values), name="reservation_kind_known"),
            # The handover stamps follow the status: a car out was handed over and is not back, a returned one was
            # handed over and taken back, one reserved or cancelled never left.
            models.CheckConstraint(
                condition=Q(status=ReservationStatus.RESERVED, checked_out_at__isnull=True, returned_at__isnull=True)
                | Q(status=ReservationStatus.OUT, checked_out_at__isnull=False, returned_at__isnull=True)
                | Q(status=ReservationStatus.RETURNED, checked_out_at__isnull=False, returned_at__isnull=False)
                | Q(status=ReservationStatus.CANCELLED, checked_out_at__isnull=True, returned_at__isnull=True),
                name="reservation_stamps_follow_status",
            ),
            models.CheckConstraint(
                condition=Q(returned_at__isnull=True) | Q(returned_at__gte=F("checked_out_at")),
                name="reservation_back_after_out",
            ),
            models.CheckConstraint(
                condition=~Q(status=ReservationStatus.CANCELLED) | ~Q(cancel_reason=""),
                name="reservation_cancel_has_reason",
            ),
            # A test drive is no workshop visit's loaner.
            models.CheckConstraint(
                condition=Q(kind=ReservationKind.LOANER) | Q(booking__isnull=True),
                name="reservation_booking_only_for_loaner",
            ),
            models.CheckConstraint(
                condition=Q(contract_document_id__isnull=True) | Q(contract_signed_at__isnull=False),
                name="reservation_contract_document_signed",
            ),
            # A car is with one client at a time, whatever the intervals say (a car overdue is still out).
            models.UniqueConstraint(
                fields=["car"], condition=Q(status=ReservationStatus.OUT), name="reservation_one_out_per_car"
            ),
            models.UniqueConstraint(
                fields=["booking"],
                condition=Q(booking__isnull=False, status__in=["reserved", "out"]),
                name="reservation_one_loaner_per_booking",
            ),
            # One car is never promised to two clients for overlapping times; the database refuses the second writer.
            PostgresExclusionConstraint(
                name="reservation_car_no_overlap",
                expressions=[
                    ("car", RangeOperators.EQUAL),
                    (TsTzRange("starts_at", "free_from", RangeBoundary()), RangeOperators.OVERLAPS),
                ],
                condition=Q(status__in=["reserved", "out"]),
                violation_error_message=_("The car is already reserved for this time."),
            ),
        ]
        indexes = [
            models.Index(fields=["car", "starts_at"], name="reservation_car_starts_idx"),
            models.Index(fields=["status", "ends_at"], name="reservation_status_ends_idx"),
            models.Index(fields=["client", "-starts_at"], name="reservation_client_idx"),
            models.Index(fields=["starts_at"], name="reservation_starts_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.car} · {local_datetime_text(self.starts_at)}"

    def get_absolute_url(self) -> str:
        return reverse("fleet:reservation-detail", args=[self.pk])

    @property
    def is_holding(self) -> bool:
        return self.status in self.HOLDING

    @property
    def lasts_over_a_day(self) -> bool:
        return (self.ends_at - self.starts_at).total_seconds() > 24 * 3600


class ReservationTransition(models.Model):
    """One step of a reservation's life (reserved, moved, out, returned, cancelled): who, when, from, to."""

    reservation = models.ForeignKey(
        Reservation, verbose_name=_("reservation"), on_delete=models.CASCADE, related_name="transitions"
    )
    from_status = models.CharField(_("status before"), max_length=10, choices=Reservation.Status.choices, blank=True)
    to_status = models.CharField(_("status after"), max_length=10, choices=Reservation.Status.choices)
    at = models.DateTimeField(_("when"), auto_now_add=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("who"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("reservation step")
        verbose_name_plural = _("reservation steps")
        ordering = ["at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(to_status__in=Reservation.Status.values), name="fleet_transition_known"),
        ]
        indexes = [models.Index(fields=["reservation", "at"], name="fleet_transition_res_idx")]

    def __str__(self) -> str:
        return f"{self.from_status or '∅'} → {self.to_status}"


class CarStateChange(models.Model):
    """One change of a car's state (out, back, needs inspection, cleared, to maintenance...): who, when, why."""

    car = models.ForeignKey(FleetCar, verbose_name=_("car"), on_delete=models.CASCADE, related_name="state_changes")
    from_state = models.CharField(_("state before"), max_length=20, choices=FleetCar.State.choices, blank=True)
    to_state = models.CharField(_("state after"), max_length=20, choices=FleetCar.State.choices)
    at = models.DateTimeField(_("when"), auto_now_add=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("who"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("car state change")
        verbose_name_plural = _("car state changes")
        ordering = ["at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(to_state__in=FleetCar.State.values), name="fleet_state_change_known"),
        ]
        indexes = [models.Index(fields=["car", "at"], name="fleet_state_car_idx")]

    def __str__(self) -> str:
        return f"{self.from_state or '∅'} → {self.to_state}"


class ActDirection(models.TextChoices):
    OUT = "out", _("Handed over to the client")
    BACK = "back", _("Taken back from the client")


class HandoverAct(models.Model):
    """The act of handing a car over (акт приема-передачи): out to the client, or back from them."""

    Direction = ActDirection

    reservation = models.ForeignKey(
        Reservation, verbose_name=_("reservation"), on_delete=models.PROTECT, related_name="acts"
    )
    direction = models.CharField(_("direction"), max_length=4, choices=Direction.choices)
    at = models.DateTimeField(_("when"))
    mileage_km = models.PositiveIntegerField(_("mileage, km"))
    fuel_percent = models.PositiveSmallIntegerField(_("fuel, %"))
    licence_number = models.CharField(_("driving licence number"), max_length=20, blank=True)
    licence_valid_until = models.DateField(_("licence valid until"), null=True, blank=True)
    deposit = models.DecimalField(_("deposit, ₽"), max_digits=10, decimal_places=2, null=True, blank=True)
    client_reported_fault = models.CharField(_("fault reported by the client"), max_length=300, blank=True)
    warning_lamp = models.BooleanField(_("a warning lamp is on"), default=False)
    signatures_confirmed = models.BooleanField(_("signatures confirmed"), default=False)
    note = models.CharField(_("note"), max_length=300, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("manager"), on_delete=models.PROTECT, null=True, related_name="+"
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("handover act")
        verbose_name_plural = _("handover acts")
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["reservation", "direction"], name="handover_act_once_per_direction"),
            models.CheckConstraint(condition=Q(fuel_percent__lte=100), name="handover_act_fuel_percent"),
            models.CheckConstraint(condition=Q(signatures_confirmed=True), name="handover_act_signed"),
            models.CheckConstraint(condition=Q(direction__in=ActDirection.values), name="handover_act_direction_known"),
            # A car goes out only against the client's driving licence, written on the act.
            models.CheckConstraint(
                condition=~Q(direction=ActDirection.OUT)
                | (~Q(licence_number="") & Q(licence_valid_until__isnull=False)),
                name="handover_act_out_has_licence",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} · {local_datetime_text(self.at)}"


class DamageZone(models.TextChoices):
    FRONT_BUMPER = "front_bumper", _("Front bumper")
    BONNET = "bonnet", _("Bonnet")
    WINDSCREEN = "windscreen", _("Windscreen")
    ROOF = "roof", _("Roof")
    BOOT = "boot", _("Boot lid")
    REAR_BUMPER = "rear_bumper", _("Rear bumper")
    LEFT_FRONT = "left_front", _("Left front wing/door")
    LEFT_REAR = "left_rear", _("Left rear door/wing")
    RIGHT_FRONT = "right_front", _("Right front wing/door")
    RIGHT_REAR = "right_rear", _("Right rear door/wing")
    WHEELS = "wheels", _("Wheels and tyres")
    INTERIOR = "interior", _("Interior")


class DamageKind(models.TextChoices):
    SCRATCH = "scratch", _("Scratch")
    DENT = "dent", _("Dent")
    CHIP = "chip", _("Chip")
    CRACK = "crack", _("Crack")
    STAIN = "stain", _("Stain")
    OTHER = "other", _("Other")


class DamageMark(models.Model):
    """A mark on the car's outline: where, what kind, a note. On an act back, `is_new` when the act out had none
    like it (same zone and kind)."""

    Zone = DamageZone
    Kind = DamageKind

    act = models.ForeignKey(HandoverAct, verbose_name=_("act"), on_delete=models.CASCADE, related_name="marks")
    zone = models.CharField(_("zone"), max_length=20, choices=Zone.choices)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    note = models.CharField(_("note"), max_length=200, blank=True)
    is_new = models.BooleanField(_("new"), default=False)

    class Meta:
        verbose_name = _("damage mark")
        verbose_name_plural = _("damage marks")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(zone__in=DamageZone.values, kind__in=DamageKind.values),
                name="damage_mark_zone_and_kind_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_zone_display()}: {self.get_kind_display()}"


def validate_photo(file) -> None:
    """A photo is a JPEG or PNG by its content, within the upload size cap."""
    accept_upload(JPEG, PNG)(file)


class DamagePhoto(models.Model):
    """A photo taken at a handover (JPEG or PNG, size-capped, stored under a name we make)."""

    act = models.ForeignKey(HandoverAct, verbose_name=_("act"), on_delete=models.CASCADE, related_name="photos")
    file = models.FileField(_("photo"), upload_to=stored_name("fleet"), validators=[validate_photo])
    original_name = models.CharField(_("file name"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("handover photo")
        verbose_name_plural = _("handover photos")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.original_name or self.file.name


class InspectionOutcome(models.TextChoices):
    CLEARED = "cleared", _("Cleared")
    MAINTENANCE = "maintenance", _("Sent to maintenance")


class CarInspection(models.Model):
    """A problem found when a car came back (new damage, a fault the client reported, a warning lamp): the car waits
    in "needs inspection" until the transport department head clears it or sends it to maintenance. One per act back,
    so the transport head is told once per problem."""

    Outcome = InspectionOutcome

    car = models.ForeignKey(FleetCar, verbose_name=_("car"), on_delete=models.PROTECT, related_name="inspections")
    act = models.OneToOneField(
        HandoverAct, verbose_name=_("act"), on_delete=models.PROTECT, related_name="inspection", null=True, blank=True
    )
    reasons = models.CharField(_("what was found"), max_length=500)
    opened_at = models.DateTimeField(_("opened"), auto_now_add=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("closed by"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    note = models.CharField(_("note"), max_length=300, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("car inspection")
        verbose_name_plural = _("car inspections")
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["car"], condition=Q(closed_at__isnull=True), name="car_inspection_one_open_per_car"
            ),
            # An open inspection has no outcome yet; a closed one says how it ended.
            models.CheckConstraint(
                condition=Q(closed_at__isnull=True, outcome="")
                | Q(closed_at__isnull=False, outcome__in=InspectionOutcome.values),
                name="car_inspection_closed_has_outcome",
            ),
        ]

    def __str__(self) -> str:
        return self.reasons


class TestDriveQuerySet(VisibleQuerySet):
    view_capability = Capability.VIEW_FLEET


class TestDrive(TimeStampedModel):
    """A test drive (2.1.12): a client or a new contact from the sales floor, a demo car for a time, the sales
    manager who rides along, the route, the licence checked. Its car is held by its reservation."""

    reservation = models.OneToOneField(
        Reservation, verbose_name=_("reservation"), on_delete=models.PROTECT, related_name="test_drive"
    )
    sales_manager = models.CharField(_("accompanying sales manager"), max_length=100)
    route = models.CharField(_("route"), max_length=300)
    licence_number = models.CharField(_("driving licence number"), max_length=20)
    licence_valid_until = models.DateField(_("licence valid until"))

    history = HistoricalRecords(excluded_fields=["updated_at"])
    objects = TestDriveQuerySet.as_manager()

    class Meta:
        verbose_name = _("test drive")
        verbose_name_plural = _("test drives")
        ordering = ["-id"]

    def __str__(self) -> str:
        return str(self.reservation)

    def get_absolute_url(self) -> str:
        return reverse("fleet:reservation-detail", args=[self.reservation_id])
