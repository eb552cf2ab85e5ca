"""How the fleet follows the bookings app (subscribed in `fleet.apps`, inside the booking's own transaction): a visit
booked with "needs a loaner" reserves one or is refused whole; a visit moved moves its loaner; a visit cancelled (or
missed) releases it."""

from bookings.events import BookingBooked, BookingMoved, BookingStatusChanged
from fleet.services import reservations


def loaner_with_booking(event: BookingBooked) -> None:
    if event.needs_loaner:
        reservations.loaner_reserve_for_booking(booking_id=event.booking_id, by_id=event.by_id)


def loaner_follows_booking_move(event: BookingMoved) -> None:
    reservations.loaner_follow_booking_move(booking_id=event.booking_id, by_id=event.by_id)


def loaner_follows_booking_status(event: BookingStatusChanged) -> None:
    reservations.loaner_follow_booking_status(booking_id=event.booking_id, by_id=event.by_id, status=event.status)
