"""Deliveries: the service rules, the form on the client card, the API with the DMS's idempotent upsert, and the
7-day follow-up call the planner makes of a recorded handover."""

from datetime import time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client as DjangoTestClient
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from calls.models import CallRules, CallTask
from calls.services.planning import follow_up_call_day, run_planners
from clientdesk.calendar import at, local_date
from clientdesk.errors import Conflict
from clients.models import Delivery, Vehicle
from clients.services.deliveries import delivery_record, delivery_update, delivery_upsert_by_dms_id
from tests.bookings.conftest import car_owner  # noqa: F401 - a fixture
from tests.concurrency import run_at_once
from tests.factories import ClientFactory, VehicleFactory

pytestmark = pytest.mark.django_db

DELIVERIES = "/api/v1/deliveries/"


def days_ago(days: int, hour: int = 15):
    return at(local_date(timezone.now()) - timedelta(days=days), time(hour))


def local_input(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def car(car_owner):  # noqa: F811 - the fixture imported above
    return car_owner.vehicles.get()


@pytest.fixture
def buyer(db):
    return ClientFactory(name="Покупателев Пётр", dms_id="BUYER-1")


# --- the service -------------------------------------------------------------------------------------------------


def test_a_handover_makes_the_buyer_the_owner_and_dates_the_car(manager, buyer, car):
    handed_over = days_ago(2)
    delivery = delivery_record(by=manager, client=buyer, vehicle=car, delivered_at=handed_over, sales_manager=" Ким ")
    car.refresh_from_db()
    assert (car.owner, car.delivered_at) == (buyer, handed_over)
    assert (delivery.client, delivery.sales_manager) == (buyer, "Ким")
    assert car.history.latest().history_user == manager
    assert delivery.history.get().history_user == manager


def test_an_older_handover_pushed_late_does_not_take_the_car_back(manager, buyer, car, car_owner):  # noqa: F811
    delivery_record(by=manager, client=buyer, vehicle=car, delivered_at=days_ago(2))
    delivery_record(by=manager, client=car_owner, vehicle=car, delivered_at=days_ago(400))
    car.refresh_from_db()
    assert (car.owner, car.delivered_at) == (buyer, days_ago(2))
    assert Delivery.objects.count() == 2


def test_a_merged_buyers_sale_goes_to_the_client_kept(manager, buyer, car):
    duplicate = ClientFactory(merged_into=buyer)
    delivery = delivery_record(by=manager, client=duplicate, vehicle=car, delivered_at=days_ago(1))
    assert delivery.client == buyer


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"delivered_at": timezone.now() + timedelta(days=1)}, "delivered_at"),
        ({"sales_manager": "Я" * 151}, "sales_manager"),
    ],
)
def test_bad_handovers_are_refused_and_change_nothing(manager, buyer, car, car_owner, change, field):  # noqa: F811
    fields = {"client": buyer, "vehicle": car, "delivered_at": days_ago(1), **change}
    with pytest.raises(ValidationError) as exc:
        delivery_record(by=manager, **fields)
    assert field in exc.value.message_dict
    car.refresh_from_db()
    assert not Delivery.objects.exists() and car.owner == car_owner and car.delivered_at is None


def test_a_dms_id_in_use_is_a_conflict_naming_the_holder(manager, buyer, car):
    held = delivery_record(by=manager, client=buyer, vehicle=car, delivered_at=days_ago(30), dms_id="S-1")
    other_car = VehicleFactory(owner=buyer)
    with pytest.raises(Conflict) as exc:
        delivery_record(by=manager, client=buyer, vehicle=other_car, delivered_at=days_ago(1), dms_id="S-1")
    assert (exc.value.field, exc.value.existing) == ("dms_id", held)
    assert Delivery.objects.count() == 1


def test_the_same_car_handed_over_twice_in_a_day_is_the_same_handover(manager, buyer, car):
    delivery_record(by=manager, client=buyer, vehicle=car, delivered_at=days_ago(1, hour=11))
    with pytest.raises(Conflict) as exc:
        delivery_record(by=manager, client=buyer, vehicle=car, delivered_at=days_ago(1, hour=16))
    assert exc.value.field == "delivered_at"
    assert Delivery.objects.count() == 1


