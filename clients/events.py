"""The facts the clients app announces (see `clientdesk.events`): the calls app plans or moves the 7-day follow-up
after a handover; later the documents app expects the handover act."""

from dataclasses import dataclass

from clientdesk.events import DomainEvent


@dataclass(frozen=True)
class DeliveryRecorded(DomainEvent):
    """A car was handed over to its buyer (entered by hand or pushed by the DMS)."""

    delivery_id: int
    by_id: int | None


@dataclass(frozen=True)
class DeliveryCorrected(DomainEvent):
    """A recorded handover was corrected (another buyer, car or moment)."""

    delivery_id: int
    by_id: int | None
