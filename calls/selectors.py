"""Reads for the outbound queue: whose tasks a user works today, and the queue page itself."""

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Absence
from calls import timeline
from calls.models import Call, CallTask, SurveyResponse
from clientdesk.calendar import day_bounds, local_date
from clients.models import Delivery

# A task whose next attempt is this far behind is marked overdue in the queue.
OVERDUE_AFTER = timedelta(hours=1)


def routable_to(user, day: date) -> Q:
    """Tasks this user works on `day`: their own, those of colleagues they stand in for, and unassigned ones.

    Routing is decided when the queue is read, not by rewriting rows, so an absentee's tasks come back to them the
    day the absence ends.

    The colleagues are looked up first, so the filter is a plain list of assignees: PostgreSQL then reads each one's
    due tasks from the queue index, where a subquery in the filter made it read every due task in the department."""
    substituted = Absence.objects.on(day).filter(substitute=user).values_list("user_id", flat=True)
    return Q(assignee_id__in=[user.pk, *substituted]) | Q(assignee__isnull=True)


def queue_rows(queryset):
    return queryset.select_related(
        "client",
        "assignee",
        "booking",
        "booking__vehicle",
        "booking__advisor",
        "delivery",
        "delivery__vehicle",
        "campaign_member__campaign",
    )


@dataclass
class Queue:
    tasks: list
    counts: dict = field(default_factory=dict)
    overdue: int = 0
    now: object = None


def manager_queue(user, *, now=None, kind: str | None = None, limit: int = 100) -> Queue:
    """Due tasks for the user, earliest first: everything whose next attempt falls today or earlier."""
    now = now or timezone.now()
    today = local_date(now)
    _start, end_of_today = day_bounds(today)
    due = CallTask.objects.visible_to(user).pending().filter(routable_to(user, today), next_attempt_at__lt=end_of_today)
    counts = dict(due.order_by().values_list("kind").annotate(n=Count("id")))
    listed = due.filter(kind=kind) if kind else due
    tasks = list(queue_rows(listed).order_by("next_attempt_at", "id")[:limit])
    for task in tasks:
        task.is_overdue = task.next_attempt_at < now - OVERDUE_AFTER
        task.is_due = task.next_attempt_at <= now
    return Queue(tasks=tasks, counts=counts, overdue=sum(t.is_overdue for t in tasks), now=now)


# --- the client card's timeline (registered in CallsConfig.ready; the card pages them) --------------------------------


def client_timeline_calls(client, user) -> QuerySet:
    """The client's calls, with only what a timeline line shows."""
    return timeline.call_rows(Call.objects.visible_to(user).filter(client=client))


def vehicle_timeline_calls(vehicle, user) -> QuerySet:
    """The calls about the vehicle, shaped like the client's timeline (the vehicle's page; (vehicle, time) index)."""
    return timeline.call_rows(Call.objects.visible_to(user).filter(vehicle=vehicle))


def client_timeline_surveys(client, user) -> QuerySet:
    """The buyer's answers to follow-up surveys (seen by whoever may see the handovers they follow)."""
    return timeline.survey_rows(
        SurveyResponse.objects.filter(delivery__in=Delivery.objects.visible_to(user).filter(client=client))
    )


def vehicle_timeline_surveys(vehicle, user) -> QuerySet:
    """The answers to the follow-up surveys of the vehicle's handovers, for its page (the handovers from their
    (vehicle, delivered_at) index, the answer from its one-per-delivery index)."""
    return timeline.survey_rows(
        SurveyResponse.objects.filter(delivery__in=Delivery.objects.visible_to(user).filter(vehicle=vehicle))
    )


def pending_tasks_of_user():
    """For the absence list: how many open call tasks the absent user has (an annotation over `user`)."""
    pending = (
        CallTask.objects.filter(assignee=OuterRef("user"), status__in=CallTask.PENDING)
        .order_by()
        .values("assignee")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(pending), 0)
