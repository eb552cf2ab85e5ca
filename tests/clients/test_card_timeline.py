"""The client card's timeline: the newest entries of every kind first, then "Show more" pages by (time, kind, id)."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from bookings.models import Booking
from clients.models import Delivery
from clients.selectors import TIMELINE_PAGE, client_timeline
from tests.factories import (
    AdvisorProfileFactory,
    BookingFactory,
    CallFactory,
    ClientFactory,
    VehicleFactory,
)

pytestmark = pytest.mark.django_db


def visit(client, at, **kwargs) -> Booking:
    """A completed visit in a five-minute slot: one advisor's visits fit five minutes apart."""
    return BookingFactory(
        client=client, starts_at=at, advisor_until=at + timedelta(minutes=5), status=Booking.Status.COMPLETED, **kwargs
    )


@pytest.fixture
def history(manager):
    """A client with 45 calls a minute apart, 3 visits and 2 handovers in between the last 15 calls, and four more
    entries of three kinds at one same earlier moment: 54 entries."""
    client = ClientFactory(name="Петров Пётр")
    vehicle = VehicleFactory(owner=client)
    base = timezone.now().replace(microsecond=0) - timedelta(days=10)
    advisor = AdvisorProfileFactory().user
    for i in range(45):
        CallFactory(client=client, manager=manager, started_at=base + timedelta(minutes=i), notes=f"звонок {i}")
    for i in range(3):
        visit(client, base + timedelta(minutes=30 + 5 * i, seconds=30), advisor=advisor)
    for i in range(2):
        at = base + timedelta(minutes=42 + i, seconds=15)
        Delivery.objects.create(client=client, vehicle=vehicle, delivered_at=at)
    tie = base - timedelta(hours=1)
    CallFactory(client=client, manager=manager, started_at=tie, notes="в ту же секунду")
    CallFactory(client=client, manager=manager, started_at=tie, notes="и ещё один")
    visit(client, tie, advisor=advisor)
    Delivery.objects.create(client=client, vehicle=vehicle, delivered_at=tie)
    return client


def walk(client, user, size):
    """Every page of the timeline, following the cursors."""
    pages, before = [], None
    while True:
        page = client_timeline(client, user=user, before=before, size=size)
        pages.append(page.entries)
        if page.next_before is None:
            return pages
        before = page.next_before


def test_first_page_is_the_newest_entries_of_every_kind(history, manager):
    # given 54 entries of four kinds; when the card reads its first page
    page = client_timeline(history, user=manager)
    # then it holds the 20 newest across the kinds, newest first, and says there is more
    assert len(page.entries) == TIMELINE_PAGE
    times = [e.at for e in page.entries]
    assert times == sorted(times, reverse=True)
    assert page.entries[0].obj.notes == "звонок 44"
    assert {e.kind for e in page.entries} == {"call", "booking", "delivery"}
    assert page.next_before


@pytest.mark.parametrize("size", [1, 2, 3, 7, 20])
def test_pages_walk_every_entry_once_in_order_even_at_one_moment(history, manager, size):
    pages = walk(history, manager, size)
    entries = [e for page in pages for e in page]
    # 45 + 2 calls, 3 + 1 visits, 2 + 1 handovers: each once, none lost at the cursor's own moment
    assert len(entries) == 54
    assert len({(e.kind, e.obj.pk) for e in entries}) == 54
    positions = [e.position for e in entries]
    assert positions == sorted(positions, reverse=True)
    assert all(len(page) == size for page in pages[:-1])


def test_a_mangled_cursor_shows_the_first_page(history, manager):
    first = client_timeline(history, user=manager)
    for before in ["nonsense", "2026-01-01T00:00:00_call_x", "2026-01-01T00:00:00_call_1", "a_b_c_d"]:
        assert client_timeline(history, user=manager, before=before).entries == first.entries


def test_card_shows_a_page_and_show_more_brings_the_next_in_place(as_manager, history):
    url = reverse("clients:detail", args=[history.pk])
    page = as_manager.get(url).content.decode()
    # the newest 20: calls 44 to 30, the three visits and the two handovers among them
    assert page.count("call-in") == 15 and page.count("booking-entry") == 3 and page.count("delivery-entry") == 2
    assert "звонок 44" in page and "звонок 30" in page and "звонок 29" not in page
    more = re.search(r'id="timeline-more"[^>]*hx-get="([^"]+)"', page)
    assert more, "the card offers the next page"

    # when "Show more" is clicked (HTMX asks for the next page only)
    fragment = as_manager.get(more.group(1).replace("&amp;", "&"), headers={"HX-Request": "true"}).content.decode()

    # then the next 20 entries come, without the card around them, and a button for the page after
    assert "<html" not in fragment and 'id="client-name"' not in fragment
    assert fragment.count("call-in") == TIMELINE_PAGE
    assert "звонок 29" in fragment and "звонок 10" in fragment and "звонок 30" not in fragment
    assert 'id="timeline-more"' in fragment


def test_show_more_without_javascript_opens_the_card_at_that_page(as_manager, manager, history):
    first = client_timeline(history, user=manager)
    page = as_manager.get(reverse("clients:detail", args=[history.pk]), {"before": first.next_before}).content.decode()
    assert 'id="client-name"' in page
    assert "звонок 29" in page and "звонок 44" not in page


def test_booking_lines_link_to_the_booking(as_manager, history):
    booking = history.bookings.order_by("-starts_at").first()
    page = as_manager.get(reverse("clients:detail", args=[history.pk])).content.decode()
    assert f'href="{reverse("bookings:detail", args=[booking.pk])}"' in page


def test_show_more_of_a_client_out_of_sight_is_404(as_manager):
    response = as_manager.get(reverse("clients:detail", args=[0]), {"before": "x"}, headers={"HX-Request": "true"})
    assert response.status_code == 404


@pytest.mark.parametrize("rows", [5, 50])
def test_show_more_query_count_is_pinned(as_manager, manager, django_assert_num_queries, rows):
    client = ClientFactory()
    for i in range(rows):
        CallFactory(client=client, manager=manager, started_at=timezone.now() - timedelta(minutes=i))
    first = client_timeline(client, user=manager, size=2)
    # session, user, the client, then one query per kind of entry: handovers, calls, visits, survey answers, claims,
    # documents
    with django_assert_num_queries(9):
        response = as_manager.get(
            reverse("clients:detail", args=[client.pk]), {"before": first.next_before}, headers={"HX-Request": "true"}
        )
    assert response.status_code == 200
