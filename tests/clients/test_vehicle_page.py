"""The vehicle's page (issue 10, item 10): the car, its owner and everything that names it from every app, newest
first, "Show more" paging by (time, kind, id) like the client card's timeline."""

import importlib
import re
from datetime import date, timedelta

import pytest
from django.apps import apps
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from bookings.models import Booking
from calls.models import Survey, SurveyResponse
from claims.models import Claim, ClaimCategory
from claims.services import claim_register
from clients.models import Delivery
from clients.selectors import TIMELINE_PAGE, vehicle_timeline
from documents.models import Document
from reception.models import TintConsultation, TowOrder
from tests.factories import (
    AdvisorProfileFactory,
    BookingFactory,
    CallFactory,
    ClientFactory,
    VehicleFactory,
)

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)


def visit(vehicle, at, advisor) -> Booking:
    """The car's completed visit (its owner's) in a five-minute slot."""
    return BookingFactory(
        vehicle=vehicle,
        starts_at=at,
        advisor_until=at + timedelta(minutes=5),
        advisor=advisor,
        status=Booking.Status.COMPLETED,
    )


def claim(vehicle, at, by, words="Стук в подвеске после ремонта") -> Claim:
    importlib.import_module("claims.migrations.0002_default_categories").add_categories(apps, None)
    return claim_register(
        by=by,
        client=vehicle.owner,
        vehicle=vehicle,
        category=ClaimCategory.objects.get(code="refund"),
        client_words=words,
        demand="Вернуть деньги за ремонт",
        received_at=at,
    )


def document(vehicle, at, number) -> Document:
    doc = Document.objects.create(
        kind=Document.Kind.HANDOVER_ACT,
        number=number,
        issued_on=date(2026, 11, 2),
        client=vehicle.owner,
        vehicle=vehicle,
    )
    Document.objects.filter(pk=doc.pk).update(created_at=at)
    return doc


def tow(vehicle, at, address) -> TowOrder:
    order = TowOrder.objects.create(
        client=vehicle.owner, vehicle=vehicle, pickup_address=address, phone_on_site="+79123456789"
    )
    TowOrder.objects.filter(pk=order.pk).update(created_at=at)
    return order


def tint(vehicle, at, note) -> TintConsultation:
    consultation = TintConsultation.objects.create(client=vehicle.owner, vehicle=vehicle, limit=70, note=note)
    TintConsultation.objects.filter(pk=consultation.pk).update(created_at=at)
    return consultation


def answer(delivery, at, by) -> SurveyResponse:
    survey = Survey.objects.filter(is_active=True).first() or Survey.objects.create(name="CSI", is_active=True)
    return SurveyResponse.objects.create(delivery=delivery, survey=survey, answered_at=at, taken_by=by, csi=87)


def one_of_each(vehicle, manager, advisor, at, tag) -> dict[str, object]:
    """A call, a visit, a claim, a document, a handover, a tow order, a tinting consultation and the answer to the
    handover's survey naming `vehicle`, a minute apart from `at`."""
    rows = {
        "call": CallFactory(
            client=vehicle.owner, vehicle=vehicle, manager=manager, started_at=at, notes=f"звонок {tag}"
        ),
        "booking": visit(vehicle, at + timedelta(minutes=1), advisor),
        "claim": claim(vehicle, at + timedelta(minutes=2), manager, words=f"претензия {tag}"),
        "document": document(vehicle, at + timedelta(minutes=3), f"АКТ-{tag}"),
        "delivery": Delivery.objects.create(
            client=vehicle.owner, vehicle=vehicle, delivered_at=at + timedelta(minutes=4)
        ),
        "tow": tow(vehicle, at + timedelta(minutes=5), f"Тверская, {tag}"),
        "tint": tint(vehicle, at + timedelta(minutes=6), f"тонировка {tag}"),
    }
    rows["survey"] = answer(rows["delivery"], at + timedelta(minutes=7), manager)
    return rows


@pytest.fixture
def advisor_user(db):
    return AdvisorProfileFactory().user


@pytest.fixture
def car(db):
    owner = ClientFactory(name="Петров Пётр")
    return VehicleFactory(
        owner=owner, make="Kia", model="Rio", year=2021, plate="А123ВС77", colour="белый", dms_id="DMS-V-1"
    )


@pytest.fixture
def other_car(car):
    """Another car of the same owner: its rows must stay off the first car's page."""
    return VehicleFactory(owner=car.owner, make="Lada", model="Vesta", plate="В456ОР99")


