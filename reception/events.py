"""How the reception follows the bookings app: a tinting order's status follows its booking."""

from bookings.events import BookingStatusChanged
from reception.services.tinting import tint_order_follow_booking


def tint_order_follows_its_booking(event: BookingStatusChanged) -> None:
    tint_order_follow_booking(booking_id=event.booking_id)
