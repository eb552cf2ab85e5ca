"""The paper's rules held by the database as well as by the services: only a contract goes through approval, a paper
names the one that replaced it only once replaced (never itself), a registry the archive signed for has its box."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from documents.models import Document, Registry
from documents.services import document_register, document_update
from documents.services.registries import registry_confirm_received, registry_create
from tests.documents.conftest import signed_doc

pytestmark = pytest.mark.django_db


def _refused(model, pk, rule, **fields) -> None:
    with pytest.raises(IntegrityError) as error, transaction.atomic():
        model.objects.filter(pk=pk).update(**fields)
    if connection.vendor == "postgresql":
        assert rule in str(error.value)


def test_only_a_contract_is_a_draft(manager):
    act = signed_doc(by=manager)
    _refused(Document, act.pk, "document_approval_only_contracts", state="draft")
    _refused(Document, act.pk, "document_approval_only_contracts", state="endorsed")
    contract = document_register(by=manager, kind="contract", issued_on=date(2026, 11, 2), needs_approval=True)
    _refused(Document, contract.pk, "document_approval_only_contracts", kind="handover_act")


def test_the_services_refuse_a_draft_of_another_kind_as_a_field_error(manager):
    # A draft asked for directly (not through needs_approval) was stored as one, whatever its kind.
    with pytest.raises(ValidationError) as error:
        document_register(by=manager, kind="waybill", issued_on=date(2026, 11, 2), state="draft")
    assert "kind" in error.value.message_dict
    contract = document_register(by=manager, kind="contract", issued_on=date(2026, 11, 2), needs_approval=True)
    with pytest.raises(ValidationError) as error:
        document_update(document=contract, by=manager, kind="other")
    assert "kind" in error.value.message_dict
    assert Document.objects.get(pk=contract.pk).kind == "contract"
    assert not Document.objects.filter(kind="waybill").exists()


def test_a_paper_names_its_replacement_only_once_replaced_and_never_itself(manager):
    old, new = signed_doc(by=manager, number="1"), signed_doc(by=manager, number="2")
    _refused(Document, old.pk, "document_replaced_by_only_replaced", replaced_by=new)
    _refused(Document, old.pk, "document_not_replaced_by_itself", state="replaced", replaced_by=old)
    Document.objects.filter(pk=old.pk).update(state="replaced", replaced_by=new)


def test_a_registry_the_archive_signed_for_has_its_box(manager):
    doc = signed_doc(by=manager)
    registry = registry_create(by=manager, destination="archive", documents=[doc])
    with pytest.raises(ValidationError):
        registry_confirm_received(registry=registry, by=manager)
    registry = registry_confirm_received(registry=registry, by=manager, archive_box="К-7")
    _refused(Registry, registry.pk, "registry_archived_has_box", archive_box="")
    accounting = registry_create(by=manager, destination="accounting", documents=[signed_doc(by=manager)])
    assert registry_confirm_received(registry=accounting, by=manager).archive_box == ""
