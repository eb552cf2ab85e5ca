"""Reads for today's board (the front desk's page) and the advisor's arrivals.

A short day is shown whole. A long one (a dealer group's day holds 1,500 visits) shows in full only what the desk
acts on now: the late, the arrived waiting for their advisor, and the visits due within the hour (from now, or from
the day's first open visit while the day has not begun); the rest is counted in folds (later, in service, done), each
opened on demand (`show`). One aggregate counts the day (and gives the board's version), one query fetches the rows
shown, with only the columns a row prints, as tuples, not model instances.

Each read is SQL written for both databases (`bookings.selectors.bookings.sql_rows`), on the booking as `b`: every
draw and every 30 s poll of every open board sends them, and the ORM took longer to build each query (the rows' three
joins: 0.9 ms) than the database to answer it. Who may see the bookings is asked of `visible_to` (`_sees_bookings`).
"""

from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo

from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from bookings.models import Booking
from bookings.selectors.bookings import (
    ADVISORS_CACHE_KEY,
    AREAS_CACHE_KEY,
    active_areas,
    advisor_names,
    clock_text,
    sql_filters,
    sql_moment,
    sql_placeholders,
    sql_rows,
    vehicle_label,
)
from clientdesk.caching import cache_get_many, cached_read, forget_changed
from clientdesk.calendar import day_bounds, local_date, local_zone
from clientdesk.views import url_maker

# A client this many minutes past the booked time, not yet arrived, is shown as late on the board.
LATE_AFTER = timedelta(minutes=15)
# A day with at most this many visits (after the filters) is shown whole; a longer one is folded.
BOARD_WHOLE_UP_TO = 60
# How far ahead of now (or of the day's first open visit) a long board shows the expected visits in full.
DUE_WITHIN = timedelta(minutes=60)

OPEN = (Booking.Status.SCHEDULED, Booking.Status.CONFIRMED)
DONE = (Booking.Status.COMPLETED, Booking.Status.NO_SHOW, Booking.Status.CANCELLED)
STATUSES = tuple(Booking.Status.values)

STATE_LABELS = {
    "expected": _("Expected"),
    "late": _("Late"),
    "arrived": _("Arrived"),
    "in_service": _("In service"),
    "completed": _("Completed"),
    "no_show": _("No-show"),
    "cancelled": _("Cancelled"),
}
# The folds of a long board, in the order shown, with what each holds.
FOLDS = {
    "later": _("Expected later"),
    "in_service": _("In service"),
    "done": _("Completed, no-shows and cancelled"),
}


@dataclass(slots=True)
class BoardRow:
    """One visit as the board prints it: texts ready, URLs made once for the whole list."""

    pk: int
    starts_at: datetime
    status: str
    state: str
    time: str
    client_id: int
    client_name: str
    vehicle: str
    vin: str
    advisor_id: int
    advisor_name: str
    confirmed: str
    arrived: str
    url: str
    client_url: str
    arrived_url: str
    # The manufacturer codes of the open recall campaigns for the car's VIN, oldest campaign first.
    open_recalls: list[str] = field(default_factory=list)
    # The buttons the board offers (bookings.views.booking.available_actions), filled in by the view.
    actions: list = field(default_factory=list)

    @property
    def state_label(self) -> str:
        return str(STATE_LABELS[self.state])

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    @property
    def recall_codes(self) -> str:
        return " ".join(self.open_recalls)


@dataclass
class Fold:
    """A part of a long board counted but not drawn until asked for."""

    name: str
    count: int
    shown: bool
    rows: list[BoardRow] = field(default_factory=list)
    # The board's query string with this fold opened (or closed, when shown), filled in by the view.
    link: str = ""

    @property
    def label(self) -> str:
        return str(FOLDS[self.name])


