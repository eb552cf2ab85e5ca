"""A GET of a compiled API list (clients, vehicles, deliveries) goes a shorter way:
`clientdesk.middleware.ApiListMiddleware`'s chain instead of all of MIDDLEWARE, and `clientdesk.api.CompiledListMixin`'s
page SQL compiled once per shape. It must answer exactly what the whole way answers — status, body, headers, cookies —
for every kind of caller and input, and see the data as it is now, not as it was when the SQL was compiled."""

import base64
import contextlib
from datetime import timedelta

import pytest
from django.db import OperationalError
from django.test import Client as DjangoTestClient
from django.utils import timezone

import clientdesk.api
import clientdesk.middleware
from accounts.roles import Capability
from accounts.services.users import api_key_create, user_update
from clients.models import Client, Vehicle
from clients.services.deliveries import delivery_record
from tests.factories import ClientFactory, PhoneFactory, UserFactory, VehicleFactory


@contextlib.contextmanager
def the_whole_way(monkeypatch):
    """Every request through all of MIDDLEWARE, and each list's page built by the ORM as DRF builds it."""
    with monkeypatch.context() as patched:
        patched.setattr(clientdesk.middleware, "_compiled_list_match", lambda path: None)
        patched.setattr(
            clientdesk.api.CompiledListMixin,
            "list",
            lambda view, request, *args, **kwargs: super(clientdesk.api.CompiledListMixin, view).list(
                request, *args, **kwargs
            ),
        )
        yield


def seen(response) -> tuple:
    """What a caller sees of an answer; `Expires` only as there or not (it is the second the answer was made)."""
    headers = {name: "(now)" if name == "Expires" else value for name, value in response.headers.items()}
    return (
        response.status_code,
        response.content,
        sorted(headers.items()),
        sorted((name, morsel.value) for name, morsel in response.cookies.items()),
    )


def both_ways(monkeypatch, client, path: str, params: dict | None = None, **headers) -> tuple:
    short = seen(client.get(path, params or {}, headers=headers))
    with the_whole_way(monkeypatch):
        whole = seen(client.get(path, params or {}, headers=headers))
    assert short == whole, f"{path} {params} {headers}"
    return short


@pytest.fixture
def department(db, manager):
    other = UserFactory(username="other-manager", role="manager")
    clients = []
    for n in range(7):
        client = ClientFactory(
            source="dms" if n % 2 else "manual",
            kind="company" if n == 3 else "person",
            dms_id=f"D-{n}" if n % 2 else "",
            assigned_manager=manager if n % 3 else other,
            consent_marketing=n % 2 == 0,
            consent_marketing_at=timezone.now() if n % 2 == 0 else None,
            dms_updated_at=timezone.now() - timedelta(days=n) if n % 2 else None,
        )
        PhoneFactory(client=client)
        clients.append(client)
    VehicleFactory(owner=clients[0], make="Kia")
    VehicleFactory(owner=clients[1])
    ClientFactory(merged_into=clients[0])  # not listed
    return {"clients": clients, "other": other}


@pytest.fixture
def signed_in(manager):
    client = DjangoTestClient()
    client.force_login(manager)
    return client


def keyed(user, head, scopes=()) -> DjangoTestClient:
    _key, raw = api_key_create(user=user, name=f"key {sorted(scopes)}", by=head, scopes=scopes)
    return DjangoTestClient(headers={"authorization": f"Api-Key {raw}"})


def cursor_at(position: str) -> str:
    """A cursor as DRF writes one (base64 of `p=<position>`), for a position the API never gave out."""
    return base64.b64encode(f"p={position}".encode()).decode()


QUERIES = [
    {},
    {"source": "dms"},
    {"kind": "company"},
    {"consent_marketing": "true"},
    {"consent_marketing": "true", "source": "manual"},
    {"page_size": "2"},
    {"page_size": "2", "source": "dms"},
    {"updated_since": "2020-01-01T00:00:00+03:00"},
    {"dms_id": "D-3"},
    {"q": "Клиент"},  # a search: built the whole way
    # refused, as a 400 naming the parameter
    {"source": "nowhere"},
    {"page_size": "many"},
    {"cursor": "not-a-cursor"},
    {"cursor": cursor_at("99999999999999999999999")},  # past any id a column holds
    {"cursor": cursor_at("-5")},
    {"cursor": cursor_at("1.5")},
    {"consent_marketing": "maybe"},
    {"updated_since": "0001-01-01T00:00:00+14:00"},
    {"assigned_manager": "999999"},
    {"assigned_manager": "x"},
    # the browsable API and `?format=` go the whole way themselves
    {"format": "json"},
]


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: "&".join(f"{k}={v}" for k, v in q.items()) or "none")
def test_a_signed_in_manager_gets_the_same_answers(monkeypatch, department, signed_in, query):
    both_ways(monkeypatch, signed_in, "/api/v1/clients/", query)


