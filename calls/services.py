"""Writes to the call log."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from clientdesk.errors import Conflict
from clients.models import Client, Vehicle
from clients.normalize import normalize_phone

from .models import Call


def _e164_or_blank(number: str) -> str:
    try:
        return normalize_phone(number) if number else ""
    except ValidationError:
        # The number as dialled is kept as evidence even when it is not a valid one (a short code, a typo).
        return ""


@transaction.atomic
def call_log(
    *,
    by: User,
    direction: str,
    purpose: str = Call.Purpose.OTHER,
    outcome: str = Call.Outcome.RESOLVED,
    client: Client | None = None,
    vehicle: Vehicle | None = None,
    phone_number: str = "",
    started_at: datetime | None = None,
    duration: int = 0,
    notes: str = "",
    manager: User | None = None,
) -> Call:
    """Record a call. Without a number, the client's primary phone is taken; a merged client's call goes to the
    client kept."""
    if client is not None:
        while client.merged_into_id:
            client = client.merged_into
    if client is not None and not phone_number:
        primary = client.phones.filter(is_primary=True).first()
        phone_number = primary.number if primary else ""
    call = Call(
        direction=direction,
        purpose=purpose,
        outcome=outcome,
        client=client,
        vehicle=vehicle,
        phone_number=phone_number.strip(),
        phone_e164=_e164_or_blank(phone_number.strip()),
        started_at=started_at or timezone.now(),
        duration=duration,
        notes=notes,
        manager=manager or by,
    )
    call.full_clean()
    call._history_user = by
    call.save()
    return call


@transaction.atomic
def call_update(*, call: Call, by: User, **fields) -> Call:
    """Correct a logged call (notes, outcome, purpose, the client it was with...)."""
    allowed = {
        "direction",
        "purpose",
        "outcome",
        "client",
        "vehicle",
        "phone_number",
        "started_at",
        "duration",
        "notes",
    }
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"call_update cannot set {sorted(unknown)}")
    call = Call.objects.select_for_update().get(pk=call.pk)
    client = fields.get("client")
    if client is not None and client.is_merged:
        raise Conflict(f"client #{client.pk} was merged into #{client.merged_into_id}", field="client")
    for name, value in fields.items():
        setattr(call, name, value)
    if "phone_number" in fields:
        call.phone_e164 = _e164_or_blank(call.phone_number)
    call.full_clean()
    call._history_user = by
    call.save()
    return call
