"""Reads shaped for the fleet's pages and API: the board, a car's page, the test-drive log, the loaners free for the
workshop's slot picker. Each reads in a fixed number of queries, whatever the number of cars and reservations."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import connection
from django.db.models import Count, FilteredRelation, Prefetch, Q, QuerySet
from django.utils import timezone

from accounts.roles import Capability
from clientdesk.calendar import day_bounds, local_date
from fleet.models import CarInspection, CarStateChange, FleetCar, HandoverAct, Reservation, TestDrive
from fleet.services.reservations import return_buffer

# Cars whose insurance or technical inspection lapses within this many days are flagged on the board and the list.
LAPSE_WARNING_DAYS = 30


def reservations_for_display(queryset: QuerySet) -> QuerySet:
    return queryset.select_related("car", "client", "booking", "created_by", "test_drive")


@dataclass
class Board:
    """The fleet board: who has which car until when (overdue first), what comes back today, what goes out in the
    period, the cars waiting for the transport head, and the count of cars by state."""

    day: date
    until: date
    out: list[Reservation] = field(default_factory=list)
    coming: list[Reservation] = field(default_factory=list)
    inspections: list[CarInspection] = field(default_factory=list)
    states: dict[str, int] = field(default_factory=dict)
    lapsing: list[FleetCar] = field(default_factory=list)

    @property
    def overdue(self) -> list[Reservation]:
        return [r for r in self.out if r.is_overdue]

    @property
    def back_today(self) -> list[Reservation]:
        return [r for r in self.out if not r.is_overdue and r.back_today]


# What `str(car)` and a link to it need.
CAR_NAME_FIELDS = ("id", "make", "model", "plate")
BOARD_ROW_FIELDS = (
    "id",
    "kind",
    "status",
    "starts_at",
    "ends_at",
    "booking_id",
    "car_id",
    "client_id",
    *(f"car__{name}" for name in CAR_NAME_FIELDS),
    "client__id",
    "client__name",
)


def fleet_board(*, user, now: datetime, day: date | None = None, days: int = 1) -> Board:
    """Five queries: the cars out, the reservations in the period, the open inspections, the state counts, the cars
    whose papers lapse soon (the last three for those who use or keep the fleet)."""
    day = day or local_date(now)
    start, _ = day_bounds(day)
    _, end = day_bounds(day + timedelta(days=days - 1))
    today_end = day_bounds(local_date(now))[1]
    # The board's rows carry what it prints (the car, the client's name, the times, the kind, the visit's id), not
    # every column of five joined tables: a week's board is a few hundred rows.
    visible = Reservation.objects.visible_to(user).select_related("car", "client").only(*BOARD_ROW_FIELDS)
    board = Board(day=day, until=day + timedelta(days=days - 1))
    board.out = list(visible.filter(status=Reservation.Status.OUT).order_by("ends_at", "id"))
    for reservation in board.out:
        reservation.is_overdue = reservation.ends_at < now
        reservation.back_today = reservation.ends_at < today_end
    board.coming = list(
        visible.filter(status=Reservation.Status.RESERVED, starts_at__lt=end, ends_at__gte=start).order_by(
            "starts_at", "id"
        )
    )
    if user.has_capability(Capability.USE_FLEET) or user.has_capability(Capability.MANAGE_FLEET):
        board.inspections = list(
            CarInspection.objects.filter(closed_at__isnull=True)
            .select_related("car")
            .only("id", "reasons", "opened_at", *(f"car__{name}" for name in CAR_NAME_FIELDS))
            .order_by("opened_at")
        )
        board.states = dict(
            FleetCar.objects.in_use().values_list("state").annotate(n=Count("id")).values_list("state", "n")
        )
        # The warning before the papers lapse: a car whose insurance or technical inspection ends within the window.
        soon = local_date(now) + timedelta(days=LAPSE_WARNING_DAYS)
        board.lapsing = list(
            FleetCar.objects.in_use()
            .filter(Q(insurance_until__lte=soon) | Q(inspection_until__lte=soon))
            .order_by("insurance_until", "id")
        )
    return board


def cars_for_list(queryset: QuerySet) -> QuerySet:
    return queryset.annotate(
        open_reservations=Count("reservations", filter=Q(reservations__status__in=Reservation.HOLDING))
    ).order_by("use", "make", "model", "plate")


def car_page(car: FleetCar, *, user) -> dict:
    """A car's page: its reservations the user may see (newest first, with their acts), its state changes and
    inspections."""
    reservations = list(
        Reservation.objects.visible_to(user)
        .filter(car=car)
        .select_related("client", "booking", "created_by")
        .prefetch_related(Prefetch("acts", queryset=HandoverAct.objects.select_related("by").prefetch_related("marks")))
        .order_by("-starts_at", "-id")[:100]
    )
    return {
        "car": car,
        "reservations": reservations,
        "state_changes": list(CarStateChange.objects.filter(car=car).select_related("by").order_by("-at", "-id")[:100]),
        "inspections": list(car.inspections.select_related("closed_by", "act__reservation")[:50]),
        "open_inspection": next((i for i in car.inspections.all() if i.closed_at is None), None),
    }


def test_drive_log(day: date) -> list[TestDrive]:
    """The day's test drives with their times out and back, mileage and who (the daily test-drive log)."""
    start, end = day_bounds(day)
    return list(
        TestDrive.objects.filter(reservation__starts_at__gte=start, reservation__starts_at__lt=end)
        .exclude(reservation__status=Reservation.Status.CANCELLED)
        .select_related("reservation__car", "reservation__client", "reservation__created_by")
        .prefetch_related("reservation__acts")
        .order_by("reservation__starts_at", "id")
    )


