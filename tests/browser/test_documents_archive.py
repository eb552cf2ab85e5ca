"""The paper in a real browser: a manager finds a sale contract in the archive by the car's VIN, marks it signed,
picks it with the handover act into a registry to accounting, and confirms the registry received; both papers move."""

import pytest
from django.utils import translation
from django.utils.text import capfirst
from playwright.sync_api import expect

from accounts.roles import Role
from documents.models import Document, Registry
from documents.services import document_register
from tests.browser.test_manager_desk import sign_in, switch_language
from tests.factories import UserFactory, VehicleFactory, client_with_phone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def tr(lang: str, text: str) -> str:
    """A label as the page shows it in `lang` (English until the Russian catalogue has it compiled)."""
    with translation.override(lang):
        return translation.gettext(text)


def in_lang(lang: str, document: Document) -> str:
    with translation.override(lang):
        return str(document)


@pytest.mark.parametrize(("lang", "browser_locale"), [("en", "ru-RU"), ("ru", "en-US")], ids=["en", "ru"])
def test_a_manager_finds_a_paper_and_hands_it_to_accounting_by_registry(page, js_errors, live_server, lang):
    # given: a client's car with its expected sale contract and a signed handover act
    UserFactory(username="maria", role=Role.MANAGER, first_name="Мария", last_name="Смирнова")
    client = client_with_phone("+79123456789", name="Соколов Андрей")
    car = VehicleFactory(owner=client, make="Kia", model="Rio", vin="XTA21099012345678", plate="А123ВС77")
    contract = document_register(by=None, kind="sale_contract", issued_on="2026-11-02", vehicle=car, number="ДКП-154")
    act = document_register(
        by=None, kind="handover_act", issued_on="2026-11-02", vehicle=car, number="АПП-154", state="signed"
    )

    page.goto(f"{live_server.url}/accounts/login/")
    switch_language(page, lang)
    sign_in(page, live_server, "maria", lang)

    # when: she searches the archive by the VIN's tail and opens the contract
    page.locator("#nav-documents").click()
    page.get_by_role("link", name=tr(lang, "Documents and archive")).click()
    page.get_by_label(capfirst(tr(lang, "search"))).fill("12345678")
    page.get_by_role("button", name=tr(lang, "Find")).click()
    expect(page.locator("#document-list tbody tr")).to_have_count(2)
    page.get_by_role("link", name=f"{tr(lang, 'Sale contract')} № ДКП-154").click()
    expect(page).to_have_url(f"{live_server.url}{contract.get_absolute_url()}")

    # and marks it signed by the client
    page.get_by_role("button", name=tr(lang, "Signed by the client")).click()
    expect(page.locator(".alert-success")).to_be_visible()
    assert Document.objects.get(pk=contract.pk).state == "signed"

    # then: she makes a registry to accounting of both papers
    page.goto(f"{live_server.url}/documents/registries/new/?destination=accounting")
    page.get_by_label(in_lang(lang, contract)).check()
    page.get_by_label(in_lang(lang, act)).check()
    page.get_by_role("button", name=tr(lang, "Make the registry")).click()
    registry = Registry.objects.get()
    expect(page).to_have_url(f"{live_server.url}{registry.get_absolute_url()}")
    expect(page.locator("#registry-documents tbody tr")).to_have_count(2)

    # and confirms it received: both papers are at accounting
    page.get_by_label(capfirst(tr(lang, "received by (name)"))).fill("Петрова Е. В.")
    page.get_by_role("button", name=tr(lang, "Received: move every document")).click()
    expect(page.locator(".alert-success")).to_be_visible()
    states = set(Document.objects.filter(pk__in=[contract.pk, act.pk]).values_list("state", flat=True))
    assert states == {"at_accounting"}
    assert Registry.objects.get().state == "received"
    assert js_errors == []
