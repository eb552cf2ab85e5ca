"""Reads for the claims' pages and API: the list with its due states, the card with everything linked, the
manager's claims due soon, the timeline rows, the dashboard's figures."""

from dataclasses import dataclass
from datetime import date
from functools import cached_property

from django.db import models
from django.db.models import Avg, Count, ExpressionWrapper, F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from claims import timeline
from claims.models import Claim
from claims.services import due_soon_limit
from clientdesk.calendar import local_date
from clientdesk.views import ListRow
from clients.models import Vehicle


class DueState(models.TextChoices):
    OVERDUE = "overdue", _("Overdue")
    DUE_SOON = "due_soon", _("Due within 2 working days")
    LATER = "later", _("Due later")
    ANSWERED = "answered", _("Client answered")


BADGES = {
    DueState.OVERDUE: "text-bg-danger",
    DueState.DUE_SOON: "text-bg-warning",
    DueState.LATER: "text-bg-light",
    DueState.ANSWERED: "text-bg-success",
}


class DueBounds:
    """Today and the last due date that counts as due soon (the second working day ahead), read from the business
    calendar only when a claim due today or later asks (an overdue list needs no calendar)."""

    def __init__(self, today: date, soon: date | None = None):
        self.today = today
        if soon is not None:
            self.__dict__["soon"] = soon

    @cached_property
    def soon(self) -> date:
        return due_soon_limit(self.today)

    def state(self, claim: Claim) -> str:
        if claim.status in Claim.ANSWERED_STATUSES:
            return DueState.ANSWERED
        if claim.due_date < self.today:
            return DueState.OVERDUE
        if claim.due_date <= self.soon:
            return DueState.DUE_SOON
        return DueState.LATER


def due_bounds(today: date | None = None) -> DueBounds:
    return DueBounds(today or local_date(timezone.now()))


def due_state_q(state: str, *, today: date, bounds: DueBounds | None = None) -> Q:
    """The claims in a due state, as a filter (served by the open claims' due-date index)."""
    answered = Q(status__in=Claim.ANSWERED_STATUSES)
    if state == DueState.ANSWERED:
        return answered
    if state == DueState.OVERDUE:
        return ~answered & Q(due_date__lt=today)
    soon = (bounds if bounds is not None and bounds.today == today else due_bounds(today)).soon
    if state == DueState.DUE_SOON:
        return ~answered & Q(due_date__gte=today, due_date__lte=soon)
    return ~answered & Q(due_date__gt=soon)


# The claim's own columns a row of the list (and of the manager's panel) prints, and what its due state, link and
# cursor need; the client's, car's, category's and manager's come as annotations (`claims_for_display`).
LIST_FIELDS = ("id", "number", "received_at", "due_date", "status", "client_id", "vehicle_id")

# The related columns a row prints, by the names the rows carry them under.
RELATED_COLUMNS = {
    "client_name": "client__name",
    "vehicle_make": "vehicle__make",
    "vehicle_model": "vehicle__model",
    "vehicle_plate": "vehicle__plate",
    "category_name": "category__name",
}


def claims_for_display(queryset: QuerySet) -> QuerySet:
    """What a row of the list prints: the client, the car, the category, the manager, in one query, only the columns
    shown. They come as annotations rather than `select_related`: one model per row instead of five, which was most of
    a 50-row page's time (`Claim.client_label`, `car_label`, `category_label`, `assignee_label` read them)."""
    related = {name: F(path) for name, path in RELATED_COLUMNS.items()}
    return queryset.annotate(**related, assignee_name=User.name_expression("assignee")).only(*LIST_FIELDS)


# The manager's columns a row of the claim list reads, named by `shape_list_rows` (`User.name_of`).
ASSIGNEE_COLUMNS = {
    "assignee_first_name": "assignee__first_name",
    "assignee_last_name": "assignee__last_name",
    "assignee_username": "assignee__username",
}


def claim_list_rows(queryset: QuerySet) -> QuerySet:
    """The claim list's rows as dicts of the columns it prints (templates/claims/claim_list.html): a plain row per
    claim rather than a model. `shape_list_rows` makes the page's rows, with their labels and due states, once the page
    is cut. The manager's name is put together there from three plain columns, not in SQL: compiling
    `User.name_expression` cost more than the rest of the query's columns together."""
    related = {name: F(path) for name, path in {**RELATED_COLUMNS, **ASSIGNEE_COLUMNS}.items()}
    return queryset.values("pk", *LIST_FIELDS[1:], **related)


