import pytest
from django.urls import reverse

from clients.models import Client, ClientPhone, Vehicle
from tests.factories import CallFactory, ClientFactory, PhoneFactory, VehicleFactory, client_with_phone

pytestmark = pytest.mark.django_db


def client_form_data(**overrides):
    data = {
        "kind": "person",
        "name": "Сидоров Сидор",
        "email": "",
        "preferred_contact_time": "",
        "source": "call",
        "assigned_manager": "",
        "dms_id": "",
        "notes": "",
        "phones-TOTAL_FORMS": "1",
        "phones-INITIAL_FORMS": "0",
        "phones-MIN_NUM_FORMS": "0",
        "phones-MAX_NUM_FORMS": "10",
        "phones-0-number": "8 (912) 345-67-89",
        "phones-0-kind": "mobile",
        "phones-0-comment": "",
    }
    data.update(overrides)
    return data


def test_create_client_from_the_form(as_manager, manager):
    response = as_manager.post(reverse("clients:create"), client_form_data(consent_personal_data="on"))
    client = Client.objects.get()
    assert response.status_code == 302
    assert response["Location"] == client.get_absolute_url()
    assert client.phones.get().number == "+79123456789"
    assert client.history.get().history_user == manager


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": ""}, "This field is required"),
        ({"phones-0-number": "912-34"}, "Too few digits"),
        ({"phones-0-number": "8 912 abc"}, "only digits"),
        ({"email": "nope"}, "valid email"),
        ({"consent_marketing": "on"}, "Marketing consent needs consent to personal-data processing first"),
    ],
)
def test_bad_client_form_shows_field_errors_and_saves_nothing(as_manager, overrides, message):
    response = as_manager.post(
        reverse("clients:create"), client_form_data(**overrides), headers={"Accept-Language": "en"}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Client.objects.exists()
    assert not ClientPhone.objects.exists()


def test_dms_id_in_use_is_a_form_error(as_manager):
    ClientFactory(dms_id="D-1", name="Владелец")
    response = as_manager.post(reverse("clients:create"), client_form_data(dms_id="D-1"))
    assert response.status_code == 400
    assert "Владелец" in response.content.decode()
    assert Client.objects.count() == 1


def test_new_client_prefilled_from_the_new_call_box(as_manager):
    response = as_manager.get(reverse("clients:create"), {"phone": "+79123456789"})
    assert 'value="+79123456789"' in response.content.decode()


def test_edit_client_and_phones(as_manager):
    client = client_with_phone("+79123456789", name="Old")
    data = client_form_data(
        name="New",
        **{
            "phones-TOTAL_FORMS": "2",
            "phones-INITIAL_FORMS": "1",
            "phones-0-number": "+7 912 345-67-89",
            "phones-1-number": "89031112233",
            "phones-1-kind": "work",
            "phones-1-is_primary": "on",
        },
    )
    response = as_manager.post(reverse("clients:edit", args=[client.pk]), data)
    assert response.status_code == 302
    client.refresh_from_db()
    assert client.name == "New"
    assert dict(client.phones.values_list("number", "is_primary")) == {"+79123456789": False, "+79031112233": True}


def test_edit_deleting_a_phone(as_manager):
    client = client_with_phone("+79123456789")
    PhoneFactory(client=client, number="+79031112233", is_primary=False)
    data = client_form_data(
        **{
            "phones-TOTAL_FORMS": "2",
            "phones-INITIAL_FORMS": "2",
            "phones-0-number": "+79123456789",
            "phones-0-is_primary": "on",
            "phones-1-number": "+79031112233",
            "phones-1-kind": "mobile",
            "phones-1-DELETE": "on",
        }
    )
    assert as_manager.post(reverse("clients:edit", args=[client.pk]), data).status_code == 302
    assert list(client.phones.values_list("number", flat=True)) == ["+79123456789"]


def test_two_primary_phones_in_the_form_are_refused(as_manager):
    client = client_with_phone("+79123456789", name="Keep")
    data = client_form_data(
        **{
            "phones-TOTAL_FORMS": "2",
            "phones-0-is_primary": "on",
            "phones-1-number": "89031112233",
            "phones-1-kind": "mobile",
            "phones-1-is_primary": "on",
        }
    )
    response = as_manager.post(reverse("clients:edit", args=[client.pk]), data, headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert "Only one phone can be primary" in response.content.decode()
    assert list(client.phones.values_list("number", flat=True)) == ["+79123456789"]


def test_vehicle_form_normalises_and_reports_conflicts(as_manager):
    owner = ClientFactory()
    url = reverse("clients:vehicle-create", args=[owner.pk])
    data = {"vin": "xta21099012345678", "plate": "a123bc77", "make": "Lada", "model": "Vesta", "year": "2021"}
    assert as_manager.post(url, data).status_code == 302
    assert Vehicle.objects.get().plate == "А123ВС77"
    other = ClientFactory()
    response = as_manager.post(reverse("clients:vehicle-create", args=[other.pk]), data)
    assert response.status_code == 400
    assert owner.name in response.content.decode()
    response = as_manager.post(url, {**data, "vin": "XTA2109O012345678"}, headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert "never contains the letters I, O or Q" in response.content.decode()
    assert Vehicle.objects.count() == 1


def test_card_shows_details_vehicles_calls_and_duplicates(as_manager):
    client = client_with_phone("+79123456789", name="Иванов Иван")
    twin = client_with_phone("+79123456789", name="Иванов И. (дубль)")
    VehicleFactory(owner=client, make="Kia", model="Rio", plate="В456ОР199")
    CallFactory(client=client, notes="Записался на ТО-2")
    page = as_manager.get(reverse("clients:detail", args=[client.pk])).content.decode()
    assert "Иванов Иван" in page
    assert "+7 912 345-67-89" in page
    assert "Kia Rio" in page and "В456ОР199" in page
    assert "Записался на ТО-2" in page
    assert twin.name in page  # flagged as a likely duplicate
    assert 'id="log-call"' in page


def test_merged_client_card_redirects_to_the_client_kept(as_head):
    kept, dup = ClientFactory(), ClientFactory()
    as_head.post(reverse("clients:merge", args=[dup.pk]), {"target": kept.pk, "previewed": kept.pk})
    response = as_head.get(reverse("clients:detail", args=[dup.pk]))
    assert response.status_code == 302
    assert response["Location"] == kept.get_absolute_url()


def test_merge_page_refuses_a_bad_target(as_head):
    dup = ClientFactory()
    response = as_head.post(reverse("clients:merge", args=[dup.pk]), {"target": dup.pk})
    assert response.status_code == 400
    response = as_head.post(reverse("clients:merge", args=[dup.pk]), {"target": 999999})
    assert response.status_code == 400
    dup.refresh_from_db()
    assert dup.merged_into_id is None


def test_duplicates_page_lists_shared_numbers(as_head):
    a = client_with_phone("+79123456789", name="Первый")
    b = client_with_phone("+79123456789", name="Второй")
    client_with_phone("+79030000000", name="Одинокий")
    page = as_head.get(reverse("clients:duplicates")).content.decode()
    assert a.name in page and b.name in page
    assert "Одинокий" not in page


def test_history_page_shows_who_changed_what(as_manager, manager):
    as_manager.post(reverse("clients:create"), client_form_data())
    client = Client.objects.get()
    as_manager.post(reverse("clients:edit", args=[client.pk]), client_form_data(name="Сидоров Сидор Сидорович"))
    page = as_manager.get(reverse("clients:history", args=[client.pk])).content.decode()
    assert "Сидоров Сидор Сидорович" in page
    assert str(manager) in page


def test_list_filters_and_keyset_pages(as_manager):
    for i in range(120):
        ClientFactory(name=f"Клиент {i:03d}", source="dms" if i % 2 else "call")
    first = as_manager.get(reverse("clients:list"), {"source": "dms"})
    page = first.content.decode()
    assert first.status_code == 200
    assert "Клиент 119" in page and "Клиент 118" not in page
    assert len(first.context["page"]) == 50
    after = first.context["page"].next_after
    second = as_manager.get(reverse("clients:list"), {"source": "dms", "after": after})
    assert "Клиент 019" in second.content.decode()
    assert "Клиент 021" not in second.content.decode()
    assert not second.context["page"].has_next
    assert as_manager.get(reverse("clients:list"), {"after": "junk"}).status_code == 200


def _populate(count):
    clients = []
    for i in range(count):
        client = client_with_phone(f"+7926777{i:04d}", name=f"Петров {i}")
        PhoneFactory(client=client, number=f"+7903777{i:04d}", is_primary=False)
        VehicleFactory(owner=client)
        clients.append(client)
    return clients


QUERY_COUNTS: dict[str, int] = {}


@pytest.mark.parametrize("rows", [5, 50])
def test_client_list_page_query_count_is_pinned(as_manager, django_assert_num_queries, rows):
    _populate(rows)
    # session, user, the page of clients, their phones, their vehicles, the manager choices of the filter form
    with django_assert_num_queries(6):
        response = as_manager.get(reverse("clients:list"))
    assert len(response.context["page"]) == rows


@pytest.mark.parametrize("rows", [5, 50])
def test_card_query_count_is_pinned(as_manager, manager, django_assert_num_queries, rows):
    client = _populate(1)[0]
    for _ in range(rows):
        VehicleFactory(owner=client)
        CallFactory(client=client, manager=manager)
    for _ in range(3):
        twin = ClientFactory()
        PhoneFactory(client=twin, number=client.phones.first().number)
    # session, user, client, phones, vehicles, clients sharing a number, those clients, their phones,
    # a page of the timeline: handovers (+ vehicle), calls (+ manager, vehicle), visits (+ vehicle, advisor, area),
    # survey answers (+ handover, asker), claims (+ category, manager), documents; the call form lists the vehicles
    # already loaded
    with django_assert_num_queries(14):
        response = as_manager.get(reverse("clients:detail", args=[client.pk]))
    assert response.status_code == 200
