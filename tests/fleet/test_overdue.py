"""A car not back when due: flagged once by the beat task, announced, and the calls app makes exactly one callback
task for the client; the manager's day lists the overdue cars."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from calls.models import CallTask
from calls.services.loaners import loaner_return_task_create
from fleet.models import Reservation
from fleet.services.acts import reservation_check_in, reservation_check_out
from fleet.services.overdue import overdue_returns_flag
from fleet.services.reservations import reservation_create
from fleet.tasks import flag_overdue_returns
from tests.factories import ClientFactory, UserFactory
from tests.fleet.conftest import make_car
from tests.fleet.test_pages import out_now

pytestmark = pytest.mark.django_db


def test_an_overdue_return_makes_exactly_one_callback_task(manager, django_capture_on_commit_callbacks):
    reservation = out_now(make_car(), hours_ago=5, due_in=-1)
    on_time = out_now(make_car(), hours_ago=1, due_in=2)
    with django_capture_on_commit_callbacks(execute=True):
        assert flag_overdue_returns() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert flag_overdue_returns() == 0  # a second beat finds nothing new
    task = CallTask.objects.get()
    assert task.kind == "loaner" and task.loaner_reservation == reservation and task.client == reservation.client
    assert task.status == "open" and task.due_at >= timezone.now() - timedelta(minutes=1)
    # the announcement delivered again (a retry, a replay) makes nothing new
    assert loaner_return_task_create(reservation_id=reservation.pk, now=timezone.now()) == task
    assert CallTask.objects.count() == 1
    on_time.refresh_from_db()
    assert on_time.overdue_flagged_at is None


def test_a_car_back_before_the_announcement_is_delivered_needs_no_call(manager):
    reservation = out_now(make_car(), hours_ago=5, due_in=-1)
    overdue_returns_flag(now=timezone.now())
    reservation_check_in(
        reservation=reservation, by=manager, mileage_km=20000, fuel_percent=50, signatures_confirmed=True
    )
    assert loaner_return_task_create(reservation_id=reservation.pk, now=timezone.now()) is None
    assert not CallTask.objects.exists()
    assert Reservation.objects.get(pk=reservation.pk).overdue_flagged_at is not None


def test_the_managers_day_lists_the_overdue_cars(as_manager):
    assert 'id="overdue-loaners"' not in as_manager.get(reverse("calls:queue")).content.decode()  # none: no block
    reservation = out_now(make_car(), hours_ago=5, due_in=-1)
    out_now(make_car(), hours_ago=1, due_in=2)
    page = as_manager.get(reverse("calls:queue")).content.decode()
    block = page.split('id="overdue-loaners"')[1]
    assert reservation.client.name in block and block.split("</ul>")[0].count("<li>") == 1


def test_the_callback_goes_to_the_manager_who_handed_the_car_over(manager, licence):
    # given a loaner reserved by one manager (over the phone) and handed over by another (at the desk)
    desk = UserFactory(role="manager")
    now = timezone.now()
    reservation = reservation_create(
        by=manager,
        car=make_car(),
        client=ClientFactory(),
        starts_at=now + timedelta(minutes=1),
        ends_at=now + timedelta(hours=2),
    )
    reservation_check_out(
        reservation=reservation, by=desk, mileage_km=12000, fuel_percent=80, signatures_confirmed=True, **licence
    )
    Reservation.objects.filter(pk=reservation.pk).update(
        starts_at=now - timedelta(hours=3), ends_at=now - timedelta(hours=1), free_from=now
    )
    # when the return is overdue
    task = loaner_return_task_create(reservation_id=reservation.pk, now=timezone.now())
    # then the one who handed it over calls the client
    assert task.assignee == desk
    # and when she is no longer at work, the one who reserved it does
    CallTask.objects.all().delete()
    desk.is_active = False
    desk.save(update_fields=["is_active"])
    assert loaner_return_task_create(reservation_id=reservation.pk, now=timezone.now()).assignee == manager
