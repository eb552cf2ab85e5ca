"""The DMS contract's cases: bulk upserts of clients with phones (and vehicles), each beside an INSERT … ON CONFLICT
floor that stores the same rows in the fewest statements PostgreSQL allows.

A case's one run is a whole batch of 1,000 records; records a minute = 60,000 / (p50 in ms). Each run's rows are
deleted after it, untimed (the `session`'s reset), so every run creates as the first did.
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager

from django.test import Client as WebClient

from bench.cases import Bench, Case

BATCH = 1000
PREFIX = "BENCH-BULK-"
SURNAMES = ["Иванов", "Петров", "Смирнов", "Кузнецов", "Попов", "Соколов", "Лебедев", "Козлов", "Новиков", "Морозов"]
CODES = ["903", "905", "912", "915", "916", "917", "926", "985"]  # mobile codes in use
NAMES = ["Иван", "Пётр", "Алексей", "Сергей", "Андрей", "Дмитрий", "Михаил", "Николай", "Олег", "Юрий"]


def _batch(bench: Bench, tag: str) -> list[dict]:
    """1,000 clients as the DMS sends them: names, an e-mail for some, two phones each in the spellings people use."""
    records = []
    for n in range(BATCH):
        mobile = f"{bench.rng.choice(CODES)}{bench.rng.randint(1_000_000, 9_999_999)}"
        work = f"{bench.rng.choice(CODES)}{bench.rng.randint(1_000_000, 9_999_999)}"
        name = f"{bench.rng.choice(SURNAMES)} {bench.rng.choice(NAMES)} {bench.rng.choice(NAMES)}ович"
        records.append(
            {
                "dms_id": f"{PREFIX}{tag}-{n}",
                "name": name,
                "kind": "person",
                "source": "dms",
                "email": f"client{n}@example.ru" if n % 3 == 0 else "",
                "consent_personal_data": True,
                "dms_updated_at": "2026-12-01T10:00:00+03:00",
                "phones": [
                    {"number": f"8 ({mobile[:3]}) {mobile[3:6]}-{mobile[6:8]}-{mobile[8:]}", "is_primary": True},
                    {"number": f"+7 {work}", "kind": "work"},
                ],
            }
        )
    return records


# The floor: the clients and their phones in two statements (one with a data-modifying CTE), an upsert that writes a
# row only when something differs, as the application's does; no history, no validation, numbers already in E.164.
FLOOR_SQL = """
WITH given AS (
    SELECT * FROM unnest(%(dms_ids)s::text[], %(names)s::text[], %(emails)s::text[]) AS g(dms_id, name, email)
), upserted AS (
    INSERT INTO clients_client (created_at, updated_at, kind, name, search_name, email, preferred_contact_time, notes,
                                consent_personal_data, consent_personal_data_at, consent_marketing, source, dms_id,
                                dms_updated_at, data_issue)
    SELECT now(), now(), 'person', name, lower(name), email, '', '', true, now(), false, 'dms', dms_id,
           %(dms_updated_at)s, ''
    FROM given
    ON CONFLICT (dms_id) WHERE NOT (dms_id = '') DO UPDATE
    SET name = EXCLUDED.name, search_name = EXCLUDED.search_name, email = EXCLUDED.email, updated_at = now()
    WHERE (clients_client.name, clients_client.email) IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.email)
    RETURNING id, dms_id
)
INSERT INTO clients_clientphone (client_id, number, kind, is_primary, comment)
SELECT u.id, p.number, p.kind, p.is_primary, ''
FROM upserted u
JOIN unnest(%(phone_dms_ids)s::text[], %(numbers)s::text[], %(kinds)s::text[], %(primary)s::bool[])
     AS p(dms_id, number, kind, is_primary) USING (dms_id)
