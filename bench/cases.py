"""The cases: each a hot path through the application, and the plain SQL that fetches the same rows (its floor).

A case's `app` and `floor` take the same input (one per iteration, cycled), so both do the same work for the same
client. Floors run on their own psycopg connection without prepared statements: the database plans every query,
as it does for Django's, so the ratio measures what the application adds, not planning saved.

To add a case, write a function that takes the `Bench` and returns a `Case`, and list it in CASE_BUILDERS.
"""

import base64
import random
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test import Client as WebClient
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from accounts.services.users import api_key_create, api_key_revoke, user_create
from bookings.models import MAX_SLOT, ServiceArea
from bookings.selectors.board import BOARD_WHOLE_UP_TO, DUE_WITHIN, LATE_AFTER, board_version_now
from bookings.selectors.bookings import DAY_LISTED_UP_TO
from bookings.selectors.slots import free_slots
from calls.models import CallRules
from calls.services.planning import assign_new_tasks, confirmation_due, plan_confirmations
from clientdesk.calendar import BusinessCalendar, day_bounds, local_date
from clients.models import Client
from clients.normalize import normalize_phone, phone_fragment, plate_fragment, vin_fragment
from clients.selectors import client_search

# How many confirmations the planner cases make (`--planned` changes it; the smoke test asks for a few hundred).
PLANNED = 100_000


@dataclass
class Case:
    name: str
    inputs: Sequence[Any]
    app: Callable[[Any], object]
    floor: Callable[[Any], object]
    note: str = ""
    # A case whose one run takes seconds sets its own counts (at most the command line's); `--case-iterations` can
    # still change them.
    iterations: int | None = None
    warmup: int | None = None
    # Entered around all of the case's runs, only when the case runs (a transaction holding data made for it). What
    # it yields, if not None, is called after every run, untimed, to undo what the run wrote, so that the next run
    # does the same work.
    session: Callable[[], AbstractContextManager[Callable[[], None] | None]] | None = None


class Bench:
    """What the cases share: the floor's connection, a random source, the signed-in web and API clients."""

    def __init__(self, *, raw, rng: random.Random, sample: int, planned: int = PLANNED):
        self.raw = raw
        self.rng = rng
        self.sample = sample
        self.planned = planned
        self.floor_queries = 0
        self.manager = (
            User.objects.filter(role=Role.MANAGER, is_active=True).order_by("id").first()
            or User.objects.filter(role=Role.HEAD, is_active=True).order_by("id").first()
        )
        if self.manager is None:
            raise SystemExit("No active manager in the database: run `manage.py seed_large` first.")
        self.web = WebClient()
        self.web.force_login(self.manager)
        self.api_key = self._api_key()

    def _api_key(self) -> str:
        """A fresh key for a bench integration user (a raw key is only ever seen when it is made). Keys of earlier runs
        are revoked once they are an hour old, not at once: another run going on meanwhile still holds its own."""
        integration = User.objects.filter(username="bench_dms").first() or user_create(
            by=None, username="bench_dms", role=Role.INTEGRATION, first_name="Bench", last_name="DMS"
        )
        for old in integration.api_keys.active().filter(created_at__lt=timezone.now() - timedelta(hours=1)):
            api_key_revoke(key=old, by=self.manager)
        _key, raw = api_key_create(
            user=integration, name=f"bench {timezone.now():%Y-%m-%d %H:%M:%S.%f}", by=self.manager
        )
        return raw

    def fetch(self, sql: str, params: Sequence | dict = ()) -> list[tuple]:
        self.floor_queries += 1
        with self.raw.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def sample_of(self, column: str, table: str, *, where: str = "TRUE", seed: int) -> list:
        """`self.sample` values of a column from rows spread over the table (1% of its pages, the same ones each run);
        from the whole table when it is too small for that to find any."""
        for source in (f"{table} TABLESAMPLE SYSTEM (1) REPEATABLE ({seed})", table):
            values = [r[0] for r in self.fetch(f"SELECT {column} FROM {source} WHERE {where} LIMIT %s", [self.sample])]
            if values:
                return values
        return []

    def get(self, path: str, params: dict | None = None, **headers) -> bytes:
        response = self.web.get(path, params or {}, headers=headers)
        if response.status_code != 200:
            raise AssertionError(f"GET {path} {params or ''} answered {response.status_code}")
        return response.content


# --- shared floor pieces ----------------------------------------------------------------------------------------------

CLIENT_ROWS = """
    SELECT c.*, u.* FROM clients_client c LEFT JOIN accounts_user u ON u.id = c.assigned_manager_id
    WHERE c.id = ANY(%s)
"""
PHONE_ROWS = "SELECT * FROM clients_clientphone WHERE client_id = ANY(%s) ORDER BY is_primary DESC, id"
VEHICLE_ROWS = "SELECT * FROM clients_vehicle WHERE owner_id = ANY(%s) ORDER BY id"


def _clients_for_display(bench: Bench, ids: list[int]) -> list[tuple]:
    if not ids:
        return []
    return [*bench.fetch(CLIENT_ROWS, [ids]), *bench.fetch(PHONE_ROWS, [ids]), *bench.fetch(VEHICLE_ROWS, [ids])]


