"""The claims' tiles: the head's (open, due soon, overdue, average days to close) and a manager's own claims due."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from claims import services
from claims.dashboard import head_claims_tile, own_claims_tile
from claims.models import Claim
from claims.tasks import watch_claim_deadlines
from clientdesk.calendar import local_date
from clientdesk.dashboard import Period, draw, head_tiles, own_tiles

pytestmark = pytest.mark.django_db


@pytest.fixture
def claims(make_claim, users):
    now = timezone.now()
    overdue = make_claim(received_at=now - timedelta(days=15))
    soon = make_claim(received_at=now - timedelta(days=10))
    later = make_claim(received_at=now, by=users["head"])
    closed = make_claim(received_at=now - timedelta(days=3))
    Claim.objects.filter(pk=closed.pk).update(
        status=Claim.Status.CLOSED,
        outcome="refused",
        decided_at=now - timedelta(days=2),
        informed_via="letter",
        informed_at=now,
        closed_at=now - timedelta(days=1),
    )
    return overdue, soon, later, closed


def figures(data):
    return {f.key: (f.value, f.url) for f in data.figures}


def test_the_heads_tile(claims, users):
    today = local_date(timezone.now())
    data = figures(head_claims_tile(users["head"], Period.of("month", today)))
    assert data["claims-open"][0] == 3
    assert data["claims-due-soon"] == (1, reverse("claims:list") + "?due_state=due_soon")
    assert data["claims-overdue"] == (1, reverse("claims:list") + "?due_state=overdue")
    assert data["claims-days-to-close"][0] == 2.0
    # The list behind a figure shows its rows.
    assert "claims" in [t.key for t in draw(head_tiles, user=users["head"], period=Period.of("today", today))]


def test_a_managers_own_tile_counts_only_hers(claims, users):
    today = local_date(timezone.now())
    data = figures(own_claims_tile(users["manager"], Period.of("today", today)))
    assert (data["my-claims-open"][0], data["my-claims-due-soon"][0], data["my-claims-overdue"][0]) == (2, 1, 1)
    assert "my-claims" in [t.key for t in draw(own_tiles, user=users["manager"], period=Period.of("today", today))]
    assert "my-claims" not in [t.key for t in draw(own_tiles, user=users["advisor"], period=Period.of("today", today))]


@pytest.mark.parametrize("rows", [1, 10])
def test_the_tiles_read_a_fixed_number_of_queries(make_claim, users, rows):
    for _n in range(rows):
        make_claim()
    today = local_date(timezone.now())
    with CaptureQueriesContext(connection) as head:
        head_claims_tile(users["head"], Period.of("month", today))
    with CaptureQueriesContext(connection) as own:
        own_claims_tile(users["manager"], Period.of("month", today))
    # the due-soon bound (working hours, calendar days) and one aggregate per period
    assert (len(head), len(own)) == (6, 3)


def test_the_deadline_task_runs_the_watch(celery_eager, make_claim):
    make_claim(received_at=timezone.now() - timedelta(days=15))
    assert watch_claim_deadlines.delay().get() == 1
    assert watch_claim_deadlines.delay().get() == 0
    assert services.claims_watch_deadlines() == 0
