"""The facts the documents app announces (see `clientdesk.events`): a higher app (the fleet waits for a temporary-use
contract to be signed; claims file their answer letters) reacts without the documents app knowing it."""

from dataclasses import dataclass

from clientdesk.events import DomainEvent


@dataclass(frozen=True)
class DocumentRegistered(DomainEvent):
    """A document was put on file (by hand, by another app's service, or pushed by the DMS)."""

    document_id: int
    by_id: int | None


@dataclass(frozen=True)
class DocumentStateChanged(DomainEvent):
    """A document moved from one state to another (signed, handed to accounting, archived, lost...)."""

    document_id: int
    from_state: str
    to_state: str
    by_id: int | None
