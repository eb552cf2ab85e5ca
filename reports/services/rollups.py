"""The daily roll-up of inbound calls, for the month dashboard (issue 12, item 6: measured first, see the README).

The inbound tile scans every inbound call of the period and the one before (two months: about 400,000 calls on the
bench set, 0.4 s). For whole past days it reads instead `InboundCallHour`: a row per local day, hour and manager.
`rollup_day(day)` rebuilds one day (delete and insert in one transaction, under a lock on the day's `RolledUpDay`
row: a second run, or two at once, leave the same rows); beat's hourly `rollups_refresh` rebuilds yesterday and the
day before (a call logged late) and fills missing days back to `ROLLUP_DAYS`, a batch at a time. Days not rolled up
(today, a day in another zone, a gap) are read from the calls as before, so the figures never differ.
"""

from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import ExtractHour
from django.utils import timezone

from calls.dashboard import inbound_groups
from calls.models import Call
from clientdesk.calendar import day_bounds, local_date, local_zone
from clientdesk.dashboard import Period
from reports.models import InboundCallHour, RolledUpDay

ROLLUP_DAYS = 400  # how far back the roll-up reaches: a year's dashboards and the year before's comparisons
BATCH = 31  # missing days filled per run


def rollup_day(day: date) -> int:
    """Rebuild one day's rows; how many there are."""
    start, end = day_bounds(day)
    with transaction.atomic():
        marker, _created = RolledUpDay.objects.get_or_create(day=day, defaults={"zone": settings.TIME_ZONE})
        RolledUpDay.objects.select_for_update().filter(pk=marker.pk).first()  # one builder per day at a time
        InboundCallHour.objects.filter(day=day).delete()
        groups = (
            Call.objects.filter(started_at__gte=start, started_at__lt=end, direction=Call.Direction.INBOUND)
            .annotate(hour=ExtractHour("started_at", tzinfo=local_zone()))
            .values("hour", "manager_id")
            .annotate(calls=Count("pk"), seconds=Sum("duration"))
            .order_by()
        )
        rows = [
            InboundCallHour(
                day=day, hour=g["hour"], manager_id=g["manager_id"], calls=g["calls"], seconds=g["seconds"] or 0
            )
            for g in groups
        ]
        InboundCallHour.objects.bulk_create(rows)
        RolledUpDay.objects.filter(pk=marker.pk).update(zone=settings.TIME_ZONE, built_at=timezone.now())
    return len(rows)


def rollups_refresh(*, today: date | None = None, batch: int = BATCH) -> list[date]:
    """Yesterday and the day before again, then up to `batch` missing days, newest first; the days rebuilt."""
    today = today or local_date(timezone.now())
    recent = [today - timedelta(days=1), today - timedelta(days=2)]
    held = set(
        RolledUpDay.objects.filter(day__gte=today - timedelta(days=ROLLUP_DAYS), zone=settings.TIME_ZONE).values_list(
            "day", flat=True
        )
    )
    missing = [day for n in range(3, ROLLUP_DAYS + 1) if (day := today - timedelta(days=n)) not in held][:batch]
    for day in [*recent, *missing]:
        rollup_day(day)
    return [*recent, *missing]


def _runs(days: list[date]) -> Q:
    """The moments of these local days, as few ranges as the days allow."""
    condition = Q(pk__in=[])
    days = sorted(days)
    while days:
        first = last = days.pop(0)
        while days and days[0] == last + timedelta(days=1):
            last = days.pop(0)
        condition |= Q(started_at__gte=day_bounds(first)[0], started_at__lt=day_bounds(last)[1])
    return condition


def rolled_inbound_groups(user, period: Period) -> list[dict]:
    """`calls.dashboard.inbound_groups` read from the roll-up for whole past days it holds, from the calls for the
    rest; the same groups."""
    previous = period.previous()
    today = local_date(timezone.now())
    rolled = set(
        RolledUpDay.objects.filter(
            day__gte=previous.first, day__lte=min(period.last, today - timedelta(days=1)), zone=settings.TIME_ZONE
        ).values_list("day", flat=True)
    )
    if not rolled:
        return inbound_groups(user, period)
    merged: dict[tuple, dict] = {}

    def add(group: dict) -> None:
        key = (group["hour"], group["manager_id"])
        row = merged.setdefault(key, {"hour": key[0], "manager_id": key[1], **dict.fromkeys(SUMS, 0)})
        for name in SUMS:
            row[name] += group[name] or 0

    this, before = Q(day__gte=period.first), Q(day__lt=period.first)
    for group in (
        InboundCallHour.objects.filter(day__in=rolled)
        .values("hour", "manager_id")
        .annotate(
            calls_now=Sum("calls", filter=this),
            seconds_now=Sum("seconds", filter=this),
            calls_before=Sum("calls", filter=before),
            seconds_then=Sum("seconds", filter=before),
        )
        .order_by()
    ):
        add(
            {
                "hour": group["hour"],
                "manager_id": group["manager_id"],
                "n": group["calls_now"],
                "seconds": group["seconds_now"],
                "n_before": group["calls_before"],
                "seconds_before": group["seconds_then"],
            }
        )
    days = [previous.first + timedelta(days=n) for n in range((period.last - previous.first).days + 1)]
    live = [day for day in days if day not in rolled]
    if live:
        for group in inbound_groups(user, period, days=_runs(live)):
            add(group)
    return list(merged.values())


SUMS = ("n", "seconds", "n_before", "seconds_before")
