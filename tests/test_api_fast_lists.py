"""A list of the model's own columns is read by `clientdesk.api.LeanRows` (its select list made once, the request's
WHERE compiled by the ORM): its answers must be, byte for byte, what the `values()` path answers, and what the
serializer writes, for any rows, filters, cursors and page sizes."""

from datetime import UTC, datetime

import pytest
from django.http import QueryDict
from django.test import override_settings
from rest_framework import renderers

import clientdesk.api
import clientdesk.compiled
from calls.models import Call
from clientdesk.api_filters import CheckedModelChoiceField, strict_filterset
from clients.api.clients import ClientSerializer, ClientViewSet, VehicleSerializer
from clients.filters import ClientFilter
from clients.models import Client, Vehicle
from clients.services.clients import PhoneInput, client_create
from tests.factories import CallFactory, ClientFactory, VehicleFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

PRE_1900 = datetime(1899, 6, 1, 12, 0, 0, 123400, tzinfo=UTC)  # Moscow's local mean time then: +02:30:17
FAR_FUTURE = datetime(9998, 12, 31, 20, 59, 59, 999999, tzinfo=UTC)
WHOLE_SECOND = datetime(2026, 1, 1, 9, 0, 0, tzinfo=UTC)  # no microseconds: isoformat leaves them out
DST_SUMMER = datetime(2010, 7, 1, 12, 0, 0, 500000, tzinfo=UTC)  # Moscow kept summer time until 2011: +04:00


@pytest.fixture
def varied_clients(manager):
    """Clients with what a row can hold: nulls and blanks, several phones and none, text JSON must escape, and times
    from before 1900 to the year 9998, with and without microseconds."""
    client_create(
        by=manager,
        name='Кавычки " и \\ обратная, \u2028 разделитель строк',
        email="a@example.com",
        notes="строка\nдругая\tтаб",
        consent_personal_data=True,
        consent_marketing=True,
        assigned_manager=manager,
        dms_id="D-1",
        dms_updated_at=WHOLE_SECOND,
        phones=[PhoneInput("89123456789"), PhoneInput("89130000000", kind="work", comment='{доб. "12"}, NULL')],
    )
    client_create(by=manager, name="Без Телефона", source="dms")
    old = ClientFactory(source="dms", consent_personal_data=False, consent_personal_data_at=None)
    far = ClientFactory(kind="company", preferred_contact_time="после 18:00", data_issue="телефон не отвечает")
    Client.objects.filter(pk=old.pk).update(created_at=PRE_1900, updated_at=DST_SUMMER)
    Client.objects.filter(pk=far.pk).update(created_at=WHOLE_SECOND, updated_at=FAR_FUTURE, dms_updated_at=PRE_1900)
    merged_into = ClientFactory()
    ClientFactory(merged_into=merged_into)  # not listed: the list shows active clients
    return {"old": old.pk, "far": far.pk}


def both_ways(api, monkeypatch, url: str, params: dict | None = None) -> tuple[bytes, bytes]:
    """The answer through LeanRows and through `values()`."""
    fast = api.get(url, params or {})
    with monkeypatch.context() as patched:
        patched.setattr(clientdesk.api, "plain_query", lambda query: False)
        slow = api.get(url, params or {})
    assert fast.status_code == slow.status_code
    return fast.content, slow.content


@pytest.mark.parametrize("zone", ["Europe/Moscow", "UTC", "America/New_York"])
def test_the_fast_list_writes_what_the_serializer_writes(api_as_manager, varied_clients, zone, monkeypatch):
    with override_settings(TIME_ZONE=zone):
        fast, slow = both_ways(api_as_manager, monkeypatch, "/api/v1/clients/", {"page_size": 100})
        expected = ClientSerializer(Client.objects.active().order_by("-id"), many=True).data

    assert fast == slow
    rows = api_as_manager.get("/api/v1/clients/", {"page_size": 100}).json()["results"]
    assert len(rows) == len(expected) == 5
    with override_settings(TIME_ZONE=zone):
        assert api_as_manager.get("/api/v1/clients/", {"page_size": 100}).json()["results"] == [
            dict(row) for row in expected
        ]


