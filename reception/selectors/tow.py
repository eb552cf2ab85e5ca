"""Reads for the tow desk: the dispatch board (open orders, the overdue ones flagged), the list, the monthly
reconciliation with a contractor.

An order is overdue for dispatch when it is still new `TOW_DISPATCH_MINUTES` after it was taken, or, when a later
time was wanted, once that time is less than `TOW_DISPATCH_MINUTES` away.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Max, Q, QuerySet

from clientdesk.calendar import at
from reception.models import TowContractor, TowOrder

# The board shows every open order; a desk never has more, and a runaway one still renders.
BOARD_LIMIT = 200


def dispatch_window() -> timedelta:
    return timedelta(minutes=settings.TOW_DISPATCH_MINUTES)


def overdue_q(now: datetime) -> Q:
    """The orders not dispatched in time, as a filter (the board's flag and its version count the same rows)."""
    window = dispatch_window()
    return Q(status=TowOrder.Status.NEW, created_at__lt=now - window) & (
        Q(wanted_at__isnull=True) | Q(wanted_at__lt=now + window)
    )


def is_overdue(order: TowOrder, *, now: datetime) -> bool:
    window = dispatch_window()
    if order.status != TowOrder.Status.NEW or order.created_at >= now - window:
        return False
    return order.wanted_at is None or order.wanted_at < now + window


def tows_for_display(queryset: QuerySet) -> QuerySet:
    """What a row of the board or the list prints: the client, the car, the tow service; one query."""
    return queryset.select_related("client", "vehicle", "contractor")


def _open(user) -> QuerySet:
    return TowOrder.objects.visible_to(user).filter(status__in=TowOrder.OPEN_STATUSES)


def board_version(*, count: int, changed: datetime | None, overdue: int, **_rest) -> str:
    """What the board shows, in a word: it moves when an open order is added, changed or turns overdue."""
    changed_at = changed.timestamp() if changed else 0
    return f"{count}.{changed_at:.6f}.{overdue}"


def _version_counts(now: datetime) -> dict:
    return {"count": Count("id"), "changed": Max("updated_at"), "overdue": Count("id", filter=overdue_q(now))}


def board_version_now(*, user, now: datetime) -> str:
    """The board's version from one aggregate, so a poll that finds nothing new costs one query."""
    return board_version(**_open(user).aggregate(**_version_counts(now)))


@dataclass
class TowBoard:
    version: str
    rows: list[TowOrder]
    counts: dict[str, int]
    overdue: int


def tow_board(*, user, now: datetime) -> TowBoard:
    """The open orders, oldest first, each with `overdue` set: one aggregate and one query."""
    found = _open(user).aggregate(
        **_version_counts(now), **{s: Count("id", filter=Q(status=s)) for s in TowOrder.OPEN_STATUSES}
    )
    rows = list(tows_for_display(_open(user)).order_by("created_at", "id")[:BOARD_LIMIT]) if found["count"] else []
    for order in rows:
        order.overdue = is_overdue(order, now=now)
    counts = {str(TowOrder.Status(s).label): found[s] for s in TowOrder.OPEN_STATUSES if found[s]}
    return TowBoard(board_version(**found), rows, counts, found["overdue"])


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """[first moment, first moment of the next month) of a local calendar month."""
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return at(first, datetime.min.time()), at(following, datetime.min.time())


@dataclass
class Reconciliation:
    contractor: TowContractor
    month: date
    rows: list[TowOrder]
    total: Decimal
    without_cost: int


def reconciliation(*, contractor: TowContractor, month: date, user) -> Reconciliation:
    """A contractor's orders taken in a month (the dealership's calendar), with their costs and the total: what the
    department checks against the contractor's invoice. Cancelled orders the contractor never drove for are left
    out; failed ones stay (a call-out is often paid)."""
    start, end = month_bounds(month)
    orders = (
        TowOrder.objects.visible_to(user)
        .filter(contractor=contractor, created_at__gte=start, created_at__lt=end)
        .exclude(status=TowOrder.Status.CANCELLED, dispatched_at__isnull=True)
    )
    rows = list(orders.select_related("vehicle").order_by("created_at", "id"))
    total = sum((order.cost for order in rows if order.cost is not None), Decimal(0))
    return Reconciliation(contractor, month.replace(day=1), rows, total, sum(order.cost is None for order in rows))
