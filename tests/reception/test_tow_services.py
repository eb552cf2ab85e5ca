from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from bookings.models import Booking
from clientdesk.errors import Conflict
from clientdesk.models import Notification
from clients.models import Client
from reception.models import TowOrder, TowTransition
from reception.selectors.tow import board_version_now, is_overdue, tow_board
from reception.services import tow as services
from tests.reception.conftest import direct_booking, moment, put_in, take_order

pytestmark = pytest.mark.django_db

S = TowOrder.Status
STEPS = [(a, b) for a in S.values for b in S.values]
ILLEGAL = [
    (a, b) for a, b in STEPS if b not in services.ALLOWED_TRANSITIONS[a] and (a, b) != (S.DELIVERED, S.DELIVERED)
]


def step(order, to, *, by, contractor):
    if to == S.DISPATCHED:
        return services.tow_order_dispatch(order=order, by=by, contractor=contractor)
    if to == S.DELIVERED:
        return services.tow_order_deliver(order=order, by=by)
    return services.tow_order_transition(order=order, by=by, to=to, note="причина")


@pytest.mark.parametrize(("current", "wanted"), ILLEGAL)
def test_every_illegal_transition_is_refused_and_changes_nothing(
    manager, car_owner, contractor, petrov, area, day, current, wanted
):
    # given an order in `current`
    order = take_order(by=manager, client=car_owner)
    booking = direct_booking(car_owner, area, petrov, moment(day, 10)) if current == S.DELIVERED else None
    order = put_in(order, current, contractor=contractor, booking=booking)
    # when the step to `wanted` is asked for, then it is refused
    with pytest.raises(Conflict):
        step(order, wanted, by=manager, contractor=contractor)
    # and nothing changed
    order.refresh_from_db()
    assert order.status == current
    assert TowTransition.objects.filter(order=order).count() == 1
    assert Booking.objects.count() == (1 if booking else 0)


def test_the_illegal_list_covers_every_step_but_the_allowed_ones():
    allowed = sum(len(targets) for targets in services.ALLOWED_TRANSITIONS.values())
    assert len(ILLEGAL) == len(STEPS) - allowed - 1  # less delivered → delivered, which is a harmless repeat


def test_a_tow_order_lives_its_life_and_every_step_is_recorded(
    manager, car_owner, contractor, diagnostics, petrov, noon
):
    order = take_order(by=manager, client=car_owner, vehicle=car_owner.vehicles.get())
    services.tow_order_dispatch(order=order, by=manager, contractor=contractor, eta=noon + timedelta(minutes=40))
    services.tow_order_on_the_way(order=order, by=manager)
    order = services.tow_order_deliver(order=order, by=manager)

    assert order.status == S.DELIVERED and order.delivered_at == noon
    steps = list(order.transitions.values_list("from_status", "to_status", "by"))
    assert steps == [
        ("", "new", manager.pk),
        ("new", "dispatched", manager.pk),
        ("dispatched", "on_the_way", manager.pk),
        ("on_the_way", "delivered", manager.pk),
    ]
    assert order.history.count() >= 4


def test_delivered_books_diagnostics_once_even_when_repeated_and_tells_the_advisor(
    manager, car_owner, contractor, diagnostics, petrov, noon
):
    # given an order on its way
    order = take_order(by=manager, client=car_owner, vehicle=car_owner.vehicles.get())
    order = put_in(order, S.ON_THE_WAY, contractor=contractor)
    # when it is marked delivered twice (a double click, an API retry)
    first = services.tow_order_deliver(order=order, by=manager)
    second = services.tow_order_deliver(order=order, by=manager)
    # then one booking: diagnostics, at the nearest slot today, the client marked arrived
    booking = Booking.objects.get()
    assert first.booking == second.booking == booking
    assert list(booking.service_types.all()) == [diagnostics]
    assert booking.vehicle == car_owner.vehicles.get()
    assert booking.status == Booking.Status.ARRIVED
    assert booking.starts_at >= noon
    assert booking.source == Booking.Source.WALK_IN
    assert order.transitions.filter(to_status=S.DELIVERED).count() == 1
    # and the advisor was told, as for any arrival
    assert Notification.objects.filter(user=petrov).count() == 1


def test_delivered_links_the_clients_visit_of_the_day(manager, car_owner, contractor, diagnostics, petrov, day, noon):
    visit = direct_booking(car_owner, diagnostics.area, petrov, moment(day, 15))
    order = put_in(take_order(by=manager, client=car_owner), S.ON_THE_WAY, contractor=contractor)

    order = services.tow_order_deliver(order=order, by=manager)

    assert order.booking == visit
    assert Booking.objects.count() == 1
    visit.refresh_from_db()
    assert visit.status == Booking.Status.ARRIVED


