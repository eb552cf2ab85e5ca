"""The timeline's lines (drawn in Python by each source's `line`) and the card's call form (drawn by tags): what they
print, escaped, in both languages, the same on the card, its "Show more" pages and the vehicle's page."""

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.template.defaultfilters import date as date_filter
from django.urls import reverse
from django.utils import timezone, translation

from calls.models import Call
from claims.models import Claim
from clients import timeline
from clients.timeline import line_day, line_moment
from reception.models import TintConsultation, TowContractor, TowOrder
from tests.clients.test_vehicle_page import one_of_each
from tests.factories import AdvisorProfileFactory, CallFactory, ClientFactory, VehicleFactory

pytestmark = pytest.mark.django_db

AT = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
NASTY = '<b>Тверская</b> & "7"'
ESCAPED = "&lt;b&gt;Тверская&lt;/b&gt; &amp; &quot;7&quot;"


@pytest.fixture
def car(db):
    owner = ClientFactory(name="Петров Пётр")
    return VehicleFactory(owner=owner, make="Kia", model="Rio", plate="А123ВС77")


def entries_of(html: str) -> list[str]:
    return re.findall(r'class="list-group-item[^"]*?(\b[a-z]+-entry|call-in|call-out|timeline-claim)"', html)


def test_each_kind_of_line_prints_its_facts_and_links_and_escapes_what_people_typed(as_manager, manager, car):
    rows = one_of_each(car, manager, AdvisorProfileFactory().user, AT, NASTY)
    TowOrder.objects.filter(pk=rows["tow"].pk).update(contractor=TowContractor.objects.create(name="Эвакуатор & Ко"))
    TintConsultation.objects.filter(pk=rows["tint"].pk).update(created_by=manager, estimate=Decimal("12345.50"))
    Claim.objects.filter(pk=rows["claim"].pk).update(demand="Д" * 250)

    page = as_manager.get(reverse("clients:vehicle-detail", args=[car.pk]), headers={"Accept-Language": "ru"})
    html = page.content.decode()

    assert NASTY not in html and ESCAPED in html  # the call's notes, the tow's address, the tint's note
    assert "Kia Rio А123ВС77" in html and "Мария Смирнова" in html
    assert f'href="{reverse("bookings:detail", args=[rows["booking"].pk])}"' in html
    assert f'href="{reverse("claims:detail", args=[rows["claim"].pk])}">{rows["claim"].number}</a>' in html
    assert f'href="{reverse("documents:detail", args=[rows["document"].pk])}"' in html
    assert f"Заявка на эвакуатор № {rows['tow'].pk}</a>" in html and "Эвакуатор &amp; Ко" in html
    assert "Предварительная стоимость: 12345,50" in html
    assert "Д" * 199 + "…" in html and "Д" * 200 not in html  # the demand cut to 200 characters
    assert "CSI 87,0%" in html
    assert date_filter(timezone.localtime(AT), "SHORT_DATETIME_FORMAT") in html
    assert set(entries_of(html)) == {
        *("call-in", "booking-entry", "timeline-claim", "document-entry"),
        *("delivery-entry", "tow-entry", "tint-entry", "survey-entry"),
    }


def test_a_call_line_shows_duration_notes_by_line_and_what_a_complaint_offers(as_manager, manager, car):
    CallFactory(
        client=car.owner,
        manager=manager,
        started_at=AT,
        purpose=Call.Purpose.COMPLAINT,
        direction=Call.Direction.OUTBOUND,
        duration=125,
        notes="первая строка\nвторая <строка>",
        phone_e164="+79161234567",
    )
    html = as_manager.get(car.owner.get_absolute_url(), headers={"Accept-Language": "en"}).content.decode()
    assert "<strong>Outbound</strong> · Complaint · Resolved" in html
    assert "+7 916 123-45-67 · 125\N{NO-BREAK SPACE}s" in html  # the figure and its unit stay together
    assert "первая строка<br>вторая &lt;строка&gt;" in html
    claim_from_call = f"{reverse('claims:create')}?call={Call.objects.get().pk}"
    assert f'class="btn btn-sm btn-outline-danger call-action" href="{claim_from_call}"' in html


