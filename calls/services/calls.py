"""Writes to the call log."""

from datetime import datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import User
from accounts.roles import Capability
from bookings.services.bookings import booking_cancel, booking_confirm, booking_reschedule
from calls.events import CallTaskClosed
from calls.models import Call, CallRules, CallTask, TaskCloseReason, TaskOutcome
from calls.selectors import routable_to
from calls.services.planning import clamp_to_window, confirmation_due, follow_up_call_day, next_calling_time
from calls.services.surveys import active_survey, survey_decline, survey_missing_answers, survey_record
from clientdesk import events
from clientdesk.calendar import BusinessCalendar, at, local_date
from clientdesk.errors import Conflict
from clientdesk.timefmt import local_date_text, local_time_text
from clients.models import Client, Delivery, Vehicle
from clients.normalize import normalize_phone


def _e164_or_blank(number: str) -> str:
    try:
        return normalize_phone(number) if number else ""
    except ValidationError:
        # The number as dialled is kept as evidence even when it is not a valid one (a short code, a typo).
        return ""


@transaction.atomic
def call_log(
    *,
    by: User,
    direction: str,
    purpose: str = Call.Purpose.OTHER,
    outcome: str = Call.Outcome.RESOLVED,
    client: Client | None = None,
    vehicle: Vehicle | None = None,
    phone_number: str = "",
    started_at: datetime | None = None,
    duration: int = 0,
    notes: str = "",
    manager: User | None = None,
    task: CallTask | None = None,
) -> Call:
    """Record a call. Without a number, the client's primary phone is taken; a merged client's call goes to the
    client kept."""
    if client is not None:
        while client.merged_into_id:
            client = client.merged_into
    if client is not None and not phone_number:
        primary = client.phones.filter(is_primary=True).first()
        phone_number = primary.number if primary else ""
    call = Call(
        direction=direction,
        purpose=purpose,
        outcome=outcome,
        client=client,
        vehicle=vehicle,
        phone_number=phone_number.strip(),
        phone_e164=_e164_or_blank(phone_number.strip()),
        started_at=started_at or timezone.now(),
        duration=duration,
        notes=notes,
        manager=manager or by,
        task=task,
    )
    call.full_clean()
    call._history_user = by
    call.save()
    return call


@transaction.atomic
def call_update(*, call: Call, by: User, **fields) -> Call:
    """Correct a logged call (notes, outcome, purpose, the client it was with...)."""
    allowed = {
        "direction",
        "purpose",
        "outcome",
        "client",
        "vehicle",
        "phone_number",
        "started_at",
        "duration",
        "notes",
    }
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"call_update cannot set {sorted(unknown)}")
    call = Call.objects.select_for_update().get(pk=call.pk)
    client = fields.get("client")
    if client is not None and client.is_merged:
        raise Conflict(_("This client was merged into %(target)s.") % {"target": client.merged_into}, field="client")
    for name, value in fields.items():
        setattr(call, name, value)
    if "phone_number" in fields:
        call.phone_e164 = _e164_or_blank(call.phone_number)
    call.full_clean()
    call._history_user = by
    call.save()
    return call


# --- outbound call tasks --------------------------------------------------------------------------------------------


