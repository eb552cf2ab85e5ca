import pytest

from bookings.models import Booking
from reception.models import TowOrder
from tests.reception.conftest import take_order

pytestmark = pytest.mark.django_db

TOW = "/api/v1/tow-orders/"


def test_an_order_is_taken_and_worked_through_the_api(api_as_manager, car_owner, contractor, diagnostics, petrov, noon):
    response = api_as_manager.post(
        TOW,
        {"client": car_owner.pk, "pickup_address": "МКАД 41", "phone_on_site": "8 912 345 67 89", "problem": "wheel"},
        format="json",
    )
    assert response.status_code == 201, response.content
    order_id = response.json()["id"]
    assert response.json()["phone_on_site"] == "+79123456789"
    dispatched = api_as_manager.post(f"{TOW}{order_id}/dispatch/", {"contractor": contractor.pk}, format="json")
    assert dispatched.json()["status"] == "dispatched"
    assert api_as_manager.post(f"{TOW}{order_id}/on-the-way/").json()["status"] == "on_the_way"
    first = api_as_manager.post(f"{TOW}{order_id}/delivered/").json()
    again = api_as_manager.post(f"{TOW}{order_id}/delivered/").json()
    assert first["status"] == again["status"] == "delivered"
    assert first["booking"] == again["booking"] == Booking.objects.get().pk
    assert api_as_manager.post(f"{TOW}{order_id}/cost/", {"cost": "3900"}, format="json").json()["cost"] == "3900.00"


def test_an_illegal_step_is_409_and_changes_nothing(api_as_manager, manager, car_owner):
    order = take_order(by=manager, client=car_owner)
    response = api_as_manager.post(f"{TOW}{order.pk}/on-the-way/")
    assert response.status_code == 409 and "status" in response.json()
    order.refresh_from_db()
    assert order.status == "new" and order.transitions.count() == 1


def test_cancel_needs_a_reason(api_as_manager, manager, car_owner):
    order = take_order(by=manager, client=car_owner)
    assert api_as_manager.post(f"{TOW}{order.pk}/cancel/", {}, format="json").status_code == 400
    assert api_as_manager.post(f"{TOW}{order.pk}/cancel/", {"reason": "сам"}, format="json").status_code == 200


def test_a_new_caller_by_name_and_the_list_filters(api_as_manager):
    response = api_as_manager.post(
        TOW, {"client_name": "Новый", "pickup_address": "тут", "phone_on_site": "+79160000001"}, format="json"
    )
    assert response.status_code == 201, response.content
    assert api_as_manager.get(TOW, {"status": "new"}).json()["results"][0]["overdue"] is False
    assert api_as_manager.get(TOW, {"status": "delivered"}).json()["results"] == []
    assert (
        api_as_manager.post(TOW, {"pickup_address": "тут", "phone_on_site": "+79160000001"}, format="json").status_code
        == 400
    )


def test_the_dms_reads_but_does_not_take_orders(dms_api, manager, car_owner):
    take_order(by=manager, client=car_owner)
    assert dms_api.get(TOW).status_code == 200
    response = dms_api.post(TOW, {"client": car_owner.pk, "pickup_address": "x", "phone_on_site": "+79160000001"})
    assert response.status_code == 403
    assert TowOrder.objects.count() == 1


@pytest.mark.parametrize("rows", [5, 50])
def test_list_endpoint_query_count_is_pinned(api_as_manager, django_assert_num_queries, car_owner, rows):
    for n in range(rows):
        TowOrder.objects.create(client=car_owner, pickup_address=f"адрес {n}", phone_on_site="+79123456789")
    # the orders (+ client, vehicle, contractor)
    with django_assert_num_queries(1):
        response = api_as_manager.get(TOW)
    assert len(response.json()["results"]) == rows
