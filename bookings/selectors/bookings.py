"""Reads for the booking pages and API: the day and week calendars, today's board, the booking card, data checks."""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

from django.db import connection
from django.db.models import Count, Prefetch, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.db.models.signals import post_delete, post_save
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.roles import Role
from bookings import timeline
from bookings.models import AdvisorProfile, Booking, BookingTransition, ServiceArea, ServiceType
from clientdesk.caching import cache_get, cache_get_many, cached_read, forget_changed
from clientdesk.calendar import (
    CALENDAR_CACHE_KEY,
    BusinessCalendar,
    DayHours,
    calendar_rules,
    day_bounds,
    local_zone,
)
from clientdesk.views import url_maker
from clients.models import Client
from clients.selectors import client_duplicates


def bookings_for_display(queryset, *, with_services: bool = True):
    queryset = queryset.select_related("client", "vehicle", "advisor", "area")
    if with_services:
        queryset = queryset.prefetch_related(Prefetch("service_types", queryset=ServiceType.objects.order_by("name")))
    return queryset


def sql_rows(sql: str, params: list) -> list[tuple]:
    """The rows of SQL written for both databases (PostgreSQL and the embedded SQLite), through Django's connection.

    For the aggregates the busy pages send on every draw and poll (today's board, the day calendar): the ORM spent
    milliseconds building each one (a dozen filtered counts: every expression resolved, copied and hashed), the
    database a fraction of one. Aware datetimes are passed as the ORM passes them (UTC; naive on SQLite)."""
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute(sql, [adapt(p) if isinstance(p, datetime) else p for p in params])
        return cursor.fetchall()


