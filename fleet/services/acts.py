"""Handing a car over and taking it back: the acts (акт приема-передачи), their damage marks and photos.

Out: the car is free to go (available, not held by an inspection), the client's driving licence is valid through the
return date, the signatures are confirmed; a test drive of more than a day needs its temporary-use contract signed
first. Back: the differences are computed (km driven, fuel used, new damage); new damage, a fault the client reports
or a warning lamp sends the car to "needs inspection" and tells the transport department head at once (a header
notice and an e-mail), once per problem: the act's one `CarInspection`. The car's reservations that start before the
inspection could close are moved to another car or released, as when a car goes to maintenance.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import Role
from clientdesk.calendar import local_date
from clientdesk.errors import Conflict
from clientdesk.notify import notify
from clientdesk.timefmt import local_date_text
from documents.models import Document
from documents.services.documents import document_register
from fleet.models import CarInspection, DamageMark, DamagePhoto, FleetCar, HandoverAct, Reservation
from fleet.services import cars
from fleet.services.reservations import R, _record, _transition


@dataclass(frozen=True)
class Mark:
    """A damage mark as entered: zone, kind, note."""

    zone: str
    kind: str
    note: str = ""


@dataclass(frozen=True)
class Differences:
    """What changed between the act out and the act back."""

    km_driven: int
    fuel_used: int
    new_marks: list[DamageMark]

    @property
    def has_new_damage(self) -> bool:
        return bool(self.new_marks)


def _clean_marks(marks: Iterable[Mark]) -> list[Mark]:
    cleaned, errors = [], []
    for mark in marks:
        if mark.zone not in DamageMark.Zone.values or mark.kind not in DamageMark.Kind.values:
            errors.append(_("Choose the zone and the kind of each damage mark."))
            continue
        cleaned.append(Mark(mark.zone, mark.kind, (mark.note or "").strip()[:200]))
    if errors:
        raise ValidationError({"marks": errors[:1]})
    return cleaned


def _check_common(*, mileage_km: int, fuel_percent: int, signatures_confirmed: bool, floor_km: int) -> dict:
    errors = {}
    if mileage_km is None or mileage_km < floor_km:
        errors["mileage_km"] = _("The mileage cannot be below %(km)d km.") % {"km": floor_km}
    if fuel_percent is None or not 0 <= fuel_percent <= 100:
        errors["fuel_percent"] = _("Fuel is between 0 and 100 %.")
    if not signatures_confirmed:
        errors["signatures_confirmed"] = _("Confirm that the client and you have signed the act.")
    return errors


def licence_refusal(valid_until: date | None, *, number: str, through: datetime) -> dict:
    """Field errors for a driving licence that is missing or not valid through the day the car is due back."""
    errors = {}
    if not (number or "").strip():
        errors["licence_number"] = _("Write down the number of the client's driving licence.")
    if valid_until is None:
        errors["licence_valid_until"] = _("Write down until when the driving licence is valid.")
    elif valid_until < local_date(timezone.now()):
        errors["licence_valid_until"] = _("The driving licence expired on %(date)s: the car cannot be handed over.") % {
            "date": local_date_text(valid_until)
        }
    elif valid_until < local_date(through):
        errors["licence_valid_until"] = _("The driving licence expires on %(date)s, before the car is due back.") % {
            "date": local_date_text(valid_until)
        }
    return errors


def _attach(act: HandoverAct, marks: list[Mark], photos: Iterable, *, previous: set[tuple[str, str]]) -> None:
    DamageMark.objects.bulk_create(
        DamageMark(
            act=act,
            zone=m.zone,
            kind=m.kind,
            note=m.note,
            is_new=act.direction == HandoverAct.Direction.BACK and (m.zone, m.kind) not in previous,
        )
        for m in marks
    )
    for upload in photos:
        photo = DamagePhoto(act=act, file=upload, original_name=(getattr(upload, "name", "") or "")[:200])
        try:
            photo.full_clean(exclude=["act"])
        except ValidationError as exc:
            raise ValidationError({"photos": exc.message_dict.get("file", exc.messages)}) from exc
        photo.save()


def contract_needed(reservation: Reservation) -> bool:
    """A test drive kept more than a day goes out only with its temporary-use contract signed."""
    return reservation.kind == Reservation.Kind.TEST_DRIVE and reservation.lasts_over_a_day


@transaction.atomic
def reservation_check_out(
    *,
    reservation: Reservation,
    by: User | None,
    mileage_km: int,
    fuel_percent: int,
    licence_number: str,
    licence_valid_until: date | None,
    signatures_confirmed: bool,
    marks: Iterable[Mark] = (),
    photos: Iterable = (),
    deposit: Decimal | None = None,
    note: str = "",
) -> HandoverAct:
    """Hand the car over to the client with the act out."""
    reservation = Reservation.objects.select_for_update().select_related("car").get(pk=reservation.pk)
    car = FleetCar.objects.select_for_update().get(pk=reservation.car_id)
    previous = _transition(reservation, to=R.OUT)
    if car.state != FleetCar.State.AVAILABLE:
        raise Conflict(
            _("%(car)s is %(state)s: it cannot be handed over.") % {"car": car, "state": car.get_state_display()},
            field="car",
        )
    if contract_needed(reservation) and reservation.contract_signed_at is None:
        raise Conflict(
            _("A test drive of more than one day needs its temporary-use contract signed before the car goes out."),
            field="contract",
        )
    errors = _check_common(
        mileage_km=mileage_km, fuel_percent=fuel_percent, signatures_confirmed=signatures_confirmed, floor_km=0
    )
    errors |= licence_refusal(licence_valid_until, number=licence_number, through=reservation.ends_at)
    if deposit is not None and deposit < 0:
        errors["deposit"] = _("The deposit cannot be negative.")
    if errors:
        raise ValidationError(errors)
    cleaned = _clean_marks(marks)
    now = timezone.now()
    act = HandoverAct.objects.create(
        reservation=reservation,
        direction=HandoverAct.Direction.OUT,
        at=now,
        mileage_km=mileage_km,
        fuel_percent=fuel_percent,
        licence_number=licence_number.strip().upper()[:20],
        licence_valid_until=licence_valid_until,
        deposit=deposit,
        signatures_confirmed=True,
        note=note.strip()[:300],
        by=by,
    )
    _attach(act, cleaned, photos, previous=set())
    reservation.checked_out_at = now
    reservation._history_user = by
    reservation._change_reason = f"{previous} → out"
    reservation.save(update_fields=["status", "checked_out_at", "updated_at"])
    _record(reservation, by=by, previous=previous, to=R.OUT)
    car.mileage_km, car.fuel_percent = max(car.mileage_km, mileage_km), fuel_percent
    car.save(update_fields=["mileage_km", "fuel_percent", "updated_at"])
    cars.set_state(car, to=FleetCar.State.OUT, by=by, note=str(reservation.client))
    return act


def differences(act_back: HandoverAct, act_out: HandoverAct | None = None) -> Differences:
    """Km driven, fuel used (percentage points, negative when the client brought it fuller) and the new marks."""
    act_out = act_out or act_back.reservation.acts.get(direction=HandoverAct.Direction.OUT)
    return Differences(
        km_driven=act_back.mileage_km - act_out.mileage_km,
        fuel_used=act_out.fuel_percent - act_back.fuel_percent,
        new_marks=[m for m in act_back.marks.all() if m.is_new],
    )


def transport_heads() -> list[int]:
    return list(User.objects.filter(role=Role.TRANSPORT_HEAD, is_active=True).values_list("pk", flat=True))


@transaction.atomic
def reservation_check_in(
    *,
    reservation: Reservation,
    by: User | None,
    mileage_km: int,
    fuel_percent: int,
    signatures_confirmed: bool,
    marks: Iterable[Mark] = (),
    photos: Iterable = (),
    client_reported_fault: str = "",
    warning_lamp: bool = False,
    note: str = "",
) -> tuple[HandoverAct, Differences]:
    """Take the car back with the act back; the differences with the act out are computed, and a car with a problem
    goes to "needs inspection" with the transport head told."""
    reservation = Reservation.objects.select_for_update().select_related("car", "client").get(pk=reservation.pk)
    car = FleetCar.objects.select_for_update().get(pk=reservation.car_id)
    previous = _transition(reservation, to=R.RETURNED)
    act_out = reservation.acts.prefetch_related("marks").get(direction=HandoverAct.Direction.OUT)
    errors = _check_common(
        mileage_km=mileage_km,
        fuel_percent=fuel_percent,
        signatures_confirmed=signatures_confirmed,
        floor_km=act_out.mileage_km,
    )
    if errors:
        raise ValidationError(errors)
    cleaned = _clean_marks(marks)
    now = timezone.now()
    act = HandoverAct.objects.create(
        reservation=reservation,
        direction=HandoverAct.Direction.BACK,
        at=now,
        mileage_km=mileage_km,
        fuel_percent=fuel_percent,
        client_reported_fault=client_reported_fault.strip()[:300],
        warning_lamp=warning_lamp,
        signatures_confirmed=True,
        note=note.strip()[:300],
        by=by,
    )
    _attach(act, cleaned, photos, previous={(m.zone, m.kind) for m in act_out.marks.all()})
    diff = differences(act, act_out)
    reservation.returned_at = now
    reservation._history_user = by
    reservation._change_reason = f"{previous} → returned"
    reservation.save(update_fields=["status", "returned_at", "updated_at"])
    _record(reservation, by=by, previous=previous, to=R.RETURNED)
    car.mileage_km, car.fuel_percent = max(car.mileage_km, mileage_km), fuel_percent
    car.save(update_fields=["mileage_km", "fuel_percent", "updated_at"])
    reasons = problem_reasons(diff, fault=act.client_reported_fault, warning_lamp=warning_lamp)
    if reasons:
        _open_inspection(car, act=act, reasons=reasons, by=by)
    else:
        cars.set_state(car, to=FleetCar.State.AVAILABLE, by=by, note=str(reservation.client))
    return act, diff


def problem_reasons(diff: Differences, *, fault: str, warning_lamp: bool) -> list[str]:
    reasons = []
    if diff.new_marks:
        reasons.append(
            _("new damage: %(marks)s") % {"marks": ", ".join(f"{m} {m.note}".strip() for m in diff.new_marks)}
        )
    if fault:
        reasons.append(_("the client reports: %(fault)s") % {"fault": fault})
    if warning_lamp:
        reasons.append(_("a warning lamp is on"))
    return reasons


def _open_inspection(car: FleetCar, *, act: HandoverAct, reasons: list[str], by: User | None) -> CarInspection:
    text = "; ".join(reasons)[:500]
    inspection = CarInspection(car=car, act=act, reasons=text)
    inspection._history_user = by
    inspection.save()
    cars.set_state(car, to=FleetCar.State.NEEDS_INSPECTION, by=by, note=text)
    # It may not go out until cleared: what starts before the transport head could clear it is moved or released now;
    # a later reservation waits for their word (cleared: it stands; maintenance moves it then).
    cars.rehouse_reservations(car, by=by, starting_before=cars.inspection_horizon(act.at))
    notify(
        users=transport_heads(),
        title=_("%(car)s came back with a problem") % {"car": car},
        body=text,
        url=car.get_absolute_url(),
        email=True,
    )
    return inspection


@transaction.atomic
def reservation_contract_signed(*, reservation: Reservation, by: User | None) -> Reservation:
    """The client signed the temporary-use contract (a test drive or loaner of more than a day): it is registered as
    a signed document in the documents' flow, once."""
    reservation = Reservation.objects.select_for_update().select_related("car", "client").get(pk=reservation.pk)
    if not reservation.is_holding:
        raise Conflict(_("The reservation is closed."), field="status")
    if reservation.contract_signed_at is None:
        now = timezone.now()
        # On file in the documents' flow (signed, then to accounting and the archive), like every contract.
        document = document_register(
            by=by,
            kind=Document.Kind.TEMPORARY_USE_CONTRACT,
            issued_on=local_date(now),
            client=reservation.client,
            number=f"ДВП-{reservation.pk}",
            title=str(reservation.car),
            state=Document.State.SIGNED,
        )
        reservation.contract_signed_at = now
        reservation.contract_document_id = document.pk
        reservation._history_user = by
        reservation._change_reason = "contract signed"
        reservation.save(update_fields=["contract_signed_at", "contract_document_id", "updated_at"])
        _record(reservation, by=by, previous=reservation.status, to=reservation.status, note="contract signed")
    return reservation