def _search_floor(bench: Bench, query: str) -> object:
    """The queries clients.selectors.search_client_ids sends for this text, in its order, stopping as it does once
    20 clients are found; then the three that load them for display.

    Without ORDER BY except for the phone matches, which the search ranks: otherwise the search wants any 20 matches,
    and the phone and vehicle models' default ordering that the application's queries inherit is part of what the
    comparison should expose.
    """
    text = " ".join(query.split())
    active = "c.merged_into_id IS NULL"
    sources = [(f"SELECT c.id FROM clients_client c WHERE {active} AND c.dms_id = %s LIMIT 20", [text])]
    if digits := phone_fragment(text):
        # Ranked as the search ranks phone matches: the whole number, then numbers ending with the digits, then any
        # containing them; each kind with the most recently active clients first.
        phones = "SELECT p.client_id FROM clients_clientphone p JOIN clients_client c ON c.id = p.client_id WHERE"
        recent_first = "ORDER BY c.updated_at DESC, p.client_id DESC LIMIT 20"
        if len(digits) >= 10:
            try:
                number = normalize_phone(text)
            except ValidationError:
                pass
            else:
                sources.append((f"{phones} p.number = %s AND {active} {recent_first}", [number]))
        sources.append((f"{phones} p.number LIKE %s AND {active} {recent_first}", [f"%{digits}"]))
        condition, params = "p.number LIKE %s", [f"%{digits}%"]
        if digits.startswith("8") and len(digits) > 1:
            condition, params = f"({condition} OR p.number LIKE %s)", [*params, f"+7{digits[1:]}%"]
        sources.append((f"{phones} {condition} AND {active} {recent_first}", params))
    vehicles = "SELECT v.owner_id FROM clients_vehicle v JOIN clients_client c ON c.id = v.owner_id WHERE"
    if plate := plate_fragment(text):
        sources.append((f"{vehicles} v.plate LIKE %s AND {active} LIMIT 20", [f"%{plate}%"]))
    if vin := vin_fragment(text):
        sources.append((f"{vehicles} v.vin LIKE %s AND {active} LIMIT 20", [f"%{vin}%"]))
    if any(ch.isalpha() for ch in text):
        words = Client.search_key(text).split()
        likes = " AND ".join("c.search_name LIKE %s" for _ in words)
        sources.append(
            (f"SELECT c.id FROM clients_client c WHERE {active} AND {likes} LIMIT 20", [f"%{w}%" for w in words])
        )
        if "@" in text:
            sources.append(
                (f"SELECT c.id FROM clients_client c WHERE {active} AND lower(c.email) = %s LIMIT 20", [text.lower()])
            )
    hits: dict[int, None] = {}
    for sql, params in sources:
        hits.update(dict.fromkeys(r[0] for r in bench.fetch(sql, params)))
        if len(hits) >= 20:
            break
    return _clients_for_display(bench, list(hits)[:20])


# --- a. search by phone fragment --------------------------------------------------------------------------------------


def _spellings(national: str, start: int, length: int) -> list[str]:
    """How someone at the desk types a piece of the number 912 345-67-89."""
    fragment = national[start : start + length]
    formatted = f"{national[:3]} {national[3:6]}-{national[6:8]}-{national[8:]}"
    # Where each digit of `national` sits in `formatted`, to cut the same digits with their separators.
    positions = [i for i, ch in enumerate(formatted) if ch.isdigit()]
    spaced = formatted[positions[start] : positions[start + length - 1] + 1]
    forms = [fragment, spaced, spaced.replace("-", " ")]
    if start == 0:
        forms += [f"8{fragment}", f"8 ({fragment[:3]}) {fragment[3:]}".strip(), f"+7 {fragment[:3]} {fragment[3:]}"]
    return forms


def phone_search(bench: Bench) -> Case:
    numbers = bench.sample_of("number", "clients_clientphone", seed=7)
    rng = bench.rng
    inputs = []
    for number in numbers:
        national = number[2:]
        length = rng.randint(4, 7)
        start = 0 if rng.random() < 0.25 else rng.randint(0, 10 - length)
        inputs.append(rng.choice(_spellings(national, start, length)))

    def app(text: str) -> object:
        return client_search(text, user=bench.manager)

    def floor(text: str) -> object:
        return _search_floor(bench, text)

    return Case(
        "search: phone fragment",
        inputs,
        app,
        floor,
        "client_search() for 4-7 digits of stored numbers, typed as people type them",
    )


# --- d. search by name (beside a., the other half of the desk's search box) -------------------------------------------


def name_search(bench: Bench) -> Case:
    names = bench.sample_of("name", "clients_client", where="kind = 'person'", seed=11)
    rng = bench.rng
    inputs = []
    for name in names:
        surname, first, _patronymic = name.split()
        inputs.append(
            rng.choice(
                [surname.lower(), f"{surname} {first}", f"{first.lower()} {surname.lower()}", surname[:5].lower()]
            )
        )

    def app(text: str) -> object:
        return client_search(text, user=bench.manager)

    def floor(text: str) -> object:
        return _search_floor(bench, text)

    return Case("search: name", inputs, app, floor, "client_search() for a surname, surname and name, or a prefix")


# --- b. the client card -----------------------------------------------------------------------------------------------


TIMELINE_PAGE_SOURCES = (
    """SELECT d.*, v.* FROM clients_delivery d JOIN clients_vehicle v ON v.id = d.vehicle_id
       WHERE d.client_id = %s ORDER BY d.delivered_at DESC, d.id DESC LIMIT 21""",
    """SELECT k.*, u.*, v.* FROM calls_call k
       JOIN accounts_user u ON u.id = k.manager_id LEFT JOIN clients_vehicle v ON v.id = k.vehicle_id
       WHERE k.client_id = %s ORDER BY k.started_at DESC, k.id DESC LIMIT 21""",
    """SELECT b.*, v.*, u.*, a.* FROM bookings_booking b LEFT JOIN clients_vehicle v ON v.id = b.vehicle_id
       JOIN accounts_user u ON u.id = b.advisor_id JOIN bookings_servicearea a ON a.id = b.area_id
       WHERE b.client_id = %s ORDER BY b.starts_at DESC, b.id DESC LIMIT 21""",
    """SELECT s.*, d.*, v.*, u.* FROM calls_surveyresponse s JOIN clients_delivery d ON d.id = s.delivery_id
       JOIN clients_vehicle v ON v.id = d.vehicle_id JOIN accounts_user u ON u.id = s.taken_by_id
       WHERE d.client_id = %s ORDER BY s.answered_at DESC, s.id DESC LIMIT 21""",
    """SELECT c.*, g.*, u.* FROM claims_claim c JOIN claims_claimcategory g ON g.id = c.category_id
       JOIN accounts_user u ON u.id = c.assignee_id
       WHERE c.client_id = %s ORDER BY c.received_at DESC, c.id DESC LIMIT 21""",
    """SELECT d.*, v.* FROM documents_document d LEFT JOIN clients_vehicle v ON v.id = d.vehicle_id
       WHERE d.client_id = %s ORDER BY d.created_at DESC, d.id DESC LIMIT 21""",
)