_OUTCOMES_BY_KIND = {
    CallTask.Kind.CONFIRMATION: {
        TaskOutcome.CONFIRMED,
        TaskOutcome.RESCHEDULED,
        TaskOutcome.CANCELLED,
        TaskOutcome.CALL_BACK,
        TaskOutcome.NO_ANSWER,
        TaskOutcome.BUSY,
        TaskOutcome.WRONG_NUMBER,
    },
    # "Talked" records the survey's answers; a buyer who will not answer is recorded as such, apart.
    CallTask.Kind.FOLLOW_UP: {
        TaskOutcome.ANSWERED,
        TaskOutcome.SURVEY_DECLINED,
        TaskOutcome.DECLINED,
        TaskOutcome.CALL_BACK,
        TaskOutcome.NO_ANSWER,
        TaskOutcome.BUSY,
        TaskOutcome.WRONG_NUMBER,
    },
}
_GENERAL_OUTCOMES = {
    TaskOutcome.ANSWERED,
    TaskOutcome.DECLINED,
    TaskOutcome.CALL_BACK,
    TaskOutcome.NO_ANSWER,
    TaskOutcome.BUSY,
    TaskOutcome.WRONG_NUMBER,
}
_CALL_PURPOSE = {
    CallTask.Kind.CONFIRMATION: Call.Purpose.CONFIRMATION,
    CallTask.Kind.FOLLOW_UP: Call.Purpose.FOLLOW_UP,
    CallTask.Kind.CAMPAIGN: Call.Purpose.CAMPAIGN,
    CallTask.Kind.CALLBACK: Call.Purpose.OTHER,
    CallTask.Kind.LOANER_RETURN: Call.Purpose.OTHER,
}
# What the logged call says happened: each task outcome keeps its own meaning in the call log.
_CALL_OUTCOME = {
    TaskOutcome.CONFIRMED: Call.Outcome.CONFIRMED,
    TaskOutcome.RESCHEDULED: Call.Outcome.BOOKED,
    TaskOutcome.CANCELLED: Call.Outcome.CANCELLED,
    TaskOutcome.ANSWERED: Call.Outcome.TALKED,
    TaskOutcome.SURVEY_DECLINED: Call.Outcome.TALKED,
    TaskOutcome.DECLINED: Call.Outcome.DECLINED,
    TaskOutcome.CALL_BACK: Call.Outcome.CALLBACK,
    TaskOutcome.NO_ANSWER: Call.Outcome.NO_ANSWER,
    TaskOutcome.BUSY: Call.Outcome.BUSY,
    TaskOutcome.WRONG_NUMBER: Call.Outcome.WRONG_NUMBER,
}
# A task taken but not worked for this long goes back to the queue (the manager closed the tab, the phone died).
CLAIM_TIMEOUT = timedelta(minutes=20)


class TaskClaimed(Conflict):
    """A colleague is working the task right now (a fresh claim); `holder` is who. The department head may take it
    over (`take_over=True`), and the take-over is written in the task's history."""

    def __init__(self, holder: User, *, can_take_over: bool = False):
        message = _("%(user)s is calling this client right now.") % {"user": holder}
        if can_take_over:
            message += " " + _("As the department head you may take the task over.")
        super().__init__(message, field="take_over" if can_take_over else None)
        self.holder = holder
        self.can_take_over = can_take_over


def claim_holder(task: CallTask, *, by: User, now: datetime) -> User | None:
    """The colleague whose fresh claim keeps `by` off the task, or None (unclaimed, by's own, or gone stale)."""
    if task.claimed_by_id in (None, by.pk) or task.claimed_at is None or now - task.claimed_at >= CLAIM_TIMEOUT:
        return None
    return task.claimed_by


def _respect_claim(task: CallTask, *, by: User, now: datetime, take_over: bool) -> str:
    """Refuse a task a colleague is working, unless the head takes it over: then the history reason to record."""
    holder = claim_holder(task, by=by, now=now)
    if holder is None:
        return ""
    can_take_over = by.has_capability(Capability.MANAGE_CALLS)
    if not (take_over and can_take_over):
        raise TaskClaimed(holder, can_take_over=can_take_over)
    return f"taken over from {holder} (id {holder.pk})"


def outcomes_for(kind: str) -> list[TaskOutcome]:
    allowed = _OUTCOMES_BY_KIND.get(kind, _GENERAL_OUTCOMES)
    return [o for o in TaskOutcome if o in allowed]


def _closed_as(task: CallTask) -> str:
    status = str(task.get_status_display())
    return f"{status}: {task.get_closed_reason_display()}" if task.closed_reason else status


