"""Every write to tow orders and the tow contractors' directory: one function per business action, each
transactional and recorded.

A tow order lives `new → dispatched → on the way → delivered`, or ends cancelled or failed (with a reason), along
`ALLOWED_TRANSITIONS`; every step leaves a `TowTransition`. "Delivered" books the car into the workshop through the
bookings app's own service (diagnostics unless the order says otherwise) or links the client's open visit of the day,
and marks the client arrived so the advisor is told as for any arrival. Repeating "delivered" (a double click, an API
retry) changes nothing: the order's one-to-one booking keeps it one.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from bookings.models import Booking, ServiceType
from bookings.selectors.slots import nearest_free_slots
from bookings.services.bookings import allowed_steps, booking_create, booking_mark_arrived
from clientdesk.calendar import day_bounds, local_date
from clientdesk.errors import Conflict
from clients.models import Client, Vehicle
from clients.normalize import normalize_phone
from clients.services.clients import PhoneInput, client_create
from reception.models import TowContractor, TowOrder, TowTransition

S = TowOrder.Status
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    S.NEW: frozenset({S.DISPATCHED, S.CANCELLED}),
    S.DISPATCHED: frozenset({S.ON_THE_WAY, S.CANCELLED, S.FAILED}),
    S.ON_THE_WAY: frozenset({S.DELIVERED, S.FAILED}),
    S.DELIVERED: frozenset(),
    S.CANCELLED: frozenset(),
    S.FAILED: frozenset(),
}
# The workshop's work a towed-in car is booked for when the order names none.
DEFAULT_SERVICE_CODE = "diagnostics"


# --- contractors -------------------------------------------------------------------------------------------------


def _clean_phones(phones: Iterable[str]) -> list[str]:
    cleaned: list[str] = []
    for raw in phones:
        if raw and raw.strip():
            try:
                number = normalize_phone(raw)
            except ValidationError as exc:
                raise ValidationError({"phones": [f"{raw}: {message}" for message in exc.messages]}) from exc
            if number not in cleaned:
                cleaned.append(number)
    return cleaned


CONTRACTOR_FIELDS = ("name", "phones", "call_out_rate", "rate_per_km", "rates_note", "is_active")


@transaction.atomic
def tow_contractor_create(*, by: User | None, name: str, phones: Iterable[str] = (), **fields) -> TowContractor:
    """Add a tow service to the directory."""
    contractor = TowContractor(name=name.strip(), phones=_clean_phones(phones), **fields)
    _save_contractor(contractor, by=by)
    return contractor


@transaction.atomic
def tow_contractor_update(*, contractor: TowContractor, by: User | None, **fields) -> TowContractor:
    """Change a tow service's name, phones or rates (a contractor no longer used is made inactive, never deleted)."""
    unknown = set(fields) - set(CONTRACTOR_FIELDS)
    if unknown:
        raise TypeError(f"tow_contractor_update does not change {sorted(unknown)}")
    contractor = TowContractor.objects.select_for_update().get(pk=contractor.pk)
    if "phones" in fields:
        fields["phones"] = _clean_phones(fields["phones"])
    if "name" in fields:
        fields["name"] = fields["name"].strip()
    for name, value in fields.items():
        setattr(contractor, name, value)
    _save_contractor(contractor, by=by)
    return contractor


def _save_contractor(contractor: TowContractor, *, by: User | None) -> None:
    """Save a directory entry; a name already in the directory (in any letter case) is a Conflict on `name`, whether
    the check sees it or the unique index does (two heads adding the same service at once)."""
    same_name = TowContractor.objects.filter(name__iexact=contractor.name).exclude(pk=contractor.pk).first()
    if same_name is not None:
        raise Conflict(DUPLICATE_CONTRACTOR, field="name", existing=same_name)
    try:
        with transaction.atomic():
            _save(contractor, by=by)
    except IntegrityError as error:
        raise Conflict(DUPLICATE_CONTRACTOR, field="name") from error


DUPLICATE_CONTRACTOR = gettext_lazy("A tow service with this name is already in the directory.")


# --- orders ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewCaller:
    """A caller not on file, taken on as a client with the tow order (their name; the phone on site is their phone)."""

    name: str


def _save(instance, *, by: User | None, reason: str = "") -> None:
    instance.full_clean(exclude=["created_by"], validate_constraints=False)
    instance._history_user = by
    if reason:
        instance._change_reason = reason
    instance.save()


