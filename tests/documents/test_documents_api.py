from datetime import date

from rest_framework.test import APIClient

from accounts.services.users import api_key_create
from clients.models import Client
from documents.models import Document
from documents.services import document_register
from documents.services.registries import registry_create
from tests.documents.conftest import signed_doc
from tests.factories import BookingFactory

S = Document.State


def test_the_dms_pushes_a_sales_papers_by_id(dms_api, delivery):
    body = {
        "kind": "handover_act",
        "issued_on": "2026-11-20",
        "number": "АПП-77",
        "delivery": delivery.pk,
        "dms_id": "ACT-77",
        "state": "signed",
    }
    first = dms_api.post("/api/v1/documents/", body, format="json")
    assert first.status_code == 200, first.data  # the delivery's expected act is adopted, not duplicated
    assert (first.data["state"], first.data["dms_id"], first.data["client"]) == ("signed", "ACT-77", delivery.client_id)
    again = dms_api.post("/api/v1/documents/", {**body, "number": "АПП-78"}, format="json")
    assert again.status_code == 200 and again.data["id"] == first.data["id"] and again.data["number"] == "АПП-78"
    assert Document.objects.filter(delivery=delivery, kind="handover_act").count() == 1


def test_a_new_dms_document_is_created(dms_api, car):
    body = {"kind": "power_of_attorney", "issued_on": "2026-11-20", "vehicle": car.pk, "dms_id": "POA-1"}
    response = dms_api.post("/api/v1/documents/", body, format="json")
    assert response.status_code == 201
    assert response.data["client"] == car.owner_id and response.data["vin"] == car.vin


def test_bad_input_is_400_with_field_errors(api_as_manager):
    response = api_as_manager.post("/api/v1/documents/", {"kind": "poem", "issued_on": "yesterday"}, format="json")
    assert response.status_code == 400
    assert {"kind", "issued_on"} <= set(response.data)
    assert not Document.objects.exists()


def test_an_illegal_step_is_409_and_changes_nothing(api_as_manager, manager):
    doc = signed_doc(by=manager)
    response = api_as_manager.post(f"/api/v1/documents/{doc.pk}/transition/", {"to": "expected"}, format="json")
    assert response.status_code == 409
    assert Document.objects.get(pk=doc.pk).state == S.SIGNED


def test_a_step_through_the_api(api_as_manager, manager):
    doc = signed_doc(by=manager)
    response = api_as_manager.post(
        f"/api/v1/documents/{doc.pk}/transition/", {"to": "archived", "archive_box": "К-3"}, format="json"
    )
    assert response.status_code == 200 and response.data["state"] == "archived"
    response = api_as_manager.post(f"/api/v1/documents/{doc.pk}/transition/", {"to": "lost"}, format="json")
    assert response.status_code == 400 and "comment" in response.data


def test_a_manager_cannot_approve_a_contract(api_as_manager, manager):
    doc = document_register(by=manager, kind="contract", issued_on=date(2026, 11, 2), needs_approval=True)
    response = api_as_manager.post(f"/api/v1/documents/{doc.pk}/transition/", {"to": "approved"}, format="json")
    assert response.status_code == 403
    assert Document.objects.get(pk=doc.pk).state == S.DRAFT


def test_the_list_filters_and_searches(api_as_manager, manager, buyer, car):
    ours = signed_doc(by=manager, kind="waybill", number="ТТН-5", client=buyer, vehicle=car)
    signed_doc(by=manager, kind="sale_contract", number="ДКП-5")
    response = api_as_manager.get("/api/v1/documents/", {"q": "А123ВС77"})
    assert [row["id"] for row in response.data["results"]] == [ours.pk]
    response = api_as_manager.get("/api/v1/documents/", {"kind": "waybill"})
    assert [row["id"] for row in response.data["results"]] == [ours.pk]
    assert api_as_manager.get("/api/v1/documents/", {"issued_from": "0001-01-01"}).status_code == 400
    assert api_as_manager.get("/api/v1/documents/", {"cursor": "garbage"}).status_code == 400


def test_the_registries_are_read(api_as_manager, manager):
    doc = signed_doc(by=manager)
    registry = registry_create(by=manager, destination="archive", documents=[doc], archive_box="К-1")
    response = api_as_manager.get(f"/api/v1/document-registries/{registry.pk}/")
    assert response.status_code == 200
    assert (response.data["number"], response.data["documents"]) == (registry.number, [doc.pk])
    assert api_as_manager.post("/api/v1/document-registries/", {}, format="json").status_code == 405


def test_a_key_attaches_only_records_it_may_read(integration, head, buyer, car, delivery):
    # given: a key scoped to the documents alone (it may not read clients, cars, deliveries or bookings)
    booking = BookingFactory(client=buyer, vehicle=car, advisor=head)  # tomorrow
    _key, raw = api_key_create(user=integration, name="Бумаги", by=head, scopes=["view_documents", "edit_documents"])
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    before = Document.objects.count()
    missing = Client.objects.order_by("-pk").first().pk + 1000
    body = {"kind": "power_of_attorney", "issued_on": "2026-11-20"}
    # when / then: each link it cannot read answers as an id that is not there, and nothing is written
    for field, pk in [("client", buyer.pk), ("vehicle", car.pk), ("delivery", delivery.pk), ("booking", booking.pk)]:
        response = api.post("/api/v1/documents/", {**body, field: pk}, format="json")
        assert response.status_code == 400, (field, response.data)
        assert [error.code for error in response.data[field]] == ["does_not_exist"]
        with_dms = api.post("/api/v1/documents/", {**body, field: pk, "dms_id": f"D-{field}"}, format="json")
        assert with_dms.status_code == 400 and field in with_dms.data
    unknown = api.post("/api/v1/documents/", {**body, "client": missing}, format="json").data["client"]
    hidden = api.post("/api/v1/documents/", {**body, "client": buyer.pk}, format="json").data["client"]
    assert hidden == [unknown[0].replace(str(missing), str(buyer.pk))]  # word for word: nothing tells them apart
    assert Document.objects.count() == before
    # and the same records are attached by a key that may read them
    _key, full = api_key_create(user=integration, name="DMS", by=head)
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {full}")
    response = api.post("/api/v1/documents/", {**body, "booking": booking.pk}, format="json")
    assert response.status_code == 201 and (response.data["booking"], response.data["client"]) == (booking.pk, buyer.pk)
