"""The paper's bench cases (`seed_large_documents` loads the 1,500,000 documents they read), each beside its raw-SQL
floor: the same rows fetched by hand-written queries, planned afresh like Django's.

- archive search: the archive page's one search box (a surname, a phone fragment, a VIN or its tail, a plate, a
  document number or its digits), first page of 50 newest first, with the client and car each row shows;
- archive filters: a kind and a date range without a search, first page, then the page after it.
"""

from collections.abc import Callable
from datetime import date, timedelta

from django.core.exceptions import ValidationError

from bench.cases import Bench, Case
from clientdesk.views import KeysetPage
from clients.models import Client
from clients.normalize import normalize_phone, phone_fragment, plate_fragment, vin_fragment
from documents.filters import DocumentFilter
from documents.models import Document
from documents.selectors import (
    MIN_NUMBER_FRAGMENT,
    NUMBER_IDS_LIMIT,
    SEARCH_PEOPLE_LIMIT,
    document_list_rows,
    number_digits,
    shape_list_rows,
)

PAGE = 50

DOCUMENT_ROWS = """
    SELECT d.id, d.kind, d.number, d.issued_on, d.title, d.original, d.state, d.archive_box, d.archive_shelf, d.dms_id,
           d.delivery_id, d.booking_id, c.id, c.name, v.id, v.make, v.model, v.plate, v.vin
    FROM documents_document d
    LEFT JOIN clients_client c ON c.id = d.client_id LEFT JOIN clients_vehicle v ON v.id = d.vehicle_id
    WHERE {where} ORDER BY d.issued_on DESC, d.id DESC LIMIT %(limit)s
"""


def _people_floor(bench: Bench, text: str) -> tuple[list[int], list[int]]:
    """The queries clients.selectors.search_client_ids and documents.selectors.search_vehicle_ids send for this text,
    with the archive's limit."""
    limit = SEARCH_PEOPLE_LIMIT
    active = "c.merged_into_id IS NULL"
    sources = [(f"SELECT c.id FROM clients_client c WHERE {active} AND c.dms_id = %s LIMIT {limit}", [text])]
    if digits := phone_fragment(text):
        phones = "SELECT p.client_id FROM clients_clientphone p JOIN clients_client c ON c.id = p.client_id WHERE"
        recent_first = f"ORDER BY c.updated_at DESC, p.client_id DESC LIMIT {limit}"
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
    owners = "SELECT v.owner_id FROM clients_vehicle v JOIN clients_client c ON c.id = v.owner_id WHERE"
    plate, vin = plate_fragment(text), vin_fragment(text)
    if plate:
        sources.append((f"{owners} v.plate LIKE %s AND {active} LIMIT {limit}", [f"%{plate}%"]))
    if vin:
        sources.append((f"{owners} v.vin LIKE %s AND {active} LIMIT {limit}", [f"%{vin}%"]))
    if any(ch.isalpha() for ch in text):
        words = Client.search_key(text).split()
        likes = " AND ".join("c.search_name LIKE %s" for _ in words)
        sources.append(
            (f"SELECT c.id FROM clients_client c WHERE {active} AND {likes} LIMIT {limit}", [f"%{w}%" for w in words])
        )
    clients: dict[int, None] = {}
    for sql, params in sources:
        clients.update(dict.fromkeys(r[0] for r in bench.fetch(sql, params)))
        if len(clients) >= limit:
            break
    cars: list[int] = []
    if plate:
        cars += [
            r[0]
            for r in bench.fetch(f"SELECT id FROM clients_vehicle WHERE plate LIKE %s LIMIT {limit}", [f"%{plate}%"])
        ]
    if vin:
        cars += [
            r[0] for r in bench.fetch(f"SELECT id FROM clients_vehicle WHERE vin LIKE %s LIMIT {limit}", [f"%{vin}%"])
        ]
    return list(clients)[:limit], list(dict.fromkeys(cars))[:limit]


