"""The fleet API: lists with pinned query counts, reserve (409 on a clash), hand over and take back as actions, the
transport head's clear, test drives, the free cars for an interval."""

from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from fleet.models import FleetCar, Reservation
from fleet.services.reservations import reservation_create
from tests.factories import ClientFactory
from tests.fleet.conftest import make_car, moment

pytestmark = pytest.mark.django_db


def api_as(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def test_the_lists_have_pinned_query_counts(api_as_manager, django_assert_num_queries, day, demo, manager):
    for hour in (8, 10, 12):
        reservation_create(
            by=None, car=make_car(), client=ClientFactory(), starts_at=moment(day, hour), ends_at=moment(day, hour + 1)
        )
    api_as_manager.get("/api/v1/fleet-cars/")
    for url in ("/api/v1/fleet-cars/", "/api/v1/fleet-reservations/", "/api/v1/test-drives/"):
        with django_assert_num_queries(1):
            response = api_as_manager.get(url)
        assert response.status_code == 200, url


def test_reserve_clash_hand_over_take_back_and_clear(api_as_manager, loaner, day, transport_head):
    client = ClientFactory()
    body = {
        "car": loaner.pk,
        "client": client.pk,
        "starts_at": moment(day, 10).isoformat(),
        "ends_at": moment(day, 12).isoformat(),
    }
    response = api_as_manager.post("/api/v1/fleet-reservations/", body, format="json")
    assert response.status_code == 201, response.content
    reservation_id = response.json()["id"]
    clash = api_as_manager.post("/api/v1/fleet-reservations/", body, format="json")
    assert clash.status_code == 409 and "car" in clash.json()
    assert Reservation.objects.count() == 1
    url = f"/api/v1/fleet-reservations/{reservation_id}/"
    expired = {
        "mileage_km": 12000,
        "fuel_percent": 80,
        "signatures_confirmed": True,
        "licence_number": "7712",
        "licence_valid_until": str(day - timedelta(days=400)),
    }
    response = api_as_manager.post(url + "check-out/", expired, format="json")
    assert response.status_code == 400 and "licence_valid_until" in response.json()
    good = expired | {
        "licence_valid_until": str(day + timedelta(days=900)),
        "marks": [{"zone": "roof", "kind": "chip"}],
    }
    assert api_as_manager.post(url + "check-out/", good, format="json").status_code == 200
    assert api_as_manager.post(url + "check-out/", good, format="json").status_code == 409
    response = api_as_manager.post(
        url + "check-in/",
        {
            "mileage_km": 12090,
            "fuel_percent": 70,
            "signatures_confirmed": True,
            "marks": [{"zone": "roof", "kind": "chip"}, {"zone": "bonnet", "kind": "dent", "note": "свежая"}],
        },
        format="json",
    )
    assert response.status_code == 200
    result = response.json()
    assert (result["km_driven"], result["fuel_used"]) == (90, 10)
    assert [m["zone"] for m in result["new_damage"]] == ["bonnet"]
    # a manager may not clear the car; the transport head may
    assert api_as_manager.post(f"/api/v1/fleet-cars/{loaner.pk}/clear/", {}, format="json").status_code == 403
    response = api_as(transport_head).post(f"/api/v1/fleet-cars/{loaner.pk}/clear/", {"note": "ok"}, format="json")
    assert response.status_code == 200 and response.json()["state"] == "available"
    assert api_as(transport_head).post(f"/api/v1/fleet-cars/{loaner.pk}/clear/", {}, format="json").status_code == 409


def test_test_drives_and_free_cars(api_as_manager, demo, day):
    body = {
        "car": demo.pk,
        "new_client_name": "Гость Салона",
        "new_client_phone": "+79120001122",
        "starts_at": moment(day, 10).isoformat(),
        "ends_at": moment(day, 11).isoformat(),
        "sales_manager": "Игорь",
        "route": "Круг",
        "licence_number": "7712",
        "licence_valid_until": str(day + timedelta(days=900)),
    }
    response = api_as_manager.post("/api/v1/test-drives/", body, format="json")
    assert response.status_code == 201, response.content
    free = api_as_manager.get(
        "/api/v1/fleet-free-cars/",
        {"use": "demo", "starts_at": moment(day, 10).isoformat(), "ends_at": moment(day, 11).isoformat()},
    ).json()
    assert free == []
    free = api_as_manager.get(
        "/api/v1/fleet-free-cars/",
        {"use": "demo", "starts_at": moment(day, 14).isoformat(), "ends_at": moment(day, 15).isoformat()},
    ).json()
    assert [c["id"] for c in free] == [demo.pk]
    bad = api_as_manager.get("/api/v1/fleet-free-cars/", {"starts_at": "x", "ends_at": "y"})
    assert bad.status_code == 400
    FleetCar.objects.filter(pk=demo.pk).update(state="in_maintenance")
    assert api_as_manager.post("/api/v1/test-drives/", body, format="json").status_code == 409


def _seeing_no(user, *capabilities):
    """The user (another instance of), narrowed as a scoped API key narrows its user: every `visible_to` asks
    `has_capability`."""
    user = type(user).objects.get(pk=user.pk)
    can = user.has_capability
    user.has_capability = lambda capability: capability not in capabilities and can(capability)
    return user


def test_a_reservation_or_test_drive_names_only_a_client_the_caller_may_see(manager, loaner, demo, day, licence):
    # given a manager who, by a narrower rule (a scoped key), may not read clients
    client = ClientFactory()
    api = api_as(_seeing_no(manager, "view_clients"))
    interval = {"starts_at": moment(day, 10).isoformat(), "ends_at": moment(day, 12).isoformat()}
    drive = {"sales_manager": "Игорь", "route": "Салон — МКАД", **interval, **licence}
    drive["licence_valid_until"] = drive["licence_valid_until"].isoformat()
    # when / then: the client's id is "does not exist", as an id that is not there; nothing is written
    for url, body in (
        ("/api/v1/fleet-reservations/", {"car": loaner.pk, "client": client.pk, **interval}),
        ("/api/v1/test-drives/", {"car": demo.pk, "client": client.pk, **drive}),
    ):
        response = api.post(url, body, format="json")
        assert response.status_code == 400, response.content
        assert [error.code for error in response.data["client"]] == ["does_not_exist"]
    assert not Reservation.objects.exists()
    # and the same calls by the manager who may read the client go through
    assert (
        api_as(manager)
        .post("/api/v1/fleet-reservations/", {"car": loaner.pk, "client": client.pk, **interval}, format="json")
        .status_code
        == 201
    )
