"""The business calendar is read once and kept in the shared cache (clientdesk.calendar): a page asks the database
nothing about it while the entry lives, and a change of the week or of a day shows on the very next read."""

from datetime import date, time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clientdesk.calendar import CALENDAR_CACHE_KEY, BusinessCalendar
from clientdesk.models import CalendarDay, WorkingHours

pytestmark = pytest.mark.django_db

MONDAY = date(2026, 3, 2)


def calendar_queries(read) -> int:
    with CaptureQueriesContext(connection) as queries:
        read()
    return sum("clientdesk_calendarday" in q["sql"] or "clientdesk_workinghours" in q["sql"] for q in queries)


def test_once_read_the_calendar_asks_the_database_nothing(auth_cache):
    assert calendar_queries(lambda: BusinessCalendar().hours(MONDAY)) == 2
    assert calendar_queries(lambda: BusinessCalendar().next_working_day(MONDAY)) == 0


def test_without_the_cache_each_calendar_reads_the_two_tables():
    assert calendar_queries(lambda: BusinessCalendar().hours(MONDAY)) == 2
    assert calendar_queries(lambda: BusinessCalendar().hours(MONDAY)) == 2


def test_a_new_holiday_shows_on_the_next_read(auth_cache, django_capture_on_commit_callbacks):
    assert BusinessCalendar().is_working_day(MONDAY)
    with django_capture_on_commit_callbacks(execute=True):
        CalendarDay.objects.create(date=MONDAY, kind=CalendarDay.Kind.HOLIDAY, note="Closed for stocktaking")
    assert not BusinessCalendar().is_working_day(MONDAY)
    # and, while the change's mark lives, a read from the database does not put an entry back
    assert calendar_queries(lambda: BusinessCalendar()) == 2
    assert calendar_queries(lambda: BusinessCalendar()) == 2


def test_new_weekly_hours_show_on_the_next_read(auth_cache, django_capture_on_commit_callbacks):
    BusinessCalendar()
    assert auth_cache.get(CALENDAR_CACHE_KEY) is not None
    row = WorkingHours.objects.get(weekday=MONDAY.weekday())
    with django_capture_on_commit_callbacks(execute=True):
        row.opens = time(7, 30)
        row.save()
    assert BusinessCalendar().hours(MONDAY).opens == time(7, 30)


def test_a_removed_day_off_shows_on_the_next_read(auth_cache, django_capture_on_commit_callbacks):
    day = CalendarDay.objects.create(date=MONDAY, kind=CalendarDay.Kind.HOLIDAY)
    assert not BusinessCalendar().is_working_day(MONDAY)
    with django_capture_on_commit_callbacks(execute=True):
        day.delete()
    assert BusinessCalendar().is_working_day(MONDAY)


def test_the_change_s_own_transaction_reads_the_new_calendar(auth_cache):
    """A service that adds a holiday and then plans in the same transaction plans around it (the entry was dropped
    only on commit, so it planned from the cached week)."""
    assert BusinessCalendar().is_working_day(MONDAY)
    CalendarDay.objects.create(date=MONDAY, kind=CalendarDay.Kind.HOLIDAY)
    assert not BusinessCalendar().is_working_day(MONDAY)
