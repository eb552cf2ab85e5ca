"""Every time a person sees (messages, notifications, e-mails, notices) is in the dealership's time zone and in the
project's formats, through clientdesk.timefmt. The dealership is in Moscow (UTC+3): a visit at 09:00 local is 06:00
in the database, and 06:00 must never reach a person."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.test import override_settings
from django.urls import reverse
from django.utils import translation

from bookings.models import Booking
from bookings.selectors.slots import Slot
from bookings.services.bookings import booking_create, booking_transition, step_refusal
from bookings.tasks import send_arrival_email
from calls.models import CallRules
from calls.services.planning import follow_up_call_day
from calls.views.calls import follow_up_notice
from clientdesk.models import Notification
from clientdesk.timefmt import local_date_text, local_datetime_text, local_time_text
from clients.services.deliveries import delivery_record
from tests.bookings.conftest import area, car_owner, day, moment, petrov, to2  # noqa: F401 - fixtures
from tests.factories import CallFactory

pytestmark = pytest.mark.django_db
UTC = ZoneInfo("UTC")
EN = {"Accept-Language": "en"}


def slot_key(advisor, when) -> str:
    return Slot(advisor.pk, str(advisor), when, when).key


def book_at_nine(manager, client, advisor, service, on) -> Booking:
    return booking_create(by=manager, client=client, advisor=advisor, starts_at=moment(on, 9), service_types=[service])


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- the helper -----------------------------------------------------------------------------------------------------


@override_settings(TIME_ZONE="Europe/Moscow")
def test_a_utc_moment_reads_in_the_dealerships_zone_and_format():
    # given 06:00 UTC, which is 09:00 in Moscow, and 22:30 UTC, which is already the next day there
    morning = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
    late = datetime(2026, 12, 7, 22, 30, tzinfo=UTC)
    # when / then: English uses the project's formats (clientdesk/formats/en)
    with translation.override("en"):
        assert local_datetime_text(morning) == "7 December 2026, 09:00"
        assert local_time_text(morning) == "09:00"
        assert local_date_text(late) == "8 December 2026"
        assert local_time_text(time(8, 0)) == "08:00"
        assert local_date_text(date(2026, 12, 7)) == "7 December 2026"
    # and Russian uses Django's Russian formats
    with translation.override("ru"):
        assert local_datetime_text(morning) == "7 декабря 2026 г. 9:00"
        assert local_time_text(morning) == "9:00"
        assert local_date_text(late) == "8 декабря 2026 г."


@override_settings(TIME_ZONE="Asia/Yekaterinburg")
def test_the_zone_is_the_configured_one():
    with translation.override("en"):
        assert local_time_text(datetime(2026, 12, 7, 6, 0, tzinfo=UTC)) == "11:00"


# --- the pop-up messages --------------------------------------------------------------------------------------------


def test_booked_message_shows_the_local_time(as_manager, car_owner, petrov, to2, day):  # noqa: F811
    # given a free slot at 09:00 local (06:00 UTC)
    starts = moment(day, 9)
    # when the manager books it
    response = as_manager.post(
        reverse("bookings:create") + f"?client={car_owner.pk}",
        {
            "vehicle": car_owner.vehicles.get().pk,
            "service_types": [to2.pk],
            "day": day.isoformat(),
            "slot": slot_key(petrov, starts),
            "source": "call",
        },
        headers=EN,
    )
    # then the message names the client and the local time, in the one format
    assert response.status_code == 302
    expected = f"Booked: {car_owner}, {local_datetime_text(starts)}."
    assert messages_of(response) == [expected]
    assert "09:00" in expected and "06:00" not in expected


def test_moved_message_shows_the_local_time(as_manager, manager, car_owner, petrov, to2, day):  # noqa: F811
    # given a booking at 09:00
    booking = book_at_nine(manager, car_owner, petrov, to2, day)
    # when it is moved to 15:00
    response = as_manager.post(
        reverse("bookings:reschedule", args=[booking.pk]),
        {"day": day.isoformat(), "slot": slot_key(petrov, moment(day, 15)), "reason": "просил позже"},
        headers=EN,
    )
    # then the message says 15:00 in the project's format (not "2026-12-07 15:00:00+03:00", not 12:00)
    assert response.status_code == 302
    [text] = messages_of(response)
    assert text == f"Moved to {local_datetime_text(moment(day, 15))}."
    assert "15:00" in text and "+03:00" not in text and "12:00" not in text


def test_confirmed_message_shows_the_local_time(as_manager, manager, car_owner, petrov, to2, day):  # noqa: F811
    # given a booking at 09:00
    booking = book_at_nine(manager, car_owner, petrov, to2, day)
    # when the manager confirms it on the card
    response = as_manager.post(reverse("bookings:action", args=[booking.pk, "confirm"]), headers=EN)
    # then the message names the visit by its local time
    [text] = messages_of(response)
    assert "09:00" in text and "06:00" not in text
    assert text.startswith(f"{car_owner} · ")


def test_arrival_notification_and_email_show_the_local_time(manager, car_owner, petrov, to2, day, travel):  # noqa: F811
    # given a visit at 09:00 and its morning
    petrov.email = "petrov@example.com"
    petrov.save(update_fields=["email"])
    booking = book_at_nine(manager, car_owner, petrov, to2, day)
    travel(moment(day, 8, 40))
    # when the client arrives (the e-mail task runs as the worker would)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("bookings.services.bookings.send_after_commit", lambda task, *args: None)
        booking_transition(booking=booking, by=manager, to=Booking.Status.ARRIVED)
    send_arrival_email(booking.pk)
    # then the advisor's notification and e-mail say 09:00 in the dealership's language
    notification = Notification.objects.get(user=petrov)
    assert notification.body.endswith("09:00") and "06:00" not in notification.body
    [message] = mail.outbox
    with translation.override("ru"):
        assert local_time_text(booking.starts_at) in message.body
    assert "9:00" in message.body and "6:00" not in message.body


def test_a_refused_arrival_names_the_visits_local_day_and_time(manager, car_owner, petrov, to2, day):  # noqa: F811
    booking = book_at_nine(manager, car_owner, petrov, to2, day)
    text = step_refusal(booking, Booking.Status.ARRIVED, now=moment(day, 9) - timedelta(days=1))
    assert f"on {local_date_text(day)} at 09:00" in text


def test_the_workshop_hours_in_a_refusal_use_the_time_format(manager, car_owner, petrov, to2, day):  # noqa: F811
    with pytest.raises(Exception) as refused:
        booking_create(by=manager, client=car_owner, advisor=petrov, starts_at=moment(day, 7), service_types=[to2])
    assert "08:00–20:00" in str(refused.value)


def test_the_booking_and_the_call_read_as_local_times(manager, car_owner, petrov, to2, day):  # noqa: F811
    booking = book_at_nine(manager, car_owner, petrov, to2, day)
    call = CallFactory(client=car_owner, manager=manager, started_at=moment(day - timedelta(days=3), 9, 30))
    assert str(booking) == f"{car_owner} · {local_datetime_text(moment(day, 9))}"
    assert "09:30" in str(call) and "06:30" not in str(call)


def test_the_follow_up_notice_names_the_local_day(manager, car_owner):  # noqa: F811
    # given a car handed over yesterday
    handed_over = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=1)
    delivery = delivery_record(by=manager, client=car_owner, vehicle=car_owner.vehicles.get(), delivered_at=handed_over)
    # when the notice is made
    _level, text = follow_up_notice(delivery)
    # then the day is in the one date format
    call_day = follow_up_call_day(delivery, rules=CallRules.current())
    assert text == f"Delivery recorded. The follow-up call is planned for {local_date_text(call_day)}."


def test_a_delivery_reads_as_its_local_day(manager, car_owner):  # noqa: F811
    # given a car handed over at 01:30 in Moscow, which is still the day before in UTC
    handed_over = datetime.now(UTC).replace(hour=22, minute=30, second=0, microsecond=0) - timedelta(days=2)
    delivery = delivery_record(by=manager, client=car_owner, vehicle=car_owner.vehicles.get(), delivered_at=handed_over)
    # then its name carries the dealership's day
    assert str(delivery).endswith(f"({local_date_text(handed_over)})")
    assert local_date_text(handed_over) != local_date_text(handed_over.date())
