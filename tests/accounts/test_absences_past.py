"""An absence wholly in the past (it ends before today) routes nothing and is a mistyped date: refused by the service
and by the head's form, with the reason beside the end date (issue 9, item 8). An absence already over may still be
left as it is."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.models import Absence
from accounts.services.absences import absence_create, absence_update
from clientdesk.calendar import local_date
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

OVER = "This absence would be over already (it ends before today): check the dates."


def day(offset: int):
    return local_date(timezone.now()) + timedelta(days=offset)


@pytest.fixture
def away(db):
    return UserFactory(username="away", last_name="Отпускова")


@pytest.fixture
def standin(db):
    return UserFactory(username="standin", last_name="Подменова")


@pytest.mark.parametrize(("starts", "ends"), [(-10, -3), (-1, -1)])
def test_an_absence_wholly_in_the_past_is_refused(head, away, standin, starts, ends, settings):
    settings.LANGUAGE_CODE = "en"
    with pytest.raises(ValidationError) as refused:
        absence_create(by=head, user=away, starts_on=day(starts), ends_on=day(ends), substitute=standin)
    assert refused.value.message_dict["ends_on"] == [OVER]
    assert not Absence.objects.exists()


def test_an_absence_ending_today_or_begun_earlier_is_fine(head, away, standin):
    absence = absence_create(by=head, user=away, starts_on=day(-3), ends_on=day(0), substitute=standin)
    assert absence.ends_on == day(0)


def test_moving_an_absence_into_the_past_is_refused_but_an_old_one_keeps_its_reason_editable(head, away, standin):
    absence = absence_create(by=head, user=away, starts_on=day(1), ends_on=day(4), substitute=standin)
    with pytest.raises(ValidationError) as refused:
        absence_update(absence=absence, by=head, starts_on=day(-5), ends_on=day(-2))
    assert "ends_on" in refused.value.message_dict
    absence.refresh_from_db()
    assert (absence.starts_on, absence.ends_on) == (day(1), day(4))
    # an absence that is over (recorded when it was current) may still have its note corrected
    Absence.objects.filter(pk=absence.pk).update(starts_on=day(-9), ends_on=day(-7))
    assert absence_update(absence=absence, by=head, reason="больничный").reason == "больничный"


def test_the_form_refuses_it_beside_the_end_date(as_head, away, standin):
    post = {"user": away.pk, "starts_on": day(-6), "ends_on": day(-2), "substitute": standin.pk, "reason": "отпуск"}
    response = as_head.post(reverse("accounts:absence-create"), post, headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert response.context["form"].errors["ends_on"] == [OVER]
    assert not Absence.objects.exists()
