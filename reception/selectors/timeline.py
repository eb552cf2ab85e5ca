"""The reception's rows on the vehicle's page (clients.extensions.TimelineSource.vehicle_rows; their lines:
reception.timeline)."""

from django.db.models import QuerySet

from reception import timeline
from reception.models import TintConsultation, TowOrder


def vehicle_timeline_tow_orders(vehicle, user) -> QuerySet:
    """The tow orders for the vehicle, with what a timeline line shows ((vehicle, created_at) index)."""
    return timeline.tow_rows(TowOrder.objects.visible_to(user).filter(vehicle=vehicle))


def vehicle_timeline_tint_consultations(vehicle, user) -> QuerySet:
    """The tinting consultations about the vehicle, with who consulted ((vehicle, created_at) index)."""
    return timeline.tint_rows(TintConsultation.objects.visible_to(user).filter(vehicle=vehicle))
