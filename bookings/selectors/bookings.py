"""Reads for the booking pages and API: the day and week calendars, today's board, the booking card, data checks."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count, Max, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bookings.models import AdvisorProfile, Booking, BookingTransition, ServiceArea, ServiceType
from bookings.selectors.recalls import open_recalls_for_vins
from bookings.selectors.slots import active_advisors
from clientdesk.calendar import BusinessCalendar, DayHours, day_bounds, local_zone
from clientdesk.views import url_maker
from clients.models import Client
from clients.selectors import client_duplicates

# A client this many minutes past the booked time, not yet arrived, is shown as late on the board.
LATE_AFTER = timedelta(minutes=15)
# The board's poll redraws it at least this often even when no booking changed (a renamed client, a new recall list).
BOARD_REDRAW_SECONDS = 300


def bookings_for_display(queryset, *, with_services: bool = True):
    queryset = queryset.select_related("client", "vehicle", "advisor", "area")
    if with_services:
        queryset = queryset.prefetch_related(Prefetch("service_types", queryset=ServiceType.objects.order_by("name")))
    return queryset


@dataclass
class AreaLoad:
    area: ServiceArea
    used: int
    capacity: int

    @property
    def percent(self) -> int:
        return round(100 * self.used / self.capacity) if self.capacity else 0

    @property
    def level(self) -> str:
        return "danger" if self.percent > 100 else "warning" if self.percent >= 85 else "success"


@dataclass
class AdvisorDay:
    profile: AdvisorProfile
    bookings: list[Booking] = field(default_factory=list)

    @property
    def booked_minutes(self) -> int:
        return len(self.bookings) * self.profile.slot_minutes


@dataclass
class DayPlan:
    day: date
    hours: DayHours | None
    areas: list[AreaLoad]
    advisors: list[AdvisorDay]
    unassigned: list[Booking]


def day_plan(day: date, *, user) -> DayPlan:
    """The load of one day per area and per advisor, with the day's bookings in time order."""
    hours = BusinessCalendar(day).hours(day)
    start, end = day_bounds(day)
    bookings = list(
        bookings_for_display(Booking.objects.visible_to(user).occupying(), with_services=False)
        .filter(starts_at__gte=start, starts_at__lt=end)
        .order_by("starts_at", "id")
    )
    used: dict[int, int] = defaultdict(int)
    for booking in bookings:
        used[booking.area_id] += booking.planned_minutes
    areas = [AreaLoad(a, used[a.pk], a.daily_capacity_minutes) for a in ServiceArea.objects.filter(is_active=True)]
    by_advisor = {p.user_id: AdvisorDay(p) for p in active_advisors()}
    unassigned = []
    booking_url = url_maker("bookings:detail")
    for booking in bookings:
        booking.url = booking_url(booking.pk)
        (by_advisor[booking.advisor_id].bookings if booking.advisor_id in by_advisor else unassigned).append(booking)
    return DayPlan(day, hours, areas, list(by_advisor.values()), unassigned)


@dataclass
class WeekDay:
    day: date
    hours: DayHours | None
    areas: list[AreaLoad]
    bookings: int


def week_plan(monday: date, *, user) -> list[WeekDay]:
    """Seven days of load per area: one aggregate query for the whole week."""
    sunday = monday + timedelta(days=6)
    calendar = BusinessCalendar(monday, sunday)
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
    areas = list(ServiceArea.objects.filter(is_active=True))
    week = []
    for offset in range(7):
        day = monday + timedelta(days=offset)
        loads = [AreaLoad(a, used.get((day, a.pk), 0), a.daily_capacity_minutes) for a in areas]
        week.append(WeekDay(day, calendar.hours(day), loads, counts[day]))
    return week


@dataclass
class BoardRow:
    booking: Booking
    state: str
    open_recalls: list = field(default_factory=list)
    url: str = ""
    client_url: str = ""
    arrived_url: str = ""
    # The buttons the board offers (bookings.views.booking.available_actions), filled in by the view.
    actions: list = field(default_factory=list)

    STATE_LABELS = {
        "expected": _("Expected"),
        "late": _("Late"),
        "arrived": _("Arrived"),
        "in_service": _("In service"),
        "completed": _("Completed"),
        "no_show": _("No-show"),
        "cancelled": _("Cancelled"),
    }

    @property
    def state_label(self) -> str:
        return str(self.STATE_LABELS[self.state])


def board_state(booking: Booking, now: datetime) -> str:
    if booking.status in (Booking.Status.SCHEDULED, Booking.Status.CONFIRMED):
        return "late" if now > booking.starts_at + LATE_AFTER else "expected"
    return booking.status


def board_version(*, count: int, changed: datetime | None, late: int, now: datetime) -> str:
    """What the board shows, in a word: it changes when a booking of the day is added or changed, when a client
    turns late, and every BOARD_REDRAW_SECONDS."""
    changed_at = changed.timestamp() if changed else 0
    return f"{count}.{changed_at:.6f}.{late}.{int(now.timestamp()) // BOARD_REDRAW_SECONDS}"


def _days_bookings(day: date, *, user, advisor=None, area=None):
    start, end = day_bounds(day)
    bookings = Booking.objects.visible_to(user).filter(starts_at__gte=start, starts_at__lt=end)
    if advisor is not None:
        bookings = bookings.filter(advisor=advisor)
    if area is not None:
        bookings = bookings.filter(area=area)
    return bookings


def board_version_now(day: date, *, user, now: datetime, advisor=None, area=None) -> str:
    """The board's version from one aggregate over the day's bookings, so a poll that finds nothing new is cheap."""
    waiting = Q(status__in=[Booking.Status.SCHEDULED, Booking.Status.CONFIRMED], starts_at__lt=now - LATE_AFTER)
    found = _days_bookings(day, user=user, advisor=advisor, area=area).aggregate(
        count=Count("id"), changed=Max("updated_at"), late=Count("id", filter=waiting)
    )
    return board_version(**found, now=now)


def rows_version(rows: list[BoardRow], *, now: datetime) -> str:
    """The same version from the rows just drawn, without asking the database again."""
    changed = max((row.booking.updated_at for row in rows), default=None)
    late = sum(row.state == "late" for row in rows)
    return board_version(count=len(rows), changed=changed, late=late, now=now)


def day_board(day: date, *, user, advisor=None, area=None, now: datetime | None = None) -> list[BoardRow]:
    """Everyone booked for the day with where they are: expected, late, arrived, in service, done, no-show."""

    days = _days_bookings(day, user=user, advisor=advisor, area=area)
    bookings = list(bookings_for_display(days, with_services=False).order_by("starts_at", "id"))
    recalls = open_recalls_for_vins([b.vehicle.vin for b in bookings if b.vehicle_id and b.vehicle.vin])
    now = now or timezone.now()
    booking_url, client_url = url_maker("bookings:detail"), url_maker("clients:detail")
    arrived_url = url_maker("bookings:action", "arrived")
    return [
        BoardRow(
            b,
            board_state(b, now),
            recalls.get(b.vehicle.vin, []) if b.vehicle_id else [],
            url=booking_url(b.pk),
            client_url=client_url(b.client_id),
            arrived_url=arrived_url(b.pk),
        )
        for b in bookings
    ]


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
    return (
        Booking.objects.visible_to(user)
        .filter(client=client)
        .select_related("vehicle", "advisor", "area")
        .only(
            *("status", "starts_at", "vehicle__make", "vehicle__model", "vehicle__plate", "area__name"),
            *("advisor__first_name", "advisor__last_name", "advisor__username"),
        )
    )
