"""Bulk upserts by DMS id, set-based on PostgreSQL: up to a thousand records in a few statements.

Each record is judged as the single upsert (`client_upsert_by_dms_id`, `vehicle_upsert_by_dms_id`) judges it — the
same normalisation, model validation, stamping of consents, ordering by `dms_updated_at` and "nothing changed, nothing
written" — but in Python over the whole batch, with the rows read in one query; then everything that changed is
written with one statement per table (INSERT … RETURNING, UPDATE … FROM unnest, DELETE … = ANY) and its history rows
with one more.

Concurrency: the batch takes, in one statement and in a fixed order, the same advisory lock per DMS id that the single
upsert takes (`clientdesk.locks`), then locks the rows it found: a single upsert and a bulk of the same DMS id queue,
and two bulks sharing ids cannot deadlock. A writer that does not take those locks (a client created by hand with a
DMS id at the same moment) can still make an insert or an update clash with a unique index: the set-based write then
rolls back to its savepoint and the batch is done record by record, each as the single upsert does it.

What the set-based judgement does not handle — a DMS id twice in one batch, a record whose row was merged into
another client, an owner merged away, a VIN twice in one batch — goes through the single upsert, record by record, in
the batch's order, after the rest: the answer is the same, only slower.

On SQLite (the embedded default) the API keeps the record-by-record path.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.models import User
from clientdesk import events
from clientdesk.errors import Conflict
from clients.events import ClientsChanged, VehiclesChanged
from clients.models import Client, ClientPhone, Vehicle
from clients.services import clients as single
from clients.services.clients import CleanPhones

CREATED, UPDATED, UNCHANGED, ERROR = "created", "updated", "unchanged", "error"


@dataclass
class Outcome:
    """What became of one record: a status and our id, or the errors (field errors, or a conflict's body)."""

    status: str
    id: int | None = None
    errors: dict | None = None


@dataclass
class BulkRecord:
    """One record as the input layer validated it: its place in the request, its DMS id, the service's fields."""

    index: int
    dms_id: str
    data: dict[str, Any]


@dataclass
class _Plan:
    """What the judgement decided for the batch, before anything is written."""

    create: list = field(default_factory=list)  # (record, instance)
    update: list = field(default_factory=list)  # (record, instance, fields changed: bool)
    unchanged: list = field(default_factory=list)  # (record, instance)
    fallback: list = field(default_factory=list)  # records for the single upsert


def _error(exc: Exception) -> Outcome:
    if isinstance(exc, Conflict):
        return Outcome(ERROR, errors=exc.as_dict())
    if isinstance(exc, ValidationError):
        return Outcome(ERROR, errors=exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages})
    raise exc  # pragma: no cover - only the two above are judged here


def _lock_dms_ids(model_label: str, dms_ids: Sequence[str]) -> None:
    """The advisory lock `clientdesk.locks.lock_for` takes for each DMS id, all in one statement, in the order of the
    lock keys: whoever else takes several of them takes them in the same order."""
    names = sorted({f"{model_label}.dms_id:{dms_id}" for dms_id in dms_ids})
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_advisory_xact_lock(key)) FROM ("
            " SELECT DISTINCT hashtextextended(name, 0) AS key FROM unnest(%s::text[]) AS name ORDER BY key"
            ") AS keys",
            [names],
        )


# Values psycopg takes as they are: Django's preparation would hand them back unchanged (an aware datetime included).
_PLAIN = frozenset({str, bool, int, float, datetime, type(None)})


def _prepared_column(f, values) -> list:
    return [v if type(v) in _PLAIN else f.get_db_prep_save(v, connection) for v in values]


def _insert(table: str, columns: list[tuple[str, str]], arrays: list[list], *, returning: str | None = None) -> list:
    """One INSERT … SELECT * FROM unnest(arrays) (as Django's bulk_create sends on PostgreSQL); `columns` are (column,
    type) pairs. Returns the `returning` column of the rows, in the order of the arrays."""
    quote = connection.ops.quote_name
    names = ", ".join(quote(column) for column, _type in columns)
    types = ", ".join(f"%s::{db_type}[]" for _column, db_type in columns)
    # Names and types come from the models' own fields; every value is a parameter.
    sql = f"INSERT INTO {quote(table)} ({names}) SELECT * FROM unnest({types})"  # noqa: S608
    if returning:
        sql += f" RETURNING {quote(returning)}"
    with connection.cursor() as cursor:
        cursor.execute(sql, arrays)
        return [row[0] for row in cursor.fetchall()] if returning else []