def client_card(bench: Bench) -> Case:
    ids = bench.sample_of("id", "clients_client", where="merged_into_id IS NULL", seed=3)

    def app(client_id: int) -> object:
        return bench.get(f"/clients/{client_id}/")

    def floor(client_id: int) -> object:
        client = bench.fetch(CLIENT_ROWS, [[client_id]])
        phones = bench.fetch(PHONE_ROWS, [[client_id]])
        vehicles = bench.fetch(VEHICLE_ROWS, [[client_id]])
        numbers = [p[2] for p in phones]
        # The card warns of likely duplicates: other active clients with one of these numbers.
        others = bench.fetch(
            """SELECT DISTINCT c.id, c.name FROM clients_client c JOIN clients_clientphone p ON p.client_id = c.id
               WHERE p.number = ANY(%s) AND c.merged_into_id IS NULL AND c.id <> %s LIMIT 20""",
            [numbers, client_id],
        )
        # The timeline's first page: the newest 20 entries of every kind, each kind read up to 21 rows (the extra one
        # tells whether "Show more" is offered), with what its line shows.
        timeline = [bench.fetch(sql, [client_id]) for sql in TIMELINE_PAGE_SOURCES]
        return client, phones, vehicles, others, timeline

    return Case(
        "client card page",
        ids,
        app,
        floor,
        "GET /clients/<id>/ as a manager; floor: client, phones, vehicles, duplicates, the timeline's first page "
        "(21 rows of each: handovers, calls, visits, survey answers, claims, documents)",
    )


# --- c. the API's client list with a filter ---------------------------------------------------------------------------


def _cursor(position: int) -> str:
    """DRF's cursor for "the page after the row with this id" in an id-descending list."""
    return base64.b64encode(urlencode({"p": str(position)}).encode("ascii")).decode("ascii")


def _random_positions(bench: Bench, table: str = "clients_client") -> list[int | None]:
    top = bench.fetch(f"SELECT max(id) FROM {table}")[0][0] or 1
    # Mostly the first page, as an integration polls; some deep pages, which keyset pagination must keep cheap.
    return [None if bench.rng.random() < 0.3 else bench.rng.randint(1, top) for _ in range(bench.sample)]


API_PAGE = 50


def _api_floor(bench: Bench, condition: str, params: list, position: int | None) -> object:
    if position is not None:
        condition, params = f"{condition} AND id < %s", [*params, position]
    rows = bench.fetch(
        f"SELECT * FROM clients_client WHERE merged_into_id IS NULL AND {condition} ORDER BY id DESC LIMIT %s",
        [*params, API_PAGE + 1],
    )
    ids = [r[0] for r in rows[:API_PAGE]]
    return rows, bench.fetch(PHONE_ROWS, [ids]) if ids else []


def api_list_by_source(bench: Bench) -> Case:
    def app(position: int | None) -> object:
        params = {"source": "dms"} | ({"cursor": _cursor(position)} if position else {})
        return bench.get("/api/v1/clients/", params, accept="application/json")

    def floor(position: int | None) -> object:
        return _api_floor(bench, "source = %s", ["dms"], position)

    return Case(
        "API: clients ?source=dms",
        _random_positions(bench),
        app,
        floor,
        "GET /api/v1/clients/?source=dms[&cursor=] signed in as a manager; floor: the page and its phones",
    )


def api_list_by_manager(bench: Bench) -> Case:
    managers = [
        r[0] for r in bench.fetch("SELECT id FROM accounts_user WHERE is_active AND role IN ('manager', 'head')")
    ]
    inputs = [(bench.rng.choice(managers), position) for position in _random_positions(bench)]

    def app(given: tuple[int, int | None]) -> object:
        manager_id, position = given
        params = {"assigned_manager": manager_id} | ({"cursor": _cursor(position)} if position else {})
        return bench.get(
            "/api/v1/clients/", params, accept="application/json", authorization=f"Api-Key {bench.api_key}"
        )

    def floor(given: tuple[int, int | None]) -> object:
        manager_id, position = given
        return _api_floor(bench, "assigned_manager_id = %s", [manager_id], position)

    return Case(
        "API: clients ?assigned_manager=",
        inputs,
        app,
        floor,
        "GET /api/v1/clients/?assigned_manager=<id>[&cursor=] with the DMS's API key; floor: the page and its phones",
    )


