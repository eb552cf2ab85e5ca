"""Absences: the rules that keep the queue's routing whole, the routing itself during and after, the head's pages."""

from datetime import time, timedelta

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.test import Client as DjangoTestClient
from django.urls import reverse
from django.utils import timezone

from accounts.models import Absence
from accounts.roles import Role
from accounts.services.absences import absence_create, absence_end, absence_update
from calls.models import CallTask
from calls.selectors import manager_queue
from calls.services.planning import assign_new_tasks
from clientdesk.calendar import at, local_date
from tests.factories import ClientFactory, UserFactory

pytestmark = pytest.mark.django_db


def today():
    return local_date(timezone.now())


def day(offset: int):
    return today() + timedelta(days=offset)


@pytest.fixture
def away(db):
    return UserFactory(username="away", last_name="Отпускова")


@pytest.fixture
def standin(db):
    return UserFactory(username="standin", last_name="Подменова")


def task_for(user, *, minutes_ago: int = 5) -> CallTask:
    moment = timezone.now() - timedelta(minutes=minutes_ago)
    return CallTask.objects.create(
        kind="callback", client=ClientFactory(), due_at=moment, next_attempt_at=moment, assignee=user
    )


# --- the rules ---------------------------------------------------------------------------------------------------


def test_an_absence_is_recorded_with_who_recorded_it(head, away, standin):
    absence = absence_create(
        by=head, user=away, starts_on=day(1), ends_on=day(5), substitute=standin, reason=" отпуск "
    )
    assert (absence.created_by, absence.reason) == (head, "отпуск")
    assert absence.history.get().history_user == head


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"ends_on": "BEFORE"}, "ends_on"),
        ({"substitute": "SELF"}, "substitute"),
        ({"substitute": "ADVISOR"}, "substitute"),
        ({"substitute": "INACTIVE"}, "substitute"),
        ({"user": "ADVISOR"}, "user"),
    ],
)
def test_bad_absences_are_refused_with_the_field(head, away, standin, advisor, change, field):
    inactive = UserFactory(username="gone", is_active=False)
    names = {"BEFORE": day(0), "SELF": away, "ADVISOR": advisor, "INACTIVE": inactive}
    fields = {"user": away, "starts_on": day(1), "ends_on": day(3), "substitute": standin}
    fields.update({key: names[value] for key, value in change.items()})
    with pytest.raises(ValidationError) as exc:
        absence_create(by=head, **fields)
    assert field in exc.value.message_dict
    assert not Absence.objects.exists()


def test_one_person_is_not_away_twice_at_once(head, away, standin, manager):
    absence_create(by=head, user=away, starts_on=day(1), ends_on=day(5), substitute=standin)
    with pytest.raises(ValidationError) as exc:
        absence_create(by=head, user=away, starts_on=day(5), ends_on=day(9), substitute=manager)
    message = " ".join(exc.value.message_dict[NON_FIELD_ERRORS])
    assert "already away" in message and "change that absence instead" in message
    assert Absence.objects.count() == 1
    # the day after is free
    absence_create(by=head, user=away, starts_on=day(6), ends_on=day(9), substitute=manager)


def test_the_substitute_must_be_at_work_on_every_day(head, away, standin, manager):
    absence_create(by=head, user=standin, starts_on=day(4), ends_on=day(4), substitute=manager)
    with pytest.raises(ValidationError) as exc:
        absence_create(by=head, user=away, starts_on=day(1), ends_on=day(7), substitute=standin)
    assert "is away too" in " ".join(exc.value.message_dict["substitute"])
    assert Absence.objects.count() == 1


def test_someone_standing_in_cannot_go_away_meanwhile(head, away, standin, manager):
    absence_create(by=head, user=away, starts_on=day(1), ends_on=day(7), substitute=standin)
    with pytest.raises(ValidationError) as exc:
        absence_create(by=head, user=standin, starts_on=day(7), ends_on=day(8), substitute=manager)
    assert "stands in for" in " ".join(exc.value.message_dict[NON_FIELD_ERRORS])


def test_an_absence_can_be_moved_over_its_own_days_but_not_onto_another(head, away, standin, manager):
    first = absence_create(by=head, user=away, starts_on=day(1), ends_on=day(5), substitute=standin)
    absence_create(by=head, user=away, starts_on=day(10), ends_on=day(12), substitute=standin)
    moved = absence_update(absence=first, by=head, starts_on=day(2), ends_on=day(6), substitute=manager)
    assert (moved.starts_on, moved.ends_on, moved.substitute) == (day(2), day(6), manager)
    with pytest.raises(ValidationError):
        absence_update(absence=first, by=head, ends_on=day(10))
    first.refresh_from_db()
    assert first.ends_on == day(6)
    with pytest.raises(TypeError):
        absence_update(absence=first, by=head, user=manager)


