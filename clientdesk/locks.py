"""Serialising writers that must not run side by side.

`lock_for(name)` takes a PostgreSQL advisory lock for the rest of the current transaction, keyed by a string (e.g.
"clients.Vehicle.dms:CAR-1"): a second transaction asking for the same name waits until the first commits or rolls
back. The DMS-id upserts use it so that twenty writers pushing one new record at once queue up: the first creates,
the rest find the row and update it, and no one meets a half-visible insert (a unique index, a VIN check and model
validation each disagreeing about a row another transaction has not committed yet). On SQLite every write
transaction is IMMEDIATE already, so writers queue anyway and this does nothing.
"""

from django.db import connection, transaction


def lock_for(name: str) -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("lock_for() holds its lock until the transaction ends: call it inside transaction.atomic")
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [name])
