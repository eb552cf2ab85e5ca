"""seed_large_bookings: the scale set of bookings keeps every rule a booking made through the services keeps, leaves
the schema as it found it, and is reused or reloaded as asked."""

from collections import defaultdict
from datetime import time

import pytest
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from accounts.roles import Role
from bench.management.commands.seed_large import Schema
from bench.management.commands.seed_large_bookings import MARKER
from bookings.models import AdvisorProfile, Booking, RecallVin, ServiceArea
from bookings.services.setup import working_week_set
from calls.models import Call
from clientdesk.calendar import BusinessCalendar, local_date
from clientdesk.models import Heartbeat
from tests.commands import run

SMALL_CLIENTS = {"clients": 300, "vehicles": 400, "calls": 500}
SMALL = {"bookings": 2000, "advisors": 6, "past_days": 40, "future_days": 14, "recall_share": 0.5}
WEEK = {weekday: (time(8), time(20)) for weekday in range(5)} | {5: (time(9), time(18)), 6: None}
TABLES = [Booking._meta.db_table, Booking.service_types.through._meta.db_table, RecallVin._meta.db_table]


def load(**options) -> str:
    return run("seed_large_bookings", verbosity=0, **{**SMALL, **options})


def schema_now() -> list[tuple]:
    with connection.cursor() as cursor:
        return Schema(cursor, TABLES).snapshot()


def overlapping_pairs() -> int:
    """Pairs of one advisor's occupying bookings whose slots overlap: what the exclusion constraint forbids."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*) FROM bookings_booking a JOIN bookings_booking b
              ON b.advisor_id = a.advisor_id AND b.id > a.id
             AND tstzrange(b.starts_at, b.advisor_until) && tstzrange(a.starts_at, a.advisor_until)
            WHERE a.status NOT IN ('cancelled', 'no_show') AND b.status NOT IN ('cancelled', 'no_show')
            """
        )
        return cursor.fetchone()[0]


@pytest.fixture
def clients_loaded(db):
    # A transactional test empties every table after it, the working week a migration made included.
    working_week_set(by=None, week=WEEK)
    run("seed_large", verbosity=0, **SMALL_CLIENTS)


@pytest.mark.django_db
def test_seed_large_bookings_refuses_sqlite_clearly():
    if connection.vendor == "postgresql":
        pytest.skip("checks the refusal on the embedded SQLite")
    with pytest.raises(CommandError, match="PostgreSQL"):
        run("seed_large_bookings", bookings=10)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_bookings_keep_every_rule(clients_loaded):
    schema_before = schema_now()

    load()

    bookings = list(Booking.objects.select_related("vehicle", "created_by"))
    assert len(bookings) == 2000
    # The advisors were made through the services, with the role and a reception slot each.
    slots = dict(AdvisorProfile.objects.filter(is_active=True).values_list("user_id", "slot_minutes"))
    assert len(slots) == 6
    assert all(b.advisor.role == Role.ADVISOR for b in Booking.objects.select_related("advisor")[:50])
    # No advisor holds two clients at once; the database's own constraint is back and agrees.
    assert overlapping_pairs() == 0
    assert schema_now() == schema_before
    # Every status, and what each status needs.
    statuses = {b.status for b in bookings}
    assert {Booking.Status.COMPLETED, Booking.Status.CANCELLED, Booking.Status.NO_SHOW} <= statuses
    assert {Booking.Status.SCHEDULED, Booking.Status.CONFIRMED} & statuses
    assert not Booking.objects.filter(status=Booking.Status.CANCELLED, cancel_reason="").exists()
    now = timezone.now()
    for booking in bookings:
        assert booking.planned_minutes > 0
        assert booking.starts_at < booking.advisor_until
        assert (booking.advisor_until - booking.starts_at).total_seconds() == 60 * slots[booking.advisor_id]
        assert booking.created_at <= now and booking.updated_at >= booking.created_at
        if booking.vehicle is not None:
            assert booking.vehicle.owner_id == booking.client_id
        if booking.starts_at > now:
            assert booking.status in (Booking.Status.SCHEDULED, Booking.Status.CONFIRMED, Booking.Status.CANCELLED)
        if booking.status in (Booking.Status.COMPLETED, Booking.Status.IN_SERVICE, Booking.Status.ARRIVED):
            assert booking.arrived_at is not None and booking.arrived_at <= now
        if booking.capacity_override_reason:
            assert booking.created_by.role == Role.HEAD
    # One or two services each.
    per_booking = Booking.objects.annotate(n=Count("service_types")).values_list("n", flat=True)
    assert set(per_booking) <= {1, 2}
    assert 1 in set(per_booking) and 2 in set(per_booking)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_bookings_lie_in_working_hours_and_mostly_within_capacity(clients_loaded):
    load()

    bookings = list(Booking.objects.all())
    days = [local_date(b.starts_at) for b in bookings]
    calendar = BusinessCalendar()
    used: dict[tuple, int] = defaultdict(int)
    overridden = set()
    for booking, day in zip(bookings, days, strict=True):
        hours = calendar.hours(day)
        assert hours is not None, f"booked on a closed day: {day}"
        assert hours.start <= booking.starts_at and booking.advisor_until <= hours.end
        if booking.status not in Booking.FREEING_STATUSES:
            used[(day, booking.area_id)] += booking.planned_minutes
            if booking.capacity_override_reason:
                overridden.add((day, booking.area_id))
    capacity = dict(ServiceArea.objects.values_list("id", "daily_capacity_minutes"))
    over = [key for key, minutes in used.items() if minutes > capacity[key[1]]]
    # Over capacity only where the head said so.
    assert set(over) <= overridden
    # Some days are full: the last booking an area could take that day is taken.
    assert sum(1 for (_day, area), minutes in used.items() if minutes > capacity[area] - 60) >= 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_bookings_leave_the_call_log_alone(clients_loaded):
    calls = Call.objects.count()

    load()
    load(exclusion="rebuild")

    assert Call.objects.count() == calls == 500
    assert Booking.objects.count() == 2000
    assert overlapping_pairs() == 0
    # Open recall campaigns over the loaded VINs, for the board to find.
    assert RecallVin.objects.filter(done_at__isnull=True).exists()
    # The sequence moved past the copied ids, so the services can add bookings at once.
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence('bookings_booking', 'id'))")
        assert cursor.fetchone()[0] == 2001


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_reuse_keeps_a_finished_load_and_reloads_when_needed(clients_loaded):
    load()
    marker = Heartbeat.objects.get(name=MARKER).beat_at

    output = run("seed_large_bookings", "--reuse", **SMALL)

    assert "reusing them" in output
    assert Heartbeat.objects.get(name=MARKER).beat_at == marker
    assert Booking.objects.count() == 2000

    load(reuse=True, bookings=2500)

    assert Booking.objects.count() == 2500
    second = Heartbeat.objects.get(name=MARKER).beat_at
    assert second > marker

    # Reloading the clients takes the bookings with them; --reuse notices and loads again.
    run("seed_large", verbosity=0, **SMALL_CLIENTS)
    assert Booking.objects.count() == 0

    load(reuse=True)

    assert Booking.objects.count() == 2000
    assert Heartbeat.objects.get(name=MARKER).beat_at > second
