"""`manage.py seed_large`: the data set of DOMAIN.md's scale (500,000 clients, 700,000 vehicles, 5,000,000 calls) on
PostgreSQL, in minutes, for the benchmark and for reading query plans on realistic data.

Rows go in with COPY, not through the services: the services spend milliseconds a row on validation and history,
which would make a 6-million-row load take hours. The generator builds what the services would have stored
(E.164 numbers, normalised VINs and plates, consent dates, one primary phone per client...) and the database
constraints, all left in force or re-validated at the end, check it. History is not written: bulk-loaded scale data
has no author and no past, so the historical tables are simply emptied with the rest.

The whole load is one transaction, so an interrupted run leaves the previous data as it was. Inside it the secondary
indexes and foreign keys of the four tables are dropped, the rows copied, and then every index and constraint is
recreated from the definitions read from the catalogue before, and the catalogue compared with what it was: the same
schema comes out, built once in bulk instead of row by row.
"""

import random
import sys
import time
from array import array
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from datetime import time as day_time
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, models, transaction
from django.utils import timezone
from tqdm import tqdm

from accounts.models import User
from accounts.roles import Role
from accounts.services.users import user_create
from calls.models import Call
from clientdesk.models import Heartbeat
from clients.models import Client, ClientPhone, Vehicle
from demo import data as demo_data

MARKER = "seed_large"
STAFF_MANAGERS = 20
MODELS = (Client, ClientPhone, Vehicle, Call)
# The command talks English like the other management output, whatever language the models' names are shown in.
LABELS = {Client: "clients", ClientPhone: "phones", Vehicle: "vehicles", Call: "calls"}
CHUNK = 20_000  # rows between progress-bar updates

CLIENT_SOURCES = ("dms", "call", "walk_in", "website", "referral", "other")
CLIENT_SOURCE_WEIGHTS = (40, 25, 15, 10, 6, 4)
CLIENT_YEARS = 6  # how far back the base goes
CALL_DAYS = 730  # two years of the call log
SHARED_NUMBER_SHARE = 0.005  # clients carrying a number another client has: the duplicates page's work


class Command(BaseCommand):
    help = "Load the large benchmark data set into PostgreSQL with COPY (replaces clients, vehicles and calls)."

    def add_arguments(self, parser):
        parser.add_argument("--clients", type=int, default=500_000)
        parser.add_argument("--vehicles", type=int, default=700_000)
        parser.add_argument("--calls", type=int, default=5_000_000)
        parser.add_argument("--seed", type=int, default=1, help="Random seed; the same seed gives the same data.")
        parser.add_argument(
            "--reuse",
            action="store_true",
            help="Do nothing if a finished load with at least these numbers of rows is already there.",
        )
        parser.add_argument(
            "--keep-indexes",
            action="store_true",
            help="Load with every index and foreign key in place (slower; for comparing the two ways).",
        )

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            raise CommandError(
                "seed_large loads with PostgreSQL's COPY and is meant for PostgreSQL only; "
                "set DATABASE_URL to a PostgreSQL database (the embedded SQLite gets `manage.py seed_demo`)."
            )
        wanted = {Client: options["clients"], Vehicle: options["vehicles"], Call: options["calls"]}
        if min(wanted.values()) < 0 or options["clients"] < 2:
            raise CommandError("Give at least 2 clients and no negative numbers.")
        if options["reuse"] and self._already_loaded(wanted):
            return
        verbose = options["verbosity"] > 0
        log = self._log if verbose else lambda _message: None
        started = time.perf_counter()
        with transaction.atomic():
            managers = self._staff_managers()
            loader = Loader(
                rng=random.Random(options["seed"]),
                manager_ids=managers,
                counts=wanted,
                progress=verbose,
                log=log,
            )
            loader.run(keep_indexes=options["keep_indexes"])
            Heartbeat.objects.update_or_create(name=MARKER, defaults={"beat_at": timezone.now()})
        analyse_started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {', '.join(m._meta.db_table for m in MODELS)}")
        log(f"ANALYZE: {time.perf_counter() - analyse_started:.1f} s")
        counts = ", ".join(f"{LABELS[m]}: {m._default_manager.count():,}" for m in MODELS)
        elapsed = time.perf_counter() - started
        self.stdout.write(self.style.SUCCESS(f"Loaded in {elapsed:.0f} s ({elapsed / 60:.1f} min). {counts}."))

    def _log(self, message: str) -> None:
        self.stdout.write(message)
        self.stdout.flush()

    def _already_loaded(self, wanted: dict[type[models.Model], int]) -> bool:
        marker = Heartbeat.objects.filter(name=MARKER).first()
        have = {model: model._default_manager.count() for model in wanted}
        if marker is None or any(have[model] < number for model, number in wanted.items()):
            reason = "no finished load recorded" if marker is None else "fewer rows than asked for"
            self._log(f"--reuse: {reason}; loading.")
            return False
        counts = ", ".join(f"{LABELS[m]}: {n:,}" for m, n in have.items())
        loaded = f"{marker.beat_at:%Y-%m-%d %H:%M}"
        self.stdout.write(f"The large data set is already loaded ({loaded}; {counts}): reusing it.")
        return True

    def _staff_managers(self) -> list[int]:
        """Ids of the managers calls are logged by; the first load makes a department of 20 if there is none."""
        staff = User.objects.filter(is_active=True, role__in=[Role.MANAGER, Role.HEAD])
        missing = STAFF_MANAGERS - staff.count()
        rng = random.Random(0)
        number = 0
        while missing > 0:
            number += 1
            username = f"mgr{number:02d}"
            if User.objects.filter(username=username).exists():
                continue
            person = demo_data.person(rng)
            # No password: these exist for the calls to point at; set one with `changepassword` to sign in.
            user_create(
                by=None,
                username=username,
                role=Role.MANAGER,
                first_name=person.first_name,
                last_name=person.surname,
            )
            missing -= 1
        return list(staff.order_by("id").values_list("id", flat=True))


