"""Outbound calls never slip, whatever Celery, Redis or a worker do: real processes on PostgreSQL and Redis.

- two planner processes at once create every task exactly once;
- a worker killed mid-task (its pool process, or the whole worker) leaves no lost and no doubled task;
- with Redis stopped, pages and the API answer normally, and the next planner run after it returns catches up;
- replaying plan_calls (twice to a worker, twice in-process) creates nothing twice.

Workers run the application's own `calls.tasks.plan_calls` with the settings production uses (Redis broker and
results, acks_late, reject_on_worker_lost), pointed at this test's database; the test process talks to the same
Redis by re-pointing the in-process Celery app (tests otherwise use an in-memory broker, settings/test.py).
"""

import ast
import importlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import time as clock
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from django.db import connection
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from bookings.models import Booking
from bookings.selectors.slots import Slot
from bookings.services.bookings import booking_cancel, booking_create, booking_reschedule
from calls.models import CallRules, CallTask
from calls.services.planning import confirmation_due, run_planners
from calls.tasks import plan_calls
from clientdesk.calendar import BusinessCalendar, at, local_date
from clientdesk.models import WorkingHours
from tests.bookings.conftest import working_day
from tests.factories import AdvisorProfileFactory, ClientFactory, ServiceAreaFactory, UserFactory

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
TASK_TABLE = CallTask._meta.db_table
# Beside the repository, as .ci/run finds it; it restarts PostgreSQL and Redis the way CI runs them.
SERVICES_UP = ROOT.parent / "shared" / "ci" / "services-up"

# Subprocesses see only committed rows, so every test commits (transaction=True).
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def working_week():
    """The week the data migration creates: an earlier transactional test's flush removes it, and without working days
    there is nothing to book or plan. (serialized_rollback would restore it too, but it reloads content types by
    primary key, which clash with the ones post_migrate recreates after such a flush.)"""
    default_week = importlib.import_module("clientdesk.migrations.0003_default_working_hours").DEFAULT_WEEK
    if not WorkingHours.objects.exists():
        WorkingHours.objects.bulk_create(
            WorkingHours(weekday=weekday, opens=opens, closes=closes)
            for weekday, (opens, closes) in default_week.items()
        )


# --- data --------------------------------------------------------------------------------------------------------


