"""The facts the fleet app announces (see `clientdesk.events`). The calls app reacts to `LoanerReturnOverdue` with one
callback task for the client."""

from dataclasses import dataclass

from clientdesk.events import DomainEvent


@dataclass(frozen=True)
class LoanerReturnOverdue(DomainEvent):
    """A reservation's car was due back at its `ends_at` and has not come back."""

    reservation_id: int
    client_id: int
