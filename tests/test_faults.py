"""The desk when something underneath it fails: a broker that hangs, a database that is gone."""

import os
import shutil
import signal
import socket
import subprocess
import time
from datetime import time as clock
from unittest import mock

import pytest
from django.db import InterfaceError, OperationalError, connection
from django.utils import timezone

from bookings.models import Booking
from calls import handlers as calls_events
from clientdesk.calendar import BusinessCalendar, at, local_date
from clientdesk.celery import app, send_after_commit
from clientdesk.tasks import heartbeat
from tests.factories import AdvisorProfileFactory, ServiceAreaFactory, ServiceTypeFactory, client_with_phone

# --- a broker that accepts connections and never answers ----------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def paused_redis():
    """Our own redis-server on a free port (never the shared one), the broker pointed at it, then SIGSTOPped: it
    still accepts TCP connections (the kernel does) but answers nothing, like a hung broker."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    saved = None
    process = subprocess.Popen(  # noqa: S603 - a local test server
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        # By key, not attribute: `app.conf.broker_write_url` is a property that falls back to broker_url, so saving
        # and restoring it as an attribute would leave the paused server's URL behind for later tests.
        saved = {key: app.conf.get(key) for key in ("broker_url", "broker_write_url")}
        app.conf.update(broker_url=f"redis://127.0.0.1:{port}/0", broker_write_url=None)
        os.kill(process.pid, signal.SIGSTOP)
        yield port
    finally:
        if saved:
            app.conf.update(saved)
            app._pool = None
            app.amqp._producer_pool = None
        os.kill(process.pid, signal.SIGCONT)
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.slow
def test_a_hung_broker_fails_the_send_within_the_timeout(paused_redis, db, django_capture_on_commit_callbacks):
    # send_after_commit logs the failure and returns; without socket timeouts it would wait forever
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        send_after_commit(heartbeat)
    assert time.monotonic() - started < 2


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_late_booking_is_saved_and_answered_while_the_broker_hangs(paused_redis, api_as_manager, monkeypatch):
    # given: a visit for the next working day, which asks for a planner run at once (calls.handlers.follow_booking)
    sent = []
    real_send = calls_events.send_after_commit

    def spy(task, *args, **kwargs):
        sent.append(task.name)
        real_send(task, *args, **kwargs)

    monkeypatch.setattr(calls_events, "send_after_commit", spy)
    car_owner = client_with_phone("+79123456789", name="Владелец Машины")
    petrov = AdvisorProfileFactory(user__username="petrov").user
    to2 = ServiceTypeFactory(code="to2", area=ServiceAreaFactory(code="mech"), standard_minutes=60)
    today = local_date(timezone.now())
    tomorrow = BusinessCalendar().next_working_day(today)
    body = {
        "client": car_owner.pk,
        "advisor": petrov.pk,
        "starts_at": at(tomorrow, clock(10)).isoformat(),
        "service_types": [to2.pk],
    }

    started = time.monotonic()
    response = api_as_manager.post("/api/v1/bookings/", body, format="json")
    took = time.monotonic() - started

    assert response.status_code == 201, response.content
    assert sent == ["calls.tasks.plan_calls"]
    assert took < 2
    assert Booking.objects.filter(pk=response.json()["id"]).exists()
    started = time.monotonic()
    assert api_as_manager.get("/healthz").status_code == 200
    assert time.monotonic() - started < 1


# --- a database that is not answering -------------------------------------------------------------------------------


@pytest.fixture
def database_down():
    """Every query fails as it does when PostgreSQL is down or out of connections (the one simulated fault)."""
    with mock.patch.object(connection, "cursor", side_effect=OperationalError("server closed the connection")):
        yield


def test_an_api_list_answers_json_503_with_retry_after_when_the_database_is_down(api_as_manager, database_down):
    response = api_as_manager.get("/api/v1/clients/", headers={"Accept-Language": "en"})
    assert response.status_code == 503
    assert response["Content-Type"].startswith("application/json")
    assert response["Retry-After"] == "30"
    assert "database" in response.json()["detail"]


def test_an_api_call_signed_in_by_session_answers_json_503_too(as_manager):
    with mock.patch.object(connection, "cursor", side_effect=OperationalError("server closed the connection")):
        response = as_manager.get("/api/v1/clients/")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert set(response.json()) == {"detail"}


def test_a_page_answers_a_plain_503_when_the_database_is_down(as_manager):
    with mock.patch.object(connection, "cursor", side_effect=InterfaceError("connection already closed")):
        response = as_manager.get("/clients/", headers={"Accept-Language": "en"})
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response["Content-Type"].startswith("text/html")
    assert b"Temporarily unavailable" in response.content


def test_other_errors_are_not_turned_into_503(as_manager):
    with mock.patch.object(connection, "cursor", side_effect=RuntimeError("a bug")), pytest.raises(RuntimeError):
        as_manager.get("/clients/")


def test_an_outage_met_outside_a_view_is_a_503_too(rf):
    """An exception raised in a middleware (a session read) never reaches process_exception; Django hands it to
    handler500, which still answers 503."""
    from clientdesk.middleware import server_error

    try:
        raise OperationalError("too many connections")
    except OperationalError:
        api, page = server_error(rf.get("/api/v1/clients/")), server_error(rf.get("/clients/"))
    assert (api.status_code, page.status_code) == (503, 503)
    assert api["Retry-After"] == page["Retry-After"] == "30"
    assert api["Content-Type"].startswith("application/json")


def test_an_unexpected_api_error_answers_json_500(as_manager):
    as_manager.raise_request_exception = False
    with mock.patch.object(connection, "cursor", side_effect=RuntimeError("a bug")):
        response = as_manager.get("/api/v1/clients/")
    assert response.status_code == 500
    assert response.json() == {"detail": "Server error."}
