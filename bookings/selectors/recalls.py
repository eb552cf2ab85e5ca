"""Reads of recall campaigns: which VINs have open campaigns, counts per campaign, a campaign's VINs."""

from collections.abc import Iterable

from django.db.models import Count, Exists, F, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from bookings.models import RecallCampaign, RecallVin


def open_recall_vins() -> QuerySet:
    return RecallVin.objects.filter(done_at__isnull=True, campaign__in=RecallCampaign.objects.current())


def open_recalls_for_vins(vins: Iterable[str]) -> dict[str, list[RecallCampaign]]:
    """For each of these VINs (as stored: normalised) that has open campaigns, those campaigns; one query.

    VINs without an open campaign are absent from the answer; empty VINs are ignored (and cost no query).
    """
    wanted = {vin for vin in vins if vin}
    if not wanted:
        return {}
    rows = (
        open_recall_vins()
        .filter(vin__in=wanted)
        .select_related("campaign")
        .order_by("vin", F("campaign__starts_on").asc(nulls_first=True), "campaign_id")
    )
    found: dict[str, list[RecallCampaign]] = {}
    for row in rows:
        found.setdefault(row.vin, []).append(row.campaign)
    return found


def open_recalls_for_vin(vin: str) -> list[RecallCampaign]:
    """The open campaigns for one VIN (as stored), oldest first; [] when there are none."""
    return open_recalls_for_vins([vin]).get(vin, [])


def bookings_with_open_recall(queryset: QuerySet) -> QuerySet:
    """The bookings of `queryset` whose vehicle's VIN has an open campaign: one SQL query (an EXISTS that walks the
    partial index of open VINs)."""
    return queryset.filter(Exists(open_recall_vins().filter(vin=OuterRef("vehicle__vin"))))


def _vin_count(**condition) -> Coalesce:
    counted = (
        RecallVin.objects.filter(campaign=OuterRef("pk"), **condition)
        .order_by()
        .values("campaign")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def campaigns_with_counts(queryset: QuerySet) -> QuerySet:
    """Campaigns with `vins_total` and `vins_done`, counted per row shown (correlated subqueries), never over the
    whole table however long the list."""
    return queryset.annotate(vins_total=_vin_count(), vins_done=_vin_count(done_at__isnull=False))


def campaign_vins(campaign: RecallCampaign) -> QuerySet:
    return RecallVin.objects.filter(campaign=campaign).select_related("done_by")
