"""A car sent to maintenance or retired leaves no reservation on a car that will not be there: a loaner's moves to
another loaner free then, what cannot move (and a test drive's, whose client chose that car) is released, and each
reservation's manager is told which."""

import pytest
from django.urls import reverse

from clientdesk.models import Notification
from fleet.models import FleetCar, Reservation
from fleet.services.cars import car_retire, car_to_maintenance
from fleet.services.reservations import reservation_create
from tests.factories import ClientFactory, UserFactory
from tests.fleet.conftest import make_car, moment

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
    car = car_to_maintenance(car=broken, by=transport_head, note="стук в подвеске")
    # then the morning goes to the spare loaner and the afternoon (the spare is taken then) is released
    morning.refresh_from_db()
    afternoon.refresh_from_db()
    assert car.state == FleetCar.State.IN_MAINTENANCE
    assert morning.car == spare and morning.status == "reserved" and morning.starts_at == moment(day, 9)
    assert afternoon.status == "cancelled" and broken.plate in afternoon.cancel_reason
    assert [r.pk for r in car.rehoused.moved] == [morning.pk] and [r.pk for r in car.rehoused.released] == [
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
    car = car_retire(car=retired, by=transport_head, note="продан")
    # then the drive is released (the client chose that car) and its manager told to agree another
    drive.refresh_from_db()
    assert car.state == FleetCar.State.RETIRED and drive.status == "cancelled" and drive.car == retired
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
