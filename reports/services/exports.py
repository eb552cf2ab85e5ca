"""The export log and the exports built in the background (the journal `clientdesk.exports` is given in
ReportsConfig.ready()).

- `export_record`: an export built in the request, written to the log as it ended.
- `export_defer`: a long export queued: a row in the log (queued) and a task to build it; the user is sent to its
  progress page.
- `export_build`: the task's work. It claims the row (queued → being built) under a lock, so a second run of the
  same message does nothing; rebuilds the list view with the user's filter; writes the file under MEDIA_ROOT with a
  generated name, its progress on the row every thousand rows; done, or failed with the reason.
- `exports_purge`: beat's sweep every few minutes: files finished more than `EXPORT_KEEP` ago are deleted (the log
  row stays, "file removed"); builds that died with their worker (running longer than `STALE_BUILD`) are marked
  failed; a queued export whose message the broker lost (still queued after `REQUEUE_AFTER`) is queued again - the
  claim makes a second message harmless - and one nobody built within `EXPORT_KEEP` is marked failed, so its
  progress page never polls forever.
"""

import logging
import uuid
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from clientdesk.celery import send_after_commit
from clientdesk.exports import ExportRequest, rebuild_view
from reports.models import Export

log = logging.getLogger(__name__)

EXPORT_KEEP = timedelta(days=1)
STALE_BUILD = timedelta(hours=1)  # a build begun this long ago and still "being built" lost its worker
REQUEUE_AFTER = timedelta(minutes=5)  # a queued export not begun by then: its message is sent again


def export_record(export: ExportRequest, rows: int, status: str) -> Export:
    return Export.objects.create(
        user_id=export.user_id,
        list_name=export.list_name,
        format=export.kind,
        filter=export.filter,
        status=status,
        rows=rows,
        finished_at=timezone.now(),
    )


@transaction.atomic
def export_defer(export: ExportRequest, total: int) -> str:
    """Queue the export; the URL of its progress page."""
    row = Export.objects.create(
        user_id=export.user_id,
        list_name=export.list_name,
        format=export.kind,
        filter=export.filter,
        view=export.view,
        view_kwargs=export.view_kwargs,
        status=Export.Status.QUEUED,
        total=total,
    )
    send_after_commit("reports.tasks.build_export", row.pk)
    return reverse("reports:export-detail", args=[row.pk])


def _claim(pk: int) -> Export | None:
    with transaction.atomic():
        row = Export.objects.select_for_update().filter(pk=pk, status=Export.Status.QUEUED).first()
        if row is None:
            return None  # built, building or gone: a second delivery of the message does nothing
        row.status = Export.Status.RUNNING
        row.started_at = timezone.now()
        row.save(update_fields=["status", "started_at"])
        return row


def export_build(*, pk: int) -> Export | None:
    row = _claim(pk)
    if row is None:
        return None
    name = f"exports/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.{row.format}"
    path = Path(settings.MEDIA_ROOT) / name
    try:
        user = User.objects.get(pk=row.user_id)
        request = ExportRequest(
            user_id=user.pk,
            username=user.username,
            list_name=row.list_name,
            kind=row.format,
            filter=row.filter,
            view=row.view,
            view_kwargs=row.view_kwargs,
        )
        view = rebuild_view(request, user)
        path.parent.mkdir(parents=True, exist_ok=True)

        def progress(rows: int) -> None:
            Export.objects.filter(pk=pk).update(rows=rows)

        count = view.write_export(row.format, path, progress)
    except Exception as exc:  # noqa: BLE001 - whatever broke, the user sees "failed", and the log has it
        log.exception("Export %s failed", pk)
        path.unlink(missing_ok=True)
        Export.objects.filter(pk=pk).update(
            status=Export.Status.FAILED, error=str(exc)[:300], finished_at=timezone.now()
        )
        return None
    Export.objects.filter(pk=pk).update(status=Export.Status.DONE, rows=count, file=name, finished_at=timezone.now())
    logging.getLogger("clientdesk.security").info(
        "Export: user=%s list=%s format=%s rows=%d filter=%s",
        user.username,
        row.list_name,
        row.format.upper(),
        count,
        row.filter or "-",
    )
    return Export.objects.get(pk=pk)


def exports_purge(*, now=None) -> int:
    """Delete the files finished more than a day ago (the log rows stay); fail builds that lost their worker; queue
    again what the broker lost. Safe to run any number of times; the number of files removed."""
    now = now or timezone.now()
    Export.objects.filter(status=Export.Status.RUNNING, started_at__lt=now - STALE_BUILD).update(
        status=Export.Status.FAILED, error="The build stopped (the worker went away).", finished_at=now
    )
    Export.objects.filter(status=Export.Status.QUEUED, created_at__lt=now - EXPORT_KEEP).update(
        status=Export.Status.FAILED, error="The build never started (no worker took it).", finished_at=now
    )
    for pk in Export.objects.filter(status=Export.Status.QUEUED, created_at__lt=now - REQUEUE_AFTER).values_list(
        "pk", flat=True
    ):
        # expires: a copy not taken before the next sweep is dropped, so a slow queue is not flooded with copies
        send_after_commit("reports.tasks.build_export", pk, options={"expires": REQUEUE_AFTER.total_seconds()})
    purged = 0
    for row in Export.objects.filter(finished_at__lt=now - EXPORT_KEEP).exclude(file=""):
        row.file.delete(save=False)
        Export.objects.filter(pk=row.pk).update(file="", status=Export.Status.EXPIRED)
        purged += 1
    return purged
