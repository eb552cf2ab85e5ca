"""Celery tasks of the reports app: thin wrappers that take ids, call a service and are safe to run twice."""

from celery import shared_task

from reports.services.exports import export_build, exports_purge
from reports.services.fixed import weekly_report_mail
from reports.services.rollups import rollups_refresh


@shared_task(acks_late=True, soft_time_limit=600, time_limit=660)
def build_export(pk: int) -> int | None:
    """Build a long export asked for on a list page (queued by `export_defer`)."""
    row = export_build(pk=pk)
    return row.rows if row else None


@shared_task(acks_late=True, soft_time_limit=120, time_limit=180)
def purge_exports() -> int:
    """Beat, every 5 minutes: the export files older than a day go; lost queued exports are queued again."""
    return exports_purge()


@shared_task(acks_late=True, soft_time_limit=300, time_limit=360)
def mail_weekly_report() -> bool:
    """Beat, hourly: last week's summary to its recipients, once (the first run after the week's end sends it)."""
    return weekly_report_mail()


@shared_task(acks_late=True, soft_time_limit=600, time_limit=660)
def refresh_rollups() -> int:
    """Beat, hourly: the last two days' roll-up again, and missing days filled a batch at a time."""
    return len(rollups_refresh())
