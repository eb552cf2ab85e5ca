"""Sensible maxima (issue 9, item 16): at most 10 phones per client, refused with a 400 (API) or a form error before
any number is parsed or any row written; each number is normalised once."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clients import normalize
from clients.models import Client, ClientPhone
from clients.services import clients as services
from clients.services.clients import PhoneInput, client_create, client_update
from tests.factories import client_with_phone

pytestmark = pytest.mark.django_db

CLIENTS = "/api/v1/clients/"


def numbers(count: int) -> list[str]:
    return [f"+7912{n:07d}" for n in range(count)]


def test_ten_phones_are_fine_and_eleven_are_refused_before_any_is_parsed(manager, monkeypatch):
    client = client_create(by=manager, name="Много номеров", phones=[PhoneInput(n) for n in numbers(10)])
    assert client.phones.count() == ClientPhone.MAX_PER_CLIENT == 10
    parsed = []
    monkeypatch.setattr(services, "normalize_phone", lambda raw: parsed.append(raw) or normalize.normalize_phone(raw))
    with pytest.raises(ValidationError) as refused:
        client_update(client=client, by=manager, phones=[PhoneInput(n) for n in numbers(11)])
    assert refused.value.message_dict == {"phones": ["A client has at most 10 phones."]}
    assert parsed == [] and client.phones.count() == 10


def test_each_number_is_normalised_once_through_the_api(api_as_manager, monkeypatch):
    parsed = []
    monkeypatch.setattr(services, "normalize_phone", lambda raw: parsed.append(raw) or normalize.normalize_phone(raw))
    body = {"name": "Иванов", "phones": [{"number": "8 (912) 000-00-01"}, {"number": "+7 912 000 00 02"}]}
    response = api_as_manager.post(CLIENTS, body, format="json")
    assert response.status_code == 201, response.content
    assert parsed == ["8 (912) 000-00-01", "+7 912 000 00 02"]
    assert [p["number"] for p in response.json()["phones"]] == ["+79120000001", "+79120000002"]


def test_twenty_thousand_phones_in_one_body_are_a_400_that_touches_no_row(api_as_manager, dms_api):
    # given: a client on file, and a body with 20,000 phones (the broken import that ran a worker past its timeout)
    client = client_with_phone("+79123456789", name="Старый")
    body = json.dumps({"name": "Иванов", "phones": [{"number": n} for n in numbers(20_000)]})
    before = (Client.objects.count(), ClientPhone.objects.count())
    # when: it is sent to create, to update and to the DMS upsert
    with CaptureQueriesContext(connection) as queries:
        created = api_as_manager.post(CLIENTS, body, content_type="application/json")
        updated = api_as_manager.put(f"{CLIENTS}{client.pk}/", body, content_type="application/json")
        upserted = dms_api.put(f"{CLIENTS}dms/A-1/", body, content_type="application/json")
    # then: each is a 400 naming the phones, and no row was written (nor was each number looked at)
    for response in (created, updated, upserted):
        assert response.status_code == 400, response.content[:300]
        assert "phones" in response.json()
    assert (Client.objects.count(), ClientPhone.objects.count()) == before
    assert client.phones.get().number == "+79123456789"
    assert not [
        q
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE")) and "clients_" in q["sql"]
    ]


def test_the_client_form_refuses_more_than_ten_phones(as_manager):
    data = {
        "kind": "person",
        "name": "Иванов",
        "source": "call",
        "phones-TOTAL_FORMS": "11",
        "phones-INITIAL_FORMS": "0",
        "phones-MIN_NUM_FORMS": "0",
        "phones-MAX_NUM_FORMS": "10",
    }
    for index, number in enumerate(numbers(11)):
        data[f"phones-{index}-number"] = number
        data[f"phones-{index}-kind"] = "mobile"
    response = as_manager.post(reverse("clients:create"), data, headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert "Please submit at most 10 forms." in response.content.decode()
    assert not Client.objects.exists()


def test_a_forged_form_asking_for_twenty_thousand_phones_is_refused(as_manager):
    data = {
        "kind": "person",
        "name": "Иванов",
        "source": "call",
        "phones-TOTAL_FORMS": "20000",
        "phones-INITIAL_FORMS": "0",
        "phones-MIN_NUM_FORMS": "0",
        "phones-MAX_NUM_FORMS": "10",
    }
    response = as_manager.post(reverse("clients:create"), data)
    assert response.status_code == 400
    assert not Client.objects.exists()
