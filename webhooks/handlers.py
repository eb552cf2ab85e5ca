"""What the webhooks app does with the events of the apps below it (subscribed in `WebhooksConfig.ready()`): each
change becomes outbox rows, in the transaction of the change itself (`in_transaction=True`), so a change committed is
a change announced, and a change rolled back announces nothing."""

from bookings.events import BookingBooked, BookingMoved, BookingStatusChanged
from bookings.models import Booking
from calls.events import CallTaskClosed, SurveyAnswered
from calls.models import CallTask, SurveyResponse
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


def call_task_closed(event: CallTaskClosed) -> None:
    """The outcome of a confirmation, follow-up, campaign or callback call, with what the task was about."""
    row = (
        CallTask.objects.filter(pk=event.task_id)
        .values("pk", "kind", "client_id", "booking_id", "delivery_id", "closed_at", "attempts")
        .first()
    )
    if row is None:
        return
    payload = {
        "id": row["pk"],
        "kind": row["kind"],
        "client": row["client_id"],
        "booking": row["booking_id"],
        "delivery": row["delivery_id"],
        "status": event.status,
        "outcome": event.outcome,
        "attempts": row["attempts"],
        "closed_at": row["closed_at"].isoformat() if row["closed_at"] else None,
    }
    outbox_record(event_type=EventType.CALL_TASK_CLOSED, record_type="call_task", rows=[(row["pk"], payload)])


def survey_answered(event: SurveyAnswered) -> None:
    """A buyer's follow-up survey: the CSI and each answer, or that it was declined."""
    response = (
        SurveyResponse.objects.select_related("delivery").prefetch_related("answers").filter(pk=event.response_id)
    ).first()
    if response is None:
        return
    payload = {
        "id": response.pk,
        "delivery": response.delivery_id,
        "client": response.delivery.client_id,
        "declined": response.declined,
        "csi": str(response.csi) if response.csi is not None else None,
        "answered_at": response.answered_at.isoformat(),
        "answers": [
            {"question": answer.question_id, "score": answer.score, "text": answer.text}
            for answer in response.answers.all()
        ],
    }
    outbox_record(event_type=EventType.SURVEY_ANSWERED, record_type="survey_response", rows=[(response.pk, payload)])
