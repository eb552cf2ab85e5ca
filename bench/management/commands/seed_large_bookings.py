"""`manage.py seed_large_bookings`: DOMAIN.md's 1,500,000 workshop bookings on top of the scale set `seed_large`
loads, for the benchmark and for reading the booking pages' query plans on realistic data.

Three years back and sixty days ahead, for forty service advisors: the past completed, cancelled (with a reason) or
no-show; today's partly arrived, in service and late; the next weeks scheduled and confirmed, fuller the nearer they
are. Each booking is one of its advisor's reception slots inside the day's working hours, as the slot picker offers
them, and no two occupying bookings of an advisor overlap: the exclusion constraint checks every row. Each area's
daily capacity is sized from the load so that most days fit and the busiest tenth are full; a booking that no longer
fits takes work another area has room for, and only when every area is full does the head override (with a reason).
The clients and vehicles are those already loaded; recall campaigns over some of their VINs are added, so the board's
recall lookup has rows to find.

The set-up goes through the services, as a department head would make it: `seed_workshop` for the areas, service
types, holidays and its two advisors; the holidays of the earlier years loaded; advisors added up to `--advisors`
with 15- or 20-minute slots (a 30-minute slot for everyone would not hold 1.5 million visits in three years); the
areas' capacities set from the load. The bookings themselves go in with COPY, for the reason seed_large gives: the
services would take hours. No history and no transition trail are written for them: bulk-loaded data has no author,
and the trail is read only on one booking's card, through its own index, so it changes none of the plans measured.

One transaction, like seed_large: the secondary indexes and foreign keys of the loaded tables are dropped, the rows
copied, everything recreated from the catalogue and compared with what was there. The exclusion constraint is kept
during the load by default; `--exclusion rebuild` drops it and adds it back, which builds its GiST index and checks
every row at the end instead. On the 2-core bench machine the two cost about the same (1.5 million rows: copying
with the constraint 86-92 s; copying without it 34-37 s plus 61-65 s to add it back), so the default never leaves
the table unguarded.
"""

import math
import random
import time
from array import array
from bisect import bisect
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from io import StringIO
from itertools import accumulate

from django.apps import apps
from django.contrib.postgres.constraints import ExclusionConstraint
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, models, transaction
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from accounts.services.users import user_create
from bench.management.commands.seed_large import MARKER as CLIENTS_MARKER
from bench.management.commands.seed_large import Schema, check_columns, copy_rows
from bookings.models import (
    AdvisorProfile,
    Booking,
    BookingTransition,
    RecallCampaign,
    RecallVin,
    ServiceArea,
    ServiceType,
)
from bookings.services.recalls import recall_campaign_create
from bookings.services.setup import MAX_CAPACITY_MINUTES, advisor_profile_set, calendar_day_set, service_area_update
from clientdesk.calendar import BusinessCalendar, local_date
from clientdesk.errors import Conflict
from clientdesk.models import CalendarDay, Heartbeat
from demo import data as demo_data
from demo.management.commands.seed_workshop import HOLIDAYS, NEW_YEARS_EVE

MARKER = "seed_large_bookings"
PATH = "bench/management/commands/seed_large_bookings.py"

# New advisors get these slot lengths in turn: mostly a quarter of an hour at reception.
NEW_ADVISOR_SLOTS = (15, 15, 15, 20)
# How full the advisors' reception grid is on an ordinary past day, relative to the others, by weekday.
WEEKDAY_FILL = {0: 1.06, 1: 1.0, 2: 0.96, 3: 1.0, 4: 1.04, 5: 0.9, 6: 0.9}
MAX_FILL = 0.97  # a day never books every slot: someone always calls in late
FULL_AHEAD_DAYS = 7  # the next week is booked as full as the past; later days thin out
FAR_FILL = 0.12  # what is left two months ahead
# Freed bookings per occupying one: in the past cancellations and no-shows, ahead only cancellations.
PAST_CANCELLED, PAST_NO_SHOW, FUTURE_CANCELLED = 0.10, 0.06, 0.05
CAPACITY_QUANTILE = 0.9  # an area's capacity covers this share of ordinary weekdays; the busiest are full

# The weight of each seed_workshop service type in the bookings (types the head adds later weigh 1).
TYPE_WEIGHTS = {
    "to-1": 20,
    "to-2": 8,
    "diagnostics": 7,
    "computer-diagnostics": 8,
    "oil-change": 14,
    "brake-pads": 6,
    "suspension": 3,
    "recall": 3,
    "tyre-change": 12,
    "wheel-alignment": 5,
    "body-repair": 2,
    "paint-panel": 3,
    "tinting": 1.5,
}
# Tyres are changed in spring and autumn: the months' multiplier of those types' weight.
SEASONAL = {"tyre-change": {3: 1.5, 4: 3.0, 5: 1.5, 10: 3.0, 11: 2.0}}
SECOND_TYPE_SHARE = 0.3  # bookings with a second service; mostly from the same area
WITHOUT_VEHICLE_SHARE = 0.03
LATE_SHARE = 0.06  # today's clients past their time who have not come yet: the board's "late"