def api_deliveries_since(bench: Bench) -> Case:
    """The DMS reading the cars handed over since a day of the last month, page by page, as a nightly sync does."""
    today = local_date(timezone.now())
    starts = [day_bounds(today - timedelta(days=bench.rng.randint(1, 30)))[0] for _ in range(20)]
    inputs = [(bench.rng.choice(starts), position) for position in _random_positions(bench, "clients_delivery")]

    def app(given: tuple[datetime, int | None]) -> object:
        since, position = given
        params = {"delivered_after": since.isoformat()} | ({"cursor": _cursor(position)} if position else {})
        return bench.get(
            "/api/v1/deliveries/", params, accept="application/json", authorization=f"Api-Key {bench.api_key}"
        )

    def floor(given: tuple[datetime, int | None]) -> object:
        since, position = given
        condition, params = "delivered_at >= %s", [since]
        if position is not None:
            condition, params = f"{condition} AND id < %s", [*params, position]
        return bench.fetch(
            f"SELECT * FROM clients_delivery WHERE {condition} ORDER BY id DESC LIMIT %s",
            [*params, API_PAGE + 1],
        )

    return Case(
        "API: deliveries ?delivered_after=",
        inputs,
        app,
        floor,
        "GET /api/v1/deliveries/?delivered_after=<a day of the last month>[&cursor=] with the DMS's API key; floor: "
        "the page",
    )


# --- the workshop: shared floor pieces --------------------------------------------------------------------------------

# What clientdesk.calendar.BusinessCalendar reads for a day: the regular week and that day's exception.
WORKING_WEEK = "SELECT * FROM clientdesk_workinghours ORDER BY weekday"
CALENDAR_DAYS = "SELECT * FROM clientdesk_calendarday WHERE date BETWEEN %s AND %s ORDER BY date"
OCCUPYING = "NOT (b.status IN ('cancelled', 'no_show'))"
BOOKING_SERVICES = """
    SELECT l.booking_id, t.* FROM bookings_servicetype t
    JOIN bookings_booking_service_types l ON l.servicetype_id = t.id WHERE l.booking_id = ANY(%s) ORDER BY t.name
"""
ACTIVE_AREAS = "SELECT * FROM bookings_servicearea WHERE is_active ORDER BY name"
ACTIVE_ADVISORS = """
    SELECT p.*, u.* FROM bookings_advisorprofile p JOIN accounts_user u ON u.id = p.user_id
    WHERE p.is_active AND u.is_active AND u.role = 'advisor' ORDER BY u.last_name, u.first_name, p.user_id
"""
# The open campaigns for these VINs: as bookings.recalls.open_recalls_for_vins asks, on the partial open-VIN index.
OPEN_RECALLS = """
    SELECT r.*, k.* FROM bookings_recallvin r JOIN bookings_recallcampaign k ON k.id = r.campaign_id
    WHERE r.done_at IS NULL AND r.vin = ANY(%(vins)s) AND r.campaign_id IN (
        SELECT id FROM bookings_recallcampaign
        WHERE (starts_on <= %(day)s OR starts_on IS NULL) AND (ends_on >= %(day)s OR ends_on IS NULL))
    ORDER BY r.vin, k.starts_on ASC NULLS FIRST, r.campaign_id
"""


def _calendar_floor(bench: Bench, day: date) -> object:
    return bench.fetch(WORKING_WEEK), bench.fetch(CALENDAR_DAYS, [day, day])


def _workshop_days(bench: Bench, *, ahead: int, past_share: float) -> list[date]:
    """Working days to open: mostly the next `ahead` days, which are the busiest and the ones people look at; the
    rest anywhere in the loaded past."""
    first, last = bench.fetch("SELECT min(starts_at), max(starts_at) FROM bookings_booking")[0]
    if first is None:
        return []
    first, last = local_date(first), local_date(last)
    today = local_date(timezone.now())
    calendar = BusinessCalendar()
    soon = [d for d in (today + timedelta(days=n) for n in range(ahead)) if d <= last and calendar.is_working_day(d)]
    span = (min(today, last) - first).days
    days = []
    while len(days) < bench.sample:
        if soon and bench.rng.random() >= past_share:
            days.append(bench.rng.choice(soon))
        else:
            day = first + timedelta(days=bench.rng.randint(0, max(span - 1, 0)))
            if calendar.is_working_day(day):
                days.append(day)
    return days


# --- e. the day calendar ----------------------------------------------------------------------------------------------

# What bookings.selectors.bookings.day_plan asks: the day's occupying bookings per advisor and area, and, on a short
# day, the visits as its lines print them.
DAY_LOAD = f"""
    SELECT b.advisor_id, b.area_id, count(*), sum(b.planned_minutes), min(b.starts_at), max(b.starts_at)
    FROM bookings_booking b WHERE b.starts_at >= %s AND b.starts_at < %s AND {OCCUPYING} GROUP BY 1, 2
"""
DAY_VISITS = f"""
    SELECT b.id, b.advisor_id, b.starts_at, b.status, c.name, v.make, v.model, v.plate FROM bookings_booking b
    JOIN clients_client c ON c.id = b.client_id LEFT JOIN clients_vehicle v ON v.id = b.vehicle_id
    WHERE b.starts_at >= %s AND b.starts_at < %s AND {OCCUPYING} ORDER BY b.starts_at, b.id
"""


def day_calendar(bench: Bench) -> Case:
    # The advisors as the calendar's cards read them: id and name (bookings.selectors.bookings.DAY_ADVISORS).
    advisors = """
        SELECT u.id, u.first_name, u.last_name, u.username FROM bookings_advisorprofile p
        JOIN accounts_user u ON u.id = p.user_id WHERE p.is_active AND u.is_active AND u.role = 'advisor'
        ORDER BY u.last_name, u.first_name, u.id
    """

    def app(day: date) -> object:
        return bench.get("/workshop/day/", {"day": day.isoformat()})

    def floor(day: date) -> object:
        start, end = day_bounds(day)
        groups = bench.fetch(DAY_LOAD, [start, end])
        # A short day lists every advisor's visits; a long one only counts them (each list is opened on demand).
        listed = sum(row[2] for row in groups) <= DAY_LISTED_UP_TO
        return (
            _calendar_floor(bench, day),
            groups,
            bench.fetch(DAY_VISITS, [start, end]) if listed else [],
            bench.fetch(ACTIVE_AREAS),
            bench.fetch(advisors),
        )

    return Case(
        "day calendar page",
        _workshop_days(bench, ahead=14, past_share=0.3),
        app,
        floor,
        "GET /workshop/day/?day= as a manager, 70% the next two weeks; floor: hours, the day's occupying bookings "
        f"counted per advisor and area (and, on a day of at most {DAY_LISTED_UP_TO}, listed with client and "
        "vehicle), the areas, the advisors (id and name)",
    )


