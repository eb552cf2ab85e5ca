"""`manage.py seed_reception`: the reception's small desks for the demo (run after `seed_demo` and `seed_workshop`).

- the tow services the department calls, and three tow orders: one taken 25 minutes ago and still not dispatched
  (flagged on the dispatch board), one dispatched with the contractor's ETA, and one that failed with its call-out
  cost (so the month's reconciliation has a line);
- the printed materials at reception, the cash desk and the waiting area, one below its minimum and one past its
  review date, so the managers are told when they sign in;
- the tinting films and their prices per window zone, and one consultation with the legal warning recorded.

Everything goes through the reception's services; only the first order's time (and its trail's) is set back
afterwards. The run is one
transaction, and only into a database with no tow services yet, so running it again adds nothing.
"""

from datetime import timedelta
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from clientdesk.calendar import local_date
from clients.models import Vehicle
from reception.models import TowContractor, TowOrder, TowTransition
from reception.services.materials import material_create
from reception.services.tinting import tint_consultation_create, tint_film_save
from reception.services.tow import (
    tow_contractor_create,
    tow_order_create,
    tow_order_dispatch,
    tow_order_fail,
    tow_order_set_cost,
)

CONTRACTORS = (
    ("Эвакуатор-24", ["+74951234567", "+79161234567"], "3500", "50", "Ночью (22:00–07:00) +30 %"),
    ("Автопомощь Север", ["+74957654321"], "3000", "60", "Манипулятор +1500"),
)
MATERIALS = (
    # name, kind, location, stock, minimum, review in days (negative: overdue)
    ("Прайс-лист на техническое обслуживание", "price_list", "reception", 25, 10, 20),
    ("Прайс-лист на кузовной ремонт", "price_list", "cash_desk", 12, 5, -3),
    ("Буклет Kia Rio", "brochure", "waiting_area", 4, 15, 60),
    ("Анкета удовлетворённости", "questionnaire", "reception", 60, 20, 90),
    ("Листовка «Шиномонтаж −15 %»", "leaflet", "waiting_area", 80, 30, 14),
)
ZONES = ("windshield", "front_side", "rear_side", "rear")
FILMS = (
    # name, light transmission, prices per zone (windshield, front side, rear side, rear)
    ("Атермальная 80", 80, ("6500", "4500", "4000", "3500")),
    ("Тонировочная 35", 35, (None, None, "3000", "2500")),
    ("Тонировочная 5", 5, (None, None, "3000", "2500")),
)


class Command(BaseCommand):
    help = "Load the reception's demo: tow services and orders, printed materials, tinting films and a consultation."

    def handle(self, *args, **options):
        if TowContractor.objects.exists():
            self.stdout.write("The reception already has tow services: no reception demo added.")
            return
        manager = User.objects.filter(username="manager1").first()
        cars = list(
            Vehicle.objects.filter(owner__merged_into__isnull=True, owner__consent_personal_data=True)
            .select_related("owner")
            .order_by("pk")[:4]
        )
        if manager is None or len(cars) < 4:
            raise CommandError("Run `manage.py seed_demo` first: the demo users and clients are missing.")
        with transaction.atomic():
            summary = self.load(manager, cars)
        self.stdout.write(self.style.SUCCESS(summary))

    def load(self, manager: User, cars: list[Vehicle]) -> str:
        now = timezone.now()
        today = local_date(now)
        contractors = [
            tow_contractor_create(
                by=None,
                name=name,
                phones=phones,
                call_out_rate=Decimal(call_out),
                rate_per_km=Decimal(per_km),
                rates_note=note,
            )
            for name, phones, call_out, per_km, note in CONTRACTORS
        ]
        waiting = tow_order_create(
            by=manager,
            client=cars[0].owner,
            vehicle=cars[0],
            pickup_address="МКАД, 41-й км, внешняя сторона",
            landmark="у АЗС Лукойл",
            phone_on_site=cars[0].owner.phones.first().number if cars[0].owner.phones.exists() else "+79160000001",
            problem=TowOrder.Problem.WONT_START,
            problem_note="Не заводится после ночи на морозе",
        )
        TowOrder.objects.filter(pk=waiting.pk).update(created_at=now - timedelta(minutes=25))
        TowTransition.objects.filter(order=waiting).update(at=now - timedelta(minutes=25))
        on_call = tow_order_create(
            by=manager,
            client=cars[1].owner,
            vehicle=cars[1],
            pickup_address="Ленинский проспект, 100",
            landmark="во дворе, шлагбаум",
            phone_on_site="+79162223344",
            problem=TowOrder.Problem.ACCIDENT,
        )
        tow_order_dispatch(
            order=on_call, by=manager, contractor=contractors[0], eta=now + timedelta(minutes=40), driver="Сергей"
        )
        failed = tow_order_create(
            by=manager,
            client=cars[2].owner,
            vehicle=cars[2],
            pickup_address="Ярославское шоссе, 5",
            phone_on_site="+79163334455",
            problem=TowOrder.Problem.WHEEL,
        )
        tow_order_dispatch(order=failed, by=manager, contractor=contractors[1])
        tow_order_fail(order=failed, by=manager, reason="Клиент поменял колесо сам до приезда")
        tow_order_set_cost(order=failed, by=manager, cost=Decimal("1500"))

        for name, kind, location, stock, minimum, review_in in MATERIALS:
            material_create(
                by=None,
                name=name,
                kind=kind,
                location=location,
                stock=stock,
                minimum=minimum,
                review_by=today + timedelta(days=review_in),
            )

        films = {
            name: tint_film_save(
                by=None,
                name=name,
                light_transmission=light,
                prices={zone: Decimal(p) for zone, p in zip(ZONES, prices, strict=True) if p is not None},
            )
            for name, light, prices in FILMS
        }
        tint_consultation_create(
            by=manager,
            client=cars[3].owner,
            vehicle=cars[3],
            glass_transmission=85,
            films={"front_side": films["Атермальная 80"], "rear_side": films["Тонировочная 5"]},
            client_warned=True,
            note="Хочет передние потемнее, объяснили про штраф",
        )
        return (
            f"Reception: {len(contractors)} tow services, 3 tow orders (one waiting for dispatch), "
            f"{len(MATERIALS)} printed materials, {len(films)} tinting films and a consultation."
        )
