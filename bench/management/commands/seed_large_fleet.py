"""`manage.py seed_large_fleet`: DOMAIN.md's scale for the fleet, 40 loaners and 20 demo cars with three years of
reservations and acts, for the benchmark's free slots with a loaner and the fleet board, and for reading their query
plans on realistic data.

Every loaner goes out once a day (from 09:00, 2–4 hours, staggered), every demo car three times a day for a test drive
(10:00, 13:00, 16:00, an hour each), from three years ago to two weeks ahead: about 44,000 loaner reservations and
66,000 test drives. What ended is returned (one in twenty cancelled) with its acts out and back, what is under way is
out, what is ahead is reserved; no two reservations of a car overlap, so the exclusion constraint holds.

The rows are made by INSERT … SELECT inside PostgreSQL (bulk-loaded data has no author, so no history or step trail is
written), in one transaction. Running it again when the cars are there adds nothing.
"""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from fleet.models import FleetCar

CARS = """
INSERT INTO fleet_fleetcar (created_at, updated_at, plate, vin, make, model, year, colour, use, state, mileage_km,
                            fuel_percent, insurance_until, inspection_until, notes)
SELECT now(), now(), (ARRAY['А','В','Е','К','М','Н','О','Р','С','Т','У','Х'])[1 + n %% 12] || lpad(n::text, 3, '0')
       || 'ХХ799', '', (ARRAY['Kia','Hyundai','Skoda','Lada','Haval'])[1 + n %% 5],
       (ARRAY['Rio','Solaris','Rapid','Vesta','Jolion'])[1 + n %% 5], 2021 + n %% 4, 'белый',
       CASE WHEN n <= %(loaners)s THEN 'loaner' ELSE 'demo' END, 'available', 10000 + n * 977, 80,
       current_date + 200 + n, current_date + 300 + n, ''
FROM generate_series(1, %(loaners)s + %(demos)s) AS n
"""

RESERVATIONS = """
WITH cars AS (
    SELECT id, use, row_number() OVER (PARTITION BY use ORDER BY id) AS i FROM fleet_fleetcar
), clients AS (
    SELECT array_agg(id) AS ids FROM (SELECT id FROM clients_client WHERE merged_into_id IS NULL LIMIT 50000) c
), days AS (
    SELECT d::date AS day FROM generate_series(current_date - %(days)s, current_date + 14, interval '1 day') AS d
), slots AS (
    SELECT cars.id AS car_id, 'loaner' AS kind, days.day,
           (days.day + time '09:00' + ((cars.i %% 4) * 30 || ' minutes')::interval) AT TIME ZONE %(zone)s AS starts,
           ((2 + cars.i %% 3) || ' hours')::interval AS length, interval '60 minutes' AS buffer, cars.i AS seq
    FROM cars CROSS JOIN days WHERE cars.use = 'loaner'
    UNION ALL
    SELECT cars.id, 'test_drive', days.day, (days.day + h) AT TIME ZONE %(zone)s, interval '1 hour',
           interval '15 minutes', cars.i * 3 + extract(hour FROM h)::int
    FROM cars CROSS JOIN days CROSS JOIN unnest(ARRAY[time '10:00', time '13:00', time '16:00']) AS h
    WHERE cars.use = 'demo'
), rows AS (
    SELECT slots.*, slots.starts + slots.length AS ends,
           abs(hashtext(slots.car_id::text || slots.day::text || slots.seq::text)) AS h
    FROM slots
)
INSERT INTO fleet_reservation (created_at, updated_at, car_id, kind, client_id, booking_id, starts_at, ends_at,
                               free_from, status, checked_out_at, returned_at, cancel_reason, overdue_flagged_at,
                               contract_signed_at, contract_document_id, comment, created_by_id)
SELECT rows.starts - interval '2 days', now(), rows.car_id, rows.kind,
       (SELECT ids FROM clients)[1 + rows.h %% array_length((SELECT ids FROM clients), 1)], NULL, rows.starts,
       rows.ends, rows.ends + rows.buffer,
       CASE WHEN rows.ends <= now() AND rows.h %% 20 = 0 THEN 'cancelled' WHEN rows.ends <= now() THEN 'returned'
            WHEN rows.starts <= now() THEN 'out' ELSE 'reserved' END,
       CASE WHEN rows.starts <= now() AND NOT (rows.ends <= now() AND rows.h %% 20 = 0) THEN rows.starts END,
       CASE WHEN rows.ends <= now() AND rows.h %% 20 <> 0 THEN rows.ends END,
       CASE WHEN rows.ends <= now() AND rows.h %% 20 = 0 THEN 'Клиент передумал' ELSE '' END,
       NULL, NULL, NULL, '', %(author)s
FROM rows
"""

ACTS = """
INSERT INTO fleet_handoveract (reservation_id, direction, at, mileage_km, fuel_percent, licence_number,
                               licence_valid_until, deposit, client_reported_fault, warning_lamp, signatures_confirmed,
                               note, by_id)
SELECT r.id, d.direction, CASE WHEN d.direction = 'out' THEN r.checked_out_at ELSE r.returned_at END,
       10000 + (r.id %% 50000) + CASE WHEN d.direction = 'back' THEN 20 + r.id %% 150 ELSE 0 END,
       CASE WHEN d.direction = 'out' THEN 90 ELSE 60 END, '77' || lpad((r.id %% 10000000)::text, 8, '0'),
       current_date + 1000, NULL, '', false, true, '', %(author)s
FROM fleet_reservation r CROSS JOIN (VALUES ('out'), ('back')) AS d(direction)
WHERE r.checked_out_at IS NOT NULL AND (d.direction = 'out' OR r.returned_at IS NOT NULL)
"""

TEST_DRIVES = """
INSERT INTO fleet_testdrive (created_at, updated_at, reservation_id, sales_manager, route, licence_number,
                             licence_valid_until)
SELECT r.created_at, now(), r.id, 'Игорь Волков', 'Салон — МКАД — салон',
       '77' || lpad((r.id %% 10000000)::text, 8, '0'), current_date + 1000
FROM fleet_reservation r WHERE r.kind = 'test_drive'
"""


class Command(BaseCommand):
    help = "Load 40 loaners, 20 demo cars and three years of reservations and acts (PostgreSQL only)."

    def add_arguments(self, parser):
        parser.add_argument("--loaners", type=int, default=40)
        parser.add_argument("--demos", type=int, default=20)
        parser.add_argument("--days", type=int, default=3 * 365)

    def handle(self, *args, loaners, demos, days, **options):
        if connection.vendor != "postgresql":
            raise CommandError("seed_large_fleet loads PostgreSQL (set DATABASE_URL).")
        if FleetCar.objects.exists():
            self.stdout.write("The fleet has cars already: nothing loaded.")
            return
        params = {"loaners": loaners, "demos": demos, "days": days, "zone": settings.TIME_ZONE, "author": None}
        started = time.monotonic()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(CARS, params)
            cursor.execute(RESERVATIONS, params)
            reservations = cursor.rowcount
            cursor.execute(ACTS, params)
            acts = cursor.rowcount
            cursor.execute(TEST_DRIVES, params)
            drives = cursor.rowcount
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE fleet_fleetcar, fleet_reservation, fleet_handoveract, fleet_testdrive")
        self.stdout.write(
            self.style.SUCCESS(
                f"{loaners} loaners, {demos} demo cars, {reservations} reservations ({drives} test drives), "
                f"{acts} acts in {time.monotonic() - started:.1f} s"
            )
        )
