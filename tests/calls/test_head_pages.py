"""The head's call pages: the board of pending tasks with its filters, pages and bulk moves; the call rules form."""

from datetime import time, timedelta

import pytest
from django.test import Client as DjangoTestClient
from django.urls import reverse
from django.utils import timezone

from accounts.models import Absence
from calls.models import CallRules, CallTask
from clientdesk.calendar import local_date
from tests.factories import ClientFactory, UserFactory

pytestmark = pytest.mark.django_db

BOARD = "calls:head-tasks"
RULES = "calls:head-rules"


def make_task(assignee=None, *, kind="callback", minutes: int = 0, status="open", **fields) -> CallTask:
    """A task whose next attempt is `minutes` from now (negative: in the past)."""
    moment = timezone.now() + timedelta(minutes=minutes)
    closed = {} if status in CallTask.PENDING else {"closed_at": timezone.now()}
    return CallTask.objects.create(
        kind=kind,
        client=ClientFactory(),
        due_at=moment,
        next_attempt_at=moment,
        assignee=assignee,
        status=status,
        **closed,
        **fields,
    )


def board_ids(web, **query) -> list[int]:
    response = web.get(reverse(BOARD), query)
    assert response.status_code == 200
    return [task.pk for task in response.context["page"]]


@pytest.fixture
def colleague(db):
    return UserFactory(username="colleague", last_name="Коллегова")


# --- the board ---------------------------------------------------------------------------------------------------


def test_the_board_lists_pending_tasks_earliest_first(as_head, manager):
    late = make_task(manager, minutes=-180)
    due = make_task(manager, minutes=-10)
    later = make_task(None, minutes=24 * 60)
    make_task(manager, minutes=-300, status="done")
    make_task(manager, minutes=-300, status="cancelled")
    page = as_head.get(reverse(BOARD))
    rows = list(page.context["page"])
    assert [t.pk for t in rows] == [late.pk, due.pk, later.pk]
    assert [(t.is_overdue, t.is_due) for t in rows] == [(True, True), (False, True), (False, False)]
    html = page.content.decode()
    assert f'value="{late.pk}"' in html and 'name="tasks"' in html


def test_the_board_filters(as_head, manager, colleague):
    mine = make_task(manager, minutes=-180)
    theirs = make_task(colleague, minutes=-10, status="in_progress", claimed_by=colleague, claimed_at=timezone.now())
    nobodys = make_task(None, kind="callback", minutes=30)
    assert board_ids(as_head, assignee=manager.pk) == [mine.pk]
    assert board_ids(as_head, assignee="none") == [nobodys.pk]
    assert board_ids(as_head, status="in_progress") == [theirs.pk]
    assert board_ids(as_head, overdue="true") == [mine.pk]
    assert board_ids(as_head, overdue="false") == [theirs.pk, nobodys.pk]
    assert board_ids(as_head, kind="confirmation") == []
    assert board_ids(as_head, kind="callback", assignee=colleague.pk) == [theirs.pk]
    # a closed status is not a board filter: the form says so, and the board still shows the pending tasks
    response = as_head.get(reverse(BOARD), {"status": "done"})
    assert response.status_code == 200 and "status" in response.context["filter"].form.errors
    assert list(response.context["filter"].form.fields) == ["assignee", "kind", "status", "overdue"]


def test_the_board_pages_by_keyset(as_head, manager):
    tasks = [make_task(manager, minutes=n) for n in range(60)]
    first = as_head.get(reverse(BOARD), {"assignee": manager.pk})
    page = first.context["page"]
    assert [t.pk for t in page] == [t.pk for t in tasks[:50]] and page.has_next
    second = as_head.get(reverse(BOARD), {"assignee": manager.pk, "after": page.next_after})
    assert [t.pk for t in second.context["page"]] == [t.pk for t in tasks[50:]]
    assert not second.context["page"].has_next
    assert as_head.get(reverse(BOARD), {"after": "garbage"}).status_code == 200


