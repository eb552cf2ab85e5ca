"""The Content-Security-Policy in a real browser: the main pages load with no violation (no inline script or style
element, no eval; htmx, Bootstrap, Chart.js and the Swagger UI all work under it)."""

import pytest

from accounts.roles import Role
from tests.factories import UserFactory, VehicleFactory, client_with_phone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

expect = pytest.importorskip("playwright.sync_api").expect

PASSWORD = "Secret-pass-123"
# Runs before any page script, outside the page's policy: collects what the browser refused.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber}`);
});
"""


def test_main_pages_load_without_a_csp_violation(page, js_errors, live_server):
    UserFactory(username="olga", role=Role.HEAD, first_name="Ольга", last_name="Иванова")
    client = client_with_phone("+79123456789", name="Петров Иван Сергеевич")
    VehicleFactory(owner=client)
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    page.add_init_script(RECORD_VIOLATIONS)

    def violations() -> list[str]:
        return page.evaluate("window.__cspViolations || []")

    # sign in through the form
    page.goto(f"{live_server.url}/accounts/login/")
    assert violations() == []
    page.locator("#id_username").fill("olga")
    page.locator("#id_password").fill(PASSWORD)
    page.locator("#id_password").press("Enter")
    expect(page).to_have_url(f"{live_server.url}/reports/")  # the head lands on the dashboard, charts and all
    checked = {"sign-in": [], "dashboard": violations()}
    page.goto(f"{live_server.url}/clients/")
    checked["search"] = violations()

    # search as you type (htmx), then the card
    page.locator("input[name=q]").fill("6789")
    expect(page.get_by_text("Петров Иван Сергеевич").first).to_be_visible()
    checked["search as you type"] = violations()
    for name, path in [
        ("client card", f"/clients/{client.pk}/"),
        ("today's board", "/workshop/board/"),
        ("call queue", "/calls/queue/"),
        ("CSI report", "/calls/surveys/csi/"),
        ("password reset", "/accounts/password/reset/"),
    ]:
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        checked[name] = violations()
    page.goto(f"{live_server.url}/calls/surveys/csi/")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("typeof Chart !== 'undefined' && !!Chart.getChart('csi-chart')"), "Chart.js drew nothing"

    # the Swagger UI: its own scripts (a nonce for the inline one) render the operations
    page.goto(f"{live_server.url}/api/docs/")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
    checked["api docs"] = violations()

    assert {name: found for name, found in checked.items() if found} == {}
    assert [text for text in console if "Content Security Policy" in text] == []
    assert js_errors == []
