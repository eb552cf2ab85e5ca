"""The workshop's dashboard tiles (registered in BookingsConfig.ready): no-shows, and the load of each area (booked
against capacity). A few SQL aggregates whatever the number of bookings; every figure and bar links to the bookings
list with its own filter parameters."""

from dataclasses import replace
from datetime import timedelta

from django.db.models import F, Q, Sum
from django.utils.translation import gettext_lazy as _

from accounts.roles import Capability
from bookings.models import Booking, ServiceArea
from bookings.selectors.slots import active_advisors
from clientdesk.calendar import BusinessCalendar
from clientdesk.dashboard import (
    DOWN,
    Chart,
    Figure,
    Period,
    Series,
    Tile,
    TileData,
    both,
    head_tiles,
    list_url,
    ratio,
    report_sections,
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


def load_tile(user, period: Period) -> TileData:
    """Planned work booked in each area against its capacity over the period's working days, and each advisor's
    reception slots against the open hours, in hours."""
    areas = list(ServiceArea.objects.filter(is_active=True).order_by("name", "pk"))
    used = dict(
        Booking.objects.visible_to(user)
        .occupying()
        .filter(within(period, "starts_at"))
        .values_list("area_id")
        .annotate(minutes=Sum("planned_minutes"))
        .order_by()
    )
    days = BusinessCalendar(period.first, period.last).working_days(period.first, period.last)
    working_days = len(days)
    booked = [round(used.get(area.pk, 0) / 60, 1) for area in areas]
    capacity = [round(area.daily_capacity_minutes * working_days / 60, 1) for area in areas]
    urls = [_url(period, area=area.pk, status=[s.value for s in OCCUPYING]) for area in areas]
    total_booked, total_capacity = sum(booked), sum(capacity)
    return TileData(
        figures=[
            Figure(
                "workshop-load",
                _("Workshop load, %"),
                ratio(total_booked, total_capacity),
                _url(period, status=[s.value for s in OCCUPYING]),
                unit="%",
            )
        ],
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
    load = next(f for f in load_tile(user, period).figures if f.key == "workshop-load")
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
            replace(load, previous=ratio_of_load(user, previous)),
        ]
    )


def ratio_of_load(user, period: Period) -> float | None:
    return next(f for f in load_tile(user, period).figures if f.key == "workshop-load").value


def register() -> None:
    """Called from BookingsConfig.ready()."""
    report_sections.register(
        "bookings", Tile("bookings", _("Bookings and visits"), bookings_section, Capability.VIEW_BOOKINGS), order=20
    )
    head_tiles.register("no-shows", Tile("no-shows", _("No-shows"), no_show_tile, Capability.VIEW_BOOKINGS), order=40)
    head_tiles.register(
        "workshop-load", Tile("workshop-load", _("Workshop load"), load_tile, Capability.VIEW_BOOKINGS), order=45
    )
