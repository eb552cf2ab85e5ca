"""Saved, then 500: the call forms, the booking form and the client form carry a one-time token, so a repeated POST
(a retry after a blip that lost the answer, a double click) saves nothing twice and goes to what the first saved."""

import re
import time
import uuid
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.db import OperationalError
from django.test import Client as DjangoTestClient
from django.urls import reverse
from django.utils import timezone

from bookings.models import Booking
from bookings.selectors.slots import Slot
from calls.models import Call
from calls.services import calls as call_services
from clientdesk.models import FormToken
from clientdesk.tasks import FORM_TOKEN_KEEP, purge_form_tokens
from clients.models import Client
from tests.bookings.conftest import area, car_owner, day, moment, petrov, to2  # noqa: F401 - fixtures
from tests.clients.test_client_pages import client_form_data
from tests.concurrency import run_at_once
from tests.factories import client_with_phone

pytestmark = pytest.mark.django_db
EN = {"Accept-Language": "en"}
ALREADY_SAVED = "This form was already sent and saved; here is what it saved."
CALL = {"phone_number": "89031112233", "direction": "in", "purpose": "consultation", "outcome": "resolved"}


def token_in(page: str) -> str:
    [token] = re.findall(r'name="form_token" value="([0-9a-f-]{36})"', page)
    return token


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- the forms carry a fresh token ----------------------------------------------------------------------------------


def test_each_form_is_rendered_with_a_fresh_token(as_manager, car_owner):  # noqa: F811
    pages = [
        reverse("clients:create"),
        reverse("clients:edit", args=[car_owner.pk]),
        reverse("bookings:create") + f"?client={car_owner.pk}",
        reverse("calls:unknown"),
        car_owner.get_absolute_url(),  # the card's "log a call"
    ]
    tokens = []
    for url in pages:
        page = as_manager.get(url).content.decode()
        tokens.append(token_in(page))
    tokens.append(token_in(as_manager.get(pages[0]).content.decode()))
    assert len(set(tokens)) == len(tokens)  # one per rendering, never reused


# --- two POSTs with one token save once -----------------------------------------------------------------------------


def test_a_repeated_client_form_creates_one_client_and_goes_to_it(as_manager):
    # given the new-client form as rendered
    data = client_form_data(form_token=token_in(as_manager.get(reverse("clients:create")).content.decode()))
    # when it is sent twice (the first answer was lost)
    first = as_manager.post(reverse("clients:create"), data)
    second = as_manager.post(reverse("clients:create"), data, headers=EN)
    # then there is one client, and the second answer leads to it, saying so
    client = Client.objects.get()
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == client.get_absolute_url()
    assert messages_of(second)[-1] == ALREADY_SAVED
    spent = FormToken.objects.get()
    assert (spent.object_id, spent.content_type.model, spent.user.username) == (client.pk, "client", "manager")


def test_a_repeated_client_edit_saves_once(as_manager):
    as_manager.post(reverse("clients:create"), client_form_data())
    client = Client.objects.get()
    data = client_form_data(name="Сидоров Сидор Сидорович", form_token=str(uuid.uuid4()))
    for _attempt in range(2):
        response = as_manager.post(reverse("clients:edit", args=[client.pk]), data)
        assert response.status_code == 302 and response["Location"] == client.get_absolute_url()
    assert client.history.filter(history_type="~").count() == 1


def test_a_repeated_booking_form_books_once(as_manager, car_owner, petrov, to2, day):  # noqa: F811
    # given the booking form for a free slot
    url = reverse("bookings:create") + f"?client={car_owner.pk}"
    data = {
        "vehicle": car_owner.vehicles.get().pk,
        "service_types": [to2.pk],
        "day": day.isoformat(),
        "slot": Slot(petrov.pk, str(petrov), moment(day, 11), moment(day, 11)).key,
        "source": "call",
        "form_token": token_in(as_manager.get(url).content.decode()),
    }
    # when it is sent twice
    first = as_manager.post(url, data)
    second = as_manager.post(url, data, headers=EN)
    # then one booking, and the repeat goes to it instead of "this slot is taken"
    booking = Booking.objects.get()
    assert first["Location"] == second["Location"] == booking.get_absolute_url()
    assert messages_of(second)[-1] == ALREADY_SAVED


