"""A manager's day at the desk, in a real browser: sign in, find a client by a phone fragment, open the card, log a
call; and take a ringing call from the "new call" box. Keyboard first, as the managers work.

The Russian run checks Russian texts where locale/ru/LC_MESSAGES/django.po has them; a msgid still untranslated
there is checked only through the page's language (html lang="ru", the RU button active).
"""

import ast
import re
from functools import cache
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from accounts.forms import LoginForm
from accounts.roles import Role
from calls.forms.calls import CallForm
from calls.models import Call
from tests.factories import UserFactory, VehicleFactory, client_with_phone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

expect = pytest.importorskip("playwright.sync_api").expect

PASSWORD = "Secret-pass-123"
NOTES = "Записался на ТО-2"
RU_PO = Path(settings.BASE_DIR) / "locale" / "ru" / "LC_MESSAGES" / "django.po"
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"  # git-ignored


@cache
def ru_catalogue() -> dict[str, str]:
    """msgid -> msgstr of the project's Russian catalogue: translated, not fuzzy, no context; {} without the file."""
    if not RU_PO.exists():
        return {}
    entries: dict[str, str] = {}
    for block in re.split(r"\n\s*\n", RU_PO.read_text(encoding="utf-8")):
        lines = [line.strip() for line in block.splitlines()]
        if any(line.startswith("#,") and "fuzzy" in line for line in lines):
            continue
        fields: dict[str, str] = {}
        key = None
        for line in lines:
            if match := re.match(r"^(msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?)\s+(\".*\")$", line):
                key = match[1]
                fields[key] = ast.literal_eval(match[2])
            elif key and line.startswith('"'):
                fields[key] += ast.literal_eval(line)
        if fields.get("msgid") and fields.get("msgstr") and "msgctxt" not in fields:
            entries[fields["msgid"]] = fields["msgstr"]
    return entries


def shown(msgid: str, lang: str) -> str | None:
    """What the page shows for a project msgid in `lang`; None when the Russian catalogue does not translate it yet."""
    if lang == "en":
        return msgid
    return ru_catalogue().get(msgid)


def check_catalogue_compiled(msgids: list[str]) -> None:
    """The page shows django.mo, the test reads django.po: they must agree, or the Russian run tests a stale file."""
    with translation.override("ru"):
        stale = {m: (ru_catalogue()[m], translation.gettext(m)) for m in msgids if m in ru_catalogue()}
    stale = {m: pair for m, pair in stale.items() if pair[0] != pair[1]}
    assert not stale, f"locale/ru django.mo is older than django.po (run `make messages`): {stale}"


def label(form, field: str, lang: str) -> str:
    """A form field's label as the page renders it in `lang` (Django's own catalogues cover the login form)."""
    with translation.override(lang):
        return str(form.fields[field].label)


def switch_language(page, lang: str) -> None:
    """Press the navbar's language button (a POST to set_language) and check the page came back in that language."""
    page.locator("#language-form").get_by_role("button", name=lang.upper(), exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page.locator(f"#language-form button[value={lang}]")).to_have_class(re.compile(r"\bbtn-light\b"))


def sign_in(page, live_server, username: str, lang: str) -> None:
    page.get_by_label(label(LoginForm(), "username", lang), exact=True).fill(username)
    password = page.get_by_label(label(LoginForm(), "password", lang), exact=True)
    password.fill(PASSWORD)
    password.press("Enter")
    # managers start at the search, the head at the department's dashboard
    expect(page).to_have_url(re.compile(rf"^{re.escape(live_server.url)}/(clients|reports)/$"))


