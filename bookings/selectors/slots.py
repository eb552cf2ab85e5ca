"""Where a booking can go: the advisors' free reception slots and the areas' remaining capacity.

Everything here reads; the rules that refuse a booking live in services.py and ask these same functions, so the slot
picker never offers what the service would refuse.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from operator import itemgetter

from django.db import connection
from django.db.models import QuerySet, Sum
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from bookings.models import MAX_SLOT, AdvisorProfile, Booking, ServiceArea
from clientdesk.calendar import BusinessCalendar, day_bounds, local_date

SEARCH_DAYS = 21


@dataclass(frozen=True)
class Slot:
    advisor_id: int
    advisor_name: str
    starts_at: datetime
    ends_at: datetime

    @property
    def key(self) -> str:
        """What a form posts back: the advisor and the start, unambiguous in any time zone."""
        return f"{self.advisor_id}@{self.starts_at.isoformat()}"


def parse_slot_key(key: str) -> tuple[int, datetime] | None:
    advisor, _sep, moment = (key or "").partition("@")
    try:
        starts_at = datetime.fromisoformat(moment)
        advisor_id = int(advisor)
    except ValueError:
        return None
    return (advisor_id, starts_at) if starts_at.tzinfo else None


def _area_bookings(area: ServiceArea, day: date, *, exclude_booking: Booking | None) -> QuerySet:
    """The bookings that take `area`'s capacity on `day`."""
    start, end = day_bounds(day)
    bookings = Booking.objects.occupying().filter(area=area, starts_at__gte=start, starts_at__lt=end)
    if exclude_booking is not None:
        bookings = bookings.exclude(pk=exclude_booking.pk)
    return bookings


def area_minutes_used(area: ServiceArea, day: date, *, exclude_booking: Booking | None = None) -> int:
    return (
        _area_bookings(area, day, exclude_booking=exclude_booking).aggregate(total=Sum("planned_minutes"))["total"] or 0
    )


def active_advisors(advisor: User | None = None) -> list[AdvisorProfile]:
    profiles = AdvisorProfile.objects.filter(
        is_active=True, user__is_active=True, user__role=Role.ADVISOR
    ).select_related("user")
    if advisor is not None:
        profiles = profiles.filter(user=advisor)
    return list(profiles.order_by("user__last_name", "user__first_name", "user_id"))


# The advisors' day in one round trip on PostgreSQL: each active advisor (in `active_advisors`' order, named as
# `User.name_expression` names them) with the area's booked minutes (as `area_minutes_used` counts them) and the times
# their occupying bookings touching the day hold them, as two arrays of POSIX seconds in time order. The bookings are
# read once, by the start-time index, and grouped per advisor in SQL.
ADVISOR_DAYS_SQL = """
WITH held AS MATERIALIZED (
    SELECT advisor_id,
           array_agg(EXTRACT(EPOCH FROM starts_at)::float8 ORDER BY starts_at, advisor_until) AS starts,
           array_agg(EXTRACT(EPOCH FROM advisor_until)::float8 ORDER BY starts_at, advisor_until) AS ends
    FROM bookings_booking
    WHERE starts_at >= %(reach)s AND starts_at < %(end)s AND advisor_until > %(start)s
      AND NOT (status = ANY(%(freeing)s)) AND (%(exclude)s::bigint IS NULL OR id <> %(exclude)s::bigint)
    GROUP BY advisor_id
)
SELECT p.user_id, COALESCE(NULLIF(TRIM(u.first_name || ' ' || u.last_name), ''), u.username), p.slot_minutes,
       (SELECT COALESCE(SUM(planned_minutes), 0) FROM bookings_booking
        WHERE area_id = %(area)s AND starts_at >= %(start)s AND starts_at < %(end)s
          AND NOT (status = ANY(%(freeing)s)) AND (%(exclude)s::bigint IS NULL OR id <> %(exclude)s::bigint)),
       held.starts, held.ends
FROM bookings_advisorprofile p
JOIN accounts_user u ON u.id = p.user_id
LEFT JOIN held ON held.advisor_id = p.user_id
WHERE p.is_active AND u.is_active AND u.role = %(role)s AND (%(advisor)s::bigint IS NULL OR p.user_id = %(advisor)s)
ORDER BY u.last_name, u.first_name, p.user_id
"""