def _close(task: CallTask, *, status: str, outcome: str, now) -> None:
    task.status = status
    task.outcome = outcome
    task.closed_at = now
    task.claimed_by = None
    task.claimed_at = None


def _save_task(task: CallTask, *, by: User | None, reason: str = "") -> None:
    task.full_clean(validate_constraints=False)
    task._history_user = by
    if reason:
        task._change_reason = reason
    task.save()


@transaction.atomic
def call_task_work(
    *,
    task: CallTask,
    by: User,
    outcome: str,
    notes: str = "",
    duration: int = 0,
    cancel_reason: str = "",
    new_starts_at: datetime | None = None,
    new_advisor: User | None = None,
    call_back_at: datetime | None = None,
    survey_answers: dict | None = None,
    take_over: bool = False,
) -> CallTask:
    """Log the call that worked a task and do what its outcome means: confirm, move or cancel the booking, record
    the survey, retry later, give up after the last attempt, or flag a wrong number on the client's card. A task a
    colleague is working is refused (TaskClaimed) unless the department head takes it over."""

    # Lock the task row only: PostgreSQL refuses FOR UPDATE on the nullable side of the joins.
    task = (
        CallTask.objects.select_for_update(of=("self",)).select_related("client", "booking", "delivery").get(pk=task.pk)
    )
    if not task.is_pending:
        raise Conflict(_("This call task is already closed (%(status)s).") % {"status": _closed_as(task)})
    if outcome not in outcomes_for(task.kind):
        raise ValidationError(
            {"outcome": _("This outcome does not fit a %(kind)s call.") % {"kind": task.get_kind_display()}}
        )
    now = timezone.now()
    taken_over = _respect_claim(task, by=by, now=now, take_over=take_over)
    rules = CallRules.current()
    errors = {}
    if outcome == TaskOutcome.CANCELLED and not cancel_reason.strip():
        errors["cancel_reason"] = _("Say why the client cancels.")
    if outcome == TaskOutcome.RESCHEDULED and new_starts_at is None:
        errors["new_starts_at"] = _("Pick the new time.")
    if outcome == TaskOutcome.CALL_BACK and (call_back_at is None or call_back_at <= now):
        errors["call_back_at"] = _("When should we call back? Give a time in the future.")
    survey = active_survey() if task.kind == CallTask.Kind.FOLLOW_UP else None
    if survey is not None and outcome == TaskOutcome.ANSWERED:
        errors.update(survey_missing_answers(survey, survey_answers or {}))
    if errors:
        raise ValidationError(errors)

    vehicle = task.booking.vehicle if task.booking_id else (task.delivery.vehicle if task.delivery_id else None)
    call_log(
        by=by,
        client=task.client,
        vehicle=vehicle,
        direction=Call.Direction.OUTBOUND,
        purpose=_CALL_PURPOSE[task.kind],
        outcome=_CALL_OUTCOME[outcome],
        notes=notes,
        duration=duration,
        task=task,
    )
    task.attempts += 1
    label = str(TaskOutcome(outcome).label)
    if outcome in (TaskOutcome.NO_ANSWER, TaskOutcome.BUSY):
        if task.attempts >= rules.max_attempts:
            _close(task, status=CallTask.Status.UNREACHABLE, outcome=label, now=now)
        else:
            calendar = BusinessCalendar()
            task.status, task.outcome = CallTask.Status.OPEN, label
            task.next_attempt_at = next_calling_time(now + timedelta(minutes=rules.retry_minutes), rules, calendar)
            task.claimed_by = task.claimed_at = None
    elif outcome == TaskOutcome.CALL_BACK:
        calendar = BusinessCalendar()
        task.status, task.outcome = CallTask.Status.OPEN, label
        task.next_attempt_at = next_calling_time(call_back_at, rules, calendar)
        task.claimed_by = task.claimed_at = None
    elif outcome == TaskOutcome.WRONG_NUMBER:
        _close(task, status=CallTask.Status.UNREACHABLE, outcome=label, now=now)
        _flag_wrong_number(task.client, by=by, now=now)
    else:
        _close(task, status=CallTask.Status.DONE, outcome=label, now=now)
    _save_task(task, by=by, reason=f"{label}; {taken_over}" if taken_over else label)
    if not task.is_pending:
        events.publish(CallTaskClosed(task_id=task.pk, status=task.status, outcome=outcome, by_id=by.pk))

    # The task is closed first, so the booking's own follow-up of its tasks finds nothing pending to change.
    if task.booking_id and task.booking.is_open:
        if outcome == TaskOutcome.CONFIRMED:
            booking_confirm(booking=task.booking, by=by, note=gettext_noop("on the confirmation call"))
        elif outcome == TaskOutcome.RESCHEDULED:
            moved = booking_reschedule(
                booking=task.booking, by=by, starts_at=new_starts_at, advisor=new_advisor, reason=notes
            )
            booking_confirm(booking=moved, by=by, note=gettext_noop("moved and confirmed on the call"))
        elif outcome == TaskOutcome.CANCELLED:
            booking_cancel(booking=task.booking, by=by, reason=cancel_reason)
    if survey is not None and outcome == TaskOutcome.ANSWERED:
        survey_record(delivery=task.delivery, by=by, answers=survey_answers or {}, survey=survey)
    elif survey is not None and outcome == TaskOutcome.SURVEY_DECLINED:
        survey_decline(delivery=task.delivery, by=by, survey=survey)
    return task


