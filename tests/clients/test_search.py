import pytest
from django.urls import reverse

from clients.selectors import client_search, search_client_ids
from clients.services.clients import client_merge
from tests.factories import PhoneFactory, VehicleFactory, client_with_phone

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