def test_ending_an_absence(head, away, standin):
    current = absence_create(by=head, user=away, starts_on=day(-3), ends_on=day(3), substitute=standin)
    ended = absence_end(absence=current, by=head)
    assert ended.ends_on == day(-1)
    with pytest.raises(ValidationError):
        absence_end(absence=ended, by=head)
    upcoming = absence_create(by=head, user=away, starts_on=day(5), ends_on=day(8), substitute=standin)
    assert absence_end(absence=upcoming, by=head) is None
    assert not Absence.objects.filter(pk=upcoming.pk).exists()
    assert Absence.history.filter(id=upcoming.pk, history_type="-").get().history_user == head


# --- routing -----------------------------------------------------------------------------------------------------


def test_during_an_absence_the_substitute_works_the_absentees_tasks_and_after_it_they_come_back(head, away, standin):
    task = task_for(away)
    own = task_for(standin)
    assert [t.pk for t in manager_queue(standin).tasks] == [own.pk]

    absence = absence_create(by=head, user=away, starts_on=day(0), ends_on=day(2), substitute=standin)
    assert {t.pk for t in manager_queue(standin).tasks} == {task.pk, own.pk}
    # a task still open on the day after the absence is the absentee's again
    the_day_after = at(day(3), time(10))
    assert [t.pk for t in manager_queue(standin, now=the_day_after).tasks] == [own.pk]
    assert task.pk in {t.pk for t in manager_queue(away, now=the_day_after).tasks}

    assert absence_end(absence=absence, by=head) is None  # back today after all
    assert [t.pk for t in manager_queue(standin).tasks] == [own.pk]


def test_new_tasks_are_not_dealt_to_someone_away(head, away, standin):
    absence_create(by=head, user=away, starts_on=day(0), ends_on=day(0), substitute=standin)
    new = [task_for(None) for _ in range(4)]
    assign_new_tasks(now=timezone.now())
    assert {CallTask.objects.get(pk=t.pk).assignee_id for t in new} == {standin.pk}


# --- pages -------------------------------------------------------------------------------------------------------


def test_the_list_shows_who_is_away_now_and_soon_with_their_open_tasks(as_head, head, away, standin, manager):
    past = Absence.objects.create(user=manager, starts_on=day(-10), ends_on=day(-5), substitute=standin)
    now = absence_create(by=head, user=away, starts_on=day(-1), ends_on=day(1), substitute=standin)
    soon = absence_create(by=head, user=manager, starts_on=day(4), ends_on=day(6), substitute=away)
    task_for(away)
    task_for(away)
    page = as_head.get(reverse("accounts:absence-list"))
    rows = page.context["absences"]
    assert [a.pk for a in rows] == [now.pk, soon.pk] and past.pk not in {a.pk for a in rows}
    assert [(a.is_current, a.cells) for a in rows] == [(True, [2]), (False, [0])]
    assert len(page.context["columns"]) == 1  # the calls app's "open tasks" column
    html = page.content.decode()
    assert reverse("accounts:absence-edit", args=[now.pk]) in html
    assert reverse("accounts:absence-end", args=[soon.pk]) in html


def test_recording_an_absence_from_the_page(as_head, away, standin):
    response = as_head.get(reverse("accounts:absence-create") + f"?user={away.pk}")
    assert response.status_code == 200 and response.context["form"].initial["user"] == away.pk
    response = as_head.post(
        reverse("accounts:absence-create"),
        {"user": away.pk, "starts_on": day(1), "ends_on": day(3), "substitute": standin.pk, "reason": "отпуск"},
    )
    assert response.status_code == 302 and response["Location"] == reverse("accounts:absence-list")
    assert Absence.objects.get().substitute == standin


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"ends_on": "BEFORE"}, "ends_on"),
        ({"substitute": "SELF"}, "substitute"),
        ({"substitute": "ADVISOR"}, "substitute"),
        ({"starts_on": "not a day"}, "starts_on"),
        ({"user": ""}, "user"),
        ({"reason": "x" * 201}, "reason"),
        ({"starts_on": "OVERLAP_FROM", "ends_on": "OVERLAP_TO"}, NON_FIELD_ERRORS),
    ],
)
def test_bad_page_input_is_400_with_the_error_and_changes_nothing(as_head, head, away, standin, advisor, data, field):
    held = absence_create(by=head, user=away, starts_on=day(20), ends_on=day(22), substitute=standin)
    names = {"BEFORE": day(0), "SELF": away.pk, "ADVISOR": advisor.pk, "OVERLAP_FROM": day(21), "OVERLAP_TO": day(25)}
    post = {"user": away.pk, "starts_on": day(1), "ends_on": day(3), "substitute": standin.pk}
    post.update({key: names.get(value, value) for key, value in data.items()})
    response = as_head.post(reverse("accounts:absence-create"), post, headers={"Accept-Language": "en"})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors, errors
    assert list(Absence.objects.all()) == [held]