@dataclass
class Board:
    day: date
    version: str
    counts: dict[str, int]
    whole: bool
    rows: list[BoardRow]
    folds: list[Fold]

    @property
    def all_rows(self) -> list[BoardRow]:
        return [*self.rows, *(row for fold in self.folds for row in fold.rows)]

    @property
    def parts(self) -> list[dict]:
        """What the template draws in order: the rows shown in full, then each fold (its rows when opened)."""
        return [{"fold": None, "rows": self.rows}, *({"fold": fold, "rows": fold.rows} for fold in self.folds)]


def board_state(status: str, starts_at: datetime, now: datetime) -> str:
    if status in OPEN:
        return "late" if now > starts_at + LATE_AFTER else "expected"
    return status


def _sees_bookings(user) -> bool:
    """Whether the reads below may show the user the day's bookings (all or nothing today: VisibleQuerySet)."""
    return not Booking.objects.visible_to(user).query.is_empty()


def _day_where(day: date, *, advisor_id: int | None, area_id: int | None) -> tuple[str, list]:
    """The day's bookings, narrowed to one advisor or one area, as an SQL condition on `b` and its parameters."""
    start, end = day_bounds(day)
    filters, values = sql_filters({"b.advisor_id": advisor_id, "b.area_id": area_id})
    return f"b.starts_at >= %s AND b.starts_at < %s{filters}", [start, end, *values]


# The day's visits counted per status: how many, their last change and first time, and how many began before the
# "late" and the "due" moments. The quiet poll sends it alone.
DAY_STATUSES = """
    SELECT b.status, count(*), max(b.updated_at), min(b.starts_at), count(*) FILTER (WHERE b.starts_at < %s),
           count(*) FILTER (WHERE b.starts_at < %s)
    FROM bookings_booking b WHERE {where} GROUP BY b.status
"""


def _day_counts(day: date, *, user, now: datetime, advisor_id: int | None = None, area_id: int | None = None) -> dict:
    """The aggregates of the day's visits (filtered by advisor and area) that the board's version and counts are made
    of: `count`, `changed` (the last change), `late` and `due` (open visits that began before `now - LATE_AFTER`, or
    begin before `now + DUE_WITHIN`), `open`, `first_open` (the first open visit's time), and a count per status."""
    found = {"count": 0, "changed": None, "late": 0, "due": 0, "open": 0, "first_open": None}
    found.update(dict.fromkeys(STATUSES, 0))
    if not _sees_bookings(user):
        return found
    where, values = _day_where(day, advisor_id=advisor_id, area_id=area_id)
    rows = sql_rows(DAY_STATUSES.format(where=where), [now - LATE_AFTER, now + DUE_WITHIN, *values])
    for status, count, changed, first, late, due in rows:
        changed, first = sql_moment(changed), sql_moment(first)
        found[status] = count
        found["count"] += count
        found["changed"] = changed if found["changed"] is None else max(found["changed"], changed)
        if status in OPEN:
            found["open"] += count
            found["late"] += late
            found["due"] += due
            found["first_open"] = first if found["first_open"] is None else min(found["first_open"], first)
    return found


def board_version(*, count: int, changed: datetime | None, late: int, due: int, **_rest) -> str:
    """What the board shows, in a word. It moves when a visit of the day is added or changed, when a client turns
    late, and (on a folded board) when a visit comes within the hour: each board at its own visits' moments, never all
    boards at once on a clock tick."""
    changed_at = changed.timestamp() if changed else 0
    version = f"{count}.{changed_at:.6f}.{late}"
    return version if count <= BOARD_WHOLE_UP_TO else f"{version}.{due}"


def board_version_now(
    day: date,
    *,
    user,
    now: datetime,
    advisor_id: int | None = None,
    area_id: int | None = None,
    entries: dict | None = None,
) -> str:
    """The board's version as a poll compares it: from the day's digest in the shared cache (`DayDigest`), so a poll
    that finds nothing new asks the database nothing. `entries`: what the caller fetched already (`cache_get_many`)."""
    if not _sees_bookings(user):
        return board_version(count=0, changed=None, late=0, due=0)
    return day_digest(day, advisor_id=advisor_id, area_id=area_id, entries=entries).version(now)


