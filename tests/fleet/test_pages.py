"""The fleet's pages: the board and the lists with pinned query counts, a car's page, handing a car over and taking
it back through the forms, the transport head's actions, the printed forms in Russian (read back from the PDF)."""

import io
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as DjangoTestClient
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from fleet.models import CarInspection, FleetCar, Reservation
from fleet.services import test_drives
from fleet.services.acts import Mark, reservation_check_in, reservation_check_out, reservation_contract_signed
from fleet.services.reservations import reservation_create
from tests.factories import ClientFactory
from tests.fleet.conftest import make_car, moment

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


def logged_in(user) -> DjangoTestClient:
    web = DjangoTestClient()
    web.force_login(user)
    return web


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def out_now(car, *, hours_ago=2, due_in=1, client=None):
    """A reservation handed over `hours_ago`, due back in `due_in` hours (negative: overdue)."""
    now = timezone.now()
    reservation = reservation_create(
        by=None,
        car=car,
        client=client or ClientFactory(),
        starts_at=now - timedelta(hours=hours_ago),
        ends_at=now + timedelta(hours=due_in),
    )
    licence = {"licence_number": "7712345678", "licence_valid_until": (now + timedelta(days=900)).date()}
    reservation_check_out(
        reservation=reservation,
        by=None,
        mileage_km=car.mileage_km,
        fuel_percent=80,
        signatures_confirmed=True,
        **licence,
    )
    return reservation


def test_the_board_shows_overdue_back_today_and_inspections_in_pinned_queries(
    as_manager, django_assert_num_queries, day
):
    overdue = out_now(make_car(), hours_ago=5, due_in=-1)
    for _ in range(3):
        reservation_create(
            by=None,
            car=make_car(),
            client=ClientFactory(),
            starts_at=timezone.now() + timedelta(hours=1),
            ends_at=timezone.now() + timedelta(hours=2),
        )
    url = reverse("fleet:board")
    as_manager.get(url)  # warm the session and the content types
    with django_assert_num_queries(7):
        response = as_manager.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert overdue.client.name in page and "table-danger" in page
    assert 'id="fleet-lapsing"' not in page
    for _ in range(3):
        out_now(make_car())
    with django_assert_num_queries(7):
        assert as_manager.get(url).status_code == 200
    assert as_manager.get(url + "?week=1").status_code == 200
    lapsing = make_car(insurance_until=timezone.now().date() + timedelta(days=10))
    assert lapsing.plate in as_manager.get(url).content.decode().split('id="fleet-lapsing"')[1]


def test_the_car_list_and_test_drive_list_have_pinned_queries(
    as_manager, django_assert_num_queries, demo, day, manager
):
    for _ in range(3):
        make_car()
    as_manager.get(reverse("fleet:car-list"))
    with django_assert_num_queries(3):
        assert as_manager.get(reverse("fleet:car-list")).status_code == 200
    licence = {"licence_number": "7712345678", "licence_valid_until": day + timedelta(days=900)}
    for hour in (10, 12):
        test_drives.test_drive_book(
            by=manager,
            client=ClientFactory(),
            car=demo,
            starts_at=moment(day, hour),
            ends_at=moment(day, hour + 1),
            sales_manager="Игорь",
            route="Круг",
            **licence,
        )
    with django_assert_num_queries(3):
        assert as_manager.get(reverse("fleet:test-drive-list")).status_code == 200
    with django_assert_num_queries(4):
        response = as_manager.get(reverse("fleet:test-drive-log") + f"?day={day}")
    assert response.status_code == 200 and "Круг" in response.content.decode()


