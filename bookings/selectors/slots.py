"""Where a booking can go: the advisors' free reception slots and the areas' remaining capacity.

Everything here reads; the rules that refuse a booking live in services.py and ask these same functions, so the slot
picker never offers what the service would refuse.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Sum
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


def area_minutes_used(area: ServiceArea, day: date, *, exclude_booking: Booking | None = None) -> int:
    start, end = day_bounds(day)
    bookings = Booking.objects.occupying().filter(area=area, starts_at__gte=start, starts_at__lt=end)
    if exclude_booking is not None:
        bookings = bookings.exclude(pk=exclude_booking.pk)
    return bookings.aggregate(total=Sum("planned_minutes"))["total"] or 0


def active_advisors(advisor: User | None = None) -> list[AdvisorProfile]:
    profiles = AdvisorProfile.objects.filter(
        is_active=True, user__is_active=True, user__role=Role.ADVISOR
    ).select_related("user")
    if advisor is not None:
        profiles = profiles.filter(user=advisor)
    return list(profiles.order_by("user__last_name", "user__first_name", "user_id"))


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
    the area has no capacity left that day. Three queries whatever the number of advisors and bookings."""
    calendar = calendar or BusinessCalendar(day)
    hours = calendar.hours(day)
    if hours is None:
        return []
    if area_minutes_used(area, day, exclude_booking=exclude_booking) + planned_minutes > area.daily_capacity_minutes:
        return []
    profiles = active_advisors(advisor)
    if not profiles:
        return []
    taken: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    start, end = day_bounds(day)
    busy = Booking.objects.occupying().filter(
        advisor_id__in=[p.user_id for p in profiles],
        starts_at__gte=start - MAX_SLOT,
        starts_at__lt=end,
        advisor_until__gt=start,
    )
    if exclude_booking is not None:
        busy = busy.exclude(pk=exclude_booking.pk)
    for advisor_id, booked_from, booked_until in busy.values_list("advisor_id", "starts_at", "advisor_until"):
        taken[advisor_id].append((booked_from, booked_until))
    earliest = max(not_before or timezone.now(), hours.start)
    slots = []
    for profile in profiles:
        length = timedelta(minutes=profile.slot_minutes)
        name = str(profile.user)
        # One sweep over the advisor's bookings in time order (they never overlap), not a scan per slot.
        busy_times = sorted(taken[profile.user_id])
        index = 0
        moment = hours.start
        while moment + length <= hours.end:
            while index < len(busy_times) and busy_times[index][1] <= moment:
                index += 1
            clash = index < len(busy_times) and busy_times[index][0] < moment + length
            if moment >= earliest and not clash:
                slots.append(Slot(profile.user_id, name, moment, moment + length))
            moment += length
    return sorted(slots, key=lambda s: (s.starts_at, s.advisor_name))


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
    calendar = BusinessCalendar(first, first + timedelta(days=SEARCH_DAYS))
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
