from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from clients.models import Client
from clients.selectors import client_search, search_client_ids
from clients.services.clients import client_merge
from tests.factories import ClientFactory, PhoneFactory, VehicleFactory, client_with_phone

pytestmark = pytest.mark.django_db

NUMBER = "+79123456789"


@pytest.fixture
def ivanov():
    client = client_with_phone(NUMBER, name="Иванов Пётр Петрович", dms_id="DMS-100500")
    VehicleFactory(owner=client, vin="XTA21099012345678", plate="А123ВС77")
    return client


@pytest.mark.parametrize(
    "typed",
    [
        "912",
        "345",
        "789",
        "6789",
        "45-67",
        "(912) 345",
        "912 345 67 89",
        "8 (912) 345-67-89",
        "89123456789",
        "+7 912 345-67-89",
        "7912345",
        "9123456789",
        "34567",
    ],
)
def test_found_by_any_fragment_of_three_or_more_digits_in_any_format(ivanov, manager, typed):
    hits = client_search(typed, user=manager)
    assert [h.client for h in hits] == [ivanov]
    assert "phone" in hits[0].matched_on


def test_two_digits_are_not_enough(ivanov, manager):
    assert client_search("91", user=manager) == []


@pytest.mark.parametrize(
    ("typed", "matched"),
    [
        ("иванов", "name"),
        ("Пётр Петрович", "name"),
        ("ИВАНОВ", "name"),
        ("петр иванов", "name"),  # ё and е are one letter to a searcher; word order does not matter
        ("а123вс", "plate"),
        ("a123bc77", "plate"),  # Latin letters typed for a Cyrillic plate
        ("XTA2109", "vin"),
        ("xta21099012345678", "vin"),
        ("DMS-100500", "dms_id"),
    ],
)
def test_found_by_name_plate_vin_and_dms_id(ivanov, manager, typed, matched):
    hits = client_search(typed, user=manager)
    assert [h.client for h in hits] == [ivanov]
    assert matched in hits[0].matched_on


def test_no_match(ivanov, manager):
    assert client_search("Сидоров", user=manager) == []
    assert client_search("555", user=manager) == []


def test_merged_clients_are_not_found(ivanov, head):
    duplicate = client_with_phone("+79990001122", name="Иванов-дубль")
    client_merge(source=duplicate, target=ivanov, by=head)
    assert [h.client for h in client_search("Иванов", user=head)] == [ivanov]
    # The duplicate's phone moved to the client kept.
    assert [h.client for h in client_search("999000", user=head)] == [ivanov]


def test_integration_user_searches_nothing_through_pages_but_search_is_limited_by_visibility(ivanov, transport_head):
    # The transport head may view clients; search answers for any role that may.
    assert [h.client for h in client_search("912", user=transport_head)] == [ivanov]


def test_results_are_capped(manager):
    for i in range(30):
        client_with_phone(f"+7912000{i:04d}")
    assert len(search_client_ids("912000", limit=20)) == 20


def _make_clients(count):
    for i in range(count):
        client = client_with_phone(f"+7926555{i:04d}", name=f"Смирнов {i}")
        PhoneFactory(client=client, number=f"+7903555{i:04d}", is_primary=False)
        VehicleFactory(owner=client)


@pytest.mark.parametrize("count", [5, 50])
def test_search_page_query_count_does_not_grow_with_results(as_manager, django_assert_max_num_queries, count):
    _make_clients(count)
    # session + user, the id lookups by kind of match, the clients, their phones, their vehicles
    with django_assert_max_num_queries(8) as queries:
        response = as_manager.get(reverse("clients:search"), {"q": "Смирнов"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.content.decode().count(" data-result>") == min(count, 20)
    assert len(queries) == _SEARCH_QUERIES.setdefault("n", len(queries))


_SEARCH_QUERIES: dict[str, int] = {}


def _active(client, days_ago: int):
    Client.objects.filter(pk=client.pk).update(updated_at=timezone.now() - timedelta(days=days_ago))
    return client


def test_the_last_digits_rank_before_a_match_inside_and_recent_activity_orders_each(manager):
    # given, in order of creation (so the lowest ids would come first): numbers with 1234567 inside, and numbers
    # ending with it, each client last active some days ago
    inside_old = _active(client_with_phone("+79123456789", name="Внутри, давно"), days_ago=300)
    ending_old = _active(client_with_phone("+79161234567", name="На конце, давно"), days_ago=200)
    inside_recent = _active(client_with_phone("+79512345670", name="Внутри, недавно"), days_ago=1)
    ending_recent = _active(client_with_phone("+79031234567", name="На конце, недавно"), days_ago=2)
    # when the manager types the last seven digits the caller said
    hits = client_search("123-45-67", user=manager)
    # then the numbers ending with them come first, the most recently active first, then the rest likewise
    assert [h.client for h in hits] == [ending_recent, ending_old, inside_recent, inside_old]


@pytest.mark.parametrize("typed", ["8 (916) 123-45-67", "+7 916 123 4567", "89161234567", "9161234567"])
def test_the_whole_number_in_any_spelling_comes_first(manager, typed):
    # given two clients sharing the number (the older one active more recently) and others like it
    shared_recent = _active(client_with_phone("+79161234567", name="Общий номер, недавно"), days_ago=1)
    shared_old = _active(client_with_phone("+79161234567", name="Общий номер, давно"), days_ago=90)
    _active(client_with_phone("+79161234560", name="Похожий"), days_ago=0)
    hits = client_search(typed, user=manager)
    assert [h.client for h in hits][:2] == [shared_recent, shared_old]


def hint() -> str:
    """The hint as the site shows it, in its default language."""
    with translation.override(settings.LANGUAGE_CODE):
        return gettext("Type at least %(count)d digits of the number.") % {"count": 3}


@pytest.mark.parametrize("typed", ["9", "91", "+7", "8 (9", "(91)"])
def test_a_phone_fragment_under_three_digits_gets_a_hint_not_a_list(as_manager, ivanov, typed):
    for headers in ({}, {"HX-Request": "true"}):
        page = as_manager.get(reverse("clients:search"), {"q": typed}, headers=headers).content.decode()
        assert hint() in page
        assert "data-result" not in page


def test_three_digits_or_a_name_get_results_not_the_hint(as_manager, ivanov):
    for typed in ("912", "Ив"):
        page = as_manager.get(reverse("clients:search"), {"q": typed}, headers={"HX-Request": "true"}).content.decode()
        assert hint() not in page


@pytest.mark.parametrize("param", ["q", "phone"])
def test_the_api_answers_a_short_phone_fragment_with_a_field_error(api_as_manager, ivanov, param):
    response = api_as_manager.get("/api/v1/clients/", {param: "91"})
    assert response.status_code == 400
    assert response.json()[param] == [hint()]
    found = api_as_manager.get("/api/v1/clients/", {param: "6789"})
    assert found.status_code == 200
    assert [c["id"] for c in found.json()["results"]] == [ivanov.pk]


@pytest.mark.parametrize("query", ["Ива\x00нов", "\x00\x00", "912\x1f345"])
def test_a_query_with_a_nul_or_control_character_is_searched_without_it(as_manager, api_as_manager, query):
    """A NUL byte cannot be sent to PostgreSQL in a text parameter: it was a 500 on the search page."""
    client = ClientFactory(name="Иванов Пётр")
    PhoneFactory(client=client, number="+79123456789")
    page = as_manager.get(reverse("clients:search"), {"q": query})
    assert page.status_code == 200
    assert api_as_manager.get("/api/v1/clients/", {"q": query}).status_code in (200, 400)
