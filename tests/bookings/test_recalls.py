"""Recall campaigns: reading VIN files, the services, the open-recall reads, the pages, the API, who may do what."""

import io
from datetime import timedelta

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client as DjangoTestClient
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from bookings import imports
from bookings.imports import parse_vin_file, parse_vin_list
from bookings.models import Booking, RecallCampaign, RecallVin
from bookings.selectors.recalls import bookings_with_open_recall, open_recalls_for_vin, open_recalls_for_vins
from bookings.services.recalls import (
    recall_campaign_create,
    recall_campaign_update,
    recall_vin_mark_done,
    recall_vins_import,
)
from bookings.views.recalls import SESSION_KEY
from clientdesk.calendar import local_date
from clientdesk.errors import Conflict
from tests.factories import BookingFactory, VehicleFactory

pytestmark = pytest.mark.django_db

API = "/api/v1/recall-campaigns/"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(autouse=True)
def _pages_in_english(settings):
    """Pages and API answers here read in English (the assertions quote messages); with no Accept-Language header a
    request gets the default language."""
    settings.LANGUAGE_CODE = "en"


def vin(n: int) -> str:
    return f"XTA{n:014d}"


def today():
    return local_date(timezone.now())


def campaign_of(by, code="RC-1", **fields) -> RecallCampaign:
    fields.setdefault("name", f"Campaign {code}")
    return recall_campaign_create(by=by, manufacturer_code=code, **fields)


def csv_file(text: str, *, encoding="utf-8", name="vins.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


def xlsx_file(rows, *, name="vins.xlsx", extra_sheet=None) -> SimpleUploadedFile:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    if extra_sheet:
        other = workbook.create_sheet("other")
        for row in extra_sheet:
            other.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=XLSX_TYPE)


def logged_in(user) -> DjangoTestClient:
    web = DjangoTestClient()
    web.force_login(user)
    return web


