"""The call to a client who has not brought our car back (the fleet app announces `LoanerReturnOverdue`): one task
per reservation, made at once inside the calling window; the unique constraint on (kind, reservation) makes a second
announcement, a retry or a replay harmless."""

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.roles import Role
from calls.models import CallRules, CallTask
from calls.services.planning import next_calling_time
from clientdesk.calendar import BusinessCalendar
from clientdesk.timefmt import local_datetime_text
from fleet.events import LoanerReturnOverdue
from fleet.models import HandoverAct, Reservation


def loaner_return_task_create(*, reservation_id: int, now: datetime) -> CallTask | None:
    """The callback task for a car not back when due; None when the car is back (or the reservation is gone). The
    manager who handed the car over gets it (she met the client, took the licence and agreed the return), else the
    one who reserved it, when a manager still at work; otherwise the round-robin does."""
    reservation = Reservation.objects.select_related("car", "created_by").filter(pk=reservation_id).first()
    if reservation is None or reservation.status != Reservation.Status.OUT:
        return None
    existing = CallTask.objects.filter(kind=CallTask.Kind.LOANER_RETURN, loaner_reservation=reservation).first()
    if existing is not None:
        return existing
    rules = CallRules.current()
    due = next_calling_time(now, rules, BusinessCalendar())
    handed_over = reservation.acts.filter(direction=HandoverAct.Direction.OUT).select_related("by").first()
    owners = (handed_over.by if handed_over else None, reservation.created_by)
    assignee = next((u for u in owners if u is not None and u.is_active and u.role == Role.MANAGER), None)
    when = local_datetime_text(reservation.ends_at)
    note = _("%(car)s was due back %(when)s.") % {"car": reservation.car, "when": when}
    try:
        with transaction.atomic():
            return CallTask.objects.create(
                kind=CallTask.Kind.LOANER_RETURN,
                client_id=reservation.client_id,
                loaner_reservation=reservation,
                due_at=due,
                next_attempt_at=due,
                assignee=assignee,
                note=note[:300],
            )
    except IntegrityError:
        # Another delivery of the same announcement made it a moment ago.
        return CallTask.objects.get(kind=CallTask.Kind.LOANER_RETURN, loaner_reservation=reservation)


def call_about_overdue_loaner(event: LoanerReturnOverdue) -> None:
    """Subscribed (durable) in CallsConfig.ready."""
    loaner_return_task_create(reservation_id=event.reservation_id, now=timezone.now())
