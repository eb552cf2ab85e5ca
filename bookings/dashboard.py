"""The workshop's dashboard tiles (registered in BookingsConfig.ready): no-shows, and the load of each area (booked
against capacity). A few SQL aggregates whatever the number of bookings; every figure and bar links to the bookings
list with its own filter parameters."""

from datetime import timedelta

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncDate
from django.utils.translation import gettext_lazy as _

from accounts.roles import Capability
from bookings.models import Booking, ServiceArea
from bookings.selectors.slots import active_advisors
from clientdesk.calendar import BusinessCalendar, DayHours, day_bounds, local_zone
from clientdesk.dashboard import (
    DOWN,
    Chart,
    Figure,
    Period,
    Series,
    Tile,
    TileData,
    advisor_tiles,
    both,
    head_tiles,
    list_url,
    ratio,
    report_sections,
    shared,
    spanning,
    within,
)

# Visits that were due and ended one way or the other: the client came (arrived, in service, completed) or did not.
CAME = [Booking.Status.ARRIVED, Booking.Status.IN_SERVICE, Booking.Status.COMPLETED]
ENDED = [*CAME, Booking.Status.NO_SHOW]
# Bookings that hold capacity (as `BookingQuerySet.occupying`), spelled as the list's status filter.
OCCUPYING = [s for s in Booking.Status if s not in Booking.FREEING_STATUSES]


def _url(period: Period, **filters) -> str:
    return list_url("bookings:list", starts_after=period.start, starts_before=period.end, **filters)


def no_show_tile(user, period: Period) -> TileData:
    """Of the visits due in the period that ended (the client came or did not), the share of no-shows."""
    bookings = Booking.objects.visible_to(user).filter(spanning(period, "starts_at"), status__in=ENDED)
    counts = bookings.aggregate(**both(period, "starts_at", ended=Q(), missed=Q(status=Booking.Status.NO_SHOW)))
    return TileData(
        figures=[
            Figure(
                "no-show-rate",
                _("No-shows, %"),
                ratio(counts["missed"], counts["ended"]),
                _url(period, status="no_show"),
                previous=ratio(counts["missed_before"], counts["ended_before"]),
                unit="%",
                better=DOWN,
            ),
            Figure(
                "no-shows",
                _("No-shows"),
                counts["missed"],
                _url(period, status="no_show"),
                previous=counts["missed_before"],
                better=DOWN,
            ),
            Figure(
                "visits-ended",
                _("Visits due"),
                counts["ended"],
                _url(period, status=[s.value for s in ENDED]),
                previous=counts["ended_before"],
                better="",
            ),
        ]
    )


def _area_hours(user, period: Period):
    """The active areas, the hours booked in each and each one's capacity over the period's working days, and those
    days: what the load figure and its chart are drawn from."""
    areas = list(ServiceArea.objects.filter(is_active=True).order_by("name", "pk"))
    used = dict(
        Booking.objects.visible_to(user)
        .occupying()
        .filter(within(period, "starts_at"))
        .values_list("area_id")
        .annotate(minutes=Sum("planned_minutes"))
        .order_by()
    )
    days = BusinessCalendar().working_days(period.first, period.last)
    booked = [round(used.get(area.pk, 0) / 60, 1) for area in areas]
    capacity = [round(area.daily_capacity_minutes * len(days) / 60, 1) for area in areas]
    return areas, booked, capacity, days


def _load_figure(period: Period, booked: list[float], capacity: list[float], previous=None) -> Figure:
    return Figure(
        "workshop-load",
        _("Workshop load, %"),
        ratio(sum(booked), sum(capacity)),
        _url(period, status=[s.value for s in OCCUPYING]),
        previous=previous,
        unit="%",
    )


def load_tile(user, period: Period) -> TileData:
    """Planned work booked in each area against its capacity over the period's working days, and each advisor's
    reception slots against the open hours, in hours."""
    areas, booked, capacity, days = _area_hours(user, period)
    urls = [_url(period, area=area.pk, status=[s.value for s in OCCUPYING]) for area in areas]
    return TileData(
        figures=[_load_figure(period, booked, capacity)],
        charts=[
            Chart(
                "load-by-area",
                _("Workshop load by area, hours"),
                "bar",
                [area.name for area in areas],
                [Series(str(_("Booked")), booked, urls), Series(str(_("Capacity")), capacity, urls)],
                unit="h",
            ),
            _advisor_chart(user, period, open_hours=sum(day.minutes for day in days) / 60),
        ],
    )


