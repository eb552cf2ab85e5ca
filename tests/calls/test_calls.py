from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from calls.models import Call
from calls.services.calls import call_log, call_update
from tests.factories import CallFactory, ClientFactory, VehicleFactory, client_with_phone

pytestmark = pytest.mark.django_db


def test_call_log_takes_the_primary_phone_and_normalises(manager):
    client = client_with_phone("+79123456789")
    call = call_log(by=manager, client=client, direction="in", purpose="booking", outcome="booked")
    assert (call.phone_number, call.phone_e164, call.manager) == ("+79123456789", "+79123456789", manager)
    assert call.history.get().history_user == manager


def test_unknown_caller_keeps_the_number_as_dialled(manager):
    call = call_log(by=manager, phone_number="8 (912) 000-11-22", direction="in", purpose="other", outcome="resolved")
    assert call.client is None
    assert call.phone_e164 == "+79120001122"
    odd = call_log(by=manager, phone_number="0911", direction="in", purpose="other", outcome="resolved")
    assert (odd.phone_number, odd.phone_e164) == ("0911", "")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"direction": "in", "outcome": "no_answer"}, "outcome"),
        ({"direction": "out", "outcome": "resolved", "started_at": timezone.now() + timedelta(hours=2)}, "started_at"),
        ({"direction": "sideways", "outcome": "resolved"}, "direction"),
        ({"direction": "in", "outcome": "resolved", "duration": -1}, "duration"),
    ],
)
def test_call_rules(manager, kwargs, field):
    client = client_with_phone("+79123456789")
    with pytest.raises(ValidationError) as exc:
        call_log(by=manager, client=client, purpose="other", **kwargs)
    assert field in exc.value.message_dict
    assert not Call.objects.exists()


def test_call_needs_a_client_or_a_number(manager):
    with pytest.raises(ValidationError) as exc:
        call_log(by=manager, direction="in", purpose="other", outcome="resolved")
    assert "phone_number" in exc.value.message_dict


def test_vehicle_must_be_the_clients(manager):
    client = client_with_phone("+79123456789")
    with pytest.raises(ValidationError) as exc:
        call_log(
            by=manager, client=client, vehicle=VehicleFactory(), direction="in", purpose="other", outcome="resolved"
        )
    assert "vehicle" in exc.value.message_dict


def test_call_update_is_recorded(manager, head):
    call = call_log(by=manager, phone_number="89120001122", direction="in", purpose="other", outcome="resolved")
    call_update(call=call, by=head, notes="Уточнил: спрашивал про тонировку")
    assert call.history.latest().history_user == head


