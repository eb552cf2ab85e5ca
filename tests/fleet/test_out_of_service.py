"""A car sent to maintenance or retired leaves no reservation on a car that will not be there: a loaner's moves to
another loaner free then, what cannot move (and a test drive's, whose client chose that car) is released, and each
reservation's manager is told which. A car back with a problem does the same with what starts before its inspection
could close (the end of the next working day); later reservations wait for the transport head's word."""

from datetime import date, timedelta

import pytest
from django.urls import reverse

from clientdesk.models import Notification
from fleet.models import FleetCar, Reservation
from fleet.services.acts import Mark, reservation_check_in, reservation_check_out
from fleet.services.cars import car_clear, car_retire, car_to_maintenance
from fleet.services.reservations import reservation_create
from tests.bookings.conftest import working_day
from tests.factories import ClientFactory, UserFactory
from tests.fleet.conftest import far, make_car, moment

pytestmark = pytest.mark.django_db


def reserve(car, day, start, end, *, by, kind=Reservation.Kind.LOANER):
    return reservation_create(
        by=by, car=car, client=ClientFactory(), starts_at=moment(day, start), ends_at=moment(day, end), kind=kind
    )


def test_maintenance_moves_what_another_loaner_can_take_and_releases_the_rest(day, manager, transport_head):
    # given two loaners: the first reserved at 9 and at 14, the second busy from 13
    broken, spare = make_car(), make_car()
    other_manager = UserFactory(role="manager")
    morning = reserve(broken, day, 9, 11, by=manager)
    afternoon = reserve(broken, day, 14, 16, by=other_manager)
    reserve(spare, day, 13, 18, by=manager)
    # when the transport head sends the first to maintenance
    step = car_to_maintenance(car=broken, by=transport_head, note="стук в подвеске")
    # then the morning goes to the spare loaner and the afternoon (the spare is taken then) is released
    morning.refresh_from_db()
    afternoon.refresh_from_db()
    assert step.car.state == FleetCar.State.IN_MAINTENANCE
    assert morning.car == spare and morning.status == "reserved" and morning.starts_at == moment(day, 9)
    assert afternoon.status == "cancelled" and broken.plate in afternoon.cancel_reason
    assert [r.pk for r in step.rehoused.moved] == [morning.pk] and [r.pk for r in step.rehoused.released] == [
        afternoon.pk
    ]
    assert not Reservation.objects.holding().filter(car=broken).exists()
    # and each reservation's own manager is told, once, with a link to it
    told = {(n.user_id, n.url) for n in Notification.objects.all()}
    assert told == {(manager.pk, morning.get_absolute_url()), (other_manager.pk, afternoon.get_absolute_url())}
    assert spare.plate in Notification.objects.get(user=manager).title


def test_a_retired_demo_cars_test_drive_is_released_not_moved(day, manager, transport_head):
    # given a demo car with a test drive booked, and another demo car free
    retired, other = make_car(use=FleetCar.Use.DEMO), make_car(use=FleetCar.Use.DEMO)
    drive = reserve(retired, day, 10, 11, by=manager, kind=Reservation.Kind.TEST_DRIVE)
    # when it is retired
    step = car_retire(car=retired, by=transport_head, note="продан")
    # then the drive is released (the client chose that car) and its manager told to agree another
    drive.refresh_from_db()
    assert step.car.state == FleetCar.State.RETIRED and step.rehoused.released == (drive,)
    assert drive.status == "cancelled" and drive.car == retired
    assert not Reservation.objects.filter(car=other).exists()
    assert Notification.objects.get(user=manager).url == drive.get_absolute_url()


def test_the_car_page_action_says_what_became_of_the_reservations(day, manager, transport_head, web):
    broken, spare = make_car(), make_car()
    moved = reserve(broken, day, 9, 11, by=manager)
    web.force_login(transport_head)
    web.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    url = reverse("fleet:car-action", args=[broken.pk, "maintenance"])
    page = web.post(url, {"note": "ТО"}, follow=True).content.decode()
    assert "Moved to other cars" in page and spare.plate in page and moved.client.name in page


