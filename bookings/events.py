"""The facts the bookings app announces (see `clientdesk.events`). Higher apps react: the calls app moves, closes or
plans a visit's confirmation call; later the fleet app moves a loaner reservation with its booking."""

from dataclasses import dataclass

from clientdesk.events import DomainEvent


@dataclass(frozen=True)
class BookingBooked(DomainEvent):
    """A workshop visit was booked."""

    booking_id: int
    by_id: int | None


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
