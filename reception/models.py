"""The reception's small desks: tow orders and their contractors, the printed materials on display, tinting
consultations and orders. Each ends in (or stands beside) a workshop booking of the bookings app."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from accounts.roles import Capability
from clientdesk.calendar import local_date
from clientdesk.models import TimeStampedModel
from clientdesk.querysets import VisibleQuerySet
from clientdesk.timefmt import local_datetime_text


class ReceptionQuerySet(VisibleQuerySet):
    view_capability = Capability.VIEW_RECEPTION


class PrintedMaterialQuerySet(ReceptionQuerySet):
    def needing_attention(self, *, today=None):
        """Items in use that are below their minimum or past their review-by date."""
        today = today or local_date(timezone.now())
        return self.filter(is_active=True).filter(Q(stock__lt=F("minimum")) | Q(review_by__lt=today))


class TowContractor(models.Model):
    """A tow-truck service the department calls (a directory the department head keeps), with its phones and rates."""

    name = models.CharField(_("name"), max_length=200)
    phones = models.JSONField(_("phones"), default=list, blank=True, help_text=_("E.164 numbers, the first is main."))
    call_out_rate = models.DecimalField(_("call-out rate"), max_digits=10, decimal_places=2, default=0)
    rate_per_km = models.DecimalField(_("rate per km"), max_digits=10, decimal_places=2, default=0)
    rates_note = models.CharField(_("rates, details"), max_length=300, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    history = HistoricalRecords()
    objects = ReceptionQuerySet.as_manager()

    class Meta:
        verbose_name = _("tow contractor")
        verbose_name_plural = _("tow contractors")
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(call_out_rate__gte=0, rate_per_km__gte=0),
                name="tow_contractor_rates_not_negative",
                violation_error_message=_("Rates cannot be negative."),
            ),
            # One entry per tow service, whatever the letter case: two "Эвакуатор-24" split the month's reconciliation.
            models.UniqueConstraint(
                Lower("name"),
                name="tow_contractor_name_unique",
                violation_error_message=_("A tow service with this name is already in the directory."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def main_phone(self) -> str:
        return self.phones[0] if self.phones else ""


class TowOrder(TimeStampedModel):
    """A broken-down car the department has towed in for a client: taken on the phone, dispatched to a contractor,
    delivered to the workshop (where it becomes a booking) or cancelled or failed."""

    class Status(models.TextChoices):
        NEW = "new", _("New")
        DISPATCHED = "dispatched", _("Dispatched")
        ON_THE_WAY = "on_the_way", _("On the way")
        DELIVERED = "delivered", _("Delivered")
        CANCELLED = "cancelled", _("Cancelled")
        FAILED = "failed", _("Failed")

    class Problem(models.TextChoices):
        WONT_START = "wont_start", _("Won't start")
        ACCIDENT = "accident", _("Accident")
        WHEEL = "wheel", _("Wheel")
        OTHER = "other", _("Other")

    OPEN_STATUSES = (Status.NEW, Status.DISPATCHED, Status.ON_THE_WAY)

    client = models.ForeignKey(
        "clients.Client", verbose_name=_("client"), on_delete=models.PROTECT, related_name="tow_orders"
    )
    vehicle = models.ForeignKey(
        "clients.Vehicle",
        verbose_name=_("vehicle"),
        on_delete=models.PROTECT,
        related_name="tow_orders",
        null=True,
        blank=True,
    )
    car = models.CharField(_("car"), max_length=100, blank=True, help_text=_("When the car is not on file yet."))
    pickup_address = models.CharField(_("pick-up address"), max_length=300)
    landmark = models.CharField(_("landmark"), max_length=200, blank=True)
    phone_on_site = models.CharField(_("phone on site"), max_length=16)
    problem = models.CharField(_("what happened"), max_length=12, choices=Problem.choices, default=Problem.WONT_START)
    problem_note = models.CharField(_("details"), max_length=300, blank=True)
    destination = models.CharField(_("destination"), max_length=300, blank=True, help_text=_("Empty: our workshop."))
    wanted_at = models.DateTimeField(
        _("wanted time"), null=True, blank=True, help_text=_("Empty: as soon as possible.")
    )
    contractor = models.ForeignKey(
        TowContractor,
        verbose_name=_("tow service"),
        on_delete=models.PROTECT,
        related_name="orders",
        null=True,
        blank=True,
    )
    driver = models.CharField(_("driver"), max_length=100, blank=True)
    service_type = models.ForeignKey(
        "bookings.ServiceType",
        verbose_name=_("work at the workshop"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.NEW)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    eta = models.DateTimeField(_("expected at the car"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("dispatched"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    cost = models.DecimalField(_("cost"), max_digits=10, decimal_places=2, null=True, blank=True)
    booking = models.OneToOneField(
        "bookings.Booking",
        verbose_name=_("workshop booking"),
        on_delete=models.PROTECT,
        related_name="tow_order",
        null=True,
        blank=True,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("taken by"), on_delete=models.PROTECT, related_name="+", null=True
    )

    history = HistoricalRecords(excluded_fields=["updated_at"])
    objects = ReceptionQuerySet.as_manager()

    class Meta:
        verbose_name = _("tow order")
        verbose_name_plural = _("tow orders")
        constraints = [
            models.CheckConstraint(
                condition=~Q(status__in=["cancelled", "failed"]) | ~Q(reason=""),
                name="tow_order_end_has_reason",
                violation_error_message=_("Say why the tow order ended this way."),
            ),
            # The one booking a delivered car gets (the one-to-one keeps it one).
            models.CheckConstraint(
                condition=~Q(status="delivered") | Q(booking__isnull=False),
                name="tow_order_delivered_has_booking",
                violation_error_message=_("A delivered car has its workshop booking."),
            ),
            # The number the driver calls, as the service stored it (E.164, like every phone of ours).
            models.CheckConstraint(
                condition=Q(phone_on_site__startswith="+"),
                name="tow_order_phone_on_site_e164",
                violation_error_message=_("Enter the phone on site as a full number."),
            ),
            models.CheckConstraint(
                condition=Q(cost__isnull=True) | Q(cost__gte=0),
                name="tow_order_cost_not_negative",
                violation_error_message=_("The cost cannot be negative."),
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["dispatched", "on_the_way", "delivered"]) | Q(contractor__isnull=False),
                name="tow_order_dispatched_has_contractor",
                violation_error_message=_("Choose the tow service."),
            ),
        ]
        indexes = [
            # The list of all orders pages newest first by (created_at, id) (clientdesk.views.KeysetPage).
            models.Index(fields=["-created_at", "-id"], name="tow_order_time_idx"),
            # The dispatch board: open orders, oldest first.
            models.Index(
                fields=["created_at"],
                condition=Q(status__in=["new", "dispatched", "on_the_way"]),
                name="tow_order_open_idx",
            ),
            # The reconciliation: a contractor's orders of a month.
            models.Index(fields=["contractor", "created_at"], name="tow_order_contractor_idx"),
            models.Index(fields=["client", "-created_at"], name="tow_order_client_idx"),
            models.Index(fields=["vehicle", "-created_at"], name="tow_order_vehicle_idx"),
        ]

    def __str__(self) -> str:
        return _("Tow order %(number)s of %(when)s") % {"number": self.pk, "when": local_datetime_text(self.created_at)}

    def get_absolute_url(self) -> str:
        return reverse("reception:tow-detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def car_label(self) -> str:
        return str(self.vehicle) if self.vehicle_id else self.car

    STATUS_BADGES = {
        Status.NEW: "text-bg-secondary",
        Status.DISPATCHED: "text-bg-info",
        Status.ON_THE_WAY: "text-bg-primary",
        Status.DELIVERED: "text-bg-success",
    }

    @property
    def status_badge(self) -> str:
        return self.STATUS_BADGES.get(self.status, "text-bg-danger")


class TowTransition(models.Model):
    """One step of a tow order's life: who moved it from which status to which, when, and what they noted."""

    order = models.ForeignKey(
        TowOrder, verbose_name=_("tow order"), on_delete=models.CASCADE, related_name="transitions"
    )
    from_status = models.CharField(_("status before"), max_length=12, choices=TowOrder.Status.choices, blank=True)
    to_status = models.CharField(_("status after"), max_length=12, choices=TowOrder.Status.choices)
    at = models.DateTimeField(_("when"), auto_now_add=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("who"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("tow order transition")
        verbose_name_plural = _("tow order transitions")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["order", "at"], name="tow_transition_order_idx")]

    def __str__(self) -> str:
        return f"{self.from_status or '∅'} → {self.to_status}"