def test_an_absentees_tasks_show_who_stands_in(as_head, manager, colleague):
    today = local_date(timezone.now())
    Absence.objects.create(user=manager, starts_on=today, ends_on=today, substitute=colleague)
    task = make_task(manager, minutes=-5)
    page = as_head.get(reverse(BOARD), headers={"Accept-Language": "en"})
    assert [t.worked_by for t in page.context["page"]] == [colleague]
    assert f"away: {colleague} stands in" in page.content.decode()
    assert task.assignee == manager


# --- bulk moves --------------------------------------------------------------------------------------------------


def test_the_head_moves_ticked_tasks_to_a_colleague(as_head, head, manager, colleague):
    chosen = [make_task(manager, minutes=-n) for n in range(3)]
    taken = make_task(manager, status="in_progress", claimed_by=manager, claimed_at=timezone.now())
    untouched = make_task(manager, minutes=5)
    url = reverse(BOARD) + f"?assignee={manager.pk}&after=123"
    response = as_head.post(
        url, {"tasks": [t.pk for t in [*chosen, taken]], "to": colleague.pk}, headers={"Accept-Language": "en"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse(BOARD) + f"?assignee={manager.pk}"
    moved = CallTask.objects.filter(pk__in=[t.pk for t in [*chosen, taken]])
    assert {t.assignee_id for t in moved} == {colleague.pk}
    # a task a manager had taken goes back to the queue for the new assignee
    taken.refresh_from_db()
    assert (taken.status, taken.claimed_by) == ("open", None)
    assert CallTask.objects.get(pk=untouched.pk).assignee == manager
    assert CallTask.objects.get(pk=chosen[0].pk).history.latest().history_user == head
    page = as_head.get(response["Location"])
    assert "4 tasks moved to" in page.content.decode()


def test_a_task_closed_meanwhile_stays_as_it_was(as_head, manager, colleague):
    open_task = make_task(manager)
    done = make_task(manager, status="done")
    response = as_head.post(
        reverse(BOARD),
        {"tasks": [open_task.pk, done.pk], "to": colleague.pk},
        follow=True,
        headers={"Accept-Language": "en"},
    )
    html = response.content.decode()
    assert "1 task moved to" in html and "1 task was closed meanwhile" in html
    assert CallTask.objects.get(pk=done.pk).assignee == manager
    assert CallTask.objects.get(pk=open_task.pk).assignee == colleague


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"tasks": []}, "tasks"),
        ({"to": ""}, "to"),
        ({"to": "ADVISOR"}, "to"),
        ({"to": "INACTIVE"}, "to"),
        ({"tasks": ["abc"]}, "tasks"),
        ({"tasks": [999999]}, "tasks"),
    ],
)
def test_bad_moves_are_400_and_change_nothing(as_head, manager, colleague, advisor, data, field):
    task = make_task(manager)
    inactive = UserFactory(username="gone", is_active=False)
    names = {"ADVISOR": advisor.pk, "INACTIVE": inactive.pk}
    post = {"tasks": [task.pk], "to": colleague.pk}
    post.update({key: names.get(value, value) if isinstance(value, str) else value for key, value in data.items()})
    response = as_head.post(reverse(BOARD), post)
    assert response.status_code == 400
    assert field in response.context["reassign_form"].errors
    assert CallTask.objects.get(pk=task.pk).assignee == manager
    # the board is still shown, with the ticks kept
    assert [t.pk for t in response.context["page"]] == [task.pk]


@pytest.mark.parametrize("rows", [5, 50])
def test_board_query_count_is_pinned(as_head, manager, django_assert_num_queries, rows):
    today = local_date(timezone.now())
    away = UserFactory(username="away")
    Absence.objects.create(user=away, starts_on=today, ends_on=today, substitute=manager)
    for n in range(rows):
        make_task(manager if n % 2 else away, minutes=-n)
    # session, user, the page of tasks with what they show joined in, today's absences, the two user lists
    with django_assert_num_queries(6):
        response = as_head.get(reverse(BOARD))
    assert len(response.context["page"]) == rows


