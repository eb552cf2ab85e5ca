"""The fleet's bench cases (`seed_large_fleet` loads the 40 loaners, 20 demo cars and three years of reservations and
acts they read), each beside its raw-SQL floor: the same rows fetched by hand-written queries, planned afresh like
Django's.

- free slots with a loaner: the slot picker's answer when "needs a loaner" is ticked: the free reception slots of an
  area for a planned duration (as `bench.cases.free_slots_case`) and which of them also have a loaner free for the work
  plus the return buffer; floor: the free-slot floor's queries, the loaners that may go out, their reservations held
  in the day's window.
- fleet board: GET /fleet/ as a manager (the cars out with their clients, overdue first, today's reservations, the
  cars waiting for inspection, the count by state, the papers lapsing soon); floor: the same five reads.
"""

from collections.abc import Callable
from datetime import date, timedelta

from django.utils import timezone

from bench.cases import Bench, Case, free_slots_case
from bookings.models import ServiceArea
from bookings.selectors.slots import free_slots
from clientdesk.calendar import day_bounds, local_date
from fleet.models import Reservation
from fleet.selectors import free_loaner_slot_keys
from fleet.services.reservations import return_buffer

LOANERS = """
    SELECT id, state, insurance_until, inspection_until FROM fleet_fleetcar
    WHERE use = 'loaner' AND state NOT IN ('needs_inspection', 'in_maintenance', 'retired')
"""
HELD = """
    SELECT car_id, starts_at, free_from FROM fleet_reservation
    WHERE car_id = ANY(%s) AND status IN ('reserved', 'out') AND starts_at < %s AND free_from > %s
"""


def free_slots_with_loaner(bench: Bench) -> Case:
    base = free_slots_case(bench)
    areas = {a.pk: a for a in ServiceArea.objects.filter(is_active=True)}
    buffer = return_buffer(Reservation.Kind.LOANER)

    def app(given: tuple[date, int, int]) -> object:
        day, area_id, minutes = given
        slots = free_slots(day=day, area=areas[area_id], planned_minutes=minutes)
        return slots, free_loaner_slot_keys(slots, planned_minutes=minutes)

    def floor(given: tuple[date, int, int]) -> object:
        day, _area_id, minutes = given
        start, end = day_bounds(day)
        cars = bench.fetch(LOANERS)
        held = bench.fetch(HELD, [[row[0] for row in cars], end + timedelta(minutes=minutes) + buffer, start])
        return base.floor(given), cars, held

    return Case(
        "free slots with a loaner",
        base.inputs,
        app,
        floor,
        "free_slots(...) and free_loaner_slot_keys(...) as the slot picker with 'needs a loaner'; floor: the free-slot "
        "floor, the loaners that may go out, their reservations in the day's window",
    )


BOARD_OUT = """
    SELECT r.id, r.starts_at, r.ends_at, r.kind, car.id, car.plate, car.make, car.model, c.id, c.name, r.booking_id
    FROM fleet_reservation r JOIN fleet_fleetcar car ON car.id = r.car_id JOIN clients_client c ON c.id = r.client_id
    WHERE r.status = 'out' ORDER BY r.ends_at, r.id
"""
BOARD_COMING = """
    SELECT r.id, r.starts_at, r.ends_at, r.kind, car.id, car.plate, car.make, car.model, c.id, c.name, r.booking_id
    FROM fleet_reservation r JOIN fleet_fleetcar car ON car.id = r.car_id JOIN clients_client c ON c.id = r.client_id
    WHERE r.status = 'reserved' AND r.starts_at < %s AND r.ends_at >= %s ORDER BY r.starts_at, r.id
"""
BOARD_INSPECTIONS = """
    SELECT i.id, i.reasons, i.opened_at, car.id, car.plate FROM fleet_carinspection i
    JOIN fleet_fleetcar car ON car.id = i.car_id WHERE i.closed_at IS NULL ORDER BY i.opened_at
"""
BOARD_STATES = "SELECT state, count(*) FROM fleet_fleetcar WHERE state <> 'retired' GROUP BY state"
BOARD_LAPSING = """
    SELECT id, plate, make, model, insurance_until, inspection_until FROM fleet_fleetcar
    WHERE state <> 'retired' AND (insurance_until <= %s OR inspection_until <= %s) ORDER BY insurance_until, id
"""


def fleet_board(bench: Bench) -> Case:
    today = local_date(timezone.now())
    inputs = [today + timedelta(days=bench.rng.randint(0, 6)) for _ in range(bench.sample)]

    def app(day: date) -> object:
        return bench.get("/fleet/", {"day": day.isoformat()})

    def floor(day: date) -> object:
        start, end = day_bounds(day)
        return (
            bench.fetch(BOARD_OUT),
            bench.fetch(BOARD_COMING, [end, start]),
            bench.fetch(BOARD_INSPECTIONS),
            bench.fetch(BOARD_STATES),
            bench.fetch(BOARD_LAPSING, [today + timedelta(days=30)] * 2),
        )

    return Case(
        "fleet board",
        inputs,
        app,
        floor,
        "GET /fleet/?day= as a manager, one of the next seven days; floor: the cars out, the day's reservations, the "
        "open inspections, the count by state, the cars whose papers lapse within 30 days",
    )


CASE_BUILDERS: list[Callable[[Bench], Case]] = [free_slots_with_loaner, fleet_board]
