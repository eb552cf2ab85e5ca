"""Who may open what: every page and endpoint, anonymous and each role; and a refused write changes nothing."""

from datetime import date, time

import pytest
from django.test import Client as DjangoTestClient
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from rest_framework.test import APIClient

from accounts.models import Absence, SecurityEventKind
from accounts.services.users import api_key_create
from bookings.services.recalls import recall_campaign_create
from calls.models import CallTask
from calls.services.campaigns import campaign_create
from calls.services.surveys import survey_create
from clientdesk.calendar import at
from clientdesk.models import CalendarDay
from clients.models import Client, Delivery
from reception.models import TowOrder
from reception.services.materials import material_create
from reception.services.tinting import tint_consultation_create, tint_film_save
from reception.services.tow import tow_contractor_create
from tests.bookings.conftest import working_day
from tests.factories import (
    AdvisorProfileFactory,
    BookingFactory,
    CallFactory,
    ClientFactory,
    ServiceTypeFactory,
    VehicleFactory,
)

pytestmark = pytest.mark.django_db

ROLES = ["manager", "head", "advisor", "transport_head", "workshop_mgmt", "sales_mgmt", "legal", "integration"]
STAFF = {"manager", "head", "advisor", "transport_head", "workshop_mgmt", "sales_mgmt", "legal"}
# The apps whose pages and endpoints have a matrix of their own (tests/<app>/test_roles.py), with the same rules.
OWN_MATRIX = ("claims/", "documents/", "fleet/", "reports/", "webhooks/")
DESK = {"manager", "head"}
WORKSHOP = {"manager", "head", "advisor"}


@pytest.fixture
def objects(users):
    client = ClientFactory()
    other = ClientFactory()
    vehicle = VehicleFactory(owner=client)
    CallFactory(client=client, manager=users["manager"])
    advisor = AdvisorProfileFactory(user=users["advisor"]).user
    service = ServiceTypeFactory()
    starts = at(working_day(), time(10))
    booking = BookingFactory(
        client=client, vehicle=vehicle, area=service.area, advisor=advisor, starts_at=starts, planned_minutes=90
    )
    return {
        "client": client,
        "other": other,
        "vehicle": vehicle,
        "user": users["manager"],
        "booking": booking,
        "service": service,
        "calendar_day": CalendarDay.objects.create(date=date(2099, 1, 1), kind=CalendarDay.Kind.HOLIDAY),
        "campaign": recall_campaign_create(by=users["head"], name="Airbag", manufacturer_code="RC-1"),
        "delivery": Delivery.objects.create(
            client=client, vehicle=vehicle, delivered_at=at(date(2024, 1, 15), time(12))
        ),
        "absence": Absence.objects.create(
            user=users["manager"], starts_on=date(2099, 1, 1), ends_on=date(2099, 1, 5), substitute=users["head"]
        ),
        "marketing": campaign_create(
            by=users["head"], name="Шины", script="Скидка", segment={}, starts_on=working_day(), ends_on=working_day()
        ),
        "survey": survey_create(by=users["head"], name="CSI"),
        "task": CallTask.objects.create(
            kind="confirmation", client=client, booking=booking, due_at=starts, next_attempt_at=starts
        ),
        "tow_order": TowOrder.objects.create(client=client, pickup_address="МКАД", phone_on_site="+79123456789"),
        "tow_contractor": tow_contractor_create(by=None, name="Эвакуатор", call_out_rate=3000, rate_per_km=50),
        "material": material_create(by=None, name="Прайс-лист", kind="price_list", location="reception"),
        "film": (film := tint_film_save(by=None, name="Пленка", light_transmission=35, prices={"rear": 2500})),
        "tint": tint_consultation_create(by=None, client=client, films={"rear": film}),
    }


