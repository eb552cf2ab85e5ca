"""The vehicle's page in a real browser (issue 10, item 10), in Russian and English, at a desktop's and a phone's
width: a manager opens a car from the client card, reads what happened with it (calls, a workshop visit, a claim, a
document, the handover), pages back with "Show more", and goes back to the owner's card; nothing scrolls sideways."""

import importlib
from datetime import date, time, timedelta

import pytest
from django.apps import apps
from django.conf import settings
from django.utils import timezone

from accounts.roles import Role
from bookings.models import Booking
from claims.models import ClaimCategory
from claims.services import claim_register
from clientdesk.models import WorkingHours
from clients.models import Delivery
from documents.models import Document
from tests.browser.test_card_small_screen import signed_in
from tests.factories import (
    BookingFactory,
    CallFactory,
    UserFactory,
    VehicleFactory,
    client_with_phone,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

expect = pytest.importorskip("playwright.sync_api").expect

DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
WORDS = {
    "ru": {"plate": "Госномер", "more": "Показать ещё", "timeline": "Хронология"},
    "en": {"plate": "Plate", "more": "Show more", "timeline": "Timeline"},
}


def a_car_with_a_story(manager):
    """A client's car with 22 calls, a workshop visit, a claim, a document and its handover (26 entries), and the
    owner's other car with a call of its own."""
    for weekday in range(5):
        WorkingHours.objects.get_or_create(weekday=weekday, defaults={"opens": time(9), "closes": time(18)})
    importlib.import_module("claims.migrations.0002_default_categories").add_categories(apps, None)
    owner = client_with_phone("+79123456789", name="Константинопольский Александр Вячеславович")
    car = VehicleFactory(
        owner=owner,
        make="Mercedes-Benz",
        model="GLE 450 4MATIC Coupé",
        year=2022,
        vin="WDC1671231A123456",
        plate="А123ВС777",
        colour="чёрный обсидиан металлик",
        dms_id="DMS-VEH-0000123456789",
    )
    other = VehicleFactory(owner=owner, make="Lada", model="Vesta")
    now = timezone.now().replace(microsecond=0)
    for i in range(22):
        CallFactory(
            client=owner, vehicle=car, manager=manager, started_at=now - timedelta(hours=i + 1), notes=f"Звонок {i:02d}"
        )
    CallFactory(client=owner, vehicle=other, manager=manager, started_at=now, notes="Звонок о другой машине")
    at = now - timedelta(days=3)
    BookingFactory(
        client=owner,
        vehicle=car,
        area__name="Слесарный цех",
        advisor__last_name="Петров",
        starts_at=at,
        advisor_until=at + timedelta(minutes=5),
        status=Booking.Status.COMPLETED,
    )
    claim = claim_register(
        by=manager,
        client=owner,
        vehicle=car,
        category=ClaimCategory.objects.get(code="refund"),
        client_words="После ремонта стучит подвеска",
        demand="Вернуть деньги за ремонт",
        received_at=now - timedelta(days=4),
    )
    document = Document.objects.create(
        kind=Document.Kind.HANDOVER_ACT, number="АКТ-2026-0042", issued_on=date(2026, 1, 15), client=owner, vehicle=car
    )
    Document.objects.filter(pk=document.pk).update(created_at=now - timedelta(days=5))
    Delivery.objects.create(client=owner, vehicle=car, delivered_at=now - timedelta(days=6))
    return car, claim


@pytest.mark.parametrize("language", ["ru", "en"])
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_manager_reads_a_cars_story_and_pages_back(page, live_server, js_errors, language, viewport):
    manager = UserFactory(username="maria", role=Role.MANAGER, first_name="Мария", last_name="Смирнова")
    car, claim = a_car_with_a_story(manager)
    words = WORDS[language]

    # when the manager opens the owner's card and the car in its list of vehicles
    signed_in(page, live_server, manager)
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}])
    page.set_viewport_size(viewport)
    page.goto(f"{live_server.url}{car.owner.get_absolute_url()}")
    page.locator("#vehicles a.vehicle-link", has_text="GLE 450").click()

    # then the car's page: the car, its owner, and the 20 newest of what names it, none of the other car's
    expect(page.locator("#vehicle-name")).to_have_text("Mercedes-Benz GLE 450 4MATIC Coupé 2022")
    facts = page.locator("#vehicle-facts")
    for text in [
        words["plate"],
        car.owner.name,
        "WDC1671231A123456",
        "А123ВС777",
        "чёрный обсидиан металлик",
        "DMS-VEH-0000123456789",
    ]:
        expect(facts).to_contain_text(text)
    expect(page.locator("main")).to_contain_text(words["timeline"])
    entries = page.locator("#timeline .list-group-item:not(#timeline-more)")
    expect(entries).to_have_count(20)
    expect(page.locator("#timeline")).to_contain_text("Звонок 00")
    expect(page.locator("#timeline")).not_to_contain_text("Звонок 20")
    expect(page.locator("#timeline")).not_to_contain_text("Звонок о другой машине")

    # and nothing reaches past the screen's edge
    page.screenshot(path=f"/tmp/vehicle-{language}-{viewport['width']}.png", full_page=True)  # noqa: S108 - to look at
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]

    # when the manager asks for more
    more = page.locator("#timeline-more")
    expect(more).to_have_text(words["more"])
    more.click()

    # then the older entries join the list in place: the last calls, the visit, the claim, the document, the handover
    expect(entries).to_have_count(26)
    expect(page.locator("#timeline-more")).to_have_count(0)
    timeline = page.locator("#timeline")
    for text in ["Звонок 21", "Слесарный цех", claim.number, "АКТ-2026-0042", "Вернуть деньги за ремонт"]:
        expect(timeline).to_contain_text(text)
    expect(page.locator("#timeline .delivery-entry")).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]

    # and the owner's name leads back to the card
    page.locator("#vehicle-owner").click()
    expect(page.locator("#client-name")).to_have_text("Константинопольский Александр Вячеславович")
    assert js_errors == []