CANCEL_REASONS = (
    "Клиент перенёс визит",
    "Клиент передумал",
    "Машина продана",
    "Не успевает к назначенному времени",
    "Выбрал другой сервис",
    "Заболел",
    "Запчасти не пришли",
    "Дублирующая запись",
    "Ремонт по гарантии в другом дилерском центре",
)
COMMENTS = (
    "Стук спереди справа",
    "Клиент ждёт в зоне ожидания",
    "Нужен подменный автомобиль",
    "Заберёт вечером",
    "Проверить по отзывной кампании",
    "Масло клиента",
    "Позвонить перед выдачей",
)
OVERRIDE_REASON = "Постоянный клиент, согласовано руководителем"

# Recall campaigns: code, name, days since it started, days until it ends (None: no end), share of the scale set's
# VINs it lists, share of those already done. One has ended; the others are open.
CAMPAIGNS = (
    ("RC-BRK-01", "Замена шланга тормозной системы", 400, None, 0.022, 0.55),
    ("RC-AIR-02", "Замена газогенератора подушки безопасности", 240, 365, 0.018, 0.4),
    ("RC-ECU-03", "Обновление ПО блока управления двигателем", 90, 120, 0.02, 0.25),
    ("RC-FUE-04", "Проверка топливного насоса", 30, 300, 0.012, 0.1),
    ("RC-STR-05", "Осмотр рулевой тяги", 700, -200, 0.01, 0.8),
    ("WR-COR-06", "Антикоррозийная обработка порогов", 150, None, 0.01, 0.3),
    ("WR-BAT-07", "Замена аккумулятора по гарантии", 60, 200, 0.008, 0.15),
)

BOOKING_COLUMNS = (
    "id",
    "created_at",
    "updated_at",
    "starts_at",
    "advisor_until",
    "planned_minutes",
    "comment",
    "source",
    "status",
    "cancel_reason",
    "confirmed_at",
    "arrived_at",
    "capacity_override_reason",
    "dms_id",
    "advisor_id",
    "client_id",
    "created_by_id",
    "vehicle_id",
    "area_id",
)
TYPE_LINK_COLUMNS = ("id", "booking_id", "servicetype_id")
RECALL_VIN_COLUMNS = ("id", "campaign_id", "vin", "done_at", "done_by_id", "done_booking_id")

S = Booking.Status
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)


class Command(BaseCommand):
    help = (
        "Load 1.5 million workshop bookings (and recall campaigns) into PostgreSQL with COPY, over the clients and "
        "vehicles seed_large loaded; replaces every booking and campaign."
    )

    def add_arguments(self, parser):
        parser.add_argument("--bookings", type=int, default=1_500_000)
        parser.add_argument("--past-days", type=int, default=3 * 365, help="How far back the bookings go (days).")
        parser.add_argument("--future-days", type=int, default=60, help="How far ahead they are already booked.")
        parser.add_argument("--advisors", type=int, default=40, help="Service advisors to have (added if missing).")
        parser.add_argument("--recall-share", type=float, default=1.0, help="Scales the campaigns' VIN lists.")
        parser.add_argument("--seed", type=int, default=1, help="Random seed; the same seed gives the same data.")
        parser.add_argument(
            "--reuse",
            action="store_true",
            help="Do nothing if a finished load of at least this many bookings over the current clients is there.",
        )
        parser.add_argument(
            "--keep-indexes",
            action="store_true",
            help="Load with every index and foreign key in place (slower; for comparing the two ways).",
        )
        parser.add_argument(
            "--exclusion",
            choices=("keep", "rebuild"),
            default="keep",
            help="Keep the advisors' exclusion constraint while copying (default), or drop it and add it back.",
        )

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            raise CommandError(
                "seed_large_bookings loads with PostgreSQL's COPY and is meant for PostgreSQL only; "
                "set DATABASE_URL to a PostgreSQL database."
            )
        if options["bookings"] < 1 or options["past_days"] < 1 or options["future_days"] < 0 or options["advisors"] < 1:
            raise CommandError("Give at least one booking, one past day and one advisor, and no negative numbers.")
        if options["reuse"] and self._already_loaded(options["bookings"]):
            return
        verbose = options["verbosity"] > 0
        log = self._log if verbose else lambda _message: None
        started = time.perf_counter()
        rng = random.Random(options["seed"])
        with transaction.atomic():
            step = time.perf_counter()
            workshop = Workshop.prepare(advisors=options["advisors"], past_days=options["past_days"], log=log)
            plan = Plan(
                workshop=workshop,
                rng=rng,
                bookings=options["bookings"],
                past_days=options["past_days"],
                future_days=options["future_days"],
            )
            workshop.size_capacities(plan, log=log)
            log(f"set-up and plan: {time.perf_counter() - step:.1f} s")
            loader = Loader(workshop=workshop, plan=plan, rng=rng, progress=verbose, log=log)
            loader.run(
                keep_indexes=options["keep_indexes"],
                rebuild_exclusion=options["exclusion"] == "rebuild",
                recall_share=options["recall_share"],
            )
            Heartbeat.objects.update_or_create(name=MARKER, defaults={"beat_at": timezone.now()})
        step = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {', '.join(loader.tables)}")
        log(f"ANALYZE: {time.perf_counter() - step:.1f} s")
        elapsed = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded in {elapsed:.0f} s ({elapsed / 60:.1f} min). bookings: {loader.counts['bookings']:,}, "
                f"their services: {loader.counts['services']:,}, campaign VINs: {loader.counts['vins']:,}; "
                f"{len(workshop.advisors)} advisors, {plan.working_days:,} working days "
                f"({plan.first_day} to {plan.last_day}); head's capacity overrides: {loader.counts['overrides']:,}."
            )
        )

    def _log(self, message: str) -> None:
        self.stdout.write(message)
        self.stdout.flush()

    def _already_loaded(self, wanted: int) -> bool:
        marker = Heartbeat.objects.filter(name=MARKER).first()
        clients = Heartbeat.objects.filter(name=CLIENTS_MARKER).first()
        have = Booking.objects.count()
        if marker is None:
            reason = "no finished load recorded"
        elif clients is not None and clients.beat_at > marker.beat_at:
            # seed_large replaced the clients since, and its TRUNCATE ... CASCADE took the bookings with them.
            reason = "the clients were reloaded after the bookings"
        elif have < wanted:
            reason = "fewer bookings than asked for"
        else:
            loaded = f"{marker.beat_at:%Y-%m-%d %H:%M}"
            self.stdout.write(f"The bookings are already loaded ({loaded}; {have:,} bookings): reusing them.")
            return True
        self._log(f"--reuse: {reason}; loading.")
        return False