def test_the_page_shows_the_car_and_each_kind_of_row_for_it_and_none_of_another_car(
    as_manager, manager, advisor_user, car, other_car
):
    mine = one_of_each(car, manager, advisor_user, NOW - timedelta(days=2), "мой")
    theirs = one_of_each(other_car, manager, advisor_user, NOW - timedelta(days=1), "чужой")

    page = as_manager.get(reverse("clients:vehicle-detail", args=[car.pk])).content.decode()

    # the car, with a link to its owner's card
    assert "Kia Rio 2021" in page and "А123ВС77" in page and car.vin in page and "DMS-V-1" in page
    assert "белый" in page
    assert f'href="{car.owner.get_absolute_url()}"' in page
    # every kind of row naming it
    assert "звонок мой" in page
    assert f'href="{reverse("bookings:detail", args=[mine["booking"].pk])}"' in page
    assert f'href="{reverse("claims:detail", args=[mine["claim"].pk])}"' in page
    assert f'href="{reverse("documents:detail", args=[mine["document"].pk])}"' in page
    assert page.count("delivery-entry") == 1 and page.count("survey-entry") == 1
    assert f'href="{reverse("reception:tow-detail", args=[mine["tow"].pk])}"' in page and "Тверская, мой" in page
    assert f'href="{reverse("reception:tint-detail", args=[mine["tint"].pk])}"' in page and "тонировка мой" in page
    # and nothing of the other car, though it is newer and has the same owner
    assert "звонок чужой" not in page
    for kind, url in [
        ("booking", "bookings:detail"),
        ("claim", "claims:detail"),
        ("document", "documents:detail"),
        ("tow", "reception:tow-detail"),
        ("tint", "reception:tint-detail"),
    ]:
        assert f'href="{reverse(url, args=[theirs[kind].pk])}"' not in page


def test_the_timeline_holds_every_kind_newest_first(manager, advisor_user, car):
    one_of_each(car, manager, advisor_user, NOW - timedelta(hours=3), "a")
    page = vehicle_timeline(car, user=manager)
    assert [e.kind for e in page.entries] == [
        "survey",
        "tint",
        "tow",
        "delivery",
        "document",
        "claim",
        "booking",
        "call",
    ]
    assert page.next_before is None


def test_a_user_sees_only_the_kinds_of_rows_they_may_see(transport_head, manager, advisor_user, car):
    # the transport head sees clients, their cars and handovers (and so the surveys that follow them, as on the
    # client card), but not calls, visits, claims, documents or the reception's
    one_of_each(car, manager, advisor_user, NOW - timedelta(hours=3), "a")
    assert [e.kind for e in vehicle_timeline(car, user=transport_head).entries] == ["survey", "delivery"]


@pytest.fixture
def long_history(car, manager, advisor_user):
    """Seven rounds of the eight kinds (56 rows), plus five rows of three kinds at one same moment: 61 entries."""
    for i in range(7):
        one_of_each(car, manager, advisor_user, NOW - timedelta(days=10) + timedelta(hours=i), str(i))
    tie = NOW - timedelta(days=20)
    CallFactory(client=car.owner, vehicle=car, manager=manager, started_at=tie, notes="в ту же секунду")
    CallFactory(client=car.owner, vehicle=car, manager=manager, started_at=tie, notes="и ещё один")
    visit(car, tie, advisor_user)
    visit(car, tie, AdvisorProfileFactory().user)  # one advisor cannot be in two places at once
    document(car, tie, "АКТ-ничья")
    return car


@pytest.mark.parametrize("size", [1, 2, 3, 7, 20])
def test_pages_walk_every_entry_once_in_order_even_at_one_moment(long_history, manager, size):
    pages, before = [], None
    while True:
        page = vehicle_timeline(long_history, user=manager, before=before, size=size)
        pages.append(page.entries)
        if page.next_before is None:
            break
        before = page.next_before
    entries = [e for page in pages for e in page]
    assert len(entries) == 61
    assert len({(e.kind, e.obj.pk) for e in entries}) == 61
    positions = [e.position for e in entries]
    assert positions == sorted(positions, reverse=True)
    assert all(len(page) == size for page in pages[:-1])