def api_for(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


# --- reading files -----------------------------------------------------------------------------------------------


def test_csv_one_column_without_header():
    parsed = parse_vin_file(csv_file(f"{vin(1)}\n{vin(2)}\n"))
    assert parsed.vins == [vin(1), vin(2)]
    assert [row.line for row in parsed.rows] == [1, 2]
    assert (parsed.total, parsed.good, parsed.bad, parsed.is_clean) == (2, 2, 0, True)


def test_csv_comma_with_header_takes_the_vin_column():
    parsed = parse_vin_file(csv_file(f'Model,VIN,Year\nVesta,{vin(1)},2021\n"Granta, new",{vin(2)},2022\n'))
    assert parsed.vins == [vin(1), vin(2)]
    assert [row.line for row in parsed.rows] == [2, 3]


def test_csv_semicolon_header_skipped_when_first_cell_is_not_a_vin():
    parsed = parse_vin_file(csv_file(f"Номер кузова;Модель\n{vin(1)};Vesta\n{vin(2)};Largus\n"))
    assert parsed.vins == [vin(1), vin(2)]
    assert parsed.rows[0].line == 2


def test_csv_tab_separated():
    parsed = parse_vin_file(csv_file(f"{vin(1)}\tVesta\n{vin(2)}\tLargus\n", name="vins.tsv"))
    assert parsed.vins == [vin(1), vin(2)]


def test_csv_with_utf8_bom():
    parsed = parse_vin_file(SimpleUploadedFile("vins.csv", b"\xef\xbb\xbfVIN\r\n" + vin(1).encode() + b"\r\n"))
    assert parsed.vins == [vin(1)]
    assert parsed.rows[0].line == 2


def test_csv_in_cp1251_from_russian_excel():
    text = f"Модель;VIN;Владелец\nВеста;{vin(1)};Иванов\nЛаргус;{vin(2)};Петров\n"
    parsed = parse_vin_file(csv_file(text, encoding="cp1251"))
    assert parsed.vins == [vin(1), vin(2)]


def test_csv_in_utf16_from_excel_unicode_text():
    parsed = parse_vin_file(csv_file(f"VIN\tModel\n{vin(1)}\tVesta\n", encoding="utf-16"))
    assert parsed.vins == [vin(1)]


def test_empty_lines_ignored_cyrillic_lookalikes_forgiven_repeats_collapse():
    cyrillic = "ХТА" + vin(3)[3:]  # Cyrillic Х, Т, А typed by mistake
    parsed = parse_vin_file(csv_file(f"\n{vin(1)}\n\n  \n{cyrillic}\n{vin(1)}\n;\n"))
    assert parsed.vins == [vin(1), vin(3)]
    assert [row.line for row in parsed.rows] == [2, 5, 6]
    assert (parsed.total, parsed.good, parsed.duplicates) == (3, 3, 1)


def test_bad_rows_are_reported_with_line_numbers_and_messages():
    text = f"VIN;Model\n{vin(1)};Vesta\nXTA0000000000O001;Vesta\nXTA123;Granta\n;Largus\n{vin(2)};Niva\n"
    parsed = parse_vin_file(csv_file(text))
    assert not parsed.is_clean
    assert (parsed.good, parsed.bad) == (2, 3)
    bad = {row.line: row for row in parsed.bad_rows()}
    assert set(bad) == {3, 4, 5}
    assert "I, O or Q" in bad[3].error
    assert "17" in bad[4].error
    assert bad[5].raw == ""
    assert bad[5].error
    assert [row.vin for row in parsed.good_rows()] == [vin(1), vin(2)]


def test_bad_first_row_is_reported_not_taken_for_a_header():
    parsed = parse_vin_file(csv_file(f"XTA12345\n{vin(1)}\n"))
    assert [(row.line, row.ok) for row in parsed.rows] == [(1, False), (2, True)]


def test_xlsx_first_sheet_first_column():
    upload = xlsx_file([[vin(1), "Vesta"], [vin(2), "Largus"]], extra_sheet=[["garbage"], [vin(9)]])
    parsed = parse_vin_file(upload)
    assert parsed.vins == [vin(1), vin(2)]
    assert [row.line for row in parsed.rows] == [1, 2]


def test_xlsx_column_headed_vin_with_empty_rows_and_numbers():
    upload = xlsx_file([["Model", "vin", "Year"], ["Vesta", vin(1), 2021], [None, None, None], ["Niva", 12345, 2020]])
    parsed = parse_vin_file(upload)
    assert parsed.vins == [vin(1)]
    assert [(row.line, row.ok) for row in parsed.rows] == [(2, True), (4, False)]
    assert parsed.bad_rows()[0].raw == "12345"


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("scan.pdf", b"%PDF-1.4 binary", "unknown_format"),
        ("photo.png", b"\x89PNG\r\n\x1a\n\x00\x00", "unknown_format"),
        ("vins.csv", b"\x89PNG\r\n\x1a\n\x00\x00", "unknown_format"),
        ("letter.docx", b"PK\x03\x04 a word file", "unknown_format"),
        ("vins.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "xls"),
        ("vins.xlsx", b"PK\x03\x04 not really a workbook", "xlsx"),
        ("vins.csv", b"", "empty"),
        ("vins.csv", b"VIN\n\n", "empty"),
        ("vins.csv", b"\x98\x98\x98\xff", "encoding"),
    ],
)
def test_files_that_cannot_be_read_are_refused_with_a_clear_message(name, content, code):
    with pytest.raises(ValidationError) as caught:
        parse_vin_file(SimpleUploadedFile(name, content))
    assert caught.value.code == code
    assert caught.value.messages[0]