def test_a_manager_hands_over_and_takes_back_through_the_forms(as_manager, loaner, transport_head, day):
    as_manager.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    reservation = reservation_create(
        by=None,
        car=loaner,
        client=ClientFactory(name="Пётр Клиентов"),
        starts_at=moment(day, 9),
        ends_at=moment(day, 18),
    )
    form = {
        "marks-TOTAL_FORMS": "3",
        "marks-INITIAL_FORMS": "0",
        "marks-MIN_NUM_FORMS": "0",
        "marks-MAX_NUM_FORMS": "20",
    }
    response = as_manager.post(
        reverse("fleet:check-out", args=[reservation.pk]),
        {
            **form,
            "mileage_km": "12000",
            "fuel_percent": "80",
            "licence_number": "7712345678",
            "licence_valid_until": str(day - timedelta(days=400)),
            "signatures_confirmed": "on",
            "marks-0-zone": "rear_bumper",
            "marks-0-kind": "scratch",
        },
    )
    assert response.status_code == 400 and "expired" in response.content.decode()
    response = as_manager.post(
        reverse("fleet:check-out", args=[reservation.pk]),
        {
            **form,
            "mileage_km": "12000",
            "fuel_percent": "80",
            "licence_number": "7712345678",
            "licence_valid_until": str(day + timedelta(days=900)),
            "signatures_confirmed": "on",
            "marks-0-zone": "rear_bumper",
            "marks-0-kind": "scratch",
            "photos": [SimpleUploadedFile("a.png", PNG, content_type="image/png")],
        },
    )
    assert response.status_code == 302
    reservation.refresh_from_db()
    assert reservation.status == "out" and reservation.acts.get().photos.count() == 1
    response = as_manager.post(
        reverse("fleet:check-in", args=[reservation.pk]),
        {
            **form,
            "mileage_km": "12100",
            "fuel_percent": "60",
            "signatures_confirmed": "on",
            "marks-0-zone": "rear_bumper",
            "marks-0-kind": "scratch",
            "marks-1-zone": "bonnet",
            "marks-1-kind": "dent",
            "marks-1-note": "вмятина",
        },
    )
    assert response.status_code == 302
    page = as_manager.get(reverse("fleet:reservation-detail", args=[reservation.pk])).content.decode()
    assert 'id="differences"' in page and "вмятина" in page
    assert FleetCar.objects.get(pk=loaner.pk).state == "needs_inspection"
    # the transport head clears it from the car's page
    web = logged_in(transport_head)
    assert web.post(reverse("fleet:car-action", args=[loaner.pk, "clear"]), {"note": "ok"}).status_code == 302
    assert FleetCar.objects.get(pk=loaner.pk).state == "available"
    assert CarInspection.objects.get().outcome == "cleared"
    # a manager may not
    assert as_manager.post(reverse("fleet:car-action", args=[loaner.pk, "retire"])).status_code == 403


def test_the_transport_head_adds_and_edits_a_car(transport_head):
    web = logged_in(transport_head)
    data = {
        "plate": "a777aa 77",
        "make": "Skoda",
        "model": "Rapid",
        "use": "loaner",
        "mileage_km": "10",
        "fuel_percent": "90",
        "insurance_until": "2099-01-01",
    }
    assert web.post(reverse("fleet:car-create"), data).status_code == 302
    car = FleetCar.objects.get()
    assert car.plate == "А777АА77"
    assert web.post(reverse("fleet:car-create"), data).status_code == 400  # the plate is taken
    assert web.post(reverse("fleet:car-edit", args=[car.pk]), data | {"model": "Octavia"}).status_code == 302
    car.refresh_from_db()
    assert car.model == "Octavia" and car.history.count() == 2


def test_a_manager_reserves_from_the_client_card_and_a_clash_is_a_form_error(as_manager, loaner, day):
    as_manager.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client = ClientFactory()
    url = reverse("fleet:reservation-create") + f"?client={client.pk}"
    data = {"car": loaner.pk, "starts_at": f"{day}T10:00", "ends_at": f"{day}T12:00"}
    assert as_manager.post(url, data).status_code == 302
    response = as_manager.post(url, data)
    assert response.status_code == 400 and "already reserved" in response.content.decode()
    assert Reservation.objects.count() == 1


PENDING = Path(__file__).resolve().parents[2] / "locale" / "pending" / "fleet.po"