ON CONFLICT (client_id, number) DO NOTHING
"""


def _floor_params(records: list[dict]) -> dict:
    phones = [
        (
            r["dms_id"],
            "+7" + "".join(ch for ch in p["number"] if ch.isdigit())[-10:],
            p.get("kind", "mobile"),
            p.get("is_primary", False),
        )
        for r in records
        for p in r["phones"]
    ]
    return {
        "dms_ids": [r["dms_id"] for r in records],
        "names": [r["name"] for r in records],
        "emails": [r["email"] for r in records],
        "dms_updated_at": records[0]["dms_updated_at"],
        "phone_dms_ids": [p[0] for p in phones],
        "numbers": [p[1] for p in phones],
        "kinds": [p[2] for p in phones],
        "primary": [p[3] for p in phones],
    }


def _delete_batch(bench: Bench, dms_ids: list[str]) -> None:
    ids = [r[0] for r in bench.fetch("SELECT id FROM clients_client WHERE dms_id = ANY(%s)", [dms_ids])]
    if not ids:
        return
    with bench.raw.cursor() as cursor:
        cursor.execute("DELETE FROM clients_historicalclientphone WHERE client_id = ANY(%s)", [ids])
        cursor.execute("DELETE FROM clients_clientphone WHERE client_id = ANY(%s)", [ids])
        cursor.execute("DELETE FROM clients_historicalclient WHERE id = ANY(%s)", [ids])
        cursor.execute("DELETE FROM clients_client WHERE id = ANY(%s)", [ids])


def _api(bench: Bench) -> WebClient:
    return WebClient(headers={"authorization": f"Api-Key {bench.api_key}"})


def _post(api: WebClient, records: list[dict], expect: str) -> dict:
    response = api.post("/api/v1/clients/bulk/", json.dumps({"records": records}), content_type="application/json")
    if response.status_code != 200:
        raise AssertionError(f"bulk answered {response.status_code}: {response.content[:300]!r}")
    answer = response.json()
    counts = answer["counts"]
    if counts[expect] != len(records):
        errors = [r for r in answer["results"] if r["status"] == "error"][:3]
        raise AssertionError(f"bulk answered {counts}, expected {len(records)} {expect}: {errors}")
    return counts


def _written(bench: Bench, sql: str, params) -> int:
    """A floor's one statement over the bare connection: the rows it wrote."""
    bench.floor_queries += 1
    with bench.raw.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def bulk_clients_created(bench: Bench) -> Case:
    records = _batch(bench, "new")
    dms_ids = [r["dms_id"] for r in records]
    params = _floor_params(records)
    api = _api(bench)

    @contextmanager
    def session() -> Iterator:
        _delete_batch(bench, dms_ids)
        try:
            yield lambda: _delete_batch(bench, dms_ids)
        finally:
            _delete_batch(bench, dms_ids)

    def floor(_given) -> object:
        return _written(bench, FLOOR_SQL, params)

    return Case(
        "DMS: bulk 1,000 new clients with 2 phones",
        [records],
        lambda given: _post(api, given, "created"),
        floor,
        "POST /api/v1/clients/bulk/ with the DMS's key, 1,000 new clients with two phones each (and their 3,000 "
        "history rows); floor: INSERT … ON CONFLICT of the clients and their phones. Records a minute = 60,000 / ms",
        iterations=15,
        warmup=2,
        session=session,
    )


def bulk_clients_unchanged(bench: Bench) -> Case:
    records = _batch(bench, "held")
    dms_ids = [r["dms_id"] for r in records]
    params = _floor_params(records)
    api = _api(bench)

    @contextmanager
    def session() -> Iterator:
        _delete_batch(bench, dms_ids)
        try:
            _post(api, records, "created")
            yield None
        finally:
            _delete_batch(bench, dms_ids)

    def floor(_given) -> object:
        return _written(bench, FLOOR_SQL, params)

    return Case(
        "DMS: bulk 1,000 clients re-pushed unchanged",
        [records],
        lambda given: _post(api, given, "unchanged"),
        floor,
        "the same 1,000 clients with phones sent again as held: nothing written; floor: the same INSERT … ON CONFLICT "
        "… DO UPDATE WHERE changed, which writes nothing",
        iterations=15,
        warmup=2,
        session=session,
    )


