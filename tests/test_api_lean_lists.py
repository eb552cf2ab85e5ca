"""The hot list endpoints answer from rows written by the read plan on PostgreSQL (clientdesk.api: LeanRows, or
`values()` rows): the JSON must be exactly what the viewset's serializer — the one the OpenAPI schema describes —
writes for the same rows, in one query for the page whatever its size."""

from datetime import timedelta

import pytest
from django.http import QueryDict
from django.utils import timezone

from bookings.api.bookings import BookingSerializer
from bookings.models import Booking
from calls.api.calls import CallSerializer
from calls.api.tasks import CallTaskSerializer
from calls.models import Call, CallTask
from clientdesk.api import RequestedFiltersBackend
from clients.api.clients import ClientSerializer, VehicleSerializer
from clients.api.deliveries import DeliverySerializer
from clients.filters import ClientFilter
from clients.models import Client, Delivery, Vehicle
from clients.services.clients import PhoneInput, client_create
from tests.bookings.test_booking_pages import _fill
from tests.factories import CallFactory, ClientFactory, ServiceAreaFactory, ServiceTypeFactory, VehicleFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def listed(api, path: str, **params) -> list[dict]:
    response = api.get(path, {"page_size": 100, **params})
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_the_client_list_is_what_the_serializer_writes(api_as_manager, manager):
    client_create(
        by=manager,
        name="Петров Иван",
        email="petrov@example.com",
        consent_personal_data=True,
        consent_marketing=True,
        assigned_manager=manager,
        dms_id="C-1",
        dms_updated_at=timezone.now() - timedelta(days=400),
        phones=[
            PhoneInput("89123456789"),
            # what an array's text must quote: braces, commas, quotes, a backslash, NULL as a word, spaces
            PhoneInput("89130000000", kind="work", comment='рабочий, {доб. "12"} \\ NULL '),
        ],
    )
    client_create(by=manager, name="Без Телефона")
    ClientFactory(dms_id="C-3")

    rows = listed(api_as_manager, "/api/v1/clients/")

    expected = ClientSerializer(Client.objects.order_by("-id"), many=True).data
    assert rows == [dict(row) for row in expected]
    # the keys in the serializer's order too, as the schema lists them
    body = api_as_manager.get("/api/v1/clients/").content.decode()
    assert '"phones":[{"number":"+79123456789","kind":"mobile","is_primary":true,"comment":""}' in body
    assert rows[-1]["phones"][0] == {"number": "+79123456789", "kind": "mobile", "is_primary": True, "comment": ""}
    assert rows[1]["phones"] == []


def test_the_vehicle_list_is_what_the_serializer_writes(api_as_manager):
    owner = ClientFactory()
    VehicleFactory(owner=owner, delivered_at=timezone.now(), year=2020, mileage=15000)
    VehicleFactory(owner=owner)

    rows = listed(api_as_manager, "/api/v1/vehicles/")

    assert rows == [dict(row) for row in VehicleSerializer(Vehicle.objects.order_by("-id"), many=True).data]


def test_the_booking_list_is_what_the_serializer_writes(api_as_manager):
    area = ServiceAreaFactory(name="Слесарный цех", code="mech", daily_capacity_minutes=480)
    to2 = ServiceTypeFactory(name="ТО-2", code="to2", area=area, standard_minutes=180)
    diag = ServiceTypeFactory(name="Диагностика", code="diag", area=area, standard_minutes=60)
    owner = ClientFactory()
    VehicleFactory(owner=owner)
    _fill(3, owner, area, timezone.localdate() + timedelta(days=3))
    Booking.objects.order_by("id").first().service_types.set([to2, diag])

    rows = listed(api_as_manager, "/api/v1/bookings/")

    assert rows == [dict(row) for row in BookingSerializer(Booking.objects.order_by("-id"), many=True).data]
    assert rows[-1]["service_types"] == [diag.pk, to2.pk]  # by name, as the booking card lists them


