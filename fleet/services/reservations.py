"""Every write to reservations: reserve, move, cancel, and the loaner that follows a workshop visit.

The rules: a car is promised to one client at a time (the car's row is locked while the check runs, and on PostgreSQL
an exclusion constraint over (car, the time it is held) refuses a writer that raced past it, so twenty managers
reserving the last loaner at once get one reservation and nineteen clear refusals); a car that needs inspection, is in
maintenance or retired, or whose insurance or technical inspection lapses before it comes back, is not reserved. A
reservation lives `reserved → out → returned`, or `reserved → cancelled`, along `ALLOWED_TRANSITIONS`; every step
leaves a `ReservationTransition`.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.models import User
from bookings.models import Booking
from clientdesk.calendar import local_date
from clientdesk.errors import Conflict
from clientdesk.filters import check_date_range
from clientdesk.timefmt import local_date_text, local_datetime_text
from clients.models import Client
from fleet.models import FleetCar, Reservation, ReservationTransition

R = Reservation.Status
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    R.RESERVED: frozenset({R.OUT, R.CANCELLED}),
    R.OUT: frozenset({R.RETURNED}),
    R.RETURNED: frozenset(),
    R.CANCELLED: frozenset(),
}


class CarUnavailable(Conflict):
    """The car (or every loaner) is taken, or may not go out, for the wanted time: HTTP 409 / a form error."""


def return_buffer(kind: str) -> timedelta:
    """How long a car stays held after it is due back, to be checked, washed and refuelled before the next client."""
    if kind == Reservation.Kind.TEST_DRIVE:
        return timedelta(minutes=getattr(settings, "TEST_DRIVE_RETURN_BUFFER_MINUTES", 15))
    return timedelta(minutes=getattr(settings, "LOANER_RETURN_BUFFER_MINUTES", 60))


def car_refusal(car: FleetCar, *, starts_at: datetime, ends_at: datetime) -> str | None:
    """Why the car may not be promised for (starts_at, ends_at) whatever else is booked, or None when it may."""
    if car.state in FleetCar.UNRESERVABLE:
        return _("%(car)s is %(state)s and cannot be reserved.") % {"car": car, "state": car.get_state_display()}
    last_day = local_date(ends_at)
    if car.insurance_until is None or car.insurance_until < last_day:
        return _("The insurance of %(car)s lapses before it would come back (valid until %(date)s).") % {
            "car": car,
            "date": local_date_text(car.insurance_until) if car.insurance_until else "—",
        }
    if car.inspection_until is not None and car.inspection_until < last_day:
        return _("The technical inspection of %(car)s lapses before it would come back (valid until %(date)s).") % {
            "car": car,
            "date": local_date_text(car.inspection_until),
        }
    return None


def _clashes(car: FleetCar, *, starts_at: datetime, free_from: datetime, exclude: Reservation | None = None) -> bool:
    rows = Reservation.objects.holding().filter(car=car, starts_at__lt=free_from, free_from__gt=starts_at)
    if exclude is not None:
        rows = rows.exclude(pk=exclude.pk)
    return rows.exists()


def _record(reservation: Reservation, *, by: User | None, to: str, previous: str = "", note: str = "") -> None:
    ReservationTransition.objects.create(
        reservation=reservation, from_status=previous, to_status=to, by=by, note=note[:200]
    )


def _save(reservation: Reservation, *, by: User | None, reason: str = "") -> None:
    reservation.full_clean(exclude=["created_by", "booking", "client", "car"], validate_constraints=False)
    reservation._history_user = by
    if reason:
        reservation._change_reason = reason
    try:
        with transaction.atomic():
            reservation.save()
    except IntegrityError as exc:
        if "reservation_car_no_overlap" in str(exc):
            raise CarUnavailable(
                _("%(car)s was reserved for this time a moment ago.") % {"car": reservation.car}, field="car"
            ) from exc
        if "reservation_one_loaner_per_booking" in str(exc):
            raise Conflict(_("This visit already has a loaner."), field="booking") from exc
        raise


def _check_interval(starts_at: datetime, ends_at: datetime) -> None:
    for field, moment in (("starts_at", starts_at), ("ends_at", ends_at)):
        try:
            check_date_range(moment)  # a year-9999 return plus the buffer would overflow
        except ValidationError as error:
            raise ValidationError({field: error.messages}) from error
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": _("The car must come back after it goes out.")})


def _place(reservation: Reservation, *, car: FleetCar, exclude_self: bool) -> None:
    """Check `car` for the reservation's interval (the car's row locked) and put it on the reservation."""
    car = FleetCar.objects.select_for_update().get(pk=car.pk)
    if refusal := car_refusal(car, starts_at=reservation.starts_at, ends_at=reservation.ends_at):
        raise CarUnavailable(refusal, field="car")
    if _clashes(
        car,
        starts_at=reservation.starts_at,
        free_from=reservation.free_from,
        exclude=reservation if exclude_self else None,
    ):
        raise CarUnavailable(
            _("%(car)s is already reserved between %(start)s and %(end)s.")
            % {
                "car": car,
                "start": local_datetime_text(reservation.starts_at),
                "end": local_datetime_text(reservation.free_from),
            },
            field="car",
        )
    reservation.car = car


@transaction.atomic
def reservation_create(
    *,
    by: User | None,
    car: FleetCar,
    client: Client,
    starts_at: datetime,
    ends_at: datetime,
    kind: str = Reservation.Kind.LOANER,
    booking: Booking | None = None,
    comment: str = "",
) -> Reservation:
    """Promise `car` to `client` from `starts_at` until it is due back at `ends_at` (held a buffer longer)."""
    _check_interval(starts_at, ends_at)
    if client.is_merged:
        raise ValidationError({"client": _("This client was merged into %(target)s.") % {"target": client.merged_into}})
    wanted_use = FleetCar.Use.DEMO if kind == Reservation.Kind.TEST_DRIVE else FleetCar.Use.LOANER
    if car.use != wanted_use:
        raise ValidationError(
            {"car": _("%(car)s is not a %(use)s.") % {"car": car, "use": FleetCar.Use(wanted_use).label.lower()}}
        )
    reservation = Reservation(
        kind=kind,
        client=client,
        booking=booking,
        starts_at=starts_at,
        ends_at=ends_at,
        free_from=ends_at + return_buffer(kind),
        comment=comment.strip()[:300],
        created_by=by,
    )
    _place(reservation, car=car, exclude_self=False)
    _save(reservation, by=by)
    _record(reservation, by=by, to=reservation.status, note=comment)
    return reservation


class FreeCars:
    """The cars of one use that may go out, and the times their reservations hold them within a span, read once (two
    queries): asked about many intervals inside the span, as when a car's reservations move to others. `hold` marks
    an interval just promised, so the next question sees it."""

    def __init__(self, *, use: str, starts_at: datetime, until: datetime):
        self.cars = list(
            FleetCar.objects.filter(use=use).exclude(state__in=FleetCar.UNRESERVABLE).order_by("mileage_km", "id")
        )
        self._held: dict[int, list[tuple[int | None, datetime, datetime]]] = {car.pk: [] for car in self.cars}
        held = Reservation.objects.holding().filter(
            car__in=list(self._held), starts_at__lt=until, free_from__gt=starts_at
        )
        for car_id, pk, held_from, held_until in held.values_list("car_id", "pk", "starts_at", "free_from"):
            self._held[car_id].append((pk, held_from, held_until))

    def free(
        self, *, starts_at: datetime, ends_at: datetime, free_from: datetime, exclude: Reservation | None = None
    ) -> list[FleetCar]:
        """The cars that may be promised from `starts_at`, due back at `ends_at` and held until `free_from`, least
        driven first (`exclude`: a reservation being moved does not stand in its own way)."""
        skip = exclude.pk if exclude is not None else None
        return [
            car
            for car in self.cars
            if not any(
                pk != skip and held_from < free_from and held_until > starts_at
                for pk, held_from, held_until in self._held[car.pk]
            )
            and car_refusal(car, starts_at=starts_at, ends_at=ends_at) is None
        ]

    def hold(self, car: FleetCar, *, starts_at: datetime, free_from: datetime) -> None:
        self._held[car.pk].append((None, starts_at, free_from))


def free_cars(
    *, use: str, starts_at: datetime, ends_at: datetime, exclude: Reservation | None = None
) -> list[FleetCar]:
    """Cars of `use` that may be promised for (starts_at, ends_at): reservable and held by no one (two queries)."""
    _check_interval(starts_at, ends_at)
    free_from = ends_at + return_buffer(Reservation.Kind.TEST_DRIVE if use == FleetCar.Use.DEMO else "loaner")
    cars = FreeCars(use=use, starts_at=starts_at, until=free_from)
    return cars.free(starts_at=starts_at, ends_at=ends_at, free_from=free_from, exclude=exclude)


def booking_loaner_interval(booking: Booking) -> tuple[datetime, datetime]:
    """The loaner of a visit goes out when the client leaves their car and is due back when the planned work ends."""
    return booking.starts_at, booking.starts_at + timedelta(minutes=booking.planned_minutes)


def _reserve_any_loaner(
    *, by: User | None, client: Client, starts_at: datetime, ends_at: datetime, booking: Booking | None
) -> Reservation:
    for car in free_cars(use=FleetCar.Use.LOANER, starts_at=starts_at, ends_at=ends_at):
        try:
            with transaction.atomic():
                return reservation_create(
                    by=by, car=car, client=client, starts_at=starts_at, ends_at=ends_at, booking=booking
                )
        except CarUnavailable:
            continue  # taken a moment ago by another writer: try the next one
    raise CarUnavailable(
        _("No loaner is free from %(start)s to %(end)s.")
        % {"start": local_datetime_text(starts_at), "end": local_datetime_text(ends_at)},
        field="needs_loaner",
    )


def loaner_reserve_for_booking(*, booking_id: int, by_id: int | None) -> Reservation:
    """Inside the booking's transaction: reserve a free loaner for the visit, or raise (and the booking is not made)."""
    booking = Booking.objects.select_related("client").get(pk=booking_id)
    by = User.objects.filter(pk=by_id).first() if by_id else None
    starts_at, ends_at = booking_loaner_interval(booking)
    return _reserve_any_loaner(by=by, client=booking.client, starts_at=starts_at, ends_at=ends_at, booking=booking)