def test_the_dms_upsert_twice_gives_one_row_and_updates_it(integration, buyer, car):
    first, created = delivery_upsert_by_dms_id(
        by=integration, dms_id="S-7", client=buyer, vehicle=car, delivered_at=days_ago(3), sales_manager="Ким"
    )
    again, created_again = delivery_upsert_by_dms_id(
        by=integration, dms_id="S-7", client=buyer, vehicle=car, delivered_at=days_ago(3), sales_manager="Ли"
    )
    assert (created, created_again) == (True, False)
    assert again.pk == first.pk and Delivery.objects.get().sales_manager == "Ли"


def test_the_dms_upsert_takes_over_a_handover_entered_by_hand(manager, integration, buyer, car):
    by_hand = delivery_record(by=manager, client=buyer, vehicle=car, delivered_at=days_ago(1, hour=10))
    pushed, created = delivery_upsert_by_dms_id(
        by=integration, dms_id="S-8", client=buyer, vehicle=car, delivered_at=days_ago(1, hour=10) + timedelta(hours=2)
    )
    assert not created and pushed.pk == by_hand.pk
    assert Delivery.objects.get().dms_id == "S-8"


def test_the_dms_upsert_of_a_new_sale_needs_the_whole_record(integration, buyer):
    with pytest.raises(ValidationError) as exc:
        delivery_upsert_by_dms_id(by=integration, dms_id="S-9", client=buyer)
    assert set(exc.value.message_dict) == {"vehicle", "delivered_at"}
    assert not Delivery.objects.exists()


def test_a_corrected_handover_moves_its_follow_up_not_yet_tried(
    manager, buyer, car, django_capture_on_commit_callbacks
):
    delivery = delivery_record(by=manager, client=buyer, vehicle=car, delivered_at=days_ago(20))
    task = CallTask.objects.create(
        kind="follow_up", client=buyer, delivery=delivery, due_at=days_ago(13), next_attempt_at=days_ago(13)
    )
    with django_capture_on_commit_callbacks(execute=True):  # the calls app follows the correction after commit
        corrected = delivery_update(delivery=delivery, by=manager, delivered_at=days_ago(2))
    task.refresh_from_db()
    expected = at(follow_up_call_day(corrected), CallRules.current().calling_from)
    assert task.due_at == task.next_attempt_at == expected > timezone.now()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_dms_pushes_of_one_sale_give_one_row(integration):
    buyer = ClientFactory(dms_id="RACE-BUYER")
    car = VehicleFactory(owner=ClientFactory())

    def push(n: int) -> bool:
        _delivery, was_created = delivery_upsert_by_dms_id(
            by=integration,
            dms_id="S-RACE",
            client=buyer,
            vehicle=car,
            delivered_at=days_ago(1),
            sales_manager=str(n),
        )
        return was_created

    created, errors = run_at_once(10, push)

    assert errors == []
    assert created.count(True) == 1
    assert Delivery.objects.filter(dms_id="S-RACE").count() == 1
    assert Vehicle.objects.get(pk=car.pk).owner_id == buyer.pk


# --- the follow-up call ------------------------------------------------------------------------------------------


def _planned_on_the_right_day(delivery: Delivery, buyer) -> None:
    call_day = follow_up_call_day(delivery)
    assert run_planners(now=at(call_day - timedelta(days=1), time(20))).follow_ups == 0
    assert run_planners(now=at(call_day, time(8))).follow_ups == 1
    task = CallTask.objects.get()
    assert (task.kind, task.delivery, task.client) == ("follow_up", delivery, buyer)
    assert task.due_at == at(call_day, time(9))
    assert run_planners(now=at(call_day, time(12))).follow_ups == 0


def test_a_delivery_from_the_form_gets_its_follow_up_on_day_seven(as_manager, buyer, car):
    response = as_manager.post(
        reverse("clients:delivery-create", args=[buyer.pk]),
        {"vin": car.vin, "delivered_at": local_input(days_ago(3)), "sales_manager": "Ким"},
    )
    assert response.status_code == 302
    delivery = Delivery.objects.get()
    assert follow_up_call_day(delivery) >= local_date(delivery.delivered_at) + timedelta(days=7)
    _planned_on_the_right_day(delivery, buyer)


