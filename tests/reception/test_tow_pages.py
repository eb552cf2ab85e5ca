from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from bookings.models import Booking
from reception.models import TowOrder
from reception.services import tow as services
from tests.factories import ClientFactory
from tests.reception.conftest import put_in, take_order

pytestmark = pytest.mark.django_db

S = TowOrder.Status
EN = {"Accept-Language": "en"}


def test_the_form_finds_the_client_with_the_search_box(as_manager, car_owner):
    response = as_manager.get(reverse("reception:tow-create"), {"q": "912345"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert f'name="client" value="{car_owner.pk}"' in html
    assert f'name="vehicle" value="{car_owner.vehicles.get().pk}"' in html


def test_a_manager_takes_an_order_for_a_client_on_file(as_manager, manager, car_owner, contractor):
    vehicle = car_owner.vehicles.get()
    page = as_manager.get(reverse("reception:tow-create"), {"client": car_owner.pk})
    assert page.status_code == 200 and page.context["form"].initial["phone_on_site"] == "+79123456789"
    response = as_manager.post(
        reverse("reception:tow-create"),
        {
            "client": car_owner.pk,
            "vehicle": vehicle.pk,
            "pickup_address": "Ленинский пр., 100",
            "landmark": "во дворе",
            "phone_on_site": "8 (912) 345-67-89",
            "problem": "accident",
            "contractor": contractor.pk,
            "driver": "Сергей",
        },
    )
    order = TowOrder.objects.get()
    assert response.status_code == 302 and response["Location"] == order.get_absolute_url()
    assert (order.client, order.vehicle, order.problem, order.created_by) == (car_owner, vehicle, "accident", manager)
    assert order.phone_on_site == "+79123456789"


def test_a_manager_takes_an_order_for_a_new_caller(as_manager):
    response = as_manager.post(
        reverse("reception:tow-create"),
        {
            "new_client_name": "Пётр Новиков",
            "car": "Kia Rio А777АА77",
            "pickup_address": "Ярославское ш., 5",
            "phone_on_site": "+79165550011",
            "problem": "wont_start",
        },
    )
    order = TowOrder.objects.get()
    assert response.status_code == 302
    assert order.client.name == "Пётр Новиков" and order.car == "Kia Rio А777АА77"


def test_the_form_without_a_client_or_with_a_bad_phone_is_refused(as_manager):
    response = as_manager.post(
        reverse("reception:tow-create"),
        {"pickup_address": "где-то", "phone_on_site": "123", "problem": "wheel"},
        headers=EN,
    )
    assert response.status_code == 400
    assert response.context["form"].errors.keys() >= {"phone_on_site", "__all__"}
    assert not TowOrder.objects.exists()


def test_the_card_takes_the_order_through_its_steps(
    noon, as_manager, manager, car_owner, contractor, diagnostics, petrov
):
    order = take_order(by=manager, client=car_owner)
    url = lambda step: reverse("reception:tow-step", args=[order.pk, step])  # noqa: E731
    card = as_manager.get(order.get_absolute_url())
    assert card.context["steps"] == ["dispatch", "cancel"]

    assert as_manager.post(url("dispatch"), {"contractor": contractor.pk, "eta": "2030-01-01T10:00"}).status_code == 302
    assert as_manager.post(url("on-the-way")).status_code == 302
    assert as_manager.post(url("delivered")).status_code == 302
    assert as_manager.post(url("delivered")).status_code == 302
    assert as_manager.post(url("cost"), {"cost": "4200.50"}).status_code == 302

    order.refresh_from_db()
    assert order.status == S.DELIVERED and str(order.cost) == "4200.50"
    assert Booking.objects.count() == 1
    card = as_manager.get(order.get_absolute_url())
    assert card.context["steps"] == []
    assert 'id="tow-booking"' in card.content.decode()


def test_cancel_without_a_reason_is_a_form_error(as_manager, manager, car_owner):
    order = take_order(by=manager, client=car_owner)
    response = as_manager.post(reverse("reception:tow-step", args=[order.pk, "cancel"]), {"reason": ""})
    assert response.status_code == 400
    order.refresh_from_db()
    assert order.status == S.NEW


def test_an_illegal_step_is_refused_with_a_message(as_manager, manager, car_owner):
    order = take_order(by=manager, client=car_owner)
    response = as_manager.post(reverse("reception:tow-step", args=[order.pk, "delivered"]), follow=True, headers=EN)
    assert "cannot become" in response.content.decode()
    order.refresh_from_db()
    assert order.status == S.NEW


def test_an_advisor_sees_the_board_and_the_card_but_takes_no_step(web, advisor, manager, car_owner):
    order = take_order(by=manager, client=car_owner)
    web.force_login(advisor)
    assert web.get(reverse("reception:tow-board")).status_code == 200
    assert web.get(order.get_absolute_url()).context["steps"] == []
    assert web.post(reverse("reception:tow-step", args=[order.pk, "cancel"]), {"reason": "x"}).status_code == 403
    order.refresh_from_db()
    assert order.status == S.NEW


def test_the_board_poll_answers_204_until_something_changes(
    noon, as_manager, manager, car_owner, contractor, django_assert_num_queries
):
    order = take_order(by=manager, client=car_owner)
    board = as_manager.get(reverse("reception:tow-board"))
    version = board.context["board"].version
    htmx = {"HX-Request": "true"}
    # session, user, the aggregate
    with django_assert_num_queries(3):
        idle = as_manager.get(reverse("reception:tow-board"), {"version": version}, headers=htmx)
    assert idle.status_code == 204
    services.tow_order_dispatch(order=order, by=manager, contractor=contractor)
    redrawn = as_manager.get(reverse("reception:tow-board"), {"version": version}, headers=htmx)
    assert redrawn.status_code == 200
    assert 'id="tow-board"' in redrawn.content.decode() and redrawn.context["board"].version != version


def test_the_board_shows_only_open_orders_and_flags_the_late_one(noon, as_manager, manager, car_owner, contractor):
    late = take_order(by=manager, client=car_owner)
    TowOrder.objects.filter(pk=late.pk).update(created_at=noon - timedelta(hours=1))
    put_in(take_order(by=manager, client=car_owner), S.CANCELLED)
    html = as_manager.get(reverse("reception:tow-board")).content.decode()
    assert html.count('class="tow-row') == 1
    assert "tow-overdue" in html


def _fill(rows, client, contractor):
    for n in range(rows):
        order = TowOrder.objects.create(
            client=client, pickup_address=f"адрес {n}", phone_on_site="+79123456789", contractor=contractor
        )
        if n % 2:
            TowOrder.objects.filter(pk=order.pk).update(status=S.DISPATCHED)


@pytest.mark.parametrize("rows", [5, 50])
def test_board_query_count_is_pinned(as_manager, django_assert_num_queries, car_owner, contractor, rows):
    _fill(rows, car_owner, contractor)
    # session, user, the aggregate, the open orders (+ client, vehicle, contractor)
    with django_assert_num_queries(4):
        response = as_manager.get(reverse("reception:tow-board"))
    assert len(response.context["board"].rows) == rows


@pytest.mark.parametrize("rows", [5, 50])
def test_list_query_count_is_pinned(as_manager, django_assert_num_queries, car_owner, contractor, rows):
    _fill(rows, car_owner, contractor)
    ClientFactory.create_batch(2)
    # session, user, the orders (+ client, vehicle, contractor), the filter's contractor choices
    with django_assert_num_queries(4):
        response = as_manager.get(reverse("reception:tow-list"))
    assert len(response.context["page"]) == rows


def test_the_reconciliation_lists_a_contractors_month_and_exports_it_safely(
    noon, as_head, manager, car_owner, contractor
):
    month = noon.strftime("%Y-%m")
    order = take_order(by=manager, client=car_owner, contractor=contractor, car="=HYPERLINK(1)")
    services.tow_order_dispatch(order=order, by=manager, contractor=contractor)
    services.tow_order_set_cost(order=order, by=manager, cost=5000)
    never_driven = take_order(by=manager, client=car_owner, contractor=contractor)
    services.tow_order_cancel(order=never_driven, by=manager, reason="клиент завёлся")

    page = as_head.get(reverse("reception:tow-reconciliation"), {"contractor": contractor.pk, "month": month})
    report = page.context["report"]
    assert [o.pk for o in report.rows] == [order.pk] and report.total == 5000

    export = as_head.get(
        reverse("reception:tow-reconciliation"), {"contractor": contractor.pk, "month": month, "export": "csv"}
    )
    assert export["Content-Type"].startswith("text/csv")
    body = export.content
    assert body.startswith("\ufeff".encode())
    text = body.decode("utf-8-sig")
    assert "'=HYPERLINK(1)" in text and ";=HYPERLINK" not in text
    assert "5000" in text


def test_the_head_keeps_the_contractors(as_head, contractor):
    response = as_head.post(
        reverse("reception:contractor-create"),
        {
            "name": "Быстрый буксир",
            "phones": "8 916 000 11 22\n+7 (916) 000-11-33",
            "call_out_rate": "3000",
            "rate_per_km": "60",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    response = as_head.post(
        reverse("reception:contractor-edit", args=[contractor.pk]),
        {"name": contractor.name, "phones": "123", "call_out_rate": "1", "rate_per_km": "1"},
    )
    assert response.status_code == 400
    html = as_head.get(reverse("reception:contractor-list")).content.decode()
    assert "+79160001122, +79160001133" in html


def test_the_client_card_offers_a_tow_order_and_a_tinting_consultation(as_manager, web, advisor, car_owner):
    html = as_manager.get(car_owner.get_absolute_url()).content.decode()
    assert f'href="/reception/tow/new/?client={car_owner.pk}"' in html
    assert f'href="/reception/tinting/new/?client={car_owner.pk}"' in html
    web.force_login(advisor)
    assert "reception-actions" not in web.get(car_owner.get_absolute_url()).content.decode()


def test_the_reconciliation_file_writes_costs_as_the_reader_does(noon, as_head, manager, car_owner, contractor):
    order = take_order(by=manager, client=car_owner, contractor=contractor)
    services.tow_order_dispatch(order=order, by=manager, contractor=contractor)
    services.tow_order_set_cost(order=order, by=manager, cost=Decimal("3500.50"))
    query = {"contractor": contractor.pk, "month": noon.strftime("%Y-%m"), "export": "csv"}
    russian = as_head.get(reverse("reception:tow-reconciliation"), query, headers={"Accept-Language": "ru"})
    assert ";3500,50" in russian.content.decode("utf-8-sig")


@pytest.mark.parametrize("name", ["reception:tow-create", "reception:tint-create"])
@pytest.mark.parametrize("value", ["abc", "1.5", "-1", "9" * 30])
def test_a_client_id_that_is_no_id_opens_an_empty_form(as_manager, name, value):
    response = as_manager.get(reverse(name), {"client": value})

    assert response.status_code == 200  # was a 500: the value went straight into a primary-key lookup
    assert response.context["client"] is None


@pytest.mark.parametrize("name", ["reception:tow-create", "reception:tint-create"])
def test_a_tampered_client_on_post_is_a_form_error(as_manager, name):
    response = as_manager.post(reverse(name), {"client": "abc"})

    assert response.status_code == 400