@pytest.mark.parametrize("zone", ["Europe/Moscow", "UTC", "America/New_York"])
@pytest.mark.parametrize("accept", ["application/json", "application/json; indent=2"])
@pytest.mark.parametrize("way", ["LeanRows", "values"])
def test_the_page_is_the_bytes_drf_writes(api_as_manager, varied_clients, zone, accept, way, monkeypatch):
    """orjson writes the page (clientdesk.renderers): byte for byte what DRF's own renderer writes of the serializer's
    answer — the times, U+2028 escaped, quotes and backslashes, the keys' order — indented too, whether LeanRows read
    the times in the zone or the `values()` path wrote them."""
    if way == "values":
        monkeypatch.setattr(clientdesk.api, "plain_query", lambda query: False)
    ClientFactory(notes="строка\u2028вторая\u2029третья")  # as a row can hold them, past the services' cleaning
    with override_settings(TIME_ZONE=zone):
        response = api_as_manager.get("/api/v1/clients/", {"page_size": 100}, headers={"accept": accept})
        results = ClientSerializer(Client.objects.active().order_by("-id"), many=True).data
        expected = renderers.JSONRenderer().render({"next": None, "previous": None, "results": results}, accept)
    assert response.content == expected
    assert b"\\u2028" in response.content and b"\\u2029" in response.content


def test_the_times_are_written_as_drf_writes_them(api_as_manager, varied_clients):
    rows = {row["id"]: row for row in api_as_manager.get("/api/v1/clients/").json()["results"]}
    old, far = rows[varied_clients["old"]], rows[varied_clients["far"]]

    assert old["created_at"] == "1899-06-01T14:30:17.123400+02:30:17"
    assert old["updated_at"] == "2010-07-01T16:00:00.500000+04:00"
    assert far["updated_at"] == "9998-12-31T23:59:59.999999+03:00"
    assert far["created_at"] == "2026-01-01T12:00:00+03:00"
    assert far["dms_updated_at"] == "1899-06-01T14:30:17.123400+02:30:17"
    with override_settings(TIME_ZONE="UTC"):
        body = api_as_manager.get("/api/v1/clients/").content.decode()
    assert '"created_at":"2026-01-01T09:00:00Z"' in body


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"page_size": 2},
        {"page_size": 1, "source": "dms"},
        {"kind": "company"},
        {"consent_marketing": "true"},
        {"dms_id": "D-1"},
        {"q": "Телефона"},
        {"updated_since": "2020-01-01T00:00:00Z", "page_size": 1},
    ],
)
def test_pages_filters_and_cursors_answer_as_the_values_path(api_as_manager, varied_clients, monkeypatch, params):
    """Every page, walked forwards by `next` and back by `previous`, with its links, byte for byte."""
    url, seen = "/api/v1/clients/", 0
    pages = []
    while url and seen < 10:
        fast, slow = both_ways(api_as_manager, monkeypatch, url, params if seen == 0 else None)
        assert fast == slow
        pages.append(api_as_manager.get(url, params if seen == 0 else None).json())
        url, seen = pages[-1]["next"], seen + 1
    for page in reversed(pages[1:]):
        fast, slow = both_ways(api_as_manager, monkeypatch, page["previous"])
        assert fast == slow


def test_the_manager_filter_and_the_dms_key(dms_api, manager, varied_clients, monkeypatch):
    fast, slow = both_ways(dms_api, monkeypatch, "/api/v1/clients/", {"assigned_manager": manager.pk})

    assert fast == slow
    assert len(dms_api.get("/api/v1/clients/", {"assigned_manager": manager.pk}).json()["results"]) == 1


@pytest.mark.parametrize(
    "params",
    [
        {"source": "nonsense"},
        {"assigned_manager": 999999},
        {"cursor": "/w=="},  # not ASCII text
        {"cursor": "cD14"},  # p=x: not an id
        {"page_size": 0},
    ],
)
def test_a_bad_filter_cursor_or_page_size_is_refused_as_before(api_as_manager, varied_clients, monkeypatch, params):
    fast, slow = both_ways(api_as_manager, monkeypatch, "/api/v1/clients/", params)

    assert fast == slow
    assert api_as_manager.get("/api/v1/clients/", params).status_code == 400


def test_the_vehicle_list_goes_the_same_way(api_as_manager, monkeypatch):
    owner = ClientFactory()
    VehicleFactory(owner=owner, delivered_at=WHOLE_SECOND, year=2020, mileage=15000)
    VehicleFactory(owner=owner)

    fast, slow = both_ways(api_as_manager, monkeypatch, "/api/v1/vehicles/", {"owner": owner.pk})

    assert fast == slow
    expected = VehicleSerializer(Vehicle.objects.order_by("-id"), many=True).data
    assert api_as_manager.get("/api/v1/vehicles/").json()["results"] == [dict(row) for row in expected]