# --- f. free slots ----------------------------------------------------------------------------------------------------


def free_slots_case(bench: Bench) -> Case:
    """`free_slots` for an area and a planned duration on one of the next days, as the slot picker
    asks. Only inputs whose area still has room: on a full day it stops after one query, which measures nothing."""
    areas = {a.pk: a for a in ServiceArea.objects.filter(is_active=True)}
    minutes_by_area: dict[int, list[int]] = {}
    for area_id, minutes in bench.fetch("SELECT area_id, standard_minutes FROM bookings_servicetype WHERE is_active"):
        minutes_by_area.setdefault(area_id, []).append(minutes)
    days = sorted(set(_workshop_days(bench, ahead=21, past_share=0)))
    used = {}
    for day in days:
        start, end = day_bounds(day)
        for area_id, minutes in bench.fetch(
            f"SELECT area_id, sum(planned_minutes) FROM bookings_booking b WHERE starts_at >= %s AND starts_at < %s "
            f"AND {OCCUPYING} GROUP BY area_id",
            [start, end],
        ):
            used[(day, area_id)] = minutes
    candidates = [
        (day, area_id, minutes)
        for day in days
        for area_id, durations in minutes_by_area.items()
        for minutes in durations
        if area_id in areas and used.get((day, area_id), 0) + minutes <= areas[area_id].daily_capacity_minutes
    ]
    inputs = [bench.rng.choice(candidates) for _ in range(bench.sample)] if candidates else []

    def app(given: tuple[date, int, int]) -> object:
        day, area_id, minutes = given
        return free_slots(day=day, area=areas[area_id], planned_minutes=minutes)

    def floor(given: tuple[date, int, int]) -> object:
        day, area_id, minutes = given
        start, end = day_bounds(day)
        calendar = _calendar_floor(bench, day)
        ((taken,),) = bench.fetch(
            f"SELECT sum(b.planned_minutes) FROM bookings_booking b WHERE b.area_id = %s AND b.starts_at >= %s "
            f"AND b.starts_at < %s AND {OCCUPYING}",
            [area_id, start, end],
        )
        if (taken or 0) + minutes > areas[area_id].daily_capacity_minutes:
            return calendar, taken
        advisors = bench.fetch(ACTIVE_ADVISORS)
        busy = bench.fetch(
            f"SELECT b.advisor_id, b.starts_at, b.advisor_until FROM bookings_booking b WHERE b.advisor_id = ANY(%s) "
            f"AND b.starts_at >= %s AND b.starts_at < %s AND b.advisor_until > %s AND {OCCUPYING}",
            [[row[1] for row in advisors], start - MAX_SLOT, end, start],
        )
        return calendar, taken, advisors, busy

    return Case(
        "free slots",
        inputs,
        app,
        floor,
        "free_slots(day, area, planned_minutes) on one of the next 21 days, an area with room; floor: hours, the "
        "area's booked minutes, the advisors, their bookings that day",
    )


# --- g. today's board -------------------------------------------------------------------------------------------------


OPEN = "status IN ('scheduled', 'confirmed')"
# What bookings.selectors.board asks. The poll: the day's count, last change, late clients and open visits due within
# the hour, in one aggregate.
BOARD_VERSION = f"""
    SELECT count(*), max(updated_at), count(*) FILTER (WHERE {OPEN} AND starts_at < %(late)s),
           count(*) FILTER (WHERE {OPEN} AND starts_at < %(due)s)
    FROM bookings_booking WHERE starts_at >= %(start)s AND starts_at < %(end)s
"""
# The board drawn: the same aggregate with the counts per state and the first open visit, ...
BOARD_COUNTS = f"""
    SELECT count(*), max(updated_at), count(*) FILTER (WHERE {OPEN} AND starts_at < %(late)s),
           count(*) FILTER (WHERE {OPEN} AND starts_at < %(due)s), min(starts_at) FILTER (WHERE {OPEN}),
           count(*) FILTER (WHERE {OPEN}), count(*) FILTER (WHERE status = 'arrived'),
           count(*) FILTER (WHERE status = 'in_service'), count(*) FILTER (WHERE status = 'completed'),
           count(*) FILTER (WHERE status = 'no_show'), count(*) FILTER (WHERE status = 'cancelled')
    FROM bookings_booking WHERE starts_at >= %(start)s AND starts_at < %(end)s
"""
# ... then the rows it shows with what a row prints: a short day whole; a long one the arrived, and the open visits
# that are late or due within the hour from now (or from the day's first open visit, while the day has not begun).
BOARD_ROWS = """
    SELECT b.id, b.starts_at, b.status, b.confirmed_at, b.arrived_at, b.client_id, c.name, v.make, v.model, v.plate,
           v.vin, b.advisor_id, u.first_name, u.last_name, u.username
    FROM bookings_booking b
    JOIN clients_client c ON c.id = b.client_id LEFT JOIN clients_vehicle v ON v.id = b.vehicle_id
    JOIN accounts_user u ON u.id = b.advisor_id
    WHERE b.starts_at >= %(start)s AND b.starts_at < %(end)s {condition} ORDER BY b.starts_at, b.id
"""
BOARD_SHOWN = f"AND (b.status = 'arrived' OR (b.{OPEN} AND b.starts_at < %(due_by)s))"
# The board's filter offers the active areas and advisors.
FILTER_AREAS = "SELECT * FROM bookings_servicearea WHERE is_active ORDER BY name"
FILTER_ADVISORS = """
    SELECT * FROM accounts_user WHERE role = 'advisor' AND is_active ORDER BY last_name, first_name
"""