def test_a_delivery_pushed_by_the_dms_gets_its_follow_up_on_day_seven(dms_api, buyer, car):
    response = dms_api.put(
        f"{DELIVERIES}dms/S-1/",
        {"client_dms_id": buyer.dms_id, "vin": car.vin, "delivered_at": days_ago(4).isoformat()},
        format="json",
    )
    assert response.status_code == 201, response.content
    _planned_on_the_right_day(Delivery.objects.get(), buyer)


# --- the form ----------------------------------------------------------------------------------------------------


def test_the_form_preselects_the_clients_only_car(as_manager, car_owner, car):  # noqa: F811
    response = as_manager.get(reverse("clients:delivery-create", args=[car_owner.pk]))
    assert response.status_code == 200
    assert response.context["form"].initial["vehicle"] == car.pk


def test_the_form_records_the_clients_car_and_says_when_the_call_is(as_manager, car_owner, car):  # noqa: F811
    response = as_manager.post(
        reverse("clients:delivery-create", args=[car_owner.pk]),
        {"vehicle": car.pk, "delivered_at": local_input(days_ago(0, hour=0)), "dms_id": "S-2"},  # never ahead
        follow=True,
        headers={"Accept-Language": "en"},
    )
    assert response.redirect_chain[-1][0] == car_owner.get_absolute_url()
    assert "The follow-up call is planned for" in response.content.decode()
    delivery = Delivery.objects.get()
    assert (delivery.client, delivery.vehicle, delivery.dms_id) == (car_owner, car, "S-2")


def test_a_car_found_by_vin_changes_hands(as_manager, buyer, car, car_owner):  # noqa: F811
    response = as_manager.post(
        reverse("clients:delivery-create", args=[buyer.pk]),
        {"vin": "xta 21099 012345678", "delivered_at": local_input(days_ago(1))},
    )
    assert response.status_code == 302
    car.refresh_from_db()
    assert car.owner == buyer


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({}, "vin"),  # the buyer has no car on file: the VIN is asked for
        ({"vin": "XTA21099012345670"}, "vin"),  # no such car
        ({"vin": "XTA2109901234567O"}, "vin"),  # the letter O is never in a VIN
        ({"vin": "CAR", "delivered_at": "yesterday"}, "delivered_at"),
        ({"vin": "CAR", "delivered_at": "FUTURE"}, "delivered_at"),
        ({"vin": "CAR", "dms_id": "HELD"}, "dms_id"),
        ({"vin": "CAR", "sales_manager": "Я" * 151}, "sales_manager"),
    ],
)
def test_bad_form_input_is_400_with_field_errors_and_changes_nothing(as_manager, buyer, car, car_owner, data, field):  # noqa: F811
    other_car = VehicleFactory(owner=car_owner)
    held = Delivery.objects.create(client=car_owner, vehicle=other_car, delivered_at=days_ago(90), dms_id="HELD")
    data = {"delivered_at": local_input(days_ago(1)), **data}
    if data.get("vin") == "CAR":
        data["vin"] = car.vin
    if data["delivered_at"] == "FUTURE":
        data["delivered_at"] = local_input(timezone.now() + timedelta(days=2))
    response = as_manager.post(reverse("clients:delivery-create", args=[buyer.pk]), data)
    assert response.status_code == 400
    assert field in response.context["form"].errors, response.context["form"].errors
    assert list(Delivery.objects.all()) == [held]
    car.refresh_from_db()
    assert car.owner == car_owner


def test_choosing_a_car_and_another_cars_vin_is_refused(as_manager, car_owner, car):  # noqa: F811
    other = VehicleFactory(owner=ClientFactory())
    response = as_manager.post(
        reverse("clients:delivery-create", args=[car_owner.pk]),
        {"vehicle": car.pk, "vin": other.vin, "delivered_at": local_input(days_ago(1))},
    )
    assert response.status_code == 400 and "vin" in response.context["form"].errors
    assert not Delivery.objects.exists()


def test_a_merged_clients_card_has_no_delivery_form(as_manager, buyer):
    duplicate = ClientFactory(merged_into=buyer)
    assert as_manager.get(reverse("clients:delivery-create", args=[duplicate.pk])).status_code == 404


# --- the API -----------------------------------------------------------------------------------------------------


