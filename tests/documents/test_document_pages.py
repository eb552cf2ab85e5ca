from datetime import date

from django.urls import reverse

from documents.models import Document
from documents.services import document_register
from tests.documents.conftest import signed_doc

S = Document.State


def test_register_a_document_from_the_page(as_manager, buyer, car):
    response = as_manager.post(
        reverse("documents:create"),
        {"kind": "sale_contract", "number": "ДКП-1", "issued_on": "2026-11-02", "vehicle": car.pk, "start": "signed"},
    )
    doc = Document.objects.get()
    assert response.status_code == 302 and response["Location"] == doc.get_absolute_url()
    assert (doc.state, doc.client, doc.original) == (S.SIGNED, buyer, False)


def test_a_draft_contract_from_the_page(as_manager):
    as_manager.post(
        reverse("documents:create"),
        {"kind": "contract", "issued_on": "2026-11-02", "start": "draft", "original": "on", "title": "Договор на ТО"},
    )
    assert Document.objects.get().state == S.DRAFT


def test_the_form_shows_field_errors(as_manager):
    response = as_manager.post(reverse("documents:create"), {"kind": "nope", "issued_on": "32.13.2026"})
    assert response.status_code == 400
    assert response.content.decode().count("is-invalid") >= 2
    assert not Document.objects.exists()


def test_a_waybill_cannot_be_a_draft(as_manager):
    response = as_manager.post(
        reverse("documents:create"), {"kind": "waybill", "issued_on": "2026-11-02", "start": "draft"}
    )
    assert response.status_code == 400
    assert not Document.objects.exists()


def test_edit_a_document(as_manager, manager):
    doc = signed_doc(by=manager, number="1")
    response = as_manager.post(
        reverse("documents:edit", args=[doc.pk]), {"kind": "waybill", "number": "ТТН-2", "issued_on": "2026-11-03"}
    )
    assert response.status_code == 302
    doc.refresh_from_db()
    assert (doc.kind, doc.number, doc.issued_on) == ("waybill", "ТТН-2", date(2026, 11, 3))
    page = as_manager.get(doc.get_absolute_url()).content.decode()
    assert "ТТН-2" in page and 'id="document-history"' in page


def test_the_card_shows_the_steps_the_user_may_take(as_manager, as_head, manager):
    doc = signed_doc(by=manager)
    page = as_manager.get(doc.get_absolute_url()).content.decode()
    assert 'data-step="at_accounting"' in page and 'data-step="archived"' in page
    draft = document_register(by=manager, kind="contract", issued_on=date(2026, 11, 2), needs_approval=True)
    assert 'data-step="approved"' not in as_manager.get(draft.get_absolute_url()).content.decode()
    assert 'data-step="approved"' in as_head.get(draft.get_absolute_url()).content.decode()


def test_a_step_from_the_card(as_manager, manager):
    doc = signed_doc(by=manager)
    response = as_manager.post(reverse("documents:step", args=[doc.pk, "archived"]), {"archive_box": "К-5"})
    assert response.status_code == 302
    assert Document.objects.get(pk=doc.pk).location == "К-5"


def test_a_step_missing_its_box_shows_the_error(as_manager, manager):
    doc = signed_doc(by=manager)
    response = as_manager.post(reverse("documents:step", args=[doc.pk, "archived"]), {})
    assert response.status_code == 400
    assert Document.objects.get(pk=doc.pk).state == S.SIGNED


def test_an_illegal_step_from_the_page_says_so(as_manager, manager, settings):
    doc = signed_doc(by=manager)
    as_manager.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the message as written
    response = as_manager.post(reverse("documents:step", args=[doc.pk, "expected"]), follow=True)
    assert response.status_code == 200
    assert Document.objects.get(pk=doc.pk).state == S.SIGNED
    assert "cannot become" in response.content.decode()


def test_an_unknown_step_or_document_is_404(as_manager, manager):
    doc = signed_doc(by=manager)
    assert as_manager.post(reverse("documents:step", args=[doc.pk, "burnt"])).status_code == 404
    assert as_manager.get(reverse("documents:detail", args=[doc.pk + 100])).status_code == 404


def test_the_contract_list_offers_the_next_step(as_head, manager):
    draft = document_register(
        by=manager, kind="supplementary", issued_on=date(2026, 11, 2), needs_approval=True, title="Доп. соглашение"
    )
    page = as_head.get(reverse("documents:contract-list")).content.decode()
    assert "Доп. соглашение" in page and 'data-step="approved"' in page
    response = as_head.post(
        reverse("documents:step", args=[draft.pk, "approved"]), {"next": reverse("documents:contract-list")}
    )
    assert response["Location"] == reverse("documents:contract-list")


def test_documents_join_the_client_timeline(as_manager, manager, buyer, car):
    signed_doc(by=manager, number="ДКП-42", client=buyer, vehicle=car)
    page = as_manager.get(buyer.get_absolute_url()).content.decode()
    assert "ДКП-42" in page


def test_the_client_card_links_to_the_clients_documents(as_manager, buyer, users):
    page = as_manager.get(buyer.get_absolute_url()).content.decode()
    assert f"{reverse('documents:list')}?client={buyer.pk}" in page
    assert f"{reverse('documents:create')}?client={buyer.pk}" in page
    response = as_manager.get(reverse("documents:create"), {"client": buyer.pk})
    assert response.context["form"].initial["client"] == str(buyer.pk)