def bulk_clients_updated(bench: Bench) -> Case:
    records = _batch(bench, "changed")
    dms_ids = [r["dms_id"] for r in records]
    api = _api(bench)
    turn = {"n": 0}

    def renamed() -> list[dict]:
        turn["n"] += 1
        return [{**r, "name": f"{r['name']} {turn['n']}", "email": f"x{turn['n']}@example.ru"} for r in records]

    @contextmanager
    def session() -> Iterator:
        _delete_batch(bench, dms_ids)
        try:
            _post(api, records, "created")
            yield None
        finally:
            _delete_batch(bench, dms_ids)

    def floor(_given) -> object:
        return _written(bench, FLOOR_SQL, _floor_params(renamed()))

    return Case(
        "DMS: bulk 1,000 clients changed",
        [None],
        lambda _given: _post(api, renamed(), "updated"),
        floor,
        "the same 1,000 clients with a new name and e-mail each time (and 1,000 history rows); floor: INSERT … ON "
        "CONFLICT DO UPDATE of the same",
        iterations=15,
        warmup=2,
        session=session,
    )


VEHICLE_FLOOR_SQL = """
INSERT INTO clients_vehicle (created_at, updated_at, owner_id, vin, plate, make, model, year, colour, mileage,
                             dms_id, dms_updated_at)
SELECT now(), now(), owner_id, vin, '', 'Lada', model, 2021, '', NULL, dms_id, NULL
FROM unnest(%(owners)s::bigint[], %(vins)s::text[], %(models)s::text[], %(dms_ids)s::text[])
     AS g(owner_id, vin, model, dms_id)
ON CONFLICT (dms_id) WHERE NOT (dms_id = '') DO UPDATE
SET model = EXCLUDED.model, owner_id = EXCLUDED.owner_id, updated_at = now()
WHERE (clients_vehicle.model, clients_vehicle.owner_id) IS DISTINCT FROM (EXCLUDED.model, EXCLUDED.owner_id)
"""


def _delete_vehicles(bench: Bench, dms_ids: list[str]) -> None:
    ids = [r[0] for r in bench.fetch("SELECT id FROM clients_vehicle WHERE dms_id = ANY(%s)", [dms_ids])]
    if ids:
        with bench.raw.cursor() as cursor:
            cursor.execute("DELETE FROM clients_historicalvehicle WHERE id = ANY(%s)", [ids])
            cursor.execute("DELETE FROM clients_vehicle WHERE id = ANY(%s)", [ids])


def bulk_vehicles_created(bench: Bench) -> Case:
    owners = bench.sample_of("id", "clients_client", where="merged_into_id IS NULL", seed=7) or [0]
    records = [
        {
            "dms_id": f"{PREFIX}V-{n}",
            "owner": bench.rng.choice(owners),
            "vin": f"XBENCH{n:011d}",
            "make": "Lada",
            "model": bench.rng.choice(["Vesta", "Granta", "Niva Travel", "Largus"]),
            "year": 2021,
        }
        for n in range(BATCH)
    ]
    dms_ids = [r["dms_id"] for r in records]
    params = {
        "owners": [r["owner"] for r in records],
        "vins": [r["vin"] for r in records],
        "models": [r["model"] for r in records],
        "dms_ids": dms_ids,
    }
    api = _api(bench)

    @contextmanager
    def session() -> Iterator:
        _delete_vehicles(bench, dms_ids)
        try:
            yield lambda: _delete_vehicles(bench, dms_ids)
        finally:
            _delete_vehicles(bench, dms_ids)

    def app(given) -> object:
        body = json.dumps({"records": given})
        response = api.post("/api/v1/vehicles/bulk/", body, content_type="application/json")
        counts = response.json()["counts"]
        if response.status_code != 200 or counts["created"] != len(given):
            raise AssertionError(f"vehicles bulk answered {response.status_code}: {counts}")
        return counts

    def floor(_given) -> object:
        return _written(bench, VEHICLE_FLOOR_SQL, params)

    return Case(
        "DMS: bulk 1,000 new vehicles",
        [records],
        app,
        floor,
        "POST /api/v1/vehicles/bulk/ with the DMS's key, 1,000 new vehicles of existing clients (and their history); "
        "floor: INSERT … ON CONFLICT of the same rows",
        iterations=15,
        warmup=2,
        session=session,
    )


CASE_BUILDERS = [bulk_clients_created, bulk_clients_unchanged, bulk_clients_updated, bulk_vehicles_created]
