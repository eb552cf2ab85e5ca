"""The claim list pages by keyset: every claim once, in the list's order, ties on the date included; the next page on
PostgreSQL continues as an index condition on the open claims' (due_date, id) index."""

from datetime import timedelta
from functools import partial

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from claims import views
from claims.models import Claim
from clientdesk.views import KeysetPage
from tests.factories import UserFactory


@pytest.fixture
def two_a_page(monkeypatch):
    monkeypatch.setattr(views, "KeysetPage", partial(KeysetPage, size=2))


@pytest.fixture
def claims(make_claim):
    """Eight claims, received on three days: claims received together share a due date and are told apart by id."""
    now = timezone.now()
    return [make_claim(received_at=now - timedelta(days=days)) for days in (15, 15, 15, 4, 4, 0, 0, 0)]


def walk(web, **query) -> list[str]:
    """The numbers the list shows, following its "next" links to the last page."""
    numbers, after = [], None
    while True:
        page = web.get(reverse("claims:list"), {**query, **({"after": after} if after else {})}).context["page"]
        numbers += [row.number for row in page]
        if not page.has_next:
            return numbers
        after = page.next_after


@pytest.mark.usefixtures("two_a_page")
def test_the_list_pages_through_every_claim_once_in_its_order(as_manager, claims):
    by_due = Claim.objects.order_by("due_date", "id")
    newest = Claim.objects.order_by("-received_at", "-id")
    assert walk(as_manager) == [c.number for c in by_due]
    assert walk(as_manager, sort="received") == [c.number for c in newest]
    overdue = by_due.filter(due_date__lt=timezone.localdate())
    assert len(overdue) == 3
    assert walk(as_manager, due_state="overdue") == [c.number for c in overdue]


@pytest.mark.usefixtures("two_a_page")
def test_the_next_page_shows_the_same_badges_and_filters(as_manager, claims):
    after = as_manager.get(reverse("claims:list"), {"due_state": "overdue"}).context["page"].next_after
    html = as_manager.get(reverse("claims:list"), {"due_state": "overdue", "after": after}).content.decode()
    assert html.count('data-due="overdue"') == 1 and 'data-due="due_soon"' not in html
    assert 'name="due_state"' in html and 'value="overdue" selected' in html


@pytest.mark.postgres
@pytest.mark.usefixtures("two_a_page")
def test_the_next_page_continues_as_an_index_condition_on_postgresql(as_manager, claims):
    first = as_manager.get(reverse("claims:list"), {"due_state": "overdue"}).context["page"]
    with CaptureQueriesContext(connection) as queries:
        as_manager.get(reverse("claims:list"), {"due_state": "overdue", "after": first.next_after})
    (sql,) = [q["sql"] for q in queries if q["sql"].startswith('SELECT "claims_claim"."id" AS "pk"')]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # eight rows: let the plan show what a full table does
        cursor.execute(f"EXPLAIN {sql}")
        plan = "\n".join(row for (row,) in cursor.fetchall())
    assert "claim_open_due_idx" in plan, plan
    assert "Index Cond: ((due_date < " in plan and "(ROW(due_date, id) > ROW(" in plan, plan
    assert " OR " not in plan, plan  # nothing of the cursor left as a filter on the index's rows


def test_a_row_names_its_manager_as_everywhere_else(as_manager, make_claim, manager):
    nameless = UserFactory(username="nameless", role=Role.MANAGER, first_name="", last_name="")
    make_claim(assignee=nameless)
    make_claim()
    page = as_manager.get(reverse("claims:list")).context["page"]
    assert sorted(row.assignee_label for row in page) == sorted([str(manager), "nameless"])
    assert str(manager) == "Мария Смирнова"