def test_a_query_of_more_than_the_table_is_left_to_values():
    assert clientdesk.api.plain_query(Client.objects.active().filter(source="dms").query)
    assert not clientdesk.api.plain_query(Client.objects.filter(phones__number="+79123456789").query)
    assert not clientdesk.api.plain_query(Client.objects.filter(assigned_manager__username="mgr").query)
    assert not clientdesk.api.plain_query(Client.objects.distinct().query)


def test_rows_a_user_may_not_see_are_not_read(manager, django_assert_num_queries):
    """`visible_to` answers `none()` to a user without the capability: no query, no row."""
    ClientFactory()
    view = ClientViewSet()
    plan = clientdesk.api.values_plan(ClientSerializer(), Client, view.lean_annotations())
    hidden = Client.objects.none()
    hidden._iterable_class = clientdesk.api.lean_rows(Client, plan, view.lean_annotations(), ["id"])

    with django_assert_num_queries(0):
        assert list(hidden.order_by("-id")[:3]) == []


def test_the_manager_filter_refuses_what_is_not_an_active_manager(api_as_manager, manager, advisor, varied_clients):
    """The choice is checked by one query compiled once (CheckedModelChoiceField), with the field's own refusal."""
    ClientFactory(assigned_manager=advisor)
    listed = api_as_manager.get("/api/v1/clients/", {"assigned_manager": manager.pk})
    manager.is_active = False
    manager.save(update_fields=["is_active"])

    assert listed.status_code == 200 and len(listed.json()["results"]) == 1
    refusal = api_as_manager.get("/api/v1/clients/", {"assigned_manager": "abc"}).json()
    assert list(refusal) == ["assigned_manager"] and len(refusal["assigned_manager"]) == 1
    for value in (manager.pk, advisor.pk, 10**30, "1.0", "-1"):
        refused = api_as_manager.get("/api/v1/clients/", {"assigned_manager": value})
        assert refused.status_code == 400, value
        assert refused.json() == refusal


def test_a_checked_choice_is_the_record_with_its_id_read(manager):
    form = strict_filterset(ClientFilter)(QueryDict(f"assigned_manager={manager.pk}"), queryset=Client.objects.all())

    assert form.is_valid()
    assert isinstance(form.form.fields["assigned_manager"], CheckedModelChoiceField)
    chosen = form.form.cleaned_data["assigned_manager"]
    assert chosen.pk == manager.pk and chosen.get_deferred_fields() >= {"username", "role"}
    assert chosen.username == manager.username  # read when first asked


def test_a_checked_choice_is_compiled_once_not_once_a_request(manager, monkeypatch):
    """Each request's form has copies of its class's fields: the choice's query is kept under a key the copies share,
    so it is compiled once (a key of the copy itself compiled it on every request and filled the process's store)."""
    monkeypatch.setattr(clientdesk.compiled, "_compiled", {})
    compiled = []
    compile_once = clientdesk.compiled._compile
    monkeypatch.setattr(clientdesk.compiled, "_compile", lambda queryset: compiled.append(1) or compile_once(queryset))

    chosen = QueryDict(f"assigned_manager={manager.pk}")
    for _ in range(3):
        form = strict_filterset(ClientFilter)(chosen, queryset=Client.objects.all())
        assert form.is_valid()
        assert form.form.cleaned_data["assigned_manager"].pk == manager.pk

    assert len(compiled) == 1
    assert len(clientdesk.compiled._compiled) == 1


def test_the_call_log_pages_by_time_with_offsets_as_before(api_as_manager, manager, monkeypatch):
    """The call log is ordered by time then id: calls that started at the same moment make DRF's cursors carry an
    offset, which it finds by comparing the rows' positions (the raw time, not the answer's text)."""
    for _ in range(5):
        CallFactory(manager=manager)
    Call.objects.update(started_at=WHOLE_SECOND)
    CallFactory(manager=manager)

    url, pages = "/api/v1/calls/?page_size=2", []
    while url:
        fast, slow = both_ways(api_as_manager, monkeypatch, url)
        assert fast == slow
        pages.append(api_as_manager.get(url).json())
        url = pages[-1]["next"]
    for page in reversed(pages[1:]):
        fast, slow = both_ways(api_as_manager, monkeypatch, page["previous"])
        assert fast == slow
    assert len(pages) == 3
    walked = sorted(call["id"] for page in pages for call in page["results"])
    assert walked == sorted(Call.objects.values_list("id", flat=True))
