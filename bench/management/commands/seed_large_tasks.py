"""`manage.py seed_large_tasks`: DOMAIN.md's outbound calls at scale (1,000,000 call tasks by default) over the data
sets `seed_large` and `seed_large_bookings` load, for the benchmark and for reading the queue's query plans.

What the planners and the managers would have left behind after a year and more:
- deliveries (150,000 by default): the newest handovers of the vehicles seed_large marks as delivered that have no
  delivery yet; existing deliveries are kept, never deleted (survey responses may point at them);
- visit confirmations (60% of the tasks), one per booking, for the newest bookings up to the next working day: due
  at the confirmation hour of the working day before the visit and closed as the booking went (confirmed on the call
  or another way, cancelled, unreachable); today's and the next working day's scheduled visits still open. Bookings
  confirmed or cancelled before their call was planned, or made on the day of the visit, get none, as the planner
  skips them;
- 7-day follow-ups (12%), one per delivery, for the newest deliveries whose call day has come;
- campaign calls (18%) of three campaigns of consenting clients: two finished, every call made; one running, its
  members spread over its working days and those of today and before with their task;
- callbacks (the rest), each with only a client: those of the last two months each worked by an outbound call of
  the log, which is linked to its task (Call.task); the open ones due between a few days ago and next week.
The open tasks (a few tens of thousands at the default size, the running campaign's backlog most of them) are dealt
round-robin to the managers on duty, as `calls.planning.assign_new_tasks` deals them; a few are being called. So a
planner run right after the load finds nothing left to plan. A campaign's members are a sample of the consenting
clients sized to the tasks asked for, so its segment is empty.

Replaced: every call task and its history, and the campaigns this command made earlier (known by name and by having
no author) with their members. Kept: the call log (calls pointing at a replaced task lose the link, then a slice is
linked to the new ones), bookings, deliveries, other campaigns. Nothing is emptied with CASCADE: a foreign key into
the task table is dropped for the load and added back, so PostgreSQL refuses the TRUNCATE if anything else still
points at the tasks.

Rows go in with COPY, in one transaction, with the task table's secondary indexes and foreign keys dropped and
recreated (see `seed_large`): every CHECK constraint checks the rows as they are copied, the unique indexes (one task
per booking, per delivery) and the foreign keys check them all when they are built again.
"""

import random
import time
from bisect import bisect_right
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from datetime import time as day_time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, models, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from accounts.models import Absence, User
from accounts.roles import Role
from bench.management.commands.seed_large import CHUNK, Schema, check_columns, copy_rows
from bench.management.commands.seed_large import MARKER as CLIENTS_MARKER
from bench.management.commands.seed_large_bookings import MARKER as BOOKINGS_MARKER
from calls.models import Call, CallRules, CallTask, Campaign, CampaignMember, TaskOutcome
from calls.services.planning import confirmation_due, follow_up_day, next_calling_time
from clientdesk.calendar import BusinessCalendar, at, day_bounds, local_date, local_zone
from clientdesk.models import Heartbeat
from clients.models import Delivery
from demo import data as demo_data

MARKER = "seed_large_tasks"
PATH = "bench/management/commands/seed_large_tasks.py"

# Shares of the tasks asked for; callbacks take the rest, and whatever a kind cannot fill from the data.
CONFIRMATION_SHARE = 0.60
FOLLOW_UP_SHARE = 0.12
FINISHED_CAMPAIGN_SHARE = 0.04  # each of the two finished campaigns
RUNNING_CAMPAIGN_SHARE = 0.10
OPEN_CALLBACK_SHARE = 0.008
# Callbacks of this many recent days are each linked to the logged call that worked them. Every link is an UPDATE of
# a row of the 5-million-row call log and of its nine indexes: 9,000 links (60 days) take about 2 s, all 92,000
# outbound calls of the two years that could be linked 36 s, and as long again to unlink on the next load.
LINKED_CALL_DAYS = 60
# Share of the tasks planned so many working days ago (0: today) still open: the backlog a busy department carries.
OPEN_BY_AGE = (0.9, 0.45, 0.25, 0.12, 0.06)
OPEN_STRAGGLERS = 0.03  # up to two weeks old: retried, not reached yet
STRAGGLING_DAYS = 12  # working days; anything older has been worked
IN_PROGRESS_SHARE = 0.7  # managers on a call right now, each on one of their due tasks

