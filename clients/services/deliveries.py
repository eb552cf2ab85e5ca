"""Every write to deliveries: a car sold here and handed over to its buyer, entered in a form or pushed by the DMS.

A handover makes the buyer the car's owner: the vehicle's owner and its `delivered_at` follow the latest handover
recorded for it (a trade-in sold on later changes hands again; an older handover pushed late changes nothing). Each
handover and each correction is announced (`clients.events`): the calls app plans the 7-day follow-up call from
`delivered_at` and moves one that is planned but not yet tried.
"""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from clientdesk import events
from clientdesk.calendar import day_bounds, local_date
from clientdesk.errors import Conflict
from clientdesk.locks import lock_for
from clients.events import DeliveryCorrected, DeliveryRecorded
from clients.models import Client, Delivery, Vehicle
from clients.services.clients import refuse_stale, stored_values, vehicle_update

DELIVERY_FIELDS = frozenset({"client", "vehicle", "delivered_at", "sales_manager", "dms_id", "dms_updated_at"})
# Clocks of the DMS and of the browsers differ a little; a handover "a minute from now" is not a typo.
CLOCK_SKEW = timedelta(minutes=5)


def _kept(client: Client) -> Client:
    """A merged duplicate's sale belongs to the client kept."""
    while client.merged_into_id:
        client = client.merged_into
    return client


def _validate(delivery: Delivery) -> None:
    errors = {}
    if delivery.delivered_at is None:
        errors["delivered_at"] = _("When was the car handed over?")
    elif delivery.delivered_at > timezone.now() + CLOCK_SKEW:
        errors["delivered_at"] = _("A handover cannot be in the future.")
    if errors:
        raise ValidationError(errors)


def _ensure_unique(delivery: Delivery) -> None:
    """Name the record a clash is with, rather than leave it to the unique index's bare refusal."""
    others = Delivery.objects.exclude(pk=delivery.pk)
    if delivery.dms_id:
        clash = others.filter(dms_id=delivery.dms_id).first()
        if clash is not None:
            raise Conflict(
                _("DMS id %(dms_id)s already belongs to the delivery %(record)s.")
                % {"dms_id": delivery.dms_id, "record": clash},
                field="dms_id",
                existing=clash,
            )
    clash = _same_handover(others, delivery.vehicle_id, delivery.delivered_at).first()
    if clash is not None:
        raise Conflict(
            _("This car's handover on that day is already recorded: %(record)s.") % {"record": clash},
            field="delivered_at",
            existing=clash,
        )


def _same_handover(queryset, vehicle_id, delivered_at):
    """A car is not handed over twice in one day: a second record that day is the same handover, typed again."""
    start, end = day_bounds(local_date(delivered_at))
    return queryset.filter(vehicle_id=vehicle_id, delivered_at__gte=start, delivered_at__lt=end)


def _save(delivery: Delivery, *, by: User | None) -> None:
    delivery.full_clean(validate_constraints=False)
    delivery._history_user = by
    try:
        with transaction.atomic():
            delivery.save()
    except IntegrityError as exc:
        # A racing writer took the DMS id or recorded the same handover between our check and our insert.
        raise Conflict(_("Someone saved the same delivery a moment ago; reload and try again.")) from exc


def _sync_vehicle(vehicle: Vehicle, *, by: User | None) -> None:
    """The car belongs to the buyer of its latest handover, and shows that handover's date."""
    latest = Delivery.objects.filter(vehicle=vehicle).order_by("-delivered_at", "-pk").select_related("client").first()
    if latest is None:
        return
    changes = {}
    if vehicle.owner_id != latest.client_id:
        changes["owner"] = latest.client
    if vehicle.delivered_at != latest.delivered_at:
        changes["delivered_at"] = latest.delivered_at
    if changes:
        vehicle_update(vehicle=vehicle, by=by, **changes)