def sql_moment(value) -> datetime | None:
    """A datetime from `sql_rows` as the ORM gives it, aware (in UTC): SQLite hands back a column's datetime naive and
    an aggregate's as text."""
    if value is None:
        return None
    if isinstance(value, str):
        value = parse_datetime(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def sql_filters(columns: dict[str, object]) -> tuple[str, list]:
    """` AND column = %s` for each column given a value (None: not filtered), and the values, for `sql_rows`."""
    given = [(column, value) for column, value in columns.items() if value is not None]
    return "".join(f" AND {column} = %s" for column, _value in given), [value for _column, value in given]


def sql_placeholders(values) -> str:
    """`%s, %s, …`, one for each value: an IN list written for both databases (SQLite has no arrays)."""
    return ", ".join(["%s"] * len(values))


@dataclass(frozen=True)
class Area:
    """A workshop area as the calendars and the board's filter print it (`str`: its name), read by `active_areas`."""

    pk: int
    code: str
    name: str
    capacity: int

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Advisor:
    """An active service advisor as the board's filter and the calendar's cards name them (`User.name_of`)."""

    pk: int
    name: str
    # With an active advisor profile: receives clients (bookings.selectors.slots.active_advisors), has a calendar card.
    receives: bool


# The active areas in ServiceArea's order, and the active advisors by name, with what the pages print.
ACTIVE_AREAS = """
    SELECT id, code, name, daily_capacity_minutes FROM bookings_servicearea WHERE is_active ORDER BY name, id
"""
ACTIVE_ADVISORS = """
    SELECT u.id, u.first_name, u.last_name, u.username, p.is_active FROM accounts_user u
    LEFT JOIN bookings_advisorprofile p ON p.user_id = u.id WHERE u.role = %s AND u.is_active
    ORDER BY u.last_name, u.first_name, u.id
"""
# Both change a few times a year and every draw of the board and the calendars prints them, so they are kept in the
# shared cache (clientdesk.caching: Redis in production) as the business calendar is: a committed change of an area, a
# advisor's name, role or state, or an advisor profile leaves a "gone" mark, and the next reads see the change.
AREAS_CACHE_KEY = "bookings.active_areas.v1"
ADVISORS_CACHE_KEY = "bookings.active_advisors.v1"


def active_areas(entries: dict | None = None) -> list[Area]:
    return cached_read(AREAS_CACHE_KEY, lambda: [Area(*row) for row in sql_rows(ACTIVE_AREAS, [])], entries)


def advisor_names(entries: dict | None = None) -> list[Advisor]:
    return cached_read(
        ADVISORS_CACHE_KEY,
        lambda: [
            Advisor(pk, User.name_of(first_name, last_name, username), bool(receives))
            for pk, first_name, last_name, username, receives in sql_rows(ACTIVE_ADVISORS, [Role.ADVISOR])
        ],
        entries,
    )


def _forgetting(key: str) -> Callable:
    return lambda **_kwargs: forget_changed([key])


# What an advisor's entry prints or is chosen by: a sign-in's last_login or a new password leaves it be.
ADVISOR_FIELDS = frozenset({"first_name", "last_name", "username", "role", "is_active"})


def _forget_advisors_for(instance, update_fields=None, **_kwargs) -> None:
    """A user's save forgets the advisors if it may change them: an advisor's, or one the entry lists (a role or a
    state taken away), or any while there is no entry (a read in flight may hold what the save changes). A manager's
    save leaves the entry be."""
    if update_fields is not None and not ADVISOR_FIELDS & set(update_fields):
        return
    listed = cache_get(ADVISORS_CACHE_KEY)
    if listed is None or instance.role == Role.ADVISOR or any(advisor.pk == instance.pk for advisor in listed):
        forget_changed([ADVISORS_CACHE_KEY])


for _key, _model in ((AREAS_CACHE_KEY, ServiceArea), (ADVISORS_CACHE_KEY, User), (ADVISORS_CACHE_KEY, AdvisorProfile)):
    _uid = f"forget-{_key}-{_model.__name__}"
    _on_save = _forget_advisors_for if _model is User else _forgetting(_key)
    post_save.connect(_on_save, sender=_model, weak=False, dispatch_uid=_uid)
    post_delete.connect(_forgetting(_key), sender=_model, weak=False, dispatch_uid=_uid)


@dataclass
class AreaLoad:
    area: Area
    used: int
    capacity: int

    @property
    def percent(self) -> int:
        return round(100 * self.used / self.capacity) if self.capacity else 0

    @property
    def level(self) -> str:
        return "danger" if self.percent > 100 else "warning" if self.percent >= 85 else "success"


VEHICLE_COLUMNS = ("vehicle__make", "vehicle__model", "vehicle__plate")


def vehicle_label(make: str | None, model: str | None, plate: str | None) -> str:
    """A vehicle as `Vehicle.__str__` prints it, from its columns alone (lists that fetch no model instances)."""
    if make is None and model is None:
        return ""
    label = f"{make} {model}"
    return f"{label} {plate}" if plate else label


def clock_text(moment: datetime, zone: tzinfo) -> str:
    """'09:05': the moment's time of day in `zone`, as `strftime("%H:%M")` prints it at under half the cost (strftime
    goes through the C library's locale-aware formatting; the board and the calendar print hundreds)."""
    local = moment.astimezone(zone)
    return f"{local.hour:02d}:{local.minute:02d}"


@dataclass
class DayVisit:
    """One visit as the day calendar lists it: texts ready, no model instances."""

    pk: int
    time: str
    client_name: str
    vehicle: str
    status: str
    url: str

    @property
    def status_label(self) -> str:
        return str(Booking.Status(self.status).label)

    @property
    def status_badge(self) -> str:
        return Booking.STATUS_BADGES.get(self.status, "text-bg-danger")


@dataclass
class AdvisorDay:
    """An advisor's card on the day calendar: who (as `str(user)` prints them), how many visits, the first and last."""

    user_id: int
    name: str
    count: int = 0
    first: str = ""
    last: str = ""
    # The visits in time order, when the day lists them (a short day, or this advisor opened); None when folded.
    bookings: list[DayVisit] | None = None

    @property
    def key(self) -> str:
        """The advisor's id as the page writes it (in its URLs), once per card."""
        return str(self.user_id)


@dataclass
class DayPlan:
    day: date
    hours: DayHours | None
    areas: list[AreaLoad]
    advisors: list[AdvisorDay]
    unassigned: int
    # Whether every advisor's visits are listed (a short day) or each is opened on demand.
    listed: bool


# A day with at most this many occupying bookings lists every advisor's visits; a longer one (a dealer group's day
# holds 1,500) shows each advisor's count and first and last visit, the list opened on demand.
DAY_LISTED_UP_TO = 200


def day_visits(day: date, *, user, advisors=None) -> dict[int, list[DayVisit]]:
    """The day's occupying visits per advisor id, in time order (of these advisors only, if given): one query."""
    start, end = day_bounds(day)
    bookings = Booking.objects.visible_to(user).occupying().filter(starts_at__gte=start, starts_at__lt=end)
    if advisors is not None:
        bookings = bookings.filter(advisor_id__in=advisors)
    zone = local_zone()
    booking_url = url_maker("bookings:detail")
    visits: dict[int, list[DayVisit]] = defaultdict(list)
    columns = ("id", "advisor_id", "starts_at", "status", "client__name", *VEHICLE_COLUMNS)
    for pk, advisor_id, starts_at, status, name, make, model, plate in bookings.values_list(*columns).order_by(
        "starts_at", "id"
    ):
        vehicle = vehicle_label(make, model, plate)
        visits[advisor_id].append(DayVisit(pk, clock_text(starts_at, zone), name, vehicle, status, booking_url(pk)))
    return visits


# The day's occupying bookings per advisor and area (Booking.objects.occupying(): not in FREEING_STATUSES, whose two
# values fill the NOT IN; a third would make the query fail loudly, not count wrongly).
DAY_LOAD = """
    SELECT advisor_id, area_id, count(*), sum(planned_minutes), min(starts_at), max(starts_at) FROM bookings_booking
    WHERE starts_at >= %s AND starts_at < %s AND status NOT IN (%s, %s) GROUP BY advisor_id, area_id
"""


def _day_load(start: datetime, end: datetime, *, user) -> list[tuple]:
    """(advisor id, area id, count, minutes, first, last) of the day's occupying bookings; the first and last moments
    as the database hands them back (aware on PostgreSQL, text on SQLite: either compares as the moments do), for
    `sql_moment` to make moments of the few the page prints."""
    if Booking.objects.visible_to(user).query.is_empty():
        return []
    return sql_rows(DAY_LOAD, [start, end, *Booking.FREEING_STATUSES])


def day_plan(day: date, *, user, opened: frozenset[int] = frozenset()) -> DayPlan:
    """The load of one day per area and per advisor: one aggregate per (advisor, area); the visits listed for a short
    day, or for the advisors `opened`."""
    # The calendar, the areas and the advisors in one round trip to the shared cache, not three (0.1 ms each).
    rules = cache_get_many([CALENDAR_CACHE_KEY, AREAS_CACHE_KEY, ADVISORS_CACHE_KEY])
    hours = BusinessCalendar(calendar_rules(rules)).hours(day)
    start, end = day_bounds(day)
    # A card for each advisor who receives clients, in slots.active_advisors' order (forty profiles and users built as
    # models were a fifth of the page's time).
    by_advisor = {
        advisor.pk: AdvisorDay(advisor.pk, advisor.name) for advisor in advisor_names(rules) if advisor.receives
    }
    used: dict[int, int] = defaultdict(int)
    unassigned = total = 0
    # An advisor's first and last visit over their areas; made moments and written as times once per advisor (a
    # dealer group's day has over a hundred (advisor, area) groups, and the page prints forty spans).
    spans: dict[int, tuple] = {}
    for advisor_id, area_id, count, minutes, first, last in _day_load(start, end, user=user):
        used[area_id] += minutes
        total += count
        advisor = by_advisor.get(advisor_id)
        if advisor is None:
            unassigned += count
            continue
        earliest, latest = spans.get(advisor_id, (first, last))
        spans[advisor_id] = (min(earliest, first), max(latest, last))
        advisor.count += count
    zone = local_zone()
    for pk, (first, last) in spans.items():
        advisor = by_advisor[pk]
        advisor.first, advisor.last = clock_text(sql_moment(first), zone), clock_text(sql_moment(last), zone)
    areas = [AreaLoad(area, used[area.pk], area.capacity) for area in active_areas(rules)]
    listed = total <= DAY_LISTED_UP_TO
    wanted = [pk for pk in by_advisor if pk in opened]
    if listed or wanted:
        visits = day_visits(day, user=user, advisors=None if listed else wanted)
        for pk, advisor in by_advisor.items():
            if listed or pk in opened:
                advisor.bookings = visits.get(pk, [])
    return DayPlan(day, hours, areas, list(by_advisor.values()), unassigned, listed)


@dataclass
class WeekDay:
    day: date
    hours: DayHours | None
    areas: list[AreaLoad]
    bookings: int


def week_plan(monday: date, *, user) -> list[WeekDay]:
    """Seven days of load per area: one aggregate query for the whole week."""
    sunday = monday + timedelta(days=6)
    calendar = BusinessCalendar()
    start, _end = day_bounds(monday)
    _start, end = day_bounds(sunday)
    rows = (
        Booking.objects.visible_to(user)
        .occupying()
        .filter(starts_at__gte=start, starts_at__lt=end)
        .annotate(day=TruncDate("starts_at", tzinfo=local_zone()))
        .values("day", "area_id")
        .annotate(minutes=Sum("planned_minutes"), count=Count("id"))
    )
    used: dict[tuple[date, int], int] = {}
    counts: dict[date, int] = defaultdict(int)
    for row in rows:
        used[(row["day"], row["area_id"])] = row["minutes"]
        counts[row["day"]] += row["count"]
    areas = active_areas()
    week = []
    for offset in range(7):
        day = monday + timedelta(days=offset)
        loads = [AreaLoad(area, used.get((day, area.pk), 0), area.capacity) for area in areas]
        week.append(WeekDay(day, calendar.hours(day), loads, counts[day]))
    return week


def booking_for_card(pk: int, *, user) -> Booking:
    return (
        bookings_for_display(Booking.objects.visible_to(user))
        .prefetch_related(
            Prefetch("transitions", queryset=BookingTransition.objects.select_related("by").order_by("at", "id"))
        )
        .get(pk=pk)
    )


def client_data_warnings(client: Client) -> list[str]:
    """What the manager should fix while the client is on the line (DOMAIN.md: check the client's data)."""
    warnings = []
    if client.data_issue:
        warnings.append(str(_("Data to check: %(issue)s") % {"issue": client.data_issue}))
    if not client.consent_personal_data:
        warnings.append(str(_("No consent to personal-data processing on file.")))
    if not any(phone.is_primary for phone in client.phones.all()):
        warnings.append(str(_("No primary phone.")))
    if not client.dms_id:
        warnings.append(str(_("Not linked to the dealership system (no DMS id).")))
    duplicates = client_duplicates(client)
    if duplicates:
        names = ", ".join(h.client.name for h in duplicates[:3])
        warnings.append(str(_("Possibly the same person as: %(names)s.") % {"names": names}))
    return warnings


def client_timeline_bookings(client, user) -> QuerySet:
    """The client's workshop visits for the card's timeline (registered in BookingsConfig.ready; the card pages
    them), with only what a timeline line shows."""
    return _timeline_bookings(user).filter(client=client)


def vehicle_timeline_bookings(vehicle, user) -> QuerySet:
    """The vehicle's workshop visits for its page, shaped like the client's timeline ((vehicle, time) index)."""
    return _timeline_bookings(user).filter(vehicle=vehicle)


def _timeline_bookings(user) -> QuerySet:
    return timeline.booking_rows(Booking.objects.visible_to(user))