def test_the_same_answers_with_a_chosen_manager_and_on_the_vehicles(monkeypatch, department, signed_in, manager):
    both_ways(monkeypatch, signed_in, "/api/v1/clients/", {"assigned_manager": manager.pk})
    owner = department["clients"][0]
    for query in ({}, {"make": "kia"}, {"owner": owner.pk}, {"owner": "x"}, {"year": "1.5"}, {"vin": "XTA"}):
        both_ways(monkeypatch, signed_in, "/api/v1/vehicles/", query)


def test_the_same_answers_on_the_deliveries(monkeypatch, department, signed_in, manager, on_postgres):
    compiled = []
    compile_page = clientdesk.api.CompiledListMixin.compile_page
    monkeypatch.setattr(
        clientdesk.api.CompiledListMixin,
        "compile_page",
        lambda view, *shape, **chosen: compiled.append(type(view).__name__) or compile_page(view, *shape, **chosen),
    )
    buyer = department["clients"][1]
    handed_over = timezone.now() - timedelta(days=3)
    for n, car in enumerate(Vehicle.objects.all()):
        delivery_record(
            by=manager, client=buyer, vehicle=car, delivered_at=handed_over + timedelta(hours=n), dms_id=f"S-{n}"
        )
    queries = [
        {},
        {"client": buyer.pk},
        {"client": "x"},
        {"delivered_after": (handed_over + timedelta(minutes=30)).isoformat()},
        {"delivered_before": "2020-13-01"},
        {"dms_id": "S-1"},
        {"page_size": "1"},
        {"cursor": "not-a-cursor"},
    ]
    for query in queries:
        both_ways(monkeypatch, signed_in, "/api/v1/deliveries/", query)
    first = signed_in.get("/api/v1/deliveries/", {"page_size": 1}).json()
    assert len(first["results"]) == 1 and first["next"]
    both_ways(monkeypatch, signed_in, first["next"])
    assert ("DeliveryViewSet" in compiled) == on_postgres  # the compiled way, where there is one


@pytest.mark.parametrize(
    "headers",
    [
        {"accept_language": "ru"},
        {"accept_language": "en-US,en;q=0.8"},
        {"accept": "application/json; indent=2"},
        {"accept": "application/xml"},
        {"accept": "*/*"},
    ],
)
def test_languages_and_what_is_accepted(monkeypatch, department, signed_in, headers):
    both_ways(monkeypatch, signed_in, "/api/v1/clients/", {"source": "nowhere"}, **headers)
    both_ways(monkeypatch, signed_in, "/api/v1/clients/", {"source": "dms"}, **headers)


def test_the_browsable_api_goes_the_whole_way(department, signed_in):
    page = signed_in.get("/api/v1/clients/", {"source": "dms"}, headers={"accept": "text/html"})
    assert page.status_code == 200
    assert page["Content-Type"].startswith("text/html")
    assert b"csrfmiddlewaretoken" in page.content  # the page's forms, which only the whole chain gives a token


def test_every_kind_of_caller(monkeypatch, department, integration, head):
    callers = {
        "a key": keyed(integration, head),
        "a key that may only write": keyed(integration, head, scopes=[Capability.EDIT_CLIENTS]),
        "a key that may read": keyed(integration, head, scopes=[Capability.VIEW_CLIENTS]),
        "a wrong key": DjangoTestClient(headers={"authorization": "Api-Key cd_0000000000_wrong"}),
        "another scheme": DjangoTestClient(headers={"authorization": "Bearer something"}),
        "nobody": DjangoTestClient(),
    }
    for name, client in callers.items():
        for query in ({}, {"source": "dms"}, {"source": "nowhere"}):
            status = both_ways(monkeypatch, client, "/api/v1/clients/", query)[0]
            assert (status == 200) == (name in {"a key", "a key that may read"} and query != {"source": "nowhere"})


def test_every_page_walked_both_ways(monkeypatch, department, signed_in):
    def walk(url, params):
        pages = []
        while url:
            response = signed_in.get(url, params)
            pages.append(seen(response))
            url, params = response.json()["next"], None
        return pages

    short = walk("/api/v1/clients/", {"page_size": 2})
    with the_whole_way(monkeypatch):
        whole = walk("/api/v1/clients/", {"page_size": 2})
    assert short == whole
    assert len(short) == 4
    last = signed_in.get(signed_in.get("/api/v1/clients/", {"page_size": 2}).json()["next"]).json()
    back = signed_in.get(last["previous"]).json()  # a page read backwards: the other side of the position
    assert [row["id"] for row in back["results"]] == [c.pk for c in reversed(department["clients"])][:2]


