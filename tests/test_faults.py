"""The desk when something underneath it fails: a broker that hangs, a database that is gone."""

import os
import shutil
import signal
import socket
import subprocess
import time
from datetime import time as clock

import pytest
from django.utils import timezone

from bookings.models import Booking
from calls import events as calls_events
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
def paused_redis(monkeypatch):
    """Our own redis-server on a free port (never the shared one), the broker pointed at it, then SIGSTOPped: it
    still accepts TCP connections (the kernel does) but answers nothing, like a hung broker."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
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
        monkeypatch.setattr(app.conf, "broker_url", f"redis://127.0.0.1:{port}/0")
        monkeypatch.setattr(app.conf, "broker_write_url", None)
        os.kill(process.pid, signal.SIGSTOP)
        yield port
    finally:
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
    # given: a visit for the next working day, which asks for a planner run at once (calls.events.follow_booking)
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
    tomorrow = BusinessCalendar(today).next_working_day(today)
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