def _held_for_booking(booking_id: int) -> Reservation | None:
    return (
        Reservation.objects.select_for_update()
        .select_related("car")
        .filter(booking_id=booking_id, status__in=Reservation.HOLDING)
        .first()
    )


def loaner_follow_booking_move(*, booking_id: int, by_id: int | None) -> Reservation | None:
    """Inside the booking's transaction: move its loaner with it (the same car when it is free then, another loaner
    otherwise), or raise so the visit stays where it was. A car already out stays out."""
    reservation = _held_for_booking(booking_id)
    if reservation is None or reservation.status != R.RESERVED:
        return reservation
    booking = Booking.objects.get(pk=booking_id)
    by = User.objects.filter(pk=by_id).first() if by_id else None
    starts_at, ends_at = booking_loaner_interval(booking)
    try:
        with transaction.atomic():
            return reservation_move(reservation=reservation, by=by, starts_at=starts_at, ends_at=ends_at)
    except CarUnavailable:
        pass
    for car in free_cars(use=FleetCar.Use.LOANER, starts_at=starts_at, ends_at=ends_at, exclude=reservation):
        try:
            with transaction.atomic():
                return reservation_move(reservation=reservation, by=by, starts_at=starts_at, ends_at=ends_at, car=car)
        except CarUnavailable:
            continue
    raise CarUnavailable(
        _("No loaner is free from %(start)s to %(end)s; the visit was not moved.")
        % {"start": local_datetime_text(starts_at), "end": local_datetime_text(ends_at)},
        field="starts_at",
    )