# --- the workshop ----------------------------------------------------------------------------------------------


@dataclass
class Advisor:
    user_id: int
    slot_minutes: int


@dataclass
class Workshop:
    """The set-up the bookings are made in: areas, service types, advisors, who books."""

    areas: list[ServiceArea]
    types: list[ServiceType]
    advisors: list[Advisor]
    managers: list[int]
    integration_id: int | None
    head_id: int
    today: date
    capacity: list[int] = field(default_factory=list)

    @classmethod
    def prepare(cls, *, advisors: int, past_days: int, log: Callable[[str], None]) -> "Workshop":
        today = local_date(timezone.now())
        # Areas, service types, this and next year's holidays and two advisors, exactly as `make run` gets them.
        call_command("seed_workshop", stdout=StringIO())
        added = _past_holidays(first=today - timedelta(days=past_days), today=today)
        made = _advisors_up_to(advisors)
        if added or made:
            log(f"set-up: {added} holidays of earlier years and {made} advisors added")
        head = _head()
        managers = list(
            User.objects.filter(is_active=True, role__in=[Role.MANAGER, Role.HEAD])
            .order_by("id")
            .values_list("id", flat=True)
        )
        if not managers:
            raise CommandError("No managers to have made the bookings: run `manage.py seed_large` first.")
        profiles = (
            AdvisorProfile.objects.filter(is_active=True, user__is_active=True, user__role=Role.ADVISOR)
            .select_related("user")
            .order_by("user_id")
        )
        types = list(
            ServiceType.objects.filter(is_active=True, area__is_active=True).select_related("area").order_by("id")
        )
        areas = sorted({t.area for t in types}, key=lambda a: a.pk)
        integration = User.objects.filter(is_active=True, role=Role.INTEGRATION).order_by("id").first()
        return cls(
            areas=areas,
            types=types,
            advisors=[Advisor(p.user_id, p.slot_minutes) for p in profiles],
            managers=managers,
            integration_id=integration.pk if integration else None,
            head_id=head.pk,
            today=today,
        )

    def size_capacities(self, plan: "Plan", *, log: Callable[[str], None]) -> None:
        """Each area's daily capacity: what the busiest tenth of ordinary weekdays asks of it, so those are full."""
        per_booking = plan.area_minutes_per_booking
        demands: dict[int, list[float]] = defaultdict(list)
        for day in plan.days:
            if day.date < self.today and day.date.weekday() < 5:
                for index, minutes in enumerate(per_booking[day.date.month]):
                    demands[index].append(day.occupying * minutes)
        capacity = []
        for index, area in enumerate(self.areas):
            ordered = sorted(demands[index]) or [0.0]
            wanted = ordered[min(len(ordered) - 1, int(CAPACITY_QUANTILE * len(ordered)))]
            longest = max(t.standard_minutes for t in self.types if t.area_id == area.pk)
            minutes = min(MAX_CAPACITY_MINUTES, max(longest, 60 * math.ceil(wanted / 60)))
            if minutes == MAX_CAPACITY_MINUTES:
                log(f"{area.code}: capacity capped at {MAX_CAPACITY_MINUTES} minutes; more of its days will be full")
            if area.daily_capacity_minutes != minutes:
                service_area_update(area=area, by=None, daily_capacity_minutes=minutes)
                area.daily_capacity_minutes = minutes
            capacity.append(minutes)
        self.capacity = capacity
        log("capacity per day: " + ", ".join(f"{a.code} {c:,} min" for a, c in zip(self.areas, capacity, strict=True)))