def test_file_over_5_mb_is_refused():
    content = (vin(1) + "\n").encode() * (imports.MAX_FILE_BYTES // 18 + 1)
    with pytest.raises(ValidationError) as caught:
        parse_vin_file(SimpleUploadedFile("big.csv", content))
    assert caught.value.code == "too_big"
    assert "5 MB" in caught.value.messages[0]


def test_too_many_rows_is_refused(monkeypatch):
    monkeypatch.setattr(imports, "MAX_ROWS", 3)
    assert len(parse_vin_file(csv_file("\n".join(vin(n) for n in range(3)))).vins) == 3
    with pytest.raises(ValidationError) as caught:
        parse_vin_file(csv_file("\n".join(vin(n) for n in range(4))))
    assert caught.value.code == "too_many_rows"


def test_plain_list_rows_are_keyed_by_position():
    parsed = parse_vin_list([vin(1), "bad", vin(1)])
    assert [(row.line, row.ok) for row in parsed.rows] == [(0, True), (1, False), (2, True)]
    assert parsed.vins == [vin(1)]


# --- services ----------------------------------------------------------------------------------------------------


def test_campaign_create_and_code_clash_in_any_case_is_a_conflict(head):
    first = campaign_of(head, code="  24V-123 ", description="  Airbag  ")
    assert (first.manufacturer_code, first.description) == ("24V-123", "Airbag")
    assert first.history.first().history_user == head
    with pytest.raises(Conflict) as caught:
        campaign_of(head, code="24v-123")
    assert caught.value.field == "manufacturer_code"
    assert caught.value.existing == first
    assert RecallCampaign.objects.count() == 1


def test_campaign_dates_must_be_ordered(head):
    with pytest.raises(ValidationError) as caught:
        campaign_of(head, starts_on=today(), ends_on=today() - timedelta(days=1))
    assert "ends_on" in caught.value.error_dict
    with pytest.raises(ValidationError):
        campaign_of(head, code="")
    assert not RecallCampaign.objects.exists()


def test_campaign_update(head):
    campaign = campaign_of(head)
    other = campaign_of(head, code="RC-2")
    updated = recall_campaign_update(campaign=campaign, by=head, name="Airbag", ends_on=today())
    assert (updated.name, updated.ends_on) == ("Airbag", today())
    with pytest.raises(Conflict):
        recall_campaign_update(campaign=other, by=head, manufacturer_code="rc-1")
    with pytest.raises(TypeError):
        recall_campaign_update(campaign=campaign, by=head, created_at=None)


def test_import_adds_each_vin_once_and_twice_adds_nothing(head):
    campaign = campaign_of(head)
    assert recall_vins_import(campaign=campaign, vins=[vin(1), vin(2), " xta-" + vin(2)[3:].lower()], by=head) == 2
    assert recall_vins_import(campaign=campaign, vins=[vin(1), vin(2)], by=head) == 0
    assert recall_vins_import(campaign=campaign, vins=[vin(2), vin(3)], by=head) == 1
    assert sorted(campaign.vins.values_list("vin", flat=True)) == [vin(1), vin(2), vin(3)]
    created = RecallVin.history.filter(vin=vin(3)).get()
    assert (created.history_user, created.history_type, created.id) == (head, "+", campaign.vins.get(vin=vin(3)).pk)
    assert RecallVin.history.count() == 3


def test_one_bad_vin_imports_nothing(head):
    campaign = campaign_of(head)
    with pytest.raises(ValidationError) as caught:
        recall_vins_import(campaign=campaign, vins=[vin(1), "XTA0000000000O001", vin(2), ""], by=head)
    messages = caught.value.message_dict["vins"]
    assert len(messages) == 2
    assert messages[0].startswith("No. 2")
    assert not RecallVin.objects.exists()


def test_same_vin_in_two_campaigns(head):
    first, second = campaign_of(head), campaign_of(head, code="RC-2")
    recall_vins_import(campaign=first, vins=[vin(1)], by=head)
    assert recall_vins_import(campaign=second, vins=[vin(1)], by=head) == 1


def test_large_import_in_batches(head):
    campaign = campaign_of(head)
    vins = [vin(n) for n in range(5000)]
    assert recall_vins_import(campaign=campaign, vins=vins, by=head) == 5000
    assert recall_vins_import(campaign=campaign, vins=[*vins, vin(5000)], by=head) == 1
    assert campaign.vins.count() == 5001


def test_mark_done_is_idempotent(head, advisor):
    campaign = campaign_of(head)
    recall_vins_import(campaign=campaign, vins=[vin(1)], by=head)
    row = campaign.vins.get()
    first = recall_vin_mark_done(recall_vin=row, by=advisor)
    again = recall_vin_mark_done(recall_vin=row, by=head)
    assert again.done_at == first.done_at
    assert again.done_by == advisor
    row.refresh_from_db()
    assert (row.done_at, row.done_by) == (first.done_at, advisor)


def test_mark_done_at_a_visit_for_another_car_is_refused(head, advisor, visit):
    campaign = campaign_of(head)
    recall_vins_import(campaign=campaign, vins=[vin(1), visit.vehicle.vin], by=head)
    with pytest.raises(ValidationError):
        recall_vin_mark_done(recall_vin=campaign.vins.get(vin=vin(1)), by=advisor, booking=visit)
    assert not RecallVin.objects.filter(done_at__isnull=False).exists()
    done = recall_vin_mark_done(recall_vin=campaign.vins.get(vin=visit.vehicle.vin), by=advisor, booking=visit)
    assert done.done_booking == visit


# --- open recalls ------------------------------------------------------------------------------------------------


@pytest.fixture
def visit(advisor):
    return BookingFactory(vehicle=VehicleFactory(vin=vin(500)), advisor=advisor)  # tomorrow


def test_open_recalls_respect_dates_and_done_marks(head, django_assert_num_queries):
    day = today()
    running = campaign_of(head, code="RUN", starts_on=day - timedelta(days=10), ends_on=day)
    open_ended = campaign_of(head, code="OPEN")
    future = campaign_of(head, code="FUTURE", starts_on=day + timedelta(days=1))
    ended = campaign_of(head, code="ENDED", ends_on=day - timedelta(days=1))
    for campaign in (running, open_ended, future, ended):
        recall_vins_import(campaign=campaign, vins=[vin(1), vin(2)], by=head)
    recall_vin_mark_done(recall_vin=open_ended.vins.get(vin=vin(2)), by=head)

    with django_assert_num_queries(1):
        found = open_recalls_for_vins([vin(1), vin(2), vin(3), ""])
    assert {code: [c.manufacturer_code for c in campaigns] for code, campaigns in found.items()} == {
        vin(1): ["OPEN", "RUN"],
        vin(2): ["RUN"],
    }
    assert [c.manufacturer_code for c in open_recalls_for_vin(vin(2))] == ["RUN"]
    assert open_recalls_for_vin(vin(3)) == []
    with django_assert_num_queries(0):
        assert open_recalls_for_vins(["", None]) == {}


def test_bookings_with_open_recall(head, django_assert_num_queries):
    campaign = campaign_of(head)
    ended = campaign_of(head, code="OLD", ends_on=today() - timedelta(days=1))
    recalled = BookingFactory(vehicle=VehicleFactory(vin=vin(1)))
    done = BookingFactory(vehicle=VehicleFactory(vin=vin(2)))
    only_ended = BookingFactory(vehicle=VehicleFactory(vin=vin(3)))
    BookingFactory(vehicle=VehicleFactory(vin=vin(4)))
    recall_vins_import(campaign=campaign, vins=[vin(1), vin(2)], by=head)
    recall_vins_import(campaign=ended, vins=[vin(3)], by=head)
    recall_vin_mark_done(recall_vin=campaign.vins.get(vin=vin(2)), by=head)

    with django_assert_num_queries(1):
        ids = list(bookings_with_open_recall(Booking.objects.all()).values_list("pk", flat=True))
    assert ids == [recalled.pk]
    assert done.pk not in ids and only_ended.pk not in ids
    others = Booking.objects.exclude(pk__in=bookings_with_open_recall(Booking.objects.all()).values("pk"))
    assert others.count() == 3


@pytest.mark.postgres
def test_open_recall_filter_can_use_the_partial_index(head):
    campaign = campaign_of(head)
    BookingFactory(vehicle=VehicleFactory(vin=vin(1)))
    recall_vins_import(campaign=campaign, vins=[vin(n) for n in range(1, 200)], by=head)
    queryset = bookings_with_open_recall(Booking.objects.all())
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = queryset.explain()
    assert "recall_open_vin_idx" in plan


# --- pages -------------------------------------------------------------------------------------------------------


ROLES = ["manager", "head", "advisor", "transport_head", "integration"]
VIEWERS = {"manager", "head", "advisor"}


@pytest.fixture
def campaign(head):
    campaign = campaign_of(head)
    recall_vins_import(campaign=campaign, vins=[vin(1), vin(2)], by=head)
    return campaign


def page_urls(campaign):
    return [
        (reverse("bookings:recall-list"), VIEWERS),
        (reverse("bookings:recall-detail", args=[campaign.pk]), VIEWERS),
        (reverse("bookings:recall-create"), {"head"}),
        (reverse("bookings:recall-edit", args=[campaign.pk]), {"head"}),
        (reverse("bookings:recall-upload", args=[campaign.pk]), {"head"}),
    ]


def test_anonymous_is_sent_to_sign_in(campaign):
    web = DjangoTestClient()
    row = campaign.vins.first()
    posts = [
        reverse("bookings:recall-create"),
        reverse("bookings:recall-upload-confirm", args=[campaign.pk]),
        reverse("bookings:recall-vin-done", args=[row.pk]),
    ]
    for url in [url for url, _ in page_urls(campaign)] + posts:
        response = web.post(url) if url in posts else web.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("accounts:login")), url
    assert not RecallVin.objects.filter(done_at__isnull=False).exists()


