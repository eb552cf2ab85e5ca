"""What the webhooks app does with the events of the apps below it (subscribed in `WebhooksConfig.ready()`): each
change becomes outbox rows, in the transaction of the change itself (`in_transaction=True`), so a change committed is
a change announced, and a change rolled back announces nothing."""

from bookings.events import BookingBooked, BookingMoved, BookingStatusChanged
from bookings.models import Booking
from clients.events import ClientsChanged, VehiclesChanged
from clients.models import Client, Vehicle
from webhooks.models import EventType
from webhooks.services import outbox_record


def _dms_ids(model, ids) -> dict[int, str]:
    return dict(model.objects.filter(pk__in=ids).values_list("pk", "dms_id")) if ids else {}


def _record_many(event: ClientsChanged | VehiclesChanged, model, record_type: str, created: str, updated: str) -> None:
    dms_ids = _dms_ids(model, [*event.created, *event.updated])
    for event_type, ids in ((created, event.created), (updated, event.updated)):
        if ids:
            rows = [(pk, {"id": pk, "dms_id": dms_ids.get(pk, "")}) for pk in ids]
            outbox_record(event_type=event_type, record_type=record_type, rows=rows)


def clients_changed(event: ClientsChanged) -> None:
    _record_many(event, Client, "client", EventType.CLIENT_CREATED, EventType.CLIENT_UPDATED)


def vehicles_changed(event: VehiclesChanged) -> None:
    _record_many(event, Vehicle, "vehicle", EventType.VEHICLE_CREATED, EventType.VEHICLE_UPDATED)


def _booking(booking_id: int, **extra) -> list[tuple[int, dict]]:
    row = Booking.objects.filter(pk=booking_id).values("pk", "dms_id", "status", "starts_at", "client_id").first()
    if row is None:
        return []
    payload = {
        "id": row["pk"],
        "dms_id": row["dms_id"],
        "client": row["client_id"],
        "status": row["status"],
        "starts_at": row["starts_at"].isoformat(),
        **extra,
    }
    return [(booking_id, payload)]


def booking_booked(event: BookingBooked) -> None:
    outbox_record(event_type=EventType.BOOKING_CREATED, record_type="booking", rows=_booking(event.booking_id))


def booking_moved(event: BookingMoved) -> None:
    outbox_record(event_type=EventType.BOOKING_MOVED, record_type="booking", rows=_booking(event.booking_id))


def booking_status_changed(event: BookingStatusChanged) -> None:
    rows = _booking(event.booking_id, previous_status=event.previous)
    outbox_record(event_type=EventType.BOOKING_STATUS, record_type="booking", rows=rows)