# --- The quiet poll's digest ------------------------------------------------------------------------------------------
# Every open board polls every 30 s; at a dealer group's size that is a few hundred polls a minute for the same day
# and almost all find nothing new. What the version is made of is kept per day (and filter) in the shared cache
# (clientdesk.caching), with the open visits' times, so lateness is worked out at each poll from the clock: a board
# moves when one of its own clients turns late, never all at once. A saved or deleted booking forgets the entries of
# the places it leaves and goes to (`_forget_board_digests`); an entry lives POLL_DIGEST_SECONDS at most, which bounds
# what a change behind the signals' back (a raw UPDATE, a restore) could leave stale.

POLL_DIGEST_SECONDS = 60
# How long a forgotten entry may not be filled again: longer than a read in flight takes to write it.
POLL_DIGEST_GONE_SECONDS = 5
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _micros(moment: datetime) -> int:
    """A moment as whole microseconds since the epoch: exact, so comparing them is comparing the moments."""
    return (moment - _EPOCH) // timedelta(microseconds=1)


@dataclass(frozen=True)
class DayDigest:
    """What the board's version is made of, for a day and filter: how many visits, their last change, and the open
    visits' times (microseconds since the epoch, in order), of which the late and the due are counted at each poll."""

    count: int
    changed: datetime | None
    open_starts: tuple[int, ...]

    def version(self, now: datetime) -> str:
        return board_version(
            count=self.count,
            changed=self.changed,
            late=bisect_left(self.open_starts, _micros(now - LATE_AFTER)),
            due=bisect_left(self.open_starts, _micros(now + DUE_WITHIN)),
        )


DAY_VISITS = "SELECT b.status, b.starts_at, b.updated_at FROM bookings_booking b WHERE {where}"


def digest_key(day: date, *, advisor_id: int | None = None, area_id: int | None = None) -> str:
    return f"bookings.board_digest.v1.{day.isoformat()}.{advisor_id or ''}.{area_id or ''}"


def day_digest(
    day: date, *, advisor_id: int | None = None, area_id: int | None = None, entries: dict | None = None
) -> DayDigest:
    def read() -> DayDigest:
        where, values = _day_where(day, advisor_id=advisor_id, area_id=area_id)
        count, changed, starts = 0, None, []
        for status, starts_at, updated_at in sql_rows(DAY_VISITS.format(where=where), values):
            count += 1
            updated_at = sql_moment(updated_at)
            changed = updated_at if changed is None else max(changed, updated_at)
            if status in OPEN:
                starts.append(_micros(sql_moment(starts_at)))
        return DayDigest(count, changed, tuple(sorted(starts)))

    key = digest_key(day, advisor_id=advisor_id, area_id=area_id)
    return cached_read(key, read, entries, seconds=POLL_DIGEST_SECONDS)


def _digest_keys(starts_at: datetime | None, advisor_id: int | None, area_id: int | None) -> list[str]:
    """The entries a booking at this place counts in: its day whole, by its advisor, by its area, by both."""
    if starts_at is None:
        return []
    day = local_date(starts_at)
    return [
        digest_key(day, advisor_id=advisor, area_id=area) for advisor in (None, advisor_id) for area in (None, area_id)
    ]


def _forget_board_digests(sender, instance: Booking, **_kwargs) -> None:
    place = (instance.starts_at, instance.advisor_id, instance.area_id)
    keys = {key for known in (place, getattr(instance, "loaded_place", None)) if known for key in _digest_keys(*known)}
    forget_changed(sorted(keys), gone_seconds=POLL_DIGEST_GONE_SECONDS)
    instance.loaded_place = place  # where the next change of this same object moves it from


post_save.connect(_forget_board_digests, sender=Booking, dispatch_uid="bookings-forget-board-digests")
post_delete.connect(_forget_board_digests, sender=Booking, dispatch_uid="bookings-forget-board-digests")


