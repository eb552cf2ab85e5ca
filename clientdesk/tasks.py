"""Project-wide tasks: a liveness signal that proves the worker and beat are running; retries of domain events; the
purge of old form tokens."""

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from clientdesk import events, notify
from clientdesk.models import FormToken, Heartbeat, IdempotencyKey


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


# A form is sent within minutes of being shown; two days on, its token guards nothing (a page that old is reloaded).
FORM_TOKEN_KEEP = timedelta(days=2)


def purge_older_than(model, cutoff, batch_size: int) -> int:
    """Delete the rows of `model` created before `cutoff`, in bounded batches (no long lock on a busy table)."""
    deleted = 0
    while True:
        ids = list(model.objects.filter(created_at__lt=cutoff).values_list("pk", flat=True)[:batch_size])
        if not ids:
            return deleted
        deleted += model.objects.filter(pk__in=ids).delete()[0]


@shared_task(soft_time_limit=120, time_limit=180)
def purge_form_tokens(batch_size: int = 5000) -> int:
    """Delete the spent form tokens of old forms (SubmitOnceMixin) and the API's idempotency keys past their day;
    run by beat every hour."""
    deleted = purge_older_than(FormToken, timezone.now() - FORM_TOKEN_KEEP, batch_size)
    return deleted + purge_older_than(IdempotencyKey, timezone.now() - IdempotencyKey.KEEP, batch_size)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5, soft_time_limit=120, time_limit=180)
def send_notification_emails() -> int:
    """Send the notifications' wanted e-mails (`clientdesk.notify`): after the commit that made them, and every minute
    from beat for any whose message the broker lost."""
    return notify.send_due_emails()