class Loader:
    """Generates the rows and streams them into the tables; ids are assigned here, so rows can refer to each other
    without reading anything back."""

    def __init__(
        self,
        *,
        rng: random.Random,
        manager_ids: list[int],
        counts: dict[type[models.Model], int],
        progress: bool,
        log: Callable[[str], None],
    ):
        self.rng = rng
        self.manager_ids = manager_ids
        self.n_clients = counts[Client]
        self.n_vehicles = counts[Vehicle]
        self.n_calls = counts[Call]
        self.progress = progress
        self.log = log
        self.now = timezone.now()
        self.zone = ZoneInfo(settings.TIME_ZONE)
        # Filled while loading and read by later tables: each client's primary number and first vehicle.
        self.primary_numbers: list[str] = [""]
        self.first_vehicle = array("q", bytes(8 * (self.n_clients + 1)))
        self.n_phones = 0

    def run(self, *, keep_indexes: bool) -> None:
        tables = [m._meta.db_table for m in MODELS]
        with connection.cursor() as cursor:
            raw = cursor.connection  # the psycopg connection under Django's wrapper, inside the same transaction
            # Index builds sort in memory instead of on disk; LOCAL ends with the transaction.
            cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
            schema = Schema(cursor, tables)
            before = schema.snapshot()
            self._truncate(cursor, tables)
            dropped = [] if keep_indexes else schema.drop_secondary()
            self._time("clients", lambda: self._copy(raw, Client, self._clients(), self.n_clients))
            self._time("phones", lambda: self._copy(raw, ClientPhone, self._phones(), None))
            self._time("vehicles", lambda: self._copy(raw, Vehicle, self._vehicles(), self.n_vehicles))
            self._time("calls", lambda: self._copy(raw, Call, self._calls(), self.n_calls))
            self._time("indexes and foreign keys", lambda: schema.restore(dropped))
            after = schema.snapshot()
            if after != before:
                raise CommandError(f"The schema changed during the load; rolled back. Before: {before}; after: {after}")
            # Ids were given explicitly, so the sequences know nothing of them yet.
            for table in tables:
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence(%s, 'id'), COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) "  # noqa: S608 - a model's table name
                    f"FROM {connection.ops.quote_name(table)}",
                    [table],
                )

    def _time(self, what: str, step: Callable[[], object]) -> None:
        started = time.perf_counter()
        step()
        self.log(f"{what}: {time.perf_counter() - started:.1f} s")

    def _truncate(self, cursor, tables: list[str]) -> None:
        history = [m.history.model._meta.db_table for m in MODELS]
        cursor.execute(
            """
            SELECT DISTINCT conrelid::regclass::text FROM pg_constraint
            WHERE contype = 'f' AND confrelid = ANY(%s::regclass[]) AND NOT conrelid = ANY(%s::regclass[])
            """,
            [tables, tables + history],
        )
        others = [row[0] for row in cursor.fetchall()]
        if others:
            # Bookings, claims and the like point at clients and calls; they cannot outlive them.
            self.log(f"Also emptied, as they refer to the replaced rows: {', '.join(others)}")
        names = ", ".join(connection.ops.quote_name(t) for t in tables + history)
        cursor.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")

    def _copy(self, raw, model: type[models.Model], rows: Iterator[tuple], total: int | None) -> None:
        copy_rows(raw, model._meta.db_table, copy_columns(model), rows, total=total, progress=self.progress)

    # --- rows ---

    def _moment_between(self, start: datetime, end: datetime) -> datetime:
        return start + timedelta(seconds=self.rng.random() * (end - start).total_seconds())

    def _clients(self) -> Iterator[tuple]:
        rng, now, managers = self.rng, self.now, self.manager_ids
        first_created = now - timedelta(days=365 * CLIENT_YEARS)
        step = (now - first_created) / self.n_clients
        random = rng.random
        for client_id in range(1, self.n_clients + 1):
            # Ids grow with the creation time, as they do when a base fills up over years.
            created_at = first_created + step * (client_id - 1) + timedelta(seconds=random() * 600)
            updated_at = created_at if random() < 0.6 else self._moment_between(created_at, now)
            if random() < 0.03:
                kind, name = "company", demo_data.company_name(rng)
            else:
                kind, name = "person", demo_data.person(rng).full_name
            email = demo_data.email_for(rng, name, client_id % 1000) if random() < 0.3 else ""
            pd_at = marketing_at = None
            if random() < 0.85:
                pd_at = min(created_at + timedelta(seconds=random() * 3600), now)
                if random() < 0.5:
                    marketing_at = pd_at
            source = rng.choices(CLIENT_SOURCES, weights=CLIENT_SOURCE_WEIGHTS)[0]
            yield (
                client_id,
                created_at,
                updated_at,
                kind,
                name,
                Client.search_key(name),
                email,
                "после 18:00" if random() < 0.05 else "",
                "",
                pd_at is not None,
                pd_at,
                marketing_at is not None,
                marketing_at,
                source,
                f"AS{client_id:08d}" if source == "dms" else "",
                managers[int(random() * len(managers))] if random() < 0.6 else None,
                None,
                None,
                "",
            )

    def _phones(self) -> Iterator[tuple]:
        rng, random = self.rng, self.rng.random
        primaries = self.primary_numbers
        phone_id = 0
        fresh = 0
        for client_id in range(1, self.n_clients + 1):
            # The last client always shares, so even a tiny load gives the duplicates page something.
            shares = client_id > 1 and (random() < SHARED_NUMBER_SHARE or client_id == self.n_clients)
            if shares and random() < 0.5:
                # The same person entered twice: the second card has the first one's number as its primary.
                primary = primaries[1 + int(random() * (client_id - 1))]
                extra_shared = None
            else:
                primary = demo_data.unique_mobile_number(fresh)
                fresh += 1
                # A relative's or a company's number: shared, but not the client's main one.
                extra_shared = primaries[1 + int(random() * (client_id - 1))] if shares else None
            primaries.append(primary)
            phone_id += 1
            yield (phone_id, client_id, primary, "mobile", True, "")
            extra = 1 if random() < 0.18 else 0
            extra += 1 if random() < 0.02 else 0
            for _ in range(extra):
                phone_id += 1
                kind = rng.choice(("mobile", "work", "home"))
                yield (phone_id, client_id, demo_data.unique_mobile_number(fresh), kind, False, "")
                fresh += 1
            if extra_shared is not None:
                phone_id += 1
                yield (phone_id, client_id, extra_shared, "mobile", False, "родственник")
        self.n_phones = phone_id

    def _vehicles(self) -> Iterator[tuple]:
        rng, random, now = self.rng, self.rng.random, self.now
        this_year = timezone.localtime(now, self.zone).year
        first_created = now - timedelta(days=365 * CLIENT_YEARS)
        step = (now - first_created) / max(self.n_vehicles, 1)
        first_vehicle = self.first_vehicle
        for vehicle_id in range(1, self.n_vehicles + 1):
            owner = 1 + int(random() * self.n_clients)
            if not first_vehicle[owner]:
                first_vehicle[owner] = vehicle_id
            car = demo_data.pick_car(rng)
            delivered_at = None
            if random() < 0.3:
                # Sold and handed over here, some of them in the last month (the 7-day follow-up's work).
                delivered_at = now - timedelta(seconds=random() * 5 * 365 * 86400)
                year = max(car.first_year, min(car.last_year, delivered_at.year))
            else:
                year = car.first_year + int(random() * (min(car.last_year, this_year) - car.first_year + 1))
            created_at = first_created + step * (vehicle_id - 1)
            yield (
                vehicle_id,
                created_at,
                created_at,
                owner,
                demo_data.vin(car, year, vehicle_id) if random() < 0.97 else "",
                demo_data.plate(rng, vehicle_id) if random() < 0.85 else "",
                car.make,
                car.model,
                year,
                demo_data.COLOURS[int(random() * len(demo_data.COLOURS))],
                max(10, (this_year - year) * 15_000 + int(random() * 10_000)),
                delivered_at,
                f"V{vehicle_id:09d}" if random() < 0.4 else "",
            )

    def _call_days(self) -> list[tuple[datetime, int]]:
        """(opening time, number of calls) for each day of the log; the department works Monday to Saturday, and
        Sunday has only the odd call. Today is left out so no call starts in the future."""
        today = timezone.localtime(self.now, self.zone).date()
        days = [today - timedelta(days=n) for n in range(CALL_DAYS, 0, -1)]
        working = settings.CLIENTDESK["WORKING_WEEKDAYS"]
        weights = [1.0 if d.weekday() in working else 0.1 for d in days]
        scale = self.n_calls / sum(weights)
        counts = [int(w * scale) for w in weights]
        for i in range(self.n_calls - sum(counts)):
            counts[i % len(counts)] += 1
        opens = day_time.fromisoformat(settings.CLIENTDESK["CALLING_WINDOW"][0])
        return [(datetime.combine(d, opens, tzinfo=self.zone), n) for d, n in zip(days, counts, strict=True)]

    def _calls(self) -> Iterator[tuple]:
        rng, random = self.rng, self.rng.random
        primaries, first_vehicle, managers = self.primary_numbers, self.first_vehicle, self.manager_ids
        n_clients = self.n_clients
        with_vehicle = {"booking", "confirmation", "follow_up", "complaint"}
        call_id = 0
        stranger = 0
        for opens, count in self._call_days():
            opens = opens.astimezone(UTC)
            # Sorted within the day, so ids grow with time as they do in a live log.
            for offset in sorted(random() * 12 * 3600 for _ in range(count)):
                call_id += 1
                direction, purpose, outcome = demo_data.call_direction_purpose_outcome(rng)
                if direction == "in" and random() < 0.04:
                    # An unknown caller: only the number, as it was typed.
                    number = demo_data.unique_mobile_number(10**8 + stranger)
                    stranger += 1
                    client_id = vehicle_id = None
                    typed = demo_data.spoken_spelling(rng, number)
                else:
                    client_id = 1 + int(random() * n_clients)
                    number = typed = primaries[client_id]
                    vehicle_id = (first_vehicle[client_id] or None) if purpose in with_vehicle else None
                duration = demo_data.call_duration(rng, outcome)
                started_at = opens + timedelta(seconds=offset)
                notes = rng.choice(demo_data.CALL_NOTES[purpose]) if random() < 0.2 else ""
                yield (
                    call_id,
                    direction,
                    client_id,
                    vehicle_id,
                    typed,
                    number,
                    managers[int(random() * len(managers))],
                    started_at,
                    duration,
                    purpose,
                    outcome,
                    notes,
                    started_at + timedelta(seconds=duration + 30),
                )


