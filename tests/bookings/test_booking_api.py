import pytest
from django.db import connection

from bookings.models import Booking
from bookings.services.bookings import booking_create
from tests.bookings.conftest import moment

pytestmark = pytest.mark.django_db

BOOKINGS = "/api/v1/bookings/"


def payload(client, advisor, when, types, **extra):
    return {
        "client": client.pk,
        "advisor": advisor.pk,
        "starts_at": when.isoformat(),
        "service_types": [t.pk for t in types],
        **extra,
    }


def test_dms_books_and_works_a_visit_through_actions(dms_api, car_owner, petrov, to2, day, travel):
    response = dms_api.post(BOOKINGS, payload(car_owner, petrov, moment(day, 10), [to2], source="dms"), format="json")
    assert response.status_code == 201, response.content
    booking_id = response.json()["id"]
    assert (
        dms_api.post(f"{BOOKINGS}{booking_id}/confirm/", {"note": "клиент подтвердил"}, format="json").json()["status"]
        == "confirmed"
    )
    travel(moment(day, 9, 45))
    assert dms_api.post(f"{BOOKINGS}{booking_id}/arrived/").json()["status"] == "arrived"
    # the DMS may not take a car into service: that is the advisor's
    assert dms_api.post(f"{BOOKINGS}{booking_id}/start/").status_code == 403


@pytest.mark.parametrize("action", ["arrived", "no-show"])
def test_arrival_or_no_show_before_the_visit_is_409_and_changes_nothing(
    api_as_manager, manager, car_owner, petrov, to2, day, action
):
    booking = booking_create(
        by=manager, client=car_owner, advisor=petrov, starts_at=moment(day, 10), service_types=[to2]
    )
    response = api_as_manager.post(f"{BOOKINGS}{booking.pk}/{action}/", headers={"Accept-Language": "en"})
    assert response.status_code == 409, response.content
    assert "status" in response.json()
    booking.refresh_from_db()
    assert (booking.status, booking.arrived_at, booking.transitions.count()) == ("scheduled", None, 1)


def test_taken_slot_is_409_with_alternatives(api_as_manager, manager, car_owner, petrov, to2, day):
    booking_create(by=manager, client=car_owner, advisor=petrov, starts_at=moment(day, 10), service_types=[to2])
    response = api_as_manager.post(BOOKINGS, payload(car_owner, petrov, moment(day, 10), [to2]), format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["alternatives"] and {"advisor", "advisor_name", "starts_at"} <= set(body["alternatives"][0])
    assert Booking.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"starts_at": "tomorrow"}, "starts_at"),
        ({"advisor": 999999}, "advisor"),
        ({"client": None}, "client"),
        ({"service_types": [999999]}, "service_types"),
        ({"planned_minutes": -5}, "planned_minutes"),
        ({"source": "pigeon"}, "source"),
    ],
)
def test_bad_booking_input_is_400(api_as_manager, car_owner, petrov, to2, day, change, field):
    body = payload(car_owner, petrov, moment(day, 10), [to2])
    body.update(change)
    response = api_as_manager.post(BOOKINGS, body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Booking.objects.exists()


def test_no_services_and_no_area_is_400(api_as_manager, car_owner, petrov, day):
    response = api_as_manager.post(BOOKINGS, payload(car_owner, petrov, moment(day, 10), []), format="json")
    assert response.status_code == 400
    assert "service_types" in response.json()


def test_illegal_transition_is_409_and_cancel_needs_a_reason(api_as_manager, manager, car_owner, petrov, to2, day):
    booking = booking_create(
        by=manager, client=car_owner, advisor=petrov, starts_at=moment(day, 10), service_types=[to2]
    )
    assert api_as_manager.post(f"{BOOKINGS}{booking.pk}/complete/").status_code == 409
    assert api_as_manager.post(f"{BOOKINGS}{booking.pk}/cancel/", {}, format="json").status_code == 400
    response = api_as_manager.post(f"{BOOKINGS}{booking.pk}/cancel/", {"reason": "передумал"}, format="json")
    assert response.json()["status"] == "cancelled"
    assert api_as_manager.post(f"{BOOKINGS}{booking.pk}/confirm/").status_code == 409


def test_reschedule_action(api_as_manager, manager, car_owner, petrov, to2, day):
    booking = booking_create(
        by=manager, client=car_owner, advisor=petrov, starts_at=moment(day, 10), service_types=[to2]
    )
    response = api_as_manager.post(
        f"{BOOKINGS}{booking.pk}/reschedule/", {"starts_at": moment(day, 16).isoformat()}, format="json"
    )
    assert response.status_code == 200
    assert booking.transitions.last().old_starts_at == moment(day, 10)


def test_list_filters(api_as_manager, manager, car_owner, petrov, sidorov, to2, day):
    mine = booking_create(by=manager, client=car_owner, advisor=petrov, starts_at=moment(day, 10), service_types=[to2])
    booking_create(by=manager, client=car_owner, advisor=sidorov, starts_at=moment(day, 10), service_types=[to2])
    response = api_as_manager.get(BOOKINGS, {"advisor": petrov.pk, "day": day.isoformat()})
    assert [b["id"] for b in response.json()["results"]] == [mine.pk]
    assert api_as_manager.get(BOOKINGS, {"status": "nonsense"}).status_code == 400


def test_free_slots_endpoint(api_as_manager, manager, car_owner, petrov, to2, day):
    booking_create(by=manager, client=car_owner, advisor=petrov, starts_at=moment(day, 10), service_types=[to2])
    response = api_as_manager.get("/api/v1/free-slots/", {"date_from": day.isoformat(), "service_types": to2.pk})
    assert response.status_code == 200
    starts = {s["starts_at"] for s in response.json()}
    assert moment(day, 10).isoformat() not in starts
    assert moment(day, 10, 30).isoformat() in starts


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"date_from": "yesterday", "service_types": 1},
        {"date_from": "2030-01-10", "date_to": "2030-01-01", "service_types": 1},
        {"date_from": "2030-01-01", "date_to": "2030-03-01", "service_types": 1},
        {"date_from": "2030-01-01", "service_types": "abc"},
    ],
)
def test_free_slots_bad_input_is_400(api_as_manager, to2, params):
    assert api_as_manager.get("/api/v1/free-slots/", params).status_code == 400


@pytest.mark.parametrize("rows", [5, 50])
def test_booking_list_endpoint_query_count_is_pinned(
    api_as_manager, django_assert_num_queries, car_owner, to2, day, rows
):
    from tests.bookings.test_booking_pages import _fill

    _fill(rows, car_owner, to2.area, day)
    # the page with its service types in one query on PostgreSQL (the read plan in clientdesk.api); two elsewhere
    with django_assert_num_queries(1 if connection.vendor == "postgresql" else 2):
        response = api_as_manager.get(BOOKINGS, {"page_size": 100})
    assert len(response.json()["results"]) == rows
