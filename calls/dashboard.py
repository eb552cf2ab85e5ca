"""The calls app's dashboard tiles (registered in CallsConfig.ready): inbound calls, outbound call tasks, visit
confirmations, 7-day follow-ups, CSI and campaigns for the head; a manager's own calls and tasks beside the
department's average.

Each tile is a few SQL aggregates whatever the number of rows: this period and the previous one are counted in the
same query (conditional counts over both), and every figure links to the call log, the call-task board or the list
endpoint with that list's own filter parameters.
"""

from collections import defaultdict
from datetime import timedelta

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import ExtractHour
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.roles import Capability, Role
from calls.models import Call, CallTask, Campaign, SurveyResponse
from calls.selectors import OVERDUE_AFTER, routable_to
from calls.services.campaigns import campaigns_progress
from calls.services.surveys import csi_report
from clientdesk.calendar import local_date, local_zone
from clientdesk.dashboard import (
    DOWN,
    Chart,
    Figure,
    Period,
    Series,
    Tile,
    TileData,
    both,
    faster,
    head_tiles,
    list_url,
    own_tiles,
    ratio,
    report_sections,
    shared,
    spanning,
    within,
)

# A task is done on time when it was closed within a day of its due time: due times fall at or after the calling
# window's opening, and no call is made outside the window, so this is "on its due day".
ON_TIME = timedelta(days=1)


def _name(first: str, last: str, username: str) -> str:
    return f"{first} {last}".strip() or username


# --- inbound calls ---------------------------------------------------------------------------------------------------


def inbound_groups(user, period: Period, *, days: Q | None = None) -> list[dict]:
    """Inbound calls of the period and the one before, grouped by (local hour, manager): this period's and the
    previous one's counts and seconds side by side (`n`, `seconds`, `n_before`, `seconds_before`). One scan of both
    periods (three queries cost three scans and, on PostgreSQL, three JIT compilations: 880 ms for a month of 200,000
    calls, against about 500 ms as one). `days` narrows the scan (a roll-up holding the other days asks for these)."""
    previous = period.previous()
    calls = Call.objects.visible_to(user).filter(spanning(period, "started_at"), direction=Call.Direction.INBOUND)
    if days is not None:
        calls = calls.filter(days)
    return list(
        calls.annotate(hour=ExtractHour("started_at", tzinfo=local_zone()))
        .values("hour", "manager_id")
        .annotate(
            n=Count("pk", filter=within(period, "started_at")),
            seconds=Sum("duration", filter=within(period, "started_at")),
            n_before=Count("pk", filter=within(previous, "started_at")),
            seconds_before=Sum("duration", filter=within(previous, "started_at")),
        )
        .order_by()
    )