def _search_floor(bench: Bench, text: str) -> object:
    clients, cars = _people_floor(bench, text)
    key = Document.search_key(text)
    numbered: list[int] = []
    if len(key) < MIN_NUMBER_FRAGMENT:
        where = "d.number_key = %(key)s"
    elif digits := number_digits(key):
        sql = f"SELECT id FROM documents_document WHERE number_key LIKE %s LIMIT {NUMBER_IDS_LIMIT}"
        numbered = [r[0] for r in bench.fetch(sql, [f"%{digits}%"])]
        where = "(d.id = ANY(%(numbered)s) AND d.number_key LIKE %(like)s)" if numbered else "FALSE"
    else:
        where = "d.number_key LIKE %(like)s"
    where += " OR d.dms_id = %(text)s"
    if clients:
        where += " OR d.client_id = ANY(%(clients)s)"
    if cars:
        where += " OR d.vehicle_id = ANY(%(cars)s)"
    params = {
        "like": f"%{key}%",
        "key": key,
        "text": text,
        "numbered": numbered,
        "clients": clients,
        "cars": cars,
        "limit": PAGE + 1,
    }
    return bench.fetch(DOCUMENT_ROWS.format(where=f"({where})"), params)


def _first_page(bench: Bench, params: dict, after: str | None = None) -> KeysetPage:
    # As the archive page does it: rows of the columns it prints, with the labels the row template reads.
    queryset = document_list_rows(Document.objects.visible_to(bench.manager))
    filterset = DocumentFilter(params, queryset=queryset)
    if not filterset.is_valid():
        raise AssertionError(filterset.errors)
    page = KeysetPage(filterset.qs, after=after, time_field="issued_on", size=PAGE)
    page.object_list = shape_list_rows(page.object_list)
    return page


def archive_search(bench: Bench) -> Case:
    rng = bench.rng
    names = bench.sample_of("name", "clients_client", where="kind = 'person'", seed=21)
    cars = bench.sample_of("vin || ' ' || plate", "clients_vehicle", where="vin <> ''", seed=22)
    numbers = bench.sample_of("number", "documents_document", seed=23)
    phones = bench.sample_of("number", "clients_clientphone", seed=24)
    inputs: list[str] = []
    for n in range(bench.sample):
        pick = n % 5
        if pick == 0 and names:
            inputs.append(rng.choice(names).split()[0].lower())
        elif pick == 1 and phones:
            inputs.append(rng.choice(phones)[-7:])
        elif pick == 2 and cars:
            vin, _sep, plate = rng.choice(cars).partition(" ")
            inputs.append(rng.choice([vin, vin[-8:], plate or vin]))
        elif pick == 3 and numbers:
            inputs.append(rng.choice(numbers))
        elif numbers:
            inputs.append(rng.choice(numbers)[-7:])

    def app(text: str) -> object:
        return list(_first_page(bench, {"q": text}))

    def floor(text: str) -> object:
        return _search_floor(bench, text)

    return Case(
        "documents: archive search",
        inputs,
        app,
        floor,
        "the archive's search box (surname, phone tail, VIN or its tail, plate, number or its digits), first page",
    )


def archive_filters(bench: Bench) -> Case:
    rng = bench.rng
    kinds = [kind for kind, _label in Document.Kind.choices]
    inputs = []
    for _n in range(bench.sample):
        start = date(2023, 1, 1) + timedelta(days=rng.randint(0, 1200))
        inputs.append((rng.choice(kinds), start, start + timedelta(days=rng.randint(7, 120))))

    def app(given) -> object:
        kind, start, end = given
        first = _first_page(bench, {"kind": [kind], "issued_from": start.isoformat(), "issued_to": end.isoformat()})
        rows = list(first)
        if first.has_next:
            params = {"kind": [kind], "issued_from": start.isoformat(), "issued_to": end.isoformat()}
            rows += list(_first_page(bench, params, after=first.next_after))
        return rows

    def floor(given) -> object:
        kind, start, end = given
        where = "d.kind = %(kind)s AND d.issued_on >= %(start)s AND d.issued_on <= %(end)s"
        params = {"kind": kind, "start": start, "end": end, "limit": PAGE + 1}
        rows = bench.fetch(DOCUMENT_ROWS.format(where=where), params)
        if len(rows) > PAGE:
            last = rows[PAGE - 1]
            after = f"{where} AND (d.issued_on, d.id) < (%(day)s, %(id)s)"
            rows = rows[:PAGE] + bench.fetch(
                DOCUMENT_ROWS.format(where=after), {**params, "day": last[3], "id": last[0]}
            )
        return rows

    return Case(
        "documents: archive filters",
        inputs,
        app,
        floor,
        "a kind and a date range, no search: the first page and the next (keyset)",
    )


CASE_BUILDERS: list[Callable[[Bench], Case]] = [archive_search, archive_filters]