COPY_COLUMNS: dict[type[models.Model], tuple[str, ...]] = {
    Client: (
        "id",
        "created_at",
        "updated_at",
        "kind",
        "name",
        "search_name",
        "email",
        "preferred_contact_time",
        "notes",
        "consent_personal_data",
        "consent_personal_data_at",
        "consent_marketing",
        "consent_marketing_at",
        "source",
        "dms_id",
        "assigned_manager_id",
        "merged_into_id",
        "merged_at",
        "data_issue",
    ),
    ClientPhone: ("id", "client_id", "number", "kind", "is_primary", "comment"),
    Vehicle: (
        "id",
        "created_at",
        "updated_at",
        "owner_id",
        "vin",
        "plate",
        "make",
        "model",
        "year",
        "colour",
        "mileage",
        "delivered_at",
        "dms_id",
    ),
    Call: (
        "id",
        "direction",
        "client_id",
        "vehicle_id",
        "phone_number",
        "phone_e164",
        "manager_id",
        "started_at",
        "duration",
        "purpose",
        "outcome",
        "notes",
        "created_at",
    ),
}


def copy_columns(model: type[models.Model]) -> tuple[str, ...]:
    """The columns the loader fills, after checking the model has grown no column the loader would leave NULL."""
    columns = COPY_COLUMNS[model]
    check_columns(model, columns, command="seed_large", path="clients/management/commands/seed_large.py")
    return columns