def _insert_rows(model, rows: Sequence) -> None:
    """INSERT the instances in one statement, setting each one's new primary key, as bulk_create does, from the ids
    RETURNING gives back in the order of the rows."""
    if not rows:
        return
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    arrays = [_prepared_column(f, [f.pre_save(row, True) for row in rows]) for f in fields]
    columns = [(f.column, f.db_type(connection)) for f in fields]
    for row, pk in zip(rows, _insert(meta.db_table, columns, arrays, returning=meta.pk.column), strict=True):
        row.pk = pk
        row._state.adding = False


def _insert_history(model, entries: Sequence[tuple[Any, str]], *, by: User | None, at) -> None:
    """simple_history's rows for these (instance, kind) pairs as the instances are now — `+` created, `~` changed,
    `-` deleted — in one INSERT, without making a historical model instance for each."""
    if not entries:
        return
    history = model.history.model
    tracked = history.tracked_fields
    columns = [(f.column, f.db_type(connection)) for f in tracked]
    arrays = [_prepared_column(f, [getattr(instance, f.attname) for instance, _kind in entries]) for f in tracked]
    meta = history._meta
    for name, value in (("history_date", at), ("history_user", by.pk if by else None), ("history_change_reason", None)):
        f = meta.get_field(name)
        columns.append((f.column, f.db_type(connection)))
        arrays.append([value] * len(entries))
    columns.append((meta.get_field("history_type").column, meta.get_field("history_type").db_type(connection)))
    arrays.append([kind for _instance, kind in entries])
    _insert(meta.db_table, columns, arrays)


def _update_rows(model, rows: Sequence, columns: Sequence[str]) -> None:
    """UPDATE the rows to their instances' values of `columns`, in one statement over unnest'ed arrays."""
    if not rows:
        return
    table = model._meta.db_table
    fields = [model._meta.get_field(name) for name in columns]
    quote = connection.ops.quote_name
    arrays, selects = [], []
    for f in fields:
        arrays.append(_prepared_column(f, [getattr(row, f.attname) for row in rows]))
        selects.append(f"%s::{f.db_type(connection)}[]")
    ids = [row.pk for row in rows]
    assignments = ", ".join(f"{quote(f.column)} = v.c{i}" for i, f in enumerate(fields))
    names = ", ".join(f"c{i}" for i in range(len(fields)))
    # Names and types come from the model's own fields; every value is a parameter.
    sql = f"UPDATE {quote(table)} AS t SET {assignments} FROM unnest(%s::bigint[], {', '.join(selects)}) "  # noqa: S608
    sql += f"AS v(id, {names}) WHERE t.id = v.id"
    with connection.cursor() as cursor:
        cursor.execute(sql, [ids, *arrays])


def _finish(
    records: Sequence[BulkRecord],
    plan: _Plan,
    outcomes: dict[int, Outcome],
    write: Callable[[_Plan], None],
    one: Callable[[BulkRecord], tuple[Any, bool, bool]],
) -> None:
    """Write the plan under a savepoint; if a writer that took no lock made it clash, do every record one by one.
    Then the records set aside for the single upsert, in the batch's order."""
    try:
        with transaction.atomic():
            write(plan)
    except IntegrityError:
        plan = _Plan(fallback=[r for r in records if r.index not in outcomes])
    else:
        for record, instance in plan.create:
            outcomes[record.index] = Outcome(CREATED, instance.pk)
        for record, instance, _fields in plan.update:
            outcomes[record.index] = Outcome(UPDATED, instance.pk)
        for record, instance in plan.unchanged:
            outcomes[record.index] = Outcome(UNCHANGED, instance.pk)
    for record in sorted(plan.fallback, key=lambda r: r.index):
        try:
            with transaction.atomic():
                instance, created, changed = one(record)
        except (Conflict, ValidationError) as exc:
            outcomes[record.index] = _error(exc)
            continue
        outcomes[record.index] = Outcome(CREATED if created else UPDATED if changed else UNCHANGED, instance.pk)


def _repeated(records: Sequence[BulkRecord], key: Callable[[BulkRecord], str]) -> set[str]:
    seen, twice = set(), set()
    for record in records:
        value = key(record)
        if value:
            (twice if value in seen else seen).add(value)
    return twice


