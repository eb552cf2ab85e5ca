"""Claims' periodic job (scheduled in CELERY_BEAT_SCHEDULE): thin, the service does the work."""

from celery import shared_task

from claims.services import claims_watch_deadlines


@shared_task(acks_late=True, soft_time_limit=120, time_limit=180)
def watch_claim_deadlines() -> int:
    return claims_watch_deadlines()