def loaner_follow_booking_status(*, booking_id: int, by_id: int | None, status: str) -> Reservation | None:
    """Inside the booking's transaction: a visit cancelled or missed releases a loaner not handed over yet."""
    if status not in Booking.FREEING_STATUSES:
        return None
    reservation = _held_for_booking(booking_id)
    if reservation is None or reservation.status != R.RESERVED:
        return reservation
    by = User.objects.filter(pk=by_id).first() if by_id else None
    reason = (
        _("The workshop visit was cancelled.") if status == Booking.Status.CANCELLED else _("The client did not come.")
    )
    return reservation_cancel(reservation=reservation, by=by, reason=reason)


@transaction.atomic
def reservation_move(
    *, reservation: Reservation, by: User | None, starts_at: datetime, ends_at: datetime, car: FleetCar | None = None
) -> Reservation:
    """Move a reservation not handed over yet to another interval (and car)."""
    reservation = Reservation.objects.select_for_update().select_related("car").get(pk=reservation.pk)
    if reservation.status != R.RESERVED:
        raise Conflict(_("Only a reservation not handed over yet can be moved."), field="status")
    _check_interval(starts_at, ends_at)
    old = local_datetime_text(reservation.starts_at)
    reservation.starts_at, reservation.ends_at = starts_at, ends_at
    reservation.free_from = ends_at + return_buffer(reservation.kind)
    _place(reservation, car=car or reservation.car, exclude_self=True)
    _save(reservation, by=by, reason="moved")
    _record(reservation, by=by, previous=R.RESERVED, to=R.RESERVED, note=f"{old} → {local_datetime_text(starts_at)}")
    return reservation


def _transition(reservation: Reservation, *, to: str) -> str:
    previous = reservation.status
    if to not in ALLOWED_TRANSITIONS.get(previous, frozenset()):
        raise Conflict(
            _("A reservation that is %(current)s cannot become %(wanted)s.")
            % {"current": R(previous).label, "wanted": R(to).label if to in R.values else to},
            field="status",
        )
    reservation.status = to
    return previous


@transaction.atomic
def reservation_cancel(*, reservation: Reservation, by: User | None, reason: str) -> Reservation:
    """Release a car not handed over yet; the reason is kept."""
    reservation = Reservation.objects.select_for_update().get(pk=reservation.pk)
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the reservation is cancelled.")})
    previous = _transition(reservation, to=R.CANCELLED)
    reservation.cancel_reason = reason.strip()[:200]
    _save(reservation, by=by, reason=f"{previous} → cancelled")
    _record(reservation, by=by, previous=previous, to=R.CANCELLED, note=reason)
    return reservation


def is_overdue(reservation: Reservation, *, now: datetime) -> bool:
    return reservation.status == R.OUT and reservation.ends_at < now