def test_show_more_brings_the_next_page_in_place(as_manager, long_history):
    url = reverse("clients:vehicle-detail", args=[long_history.pk])
    page = as_manager.get(url).content.decode()
    assert 'id="vehicle-name"' in page
    more = re.search(r'id="timeline-more"[^>]*hx-get="([^"]+)"', page)
    assert more, "the page offers the next page"
    assert more.group(1).startswith(url + "?before=")

    fragment = as_manager.get(more.group(1).replace("&amp;", "&"), headers={"HX-Request": "true"}).content.decode()

    # the next 20 entries, without the page around them, beginning where the first page ended
    assert "<html" not in fragment and 'id="vehicle-name"' not in fragment
    assert fragment.count('<div class="list-group-item') + fragment.count("booking-entry") == TIMELINE_PAGE
    assert "звонок 4" in fragment and "звонок 5" not in fragment and "звонок 1" not in fragment
    more = re.search(r'id="timeline-more"[^>]*hx-get="([^"]+)"', fragment)
    assert more, "and a button for the page after"

    # following the buttons to the end reaches the oldest rounds and the tied rows, and the last page has no button
    rest = ""
    while more:
        fragment = as_manager.get(more.group(1).replace("&amp;", "&"), headers={"HX-Request": "true"}).content.decode()
        rest += fragment
        more = re.search(r'id="timeline-more"[^>]*hx-get="([^"]+)"', fragment)
    assert "звонок 1" in rest and "звонок 0" in rest and "в ту же секунду" in rest and "и ещё один" in rest
    assert "звонок 4" not in rest


def test_show_more_without_javascript_opens_the_page_at_that_point(as_manager, manager, long_history):
    first = vehicle_timeline(long_history, user=manager)
    page = as_manager.get(
        reverse("clients:vehicle-detail", args=[long_history.pk]), {"before": first.next_before}
    ).content.decode()
    assert 'id="vehicle-name"' in page and "звонок 4" in page and "звонок 6" not in page


def test_a_vehicle_out_of_sight_is_404(as_manager, car):
    assert as_manager.get(reverse("clients:vehicle-detail", args=[car.pk + 1000])).status_code == 404
    more = as_manager.get(
        reverse("clients:vehicle-detail", args=[car.pk + 1000]), {"before": "x"}, headers={"HX-Request": "true"}
    )
    assert more.status_code == 404


def test_a_vehicle_left_on_a_merged_client_is_404(as_manager, car):
    survivor = ClientFactory()
    type(car.owner).objects.filter(pk=car.owner_id).update(merged_into=survivor)
    assert as_manager.get(reverse("clients:vehicle-detail", args=[car.pk])).status_code == 404


def test_a_user_without_clients_is_refused(web, car):
    # anonymous: to the sign-in page
    response = web.get(reverse("clients:vehicle-detail", args=[car.pk]))
    assert response.status_code == 302 and "login" in response["Location"]


def test_the_cards_link_to_the_vehicle_page(as_manager, manager, advisor_user, car):
    rows = one_of_each(car, manager, advisor_user, NOW - timedelta(hours=3), "a")
    link = f'href="{reverse("clients:vehicle-detail", args=[car.pk])}"'
    for url in [
        car.owner.get_absolute_url(),
        reverse("bookings:detail", args=[rows["booking"].pk]),
        reverse("claims:detail", args=[rows["claim"].pk]),
        reverse("documents:detail", args=[rows["document"].pk]),
    ]:
        response = as_manager.get(url)
        assert response.status_code == 200, url
        assert link in response.content.decode(), url


@pytest.mark.parametrize("rounds", [2, 12])
def test_query_count_is_pinned_and_one_per_source(
    as_manager, manager, advisor_user, car, django_assert_num_queries, rounds
):
    for i in range(rounds):
        one_of_each(car, manager, advisor_user, NOW - timedelta(days=3) + timedelta(hours=i), str(i))
    # session, user, the vehicle with its owner, then one query per kind of row: handovers, calls, visits, claims,
    # survey answers, documents, tow orders, tinting consultations
    with django_assert_num_queries(11):
        response = as_manager.get(reverse("clients:vehicle-detail", args=[car.pk]))
    assert response.status_code == 200
    first = vehicle_timeline(car, user=manager, size=2)
    with django_assert_num_queries(11):
        response = as_manager.get(
            reverse("clients:vehicle-detail", args=[car.pk]),
            {"before": first.next_before},
            headers={"HX-Request": "true"},
        )
    assert response.status_code == 200


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("table", "column"),
    [
        ("calls_call", "started_at"),
        ("bookings_booking", "starts_at"),
        ("claims_claim", "received_at"),
        ("documents_document", "created_at"),
        ("clients_delivery", "delivered_at"),
        ("reception_toworder", "created_at"),
        ("reception_tintconsultation", "created_at"),
    ],
)
def test_each_source_has_a_vehicle_and_time_index(table, column):
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = %s", [table])
        definitions = [row[0] for row in cursor.fetchall()]
    assert any(re.search(rf"\(vehicle_id, {column}( DESC)?\)", d) for d in definitions), definitions