def test_create_by_ids_answers_201(api_as_manager, buyer, car):
    response = api_as_manager.post(
        DELIVERIES,
        {"client": buyer.pk, "vehicle": car.pk, "delivered_at": days_ago(1).isoformat(), "sales_manager": "Ким"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["client"], body["vehicle"], body["sales_manager"]) == (buyer.pk, car.pk, "Ким")
    assert api_as_manager.get(f"{DELIVERIES}{body['id']}/").json() == body


def test_create_by_dms_ids(api_as_manager, buyer):
    car = VehicleFactory(owner=ClientFactory(), dms_id="V-1")
    response = api_as_manager.post(
        DELIVERIES,
        {"client_dms_id": "BUYER-1", "vehicle_dms_id": "V-1", "delivered_at": days_ago(1).isoformat()},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert Vehicle.objects.get(pk=car.pk).owner == buyer


def test_the_dms_push_twice_gives_one_row(dms_api, buyer, car):
    body = {"client_dms_id": "BUYER-1", "vin": car.vin, "delivered_at": days_ago(2).isoformat(), "sales_manager": "Ким"}
    first = dms_api.put(f"{DELIVERIES}dms/S-5/", body, format="json")
    second = dms_api.put(f"{DELIVERIES}dms/S-5/", {**body, "sales_manager": "Ли"}, format="json")
    assert (first.status_code, second.status_code) == (201, 200), second.content
    assert first.json()["id"] == second.json()["id"]
    delivery = Delivery.objects.get()
    assert (delivery.dms_id, delivery.sales_manager) == ("S-5", "Ли")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "delivered_at"),
        ({"vehicle": "CAR", "delivered_at": "NOW"}, "client"),
        ({"client": "BUYER", "delivered_at": "NOW"}, "vehicle"),
        ({"client": 999999, "vehicle": "CAR", "delivered_at": "NOW"}, "client"),
        ({"client_dms_id": "NOBODY", "vehicle": "CAR", "delivered_at": "NOW"}, "client_dms_id"),
        ({"client": "BUYER", "vehicle_dms_id": "NOTHING", "delivered_at": "NOW"}, "vehicle_dms_id"),
        ({"client": "BUYER", "vin": "XTA21099012345670", "delivered_at": "NOW"}, "vin"),
        ({"client": "BUYER", "vin": "NOT-A-VIN", "delivered_at": "NOW"}, "vin"),
        ({"client": "BUYER", "vehicle": "CAR", "vin": "OTHER", "delivered_at": "NOW"}, "vin"),
        ({"client": "BUYER", "vehicle": "CAR", "delivered_at": "not a time"}, "delivered_at"),
        ({"client": "BUYER", "vehicle": "CAR", "delivered_at": "2999-01-01T10:00:00+03:00"}, "delivered_at"),
        ({"client": "BUYER", "vehicle": "CAR", "delivered_at": "NOW", "sales_manager": "Я" * 151}, "sales_manager"),
        ({"client": ["BUYER"], "vehicle": "CAR", "delivered_at": "NOW"}, "client"),
    ],
)
def test_bad_input_is_400_with_field_errors_and_changes_nothing(
    api_as_manager,
    buyer,
    car,
    car_owner,  # noqa: F811
    payload,
    field,
):
    other = VehicleFactory(owner=ClientFactory())
    names = {"BUYER": buyer.pk, "CAR": car.pk, "NOW": days_ago(0, hour=0).isoformat(), "OTHER": other.vin}
    payload = {
        key: ([names.get(v, v) for v in value] if isinstance(value, list) else names.get(value, value))
        for key, value in payload.items()
    }
    for path in (DELIVERIES, f"{DELIVERIES}dms/S-1/"):
        response = (api_as_manager.post if path == DELIVERIES else api_as_manager.put)(path, payload, format="json")
        assert response.status_code == 400, (path, response.content)
        assert field in response.json(), response.json()
    assert not Delivery.objects.exists()
    car.refresh_from_db()
    assert car.owner == car_owner


@pytest.mark.parametrize("body", ["not json", "[1, 2]", "null", '{"client": {"nested": 1}}', '{"delivered_at": []}'])
def test_garbage_bodies_never_500(api_as_manager, body):
    for method, path in (("post", DELIVERIES), ("put", f"{DELIVERIES}dms/S-1/")):
        response = getattr(api_as_manager, method)(path, body, content_type="application/json")
        assert response.status_code == 400, (method, response.content)
    assert not Delivery.objects.exists()


