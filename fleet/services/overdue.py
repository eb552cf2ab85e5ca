"""Cars not back when due: flagged once each, announced as `LoanerReturnOverdue` (the calls app makes one callback
task for the client). Beat runs it every few minutes; a second run finds nothing new (the flag is the row's)."""

from datetime import datetime

from django.db import transaction

from clientdesk import events
from fleet.events import LoanerReturnOverdue
from fleet.models import Reservation

BATCH = 200


def overdue_returns_flag(*, now: datetime) -> int:
    """Flag the reservations out past their return time, in bounded batches; returns how many were flagged."""
    flagged = 0
    while True:
        with transaction.atomic():
            batch = list(
                Reservation.objects.select_for_update(skip_locked=True)
                .filter(status=Reservation.Status.OUT, ends_at__lt=now, overdue_flagged_at__isnull=True)
                .order_by("ends_at", "id")
                .only("id", "client_id")[:BATCH]
            )
            if not batch:
                return flagged
            Reservation.objects.filter(pk__in=[r.pk for r in batch]).update(overdue_flagged_at=now)
            for reservation in batch:
                events.publish(LoanerReturnOverdue(reservation_id=reservation.pk, client_id=reservation.client_id))
            flagged += len(batch)