def test_a_line_is_drawn_the_same_on_the_card_its_more_pages_and_the_vehicle_page(as_manager, manager, car):
    for i in range(25):
        CallFactory(client=car.owner, vehicle=car, manager=manager, started_at=AT - timedelta(hours=i), notes=f"№{i}")
    card = as_manager.get(car.owner.get_absolute_url()).content.decode()
    vehicle_page = as_manager.get(reverse("clients:vehicle-detail", args=[car.pk])).content.decode()
    more = re.search(r'id="timeline-more"[^>]*hx-get="([^"]+)"', card).group(1).replace("&amp;", "&")
    fragment = as_manager.get(more, headers={"HX-Request": "true"}).content.decode()

    def line(html: str, notes: str) -> str:
        return re.search(rf'<div class="list-group-item call-in">(?:(?!list-group-item).)*?{notes}</div>', html).group(
            0
        )

    assert line(card, "№3") == line(vehicle_page, "№3")
    assert "№24" in fragment and "№24" not in card


@pytest.mark.parametrize("language", ["ru", "en"])
def test_line_dates_read_as_the_date_filter_prints_them(language):
    with translation.override(language):
        for moment in (AT, AT + timedelta(days=200, hours=15, minutes=7)):
            assert line_moment(moment) == date_filter(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")
        assert line_day(date(2026, 3, 5)) == date_filter(date(2026, 3, 5), "SHORT_DATE_FORMAT")


def test_a_format_strftime_cannot_print_goes_through_django(monkeypatch):
    # given a short format with a month name (strftime's would be the C locale's, not the language's)
    monkeypatch.setattr(timeline.formats, "get_format", lambda name, *args, **kwargs: "j E Y")
    timeline._strftime_format.cache_clear()
    try:
        with translation.override("ru"):
            assert line_day(date(2026, 3, 5)) == "5 марта 2026"
    finally:
        timeline._strftime_format.cache_clear()


def test_the_call_form_keeps_what_was_typed_and_says_what_is_wrong(as_manager, car):
    other = VehicleFactory(owner=car.owner, make="Lada", model="<Niva>", plate="")
    response = as_manager.post(
        reverse("calls:log-for-client", args=[car.owner.pk]),
        {"direction": "out", "purpose": "zzz", "outcome": "busy", "vehicle": other.pk, "duration_minutes": "700"},
        headers={"HX-Request": "true", "Accept-Language": "en"},
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert 'value="out" class="form-check-input" id="id_direction_1" required checked' in html
    assert '<option value="busy" selected>' in html
    assert f'<option value="{other.pk}" selected>Lada &lt;Niva&gt;</option>' in html
    assert 'class="form-select is-invalid" aria-invalid="true" aria-describedby="id_purpose_error"' in html
    assert "zzz is not one of the available choices" in html
    assert 'name="duration_minutes" value="700"' in html and "less than or equal to 600" in html


def test_the_card_prefills_the_call_form_from_the_address(as_manager, car):
    html = as_manager.get(car.owner.get_absolute_url(), {"phone": "+79161234567", "direction": "out"}).content.decode()
    assert 'value="out" class="form-check-input" id="id_direction_1" required checked' in html
    assert 'name="phone_number" value="+79161234567"' in html
    assert '<option value="" selected>' in html  # no car chosen yet


def test_a_value_its_choices_no_longer_hold_shows_as_stored_not_a_failed_card():
    with translation.override("ru"):
        assert timeline.choice_label(Call.Direction, "in") == "Входящий"
        assert timeline.choice_label(Call.Direction, "<retired>") == "&lt;retired&gt;"  # was a KeyError: the card a 500