def _flag_wrong_number(client: Client, *, by: User, now) -> None:
    client = Client.objects.select_for_update().get(pk=client.pk)
    primary = client.phones.filter(is_primary=True).first()
    client.data_issue = _("Wrong number reported by %(user)s on %(day)s: %(phone)s") % {
        "user": by,
        "day": local_date_text(now),
        "phone": primary.display if primary else "—",
    }
    client._history_user = by
    client.save(update_fields=["data_issue"])


@transaction.atomic
def call_task_claim(*, task: CallTask, by: User, take_over: bool = False) -> CallTask:
    """Take a task to call now; a colleague's fresh claim is respected (TaskClaimed) unless the department head takes
    it over, which the history records; a stale one is simply taken."""
    task = CallTask.objects.select_for_update(of=("self",)).select_related("claimed_by", "booking").get(pk=task.pk)
    if not task.is_pending:
        raise Conflict(_("This call task is already closed (%(status)s).") % {"status": _closed_as(task)})
    if _close_if_booking_moved_on(task, by=by):
        return task
    now = timezone.now()
    taken_over = _respect_claim(task, by=by, now=now, take_over=take_over)
    task.status, task.claimed_by, task.claimed_at = CallTask.Status.IN_PROGRESS, by, now
    _save_task(task, by=by, reason=taken_over)
    return task


@transaction.atomic
def call_task_claim_next(*, by: User, now=None) -> CallTask | None:
    """The user's next due task, taken so no colleague calls the same client: rows a colleague is taking at this
    very moment are skipped, not waited for."""

    now = now or timezone.now()
    due = CallTask.objects.filter(
        routable_to(by, local_date(now)), status=CallTask.Status.OPEN, next_attempt_at__lte=now
    ).select_related("booking")
    # A call whose visit has moved on meanwhile is closed and skipped (a bounded number per click).
    for _attempt in range(20):
        task = due.order_by("next_attempt_at", "id").select_for_update(skip_locked=True, of=("self",)).first()
        if task is None or not _close_if_booking_moved_on(task, by=by):
            break
    else:
        return None
    if task is None:
        return None
    task.status, task.claimed_by, task.claimed_at = CallTask.Status.IN_PROGRESS, by, now
    _save_task(task, by=by)
    return task


