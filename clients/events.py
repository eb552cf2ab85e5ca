"""The facts the clients app announces (see `clientdesk.events`): the calls app plans or moves the 7-day follow-up
after a handover; later the documents app expects the handover act; the webhooks app tells the DMS of every client and
vehicle created or changed."""

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


@dataclass(frozen=True)
class ClientsChanged(DomainEvent):
    """Clients were created or changed (their fields or their phones): one client by hand or by the DMS, or a whole
    bulk batch at once. A repeated push that changed nothing announces nothing."""

    created: tuple[int, ...] = ()
    updated: tuple[int, ...] = ()
    by_id: int | None = None


@dataclass(frozen=True)
class VehiclesChanged(DomainEvent):
    """Vehicles were created or changed, one or a bulk batch at once; nothing is announced for an unchanged push."""

    created: tuple[int, ...] = ()
    updated: tuple[int, ...] = ()
    by_id: int | None = None