def test_inline_call_form_on_the_card_swaps_the_panel(as_manager):
    client = client_with_phone("+79123456789")
    vehicle = VehicleFactory(owner=client)
    response = as_manager.post(
        reverse("calls:log-for-client", args=[client.pk]),
        {
            "direction": "in",
            "purpose": "booking",
            "outcome": "booked",
            "vehicle": vehicle.pk,
            "duration_minutes": 3,
            "notes": "ТО-1",
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "ТО-1" in page and 'id="timeline"' in page
    call = Call.objects.get()
    assert (call.client, call.vehicle, call.duration, call.phone_e164) == (client, vehicle, 180, "+79123456789")


def test_inline_call_form_errors_stay_on_the_form(as_manager):
    client = client_with_phone("+79123456789")
    response = as_manager.post(
        reverse("calls:log-for-client", args=[client.pk]),
        {"direction": "in", "purpose": "booking", "outcome": "no_answer"},
        headers={"HX-Request": "true", "Accept-Language": "en"},
    )
    assert response.status_code == 400
    assert "for outbound calls" in response.content.decode()
    assert not Call.objects.exists()


def test_without_htmx_the_form_redirects_to_the_card(as_manager):
    client = client_with_phone("+79123456789")
    response = as_manager.post(
        reverse("calls:log-for-client", args=[client.pk]), {"direction": "out", "purpose": "other", "outcome": "busy"}
    )
    assert response.status_code == 302
    assert Call.objects.get().outcome == "busy"


def test_new_call_box_finds_the_caller_by_any_spelling(as_manager):
    client = client_with_phone("+79123456789", name="Звонящий Клиент")
    response = as_manager.get(reverse("calls:new"), {"number": "8 912 345 67 89"}, headers={"HX-Request": "true"})
    page = response.content.decode()
    assert client.name in page
    assert f"{client.get_absolute_url()}?phone=%2B79123456789" in page


def test_new_call_box_offers_a_new_client_for_an_unknown_number(as_manager):
    page = as_manager.get(reverse("calls:new"), {"number": "89031112233"}).content.decode()
    assert reverse("clients:create") + "?phone=%2B79031112233" in page
    assert reverse("calls:unknown") in page


def test_new_call_box_with_a_malformed_number_says_so(as_manager):
    page = as_manager.get(reverse("calls:new"), {"number": "12"}, headers={"Accept-Language": "en"}).content.decode()
    assert "Too few digits" in page


def test_unknown_caller_page(as_manager):
    response = as_manager.post(
        reverse("calls:unknown"),
        {"phone_number": "89031112233", "direction": "in", "purpose": "consultation", "outcome": "resolved"},
    )
    assert response.status_code == 302
    assert Call.objects.get().client is None
    response = as_manager.post(
        reverse("calls:unknown"), {"direction": "in", "purpose": "consultation", "outcome": "resolved"}
    )
    assert response.status_code == 400
    assert Call.objects.count() == 1


@pytest.mark.parametrize("number", ["123", "12345678901234", "+7 912 abc"])
def test_unknown_caller_form_refuses_what_the_new_call_page_refuses(as_manager, number):
    data = {"phone_number": number, "direction": "in", "purpose": "consultation", "outcome": "resolved"}
    response = as_manager.post(reverse("calls:unknown"), data, headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert "phone_number" in response.context["form"].errors
    assert not Call.objects.exists()


def test_the_call_forms_store_the_number_in_one_form(as_manager):
    data = {"phone_number": "8 (903) 111-22-33", "direction": "in", "purpose": "consultation", "outcome": "resolved"}
    assert as_manager.post(reverse("calls:unknown"), data).status_code == 302
    assert Call.objects.get().phone_e164 == "+79031112233"


def test_client_card_call_form_refuses_a_bad_number(as_manager):
    client = client_with_phone("+79123456789")
    data = {"phone_number": "123", "direction": "in", "purpose": "consultation", "outcome": "resolved"}
    response = as_manager.post(reverse("calls:log-for-client", args=[client.pk]), data)
    assert response.status_code == 400
    assert not Call.objects.exists()


def test_call_list_filters(as_manager, manager):
    mine = CallFactory(manager=manager, purpose="complaint")
    CallFactory(purpose="booking")
    response = as_manager.get(reverse("calls:list"), {"purpose": "complaint"})
    assert list(response.context["page"]) == [mine]


@pytest.mark.parametrize("rows", [5, 50])
def test_call_list_query_count_is_pinned(as_manager, django_assert_num_queries, rows):
    for _ in range(rows):
        CallFactory()
    # session, user, the page of calls with client, manager and vehicle joined, the manager choices of the filter form
    with django_assert_num_queries(4):
        response = as_manager.get(reverse("calls:list"))
    assert len(response.context["page"]) == rows


def test_api_log_and_list_calls(api_as_manager, manager):
    client = client_with_phone("+79123456789")
    response = api_as_manager.post(
        "/api/v1/calls/",
        {"client": client.pk, "direction": "out", "purpose": "confirmation", "outcome": "busy"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["manager"] == manager.pk
    response = api_as_manager.get("/api/v1/calls/", {"client": client.pk, "outcome": "busy"})
    assert len(response.json()["results"]) == 1
    response = api_as_manager.get("/api/v1/calls/", {"phone": "8 912 345 67 89"})
    assert len(response.json()["results"]) == 1


@pytest.mark.parametrize(
    "payload",
    [
        {"direction": "in", "outcome": "busy", "phone_number": "89123456789"},
        {"direction": "in"},
        {"direction": "in", "client": 999999},
        {"direction": "in", "phone_number": "89123456789", "duration": "long"},
        {"direction": "in", "phone_number": "89123456789", "started_at": "yesterday"},
    ],
)
def test_api_bad_calls_are_400(api_as_manager, payload):
    response = api_as_manager.post("/api/v1/calls/", payload, format="json")
    assert response.status_code == 400, response.content
    assert not Call.objects.exists()


@pytest.mark.parametrize("rows", [5, 50])
def test_api_call_list_query_count_is_pinned(api_as_manager, django_assert_num_queries, rows):
    for _ in range(rows):
        CallFactory(client=ClientFactory())
    with django_assert_num_queries(1):
        response = api_as_manager.get("/api/v1/calls/", {"page_size": 100})
    assert len(response.json()["results"]) == rows


def test_call_log_pages_by_time_then_id_without_losing_rows(as_manager):
    moment = timezone.now() - timedelta(hours=1)
    # 70 calls, many sharing one timestamp: the cursor must still visit each exactly once
    calls = [CallFactory(started_at=moment - timedelta(minutes=i // 10)) for i in range(70)]
    seen, after = [], None
    while True:
        response = as_manager.get(reverse("calls:list"), {"after": after} if after else {})
        page = response.context["page"]
        seen += [c.pk for c in page]
        if not page.has_next:
            break
        after = page.next_after
    assert sorted(seen) == sorted(c.pk for c in calls)
    assert len(seen) == len(set(seen))
    assert as_manager.get(reverse("calls:list"), {"after": "garbage_x"}).status_code == 200


def test_new_client_from_a_call_lands_on_the_card_ready_to_log(as_manager):
    data = {
        "kind": "person",
        "name": "Новый Звонящий",
        "source": "call",
        "phones-TOTAL_FORMS": "1",
        "phones-INITIAL_FORMS": "0",
        "phones-0-number": "+79123456789",
        "phones-0-kind": "mobile",
    }
    response = as_manager.post(reverse("clients:create") + "?phone=%2B79123456789", data)
    assert response.status_code == 302
    assert response["Location"].endswith("?phone=%2B79123456789&direction=in#log-call")
    card = as_manager.get(response["Location"].split("#")[0]).content.decode()
    assert 'value="+79123456789"' in card
