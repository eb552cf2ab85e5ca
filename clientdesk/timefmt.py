"""Times as a person reads them: in the dealership's time zone (settings.TIME_ZONE) and in the interface language's
formats (DATETIME_FORMAT, DATE_FORMAT, TIME_FORMAT; clientdesk/formats/en for English, Django's for Russian).

Every message, notification, e-mail and history line that shows a moment goes through these, never through an
f-string, `strftime` or `isoformat` (which print the database's UTC or a format of their own).
"""

from datetime import date, datetime, time

from django.utils import formats, timezone

from clientdesk.calendar import local_zone


def _local(value: datetime) -> datetime:
    return timezone.localtime(value, local_zone()) if timezone.is_aware(value) else value


def local_datetime_text(value: datetime) -> str:
    """'7 December 2026, 09:00' / '7 декабря 2026 г. 9:00'."""
    return formats.date_format(_local(value), "DATETIME_FORMAT")


def local_date_text(value: datetime | date) -> str:
    """'7 December 2026' / '7 декабря 2026 г.'; a moment counts on the dealership's calendar day."""
    if isinstance(value, datetime):
        value = _local(value).date()
    return formats.date_format(value, "DATE_FORMAT")


def local_time_text(value: datetime | time) -> str:
    """'09:00' / '9:00': the clock time of a moment in the dealership's zone, or a time of day as it is."""
    if isinstance(value, datetime):
        value = _local(value).time()
    return formats.time_format(value, "TIME_FORMAT")
