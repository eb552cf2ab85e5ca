"""The one business calendar every rule asks: the time zone, working days and hours, the calling window.

Working hours come from `WorkingHours` (the regular week) and `CalendarDay` (holidays, short days, days off worked),
which the department head maintains. A `BusinessCalendar` loads the rows for a date range once, so a page that asks
about a whole week makes two queries, not one per day.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from clientdesk.models import CalendarDay, WorkingHours


def local_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def local_date(moment: datetime) -> date:
    return timezone.localtime(moment, local_zone()).date()


def at(day: date, clock: time) -> datetime:
    """An aware datetime: this wall-clock time on this day in the dealership's zone."""
    return datetime.combine(day, clock, tzinfo=local_zone())


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """[start, end) of a local calendar day, as aware datetimes."""
    return at(day, time.min), at(day + timedelta(days=1), time.min)


@dataclass(frozen=True)
class DayHours:
    day: date
    opens: time
    closes: time
    note: str = ""

    @property
    def start(self) -> datetime:
        return at(self.day, self.opens)

    @property
    def end(self) -> datetime:
        return at(self.day, self.closes)

    @property
    def minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)


class BusinessCalendar:
    """Working hours of every day in [first, last]; days outside are loaded on demand."""

    LOOKAHEAD_DAYS = 60

    def __init__(self, first: date, last: date | None = None):
        self._weekly = {row.weekday: row for row in WorkingHours.objects.all()}
        self._exceptions: dict[date, CalendarDay] = {}
        self._loaded: tuple[date, date] | None = None
        self._load(first, last or first)

    def _load(self, first: date, last: date) -> None:
        if self._loaded and self._loaded[0] <= first and last <= self._loaded[1]:
            return
        if self._loaded:
            first, last = min(first, self._loaded[0]), max(last, self._loaded[1])
        self._exceptions = {row.date: row for row in CalendarDay.objects.filter(date__range=(first, last))}
        self._loaded = (first, last)

    def hours(self, day: date) -> DayHours | None:
        """The day's opening hours, or None when the workshop is closed."""
        self._load(day, day)
        exception = self._exceptions.get(day)
        if exception is not None:
            if exception.kind == CalendarDay.Kind.HOLIDAY:
                return None
            return DayHours(day, exception.opens, exception.closes, exception.note)
        regular = self._weekly.get(day.weekday())
        return DayHours(day, regular.opens, regular.closes) if regular else None

    def is_working_day(self, day: date) -> bool:
        return self.hours(day) is not None

    def next_working_day(self, day: date, *, include: bool = False) -> date:
        """The first working day after `day` (or `day` itself with include=True)."""
        candidate = day if include else day + timedelta(days=1)
        self._load(candidate, candidate + timedelta(days=self.LOOKAHEAD_DAYS))
        for _ in range(366):
            if self.is_working_day(candidate):
                return candidate
            candidate += timedelta(days=1)
        raise ValueError("No working day within a year: check the working hours.")

    def previous_working_day(self, day: date) -> date:
        candidate = day - timedelta(days=1)
        self._load(candidate - timedelta(days=self.LOOKAHEAD_DAYS), candidate)
        for _ in range(366):
            if self.is_working_day(candidate):
                return candidate
            candidate -= timedelta(days=1)
        raise ValueError("No working day within a year: check the working hours.")

    def working_days(self, first: date, last: date) -> list[DayHours]:
        self._load(first, last)
        days = (first + timedelta(days=n) for n in range((last - first).days + 1))
        return [hours for day in days if (hours := self.hours(day)) is not None]