def _past_holidays(*, first: date, today: date) -> int:
    """seed_workshop's public holidays for the years before this one that the bookings reach back to."""
    wanted = []
    for year in range(first.year, today.year):
        wanted += [
            (date(year, month, day), {"kind": CalendarDay.Kind.HOLIDAY, "note": note}) for month, day, note in HOLIDAYS
        ]
        month, day, opens, closes, note = NEW_YEARS_EVE
        wanted.append(
            (date(year, month, day), {"kind": CalendarDay.Kind.SHORT, "opens": opens, "closes": closes, "note": note})
        )
    existing = set(CalendarDay.objects.filter(date__in=[day for day, _ in wanted]).values_list("date", flat=True))
    added = 0
    for day, fields in wanted:
        if day in existing:
            continue
        try:
            with transaction.atomic():
                calendar_day_set(by=None, date=day, replace=False, **fields)
        except (ValidationError, Conflict):
            # A short day on a regular day off, say: seed_workshop leaves those to the head, and so does this.
            continue
        added += 1
    return added


def _advisors_up_to(number: int) -> int:
    """Add advisors (users with the advisor role and a reception slot) until `number` receive clients."""
    # Names from a source of their own: the bookings come out the same whether the advisors were there or not.
    rng = random.Random(0)
    receiving = AdvisorProfile.objects.filter(is_active=True, user__is_active=True, user__role=Role.ADVISOR)
    missing = number - receiving.count()
    made = 0
    serial = 0
    while made < missing:
        serial += 1
        username = f"adv{serial:02d}"
        if User.objects.filter(username=username).exists():
            continue
        person = demo_data.person(rng)
        # No password, like seed_large's managers: set one with `changepassword` to sign in as them.
        user = user_create(
            by=None, username=username, role=Role.ADVISOR, first_name=person.first_name, last_name=person.surname
        )
        advisor_profile_set(by=None, user=user, slot_minutes=NEW_ADVISOR_SLOTS[serial % len(NEW_ADVISOR_SLOTS)])
        made += 1
    return made


def _head() -> User:
    """The department head whose name stands behind the few bookings over an area's capacity."""
    head = User.objects.filter(is_active=True, role=Role.HEAD).order_by("id").first()
    if head is not None:
        return head
    person = demo_data.person(random.Random(1))
    return user_create(
        by=None, username="head01", role=Role.HEAD, first_name=person.first_name, last_name=person.surname
    )


def _references(cursor, targets: list[str], besides: list[str]) -> list[tuple[str, str, str, str, bool]]:
    """The foreign keys of tables other than `besides` into `targets`: table, name, definition, column, NOT NULL."""
    cursor.execute(
        """
        SELECT k.conrelid::regclass::text, k.conname, pg_get_constraintdef(k.oid), a.attname, a.attnotnull
        FROM pg_constraint k JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]
        WHERE k.contype = 'f' AND k.confrelid = ANY(%s::regclass[]) AND NOT k.conrelid = ANY(%s::regclass[])
        ORDER BY 1, 2
        """,
        [targets, besides],
    )
    return cursor.fetchall()


# --- the plan: how many bookings each day gets -------------------------------------------------------------------


@dataclass
class Day:
    date: date
    start: datetime  # opening time, UTC
    grid: list[tuple[int, int]]  # (minutes after opening, advisor index) of every reception slot
    occupying: int = 0
    freed: int = 0