# (name, script, days since the first calling day, days until the last one; negative: past, status).
CAMPAIGNS = (
    (
        "Шиномонтаж со скидкой 20%",
        "Здравствуйте! Это сервисный центр. До конца месяца шиномонтаж со скидкой 20%. Записать вас?",
        200,
        -186,
        Campaign.Status.FINISHED,
    ),
    (
        "Бесплатная диагностика кондиционера",
        "Здравствуйте! Перед летом проверяем кондиционер бесплатно. Удобно заехать на этой неделе?",
        110,
        -96,
        Campaign.Status.FINISHED,
    ),
    (
        "Зимний сервис: аккумулятор и антифриз",
        "Здравствуйте! Готовим машины к зиме: проверим аккумулятор и антифриз за 30 минут. Записать вас?",
        13,
        8,
        Campaign.Status.RUNNING,
    ),
)
CAMPAIGN_NAMES = [name for name, *_rest in CAMPAIGNS]

# Outcomes of a worked follow-up, campaign or callback call: (outcome, closing status, weight).
GENERAL_CLOSED = (
    (TaskOutcome.ANSWERED, CallTask.Status.DONE, 62),
    (TaskOutcome.DECLINED, CallTask.Status.DONE, 18),
    (TaskOutcome.NO_ANSWER, CallTask.Status.UNREACHABLE, 14),
    (TaskOutcome.BUSY, CallTask.Status.UNREACHABLE, 4),
    (TaskOutcome.WRONG_NUMBER, CallTask.Status.UNREACHABLE, 2),
)
# What a logged outbound call's outcome means for the callback task it worked (calls.services' mapping, reversed).
CALL_TO_TASK = {
    Call.Outcome.RESOLVED: (TaskOutcome.ANSWERED, CallTask.Status.DONE),
    Call.Outcome.BOOKED: (TaskOutcome.ANSWERED, CallTask.Status.DONE),
    Call.Outcome.NO_ANSWER: (TaskOutcome.NO_ANSWER, CallTask.Status.UNREACHABLE),
    Call.Outcome.BUSY: (TaskOutcome.BUSY, CallTask.Status.UNREACHABLE),
    Call.Outcome.WRONG_NUMBER: (TaskOutcome.WRONG_NUMBER, CallTask.Status.UNREACHABLE),
}

TASK_COLUMNS = (
    "id",
    "kind",
    "due_at",
    "next_attempt_at",
    "status",
    "attempts",
    "outcome",
    "claimed_at",
    "closed_at",
    "note",
    "created_at",
    "assignee_id",
    "booking_id",
    "claimed_by_id",
    "client_id",
    "delivery_id",
    "campaign_member_id",
)
DELIVERY_COLUMNS = (
    "id",
    "created_at",
    "updated_at",
    "client_id",
    "vehicle_id",
    "delivered_at",
    "sales_manager",
    "dms_id",
)
MEMBER_COLUMNS = ("id", "campaign_id", "client_id", "planned_for")

K, S = CallTask.Kind, CallTask.Status
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


class Command(BaseCommand):
    help = (
        "Load a million call tasks (and deliveries, campaigns) into PostgreSQL with COPY over the scale set of "
        "clients, calls and bookings; replaces every call task, keeps the call log."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tasks", type=int, default=1_000_000)
        parser.add_argument(
            "--deliveries", type=int, default=150_000, help="Deliveries to have (added from delivered vehicles)."
        )
        parser.add_argument("--seed", type=int, default=1, help="Random seed; the same seed gives the same data.")
        parser.add_argument(
            "--reuse",
            action="store_true",
            help="Do nothing if a finished load of at least this many tasks over the current bookings is there.",
        )

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            raise CommandError(
                "seed_large_tasks loads with PostgreSQL's COPY and is meant for PostgreSQL only; "
                "set DATABASE_URL to a PostgreSQL database."
            )
        if options["tasks"] < 1 or options["deliveries"] < 0:
            raise CommandError("Give at least one task and no negative numbers.")
        if options["reuse"] and self._already_loaded(options["tasks"]):
            return
        verbose = options["verbosity"] > 0
        log = self._log if verbose else lambda _message: None
        started = time.perf_counter()
        with transaction.atomic():
            loader = Loader(
                rng=random.Random(options["seed"]),
                tasks=options["tasks"],
                deliveries=options["deliveries"],
                progress=verbose,
                log=log,
            )
            loader.run()
            Heartbeat.objects.update_or_create(name=MARKER, defaults={"beat_at": timezone.now()})
        step = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {', '.join(loader.analysed)}")
            # A reload deleted the earlier members; nothing else clears them where autovacuum is off.
            cursor.execute(f"VACUUM {CampaignMember._meta.db_table}")
        log(f"ANALYZE and VACUUM: {time.perf_counter() - step:.1f} s")
        elapsed = time.perf_counter() - started
        counts = loader.counts
        kinds = ", ".join(f"{kind} {counts[kind]:,}" for kind in K.values)
        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded in {elapsed:.0f} s ({elapsed / 60:.1f} min). call tasks: {counts['tasks']:,} ({kinds}), "
                f"open {counts['open']:,} over {counts['managers']} managers; deliveries added: "
                f"{counts['deliveries']:,}; campaign members: {counts['members']:,}; calls linked to tasks: "
                f"{counts['linked']:,}."
            )
        )

    def _log(self, message: str) -> None:
        self.stdout.write(message)
        self.stdout.flush()

    def _already_loaded(self, wanted: int) -> bool:
        markers = dict(
            Heartbeat.objects.filter(name__in=[MARKER, CLIENTS_MARKER, BOOKINGS_MARKER]).values_list("name", "beat_at")
        )
        loaded = markers.get(MARKER)
        have = CallTask.objects.count()
        if loaded is None:
            reason = "no finished load recorded"
        elif any(markers.get(other, loaded) > loaded for other in (CLIENTS_MARKER, BOOKINGS_MARKER)):
            # seed_large's TRUNCATE ... CASCADE empties the tasks with the clients; seed_large_bookings deletes the
            # confirmations of the bookings it replaces.
            reason = "the clients or bookings were reloaded after the tasks"
        elif have < wanted:
            reason = "fewer tasks than asked for"
        else:
            self.stdout.write(f"The call tasks are already loaded ({loaded:%Y-%m-%d %H:%M}; {have:,}): reusing them.")
            return True
        self._log(f"--reuse: {reason}; loading.")
        return False


