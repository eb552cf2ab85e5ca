"""The client card on a phone (390 x 844): a manager walking the reception reads it and reaches every action without
the page scrolling sideways."""

from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client as WebClient

from accounts.roles import Role
from tests.factories import CallFactory, PhoneFactory, UserFactory, VehicleFactory, client_with_phone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

expect = pytest.importorskip("playwright.sync_api").expect

PHONE = {"width": 390, "height": 844}
SCREENSHOT = Path("/tmp/card-390.png")  # noqa: S108 - a picture to look at, outside the repository


def signed_in(page, live_server, user) -> None:
    """The browser carries the session of `user` (signed in through Django, not the form: the form has its own test)."""
    web = WebClient()
    web.force_login(user)
    cookie = web.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])


@pytest.mark.parametrize("language", ["ru", "en"])
def test_card_fits_a_phone_and_every_action_is_reachable(page, live_server, js_errors, language):
    # given a client with long names and numbers, two phones, two cars, a duplicate and some history
    manager = UserFactory(username="maria", role=Role.MANAGER, first_name="Мария", last_name="Смирнова")
    client = client_with_phone(
        "+79123456789",
        name="Константинопольский Александр Вячеславович",
        email="konstantinopolsky.alexander@example-dealership-client.ru",
        dms_id="DMS-0000123456789",
        notes="Просит звонить после 18:00; машину забирает супруга по доверенности.",
    )
    PhoneFactory(client=client, number="+74951234567", is_primary=False, comment="рабочий, через секретаря")
    VehicleFactory(owner=client, make="Mercedes-Benz", model="GLE 450 4MATIC Coupé", vin="WDC1671231A123456")
    VehicleFactory(owner=client, make="Lada", model="Vesta SW Cross")
    client_with_phone("+79123456789", name="Константинопольский А. В. (дубль)")
    for i in range(3):
        CallFactory(client=client, manager=manager, notes=f"Звонок {i}: записался на ТО-2, уточнить наличие колодок")

    # when the manager opens the card on a phone
    signed_in(page, live_server, manager)
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}])
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}{client.get_absolute_url()}")
    expect(page.locator("#client-name")).to_be_visible()
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    # then nothing reaches past the screen's edge
    wide = page.evaluate(
        "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > innerWidth + 0.5)"
        ".map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], wide
    # and every action of the card is on screen once scrolled to: the button bar, the vehicles', the call form's
    actions = page.locator("main .btn:not([hidden])")
    assert actions.count() >= 7
    for i in range(actions.count()):
        action = actions.nth(i)
        action.scroll_into_view_if_needed()
        expect(action).to_be_visible()
        box = action.bounding_box()
        assert box is not None
        name = action.inner_text()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], f"{name!r} is cut off: {box}"
        # (a pixel's slack: scrolling lands on fractions of a pixel)
        assert box["y"] >= -1 and box["y"] + box["height"] <= PHONE["height"] + 1, f"{name!r} is off screen: {box}"
    assert js_errors == []


def test_show_more_brings_the_older_entries_into_the_timeline(page, live_server, js_errors):
    # given a client with 25 calls: the card shows the newest 20
    manager = UserFactory(username="maria", role=Role.MANAGER)
    client = client_with_phone("+79123456789", name="Петров Пётр")
    for i in range(25):
        CallFactory(client=client, manager=manager, notes=f"Звонок номер {i:02d}")
    signed_in(page, live_server, manager)
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}{client.get_absolute_url()}")
    entries = page.locator("#timeline .list-group-item:not(#timeline-more)")
    expect(entries).to_have_count(20)
    expect(page.locator("#timeline")).not_to_contain_text("Звонок номер 04")

    # when the manager taps "Show more"
    page.locator("#timeline-more").click()

    # then the five older calls join the list in place, and there is nothing more to show
    expect(entries).to_have_count(25)
    expect(page.locator("#timeline")).to_contain_text("Звонок номер 00")
    expect(page.locator("#timeline-more")).to_have_count(0)
    assert page.url.endswith(client.get_absolute_url())  # the card stayed where it was
    assert js_errors == []