def _prepared(records: Sequence[BulkRecord], outcomes: dict[int, Outcome], normalise) -> list[BulkRecord]:
    """The records whose DMS id and fields normalise as the single upsert's would; the others answered."""
    ready = []
    for record in records:
        try:
            dms_id = single._required_dms_id(record.dms_id)
            data = dict(record.data)
            data.pop("dms_id", None)
            ready.append(BulkRecord(record.index, dms_id, normalise(data)))
        except ValidationError as exc:
            outcomes[record.index] = _error(exc)
    return ready


# --- clients -----------------------------------------------------------------------------------------------------

# Client fields the judgement never validates by a query: the manager is checked by the input layer against the
# list of managers read once, and `merged_into` is not written here.
_CLIENT_CLEAN_EXCLUDE = ["assigned_manager", "merged_into"]
_CLIENT_WRITTEN = [
    f.name for f in Client._meta.concrete_fields if f.name not in ("id", "created_at", "merged_into", "merged_at")
]


_PHONE_KINDS = frozenset(ClientPhone.Kind.values)
_COMMENT_MAX = ClientPhone._meta.get_field("comment").max_length


def _check_phone(phone: ClientPhone) -> None:
    """What the phone's model validation would still check once `phones_clean` made its number E.164 (a thousand
    full_clean() calls cost a tenth of a batch): its kind and the length of its comment."""
    if phone.kind not in _PHONE_KINDS or len(phone.comment or "") > _COMMENT_MAX:
        phone.full_clean(exclude=["client"], validate_unique=False, validate_constraints=False)


def _phone_plan(client: Client, held: list[ClientPhone], wanted: CleanPhones, plan: dict) -> bool:
    """What `_replace_phones` would do to this client's phones, as rows to delete, demote, change and add."""
    existing = {p.number: p for p in held}
    numbers = {p.number: p for p in wanted}
    changed = False
    for number, row in existing.items():
        if number not in numbers:
            plan["delete"].append(row)
            changed = True
    for row in existing.values():
        if row.number in numbers and row.is_primary and not numbers[row.number].is_primary:
            plan["demote"].append(row)
    for phone in wanted:
        row = existing.get(phone.number)
        if row is not None and (row.kind, row.is_primary, row.comment) == (phone.kind, phone.is_primary, phone.comment):
            continue
        if row is None:
            row = ClientPhone(client=client, number=phone.number)
            plan["add"].append(row)
        else:
            plan["change"].append(row)
        row.kind, row.is_primary, row.comment = phone.kind, phone.is_primary, phone.comment
        _check_phone(row)
        changed = True
    return changed


def client_bulk_upsert(*, by: User | None, records: Sequence[BulkRecord]) -> dict[int, Outcome]:
    """Upsert clients (with their phones) by DMS id, as `client_upsert_by_dms_id` would one by one; returns each
    record's outcome by its index. Records are `BulkRecord`s whose data is what `client_upsert_by_dms_id` takes
    (phones as `PhoneInput`s or a `CleanPhones`; None or absent: the phones are left as they are)."""
    outcomes: dict[int, Outcome] = {}
    ready = _prepared(records, outcomes, single._normalise_client_fields)
    if not ready:
        return outcomes
    with transaction.atomic():
        _lock_dms_ids("clients.Client", [r.dms_id for r in ready])
        held = {c.dms_id: c for c in Client.objects.select_for_update().filter(dms_id__in=[r.dms_id for r in ready])}
        phones_held: dict[int, list[ClientPhone]] = {}
        for phone in ClientPhone.objects.filter(client__in=[c.pk for c in held.values()]).order_by("id"):
            phones_held.setdefault(phone.client_id, []).append(phone)
        twice = _repeated(ready, lambda r: r.dms_id)
        plan = _Plan()
        phone_plan: dict[str, list] = {"delete": [], "demote": [], "change": [], "add": []}
        now = timezone.now()
        for record in ready:
            existing = held.get(record.dms_id)
            if record.dms_id in twice or (existing is not None and existing.merged_into_id):
                plan.fallback.append(record)
                continue
            try:
                _judge_client(record, existing, phones_held, plan, phone_plan, now)
            except (Conflict, ValidationError) as exc:
                outcomes[record.index] = _error(exc)

        def write(plan: _Plan) -> None:
            _write_clients(plan, phone_plan, by=by, at=now)

        def one(record: BulkRecord):
            client, created = single.client_upsert_by_dms_id(by=by, dms_id=record.dms_id, **record.data)
            return client, created, client.updated_at >= now

        _finish(ready, plan, outcomes, write, one)
    return outcomes


