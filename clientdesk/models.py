"""Shared pieces every app uses."""

from datetime import timedelta

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class TimeStampedModel(models.Model):
    """Adds when a row was created and last changed."""

    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False, db_index=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True


class Heartbeat(models.Model):
    """The last time a periodic job ran; the health page reads it to tell whether beat and a worker are alive."""

    name = models.CharField(_("name"), max_length=64, unique=True)
    beat_at = models.DateTimeField(_("last run"))

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")

    def __str__(self) -> str:
        return f"{self.name} @ {self.beat_at:%Y-%m-%d %H:%M:%S}"


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class WorkingHours(models.Model):
    """The regular opening hours of one weekday; a weekday without a row is a day off."""

    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices, unique=True)
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("working hours")
        verbose_name_plural = _("working hours")
        ordering = ["weekday"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(opens__lt=models.F("closes")),
                name="working_hours_open_before_close",
                violation_error_message=_("Opening time must be before closing time."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"


class CalendarDay(models.Model):
    """An exception to the regular week: a public holiday, a shortened day, or a day off that is worked."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("Holiday (closed)")
        SHORT = "short", _("Short day")
        WORKING = "working", _("Working day off")

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    opens = models.TimeField(_("opens"), null=True, blank=True)
    closes = models.TimeField(_("closes"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("calendar exception")
        verbose_name_plural = _("calendar exceptions")
        ordering = ["date"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="holiday")
                | models.Q(opens__isnull=False, closes__isnull=False, opens__lt=models.F("closes")),
                name="calendar_day_hours_given",
                violation_error_message=_("A short or working day needs its opening and closing times."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.get_kind_display()}"


class NotificationQuerySet(models.QuerySet):
    def unread(self):
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """A message for one user that appears in the page header without a reload (e.g. 'your client has arrived')."""

    user = models.ForeignKey(
        "accounts.User", verbose_name=_("user"), on_delete=models.CASCADE, related_name="notifications"
    )
    title = models.CharField(_("title"), max_length=200)
    body = models.CharField(_("text"), max_length=500, blank=True)
    url = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    # Also sent by e-mail (clientdesk.notify): wanted when made, stamped once the mail went out.
    email_wanted = models.BooleanField(_("also by e-mail"), default=False)
    emailed_at = models.DateTimeField(_("e-mailed"), null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="notification_user_idx"),
            models.Index(fields=["user"], condition=models.Q(read_at__isnull=True), name="notification_unread_idx"),
            models.Index(
                fields=["created_at"],
                condition=models.Q(email_wanted=True, emailed_at__isnull=True),
                name="notification_mail_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class FormToken(models.Model):
    """A form's one-time token, spent by the first submission that saved something: a second POST with it (a retry
    after a network blip or a 500, a double click) is sent to what the first one saved instead of saving it again.

    The row is written in the same transaction as the record it stands for, so a submission that failed leaves no
    token behind and its retry saves. The unique token decides between two submissions racing with it. Beat purges
    the rows of old forms (`clientdesk.tasks.purge_form_tokens`).
    """

    token = models.UUIDField(_("token"), unique=True)
    user = models.ForeignKey(
        "accounts.User", verbose_name=_("user"), on_delete=models.CASCADE, null=True, related_name="+"
    )
    content_type = models.ForeignKey(
        "contenttypes.ContentType", verbose_name=_("record type"), on_delete=models.CASCADE, null=True, related_name="+"
    )
    object_id = models.PositiveBigIntegerField(_("record id"), null=True)
    url = models.CharField(_("link"), max_length=300)
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("form token")
        verbose_name_plural = _("form tokens")

    def __str__(self) -> str:
        return str(self.token)


class IdempotencyKey(models.Model):
    """An API POST sent with an `Idempotency-Key` header, and the answer it got (clientdesk.api.BaseViewSet).

    The row commits in the same transaction as whatever the request wrote, so a key is either spent with its answer
    or not spent at all: a retry after a timeout gets the stored answer instead of writing twice; a retry of a request
    that failed (5xx, a dropped connection before commit) runs again. A second request racing with the first waits on
    the unique index until the first commits, then gets its answer. Kept for a day (`KEEP`), purged by beat.
    """

    KEEP = timedelta(hours=24)
    MAX_LENGTH = 255

    user = models.ForeignKey("accounts.User", verbose_name=_("user"), on_delete=models.CASCADE, related_name="+")
    key = models.CharField(_("key"), max_length=MAX_LENGTH)
    fingerprint = models.CharField(_("request fingerprint"), max_length=64)
    status_code = models.PositiveSmallIntegerField(_("answer status"), null=True)
    body = models.JSONField(_("answer"), null=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique")]

    def __str__(self) -> str:
        return self.key