# The loaners that may go out, each beside its reservations held in a window (a left join: a loaner held by no one is
# a row too), as `_loaners_held` reads them on PostgreSQL in one round trip.
LOANERS_HELD_SQL = """
SELECT c.id, EXTRACT(EPOCH FROM r.starts_at)::float8, EXTRACT(EPOCH FROM r.free_from)::float8
FROM fleet_fleetcar c
LEFT JOIN fleet_reservation r
       ON r.car_id = c.id AND r.status = ANY(%(holding)s) AND r.starts_at < %(last)s AND r.free_from > %(first)s
      AND (%(exclude)s::bigint IS NULL OR r.booking_id IS NULL OR r.booking_id <> %(exclude)s::bigint)
WHERE c.use = %(use)s AND NOT (c.state = ANY(%(unreservable)s)) AND c.insurance_until >= %(until)s
  AND (c.inspection_until IS NULL OR c.inspection_until >= %(until)s)
"""


def _loaners_held(*, first: datetime, last: datetime, until: date, exclude_booking) -> dict[int, list[tuple]]:
    """The loaners that may go out and stay insured and inspected through `until` (as `car_refusal` asks), each with
    the (start, free from) of its reservations held between `first` and `last`, as POSIX seconds. One query: in SQL
    on PostgreSQL (the slot picker asks it on every change of the form), through the ORM elsewhere."""
    held: dict[int, list[tuple]] = {}
    if connection.vendor == "postgresql":
        params = {
            "holding": list(Reservation.HOLDING),
            "first": first,
            "last": last,
            "exclude": exclude_booking.pk if exclude_booking is not None else None,
            "use": FleetCar.Use.LOANER.value,
            "unreservable": list(FleetCar.UNRESERVABLE),
            "until": until,
        }
        with connection.cursor() as cursor:
            cursor.execute(LOANERS_HELD_SQL, params)
            for car_id, starts, free_from in cursor.fetchall():
                times = held.setdefault(car_id, [])
                if starts is not None:
                    times.append((starts, free_from))
        return held
    window = Q(
        reservations__status__in=Reservation.HOLDING,
        reservations__starts_at__lt=last,
        reservations__free_from__gt=first,
    )
    if exclude_booking is not None:
        window &= Q(reservations__booking__isnull=True) | ~Q(reservations__booking=exclude_booking.pk)
    rows = (
        FleetCar.objects.filter(use=FleetCar.Use.LOANER, insurance_until__gte=until)
        .exclude(state__in=FleetCar.UNRESERVABLE)
        .filter(Q(inspection_until__isnull=True) | Q(inspection_until__gte=until))
        .annotate(held=FilteredRelation("reservations", condition=window))
        .order_by()
        .values_list("id", "held__starts_at", "held__free_from")
    )
    for car_id, starts_at, free_from in rows:
        times = held.setdefault(car_id, [])
        if starts_at is not None:
            times.append((starts_at.timestamp(), free_from.timestamp()))
    return held


def free_loaner_slot_keys(slots, *, planned_minutes: int, exclude_booking=None) -> set[str]:
    """The keys of the workshop slots for which a loaner is free from the slot's start for the planned work plus the
    return buffer: one query for the whole day (`_loaners_held`), then plain numbers compared."""
    if not slots:
        return set()
    length = timedelta(minutes=planned_minutes)
    buffer = return_buffer(Reservation.Kind.LOANER)
    first = min(s.starts_at for s in slots)
    last = max(s.starts_at for s in slots) + length + buffer
    # Insured and inspected until the last of these slots' cars is back.
    held = _loaners_held(first=first, last=last, until=local_date(last - buffer), exclude_booking=exclude_booking)
    if any(not times for times in held.values()):
        return {slot.key for slot in slots}  # a loaner held by no one that day goes with any slot
    # Slots of many advisors share their start: each start is asked once.
    extra = (length + buffer).total_seconds()
    free_at: dict[datetime, bool] = {}
    for starts_at in {slot.starts_at for slot in slots}:
        starts = starts_at.timestamp()
        until = starts + extra
        free_at[starts_at] = any(all(s >= until or f <= starts for s, f in times) for times in held.values())
    return {slot.key for slot in slots if free_at[slot.starts_at]}


def booking_loaner(booking, *, user) -> Reservation | None:
    """The loaner of a workshop visit (held, or the last one it had)."""
    return Reservation.objects.visible_to(user).filter(booking=booking).select_related("car").order_by("-id").first()


def client_loaners(client, user) -> list[Reservation]:
    """The client's cars held now or coming (for the client card)."""
    return list(
        Reservation.objects.visible_to(user)
        .holding()
        .filter(client=client)
        .select_related("car")
        .order_by("starts_at")[:5]
    )


def overdue_queue_panel(request) -> dict | None:
    """Beside the manager's queue: the cars not back when due (one query; None when there are none, or for a user
    who does not see the fleet)."""
    if not request.user.has_capability(Capability.VIEW_FLEET):
        return None
    overdue = overdue_loaners(request.user, now=timezone.now())
    return {"overdue_loaners": overdue} if overdue else None


def overdue_loaners(user, *, now: datetime, limit: int = 20) -> list[Reservation]:
    """The cars out past their return time, the longest overdue first (one query)."""
    return list(
        Reservation.objects.visible_to(user)
        .filter(status=Reservation.Status.OUT, ends_at__lt=now)
        .select_related("car", "client")
        .order_by("ends_at", "id")[:limit]
    )
