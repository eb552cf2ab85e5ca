"""What the database itself refuses in the reception's records, and how the pages and services say it."""

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from clientdesk.errors import Conflict
from reception.models import TintLine, TowContractor, TowOrder
from reception.services.tinting import tint_consultation_create, tint_film_save
from reception.services.tow import tow_contractor_create, tow_contractor_update
from tests.factories import ClientFactory
from tests.reception.conftest import take_order

pytestmark = pytest.mark.django_db


def test_a_tow_service_is_in_the_directory_once_whatever_the_letter_case(head, contractor):
    with pytest.raises(Conflict, match="already in the directory") as refused:
        tow_contractor_create(by=head, name="  эвакуатор-24 ", call_out_rate=1000, rate_per_km=10)
    assert refused.value.field == "name"
    other = tow_contractor_create(by=head, name="Техпомощь", call_out_rate=1000, rate_per_km=10)
    with pytest.raises(Conflict):
        tow_contractor_update(contractor=other, by=head, name="ЭВАКУАТОР-24")
    assert TowContractor.objects.filter(name__iexact="эвакуатор-24").count() == 1
    # The unique index holds it even when the service's check is passed by (two heads at the same moment).
    with pytest.raises(IntegrityError), transaction.atomic():
        TowContractor.objects.create(name="ЭВАКУАТОР-24")


def test_the_directory_page_says_the_name_is_taken_and_adds_nothing(head, web, contractor, settings):
    web.force_login(head)
    web.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the message as written
    response = web.post(
        reverse("reception:contractor-create"),
        {"name": "Эвакуатор-24", "phones": "", "call_out_rate": "100", "rate_per_km": "10", "is_active": "on"},
    )
    assert response.status_code == 400
    assert "already in the directory" in response.content.decode()
    assert TowContractor.objects.count() == 1


def test_the_phone_on_site_is_stored_as_a_full_number_and_the_database_keeps_it_so(manager, car_owner):
    order = take_order(by=manager, client=car_owner)
    assert order.phone_on_site == "+79123456789"
    with pytest.raises(IntegrityError), transaction.atomic():
        TowOrder.objects.filter(pk=order.pk).update(phone_on_site="89123456789")


def test_a_tinted_window_has_a_price_and_a_transmission_the_database_accepts(head):
    film = tint_film_save(by=head, name="Пленка 35", light_transmission=35, prices={"rear": 2500})
    consultation = tint_consultation_create(by=head, client=ClientFactory(), films={"rear": film})
    line = consultation.lines.get()
    for change in ({"price": -1}, {"result_transmission": 101}):
        with pytest.raises(IntegrityError), transaction.atomic():
            TintLine.objects.filter(pk=line.pk).update(**change)