def _advisor_chart(user, period: Period, *, open_hours: float) -> Chart:
    """Each receiving advisor's booked reception slots against the workshop's open hours in the period, in hours."""
    slots = dict(
        Booking.objects.visible_to(user)
        .occupying()
        .filter(within(period, "starts_at"), advisor__isnull=False)
        .values_list("advisor_id")
        .annotate(taken=Sum(F("advisor_until") - F("starts_at")))
        .order_by()
    )
    advisors = active_advisors()
    occupying = [s.value for s in OCCUPYING]
    urls = [_url(period, advisor=profile.user_id, status=occupying) for profile in advisors]
    return Chart(
        "load-by-advisor",
        _("Advisors' reception slots, hours"),
        "bar",
        [str(profile.user) for profile in advisors],
        [
            Series(
                str(_("Booked")),
                [round(slots.get(p.user_id, timedelta()).total_seconds() / 3600, 1) for p in advisors],
                urls,
            ),
            Series(str(_("Open hours")), [round(open_hours, 1) for _p in advisors], urls),
        ],
        horizontal=True,
        unit="h",
    )


def bookings_section(user, period: Period) -> TileData:
    """The fixed-form reports' bookings: bookings made in the period, visits due that ended, no-shows, the load."""
    previous = period.previous()
    made = (
        Booking.objects.visible_to(user)
        .filter(spanning(period, "created_at"))
        .aggregate(**both(period, "created_at", made=Q()))
    )
    _areas, booked, capacity, _days = _area_hours(user, period)
    _areas, booked_before, capacity_before, _days = _area_hours(user, previous)
    return TileData(
        figures=[
            Figure(
                "bookings-made",
                _("Bookings made"),
                made["made"],
                "",  # the bookings list filters by the visit's time, not the booking's
                previous=made["made_before"],
                better="",
            ),
            *no_show_tile(user, period).figures,
            _load_figure(period, booked, capacity, previous=ratio(sum(booked_before), sum(capacity_before))),
        ]
    )


# --- an advisor's own figures ----------------------------------------------------------------------------------------

AWAITED = [Booking.Status.SCHEDULED, Booking.Status.CONFIRMED]
IN_PROGRESS = [Booking.Status.ARRIVED, Booking.Status.IN_SERVICE]
# The advisor's arrivals: name, label, which way is better, the statuses counted (as the list's status filter).
ARRIVALS = (
    ("booked", _("Booked visits"), "", [s for s in Booking.Status if s != Booking.Status.CANCELLED]),
    ("arrived", _("Clients arrived"), "up", CAME),
    ("no-shows", _("No-shows"), DOWN, [Booking.Status.NO_SHOW]),
    ("completed", _("Visits completed"), "up", [Booking.Status.COMPLETED]),
)


def _advisors() -> list:
    """The advisors receiving clients (their profiles): what the advisors' average divides by, read once a drawing."""
    return shared("active-advisors", active_advisors)


def _day_url(day, user, statuses) -> str:
    start, end = day_bounds(day)
    return list_url(
        "bookings:list", starts_after=start, starts_before=end, advisor=user.pk, status=[s.value for s in statuses]
    )


def _days(period: Period) -> list:
    return [period.first + timedelta(days=n) for n in range(period.days)]


