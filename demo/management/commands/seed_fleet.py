"""`manage.py seed_fleet`: the dealership's own cars for the demo (run after `seed_demo` and `seed_workshop`).

- eight loaners and four demo cars, one loaner's insurance lapsing within the month (flagged on the car list);
- a loaner out since yesterday and overdue (on the board in red, beside the managers' queue, with its callback task
  once beat runs), one coming back today, one reserved for tomorrow;
- a loaner that came back with a dent, waiting for the transport head (`transport`) with its notice;
- today's test drives: one back with its act, one out now, one later today (the daily test-drive log).

Everything goes through the fleet's services; only the times of what happened before now are set back afterwards. The
run is one transaction, and only into a database with no fleet yet, so running it again adds nothing.
"""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from clientdesk.calendar import day_bounds, local_date
from clients.models import Client
from fleet.models import FleetCar, HandoverAct, Reservation
from fleet.services import test_drives
from fleet.services.acts import Mark, reservation_check_in, reservation_check_out
from fleet.services.cars import car_create
from fleet.services.reservations import reservation_create

LOANERS = (
    # plate, make, model, year, colour, mileage
    ("А101АА77", "Kia", "Rio", 2023, "белый", 18400),
    ("А102АА77", "Kia", "Rio", 2023, "серый", 22150),
    ("В203ВВ77", "Hyundai", "Solaris", 2022, "синий", 35600),
    ("В204ВВ77", "Hyundai", "Solaris", 2022, "белый", 31200),
    ("Е305ЕЕ77", "Skoda", "Rapid", 2021, "черный", 48900),
    ("Е306ЕЕ77", "Skoda", "Rapid", 2021, "серебристый", 51300),
    ("К407КК77", "Lada", "Vesta", 2024, "оранжевый", 6800),
    ("К408КК77", "Lada", "Vesta", 2024, "белый", 9100),
)
DEMO_CARS = (
    ("М501ММ77", "Kia", "K5", 2025, "красный", 1200),
    ("М502ММ77", "Kia", "Sportage", 2025, "серый", 900),
    ("Н603НН77", "Haval", "Jolion", 2025, "зеленый", 2100),
    ("Н604НН77", "Haval", "Dargo", 2025, "черный", 1500),
)


