"""Sensible maxima for bookings (issue 9, item 16): at most 20 service types on one visit, refused with a 400 (API)
or a field error before any id is looked up; the free-slot query has the same bound."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bookings.models import Booking, BookingTransition
from bookings.services.bookings import MAX_SERVICE_TYPES, booking_create, plan_for
from tests.bookings.conftest import moment
from tests.factories import ServiceTypeFactory

pytestmark = pytest.mark.django_db

BOOKINGS = "/api/v1/bookings/"


def test_the_service_refuses_more_than_twenty_services(manager, car_owner, petrov, area, day):
    types = [ServiceTypeFactory(area=area, standard_minutes=5) for _ in range(MAX_SERVICE_TYPES + 1)]
    with pytest.raises(ValidationError) as refused:
        booking_create(by=manager, client=car_owner, advisor=petrov, starts_at=moment(day, 10), service_types=types)
    assert refused.value.message_dict == {"service_types": ["Choose at most 20 services for one visit."]}
    with pytest.raises(ValidationError):
        plan_for(types)
    assert not Booking.objects.exists()
    booking = booking_create(
        by=manager, client=car_owner, advisor=petrov, starts_at=moment(day, 10), service_types=types[:20]
    )
    assert booking.service_types.count() == 20


def test_five_thousand_service_ids_are_a_400_without_looking_them_up(api_as_manager, car_owner, petrov, to2, day):
    body = {
        "client": car_owner.pk,
        "advisor": petrov.pk,
        "starts_at": moment(day, 10).isoformat(),
        "service_types": [to2.pk] * 5000,
    }
    with CaptureQueriesContext(connection) as queries:
        response = api_as_manager.post(BOOKINGS, body, format="json", headers={"Accept-Language": "en"})
    assert response.status_code == 400, response.content[:300]
    assert response.json()["service_types"] == ["Choose at most 20 services for one visit."]
    assert len(queries) < 20  # the ids were never looked up one by one
    assert not Booking.objects.exists() and not BookingTransition.objects.exists()


def test_the_free_slots_query_has_the_same_bound(api_as_manager, to2, day):
    params = {"date_from": day.isoformat(), "service_types": [to2.pk] * 500}
    response = api_as_manager.get("/api/v1/free-slots/", params)
    assert response.status_code == 400, response.content[:300]
    assert "service_types" in response.json()


def test_a_whitespace_only_dms_id_is_none(manager, car_owner, petrov, to2, day):
    # issue 9, item 8: two bookings sent with a DMS id of spaces do not clash; a padded id is stored stripped
    first = booking_create(
        by=manager,
        client=car_owner,
        advisor=petrov,
        starts_at=moment(day, 9),
        service_types=[to2],
        planned_minutes=30,
        dms_id="   ",
    )
    second = booking_create(
        by=manager,
        client=car_owner,
        advisor=petrov,
        starts_at=moment(day, 13),
        service_types=[to2],
        planned_minutes=30,
        dms_id=" \t",
    )
    third = booking_create(
        by=manager,
        client=car_owner,
        advisor=petrov,
        starts_at=moment(day, 16),
        service_types=[to2],
        planned_minutes=30,
        dms_id=" B-7 ",
    )
    assert (first.dms_id, second.dms_id, third.dms_id) == ("", "", "B-7")
