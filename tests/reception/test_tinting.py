from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from bookings.models import Booking
from bookings.services.bookings import SlotUnavailable, booking_transition
from reception.models import TintConsultation, TintOrder
from reception.services import tinting as services
from tests.factories import BookingFactory, ServiceAreaFactory, ServiceTypeFactory
from tests.reception.conftest import moment, working_day

pytestmark = pytest.mark.django_db

EN = {"Accept-Language": "en"}


@pytest.fixture
def tinting(db):
    """The tinting area: one post, one three-hour job a day."""
    area = ServiceAreaFactory(name="Тонировка", code="tinting", daily_capacity_minutes=180)
    return ServiceTypeFactory(name="Тонировка", code="tinting", area=area, standard_minutes=180)


@pytest.fixture
def films(head):
    prices = {"windshield": Decimal("4000"), "front_side": Decimal("3000"), "rear_side": 3000, "rear": 2500}
    return {
        light: services.tint_film_save(by=head, name=f"Пленка {light}", light_transmission=light, prices=prices)
        for light in (78, 77, 35)
    }


@pytest.mark.parametrize(("glass", "film", "warned"), [(90, 78, False), (90, 77, True), (100, 70, False)])
def test_the_legal_warning_at_the_limit_and_just_below_it(manager, car_owner, films, glass, film, warned, head):
    # 90 % glass × 78 % film = 70.2 % → 70 %, at the limit; × 77 % = 69.3 % → 69 %, just below it
    tint_film = films.get(film) or services.tint_film_save(
        by=head, name="Пленка 70", light_transmission=70, prices={"front_side": 3000}
    )
    zone_films = {"front_side": tint_film}
    if warned:
        with pytest.raises(ValidationError) as refused:
            services.tint_consultation_create(by=manager, client=car_owner, films=zone_films, glass_transmission=glass)
        assert "client_warned" in refused.value.error_dict
        assert not TintConsultation.objects.exists()
    consultation = services.tint_consultation_create(
        by=manager, client=car_owner, films=zone_films, glass_transmission=glass, client_warned=warned
    )
    assert bool(consultation.warning) is warned
    assert consultation.lines.get().result_transmission == (69 if warned else 70)
    if warned:
        assert "69 %" in consultation.warning and "70 %" in consultation.warning


def test_rear_windows_may_be_dark_without_a_warning(manager, car_owner, films):
    consultation = services.tint_consultation_create(
        by=manager, client=car_owner, films={"rear_side": films[35], "rear": films[35]}
    )
    assert consultation.warning == "" and consultation.estimate == Decimal("5500")


def test_the_estimate_comes_from_the_price_list_and_a_missing_price_is_named(manager, head, car_owner, films):
    consultation = services.tint_consultation_create(
        by=manager, client=car_owner, films={"windshield": films[78], "rear": films[35]}
    )
    assert consultation.estimate == Decimal("6500")
    unpriced = services.tint_film_save(by=head, name="Без цены", light_transmission=50, prices={"rear": 1000})
    with pytest.raises(ValidationError) as refused:
        services.tint_consultation_create(by=manager, client=car_owner, films={"rear_side": unpriced})
    assert "Без цены" in str(refused.value)


def test_an_order_books_a_real_tinting_slot_and_refuses_a_full_day(manager, car_owner, films, tinting, petrov, day):
    consultation = services.tint_consultation_create(by=manager, client=car_owner, films={"rear": films[35]})
    order = services.tint_order_create(by=manager, consultation=consultation, starts_at=moment(day, 10), advisor=petrov)
    assert order.booking.area == tinting.area
    assert list(order.booking.service_types.all()) == [tinting]
    assert order.status == TintOrder.Status.BOOKED

    # the area's one job of the day is taken: the next is refused with the nearest free slots
    other = services.tint_consultation_create(by=manager, client=car_owner, films={"rear": films[35]})
    with pytest.raises(SlotUnavailable) as refused:
        services.tint_order_create(by=manager, consultation=other, starts_at=moment(day, 14), advisor=petrov)
    assert refused.value.alternatives
    assert all(slot.starts_at.date() != day for slot in refused.value.alternatives)
    assert not TintOrder.objects.filter(consultation=other).exists()
    assert Booking.objects.count() == 1


def test_the_order_follows_its_booking(
    manager, car_owner, films, tinting, petrov, day, travel, django_capture_on_commit_callbacks
):
    consultation = services.tint_consultation_create(by=manager, client=car_owner, films={"rear": films[35]})
    order = services.tint_order_create(by=manager, consultation=consultation, starts_at=moment(day, 10), advisor=petrov)
    travel(moment(day, 9, 50))
    for to, expected in [("arrived", "booked"), ("in_service", "in_work"), ("completed", "done")]:
        with django_capture_on_commit_callbacks(execute=True):
            booking_transition(booking=order.booking, by=manager, to=to)
        order.refresh_from_db()
        assert order.status == expected
    assert services.tint_order_follow_booking(booking_id=order.booking_id).status == "done"  # again: the same


