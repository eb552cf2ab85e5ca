"""`manage.py seed_large_documents`: DOMAIN.md's scale for the paper, 1,500,000 documents over the clients and cars
`seed_large` loaded, for the benchmark's archive search and for reading its query plans on realistic data.

Each car gets its sale's papers (sale contract, handover act, waybill) and, for some, a power of attorney, a
temporary-use contract or a supplementary agreement, dated over four years; most are archived in a box and on a shelf,
the recent ones are at accounting, signed or still expected, a few lost. Numbers look like the dealership's
(`ДКП-2024/001234`, `ТТН-…`, `АПП-…`).

The rows are made by one INSERT … SELECT inside PostgreSQL (the services would take hours; bulk-loaded data has no
author, so no history or transition trail is written). Like the other loaders it runs in one transaction: the
table's secondary indexes and foreign keys are dropped, the rows inserted, everything recreated from the catalogue.
Running it again when the documents are there adds nothing (`--force` loads another batch).
"""

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from bench.management.commands.seed_large import Schema
from documents.models import Document

DEFAULT_COUNT = 1_500_000
TABLES = ["documents_document"]

# kind, number prefix, weight (per 100 documents)
KINDS = [
    ("sale_contract", "ДКП", 27),
    ("handover_act", "АПП", 27),
    ("waybill", "ТТН", 27),
    ("power_of_attorney", "ДОВ", 8),
    ("temp_use_contract", "ДВП", 4),
    ("supplementary", "ДС", 4),
    ("other", "ПР", 3),
]

INSERT = """
WITH cars AS (
    SELECT row_number() OVER (ORDER BY id) AS rn, id, owner_id FROM clients_vehicle WHERE owner_id IS NOT NULL
), total AS (SELECT count(*) AS n FROM cars),
g AS (
    SELECT s AS g, (s * 7919) %% (SELECT n FROM total) + 1 AS car_rn, (s * 37) %% 100 AS k, s %% 100 AS st
    FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS s
), rows AS (
    SELECT g.g, g.st, cars.id AS vehicle_id, cars.owner_id AS client_id,
           CASE {kind_case} END AS kind,
           CASE {prefix_case} END AS prefix,
           (date '2022-12-01' + ((g.g * 13) %% 1460)::int) AS issued_on
    FROM g JOIN cars ON cars.rn = g.car_rn
)
INSERT INTO documents_document (
    kind, number, number_key, issued_on, title, notes, client_id, vehicle_id, delivery_id, booking_id, original, state,
    archive_box, archive_shelf, dms_id, replaced_by_id, state_changed_at, created_by_id, created_at, updated_at
)
SELECT kind,
       prefix || '-' || extract(year FROM issued_on)::int || '/' || lpad(g::text, 7, '0'),
       lower(prefix || '-' || extract(year FROM issued_on)::int || '/' || lpad(g::text, 7, '0')),
       issued_on, '', '', client_id, vehicle_id, NULL, NULL, (st %% 17) <> 0,
       CASE WHEN issued_on > date '2026-10-01' AND st < 30 THEN 'expected'
            WHEN issued_on > date '2026-10-01' AND st < 60 THEN 'signed'
            WHEN issued_on > date '2026-07-01' AND st < 80 THEN 'at_accounting'
            WHEN st = 99 THEN 'lost'
            ELSE 'archived' END,
       CASE WHEN (issued_on > date '2026-10-01' AND st < 60) OR (issued_on > date '2026-07-01' AND st < 80) OR st = 99
            THEN '' ELSE 'К-' || (g / 400)::text END,
       CASE WHEN (issued_on > date '2026-10-01' AND st < 60) OR (issued_on > date '2026-07-01' AND st < 80) OR st = 99
            THEN '' ELSE ((g / 40) %% 12 + 1)::text END,
       '', NULL, now(), NULL, issued_on + time '12:00', now()
FROM rows
"""


def _cases() -> tuple[str, str]:
    kind_parts, prefix_parts, upto = [], [], 0
    for kind, prefix, weight in KINDS:
        upto += weight
        kind_parts.append(f"WHEN g.k < {upto} THEN '{kind}'")
        prefix_parts.append(f"WHEN g.k < {upto} THEN '{prefix}'")
    return " ".join(kind_parts), " ".join(prefix_parts)


class Command(BaseCommand):
    help = "Load 1.5 million documents (the archive) into PostgreSQL over the clients and cars seed_large loaded."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=DEFAULT_COUNT, help="How many documents (1,500,000).")
        parser.add_argument("--force", action="store_true", help="Load even when documents are there already.")

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            raise CommandError("seed_large_documents is meant for PostgreSQL only; set DATABASE_URL.")
        count = options["count"]
        have = Document.objects.count()
        if have >= count and not options["force"]:
            self.stdout.write(f"{have} documents are there already: nothing to do.")
            return
        kind_case, prefix_case = _cases()
        sql = INSERT.replace("{kind_case}", kind_case).replace("{prefix_case}", prefix_case)
        first = (Document.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
        started = time.monotonic()
        with transaction.atomic(), connection.cursor() as cursor:
            schema = Schema(cursor, TABLES)
            restore = schema.drop_secondary()
            cursor.execute(sql, {"first": first, "last": first + count - 1})
            inserted = cursor.rowcount
            self.stdout.write(f"{inserted} documents inserted in {time.monotonic() - started:.0f} s; indexing…")
            schema.restore(restore)
            cursor.execute("ANALYZE documents_document")
        self.stdout.write(self.style.SUCCESS(f"Done in {time.monotonic() - started:.0f} s."))
