"""The one business calendar every rule asks: the time zone, working days and hours, the calling window.

Working hours come from `WorkingHours` (the regular week) and `CalendarDay` (holidays, short days, days off worked),
which the department head maintains: a few dozen rows a year that change a few times a year, and that nearly every
page asks about (the board, the calendar, free slots, the claims' due states). So the whole calendar is read in two
queries and kept in the shared cache (clientdesk.caching: Redis in production) as plain values; a `BusinessCalendar`
asks the cache first. A change of either table, once committed, leaves a "gone" mark in place of the entry: every
request reads the database again until the mark expires (AUTH_CACHE_SECONDS), so a request that read the old rows
just before the change cannot put them back after it. A cache that errs or is switched off (the tests) is a miss.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from clientdesk.caching import cached_read, forget_changed
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


@dataclass(frozen=True)
class CalendarRules:
    """The whole calendar as plain values: each weekday's hours, and each exceptional day's (None: closed)."""

    weekly: dict[int, tuple[time, time]]
    exceptions: dict[date, DayHours | None]

    @classmethod
    def read(cls) -> "CalendarRules":
        exceptions = {
            row.date: None
            if row.kind == CalendarDay.Kind.HOLIDAY
            else DayHours(row.date, row.opens, row.closes, row.note)
            for row in CalendarDay.objects.all()
        }
        return cls({row.weekday: (row.opens, row.closes) for row in WorkingHours.objects.all()}, exceptions)


CALENDAR_CACHE_KEY = "clientdesk.calendar.v1"


def calendar_rules(entries: dict | None = None) -> CalendarRules:
    """The calendar from the shared cache, or read (two queries) and put there where nothing is. `entries`: what the
    caller already fetched from the cache with other rules in one round trip (`cache_get_many`), looked up instead."""
    return cached_read(CALENDAR_CACHE_KEY, CalendarRules.read, entries)


def _forget_calendar(**_kwargs) -> None:
    forget_changed([CALENDAR_CACHE_KEY])


for _model in (WorkingHours, CalendarDay):
    post_save.connect(_forget_calendar, sender=_model, dispatch_uid=f"forget-calendar-{_model.__name__}-saved")
    post_delete.connect(_forget_calendar, sender=_model, dispatch_uid=f"forget-calendar-{_model.__name__}-deleted")


class BusinessCalendar:
    """Working hours of any day, from the calendar's rules (read once per calendar: from the cache, or two queries;
    or given, when the caller fetched them with other entries)."""

    def __init__(self, rules: CalendarRules | None = None):
        self._rules = rules or calendar_rules()

    def hours(self, day: date) -> DayHours | None:
        """The day's opening hours, or None when the workshop is closed."""
        if day in self._rules.exceptions:
            return self._rules.exceptions[day]
        regular = self._rules.weekly.get(day.weekday())
        return DayHours(day, *regular) if regular else None

    def is_working_day(self, day: date) -> bool:
        return self.hours(day) is not None

    def next_working_day(self, day: date, *, include: bool = False) -> date:
        """The first working day after `day` (or `day` itself with include=True)."""
        candidate = day if include else day + timedelta(days=1)
        for _ in range(366):
            if self.is_working_day(candidate):
                return candidate
            candidate += timedelta(days=1)
        raise ValueError("No working day within a year: check the working hours.")

    def previous_working_day(self, day: date) -> date:
        candidate = day - timedelta(days=1)
        for _ in range(366):
            if self.is_working_day(candidate):
                return candidate
            candidate -= timedelta(days=1)
        raise ValueError("No working day within a year: check the working hours.")

    def working_days(self, first: date, last: date) -> list[DayHours]:
        days = (first + timedelta(days=n) for n in range((last - first).days + 1))
        return [hours for day in days if (hours := self.hours(day)) is not None]