def test_delivered_refuses_another_clients_visit(manager, car_owner, contractor, diagnostics, petrov, day, noon):
    other = direct_booking(Client.objects.create(name="Другой"), diagnostics.area, petrov, moment(day, 15))
    order = put_in(take_order(by=manager, client=car_owner), S.ON_THE_WAY, contractor=contractor)
    with pytest.raises(ValidationError):
        services.tow_order_deliver(order=order, by=manager, booking=other)
    order.refresh_from_db()
    assert order.status == S.ON_THE_WAY and order.booking is None


def test_delivered_after_hours_books_the_next_morning_without_an_arrival(
    manager, car_owner, contractor, diagnostics, petrov, day, travel
):
    travel(moment(day, 22))
    order = put_in(take_order(by=manager, client=car_owner), S.ON_THE_WAY, contractor=contractor)
    order = services.tow_order_deliver(order=order, by=manager)
    assert order.booking.starts_at > moment(day, 22)
    assert order.booking.status == Booking.Status.SCHEDULED


@pytest.mark.parametrize("to", [S.CANCELLED, S.FAILED])
def test_ending_an_order_needs_a_reason(manager, car_owner, contractor, to):
    order = put_in(take_order(by=manager, client=car_owner), S.DISPATCHED, contractor=contractor)
    with pytest.raises(ValidationError):
        services.tow_order_transition(order=order, by=manager, to=to, note=" ")
    order = services.tow_order_transition(order=order, by=manager, to=to, note="клиент уехал сам")
    assert (order.status, order.reason) == (to, "клиент уехал сам")


def test_a_caller_not_on_file_becomes_a_client_with_the_phone_on_site(manager):
    order = take_order(by=manager, client=services.NewCaller(name="Новый Звонящий"), phone_on_site="+7 916 111 22 33")
    client = Client.objects.get(name="Новый Звонящий")
    assert order.client == client
    assert [p.number for p in client.phones.all()] == ["+79161112233"]
    assert order.phone_on_site == "+79161112233"


def test_a_bad_phone_on_site_is_a_field_error_and_nothing_is_saved(manager, car_owner):
    with pytest.raises(ValidationError) as error:
        take_order(by=manager, client=car_owner, phone_on_site="123")
    assert "phone_on_site" in error.value.error_dict
    assert not TowOrder.objects.exists()


def test_dispatch_records_the_contractor_and_eta(manager, car_owner, contractor, noon):
    order = take_order(by=manager, client=car_owner)
    eta = noon + timedelta(minutes=45)
    order = services.tow_order_dispatch(order=order, by=manager, contractor=contractor, eta=eta, driver="Сергей")
    assert (order.contractor, order.eta, order.driver, order.dispatched_at) == (contractor, eta, "Сергей", noon)


def test_an_order_not_dispatched_in_time_is_flagged(manager, car_owner, contractor, noon, travel, settings):
    settings.TOW_DISPATCH_MINUTES = 15
    order = take_order(by=manager, client=car_owner)
    TowOrder.objects.filter(pk=order.pk).update(created_at=noon)
    later = take_order(by=manager, client=car_owner, wanted_at=noon + timedelta(hours=3))
    TowOrder.objects.filter(pk=later.pk).update(created_at=noon)
    order.refresh_from_db()
    later.refresh_from_db()

    # at 14 minutes: nothing flagged
    travel(noon + timedelta(minutes=14))
    before = board_version_now(user=manager, now=noon + timedelta(minutes=14))
    assert not is_overdue(order, now=noon + timedelta(minutes=14))
    # at 16 minutes: the order for "as soon as possible" is flagged; the one wanted in three hours is not
    now = noon + timedelta(minutes=16)
    board = tow_board(user=manager, now=now)
    assert [o.overdue for o in board.rows] == [True, False] and board.overdue == 1
    assert board_version_now(user=manager, now=now) != before
    # 15 minutes before its wanted time, the later order is flagged too
    assert is_overdue(later, now=noon + timedelta(hours=2, minutes=46))
    # a dispatched order is never flagged
    services.tow_order_dispatch(order=order, by=manager, contractor=contractor)
    order.refresh_from_db()
    assert not is_overdue(order, now=now)


def test_cost_needs_a_contractor_and_cannot_be_negative(manager, car_owner, contractor):
    order = take_order(by=manager, client=car_owner)
    with pytest.raises(ValidationError):
        services.tow_order_set_cost(order=order, by=manager, cost=5000)
    order = put_in(order, S.DISPATCHED, contractor=contractor)
    with pytest.raises(ValidationError):
        services.tow_order_set_cost(order=order, by=manager, cost=-1)
    assert services.tow_order_set_cost(order=order, by=manager, cost=5000).cost == 5000


def test_contractor_phones_are_stored_in_e164(head):
    contractor = services.tow_contractor_create(
        by=head, name="Буксир", phones=["8 (912) 345-67-89", "+7 912 345 6789", ""], call_out_rate=1, rate_per_km=1
    )
    assert contractor.phones == ["+79123456789"]
    with pytest.raises(ValidationError):
        services.tow_contractor_update(contractor=contractor, by=head, phones=["123"])