class Command(BaseCommand):
    help = "Load the fleet's demo: loaners and demo cars, reservations out and coming, an inspection, test drives."

    def handle(self, *args, **options):
        if FleetCar.objects.exists():
            self.stdout.write("The fleet already has cars: no fleet demo added.")
            return
        manager = User.objects.filter(username="manager1").first()
        clients = list(Client.objects.filter(merged_into__isnull=True, consent_personal_data=True).order_by("pk")[:8])
        if manager is None or len(clients) < 8:
            raise CommandError("Run `manage.py seed_demo` first: the demo users and clients are missing.")
        with transaction.atomic():
            summary = self.load(manager, clients)
        self.stdout.write(self.style.SUCCESS(summary))

    def load(self, manager: User, clients: list[Client]) -> str:
        now = timezone.now()
        today = local_date(now)
        day_start, day_end = day_bounds(today)
        year_on = today + timedelta(days=300)

        def add(spec, use, **extra):
            plate, make, model, year, colour, km = spec
            values = dict(
                plate=plate,
                make=make,
                model=model,
                year=year,
                colour=colour,
                use=use,
                mileage_km=km,
                fuel_percent=90,
                insurance_until=year_on,
                inspection_until=year_on,
            )
            return car_create(by=None, **(values | extra))

        loaners = [add(spec, FleetCar.Use.LOANER) for spec in LOANERS]
        FleetCar.objects.filter(pk=loaners[-1].pk).update(insurance_until=today + timedelta(days=12))
        demos = [add(spec, FleetCar.Use.DEMO) for spec in DEMO_CARS]
        licence = {"licence_number": "77 19 123456", "licence_valid_until": today + timedelta(days=2000)}

        def out(car, client, *, since, due):
            reservation = reservation_create(
                by=manager,
                car=car,
                client=client,
                starts_at=now + timedelta(minutes=1),
                ends_at=now + timedelta(hours=2),
            )
            reservation_check_out(
                reservation=reservation,
                by=manager,
                mileage_km=car.mileage_km,
                fuel_percent=90,
                signatures_confirmed=True,
                marks=[Mark("rear_bumper", "scratch", "старая царапина")],
                **licence,
            )
            # what happened before now, set back
            Reservation.objects.filter(pk=reservation.pk).update(
                starts_at=since, ends_at=due, free_from=due + timedelta(hours=1), checked_out_at=since
            )
            HandoverAct.objects.filter(reservation=reservation).update(at=since)
            return reservation

        out(loaners[0], clients[0], since=now - timedelta(days=1), due=now - timedelta(hours=3))  # overdue
        out(loaners[1], clients[1], since=now - timedelta(hours=4), due=now + timedelta(hours=3))  # back today
        tomorrow = now + timedelta(days=1)
        reservation_create(
            by=manager,
            car=loaners[2],
            client=clients[2],
            starts_at=tomorrow,
            ends_at=tomorrow + timedelta(hours=6),
            comment="ТО-2, забрать в 9:00",
        )
        dented = out(loaners[3], clients[3], since=now - timedelta(hours=6), due=now - timedelta(minutes=30))
        reservation_check_in(
            reservation=dented,
            by=manager,
            mileage_km=loaners[3].mileage_km + 64,
            fuel_percent=40,
            signatures_confirmed=True,
            marks=[Mark("rear_bumper", "scratch", "старая царапина"), Mark("left_front", "dent", "вмятина на двери")],
            client_reported_fault="Скрип тормозов",
        )

        def drive(car, client, start, hours=1):
            return test_drives.test_drive_book(
                by=manager,
                client=client,
                car=car,
                starts_at=start,
                ends_at=start + timedelta(hours=hours),
                sales_manager="Игорь Волков",
                route="Салон — Ленинградское шоссе — МКАД — салон",
                **licence,
            )

        done = drive(demos[0], clients[4], now + timedelta(minutes=1))
        reservation_check_out(
            reservation=done.reservation,
            by=manager,
            mileage_km=demos[0].mileage_km,
            fuel_percent=80,
            signatures_confirmed=True,
            **licence,
        )
        reservation_check_in(
            reservation=done.reservation,
            by=manager,
            mileage_km=demos[0].mileage_km + 23,
            fuel_percent=75,
            signatures_confirmed=True,
        )
        # The three drives are on today's log at any hour: this one back (three hours ago, or since midnight), one
        # out now, one later today (in two hours, or halfway to midnight).
        earlier = max(now - timedelta(hours=3), day_start)
        took = min(timedelta(hours=1), (now - earlier) / 2)
        Reservation.objects.filter(pk=done.reservation_id).update(
            starts_at=earlier,
            ends_at=earlier + took,
            free_from=earlier + took + timedelta(minutes=15),
            checked_out_at=earlier,
            returned_at=earlier + took * 5 / 6,
        )
        current = drive(demos[1], clients[5], now + timedelta(minutes=1))
        reservation_check_out(
            reservation=current.reservation,
            by=manager,
            mileage_km=demos[1].mileage_km,
            fuel_percent=85,
            signatures_confirmed=True,
            **licence,
        )
        since = max(now - timedelta(minutes=10), day_start)
        Reservation.objects.filter(pk=current.reservation_id).update(starts_at=since, checked_out_at=since)
        drive(demos[2], clients[6], now + min(timedelta(hours=2), (day_end - now) / 2))
        return (
            f"Fleet demo: {len(loaners)} loaners, {len(demos)} demo cars, "
            f"{Reservation.objects.count()} reservations, 1 car waiting for inspection."
        )
