"""The call log as a file (`clientdesk.exports.ExportMixin`): exactly the filtered rows, Cyrillic intact, formulas
neutralised, the head's only, and logged."""

import csv
import io
import logging
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from accounts.roles import Role
from calls.models import Call
from calls.views.calls import CallListView
from clientdesk.exports import safe_cell
from tests.factories import CallFactory, ClientFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def calls(manager):
    now = timezone.now()
    client = ClientFactory(name="Щукин Ёжик")
    other = UserFactory(username="other", role=Role.MANAGER)
    CallFactory(manager=manager, client=client, started_at=now - timedelta(hours=1), notes='=HYPERLINK("http://x")')
    CallFactory(manager=manager, client=client, started_at=now - timedelta(hours=2), notes="+79123456789 перезвонить")
    CallFactory(manager=manager, client=client, started_at=now - timedelta(hours=3), direction="out", outcome="busy")
    CallFactory(manager=other, client=client, started_at=now - timedelta(hours=4))
    return client


def test_formula_cells_are_neutralised():
    assert [safe_cell(v) for v in ("=1+1", "+7", "-2", "@SUM", "\tx", "ok", 42, None)] == [
        "'=1+1",
        "'+7",
        "'-2",
        "'@SUM",
        "'\tx",
        "ok",
        42,
        "",
    ]


def test_the_head_exports_the_filtered_calls_as_csv(calls, manager, as_head, caplog):
    # when: the head exports Maria's inbound calls
    with caplog.at_level(logging.INFO, logger="clientdesk.security"):
        response = as_head.get(reverse("calls:list"), {"manager": manager.pk, "direction": "in", "export": "csv"})
        body = b"".join(response.streaming_content)
    # then: a CSV with a byte-order mark, the two rows, Cyrillic intact, the formula behind an apostrophe
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="calls-')
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 1 + 2
    assert {row[2] for row in rows[1:]} == {"Щукин Ёжик"}
    notes = {row[-1] for row in rows[1:]}
    assert notes == {'\'=HYPERLINK("http://x")', "'+79123456789 перезвонить"}
    # and the export is logged: who, which list, the filter, how many rows
    [record] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Export:")]
    assert "user=head list=calls format=CSV rows=2" in record
    assert f"manager={manager.pk}" in record and "direction=in" in record


def test_the_xlsx_opens_in_openpyxl_with_the_same_rows(calls, manager, as_head):
    response = as_head.get(reverse("calls:list"), {"manager": manager.pk, "export": "xlsx"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 1 + 3
    assert rows[1][2] == "Щукин Ёжик"
    assert rows[1][-1] == '\'=HYPERLINK("http://x")'  # text, not a formula
    assert all(not str(cell).startswith("=") for row in rows for cell in row if cell is not None)


def test_a_manager_cannot_export_personal_data(calls, as_manager):
    response = as_manager.get(reverse("calls:list"), {"export": "csv"})
    assert response.status_code == 403
    # the page itself is hers, without the export buttons
    page = as_manager.get(reverse("calls:list")).content.decode()
    assert 'id="export"' not in page


def test_the_head_sees_the_export_buttons_with_the_filters(calls, as_head):
    page = as_head.get(reverse("calls:list"), {"direction": "in"}).content.decode()
    assert 'href="?direction=in&amp;export=xlsx"' in page


def test_a_refused_filter_exports_nothing_rather_than_everything(calls, as_head):
    response = as_head.get(reverse("calls:list"), {"manager": "999999", "export": "csv"})

    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 1  # the header only


def test_a_download_broken_off_is_still_logged(calls, caplog):
    view = CallListView()
    rows = Call.objects.values_list(*(c.field for c in view.export_columns[:1]))
    view.export_columns = view.export_columns[:1]
    where = {"user": "olga", "list": "calls", "filter": ""}

    with caplog.at_level(logging.INFO, logger="clientdesk.security"):
        stream = view.csv(["when"], rows, where)
        next(stream), next(stream)  # the header and one row went out
        stream.close()  # then the client went away, as a server closes the response

    assert any("list=calls" in r.getMessage() and "rows=1" in r.getMessage() for r in caplog.records)