def check_columns(model: type[models.Model], columns: tuple[str, ...], *, command: str, path: str) -> None:
    """Refuse to load a model that has grown a required column the loader does not fill: COPY would leave it NULL."""
    unfilled = [
        f.column
        for f in model._meta.concrete_fields
        if f.column not in columns and not f.null and f.db_default is models.NOT_PROVIDED
    ]
    if unfilled:
        raise CommandError(
            f"{model._meta.label} has new required columns {command} does not fill: {', '.join(unfilled)}. "
            f"Teach {path} to generate them."
        )


def copy_rows(
    raw,
    table: str,
    columns: tuple[str, ...],
    rows: Iterable[tuple],
    *,
    total: int | None = None,
    progress: bool = False,
    freeze: bool = True,
):
    """Stream rows into a table with binary COPY, with a progress bar on stderr. `freeze` only into a table this
    transaction emptied (PostgreSQL refuses FREEZE elsewhere)."""
    with raw.cursor() as cursor:
        cursor.execute(
            """
            SELECT t.typname FROM unnest(%s::text[]) WITH ORDINALITY AS c(name, n)
            JOIN pg_attribute a ON a.attrelid = %s::regclass AND a.attname = c.name
            JOIN pg_type t ON t.oid = a.atttypid ORDER BY c.n
            """,
            [list(columns), table],
        )
        types = [row[0] for row in cursor.fetchall()]
        column_list = ", ".join(connection.ops.quote_name(c) for c in columns)
        # Binary COPY skips text formatting of every value; FREEZE writes the rows already frozen and visible
        # (allowed because the table was truncated in this transaction), so no VACUUM has to rewrite them later.
        options = "FORMAT BINARY, FREEZE" if freeze else "FORMAT BINARY"
        statement = f"COPY {connection.ops.quote_name(table)} ({column_list}) FROM STDIN ({options})"
        bar = tqdm(
            total=total,
            desc=f"{table:<20}",
            unit=" rows",
            unit_scale=True,
            disable=not progress,
            file=sys.stderr,
            mininterval=0.5,
        )
        with bar, cursor.copy(statement) as copy:
            copy.set_types(types)
            written = 0
            for row in rows:
                copy.write_row(row)
                written += 1
                if written == CHUNK:
                    bar.update(written)
                    written = 0
            bar.update(written)