# The day's visits (`where`) with what a board row prints, in time order.
ROWS = """
    SELECT b.id, b.starts_at, b.status, b.confirmed_at, b.arrived_at, b.client_id, c.name, v.make, v.model, v.plate,
           v.vin, b.advisor_id, u.first_name, u.last_name, u.username
    FROM bookings_booking b JOIN clients_client c ON c.id = b.client_id
        LEFT JOIN clients_vehicle v ON v.id = b.vehicle_id JOIN accounts_user u ON u.id = b.advisor_id
    WHERE {where} ORDER BY b.starts_at, b.id
"""


def _rows(where: str, values: list, *, now: datetime) -> list[BoardRow]:
    zone = local_zone()
    booking_url, client_url = url_maker("bookings:detail"), url_maker("clients:detail")
    arrived_url = url_maker("bookings:action", "arrived")
    rows = []
    for (
        pk,
        starts_at,
        status,
        confirmed_at,
        arrived_at,
        client_id,
        client_name,
        make,
        model,
        plate,
        vin,
        advisor_id,
        first_name,
        last_name,
        username,
    ) in sql_rows(ROWS.format(where=where), values):
        starts_at, confirmed_at, arrived_at = sql_moment(starts_at), sql_moment(confirmed_at), sql_moment(arrived_at)
        rows.append(
            BoardRow(
                pk=pk,
                starts_at=starts_at,
                status=status,
                state=board_state(status, starts_at, now),
                time=clock_text(starts_at, zone),
                client_id=client_id,
                client_name=client_name,
                vehicle=vehicle_label(make, model, plate),
                vin=vin or "",
                advisor_id=advisor_id,
                advisor_name=User.name_of(first_name, last_name, username),
                confirmed=_day_and_clock(confirmed_at, zone) if confirmed_at else "",
                arrived=clock_text(arrived_at, zone) if arrived_at else "",
                url=booking_url(pk),
                client_url=client_url(client_id),
                arrived_url=arrived_url(pk),
            )
        )
    recalls = _open_recall_codes({row.vin for row in rows if row.vin}, today=local_date(now))
    for row in rows:
        row.open_recalls = recalls.get(row.vin, []) if row.vin else []
    return rows


def _day_and_clock(moment: datetime, zone: tzinfo) -> str:
    """'07.12 09:05' (`clock_text`, with the day and month)."""
    local = moment.astimezone(zone)
    return f"{local.day:02d}.{local.month:02d} {local.hour:02d}:{local.minute:02d}"


# The codes of the campaigns still open for these VINs, as bookings.selectors.recalls.open_recalls_for_vins finds them
# (a VIN not done, of a campaign running today, oldest campaign first), without the models: the board prints a code.
# Through the ORM, a hundred VINs cost more to build than the rest of the rows' query.
OPEN_RECALL_CODES = """
    SELECT r.vin, k.manufacturer_code FROM bookings_recallvin r JOIN bookings_recallcampaign k ON k.id = r.campaign_id
    WHERE r.done_at IS NULL AND (k.starts_on <= %s OR k.starts_on IS NULL) AND (k.ends_on >= %s OR k.ends_on IS NULL)
        AND r.vin IN ({vins})
    ORDER BY r.vin, k.starts_on IS NOT NULL, k.starts_on, r.campaign_id
"""


def _open_recall_codes(vins: set[str], *, today: date) -> dict[str, list[str]]:
    if not vins:
        return {}
    found: dict[str, list[str]] = {}
    sql = OPEN_RECALL_CODES.format(vins=sql_placeholders(vins))
    for vin, code in sql_rows(sql, [today, today, *sorted(vins)]):
        found.setdefault(vin, []).append(code)
    return found


def board_rows(day: date, *, user, now: datetime, advisor_id: int | None = None) -> list[BoardRow]:
    """Everyone booked for the day with where they are (the advisor's own page): two queries."""
    if not _sees_bookings(user):
        return []
    where, values = _day_where(day, advisor_id=advisor_id, area_id=None)
    return _rows(where, values, now=now)


