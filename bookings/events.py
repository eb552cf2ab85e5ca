"""The facts the bookings app announces (see `clientdesk.events`). Higher apps react: the calls app moves, closes or
plans a visit's confirmation call; the fleet app reserves,
moves or releases the visit's loaner car inside the booking's transaction."""

from dataclasses import dataclass

from clientdesk.events import DomainEvent


@dataclass(frozen=True)
class BookingBooked(DomainEvent):
    """A workshop visit was booked; `needs_loaner` when the client asked for a loaner car with it (the fleet app
    reserves one inside the booking's transaction, or refuses the booking)."""

    booking_id: int
    by_id: int | None
    needs_loaner: bool = False


@dataclass(frozen=True)
class BookingMoved(DomainEvent):
    """A visit was moved to another time (or advisor)."""

    booking_id: int
    by_id: int | None


@dataclass(frozen=True)
class BookingStatusChanged(DomainEvent):
    """A visit was confirmed, cancelled, marked arrived, started, completed or missed."""

    booking_id: int
    by_id: int | None
    previous: str
    status: str
