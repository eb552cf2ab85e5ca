"""Real processes: the embedded default that `make run` starts (SQLite, kombu's filesystem broker, runserver, a
Celery worker and beat under honcho), and a worker on Redis when REDIS_URL is set (CI)."""

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def embedded_env(var_dir: Path) -> dict:
    # PATH is left as the caller's: `make serve` must find the virtualenv's programs by itself, as on a fresh machine.
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if Path(p) != VENV_BIN)
    env.update(CLIENTDESK_VAR_DIR=str(var_dir), DJANGO_SETTINGS_MODULE="clientdesk.settings.dev", PYTHONUNBUFFERED="1")
    return env


def run(args, env, timeout=180):
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=True)


def wait_for(url: str, timeout: float = 60) -> bytes:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - a local test server
                return response.read()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_embedded_default_runs_web_worker_and_beat(tmp_path):
    # given: a fresh embedded setup, as `make run` makes it
    env = embedded_env(tmp_path)
    run([sys.executable, "manage.py", "migrate", "--noinput"], env)
    run([sys.executable, "manage.py", "seed_demo"], env)
    run([sys.executable, "manage.py", "seed_workshop"], env)
    run([sys.executable, "manage.py", "seed_demo_work"], env)
    run([sys.executable, "manage.py", "seed_reception"], env)
    port = free_port()
    env.update(HOST="127.0.0.1", PORT=str(port))
    log = open(tmp_path / "honcho.log", "w")  # noqa: SIM115 - closed in finally
    stack = subprocess.Popen(
        ["make", "--no-print-directory", "serve", f"VENV={VENV_BIN.parent}", f"PORT={port}"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        # then: the web server answers, with its static files served from the npm packages
        base = f"http://127.0.0.1:{port}"
        assert b'"database": "ok"' in wait_for(f"{base}/healthz")
        assert b"csrfmiddlewaretoken" in wait_for(f"{base}/accounts/login/")
        assert b"Bootstrap" in wait_for(f"{base}/static/vendor/bootstrap/css/bootstrap.min.css")
        assert b"htmx" in wait_for(f"{base}/static/vendor/htmx/htmx.min.js")

        # and a task sent to the filesystem broker is taken and run by the worker, which writes to the database
        result = run(
            [
                sys.executable,
                "-c",
                "import django; django.setup();"
                "from clientdesk.tasks import heartbeat, ping;"
                "print(ping.delay().get(timeout=90)); heartbeat.delay().get(timeout=90)",
            ],
            env,
            timeout=120,
        )
        assert result.stdout.strip() == "pong"
        with sqlite3.connect(tmp_path / "db.sqlite3") as db:
            assert db.execute("SELECT count(*) FROM clientdesk_heartbeat WHERE name = 'beat'").fetchone() == (1,)

        # and beat is up with the schedule from settings
        deadline = time.monotonic() + 30
        while b"beat: Starting" not in (tmp_path / "honcho.log").read_bytes():
            assert time.monotonic() < deadline, (tmp_path / "honcho.log").read_text()
            time.sleep(0.5)

        # when: the user presses Ctrl-C (the terminal sends SIGINT to the whole foreground group)
        os.killpg(stack.pid, signal.SIGINT)
        stack.wait(timeout=30)
        # then: web, worker and beat stop by themselves (the worker's warm shutdown finishes what it runs), nothing
        # is killed, the recipe reports no error, and make ends as any program stopped with Ctrl-C does (the shell
        # shows 130): GNU make always re-raises the SIGINT it was sent, whatever its recipe answered
        log.flush()
        output = (tmp_path / "honcho.log").read_text()
        assert stack.returncode == -signal.SIGINT, output
        assert "Warm shutdown" in output and "make: ***" not in output and "Traceback" not in output, output
        assert "ERROR" not in output and "SIGKILL" not in output, output
        assert "ClientDesk stopped." in output
    finally:
        if stack.poll() is None:
            os.killpg(stack.pid, signal.SIGKILL)
            stack.wait(timeout=30)
        log.close()


@pytest.mark.redis
def test_worker_on_redis_runs_a_task(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(DJANGO_SETTINGS_MODULE="clientdesk.settings.dev", CLIENTDESK_VAR_DIR=str(tmp_path))
    queue = f"smoke-{os.getpid()}"
    worker = subprocess.Popen(
        [str(VENV_BIN / "celery"), "-A", "clientdesk", "worker", "--pool=solo", "-Q", queue, "--without-gossip"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        result = run(
            [
                sys.executable,
                "-c",
                "import django; django.setup();"
                "from clientdesk.tasks import ping;"
                f"print(ping.apply_async(queue={queue!r}).get(timeout=60))",
            ],
            env,
            timeout=90,
        )
        assert result.stdout.strip() == "pong"
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)
