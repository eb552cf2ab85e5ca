"""The fleet's tile on the department head's dashboard (registered in FleetConfig.ready): how much of the period the
loaners spent promised to clients, against the previous period; the cars waiting for inspection now. Two aggregates
per period, whatever the number of reservations."""

from django.db.models import F, Sum
from django.db.models.functions import Greatest, Least
from django.utils.translation import gettext_lazy as _

from accounts.roles import Capability
from clientdesk.dashboard import DOWN, Figure, Period, Tile, TileData, head_tiles, list_url
from fleet.models import FleetCar, Reservation


def loaner_utilisation(period: Period) -> float | None:
    """Hours the loaners were held by non-cancelled reservations in the period, as a share of the hours they had."""
    cars = FleetCar.objects.filter(use=FleetCar.Use.LOANER).in_use().count()
    if not cars:
        return None
    held = (
        Reservation.objects.filter(
            kind=Reservation.Kind.LOANER,
            status__in=[*Reservation.HOLDING, Reservation.Status.RETURNED],
            starts_at__lt=period.end,
            ends_at__gt=period.start,
        )
        .annotate(span=Least(F("ends_at"), period.end) - Greatest(F("starts_at"), period.start))
        .aggregate(total=Sum("span"))["total"]
    )
    hours = (period.end - period.start).total_seconds() / 3600 * cars
    return round(100 * (held.total_seconds() / 3600 if held else 0) / hours, 1)


def fleet_tile(user, period: Period) -> TileData:
    waiting = FleetCar.objects.filter(state=FleetCar.State.NEEDS_INSPECTION).count()
    return TileData(
        figures=[
            Figure(
                "loaner-utilisation",
                _("Loaner utilisation"),
                loaner_utilisation(period),
                list_url("fleet:board"),
                previous=loaner_utilisation(period.previous()),
                unit="%",
            ),
            Figure("fleet-inspection", _("Cars needing inspection"), waiting, list_url("fleet:car-list"), better=DOWN),
        ]
    )


def register() -> None:
    head_tiles.register("fleet", Tile("fleet", _("Loaners"), fleet_tile, Capability.VIEW_FLEET), order=90)
