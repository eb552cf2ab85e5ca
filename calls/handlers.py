"""How the calls app reacts to what the apps below it announce (subscribed in `CallsConfig.ready()`); the facts it
announces itself are in `calls/events.py`.

Each handler takes the event's ids, loads what it needs and calls one service; they are idempotent (a handler run
twice, or late, leaves the same calls), so a retry of a failed delivery is harmless.
"""

from accounts.models import User
from bookings.events import BookingBooked, BookingMoved, BookingStatusChanged
from bookings.models import Booking
from calls.services.calls import call_tasks_follow_booking, call_tasks_follow_delivery
from calls.services.planning import PLAN_SOON_EXPIRES, planning_request_soon
from calls.tasks import plan_calls
from clientdesk.celery import send_after_commit
from clients.events import DeliveryCorrected
from clients.models import Delivery


def _user(user_id: int | None) -> User | None:
    return User.objects.filter(pk=user_id).first() if user_id else None


def follow_booking(event: BookingBooked | BookingMoved | BookingStatusChanged) -> None:
    """The visit's confirmation call follows the booking: moved, closed or reopened; a visit booked late for the next
    working day gets its call planned now rather than at the next beat."""
    booking = Booking.objects.select_related("client").filter(pk=event.booking_id).first()
    if booking is None:
        return
    call_tasks_follow_booking(booking=booking, by=_user(event.by_id))
    if booking.status == Booking.Status.SCHEDULED and planning_request_soon(visit_at=booking.starts_at):
        send_after_commit(plan_calls, options={"expires": int(PLAN_SOON_EXPIRES.total_seconds())})


def follow_delivery(event: DeliveryCorrected) -> None:
    """A corrected handover moves its planned follow-up call and gives it to the right buyer."""
    delivery = Delivery.objects.filter(pk=event.delivery_id).first()
    if delivery is not None:
        call_tasks_follow_delivery(delivery=delivery, by=_user(event.by_id))
