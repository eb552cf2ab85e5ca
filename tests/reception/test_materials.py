from datetime import date, timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from clientdesk.calendar import local_date
from clientdesk.dashboard import Period, draw, head_tiles
from reception.models import PrintedMaterial
from reception.selectors.materials import materials_attention
from reception.services.materials import material_create, material_restock

pytestmark = pytest.mark.django_db

EN = {"Accept-Language": "en"}


@pytest.fixture
def today():
    return local_date(timezone.now())


@pytest.fixture
def price_list(head, today):
    return material_create(
        by=head,
        name="Прайс-лист на ТО",
        kind="price_list",
        location="reception",
        stock=3,
        minimum=10,
        review_by=today + timedelta(days=30),
    )


@pytest.fixture
def brochure(head, today):
    return material_create(
        by=head,
        name="Буклет Kia Rio",
        kind="brochure",
        location="waiting_area",
        stock=40,
        minimum=10,
        review_by=today - timedelta(days=1),
    )


@pytest.fixture
def questionnaire(head):
    return material_create(by=head, name="Анкета CSI", kind="questionnaire", location="cash_desk", stock=50, minimum=20)


def test_items_below_minimum_or_past_review_are_flagged_and_filtered(as_manager, price_list, brochure, questionnaire):
    page = as_manager.get(reverse("reception:material-list"), headers=EN)
    flags = {m.name: (m.low, m.stale) for m in page.context["materials"]}
    assert flags == {
        "Прайс-лист на ТО": (True, False),
        "Буклет Kia Rio": (False, True),
        "Анкета CSI": (False, False),
    }
    assert page.content.decode().count("material-attention") == 2
    narrowed = as_manager.get(reverse("reception:material-list"), {"attention": "true"})
    assert {m.name for m in narrowed.context["materials"]} == {"Прайс-лист на ТО", "Буклет Kia Rio"}


def test_restock_in_two_clicks_redraws_the_row_and_keeps_who_added_how_many(as_manager, manager, price_list):
    # the list offers the restock form with a suggested number (back to twice the minimum)
    page = as_manager.get(reverse("reception:material-list"))
    assert page.context["materials"][0].suggested == 17
    # "Add" posts it; HTMX gets the row back
    response = as_manager.post(
        reverse("reception:material-restock", args=[price_list.pk]), {"quantity": 17}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="material-{price_list.pk}"' in html and "material-attention" not in html
    price_list.refresh_from_db()
    assert price_list.stock == 20
    last = price_list.history.first()
    with translation.override(settings.LANGUAGE_CODE):  # written in the language of the page that restocked
        restocked = gettext("restocked: +%(n)d") % {"n": 17}
    assert (last.history_user, last.history_change_reason) == (manager, restocked)


def test_restock_refuses_nothing_added_and_a_role_without_the_right(as_manager, web, advisor, price_list):
    assert (
        as_manager.post(reverse("reception:material-restock", args=[price_list.pk]), {"quantity": 0}).status_code == 302
    )
    web.force_login(advisor)
    assert web.post(reverse("reception:material-restock", args=[price_list.pk]), {"quantity": 5}).status_code == 403
    price_list.refresh_from_db()
    assert price_list.stock == 3


def test_restocks_at_once_add_both(manager, head, price_list):
    material_restock(material=price_list, by=manager, quantity=5)
    material_restock(material=price_list, by=head, quantity=7)
    price_list.refresh_from_db()
    assert price_list.stock == 15


def test_the_manager_is_told_at_the_start_of_the_day(web, manager, advisor, price_list, brochure):
    web.force_login(manager)
    page = web.get(reverse("home"), follow=True, headers=EN)
    html = page.content.decode()
    assert "Printed materials: 1 below minimum, 1 due for review." in html
    assert 'id="materials-notice"' in html
    # the advisor, who does not restock, is not
    web.force_login(advisor)
    assert "materials-notice" not in web.get(reverse("home"), follow=True).content.decode()


def test_nothing_to_tell_when_all_is_in_order(web, manager, questionnaire):
    web.force_login(manager)
    assert "materials-notice" not in web.get(reverse("home"), follow=True).content.decode()
    assert materials_attention(user=manager).total == 0


def test_the_head_adds_an_item_and_a_second_one_at_the_same_place_is_refused(as_head, price_list):
    data = {"name": "Листовка: шины", "kind": "leaflet", "location": "reception", "stock": 100, "minimum": 20}
    assert as_head.post(reverse("reception:material-create"), data).status_code == 302
    data["name"] = price_list.name
    response = as_head.post(reverse("reception:material-create"), data, headers=EN)
    assert response.status_code == 400
    assert PrintedMaterial.objects.filter(name=price_list.name).count() == 1


def test_the_api_reads_the_materials_with_their_flags(api_as_manager, price_list, brochure):
    body = api_as_manager.get("/api/v1/printed-materials/", {"attention": "true"}).json()["results"]
    flags = {row["name"]: (row["below_minimum"], row["review_due"]) for row in body}
    assert flags == {"Прайс-лист на ТО": (True, False), "Буклет Kia Rio": (False, True)}
    assert api_as_manager.post("/api/v1/printed-materials/", {"name": "x"}).status_code == 405


def _fill(rows, head):
    for n in range(rows):
        material_create(
            by=head,
            name=f"Буклет {n}",
            kind="brochure",
            location="reception",
            stock=n,
            minimum=10,
            review_by=date(2030, 1, 1),
        )


@pytest.mark.parametrize("rows", [5, 50])
def test_list_query_count_is_pinned(as_manager, head, django_assert_num_queries, rows):
    _fill(rows, head)
    # session, user, the items
    with django_assert_num_queries(3):
        response = as_manager.get(reverse("reception:material-list"))
    assert len(response.context["materials"]) == rows


@pytest.mark.parametrize("rows", [5, 50])
def test_list_endpoint_query_count_is_pinned(api_as_manager, head, django_assert_num_queries, rows):
    _fill(rows, head)
    with django_assert_num_queries(1):
        response = api_as_manager.get("/api/v1/printed-materials/")
    assert len(response.json()["results"]) == rows


def test_the_heads_dashboard_shows_the_materials_needing_attention(as_head, head, price_list, brochure, today):
    [tile] = [
        t for t in draw(head_tiles, user=head, period=Period.of("today", today)) if t.key == "reception-materials"
    ]
    low, stale = tile.figures
    assert (low.value, stale.value) == (1, 1)
    listed = as_head.get(low.url).context["materials"]
    assert {m.name for m in listed} == {price_list.name, brochure.name}
