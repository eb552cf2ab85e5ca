"""The benchmark itself runs: on a small data set loaded by the same three commands `make bench` uses, `python -m
bench` measures every case (both paths doing the work the case says, else it stops) and prints the table."""

import os
import subprocess
import sys
from datetime import time
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from bench.catalogue import CASE_BUILDERS
from bookings.services.setup import working_week_set
from tests.claims.conftest import add_default_categories

WEEK = {weekday: (time(8), time(20)) for weekday in range(5)} | {5: (time(9), time(18)), 6: None}


def database_url() -> str:
    db = connection.settings_dict
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_bench_measures_every_case_on_a_small_set():
    working_week_set(by=None, week=WEEK)
    quiet = {"stdout": StringIO(), "stderr": StringIO(), "verbosity": 0}
    call_command("seed_large", clients=400, vehicles=500, calls=3000, **quiet)
    call_command("seed_large_bookings", bookings=3000, advisors=6, past_days=40, future_days=14, **quiet)
    call_command("seed_large_tasks", tasks=2000, deliveries=100, **quiet)
    call_command("seed_large_documents", count=3000, **quiet)
    call_command("seed_large_fleet", loaners=4, demos=2, days=60, **quiet)
    add_default_categories()  # a transactional test empties the tables the claims migration filled
    call_command("seed_large_claims", count=300, **quiet)

    env = {**os.environ, "DATABASE_URL": database_url(), "DJANGO_SETTINGS_MODULE": "clientdesk.settings.dev"}
    env.pop("REDIS_URL", None)  # the bench queues nothing
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--iterations", "3", "--warmup", "1", "--planned", "300"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "call tasks 2,000" in out
    table = out[out.index("p50/floor") :].splitlines()[2:]
    assert len(table) == len(CASE_BUILDERS)
    names = [line.split("  ")[0] for line in table]
    assert "planner: 300 confirmations" in names
    assert "planner: deal 300 new tasks" in names
    assert "call queue page" in names
    assert all(line.rstrip().endswith(" 3") for line in table)  # the runs column
