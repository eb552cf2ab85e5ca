"""The loaner inside the workshop booking, through the pages and the API: the form and the slot picker take "needs a
loaner", the free slots say which have a loaner free too, the booking and its loaner are made together or not at all,
the booking card shows the loaner."""

import pytest
from django.urls import reverse

from bookings.models import Booking
from fleet.models import Reservation
from fleet.services.reservations import reservation_create
from tests.factories import BookingFactory, ClientFactory
from tests.fleet.conftest import moment

pytestmark = pytest.mark.django_db


def slot_key(advisor, when) -> str:
    return f"{advisor.pk}@{when.isoformat()}"


def form(car_owner, petrov, to2, day, hour=10, **extra):
    return {
        "service_types": [to2.pk],
        "day": day.isoformat(),
        "slot": slot_key(petrov, moment(day, hour)),
        "source": "call",
        **extra,
    }


def test_the_form_books_a_visit_with_a_loaner_and_the_card_shows_it(as_manager, loaner, car_owner, petrov, to2, day):
    url = reverse("bookings:create") + f"?client={car_owner.pk}"
    assert 'name="needs_loaner"' in as_manager.get(url).content.decode()
    response = as_manager.post(url, form(car_owner, petrov, to2, day, needs_loaner="on"))
    booking = Booking.objects.get()
    assert response.status_code == 302
    reservation = Reservation.objects.get(booking=booking)
    assert reservation.car == loaner
    card = as_manager.get(booking.get_absolute_url()).content.decode()
    assert 'id="booking-loaner"' in card and loaner.plate in card


def test_no_free_loaner_is_a_form_error_and_nothing_is_booked(as_manager, loaner, car_owner, petrov, to2, day):
    reservation_create(by=None, car=loaner, client=ClientFactory(), starts_at=moment(day, 8), ends_at=moment(day, 18))
    as_manager.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    url = reverse("bookings:create") + f"?client={car_owner.pk}"
    response = as_manager.post(url, form(car_owner, petrov, to2, day, needs_loaner="on"))
    assert response.status_code == 400
    assert "No loaner is free" in response.content.decode()
    assert not Booking.objects.exists() and Reservation.objects.count() == 1


def test_the_slot_picker_marks_the_slots_with_a_loaner_free(as_manager, loaner, petrov, to2, day):
    # the loaner is taken from 13:00, so only visits whose work (3 h) and buffer (1 h) end by then get one
    reservation_create(by=None, car=loaner, client=ClientFactory(), starts_at=moment(day, 13), ends_at=moment(day, 18))
    url = reverse("bookings:slots") + f"?day={day}&service_types={to2.pk}&needs_loaner=on"
    page = as_manager.get(url).content.decode()
    assert (
        f'data-slot="{slot_key(petrov, moment(day, 8))}" role="radio" aria-checked="false" data-needs_loaner="1"'
        in page
    )
    assert (
        f'data-slot="{slot_key(petrov, moment(day, 10))}" role="radio" aria-checked="false" data-needs_loaner="0"'
        in page
    )
    plain = as_manager.get(reverse("bookings:slots") + f"?day={day}&service_types={to2.pk}").content.decode()
    assert "data-needs_loaner" not in plain


def test_the_api_answers_free_slots_with_the_loaner_and_books_all_or_nothing(
    api_as_manager, loaner, car_owner, petrov, to2, day
):
    reservation_create(by=None, car=loaner, client=ClientFactory(), starts_at=moment(day, 13), ends_at=moment(day, 18))
    slots = api_as_manager.get(f"/api/v1/free-slots/?date_from={day}&service_types={to2.pk}&needs_loaner=true").json()
    by_time = {s["starts_at"]: s["needs_loaner"] for s in slots}
    assert by_time[moment(day, 8).isoformat()] is True and by_time[moment(day, 10).isoformat()] is False
    body = {"client": car_owner.pk, "advisor": petrov.pk, "service_types": [to2.pk], "needs_loaner": True}
    response = api_as_manager.post(
        "/api/v1/bookings/", body | {"starts_at": moment(day, 10).isoformat()}, format="json"
    )
    assert response.status_code == 409 and "needs_loaner" in response.json()
    assert not Booking.objects.exists()
    response = api_as_manager.post("/api/v1/bookings/", body | {"starts_at": moment(day, 8).isoformat()}, format="json")
    assert response.status_code == 201
    assert Reservation.objects.get(booking_id=response.json()["id"]).car == loaner


def test_moving_a_visit_with_a_loaner_marks_the_slots_that_keep_it(as_manager, loaner, car_owner, petrov, to2, day):
    url = reverse("bookings:create") + f"?client={car_owner.pk}"
    as_manager.post(url, form(car_owner, petrov, to2, day, needs_loaner="on"))
    booking = Booking.objects.get()
    page = as_manager.get(reverse("bookings:reschedule", args=[booking.pk])).content.decode()
    assert 'name="needs_loaner" value="on"' in page
    # the visit's own loaner does not count against it: its own time is still marked free
    slots = reverse("bookings:slots") + f"?day={day}&booking={booking.pk}&needs_loaner=on"
    page = as_manager.get(slots).content.decode()
    assert (
        f'data-slot="{slot_key(petrov, moment(day, 11))}" role="radio" aria-checked="false" data-needs_loaner="1"'
        in page
    )
    booking_without = BookingFactory(client=car_owner, area=to2.area, advisor=petrov, starts_at=moment(day, 15))
    page = as_manager.get(reverse("bookings:reschedule", args=[booking_without.pk])).content.decode()
    assert 'name="needs_loaner"' not in page
