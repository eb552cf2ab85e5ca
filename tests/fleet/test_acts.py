"""Check-out and check-in: the acts, the licence, the differences, the transport head told once per problem, the
transport head clearing the car or sending it to maintenance; the test drive of more than a day and its contract."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from clientdesk.errors import Conflict
from clientdesk.models import Notification
from documents.models import Document
from fleet.models import CarInspection, FleetCar, HandoverAct, Reservation
from fleet.services import cars, test_drives
from fleet.services.acts import Mark, reservation_check_in, reservation_check_out, reservation_contract_signed
from fleet.services.reservations import CarUnavailable, reservation_create
from fleet.services.test_drives import NewContact
from tests.factories import ClientFactory
from tests.fleet.conftest import moment

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


@pytest.fixture
def reservation(loaner, day):
    return reservation_create(
        by=None, car=loaner, client=ClientFactory(name="Клиент"), starts_at=moment(day, 10), ends_at=moment(day, 18)
    )


def check_out(reservation, manager, licence, **kwargs):
    values = {"mileage_km": 12000, "fuel_percent": 80, "signatures_confirmed": True, **licence}
    return reservation_check_out(reservation=reservation, by=manager, **(values | kwargs))


def check_in(reservation, manager, **kwargs):
    values = {"mileage_km": 12150, "fuel_percent": 55, "signatures_confirmed": True}
    return reservation_check_in(reservation=reservation, by=manager, **(values | kwargs))


def test_check_out_and_in_without_problems_computes_the_differences(reservation, manager, licence):
    act_out = check_out(reservation, manager, licence, marks=[Mark("rear_bumper", "scratch", "старая")])
    reservation.refresh_from_db()
    assert reservation.status == "out" and reservation.car.state == "out"
    assert act_out.marks.get().is_new is False
    act, diff = check_in(reservation, manager, marks=[Mark("rear_bumper", "scratch", "та же")])
    assert (diff.km_driven, diff.fuel_used, diff.new_marks) == (150, 25, [])
    reservation.refresh_from_db()
    assert reservation.status == "returned" and reservation.car.state == "available"
    assert reservation.car.mileage_km == 12150
    assert not CarInspection.objects.exists() and not Notification.objects.exists()
    assert [c.to_state for c in reservation.car.state_changes.all()] == ["available", "out", "available"]


def test_an_expired_licence_is_refused_and_nothing_changes(reservation, manager, day):
    expired = {"licence_number": "77 12 345678", "licence_valid_until": day - timedelta(days=400)}
    with pytest.raises(ValidationError) as caught:
        check_out(reservation, manager, expired)
    assert "licence_valid_until" in caught.value.message_dict
    reservation.refresh_from_db()
    assert reservation.status == "reserved" and not HandoverAct.objects.exists()
    with pytest.raises(ValidationError) as caught:
        check_out(reservation, manager, {"licence_number": "", "licence_valid_until": None})
    assert {"licence_number", "licence_valid_until"} <= set(caught.value.message_dict)


def test_signatures_must_be_confirmed(reservation, manager, licence):
    with pytest.raises(ValidationError, match="signed"):
        check_out(reservation, manager, licence, signatures_confirmed=False)


def test_new_damage_sends_the_car_to_inspection_and_tells_the_transport_head_once(
    reservation, manager, licence, transport_head, head, celery_eager, mailoutbox
):
    check_out(reservation, manager, licence, marks=[Mark("rear_bumper", "scratch")])
    photo = SimpleUploadedFile("door.png", PNG, content_type="image/png")
    act, diff = check_in(reservation, manager, marks=[Mark("left_front", "dent", "вмятина")], photos=[photo])
    assert [(m.zone, m.kind) for m in diff.new_marks] == [("left_front", "dent")]
    car = FleetCar.objects.get(pk=reservation.car_id)
    assert car.state == "needs_inspection"
    inspection = CarInspection.objects.get()
    assert inspection.act == act and "вмятина" in inspection.reasons
    notes = Notification.objects.all()
    assert [n.user for n in notes] == [transport_head]
    assert act.photos.get().original_name == "door.png"
    assert [m.to for m in mailoutbox] == [[transport_head.email]] if transport_head.email else True
    # a second attempt to check in changes nothing and tells no one again
    with pytest.raises(Conflict):
        check_in(reservation, manager)
    assert Notification.objects.count() == 1
    # the car is not lent until the transport head clears it
    with pytest.raises(CarUnavailable):
        reservation_create(
            by=None,
            car=car,
            client=ClientFactory(),
            starts_at=reservation.ends_at + timedelta(days=1),
            ends_at=reservation.ends_at + timedelta(days=1, hours=2),
        )
    cars.car_clear(car=car, by=transport_head, note="Царапина в допуске")
    car.refresh_from_db()
    inspection.refresh_from_db()
    assert car.state == "available" and inspection.outcome == "cleared" and inspection.closed_by == transport_head


@pytest.mark.parametrize("problem", [{"client_reported_fault": "Стучит подвеска"}, {"warning_lamp": True}])
def test_a_reported_fault_or_a_warning_lamp_needs_inspection(reservation, manager, licence, transport_head, problem):
    check_out(reservation, manager, licence)
    check_in(reservation, manager, **problem)
    car = FleetCar.objects.get(pk=reservation.car_id)
    assert car.state == "needs_inspection"
    assert Notification.objects.filter(user=transport_head).count() == 1
    cars.car_to_maintenance(car=car, by=transport_head, note="В сервис")
    car.refresh_from_db()
    assert car.state == "in_maintenance" and CarInspection.objects.get().outcome == "maintenance"
    cars.car_from_maintenance(car=car, by=transport_head)
    car.refresh_from_db()
    assert car.state == "available"


def test_a_photo_that_is_no_image_is_refused(reservation, manager, licence):
    fake = SimpleUploadedFile("door.jpg", b"#!/bin/sh\necho hi\n", content_type="image/jpeg")
    with pytest.raises(ValidationError) as caught:
        check_out(reservation, manager, licence, photos=[fake])
    assert "photos" in caught.value.message_dict
    assert not HandoverAct.objects.exists()


def test_mileage_back_below_mileage_out_is_refused(reservation, manager, licence):
    check_out(reservation, manager, licence)
    with pytest.raises(ValidationError, match="mileage"):
        check_in(reservation, manager, mileage_km=11000)


def test_clearing_a_car_that_needs_nothing_is_a_conflict(loaner, transport_head):
    with pytest.raises(Conflict):
        cars.car_clear(car=loaner, by=transport_head)


def test_a_test_drive_over_a_day_needs_its_contract_before_check_out(demo, day, manager, licence):
    drive = test_drives.test_drive_book(
        by=manager,
        client=NewContact(name="Новый Покупатель", phone="+7 912 000-11-22"),
        car=demo,
        starts_at=moment(day, 10),
        ends_at=moment(day + timedelta(days=2), 10),
        sales_manager="Игорь Продажин",
        route="МКАД — Новая Рига",
        **licence,
    )
    reservation = drive.reservation
    assert reservation.kind == Reservation.Kind.TEST_DRIVE and reservation.client.name == "Новый Покупатель"
    with pytest.raises(Conflict, match="contract"):
        check_out(reservation, manager, licence)
    reservation_contract_signed(reservation=reservation, by=manager)
    reservation_contract_signed(reservation=reservation, by=manager)  # a second click registers nothing more
    document = Document.objects.get()
    assert (document.kind, document.state, document.client) == ("temp_use_contract", "signed", reservation.client)
    reservation.refresh_from_db()
    assert reservation.contract_document_id == document.pk
    assert check_out(reservation, manager, licence).direction == "out"


def test_a_test_drive_with_an_expired_licence_is_not_booked(demo, day, manager):
    with pytest.raises(ValidationError) as caught:
        test_drives.test_drive_book(
            by=manager,
            client=ClientFactory(),
            car=demo,
            starts_at=moment(day, 10),
            ends_at=moment(day, 11),
            sales_manager="Игорь",
            route="Круг",
            licence_number="77 12 345678",
            licence_valid_until=day - timedelta(days=1),
        )
    assert "licence_valid_until" in caught.value.message_dict
    assert not Reservation.objects.exists()