class Schema:
    """The indexes and constraints of a set of tables, read from the catalogue so they can be dropped for a bulk load
    and recreated exactly."""

    def __init__(self, cursor, tables: list[str]):
        self.cursor = cursor
        self.tables = tables

    def snapshot(self) -> list[tuple]:
        self.cursor.execute(
            """
            SELECT 'index', x.indrelid::regclass::text, i.relname, pg_get_indexdef(x.indexrelid)
            FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
            WHERE x.indrelid = ANY(%(tables)s::regclass[]) AND x.indisvalid
            UNION ALL
            SELECT 'constraint', conrelid::regclass::text, conname, pg_get_constraintdef(oid)
            FROM pg_constraint WHERE conrelid = ANY(%(tables)s::regclass[]) AND convalidated
            ORDER BY 1, 2, 3
            """,
            {"tables": self.tables},
        )
        return self.cursor.fetchall()

    def drop_secondary(self) -> list[str]:
        """Drop the foreign keys and every index that does not back a primary key or unique constraint; returns
        the statements that put them back."""
        self.cursor.execute(
            """
            SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
            FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY(%s::regclass[]) ORDER BY 1, 2
            """,
            [self.tables],
        )
        foreign_keys = self.cursor.fetchall()
        self.cursor.execute(
            """
            SELECT i.relname, pg_get_indexdef(x.indexrelid)
            FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
            WHERE x.indrelid = ANY(%s::regclass[])
              AND NOT EXISTS (
                SELECT 1 FROM pg_constraint k
                WHERE k.conindid = x.indexrelid AND k.conrelid = x.indrelid AND k.contype IN ('p', 'u', 'x')
              )
            ORDER BY 1
            """,
            [self.tables],
        )
        indexes = self.cursor.fetchall()
        quote = connection.ops.quote_name
        for table, name, _definition in foreign_keys:
            self.cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {quote(name)}")
        for name, _definition in indexes:
            self.cursor.execute(f"DROP INDEX {quote(name)}")
        # Indexes first: a foreign key is validated faster once its column is indexed.
        return [definition for _name, definition in indexes] + [
            f"ALTER TABLE {table} ADD CONSTRAINT {quote(name)} {definition}" for table, name, definition in foreign_keys
        ]

    def restore(self, statements: list[str]) -> None:
        for statement in statements:
            self.cursor.execute(statement)