@transaction.atomic
def delivery_record(
    *,
    by: User | None,
    client: Client,
    vehicle: Vehicle,
    delivered_at: datetime,
    sales_manager: str = "",
    dms_id: str = "",
    dms_updated_at: datetime | None = None,
) -> Delivery:
    """Record a handover. The buyer becomes the car's owner if this is its latest handover."""
    # The vehicle is locked first, so two handovers of one car are decided one after the other.
    vehicle = Vehicle.objects.select_for_update().get(pk=vehicle.pk)
    delivery = Delivery(
        client=_kept(client),
        vehicle=vehicle,
        delivered_at=delivered_at,
        sales_manager=(sales_manager or "").strip(),
        dms_id=(dms_id or "").strip(),
        dms_updated_at=dms_updated_at,
    )
    _validate(delivery)
    _ensure_unique(delivery)
    _save(delivery, by=by)
    _sync_vehicle(vehicle, by=by)
    events.publish(DeliveryRecorded(delivery_id=delivery.pk, by_id=by.pk if by else None))
    return delivery


@transaction.atomic
def delivery_update(*, delivery: Delivery, by: User | None, **fields) -> Delivery:
    """Correct a recorded handover (the DMS sends it again with changes, or a typo is fixed)."""
    unknown = set(fields) - DELIVERY_FIELDS
    if unknown:
        raise TypeError(f"delivery_update cannot set {sorted(unknown)}")
    delivery = Delivery.objects.select_for_update().get(pk=delivery.pk)
    vehicles = {delivery.vehicle_id}
    if fields.get("vehicle") is not None:
        vehicles.add(fields["vehicle"].pk)
    # Cars are locked in id order, so two corrections moving handovers between the same cars cannot deadlock.
    locked = {v.pk: v for v in Vehicle.objects.select_for_update().filter(pk__in=vehicles).order_by("pk")}
    stored = stored_values(delivery)
    for name, value in fields.items():
        if name == "client" and value is not None:
            value = _kept(value)
        elif name in ("sales_manager", "dms_id"):
            value = (value or "").strip()
        setattr(delivery, name, value)
    _validate(delivery)
    _ensure_unique(delivery)
    if stored_values(delivery) == stored:  # sent again as it is: nothing to write, nothing to announce
        return delivery
    _save(delivery, by=by)
    for pk in sorted(locked):
        _sync_vehicle(locked[pk], by=by)
    events.publish(DeliveryCorrected(delivery_id=delivery.pk, by_id=by.pk if by else None))
    return delivery


@transaction.atomic
def delivery_upsert_by_dms_id(*, by: User | None, dms_id: str, **fields) -> tuple[Delivery, bool]:
    """Create or update the delivery the DMS knows as `dms_id`; sending the same record twice gives one row.

    A handover a manager already entered by hand (same car, same day, no DMS id) is taken over rather than recorded
    twice. Safe under concurrency: a writer that loses the race to insert the same DMS id takes the update path.
    Returns (delivery, created).
    """
    fields.pop("dms_id", None)
    dms_id = dms_id.strip()
    if not dms_id:
        raise ValidationError({"dms_id": _("The DMS id is required.")})
    lock_for(f"clients.Delivery.dms_id:{dms_id}")  # writers of one DMS id queue here (clientdesk.locks)
    for attempt in range(2):
        existing = Delivery.objects.select_for_update().filter(dms_id=dms_id).first()
        if existing is not None:
            refuse_stale(existing, sent=fields.get("dms_updated_at"))
            return delivery_update(delivery=existing, by=by, **fields), False
        missing = [name for name in ("client", "vehicle", "delivered_at") if fields.get(name) is None]
        if missing:
            raise ValidationError({name: _("This field is required.") for name in missing})
        entered_by_hand = (
            _same_handover(Delivery.objects.select_for_update(), fields["vehicle"].pk, fields["delivered_at"])
            .filter(dms_id="")
            .first()
        )
        if entered_by_hand is not None:
            return delivery_update(delivery=entered_by_hand, by=by, dms_id=dms_id, **fields), False
        try:
            with transaction.atomic():
                return delivery_record(by=by, dms_id=dms_id, **fields), True
        except Conflict as exc:
            # Another writer inserted this DMS id between our look and our insert: take the update path.
            if attempt or exc.field not in (None, "dms_id"):
                raise
    raise AssertionError("unreachable")  # pragma: no cover
