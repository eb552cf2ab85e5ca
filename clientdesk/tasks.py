"""Project-wide tasks: a liveness signal that proves the worker and beat are running; retries of domain events."""

from celery import shared_task
from django.utils import timezone

from clientdesk import events
from clientdesk.models import Heartbeat


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


# A failed reaction is tried again after 1, 2, 4, 8 and 16 minutes, then left in the log: by then it is no passing
# fault, and the planners' next runs put the calls right from the database anyway.
REDELIVER_RETRIES = 5


@shared_task(bind=True, acks_late=True, max_retries=REDELIVER_RETRIES, soft_time_limit=60, time_limit=90)
def redeliver_event(self, event_name: str, payload: dict, handler_name: str) -> bool:
    """Run again one subscriber that failed on a domain event (`clientdesk.events`)."""
    if events.redeliver(event_name, payload, handler_name):
        return True
    raise self.retry(countdown=60 * 2**self.request.retries)
