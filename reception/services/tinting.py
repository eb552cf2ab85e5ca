"""Every write to tinting: the film price list, a consultation (windows, films, the light transmission that results,
the estimate, the legal warning given), and the order that books the tinting area through the bookings app.

The technical regulation in force holds the windshield and the front side windows to at least
`TINT_MIN_LIGHT_TRANSMISSION` % light transmission, the glass included. A consultation that goes below it is saved
only once the manager confirms the client was warned, and the words of the warning are kept with it.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from bookings.models import Booking, ServiceType
from bookings.services.bookings import booking_create
from clientdesk.errors import Conflict
from clients.models import Client, Vehicle
from reception.models import (
    REGULATED_ZONES,
    TintConsultation,
    TintFilm,
    TintLine,
    TintOrder,
    TintPrice,
    WindowZone,
)

# The workshop's service type a tinting order books (as seed_workshop names it).
TINTING_SERVICE_CODE = "tinting"


def legal_limit() -> int:
    return settings.TINT_MIN_LIGHT_TRANSMISSION


def result_transmission(glass: int, film: int) -> int:
    """The light transmission through glass and film, in whole percent rounded down (a warning is never missed by
    rounding up)."""
    return glass * film // 100


@dataclass(frozen=True)
class PlannedLine:
    zone: str
    film: TintFilm
    price: Decimal
    result: int

    @property
    def zone_label(self) -> str:
        return str(WindowZone(self.zone).label)

    @property
    def below_limit(self) -> bool:
        return self.zone in REGULATED_ZONES and self.result < legal_limit()


def plan_tinting(*, glass_transmission: int, films: Mapping[str, TintFilm]) -> list[PlannedLine]:
    """The lines a consultation would record: per zone chosen, the film's price and the resulting transmission."""
    prices = {
        (p.film_id, p.zone): p.price
        for p in TintPrice.objects.filter(film__in=[f for f in films.values()], zone__in=list(films))
    }
    lines, missing = [], []
    for zone, film in films.items():
        price = prices.get((film.pk, zone))
        if price is None:
            missing.append(f"{film.name} · {WindowZone(zone).label}")
            continue
        lines.append(PlannedLine(zone, film, price, result_transmission(glass_transmission, film.light_transmission)))
    if missing:
        raise ValidationError({"films": _("No price for: %(items)s.") % {"items": ", ".join(missing)}})
    return lines


def legal_warning(lines: list[PlannedLine]) -> str:
    """The warning the client must be given, or "" when every regulated window keeps the limit."""
    below = [line for line in lines if line.below_limit]
    if not below:
        return ""
    windows = "; ".join(f"{line.zone_label}: {line.result} %" for line in below)
    return _(
        "%(windows)s, below the %(limit)d %% the technical regulation requires for the windshield and the front side "
        "windows (TR CU 018/2011, annex 8, item 4.3, glass included). The car may fail inspection and the driver may "
        "be fined (Code of Administrative Offences, art. 12.5 part 3.1) and told to remove the film."
    ) % {"windows": windows, "limit": legal_limit()}


@transaction.atomic
def tint_consultation_create(
    *,
    by: User | None,
    client: Client,
    films: Mapping[str, TintFilm],
    glass_transmission: int = 90,
    vehicle: Vehicle | None = None,
    client_warned: bool = False,
    note: str = "",
) -> TintConsultation:
    """Record a consultation. When a regulated window would fall below the limit, `client_warned` must confirm the
    client was told; the warning's words are saved with the consultation."""
    errors = {}
    if not films:
        errors["films"] = _("Choose the film for at least one window.")
    if vehicle is not None and vehicle.owner_id != client.pk:
        errors["vehicle"] = _("This vehicle belongs to another client.")
    if not 1 <= glass_transmission <= 100:
        errors["glass_transmission"] = _("Light transmission is between 1 and 100 %.")
    if errors:
        raise ValidationError(errors)
    lines = plan_tinting(glass_transmission=glass_transmission, films=films)
    warning = legal_warning(lines)
    if warning and not client_warned:
        raise ValidationError(
            {"client_warned": _("Tell the client about the limit and tick that you did: %(w)s") % {"w": warning}}
        )
    consultation = TintConsultation(
        client=client,
        vehicle=vehicle,
        glass_transmission=glass_transmission,
        estimate=sum((line.price for line in lines), Decimal(0)),
        limit=legal_limit(),
        warning=warning,
        note=note.strip(),
        created_by=by,
    )
    consultation.full_clean(exclude=["created_by"], validate_constraints=False)
    consultation._history_user = by
    consultation.save()
    TintLine.objects.bulk_create(
        TintLine(
            consultation=consultation, zone=line.zone, film=line.film, price=line.price, result_transmission=line.result
        )
        for line in lines
    )
    return consultation