def test_a_cancelled_booking_cancels_the_order(
    manager, car_owner, films, tinting, petrov, day, django_capture_on_commit_callbacks
):
    consultation = services.tint_consultation_create(by=manager, client=car_owner, films={"rear": films[35]})
    order = services.tint_order_create(by=manager, consultation=consultation, starts_at=moment(day, 10), advisor=petrov)
    with django_capture_on_commit_callbacks(execute=True):
        booking_transition(booking=order.booking, by=manager, to="cancelled", note="передумал")
    order.refresh_from_db()
    assert order.status == TintOrder.Status.CANCELLED


def test_the_form_asks_for_the_warning_then_saves_it(as_manager, car_owner, films):
    data = {"client": car_owner.pk, "glass_transmission": 80, "film_front_side": films[78].pk}
    first = as_manager.post(reverse("reception:tint-create"), data, headers=EN)
    assert first.status_code == 400
    assert "62 %" in first.content.decode() and 'id="tint-warning"' in first.content.decode()
    second = as_manager.post(reverse("reception:tint-create"), {**data, "client_warned": "on"})
    consultation = TintConsultation.objects.get()
    assert second.status_code == 302 and second["Location"] == consultation.get_absolute_url()
    assert "62 %" in consultation.warning


def test_the_card_books_with_the_slot_picker_and_shows_alternatives(
    as_manager, manager, car_owner, films, tinting, petrov, day
):
    consultation = services.tint_consultation_create(by=manager, client=car_owner, films={"rear": films[35]})
    card = as_manager.get(consultation.get_absolute_url())
    assert card.context["order_form"] is not None
    key = f"{petrov.pk}@{moment(day, 10).isoformat()}"
    response = as_manager.post(reverse("reception:tint-order", args=[consultation.pk]), {"day": day, "slot": key})
    assert response.status_code == 302
    assert TintOrder.objects.get().booking.starts_at == moment(day, 10)
    other = services.tint_consultation_create(by=manager, client=car_owner, films={"rear": films[35]})
    key = f"{petrov.pk}@{moment(day, 15).isoformat()}"
    refused = as_manager.post(reverse("reception:tint-order", args=[other.pk]), {"day": day, "slot": key})
    assert refused.status_code == 400 and refused.context["alternatives"]


def test_the_api_reads_tinting_orders(api_as_manager, manager, car_owner, films, tinting, petrov, day):
    consultation = services.tint_consultation_create(by=manager, client=car_owner, films={"rear": films[35]})
    services.tint_order_create(by=manager, consultation=consultation, starts_at=moment(day, 10), advisor=petrov)
    body = api_as_manager.get("/api/v1/tint-orders/", {"status": "booked"}).json()["results"]
    assert body[0]["client"] == car_owner.pk and body[0]["lines"][0]["zone"] == "rear"
    assert api_as_manager.post("/api/v1/tint-orders/", {}).status_code == 405


@pytest.mark.parametrize("rows", [5, 50])
def test_list_query_count_is_pinned(as_manager, manager, car_owner, films, django_assert_num_queries, rows):
    for _n in range(rows):
        services.tint_consultation_create(by=manager, client=car_owner, films={"rear": films[35]})
    # session, user, the consultations (+ client, vehicle, order)
    with django_assert_num_queries(3):
        response = as_manager.get(reverse("reception:tint-list"))
    assert len(response.context["page"]) == rows


def test_prices_page_and_the_head_edits_a_film(as_head, as_manager, films):
    page = as_manager.get(reverse("reception:tint-prices"))
    assert page.status_code == 200 and len(page.context["films"]) == 3
    film = films[35]
    response = as_head.post(
        reverse("reception:tint-film-edit", args=[film.pk]),
        {"name": film.name, "light_transmission": 35, "is_active": "on", "price_rear": "2700"},
    )
    assert response.status_code == 302
    assert {p.zone: p.price for p in film.prices.all()} == {"rear": Decimal("2700")}


@pytest.mark.parametrize("rows", [5, 50])
def test_tint_orders_endpoint_query_count_is_pinned(
    api_as_manager, manager, car_owner, films, tinting, petrov, django_assert_num_queries, rows
):
    for n in range(rows):
        consultation = services.tint_consultation_create(by=manager, client=car_owner, films={"rear": films[35]})
        TintOrder.objects.create(
            consultation=consultation,
            booking=BookingFactory(
                client=car_owner,
                area=tinting.area,
                advisor=petrov,
                starts_at=moment(working_day(), 0) + timedelta(minutes=30 * n),
                planned_minutes=180,
            ),
        )
    # the orders (+ consultation), their lines
    with django_assert_num_queries(2):
        response = api_as_manager.get("/api/v1/tint-orders/")
    assert len(response.json()["results"]) == rows
