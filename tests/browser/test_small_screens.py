"""Issue 9, item 22 in a real browser: a manager walking the reception with a phone (390 px) or a tablet (768 px) marks
an arrival on today's board and works the call queue; neither page scrolls sideways, and the buttons are on screen and
take a tap. A screenshot of each page is left in the temporary directory (clientdesk-small-screens/) to look at."""

import re
import tempfile
from datetime import time, timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.roles import Role
from bookings.models import Booking
from bookings.selectors import board as board_selectors
from calls.models import CallTask
from clientdesk.calendar import at, day_bounds, local_date
from clientdesk.models import CalendarDay
from tests.browser.test_manager_desk import sign_in, switch_language
from tests.commands import run
from tests.factories import (
    AdvisorProfileFactory,
    BookingFactory,
    ServiceAreaFactory,
    UserFactory,
    VehicleFactory,
    client_with_phone,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(tempfile.gettempdir()) / "clientdesk-small-screens"
PHONE = {"width": 390, "height": 844}
TABLET = {"width": 768, "height": 1024}


def page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def assert_tappable(page, button) -> None:
    """On screen once scrolled to, wholly inside the viewport's width, and big enough for a finger."""
    button.scroll_into_view_if_needed()
    expect(button).to_be_visible()
    box = button.bounding_box()
    width = page.viewport_size["width"]
    assert box["x"] >= 0 and box["x"] + box["width"] <= width, box
    assert box["height"] >= 30, box


def signed_in_manager(page, live_server) -> None:
    """Signed in at a desktop width (the language buttons sit in the collapsed menu on a phone)."""
    page.goto(f"{live_server.url}/accounts/login/")
    switch_language(page, "en")
    sign_in(page, live_server, "maria", "en")


@pytest.mark.parametrize("viewport", [PHONE, TABLET], ids=["phone", "tablet"])
def test_the_board_fits_a_phone_and_marks_an_arrival(page, js_errors, live_server, viewport):
    UserFactory(username="maria", role=Role.MANAGER)
    advisor = UserFactory(username="pavlov", role=Role.ADVISOR, first_name="Сергей", last_name="Павлов")
    AdvisorProfileFactory(user=advisor)
    client = client_with_phone("+79123456789", name="Константинопольская Александра Вячеславовна")
    vehicle = VehicleFactory(owner=client, make="Mercedes-Benz", model="GLE 450 4MATIC Coupé", plate="А123ВС777")
    now = timezone.now()
    # Written directly: the services refuse a time that has passed, and the board is today's (whatever the clock).
    BookingFactory(
        client=client,
        vehicle=vehicle,
        advisor=advisor,
        starts_at=max(now - timedelta(minutes=30), day_bounds(local_date(now))[0]),
    )

    signed_in_manager(page, live_server)
    page.set_viewport_size(viewport)
    page.goto(f"{live_server.url}/workshop/board/")
    row = page.locator(".board-row", has_text="Константинопольская")
    expect(row).to_have_class(re.compile(r"\bstate-(late|expected)\b"))
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"board-{viewport['width']}.png"), full_page=True)

    assert page_width(page) <= viewport["width"]
    button = row.get_by_role("button", name="Arrived")
    assert_tappable(page, button)
    button.click()

    expect(page.locator(".board-row.state-arrived", has_text="Константинопольская")).to_be_visible()
    assert Booking.objects.get().status == Booking.Status.ARRIVED
    assert page_width(page) <= viewport["width"]
    assert js_errors == []


@pytest.mark.parametrize("viewport", [PHONE, TABLET], ids=["phone", "tablet"])
def test_the_call_queue_fits_a_phone_and_its_calls_take_a_tap(page, js_errors, live_server, viewport):
    maria = UserFactory(username="maria", role=Role.MANAGER)
    now = timezone.now()
    for n, name in enumerate(["Иванов Иван", "Константинопольская Александра Вячеславовна"]):
        client = client_with_phone(f"+7912345678{n}", name=name)
        CallTask.objects.create(
            kind="callback",
            client=client,
            due_at=now - timedelta(minutes=5 + n),
            next_attempt_at=now - timedelta(minutes=5 + n),
            assignee=maria,
            note="Перезвонить по поводу записи на ТО и уточнить время визита",
        )

    signed_in_manager(page, live_server)
    page.set_viewport_size(viewport)
    page.goto(f"{live_server.url}/calls/queue/")
    rows = page.locator("#queue .queue-row")
    expect(rows).to_have_count(2)
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"queue-{viewport['width']}.png"), full_page=True)

    assert page_width(page) <= viewport["width"]
    assert_tappable(page, page.get_by_role("button", name="Next call"))
    for index in range(2):
        assert_tappable(page, rows.nth(index).get_by_role("button", name="Call"))
    rows.filter(has_text="Константинопольская").get_by_role("button", name="Call").click()
    expect(page.locator("#client-name")).to_have_text("Константинопольская Александра Вячеславовна")
    assert js_errors == []