def inbound_tile(user, period: Period) -> TileData:
    """Inbound calls and their average length; by hour of the day and by manager: the groups of `inbound_groups`
    (or of the faster reader a higher app offers, a daily roll-up), summed both ways."""
    groups = faster("inbound-groups", inbound_groups)(user, period)
    by_hour: dict[int, int] = defaultdict(int)
    per_manager: dict[int, int] = defaultdict(int)
    for group in groups:
        by_hour[group["hour"]] += group["n"]
        per_manager[group["manager_id"]] += group["n"]
    names = {
        pk: _name(first, last, username)
        for pk, first, last, username in User.objects.filter(
            pk__in=[pk for pk, n in per_manager.items() if n]
        ).values_list("pk", "first_name", "last_name", "username")
    }
    by_manager = sorted(((pk, n) for pk, n in per_manager.items() if n), key=lambda item: (-item[1], item[0]))
    calls, calls_before = sum(g["n"] for g in groups), sum(g["n_before"] for g in groups)
    seconds = sum(g["seconds"] or 0 for g in groups)
    seconds_before = sum(g["seconds_before"] or 0 for g in groups)
    window = {"started_after": period.start, "started_before": period.end}
    hours = range(24)

    def hour_url(hour: int) -> str:
        # One day's hour is a range the call log can filter; over several days an hour is not, so the bar opens
        # the period's inbound calls.
        if period.days == 1:
            start = period.start.astimezone(local_zone()).replace(hour=hour)
            return list_url(
                "calls:list", direction="in", started_after=start, started_before=start + timedelta(hours=1)
            )
        return list_url("calls:list", direction="in", **window)

    return TileData(
        figures=[
            Figure(
                "inbound",
                _("Inbound calls"),
                calls,
                list_url("calls:list", direction="in", **window),
                previous=calls_before,
                better="",
            ),
            Figure(
                "inbound-seconds",
                _("Average inbound call, s"),
                round(seconds / calls) if calls else None,
                list_url("calls:list", direction="in", **window),
                previous=round(seconds_before / calls_before) if calls_before else None,
                unit="s",
                better="",
            ),
        ],
        charts=[
            Chart(
                "inbound-by-hour",
                _("Inbound calls by hour"),
                "bar",
                [f"{hour:02d}" for hour in hours],
                [Series(str(_("Calls")), [by_hour.get(hour, 0) for hour in hours], [hour_url(h) for h in hours])],
            ),
            Chart(
                "inbound-by-manager",
                _("Inbound calls by manager"),
                "bar",
                [names.get(pk, str(pk)) for pk, _n in by_manager],
                [
                    Series(
                        str(_("Calls")),
                        [n for _pk, n in by_manager],
                        [list_url("calls:list", direction="in", manager=pk, **window) for pk, _n in by_manager],
                    )
                ],
                horizontal=True,
            ),
        ],
    )


# --- outbound call tasks ---------------------------------------------------------------------------------------------


def _task_url(period: Period, **filters) -> str:
    return list_url("call-task-list", due_after=period.start, due_before=period.end, **filters)


def task_groups(user, period: Period) -> list[dict]:
    """Call tasks due in the period and the one before, counted by (kind, assignee): due, done, done on time,
    unreachable, pending (each with `_before`), overdue now. One query, read once per drawing by the outbound,
    confirmation and follow-up tiles alike (`shared`)."""

    def read() -> list[dict]:
        now = timezone.now()
        tasks = CallTask.objects.visible_to(user).filter(spanning(period, "due_at"))
        overdue = Q(status__in=CallTask.PENDING, next_attempt_at__lt=now - OVERDUE_AFTER)
        done = Q(status=CallTask.Status.DONE)
        return list(
            tasks.values("kind", "assignee_id")
            .annotate(
                **both(
                    period,
                    "due_at",
                    due=Q(),
                    done=done,
                    on_time=done & Q(closed_at__lt=F("due_at") + ON_TIME),
                    unreachable=Q(status=CallTask.Status.UNREACHABLE),
                    pending=Q(status__in=CallTask.PENDING),
                ),
                overdue=Count("pk", filter=overdue & within(period, "due_at")),
            )
            .order_by()
        )

    return shared(("call-task-groups", user.pk, period), read)


