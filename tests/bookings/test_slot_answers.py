"""`free_slots` answers what the plain definition answers, on a tricky day: a short day, advisors with different slot
lengths (one with no bookings, one inactive), a booking running over from the evening before, bookings ending exactly
where a slot starts and starting exactly where one ends, a cancelled and a no-show booking (which free their time),
a booking left out (a move), and a "not before" in the middle of the day. Its PostgreSQL query (one round trip, the
sweep over plain numbers) and its portable path (the ORM, for SQLite) both give exactly the reference's slots."""

import types
from datetime import time, timedelta

import pytest

from bookings.models import Booking
from bookings.selectors import slots as selector
from clientdesk.calendar import BusinessCalendar, at
from clientdesk.models import CalendarDay
from tests.bookings.conftest import moment, working_day
from tests.factories import AdvisorProfileFactory, BookingFactory

pytestmark = pytest.mark.django_db


def reference(*, day, area, planned_minutes, advisor=None, exclude_booking=None, not_before=None):
    """The definition, slot by slot: a slot of each active advisor's length from opening to closing is free when it
    starts no earlier than `not_before` and no occupying booking of the advisor overlaps it."""
    hours = BusinessCalendar().hours(day)
    if hours is None:
        return []
    if selector.area_minutes_used(area, day, exclude_booking=exclude_booking) + planned_minutes > (
        area.daily_capacity_minutes
    ):
        return []
    found = []
    for profile in selector.active_advisors(advisor):
        busy = Booking.objects.occupying().filter(advisor=profile.user)
        if exclude_booking is not None:
            busy = busy.exclude(pk=exclude_booking.pk)
        busy = list(busy.values_list("starts_at", "advisor_until"))
        length = timedelta(minutes=profile.slot_minutes)
        moment_ = hours.start
        while moment_ + length <= hours.end:
            ends = moment_ + length
            clash = any(start < ends and until > moment_ for start, until in busy)
            if not clash and moment_ >= (not_before or hours.start):
                found.append(selector.Slot(profile.user_id, str(profile.user), moment_, ends))
            moment_ = ends
    return sorted(found, key=lambda s: (s.starts_at, s.advisor_name))


def portable(**kwargs):
    """The same call through the ORM path the embedded SQLite database takes."""
    real = selector.connection
    selector.connection = types.SimpleNamespace(vendor="sqlite")
    try:
        return selector.free_slots(**kwargs)
    finally:
        selector.connection = real


def visit(advisor, starts_at, until, **fields):
    """The advisor's slot from `starts_at` until `until`."""
    return BookingFactory(advisor=advisor, starts_at=starts_at, advisor_until=until, **fields)


@pytest.fixture
def tricky_day(area):
    day = working_day(3)
    CalendarDay.objects.create(date=day, kind=CalendarDay.Kind.SHORT, opens=time(9), closes=time(17, 45))
    half = AdvisorProfileFactory(user__username="half", user__first_name="Иван", user__last_name="Антонов").user
    quarter = AdvisorProfileFactory(user__username="quarter", user__last_name="Борисов", slot_minutes=15).user
    AdvisorProfileFactory(user__username="idle", user__last_name="Васильев", slot_minutes=45)
    AdvisorProfileFactory(user__username="away", user__last_name="Аксёнов", is_active=False)
    # Named as `half` is: where both are free at one time, they keep their order (by id), as before.
    same_name = AdvisorProfileFactory(user__username="twin", user__first_name="Иван", user__last_name="Антонов").user
    # From the evening before until 09:30: the first slot is taken, the next is free.
    visit(half, at(day - timedelta(days=1), time(23, 40)), moment(day, 9, 30), area=area)
    # Ends exactly at 11:00 and another starts exactly at 12:00: 11:00–11:30 and 11:30–12:00 stay free.
    visit(half, moment(day, 10), moment(day, 11), area=area)
    visit(half, moment(day, 12), moment(day, 12, 45), area=area)
    visit(quarter, moment(day, 9, 5), moment(day, 9, 20), area=area)  # off the grid: two slots
    visit(quarter, moment(day, 17, 30), moment(day, 18, 30), area=area)  # over closing time
    visit(same_name, moment(day, 14), moment(day, 15), area=area, status=Booking.Status.CANCELLED)
    visit(same_name, moment(day, 15), moment(day, 16), area=area, status=Booking.Status.NO_SHOW)
    moved = visit(same_name, moment(day, 16), moment(day, 17), area=area)
    return types.SimpleNamespace(day=day, half=half, quarter=quarter, moved=moved)


@pytest.mark.parametrize(
    "variant",
    ["plain", "one advisor", "a visit moved", "not before noon", "no room for a long job"],
)
def test_free_slots_answer_as_the_definition_on_a_tricky_day(tricky_day, area, variant):
    day = tricky_day.day
    kwargs = {"day": day, "area": area, "planned_minutes": 60}
    if variant == "one advisor":
        kwargs["advisor"] = tricky_day.quarter
    elif variant == "a visit moved":
        kwargs["exclude_booking"] = tricky_day.moved
    elif variant == "not before noon":
        kwargs["not_before"] = moment(day, 12, 10)
    elif variant == "no room for a long job":
        used = selector.area_minutes_used(area, day)
        assert used == 5 * 60  # the day's occupying visits (the one from the evening before counts on its own day)
        kwargs["planned_minutes"] = area.daily_capacity_minutes - used + 1
    expected = reference(**kwargs)
    assert selector.free_slots(**kwargs) == expected
    assert portable(**kwargs) == expected
    if variant == "no room for a long job":
        assert expected == []
    else:
        assert expected, "the day must offer slots for the comparison to say something"


def test_the_tricky_days_slots_are_the_ones_a_person_would_name(tricky_day, area):
    day = tricky_day.day
    slots = selector.free_slots(day=day, area=area, planned_minutes=60, not_before=moment(day, 9))
    half = {s.starts_at.time() for s in slots if s.advisor_id == tricky_day.half.pk}
    quarter = {s.starts_at.time() for s in slots if s.advisor_id == tricky_day.quarter.pk}
    assert time(9) not in half and time(9, 30) in half
    assert {time(10), time(10, 30)}.isdisjoint(half) and {time(11), time(11, 30)} <= half
    assert time(12) not in half and time(12, 30) not in half and time(12, 45) not in half and time(13) in half
    assert {time(9), time(9, 15)}.isdisjoint(quarter) and time(9, 30) in quarter
    assert time(17, 15) in quarter and time(17, 30) not in quarter  # the short day closes at 17:45
    assert max(s.ends_at for s in slots) <= moment(day, 17, 45)
