"""seed_large_tasks: the scale set of call tasks keeps every rule a task made by the planners keeps, leaves the schema
and the call log as it found them, and is reused or reloaded as asked."""

from datetime import time

import pytest
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import Count, F, Q
from django.utils import timezone

from accounts.roles import Role
from bench.management.commands.seed_large import Schema
from bench.management.commands.seed_large_tasks import CAMPAIGN_NAMES, MARKER
from bookings.services.setup import working_week_set
from calls.models import Call, CallTask, Campaign, CampaignMember
from calls.services.planning import run_planners
from clientdesk.calendar import local_date
from clientdesk.models import Heartbeat
from clients.models import Delivery
from tests.commands import run
from tests.factories import UserFactory

SMALL_CLIENTS = {"clients": 300, "vehicles": 400, "calls": 5000}
SMALL_BOOKINGS = {"bookings": 2000, "advisors": 6, "past_days": 40, "future_days": 14, "recall_share": 0.5}
SMALL = {"tasks": 1500, "deliveries": 100}
WEEK = {weekday: (time(8), time(20)) for weekday in range(5)} | {5: (time(9), time(18)), 6: None}
TABLES = [CallTask._meta.db_table, Call._meta.db_table, Delivery._meta.db_table, CampaignMember._meta.db_table]


def load(**options) -> str:
    return run("seed_large_tasks", verbosity=0, **{**SMALL, **options})


def schema_now() -> list[tuple]:
    with connection.cursor() as cursor:
        return Schema(cursor, TABLES).snapshot()


@pytest.fixture
def bookings_loaded(db):
    # A transactional test empties every table after it, the working week a migration made included.
    working_week_set(by=None, week=WEEK)
    run("seed_large", verbosity=0, **SMALL_CLIENTS)
    run("seed_large_bookings", verbosity=0, **SMALL_BOOKINGS)


