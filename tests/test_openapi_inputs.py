"""The API reads its input as its OpenAPI document says, strictly where the pages forgive (clientdesk.api_filters,
clientdesk.pagination), and the document says so: the cases the fuzz test (tests/test_openapi_fuzz.py) found, one by
one and fast."""

import django_filters
import pytest

from bookings.services.recalls import recall_campaign_create
from clientdesk.api_filters import strict_filterset
from clients.filters import VehicleFilter
from clients.models import Client, Vehicle
from tests.factories import ClientFactory, VehicleFactory


def errors(response) -> dict:
    assert response.status_code == 400, (response.status_code, response.content)
    return response.json()


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"delivered": "maybe"}, "delivered"),  # a yes/no filter: was "no filter"
        ({"delivered": "-4.2e306"}, "delivered"),
        ({"owner": "1.5"}, "owner"),  # an id: was a decimal
        ({"owner": ""}, "owner"),  # an empty value: was "no filter"
        ({"updated_since": ""}, "updated_since"),
        ({"updated_since": "0364-04-12T10:00:00+03:00"}, "updated_since"),
        ({"page_size": "abc"}, "page_size"),  # was the default page
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "-5"}, "page_size"),
    ],
)
def test_a_list_refuses_what_it_cannot_read(dms_api, query, field):
    assert field in errors(dms_api.get("/api/v1/vehicles/", query))


def test_a_list_takes_what_it_documents(dms_api):
    vehicle = VehicleFactory(make="Lada")
    VehicleFactory(make="Kia")
    answers = [
        dms_api.get("/api/v1/vehicles/", {"delivered": "false", "owner": vehicle.owner_id}),
        dms_api.get("/api/v1/vehicles/", {"make": ""}),  # an empty text is a value: no filter
        dms_api.get("/api/v1/vehicles/", {"page_size": "500"}),  # more than 200 is taken as 200
        dms_api.get("/api/v1/vehicles/", {"updated_since": "2026-01-01T00:00:00+19:45"}),  # beyond PostgreSQL's 15:59
    ]
    assert [answer.status_code for answer in answers] == [200] * 4
    assert [row["id"] for row in answers[0].json()["results"]] == [vehicle.pk]
    assert len(answers[1].json()["results"]) == 2


def test_the_pages_still_forgive(as_head):
    ClientFactory()
    assert as_head.get("/clients/", {"consent_marketing": "maybe"}).status_code == 200


def test_one_strict_class_per_filterset():
    assert strict_filterset(VehicleFilter) is strict_filterset(VehicleFilter)
    assert issubclass(strict_filterset(VehicleFilter), VehicleFilter)


def test_a_strict_filterset_makes_its_form_once_unless_its_choices_depend_on_the_request(rf):
    # given: a FilterSet whose filters are the same for everyone, and one whose choices are made per request
    class PerRequest(django_filters.FilterSet):
        owner = django_filters.ModelChoiceFilter(queryset=lambda request: Client.objects.all())

        class Meta:
            model = Vehicle
            fields = ["owner"]

    def forms_of(filterset_class) -> set:
        strict = strict_filterset(filterset_class)
        return {type(strict({"owner": "1"}, queryset=Vehicle.objects.all(), request=rf.get("/")).form) for _ in "ab"}

    # then: the first shares one strict form class between requests; the second makes its form anew each time
    assert len(forms_of(VehicleFilter)) == 1
    assert len(forms_of(PerRequest)) == 2
    # and both still read strictly
    assert not strict_filterset(VehicleFilter)({"owner": "1.5"}, queryset=Vehicle.objects.all()).is_valid()


def test_the_recall_vin_list_filter_is_strict(dms_api, head):
    campaign = recall_campaign_create(by=head, manufacturer_code="RC-9", name="Campaign")
    assert "open" in errors(dms_api.get(f"/api/v1/recall-campaigns/{campaign.pk}/vins/", {"open": "maybe"}))
    assert dms_api.get(f"/api/v1/recall-campaigns/{campaign.pk}/vins/", {"open": "true"}).status_code == 200


@pytest.mark.parametrize(
    ("query", "field"),
    [({"period": "someday"}, "period"), ({"period": "custom", "from": "0194-11-08", "to": "2026-01-01"}, "from")],
)
def test_the_dashboard_names_a_period_it_cannot_read(dms_api, query, field):
    assert field in errors(dms_api.get("/api/v1/reports/dashboard/", query))


@pytest.mark.parametrize("moment", ["0364-04-12T10:00:00+03:00", "1919-06-30T10:00:00+03:00"])
def test_a_time_the_api_could_not_answer_in_rfc_3339_is_refused(dms_api, moment):
    client = ClientFactory()
    answer = dms_api.patch(
        f"/api/v1/clients/{client.pk}/",
        {"consent_personal_data": True, "consent_personal_data_at": moment},
        format="json",
    )
    assert "consent_personal_data_at" in errors(answer)
    client.refresh_from_db()
    assert client.consent_personal_data_at is None or client.consent_personal_data_at.year >= 1920


def test_a_time_from_1920_is_taken_and_answered_in_rfc_3339(dms_api):
    client = ClientFactory()
    answer = dms_api.patch(
        f"/api/v1/clients/{client.pk}/",
        {"consent_personal_data": True, "consent_personal_data_at": "1920-01-02T10:00:00+03:00"},
        format="json",
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["consent_personal_data_at"].endswith("+03:00")
    assert Client.objects.get(pk=client.pk).consent_personal_data_at.year == 1920


def test_the_document_says_it(api_as_manager):
    schema = api_as_manager.get("/api/schema/", {"format": "json"}).json()
    vehicles = {p["name"]: p["schema"] for p in schema["paths"]["/api/v1/vehicles/"]["get"]["parameters"]}
    assert vehicles["owner"]["type"] == "integer"
    assert vehicles["delivered"]["type"] == "boolean"
    assert vehicles["updated_since"]["pattern"].startswith("^(19")
    assert vehicles["page_size"]["minimum"] == 1
    assert "title" not in vehicles["make"]
    # bodies are JSON: a form cannot carry a client's phones
    assert list(schema["paths"]["/api/v1/clients/"]["post"]["requestBody"]["content"]) == ["application/json"]
    # the feed and the dashboard answer one object
    for path in ("/api/v1/changes/", "/api/v1/reports/dashboard/"):
        assert "$ref" in schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    components = schema["components"]["schemas"]
    # a client's e-mail may be blank; a time a request gives is bounded
    assert {"type": "string", "maxLength": 0} in components["Client"]["properties"]["email"]["oneOf"]
    assert components["ClientInputRequest"]["properties"]["consent_personal_data_at"]["pattern"].startswith("^(19[2-9]")
