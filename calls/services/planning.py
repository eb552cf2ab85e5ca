"""The planners beat runs every few minutes: they turn bookings, deliveries and campaigns into call tasks.

Each planner is one `INSERT … SELECT … ON CONFLICT DO NOTHING` per day it covers, so the database does the work and
the unique constraints on (kind, what the task is for) make a second beat, a retry, a replay or a concurrent planner
harmless. Every run looks back `planner_catch_up_days`, so a day of missed beats is caught up on the next run: the
tasks are created overdue, none lost. New tasks are then dealt round-robin to the managers on duty.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from accounts.models import Absence, User
from accounts.roles import Role
from bookings.models import Booking
from calls.models import CallRules, CallTask, Campaign, CampaignMember
from clientdesk.calendar import BusinessCalendar, at, day_bounds, local_date
from clientdesk.models import Heartbeat
from clients.models import Client, Delivery

TASK = CallTask._meta.db_table
PENDING_SQL = "('open', 'in_progress')"


def clamp_to_window(moment: datetime, rules: CallRules) -> datetime:
    """The same day's calling window: before it opens → when it opens; after it closes → its last minute."""
    day = local_date(moment)
    opens, closes = at(day, rules.calling_from), at(day, rules.calling_until)
    return min(max(moment, opens), closes)


def next_calling_time(after: datetime, rules: CallRules, calendar: BusinessCalendar) -> datetime:
    """The first moment at or after `after` inside the calling window of a working day."""
    day = local_date(after)
    if calendar.is_working_day(day):
        opens, closes = at(day, rules.calling_from), at(day, rules.calling_until)
        if after < opens:
            return opens
        if after < closes:
            return after
    return at(calendar.next_working_day(day), rules.calling_from)


def confirmation_due(visit_day: date, rules: CallRules, calendar: BusinessCalendar) -> datetime:
    """From the configured hour of the working day before the visit, inside the calling window."""
    return clamp_to_window(at(calendar.previous_working_day(visit_day), rules.confirmation_hour), rules)


def follow_up_day(delivered_on: date, rules: CallRules, calendar: BusinessCalendar) -> date:
    """The follow-up-th day after the handover, or the next working day when that one is not."""
    return calendar.next_working_day(delivered_on + timedelta(days=rules.follow_up_day), include=True)


def follow_up_call_day(delivery: Delivery, *, rules: CallRules | None = None) -> date:
    """The day the buyer of this handover gets the follow-up call, by the department's rules and calendar."""
    rules = rules or CallRules.current()
    delivered_on = local_date(delivery.delivered_at)
    calendar = BusinessCalendar()
    return follow_up_day(delivered_on, rules, calendar)


# A "plan soon" request: the marker row holds when one was queued; the run clears it when it starts. While a
# request is pending (or was queued less than this long ago and its message lost), further requests send nothing.
PLAN_SOON_MARKER = "plan-calls-requested"
PLAN_SOON_EXPIRES = timedelta(minutes=2)
NEVER = datetime(2000, 1, 1, tzinfo=UTC)


def planning_request_soon(*, visit_at: datetime) -> bool:
    """Whether to queue a planner run right away: the visit is close enough to need its confirmation call already
    (booked late for the next working day; the beat plans the rest) and no request is pending. At most one request
    is pending at a time, so a burst of bookings queues one run, not hundreds; the caller queues it with
    `PLAN_SOON_EXPIRES` as its expiry."""
    today = local_date(timezone.now())
    if local_date(visit_at) > BusinessCalendar().next_working_day(today):
        return False
    now = timezone.now()
    Heartbeat.objects.get_or_create(name=PLAN_SOON_MARKER, defaults={"beat_at": NEVER})
    stale = Heartbeat.objects.filter(name=PLAN_SOON_MARKER, beat_at__lt=now - PLAN_SOON_EXPIRES)
    return bool(stale.update(beat_at=now))


def planning_request_taken() -> None:
    """A planner run has started: the next booking that needs one may queue another."""
    Heartbeat.objects.filter(name=PLAN_SOON_MARKER).update(beat_at=NEVER)


def _db(value):
    """A parameter as the backend stores it (SQLite keeps datetimes as UTC text, so an aware one must be converted)."""
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, date):
        return connection.ops.adapt_datefield_value(value)
    return value


def _insert(sql: str, params: list) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, [_db(p) for p in params])
        return max(cursor.rowcount, 0)


_COLUMNS = (
    "kind, client_id, booking_id, delivery_id, campaign_member_id, due_at, next_attempt_at, status, attempts, "
    "outcome, note, created_at"
)


def plan_confirmations(*, now: datetime, rules: CallRules, calendar: BusinessCalendar) -> int:
    """A confirmation task for every scheduled booking whose confirmation day has come (today's and the next
    working day's visits, so a planner that was down yesterday still gets today's visits called). A visit booked on
    its own day has no day before to be confirmed on: the client has just spoken to us, and gets no call."""
    today = local_date(now)
    last_day = calendar.next_working_day(today)
    created = 0
    day = today
    while day <= last_day:
        if calendar.is_working_day(day):
            start, end = day_bounds(day)
            due = confirmation_due(day, rules, calendar)
            created += _insert(
                f"""INSERT INTO {TASK} ({_COLUMNS})
                SELECT 'confirmation', b.client_id, b.id, NULL, NULL, %s, %s, 'open', 0, '', '', %s
                FROM {Booking._meta.db_table} b
                WHERE b.starts_at >= %s AND b.starts_at < %s AND b.status = 'scheduled' AND b.created_at < %s
                ON CONFLICT DO NOTHING""",
                [due, due, now, max(start, now), end, start],
            )
        day += timedelta(days=1)
    return created


