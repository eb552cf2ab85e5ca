"""The client base as a file: exactly the clients the filters show, with the primary phone and the consents, Cyrillic
intact, formulas neutralised, the head's only (personal data), and logged."""

import csv
import io
import logging

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from clients.models import Client
from tests.factories import PhoneFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def base(manager):
    shown = Client.objects.create(name="Ёлкина Щука", kind=Client.Kind.PERSON, assigned_manager=manager)
    PhoneFactory(client=shown, number="+79123456789", is_primary=True)
    PhoneFactory(client=shown, number="+79120000000", is_primary=False)
    formula = Client.objects.create(name="=cmd|' /C calc'!A0", kind=Client.Kind.PERSON, assigned_manager=manager)
    Client.objects.create(name="Чужой Клиент", kind=Client.Kind.COMPANY)
    return shown, formula


def test_the_head_exports_the_filtered_clients_as_csv(base, manager, as_head, caplog):
    with caplog.at_level(logging.INFO, logger="clientdesk.security"):
        response = as_head.get(reverse("clients:list"), {"assigned_manager": manager.pk, "export": "csv"})
        body = b"".join(response.streaming_content)

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="clients-')
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 1 + 2  # the header and Maria's two clients, one phone each (the primary)
    names = {row[0] for row in rows[1:]}
    assert names == {"Ёлкина Щука", "'=cmd|' /C calc'!A0"}
    assert "'+79123456789" in {row[2] for row in rows[1:]}  # a leading + is neutralised like any formula start
    assert any("list=clients" in r.getMessage() and "rows=2" in r.getMessage() for r in caplog.records)


def test_the_xlsx_opens_with_cyrillic_intact(base, as_head):
    response = as_head.get(reverse("clients:list"), {"export": "xlsx"})

    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert sorted(values) == sorted(["Ёлкина Щука", "'=cmd|' /C calc'!A0", "Чужой Клиент"])


def test_a_manager_may_not_export_the_base(base, as_manager):
    assert as_manager.get(reverse("clients:list"), {"export": "csv"}).status_code == 403
    assert b'id="export"' not in as_manager.get(reverse("clients:list")).content


def test_the_head_sees_the_buttons_with_the_filter_kept(base, as_head, manager):
    page = as_head.get(reverse("clients:list"), {"assigned_manager": manager.pk}).content.decode()

    assert f"assigned_manager={manager.pk}&amp;export=xlsx" in page