@pytest.mark.django_db
def test_seed_large_tasks_refuses_sqlite_clearly():
    if connection.vendor == "postgresql":
        pytest.skip("checks the refusal on the embedded SQLite")
    with pytest.raises(CommandError, match="PostgreSQL"):
        run("seed_large_tasks", tasks=10)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_tasks_keep_every_rule(bookings_loaded):
    schema_before = schema_now()

    load()

    tasks = CallTask.objects.select_related("booking", "delivery", "campaign_member", "assignee")
    assert tasks.count() == 1500
    by_kind = dict(CallTask.objects.values_list("kind").annotate(n=Count("id")))
    # Every kind the large set makes; a loaner's callback comes only from the fleet's overdue returns.
    assert set(by_kind) == set(CallTask.Kind.values) - {CallTask.Kind.LOANER_RETURN}
    assert by_kind[CallTask.Kind.CONFIRMATION] == 900
    # Mostly closed, each with the moment it closed; the open ones dealt to the managers on duty.
    pending = CallTask.objects.pending()
    assert 0 < pending.count() < 1500 * 0.2
    assert not pending.filter(Q(closed_at__isnull=False) | Q(assignee__isnull=True)).exists()
    assert not CallTask.objects.exclude(status__in=CallTask.PENDING).filter(closed_at__isnull=True).exists()
    assert set(pending.values_list("assignee__role", flat=True)) == {Role.MANAGER}
    assert len(set(pending.values_list("assignee", flat=True))) == 20
    now = timezone.now()
    assert not CallTask.objects.filter(Q(created_at__gt=now) | Q(closed_at__gt=now)).exists()
    assert not CallTask.objects.filter(closed_at__lt=F("created_at")).exists()
    # Each task is for what its kind says, and for that thing's client; one task per booking and per delivery.
    for task in tasks:
        if task.kind == CallTask.Kind.CONFIRMATION:
            assert task.booking.client_id == task.client_id
        elif task.kind == CallTask.Kind.FOLLOW_UP:
            assert task.delivery.client_id == task.client_id
            assert local_date(task.due_at) > local_date(task.delivery.delivered_at)
        elif task.kind == CallTask.Kind.CAMPAIGN:
            assert task.campaign_member.client_id == task.client_id
        else:
            assert (task.booking_id, task.delivery_id, task.campaign_member_id) == (None, None, None)
    for task in tasks.order_by("?")[:200]:
        task.full_clean()
    assert CallTask.objects.filter(booking__isnull=False).values("booking").distinct().count() == 900
    # The scheduled visits of today and the next working day are still to be confirmed.
    assert CallTask.objects.pending().filter(kind=CallTask.Kind.CONFIRMATION, booking__status="scheduled").exists()
    # Campaign calls only to consenting clients; the running campaign has members whose day has not come.
    assert not CallTask.objects.filter(kind=CallTask.Kind.CAMPAIGN, client__consent_marketing=False).exists()
    running = Campaign.objects.get(status=Campaign.Status.RUNNING)
    assert CampaignMember.objects.filter(campaign=running, task__isnull=True, planned_for__gt=local_date(now)).exists()
    # The calls that worked callbacks point at them, and are the same client's.
    linked = Call.objects.filter(task__isnull=False).select_related("task")
    assert linked.exists()
    assert all(call.task.client_id == call.client_id and call.task.kind == "callback" for call in linked)
    assert schema_now() == schema_before
    # The sequence moved past the copied ids, so the planners can add tasks at once.
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence('calls_calltask', 'id'))")
        assert cursor.fetchone()[0] == 1501
    # What the planners would have left: a planner run now finds nothing to plan or deal.
    planned = run_planners(now=now)
    assert (planned.created, planned.assigned) == (0, 0)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_reloading_replaces_only_the_tasks_and_keeps_the_call_log(bookings_loaded):
    head = UserFactory(username="head", role=Role.HEAD)
    today = local_date(timezone.now())
    # Named like one of the loader's, but the head's own.
    theirs = Campaign.objects.create(
        name=CAMPAIGN_NAMES[0], script="…", starts_on=today, ends_on=today, created_by=head
    )
    calls = Call.objects.count()

    load()
    deliveries = set(Delivery.objects.values_list("id", flat=True))
    first_links = Call.objects.filter(task__isnull=False).count()
    load()

    assert Call.objects.count() == calls == 5000
    assert CallTask.objects.count() == 1500
    assert Call.objects.filter(task__isnull=False).count() == first_links > 0
    # Deliveries are topped up, never replaced; the head's campaign is not the loader's to remove.
    assert set(Delivery.objects.values_list("id", flat=True)) == deliveries
    assert len(deliveries) == 100
    assert Campaign.objects.filter(pk=theirs.pk).exists()
    assert Campaign.objects.filter(created_by=None).count() == 3
    assert CampaignMember.objects.filter(campaign__created_by=None).count() == CampaignMember.objects.count()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_reuse_keeps_a_finished_load_and_reloads_when_needed(bookings_loaded):
    load()
    marker = Heartbeat.objects.get(name=MARKER).beat_at

    output = run("seed_large_tasks", "--reuse", **SMALL)

    assert "reusing them" in output
    assert Heartbeat.objects.get(name=MARKER).beat_at == marker

    load(reuse=True, tasks=1800)

    assert CallTask.objects.count() == 1800
    second = Heartbeat.objects.get(name=MARKER).beat_at
    assert second > marker

    # Reloading the bookings deletes their confirmation calls; --reuse notices and loads again.
    run("seed_large_bookings", verbosity=0, **SMALL_BOOKINGS)
    assert not CallTask.objects.filter(kind=CallTask.Kind.CONFIRMATION).exists()

    load(reuse=True, tasks=1800)

    assert CallTask.objects.filter(kind=CallTask.Kind.CONFIRMATION).count() > 0
    assert Heartbeat.objects.get(name=MARKER).beat_at > second
