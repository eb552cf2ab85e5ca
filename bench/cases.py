"""The cases: each a hot path through the application, and the plain SQL that fetches the same rows (its floor).

A case's `app` and `floor` take the same input (one per iteration, cycled), so both do the same work for the same
client. Floors run on their own psycopg connection without prepared statements: the database plans every query,
as it does for Django's, so the ratio measures what the application adds, not planning saved.

To add a case, write a function that takes the `Bench` and returns a `Case`, and list it in CASE_BUILDERS.
"""

import base64
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from django.test import Client as WebClient
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from accounts.services import api_key_create, api_key_revoke, user_create
from bookings.models import MAX_SLOT, ServiceArea
from bookings.slots import free_slots
from clientdesk.calendar import BusinessCalendar, local_date, local_zone
from clients.models import Client
from clients.normalize import phone_fragment, plate_fragment, vin_fragment
from clients.selectors import client_search


@dataclass
class Case:
    name: str
    inputs: Sequence[Any]
    app: Callable[[Any], object]
    floor: Callable[[Any], object]
    note: str = ""


class Bench:
    """What the cases share: the floor's connection, a random source, the signed-in web and API clients."""

    def __init__(self, *, raw, rng: random.Random, sample: int):
        self.raw = raw
        self.rng = rng
        self.sample = sample
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
        """A fresh key for a bench integration user (a raw key is only ever seen when it is made)."""
        integration = User.objects.filter(username="bench_dms").first() or user_create(
            by=None, username="bench_dms", role=Role.INTEGRATION, first_name="Bench", last_name="DMS"
        )
        for old in integration.api_keys.active():
            api_key_revoke(key=old, by=self.manager)
        _key, raw = api_key_create(user=integration, name="bench", by=self.manager)
        return raw

    def fetch(self, sql: str, params: Sequence | dict = ()) -> list[tuple]:
        self.floor_queries += 1
        with self.raw.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def get(self, path: str, params: dict | None = None, **headers) -> bytes:
        response = self.web.get(path, params or {}, headers=headers)
        if response.status_code != 200:
            raise AssertionError(f"GET {path} {params or ''} answered {response.status_code}")
        return response.content


# --- shared floor pieces -----------------------------------------------------------------------------------------

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

    Without ORDER BY: the search wants any 20 matches, and the phone and vehicle models' default ordering that the
    application's queries inherit is part of what the comparison should expose.
    """
    text = " ".join(query.split())
    active = "c.merged_into_id IS NULL"
    sources = [(f"SELECT c.id FROM clients_client c WHERE {active} AND c.dms_id = %s LIMIT 20", [text])]
    if digits := phone_fragment(text):
        condition, params = "p.number LIKE %s", [f"%{digits}%"]
        if digits.startswith("8") and len(digits) > 1:
            condition, params = f"({condition} OR p.number LIKE %s)", [*params, f"+7{digits[1:]}%"]
        sources.append(
            (
                "SELECT p.client_id FROM clients_clientphone p JOIN clients_client c ON c.id = p.client_id "
                f"WHERE {condition} AND {active} LIMIT 20",
                params,
            )
        )
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


# --- a. search by phone fragment ---------------------------------------------------------------------------------


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
    numbers = [
        r[0]
        for r in bench.fetch(
            "SELECT number FROM clients_clientphone TABLESAMPLE SYSTEM (1) REPEATABLE (7) LIMIT %s", [bench.sample]
        )
    ]
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


# --- d. search by name (beside a., the other half of the desk's search box) --------------------------------------


def name_search(bench: Bench) -> Case:
    names = [
        r[0]
        for r in bench.fetch(
            "SELECT name FROM clients_client TABLESAMPLE SYSTEM (1) REPEATABLE (11) WHERE kind = 'person' LIMIT %s",
            [bench.sample],
        )
    ]
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


# --- b. the client card ------------------------------------------------------------------------------------------


def client_card(bench: Bench) -> Case:
    ids = [
        r[0]
        for r in bench.fetch(
            "SELECT id FROM clients_client TABLESAMPLE SYSTEM (1) REPEATABLE (3) WHERE merged_into_id IS NULL LIMIT %s",
            [bench.sample],
        )
    ]

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
        calls = bench.fetch(
            """SELECT k.*, u.*, v.* FROM calls_call k
               JOIN accounts_user u ON u.id = k.manager_id LEFT JOIN clients_vehicle v ON v.id = k.vehicle_id
               WHERE k.client_id = %s ORDER BY k.started_at DESC, k.id DESC LIMIT 30""",
            [client_id],
        )
        return client, phones, vehicles, others, calls

    return Case(
        "client card page",
        ids,
        app,
        floor,
        "GET /clients/<id>/ as a manager; floor: client, phones, vehicles, duplicates, last 30 calls",
    )


# --- c. the API's client list with a filter ----------------------------------------------------------------------


def _cursor(position: int) -> str:
    """DRF's cursor for "the page after the row with this id" in an id-descending list."""
    return base64.b64encode(urlencode({"p": str(position)}).encode("ascii")).decode("ascii")