class PrintedMaterial(models.Model):
    """A printed item on display for clients (price list, brochure, questionnaire, leaflet): where it lives, how many
    are left, the minimum to keep, and when its content must be checked again (reception 2.1.9)."""

    class Kind(models.TextChoices):
        PRICE_LIST = "price_list", _("Price list")
        BROCHURE = "brochure", _("Brochure")
        QUESTIONNAIRE = "questionnaire", _("Questionnaire")
        LEAFLET = "leaflet", _("Promotion leaflet")

    class Location(models.TextChoices):
        RECEPTION = "reception", _("Reception")
        CASH_DESK = "cash_desk", _("Cash desk")
        WAITING_AREA = "waiting_area", _("Waiting area")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=15, choices=Kind.choices)
    location = models.CharField(_("where it lives"), max_length=15, choices=Location.choices)
    stock = models.PositiveIntegerField(_("in stock"), default=0)
    minimum = models.PositiveIntegerField(_("minimum"), default=0)
    review_by = models.DateField(_("review by"), null=True, blank=True)
    is_active = models.BooleanField(_("in use"), default=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])
    objects = PrintedMaterialQuerySet.as_manager()

    class Meta:
        verbose_name = _("printed material")
        verbose_name_plural = _("printed materials")
        ordering = ["location", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["name", "location"],
                name="material_name_location_unique",
                violation_error_message=_("This item is already listed at this place."),
            )
        ]
        indexes = [models.Index(fields=["is_active", "review_by"], name="material_review_idx")]

    def __str__(self) -> str:
        return f"{self.name} · {self.get_location_display()}"

    @property
    def below_minimum(self) -> bool:
        return self.stock < self.minimum

    def review_due(self, today=None) -> bool:
        return self.review_by is not None and self.review_by < (today or local_date(timezone.now()))