def test_a_repeated_unknown_caller_form_logs_one_call(as_manager):
    data = CALL | {"form_token": token_in(as_manager.get(reverse("calls:unknown")).content.decode())}
    responses = [as_manager.post(reverse("calls:unknown"), data) for _attempt in range(2)]
    assert [r.status_code for r in responses] == [302, 302]
    assert Call.objects.count() == 1


def test_a_repeated_call_from_the_card_logs_one_call(as_manager):
    # given the card's "log a call" form, sent through HTMX
    client = client_with_phone("+79123456789")
    data = {
        "direction": "out",
        "purpose": "other",
        "outcome": "busy",
        "form_token": token_in(as_manager.get(client.get_absolute_url()).content.decode()),
    }
    url = reverse("calls:log-for-client", args=[client.pk])
    first = as_manager.post(url, data, headers={"HX-Request": "true"})
    # when a double click sends it again (with and without HTMX)
    again = as_manager.post(url, data, headers={"HX-Request": "true"})
    plain = as_manager.post(url, data)
    # then one call; HTMX is told to go to the card, a plain POST is redirected there
    assert first.status_code == 200
    assert Call.objects.get().client == client
    assert again["HX-Redirect"] == client.get_absolute_url()
    assert plain.status_code == 302 and plain["Location"] == client.get_absolute_url()


def test_a_post_without_a_token_is_served_as_before(as_manager):
    for _attempt in range(2):
        assert as_manager.post(reverse("calls:unknown"), CALL).status_code == 302
    assert Call.objects.count() == 2
    assert not FormToken.objects.exists()


# --- a failed submission leaves the token unspent -------------------------------------------------------------------


def test_a_form_error_leaves_the_token_for_the_corrected_form(as_manager):
    token = str(uuid.uuid4())
    refused = as_manager.post(reverse("calls:unknown"), CALL | {"phone_number": "", "form_token": token})
    assert refused.status_code == 400 and not FormToken.objects.exists()
    assert as_manager.post(reverse("calls:unknown"), CALL | {"form_token": token}).status_code == 302
    assert Call.objects.count() == 1


def test_a_post_that_fails_after_the_token_check_leaves_no_token(manager, monkeypatch):
    # given a database that breaks after the call is written (the connection drops before the commit)
    web = DjangoTestClient(raise_request_exception=False)
    web.force_login(manager)
    real_call_log = call_services.call_log

    def call_log_then_blip(**kwargs):
        real_call_log(**kwargs)
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(call_services, "call_log", call_log_then_blip)
    data = CALL | {"form_token": str(uuid.uuid4())}
    # when the form is sent
    assert web.post(reverse("calls:unknown"), data).status_code in (500, 503)
    # then nothing was kept, the token included
    assert not Call.objects.exists() and not FormToken.objects.exists()
    # and the retry saves
    monkeypatch.setattr(call_services, "call_log", real_call_log)
    assert web.post(reverse("calls:unknown"), data).status_code == 302
    assert Call.objects.count() == 1


# --- two at once -----------------------------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_posts_with_one_token_log_one_call(manager, monkeypatch):
    # given a slow save, so that the second POST arrives while the first is still in its transaction
    real_call_log = call_services.call_log

    def slow_call_log(**kwargs):
        call = real_call_log(**kwargs)
        time.sleep(0.5)
        return call

    monkeypatch.setattr(call_services, "call_log", slow_call_log)
    data = CALL | {"form_token": str(uuid.uuid4())}

    def post(_n: int) -> int:
        web = DjangoTestClient(raise_request_exception=True)
        web.force_login(manager)
        return web.post(reverse("calls:unknown"), data).status_code

    # when two POSTs with the same token run at once
    statuses, errors = run_at_once(2, post)

    # then the unique token decides: one call, one token, and both answers are redirects, no 500
    assert errors == []
    assert statuses == [302, 302]
    assert Call.objects.count() == 1
    assert FormToken.objects.count() == 1


# --- old tokens are purged ------------------------------------------------------------------------------------------


def test_beat_purges_the_tokens_of_old_forms(manager):
    old = FormToken.objects.create(
        token=uuid.uuid4(), user=manager, url="/", created_at=timezone.now() - FORM_TOKEN_KEEP
    )
    fresh = FormToken.objects.create(token=uuid.uuid4(), user=manager, url="/")
    FormToken.objects.filter(pk=fresh.pk).update(created_at=timezone.now() - FORM_TOKEN_KEEP + timedelta(hours=1))
    assert purge_form_tokens(batch_size=1) == 1
    assert list(FormToken.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert not FormToken.objects.filter(pk=old.pk).exists()
