"""The visits list as a file: the filtered visits with client, phone, car, area and advisor, the head's only, logged."""

import csv
import io
import logging

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from bookings.services.bookings import booking_create
from tests.bookings.conftest import moment

pytestmark = pytest.mark.django_db


@pytest.fixture
def visits(head, car_owner, petrov, to2, day):
    return [
        booking_create(by=head, client=car_owner, advisor=petrov, starts_at=moment(day, hour), service_types=[to2])
        for hour in (10, 12)
    ]


def test_the_head_exports_the_visits_of_a_day(visits, as_head, day, caplog):
    with caplog.at_level(logging.INFO, logger="clientdesk.security"):
        response = as_head.get(reverse("bookings:list"), {"day": day.isoformat(), "export": "csv"})
        body = b"".join(response.streaming_content)

    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    assert response["Content-Disposition"].startswith('attachment; filename="bookings-')
    assert len(rows) == 1 + 2
    assert [row[0][-5:] for row in rows[1:]] == ["10:00", "12:00"]  # local times, in order
    assert {row[2] for row in rows[1:]} == {visits[0].client.name}
    assert any("list=bookings" in r.getMessage() and "rows=2" in r.getMessage() for r in caplog.records)


def test_the_xlsx_holds_the_same_rows(visits, as_head, day):
    response = as_head.get(reverse("bookings:list"), {"day": day.isoformat(), "export": "xlsx"})

    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.max_row == 1 + 2


def test_a_manager_may_not_export_visits(visits, as_manager, day):
    assert as_manager.get(reverse("bookings:list"), {"day": day.isoformat(), "export": "csv"}).status_code == 403
