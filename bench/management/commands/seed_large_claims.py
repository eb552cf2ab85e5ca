"""`manage.py seed_large_claims`: DOMAIN.md's scale for claims, 30,000 claims over the clients and cars `seed_large`
loaded, for the benchmark's claim list by due state and for reading its query plans on realistic data.

Seven in ten are closed (received over three years, answered and closed within their terms or a little after); the
rest are open and received in the last five weeks, so the list has overdue claims, claims due within two working days
and claims due later, in every state from registered to informed. Numbers follow the yearly sequence
(`П-2025-00042`) and the year counters are set after them, so a claim registered afterwards takes the next number.

The rows are made by one INSERT … SELECT inside PostgreSQL (bulk-loaded data has no author, so no history or step
trail is written), in one transaction. Running it again when the claims are there adds nothing (`--force` loads
another batch).
"""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from accounts.models import User
from accounts.roles import Role
from claims.models import Claim, ClaimCategory

DEFAULT_COUNT = 30_000

INSERT = """
WITH cars AS (
    SELECT row_number() OVER (ORDER BY id) AS rn, id, owner_id FROM clients_vehicle WHERE owner_id IS NOT NULL
), total AS (SELECT count(*) AS n FROM cars),
cats AS (SELECT row_number() OVER (ORDER BY id) - 1 AS i, id, term_days, term_agreed FROM claims_claimcategory
         WHERE is_active),
g AS (
    SELECT s AS g, (s * 7919) %% (SELECT n FROM total) + 1 AS car_rn, s %% 100 AS st,
           (s * 31) %% (SELECT count(*) FROM cats) AS cat_i
    FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS s
), rows AS (
    SELECT g.g, g.st, cars.id AS vehicle_id, cars.owner_id AS client_id, cats.id AS category_id,
           CASE WHEN cats.term_agreed THEN 14 + (g.g %% 30)::int ELSE NULL END AS agreed,
           CASE WHEN cats.term_agreed THEN 14 + (g.g %% 30)::int ELSE cats.term_days END AS term,
           now() - ((g.g %% 600) || ' minutes')::interval
           - (CASE WHEN g.st < 70 THEN 40 + (g.g * 13) %% 1060 ELSE (g.g * 7) %% 36 END || ' days')::interval
             AS received_at,
           CASE WHEN g.st < 70 THEN 'closed' WHEN g.st < 74 THEN 'informed' WHEN g.st < 79 THEN 'decided'
                WHEN g.st < 85 THEN 'escalated' WHEN g.st < 93 THEN 'under_review' ELSE 'registered' END AS status,
           (%(managers)s::bigint[])[1 + (g.g %% array_length(%(managers)s::bigint[], 1))] AS assignee_id
    FROM g JOIN cars ON cars.rn = g.car_rn JOIN cats ON cats.i = g.cat_i
), numbered AS (
    SELECT rows.*, extract(year FROM received_at AT TIME ZONE %(zone)s)::int AS year,
           %(start)s::int + row_number() OVER (PARTITION BY extract(year FROM received_at AT TIME ZONE %(zone)s)
                                                ORDER BY received_at, g) AS seq
    FROM rows
)
INSERT INTO claims_claim (
    created_at, updated_at, number, client_id, vehicle_id, booking_id, delivery_id, loaner_id, source_call_id, kind,
    channel, received_at, client_words, demand, category_id, agreed_term_days, due_date, status, assignee_id,
    escalated_to, outcome, compensation_kind, compensation_amount, decision_text, decided_by_id, decided_at,
    informed_via, informed_call_id, informed_at, answer_document_id, closed_at, created_by_id
)
SELECT received_at, now(), 'П-' || year || '-' || lpad(seq::text, 5, '0'), client_id, vehicle_id, NULL, NULL, NULL,
       NULL, CASE WHEN g %% 3 = 0 THEN 'written' ELSE 'oral' END,
       (ARRAY['phone', 'visit', 'email', 'letter', 'messenger', 'hotline'])[1 + g %% 6],
       received_at, 'Клиент недоволен результатом работ (загружено для замеров)', 'Устранить недостаток',
       category_id, agreed, (received_at AT TIME ZONE %(zone)s)::date + term, status, assignee_id,
       CASE WHEN status = 'escalated' OR (status IN ('decided', 'informed', 'closed') AND g %% 4 = 0)
            THEN (ARRAY['workshop_mgmt', 'sales_mgmt'])[1 + g %% 2] ELSE '' END,
       CASE WHEN status IN ('decided', 'informed', 'closed')
            THEN (ARRAY['satisfied', 'partly', 'refused'])[1 + g %% 3] ELSE '' END,
       '', NULL, CASE WHEN status IN ('decided', 'informed', 'closed') THEN 'Решение по претензии' ELSE '' END,
       NULL,
       CASE WHEN status IN ('decided', 'informed', 'closed') THEN received_at + ((term - 2) || ' days')::interval END,
       CASE WHEN status IN ('informed', 'closed') THEN (ARRAY['call', 'letter'])[1 + g %% 2] ELSE '' END, NULL,
       CASE WHEN status IN ('informed', 'closed') THEN received_at + ((term - 1) || ' days')::interval END, NULL,
       CASE WHEN status = 'closed' THEN received_at + ((term + g %% 5) || ' days')::interval END, assignee_id
FROM numbered
"""

COUNTERS = """
INSERT INTO claims_claimcounter (year, last)
SELECT split_part(number, '-', 2)::int, max(split_part(number, '-', 3)::int) FROM claims_claim GROUP BY 1
ON CONFLICT (year) DO UPDATE SET last = GREATEST(claims_claimcounter.last, EXCLUDED.last)
"""


class Command(BaseCommand):
    help = "Load 30,000 claims into PostgreSQL over the clients and cars seed_large loaded."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=DEFAULT_COUNT, help="How many claims (30,000).")
        parser.add_argument("--force", action="store_true", help="Load even when claims are there already.")

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            raise CommandError("seed_large_claims is meant for PostgreSQL only; set DATABASE_URL.")
        count = options["count"]
        have = Claim.objects.count()
        if have >= count and not options["force"]:
            self.stdout.write(f"{have} claims are there already: nothing to do.")
            return
        managers = list(User.objects.filter(role=Role.MANAGER, is_active=True).values_list("pk", flat=True)[:50])
        if not managers or not ClaimCategory.objects.filter(is_active=True).exists():
            raise CommandError("Run `manage.py seed_large` (the managers) and migrate claims (the categories) first.")
        first = (Claim.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
        started = time.monotonic()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT coalesce(max(last), 0) FROM claims_claimcounter")
            start = cursor.fetchone()[0] if options["force"] else 0
            params = {"first": first, "last": first + count - 1, "managers": managers, "zone": settings.TIME_ZONE}
            cursor.execute(INSERT, {**params, "start": start})
            inserted = cursor.rowcount
            cursor.execute(COUNTERS)
            cursor.execute("ANALYZE claims_claim")
        self.stdout.write(self.style.SUCCESS(f"{inserted} claims inserted in {time.monotonic() - started:.0f} s."))