def a_monday() -> date:
    """A Monday at least two days ahead: its next working day is the Tuesday after (the default week)."""
    day = working_day()
    return day - timedelta(days=day.weekday()) + timedelta(days=7 if day.weekday() else 0)


def lend_and_take_back(car, monday, *, by, travel, **problem):
    """The car out with a client from 9 on Monday and back at 14 (with the problem given)."""
    travel(moment(monday, 9))
    out = reserve(car, monday, 9, 13, by=by, kind=Reservation.Kind.TEST_DRIVE if car.use == "demo" else "loaner")
    licence = {"licence_number": "77 12 345678", "licence_valid_until": far()}
    reservation_check_out(
        reservation=out, by=by, mileage_km=12000, fuel_percent=80, signatures_confirmed=True, **licence
    )
    travel(moment(monday, 14))
    reservation_check_in(
        reservation=out, by=by, mileage_km=12100, fuel_percent=60, signatures_confirmed=True, **problem
    )


def test_a_loaner_back_with_a_problem_gives_up_what_starts_before_its_inspection_could_close(
    manager, transport_head, travel
):
    # given a loaner reserved again on Tuesday at 9 and at 15 and on Wednesday at 10, and a spare busy Tuesday afternoon
    monday = a_monday()
    tuesday, wednesday = monday + timedelta(days=1), monday + timedelta(days=2)
    broken, spare = make_car(), make_car()
    other_manager = UserFactory(role="manager")
    travel(moment(monday, 8))
    early = reserve(broken, tuesday, 9, 11, by=manager)
    late = reserve(broken, tuesday, 15, 17, by=other_manager)
    later = reserve(broken, wednesday, 10, 12, by=manager)
    reserve(spare, tuesday, 14, 19, by=manager)
    # when it comes back on Monday with a new dent (it needs the transport head's inspection)
    lend_and_take_back(broken, monday, by=manager, travel=travel, marks=[Mark("left_front", "dent")])
    # then Tuesday's (before the inspection could close, at Tuesday's close) go: the morning to the spare loaner,
    # the afternoon (the spare is taken then) released
    for reservation in (early, late, later):
        reservation.refresh_from_db()
    assert FleetCar.objects.get(pk=broken.pk).state == FleetCar.State.NEEDS_INSPECTION
    assert (early.car, early.status, early.starts_at) == (spare, "reserved", moment(tuesday, 9))
    assert late.status == "cancelled" and broken.plate in late.cancel_reason
    # and Wednesday's stays with the car: it is cleared by then, or sent to maintenance, which moves it then
    assert (later.car, later.status) == (broken, "reserved")
    # and each reservation's manager is told (beside the transport head, told of the problem)
    told = {(n.user_id, n.url) for n in Notification.objects.exclude(user=transport_head)}
    assert told == {(manager.pk, early.get_absolute_url()), (other_manager.pk, late.get_absolute_url())}
    step = car_clear(car=broken, by=transport_head, note="вмятина в допуске")
    assert step.car.state == FleetCar.State.AVAILABLE and step.rehoused.moved == ()


def test_a_demo_car_back_with_a_warning_lamp_releases_the_next_days_test_drive(manager, transport_head, travel):
    monday = a_monday()
    demo, other = make_car(use=FleetCar.Use.DEMO), make_car(use=FleetCar.Use.DEMO)
    travel(moment(monday, 8))
    drive = reserve(demo, monday + timedelta(days=1), 10, 11, by=manager, kind=Reservation.Kind.TEST_DRIVE)
    lend_and_take_back(demo, monday, by=manager, travel=travel, warning_lamp=True)
    drive.refresh_from_db()
    assert (drive.status, drive.car) == ("cancelled", demo)
    assert not Reservation.objects.filter(car=other).exists()


def test_a_car_back_without_a_problem_keeps_its_reservations(manager, travel):
    monday = a_monday()
    car, _spare = make_car(), make_car()
    travel(moment(monday, 8))
    tomorrow = reserve(car, monday + timedelta(days=1), 9, 11, by=manager)
    lend_and_take_back(car, monday, by=manager, travel=travel)
    tomorrow.refresh_from_db()
    assert (tomorrow.car, tomorrow.status) == (car, "reserved") and not Notification.objects.exists()
