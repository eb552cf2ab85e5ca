"""The active areas and advisors the board's filter and the calendars print are kept in the shared cache
(bookings.selectors.bookings.active_areas, advisor_names): a draw asks the database nothing about them while the entry
lives, and a committed change of an area, a user or an advisor profile shows on the very next draw."""

from unittest import mock

import pytest
from django.contrib.auth.signals import user_logged_in
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.roles import Role
from accounts.services.users import user_update
from bookings.selectors.bookings import ADVISORS_CACHE_KEY, AREAS_CACHE_KEY, active_areas, advisor_names, day_plan
from clientdesk.calendar import CALENDAR_CACHE_KEY

pytestmark = pytest.mark.django_db


def name_queries(read) -> int:
    with CaptureQueriesContext(connection) as queries:
        read()
    return sum("bookings_servicearea" in q["sql"] or "bookings_advisorprofile" in q["sql"] for q in queries)


def test_once_read_a_board_or_a_calendar_asks_nothing_about_areas_and_advisors(
    auth_cache, as_manager, day, to2, petrov
):
    board, calendar = reverse("bookings:board"), reverse("bookings:day")
    auth_cache.clear()  # the set-up's own changes long past: their "gone" marks expired
    assert name_queries(lambda: as_manager.get(board, {"day": day.isoformat()})) == 2
    assert name_queries(lambda: as_manager.get(board, {"day": day.isoformat()})) == 0
    assert name_queries(lambda: as_manager.get(calendar, {"day": day.isoformat()})) == 0


def test_without_the_cache_each_draw_reads_them():
    assert name_queries(active_areas) == 1 and name_queries(active_areas) == 1


def test_a_renamed_advisor_a_closed_area_and_a_retired_profile_show_on_the_next_draw(
    auth_cache, as_manager, day, to2, petrov, sidorov, django_capture_on_commit_callbacks
):
    assert {a.name for a in active_areas()} == {to2.area.name}
    assert {a.pk: a.receives for a in advisor_names()} == {petrov.pk: True, sidorov.pk: True}

    with django_capture_on_commit_callbacks(execute=True):
        petrov.last_name = "Петровский"
        petrov.save()
        sidorov.advisor_profile.is_active = False
        sidorov.advisor_profile.save()
        to2.area.is_active = False
        to2.area.save()

    assert active_areas() == []
    assert {a.pk: (a.name, a.receives) for a in advisor_names()} == {
        petrov.pk: (str(petrov), True),
        sidorov.pk: (str(sidorov), False),
    }
    page = as_manager.get(reverse("bookings:day"), {"day": day.isoformat()})
    assert [a.user_id for a in page.context["plan"].advisors] == [petrov.pk]
    assert "Петровский" in page.content.decode()


def test_a_sign_in_or_a_new_password_keeps_the_advisors_and_a_new_role_forgets_them(
    auth_cache, rf, petrov, django_capture_on_commit_callbacks
):
    auth_cache.clear()  # the set-up's own changes long past: their "gone" marks expired
    advisor_names()
    with django_capture_on_commit_callbacks(execute=True):
        user_logged_in.send(sender=type(petrov), request=rf.get("/"), user=petrov)  # saves last_login alone
        petrov.set_password("another-secret-1")
        petrov.save(update_fields=["password"])
    assert auth_cache.get(ADVISORS_CACHE_KEY) == advisor_names()

    with django_capture_on_commit_callbacks(execute=True):
        petrov.role = Role.MANAGER
        petrov.save(update_fields=["role"])
    assert advisor_names() == []


def test_a_managers_save_keeps_the_advisors_and_an_advisor_made_manager_leaves_them(
    auth_cache, manager, head, petrov, sidorov, django_capture_on_commit_callbacks
):
    auth_cache.clear()  # the set-up's own changes long past: their "gone" marks expired
    advisor_names()
    with django_capture_on_commit_callbacks(execute=True):
        user_update(user=manager, by=head, first_name="Мария-Анна")
    assert auth_cache.get(ADVISORS_CACHE_KEY) == advisor_names()

    with django_capture_on_commit_callbacks(execute=True):
        user_update(user=sidorov, by=head, role=Role.MANAGER)  # a full save: the entry lists him
    assert [advisor.pk for advisor in advisor_names()] == [petrov.pk]


def test_the_day_calendar_reads_its_rules_from_the_cache_in_one_round_trip(auth_cache, manager, day, to2, petrov):
    auth_cache.clear()  # the set-up's own changes long past: their "gone" marks expired
    day_plan(day, user=manager)  # fills the calendar's, the areas' and the advisors' entries
    with (
        mock.patch("clientdesk.caching.cache_get") as one_by_one,
        mock.patch.object(auth_cache, "get_many", wraps=auth_cache.get_many) as get_many,
        CaptureQueriesContext(connection) as queries,
    ):
        plan = day_plan(day, user=manager)
    assert one_by_one.call_count == 0
    assert get_many.call_count == 1
    assert set(get_many.call_args.args[0]) == {CALENDAR_CACHE_KEY, AREAS_CACHE_KEY, ADVISORS_CACHE_KEY}
    rules_tables = (
        "bookings_servicearea",
        "bookings_advisorprofile",
        "clientdesk_workinghours",
        "clientdesk_calendarday",
    )
    assert not [q for q in queries if any(table in q["sql"] for table in rules_tables)]
    assert [load.area.pk for load in plan.areas] == [to2.area.pk]
    assert [advisor.user_id for advisor in plan.advisors] == [petrov.pk]
    assert plan.hours is not None


def test_a_cache_that_errs_on_the_joint_read_leaves_the_day_calendar_to_the_database(
    auth_cache, as_manager, day, to2, petrov
):
    with mock.patch.object(auth_cache, "get_many", side_effect=ConnectionError("redis down")):
        page = as_manager.get(reverse("bookings:day"), {"day": day.isoformat()})
    assert page.status_code == 200
    assert [a.user_id for a in page.context["plan"].advisors] == [petrov.pk]
    assert to2.area.name in page.content.decode()
