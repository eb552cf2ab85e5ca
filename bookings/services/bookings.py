"""Every write to bookings: one function per business action, each transactional and recorded in the trail.

The rules: a booking lies inside the workshop's working hours; its advisor has no other client in that slot (on
PostgreSQL also an exclusion constraint, so two managers racing for the last slot get one booking and one refusal);
its area has capacity left that day, unless the department head overrides with a reason. A refusal names the nearest
free slots. Status changes follow `ALLOWED_TRANSITIONS`; anything else is refused.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import Capability, Role
from bookings.events import BookingBooked, BookingMoved, BookingStatusChanged
from bookings.models import MAX_SLOT, AdvisorProfile, Booking, BookingTransition, ServiceArea, ServiceType
from bookings.selectors.recalls import open_recalls_for_vin
from bookings.selectors.slots import Slot, area_minutes_used, nearest_free_slots
from bookings.tasks import send_arrival_email
from clientdesk import events
from clientdesk.calendar import BusinessCalendar, local_date
from clientdesk.celery import send_after_commit
from clientdesk.errors import Conflict
from clientdesk.models import Notification
from clientdesk.timefmt import local_date_text, local_time_text
from clients.models import Client, Vehicle
from clients.normalize import normalize_dms_id

S = Booking.Status
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    S.SCHEDULED: frozenset({S.CONFIRMED, S.ARRIVED, S.CANCELLED, S.NO_SHOW}),
    S.CONFIRMED: frozenset({S.SCHEDULED, S.ARRIVED, S.CANCELLED, S.NO_SHOW}),
    S.ARRIVED: frozenset({S.IN_SERVICE, S.CANCELLED}),
    S.IN_SERVICE: frozenset({S.COMPLETED}),
    S.COMPLETED: frozenset(),
    S.CANCELLED: frozenset(),
    S.NO_SHOW: frozenset(),
}
# A walk-in is booked for "now"; a booking a little in the past is a typo, not a walk-in.
WALK_IN_GRACE = timedelta(minutes=30)
# The steps that belong to the visit's own day (see `step_refusal`).
DAY_BOUND_STEPS = frozenset({S.ARRIVED, S.IN_SERVICE, S.NO_SHOW})


def step_refusal(booking: Booking, to: str, *, now: datetime) -> str | None:
    """Why the step to `to` cannot be taken at `now`, or None when it can. Arrival belongs to the visit's day (from
    the start of that day, so an early client is welcome, until its end: a client who comes a day late is a new
    visit); taking the car into service is not before the visit's day (a car left overnight is taken in the next
    morning); a no-show only once the slot has started."""
    reason = _refusal(booking, to, now=now)
    if reason is None:
        return None
    return reason % {"day": local_date_text(local_date(booking.starts_at)), "time": local_time_text(booking.starts_at)}


def _refusal(booking: Booking, to: str, *, now: datetime) -> str | None:
    """step_refusal's message before the visit's day and time are put in: allowed_steps, asked for every visit on
    the board, only needs to know whether there is one."""
    if to not in DAY_BOUND_STEPS:
        return None
    day, today = local_date(booking.starts_at), local_date(now)
    if to in (S.ARRIVED, S.IN_SERVICE) and today < day:
        return _("The visit is on %(day)s at %(time)s; the client is marked arrived on that day.")
    if to == S.ARRIVED and today > day:
        return _("The visit was on %(day)s; a client who comes on another day is booked again.")
    if to == S.NO_SHOW and now < booking.starts_at:
        return _("The visit starts on %(day)s at %(time)s; a no-show is marked once the slot has started.")
    return None


def allowed_steps(booking: Booking, *, now: datetime) -> frozenset[str]:
    """The statuses the booking may move to at `now`: its allowed transitions less those for another day. The pages
    offer exactly these (bookings.views.booking.available_actions); `booking_transition` refuses the rest."""
    return frozenset(
        to for to in ALLOWED_TRANSITIONS.get(booking.status, frozenset()) if _refusal(booking, to, now=now) is None
    )


class SlotUnavailable(Conflict):
    """The wanted time cannot be served; `alternatives` are the nearest slots that can."""

    def __init__(self, message, *, field: str = "starts_at", alternatives: list[Slot] = ()):
        super().__init__(message, field=field)
        self.alternatives = list(alternatives)

    def as_dict(self) -> dict:
        body = super().as_dict()
        body["alternatives"] = [
            {"advisor": s.advisor_id, "advisor_name": s.advisor_name, "starts_at": s.starts_at.isoformat()}
            for s in self.alternatives
        ]
        return body


# One visit takes a handful of services; a longer list is a broken client, refused before any work is done for it.
MAX_SERVICE_TYPES = 20


def check_service_type_count(count: int) -> None:
    """Refuse more than MAX_SERVICE_TYPES services on one visit (a field error on `service_types`)."""
    if count > MAX_SERVICE_TYPES:
        raise ValidationError(
            {"service_types": _("Choose at most %(max)d services for one visit.") % {"max": MAX_SERVICE_TYPES}}
        )


def plan_for(service_types: Iterable[ServiceType]) -> tuple[ServiceArea | None, int]:
    """The area and planned minutes the chosen services imply: the area of the longest service, the sum of minutes."""
    types = list(service_types)
    check_service_type_count(len(types))
    if not types:
        return None, 0
    longest = max(types, key=lambda t: t.standard_minutes)
    return longest.area, sum(t.standard_minutes for t in types)


def _record(booking: Booking, *, by: User | None, to: str, previous: str = "", note: str = "", old=None, new=None):
    BookingTransition.objects.create(
        booking=booking, from_status=previous, to_status=to, by=by, note=note, old_starts_at=old, new_starts_at=new
    )


def _advisor_slot(advisor: User) -> AdvisorProfile:
    profile = AdvisorProfile.objects.filter(
        user=advisor, is_active=True, user__is_active=True, user__role=Role.ADVISOR
    ).first()
    if profile is None:
        raise ValidationError({"advisor": _("%(user)s does not receive clients.") % {"user": advisor}})
    return profile


def _check_time(booking: Booking, *, calendar: BusinessCalendar, now: datetime) -> None:
    """Working hours and not in the past; raises SlotUnavailable with the nearest slots."""
    hours = calendar.hours(local_date(booking.starts_at))
    grace = WALK_IN_GRACE if booking.source == Booking.Source.WALK_IN else timedelta(0)
    if booking.starts_at < now - grace:
        message = _("This time has passed.")
    elif hours is None:
        message = _("The workshop is closed on %(day)s.") % {"day": local_date_text(booking.starts_at)}
    elif booking.starts_at < hours.start or booking.advisor_until > hours.end:
        message = _("The workshop works %(opens)s–%(closes)s that day.") % {
            "opens": local_time_text(hours.opens),
            "closes": local_time_text(hours.closes),
        }
    else:
        return
    raise SlotUnavailable(message, alternatives=_alternatives(booking))


def _alternatives(booking: Booking, *, any_advisor: bool = True) -> list[Slot]:
    return nearest_free_slots(
        around=booking.starts_at,
        area=booking.area,
        planned_minutes=booking.planned_minutes,
        advisor=None if any_advisor else booking.advisor,
        exclude_booking=booking if booking.pk else None,
    )


def _check_slot_and_capacity(booking: Booking, *, by: User | None) -> None:
    """The advisor is free and the area has room; the area row is locked so capacity checks queue per area."""
    ServiceArea.objects.select_for_update().get(pk=booking.area_id)
    clash = (
        Booking.objects.occupying()
        .filter(
            advisor=booking.advisor,
            starts_at__gt=booking.starts_at - MAX_SLOT,
            starts_at__lt=booking.advisor_until,
            advisor_until__gt=booking.starts_at,
        )
        .exclude(pk=booking.pk)
        .exists()
    )
    if clash:
        raise SlotUnavailable(
            _("%(advisor)s already has a client at this time.") % {"advisor": booking.advisor},
            alternatives=_alternatives(booking),
        )
    day = local_date(booking.starts_at)
    used = area_minutes_used(booking.area, day, exclude_booking=booking if booking.pk else None)
    if used + booking.planned_minutes <= booking.area.daily_capacity_minutes:
        booking.capacity_override_reason = ""
        return
    if booking.capacity_override_reason.strip():
        if by is not None and by.has_capability(Capability.OVERRIDE_CAPACITY):
            return
        raise ValidationError(
            {"capacity_override_reason": _("Only the department head may book beyond an area's capacity.")}
        )
    left = max(booking.area.daily_capacity_minutes - used, 0)
    raise SlotUnavailable(
        _("%(area)s is full on %(day)s: %(left)d of %(capacity)d minutes left, %(needed)d needed.")
        % {
            "area": booking.area,
            "day": local_date_text(day),
            "left": left,
            "capacity": booking.area.daily_capacity_minutes,
            "needed": booking.planned_minutes,
        },
        alternatives=_alternatives(booking),
    )


def _save(booking: Booking, *, by: User | None, reason: str = "") -> None:
    booking.full_clean(exclude=["created_by"], validate_constraints=False)
    booking._history_user = by
    if reason:
        booking._change_reason = reason
    try:
        with transaction.atomic():
            booking.save()
    except IntegrityError as exc:
        # The exclusion constraint caught a writer that raced past the check above.
        if "booking_advisor_no_overlap" in str(exc):
            raise SlotUnavailable(
                _("%(advisor)s was booked for this time a moment ago.") % {"advisor": booking.advisor},
                alternatives=_alternatives(booking),
            ) from exc
        raise Conflict(_("Someone saved the same booking a moment ago; reload and try again.")) from exc


@transaction.atomic
def booking_create(
    *,
    by: User | None,
    client: Client,
    starts_at: datetime,
    advisor: User,
    service_types: Iterable[ServiceType] = (),
    vehicle: Vehicle | None = None,
    area: ServiceArea | None = None,
    planned_minutes: int | None = None,
    comment: str = "",
    source: str = Booking.Source.CALL,
    capacity_override_reason: str = "",
    dms_id: str = "",
    needs_loaner: bool = False,
) -> Booking:
    """Book a visit. Area and planned minutes default from the services chosen (at most MAX_SERVICE_TYPES). With
    `needs_loaner` a loaner car is reserved in the same transaction by whoever subscribes (the fleet app); when none
    is free the booking is refused whole."""
    types = list(service_types)
    check_service_type_count(len(types))
    default_area, default_minutes = plan_for(types)
    area = area or default_area
    planned_minutes = planned_minutes or default_minutes
    errors = {}
    if client.is_merged:
        errors["client"] = _("This client was merged into %(target)s.") % {"target": client.merged_into}
    if vehicle is not None and vehicle.owner_id != client.pk:
        errors["vehicle"] = _("This vehicle belongs to another client.")
    if area is None:
        errors["service_types"] = _("Choose at least one service, or the area.")
    if not planned_minutes:
        errors["planned_minutes"] = _("How long will the work take?")
    if errors:
        raise ValidationError(errors)
    dms_id = normalize_dms_id(dms_id)  # only spaces is none, not an id two bookings would clash on
    if dms_id and Booking.objects.filter(dms_id=dms_id).exists():
        raise Conflict(_("A booking with DMS id %(dms_id)s exists.") % {"dms_id": dms_id}, field="dms_id")
    profile = _advisor_slot(advisor)
    booking = Booking(
        client=client,
        vehicle=vehicle,
        area=area,
        advisor=advisor,
        starts_at=starts_at,
        advisor_until=starts_at + timedelta(minutes=profile.slot_minutes),
        planned_minutes=planned_minutes,
        comment=comment,
        source=source,
        capacity_override_reason=capacity_override_reason.strip(),
        dms_id=dms_id,
        created_by=by,
    )
    _check_time(booking, calendar=BusinessCalendar(), now=timezone.now())
    _check_slot_and_capacity(booking, by=by)
    _save(booking, by=by)
    booking.service_types.set(types)
    _record(booking, by=by, to=booking.status, new=booking.starts_at, note=booking.capacity_override_reason)
    events.publish(BookingBooked(booking_id=booking.pk, by_id=by.pk if by else None, needs_loaner=needs_loaner))
    return booking


@transaction.atomic
def booking_reschedule(
    *, booking: Booking, by: User | None, starts_at: datetime, advisor: User | None = None, reason: str = ""
) -> Booking:
    """Move an open booking to another time (and advisor); it needs confirming again, and the old time stays in the
    trail."""
    booking = Booking.objects.select_for_update().select_related("area", "advisor").get(pk=booking.pk)
    if not booking.is_open:
        raise Conflict(_("Only a scheduled or confirmed booking can be moved."), field="status")
    old_starts, old_status = booking.starts_at, booking.status
    advisor = advisor or booking.advisor
    profile = _advisor_slot(advisor)
    booking.advisor = advisor
    booking.starts_at = starts_at
    booking.advisor_until = starts_at + timedelta(minutes=profile.slot_minutes)
    booking.status = Booking.Status.SCHEDULED
    booking.confirmed_at = None
    _check_time(booking, calendar=BusinessCalendar(), now=timezone.now())
    _check_slot_and_capacity(booking, by=by)
    _save(booking, by=by, reason=reason or "rescheduled")
    _record(booking, by=by, previous=old_status, to=booking.status, note=reason, old=old_starts, new=starts_at)
    events.publish(BookingMoved(booking_id=booking.pk, by_id=by.pk if by else None))
    return booking


@transaction.atomic
def booking_transition(*, booking: Booking, by: User | None, to: str, note: str = "") -> Booking:
    """Move a booking along its life; an illegal step, or one that belongs to another day (`step_refusal`), is refused
    with a Conflict and changes nothing."""
    booking = Booking.objects.select_for_update().get(pk=booking.pk)
    previous = booking.status
    if to not in ALLOWED_TRANSITIONS.get(previous, frozenset()):
        raise Conflict(
            _("A booking that is %(current)s cannot become %(wanted)s.")
            % {"current": Booking.Status(previous).label, "wanted": Booking.Status(to).label if to in S.values else to},
            field="status",
        )
    now = timezone.now()
    if refusal := step_refusal(booking, to, now=now):
        raise Conflict(refusal, field="status")
    if to == S.CANCELLED and not note.strip():
        raise ValidationError({"cancel_reason": _("Say why the booking is cancelled.")})
    booking.take_status(to, at=now, note=note)
    _save(booking, by=by, reason=f"{previous} → {to}")
    _record(booking, by=by, previous=previous, to=to, note=note)
    by_id = by.pk if by else None
    events.publish(BookingStatusChanged(booking_id=booking.pk, by_id=by_id, previous=previous, status=to))
    if to == S.ARRIVED:
        _tell_advisor_of_arrival(booking)
    return booking


def booking_confirm(*, booking: Booking, by: User | None, note: str = "") -> Booking:
    return booking_transition(booking=booking, by=by, to=S.CONFIRMED, note=note)


def booking_cancel(*, booking: Booking, by: User | None, reason: str) -> Booking:
    return booking_transition(booking=booking, by=by, to=S.CANCELLED, note=reason)


def booking_mark_arrived(*, booking: Booking, by: User | None) -> Booking:
    return booking_transition(booking=booking, by=by, to=S.ARRIVED)


def _tell_advisor_of_arrival(booking: Booking) -> None:
    """An in-app notification at once, and an email after commit (through Celery, so a slow mail server never
    holds up the manager's click)."""

    recalls = open_recalls_for_vin(booking.vehicle.vin) if booking.vehicle_id and booking.vehicle.vin else []
    body = f"{booking.vehicle or ''} · {local_time_text(booking.starts_at)}".strip(" ·")
    if recalls:
        body += " · " + _("open recall: %(codes)s") % {"codes": ", ".join(c.manufacturer_code for c in recalls)}
    Notification.objects.create(
        user_id=booking.advisor_id,
        title=_("%(client)s has arrived") % {"client": booking.client},
        body=body,
        url=booking.get_absolute_url(),
    )
    send_after_commit(send_arrival_email, booking.pk)
