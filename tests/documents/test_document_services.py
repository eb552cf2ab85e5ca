from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from clientdesk.errors import Conflict
from clientdesk.models import Notification
from documents.models import Document, DocumentTransition
from documents.selectors import is_signed
from documents.services import document_register, document_transition, document_update, document_upsert_dms
from tests.concurrency import run_at_once
from tests.documents.conftest import put_in, signed_doc

S = Document.State


def test_register_fills_client_and_car_from_the_delivery(delivery, manager):
    doc = document_register(
        by=manager, kind=Document.Kind.POWER_OF_ATTORNEY, issued_on=date(2026, 11, 2), delivery=delivery, number="17"
    )
    assert (doc.client, doc.vehicle, doc.state) == (delivery.client, delivery.vehicle, S.EXPECTED)
    assert doc.history.count() == 1
    assert list(doc.transitions.values_list("from_state", "to_state", "by")) == [("", S.EXPECTED, manager.pk)]


def test_register_a_car_fills_its_owner(car, manager):
    doc = document_register(by=manager, kind=Document.Kind.OTHER, issued_on=date(2026, 11, 2), vehicle=car)
    assert doc.client == car.owner


def test_the_full_road_to_the_archive_is_recorded(manager):
    doc = document_register(by=manager, kind=Document.Kind.SALE_CONTRACT, issued_on=date(2026, 11, 2))
    for to in (S.SIGNED, S.AT_ACCOUNTING, S.TO_ARCHIVE):
        doc = document_transition(document=doc, by=manager, to=to)
        assert doc.state == to
    doc = document_transition(document=doc, by=manager, to=S.ARCHIVED, archive_box="К-12", archive_shelf="3")
    assert (doc.state, doc.location) == (S.ARCHIVED, "К-12 / 3")
    assert list(doc.transitions.values_list("to_state", flat=True)) == [
        S.EXPECTED,
        S.SIGNED,
        S.AT_ACCOUNTING,
        S.TO_ARCHIVE,
        S.ARCHIVED,
    ]
    assert is_signed(doc)


ILLEGAL = [
    (S.EXPECTED, S.ARCHIVED),
    (S.EXPECTED, S.AT_ACCOUNTING),
    (S.EXPECTED, S.REPLACED),
    (S.SIGNED, S.EXPECTED),
    (S.ARCHIVED, S.SIGNED),
    (S.REPLACED, S.SIGNED),
    (S.LOST, S.ARCHIVED),
    (S.DRAFT, S.SIGNED),
    (S.DRAFT, S.ENDORSED),
    (S.APPROVED, S.SIGNED),
]


@pytest.mark.parametrize(("start", "to"), ILLEGAL)
def test_an_illegal_step_is_refused_and_changes_nothing(manager, head, start, to):
    doc = put_in(document_register(by=manager, kind=Document.Kind.CONTRACT, issued_on=date(2026, 11, 2)), start)
    before = (doc.transitions.count(), doc.history.count())
    with pytest.raises(Conflict):
        document_transition(document=doc, by=head, to=to, comment="x", archive_box="К-1")
    doc.refresh_from_db()
    assert doc.state == start
    assert (doc.transitions.count(), doc.history.count()) == before


def test_lost_needs_the_reason(manager):
    doc = signed_doc(by=manager)
    with pytest.raises(ValidationError):
        document_transition(document=doc, by=manager, to=S.LOST)
    doc = document_transition(document=doc, by=manager, to=S.LOST, comment="утерян курьером")
    assert doc.transitions.last().comment == "утерян курьером"


def test_archived_needs_the_box(manager):
    doc = signed_doc(by=manager)
    with pytest.raises(ValidationError):
        document_transition(document=doc, by=manager, to=S.ARCHIVED)
    assert Document.objects.get(pk=doc.pk).state == S.SIGNED


def test_contract_approval_goes_head_then_legal_then_signed(manager, head, legal):
    doc = document_register(
        by=manager, kind=Document.Kind.SUPPLEMENTARY_AGREEMENT, issued_on=date(2026, 11, 2), needs_approval=True
    )
    assert doc.state == S.DRAFT
    with pytest.raises(PermissionDenied):
        document_transition(document=doc, by=manager, to=S.APPROVED)
    with pytest.raises(PermissionDenied):
        document_transition(document=doc, by=legal, to=S.APPROVED)
    doc = document_transition(document=doc, by=head, to=S.APPROVED)
    with pytest.raises(PermissionDenied):
        document_transition(document=doc, by=head, to=S.ENDORSED)
    doc = document_transition(document=doc, by=legal, to=S.ENDORSED)
    doc = document_transition(document=doc, by=manager, to=S.SIGNED)
    steps = list(doc.transitions.values_list("to_state", "by__username"))
    assert steps == [(S.DRAFT, "manager"), (S.APPROVED, "head"), (S.ENDORSED, "legal"), (S.SIGNED, "manager")]