def release_stale_claims(*, now=None, batch_size: int = 500) -> int:
    """Return tasks taken but never worked to the queue, in bounded batches that skip rows being worked."""
    now = now or timezone.now()
    released = 0
    while True:
        with transaction.atomic():
            ids = list(
                CallTask.objects.filter(status=CallTask.Status.IN_PROGRESS, claimed_at__lt=now - CLAIM_TIMEOUT)
                .select_for_update(skip_locked=True)
                .values_list("pk", flat=True)[:batch_size]
            )
            if not ids:
                return released
            released += CallTask.objects.filter(pk__in=ids).update(
                status=CallTask.Status.OPEN, claimed_by=None, claimed_at=None
            )
        if len(ids) < batch_size:
            return released


@transaction.atomic
def call_tasks_reassign(*, task_ids: list[int], to: User, by: User) -> int:
    """The head moves pending tasks to another manager in one go."""
    if not (to.is_active and to.has_capability(Capability.LOG_CALLS)):
        raise ValidationError({"to": _("%(user)s does not make calls.") % {"user": to}})
    tasks = list(CallTask.objects.select_for_update().filter(pk__in=task_ids, status__in=CallTask.PENDING))
    for task in tasks:
        task.assignee = to
        task.claimed_by = task.claimed_at = None
        if task.status == CallTask.Status.IN_PROGRESS:
            task.status = CallTask.Status.OPEN
        _save_task(task, by=by, reason=f"reassigned to {to}")
    return len(tasks)


# What the booking's new state means for its confirmation call, and how the call ends.
_CLOSED_BY_BOOKING = {
    "confirmed": TaskCloseReason.CONFIRMED,
    "arrived": TaskCloseReason.ARRIVED,
    "in_service": TaskCloseReason.ARRIVED,
    "completed": TaskCloseReason.COMPLETED,
    "cancelled": TaskCloseReason.CANCELLED,
    "no_show": TaskCloseReason.NO_SHOW,
}
_CLOSED_STATUS = {
    TaskCloseReason.CONFIRMED: CallTask.Status.DONE,
    TaskCloseReason.ARRIVED: CallTask.Status.DONE,
    TaskCloseReason.COMPLETED: CallTask.Status.DONE,
    TaskCloseReason.CANCELLED: CallTask.Status.CANCELLED,
    TaskCloseReason.NO_SHOW: CallTask.Status.CANCELLED,
}

# The task history's reason (kept in English, like every change reason the services record).
_HISTORY_REASON = {
    TaskCloseReason.CONFIRMED: "booking confirmed",
    TaskCloseReason.ARRIVED: "client arrived",
    TaskCloseReason.COMPLETED: "visit completed",
    TaskCloseReason.CANCELLED: "booking cancelled",
    TaskCloseReason.NO_SHOW: "client did not come",
}


def _close_if_booking_moved_on(task: CallTask, *, by: User | None) -> bool:
    """Close a pending confirmation call whose booking is no longer waiting for one (confirmed, cancelled, the client
    came…), with the reason; True if it was. The booking's event normally does this; this catches a task a planner
    inserted while the visit was being cancelled (the handler, running first, found no task to close)."""
    if task.kind != CallTask.Kind.CONFIRMATION or task.booking_id is None or not task.is_pending:
        return False
    reason = _CLOSED_BY_BOOKING.get(task.booking.status)
    if reason is None:
        return False
    _close(task, status=_CLOSED_STATUS[reason], outcome=str(reason.label), now=timezone.now())
    task.closed_reason = reason
    _save_task(task, by=by, reason=_HISTORY_REASON[reason])
    return True