def page_matrix(o):
    """(url, roles that get 200)"""
    return [
        (reverse("clients:search") + "?q=912", STAFF),
        (reverse("clients:list"), STAFF),
        (reverse("clients:detail", args=[o["client"].pk]), STAFF),
        (reverse("clients:history", args=[o["client"].pk]), STAFF),
        (reverse("clients:create"), DESK),
        (reverse("clients:edit", args=[o["client"].pk]), DESK),
        (reverse("clients:vehicle-create", args=[o["client"].pk]), DESK),
        (reverse("clients:vehicle-edit", args=[o["vehicle"].pk]), DESK),
        (reverse("clients:vehicle-detail", args=[o["vehicle"].pk]), STAFF),
        (reverse("clients:duplicates"), {"head"}),
        (reverse("clients:merge", args=[o["other"].pk]) + f"?into={o['client'].pk}", {"head"}),
        (reverse("calls:list"), {"manager", "head", "advisor"}),
        (reverse("calls:new") + "?number=89123456789", DESK),
        (reverse("calls:unknown"), DESK),
        (reverse("accounts:password-change"), STAFF),
        (reverse("accounts:user-list"), {"head"}),
        (reverse("accounts:user-create"), {"head"}),
        (reverse("accounts:user-detail", args=[o["user"].pk]), {"head"}),
        (reverse("notifications"), STAFF),
        (reverse("bookings:list"), WORKSHOP),
        (reverse("bookings:create") + f"?client={o['client'].pk}", DESK),
        (reverse("bookings:slots") + f"?service_types={o['service'].pk}", WORKSHOP),
        (reverse("bookings:detail", args=[o["booking"].pk]), WORKSHOP),
        (reverse("bookings:reschedule", args=[o["booking"].pk]), DESK),
        (reverse("bookings:day"), WORKSHOP),
        (reverse("bookings:week"), WORKSHOP),
        (reverse("bookings:board"), WORKSHOP),
        (reverse("bookings:my-arrivals"), WORKSHOP),
        (reverse("bookings:setup"), {"head"}),
        (reverse("bookings:setup-week"), {"head"}),
        (reverse("bookings:setup-day-create"), {"head"}),
        (reverse("bookings:setup-day-edit", args=[o["calendar_day"].pk]), {"head"}),
        (reverse("bookings:setup-day-remove", args=[o["calendar_day"].pk]), {"head"}),
        (reverse("bookings:setup-area-create"), {"head"}),
        (reverse("bookings:setup-area-edit", args=[o["service"].area.pk]), {"head"}),
        (reverse("bookings:setup-type-create"), {"head"}),
        (reverse("bookings:setup-type-edit", args=[o["service"].pk]), {"head"}),
        (reverse("bookings:setup-advisor", args=[o["booking"].advisor.pk]), {"head"}),
        (reverse("calls:queue"), DESK),
        (reverse("calls:campaign-list"), DESK),
        (reverse("calls:campaign-create"), {"head"}),
        (reverse("calls:campaign-preview") + "?make=Lada", {"head"}),
        (reverse("calls:campaign-detail", args=[o["marketing"].pk]), DESK),
        (reverse("calls:campaign-edit", args=[o["marketing"].pk]), {"head"}),
        (reverse("calls:campaign-progress", args=[o["marketing"].pk]), DESK),
        (reverse("calls:survey-list"), {"head"}),
        (reverse("calls:survey-create"), {"head"}),
        (reverse("calls:survey-edit", args=[o["survey"].pk]), {"head"}),
        (reverse("calls:survey-report"), {"head"}),
        (reverse("clients:delivery-create", args=[o["client"].pk]), DESK),
        (reverse("accounts:absence-list"), {"head"}),
        (reverse("accounts:absence-create"), {"head"}),
        (reverse("accounts:absence-edit", args=[o["absence"].pk]), {"head"}),
        (reverse("accounts:absence-end", args=[o["absence"].pk]), {"head"}),
        (reverse("calls:head-tasks"), {"head"}),
        (reverse("calls:head-rules"), {"head"}),
        (reverse("calls:task", args=[o["task"].pk]), DESK),
        (reverse("bookings:recall-list"), WORKSHOP),
        (reverse("bookings:recall-create"), {"head"}),
        (reverse("bookings:recall-detail", args=[o["campaign"].pk]), WORKSHOP),
        (reverse("bookings:recall-edit", args=[o["campaign"].pk]), {"head"}),
        (reverse("bookings:recall-upload", args=[o["campaign"].pk]), {"head"}),
        (reverse("reception:tow-board"), WORKSHOP),
        (reverse("reception:tow-create"), DESK),
        (reverse("reception:tow-list"), WORKSHOP),
        (reverse("reception:tow-detail", args=[o["tow_order"].pk]), WORKSHOP),
        (reverse("reception:contractor-list"), {"head"}),
        (reverse("reception:contractor-create"), {"head"}),
        (reverse("reception:contractor-edit", args=[o["tow_contractor"].pk]), {"head"}),
        (reverse("reception:tow-reconciliation"), {"head"}),
        (reverse("reception:material-list"), WORKSHOP),
        (reverse("reception:material-create"), {"head"}),
        (reverse("reception:material-edit", args=[o["material"].pk]), {"head"}),
        (reverse("reception:tint-list"), WORKSHOP),
        (reverse("reception:tint-create"), DESK),
        (reverse("reception:tint-detail", args=[o["tint"].pk]), WORKSHOP),
        (reverse("reception:tint-prices"), WORKSHOP),
        (reverse("reception:tint-film-create"), {"head"}),
        (reverse("reception:tint-film-edit", args=[o["film"].pk]), {"head"}),
        (reverse("reports:dashboard"), {"head"}),
        (reverse("reports:mine"), DESK | {"advisor"}),  # an advisor: their arrivals and load
    ]