def _advisor_days(
    advisor: User | None, day: date, *, area: ServiceArea, planned_minutes: int, exclude_booking: Booking | None
) -> list[tuple[int, str, int, Sequence[float], Sequence[float]]]:
    """Per active advisor, in `active_advisors`' order: user id, name (`str(user)`), slot minutes, and the times their
    occupying bookings touching `day` hold them (starts and ends as POSIX seconds, in time order); nobody when the
    area has no room left for the work that day.

    One query on PostgreSQL (`ADVISOR_DAYS_SQL`: the slot picker is the busiest read of the desk, and the ORM's
    compiling of these joins and subqueries cost more than the database's work). Elsewhere the same through the
    ORM in two: the advisors with the area's booked minutes, then their bookings, ordered in Python."""
    start, end = day_bounds(day)
    exclude = exclude_booking.pk if exclude_booking is not None else None
    if connection.vendor == "postgresql":
        params = {
            "reach": start - MAX_SLOT,
            "start": start,
            "end": end,
            "freeing": list(Booking.FREEING_STATUSES),
            "exclude": exclude,
            "area": area.pk,
            "role": Role.ADVISOR.value,
            "advisor": advisor.pk if advisor is not None else None,
        }
        with connection.cursor() as cursor:
            cursor.execute(ADVISOR_DAYS_SQL, params)
            rows = cursor.fetchall()
        if not rows or rows[0][3] + planned_minutes > area.daily_capacity_minutes:
            return []
        return [(user_id, name, minutes, starts or (), ends or ()) for user_id, name, minutes, _u, starts, ends in rows]
    profiles = AdvisorProfile.objects.filter(is_active=True, user__is_active=True, user__role=Role.ADVISOR)
    if advisor is not None:
        profiles = profiles.filter(user=advisor)
    rows = list(
        profiles.order_by("user__last_name", "user__first_name", "user_id").values_list(
            "user_id", User.name_expression("user"), "slot_minutes"
        )
    )
    if not rows or area_minutes_used(area, day, exclude_booking=exclude_booking) + planned_minutes > (
        area.daily_capacity_minutes
    ):
        return []
    held = Booking.objects.occupying().filter(
        advisor_id__in=[row[0] for row in rows],
        starts_at__gte=start - MAX_SLOT,
        starts_at__lt=end,
        advisor_until__gt=start,
    )
    if exclude is not None:
        held = held.exclude(pk=exclude)
    taken: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for advisor_id, booked_from, booked_until in held.values_list("advisor_id", "starts_at", "advisor_until"):
        taken[advisor_id].append((booked_from.timestamp(), booked_until.timestamp()))
    days = []
    for user_id, name, minutes in rows:
        times = sorted(taken.get(user_id, ()))
        days.append((user_id, name, minutes, [t[0] for t in times], [t[1] for t in times]))
    return days


def _grid(opens: datetime, closes: datetime, length: timedelta) -> list[tuple[datetime, datetime, float, float]]:
    """The day's reception slots of one length, from opening while they end by closing (wall-clock steps, as the
    workshop's day is laid out), each with its start and end as POSIX seconds for the sweep."""
    grid = []
    moment = opens
    while moment + length <= closes:
        ends = moment + length
        grid.append((moment, ends, moment.timestamp(), ends.timestamp()))
        moment = ends
    return grid


def free_slots(
    *,
    day: date,
    area: ServiceArea,
    planned_minutes: int,
    advisor: User | None = None,
    calendar: BusinessCalendar | None = None,
    exclude_booking: Booking | None = None,
    not_before: datetime | None = None,
) -> list[Slot]:
    """Free reception slots on `day` for work of `planned_minutes` in `area`: empty when the workshop is closed or
    the area has no capacity left that day. One query on PostgreSQL (three elsewhere), and the calendar's, whatever
    the number of advisors and bookings (see `_advisor_days`).

    The sweep compares plain numbers (POSIX seconds): the slot grid is laid out once per slot length, each advisor's
    bookings are walked once in time order (they never overlap), and a `Slot` is made only for a free slot."""
    calendar = calendar or BusinessCalendar()
    hours = calendar.hours(day)
    if hours is None:
        return []
    opens, closes = hours.start, hours.end
    earliest = max(not_before or timezone.now(), opens).timestamp()
    grids: dict[int, list[tuple[datetime, datetime, float, float]]] = {}
    found = []
    days = _advisor_days(advisor, day, area=area, planned_minutes=planned_minutes, exclude_booking=exclude_booking)
    for user_id, name, minutes, busy_from, busy_until in days:
        grid = grids.get(minutes)
        if grid is None:
            grid = grids[minutes] = _grid(opens, closes, timedelta(minutes=minutes))
        count = len(busy_from)
        index = 0
        for starts_at, ends_at, starts, ends in grid:
            while index < count and busy_until[index] <= starts:
                index += 1
            if starts >= earliest and not (index < count and busy_from[index] < ends):
                found.append((starts_at, name, user_id, ends_at))
    found.sort(key=itemgetter(0, 1))  # stable: where time and name tie, advisors stay in their order
    return [Slot(user_id, name, starts_at, ends_at) for starts_at, name, user_id, ends_at in found]


def nearest_free_slots(
    *,
    around: datetime,
    area: ServiceArea,
    planned_minutes: int,
    advisor: User | None = None,
    exclude_booking: Booking | None = None,
    limit: int = 5,
) -> list[Slot]:
    """The free slots closest to the wanted time, on that day or the next working days (for a refusal's message)."""
    first = max(local_date(around), local_date(timezone.now()))
    calendar = BusinessCalendar()
    found: list[Slot] = []
    for offset in range(SEARCH_DAYS):
        day = first + timedelta(days=offset)
        found += free_slots(
            day=day,
            area=area,
            planned_minutes=planned_minutes,
            advisor=advisor,
            calendar=calendar,
            exclude_booking=exclude_booking,
        )
        if len(found) >= limit * 3:
            break
    found.sort(key=lambda s: (abs((s.starts_at - around).total_seconds()), s.advisor_name))
    return sorted(found[:limit], key=lambda s: s.starts_at)