def own_arrivals_tile(user, period: Period) -> TileData:
    """The advisor's visits due in the period (by their start, in the dealership's zone): booked (not cancelled),
    arrived, no-shows, completed; each beside the previous period's and the advisors' average (all the advisors'
    visits divided by the advisors receiving clients: never a colleague's own). Three queries whatever the rows."""
    conditions = {key.replace("-", "_"): Q(status__in=statuses) for key, _label, _better, statuses in ARRIVALS}
    profiles = _advisors()
    receiving = Q(advisor_id__in=[p.user_id for p in profiles])
    rows = Booking.objects.filter(spanning(period, "starts_at"), advisor__isnull=False)
    counts = rows.aggregate(
        **both(period, "starts_at", **{key: cond & Q(advisor=user) for key, cond in conditions.items()}),
        **{
            f"all_{key}": Count("pk", filter=cond & receiving & within(period, "starts_at"))
            for key, cond in conditions.items()
        },
    )
    advisors = len(profiles) or 1
    by_day: dict = {}
    for day, status, n in (
        Booking.objects.filter(within(period, "starts_at"), advisor=user)
        .annotate(day=TruncDate("starts_at", tzinfo=local_zone()))
        .values_list("day", "status")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        by_day.setdefault(day, {})[status] = n
    days = _days(period)
    stacks = (
        (_("Completed"), [Booking.Status.COMPLETED]),
        (_("Arrived, in service"), IN_PROGRESS),
        (_("No-shows"), [Booking.Status.NO_SHOW]),
        (_("Awaited"), AWAITED),
    )
    return TileData(
        figures=[
            Figure(
                f"my-{key}",
                label,
                counts[key.replace("-", "_")],
                _url(period, advisor=user.pk, status=[s.value for s in statuses]),
                previous=counts[f"{key.replace('-', '_')}_before"],
                average=round(counts[f"all_{key.replace('-', '_')}"] / advisors, 1),
                better=better,
            )
            for key, label, better, statuses in ARRIVALS
        ],
        charts=[
            Chart(
                "my-visits-by-day",
                _("My visits by day"),
                "bar",
                [day.strftime("%d.%m") for day in days],
                [
                    Series(
                        str(label),
                        [sum(by_day.get(day, {}).get(s.value, 0) for s in statuses) for day in days],
                        [_day_url(day, user, statuses) for day in days],
                    )
                    for label, statuses in stacks
                ],
                stacked=True,
            )
        ],
    )


def slot_capacity(hours: DayHours, slot_minutes: int) -> int:
    """An advisor's reception minutes on an open day: whole slots from opening to closing, as `free_slots` lays
    them out."""
    return (hours.minutes // slot_minutes) * slot_minutes


def own_load_tile(user, period: Period) -> TileData:
    """The advisor's load: the minutes of reception slots their visits hold (not cancelled, not no-shows) against
    the slots the workshop's hours give them, in the period, the previous period, and on average for the advisors;
    by day, booked against capacity. A constant number of queries whatever the rows."""
    previous = period.previous()
    calendar = BusinessCalendar()
    open_days = {which: calendar.working_days(p.first, p.last) for which, p in (("now", period), ("before", previous))}
    profiles = _advisors()
    mine = next((p for p in profiles if p.user_id == user.pk), None)

    def capacity(profile, which) -> int:
        return sum(slot_capacity(hours, profile.slot_minutes) for hours in open_days[which]) if profile else 0

    taken = Sum(F("advisor_until") - F("starts_at"))
    held = (
        Booking.objects.occupying()
        .filter(spanning(period, "starts_at"), advisor__isnull=False)
        .aggregate(
            mine=Sum(F("advisor_until") - F("starts_at"), filter=Q(advisor=user) & within(period, "starts_at")),
            mine_before=Sum(
                F("advisor_until") - F("starts_at"), filter=Q(advisor=user) & within(previous, "starts_at")
            ),
            all=Sum(
                F("advisor_until") - F("starts_at"),
                filter=Q(advisor_id__in=[p.user_id for p in profiles]) & within(period, "starts_at"),
            ),
        )
    )
    minutes = {key: int(value.total_seconds() // 60) if value else 0 for key, value in held.items()}
    all_capacity = sum(capacity(p, "now") for p in profiles)
    by_day = dict(
        Booking.objects.occupying()
        .filter(within(period, "starts_at"), advisor=user)
        .annotate(day=TruncDate("starts_at", tzinfo=local_zone()))
        .values_list("day")
        .annotate(taken=taken)
        .order_by()
    )
    hours_of = {hours.day: hours for hours in open_days["now"]}
    days = _days(period)
    occupying = [s for s in Booking.Status if s not in Booking.FREEING_STATUSES]
    urls = [_day_url(day, user, occupying) for day in days]
    return TileData(
        figures=[
            Figure(
                "my-load",
                _("My load, %"),
                ratio(minutes["mine"], capacity(mine, "now")),
                _url(period, advisor=user.pk, status=[s.value for s in occupying]),
                previous=ratio(minutes["mine_before"], capacity(mine, "before")),
                average=ratio(minutes["all"], all_capacity),
                unit="%",
                better="",
            ),
            Figure(
                "my-booked-minutes",
                _("Booked reception, minutes"),
                minutes["mine"],
                _url(period, advisor=user.pk, status=[s.value for s in occupying]),
                previous=minutes["mine_before"],
                average=round(minutes["all"] / (len(profiles) or 1), 1),
                unit="min",
                better="",
            ),
            Figure(
                "my-capacity-minutes",
                _("Reception capacity, minutes"),
                capacity(mine, "now"),
                previous=capacity(mine, "before"),
                average=round(all_capacity / (len(profiles) or 1), 1),
                unit="min",
                better="",
            ),
        ],
        charts=[
            Chart(
                "my-load-by-day",
                _("My reception slots by day, minutes"),
                "bar",
                [day.strftime("%d.%m") for day in days],
                [
                    Series(
                        str(_("Booked")),
                        [int(by_day[day].total_seconds() // 60) if day in by_day else 0 for day in days],
                        urls,
                    ),
                    Series(
                        str(_("Capacity")),
                        [
                            slot_capacity(hours_of[day], mine.slot_minutes) if mine and day in hours_of else 0
                            for day in days
                        ],
                        urls,
                    ),
                ],
                unit="min",
            )
        ],
    )


def register() -> None:
    """Called from BookingsConfig.ready()."""
    advisor_tiles.register(
        "my-arrivals", Tile("my-arrivals", _("My arrivals"), own_arrivals_tile, Capability.SERVICE_BOOKINGS), order=10
    )
    advisor_tiles.register(
        "my-load", Tile("my-load", _("My load"), own_load_tile, Capability.SERVICE_BOOKINGS), order=20
    )
    report_sections.register(
        "bookings", Tile("bookings", _("Bookings and visits"), bookings_section, Capability.VIEW_BOOKINGS), order=20
    )
    head_tiles.register("no-shows", Tile("no-shows", _("No-shows"), no_show_tile, Capability.VIEW_BOOKINGS), order=40)
    head_tiles.register(
        "workshop-load", Tile("workshop-load", _("Workshop load"), load_tile, Capability.VIEW_BOOKINGS), order=45
    )