def public_pages():
    """Pages anyone may open, signed in or not: the way back in when the password is forgotten."""
    return [
        reverse("accounts:password-reset"),
        reverse("accounts:password-reset-done"),
        reverse("accounts:password-reset-confirm", args=["MQ", "no-such-token"]),
        reverse("accounts:password-reset-complete"),
    ]


def head_actions(o):
    """POST-only actions of the department head on users' sign-in."""
    return [
        (reverse("accounts:user-unlock", args=[o["user"].pk]), {}),
        (reverse("accounts:user-send-reset", args=[o["user"].pk]), {}),
        (reverse("accounts:address-unlock"), {"address": "192.0.2.7"}),
    ]


def api_matrix(o):
    return [
        ("/api/v1/clients/", STAFF | {"integration"}),
        (f"/api/v1/clients/{o['client'].pk}/", STAFF | {"integration"}),
        ("/api/v1/vehicles/", STAFF | {"integration"}),
        ("/api/v1/calls/", {"manager", "head", "advisor", "integration"}),
        ("/api/schema/", STAFF | {"integration"}),
        ("/api/v1/bookings/", WORKSHOP | {"integration"}),
        (f"/api/v1/bookings/{o['booking'].pk}/", WORKSHOP | {"integration"}),
        ("/api/v1/campaigns/", {"manager", "head", "advisor", "integration"}),
        (f"/api/v1/campaigns/{o['marketing'].pk}/", {"manager", "head", "advisor", "integration"}),
        ("/api/v1/survey-responses/", {"manager", "head", "advisor", "integration"}),
        ("/api/v1/deliveries/", STAFF | {"integration"}),
        (f"/api/v1/deliveries/{o['delivery'].pk}/", STAFF | {"integration"}),
        ("/api/v1/call-tasks/", {"manager", "head", "advisor", "integration"}),
        (f"/api/v1/call-tasks/{o['task'].pk}/", {"manager", "head", "advisor", "integration"}),
        ("/api/v1/recall-campaigns/", WORKSHOP | {"integration"}),
        (f"/api/v1/recall-campaigns/{o['campaign'].pk}/", WORKSHOP | {"integration"}),
        (f"/api/v1/recall-campaigns/{o['campaign'].pk}/vins/", WORKSHOP | {"integration"}),
        (f"/api/v1/free-slots/?date_from={working_day()}&service_types={o['service'].pk}", WORKSHOP | {"integration"}),
        ("/api/v1/tow-orders/", WORKSHOP | {"integration"}),
        (f"/api/v1/tow-orders/{o['tow_order'].pk}/", WORKSHOP | {"integration"}),
        ("/api/v1/tow-contractors/", WORKSHOP | {"integration"}),
        ("/api/v1/printed-materials/", WORKSHOP | {"integration"}),
        (f"/api/v1/printed-materials/{o['material'].pk}/", WORKSHOP | {"integration"}),
        ("/api/v1/tint-orders/", WORKSHOP | {"integration"}),
        ("/api/v1/reports/dashboard/", {"head", "integration"}),
    ]


def logged_in(user):
    web = DjangoTestClient()
    web.force_login(user)
    return web


def test_anonymous_is_sent_to_sign_in_from_every_page(objects):
    web = DjangoTestClient()
    for url, _allowed in page_matrix(objects):
        response = web.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("accounts:login")), url


def test_reset_pages_are_open_to_anonymous_and_every_role(users):
    for who in [None, *ROLES]:
        web = logged_in(users[who]) if who else DjangoTestClient()
        for url in public_pages():
            assert web.get(url).status_code == 200, (who, url)


@pytest.mark.parametrize("role", [None, *ROLES])
def test_only_the_head_unlocks_and_sends_reset_links(users, objects, role):
    objects["user"].email = "manager@example.com"
    objects["user"].save()
    web = logged_in(users[role]) if role else DjangoTestClient()
    for url, data in head_actions(objects):
        response = web.post(url, data)
        if role is None:
            assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login")), url
        else:
            assert response.status_code == (302 if role == "head" else 403), (role, url)
    sent = objects["user"].history.filter(history_change_reason=SecurityEventKind.RESET_LINK_SENT).count()
    assert sent == (1 if role == "head" else 0)


def test_anonymous_api_is_401_or_403(objects):
    api = APIClient()
    for url, _allowed in api_matrix(objects):
        assert api.get(url).status_code in (401, 403), url


@pytest.mark.parametrize("role", ROLES)
def test_pages_by_role(users, objects, role):
    web = logged_in(users[role])
    for url, allowed in page_matrix(objects):
        expected = 200 if role in allowed else 403
        assert web.get(url).status_code == expected, (role, url)