def outbound_tile(user, period: Period) -> TileData:
    """Call tasks due in the period, by kind and by assignee: done (and of them on time), unreachable, still pending,
    overdue now. The task groups (`task_groups`), summed both ways, and the assignees' names."""
    groups = task_groups(user, period)
    keys = ("due", "done", "on_time", "unreachable", "pending", "overdue")
    keys += tuple(f"{key}_before" for key in keys[:-1])
    by_kind: dict[str, dict] = defaultdict(lambda: dict.fromkeys(keys, 0))
    by_assignee: dict[int | None, dict] = defaultdict(lambda: dict.fromkeys(keys, 0))
    for group in groups:
        for key in keys:
            by_kind[group["kind"]][key] += group[key]
            by_assignee[group["assignee_id"]][key] += group[key]
    kinds = list(CallTask.Kind)
    assignees = sorted(
        (pk for pk, row in by_assignee.items() if row["due"]), key=lambda pk: (-by_assignee[pk]["due"], pk or 0)
    )
    names = {
        pk: _name(first, last, username)
        for pk, first, last, username in User.objects.filter(pk__in=[pk for pk in assignees if pk]).values_list(
            "pk", "first_name", "last_name", "username"
        )
    }

    def total(key):
        return sum(row[key] for row in by_kind.values())

    pending = [s.value for s in CallTask.PENDING]
    states = (
        (_("Done"), "done", "done"),
        (_("Unreachable"), "unreachable", "unreachable"),
        (_("Pending"), "pending", pending),
    )
    return TileData(
        figures=[
            Figure(
                "tasks-due",
                _("Call tasks due"),
                total("due"),
                _task_url(period),
                previous=total("due_before"),
                better="",
            ),
            Figure(
                "tasks-done",
                _("Done"),
                total("done"),
                _task_url(period, status="done"),
                previous=total("done_before"),
            ),
            Figure(
                "tasks-on-time",
                _("Done on their due day, %"),
                ratio(total("on_time"), total("due")),
                _task_url(period, status="done"),
                previous=ratio(total("on_time_before"), total("due_before")),
                unit="%",
            ),
            Figure("tasks-overdue", _("Overdue now"), total("overdue"), _task_url(period, overdue="true"), better=DOWN),
            Figure(
                "tasks-unreachable",
                _("Unreachable"),
                total("unreachable"),
                _task_url(period, status="unreachable"),
                previous=total("unreachable_before"),
                better=DOWN,
            ),
        ],
        charts=[
            Chart(
                "tasks-by-kind",
                _("Call tasks by kind"),
                "bar",
                [str(kind.label) for kind in kinds],
                [
                    Series(
                        str(label),
                        [by_kind[kind][key] if kind in by_kind else 0 for kind in kinds],
                        [_task_url(period, kind=kind, status=status) for kind in kinds],
                    )
                    for label, key, status in states
                ],
                stacked=True,
            ),
            Chart(
                "tasks-by-assignee",
                _("Call tasks by manager"),
                "bar",
                [names.get(pk, str(_("— not assigned —"))) if pk else str(_("— not assigned —")) for pk in assignees],
                [
                    Series(
                        str(label),
                        [by_assignee[pk][key] for pk in assignees],
                        [_task_url(period, assignee=pk or "none", status=status) for pk in assignees],
                    )
                    for label, key, status in states
                ],
                stacked=True,
                horizontal=True,
            ),
        ],
    )


# --- visit confirmations and follow-ups ------------------------------------------------------------------------------


def share_tile(kind: str, *, success: str, share: tuple[str, str], due: tuple[str, str], status: str = "done"):
    """A tile for one kind of call task due in the period: the share that succeeded (`success`, a count of
    `task_groups`: "done", or "on_time" for done by their day) and how many were due, each beside the previous
    period's. It serves the visit confirmations (done: the client was reached) and the 7-day follow-ups (done by
    their day); drawn with the outbound tile, it costs no query of its own."""
    (share_key, share_label), (due_key, due_label) = share, due

    def compute(user, period: Period) -> TileData:
        counts = dict.fromkeys(("due", "due_before", success, f"{success}_before"), 0)
        for group in task_groups(user, period):
            if group["kind"] == kind:
                for key in counts:
                    counts[key] += group[key]
        return TileData(
            figures=[
                Figure(
                    share_key,
                    share_label,
                    ratio(counts[success], counts["due"]),
                    _task_url(period, kind=kind, status=status),
                    previous=ratio(counts[f"{success}_before"], counts["due_before"]),
                    unit="%",
                ),
                Figure(
                    due_key,
                    due_label,
                    counts["due"],
                    _task_url(period, kind=kind),
                    previous=counts["due_before"],
                    better="",
                ),
            ]
        )

    return compute


confirmation_tile = share_tile(
    CallTask.Kind.CONFIRMATION,
    success="done",
    share=("confirmation-rate", _("Visits confirmed by phone, %")),
    due=("confirmations-due", _("Confirmation calls due")),
)
follow_up_tile = share_tile(
    CallTask.Kind.FOLLOW_UP,
    success="on_time",
    share=("follow-ups-on-time", _("7-day follow-ups done by their day, %")),
    due=("follow-ups-due", _("7-day follow-ups due")),
)