_STATUS_LABELS = dict(Claim.Status.choices)


def shape_list_rows(rows: list[dict], bounds: DueBounds) -> list[ListRow]:
    """The page's rows, each with the names the list's templates read of a claim (`get_status_display`,
    `status_badge`, `car_label`, the due state…), so `_due.html` and `_status.html` print a model or a row."""
    shaped = []
    for row in rows:
        car = Vehicle.label(row["vehicle_make"], row["vehicle_model"], row["vehicle_plate"])
        car = "" if row["vehicle_id"] is None else car
        status = row["status"]
        shaped_row = ListRow(
            row,
            get_status_display=_STATUS_LABELS.get(status, status),
            status_badge=Claim.STATUS_BADGES.get(status, "text-bg-secondary"),
            client_label=row["client_name"],
            car_label=car,
            category_label=row["category_name"],
            assignee_label=User.name_of(
                row["assignee_first_name"], row["assignee_last_name"], row["assignee_username"]
            ),
        )
        state = bounds.state(shaped_row)
        shaped_row.update(due_state=state, due_badge=BADGES[state], due_label=DueState(state).label)
        shaped.append(shaped_row)
    return shaped


def mark_due_states(claims, bounds: DueBounds | None = None):
    bounds = bounds or due_bounds()
    for claim in claims:
        claim.due_state = bounds.state(claim)
        claim.due_badge = BADGES[claim.due_state]
        claim.due_label = DueState(claim.due_state).label
    return claims


def claim_for_card(pk: int, *, user) -> Claim:
    return (
        Claim.objects.visible_to(user)
        .select_related(
            "client",
            "vehicle",
            "category",
            "assignee",
            "booking",
            "delivery__vehicle",
            "loaner__car",
            "answer_document",
            "source_call__manager",
            "informed_call__manager",
            "decided_by",
            "created_by",
        )
        .get(pk=pk)
    )


def claim_links(claim: Claim) -> dict:
    """Everything linked to the claim, for its card: the steps, the due-date changes, the scans."""
    return {
        "transitions": list(claim.transitions.select_related("by", "call")),
        "due_changes": list(claim.due_changes.select_related("by", "old_category", "new_category")),
        "attachments": list(claim.attachments.select_related("uploaded_by")),
    }


def my_claims_due(user, *, limit: int = 10) -> tuple[list[Claim], DueBounds]:
    """The user's open claims due within two working days or overdue, soonest first."""
    bounds = due_bounds()
    rows = list(
        claims_for_display(
            Claim.objects.visible_to(user).open().filter(assignee=user, due_date__lte=bounds.soon)
        ).order_by("due_date", "id")[:limit]
    )
    return mark_due_states(rows, bounds), bounds


def client_timeline_claims(client, user) -> QuerySet:
    """The client's claims for the card's timeline ((client, received_at) index)."""
    return timeline.claim_rows(Claim.objects.visible_to(user).filter(client=client))


def vehicle_timeline_claims(vehicle, user) -> QuerySet:
    """The claims about the vehicle, for its page ((vehicle, received_at) index)."""
    return timeline.claim_rows(Claim.objects.visible_to(user).filter(vehicle=vehicle))


@dataclass(frozen=True)
class ClaimFigures:
    open: int
    due_soon: int
    overdue: int
    closed: int
    average_days_to_close: float | None


def claim_figures(queryset: QuerySet, *, start, end, bounds: DueBounds | None = None) -> ClaimFigures:
    """The open claims now (due soon, overdue), and those closed in [start, end) with their average time from
    receipt to close in days: one aggregate query."""
    bounds = bounds or due_bounds()
    answered = Q(status__in=Claim.ANSWERED_STATUSES)
    closed = Q(status=Claim.Status.CLOSED, closed_at__gte=start, closed_at__lt=end)
    took = ExpressionWrapper(F("closed_at") - F("received_at"), output_field=models.DurationField())
    figures = queryset.aggregate(
        open=Count("id", filter=~answered),
        due_soon=Count("id", filter=~answered & Q(due_date__gte=bounds.today, due_date__lte=bounds.soon)),
        overdue=Count("id", filter=~answered & Q(due_date__lt=bounds.today)),
        closed=Count("id", filter=closed),
        took=Avg(took, filter=closed),
    )
    took = figures.pop("took")
    average = round(took.total_seconds() / 86400, 1) if took is not None else None
    return ClaimFigures(average_days_to_close=average, **figures)