# --- the call rules ----------------------------------------------------------------------------------------------


def rules_post(**changes) -> dict:
    return {
        "calling_from": "09:00",
        "calling_until": "21:00",
        "confirmation_hour": "10:00",
        "follow_up_day": 7,
        "retry_minutes": 120,
        "max_attempts": 3,
        "planner_catch_up_days": 14,
        **changes,
    }


def test_the_head_edits_the_call_rules(as_head, head):
    assert as_head.get(reverse(RULES)).status_code == 200
    response = as_head.post(
        reverse(RULES),
        rules_post(calling_from="08:30", calling_until="20:00", confirmation_hour="12:00", max_attempts=5),
    )
    assert response.status_code == 302
    rules = CallRules.current()
    assert (rules.calling_from, rules.calling_until, rules.confirmation_hour) == (time(8, 30), time(20), time(12))
    assert rules.max_attempts == 5 and CallRules.objects.count() == 1
    assert rules.history.latest().history_user == head


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"calling_from": "21:00", "calling_until": "09:00"}, "calling_until"),
        ({"calling_from": "12:00", "calling_until": "12:00"}, "calling_until"),
        ({"confirmation_hour": "08:00"}, "confirmation_hour"),
        ({"confirmation_hour": "21:00"}, "confirmation_hour"),
        ({"max_attempts": 0}, "max_attempts"),
        ({"max_attempts": 21}, "max_attempts"),
        ({"max_attempts": -1}, "max_attempts"),
        ({"retry_minutes": 4}, "retry_minutes"),
        ({"follow_up_day": 0}, "follow_up_day"),
        ({"follow_up_day": 61}, "follow_up_day"),
        ({"planner_catch_up_days": 0}, "planner_catch_up_days"),
        ({"calling_from": "25:99"}, "calling_from"),
        ({"max_attempts": "three"}, "max_attempts"),
        ({"max_attempts": 99999999}, "max_attempts"),
    ],
)
def test_bad_rules_are_400_beside_their_field_and_change_nothing(as_head, changes, field):
    before = CallRules.current()
    response = as_head.post(reverse(RULES), rules_post(**changes))
    assert response.status_code == 400
    assert field in response.context["form"].errors, response.context["form"].errors
    after = CallRules.objects.get()
    assert [getattr(after, f.attname) for f in CallRules._meta.fields] == [
        getattr(before, f.attname) for f in CallRules._meta.fields
    ]


# --- who may -----------------------------------------------------------------------------------------------------


def test_anonymous_is_sent_to_sign_in(manager, colleague):
    task = make_task(manager)
    web = DjangoTestClient()
    for name in (BOARD, RULES):
        response = web.get(reverse(name))
        assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
    web.post(reverse(BOARD), {"tasks": [task.pk], "to": colleague.pk})
    web.post(reverse(RULES), rules_post(max_attempts=9))
    assert CallTask.objects.get(pk=task.pk).assignee == manager and CallRules.current().max_attempts == 3


@pytest.mark.parametrize("role", ["manager", "head", "advisor", "transport_head", "integration"])
def test_only_the_head_opens_the_board_and_the_rules(users, role):
    task = make_task(users["manager"])
    web = DjangoTestClient()
    web.force_login(users[role])
    allowed = role == "head"
    for name in (BOARD, RULES):
        assert web.get(reverse(name)).status_code == (200 if allowed else 403), name
    if allowed:
        return
    assert web.post(reverse(BOARD), {"tasks": [task.pk], "to": users["head"].pk}).status_code == 403
    assert web.post(reverse(RULES), rules_post(max_attempts=9)).status_code == 403
    assert CallTask.objects.get(pk=task.pk).assignee == users["manager"]
    assert CallRules.current().max_attempts == 3
