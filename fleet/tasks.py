from celery import shared_task
from django.utils import timezone

from fleet.services.overdue import overdue_returns_flag


@shared_task(ignore_result=True, time_limit=120)
def flag_overdue_returns() -> int:
    """Beat: flag the cars not back when due (idempotent: each reservation is flagged once)."""
    return overdue_returns_flag(now=timezone.now())