class Loader:
    """Reads what the tasks are for, generates the rows and streams them in; ids are assigned in order of creation,
    as a live system's grow, so the open tasks sit together at the end of the table as they would."""

    def __init__(self, *, rng: random.Random, tasks: int, deliveries: int, progress: bool, log: Callable[[str], None]):
        self.rng = rng
        self.wanted = tasks
        self.wanted_deliveries = deliveries
        self.progress = progress
        self.log = log
        self.now = timezone.now()
        self.today = local_date(self.now)
        self.rules = CallRules.current()
        # The managers on duty today, as the planner deals to them (its own query also counts their open tasks,
        # which are about to be replaced).
        absent = Absence.objects.on(self.today).values("user_id")
        on_duty = User.objects.filter(role=Role.MANAGER, is_active=True).exclude(pk__in=absent)
        self.managers = list(on_duty.order_by("pk").values_list("pk", flat=True))
        if not self.managers:
            raise CommandError("No manager on duty to work the tasks: run `manage.py seed_large` first.")
        self.counts = dict.fromkeys(["tasks", "open", "deliveries", "members", "linked", *K.values], 0)
        self.counts["managers"] = len(self.managers)
        self.analysed = [
            CallTask._meta.db_table,
            Delivery._meta.db_table,
            CampaignMember._meta.db_table,
            Campaign._meta.db_table,
            Call._meta.db_table,
        ]
        # Outcomes are stored as the label the manager saw; the department works in the site's language.
        with translation.override(settings.LANGUAGE_CODE):
            self.label = {outcome: str(outcome.label) for outcome in TaskOutcome}
            self.confirmed_elsewhere = gettext("Confirmed another way")
            self.booking_cancelled = gettext("Booking cancelled")
        # (created_at, row without id, (call id, its manager) or None): sorted by creation before the ids are given.
        self.rows: list[tuple] = []
        self.links: list[tuple[int, int]] = []
        self.first_beats: dict[date, datetime] = {}
        self.windows: dict[date, tuple[datetime, datetime]] = {}
        self.zone = local_zone()

    # --- the load ---

    def run(self) -> None:
        for model, columns in (
            (CallTask, TASK_COLUMNS),
            (Delivery, DELIVERY_COLUMNS),
            (CampaignMember, MEMBER_COLUMNS),
        ):
            check_columns(model, columns, command=MARKER, path=PATH)
        task_table, call_table = CallTask._meta.db_table, Call._meta.db_table
        with connection.cursor() as cursor:
            raw = cursor.connection  # the psycopg connection under Django's wrapper, inside the same transaction
            cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
            # Rows the set-up wrote (the call rules) left deferred foreign-key checks pending, and PostgreSQL alters
            # no table that has some; checking now (and each later row at once) lets the load drop constraints.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            watched = Schema(cursor, [task_table, call_table, Delivery._meta.db_table, CampaignMember._meta.db_table])
            before = watched.snapshot()
            detached = self._time("old tasks emptied", lambda: self._empty_tasks(cursor))
            self._time("old campaigns removed", lambda: self._remove_campaigns(cursor))
            self._time("deliveries", lambda: self._add_deliveries(cursor, raw))
            self._time("tasks generated", lambda: self._generate(cursor, raw))
            # The model's own indexes are dropped and made again as the migration made them: recreated from the
            # catalogue's text instead, the partial ones on `status IN (...)` would come back spelled differently.
            with connection.schema_editor(atomic=False) as editor:
                for index in CallTask._meta.indexes:
                    editor.remove_index(CallTask, index)
            tasks = Schema(cursor, [task_table])
            dropped = tasks.drop_secondary()
            self._time("tasks", lambda: self._copy_tasks(raw))
            self._time("indexes and foreign keys", lambda: self._restore_indexes(tasks, dropped))
            self._time("calls linked to their tasks", lambda: self._link_calls(cursor, raw))
            # Added back last, so the check covers the links just made.
            self._time("call log's foreign key to the tasks added back", lambda: _execute_all(cursor, detached))
            after = watched.snapshot()
            if after != before:
                lost, gained = sorted(set(before) - set(after)), sorted(set(after) - set(before))
                raise CommandError(f"The schema changed during the load; rolled back. Lost: {lost}; gained: {gained}")
            # Ids were given explicitly, so the sequences know nothing of them yet.
            for table in (task_table, Delivery._meta.db_table, CampaignMember._meta.db_table):
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence(%s, 'id'), COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) "  # noqa: S608 - a model's table name
                    f"FROM {connection.ops.quote_name(table)}",
                    [table],
                )

    def _restore_indexes(self, tasks: Schema, dropped: list[str]) -> None:
        tasks.restore(dropped)
        with connection.schema_editor(atomic=False) as editor:
            for index in CallTask._meta.indexes:
                editor.add_index(CallTask, index)

    def _time(self, what: str, step: Callable[[], object]):
        started = time.perf_counter()
        result = step()
        self.log(f"{what}: {time.perf_counter() - started:.1f} s")
        return result

    def _empty_tasks(self, cursor) -> list[str]:
        """Empty the task table and its history; returns the statements that put back the foreign keys into it.

        Rows elsewhere keep living: a reference to a task (a call that worked it) is emptied, and its foreign key
        dropped so that TRUNCATE may run. Without CASCADE, PostgreSQL refuses if anything else still points here.
        """
        quote = connection.ops.quote_name
        table = CallTask._meta.db_table
        history = CallTask.history.model._meta.db_table
        cursor.execute(
            """
            SELECT k.conrelid::regclass::text, k.conname, pg_get_constraintdef(k.oid), a.attname, a.attnotnull
            FROM pg_constraint k JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]
            WHERE k.contype = 'f' AND k.confrelid = %s::regclass AND k.conrelid <> k.confrelid
            ORDER BY 1, 2
            """,
            [table],
        )
        restore = []
        for other, name, definition, column, not_null in cursor.fetchall():
            if not_null:
                raise CommandError(f"{other}.{column} must point at a call task; teach {PATH} what to do with it.")
            # Names from the catalogue, not from input.
            cursor.execute(f"UPDATE {other} SET {quote(column)} = NULL WHERE {quote(column)} IS NOT NULL")
            if cursor.rowcount:
                self.log(f"{other}: {cursor.rowcount:,} rows no longer point at the replaced tasks ({column})")
            cursor.execute(f"ALTER TABLE {other} DROP CONSTRAINT {quote(name)}")
            restore.append(f"ALTER TABLE {other} ADD CONSTRAINT {quote(name)} {definition}")
        cursor.execute(f"TRUNCATE {quote(table)}, {quote(history)} RESTART IDENTITY")
        return restore

    def _remove_campaigns(self, cursor) -> None:
        """The campaigns an earlier run made, with their members (their tasks went with the table)."""
        mine = list(Campaign.objects.filter(name__in=CAMPAIGN_NAMES, created_by=None).values_list("pk", flat=True))
        if mine:
            cursor.execute(f"DELETE FROM {CampaignMember._meta.db_table} WHERE campaign_id = ANY(%s)", [mine])
            cursor.execute(f"DELETE FROM {Campaign._meta.db_table} WHERE id = ANY(%s)", [mine])

    def _next_id(self, cursor, model: type[models.Model]) -> int:
        table = model._meta.db_table
        # Nobody else adds rows while the load gives ids: the ids read here stay free until it commits.
        cursor.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")
        return cursor.fetchone()[0]

    def _add_deliveries(self, cursor, raw) -> None:
        """Top the deliveries up to the number asked for from the newest handovers not recorded yet."""
        have = Delivery.objects.count()
        missing = self.wanted_deliveries - have
        if missing <= 0:
            return
        first_id = self._next_id(cursor, Delivery)
        cursor.execute(
            """
            SELECT v.id, v.owner_id, v.delivered_at FROM clients_vehicle v
            JOIN clients_client c ON c.id = v.owner_id AND c.merged_into_id IS NULL
            WHERE v.delivered_at IS NOT NULL AND v.delivered_at <= %s AND NOT EXISTS (
                SELECT 1 FROM clients_delivery d WHERE d.vehicle_id = v.id AND d.delivered_at = v.delivered_at)
            ORDER BY v.delivered_at DESC, v.id LIMIT %s
            """,
            [self.now, missing],
        )
        handovers = cursor.fetchall()
        if len(handovers) < missing:
            self.log(f"Only {len(handovers):,} delivered vehicles without a delivery: that many deliveries added")
        rng = random.Random(2)  # the salespeople's names do not depend on the rest
        sellers = [demo_data.person(rng).full_name for _ in range(8)]
        random_ = self.rng.random
        now = self.now

        def rows() -> Iterator[tuple]:
            # Oldest first, so ids grow with time.
            for number, (vehicle_id, owner_id, delivered_at) in enumerate(reversed(handovers)):
                delivery_id = first_id + number
                pushed = min(delivered_at + timedelta(minutes=5 + 360 * random_()), now)
                yield (
                    delivery_id,
                    pushed,
                    pushed,
                    owner_id,
                    vehicle_id,
                    delivered_at,
                    sellers[int(random_() * len(sellers))],
                    # Most come from the DMS; the rest were entered in the form and carry no DMS id.
                    f"DLV{delivery_id:09d}" if random_() < 0.85 else "",
                )

        copy_rows(raw, Delivery._meta.db_table, DELIVERY_COLUMNS, rows(), freeze=False)
        self.counts["deliveries"] = len(handovers)

    # --- generating the tasks ---

    def _generate(self, cursor, raw) -> None:
        wanted = self.wanted
        cursor.execute("SELECT min(starts_at) FROM bookings_booking")
        first_booking = cursor.fetchone()[0]
        first = min(local_date(first_booking) if first_booking else self.today, self.today - timedelta(days=5 * 366))
        self.calendar = BusinessCalendar()
        working = [hours.day for hours in self.calendar.working_days(first, self.today + timedelta(days=40))]
        self.working = working
        self.working_index = {day: n for n, day in enumerate(working)}

        self._confirmations(cursor, round(wanted * CONFIRMATION_SHARE))
        self._follow_ups(cursor, round(wanted * FOLLOW_UP_SHARE))
        self._campaigns(cursor, raw, wanted)
        self._callbacks(cursor, wanted - len(self.rows))
        self.rows.sort(key=lambda row: row[0])

    def _add(self, created_at: datetime, row: tuple, worked_by: tuple[int, int] | None = None) -> None:
        self.rows.append((created_at, row, worked_by))
        self.counts[row[0]] += 1

    def _age(self, day: date) -> int:
        """Working days from `day` to today (0: today, or the last working day when today is a day off)."""
        today = self.working_index.get(self.today)
        if today is None:
            today = bisect_right(self.working, self.today) - 1
        return today - self.working_index.get(day, today)

    def _is_open(self, day: date) -> bool:
        age = self._age(day)
        if age < len(OPEN_BY_AGE):
            share = OPEN_BY_AGE[age]
        else:
            share = OPEN_STRAGGLERS if age < STRAGGLING_DAYS else 0
        return self.rng.random() < share

    def _window(self, day: date) -> tuple[datetime, datetime]:
        window = self.windows.get(day)
        if window is None:
            window = self.windows[day] = (at(day, self.rules.calling_from), at(day, self.rules.calling_until))
        return window

    def _in_window(self, day: date) -> datetime:
        """A random moment of the calling window on `day`."""
        opens, closes = self._window(day)
        return opens + (closes - opens) * self.rng.random()

    def _call_time(self, moment: datetime) -> datetime:
        """calls.services.planning.next_calling_time, remembered per day: it is asked a million times over a few hundred
        days, and most of its cost is building the same day's window again."""
        day = moment.astimezone(self.zone).date()
        if day not in self.working_index:
            return next_calling_time(moment, self.rules, self.calendar)
        opens, closes = self._window(day)
        if moment < opens:
            return opens
        if moment < closes:
            return moment
        return next_calling_time(moment, self.rules, self.calendar)

    def _open(self, kind: str, client_id: int, due: datetime, created_at: datetime, target: tuple) -> None:
        """A task still to be worked: not tried yet, or tried and due again after the retry spacing."""
        rng, now = self.rng, self.now
        attempts, outcome, next_attempt = 0, "", due
        first_call = max(due, created_at)
        if first_call < now - HOUR and rng.random() < 0.35:
            attempts = 1 if rng.random() < 0.75 else 2
            outcome = self.label[TaskOutcome.NO_ANSWER if rng.random() < 0.8 else TaskOutcome.BUSY]
            retry = timedelta(minutes=self.rules.retry_minutes)
            next_attempt = self._call_time(first_call + attempts * retry + 30 * MINUTE * rng.random())
        self._add(created_at, (kind, due, next_attempt, S.OPEN, attempts, outcome, None, client_id, *target))

    def _closed(
        self,
        kind: str,
        client_id: int,
        due: datetime,
        created_at: datetime,
        target: tuple,
        *,
        choices=GENERAL_CLOSED,
        latest: datetime | None = None,
    ) -> None:
        """A worked task: one call for a talk, the whole series for an unreachable client; closed by `latest`."""
        rng = self.rng
        outcome, status = _weighted(rng, choices)
        attempts = self.rules.max_attempts if outcome in (TaskOutcome.NO_ANSWER, TaskOutcome.BUSY) else 1
        # A task made after its due time (a visit booked late) is called from when it was made.
        first_call = max(due, created_at)
        last_call = first_call + (attempts - 1) * timedelta(minutes=self.rules.retry_minutes) + 3 * HOUR * rng.random()
        closed_at = max(min(self._call_time(last_call), latest or self.now, self.now), created_at)
        row = (kind, due, due, status, attempts, self.label[outcome], closed_at, client_id, *target)
        self._add(created_at, row)

    def _planned_at(self, day: date, earliest: datetime | None = None) -> datetime:
        """When a beat made the task on `day`: just after midnight, or later for what was entered later."""
        first_beat = self.first_beats.get(day)
        if first_beat is None:
            first_beat = self.first_beats[day] = at(day, day_time(0, 5))
        made = first_beat + 10 * MINUTE * self.rng.random()
        if earliest is not None and earliest > made:
            made = earliest + 5 * MINUTE * self.rng.random()
        return min(made, self.now)

    def _confirmations(self, cursor, wanted: int) -> None:
        """One per booking, newest first, as the planner made them on the working day before each visit."""
        if wanted <= 0:
            return
        calendar, rules, now, rng = self.calendar, self.rules, self.now, self.rng
        _start, horizon = day_bounds(calendar.next_working_day(self.today))
        # More than wanted: bookings confirmed or cancelled before their call was planned, or booked on the day of the
        # visit, get none.
        cursor.execute(
            """
            SELECT id, client_id, starts_at, status, confirmed_at, updated_at, created_at FROM bookings_booking
            WHERE starts_at < %s ORDER BY starts_at DESC, id DESC LIMIT %s
            """,
            [horizon, round(wanted * 1.6) + 10],
        )
        due_on: dict[date, tuple[datetime, datetime]] = {}
        made = 0
        for booking_id, client_id, starts_at, status, confirmed_at, updated_at, booked_at in _drain(cursor):
            if made >= wanted:
                break
            visit = local_date(starts_at)
            if local_date(booked_at) >= visit:
                continue  # booked on the day of the visit (a walk-in, say): no call the day before
            if visit not in due_on:
                if not calendar.is_working_day(visit):
                    continue
                due_on[visit] = (confirmation_due(visit, rules, calendar), calendar.previous_working_day(visit))
            due, planning_day = due_on[visit]
            created_at = self._planned_at(planning_day, booked_at)
            target = (booking_id, None, None)
            if status == "scheduled":
                self._open(K.CONFIRMATION, client_id, due, created_at, target)
            elif status == "cancelled":
                if updated_at < created_at:
                    continue  # cancelled before the call was planned: the planner skipped it
                closed_at = min(updated_at, now)
                if updated_at >= due and rng.random() < 0.4:
                    row = (K.CONFIRMATION, due, due, S.DONE, 1, self.label[TaskOutcome.CANCELLED], closed_at)
                else:
                    row = (K.CONFIRMATION, due, due, S.CANCELLED, 0, self.booking_cancelled, closed_at)
                self._add(created_at, (*row, client_id, *target))
            elif confirmed_at is not None:
                if confirmed_at < created_at:
                    continue  # confirmed before the call was planned
                on_the_call = confirmed_at >= due
                outcome = self.label[TaskOutcome.CONFIRMED] if on_the_call else self.confirmed_elsewhere
                row = (K.CONFIRMATION, due, due, S.DONE, int(on_the_call), outcome, min(confirmed_at, now))
                self._add(created_at, (*row, client_id, *target))
            else:
                # Came (or did not) without confirming: nobody answered the calls.
                unreachable = ((TaskOutcome.NO_ANSWER, S.UNREACHABLE, 8), (TaskOutcome.BUSY, S.UNREACHABLE, 2))
                latest = max(starts_at, due)
                self._closed(K.CONFIRMATION, client_id, due, created_at, target, choices=unreachable, latest=latest)
            made += 1

    def _follow_ups(self, cursor, wanted: int) -> None:
        """One per delivery whose call day has come, newest first."""
        if wanted <= 0:
            return
        calendar, rules = self.calendar, self.rules
        cursor.execute(
            "SELECT id, client_id, delivered_at FROM clients_delivery WHERE delivered_at <= %s "
            "ORDER BY delivered_at DESC, id DESC LIMIT %s",
            [self.now - timedelta(days=rules.follow_up_day), wanted + 1000],
        )
        call_days: dict[date, date] = {}
        made = 0
        for delivery_id, client_id, delivered_at in _drain(cursor):
            if made >= wanted:
                break
            handed_over = local_date(delivered_at)
            if handed_over not in call_days:
                call_days[handed_over] = follow_up_day(handed_over, rules, calendar)
            call_day = call_days[handed_over]
            if call_day > self.today:
                continue
            due = self._call_time(self._window(call_day)[0])
            created_at = self._planned_at(call_day)
            target = (None, delivery_id, None)
            if self._is_open(call_day):
                self._open(K.FOLLOW_UP, client_id, due, created_at, target)
            else:
                self._closed(K.FOLLOW_UP, client_id, due, created_at, target)
            made += 1

    def _campaigns(self, cursor, raw, wanted: int) -> None:
        """The three campaigns, their members (a sample of the consenting clients) and the members' tasks."""
        cursor.execute(
            "SELECT id FROM clients_client WHERE consent_marketing AND merged_into_id IS NULL AND created_at < %s "
            "ORDER BY id",
            [self.now - timedelta(days=220)],
        )
        consenting = [row[0] for row in cursor.fetchall()]
        if not consenting:
            return
        rng = self.rng
        campaigns, plans = [], []
        for name, script, since, until, status in CAMPAIGNS:
            starts_on, ends_on = self.today - timedelta(days=since), self.today + timedelta(days=until)
            days = [hours.day for hours in self.calendar.working_days(starts_on, ends_on)]
            come = [day for day in days if day <= self.today]
            if status == Campaign.Status.RUNNING:
                per_day = -(-round(wanted * RUNNING_CAMPAIGN_SHARE) // max(len(come), 1))
                per_day = min(per_day, len(consenting) // len(days))
                members = per_day * len(days)
            else:
                members = min(round(wanted * FINISHED_CAMPAIGN_SHARE), len(consenting))
            launched_at = at(starts_on - DAY, day_time(16)) + HOUR * rng.random()
            campaigns.append(
                Campaign(
                    name=name,
                    script=script,
                    segment={},
                    starts_on=starts_on,
                    ends_on=ends_on,
                    status=status,
                    launched_at=launched_at,
                    created_by=None,
                    created_at=launched_at - 2 * DAY,
                )
            )
            plans.append((days, members))
        # No history, like the rest of the bulk data: bulk_create sends no signals.
        Campaign.objects.bulk_create(campaigns)
        first_id = self._next_id(cursor, CampaignMember)
        member_rows = []
        for campaign, (days, members) in zip(campaigns, plans, strict=True):
            chosen = sorted(rng.sample(consenting, members))
            for n, client_id in enumerate(chosen):
                # As the launch spreads them: the i-th of n clients (by id) on day ⌊i·k/n⌋ of the k days.
                planned_for = days[n * len(days) // members]
                member_id = first_id + len(member_rows)
                member_rows.append((member_id, campaign.pk, client_id, planned_for))
                if planned_for > self.today:
                    continue  # its day has not come: the planner has not made its task yet
                due = self._call_time(self._window(planned_for)[0])
                created_at = self._planned_at(planned_for)
                target = (None, None, member_id)
                if campaign.status == Campaign.Status.RUNNING and self._is_open(planned_for):
                    self._open(K.CAMPAIGN, client_id, due, created_at, target)
                else:
                    self._closed(K.CAMPAIGN, client_id, due, created_at, target)
        copy_rows(raw, CampaignMember._meta.db_table, MEMBER_COLUMNS, member_rows, freeze=False)
        self.counts["members"] = len(member_rows)

    def _callbacks(self, cursor, wanted: int) -> None:
        """Calls back a client asked for: the closed ones worked by an outbound call of the log, the open ones due
        from a few days ago to next week."""
        if wanted <= 0:
            return
        rng, now, rules = self.rng, self.now, self.rules
        opened = min(wanted, round(self.wanted * OPEN_CALLBACK_SHARE))
        cursor.execute(
            """
            SELECT id, client_id, manager_id, started_at, duration, outcome FROM calls_call
            WHERE direction = 'out' AND purpose = 'other' AND client_id IS NOT NULL AND outcome = ANY(%s)
              AND started_at >= %s
            ORDER BY started_at DESC, id DESC LIMIT %s
            """,
            [[outcome.value for outcome in CALL_TO_TASK], now - timedelta(days=LINKED_CALL_DAYS), wanted - opened],
        )
        calls = cursor.fetchall()
        for call_id, client_id, manager_id, started_at, duration, call_outcome in calls:
            outcome, status = CALL_TO_TASK[call_outcome]
            due = started_at - 40 * MINUTE * rng.random()
            attempts = rules.max_attempts if status == S.UNREACHABLE and outcome != TaskOutcome.WRONG_NUMBER else 1
            created_at = due - timedelta(hours=2 + 70 * rng.random())
            closed_at = min(started_at + timedelta(seconds=duration), now)
            row = (K.CALLBACK, due, due, status, attempts, self.label[outcome], closed_at, client_id, None, None, None)
            self._add(created_at, row, (call_id, manager_id))
        cursor.execute("SELECT id FROM clients_client WHERE merged_into_id IS NULL ORDER BY id")
        clients = [row[0] for row in cursor.fetchall()]
        first_day = self.today - timedelta(days=730)
        for _ in range(wanted - len(calls) - opened):
            # Worked by a call that is not linked to it (see LINKED_CALL_DAYS).
            due = self._call_time(self._in_window(first_day + timedelta(days=rng.randrange(725))))
            created_at = due - timedelta(hours=2 + 70 * rng.random())
            self._closed(K.CALLBACK, rng.choice(clients), due, created_at, (None, None, None))
        for _ in range(opened):
            due = self._call_time(self._in_window(self.today + timedelta(days=rng.randint(-3, 9))))
            created_at = min(due - timedelta(hours=1 + 96 * rng.random()), now)
            client_id = rng.choice(clients)
            if rng.random() < 0.3:
                # Called, and asked to be called back at this time.
                row = (K.CALLBACK, due, due, S.OPEN, 1, self.label[TaskOutcome.CALL_BACK], None, client_id)
                self._add(created_at, (*row, None, None, None))
            else:
                self._open(K.CALLBACK, client_id, due, created_at, (None, None, None))

    # --- writing them ---

    def _task_rows(self) -> Iterator[tuple]:
        """The task rows with their ids, assignees and claims; collects the links from calls to their tasks."""
        rng, now = self.rng, self.now
        managers = self.managers
        on_a_call: set[int] = set()
        for task_id, (created_at, row, call) in enumerate(self.rows, start=1):
            kind, due, next_attempt, status, attempts, outcome, closed_at, client_id, booking, delivery, member = row
            claimed_by = claimed_at = None
            if closed_at is None:
                # Dealt as assign_new_tasks deals them: round-robin, in the order they were made.
                assignee = managers[self.counts["open"] % len(managers)]
                self.counts["open"] += 1
                if assignee not in on_a_call and next_attempt <= now and rng.random() < IN_PROGRESS_SHARE:
                    on_a_call.add(assignee)
                    status, claimed_by, claimed_at = S.IN_PROGRESS, assignee, now - 15 * MINUTE * rng.random()
            elif call is not None:
                call_id, assignee = call
                self.links.append((call_id, task_id))
            else:
                assignee = managers[int(rng.random() * len(managers))]
            yield (
                task_id,
                kind,
                due,
                next_attempt,
                status,
                attempts,
                outcome,
                claimed_at,
                closed_at,
                "",
                created_at,
                assignee,
                booking,
                claimed_by,
                client_id,
                delivery,
                member,
            )
        self.counts["tasks"] = len(self.rows)

    def _copy_tasks(self, raw) -> None:
        copy_rows(
            raw, CallTask._meta.db_table, TASK_COLUMNS, self._task_rows(), total=len(self.rows), progress=self.progress
        )
        self.rows = []

    def _link_calls(self, cursor, raw) -> None:
        """Point each call that worked a callback at its task: one UPDATE of that slice of the log."""
        if not self.links:
            return
        cursor.execute("CREATE TEMPORARY TABLE seed_task_links (call_id bigint, task_id bigint) ON COMMIT DROP")
        copy_rows(raw, "seed_task_links", ("call_id", "task_id"), self.links, freeze=False)
        cursor.execute(
            f"UPDATE {Call._meta.db_table} k SET task_id = l.task_id FROM seed_task_links l WHERE k.id = l.call_id"
        )
        self.counts["linked"] = cursor.rowcount


def _weighted(rng: random.Random, choices) -> tuple:
    total = sum(weight for *_pair, weight in choices)
    draw = rng.random() * total
    for outcome, status, weight in choices:
        draw -= weight
        if draw < 0:
            return outcome, status
    return choices[-1][0], choices[-1][1]


def _execute_all(cursor, statements: list[str]) -> None:
    for statement in statements:
        cursor.execute(statement)


def _drain(cursor) -> Iterator[tuple]:
    """A query's rows in batches, so a million of them are not all converted to Python at once."""
    while batch := cursor.fetchmany(CHUNK):
        yield from batch