def _random_positions(bench: Bench) -> list[int | None]:
    top = bench.fetch("SELECT max(id) FROM clients_client")[0][0] or 1
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


# --- the workshop: shared floor pieces ---------------------------------------------------------------------------

# What clientdesk.calendar.BusinessCalendar reads for a day: the regular week and that day's exception.
WORKING_WEEK = "SELECT * FROM clientdesk_workinghours ORDER BY weekday"
CALENDAR_DAYS = "SELECT * FROM clientdesk_calendarday WHERE date BETWEEN %s AND %s ORDER BY date"
OCCUPYING = "NOT (b.status IN ('cancelled', 'no_show'))"
# The VIN first as well, for the recall lookup to find it whatever columns the tables grow.
DAY_BOOKINGS = """
    SELECT v.vin, b.*, c.*, v.*, u.*, a.* FROM bookings_booking b
    JOIN clients_client c ON c.id = b.client_id LEFT JOIN clients_vehicle v ON v.id = b.vehicle_id
    JOIN accounts_user u ON u.id = b.advisor_id JOIN bookings_servicearea a ON a.id = b.area_id
    WHERE b.starts_at >= %s AND b.starts_at < %s {condition} ORDER BY b.starts_at, b.id
"""
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


def _local_day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=local_zone())
    return start, datetime.combine(day + timedelta(days=1), time.min, tzinfo=local_zone())


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
    calendar = BusinessCalendar(first, last)
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


# --- e. the day calendar -----------------------------------------------------------------------------------------


def day_calendar(bench: Bench) -> Case:
    def app(day: date) -> object:
        return bench.get("/workshop/day/", {"day": day.isoformat()})

    def floor(day: date) -> object:
        start, end = _local_day_bounds(day)
        return (
            _calendar_floor(bench, day),
            bench.fetch(DAY_BOOKINGS.format(condition=f"AND {OCCUPYING}"), [start, end]),
            bench.fetch(ACTIVE_AREAS),
            bench.fetch(ACTIVE_ADVISORS),
        )

    return Case(
        "day calendar page",
        _workshop_days(bench, ahead=14, past_share=0.3),
        app,
        floor,
        "GET /workshop/day/?day= as a manager, 70% the next two weeks; floor: hours, the day's occupying bookings "
        "with client, vehicle, advisor and area, the areas, the advisors (not the services: the page shows none)",
    )


# --- f. free slots -----------------------------------------------------------------------------------------------


def free_slots_case(bench: Bench) -> Case:
    """bookings.slots.free_slots for an area and a planned duration on one of the next days, as the slot picker
    asks. Only inputs whose area still has room: on a full day it stops after one query, which measures nothing."""
    areas = {a.pk: a for a in ServiceArea.objects.filter(is_active=True)}
    minutes_by_area: dict[int, list[int]] = {}
    for area_id, minutes in bench.fetch("SELECT area_id, standard_minutes FROM bookings_servicetype WHERE is_active"):
        minutes_by_area.setdefault(area_id, []).append(minutes)
    days = sorted(set(_workshop_days(bench, ahead=21, past_share=0)))
    used = {}
    for day in days:
        start, end = _local_day_bounds(day)
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
        start, end = _local_day_bounds(day)
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


# --- g. today's board --------------------------------------------------------------------------------------------


def day_board(bench: Bench) -> Case:
    def app(day: date) -> object:
        return bench.get("/workshop/board/", {"day": day.isoformat()})

    def floor(day: date) -> object:
        start, end = _local_day_bounds(day)
        bookings = bench.fetch(DAY_BOOKINGS.format(condition=""), [start, end])
        vins = list({row[0] for row in bookings if row[0]})
        recalls = bench.fetch(OPEN_RECALLS, {"vins": vins, "day": local_date(timezone.now())}) if vins else []
        return bookings, recalls

    return Case(
        "today's board",
        _workshop_days(bench, ahead=3, past_share=0.3),
        app,
        floor,
        "GET /workshop/board/?day= as a manager, 70% today and the next two days; floor: the day's bookings with "
        "client, vehicle, advisor and area, the open recalls for their VINs",
    )


# --- h. the API's booking list for a day -------------------------------------------------------------------------


def api_bookings_by_day(bench: Bench) -> Case:
    def app(day: date) -> object:
        return bench.get(
            "/api/v1/bookings/",
            {"day": day.isoformat()},
            accept="application/json",
            authorization=f"Api-Key {bench.api_key}",
        )

    def floor(day: date) -> object:
        start, end = _local_day_bounds(day)
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


CASE_BUILDERS: list[Callable[[Bench], Case]] = [
    phone_search,
    name_search,
    client_card,
    api_list_by_source,
    api_list_by_manager,
    day_calendar,
    free_slots_case,
    day_board,
    api_bookings_by_day,
]