def test_a_contract_sent_back_needs_the_reason(manager, head):
    doc = document_register(by=manager, kind=Document.Kind.CONTRACT, issued_on=date(2026, 11, 2), needs_approval=True)
    doc = document_transition(document=doc, by=head, to=S.APPROVED)
    with pytest.raises(ValidationError):
        document_transition(document=doc, by=head, to=S.DRAFT)
    doc = document_transition(document=doc, by=head, to=S.DRAFT, comment="не та цена")
    assert doc.state == S.DRAFT


def test_only_contracts_go_through_approval(manager):
    with pytest.raises(ValidationError):
        document_register(by=manager, kind=Document.Kind.WAYBILL, issued_on=date(2026, 11, 2), needs_approval=True)


def test_update_changes_details_with_history(manager, car):
    doc = signed_doc(by=manager)
    doc = document_update(document=doc, by=manager, number="  A-5 ", vehicle=car)
    assert (doc.number, doc.client) == ("A-5", car.owner)
    assert doc.history.count() == 2


def test_dms_push_creates_then_updates(integration, car):
    doc, created = document_upsert_dms(
        by=integration, dms_id="D-1", kind="waybill", issued_on=date(2026, 11, 2), vehicle=car, number="ТТН-1"
    )
    again, created_again = document_upsert_dms(
        by=integration, dms_id="D-1", kind="waybill", issued_on=date(2026, 11, 2), vehicle=car, number="ТТН-2"
    )
    assert (created, created_again, again.pk, again.number) == (True, False, doc.pk, "ТТН-2")


def test_dms_push_adopts_the_expected_paper_of_the_delivery(integration, delivery):
    expected = Document.objects.get(delivery=delivery, kind="handover_act")
    doc, created = document_upsert_dms(
        by=integration,
        dms_id="ACT-7",
        kind="handover_act",
        issued_on=date(2026, 11, 2),
        delivery=delivery,
        number="7",
        state="signed",
    )
    assert (created, doc.pk, doc.dms_id, doc.state) == (False, expected.pk, "ACT-7", S.SIGNED)
    assert Document.objects.filter(delivery=delivery, kind="handover_act").count() == 1


def test_a_dms_id_in_use_is_a_conflict(integration, manager):
    signed_doc(by=manager, dms_id="X-1")
    with pytest.raises(Conflict):
        signed_doc(by=manager, dms_id="X-1")


def test_replaced_points_at_the_new_paper(manager):
    old = put_in(signed_doc(by=manager), S.LOST)
    new = signed_doc(by=manager, number="дубликат")
    old = document_transition(document=old, by=manager, to=S.REPLACED, comment="дубликат", replaced_by=new)
    assert old.replaced_by == new
    assert DocumentTransition.objects.filter(document=old, to_state=S.REPLACED).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_dms_push_at_once_makes_one_document(integration, car):
    def push(n):
        return document_upsert_dms(
            by=integration, dms_id="D-RACE", kind="waybill", issued_on=date(2026, 11, 2), vehicle=car, number=f"{n}"
        )

    results, errors = run_at_once(4, push)
    assert not errors
    assert [created for _doc, created in results].count(True) == 1
    assert Document.objects.filter(dms_id="D-RACE").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_steps_at_once_take_one(manager, car):
    doc = signed_doc(by=manager, vehicle=car)
    # Two clicks on "handed to accounting" at once: the row lock makes the second see the first's state.
    results, errors = run_at_once(2, lambda _n: document_transition(document=doc, by=manager, to=S.AT_ACCOUNTING))
    assert len(results) == 1 and len(errors) == 1 and isinstance(errors[0], Conflict)
    assert doc.transitions.count() == 2


def test_each_approval_step_is_announced_to_whoever_takes_the_next(manager, head, legal):
    doc = document_register(by=manager, kind=Document.Kind.CONTRACT, issued_on=date(2026, 11, 2), needs_approval=True)
    assert list(Notification.objects.values_list("user__username", flat=True)) == ["head"]
    doc = document_transition(document=doc, by=head, to=S.APPROVED)
    assert Notification.objects.filter(user=legal, url=doc.get_absolute_url()).count() == 1
    doc = document_transition(document=doc, by=legal, to=S.DRAFT, comment="нет реквизитов")
    assert Notification.objects.filter(user=manager, title__contains="sent back").count() == 1
    doc = document_transition(
        document=document_transition(document=doc, by=head, to=S.APPROVED), by=legal, to=S.ENDORSED
    )
    assert Notification.objects.filter(user=manager, title__contains="endorsed").count() == 1