def day_board(
    day: date,
    *,
    user,
    now: datetime,
    advisor_id: int | None = None,
    area_id: int | None = None,
    show: frozenset[str] = frozenset(),
) -> Board:
    """Today's board: the day's counts and version (one aggregate), the rows shown (one query), their open recalls."""
    found = _day_counts(day, user=user, now=now, advisor_id=advisor_id, area_id=area_id)
    counts = {
        str(STATE_LABELS["expected"]): found["open"] - found["late"],
        str(STATE_LABELS["late"]): found["late"],
        **{str(STATE_LABELS[status]): found[status] for status in ("arrived", "in_service", *DONE)},
    }
    counts = {label: n for label, n in counts.items() if n}
    version = board_version(**found)
    if not found["count"]:
        return Board(day, version, counts, True, [], [])
    where, values = _day_where(day, advisor_id=advisor_id, area_id=area_id)
    if found["count"] <= BOARD_WHOLE_UP_TO:
        return Board(day, version, counts, True, _rows(where, values, now=now), [])

    due_by = max(now, found["first_open"] or now) + DUE_WITHIN
    parts = _parts(due_by)
    drawn = [parts["now"], *(parts[name] for name in sorted(show))]
    where += " AND (" + " OR ".join(f"({condition})" for condition, _values in drawn) + ")"
    values += [value for _condition, part_values in drawn for value in part_values]
    folds = {name: Fold(name, 0, name in show) for name in FOLDS}
    rows = []
    for row in _rows(where, values, now=now):
        name = _fold_of(row, due_by)
        (rows if name is None else folds[name].rows).append(row)
    # What is folded is counted from the day's aggregate, less what is drawn above it.
    folds["later"].count = found["open"] - sum(row.is_open for row in rows)
    folds["in_service"].count = found["in_service"]
    folds["done"].count = sum(found[status] for status in DONE)
    return Board(day, version, counts, False, rows, [fold for fold in folds.values() if fold.count])


def _parts(due_by: datetime) -> dict[str, tuple[str, list]]:
    """A long board's parts as SQL conditions on `b` with their parameters: what the desk acts on now (the arrived,
    and the open visits late or due by `due_by`), then each fold. `_fold_of` says which part a row drawn is in."""
    arrived, in_service = Booking.Status.ARRIVED, Booking.Status.IN_SERVICE
    open_in, done_in = sql_placeholders(OPEN), sql_placeholders(DONE)
    return {
        "now": (f"b.status = %s OR (b.status IN ({open_in}) AND b.starts_at < %s)", [arrived, *OPEN, due_by]),
        "later": (f"b.status IN ({open_in}) AND b.starts_at >= %s", [*OPEN, due_by]),
        "in_service": ("b.status = %s", [in_service]),
        "done": (f"b.status IN ({done_in})", [*DONE]),
    }


def _fold_of(row: BoardRow, due_by: datetime) -> str | None:
    if row.status == Booking.Status.ARRIVED or (row.is_open and row.starts_at < due_by):
        return None
    if row.is_open:
        return "later"
    return "in_service" if row.status == Booking.Status.IN_SERVICE else "done"


def filter_entries() -> dict:
    """The shared cache's entries the filter's two selects are drawn from, in one round trip (`entries` below)."""
    return cache_get_many([AREAS_CACHE_KEY, ADVISORS_CACHE_KEY])


def filter_areas(entries: dict | None = None) -> list[tuple[int, str]]:
    """The areas the board may be narrowed to, as (id, name)."""
    return [(area.pk, area.name) for area in active_areas(entries)]


def filter_advisors(entries: dict | None = None) -> list[tuple[int, str]]:
    """The advisors the board may be narrowed to, as (id, name)."""
    return [(advisor.pk, advisor.name) for advisor in advisor_names(entries)]