@pytest.mark.parametrize("role", ROLES)
def test_api_by_role(users, objects, role):
    api = APIClient()
    api.force_authenticate(users[role])
    for url, allowed in api_matrix(objects):
        expected = 200 if role in allowed else 403
        assert api.get(url).status_code == expected, (role, url)


@pytest.mark.parametrize("role", ["advisor", "transport_head", "workshop_mgmt", "sales_mgmt", "legal"])
def test_read_only_roles_cannot_write_through_api_and_nothing_changes(users, objects, role):
    api = APIClient()
    api.force_authenticate(users[role])
    before = Client.objects.count()
    assert api.post("/api/v1/clients/", {"name": "X"}, format="json").status_code == 403
    assert api.patch(f"/api/v1/clients/{objects['client'].pk}/", {"name": "X"}, format="json").status_code == 403
    assert (
        api.post("/api/v1/calls/", {"direction": "in", "phone_number": "89123456789"}, format="json").status_code == 403
    )
    assert Client.objects.count() == before
    objects["client"].refresh_from_db()
    assert objects["client"].name != "X"


def test_integration_cannot_log_calls(users, objects):
    api = APIClient()
    api.force_authenticate(users["integration"])
    response = api.post("/api/v1/calls/", {"direction": "in", "phone_number": "89123456789"}, format="json")
    assert response.status_code == 403
    response = api.post(f"/api/v1/call-tasks/{objects['task'].pk}/outcome/", {"outcome": "confirmed"}, format="json")
    assert response.status_code == 403


@pytest.mark.parametrize(
    "role", ["manager", "advisor", "transport_head", "workshop_mgmt", "sales_mgmt", "legal", "integration"]
)
def test_refused_page_writes_change_nothing(users, objects, role):
    web = logged_in(users[role])
    source, target = objects["other"], objects["client"]
    response = web.post(reverse("clients:merge", args=[source.pk]), {"target": target.pk})
    assert response.status_code == 403
    source.refresh_from_db()
    assert source.merged_into_id is None
    response = web.post(reverse("accounts:user-create"), {"username": "intruder", "role": "head"})
    assert response.status_code == 403
    if role not in DESK:
        response = web.post(reverse("clients:create"), {"name": "X", "kind": "person", "source": "call"})
        assert response.status_code == 403
        assert not Client.objects.filter(name="X").exists()


def test_integration_user_with_api_key_gets_the_api_but_no_pages(users, head, objects):
    _key, raw = api_key_create(user=users["integration"], name="DMS", by=head)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    assert api.get("/api/v1/clients/").status_code == 200
    # The same credentials give no page: pages use sessions, and an integration user has no usable password.
    web = DjangoTestClient(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    assert web.get(reverse("clients:search")).status_code == 302
    assert not users["integration"].has_usable_password()
    assert web.post(reverse("accounts:login"), {"username": "dms", "password": ""}).status_code == 200
    assert "_auth_user_id" not in web.session


def all_routes(resolver=None, prefix=""):
    """Every page route of the site, as Django spells its pattern."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from all_routes(pattern, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern)


def test_every_page_is_in_the_matrix_or_public_on_purpose(objects):
    """A new page must be added to the matrix above, unless it is sign-in/out, health, admin, the API or a
    POST-only action tested on its own."""
    elsewhere = ("admin/", "api/", "i18n/", "accounts/login/", "accounts/logout/", "healthz", "")
    post_only = (
        "accounts/users/<int:pk>/keys/",
        "accounts/keys/<int:pk>/revoke/",
        "calls/client/<int:pk>/",
        "workshop/bookings/<int:pk>/<slug:action>/",
        "workshop/recalls/<int:pk>/upload/confirm/",
        "workshop/recalls/vins/<int:pk>/done/",
        "calls/queue/next/",
        "calls/tasks/<int:pk>/take/",
        "calls/campaigns/<int:pk>/launch/",
        "calls/campaigns/<int:pk>/cancel/",
        "calls/campaigns/<int:pk>/finish/",
        "calls/surveys/<int:pk>/activate/",
        "calls/surveys/<int:pk>/deactivate/",
        "accounts/users/<int:pk>/unlock/",
        "accounts/users/<int:pk>/send-reset/",
        "accounts/lockouts/address/unlock/",
        "reception/tow/<int:pk>/<slug:step>/",
        "reception/materials/<int:pk>/restock/",
        "reception/tinting/<int:pk>/order/",
    )
    covered = {resolve(url.split("?")[0]).route for url, _ in page_matrix(objects)}
    covered |= {resolve(url).route for url in public_pages()}
    for route in all_routes():
        if route in elsewhere or route.startswith(elsewhere[:3] + OWN_MATRIX) or route in post_only:
            continue
        assert route in covered, f"{route} is not in the role matrix"