class Plan:
    """The days, their reception grids and the number of bookings each gets, summing exactly to what was asked."""

    def __init__(
        self, *, workshop: Workshop, rng: random.Random, bookings: int, past_days: int, future_days: int
    ) -> None:
        self.workshop = workshop
        self.rng = rng
        today = workshop.today
        self.first_day = today - timedelta(days=past_days)
        self.last_day = today + timedelta(days=future_days)
        calendar = BusinessCalendar()
        grids: dict[int, list[tuple[int, int]]] = {}
        self.days: list[Day] = []
        for hours in calendar.working_days(self.first_day, self.last_day):
            if hours.minutes not in grids:
                grids[hours.minutes] = [
                    (slot * advisor.slot_minutes, index)
                    for index, advisor in enumerate(workshop.advisors)
                    for slot in range(hours.minutes // advisor.slot_minutes)
                ]
            self.days.append(Day(hours.day, hours.start.astimezone(UTC), grids[hours.minutes]))
        if not self.days or not workshop.advisors:
            raise CommandError("No working day or no advisor in the range: check the working week.")
        self.working_days = len(self.days)
        self._share(bookings)
        self.type_weights = self._type_weights()
        # For each type, the others that may come with it in one booking: of its own area, and of any.
        types = workshop.types
        self.companions = {
            t.pk: ([o for o in types if o.area_id == t.area_id and o.pk != t.pk], [o for o in types if o.pk != t.pk])
            for t in types
        }
        self.area_minutes_per_booking = self._area_minutes()

    def _share(self, bookings: int) -> None:
        """Fill each day's grid in proportion to how busy such a day is; find the scale that gives `bookings`."""
        today = self.workshop.today
        rng = self.rng
        shapes, freed_share = [], []
        for day in self.days:
            ahead = (day.date - today).days
            shape = WEEKDAY_FILL[day.date.weekday()] * rng.uniform(0.9, 1.1)
            if ahead > FULL_AHEAD_DAYS:
                span = max((self.last_day - today).days - FULL_AHEAD_DAYS, 1)
                shape *= max(FAR_FILL, 1 - (1 - FAR_FILL) * (ahead - FULL_AHEAD_DAYS) / span)
            shapes.append(shape)
            freed_share.append(FUTURE_CANCELLED if ahead > 0 else PAST_CANCELLED + PAST_NO_SHOW)

        def total(scale: float) -> float:
            return sum(
                min(MAX_FILL, scale * shape) * len(day.grid) * (1 + freed)
                for day, shape, freed in zip(self.days, shapes, freed_share, strict=True)
            )

        if total(1 / min(shapes)) < bookings:
            most = int(total(1 / min(shapes)))
            raise CommandError(
                f"{bookings:,} bookings do not fit: {len(self.workshop.advisors)} advisors' slots over "
                f"{self.working_days} working days hold about {most:,}. "
                "Add advisors (--advisors) or days (--past-days)."
            )
        low, high = 0.0, 1 / min(shapes)
        for _ in range(60):
            middle = (low + high) / 2
            low, high = (middle, high) if total(middle) < bookings else (low, middle)
        for day, shape, freed in zip(self.days, shapes, freed_share, strict=True):
            day.occupying = int(min(MAX_FILL, high * shape) * len(day.grid))
            day.freed = int(day.occupying * freed)
        # Rounding left a few hundred over or under: past days absorb them as cancellations, one each in turn.
        past = [day for day in self.days if day.date < today] or self.days
        rest = bookings - sum(day.occupying + day.freed for day in self.days)
        order = rng.sample(past, len(past))
        position = 0
        while rest:
            day = order[position % len(order)]
            position += 1
            if rest > 0 and day.freed < len(day.grid):
                day.freed += 1
                rest -= 1
            elif rest < 0 and (day.freed or day.occupying):
                if day.freed:
                    day.freed -= 1
                else:
                    day.occupying -= 1
                rest += 1

    def _type_weights(self) -> dict[int, list[float]]:
        """Cumulative weights of the service types for each month (tyres in their seasons)."""
        weights = {}
        for month in range(1, 13):
            row = [
                TYPE_WEIGHTS.get(t.code, 1.0) * SEASONAL.get(t.code, {}).get(month, 1.0) for t in self.workshop.types
            ]
            weights[month] = list(accumulate(row))
        return weights

    def _area_minutes(self) -> dict[int, list[float]]:
        """Minutes one booking asks of each area on average, month by month, sampled with the generator's own
        choice of services (a separate random source, so the bookings do not depend on it)."""
        sampler = random.Random(0)
        index = {area.pk: i for i, area in enumerate(self.workshop.areas)}
        result = {}
        for month in range(1, 13):
            sums = [0.0] * len(self.workshop.areas)
            draws = 20_000
            for _ in range(draws):
                area, minutes, _types = pick_services(self, month, sampler)
                sums[index[area]] += minutes
            result[month] = [total / draws for total in sums]
        return result


def pick_services(plan: Plan, month: int, rng: random.Random, *, areas: set[int] | None = None):
    """One or two service types for a booking; the area and planned minutes follow as booking_create derives them
    (the longest service's area, the sum of the minutes). `areas` limits the first service to those areas."""
    types = plan.workshop.types
    weights = plan.type_weights[month]
    if areas is None:
        first = types[bisect(weights, rng.random() * weights[-1])]
    else:
        first = rng.choice([t for t in types if t.area_id in areas])
    chosen = [first]
    if rng.random() < SECOND_TYPE_SHARE:
        same_area, any_area = plan.companions[first.pk]
        pool = same_area if same_area and rng.random() < 0.8 else any_area
        if pool:
            chosen.append(rng.choice(pool))
    longest = max(chosen, key=lambda t: t.standard_minutes)
    return longest.area_id, sum(t.standard_minutes for t in chosen), chosen


# --- the load ----------------------------------------------------------------------------------------------------


class Loader:
    """Generates the rows and streams them in; ids are assigned here, in time order, as a live system's grow."""

    def __init__(
        self, *, workshop: Workshop, plan: Plan, rng: random.Random, progress: bool, log: Callable[[str], None]
    ):
        self.workshop = workshop
        self.plan = plan
        self.rng = rng
        self.progress = progress
        self.log = log
        self.now = timezone.now()
        self.counts = {"bookings": 0, "services": 0, "vins": 0, "overrides": 0}
        self.link_booking = array("q")
        self.link_type = array("q")
        self.vehicle_ids = array("q")
        self.vehicle_owners = array("q")
        self.through = Booking.service_types.through
        # Replaced: what is copied in, the campaigns made anew, and the trail of the bookings that go.
        self.copied: list[type[models.Model]] = [Booking, self.through, RecallVin]
        self.replaced = [*self.copied, RecallCampaign, BookingTransition]
        self.tables = [m._meta.db_table for m in self.replaced]

    def run(self, *, keep_indexes: bool, rebuild_exclusion: bool, recall_share: float) -> None:
        check_columns(Booking, BOOKING_COLUMNS, command=MARKER, path=PATH)
        check_columns(RecallVin, RECALL_VIN_COLUMNS, command=MARKER, path=PATH)
        self._time("vehicles read", self._read_vehicles)
        copied = [m._meta.db_table for m in self.copied]
        with connection.cursor() as cursor:
            raw = cursor.connection  # the psycopg connection under Django's wrapper, inside the same transaction
            # Index builds sort in memory instead of on disk; LOCAL ends with the transaction.
            cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
            # The set-up's rows left deferred foreign-key checks pending, and PostgreSQL alters no table that has
            # some; checking now (and each later row at once) lets the load drop and re-add constraints.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            schema = Schema(cursor, copied)
            before = schema.snapshot()
            detached = self._truncate(cursor)
            dropped = [] if keep_indexes else schema.drop_secondary()
            exclusion = self._drop_exclusion() if rebuild_exclusion else []
            self._time("bookings", lambda: self._copy(raw, Booking, BOOKING_COLUMNS, self._bookings(), len(self)))
            self._time("booking services", lambda: self._copy(raw, self.through, TYPE_LINK_COLUMNS, self._links()))
            campaigns = self._campaigns()
            # Read before the COPY starts: the connection cannot run a query while it streams.
            vins = self._vins(cursor)
            recall_rows = self._recall_vins(campaigns, vins, recall_share)
            self._time("campaign VINs", lambda: self._copy(raw, RecallVin, RECALL_VIN_COLUMNS, recall_rows))
            if exclusion:
                self._time("exclusion constraint added back and checked", lambda: self._add_exclusion(exclusion))
            self._time("indexes and foreign keys", lambda: schema.restore(dropped + detached))
            after = schema.snapshot()
            if after != before:
                raise CommandError(f"The schema changed during the load; rolled back. Before: {before}; after: {after}")
            # Ids were given explicitly, so the sequences know nothing of them yet.
            for table in copied:
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence(%s, 'id'), COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) "  # noqa: S608 - a model's table name
                    f"FROM {connection.ops.quote_name(table)}",
                    [table],
                )

    def __len__(self) -> int:
        return sum(day.occupying + day.freed for day in self.plan.days)

    def _time(self, what: str, step: Callable[[], object]) -> None:
        started = time.perf_counter()
        step()
        self.log(f"{what}: {time.perf_counter() - started:.1f} s")

    def _read_vehicles(self) -> None:
        """Every vehicle of a client still in the base (a merged card cannot be booked), with its owner."""
        with connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT v.id, v.owner_id FROM clients_vehicle v JOIN clients_client c ON c.id = v.owner_id
                WHERE c.merged_into_id IS NULL ORDER BY v.id
                """
            )
            for vehicle_id, owner_id in cursor.fetchall():
                self.vehicle_ids.append(vehicle_id)
                self.vehicle_owners.append(owner_id)
        if not self.vehicle_ids:
            raise CommandError("No vehicles to book: run `manage.py seed_large` first.")

    def _truncate(self, cursor) -> list[str]:
        """Empty the replaced tables and their history; returns the statements that put back the foreign keys
        dropped on the way.

        Rows elsewhere that point at replaced rows (a booking's confirmation call task) cannot outlive them and are
        deleted; references to those rows (the call made for the task) are emptied, not followed. A TRUNCATE ...
        CASCADE would follow them, and empty the whole call log through its tasks.
        """
        quote = connection.ops.quote_name
        history = [
            m._meta.db_table
            for m in apps.get_app_config("bookings").get_models()
            if getattr(m, "instance_type", None) in self.replaced
        ]
        emptied = self.tables + history
        restore = []
        for table, name, definition, column, _not_null in _references(cursor, self.tables, emptied):
            # Table and column names come from the catalogue, not from input.
            self._delete_rows(cursor, table, f"{quote(column)} IS NOT NULL", emptied)
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {quote(name)}")
            restore.append(f"ALTER TABLE {table} ADD CONSTRAINT {quote(name)} {definition}")
        cursor.execute(f"TRUNCATE {', '.join(quote(t) for t in emptied)} RESTART IDENTITY")
        return restore

    def _delete_rows(self, cursor, table: str, condition: str, emptied: list[str]) -> None:
        """Delete the rows of `table` that meet `condition`, first emptying the nullable references to them (the call
        made for a deleted task stays in the call log) and deleting the rows that cannot live without them (a tow
        order's transitions), table by table, never a whole table."""
        quote = connection.ops.quote_name
        doomed = f"SELECT id FROM {table} WHERE {condition}"  # noqa: S608 - names from the catalogue
        for other, _name, _definition, other_column, not_null in _references(cursor, [table], [*emptied, table]):
            pointing = f"{quote(other_column)} IN ({doomed})"
            if not_null:
                self._delete_rows(cursor, other, pointing, emptied)
            else:
                cursor.execute(f"UPDATE {other} SET {quote(other_column)} = NULL WHERE {pointing}")  # noqa: S608
        cursor.execute(f"DELETE FROM {table} WHERE {condition}")  # noqa: S608
        if cursor.rowcount:
            self.log(f"Deleted {cursor.rowcount:,} rows of {table}: they point at replaced rows")

    def _drop_exclusion(self) -> list[ExclusionConstraint]:
        """Drop the model's exclusion constraints; they are added back from the model, as the migration made them
        (the catalogue's own text of the definition would come back spelled differently)."""
        constraints = [c for c in Booking._meta.constraints if isinstance(c, ExclusionConstraint)]
        with connection.schema_editor(atomic=False) as editor:
            for constraint in constraints:
                editor.remove_constraint(Booking, constraint)
        return constraints

    def _add_exclusion(self, constraints: list[ExclusionConstraint]) -> None:
        with connection.schema_editor(atomic=False) as editor:
            for constraint in constraints:
                editor.add_constraint(Booking, constraint)

    def _copy(self, raw, model: type[models.Model], columns: tuple[str, ...], rows: Iterator[tuple], total=None):
        copy_rows(raw, model._meta.db_table, columns, rows, total=total, progress=self.progress)

    # --- rows ---

    def _bookings(self) -> Iterator[tuple]:
        workshop, plan, rng = self.workshop, self.plan, self.rng
        random = rng.random
        today = workshop.today
        advisors = workshop.advisors
        slot_length = [timedelta(minutes=a.slot_minutes) for a in advisors]
        area_index = {area.pk: i for i, area in enumerate(workshop.areas)}
        capacity = workshop.capacity
        vehicles, owners = self.vehicle_ids, self.vehicle_owners
        managers = workshop.managers
        link_booking, link_type = self.link_booking, self.link_type
        offsets: dict[int, timedelta] = {}
        booking_id = 0
        for day in plan.days:
            ahead = (day.date - today).days
            month = day.date.month
            picked = [(*slot, True) for slot in rng.sample(day.grid, day.occupying)]
            picked += [(*slot, False) for slot in rng.sample(day.grid, min(day.freed, len(day.grid)))]
            picked += [(*rng.choice(day.grid), False) for _ in range(day.freed - len(day.grid))]
            picked.sort()
            used = [0] * len(capacity)
            for offset, advisor, occupying in picked:
                booking_id += 1
                delta = offsets.get(offset)
                if delta is None:
                    delta = offsets[offset] = offset * MINUTE
                starts_at = day.start + delta
                area_id, planned, types = pick_services(plan, month, rng)
                override = ""
                if occupying:
                    area = area_index[area_id]
                    if used[area] + planned > capacity[area]:
                        room = {a.pk for i, a in enumerate(workshop.areas) if used[i] + 60 <= capacity[i]}
                        for _ in range(5 if room else 0):
                            area_id, planned, types = pick_services(plan, month, rng, areas=room)
                            area = area_index[area_id]
                            if used[area] + planned <= capacity[area]:
                                break
                        if used[area] + planned > capacity[area]:
                            override = OVERRIDE_REASON
                            self.counts["overrides"] += 1
                    used[area] += planned
                for service in types:
                    link_booking.append(booking_id)
                    link_type.append(service.pk)
                pick = int(random() * len(vehicles))
                vehicle_id = vehicles[pick] if random() >= WITHOUT_VEHICLE_SHARE else None
                client_id = owners[pick]
                source = self._source(ahead)
                created_at = self._created(starts_at, source)
                status, confirmed_at, arrived_at, updated_at, reason = self._life(
                    starts_at, planned, created_at, occupying, ahead
                )
                if override:
                    created_by = workshop.head_id
                elif source == Booking.Source.DMS:
                    created_by = workshop.integration_id
                else:
                    created_by = managers[int(random() * len(managers))]
                yield (
                    booking_id,
                    created_at,
                    updated_at,
                    starts_at,
                    starts_at + slot_length[advisor],
                    planned,
                    COMMENTS[int(random() * len(COMMENTS))] if random() < 0.08 else "",
                    source,
                    status,
                    reason,
                    confirmed_at,
                    arrived_at,
                    override,
                    f"BK{booking_id:010d}" if source == Booking.Source.DMS else "",
                    advisors[advisor].user_id,
                    client_id,
                    created_by,
                    vehicle_id,
                    area_id,
                )
        self.counts["bookings"] = booking_id

    def _source(self, ahead: int) -> str:
        draw = self.rng.random()
        if draw < 0.15:
            return Booking.Source.DMS
        # Walk-ins are booked on the spot, so only today and before have them.
        if ahead <= 0 and draw < 0.28:
            return Booking.Source.WALK_IN
        return Booking.Source.CALL

    def _created(self, starts_at: datetime, source: str) -> datetime:
        rng, now = self.rng, self.now
        if source == Booking.Source.WALK_IN:
            return min(starts_at - timedelta(minutes=5 + 25 * rng.random()), now)
        # Most visits are booked a few days ahead, some weeks ahead.
        lead = timedelta(seconds=min(45 * 86400, 600 + rng.expovariate(1 / (5 * 86400))))
        created_at = starts_at - lead
        if created_at > now:
            created_at = now - timedelta(seconds=rng.random() * 3 * 86400)
        return created_at

    def _life(self, starts_at: datetime, planned: int, created_at: datetime, occupying: bool, ahead: int):
        """Status, confirmed_at, arrived_at, updated_at and cancel reason of a booking at this point of its life."""
        rng, now = self.rng, self.now
        random = rng.random

        def confirmation(share: float) -> datetime | None:
            if random() >= share:
                return None
            # Confirmed by phone the working day before, or soon after booking when booked the day before.
            moment = max(starts_at - timedelta(hours=14 + 16 * random()), created_at + 5 * MINUTE)
            return moment if moment < min(starts_at, now) else None

        if not occupying:
            if ahead <= 0 and starts_at + HOUR < now and random() < PAST_NO_SHOW / (PAST_CANCELLED + PAST_NO_SHOW):
                confirmed = confirmation(0.5)
                return S.NO_SHOW, confirmed, None, min(starts_at + HOUR + 2 * HOUR * random(), now), ""
            confirmed = confirmation(0.3)
            latest = min(starts_at, now)
            cancelled_at = created_at + (latest - created_at) * random() if latest > created_at else created_at
            reason = CANCEL_REASONS[int(random() * len(CANCEL_REASONS))]
            return S.CANCELLED, confirmed, None, cancelled_at, reason
        if starts_at + 10 * MINUTE > now or random() < LATE_SHARE * (ahead == 0):
            # Still to come (or late today): confirmed the day before, rarely earlier.
            confirmed = confirmation(0.75)
            status = S.CONFIRMED if confirmed else S.SCHEDULED
            return status, confirmed, None, confirmed or created_at, ""
        confirmed = confirmation(0.8)
        arrived_at = min(starts_at + timedelta(minutes=25 * random() - 15), now)
        arrived_at = max(arrived_at, created_at)
        finished_at = arrived_at + timedelta(minutes=planned + 60 * random())
        if finished_at <= now:
            return S.COMPLETED, confirmed, arrived_at, finished_at, ""
        if arrived_at + 20 * MINUTE <= now:
            return S.IN_SERVICE, confirmed, arrived_at, arrived_at + 20 * MINUTE, ""
        return S.ARRIVED, confirmed, arrived_at, arrived_at, ""

    def _links(self) -> Iterator[tuple]:
        for number, (booking_id, type_id) in enumerate(zip(self.link_booking, self.link_type, strict=True), start=1):
            yield (number, booking_id, type_id)
        self.counts["services"] = len(self.link_booking)

    def _campaigns(self) -> list[tuple[RecallCampaign, float, float]]:
        today = self.workshop.today
        made = []
        for code, name, since, until, share, done in CAMPAIGNS:
            campaign = recall_campaign_create(
                by=None,
                name=name,
                manufacturer_code=code,
                description="",
                starts_on=today - timedelta(days=since) if since is not None else None,
                ends_on=today + timedelta(days=until) if until is not None else None,
            )
            made.append((campaign, share, done))
        return made

    def _vins(self, cursor) -> list[str]:
        cursor.execute("SELECT vin FROM clients_vehicle WHERE vin <> '' ORDER BY id")
        return [row[0] for row in cursor.fetchall()]

    def _recall_vins(self, campaigns, vins: list[str], scale: float) -> Iterator[tuple]:
        """Each campaign lists a share of the scale set's VINs (a model's production run, as it were)."""
        rng = self.rng
        advisors = [a.user_id for a in self.workshop.advisors]
        row_id = 0
        now = self.now
        for campaign, share, done_share in campaigns:
            wanted = min(len(vins), round(len(vins) * share * scale))
            started = datetime.combine(campaign.starts_on or self.plan.first_day, datetime.min.time(), tzinfo=UTC)
            for vin in rng.sample(vins, wanted):
                row_id += 1
                done = rng.random() < done_share and started < now
                done_at = started + (now - started) * rng.random() if done else None
                done_by = advisors[int(rng.random() * len(advisors))] if done else None
                yield (row_id, campaign.pk, vin, done_at, done_by, None)
        self.counts["vins"] = row_id
