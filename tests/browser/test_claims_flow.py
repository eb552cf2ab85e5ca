"""Issue 10 in a real browser, once in Russian and once in English: a manager logs a complaint call on the client's
card, opens a claim from it and escalates it to the workshop's management; the head decides; the manager informs
the client by a logged call and closes the claim. The steps are found by their ids and field names, so the run in
either language reads the same (the texts are the catalogues' to check, not this test's)."""

import pytest
from playwright.sync_api import expect

from accounts.roles import Role
from calls.models import Call
from claims.models import Claim, ClaimCategory
from clientdesk.models import Notification
from tests.browser.conftest import TIMEOUT_MS
from tests.browser.test_manager_desk import PASSWORD, sign_in, switch_language
from tests.claims.conftest import add_default_categories
from tests.factories import UserFactory, VehicleFactory, client_with_phone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def signed_in(browser, live_server, username: str, lang: str):
    context = browser.new_context(locale="en-US", viewport={"width": 1366, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    switch_language(page, lang)
    sign_in(page, live_server, username, lang)
    return context, page


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_a_complaint_call_becomes_a_claim_decided_told_and_closed(page, browser, js_errors, live_server, lang):
    # given: a manager, the head, the workshop's management, a client with a car; the claim categories
    for user in (
        UserFactory(username="maria", role=Role.MANAGER, first_name="Мария", last_name="Смирнова"),
        UserFactory(username="olga", role=Role.HEAD, first_name="Ольга", last_name="Иванова"),
        UserFactory(username="pavel", role=Role.WORKSHOP_MANAGEMENT, email="pavel@example.com"),
    ):
        user.set_password(PASSWORD)
        user.save()
    client = client_with_phone("+79123456789", name="Петров Иван Сергеевич")
    VehicleFactory(owner=client, make="Kia", model="Rio", plate="А123ВС77")
    add_default_categories()  # a transactional test empties the tables the migration filled
    defect = ClaimCategory.objects.get(code="defect")

    page.goto(f"{live_server.url}/accounts/login/")
    switch_language(page, lang)
    sign_in(page, live_server, "maria", lang)

    # when: the client calls to complain; the manager logs the call on the card
    page.goto(f"{live_server.url}{client.get_absolute_url()}")
    form = page.locator("#log-call form")
    form.locator("select[name=purpose]").select_option("complaint")
    form.locator("select[name=outcome]").select_option("talked")
    form.locator("textarea[name=notes]").fill("Стук в подвеске после ремонта, требует бесплатно устранить")
    page.locator("#log-call-submit").click()

    # then: one click opens the claim, filled in from the call
    page.locator("#call-panel [role=status] .call-action").click()
    expect(page.locator("#claim-form")).to_be_visible()
    expect(page.locator("textarea[name=client_words]")).to_have_value(
        "Стук в подвеске после ремонта, требует бесплатно устранить"
    )
    page.locator("textarea[name=demand]").fill("Устранить стук бесплатно")
    page.locator("select[name=category]").select_option(str(defect.pk))
    page.locator("input[name=agreed_term_days]").fill("20")
    page.locator("#claim-submit").click()
    claim = Claim.objects.get()
    expect(page).to_have_url(f"{live_server.url}{claim.get_absolute_url()}")
    assert claim.source_call == Call.objects.get() and claim.vehicle.plate == "А123ВС77"

    # when: she escalates it to the workshop's management
    page.locator("input[name=to][value=workshop_mgmt]").check()
    page.locator("#claim-steps textarea[name=comment]").last.fill("Ремонт делали у нас")
    page.locator("#step-escalate").click()
    expect(page.locator("h1 + [data-status]")).to_have_attribute("data-status", "escalated")
    assert Notification.objects.filter(user__username="pavel", title__contains=claim.number).exists()

    # when: the head decides
    head_context, head = signed_in(browser, live_server, "olga", lang)
    head.goto(f"{live_server.url}{claim.get_absolute_url()}")
    head.locator("input[name=outcome][value=satisfied]").check()
    head.locator("select[name=compensation_kind]").select_option("free_repair")
    head.locator("textarea[name=decision_text]").fill("Устранить стук за счёт дилера")
    head.locator("#step-decide").click()
    expect(head.locator("h1 + [data-status]")).to_have_attribute("data-status", "decided")
    head_context.close()

    # when: the manager tells the client on the phone, then closes the claim
    page.reload()
    page.locator("textarea[name=notes]").fill("Сообщили: стук устраним бесплатно, запись на четверг")
    page.locator("#step-inform-call").click()
    expect(page.locator("h1 + [data-status]")).to_have_attribute("data-status", "informed")
    page.locator("#step-close").click()
    expect(page.locator("h1 + [data-status]")).to_have_attribute("data-status", "closed")

    # then: every step recorded, the client informed by a logged call linked to the claim
    claim.refresh_from_db()
    assert claim.status == Claim.Status.CLOSED and claim.informed_via == "call"
    assert claim.informed_call.notes.startswith("Сообщили") and claim.informed_call.client == client
    assert list(claim.transitions.values_list("to_status", flat=True)) == [
        "registered",
        "escalated",
        "decided",
        "informed",
        "closed",
    ]
    assert page.locator("html").get_attribute("lang") == lang
    assert js_errors == []