@pytest.mark.parametrize(("lang", "browser_locale"), [("en", "ru-RU"), ("ru", "en-US")], ids=["en", "ru"])
def test_manager_finds_client_by_phone_fragment_and_logs_a_call(page, js_errors, live_server, lang, browser_locale):
    if lang == "ru":
        check_catalogue_compiled(["Log call", "Log a call", "Call logged.", "Booking", "Booked a visit"])
    manager = UserFactory(username="maria", role=Role.MANAGER, first_name="Мария", last_name="Смирнова")
    client = client_with_phone("+79123456789", name="Петров Иван Сергеевич")
    vehicle = VehicleFactory(owner=client, make="Kia", model="Rio")
    client_with_phone("+79161112233", name="Сидорова Анна")  # must not match "345 67"

    # The browser asks for the other language; the navbar switch (a cookie) must win over Accept-Language.
    page.goto(f"{live_server.url}/accounts/login/")
    expect(page.locator("html")).to_have_attribute("lang", "ru" if lang == "en" else "en")
    switch_language(page, lang)
    expect(page).to_have_url(f"{live_server.url}/accounts/login/")
    sign_in(page, live_server, "maria", lang)
    expect(page.locator("html")).to_have_attribute("lang", lang)

    # The search box has the focus; results come as you type, without submitting.
    box = page.locator("#q")
    expect(box).to_be_focused()
    box.press_sequentially("345 67", delay=40)
    results = page.locator("#results [data-result]")
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text("Петров Иван Сергеевич")
    expect(results.first).to_contain_text("+7 912 345-67-89")
    expect(page.locator("#results")).not_to_contain_text("Сидорова")
    expect(page).to_have_url(re.compile(r"/clients/\?q=345(\+|%20)67$"))  # hx-push-url: the search can be bookmarked

    # ArrowDown moves to the first result, Enter opens it.
    page.keyboard.press("ArrowDown")
    expect(results.first).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server.url}/clients/{client.pk}/")
    expect(page.locator("#client-name")).to_have_text("Петров Иван Сергеевич")

    submit = page.locator("#log-call-submit")
    if text := shown("Log call", lang):
        expect(submit).to_have_text(text)
    if text := shown("Log a call", lang):
        expect(page.locator("#log-call h2")).to_have_text(text)

    form, call_form = page.locator("#log-call form"), CallForm(client=client)
    form.get_by_label(label(call_form, "purpose", lang), exact=True).select_option("booking")
    form.get_by_label(label(call_form, "outcome", lang), exact=True).select_option("booked")
    form.get_by_label(label(call_form, "vehicle", lang), exact=True).select_option(str(vehicle.pk))
    form.get_by_label(label(call_form, "notes", lang), exact=True).fill(NOTES)

    # A full page load would wipe this; HTMX swapping the panel keeps it.
    page.evaluate("window.__sameDocument = 'still here'")
    submit.click()

    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text(NOTES)
    assert page.evaluate("window.__sameDocument") == "still here", "the call form reloaded the whole page"
    expect(page.locator("#call-panel [role=status]")).to_be_visible()
    if text := shown("Call logged.", lang):
        expect(page.locator("#call-panel [role=status]")).to_have_text(text)
    for msgid in ("Booking", "Booked a visit"):
        if text := shown(msgid, lang):
            expect(timeline).to_contain_text(text)
    expect(page).to_have_url(f"{live_server.url}/clients/{client.pk}/")
    expect(form.get_by_label(label(call_form, "notes", lang), exact=True)).to_have_value("")  # a fresh form

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"client-card-{lang}.png"), full_page=True)

    call = Call.objects.get(notes=NOTES)
    assert Call.objects.count() == 1
    assert (call.client, call.manager, call.vehicle) == (client, manager, vehicle)
    assert (call.direction, call.purpose, call.outcome) == ("in", "booking", "booked")
    assert call.phone_e164 == "+79123456789"  # empty number field: the client's primary phone
    assert js_errors == []


def test_new_call_box_finds_the_caller_and_prefills_the_number(page, js_errors, live_server):
    UserFactory(username="maria", role=Role.MANAGER)
    client = client_with_phone("+79123456789", name="Петров Иван Сергеевич")
    VehicleFactory(owner=client)
    client_with_phone("+79123456780", name="Петрова Ольга")  # similar digits: offered while typing, not at the end

    page.goto(f"{live_server.url}/accounts/login/")
    switch_language(page, "en")
    sign_in(page, live_server, "maria", "en")
    page.get_by_role("link", name="New call", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/calls/new/")

    box = page.get_by_label("Caller's number", exact=True)
    expect(box).to_be_focused()
    box.press_sequentially("8 912 345-67-89", delay=30)
    caller = page.locator("#caller")
    expect(caller).to_contain_text("This number belongs to:")
    offered = caller.locator("[data-result]")
    expect(offered).to_have_count(1)
    expect(offered).to_contain_text("Петров Иван Сергеевич")

    # Enter straight from the box opens the first (here the only) client offered.
    box.press("Enter")
    expect(page).to_have_url(f"{live_server.url}/clients/{client.pk}/?phone=%2B79123456789&direction=in#log-call")
    form = page.locator("#log-call form")
    expect(form.get_by_label("Number", exact=True)).to_have_value("+79123456789")
    expect(form.get_by_label("Inbound", exact=True)).to_be_checked()
    expect(page.locator("#log-call")).to_be_in_viewport()
    assert js_errors == []


def test_the_head_finds_every_page_in_the_bar_and_signs_out_from_the_user_menu(page, js_errors, live_server):
    # The bar must hold the head's many pages on one line in Russian, the longer language, down to 1200 px (below, it
    # folds into the menu button).
    UserFactory(username="olga", role=Role.HEAD, first_name="Ольга", last_name="Иванова")
    page.set_viewport_size({"width": 1200, "height": 800})
    page.goto(f"{live_server.url}/accounts/login/")
    switch_language(page, "ru")
    sign_in(page, live_server, "olga", "ru")

    user_menu = page.locator("#user-menu")
    expect(user_menu).to_be_in_viewport()
    nav_box, menu_box = page.locator("nav.navbar").bounding_box(), user_menu.bounding_box()
    assert menu_box["x"] + menu_box["width"] <= nav_box["x"] + nav_box["width"]
    assert menu_box["y"] + menu_box["height"] <= nav_box["y"] + nav_box["height"]

    department = page.get_by_role("button", name=shown("Department", "ru"), exact=True)
    department.click()
    page.get_by_role("link", name=shown("Users", "ru"), exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/accounts/users/")

    user_menu.get_by_role("button", name="Ольга", exact=True).click()
    expect(user_menu).to_contain_text("Ольга Иванова")
    user_menu.get_by_role("button", name=shown("Sign out", "ru"), exact=True).click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    assert js_errors == []