def day_board(bench: Bench) -> Case:
    def app(day: date) -> object:
        return bench.get("/workshop/board/", {"day": day.isoformat()})

    def floor(day: date) -> object:
        start, end = day_bounds(day)
        now = timezone.now()
        bounds = {"start": start, "end": end, "late": now - LATE_AFTER, "due": now + DUE_WITHIN}
        counts = bench.fetch(BOARD_COUNTS, bounds)
        count, first_open = counts[0][0], counts[0][4]
        rows = []
        if count:
            condition = "" if count <= BOARD_WHOLE_UP_TO else BOARD_SHOWN
            due_by = max(now, first_open or now) + DUE_WITHIN
            rows = bench.fetch(BOARD_ROWS.format(condition=condition), {**bounds, "due_by": due_by})
        vins = list({row[10] for row in rows if row[10]})
        recalls = bench.fetch(OPEN_RECALLS, {"vins": vins, "day": local_date(now)}) if vins else []
        return counts, rows, recalls, bench.fetch(FILTER_AREAS), bench.fetch(FILTER_ADVISORS)

    return Case(
        "today's board",
        _workshop_days(bench, ahead=3, past_share=0.3),
        app,
        floor,
        "GET /workshop/board/?day= as a manager, 70% today and the next two days; floor: the day's counts, the rows "
        f"shown (a day of more than {BOARD_WHOLE_UP_TO} visits: the arrived, the late and those due within the hour) "
        "with client, vehicle and advisor, the open recalls for their VINs, the filter's areas and advisors",
    )


def board_poll(bench: Bench) -> Case:
    """What every open board costs the server each 30 s when nothing changed (the common case)."""
    days = _workshop_days(bench, ahead=3, past_share=0.3)
    versions: dict[date, str] = {}

    def version(day: date) -> str:
        return board_version_now(day, user=bench.manager, now=timezone.now())

    for day in set(days):
        versions[day] = version(day)

    def app(day: date) -> object:
        response = bench.web.get(
            "/workshop/board/", {"day": day.isoformat(), "version": versions[day]}, HTTP_HX_REQUEST="true"
        )
        if response.status_code == 200:
            versions[day] = version(day)  # a client turned late or came within the hour: one board, then quiet
        elif response.status_code != 204:
            raise AssertionError(f"the board's poll answered {response.status_code}")
        return response

    def floor(day: date) -> object:
        start, end = day_bounds(day)
        now = timezone.now()
        return bench.fetch(
            BOARD_VERSION, {"start": start, "end": end, "late": now - LATE_AFTER, "due": now + DUE_WITHIN}
        )

    return Case(
        "today's board, poll with nothing new",
        days,
        app,
        floor,
        "GET /workshop/board/?day=&version= as HTMX polls it every 30 s, answered 204; floor: the day's count, last "
        "change, late count and due count in one aggregate",
    )


# --- h. the API's booking list for a day ------------------------------------------------------------------------------


def api_bookings_by_day(bench: Bench) -> Case:
    def app(day: date) -> object:
        return bench.get(
            "/api/v1/bookings/",
            {"day": day.isoformat()},
            accept="application/json",
            authorization=f"Api-Key {bench.api_key}",
        )

    def floor(day: date) -> object:
        start, end = day_bounds(day)
        rows = bench.fetch(
            """SELECT b.*, c.*, v.*, u.*, a.* FROM bookings_booking b
               JOIN clients_client c ON c.id = b.client_id LEFT JOIN clients_vehicle v ON v.id = b.vehicle_id
               JOIN accounts_user u ON u.id = b.advisor_id JOIN bookings_servicearea a ON a.id = b.area_id
               WHERE b.starts_at >= %s AND b.starts_at < %s ORDER BY b.id DESC LIMIT %s""",
            [start, end, API_PAGE + 1],
        )
        ids = [r[0] for r in rows[:API_PAGE]]
        return rows, bench.fetch(BOOKING_SERVICES, [ids]) if ids else []

    return Case(
        "API: bookings ?day=",
        _workshop_days(bench, ahead=14, past_share=0.5),
        app,
        floor,
        "GET /api/v1/bookings/?day= with the DMS's API key, half the next two weeks, half the past; floor: the first "
        "page and its services",
    )


# --- the outbound calls: shared pieces --------------------------------------------------------------------------------


def _in_transaction(bench: Bench, sql: str, params: Sequence | dict = ()) -> tuple[int, list[tuple]]:
    """A floor's statement on the psycopg connection under Django's own, which the case's open transaction holds
    (the bench's separate connection could not see the rows the case made): the rows it touched, and those it
    returned."""
    bench.floor_queries += 1
    with connection.connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount, cursor.fetchall() if cursor.description else []