@transaction.atomic
def tint_order_create(
    *, by: User | None, consultation: TintConsultation, starts_at: datetime, advisor: User
) -> TintOrder:
    """Book the tinting area for a consultation through bookings' own service: a full area or a taken slot is
    refused there, with the nearest free slots (`bookings.services.bookings.SlotUnavailable`)."""
    consultation = TintConsultation.objects.select_for_update().get(pk=consultation.pk)
    if TintOrder.objects.filter(consultation=consultation).exists():
        raise Conflict(_("This consultation is booked already."), field="consultation")
    service = ServiceType.objects.filter(code=TINTING_SERVICE_CODE, is_active=True).select_related("area").first()
    if service is None:
        raise ValidationError(_("The workshop has no tinting service set up."))
    lines = "; ".join(str(line) for line in consultation.lines.select_related("film"))
    booking = booking_create(
        by=by,
        client=consultation.client,
        vehicle=consultation.vehicle,
        starts_at=starts_at,
        advisor=advisor,
        service_types=[service],
        comment=_("Tinting: %(lines)s.") % {"lines": lines},
    )
    order = TintOrder(consultation=consultation, booking=booking, created_by=by)
    order._history_user = by
    order.save()
    return order


# The order's status for each status of its booking.
FOLLOWS = {
    Booking.Status.SCHEDULED: TintOrder.Status.BOOKED,
    Booking.Status.CONFIRMED: TintOrder.Status.BOOKED,
    Booking.Status.ARRIVED: TintOrder.Status.BOOKED,
    Booking.Status.IN_SERVICE: TintOrder.Status.IN_WORK,
    Booking.Status.COMPLETED: TintOrder.Status.DONE,
    Booking.Status.CANCELLED: TintOrder.Status.CANCELLED,
    Booking.Status.NO_SHOW: TintOrder.Status.CANCELLED,
}


@transaction.atomic
def tint_order_follow_booking(*, booking_id: int, by: User | None = None) -> TintOrder | None:
    """Bring a tinting order's status in line with its booking (idempotent: run twice, the same status)."""
    order = TintOrder.objects.select_for_update().select_related("booking").filter(booking_id=booking_id).first()
    if order is None:
        return None
    wanted = FOLLOWS[order.booking.status]
    if order.status != wanted:
        order.status = wanted
        order._history_user = by
        order._change_reason = f"booking {order.booking.status}"
        order.save(update_fields=["status", "updated_at"])
    return order


@transaction.atomic
def tint_film_save(
    *,
    by: User | None,
    name: str,
    light_transmission: int,
    prices: Mapping[str, Decimal | None],
    film: TintFilm | None = None,
    is_active: bool = True,
) -> TintFilm:
    """Add a film to the price list or change it, with its price per window zone (a zone left empty is not offered)."""
    film = film or TintFilm()
    film.name, film.light_transmission, film.is_active = name.strip(), light_transmission, is_active
    if TintFilm.objects.filter(name=film.name).exclude(pk=film.pk).exists():
        raise Conflict(_("A film with this name is on the list."), field="name")
    film.full_clean(validate_constraints=False)
    film._history_user = by
    film.save()
    for zone, price in prices.items():
        if price is None:
            TintPrice.objects.filter(film=film, zone=zone).delete()
        else:
            TintPrice.objects.update_or_create(film=film, zone=zone, defaults={"price": price})
    return film