# --- CSI and campaigns -----------------------------------------------------------------------------------------------


def csi_tile(user, period: Period) -> TileData:
    """The period's CSI beside the previous period's; the trend over the 12 months up to the period's end, a month
    without answers a gap."""
    span = SurveyResponse.objects.filter(spanning(period, "answered_at"))
    totals = span.aggregate(
        total=Sum("csi", filter=within(period, "answered_at")),
        scored=Count("csi", filter=within(period, "answered_at")),
        total_before=Sum("csi", filter=within(period.previous(), "answered_at")),
        scored_before=Count("csi", filter=within(period.previous(), "answered_at")),
    )

    def csi(total, scored):
        return round(float(total) / scored, 1) if scored else None

    report = csi_report(now=period.end - timedelta(seconds=1))
    months = report["months"]
    urls = []
    for row in months:
        first = row["month"]
        following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
        urls.append(
            list_url(
                "survey-response-list",
                answered_after=Period("month", first, first).start,
                answered_before=Period("month", following, following).start,
            )
        )
    return TileData(
        figures=[
            Figure(
                "csi",
                _("CSI, %"),
                csi(totals["total"], totals["scored"]),
                list_url("survey-response-list", answered_after=period.start, answered_before=period.end),
                previous=csi(totals["total_before"], totals["scored_before"]),
                unit="%",
            )
        ],
        charts=[
            Chart(
                "csi-trend",
                _("CSI by month"),
                "line",
                [row["month"].strftime("%m.%Y") for row in months],
                [Series(str(_("CSI, %")), [None if r["csi"] is None else float(r["csi"]) for r in months], urls)],
                unit="%",
            )
        ],
    )


def campaign_tile(user, period: Period) -> TileData:
    """Campaigns running, or calling within the period: members called, unreachable, pending, not yet planned."""
    campaigns = list(
        Campaign.objects.filter(starts_on__lte=period.last, ends_on__gte=period.first)
        .exclude(status=Campaign.Status.DRAFT)
        .order_by("-starts_on", "-pk")
        .values_list("pk", "name")[:10]
    )
    progress = campaigns_progress([pk for pk, _name in campaigns])
    urls = [list_url("calls:campaign-detail", pk) for pk, _name in campaigns]

    def series(label, key):
        return Series(str(label), [progress[pk][key] for pk, _name in campaigns], urls)

    return TileData(
        charts=[
            Chart(
                "campaigns",
                _("Campaign progress"),
                "bar",
                [name for _pk, name in campaigns],
                [
                    series(_("Done"), "done"),
                    series(_("Unreachable"), "unreachable"),
                    series(_("Pending"), "pending"),
                    series(_("Not planned yet"), "not_planned"),
                ],
                stacked=True,
                horizontal=True,
            )
        ]
    )


# --- a manager's own figures -----------------------------------------------------------------------------------------


def _managers() -> int:
    return User.objects.filter(is_active=True, role=Role.MANAGER).count() or 1


def own_calls_tile(user, period: Period) -> TileData:
    """Her calls in the period: all, inbound, visit confirmations, follow-ups; beside the department's average per
    manager (the department's totals, never a colleague's own)."""
    # Her own calls whatever her role (the head's own figures count the head's calls); the average is the managers'.
    calls = Call.objects.filter(within(period, "started_at"))
    kinds = {
        "calls": Q(),
        "inbound": Q(direction=Call.Direction.INBOUND),
        "confirmations": Q(purpose=Call.Purpose.CONFIRMATION),
        "follow_ups": Q(purpose=Call.Purpose.FOLLOW_UP),
    }
    managers_calls = Q(manager__role=Role.MANAGER)
    counts = calls.aggregate(
        **{f"mine_{key}": Count("pk", filter=condition & Q(manager=user)) for key, condition in kinds.items()},
        **{f"all_{key}": Count("pk", filter=condition & managers_calls) for key, condition in kinds.items()},
    )
    managers = _managers()
    window = {"manager": user.pk, "started_after": period.start, "started_before": period.end}
    labels = {
        "calls": (_("My calls"), {}),
        "inbound": (_("My inbound calls"), {"direction": "in"}),
        "confirmations": (_("My visit confirmation calls"), {"purpose": "confirmation"}),
        "follow_ups": (_("My follow-up calls"), {"purpose": "follow_up"}),
    }
    return TileData(
        figures=[
            Figure(
                f"my-{key.replace('_', '-')}",
                label,
                counts[f"mine_{key}"],
                list_url("calls:list", **filters, **window),
                average=round(counts[f"all_{key}"] / managers, 1),
            )
            for key, (label, filters) in labels.items()
        ]
    )


