"""The webhooks' Celery task: thin, safe to run twice (each delivery is taken under a row lock, SKIP LOCKED)."""

from celery import shared_task

from webhooks.services import deliver_due


@shared_task(acks_late=True, soft_time_limit=240, time_limit=300)
def deliver_webhooks() -> int:
    """Queued after each commit that owes a delivery and after each failure (with its backoff as countdown); beat
    runs it every minute too, to catch a message the broker lost."""
    return deliver_due()
