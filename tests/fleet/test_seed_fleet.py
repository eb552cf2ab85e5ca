"""seed_fleet: the fleet's demo goes through the services, shows what the board flags, and adds nothing when run
again."""

import pytest
from django.core.management.base import CommandError
from django.utils import timezone

from accounts.models import User
from clientdesk.calendar import local_date
from clientdesk.models import Notification
from fleet import selectors
from fleet.models import FleetCar, Reservation
from tests.commands import run


def test_needs_the_demo_department_first(db):
    with pytest.raises(CommandError, match="seed_demo"):
        run("seed_fleet")


def test_the_fleet_demo_flags_what_the_board_shows_and_is_loaded_once(db):
    run("seed_demo")
    output = run("seed_fleet")
    assert "8 loaners, 4 demo cars" in output
    manager = User.objects.get(username="manager1")
    now = timezone.now()
    board = selectors.fleet_board(user=manager, now=now)
    assert len(board.overdue) == 1 and len(board.out) == 3  # the overdue loaner, the one back today, a test drive
    assert len(board.inspections) == 1
    assert FleetCar.objects.get(state="needs_inspection").plate == "В204ВВ77"
    assert Notification.objects.filter(user__username="transport").count() == 1
    # The three test drives (one back, one out, one later) on the day's log, at any hour the demo is loaded.
    days = {local_date(reservation.starts_at) for reservation in Reservation.objects.filter(test_drive__isnull=False)}
    assert len(days) == 1
    log = selectors.test_drive_log(days.pop())
    assert [drive.reservation.status for drive in log] == ["returned", "out", "reserved"]
    assert "no fleet demo added" in run("seed_fleet")
    assert (FleetCar.objects.count(), Reservation.objects.count()) == (12, 7)