def test_a_folded_board_opens_its_folds_on_a_phone(page, js_errors, live_server, monkeypatch):
    # A day longer than the board draws whole (lowered from 60 to 1): tomorrow's first hour in full, the rest folded.
    monkeypatch.setattr(board_selectors, "BOARD_WHOLE_UP_TO", 1)
    UserFactory(username="maria", role=Role.MANAGER)
    advisor = UserFactory(username="pavlov", role=Role.ADVISOR, first_name="Сергей", last_name="Павлов")
    AdvisorProfileFactory(user=advisor)
    area = ServiceAreaFactory()
    tomorrow = local_date(timezone.now()) + timedelta(days=1)
    for hour, name in ((10, "Утренний Клиент"), (15, "Константинопольская Александра Вячеславовна")):
        BookingFactory(
            client=client_with_phone(f"+791234567{hour}", name=name),
            area=area,
            advisor=advisor,
            starts_at=at(tomorrow, time(hour)),
        )

    signed_in_manager(page, live_server)
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/workshop/board/?day={tomorrow.isoformat()}")
    expect(page.locator(".board-row", has_text="Утренний Клиент")).to_be_visible()
    expect(page.locator(".board-row", has_text="Константинопольская")).to_have_count(0)
    fold = page.locator("#fold-later")
    expect(fold).to_contain_text("1")
    assert page_width(page) <= PHONE["width"]

    show = fold.get_by_role("link", name="Show")
    assert_tappable(page, show)
    show.click()

    expect(page.locator(".board-row", has_text="Константинопольская")).to_be_visible()
    expect(page).to_have_url(re.compile(r"show=later"))
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "board-folded-390.png"), full_page=True)
    assert page_width(page) <= PHONE["width"]
    assert js_errors == []


# Every page a person opens on a phone, for the roles that open it: none may make the page scroll sideways (a wide
# table scrolls inside its own box, the daily tools stack their rows as cards).
PAGES_ON_A_PHONE = {
    "head": [
        "/reports/",
        "/reception/tow/",
        "/reception/materials/",
        "/reception/tow/new/",
        "/calls/",
        "/calls/campaigns/",
        "/workshop/day/",
        "/workshop/bookings/",
        "/accounts/users/",
        "/clients/duplicates/",
    ],
    "manager1": ["/clients/", "/calls/queue/", "/reports/mine/", "/workshop/board/"],
}


@pytest.mark.parametrize("username", sorted(PAGES_ON_A_PHONE))
def test_no_page_scrolls_sideways_on_a_phone(page, js_errors, live_server, username):
    for command in ("seed_demo", "seed_workshop", "seed_demo_work", "seed_reception"):
        run(command)
    page.goto(f"{live_server.url}/accounts/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill("demo12345")
    page.locator("#id_password").press("Enter")
    page.wait_for_load_state("networkidle")
    page.set_viewport_size(PHONE)
    too_wide = {}
    for path in PAGES_ON_A_PHONE[username]:
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        if (width := page_width(page)) > PHONE["width"]:
            too_wide[path] = width
    assert too_wide == {}
    assert js_errors == []


@pytest.mark.parametrize("path", ["/calls/", "/workshop/bookings/", "/clients/list/"])
def test_on_a_phone_a_list_comes_before_its_filters(page, js_errors, live_server, path):
    """A list's filter form was taller than a phone's screen: it is folded behind a Filters button there, shown when
    the page is filtered, and always shown from a tablet's width on."""
    UserFactory(username="maria", role=Role.MANAGER)
    signed_in_manager(page, live_server)
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}{path}")
    form = page.locator("main form[method=get].collapse")
    toggle = page.get_by_role("button", name="Filters")
    expect(form).to_be_hidden()
    assert_tappable(page, toggle)
    toggle.click()
    expect(form).to_be_visible()
    assert page_width(page) <= PHONE["width"]

    page.set_viewport_size(TABLET)
    page.goto(f"{live_server.url}{path}")
    expect(form).to_be_visible()
    expect(toggle).to_be_hidden()


def test_a_table_with_hidden_labels_scrolls_in_its_own_box_on_a_phone(page, js_errors, live_server):
    """The service set-up's holidays table holds visually-hidden texts (absolutely placed): they reached as far as the
    wide table would, and the whole page scrolled sideways on a phone."""
    UserFactory(username="maria", role=Role.HEAD)
    today = local_date(timezone.now())
    for n in range(1, 4):
        CalendarDay.objects.create(date=today + timedelta(days=n), kind=CalendarDay.Kind.HOLIDAY, note="Праздник")
    signed_in_manager(page, live_server)
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/workshop/setup/")
    expect(page.locator("#calendar-days")).to_be_visible()
    assert page_width(page) <= PHONE["width"]
