"""The papers every car sale expects, and the head told when they are late.

When a car is handed over (`clients.events.DeliveryRecorded`), its handover act, waybill and sale contract are put on
file as `expected`, once: a second delivery of the event (a retry) finds them and adds nothing (the partial unique
index on (delivery, kind) guards the same on the database). A beat task (`flag_late_papers`) tells the head about
each delivery whose papers are not all signed within `PAPERS_DUE_WORKING_DAYS` working days, once per delivery: the
`DeliveryPapersFlag` row (unique per delivery) is the memory of having told, so two beats at once tell once.
"""

from datetime import datetime, time

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import Role
from clientdesk.calendar import BusinessCalendar, at, local_date
from clientdesk.locks import lock_for
from clientdesk.notify import notify
from clients.models import Delivery
from documents.models import DeliveryPapersFlag, Document
from documents.services.documents import document_register, document_update

DEFAULT_DUE_WORKING_DAYS = 3


def due_working_days() -> int:
    return int(getattr(settings, "PAPERS_DUE_WORKING_DAYS", DEFAULT_DUE_WORKING_DAYS))


@transaction.atomic
def expect_delivery_papers(*, delivery: Delivery, by: User | None) -> list[Document]:
    """Put the delivery's three papers on file as expected; those already there are left alone. Returns the new ones."""
    lock_for(f"documents.delivery:{delivery.pk}")
    have = set(
        Document.objects.filter(delivery=delivery, original=True, kind__in=Document.DELIVERY_KINDS)
        .exclude(state__in=Document.GONE_STATES)
        .values_list("kind", flat=True)
    )
    made = []
    for kind in Document.DELIVERY_KINDS:
        if kind in have:
            continue
        made.append(
            document_register(
                by=by,
                kind=kind,
                issued_on=local_date(delivery.delivered_at),
                delivery=delivery,
                client=delivery.client,
                vehicle=delivery.vehicle,
            )
        )
    return made


def on_delivery_recorded(event) -> None:
    """`clients.events.DeliveryRecorded` → the delivery's papers are expected (durable: a failure is retried)."""
    delivery = Delivery.objects.select_related("client", "vehicle").filter(pk=event.delivery_id).first()
    if delivery is None:
        return
    by = User.objects.filter(pk=event.by_id).first() if event.by_id else None
    expect_delivery_papers(delivery=delivery, by=by)


def on_delivery_corrected(event) -> None:
    """`clients.events.DeliveryCorrected` → the delivery's papers follow it to its (new) buyer and car; the papers
    still expected take its (new) date too. Each change goes through `document_update`, so it is in their history."""
    delivery = Delivery.objects.filter(pk=event.delivery_id).first()
    if delivery is None:
        return
    by = User.objects.filter(pk=event.by_id).first() if event.by_id else None
    day = local_date(delivery.delivered_at)
    for document in Document.objects.filter(delivery=delivery).order_by("pk"):
        changes = {}
        if document.client_id != delivery.client_id:
            changes["client"] = delivery.client
        if document.vehicle_id != delivery.vehicle_id:
            changes["vehicle"] = delivery.vehicle
        if document.state == Document.State.EXPECTED and document.issued_on != day:
            changes["issued_on"] = day
        if changes:
            document_update(document=document, by=by, **changes)


def papers_due_cutoff(now: datetime | None = None) -> datetime:
    """Deliveries handed over before this moment are late if any of their papers is still expected: the papers are
    due within N working days after the handover day, so on a day D the deliveries of days before the N-th working
    day before D are late."""
    today = local_date(now or timezone.now())
    calendar = BusinessCalendar()
    day = today
    for _step in range(due_working_days()):
        day = calendar.previous_working_day(day)
    return at(day, time(0))


def late_deliveries(*, now: datetime | None = None):
    """Deliveries with papers still expected past their due day and the head not yet told."""
    return (
        Delivery.objects.filter(
            delivered_at__lt=papers_due_cutoff(now),
            documents__state=Document.State.EXPECTED,
            documents__kind__in=Document.DELIVERY_KINDS,
            papers_flag__isnull=True,
        )
        .distinct()
        .order_by("delivered_at", "id")
    )


def heads():
    return User.objects.filter(role=Role.HEAD, is_active=True)


def flag_late_papers(*, now: datetime | None = None, limit: int = 500) -> int:
    """Tell the head about each delivery whose papers are late, once. Returns how many deliveries were flagged."""
    flagged = 0
    for delivery in late_deliveries(now=now).select_related("client", "vehicle")[:limit]:
        with transaction.atomic():
            _flag, created = DeliveryPapersFlag.objects.get_or_create(
                delivery=delivery, defaults={"flagged_at": now or timezone.now()}
            )
            if not created:
                continue
            missing = ", ".join(
                str(Document.Kind(kind).label)
                for kind in Document.objects.filter(
                    delivery=delivery, state=Document.State.EXPECTED, kind__in=Document.DELIVERY_KINDS
                )
                .order_by("kind")
                .values_list("kind", flat=True)
            )
            notify(
                users=heads(),
                title=_("Sale papers are late: %(delivery)s") % {"delivery": delivery},
                body=_("Not received yet: %(missing)s.") % {"missing": missing},
                url=reverse("documents:list") + f"?delivery={delivery.pk}",
                email=True,
            )
            flagged += 1
    return flagged
