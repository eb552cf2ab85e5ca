"""The paper's pages on a phone: with the demo loaded, none of them makes the page scroll sideways (the lists stack
their rows as cards), for a manager and for the head."""

import pytest

from documents.models import Document, Registry
from tests.browser.test_small_screens import PHONE, page_width
from tests.commands import run

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("username", ["manager1", "head"])
def test_no_documents_page_scrolls_sideways_on_a_phone(page, js_errors, live_server, username):
    for command in ("seed_demo", "seed_workshop", "seed_demo_work", "seed_documents"):
        run(command)
    document = Document.objects.filter(state="at_accounting").first()
    registry = Registry.objects.filter(state="sent").first()
    paths = [
        "/documents/",
        "/documents/?q=ДКП",
        "/documents/new/",
        document.get_absolute_url(),
        f"/documents/{document.pk}/edit/",
        "/documents/contracts/",
        "/documents/registries/",
        "/documents/registries/new/?destination=archive",
        registry.get_absolute_url(),
        "/documents/mail/",
        "/documents/mail/new/",
    ]
    page.goto(f"{live_server.url}/accounts/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill("demo12345")
    page.locator("#id_password").press("Enter")
    page.wait_for_load_state("networkidle")
    page.set_viewport_size(PHONE)
    too_wide = {}
    for path in paths:
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        if (width := page_width(page)) > PHONE["width"]:
            too_wide[path] = width
    assert too_wide == {}
    assert js_errors == []
