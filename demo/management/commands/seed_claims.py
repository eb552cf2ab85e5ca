"""`manage.py seed_claims`: claims for the demo (run after `seed_demo`, `seed_workshop` and `seed_demo_work`).

- the workshop's and the sales department's management (users `workshop_mgmt` and `sales_mgmt`, the demo password),
  so a claim can be escalated to someone;
- six claims of the demo clients in every state: one just registered from a complaint call, one under review due
  tomorrow, one overdue, one escalated to the workshop's management, one decided waiting for the client to be told,
  one closed after the client was told by phone.

Everything goes through the claims' services; only the receipt times are set back (the due dates follow them, as if
received then). One transaction, and only when there are no claims yet, so running it again adds nothing.
"""

from datetime import timedelta
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from accounts.services.users import user_create
from calls.models import Call
from calls.services.calls import call_log
from claims import services
from claims.models import Claim, ClaimCategory
from clients.models import Vehicle
from demo.data import DEMO_PASSWORD

MANAGEMENT = (
    ("workshop_mgmt", Role.WORKSHOP_MANAGEMENT, "Павел", "Орлов"),
    ("sales_mgmt", Role.SALES_MANAGEMENT, "Ирина", "Белова"),
)
CLAIMS = (
    # days ago received, category, words, demand
    (0, "other", "После ТО горит лампа «Check Engine», мастер не перезвонил", "Разобраться и перезвонить"),
    (9, "refund", "За диагностику взяли 3 500 ₽, хотя обещали бесплатно по акции", "Вернуть 3 500 ₽"),
    (14, "replacement", "Новые шины с грыжей через неделю после установки", "Заменить шины"),
    (4, "defect", "Стук в передней подвеске после замены стоек", "Бесплатно устранить стук"),
    (6, "refund", "Не выдали подменный автомобиль, хотя записывали заранее", "Компенсировать такси"),
    (20, "other", "Грубость мастера-приёмщика при выдаче автомобиля", "Принести извинения"),
)


class Command(BaseCommand):
    help = "Load the claims demo: the management users and claims of the demo clients in every state."

    def handle(self, *args, **options):
        if Claim.objects.exists():
            self.stdout.write("There are claims already: no claims demo added.")
            return
        managers = list(User.objects.filter(username__in=["manager1", "manager2"]).order_by("username"))
        head = User.objects.filter(username="head").first()
        cars = list(
            Vehicle.objects.filter(owner__merged_into__isnull=True, owner__consent_personal_data=True)
            .select_related("owner")
            .order_by("-pk")[: len(CLAIMS)]
        )
        if head is None or len(managers) < 2 or len(cars) < len(CLAIMS):
            raise CommandError("Run `manage.py seed_demo` first: the demo users and clients are missing.")
        with transaction.atomic():
            self.management()
            made = self.load(head, managers, cars)
        self.stdout.write(
            self.style.SUCCESS(f"Claims demo: {made} claims, management users workshop_mgmt and sales_mgmt.")
        )

    def management(self) -> None:
        for username, role, first, last in MANAGEMENT:
            if not User.objects.filter(username=username).exists():
                user_create(
                    by=None,
                    username=username,
                    role=role,
                    first_name=first,
                    last_name=last,
                    email=f"{username}@example.com",
                    password=DEMO_PASSWORD,
                )

    def load(self, head: User, managers: list[User], cars: list[Vehicle]) -> int:
        now = timezone.now()
        categories = {c.code: c for c in ClaimCategory.objects.all()}
        claims = []
        for n, ((days, code, words, demand), car) in enumerate(zip(CLAIMS, cars, strict=True)):
            manager = managers[n % 2]
            received = now - timedelta(days=days, hours=2)
            call = call_log(
                by=manager,
                direction=Call.Direction.INBOUND,
                purpose=Call.Purpose.COMPLAINT,
                outcome=Call.Outcome.TALKED,
                client=car.owner,
                vehicle=car,
                started_at=received,
                duration=240,
                notes=words,
            )
            claims.append(
                services.claim_register(
                    by=manager,
                    client=car.owner,
                    vehicle=car,
                    category=categories[code],
                    agreed_term_days=14 if categories[code].term_agreed else None,
                    client_words=words,
                    demand=demand,
                    received_at=received,
                    source_call=call,
                )
            )
        _new, review, overdue, escalated, decided, closed = claims
        services.claim_review(claim=review, by=review.assignee)
        services.claim_review(claim=overdue, by=overdue.assignee, comment="Запросили акт проверки качества")
        services.claim_escalate(
            claim=escalated, by=escalated.assignee, to=Role.WORKSHOP_MANAGEMENT, comment="Работы делал наш цех"
        )
        services.claim_decide(
            claim=decided,
            by=head,
            outcome=Claim.Outcome.PARTLY,
            decision_text="Компенсируем поездку на такси по чеку; подменный автомобиль закрепим за следующим визитом.",
            compensation_kind=Claim.CompensationKind.REFUND,
            compensation_amount=Decimal("1200.00"),
        )
        closed = services.claim_review(claim=closed, by=closed.assignee)
        closed = services.claim_decide(
            claim=closed,
            by=head,
            outcome=Claim.Outcome.SATISFIED,
            decision_text="Принесены извинения, беседа с мастером.",
        )
        closed = services.claim_inform_with_new_call(
            claim=closed, by=closed.assignee, notes="Клиенту сообщили о решении, извинения приняты."
        )
        services.claim_close(claim=closed, by=closed.assignee)
        return len(claims)
