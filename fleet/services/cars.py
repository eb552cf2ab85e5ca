"""Every write to the fleet's cars: the transport department head adds and edits them, clears a car that came back
with a problem or sends it to maintenance, takes it back from maintenance, retires it. A car's state follows
`ALLOWED_STATES`; every change leaves a `CarStateChange` (and the row's history).

A car sent to maintenance or retired does not leave its reservations on a car that will not be there: a loaner's
moves to another loaner free then, and what cannot move is released, each reservation's manager told which
(`rehouse_reservations`; the step returns what it did). Refusing instead would keep a broken car "available" until
every manager had rebooked by hand. A car back with a problem (`acts`) does the same with the reservations that start
before its inspection could close (`inspection_horizon`)."""

from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import Role
from clientdesk.calendar import BusinessCalendar, local_date
from clientdesk.errors import Conflict
from clientdesk.notify import notify
from clientdesk.timefmt import local_datetime_text
from clients.normalize import normalize_plate, normalize_vin
from fleet.models import CarInspection, CarStateChange, FleetCar, Reservation
from fleet.services.reservations import CarUnavailable, FreeCars, reservation_cancel, reservation_move

S = FleetCar.State
ALLOWED_STATES: dict[str, frozenset[str]] = {
    S.AVAILABLE: frozenset({S.OUT, S.IN_MAINTENANCE, S.RETIRED}),
    S.OUT: frozenset({S.AVAILABLE, S.NEEDS_INSPECTION}),
    S.NEEDS_INSPECTION: frozenset({S.AVAILABLE, S.IN_MAINTENANCE}),
    S.IN_MAINTENANCE: frozenset({S.AVAILABLE, S.RETIRED}),
    S.RETIRED: frozenset(),
}
CAR_FIELDS = (
    "plate",
    "vin",
    "make",
    "model",
    "year",
    "colour",
    "use",
    "mileage_km",
    "fuel_percent",
    "insurance_until",
    "inspection_until",
    "notes",
)


def _normalise(fields: dict) -> dict:
    errors = {}
    for name, normalise in (("plate", normalize_plate), ("vin", normalize_vin)):
        if name in fields:
            try:
                fields[name] = normalise(fields[name] or "")
            except ValidationError as exc:
                errors[name] = exc.messages
    if errors:
        raise ValidationError(errors)
    return fields


def _save(car: FleetCar, *, by: User | None, reason: str = "") -> None:
    car.full_clean(validate_constraints=False, validate_unique=False)
    car._history_user = by
    if reason:
        car._change_reason = reason
    try:
        with transaction.atomic():
            car.save()
    except IntegrityError as exc:
        field = "vin" if "vin" in str(exc) else "plate"
        raise Conflict(_("Another car of the fleet has this %(field)s.") % {"field": field}, field=field) from exc


@transaction.atomic
def car_create(*, by: User | None, **fields) -> FleetCar:
    """Add a car to the fleet (available from now)."""
    unknown = set(fields) - set(CAR_FIELDS)
    if unknown:
        raise TypeError(f"car_create does not set {sorted(unknown)}")
    car = FleetCar(**_normalise(fields))
    _save(car, by=by)
    CarStateChange.objects.create(car=car, to_state=car.state, by=by)
    return car


@transaction.atomic
def car_update(*, car: FleetCar, by: User | None, **fields) -> FleetCar:
    """Change a car's details (not its state: that follows the fleet's actions)."""
    unknown = set(fields) - set(CAR_FIELDS)
    if unknown:
        raise TypeError(f"car_update does not change {sorted(unknown)}")
    car = FleetCar.objects.select_for_update().get(pk=car.pk)
    for name, value in _normalise(fields).items():
        setattr(car, name, value)
    _save(car, by=by)
    return car


def set_state(car: FleetCar, *, to: str, by: User | None, note: str = "") -> FleetCar:
    """Move a (locked) car to another state along ALLOWED_STATES, recorded; the caller holds the transaction."""
    previous = car.state
    if to not in ALLOWED_STATES.get(previous, frozenset()):
        raise Conflict(
            _("A car that is %(current)s cannot become %(wanted)s.")
            % {"current": S(previous).label.lower(), "wanted": S(to).label.lower() if to in S.values else to},
            field="state",
        )
    car.state = to
    car._history_user = by
    car._change_reason = f"{previous} → {to}"
    car.save(update_fields=["state", "updated_at"])
    CarStateChange.objects.create(car=car, from_state=previous, to_state=to, by=by, note=note[:300])
    return car


def _close_inspection(car: FleetCar, *, by: User | None, outcome: str, note: str) -> None:
    inspection = CarInspection.objects.select_for_update().filter(car=car, closed_at__isnull=True).first()
    if inspection is not None:
        inspection.closed_at = timezone.now()
        inspection.closed_by = by
        inspection.outcome = outcome
        inspection.note = note[:300]
        inspection._history_user = by
        inspection.save()


@dataclass(frozen=True)
class Rehoused:
    """What became of the reservations a car that may not go out held: moved to another car, or released."""

    moved: tuple[Reservation, ...] = ()
    released: tuple[Reservation, ...] = ()


@dataclass(frozen=True)
class CarStep:
    """What a transport head's step did: the car as it is now, and what became of its reservations (nothing when the
    car stays in service)."""

    car: FleetCar
    rehoused: Rehoused = field(default_factory=Rehoused)


@transaction.atomic
def car_clear(*, car: FleetCar, by: User | None, note: str = "") -> CarStep:
    """The transport head checked the car that came back with a problem: it may go out again."""
    car = FleetCar.objects.select_for_update().get(pk=car.pk)
    if car.state != S.NEEDS_INSPECTION:
        raise Conflict(_("Only a car that needs inspection can be cleared."), field="state")
    _close_inspection(car, by=by, outcome="cleared", note=note)
    return CarStep(set_state(car, to=S.AVAILABLE, by=by, note=note))