# The bookings moved onto the visit day: any that have no confirmation task yet (the loader gave the newest ones one).
MOVED_BOOKINGS = """
    SELECT b.id, b.advisor_id FROM bookings_booking b
    WHERE NOT EXISTS (SELECT 1 FROM calls_calltask t WHERE t.kind = 'confirmation' AND t.booking_id = b.id)
    ORDER BY b.id LIMIT %(count)s
"""
# Each advisor's moved bookings spread over the day, one second long each, so the advisors' exclusion constraint
# stays in force and satisfied: no slot overlaps another.
MOVE_BOOKINGS = f"""
    UPDATE bookings_booking b
    SET status = 'scheduled', confirmed_at = NULL, arrived_at = NULL,
        starts_at = %(opens)s + (m.slot * %(seconds)s / m.per_advisor) * interval '1 second',
        advisor_until = %(opens)s + (m.slot * %(seconds)s / m.per_advisor + 1) * interval '1 second'
    FROM (
        SELECT id, row_number() OVER w - 1 AS slot, count(*) OVER (PARTITION BY advisor_id) AS per_advisor
        FROM ({MOVED_BOOKINGS}) picked WINDOW w AS (PARTITION BY advisor_id ORDER BY id)
    ) m
    WHERE b.id = m.id
"""
# What calls.planning.plan_confirmations sends for one visit day.
PLAN_CONFIRMATIONS = """
    INSERT INTO calls_calltask (kind, client_id, booking_id, delivery_id, campaign_member_id, due_at, next_attempt_at,
                                status, attempts, outcome, note, created_at)
    SELECT 'confirmation', b.client_id, b.id, NULL, NULL, %(due)s, %(due)s, 'open', 0, '', '', %(now)s
    FROM bookings_booking b
    WHERE b.starts_at >= %(start)s AND b.starts_at < %(end)s AND b.status = 'scheduled' AND b.created_at < %(start)s
    ON CONFLICT DO NOTHING
"""
# What calls.planning.assign_new_tasks sends: the managers on duty, least loaded first, then one UPDATE dealing the
# unassigned tasks round-robin in the order they were made.
MANAGERS_ON_DUTY = """
    SELECT u.id FROM accounts_user u LEFT OUTER JOIN calls_calltask t ON u.id = t.assignee_id
    WHERE u.is_active AND u.role = 'manager'
      AND NOT (u.id IN (SELECT a.user_id FROM accounts_absence a WHERE a.ends_on >= %(day)s AND a.starts_on <= %(day)s))
    GROUP BY u.id ORDER BY count(t.id) FILTER (WHERE t.status IN ('open', 'in_progress')), u.id
"""
DEAL_TASKS = """
    UPDATE calls_calltask SET assignee_id = CASE dealt.position %% %(managers)s {cases} END
    FROM (
        SELECT id, row_number() OVER (ORDER BY id) - 1 AS position FROM calls_calltask
        WHERE assignee_id IS NULL AND status IN ('open', 'in_progress')
    ) AS dealt
    WHERE calls_calltask.id = dealt.id
"""


@dataclass
class PlanningDay:
    """A visit day after the last booking with `count` scheduled bookings moved onto it, and the moment the planner
    makes their confirmation calls: the working day before, at the confirmation hour."""

    count: int
    visit_day: date
    now: datetime
    due: datetime
    rules: CallRules
    calendar: BusinessCalendar

    @classmethod
    def after_the_bookings(cls, bench: Bench) -> "PlanningDay":
        last = bench.fetch("SELECT max(starts_at) FROM bookings_booking")[0][0]
        if last is None:
            raise SystemExit("No bookings: run `manage.py seed_large_bookings` first.")
        rules = CallRules.current()
        calendar = BusinessCalendar()
        # Two working days after the last booking: neither the visit day nor the day before holds one already.
        visit_day = calendar.next_working_day(calendar.next_working_day(local_date(last)))
        now = confirmation_due(visit_day, rules, calendar)
        return cls(bench.planned, visit_day, now, now, rules, calendar)

    def bounds(self) -> dict:
        start, end = day_bounds(self.visit_day)
        return {"due": self.due, "now": self.now, "start": start, "end": end}

    @contextmanager
    def prepared(self, bench: Bench, *, planned: bool) -> Iterator[Callable[[], None]]:
        """A transaction, rolled back at the end, holding the moved bookings (and, if `planned`, their unassigned
        confirmation tasks); yields the reset that takes the transaction back to that state after each run."""
        hours = self.calendar.hours(self.visit_day)
        with transaction.atomic():
            try:
                with connection.cursor() as cursor:
                    cursor.execute(
                        MOVE_BOOKINGS,
                        {
                            "count": self.count,
                            "opens": hours.start,
                            "seconds": (hours.end - hours.start).total_seconds(),
                        },
                    )
                    if cursor.rowcount != self.count:
                        raise SystemExit(f"Only {cursor.rowcount:,} bookings to move: the planner cases need more.")
                    # Statistics that know the day now holds all these visits, as autovacuum's would; rolled back too.
                    cursor.execute("ANALYZE bookings_booking")
                    if planned:
                        cursor.execute(PLAN_CONFIRMATIONS, self.bounds())
                        if cursor.rowcount != self.count:
                            raise SystemExit(f"{cursor.rowcount:,} confirmations planned instead of {self.count:,}.")
                savepoint = transaction.savepoint()
                yield lambda: transaction.savepoint_rollback(savepoint)
            finally:
                transaction.set_rollback(True)
        # Every run left its dead task rows and their index entries behind, and the move as many booking
        # versions; cleared here for the cases that follow and the next bench, as the server may run without
        # autovacuum (the bench machine's does).
        bench.raw.execute("VACUUM calls_calltask, bookings_booking")

    def expect(self, what: str, got: int) -> int:
        """A run that did less than the case says measures nothing: stop rather than print its time."""
        if got != self.count:
            raise AssertionError(f"{what}: {got:,} rows instead of {self.count:,}")
        return got


# --- i. the planner: PLANNED confirmations ----------------------------------------------------------------------------