def _record(order: TowOrder, *, by: User | None, to: str, previous: str = "", note: str = "") -> None:
    TowTransition.objects.create(order=order, from_status=previous, to_status=to, by=by, note=note[:200])


@transaction.atomic
def tow_order_create(
    *,
    by: User | None,
    client: Client | NewCaller,
    pickup_address: str,
    phone_on_site: str,
    vehicle: Vehicle | None = None,
    car: str = "",
    landmark: str = "",
    problem: str = TowOrder.Problem.WONT_START,
    problem_note: str = "",
    destination: str = "",
    wanted_at: datetime | None = None,
    contractor: TowContractor | None = None,
    driver: str = "",
    service_type: ServiceType | None = None,
) -> TowOrder:
    """Take a tow order on the phone. A caller not on file (`NewCaller`) becomes a client with the phone on site."""
    errors = {}
    try:
        phone = normalize_phone(phone_on_site)
    except ValidationError as exc:
        errors["phone_on_site"] = exc.messages
    if isinstance(client, NewCaller) and not client.name.strip():
        errors["client"] = _("Find the client, or give the caller's name.")
    if isinstance(client, Client) and client.is_merged:
        errors["client"] = _("This client was merged into %(target)s.") % {"target": client.merged_into}
    if vehicle is not None and isinstance(client, Client) and vehicle.owner_id != client.pk:
        errors["vehicle"] = _("This vehicle belongs to another client.")
    if errors:
        raise ValidationError(errors)
    if isinstance(client, NewCaller):
        client = client_create(by=by, name=client.name, phones=[PhoneInput(number=phone, is_primary=True)])
        vehicle = None
    order = TowOrder(
        client=client,
        vehicle=vehicle,
        car=car.strip(),
        pickup_address=pickup_address.strip(),
        landmark=landmark.strip(),
        phone_on_site=phone,
        problem=problem,
        problem_note=problem_note.strip(),
        destination=destination.strip(),
        wanted_at=wanted_at,
        contractor=contractor,
        driver=driver.strip(),
        service_type=service_type,
        created_by=by,
    )
    _save(order, by=by)
    _record(order, by=by, to=order.status)
    return order


def _locked(order: TowOrder) -> TowOrder:
    return TowOrder.objects.select_for_update().get(pk=order.pk)


def _check_step(order: TowOrder, to: str) -> None:
    if to not in ALLOWED_TRANSITIONS.get(order.status, frozenset()):
        raise Conflict(
            _("A tow order that is %(current)s cannot become %(wanted)s.")
            % {"current": S(order.status).label, "wanted": S(to).label if to in S.values else to},
            field="status",
        )


def _step(order: TowOrder, *, by: User | None, to: str, note: str = "") -> TowOrder:
    previous = order.status
    order.status = to
    _save(order, by=by, reason=f"{previous} → {to}")
    _record(order, by=by, previous=previous, to=to, note=note)
    return order


@transaction.atomic
def tow_order_dispatch(
    *, order: TowOrder, by: User | None, contractor: TowContractor, eta: datetime | None = None, driver: str = ""
) -> TowOrder:
    """The contractor was told and gave their ETA: the order leaves the "not dispatched" column."""
    order = _locked(order)
    _check_step(order, S.DISPATCHED)
    if not contractor.is_active:
        raise ValidationError({"contractor": _("%(name)s is no longer used.") % {"name": contractor}})
    order.contractor = contractor
    order.eta = eta
    if driver.strip():
        order.driver = driver.strip()
    order.dispatched_at = timezone.now()
    return _step(order, by=by, to=S.DISPATCHED, note=str(contractor))


@transaction.atomic
def tow_order_transition(*, order: TowOrder, by: User | None, to: str, note: str = "") -> TowOrder:
    """On the way, cancelled or failed; cancelling and failing need the reason. "Dispatched" and "delivered" carry
    more than a status and have services of their own (`tow_order_dispatch`, `tow_order_deliver`)."""
    if to == S.DELIVERED:
        return tow_order_deliver(order=order, by=by)
    order = _locked(order)
    _check_step(order, to)
    if to == S.DISPATCHED:
        raise ValidationError({"contractor": _("Choose the tow service.")})
    if to in (S.CANCELLED, S.FAILED):
        if not note.strip():
            raise ValidationError({"reason": _("Say why the tow order ended this way.")})
        order.reason = note.strip()[:200]
    return _step(order, by=by, to=to, note=note)


