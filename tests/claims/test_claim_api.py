"""The claims API: list with filters and cursor pages (pinned queries), create, read, steps as actions, 409."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.roles import Capability
from claims.models import Claim
from fleet.models import FleetCar, Reservation
from tests.factories import BookingFactory, CallFactory

pytestmark = pytest.mark.django_db
S = Claim.Status


def api_as(user):
    api = APIClient()
    api.force_authenticate(user)
    return api


def test_create_read_and_walk_through_the_api(users, car_client, categories, complaint_call):
    manager, head = api_as(users["manager"]), api_as(users["head"])
    response = manager.post(
        "/api/v1/claims/",
        {
            "client": car_client.pk,
            "category": "replacement",
            "client_words": "Коробка дёргается",
            "demand": "Заменить автомобиль",
            "source_call": complaint_call.pk,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["number"].startswith("П-") and body["status"] == "registered" and body["due_state"] == "later"
    pk = body["id"]
    assert manager.get(f"/api/v1/claims/{pk}/").json()["source_call"] == complaint_call.pk
    assert manager.post(f"/api/v1/claims/{pk}/escalate/", {"to": "sales_mgmt"}, format="json").status_code == 200
    decided = head.post(
        f"/api/v1/claims/{pk}/decide/",
        {"outcome": "satisfied", "decision_text": "Замена", "compensation_kind": "replacement"},
        format="json",
    )
    assert decided.status_code == 200 and decided.json()["status"] == "decided"
    call = CallFactory(client=car_client, manager=users["manager"], started_at=timezone.now())
    informed = manager.post(f"/api/v1/claims/{pk}/inform-call/", {"call": call.pk}, format="json")
    assert informed.status_code == 200 and informed.json()["informed_call"] == call.pk
    assert manager.post(f"/api/v1/claims/{pk}/close/", {}, format="json").json()["status"] == "closed"
    assert head.post(f"/api/v1/claims/{pk}/reopen/", {"reason": "Вернулся"}, format="json").status_code == 200


def test_an_illegal_step_answers_409_and_changes_nothing(users, make_claim):
    claim = make_claim()
    api = api_as(users["head"])
    for step, data in [
        ("close", {}),
        ("inform-call", {"notes": "x"}),
        ("letter-sent", {}),
        ("reopen", {"reason": "x"}),
    ]:
        response = api.post(f"/api/v1/claims/{claim.pk}/{step}/", data, format="json")
        assert response.status_code == 409, (step, response.json())
    claim.refresh_from_db()
    assert claim.status == S.REGISTERED and claim.transitions.count() == 1


def test_bad_input_is_400_with_field_errors(users, car_client):
    api = api_as(users["manager"])
    response = api.post(
        "/api/v1/claims/",
        {"client": car_client.pk, "category": "defect", "client_words": "x", "demand": "y", "agreed_term_days": 50},
        format="json",
    )
    assert response.status_code == 400 and "agreed_term_days" in response.json()
    response = api.post("/api/v1/claims/", {"client": car_client.pk, "category": "nope"}, format="json")
    assert response.status_code == 400 and {"category", "client_words", "demand"} <= set(response.json())
    assert not Claim.objects.exists()


def test_the_management_decides_only_what_was_escalated_to_it(users, make_claim):
    claim = make_claim()
    workshop = api_as(users["workshop_mgmt"])
    assert (
        workshop.post(f"/api/v1/claims/{claim.pk}/decide/", {"outcome": "refused", "decision_text": "Нет"}).status_code
        == 404
    )
    api_as(users["manager"]).post(f"/api/v1/claims/{claim.pk}/escalate/", {"to": "workshop_mgmt"}, format="json")
    assert api_as(users["sales_mgmt"]).get(f"/api/v1/claims/{claim.pk}/").status_code == 404
    response = workshop.post(
        f"/api/v1/claims/{claim.pk}/decide/", {"outcome": "refused", "decision_text": "Нет"}, format="json"
    )
    assert response.status_code == 200
    assert workshop.post(f"/api/v1/claims/{claim.pk}/close/", {}, format="json").status_code == 403


@pytest.mark.parametrize("rows", [2, 15])
def test_the_list_filters_by_due_state_in_a_fixed_number_of_queries(users, make_claim, django_assert_num_queries, rows):
    now = timezone.now()
    for n in range(rows):
        make_claim(received_at=now - timedelta(days=15 if n % 2 else 0))
    api = api_as(users["manager"])
    # the page of claims (all overdue: no calendar needed for their due state)
    with django_assert_num_queries(1):
        response = api.get("/api/v1/claims/", {"due_state": "overdue", "page_size": 5})
    body = response.json()
    assert response.status_code == 200 and all(row["due_state"] == "overdue" for row in body["results"])
    assert len(body["results"]) == min(5, rows // 2)
    seen = [row["id"] for row in body["results"]]
    while body["next"]:
        body = api.get(body["next"]).json()
        seen += [row["id"] for row in body["results"]]
    assert len(seen) == len(set(seen)) == rows // 2
    assert api.get("/api/v1/claims/", {"due_state": "sometime"}).status_code == 400
    # due later: the due-soon bound is read (working hours, calendar days)
    with django_assert_num_queries(3):
        assert api.get("/api/v1/claims/", {"due_state": "later", "page_size": 5}).status_code == 200


def test_the_integration_reads_claims_and_writes_none(users, make_claim, car_client):
    claim = make_claim()
    dms = api_as(users["integration"])
    assert dms.get("/api/v1/claims/").json()["results"][0]["number"] == claim.number
    response = dms.post(
        "/api/v1/claims/", {"client": car_client.pk, "category": "other", "client_words": "x", "demand": "y"}
    )
    assert response.status_code == 403
    assert dms.post(f"/api/v1/claims/{claim.pk}/review/", {}).status_code == 403
    assert Claim.objects.count() == 1


def _seeing_no(user, *capabilities):
    """The user (another instance of), narrowed as a scoped key narrows its user: every `visible_to` asks
    `has_capability`."""
    user = type(user).objects.get(pk=user.pk)
    can = user.has_capability
    user.has_capability = lambda capability: capability not in capabilities and can(capability)
    return user


def test_a_claim_links_only_records_its_author_may_read(users, car_client, categories, complaint_call):
    # given: a manager who, by a narrower rule, may not read calls, bookings or the fleet
    starts = timezone.now() - timedelta(days=3)
    booking = BookingFactory(
        client=car_client, vehicle=car_client.vehicles.first(), advisor=users["advisor"], starts_at=starts
    )
    car = FleetCar.objects.create(plate="А001АА77", make="Kia", model="Rio")
    loaner = Reservation.objects.create(
        car=car,
        client=car_client,
        starts_at=starts,
        ends_at=starts + timedelta(days=1),
        free_from=starts + timedelta(days=1),
    )
    narrowed = _seeing_no(users["manager"], Capability.VIEW_CALLS, Capability.VIEW_BOOKINGS, Capability.VIEW_FLEET)
    api = api_as(narrowed)
    body = {"client": car_client.pk, "category": "other", "client_words": "Стук", "demand": "Починить"}
    # when / then: each link it cannot read is 400 "does not exist", as an id that is not there; nothing is written
    for field, pk in [("source_call", complaint_call.pk), ("booking", booking.pk), ("loaner", loaner.pk)]:
        response = api.post("/api/v1/claims/", {**body, field: pk}, format="json")
        assert response.status_code == 400, (field, response.json())
        assert [error.code for error in response.data[field]] == ["does_not_exist"]
    assert not Claim.objects.exists()
    # and nor may it tell the client of a decision on a call it cannot read
    claim = api_as(users["manager"]).post("/api/v1/claims/", body, format="json").json()
    api_as(users["head"]).post(
        f"/api/v1/claims/{claim['id']}/decide/", {"outcome": "refused", "decision_text": "Нет"}, format="json"
    )
    call = CallFactory(client=car_client, manager=users["manager"], started_at=timezone.now())
    response = api.post(f"/api/v1/claims/{claim['id']}/inform-call/", {"call": call.pk}, format="json")
    assert response.status_code == 400 and [error.code for error in response.data["call"]] == ["does_not_exist"]
    assert Claim.objects.get(pk=claim["id"]).status == S.DECIDED


def test_a_claim_for_a_client_its_author_may_not_read_is_refused(users, car_client, categories):
    api = api_as(_seeing_no(users["manager"], Capability.VIEW_CLIENTS))
    body = {"client": car_client.pk, "category": "other", "client_words": "Стук", "demand": "Починить"}
    response = api.post("/api/v1/claims/", {**body, "vehicle": car_client.vehicles.first().pk}, format="json")
    assert response.status_code == 400
    assert {field: [e.code for e in errors] for field, errors in response.data.items()} == {
        "client": ["does_not_exist"],
        "vehicle": ["does_not_exist"],
    }
    assert not Claim.objects.exists()
