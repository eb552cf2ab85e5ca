"""The fleet's rules the database itself holds: a write that bypasses the services (a bulk update, a script, the admin
shell) still cannot leave a reservation, an inspection or a car in a state the services never make."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from fleet.models import CarInspection, CarStateChange, DamageMark, FleetCar, HandoverAct, Reservation
from fleet.services.acts import Mark, reservation_check_in, reservation_check_out
from fleet.services.cars import car_clear
from fleet.services.reservations import reservation_create
from tests.factories import BookingFactory, ClientFactory, UserFactory
from tests.fleet.conftest import make_car

pytestmark = pytest.mark.django_db


def refused(name: str, write) -> None:
    with pytest.raises(IntegrityError, match=name), transaction.atomic():
        write()


@pytest.fixture
def reserved(loaner):
    start = timezone.now() + timedelta(minutes=1)
    return reservation_create(
        by=None, car=loaner, client=ClientFactory(), starts_at=start, ends_at=start + timedelta(hours=3)
    )


@pytest.fixture
def out(reserved, licence):
    reservation_check_out(
        reservation=reserved, by=None, mileage_km=12000, fuel_percent=80, signatures_confirmed=True, **licence
    )
    reserved.refresh_from_db()
    return reserved


def update(reservation: Reservation, **fields):
    return lambda: Reservation.objects.filter(pk=reservation.pk).update(**fields)


def test_the_handover_stamps_follow_the_reservations_status(reserved, out):
    # given a car out, handed over through the service
    assert out.status == "out" and out.checked_out_at is not None
    now = timezone.now()
    # then the database refuses each status its stamps contradict
    refused("reservation_stamps_follow_status", update(out, status="returned"))  # returned without returned_at
    refused("reservation_stamps_follow_status", update(out, checked_out_at=None))  # out, never handed over
    refused("reservation_stamps_follow_status", update(out, returned_at=now))  # out and back at once
    refused("reservation_stamps_follow_status", update(out, status="reserved"))  # reserved, yet handed over
    refused("reservation_stamps_follow_status", update(out, status="cancelled", cancel_reason="x"))  # cancelled out
    refused("reservation_back_after_out", update(out, status="returned", returned_at=out.checked_out_at - timedelta(1)))
    # and the service's own check-in satisfies them
    reservation_check_in(reservation=out, by=None, mileage_km=12050, fuel_percent=60, signatures_confirmed=True)
    out.refresh_from_db()
    assert out.status == "returned" and out.returned_at >= out.checked_out_at


def test_a_cancelled_reservation_keeps_its_reason_and_a_test_drive_has_no_visit(reserved, car_owner, area, petrov):
    refused("reservation_cancel_has_reason", update(reserved, status="cancelled", cancel_reason=""))
    refused("reservation_kind_known", update(reserved, kind="lease"))
    refused("reservation_contract_document_signed", update(reserved, contract_document_id=1))
    booking = BookingFactory(client=car_owner, area=area, advisor=petrov, starts_at=reserved.starts_at)
    refused("reservation_booking_only_for_loaner", update(reserved, kind="test_drive", booking=booking))


def test_a_car_is_out_with_one_client_at_a_time(out):
    # given a second reservation of the same car, later, handed over by a write that skipped the service
    later = Reservation.objects.create(
        car=out.car,
        client=ClientFactory(),
        starts_at=out.free_from + timedelta(days=1),
        ends_at=out.free_from + timedelta(days=2),
        free_from=out.free_from + timedelta(days=2),
    )
    refused("reservation_one_out_per_car", update(later, status="out", checked_out_at=timezone.now()))


def test_a_closed_inspection_says_how_it_ended(out):
    reservation_check_in(
        reservation=out,
        by=None,
        mileage_km=12050,
        fuel_percent=60,
        signatures_confirmed=True,
        marks=[Mark("bonnet", "dent")],
    )
    inspection = CarInspection.objects.get(car=out.car)
    rows = CarInspection.objects.filter(pk=inspection.pk)
    refused("car_inspection_closed_has_outcome", lambda: rows.update(closed_at=timezone.now()))
    refused("car_inspection_closed_has_outcome", lambda: rows.update(outcome="cleared"))
    refused("car_inspection_closed_has_outcome", lambda: rows.update(closed_at=timezone.now(), outcome="fixed"))
    car_clear(car=out.car, by=UserFactory(role="transport_head"), note="ок")
    inspection.refresh_from_db()
    assert inspection.closed_at is not None and inspection.outcome == "cleared"


def test_the_fleets_choices_are_the_only_values(out):
    car = make_car()
    refused("fleet_car_state_known", lambda: FleetCar.objects.filter(pk=car.pk).update(state="stolen"))
    refused("fleet_car_use_known", lambda: FleetCar.objects.filter(pk=car.pk).update(use="taxi"))
    act = HandoverAct.objects.get(reservation=out)
    refused("handover_act_direction_known", lambda: HandoverAct.objects.filter(pk=act.pk).update(direction="up"))
    refused(
        "damage_mark_zone_and_kind_known", lambda: DamageMark.objects.create(act=act, zone="engine", kind="scratch")
    )
    refused("fleet_state_change_known", lambda: CarStateChange.objects.create(car=car, to_state="stolen"))
    refused("fleet_transition_known", lambda: out.transitions.create(to_status="lost"))


def test_a_car_goes_out_only_against_a_licence_on_the_act(out):
    act_out = HandoverAct.objects.filter(reservation=out, direction="out")
    refused("handover_act_out_has_licence", lambda: act_out.update(licence_number=""))
    refused("handover_act_out_has_licence", lambda: act_out.update(licence_valid_until=None))
    # the act back needs none: the licence was checked when the car went out
    reservation_check_in(reservation=out, by=None, mileage_km=12050, fuel_percent=60, signatures_confirmed=True)
    assert HandoverAct.objects.get(reservation=out, direction="back").licence_number == ""
