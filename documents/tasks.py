"""Beat's jobs for the paper (thin: the services do the work; each is safe to run twice)."""

from celery import shared_task

from documents.services import expected, mail


@shared_task(acks_late=True, soft_time_limit=240, time_limit=300)
def flag_late_papers() -> int:
    """Tell the head about deliveries whose signed papers are late (once per delivery)."""
    return expected.flag_late_papers()


@shared_task(acks_late=True, soft_time_limit=120, time_limit=180)
def flag_unhanded_mail() -> int:
    """Tell the head about correspondence not handed over for more than a day (once per item)."""
    return mail.flag_unhanded_mail()