@pytest.fixture
def fleet_catalogue(tmp_path, settings):
    """This app's Russian strings as the site will have them once the lead merges locale/pending/fleet.po: compiled
    into a catalogue of its own, read before the project's."""
    if PENDING.exists() and shutil.which("msgfmt"):
        target = tmp_path / "ru" / "LC_MESSAGES"
        target.mkdir(parents=True)
        subprocess.run(["msgfmt", "-o", str(target / "django.mo"), str(PENDING)], check=True)  # noqa: S603, S607
        settings.LOCALE_PATHS = [tmp_path, *settings.LOCALE_PATHS]
    return settings


def test_the_printed_forms_render_in_russian(as_manager, demo, day, manager, fleet_catalogue):
    licence = {"licence_number": "7712345678", "licence_valid_until": day + timedelta(days=900)}
    drive = test_drives.test_drive_book(
        by=manager,
        client=ClientFactory(name="Иван Тестов"),
        car=demo,
        starts_at=moment(day, 10),
        ends_at=moment(day + timedelta(days=2), 10),
        sales_manager="Игорь",
        route="МКАД",
        **licence,
    )
    reservation = drive.reservation
    reservation_contract_signed(reservation=reservation, by=manager)
    reservation_check_out(
        reservation=reservation,
        by=manager,
        mileage_km=100,
        fuel_percent=90,
        signatures_confirmed=True,
        marks=[Mark("roof", "chip")],
        **licence,
    )
    reservation_check_in(
        reservation=reservation, by=manager, mileage_km=250, fuel_percent=50, signatures_confirmed=True
    )
    as_manager.defaults["HTTP_ACCEPT_LANGUAGE"] = "ru"
    expected = {
        "act-out": "Акт приема-передачи",
        "act-back": "Акт приема-передачи",
        "power-of-attorney": "Доверенность",
        "pass": "Пропуск",
        "contract": "Договор",
    }
    for doc, title in expected.items():
        response = as_manager.get(reverse("fleet:print", args=[reservation.pk, doc]) + "?format=pdf")
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf", doc
        text = pdf_text(response.content)
        assert "Иван Тестов" in text, doc
        assert title.lower() in text.lower(), (doc, text[:300])
    response = as_manager.get(reverse("fleet:test-drive-log") + f"?day={day}&format=pdf")
    assert "Журнал тест-драйвов" in pdf_text(response.content)


def test_the_head_exports_the_cars_and_the_test_drives_and_a_manager_may_not(as_head, as_manager, demo, day, manager):
    make_car(plate="А777АА77")
    test_drives.test_drive_book(
        by=manager,
        client=ClientFactory(name="Смирнов Олег"),
        car=demo,
        starts_at=moment(day, 10),
        ends_at=moment(day, 11),
        sales_manager="Игорь",
        route="=Круг",
        licence_number="7712345678",
        licence_valid_until=day + timedelta(days=900),
    )
    cars = b"".join(as_head.get(reverse("fleet:car-list"), {"export": "csv"}).streaming_content).decode("utf-8-sig")
    assert "А777АА77" in cars and demo.plate in cars
    drives = as_head.get(reverse("fleet:test-drive-list"), {"export": "csv"})
    rows = b"".join(drives.streaming_content).decode("utf-8-sig").strip().splitlines()
    assert len(rows) == 2 and "Смирнов Олег" in rows[1] and "'=Круг" in rows[1]
    assert as_manager.get(reverse("fleet:test-drive-list"), {"export": "csv"}).status_code == 403


def test_the_transport_head_exports_the_fleet_list_and_a_manager_does_not(web, transport_head, as_manager, loaner):
    # given the transport head, who keeps the fleet (and may not export anyone's personal data)
    web.force_login(transport_head)
    url = reverse("fleet:car-list")
    # when / then: the list offers the export, and the file holds the cars
    assert 'id="export"' in web.get(url).content.decode()
    for kind in ("csv", "xlsx"):
        response = web.get(url, {"export": kind})
        assert response.status_code == 200, kind
    cars = b"".join(web.get(url, {"export": "csv"}).streaming_content).decode("utf-8-sig")
    assert loaner.plate in cars
    # a manager sees the list without the export, and asking for the file is refused
    assert 'id="export"' not in as_manager.get(url).content.decode()
    assert as_manager.get(url, {"export": "csv"}).status_code == 403