def test_compiled_once_and_run_on_the_data_as_it_is_now(monkeypatch, department, signed_in, on_postgres):
    compiled = []
    original = clientdesk.api.CompiledListMixin.compile_page

    def spy(view, *shape, **chosen):
        compiled.append(shape)
        return original(view, *shape, **chosen)

    monkeypatch.setattr(clientdesk.api.CompiledListMixin, "compile_page", spy)
    first = signed_in.get("/api/v1/clients/", {"source": "dms", "page_size": 1}).json()
    second = signed_in.get(first["next"]).json()
    third = signed_in.get(second["next"]).json()
    assert [len(page["results"]) for page in (first, second, third)] == [1, 1, 1]
    assert len({row["id"] for page in (first, second, third) for row in page["results"]}) == 3
    if on_postgres:
        # the first page's shape, then the one of every page after a position
        assert len(compiled) == 2

    # a parameter no filter reads is no other shape
    unread = signed_in.get("/api/v1/clients/", {"source": "dms", "page_size": 1, "utm": "x"}).json()
    assert unread["results"] == first["results"]
    assert unread["next"].endswith("&utm=x")  # kept in the links, as DRF keeps it
    if on_postgres:
        assert len(compiled) == 2

    newest = ClientFactory(source="dms")
    Client.objects.filter(pk=first["results"][0]["id"]).update(name="Переименованный")
    again = signed_in.get("/api/v1/clients/", {"source": "dms", "page_size": 2}).json()["results"]
    assert [row["id"] for row in again] == [newest.pk, first["results"][0]["id"]]
    assert again[1]["name"] == "Переименованный"
    if on_postgres:
        assert len(compiled) == 3  # another page size is another shape


def test_a_chosen_manager_is_checked_on_every_request(monkeypatch, department, signed_in, head):
    other = department["other"]
    assert both_ways(monkeypatch, signed_in, "/api/v1/clients/", {"assigned_manager": other.pk})[0] == 200
    user_update(user=other, by=head, is_active=False)
    refused = both_ways(monkeypatch, signed_in, "/api/v1/clients/", {"assigned_manager": other.pk})
    assert refused[0] == 400
    assert b"assigned_manager" in refused[1]


def test_who_asks_decides_what_the_compiled_list_shows(monkeypatch, department, integration, head):
    reader = keyed(integration, head, scopes=[Capability.VIEW_CLIENTS])
    writer = keyed(integration, head, scopes=[Capability.EDIT_CLIENTS])
    assert reader.get("/api/v1/clients/", {"source": "dms"}).status_code == 200
    # the same user and query string, but a key without the scope to read: not the reader's compiled page
    assert writer.get("/api/v1/clients/", {"source": "dms"}).status_code == 403


@pytest.mark.postgres  # where a page is read by LeanRows, which the error is put into
@pytest.mark.parametrize("error", [RuntimeError("a bug"), OperationalError("the database went away")])
def test_an_error_in_the_view_is_answered_as_the_whole_way_answers_it(monkeypatch, department, manager, error):
    client = DjangoTestClient(raise_request_exception=False)
    client.force_login(manager)

    def fails(*args, **kwargs):
        raise error

    monkeypatch.setattr(clientdesk.api.LeanRows, "run", fails)
    monkeypatch.setattr(clientdesk.api.CompiledListMixin, "list", fails)  # the short way's own list, too
    status = both_ways(monkeypatch, client, "/api/v1/clients/", {"source": "dms"})[0]
    assert status == (503 if isinstance(error, OperationalError) else 500)


@pytest.mark.postgres  # compiled on PostgreSQL only; SQLite builds each page (test_api_lean_lists pins it too)
def test_a_compiled_page_is_one_query_with_its_chosen_manager_checked_in_it(
    department, head, api_as_manager, django_assert_num_queries
):
    chosen = {"assigned_manager": department["other"].pk}
    for _ in range(3):  # compiled on the first request, run again on the next
        with django_assert_num_queries(1):
            assert api_as_manager.get("/api/v1/clients/", {"source": "dms"}).status_code == 200
    # the first request of a shape checks the manager, and once more building the page's query to compile it
    with django_assert_num_queries(3):
        assert api_as_manager.get("/api/v1/clients/", chosen).status_code == 200
    for _ in range(3):  # then the page's own query asks that the manager is still one to choose
        with django_assert_num_queries(1):
            page = api_as_manager.get("/api/v1/clients/", chosen)
        assert page.status_code == 200 and page.json()["results"]
    # a page with no row checks the choice again: no client is this manager's, or the manager has gone
    idle = UserFactory(role="manager")
    assert api_as_manager.get("/api/v1/clients/", {"assigned_manager": idle.pk}).json()["results"] == []
    with django_assert_num_queries(2):
        assert api_as_manager.get("/api/v1/clients/", {"assigned_manager": idle.pk}).json()["results"] == []
    user_update(user=department["other"], by=head, is_active=False)
    with django_assert_num_queries(2):
        refused = api_as_manager.get("/api/v1/clients/", chosen)
    assert refused.status_code == 400 and list(refused.json()) == ["assigned_manager"]
