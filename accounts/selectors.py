"""Reads for the users' pages: who and which addresses are locked out of signing in, and until when."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from axes.models import AccessAttempt
from django.conf import settings
from django.utils import timezone

from accounts.models import SecurityEventKind, User

LockKind = Literal["username", "ip_address"]


def _locked_until(attempts: list[tuple[datetime, int]]) -> datetime | None:
    """django-axes counts the failures of the attempt rows newer than the cool-off time; so the lock ends when enough
    of the oldest rows have aged out for the count to drop below the limit. `attempts` are (time, failures), oldest
    first."""
    total = sum(failures for _time, failures in attempts)
    if total < settings.AXES_FAILURE_LIMIT:
        return None
    for attempt_time, failures in attempts:
        total -= failures
        if total < settings.AXES_FAILURE_LIMIT:
            return attempt_time + settings.AXES_COOLOFF_TIME
    return None


def locked_out(*, by: LockKind, value: str | None = None) -> dict[str, datetime]:
    """{username or address: locked until} for every lock in force now (or only for `value`)."""
    rows = AccessAttempt.objects.filter(attempt_time__gte=timezone.now() - settings.AXES_COOLOFF_TIME)
    if value is not None:
        rows = rows.filter(**{by: value})
    grouped: dict[str, list[tuple[datetime, int]]] = defaultdict(list)
    for key, attempt_time, failures in rows.order_by("attempt_time").values_list(
        by, "attempt_time", "failures_since_start"
    ):
        if key:
            grouped[key].append((attempt_time, failures))
    return {key: until for key, attempts in grouped.items() if (until := _locked_until(attempts))}


@dataclass(frozen=True)
class SecurityEvent:
    when: datetime
    by: User | None
    what: str


def security_events(*, user: User, limit: int = 10) -> list[SecurityEvent]:
    """Unlocks and reset links sent by the head, newest first (kept in the user's history with a reason code)."""
    rows = (
        user.history.filter(history_change_reason__in=SecurityEventKind.values)
        .select_related("history_user")
        .order_by("-history_date")[:limit]
    )
    return [
        SecurityEvent(row.history_date, row.history_user, SecurityEventKind(row.history_change_reason).label)
        for row in rows
    ]
