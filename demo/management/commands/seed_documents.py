"""`manage.py seed_documents`: the paper for the demo (run after `seed_demo`, `seed_workshop` and `seed_demo_work`).

- every delivery's three papers (the event put them on file as expected): the older deliveries' signed, their handover
  acts and waybills handed to accounting by a received registry, their sale contracts filed in the archive (the
  older half, box К-2026-01) or sent there by a registry not yet confirmed; the newest delivery's still expected,
  so the head is told they are late;
- powers of attorney and a temporary-use contract for test drives, a lost copy with its reason;
- a service contract in draft for the head's approval and a supplementary agreement approved, awaiting legal (a
  lawyer, `legal`, is added to the demo users for it);
- the correspondence register: a bank's letter handed over, a manufacturer's parcel waiting two days (flagged), an
  outgoing letter with its tracking number, a fax.

Everything goes through the documents' services. The run is one transaction, and only into a database with no
correspondence yet, so running it again adds nothing.
"""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from accounts.services.users import user_create
from clientdesk.calendar import local_date
from clients.models import Delivery, Vehicle
from demo.data import DEMO_PASSWORD
from documents.models import Correspondence, Document
from documents.services import document_register, document_transition
from documents.services.expected import expect_delivery_papers
from documents.services.mail import mail_hand_over, mail_register
from documents.services.registries import registry_confirm_received, registry_create

S = Document.State


class Command(BaseCommand):
    help = "Load the paper's demo: sale papers and registries, contracts awaiting approval, correspondence."

    def handle(self, *args, **options):
        if Correspondence.objects.exists():
            self.stdout.write("The correspondence register has items already: no documents demo added.")
            return
        manager = User.objects.filter(username="manager1").first()
        head = User.objects.filter(username="head").first()
        cars = list(Vehicle.objects.filter(owner__merged_into__isnull=True).select_related("owner").order_by("pk")[:6])
        if manager is None or head is None or len(cars) < 4:
            raise CommandError("Run `manage.py seed_demo` first: the demo users and clients are missing.")
        with transaction.atomic():
            summary = self.load(manager, head, cars)
        self.stdout.write(self.style.SUCCESS(summary))

    def load(self, manager: User, head: User, cars: list[Vehicle]) -> str:
        now = timezone.now()
        today = local_date(now)
        if not User.objects.filter(username="legal").exists():
            user_create(
                by=None,
                username="legal",
                role=Role.LEGAL,
                first_name="Антон",
                last_name="Юрьев",
                email="legal@example.com",
                password=DEMO_PASSWORD,
            )

        deliveries = list(Delivery.objects.select_related("client", "vehicle").order_by("delivered_at", "id"))
        for delivery in deliveries:
            expect_delivery_papers(delivery=delivery, by=None)
        older, newest = deliveries[:-1], deliveries[-1:]
        to_accounting, to_archive = [], []
        for n, delivery in enumerate(older):
            for doc in Document.objects.filter(delivery=delivery, state=S.EXPECTED).order_by("kind"):
                doc.number = f"{delivery.pk:04d}-{n + 1}"
                doc = document_transition(document=doc, by=manager, to=S.SIGNED)
                (to_archive if doc.kind == Document.Kind.SALE_CONTRACT else to_accounting).append(doc)
        registries = 0
        if to_accounting:
            accounting = registry_create(by=manager, destination="accounting", documents=to_accounting)
            registry_confirm_received(registry=accounting, by=manager, received_name="Главный бухгалтер Петрова Е. В.")
            registries += 1
        # The older half of the sale contracts is on the archive's shelf; the rest is on its way there.
        half = len(to_archive) // 2
        if half:
            filed = registry_create(
                by=manager,
                destination="archive",
                documents=to_archive[:half],
                archive_box="К-2026-01",
                archive_shelf="3",
                note="Оригиналы ДКП",
            )
            registry_confirm_received(registry=filed, by=manager, received_name="Архивариус Соколова Н. И.")
            registries += 1
        if to_archive[half:]:
            registry_create(
                by=manager,
                destination="archive",
                documents=to_archive[half:],
                archive_box="К-2026-02",
                archive_shelf="1",
                note="Оригиналы ДКП за месяц",
            )
            registries += 1

        papers = 0
        for car in cars[:2]:
            document_register(
                by=manager,
                kind=Document.Kind.POWER_OF_ATTORNEY,
                issued_on=today - timedelta(days=3),
                vehicle=car,
                number=f"ДОВ-{car.pk:04d}",
                title="Доверенность на тест-драйв",
                state=S.SIGNED,
            )
            papers += 1
        document_register(
            by=manager,
            kind=Document.Kind.TEMPORARY_USE_CONTRACT,
            issued_on=today - timedelta(days=1),
            client=cars[2].owner,
            number="ДВП-0001",
            title="Тест-драйв на выходные",
            state=S.SIGNED,
        )
        lost = document_register(
            by=manager,
            kind=Document.Kind.OTHER,
            issued_on=today - timedelta(days=40),
            client=cars[3].owner,
            number="КОП-17",
            title="Копия ПТС",
            original=False,
            state=S.SIGNED,
        )
        document_transition(document=lost, by=manager, to=S.LOST, comment="Не найдена при сверке архива")
        papers += 2

        document_register(
            by=manager,
            kind=Document.Kind.CONTRACT,
            issued_on=today,
            client=cars[0].owner,
            number="Д-ТО-2026/12",
            title="Договор на сервисное обслуживание корпоративного автопарка",
            needs_approval=True,
        )
        agreement = document_register(
            by=manager,
            kind=Document.Kind.SUPPLEMENTARY_AGREEMENT,
            issued_on=today - timedelta(days=2),
            client=cars[1].owner,
            number="ДС-3",
            title="Дополнительное соглашение о скидке на запчасти",
            needs_approval=True,
        )
        document_transition(document=agreement, by=head, to=S.APPROVED)

        letter = mail_register(
            by=manager,
            dated_on=today - timedelta(days=1),
            sender="ПАО «Банк»",
            recipient="ООО «Автоцентр»",
            subject="Уведомление о погашении автокредита",
            addressee=head,
        )
        mail_hand_over(item=letter, by=manager)
        parcel = mail_register(
            by=manager,
            dated_on=today - timedelta(days=2),
            kind=Correspondence.Kind.PARCEL,
            sender="Представительство производителя",
            recipient="Отдел по работе с клиентами",
            subject="Рекламные буклеты новой модели",
            addressee=manager,
        )
        Correspondence.objects.filter(pk=parcel.pk).update(created_at=now - timedelta(days=2))
        mail_register(
            by=manager,
            direction=Correspondence.Direction.OUTGOING,
            dated_on=today,
            sender="ООО «Автоцентр»",
            recipient=str(cars[2].owner),
            subject="Ответ на обращение клиента",
            tracking_number="80085412345678",
        )
        mail_register(
            by=manager,
            kind=Correspondence.Kind.FAX,
            dated_on=today,
            sender="Страховая компания",
            recipient="ООО «Автоцентр»",
            subject="Направление на ремонт",
        )
        return (
            f"Documents demo: papers of {len(deliveries)} deliveries ({len(newest)} still expected), "
            f"{registries} registries, {papers} other papers, 2 contracts awaiting approval, 4 correspondence items."
        )
