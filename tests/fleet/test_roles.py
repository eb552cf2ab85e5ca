"""Who may open what in the fleet: every page and endpoint, anonymous and each role; refused writes change nothing.

Managers (and the head) reserve, hand over, take back and book test drives (USE_FLEET); the transport department head
keeps the fleet and clears inspections (MANAGE_FLEET); the advisor sees the loaners of the visits booked to them
(VIEW_FLEET, rows through `visible_to`); the integration reads the fleet through the API."""

from datetime import time, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as DjangoTestClient
from django.urls import resolve, reverse
from rest_framework.test import APIClient

from clientdesk.calendar import at
from fleet.models import FleetCar, Reservation
from fleet.services import test_drives
from fleet.services.acts import reservation_check_out
from fleet.services.reservations import reservation_create
from tests.accounts.test_role_matrix import ROLES, all_routes
from tests.bookings.conftest import working_day
from tests.factories import AdvisorProfileFactory, BookingFactory, ClientFactory, ServiceTypeFactory
from tests.fleet.conftest import make_car

pytestmark = pytest.mark.django_db

VIEW = {"manager", "head", "advisor", "transport_head"}
USE = {"manager", "head"}
MANAGE = {"transport_head"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


@pytest.fixture
def o(users):
    day = working_day()
    client = ClientFactory()
    service = ServiceTypeFactory()
    advisor = AdvisorProfileFactory(user=users["advisor"]).user
    starts = at(day, time(10))
    booking = BookingFactory(client=client, area=service.area, advisor=advisor, starts_at=starts, planned_minutes=90)
    loaner, demo = make_car(), make_car(use=FleetCar.Use.DEMO)
    # two days, so its temporary-use contract prints
    reservation = reservation_create(
        by=users["manager"],
        car=loaner,
        client=client,
        starts_at=starts,
        ends_at=starts + timedelta(days=2),
        booking=booking,
    )
    licence = {"licence_number": "7712", "licence_valid_until": day + timedelta(days=900)}
    drive = test_drives.test_drive_book(
        by=users["manager"],
        client=client,
        car=demo,
        starts_at=starts,
        ends_at=starts + timedelta(hours=1),
        sales_manager="Игорь",
        route="Круг",
        **licence,
    )
    act = reservation_check_out(
        reservation=drive.reservation,
        by=users["manager"],
        mileage_km=10,
        fuel_percent=50,
        signatures_confirmed=True,
        photos=[SimpleUploadedFile("a.png", PNG)],
        **licence,
    )
    return {"client": client, "loaner": loaner, "reservation": reservation, "drive": drive, "photo": act.photos.get()}


def page_matrix(o):
    r = o["reservation"]
    return [
        (reverse("fleet:board"), VIEW),
        (reverse("fleet:board") + "?week=1", VIEW),
        (reverse("fleet:car-list"), VIEW),
        (reverse("fleet:car-create"), MANAGE),
        (reverse("fleet:car-detail", args=[o["loaner"].pk]), VIEW),
        (reverse("fleet:car-edit", args=[o["loaner"].pk]), MANAGE),
        (reverse("fleet:reservation-create") + f"?client={o['client'].pk}", USE),
        (reverse("fleet:reservation-detail", args=[r.pk]), VIEW),
        (reverse("fleet:check-out", args=[r.pk]), USE),
        (reverse("fleet:check-in", args=[o["drive"].reservation.pk]), USE),
        (reverse("fleet:print", args=[r.pk, "contract"]), VIEW),
        (reverse("fleet:test-drive-list"), VIEW),
        (reverse("fleet:test-drive-create"), USE),
        (reverse("fleet:test-drive-log"), VIEW),
        (reverse("fleet:client-loaners", args=[o["client"].pk]), VIEW),
    ]


def api_matrix(o):
    r = o["reservation"]
    free = f"?starts_at={r.starts_at.isoformat()}&ends_at={r.ends_at.isoformat()}".replace("+", "%2B")
    return [
        ("/api/v1/fleet-cars/", VIEW | {"integration"}),
        (f"/api/v1/fleet-cars/{o['loaner'].pk}/", VIEW | {"integration"}),
        ("/api/v1/fleet-reservations/", VIEW | {"integration"}),
        (f"/api/v1/fleet-reservations/{r.pk}/", VIEW | {"integration"}),
        ("/api/v1/test-drives/", VIEW | {"integration"}),
        ("/api/v1/fleet-free-cars/" + free, VIEW | {"integration"}),
    ]


# Routes that only take a POST, each refused below for the roles without the capability.
POST_ONLY = {
    "fleet/cars/<int:pk>/<slug:action>/",
    "fleet/reservations/<int:pk>/cancel/",
    "fleet/reservations/<int:pk>/contract-signed/",
}


def logged_in(user) -> DjangoTestClient:
    web = DjangoTestClient()
    web.force_login(user)
    return web


def test_anonymous_is_sent_to_sign_in_and_the_api_refuses(o):
    web, api = DjangoTestClient(), APIClient()
    for url, _allowed in page_matrix(o):
        response = web.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login")), url
    for url, _allowed in api_matrix(o):
        assert api.get(url).status_code in (401, 403), url


@pytest.mark.parametrize("role", ROLES)
def test_pages_by_role(users, o, role):
    web = logged_in(users[role])
    for url, allowed in page_matrix(o):
        assert web.get(url).status_code == (200 if role in allowed else 403), (role, url)


@pytest.mark.parametrize("role", ROLES)
def test_api_by_role(users, o, role):
    api = APIClient()
    api.force_authenticate(users[role])
    for url, allowed in api_matrix(o):
        assert api.get(url).status_code == (200 if role in allowed else 403), (role, url)


def test_the_advisor_sees_only_the_loaners_of_their_visits(users, o):
    web = logged_in(users["advisor"])
    assert web.get(reverse("fleet:reservation-detail", args=[o["drive"].reservation.pk])).status_code == 404
    assert web.get(reverse("fleet:photo", args=[o["photo"].pk])).status_code == 404
    api = APIClient()
    api.force_authenticate(users["advisor"])
    assert [row["id"] for row in api.get("/api/v1/fleet-reservations/").json()["results"]] == [o["reservation"].pk]
    assert logged_in(users["manager"]).get(reverse("fleet:photo", args=[o["photo"].pk])).status_code == 200


@pytest.mark.parametrize("role", [r for r in ROLES if r not in USE])
def test_refused_writes_change_nothing(users, o, role):
    web, api = logged_in(users[role]), APIClient()
    api.force_authenticate(users[role])
    r = o["reservation"]
    assert web.post(reverse("fleet:reservation-cancel", args=[r.pk]), {"reason": "x"}).status_code == 403
    assert web.post(reverse("fleet:reservation-contract", args=[r.pk])).status_code == 403
    body = {
        "mileage_km": 1,
        "fuel_percent": 1,
        "signatures_confirmed": True,
        "licence_number": "1",
        "licence_valid_until": "2099-01-01",
    }
    assert api.post(f"/api/v1/fleet-reservations/{r.pk}/check-out/", body, format="json").status_code == 403
    assert api.post(f"/api/v1/fleet-reservations/{r.pk}/cancel/", {"reason": "x"}, format="json").status_code == 403
    r.refresh_from_db()
    assert r.status == "reserved" and r.contract_signed_at is None
    if role not in MANAGE:
        assert web.post(reverse("fleet:car-action", args=[o["loaner"].pk, "retire"])).status_code == 403
        assert api.post(f"/api/v1/fleet-cars/{o['loaner'].pk}/retire/", {}, format="json").status_code == 403
        assert FleetCar.objects.get(pk=o["loaner"].pk).state == "available"
    assert Reservation.objects.count() == 2


def test_every_fleet_route_is_in_the_matrix(o):
    covered = {resolve(url.split("?")[0]).route for url, _ in page_matrix(o)}
    covered |= {resolve(reverse("fleet:photo", args=[o["photo"].pk])).route}
    for route in all_routes():
        if route.startswith("fleet/"):
            assert route in covered or route in POST_ONLY, f"{route} is not in the fleet's role matrix"
