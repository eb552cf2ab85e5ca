"""The reports app's own records: the export log (every list exported, and the files built in the background), who
gets the weekly report, and which weekly reports have gone out (one row per report and week, claimed before
sending, so two beats send one mail)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Being built")
    DONE = "done", _("Done")
    INTERRUPTED = "interrupted", _("Download broken off")
    FAILED = "failed", pgettext_lazy("export", "Failed")
    EXPIRED = "expired", _("File removed")


class ExportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "XLSX"


class Export(models.Model):
    """One export of a list: who asked, when, which list and filter, how many rows, how it went. A long one is built
    by a task into `file` (under MEDIA_ROOT, a generated name), handed only to its user and purged after a day."""

    Status = ExportStatus
    Format = ExportFormat

    FINISHED = (Status.DONE, Status.INTERRUPTED, Status.FAILED, Status.EXPIRED)

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="exports", verbose_name=_("user")
    )
    list_name = models.CharField(_("list"), max_length=60)
    format = models.CharField(_("format"), max_length=4, choices=Format.choices)
    filter = models.TextField(_("filter"), blank=True)
    view = models.CharField(max_length=200, blank=True)  # the list view, for the task to rebuild it
    view_kwargs = models.JSONField(default=dict, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.DONE)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    total = models.PositiveIntegerField(_("rows expected"), null=True, blank=True)
    file = models.FileField(upload_to="exports", blank=True, max_length=200)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(_("asked at"), default=timezone.now)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)  # a background build began
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ExportStatus.values), name="export_status_known"),
            models.CheckConstraint(condition=Q(format__in=ExportFormat.values), name="export_format_known"),
            # A build under way says when it began (what the sweep judges a lost worker by).
            models.CheckConstraint(
                condition=~Q(status=ExportStatus.RUNNING) | Q(started_at__isnull=False), name="export_running_since"
            ),
        ]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="export_created_idx"),
            models.Index(fields=["finished_at"], condition=~Q(file=""), name="export_file_age_idx"),
            models.Index(
                fields=["created_at"],
                condition=Q(status__in=[ExportStatus.QUEUED, ExportStatus.RUNNING]),
                name="export_unfinished_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.list_name} {self.format} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return min(99, round(100 * self.rows / self.total)) if self.total else 0

    @property
    def download_name(self) -> str:
        return f"{self.list_name}-{timezone.localtime(self.created_at):%Y-%m-%d}.{self.format}"


class ReportRecipient(models.Model):
    """An address the weekly report is mailed to; the department head keeps the list."""

    email = models.EmailField(_("e-mail"), unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("report recipient")
        verbose_name_plural = _("report recipients")
        ordering = ["email"]
        # Stored in lower case (the service folds it), so the unique index is unique whatever the letter case.
        constraints = [models.CheckConstraint(condition=Q(email=Lower("email")), name="report_recipient_lower")]

    def __str__(self) -> str:
        return self.email


class ReportMailing(models.Model):
    """A fixed-form report mailed for a period: claimed (created) before the mail goes, unique per report and period,
    so a second beat, or the same task run twice, finds it and sends nothing."""

    report = models.CharField(max_length=20)
    period_start = models.DateField()
    claimed_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    recipients = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["report", "period_start"], name="report_mailing_once")]

    def __str__(self) -> str:
        return f"{self.report} {self.period_start}"


class RolledUpDay(models.Model):
    """A local calendar day the roll-ups hold, in the zone they were built in (a day in another zone is not used:
    after a change of TIME_ZONE the days are rebuilt)."""

    day = models.DateField(unique=True)
    zone = models.CharField(max_length=64)
    built_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.day} ({self.zone})"


class InboundCallHour(models.Model):
    """Inbound calls of one local day and hour taken by one manager (none: not recorded), with their seconds: what the
    dashboards' inbound tile sums for whole past days instead of scanning the calls."""

    day = models.DateField()
    hour = models.PositiveSmallIntegerField()
    manager_id = models.IntegerField(null=True)
    calls = models.PositiveIntegerField()
    seconds = models.BigIntegerField()

    class Meta:
        # One row per day, hour and manager, the calls of no recorded manager included: two partial unique indexes
        # (UNIQUE NULLS NOT DISTINCT says it in one, but SQLite, the embedded default, has no such thing).
        constraints = [
            models.UniqueConstraint(
                fields=["day", "hour", "manager_id"],
                condition=models.Q(manager_id__isnull=False),
                name="inbound_call_hour_once",
            ),
            models.UniqueConstraint(
                fields=["day", "hour"], condition=models.Q(manager_id__isnull=True), name="inbound_call_hour_once_none"
            ),
            models.CheckConstraint(condition=Q(hour__gte=0, hour__lte=23), name="inbound_call_hour_in_day"),
            models.CheckConstraint(condition=Q(calls__gt=0, seconds__gte=0), name="inbound_call_hour_counts"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.hour:02d}h {self.manager_id}: {self.calls}"