def make_bookings(day, count: int) -> list[Booking]:
    """`count` scheduled visits on `day`, each in its own quarter of an hour of some advisor's time."""
    area = ServiceAreaFactory()
    client = ClientFactory()
    per_advisor = 90
    advisors = [AdvisorProfileFactory().user for _ in range((count + per_advisor - 1) // per_advisor)]
    rows = []
    for n in range(count):
        starts_at = at(day, clock(0, 15)) + timedelta(minutes=15 * (n % per_advisor))
        rows.append(
            Booking(
                client=client,
                area=area,
                advisor=advisors[n // per_advisor],
                starts_at=starts_at,
                advisor_until=starts_at + timedelta(minutes=10),
                planned_minutes=60,
            )
        )
    return Booking.objects.bulk_create(rows)


def next_working_day():
    """The day whose visits the planner confirms today (plan_calls plans for the real now)."""
    today = local_date(timezone.now())
    return BusinessCalendar().next_working_day(today)


def assert_one_confirmation_each(bookings) -> None:
    counts = dict(
        CallTask.objects.filter(kind="confirmation")
        .values_list("booking_id")
        .annotate(n=Count("id"))
        .values_list("booking_id", "n")
    )
    assert counts == {b.pk: 1 for b in bookings}


# --- processes ---------------------------------------------------------------------------------------------------


def database_url(application_name: str) -> str:
    """This test's database (not the one DATABASE_URL names), tagged to find its sessions in pg_stat_activity."""
    s = connection.settings_dict
    auth = quote(s["USER"] or "") + (f":{quote(s['PASSWORD'])}" if s["PASSWORD"] else "")
    return (
        f"postgres://{auth}@{s['HOST'] or 'localhost'}:{s['PORT'] or 5432}/{s['NAME']}"
        f"?application_name={application_name}"
    )


def process_env(settings_module: str, application_name: str, var_dir: Path) -> dict:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE=settings_module,
        DATABASE_URL=database_url(application_name),
        CONN_MAX_AGE="0",
        CLIENTDESK_VAR_DIR=str(var_dir),
        PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
        PYTHONUNBUFFERED="1",
    )
    return env


def wait_until(check, *, timeout: float = 60, what: str = "the condition", interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def sessions(application_name: str, *, waiting_to_insert: bool = False) -> list[int]:
    """PostgreSQL backends of the processes started with this name; optionally only those whose planner INSERT waits
    for a lock."""
    sql = "SELECT pid FROM pg_stat_activity WHERE application_name = %s AND pid <> pg_backend_pid()"
    params: list = [application_name]
    if waiting_to_insert:
        sql += " AND wait_event_type = 'Lock' AND query LIKE %s"
        params.append(f"%INSERT INTO {TASK_TABLE}%")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [pid for (pid,) in cursor.fetchall()]


@dataclass
class Worker:
    process: subprocess.Popen
    log_path: Path
    application_name: str

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def pool_processes(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        return [int(pid) for pid in children]

    def result(self, task_id: str, *, timeout: float = 60) -> dict:
        """What the task returned, from the worker's log (the in-process result backend is not Redis)."""
        pattern = re.compile(rf"plan_calls\[{task_id}\] succeeded in [\d.]+s: (\{{.*?\}})")
        found = wait_until(
            lambda: pattern.search(self.log), timeout=timeout, what=f"task {task_id} (see {self.log_path})"
        )
        return ast.literal_eval(found.group(1))

    def successes(self, task_id: str) -> int:
        return self.log.count(f"plan_calls[{task_id}] succeeded in ")

    def kill(self) -> None:
        """SIGKILL for the worker and its pool: what the OOM killer or a lost host does."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)


@contextmanager
def celery_worker(tmp_path: Path, queue: str, *, concurrency: int = 1):
    """A real worker as production runs it (prefork, settings from the environment, Redis), on its own queue so
    workers of other test runs sharing this Redis never take its messages."""
    name = f"{queue}-{uuid.uuid4().hex[:6]}"
    log_path = tmp_path / f"{name}.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        [
            str(VENV_BIN / "celery"),
            "-A",
            "clientdesk",
            "worker",
            "--pool=prefork",
            f"--concurrency={concurrency}",
            "-Q",
            queue,
            "-n",
            f"{name}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=INFO",
        ],
        cwd=ROOT,
        env=process_env("clientdesk.settings.dev", name, tmp_path),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    worker = Worker(process, log_path, name)
    try:
        wait_until(lambda: " ready." in worker.log or process.poll() is not None, what="the worker to start")
        assert process.poll() is None, worker.log
        yield worker
    finally:
        if process.poll() is None:
            # Warm shutdown is asked of the main process alone; a SIGTERM to the whole group would kill the pool
            # processes under it.
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        with suppress(ProcessLookupError):  # any pool process left behind by the main process
            os.killpg(process.pid, signal.SIGKILL)
        log.close()
        # A killed process's session can outlive it while it waits for a lock; it must not block the flush.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s", [name])


def unique_queue(label: str) -> str:
    return f"resilience-{label}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


@contextmanager
def celery_app_on(broker_url: str, result_backend: str | None = None):
    """Point the in-process Celery app at a real broker (and result backend) for a while, then back.

    Celery caches the broker connection pool (app.pool), the producer pool (app.amqp) and the result backend on the
    app, and kombu keeps process-wide pools keyed by URL; all are dropped on the way in and out, so nothing made for
    the in-memory broker is reused for Redis and nothing made for Redis outlives the test.
    """
    from kombu import pools

    from clientdesk.celery import app

    keys = ("broker_url", "result_backend", "broker_transport_options")
    saved = {key: app.conf[key] for key in keys}

    def drop_cached_connections():
        pools.reset()
        app._pool = None
        app.amqp._producer_pool = None
        app._backend_cache = None
        vars(app._local).pop("backend", None)

    drop_cached_connections()
    app.conf.update(
        broker_url=broker_url,
        result_backend=result_backend or saved["result_backend"],
        broker_transport_options={"visibility_timeout": 3600},  # as settings/base.py has it for Redis
    )
    try:
        yield app
    finally:
        drop_cached_connections()
        app.conf.update(saved)


@contextmanager
def conflicting_task_held(booking: Booking):
    """Another session inserts, and does not commit, the confirmation task of `booking`: the planner's
    `INSERT … ON CONFLICT DO NOTHING` must wait for it to end, so a planner run stops mid-transaction, with part of
    its rows written, for as long as the test wants. Rolling the yielded session back lets the planner go on."""
    import psycopg
    import psycopg.sql

    s = connection.settings_dict
    session = psycopg.connect(
        dbname=s["NAME"], user=s["USER"], password=s["PASSWORD"] or None, host=s["HOST"], port=s["PORT"] or None
    )
    insert = psycopg.sql.SQL(
        "INSERT INTO {} (kind, client_id, booking_id, due_at, next_attempt_at, status, attempts, outcome, note, "
        "created_at) VALUES ('confirmation', %s, %s, now(), now(), 'open', 0, '', '', now())"
    ).format(psycopg.sql.Identifier(TASK_TABLE))
    session.execute(insert, [booking.client_id, booking.pk])
    try:
        yield session
    finally:
        session.rollback()
        session.close()


def redis_url() -> str:
    return os.environ["REDIS_URL"]


def redis_client():
    import redis

    return redis.Redis.from_url(redis_url())


# --- 1. two planner processes at once ----------------------------------------------------------------------------

PLANNER_PROCESS = """
import json, sys, time
from datetime import datetime
from pathlib import Path

import django

django.setup()
from django.db import connection

from calls.services.planning import run_planners

now, sync, me, rounds = datetime.fromisoformat(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
connection.ensure_connection()
(sync / f"ready-{me}").touch()
for n in range(rounds):
    go, deadline = sync / f"go-{n}", time.monotonic() + 60
    while not go.exists():
        if time.monotonic() > deadline:
            sys.exit(f"no go-{n}")
        time.sleep(0.0002)
    run = run_planners(now=now)
    (sync / f"done-{n}-{me}.tmp").write_text(json.dumps([run.confirmations, run.assigned]))
    (sync / f"done-{n}-{me}.tmp").rename(sync / f"done-{n}-{me}")
"""


def run_planners_in_two_processes(tmp_path: Path, now, visit, batches: list[int]):
    """Two OS processes run `run_planners(now=now)` at the same moment, once per batch; before each round the test
    commits a new batch of bookings on `visit` (so every round races for fresh rows). Returns the bookings and, per
    round, each process's [confirmations created, tasks assigned]."""
    sync = tmp_path / "sync"
    sync.mkdir()
    names = ("a", "b")
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", PLANNER_PROCESS, now.isoformat(), str(sync), name, str(len(batches))],
            cwd=ROOT,
            env=process_env("clientdesk.settings.test", f"planner-{name}", tmp_path),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in names
    ]
    bookings, rounds = [], []
    try:
        wait_until(lambda: all((sync / f"ready-{n}").exists() for n in names), what="both planner processes")
        for n, size in enumerate(batches):
            bookings += make_bookings(visit, size)
            (sync / f"go-{n}").touch()
            wait_until(
                lambda n=n: (
                    all((sync / f"done-{n}-{name}").exists() for name in names) or any(p.poll() for p in processes)
                ),
                what=f"round {n}",
            )
            rounds.append([json.loads((sync / f"done-{n}-{name}").read_text()) for name in names])
        for process in processes:
            process.wait(timeout=30)
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
            _out, err = process.communicate()
            assert process.returncode == 0, err
    return bookings, rounds


@pytest.mark.postgres
@pytest.mark.slow
def test_two_planner_processes_at_once_create_every_task_exactly_once(tmp_path, manager):
    # given: the department's rules, two managers on duty, and a planner that beat would start every few minutes
    CallRules.current()
    colleague = UserFactory(username="colleague", role=Role.MANAGER)
    visit = working_day(3)
    call_day = BusinessCalendar().previous_working_day(visit)
    now = at(call_day, clock(8, 30))
    batches = [120, 60, 0, 90, 30]

    # when: two processes run the planners at the same instant, round after round, while new bookings arrive
    bookings, rounds = run_planners_in_two_processes(tmp_path, now, visit, batches)

    # then: each round, what the two created (and assigned) adds up to the round's new bookings, never more
    assert [sum(created for created, _assigned in r) for r in rounds] == batches
    assert [sum(assigned for _created, assigned in r) for r in rounds] == batches
    # and every booking has exactly one confirmation, due the working day before, dealt to a manager on duty
    assert_one_confirmation_each(bookings)
    assert set(CallTask.objects.values_list("due_at", flat=True)) == {at(call_day, clock(10))}
    # (how evenly is not asserted: dealing by id % managers follows the sequence's gaps, and every conflicting row of
    # INSERT … ON CONFLICT DO NOTHING uses up an id)
    assert set(CallTask.objects.values_list("assignee", flat=True)) == {manager.pk, colleague.pk}
    # and a third run, in this process with the same instant, finds nothing left to do
    again = run_planners(now=now)
    assert (again.created, again.assigned) == (0, 0)


# --- 2. a worker killed mid-task ---------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.slow
def test_a_pool_process_killed_mid_task_is_redelivered_at_once_and_plans_everything_once(tmp_path, manager):
    # given: visits for the next working day, and a worker on Redis
    CallRules.current()
    bookings = make_bookings(next_working_day(), 40)
    queue = unique_queue("killed-child")
    with celery_app_on(redis_url()), celery_worker(tmp_path, queue) as worker:
        # and a planner run stopped half-way through its INSERT, its transaction open
        with conflicting_task_held(bookings[-1]) as held:
            task_id = plan_calls.apply_async(queue=queue).id
            wait_until(lambda: sessions(worker.application_name, waiting_to_insert=True), what="the planner to block")
            (pool_process,) = worker.pool_processes()

            # when: the pool process running it is killed
            os.kill(pool_process, signal.SIGKILL)

            # then: acks_late + reject_on_worker_lost put the message straight back, and the worker's new pool process
            # runs it again while the dead one's transaction is still open (it queues behind it)
            wait_until(
                lambda: len(sessions(worker.application_name, waiting_to_insert=True)) == 2,
                what=f"the task to be redelivered (see {worker.log_path})",
            )
            assert pool_process not in worker.pool_processes()
            held.rollback()
            result = worker.result(task_id)

    # and the dead run left nothing behind (its transaction rolled back), so the second run created everything
    assert result == {"created": 40, "assigned": 40}
    assert worker.successes(task_id) == 1 and "WorkerLostError" in worker.log
    assert_one_confirmation_each(bookings)


def parked_message(task_id: str) -> tuple[bytes, dict] | None:
    """The delivery tag and payload of a message Redis holds as delivered but not acknowledged (kombu's emulation of
    acks: the `unacked` hash, indexed by delivery time in `unacked_index`)."""
    for tag, payload in redis_client().hgetall("unacked").items():
        message, _exchange, _routing_key = json.loads(payload)
        if message["headers"].get("id") == task_id:
            return tag, message
    return None


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.slow
def test_a_whole_worker_killed_mid_task_loses_and_doubles_nothing(tmp_path, manager):
    # given: visits for the next working day, and a worker on Redis whose planner run is stopped half-way
    CallRules.current()
    bookings = make_bookings(next_working_day(), 40)
    queue = unique_queue("killed-worker")
    with celery_app_on(redis_url()):
        with celery_worker(tmp_path, queue) as doomed, conflicting_task_held(bookings[-1]) as held:
            killed_id = plan_calls.apply_async(queue=queue).id
            wait_until(lambda: sessions(doomed.application_name, waiting_to_insert=True), what="the planner to block")

            # when: the whole worker is killed (no process is left to hand the message back)
            doomed.kill()
            held.rollback()
            # (its database session notices the dead client once the lock is released, and rolls back)
            wait_until(lambda: not sessions(doomed.application_name), what="the dead worker's session to end")

        # then: the killed run left no partial effect, and its message is not lost but parked in Redis as unacked
        assert not CallTask.objects.exists()
        assert parked_message(killed_id) is not None

        # when: a new worker starts and beat's next plan_calls arrives
        with celery_worker(tmp_path, queue) as successor:
            next_id = plan_calls.apply_async(queue=queue).id
            assert successor.result(next_id) == {"created": 40, "assigned": 40}
            # the parked message stays parked until visibility_timeout (3600 s, settings/base.py) has passed
            assert parked_message(killed_id) is not None
        assert_one_confirmation_each(bookings)

        # when: an hour has passed (the message's delivery time in kombu's index is moved back past the visibility
        # timeout), a worker starting up restores it to the queue and runs it: a late replay
        tag, _message = parked_message(killed_id)
        redis_client().zadd("unacked_index", {tag: time.time() - 3600 - 60}, xx=True)
        with celery_worker(tmp_path, queue) as later:
            assert later.result(killed_id) == {"created": 0, "assigned": 0}
        assert parked_message(killed_id) is None

    # then: every booking still has exactly one confirmation
    assert_one_confirmation_each(bookings)


# --- 3. Redis stopped --------------------------------------------------------------------------------------------


def redis_address() -> tuple[str, int]:
    parts = urlsplit(redis_url())
    return parts.hostname or "127.0.0.1", parts.port or 6379


def redis_answers() -> bool:
    try:
        with socket.create_connection(redis_address(), timeout=1):
            return True
    except OSError:
        return False


def start_redis() -> subprocess.CompletedProcess:
    if SERVICES_UP.exists():
        return subprocess.run(["bash", str(SERVICES_UP)], capture_output=True, text=True, timeout=120)
    host, port = redis_address()
    return subprocess.run(
        ["redis-server", "--daemonize", "yes", "--bind", host, "--port", str(port), "--save", "", "--appendonly", "no"],
        capture_output=True,
        text=True,
        timeout=60,
    )


@contextmanager
def redis_stopped():
    """Shut the Redis server down for the block, and always bring it back, so later tests and CI have it."""
    host, _port = redis_address()
    if host not in {"127.0.0.1", "localhost", "::1"} or not shutil.which("redis-cli"):
        pytest.skip("stopping Redis needs a local server and redis-cli")
    if not SERVICES_UP.exists() and not shutil.which("redis-server"):
        pytest.skip(f"nothing here could start Redis again ({SERVICES_UP} or redis-server)")
    subprocess.run(["redis-cli", "-u", redis_url(), "shutdown", "nosave"], capture_output=True, timeout=30)
    try:
        wait_until(lambda: not redis_answers(), timeout=30, what="Redis to stop")
        yield
    finally:
        started = start_redis()
        wait_until(redis_answers, timeout=30, what=f"Redis to start again: {started.stdout}{started.stderr}")


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.slow
def test_with_redis_stopped_pages_and_api_work_and_the_next_planner_run_catches_up(
    tmp_path, caplog, manager, as_manager, api_as_manager, car_owner, petrov, sidorov, to2
):
    # given: a worker on Redis, as in production; the in-process app sends to the same Redis (its results stay in
    # memory: how long a request waits for a stopped Redis with results there too is the next test's concern)
    CallRules.current()
    day = next_working_day()
    queue = unique_queue("redis-stopped")
    with celery_app_on(redis_url()), celery_worker(tmp_path, queue) as worker:
        # when: Redis stops, and a manager books a visit for tomorrow in the form while the DMS books one over the API
        # (each booking queues plan_calls after commit; the send fails)
        with redis_stopped():
            page = as_manager.post(
                reverse("bookings:create") + f"?client={car_owner.pk}",
                {
                    "service_types": [to2.pk],
                    "day": day.isoformat(),
                    "slot": Slot(petrov.pk, str(petrov), at(day, clock(11)), at(day, clock(11))).key,
                    "source": "call",
                },
            )
            api = api_as_manager.post(
                "/api/v1/bookings/",
                {
                    "client": car_owner.pk,
                    "advisor": sidorov.pk,
                    "starts_at": at(day, clock(14)).isoformat(),
                    "service_types": [to2.pk],
                },
                format="json",
            )
            search = as_manager.get(reverse("clients:search"), {"q": "912"})
            queue_page = as_manager.get(reverse("calls:queue"))

            # then: every page and the API answer as usual
            answers = {"form": page, "api": api, "search": search, "queue": queue_page}
            assert {name: r.status_code for name, r in answers.items()} == {
                "form": 302,
                "api": 201,
                "search": 200,
                "queue": 200,
            }
            assert car_owner.name in search.content.decode()
            bookings = list(Booking.objects.order_by("starts_at"))
            assert [b.starts_at for b in bookings] == [at(day, clock(11)), at(day, clock(14))]
            # and the planner run the first booking asked for was refused by the broker, logged and lost (the second
            # booking asks for none while that request is pending: one run at a time): no confirmation yet
            assert caplog.text.count("Could not queue calls.tasks.plan_calls") == 1
            assert not CallTask.objects.exists()

        # when: Redis is back; the worker reconnects by itself, and the next planner run reaches it
        wait_until(
            lambda: worker.log.count("Connected to redis://") >= 2,
            timeout=90,
            what=f"the worker to reconnect (see {worker.log_path})",
        )
        task_id = plan_calls.apply_async(queue=queue).id
        result = worker.result(task_id)

    # then: it catches up: each booking made during the outage has its one confirmation, due the working day before
    assert result["created"] == 2
    assert_one_confirmation_each(bookings)
    rules = CallRules.current()
    assert set(CallTask.objects.values_list("due_at", flat=True)) == {confirmation_due(day, rules, BusinessCalendar())}


class WaitedForTheBroker(AssertionError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.redis
@pytest.mark.slow
@pytest.mark.django_db
def test_a_booking_does_not_wait_for_a_redis_that_is_down(
    api_as_manager, car_owner, petrov, to2, django_capture_on_commit_callbacks
):
    # given: the in-process app configured as production is with REDIS_URL (broker and results on Redis), and that
    # Redis unreachable (nothing listens on the port: the refusal a stopped server gives)
    CallRules.current()
    day = next_working_day()
    down = f"redis://127.0.0.1:{free_port()}/15"
    with celery_app_on(down, result_backend=down):
        # when: the DMS books a visit for tomorrow, which queues plan_calls when the booking commits (the callbacks
        # run inside the request, as they do in production at commit)
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            response = api_as_manager.post(
                "/api/v1/bookings/",
                {
                    "client": car_owner.pk,
                    "advisor": petrov.pk,
                    "starts_at": at(day, clock(11)).isoformat(),
                    "service_types": [to2.pk],
                },
                format="json",
            )
        took = time.monotonic() - started

    # then: it is booked, and at once
    assert response.status_code == 201, response.content
    assert callbacks, "the booking's event and its planner run were queued for the commit"
    if took > 3:
        raise WaitedForTheBroker(f"the booking took {took:.1f} s with Redis down")


# --- 4. replays --------------------------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.slow
def test_plan_calls_sent_twice_to_a_worker_and_run_twice_in_process_creates_nothing_twice(tmp_path, manager):
    # given: visits for the next working day, and a worker with two pool processes
    CallRules.current()
    day = next_working_day()
    first_batch = make_bookings(day, 50)
    queue = unique_queue("replay")
    with celery_app_on(redis_url()), celery_worker(tmp_path, queue, concurrency=2) as worker:
        # when: plan_calls is sent twice at once (beat and a booking, or a replayed message)
        ids = [plan_calls.apply_async(queue=queue).id for _ in range(2)]
        results = [worker.result(task_id) for task_id in ids]

    # then: the two runs together created and dealt each task once
    assert sum(r["created"] for r in results) == 50 and sum(r["assigned"] for r in results) == 50
    assert_one_confirmation_each(first_batch)

    # when: more visits are booked and the planners run twice in this process with the same instant
    second_batch = make_bookings(day, 20)
    now = timezone.now()
    runs = [run_planners(now=now), run_planners(now=now)]

    # then: the first run plans only the new visits, the second nothing
    assert [(r.created, r.assigned) for r in runs] == [(20, 20), (0, 0)]
    assert_one_confirmation_each(first_batch + second_batch)


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.slow
def test_a_booking_made_moved_and_cancelled_moves_its_call_through_the_events_with_a_real_worker(tmp_path, manager):
    """The calls app follows bookings only through the events bookings publishes: a visit booked late for the next
    working day is planned by a real worker right away (one coalesced "plan soon" for a burst of bookings), a move
    moves its call and a cancellation cancels it as soon as the booking's transaction commits."""
    # given: a workshop, the call rules and a worker on a queue of its own, taking the app's default queue
    CallRules.current()
    day = next_working_day()
    area = ServiceAreaFactory()
    advisors = [AdvisorProfileFactory().user for _ in range(3)]
    queue = unique_queue("events")
    with celery_app_on(redis_url()) as app, celery_worker(tmp_path, queue, concurrency=1) as worker:
        saved_queue = app.conf.task_default_queue
        app.conf.task_default_queue = queue
        try:
            # when: three visits for the next working day are booked one after the other
            bookings = [
                booking_create(
                    by=manager,
                    client=ClientFactory(),
                    starts_at=at(day, clock(10)),
                    advisor=advisor,
                    area=area,
                    planned_minutes=60,
                )
                for advisor in advisors
            ]
            # then: the worker plans their confirmations without waiting for beat
            wait_until(lambda: CallTask.objects.filter(booking__in=bookings).count() == 3, what="the confirmations")
        finally:
            app.conf.task_default_queue = saved_queue
        runs = worker.log.count("plan_calls[") // 2  # a "received" and a "succeeded" line each
        assert 1 <= runs <= 3, worker.log
        assert_one_confirmation_each(bookings)

    # when: one visit moves to the working day after, another is cancelled
    moved, cancelled = bookings[0], bookings[1]
    later = BusinessCalendar().next_working_day(day)
    booking_reschedule(booking=moved, by=manager, starts_at=at(later, clock(11)))
    booking_cancel(booking=cancelled, by=manager, reason="передумал")

    # then: at once, with no planner run in between
    moved_task = CallTask.objects.get(booking=moved)
    assert moved_task.due_at == confirmation_due(later, CallRules.current(), BusinessCalendar())
    assert moved_task.is_pending
    assert CallTask.objects.get(booking=cancelled).status == CallTask.Status.CANCELLED
    assert CallTask.objects.get(booking=bookings[2]).is_pending
    assert Booking.objects.filter(pk__in=[b.pk for b in bookings]).count() == 3
    assert CallTask.objects.filter(kind="confirmation").count() == 3