def test_the_call_list_is_what_the_serializer_writes(api_as_manager, manager):
    for _ in range(3):
        CallFactory(manager=manager)

    rows = listed(api_as_manager, "/api/v1/calls/")

    expected = CallSerializer(Call.objects.order_by("-started_at", "-id"), many=True).data
    assert rows == [dict(row) for row in expected]


@pytest.mark.parametrize("count", [3, 30])
def test_each_list_is_one_query_whatever_the_page(api_as_manager, manager, django_assert_num_queries, count):
    area = ServiceAreaFactory()
    for n in range(count):
        client = client_create(by=manager, name=f"Клиент {n}", phones=[PhoneInput(f"8912{n:07d}")])
        VehicleFactory(owner=client)
        CallFactory(manager=manager, client=client)
    _fill(count, Client.objects.first(), area, timezone.localdate() + timedelta(days=3))

    for path in ("/api/v1/clients/", "/api/v1/vehicles/", "/api/v1/bookings/", "/api/v1/calls/"):
        with django_assert_num_queries(1):
            assert len(listed(api_as_manager, path)) == count


def test_the_cursor_still_walks_every_row_once(api_as_manager):
    ids = {ClientFactory().pk for _ in range(7)}
    seen, url = [], "/api/v1/clients/?page_size=3"
    while url:
        body = api_as_manager.get(url).json()
        seen += [c["id"] for c in body["results"]]
        url = body["next"]
    assert sorted(seen) == sorted(ids)


def test_the_delivery_and_call_task_lists_are_what_their_serializers_write(
    api_as_manager, manager, django_assert_num_queries
):
    """Lists without a mixin of their own go the same lean way (BaseViewSet); a task's campaign is read through its
    nullable campaign member (`campaign_member.campaign_id`), null where there is none."""
    owner = ClientFactory()
    car = VehicleFactory(owner=owner)
    delivery = Delivery.objects.create(client=owner, vehicle=car, delivered_at=timezone.now(), sales_manager="Ким")
    now = timezone.now()
    CallTask.objects.create(kind="follow_up", client=owner, delivery=delivery, due_at=now, next_attempt_at=now)
    later = Delivery.objects.create(client=owner, vehicle=VehicleFactory(owner=owner), delivered_at=now)
    CallTask.objects.create(
        kind="follow_up", client=owner, delivery=later, due_at=now, next_attempt_at=now, assignee=manager
    )

    with django_assert_num_queries(1):
        deliveries = listed(api_as_manager, "/api/v1/deliveries/")
    with django_assert_num_queries(1):
        tasks = listed(api_as_manager, "/api/v1/call-tasks/")

    assert deliveries == [dict(r) for r in DeliverySerializer(Delivery.objects.order_by("-id"), many=True).data]
    assert tasks == [dict(r) for r in CallTaskSerializer(CallTask.objects.order_by("-id"), many=True).data]
    assert [t["campaign"] for t in tasks] == [None, None]


def test_a_list_reads_only_the_filters_the_request_gives_and_still_refuses_a_bad_one(api_as_manager):
    dms = ClientFactory(source="dms")
    ClientFactory(source="manual")

    narrowed = RequestedFiltersBackend.narrowed(ClientFilter, QueryDict("source=dms&page_size=5"))

    assert list(narrowed.base_filters) == ["source"]
    assert list(ClientFilter.base_filters) == list(ClientFilter().filters)  # the page's FilterSet is untouched
    assert [c["id"] for c in listed(api_as_manager, "/api/v1/clients/", source="dms")] == [dms.pk]
    refused = api_as_manager.get("/api/v1/clients/", {"source": "nonsense", "kind": "person"})
    assert refused.status_code == 400 and set(refused.json()) == {"source"}
    # the schema still offers every filter
    schema = api_as_manager.get("/api/schema/", {"format": "json"}).json()
    offered = {p["name"] for p in schema["paths"]["/api/v1/clients/"]["get"]["parameters"]}
    assert set(ClientFilter.base_filters) <= offered