class TintFilm(models.Model):
    """A tint film the workshop applies, with its own light transmission in percent."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    light_transmission = models.PositiveSmallIntegerField(_("light transmission, %"))
    is_active = models.BooleanField(_("in use"), default=True)

    history = HistoricalRecords()
    objects = ReceptionQuerySet.as_manager()

    class Meta:
        verbose_name = _("tint film")
        verbose_name_plural = _("tint films")
        ordering = ["-light_transmission", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(light_transmission__gte=1, light_transmission__lte=100),
                name="tint_film_transmission_percent",
                violation_error_message=_("Light transmission is between 1 and 100 %."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.light_transmission} %)"


class WindowZone(models.TextChoices):
    WINDSHIELD = "windshield", _("Windshield")
    FRONT_SIDE = "front_side", _("Front side windows")
    REAR_SIDE = "rear_side", _("Rear side windows")
    REAR = "rear", _("Rear window")


# The zones the technical regulation holds to the light-transmission limit.
REGULATED_ZONES = frozenset({WindowZone.WINDSHIELD, WindowZone.FRONT_SIDE})


class TintPrice(models.Model):
    """The price of one film on one window zone: the small price list an estimate is made from."""

    film = models.ForeignKey(TintFilm, verbose_name=_("film"), on_delete=models.CASCADE, related_name="prices")
    zone = models.CharField(_("windows"), max_length=12, choices=WindowZone.choices)
    price = models.DecimalField(_("price"), max_digits=10, decimal_places=2)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("tinting price")
        verbose_name_plural = _("tinting prices")
        ordering = ["film", "zone"]
        constraints = [
            models.UniqueConstraint(
                fields=["film", "zone"], name="tint_price_unique", violation_error_message=_("Priced already.")
            ),
            models.CheckConstraint(condition=Q(price__gte=0), name="tint_price_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.film} · {self.get_zone_display()}: {self.price}"


class TintConsultation(TimeStampedModel):
    """A tinting consultation: the client's car, the windows and films chosen, the resulting light transmission,
    the estimate, and whether the legal warning was given (and its words, as shown)."""

    client = models.ForeignKey(
        "clients.Client", verbose_name=_("client"), on_delete=models.PROTECT, related_name="tint_consultations"
    )
    vehicle = models.ForeignKey(
        "clients.Vehicle",
        verbose_name=_("vehicle"),
        on_delete=models.PROTECT,
        related_name="tint_consultations",
        null=True,
        blank=True,
    )
    glass_transmission = models.PositiveSmallIntegerField(
        _("glass light transmission, %"), default=90, help_text=_("The car's own glass, before any film.")
    )
    estimate = models.DecimalField(_("estimate"), max_digits=10, decimal_places=2, default=0)
    limit = models.PositiveSmallIntegerField(_("legal limit, %"))
    warning = models.TextField(_("warning given"), blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("consulted by"), on_delete=models.PROTECT, related_name="+", null=True
    )

    history = HistoricalRecords(excluded_fields=["updated_at"])
    objects = ReceptionQuerySet.as_manager()

    class Meta:
        verbose_name = _("tinting consultation")
        verbose_name_plural = _("tinting consultations")
        constraints = [
            models.CheckConstraint(
                condition=Q(glass_transmission__gte=1, glass_transmission__lte=100),
                name="tint_glass_transmission_percent",
            )
        ]
        indexes = [
            models.Index(fields=["client", "-created_at"], name="tint_consultation_client_idx"),
            models.Index(fields=["vehicle", "-created_at"], name="tint_consultation_vehicle_idx"),
            # The consultations list pages newest first by (created_at, id) (clientdesk.views.KeysetPage).
            models.Index(fields=["-created_at", "-id"], name="tint_consultation_time_idx"),
        ]

    def __str__(self) -> str:
        return _("Tinting consultation of %(when)s") % {"when": local_datetime_text(self.created_at)}

    def get_absolute_url(self) -> str:
        return reverse("reception:tint-detail", args=[self.pk])

    @property
    def warned(self) -> bool:
        return bool(self.warning)


class TintLine(models.Model):
    """One window zone of a consultation: the film chosen, its price and the light transmission that results."""

    consultation = models.ForeignKey(
        TintConsultation, verbose_name=_("consultation"), on_delete=models.CASCADE, related_name="lines"
    )
    zone = models.CharField(_("windows"), max_length=12, choices=WindowZone.choices)
    film = models.ForeignKey(TintFilm, verbose_name=_("film"), on_delete=models.PROTECT, related_name="+")
    price = models.DecimalField(_("price"), max_digits=10, decimal_places=2)
    result_transmission = models.PositiveSmallIntegerField(_("resulting light transmission, %"))

    class Meta:
        verbose_name = _("tinted windows")
        verbose_name_plural = _("tinted windows")
        ordering = ["consultation", "id"]
        constraints = [
            models.UniqueConstraint(fields=["consultation", "zone"], name="tint_line_zone_unique"),
            models.CheckConstraint(condition=Q(price__gte=0), name="tint_line_price_not_negative"),
            models.CheckConstraint(
                condition=Q(result_transmission__lte=100), name="tint_line_transmission_is_a_percentage"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_zone_display()}: {self.film} → {self.result_transmission} %"

    @property
    def below_limit(self) -> bool:
        return self.zone in REGULATED_ZONES and self.result_transmission < self.consultation.limit


class TintOrder(TimeStampedModel):
    """A tinting job booked into the tinting area: its status follows its booking (bookings' events)."""

    class Status(models.TextChoices):
        BOOKED = "booked", _("Booked")
        IN_WORK = "in_work", _("In work")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    consultation = models.OneToOneField(
        TintConsultation, verbose_name=_("consultation"), on_delete=models.PROTECT, related_name="order"
    )
    booking = models.OneToOneField(
        "bookings.Booking", verbose_name=_("workshop booking"), on_delete=models.PROTECT, related_name="tint_order"
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.BOOKED)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("ordered by"), on_delete=models.PROTECT, related_name="+", null=True
    )

    history = HistoricalRecords(excluded_fields=["updated_at"])
    objects = ReceptionQuerySet.as_manager()

    class Meta:
        verbose_name = _("tinting order")
        verbose_name_plural = _("tinting orders")

    def __str__(self) -> str:
        return _("Tinting order %(number)s") % {"number": self.pk}

    def get_absolute_url(self) -> str:
        return self.consultation.get_absolute_url()