def _judge_client(record, existing, phones_held, plan: _Plan, phone_plan: dict, now) -> None:
    data = dict(record.data)
    name = data.pop("name")
    phones = data.pop("phones", None)
    single._check_fields(data, single.CLIENT_FIELDS, "client_upsert_by_dms_id")
    cleaned = single.phones_clean(phones) if phones is not None else None
    if existing is None:
        client = Client(name=name, dms_id=record.dms_id, **{**single.DMS_CLIENT_DEFAULTS, **data})
        single._stamp_consents(client, previous={})
        client.search_name = Client.search_key(client.name)
        client.full_clean(exclude=_CLIENT_CLEAN_EXCLUDE, validate_unique=False, validate_constraints=False)
        client._new_phones = [
            ClientPhone(client=client, number=p.number, kind=p.kind, is_primary=p.is_primary, comment=p.comment)
            for p in cleaned or ()
        ]
        for phone in client._new_phones:
            _check_phone(phone)
        plan.create.append((record, client))
        return
    single.refuse_stale(existing, sent=data.get("dms_updated_at"))
    previous = {flag: getattr(existing, flag) for flag, _stamp in single.CONSENTS}
    stored = single.stored_values(existing)
    existing.name = name
    for attribute, value in data.items():
        setattr(existing, attribute, value)
    single._stamp_consents(existing, previous=previous)
    existing.search_name = Client.search_key(existing.name)
    existing.full_clean(exclude=_CLIENT_CLEAN_EXCLUDE, validate_unique=False, validate_constraints=False)
    fields_changed = single.stored_values(existing) != stored
    # The phones are planned into a plan of their own first, so a refused phone leaves the batch's plan untouched.
    mine: dict[str, list] = {"delete": [], "demote": [], "change": [], "add": []}
    phones_changed = cleaned is not None and _phone_plan(existing, phones_held.get(existing.pk, []), cleaned, mine)
    for kind, rows in mine.items():
        phone_plan[kind].extend(rows)
    if fields_changed or phones_changed:
        existing.updated_at = now
        plan.update.append((record, existing, fields_changed))
    else:
        plan.unchanged.append((record, existing))


def _write_clients(plan: _Plan, phone_plan: dict, *, by: User | None, at) -> None:
    history: list = []
    if plan.create:
        new = [client for _record, client in plan.create]
        _insert_rows(Client, new)
        history += [(client, "+") for client in new]
        for client in new:
            for phone in client._new_phones:
                phone.client_id = client.pk
            phone_plan["add"].extend(client._new_phones)
    if plan.update:
        _update_rows(Client, [client for _record, client, _fields in plan.update], _CLIENT_WRITTEN)
        changed = [client for _record, client, fields_changed in plan.update if fields_changed]
        history += [(client, "~") for client in changed]
    _insert_history(Client, history, by=by, at=at)
    _write_phones(phone_plan, by=by, at=at)
    created = tuple(client.pk for _record, client in plan.create)
    updated = tuple(client.pk for _record, client, _fields in plan.update)
    if created or updated:
        events.publish(ClientsChanged(created=created, updated=updated, by_id=by.pk if by else None))


def _write_phones(phone_plan: dict, *, by: User | None, at) -> None:
    history: list = []
    if phone_plan["delete"]:
        # One DELETE, and the history rows below carry who did it (a queryset's delete would fetch the rows first and
        # have simple_history write a row per phone without the author). Nothing refers to a phone row.
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM clients_clientphone WHERE id = ANY(%s)", [[p.pk for p in phone_plan["delete"]]])
        history += [(phone, "-") for phone in phone_plan["delete"]]
    changing = {p.pk for p in phone_plan["change"]}
    demoted = [p for p in phone_plan["demote"] if p.pk not in changing]
    if phone_plan["demote"]:
        # An old primary that stops being one is cleared first, so the one-primary index never sees two.
        ClientPhone.objects.filter(pk__in=[p.pk for p in phone_plan["demote"]]).update(is_primary=False)
        history += [(phone, "~") for phone in demoted]
    if phone_plan["change"]:
        _update_rows(ClientPhone, phone_plan["change"], ["kind", "is_primary", "comment"])
        history += [(phone, "~") for phone in phone_plan["change"]]
    if phone_plan["add"]:
        _insert_rows(ClientPhone, phone_plan["add"])
        history += [(phone, "+") for phone in phone_plan["add"]]
    _insert_history(ClientPhone, history, by=by, at=at)