def inspection_horizon(opened_at: datetime) -> datetime:
    """When an inspection opened at `opened_at` can be counted on to be closed: the end of the next working day (the
    transport head inspects in working hours; that leaves them the rest of this day and a whole working day)."""
    calendar = BusinessCalendar()
    return calendar.hours(calendar.next_working_day(local_date(opened_at))).end


class _Managers:
    """Who is told about a reservation: the manager who made it, or the department heads when there is none (read
    once, when first wanted)."""

    def __init__(self):
        self._heads: list[int] | None = None

    def of(self, reservation: Reservation) -> list[int]:
        author = reservation.created_by
        if author is not None and author.is_active:
            return [author.pk]
        if self._heads is None:
            self._heads = list(User.objects.filter(role=Role.HEAD, is_active=True).values_list("pk", flat=True))
        return self._heads


def _move_to_a_spare(reservation: Reservation, spares: FreeCars, *, by: User | None) -> Reservation | None:
    """The reservation on another free car for the same times, or None when none is free then."""
    times = {"starts_at": reservation.starts_at, "ends_at": reservation.ends_at}
    for other in spares.free(**times, free_from=reservation.free_from, exclude=reservation):
        try:  # atomic on its own: a refusal rolls back to its savepoint and leaves the caller's transaction usable
            moved = reservation_move(reservation=reservation, by=by, car=other, **times)
        except CarUnavailable:
            continue  # taken a moment ago by another writer: the next one
        spares.hold(other, starts_at=moved.starts_at, free_from=moved.free_from)
        return moved
    return None


def rehouse_reservations(car: FleetCar, *, by: User | None, starting_before: datetime | None = None) -> Rehoused:
    """The reservations not handed over yet that hold `car`, which has just become unable to go out (those starting
    before `starting_before`, when given). A loaner's goes to another loaner free for the same times (any loaner
    serves a workshop visit); one that cannot, and a test drive's (the client chose that car, and its papers name
    it), is released. Each reservation's manager is told which, so the client hears it from the desk before the day,
    not at the counter. The other cars' reservations are read once for all of them."""
    held = Reservation.objects.filter(car=car, status=Reservation.Status.RESERVED)
    if starting_before is not None:
        held = held.filter(starts_at__lt=starting_before)
    held = list(held.select_related("client", "created_by").order_by("starts_at", "id"))
    if not held:
        return Rehoused()
    loaners = [r for r in held if r.kind == Reservation.Kind.LOANER]
    spares = (
        FreeCars(use=car.use, starts_at=loaners[0].starts_at, until=max(r.free_from for r in loaners))
        if loaners
        else None
    )
    managers = _Managers()
    moved, released = [], []
    for reservation in held:
        when = {
            "client": reservation.client,
            "start": local_datetime_text(reservation.starts_at),
            "end": local_datetime_text(reservation.ends_at),
        }
        now_on = _move_to_a_spare(reservation, spares, by=by) if reservation.kind == Reservation.Kind.LOANER else None
        if now_on is not None:
            moved.append(now_on)
            notify(
                users=managers.of(reservation),
                title=_("%(car)s is out of service: the reservation moved to %(other)s")
                % {"car": car, "other": now_on.car},
                body=_("%(client)s, %(start)s – %(end)s. Tell the client which car they will get.") % when,
                url=now_on.get_absolute_url(),
                email=True,
            )
            continue
        reason = _("%(car)s is out of service (%(state)s).") % {"car": car, "state": car.get_state_display().lower()}
        released.append(reservation_cancel(reservation=reservation, by=by, reason=reason))
        if reservation.kind == Reservation.Kind.LOANER:
            advice = _(
                "%(client)s, %(start)s – %(end)s. No other loaner is free then: agree another time with the client."
            )
        else:
            advice = _("%(client)s, %(start)s – %(end)s. Agree another car or time for the test drive with the client.")
        notify(
            users=managers.of(reservation),
            title=_("%(car)s is out of service: the reservation is released") % {"car": car},
            body=advice % when,
            url=reservation.get_absolute_url(),
            email=True,
        )
    return Rehoused(moved=tuple(moved), released=tuple(released))


@transaction.atomic
def car_to_maintenance(*, car: FleetCar, by: User | None, note: str = "") -> CarStep:
    """Send a car to maintenance (from inspection, or when it is standing free). The reservations it held are moved
    to other cars or released, their managers told; the step says which."""
    car = FleetCar.objects.select_for_update().get(pk=car.pk)
    _close_inspection(car, by=by, outcome="maintenance", note=note)
    set_state(car, to=S.IN_MAINTENANCE, by=by, note=note)
    return CarStep(car, rehouse_reservations(car, by=by))


@transaction.atomic
def car_from_maintenance(*, car: FleetCar, by: User | None, note: str = "") -> CarStep:
    car = FleetCar.objects.select_for_update().get(pk=car.pk)
    if car.state != S.IN_MAINTENANCE:
        raise Conflict(_("The car is not in maintenance."), field="state")
    return CarStep(set_state(car, to=S.AVAILABLE, by=by, note=note))


@transaction.atomic
def car_retire(*, car: FleetCar, by: User | None, note: str = "") -> CarStep:
    """Take a car out of the fleet for good; the reservations it held are moved or released as for maintenance."""
    car = FleetCar.objects.select_for_update().get(pk=car.pk)
    set_state(car, to=S.RETIRED, by=by, note=note)
    return CarStep(car, rehouse_reservations(car, by=by))