def own_queue_tile(user, period: Period) -> TileData:
    """Her queue now: calls due today and overdue, beside the department's average per manager."""
    now = timezone.now()
    today = local_date(now)
    end_of_today = Period.of("today", today).end
    late = Q(next_attempt_at__lt=now - OVERDUE_AFTER)
    mine = (
        CallTask.objects.pending()
        .filter(routable_to(user, today), next_attempt_at__lt=end_of_today)
        .aggregate(due=Count("pk"), overdue=Count("pk", filter=late))
    )
    department = (
        CallTask.objects.pending()
        .filter(next_attempt_at__lt=end_of_today)
        .aggregate(due=Count("pk"), overdue=Count("pk", filter=late))
    )
    managers = _managers()
    return TileData(
        figures=[
            Figure(
                "my-due",
                _("Calls to make today"),
                mine["due"],
                list_url("calls:queue"),
                average=round(department["due"] / managers, 1),
            ),
            Figure(
                "my-overdue",
                _("Overdue"),
                mine["overdue"],
                list_url("calls:queue"),
                average=round(department["overdue"] / managers, 1),
                better=DOWN,
            ),
        ]
    )


def calls_section(user, period: Period) -> TileData:
    """The fixed-form reports' calls: inbound calls and the outbound call tasks' figures (no charts)."""
    return TileData(figures=[*inbound_tile(user, period).figures, *outbound_tile(user, period).figures])


def csi_section(user, period: Period) -> TileData:
    return TileData(figures=csi_tile(user, period).figures)


def register() -> None:
    """Called from CallsConfig.ready()."""
    report_sections.register("calls", Tile("calls", _("Calls"), calls_section, Capability.VIEW_CALLS), order=10)
    report_sections.register(
        "confirmations",
        Tile("confirmations", _("Visit confirmation"), confirmation_tile, Capability.VIEW_CALLS),
        order=30,
    )
    report_sections.register(
        "follow-ups", Tile("follow-ups", _("7-day follow-ups"), follow_up_tile, Capability.VIEW_CALLS), order=50
    )
    report_sections.register(
        "csi", Tile("csi", _("Customer satisfaction (CSI)"), csi_section, Capability.VIEW_CALLS), order=60
    )
    head_tiles.register("inbound", Tile("inbound", _("Inbound calls"), inbound_tile, Capability.VIEW_CALLS), order=10)
    head_tiles.register(
        "outbound", Tile("outbound", _("Outbound calls"), outbound_tile, Capability.VIEW_CALLS), order=20
    )
    head_tiles.register(
        "confirmations",
        Tile("confirmations", _("Visit confirmation"), confirmation_tile, Capability.VIEW_CALLS),
        order=30,
    )
    head_tiles.register(
        "follow-ups", Tile("follow-ups", _("7-day follow-ups"), follow_up_tile, Capability.VIEW_CALLS), order=50
    )
    head_tiles.register("csi", Tile("csi", _("Customer satisfaction (CSI)"), csi_tile, Capability.VIEW_CALLS), order=60)
    head_tiles.register("campaigns", Tile("campaigns", _("Campaigns"), campaign_tile, Capability.VIEW_CALLS), order=70)
    own_tiles.register("my-calls", Tile("my-calls", _("My calls"), own_calls_tile, Capability.LOG_CALLS), order=10)
    own_tiles.register("my-queue", Tile("my-queue", _("My call queue"), own_queue_tile, Capability.LOG_CALLS), order=20)
