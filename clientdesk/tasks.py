"""Project-wide tasks: a liveness signal that proves the worker and beat are running."""

from celery import shared_task
from django.utils import timezone

from .models import Heartbeat


@shared_task(ignore_result=False)
def ping() -> str:
    """Answers 'pong'; the smoke tests send it to see a real worker take and run a task."""
    return "pong"


@shared_task
def heartbeat() -> str:
    """Run by beat every minute; the health endpoint reports the time of the last one."""
    now = timezone.now()
    Heartbeat.objects.update_or_create(name="beat", defaults={"beat_at": now})
    return now.isoformat()