def plan_follow_ups(*, now: datetime, rules: CallRules, calendar: BusinessCalendar) -> int:
    """A follow-up task for every delivery whose call day has come, looking back `planner_catch_up_days`."""
    today = local_date(now)
    created = 0
    for offset in range(rules.planner_catch_up_days + 1):
        call_day = today - timedelta(days=offset)
        if not calendar.is_working_day(call_day):
            continue
        # Handovers whose follow-up falls on call_day: the follow-up-th day before it and, when that day or the
        # ones before it were days off, the days whose call was moved forward onto call_day.
        delivered_days = []
        candidate = call_day - timedelta(days=rules.follow_up_day)
        while follow_up_day(candidate, rules, calendar) == call_day:
            delivered_days.append(candidate)
            candidate -= timedelta(days=1)
        if not delivered_days:
            continue
        start, _end = day_bounds(min(delivered_days))
        _start, end = day_bounds(max(delivered_days))
        due = clamp_to_window(at(call_day, rules.calling_from), rules)
        created += _insert(
            f"""INSERT INTO {TASK} ({_COLUMNS})
            SELECT 'follow_up', d.client_id, NULL, d.id, NULL, %s, %s, 'open', 0, '', '', %s
            FROM {Delivery._meta.db_table} d
            WHERE d.delivered_at >= %s AND d.delivered_at < %s
            ON CONFLICT DO NOTHING""",
            [due, due, now, start, end],
        )
    return created


def plan_campaign_calls(*, now: datetime, rules: CallRules, calendar: BusinessCalendar) -> int:
    """Tasks for running campaigns' members whose planned day has come, if the client still consents."""
    today = local_date(now)
    due = next_calling_time(clamp_to_window(at(today, rules.calling_from), rules), rules, calendar)
    # A head cancelling the campaign at this moment waits for the planner (or the planner for them): no open call is
    # created for a campaign already cancelled. SQLite serialises writers anyway.
    campaign_lock = "FOR SHARE OF c" if connection.vendor == "postgresql" else ""
    return _insert(
        f"""INSERT INTO {TASK} ({_COLUMNS})
        SELECT 'campaign', m.client_id, NULL, NULL, m.id, %s, %s, 'open', 0, '', '', %s
        FROM {CampaignMember._meta.db_table} m
        JOIN {Campaign._meta.db_table} c ON c.id = m.campaign_id
        JOIN {Client._meta.db_table} cl ON cl.id = m.client_id
        WHERE c.status = 'running' AND m.planned_for <= %s AND m.planned_for >= %s
          AND cl.consent_marketing AND cl.merged_into_id IS NULL
          {campaign_lock}
        ON CONFLICT DO NOTHING""",
        [due, due, now, today, today - timedelta(days=rules.planner_catch_up_days)],
    )


def managers_on_duty(day: date) -> list[int]:
    """Active managers not away on `day`, least loaded first (fewest pending tasks), so each run's dealing starts
    where the work is lightest."""
    absent = Absence.objects.on(day).values("user_id")
    pending = Count("call_tasks", filter=Q(call_tasks__status__in=CallTask.PENDING))
    managers = User.objects.filter(role=Role.MANAGER, is_active=True).exclude(pk__in=absent).annotate(load=pending)
    return list(managers.order_by("load", "pk").values_list("pk", flat=True))


def assign_new_tasks(*, now: datetime) -> int:
    """Deal unassigned pending tasks round-robin to the managers on duty today, in the order they were created.

    The position comes from row_number(), not the id: INSERT … ON CONFLICT uses up sequence values for the rows it
    skips, so ids have gaps that would send every task of a run to one manager."""
    managers = managers_on_duty(local_date(now))
    if not managers:
        return 0
    cases = " ".join(f"WHEN {i} THEN {pk}" for i, pk in enumerate(managers))
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE {TASK} SET assignee_id = CASE dealt.position %% %s {cases} END
            FROM (
                SELECT id, row_number() OVER (ORDER BY id) - 1 AS position FROM {TASK}
                WHERE assignee_id IS NULL AND status IN {PENDING_SQL}
            ) AS dealt
            WHERE {TASK}.id = dealt.id""",
            [len(managers)],
        )
        return max(cursor.rowcount, 0)


@dataclass
class PlanningRun:
    confirmations: int = 0
    follow_ups: int = 0
    campaign_calls: int = 0
    assigned: int = 0

    @property
    def created(self) -> int:
        return self.confirmations + self.follow_ups + self.campaign_calls


def run_planners(*, now: datetime | None = None) -> PlanningRun:
    """All planners in one transaction: a crash half-way leaves nothing half-planned, and the next run redoes it."""
    now = now or timezone.now()
    rules = CallRules.current()
    calendar = BusinessCalendar()
    with transaction.atomic():
        run = PlanningRun(
            confirmations=plan_confirmations(now=now, rules=rules, calendar=calendar),
            follow_ups=plan_follow_ups(now=now, rules=rules, calendar=calendar),
            campaign_calls=plan_campaign_calls(now=now, rules=rules, calendar=calendar),
        )
        run.assigned = assign_new_tasks(now=now)
    return run
