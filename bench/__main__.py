"""`python -m bench [--iterations N | --quick] [--case TEXT] [--case-iterations TEXT=N]`: time the cases.

Runs against the database DATABASE_URL names (PostgreSQL only: the floors talk psycopg). `make bench` loads the
data set first.
"""

import argparse
import contextlib
import os
import random
import statistics
import sys
import time
import warnings

# Timings mean nothing with DEBUG on: every query would be logged and templates checked for changes.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clientdesk.settings.dev")
os.environ["DEBUG"] = "false"

# WhiteNoise warns once that collectstatic has not run; the bench serves no static files.
warnings.filterwarnings("ignore", message="No directory at")

import django  # noqa: E402 - settings must see the environment above first

django.setup()

import psycopg  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

from bench.cases import PLANNED, Bench, Case  # noqa: E402
from bench.catalogue import CASE_BUILDERS  # noqa: E402

settings.DEBUG = False
settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]  # django.test.Client's host


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=200, help="Timed runs of each case (default 200).")
    parser.add_argument("--warmup", type=int, default=20, help="Untimed runs first, to fill caches (default 20).")
    parser.add_argument("--quick", action="store_true", help="30 iterations and 5 warm-up runs: a smoke check.")
    parser.add_argument("--case", default="", help="Only the cases whose name contains this text.")
    parser.add_argument(
        "--case-iterations",
        type=case_iterations,
        action="append",
        default=[],
        metavar="TEXT=N",
        help="Timed runs of the cases whose name contains TEXT (repeatable); by default a slow case's own count.",
    )
    parser.add_argument(
        "--planned", type=int, default=PLANNED, help=f"Confirmations the planner cases make (default {PLANNED:,})."
    )
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    if args.quick:
        args.iterations, args.warmup = 30, 5
    return args


def case_iterations(value: str) -> tuple[str, int]:
    text, _sep, number = value.rpartition("=")
    if not text or not number.isdigit() or int(number) < 1:
        raise argparse.ArgumentTypeError(f"expected TEXT=N with N a positive number, got {value!r}")
    return text, int(number)


def runs(case: Case, args: argparse.Namespace) -> tuple[int, int]:
    """Timed and warm-up runs of a case: its own counts (never more than the command line's), or those asked for."""
    iterations = min(case.iterations, args.iterations) if case.iterations else args.iterations
    warmup = min(case.warmup, args.warmup) if case.warmup is not None else args.warmup
    for text, number in args.case_iterations:
        if text.lower() in case.name.lower():
            iterations = number
    return iterations, warmup


def raw_connection() -> psycopg.Connection:
    db = settings.DATABASES["default"]
    return psycopg.connect(
        dbname=db["NAME"],
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
        host=db.get("HOST") or None,
        port=db.get("PORT") or None,
        autocommit=True,
        prepare_threshold=None,  # plan every query, as Django's client-side-bound queries are
    )


def dataset(raw: psycopg.Connection) -> str:
    tables = {
        "clients": "clients_client",
        "phones": "clients_clientphone",
        "vehicles": "clients_vehicle",
        "calls": "calls_call",
        "bookings": "bookings_booking",
        "deliveries": "clients_delivery",
        "call tasks": "calls_calltask",
        "users": "accounts_user",
    }
    counts = []
    for label, table in tables.items():
        (count,) = raw.execute(f"SELECT count(*) FROM {table}").fetchone()
        counts.append(f"{label} {count:,}")
    version = raw.execute("SHOW server_version").fetchone()[0]
    return f"database {settings.DATABASES['default']['NAME']} (PostgreSQL {version}): " + ", ".join(counts)


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def count_queries(run) -> int:
    """Queries Django sends during `run` (a wrapper, because each request clears connection.queries)."""
    executed = 0

    def counter(execute, sql, params, many, context):
        nonlocal executed
        executed += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counter):
        run()
    return executed


