"""The daily roll-up of inbound calls (reports/services/rollups.py): the dashboard reads the same figures from it
as from the calls, for whole past days it holds, and from the calls for the rest; rebuilding a day is harmless,
twice or at once; a day rolled up in another zone is not used."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction

from clientdesk.dashboard import Period, as_json, draw, head_tiles
from reports.models import InboundCallHour, RolledUpDay
from reports.services.rollups import ROLLUP_DAYS, rollup_day, rollups_refresh
from tests.concurrency import run_at_once
from tests.factories import CallFactory
from tests.reports.conftest import BEFORE, DAY

pytestmark = pytest.mark.django_db


def inbound(user, period):
    [tile] = [t for t in as_json(draw(head_tiles, user=user, period=period)) if t["key"] == "inbound"]
    return tile


def test_the_rolled_up_days_give_the_same_figures_and_bars(department, head, day_period):
    week = Period.of("week", DAY)
    live = inbound(head, day_period), inbound(head, week)
    # when: the Sunday and the Monday are rolled up (the Tuesday's call stays in the calls alone)
    assert rollup_day(BEFORE) == 2  # 12:00 by the colleague, 23:30 by the manager
    rollup_day(DAY)
    assert InboundCallHour.objects.filter(day=DAY).count() == 4  # 00h, 10h (two managers), 23h
    # then: every figure, bar and link is as it was
    assert (inbound(head, day_period), inbound(head, week)) == live
    figures = {f["key"]: f for f in live[0]["figures"]}
    assert (figures["inbound"]["value"], figures["inbound"]["previous"]) == (4, 2)


def test_a_call_logged_after_the_roll_up_counts_once_the_day_is_rebuilt(department, head, manager, day_period):
    rollup_day(DAY)
    CallFactory(manager=manager, started_at=day_period.start + timedelta(hours=15), duration=60)
    stale = {f["key"]: f["value"] for f in inbound(head, day_period)["figures"]}
    assert stale["inbound"] == 4  # the roll-up holds the day as it was
    rollup_day(DAY)
    assert {f["key"]: f["value"] for f in inbound(head, day_period)["figures"]}["inbound"] == 5


def test_rebuilding_a_day_twice_leaves_the_same_rows(department):
    rollup_day(DAY)
    first = list(InboundCallHour.objects.order_by("hour", "manager_id").values("hour", "manager_id", "calls"))
    rollup_day(DAY)
    assert list(InboundCallHour.objects.order_by("hour", "manager_id").values("hour", "manager_id", "calls")) == first
    assert RolledUpDay.objects.filter(day=DAY).count() == 1


def test_a_day_rolled_up_in_another_zone_is_not_used(department, head, settings):
    rollup_day(DAY)
    rollup_day(BEFORE)
    settings.TIME_ZONE = "Asia/Yekaterinburg"
    period = Period.of("custom", DAY, first=DAY, last=DAY)
    got = {f["key"]: f for f in inbound(head, period)["figures"]}
    assert (got["inbound"]["value"], got["inbound"]["previous"]) == (4, 1)  # as without a roll-up, in this zone


def test_beat_rebuilds_the_last_two_days_and_fills_the_missing_a_batch_at_a_time(db):
    today = DAY + timedelta(days=10)
    rebuilt = rollups_refresh(today=today, batch=5)
    assert rebuilt[:2] == [today - timedelta(days=1), today - timedelta(days=2)]
    assert len(rebuilt) == 7
    again = rollups_refresh(today=today, batch=5)
    assert set(again[2:]).isdisjoint(rebuilt[2:])  # the next five missing days
    assert RolledUpDay.objects.count() == 12
    assert ROLLUP_DAYS >= 366


def test_the_command_rebuilds_a_day(department):
    call_command("rollup_reports", "--day", DAY.isoformat())
    assert RolledUpDay.objects.filter(day=DAY).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_builds_of_a_day_at_once_leave_one_set_of_rows(manager):
    start = Period.of("today", DAY).start
    for n in range(5):
        CallFactory(manager=manager, started_at=start + timedelta(hours=n), direction="in")
    _results, errors = run_at_once(3, lambda n: rollup_day(DAY))
    assert errors == []
    assert InboundCallHour.objects.filter(day=DAY).count() == 5
    assert RolledUpDay.objects.count() == 1


@pytest.mark.parametrize("hour", [-1, 24])
def test_the_database_refuses_an_hour_outside_the_day(hour):
    with pytest.raises(IntegrityError), transaction.atomic():
        InboundCallHour.objects.create(day=DAY, hour=hour, manager_id=None, calls=1, seconds=60)