def planner_confirmations(bench: Bench) -> Case:
    day = PlanningDay.after_the_bookings(bench)

    def app(_given: date) -> object:
        return day.expect("plan_confirmations", plan_confirmations(now=day.now, rules=day.rules, calendar=day.calendar))

    def floor(_given: date) -> object:
        return day.expect("INSERT … SELECT", _in_transaction(bench, PLAN_CONFIRMATIONS, day.bounds())[0])

    return Case(
        f"planner: {day.count:,} confirmations",
        [day.visit_day],
        app,
        floor,
        f"plan_confirmations on the working day before {day.visit_day}, onto which {day.count:,} "
        "bookings without a task are moved as scheduled (in a transaction rolled back at the end, each run undone "
        "by a savepoint); floor: one INSERT … SELECT … ON CONFLICT DO NOTHING for that day",
        iterations=10,
        warmup=1,
        session=lambda: day.prepared(bench, planned=False),
    )


# --- j. the planner: dealing them -------------------------------------------------------------------------------------


def planner_assignment(bench: Bench) -> Case:
    day = PlanningDay.after_the_bookings(bench)

    def app(_given: date) -> object:
        return day.expect("assign_new_tasks", assign_new_tasks(now=day.now))

    def floor(_given: date) -> object:
        _count, rows = _in_transaction(bench, MANAGERS_ON_DUTY, {"day": local_date(day.now)})
        cases = " ".join(f"WHEN {i} THEN {pk}" for i, (pk,) in enumerate(rows))
        dealt, _rows = _in_transaction(bench, DEAL_TASKS.format(cases=cases), {"managers": len(rows)})
        return day.expect("UPDATE", dealt)

    return Case(
        f"planner: deal {day.count:,} new tasks",
        [day.visit_day],
        app,
        floor,
        "calls.services.planning.assign_new_tasks after the confirmations above were planned (same transaction and "
        "savepoints); floor: its two statements, the managers on duty by load and the dealing UPDATE",
        iterations=10,
        warmup=1,
        session=lambda: day.prepared(bench, planned=True),
    )


# --- k. the manager's call queue --------------------------------------------------------------------------------------

# What calls.selectors.manager_queue asks: the colleagues the manager stands in for today, then the due tasks they
# work (their own, those colleagues', unassigned ones), counted by kind, and the first page with what the rows show.
QUEUE_SUBSTITUTED = """
    SELECT a.user_id FROM accounts_absence a WHERE a.ends_on >= %(day)s AND a.starts_on <= %(day)s
    AND a.substitute_id = %(user)s
"""
QUEUE_ROUTABLE = """
    t.status IN ('open', 'in_progress')
    AND (t.assignee_id = ANY(%(assignees)s) OR t.assignee_id IS NULL)
    AND t.next_attempt_at < %(end)s
"""
QUEUE_COUNTS = f"SELECT t.kind, count(t.id) FROM calls_calltask t WHERE {QUEUE_ROUTABLE} GROUP BY 1"
QUEUE_PAGE = f"""
    SELECT t.*, u.*, c.*, b.*, v.*, a.*, d.*, dv.*, m.*, k.* FROM calls_calltask t
    LEFT JOIN accounts_user u ON u.id = t.assignee_id
    JOIN clients_client c ON c.id = t.client_id
    LEFT JOIN bookings_booking b ON b.id = t.booking_id
    LEFT JOIN clients_vehicle v ON v.id = b.vehicle_id
    LEFT JOIN accounts_user a ON a.id = b.advisor_id
    LEFT JOIN clients_delivery d ON d.id = t.delivery_id
    LEFT JOIN clients_vehicle dv ON dv.id = d.vehicle_id
    LEFT JOIN calls_campaignmember m ON m.id = t.campaign_member_id
    LEFT JOIN calls_campaign k ON k.id = m.campaign_id
    WHERE {QUEUE_ROUTABLE}
    ORDER BY t.next_attempt_at, t.id LIMIT 100
"""


def call_queue(bench: Bench) -> Case:
    managers = [
        r[0]
        for r in bench.fetch(
            """SELECT u.id FROM accounts_user u WHERE u.username ~ '^mgr[0-9]+$' AND u.is_active AND u.role = 'manager'
               AND EXISTS (SELECT 1 FROM calls_calltask t
                           WHERE t.assignee_id = u.id AND t.status IN ('open', 'in_progress'))
               ORDER BY u.id"""
        )
    ]
    webs = {}
    for user in User.objects.filter(pk__in=managers):
        webs[user.pk] = WebClient()
        webs[user.pk].force_login(user)
    inputs = [bench.rng.choice(managers) for _ in range(bench.sample)] if managers else []

    def app(manager_id: int) -> object:
        response = webs[manager_id].get("/calls/queue/")
        if response.status_code != 200:
            raise AssertionError(f"GET /calls/queue/ as user {manager_id} answered {response.status_code}")
        return response.content

    def floor(manager_id: int) -> object:
        today = local_date(timezone.now())
        substituted = bench.fetch(QUEUE_SUBSTITUTED, {"user": manager_id, "day": today})
        params = {"assignees": [manager_id, *(row[0] for row in substituted)], "end": day_bounds(today)[1]}
        return bench.fetch(QUEUE_COUNTS, params), bench.fetch(QUEUE_PAGE, params)

    return Case(
        "call queue page",
        inputs,
        app,
        floor,
        "GET /calls/queue/ as one of mgr01–mgr20 with open tasks; floor: the due tasks counted by kind, and the first "
        "100 with client, booking and its car and advisor, delivery and its car, campaign, assignee",
    )


CASE_BUILDERS: list[Callable[[Bench], Case]] = [
    phone_search,
    name_search,
    client_card,
    api_list_by_source,
    api_list_by_manager,
    api_deliveries_since,
    day_calendar,
    free_slots_case,
    day_board,
    board_poll,
    api_bookings_by_day,
    planner_confirmations,
    planner_assignment,
    call_queue,
]