def test_shortening_an_absence_from_the_page_keeps_who_is_away(as_head, head, away, standin, manager):
    absence = absence_create(by=head, user=away, starts_on=day(1), ends_on=day(9), substitute=standin)
    url = reverse("accounts:absence-edit", args=[absence.pk])
    assert as_head.get(url).status_code == 200
    post = {"user": manager.pk, "starts_on": day(1), "ends_on": day(4), "substitute": standin.pk, "reason": ""}
    assert as_head.post(url, post).status_code == 302
    absence.refresh_from_db()
    assert (absence.user, absence.ends_on) == (away, day(4))
    response = as_head.post(url, {**post, "ends_on": day(0)})
    assert response.status_code == 400
    absence.refresh_from_db()
    assert absence.ends_on == day(4)


def test_ending_an_absence_from_the_page(as_head, head, away, standin):
    absence = absence_create(by=head, user=away, starts_on=day(-2), ends_on=day(2), substitute=standin)
    url = reverse("accounts:absence-end", args=[absence.pk])
    page = as_head.get(url)
    assert page.status_code == 200 and not page.context["upcoming"]
    assert as_head.post(url).status_code == 302
    absence.refresh_from_db()
    assert absence.ends_on == day(-1)
    # a second click finds it over: a message, not an error page
    response = as_head.post(url, follow=True, headers={"Accept-Language": "en"})
    assert response.status_code == 200 and "already over" in response.content.decode()


@pytest.mark.parametrize("rows", [5, 50])
def test_absence_list_query_count_is_pinned(as_head, django_assert_num_queries, rows):
    standin = UserFactory(username="standin")
    for n in range(rows):
        user = UserFactory(username=f"away{n}")
        Absence.objects.create(user=user, starts_on=day(n % 3 - 1), ends_on=day(5), substitute=standin)
        task_for(user)
    # session, user, the absences with who and substitute joined and their open tasks counted in the same query
    with django_assert_num_queries(3):
        response = as_head.get(reverse("accounts:absence-list"))
    assert len(response.context["absences"]) == rows


# --- who may -----------------------------------------------------------------------------------------------------


def test_anonymous_is_sent_to_sign_in(head, away, standin):
    absence = absence_create(by=head, user=away, starts_on=day(1), ends_on=day(2), substitute=standin)
    web = DjangoTestClient()
    for name, args in (
        ("absence-list", []),
        ("absence-create", []),
        ("absence-edit", [absence.pk]),
        ("absence-end", [absence.pk]),
    ):
        response = web.get(reverse(f"accounts:{name}", args=args))
        assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
    web.post(reverse("accounts:absence-end", args=[absence.pk]))
    assert Absence.objects.filter(pk=absence.pk).exists()


@pytest.mark.parametrize("role", ["manager", "head", "advisor", "transport_head", "integration"])
def test_only_the_head_manages_absences_and_a_refused_post_changes_nothing(users, role):
    away, standin = UserFactory(username="away"), UserFactory(username="standin")
    absence = Absence.objects.create(user=away, starts_on=day(1), ends_on=day(9), substitute=standin)
    web = DjangoTestClient()
    web.force_login(users[role])
    allowed = role == "head"
    pages = [
        reverse("accounts:absence-list"),
        reverse("accounts:absence-create"),
        reverse("accounts:absence-edit", args=[absence.pk]),
        reverse("accounts:absence-end", args=[absence.pk]),
    ]
    for url in pages:
        assert web.get(url).status_code == (200 if allowed else 403), url
    if allowed:
        return
    post = {"user": away.pk, "starts_on": day(1), "ends_on": day(2), "substitute": standin.pk}
    assert (
        web.post(reverse("accounts:absence-create"), {**post, "starts_on": day(20), "ends_on": day(21)}).status_code
        == 403
    )
    assert web.post(reverse("accounts:absence-edit", args=[absence.pk]), post).status_code == 403
    assert web.post(reverse("accounts:absence-end", args=[absence.pk])).status_code == 403
    absence.refresh_from_db()
    assert (Absence.objects.count(), absence.ends_on) == (1, day(9))
    assert users[role].role != Role.HEAD