@pytest.mark.parametrize("role", ROLES)
def test_pages_by_role(users, campaign, role):
    web = logged_in(users[role])
    for url, allowed in page_urls(campaign):
        assert web.get(url).status_code == (200 if role in allowed else 403), (role, url)


@pytest.mark.parametrize("role", ["manager", "advisor", "transport_head", "integration"])
def test_refused_page_writes_change_nothing(users, campaign, role):
    web = logged_in(users[role])
    response = web.post(reverse("bookings:recall-create"), {"name": "X", "manufacturer_code": "X-1"})
    assert response.status_code == 403
    response = web.post(reverse("bookings:recall-edit", args=[campaign.pk]), {"name": "X", "manufacturer_code": "X"})
    assert response.status_code == 403
    upload = csv_file(vin(7))
    assert web.post(reverse("bookings:recall-upload", args=[campaign.pk]), {"file": upload}).status_code == 403
    assert web.post(reverse("bookings:recall-upload-confirm", args=[campaign.pk]), {"token": "x"}).status_code == 403
    campaign.refresh_from_db()
    assert campaign.name != "X"
    assert RecallCampaign.objects.count() == 1
    assert campaign.vins.count() == 2


@pytest.mark.parametrize("role", ["advisor", "manager", "head"])
def test_mark_done_from_the_campaign_page(users, campaign, role):
    web = logged_in(users[role])
    row = campaign.vins.get(vin=vin(1))
    response = web.post(reverse("bookings:recall-vin-done", args=[row.pk]))
    assert response.status_code == 302
    assert response["Location"] == campaign.get_absolute_url()
    row.refresh_from_db()
    assert row.done_by == users[role]