# --- vehicles ----------------------------------------------------------------------------------------------------

_VEHICLE_WRITTEN = [f.name for f in Vehicle._meta.concrete_fields if f.name not in ("id", "created_at")]


def vehicle_bulk_upsert(*, by: User | None, records: Sequence[BulkRecord]) -> dict[int, Outcome]:
    """Upsert vehicles by DMS id, as `vehicle_upsert_by_dms_id` would one by one; returns each record's outcome by
    its index. Each record's data holds its `owner` (a Client) and the fields `vehicle_upsert_by_dms_id` takes."""
    outcomes: dict[int, Outcome] = {}
    ready = _prepared(records, outcomes, single._normalise_vehicle_fields)
    if not ready:
        return outcomes
    with transaction.atomic():
        _lock_dms_ids("clients.Vehicle", [r.dms_id for r in ready])
        held = {v.dms_id: v for v in Vehicle.objects.select_for_update().filter(dms_id__in=[r.dms_id for r in ready])}
        vins = {r.data["vin"] for r in ready if r.data.get("vin")}
        vin_holders = {v.vin: v for v in Vehicle.objects.select_related("owner").filter(vin__in=vins)}
        twice = _repeated(ready, lambda r: r.dms_id) | {
            f"vin:{v}" for v in _repeated(ready, lambda r: r.data.get("vin"))
        }
        plan = _Plan()
        now = timezone.now()
        for record in ready:
            owner = record.data.get("owner")
            if (
                record.dms_id in twice
                or f"vin:{record.data.get('vin')}" in twice
                or (owner is not None and owner.merged_into_id)
            ):
                plan.fallback.append(record)
                continue
            try:
                _judge_vehicle(record, held.get(record.dms_id), vin_holders, plan, now)
            except (Conflict, ValidationError) as exc:
                outcomes[record.index] = _error(exc)

        def write(plan: _Plan) -> None:
            history: list = []
            if plan.create:
                new = [vehicle for _record, vehicle in plan.create]
                _insert_rows(Vehicle, new)
                history += [(vehicle, "+") for vehicle in new]
            if plan.update:
                rows = [vehicle for _record, vehicle, _fields in plan.update]
                _update_rows(Vehicle, rows, _VEHICLE_WRITTEN)
                history += [(vehicle, "~") for vehicle in rows]
            _insert_history(Vehicle, history, by=by, at=now)
            created = tuple(vehicle.pk for _record, vehicle in plan.create)
            updated = tuple(vehicle.pk for _record, vehicle, _fields in plan.update)
            if created or updated:
                events.publish(VehiclesChanged(created=created, updated=updated, by_id=by.pk if by else None))

        def one(record: BulkRecord):
            vehicle, created = single.vehicle_upsert_by_dms_id(by=by, dms_id=record.dms_id, **record.data)
            return vehicle, created, vehicle.updated_at >= now

        _finish(ready, plan, outcomes, write, one)
    return outcomes


def _judge_vehicle(record, existing, vin_holders, plan: _Plan, now) -> None:
    data = dict(record.data)
    single._check_fields(data, single.VEHICLE_FIELDS, "vehicle_upsert_by_dms_id")
    vin = data.get("vin", existing.vin if existing is not None else "")
    clash = vin_holders.get(vin) if vin else None
    if clash is not None and (existing is None or clash.pk != existing.pk):
        single._ensure_vin_free(vin, exclude_pk=existing.pk if existing else None)  # raises, worded as it words it
    if existing is None:
        owner = data.pop("owner")
        vehicle = Vehicle(owner=owner, dms_id=record.dms_id, **data)
        vehicle.full_clean(exclude=["owner"], validate_unique=False, validate_constraints=False)
        plan.create.append((record, vehicle))
        return
    single.refuse_stale(existing, sent=data.get("dms_updated_at"))
    stored = single.stored_values(existing)
    for attribute, value in data.items():
        setattr(existing, attribute, value)
    existing.full_clean(exclude=["owner"], validate_unique=False, validate_constraints=False)
    if single.stored_values(existing) != stored:
        existing.updated_at = now
        plan.update.append((record, existing, True))
    else:
        plan.unchanged.append((record, existing))