def call_tasks_follow_booking(*, booking, by: User | None) -> None:
    """Keep a booking's confirmation task in step with it: a moved booking moves (or reopens) its call; one confirmed
    another way closes it; a cancelled or missed one cancels it; once the client has come (arrived, in service,
    completed) there is nothing left to confirm."""
    task = CallTask.objects.select_for_update().filter(kind=CallTask.Kind.CONFIRMATION, booking=booking).first()
    if task is None:
        return
    now = timezone.now()
    status = booking.status
    if status == booking.Status.SCHEDULED:
        visit_day = local_date(booking.starts_at)
        due = confirmation_due(visit_day, CallRules.current(), BusinessCalendar())
        if task.due_at == due and task.is_pending:
            return
        task.due_at = task.next_attempt_at = due
        if not task.is_pending:
            task.status, task.closed_at, task.outcome, task.attempts = CallTask.Status.OPEN, None, "", 0
            task.closed_reason = ""
        _save_task(task, by=by, reason="booking moved")
    elif not task.is_pending:
        return
    elif (reason := _CLOSED_BY_BOOKING.get(status)) is not None:
        _close(task, status=_CLOSED_STATUS[reason], outcome=str(reason.label), now=now)
        task.closed_reason = reason
        _save_task(task, by=by, reason=_HISTORY_REASON[reason])


def call_tasks_follow_delivery(*, delivery: Delivery, by: User | None) -> None:
    """A corrected handover moves its planned follow-up (not yet tried) and gives it to the right buyer."""
    task = (
        CallTask.objects.select_for_update()
        .filter(kind=CallTask.Kind.FOLLOW_UP, delivery=delivery, status__in=CallTask.PENDING)
        .first()
    )
    if task is None:
        return
    changed = []
    if task.client_id != delivery.client_id:
        task.client_id = delivery.client_id
        changed.append("client")
    if task.attempts == 0:
        rules = CallRules.current()
        due = clamp_to_window(at(follow_up_call_day(delivery, rules=rules), rules.calling_from), rules)
        if task.due_at != due:
            task.due_at = task.next_attempt_at = due
            changed += ["due_at", "next_attempt_at"]
    if changed:
        task._history_user = by
        task._change_reason = "delivery corrected"
        task.save(update_fields=changed)


# --- the call rules (one row) -------------------------------------------------------------------------------------

RULE_FIELDS = (
    "calling_from",
    "calling_until",
    "confirmation_hour",
    "follow_up_day",
    "retry_minutes",
    "max_attempts",
    "planner_catch_up_days",
)
# Bounds the database does not hold but the planners rely on: a catch-up window of 0 would lose a day of missed
# beats; a very long one makes every beat look back over months.
RULE_BOUNDS = {
    "follow_up_day": (1, 60),
    "retry_minutes": (5, 24 * 60),
    "max_attempts": (1, 20),
    "planner_catch_up_days": (1, 60),
}


def _hhmm(value: time) -> str:
    return local_time_text(value)


@transaction.atomic
def call_rules_update(*, by: User, **fields) -> CallRules:
    """The head changes the department's call rules; every refusal names its field. Tasks already planned keep
    their times; planning, retries and the calling window follow the new rules from now on."""
    unknown = set(fields) - set(RULE_FIELDS)
    if unknown:
        raise TypeError(f"call_rules_update cannot set {sorted(unknown)}")
    rules = CallRules.objects.select_for_update().get(pk=CallRules.current().pk)
    for name, value in fields.items():
        setattr(rules, name, value)
    errors: dict[str, str] = {}
    for name, (low, high) in RULE_BOUNDS.items():
        value = getattr(rules, name)
        if value is None or not low <= value <= high:
            errors[name] = _("From %(low)d to %(high)d.") % {"low": low, "high": high}
    if rules.calling_from >= rules.calling_until:
        errors["calling_until"] = _("The calling window must close after it opens.")
    elif not rules.calling_from <= rules.confirmation_hour < rules.calling_until:
        errors["confirmation_hour"] = _("Confirmation calls start inside the calling window (%(from)s–%(until)s).") % {
            "from": _hhmm(rules.calling_from),
            "until": _hhmm(rules.calling_until),
        }
    if errors:
        raise ValidationError(errors)
    rules.full_clean()
    rules._history_user = by
    rules.save()
    return rules