@pytest.mark.parametrize("role", ["transport_head", "integration"])
def test_mark_done_refused_for_others(users, campaign, role):
    row = campaign.vins.get(vin=vin(1))
    response = logged_in(users[role]).post(reverse("bookings:recall-vin-done", args=[row.pk]))
    assert response.status_code == 403
    row.refresh_from_db()
    assert row.done_at is None


def test_mark_done_with_htmx_swaps_the_row_and_ignores_foreign_next(advisor, campaign):
    web = logged_in(advisor)
    row = campaign.vins.get(vin=vin(1))
    VehicleFactory(vin=vin(1))
    url = reverse("bookings:recall-vin-done", args=[row.pk])
    response = web.post(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert f'id="recall-vin-{row.pk}"' in body and "data-mark-done" not in body
    assert "Vesta" in body
    other = campaign.vins.get(vin=vin(2))
    response = web.post(reverse("bookings:recall-vin-done", args=[other.pk]), {"next": "https://evil.example/"})
    assert response["Location"] == campaign.get_absolute_url()


def test_campaign_list_shows_counts(as_manager, campaign, head):
    recall_vin_mark_done(recall_vin=campaign.vins.first(), by=head)
    response = as_manager.get(reverse("bookings:recall-list"))
    body = response.content.decode()
    assert campaign.manufacturer_code in body
    assert response.context["page"].object_list[0].vins_total == 2
    assert response.context["page"].object_list[0].vins_done == 1
    assert "New campaign" not in body and reverse("bookings:recall-create") not in body


def test_campaign_list_filters(as_head, head):
    campaign_of(head, code="AIR-1", name="Airbag")
    campaign_of(head, code="OLD-1", ends_on=today() - timedelta(days=3))
    url = reverse("bookings:recall-list")

    def codes(query):
        return [c.manufacturer_code for c in as_head.get(url + query).context["page"]]

    assert codes("?q=airb") == ["AIR-1"]
    assert codes("?current=false") == ["OLD-1"]
    assert codes("?current=true") == ["AIR-1"]


def test_create_and_edit_campaign_pages(as_head, head):
    response = as_head.post(
        reverse("bookings:recall-create"),
        {"name": "Airbag", "manufacturer_code": "AB-1", "starts_on": "2020-01-01", "description": "Replace"},
    )
    campaign = RecallCampaign.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("bookings:recall-upload", args=[campaign.pk])
    campaign_of(head, code="AB-2")
    response = as_head.post(
        reverse("bookings:recall-edit", args=[campaign.pk]), {"name": "Airbag", "manufacturer_code": "ab-2"}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["manufacturer_code"]
    assert response.context["campaign"].manufacturer_code == "AB-1"
    response = as_head.post(
        reverse("bookings:recall-edit", args=[campaign.pk]),
        {"name": "Airbag", "manufacturer_code": "AB-1", "starts_on": "2025-02-01", "ends_on": "2025-01-01"},
    )
    assert response.status_code == 400
    assert response.context["form"].errors["ends_on"]
    campaign.refresh_from_db()
    assert campaign.starts_on.isoformat() == "2020-01-01"


def test_detail_search_and_state_filter(as_manager, campaign, head):
    recall_vin_mark_done(recall_vin=campaign.vins.get(vin=vin(2)), by=head)
    url = reverse("bookings:recall-detail", args=[campaign.pk])
    assert [r.vin for r in as_manager.get(url).context["page"]] == [vin(1), vin(2)]
    assert [r.vin for r in as_manager.get(url + "?vin=0002").context["page"]] == [vin(2)]
    assert [r.vin for r in as_manager.get(url + f"?vin={vin(1).lower()}").context["page"]] == [vin(1)]
    assert [r.vin for r in as_manager.get(url + "?open=true").context["page"]] == [vin(1)]
    assert [r.vin for r in as_manager.get(url + "?open=false").context["page"]] == [vin(2)]
    assert list(as_manager.get(url + "?vin=OO").context["page"]) == []


def test_detail_pages_by_id(as_head, head):
    campaign = campaign_of(head)
    recall_vins_import(campaign=campaign, vins=[vin(n) for n in range(60)], by=head)
    url = reverse("bookings:recall-detail", args=[campaign.pk])
    first = as_head.get(url).context["page"]
    assert len(first) == 50 and first.has_next
    second = as_head.get(url + f"?after={first.next_after}").context["page"]
    assert [r.vin for r in second] == [vin(n) for n in range(50, 60)]
    assert not second.has_next


# --- the upload pages --------------------------------------------------------------------------------------------


def upload(web, campaign, file):
    return web.post(reverse("bookings:recall-upload", args=[campaign.pk]), {"file": file})


def confirm(web, campaign, token):
    return web.post(reverse("bookings:recall-upload-confirm", args=[campaign.pk]), {"token": token})


def test_upload_with_bad_rows_shows_them_and_imports_nothing(as_head, campaign):
    text = f"VIN;Model\n{vin(10)};Vesta\nXTA0000000000O001;Vesta\n{vin(11)};Niva\nXTA12;Largus\n"
    response = upload(as_head, campaign, csv_file(text))
    assert response.status_code == 400
    body = response.content.decode()
    assert [row.line for row in response.context["bad_rows"]] == [3, 5]
    assert "XTA0000000000O001" in body and "I, O or Q" in body
    assert "recall-confirm" not in body
    assert SESSION_KEY not in as_head.session
    assert campaign.vins.count() == 2


def test_upload_preview_then_confirm_imports_exactly_the_previewed_list(as_head, campaign):
    response = upload(as_head, campaign, csv_file(f"VIN\n{vin(1)}\n{vin(3)}\n{vin(3)}\n{vin(4)}\n"))
    assert response.status_code == 200
    assert (response.context["new"], response.context["already"]) == (2, 1)
    assert response.context["parsed"].duplicates == 1
    token = response.context["token"]
    assert 'id="recall-confirm"' in response.content.decode()
    assert campaign.vins.count() == 2

    response = confirm(as_head, campaign, token)
    assert response.status_code == 302
    assert response["Location"] == campaign.get_absolute_url()
    assert sorted(campaign.vins.values_list("vin", flat=True)) == [vin(1), vin(2), vin(3), vin(4)]
    followed = as_head.get(response["Location"])
    assert any("2 VINs added" in str(m) for m in followed.context["messages"])
    assert SESSION_KEY not in as_head.session

    response = confirm(as_head, campaign, token)
    assert response["Location"] == reverse("bookings:recall-upload", args=[campaign.pk])
    assert campaign.vins.count() == 4


def test_confirm_refuses_a_wrong_token_or_another_campaign(as_head, campaign, head):
    other = campaign_of(head, code="RC-2")
    token = upload(as_head, campaign, csv_file(f"{vin(20)}\n")).context["token"]
    assert confirm(as_head, campaign, token + "x").status_code == 302
    assert confirm(as_head, campaign, "").status_code == 302
    assert confirm(as_head, other, token).status_code == 302
    assert not other.vins.exists()
    assert not campaign.vins.filter(vin=vin(20)).exists()
    # a newer upload replaces the pending preview
    upload(as_head, campaign, csv_file(f"{vin(21)}\n"))
    confirm(as_head, campaign, token)
    assert not campaign.vins.filter(vin__in=[vin(20), vin(21)]).exists()


def test_upload_xlsx_through_the_page(as_head, campaign):
    response = upload(as_head, campaign, xlsx_file([["VIN"], [vin(30)], [vin(31)]]))
    assert response.status_code == 200
    confirm(as_head, campaign, response.context["token"])
    assert campaign.vins.count() == 4


def test_upload_of_an_unknown_format_says_so(as_head, campaign):
    response = upload(as_head, campaign, SimpleUploadedFile("scan.pdf", b"%PDF-1.4"))
    assert response.status_code == 400
    assert "neither a CSV nor an XLSX" in response.content.decode()


def test_upload_without_a_file_is_a_form_error(as_head, campaign):
    response = as_head.post(reverse("bookings:recall-upload", args=[campaign.pk]), {})
    assert response.status_code == 400
    assert response.context["form"].errors["file"]


# --- API ---------------------------------------------------------------------------------------------------------


def test_api_create_list_retrieve_update(api_as_head):
    response = api_as_head.post(API, {"name": "Airbag", "manufacturer_code": "AB-1"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["manufacturer_code"], body["vins_total"], body["vins_done"]) == ("AB-1", 0, 0)
    pk = body["id"]
    response = api_as_head.patch(f"{API}{pk}/", {"ends_on": "2099-12-31"}, format="json")
    assert response.status_code == 200
    assert response.json()["ends_on"] == "2099-12-31"
    assert api_as_head.get(f"{API}{pk}/").json()["name"] == "Airbag"
    listed = api_as_head.get(API).json()
    assert [c["id"] for c in listed["results"]] == [pk]
    assert api_as_head.put(f"{API}{pk}/", {"name": "X", "manufacturer_code": "X"}, format="json").status_code == 405
    assert api_as_head.delete(f"{API}{pk}/").status_code == 405


@pytest.fixture
def api_as_head(head):
    return api_for(head)


def test_api_code_clash_is_409(api_as_head, head):
    holder = campaign_of(head, code="AB-1")
    response = api_as_head.post(API, {"name": "Other", "manufacturer_code": "ab-1"}, format="json")
    assert response.status_code == 409
    assert response.json()["existing_id"] == holder.pk
    assert RecallCampaign.objects.count() == 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "name"),
        ({"name": "A"}, "manufacturer_code"),
        ({"name": "A", "manufacturer_code": "C" * 80}, "manufacturer_code"),
        ({"name": "A", "manufacturer_code": "C", "starts_on": "tomorrow"}, "starts_on"),
        ({"name": "A", "manufacturer_code": "C", "starts_on": "2025-02-01", "ends_on": "2025-01-01"}, "ends_on"),
    ],
)
def test_api_bad_campaign_input_is_400(api_as_head, payload, field):
    response = api_as_head.post(API, payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not RecallCampaign.objects.exists()


def test_api_push_vins_as_json(api_as_head, campaign):
    url = f"{API}{campaign.pk}/vins/"
    response = api_as_head.post(url, {"vins": [vin(1), vin(5), "xta-" + vin(6)[3:], vin(5)]}, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {"added": 2, "total": 4}
    assert api_as_head.post(url, {"vins": [vin(5)]}, format="json").json() == {"added": 0, "total": 4}


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "null",
        "[1, 2]",
        '{"vins": "XTA00000000000001"}',
        '{"vins": []}',
        '{"vins": [null]}',
        '{"vins": [["XTA00000000000001"]]}',
        '{"vins": {"a": 1}}',
        '{"other": 1}',
    ],
)
def test_api_garbage_vin_bodies_are_400_never_500(api_as_head, campaign, body):
    response = api_as_head.post(f"{API}{campaign.pk}/vins/", body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert campaign.vins.count() == 2


def test_api_bad_vins_are_reported_by_index_and_nothing_imported(api_as_head, campaign):
    payload = {"vins": [vin(7), "XTA0000000000O001", vin(8), "", 12345]}
    response = api_as_head.post(f"{API}{campaign.pk}/vins/", payload, format="json")
    assert response.status_code == 400
    body = response.json()
    assert set(body["vins"]) == {"1", "3", "4"}
    assert "I, O or Q" in body["vins"]["1"][0]
    assert "3 of 5" in body["detail"]
    assert campaign.vins.count() == 2


def test_api_body_over_the_servers_limit_is_a_clear_400(api_as_head, campaign, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api_as_head.post(f"{API}{campaign.pk}/vins/", {"vins": [vin(n) for n in range(100)]}, format="json")
    assert response.status_code == 400
    assert "several requests" in response.json()["vins"][0]
    assert campaign.vins.count() == 2


def test_api_push_vins_as_a_file(api_as_head, campaign):
    url = f"{API}{campaign.pk}/vins/"
    response = api_as_head.post(url, {"file": csv_file(f"VIN;Model\n{vin(40)};Vesta\n")}, format="multipart")
    assert response.json() == {"added": 1, "total": 3}
    response = api_as_head.post(url, {"file": xlsx_file([[vin(41)], ["XTA1"]])}, format="multipart")
    assert response.status_code == 400
    assert list(response.json()["file"]) == ["2"]
    response = api_as_head.post(url, {"file": SimpleUploadedFile("x.pdf", b"%PDF")}, format="multipart")
    assert response.status_code == 400
    assert "neither a CSV nor an XLSX" in response.json()["file"][0]
    assert campaign.vins.count() == 3


def test_api_list_vins_open_only_with_cursor_pages(api_as_manager, campaign, head):
    recall_vin_mark_done(recall_vin=campaign.vins.get(vin=vin(1)), by=head)
    url = f"{API}{campaign.pk}/vins/"
    assert [r["vin"] for r in api_as_manager.get(url + "?open=true").json()["results"]] == [vin(2)]
    assert [r["vin"] for r in api_as_manager.get(url + "?open=false").json()["results"]] == [vin(1)]
    assert len(api_as_manager.get(url).json()["results"]) == 2
    recall_vins_import(campaign=campaign, vins=[vin(n) for n in range(100, 160)], by=head)
    first = api_as_manager.get(url + "?page_size=50").json()
    assert len(first["results"]) == 50 and first["next"]
    second = api_as_manager.get(first["next"]).json()
    assert len(second["results"]) == 12 and second["next"] is None


def test_api_vins_of_a_missing_campaign_is_404(api_as_head):
    assert api_as_head.get(f"{API}999999/vins/").status_code == 404
    assert api_as_head.post(f"{API}999999/vins/", {"vins": [vin(1)]}, format="json").status_code == 404


def test_api_anonymous_is_refused(campaign):
    api = APIClient()
    for url in (API, f"{API}{campaign.pk}/", f"{API}{campaign.pk}/vins/"):
        assert api.get(url).status_code in (401, 403), url
    assert api.post(API, {"name": "A", "manufacturer_code": "B"}, format="json").status_code in (401, 403)
    assert api.post(f"{API}{campaign.pk}/vins/", {"vins": [vin(9)]}, format="json").status_code in (401, 403)
    assert campaign.vins.count() == 2


@pytest.mark.parametrize(
    ("role", "reads", "writes"),
    [
        ("manager", True, False),
        ("advisor", True, False),
        ("transport_head", False, False),
        ("head", True, True),
        ("integration", True, True),
    ],
)
def test_api_by_role(users, campaign, role, reads, writes):
    api = api_for(users[role])
    for url in (API, f"{API}{campaign.pk}/", f"{API}{campaign.pk}/vins/?open=true"):
        assert api.get(url).status_code == (200 if reads else 403), (role, url)
    created = api.post(API, {"name": "A", "manufacturer_code": f"B-{role}"}, format="json")
    assert created.status_code == (201 if writes else 403)
    patched = api.patch(f"{API}{campaign.pk}/", {"name": "Renamed"}, format="json")
    assert patched.status_code == (200 if writes else 403)
    pushed = api.post(f"{API}{campaign.pk}/vins/", {"vins": [vin(9)]}, format="json")
    assert pushed.status_code == (200 if writes else 403)
    assert campaign.vins.filter(vin=vin(9)).exists() == writes
    campaign.refresh_from_db()
    assert (campaign.name == "Renamed") == writes


def test_dms_pushes_vins_with_its_api_key(dms_api, campaign):
    response = dms_api.post(f"{API}{campaign.pk}/vins/", {"vins": [vin(50), vin(51)]}, format="json")
    assert response.json() == {"added": 2, "total": 4}
    assert RecallVin.history.filter(vin=vin(50)).get().history_user.username == "dms"


def test_integration_gets_no_recall_pages(integration, campaign):
    web = logged_in(integration)
    assert web.get(reverse("bookings:recall-list")).status_code == 403


# --- pinned query counts ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rows", [5, 50])
def test_campaign_list_page_query_count_is_pinned(as_manager, head, django_assert_num_queries, rows):
    for n in range(rows):
        recall_vins_import(campaign=campaign_of(head, code=f"C-{n}"), vins=[vin(n), vin(n + 1000)], by=head)
    url = reverse("bookings:recall-list")
    # session, user, the page of campaigns with their counts
    with django_assert_num_queries(3):
        response = as_manager.get(url)
    assert len(response.context["page"]) == rows


@pytest.mark.parametrize("rows", [5, 50])
def test_campaign_detail_page_query_count_is_pinned(as_manager, head, django_assert_num_queries, rows):
    campaign = campaign_of(head)
    recall_vins_import(campaign=campaign, vins=[vin(n) for n in range(rows)], by=head)
    for n in range(0, rows, 2):
        VehicleFactory(vin=vin(n))
        recall_vin_mark_done(recall_vin=campaign.vins.get(vin=vin(n)), by=head)
    # session, user, the campaign with its counts, the page of VINs (with who marked them), the owners' cars
    with django_assert_num_queries(5):
        response = as_manager.get(reverse("bookings:recall-detail", args=[campaign.pk]))
    assert len(response.context["page"]) == rows


@pytest.mark.parametrize("rows", [5, 50])
def test_vin_list_endpoint_query_count_is_pinned(api_as_manager, head, django_assert_num_queries, rows):
    campaign = campaign_of(head)
    recall_vins_import(campaign=campaign, vins=[vin(n) for n in range(rows)], by=head)
    # the campaign, the page of VINs
    with django_assert_num_queries(2):
        response = api_as_manager.get(f"{API}{campaign.pk}/vins/?open=true")
    assert len(response.json()["results"]) == rows