def tow_order_cancel(*, order: TowOrder, by: User | None, reason: str) -> TowOrder:
    return tow_order_transition(order=order, by=by, to=S.CANCELLED, note=reason)


def tow_order_fail(*, order: TowOrder, by: User | None, reason: str) -> TowOrder:
    return tow_order_transition(order=order, by=by, to=S.FAILED, note=reason)


def tow_order_on_the_way(*, order: TowOrder, by: User | None) -> TowOrder:
    return tow_order_transition(order=order, by=by, to=S.ON_THE_WAY)


@transaction.atomic
def tow_order_deliver(*, order: TowOrder, by: User | None, booking: Booking | None = None) -> TowOrder:
    """The car is at the workshop: link the client's open visit of the day (or `booking`, when the manager names
    one), else book the nearest free slot for the order's work; the client is marked arrived when the visit is today,
    so the advisor is told. A second "delivered" for a delivered order returns it unchanged."""
    order = _locked(order)
    if order.status == S.DELIVERED:
        return order
    _check_step(order, S.DELIVERED)
    now = timezone.now()
    if booking is not None:
        _check_link(order, booking)
    else:
        booking = _todays_open_visit(order, now=now) or _book_the_workshop(order, by=by, now=now)
    if Booking.Status.ARRIVED in allowed_steps(booking, now=now):
        booking = booking_mark_arrived(booking=booking, by=by)
    order.booking = booking
    order.delivered_at = now
    return _step(order, by=by, to=S.DELIVERED, note=str(booking))


def _check_link(order: TowOrder, booking: Booking) -> None:
    if booking.client_id != order.client_id:
        raise ValidationError({"booking": _("This visit is another client's.")})
    if booking.status in Booking.FREEING_STATUSES:
        raise ValidationError({"booking": _("This visit is cancelled or missed; book a new one.")})
    if TowOrder.objects.filter(booking=booking).exclude(pk=order.pk).exists():
        raise Conflict(_("This visit belongs to another tow order."), field="booking")


def _todays_open_visit(order: TowOrder, *, now: datetime) -> Booking | None:
    start, end = day_bounds(local_date(now))
    return (
        Booking.objects.filter(
            client_id=order.client_id,
            starts_at__gte=start,
            starts_at__lt=end,
            status__in=(Booking.Status.SCHEDULED, Booking.Status.CONFIRMED, Booking.Status.ARRIVED),
            tow_order__isnull=True,
        )
        .order_by("starts_at", "id")
        .first()
    )


def _book_the_workshop(order: TowOrder, *, by: User | None, now: datetime) -> Booking:
    service = order.service_type or ServiceType.objects.filter(code=DEFAULT_SERVICE_CODE, is_active=True).first()
    if service is None:
        raise ValidationError({"service_type": _("Choose the work the car is booked for at the workshop.")})
    slots = nearest_free_slots(around=now, area=service.area, planned_minutes=service.standard_minutes, limit=1)
    if not slots:
        raise Conflict(
            _("The workshop has no free slot for %(service)s in the coming weeks; book the visit and link it.")
            % {"service": service},
            field="booking",
        )
    vehicle = order.vehicle if order.vehicle_id and order.vehicle.owner_id == order.client_id else None
    comment = _("Towed in: %(order)s.") % {"order": order}
    if order.car and vehicle is None:
        comment += " " + order.car
    return booking_create(
        by=by,
        client=order.client,
        vehicle=vehicle,
        starts_at=slots[0].starts_at,
        advisor=User.objects.get(pk=slots[0].advisor_id),
        service_types=[service],
        comment=comment,
        source=Booking.Source.WALK_IN,
    )


@transaction.atomic
def tow_order_set_cost(*, order: TowOrder, by: User | None, cost: Decimal | None) -> TowOrder:
    """Record what the contractor charges for the order (for the monthly reconciliation)."""
    order = _locked(order)
    if cost is not None and cost < 0:
        raise ValidationError({"cost": _("The cost cannot be negative.")})
    if order.contractor_id is None:
        raise ValidationError({"cost": _("The order has no tow service to pay.")})
    order.cost = cost
    _save(order, by=by, reason="cost")
    return order