def measure(case: Case, bench: Bench, *, iterations: int, warmup: int) -> dict:
    inputs = case.inputs
    if not inputs:
        raise SystemExit(f"{case.name}: no inputs (is the data set loaded?)")
    with case.session() if case.session else contextlib.nullcontext() as reset:
        return _measure(case, bench, inputs, reset or (lambda: None), iterations=iterations, warmup=warmup)


def _measure(case: Case, bench: Bench, inputs, reset, *, iterations: int, warmup: int) -> dict:
    clock = time.perf_counter

    def timed(run, given) -> float:
        started = clock()
        run(given)
        elapsed = clock() - started
        reset()
        return elapsed

    for i in range(warmup):
        timed(case.app, inputs[i % len(inputs)])
        timed(case.floor, inputs[i % len(inputs)])
    app_queries = count_queries(lambda: case.app(inputs[0]))
    reset()
    bench.floor_queries = 0
    timed(case.floor, inputs[0])
    floor_queries = bench.floor_queries

    app_times, floor_times = [], []
    for i in range(iterations):
        given = inputs[i % len(inputs)]
        # Alternate which goes first, so neither always finds the other's rows already in the caches.
        for run, times in ((case.app, app_times), (case.floor, floor_times))[:: 1 if i % 2 else -1]:
            times.append(timed(run, given))
    app_p50, floor_p50 = statistics.median(app_times), statistics.median(floor_times)
    return {
        "name": case.name,
        "app_p50": app_p50,
        "app_p95": percentile(app_times, 0.95),
        "floor_p50": floor_p50,
        "floor_p95": percentile(floor_times, 0.95),
        "ratio": app_p50 / floor_p50 if floor_p50 else float("inf"),
        "queries": f"{app_queries}/{floor_queries}",
        "runs": iterations,
    }


def table(rows: list[dict]) -> str:
    header = ("case", "app p50", "app p95", "floor p50", "floor p95", "p50/floor", "queries app/floor", "runs")
    lines = [
        (
            r["name"],
            f"{r['app_p50'] * 1000:.2f} ms",
            f"{r['app_p95'] * 1000:.2f} ms",
            f"{r['floor_p50'] * 1000:.2f} ms",
            f"{r['floor_p95'] * 1000:.2f} ms",
            f"{r['ratio']:.1f}x",
            r["queries"],
            str(r["runs"]),
        )
        for r in rows
    ]
    widths = [max(len(str(row[i])) for row in [header, *lines]) for i in range(len(header))]

    def render(row) -> str:
        first, *rest = row
        return "  ".join([f"{first:<{widths[0]}}", *(f"{v:>{w}}" for v, w in zip(rest, widths[1:], strict=True))])

    rule = "-" * len(render(header))
    return "\n".join([render(header), rule, *(render(row) for row in lines)])


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if connection.vendor != "postgresql":
        print("The bench runs on PostgreSQL: set DATABASE_URL (make bench does).", file=sys.stderr)
        return 2
    with raw_connection() as raw:
        print(dataset(raw))
        bench = Bench(raw=raw, rng=random.Random(args.seed), sample=max(args.iterations, 50), planned=args.planned)
        cases = [build(bench) for build in CASE_BUILDERS]
        cases = [c for c in cases if args.case.lower() in c.name.lower()]
        print(
            f"{args.iterations} iterations per case after {args.warmup} warm-up runs (fewer where a case says so: "
            "see runs); times per call."
        )
        for case in cases:
            print(f"  {case.name}: {case.note}")
        print(flush=True)
        rows = []
        for number, case in enumerate(cases, start=1):
            iterations, warmup = runs(case, args)
            started = time.perf_counter()
            rows.append(measure(case, bench, iterations=iterations, warmup=warmup))
            # Progress, on stderr so the table stays whole on stdout: a full run takes a quarter of an hour.
            elapsed = time.perf_counter() - started
            print(f"[{number}/{len(cases)}] {case.name}: {elapsed:.0f} s", file=sys.stderr, flush=True)
        print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