def test_a_dms_id_in_use_is_409_naming_the_holder(api_as_manager, buyer, car):
    held = Delivery.objects.create(client=buyer, vehicle=VehicleFactory(), delivered_at=days_ago(30), dms_id="S-1")
    response = api_as_manager.post(
        DELIVERIES,
        {"client": buyer.pk, "vehicle": car.pk, "delivered_at": days_ago(1).isoformat(), "dms_id": "S-1"},
        format="json",
    )
    assert response.status_code == 409
    assert response.json()["existing_id"] == held.pk and "dms_id" in response.json()
    assert Delivery.objects.count() == 1


def test_list_filters(api_as_manager, buyer, car_owner):  # noqa: F811
    old = Delivery.objects.create(client=buyer, vehicle=VehicleFactory(), delivered_at=days_ago(40), dms_id="S-OLD")
    new = Delivery.objects.create(client=car_owner, vehicle=VehicleFactory(), delivered_at=days_ago(2))

    def ids(**query):
        response = api_as_manager.get(DELIVERIES, query)
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert ids() == [new.pk, old.pk]
    assert ids(client=buyer.pk) == [old.pk]
    assert ids(dms_id="S-OLD") == [old.pk]
    assert ids(delivered_after=days_ago(10).isoformat()) == [new.pk]
    assert ids(delivered_before=days_ago(10).isoformat()) == [old.pk]
    assert api_as_manager.get(DELIVERIES, {"delivered_after": "soon"}).status_code == 400
    assert api_as_manager.get(DELIVERIES, {"client": "x"}).status_code == 400


@pytest.mark.parametrize("rows", [5, 50])
def test_delivery_list_query_count_is_pinned(api_as_manager, django_assert_num_queries, rows):
    for n in range(rows):
        Delivery.objects.create(client=ClientFactory(), vehicle=VehicleFactory(), delivered_at=days_ago(n + 1))
    # the page of deliveries; nothing per row
    with django_assert_num_queries(1):
        response = api_as_manager.get(DELIVERIES)
    assert len(response.json()["results"]) == rows


# --- who may -----------------------------------------------------------------------------------------------------


def test_anonymous_gets_no_deliveries(buyer, car):
    api = APIClient()
    assert api.get(DELIVERIES).status_code in (401, 403)
    body = {"client": buyer.pk, "vehicle": car.pk, "delivered_at": days_ago(1).isoformat()}
    assert api.post(DELIVERIES, body, format="json").status_code in (401, 403)
    assert api.put(f"{DELIVERIES}dms/S-1/", body, format="json").status_code in (401, 403)
    response = DjangoTestClient().get(reverse("clients:delivery-create", args=[buyer.pk]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
    assert not Delivery.objects.exists()


@pytest.mark.parametrize(
    ("role", "reads", "writes"),
    [
        ("manager", True, True),
        ("head", True, True),
        ("advisor", True, False),
        ("transport_head", True, False),
        ("integration", True, True),
    ],
)
def test_api_by_role(users, buyer, car, role, reads, writes):
    delivery = Delivery.objects.create(client=buyer, vehicle=VehicleFactory(), delivered_at=days_ago(9))
    api = APIClient()
    api.force_authenticate(users[role])
    assert api.get(DELIVERIES).status_code == (200 if reads else 403)
    assert api.get(f"{DELIVERIES}{delivery.pk}/").status_code == (200 if reads else 403)
    body = {"client": buyer.pk, "vehicle": car.pk, "delivered_at": days_ago(1).isoformat()}
    assert api.post(DELIVERIES, body, format="json").status_code == (201 if writes else 403)
    assert api.put(f"{DELIVERIES}dms/S-{role}/", body, format="json").status_code == (200 if writes else 403)
    assert Delivery.objects.count() == (2 if writes else 1)


@pytest.mark.parametrize(
    ("role", "allowed"),
    [("manager", True), ("head", True), ("advisor", False), ("transport_head", False), ("integration", False)],
)
def test_the_form_by_role_and_a_refused_post_changes_nothing(users, buyer, car, role, allowed):
    web = DjangoTestClient()
    web.force_login(users[role])
    url = reverse("clients:delivery-create", args=[buyer.pk])
    assert web.get(url).status_code == (200 if allowed else 403)
    response = web.post(url, {"vin": car.vin, "delivered_at": local_input(days_ago(1))})
    assert response.status_code == (302 if allowed else 403)
    assert Delivery.objects.exists() == allowed
