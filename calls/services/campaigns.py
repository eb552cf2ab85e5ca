"""Marketing campaigns the head runs: the segment of consenting clients, launch, cancel, finish, progress.

Writes (keyword-only, transactional, the author kept in the campaign's history):
    campaign_create(*, by, name, script, segment, starts_on, ends_on) -> Campaign
    campaign_update(*, campaign, by, **fields) -> Campaign        only while a draft
    campaign_launch(*, campaign, by, now=None) -> Campaign         members in one INSERT … SELECT; idempotent
    campaign_cancel(*, campaign, by, now=None) -> Campaign         its pending call tasks are cancelled too
    campaign_finish(*, campaign, by, now=None) -> Campaign         once every call is made
    campaigns_finish_complete(*, now=None) -> int                  for a periodic job: finishes what is complete

Reads:
    segment_clean(segment) -> dict                                 the validated segment, or a ValidationError
    campaign_segment_queryset(segment, *, now=None) -> QuerySet[Client]
    campaign_preview_count(segment, *, now=None) -> int
    campaigns_progress(ids) -> {id: progress}, campaign_progress(campaign) -> progress    one aggregate query
    campaign_members(campaign) -> QuerySet[CampaignMember]
    segment_summary(segment) -> [(label, value)]
    CampaignFilter                                                 the list's filters, shared by the page and the API

Members are a snapshot taken at launch; whether a member is actually called is decided again on the day by the
planner (`calls.planning.plan_campaign_calls`), which skips clients who have withdrawn their marketing consent since.
"""

from datetime import date, datetime, time, timedelta

import django_filters as filters
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from bookings.models import Booking
from bookings.selectors.recalls import open_recall_vins
from calls.models import CallRules, CallTask, Campaign, CampaignMember, TaskOutcome
from clientdesk.calendar import BusinessCalendar, at, local_date
from clientdesk.errors import Conflict
from clientdesk.forms import StyledForm
from clientdesk.timefmt import local_date_text
from clients.models import Client, Vehicle

CAMPAIGN_FIELDS = frozenset({"name", "script", "segment", "starts_on", "ends_on"})
# A campaign is spread over at most this many calendar days: a year covers any promotion, and it bounds the list of
# days the launch statement carries.
MAX_CAMPAIGN_DAYS = 366
MAX_MONTHS_SINCE_VISIT = 120
YEAR_RANGE = (1950, 2100)

SEGMENT_LABELS = {
    "make": gettext_lazy("Make"),
    "model": gettext_lazy("Model"),
    "year_from": gettext_lazy("Model year from"),
    "year_to": gettext_lazy("Model year to"),
    "months_since_visit": gettext_lazy("Months since the last visit"),
    "open_recall": gettext_lazy("Open recall on a car"),
    "delivered_here": gettext_lazy("Has a car bought here"),
}
SEGMENT_KEYS = frozenset(SEGMENT_LABELS)
_TEXT_LIMITS = {
    "make": Vehicle._meta.get_field("make").max_length,
    "model": Vehicle._meta.get_field("model").max_length,
}


# --- the segment ----------------------------------------------------------------------------------------------------


def _as_int(value, *, key: str, low: int, high: int, errors: dict) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):  # True is an int to Python, never a year to a person
        errors[key] = _("Give a whole number.")
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        errors[key] = _("Give a whole number.")
        return None
    if not low <= number <= high:
        errors[key] = _("From %(low)d to %(high)d.") % {"low": low, "high": high}
        return None
    return number


def _as_bool(value, *, key: str, errors: dict) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in ("true", "yes", "1"):
        return True
    if word in ("false", "no", "0"):
        return False
    errors[key] = _("Answer yes or no.")
    return None


def segment_clean(segment) -> dict:
    """The segment with only the filters set, in their proper types; unknown keys and impossible values refused.

    Keys: make, model (text, case-insensitive), year_from, year_to (the car's model year), months_since_visit (no
    completed visit within that many months; clients who never came count too), open_recall and delivered_here
    (yes/no). Errors are keyed by the filter's name, so a form shows each beside its field.
    """
    if segment is None:
        return {}
    if not isinstance(segment, dict):
        raise ValidationError({"segment": _("The segment must be a set of named filters.")})
    unknown = sorted(str(key) for key in set(segment) - SEGMENT_KEYS)
    if unknown:
        raise ValidationError({"segment": _("Unknown filters: %(keys)s.") % {"keys": ", ".join(unknown)}})
    errors: dict[str, str] = {}
    clean: dict = {}
    for key, limit in _TEXT_LIMITS.items():
        value = segment.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            errors[key] = _("Give text.")
            continue
        value = " ".join(value.split())
        if len(value) > limit:
            errors[key] = _("At most %(limit)d characters.") % {"limit": limit}
        elif value:
            clean[key] = value
    for key in ("year_from", "year_to"):
        number = _as_int(segment.get(key), key=key, low=YEAR_RANGE[0], high=YEAR_RANGE[1], errors=errors)
        if number is not None:
            clean[key] = number
    months = _as_int(
        segment.get("months_since_visit"), key="months_since_visit", low=1, high=MAX_MONTHS_SINCE_VISIT, errors=errors
    )
    if months is not None:
        clean["months_since_visit"] = months
    for key in ("open_recall", "delivered_here"):
        flag = _as_bool(segment.get(key), key=key, errors=errors)
        if flag is not None:
            clean[key] = flag
    if "year_from" in clean and "year_to" in clean and clean["year_from"] > clean["year_to"]:
        errors["year_to"] = _("The last year comes after the first one.")
    if errors:
        raise ValidationError(errors)
    return clean


def _months_before(day: date, months: int) -> date:
    """The same day of the month `months` earlier (the month's last day when it is shorter)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    following = date(year + (month == 12), month % 12 + 1, 1)
    return date(year, month, min(day.day, (following - timedelta(days=1)).day))


def campaign_segment_queryset(segment, *, now: datetime | None = None) -> QuerySet:
    """Clients the segment selects: active (not merged away), consenting to marketing, and matching every filter set.

    make, model and the year range describe one car the client owns; "open recall" and "bought here" ask whether any
    of the client's cars has one; "months since the last visit" means no completed visit within that many months.
    """
    segment = segment_clean(segment)
    clients = Client.objects.active().filter(consent_marketing=True)
    car = {}
    if "make" in segment:
        car["make__iexact"] = segment["make"]
    if "model" in segment:
        car["model__iexact"] = segment["model"]
    if "year_from" in segment:
        car["year__gte"] = segment["year_from"]
    if "year_to" in segment:
        car["year__lte"] = segment["year_to"]
    if car:
        clients = clients.filter(Exists(Vehicle.objects.filter(owner=OuterRef("pk"), **car)))
    if "delivered_here" in segment:
        bought_here = Exists(Vehicle.objects.filter(owner=OuterRef("pk"), delivered_at__isnull=False))
        clients = clients.filter(bought_here if segment["delivered_here"] else ~bought_here)
    if "open_recall" in segment:
        # "Open" is what the booking form and the arrival board call open: the recall runs today, the work not done.
        recalled_car = Vehicle.objects.filter(owner=OuterRef("pk")).filter(
            Exists(open_recall_vins().filter(vin=OuterRef("vin")))
        )
        has_recall = Exists(recalled_car.exclude(vin=""))
        clients = clients.filter(has_recall if segment["open_recall"] else ~has_recall)
    if "months_since_visit" in segment:
        today = local_date(now or timezone.now())
        since = at(_months_before(today, segment["months_since_visit"]), time.min)
        recent = Booking.objects.filter(client=OuterRef("pk"), status=Booking.Status.COMPLETED, starts_at__gte=since)
        clients = clients.filter(~Exists(recent))
    return clients


def campaign_preview_count(segment, *, now: datetime | None = None) -> int:
    """How many clients the segment selects right now: the figure the head sees before launching."""
    return campaign_segment_queryset(segment, now=now).count()


def segment_summary(segment: dict) -> list[tuple[str, str]]:
    """The segment for people: (label, value) for each filter set, in the form's order."""
    rows = []
    for key, label in SEGMENT_LABELS.items():
        if key not in segment:
            continue
        value = segment[key]
        if isinstance(value, bool):
            value = _("yes") if value else _("no")
        rows.append((str(label), str(value)))
    return rows


# --- writes ---------------------------------------------------------------------------------------------------------


def _check_fields(fields: dict) -> None:
    unknown = set(fields) - CAMPAIGN_FIELDS
    if unknown:
        raise TypeError(f"campaign_update cannot set {sorted(unknown)}")


def _check(campaign: Campaign, *, today: date) -> None:
    errors = {}
    if campaign.starts_on and campaign.ends_on:
        if campaign.ends_on < campaign.starts_on:
            errors["ends_on"] = _("The campaign must start before it ends.")
        elif (campaign.ends_on - campaign.starts_on).days >= MAX_CAMPAIGN_DAYS:
            errors["ends_on"] = _("A campaign lasts at most %(days)d days.") % {"days": MAX_CAMPAIGN_DAYS}
        elif campaign.ends_on < today:
            errors["ends_on"] = _("This day has passed: the campaign would have no day left to call.")
    if errors:
        raise ValidationError(errors)
    campaign.full_clean()


def _save(campaign: Campaign, *, by: User | None, fields: list[str] | None = None, reason: str = "") -> None:
    campaign._history_user = by
    if reason:
        campaign._change_reason = reason
    campaign.save(update_fields=fields)


@transaction.atomic
def campaign_create(
    *, by: User, name: str, script: str, segment: dict | None, starts_on: date, ends_on: date
) -> Campaign:
    """A draft campaign: nobody is called until it is launched."""
    campaign = Campaign(
        name=(name or "").strip(),
        script=(script or "").strip(),
        segment=segment_clean(segment),
        starts_on=starts_on,
        ends_on=ends_on,
        created_by=by,
    )
    _check(campaign, today=local_date(timezone.now()))
    _save(campaign, by=by)
    return campaign


@transaction.atomic
def campaign_update(*, campaign: Campaign, by: User, **fields) -> Campaign:
    """Change any of name, script, segment, starts_on, ends_on; only a draft can change (a launched campaign's
    members were chosen by its segment and dates, and its script is what the managers have been reading)."""
    _check_fields(fields)
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status != Campaign.Status.DRAFT:
        raise Conflict(_("Only a draft campaign can be changed; this one is %(status)s.") % _status(campaign))
    if "segment" in fields:
        fields["segment"] = segment_clean(fields["segment"])
    for name in ("name", "script"):
        if name in fields:
            fields[name] = (fields[name] or "").strip()
    for name, value in fields.items():
        setattr(campaign, name, value)
    _check(campaign, today=local_date(timezone.now()))
    _save(campaign, by=by)
    return campaign


def _status(campaign: Campaign) -> dict:
    return {"status": campaign.get_status_display().lower()}


def _calling_days(campaign: Campaign, *, now: datetime) -> list[date]:
    """The working days left between the campaign's dates: from today (tomorrow once today's calling window has
    closed), so no member is planned for a day already gone."""
    today = local_date(now)
    if now >= at(today, CallRules.current().calling_until):
        today += timedelta(days=1)
    first = max(campaign.starts_on, today)
    if campaign.ends_on < first:
        raise ValidationError({"ends_on": _("The campaign's last day has passed; move its dates.")})
    calendar = BusinessCalendar()
    days = [hours.day for hours in calendar.working_days(first, campaign.ends_on)]
    if not days:
        message = _("There is no working day between %(first)s and %(last)s; move the campaign's dates.") % {
            "first": local_date_text(first),
            "last": local_date_text(campaign.ends_on),
        }
        raise ValidationError({"ends_on": message})
    return days


def _db(value):
    return connection.ops.adapt_datefield_value(value) if isinstance(value, date) else value


def _insert_members(campaign: Campaign, clients: QuerySet, days: list[date]) -> int:
    """Every client of the segment as a member, in one INSERT … SELECT: the i-th of n clients (by id) is planned
    for day ⌊i·k/n⌋ of the k calling days, so each day gets the same share (±1). The unique (campaign, client)
    constraint makes a repeated statement add nothing."""
    quote = connection.ops.quote_name
    # Named explicitly: SQLite does not call a subquery's bare "table"."id" column s.id.
    selected_sql, selected_params = clients.order_by().values(client_id=F("pk")).query.sql_with_params()
    day_rows = ", ".join(["(%s, %s)"] * len(days))
    day_params = [p for index, day in enumerate(days) for p in (index, _db(day))]
    member = CampaignMember._meta
    columns = ", ".join(quote(member.get_field(name).column) for name in ("campaign", "client", "planned_for"))
    # The statement starts with INSERT (not WITH) so that SQLite reports the rows it added; and SQLite would read
    # "ON CONFLICT" right after a JOIN as the join's constraint, hence the WHERE.
    sql = (
        f"INSERT INTO {quote(member.db_table)} ({columns}) "  # noqa: S608 - table and column names from the models
        f"WITH days (idx, day) AS (VALUES {day_rows}), "
        f"chosen AS (SELECT s.client_id, ROW_NUMBER() OVER (ORDER BY s.client_id) - 1 AS rn, COUNT(*) OVER () AS total "
        f"FROM ({selected_sql}) s) "
        f"SELECT %s, chosen.client_id, days.day FROM chosen JOIN days ON days.idx = (chosen.rn * %s) / chosen.total "
        f"WHERE 1 = 1 ON CONFLICT DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*day_params, *selected_params, campaign.pk, len(days)])
        return max(cursor.rowcount, 0)


@transaction.atomic
def campaign_launch(*, campaign: Campaign, by: User, now: datetime | None = None) -> Campaign:
    """Choose the members (the segment's clients who consent to marketing today) and spread their calls evenly over
    the working days left; the campaign then runs. Launching a running campaign again changes nothing.

    On the answer, `members_added` says how many members this call added (0 when it was already running) and
    `calling_days` lists the days their calls were spread over.
    """
    now = now or timezone.now()
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    campaign.members_added, campaign.calling_days = 0, []
    if campaign.status == Campaign.Status.RUNNING:
        return campaign
    if campaign.status != Campaign.Status.DRAFT:
        raise Conflict(_("A campaign that is %(status)s cannot be launched.") % _status(campaign))
    days = _calling_days(campaign, now=now)
    added = _insert_members(campaign, campaign_segment_queryset(campaign.segment, now=now), days)
    if not added:
        raise ValidationError({"segment": _("No client who consents to marketing matches this segment.")})
    campaign.status = Campaign.Status.RUNNING
    campaign.launched_at = now
    _save(campaign, by=by, fields=["status", "launched_at"], reason="launched")
    campaign.members_added, campaign.calling_days = added, days
    return campaign


@transaction.atomic
def campaign_cancel(*, campaign: Campaign, by: User, now: datetime | None = None) -> Campaign:
    """Stop the campaign: its pending calls are cancelled and no more are planned (the planner takes running
    campaigns only). Cancelling again changes nothing; a finished campaign stays finished."""
    now = now or timezone.now()
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status == Campaign.Status.CANCELLED:
        return campaign
    if campaign.status == Campaign.Status.FINISHED:
        raise Conflict(_("This campaign has finished; there is nothing left to cancel."))
    # One UPDATE, not a save per task: a campaign may have thousands of open calls. A manager on one of these calls
    # holds its row lock; the update waits for it and then skips the task if the call was logged meanwhile.
    CallTask.objects.filter(campaign_member__campaign=campaign, status__in=CallTask.PENDING).update(
        status=CallTask.Status.CANCELLED,
        closed_at=now,
        outcome=_("Campaign cancelled"),
        claimed_by=None,
        claimed_at=None,
    )
    campaign.status = Campaign.Status.CANCELLED
    _save(campaign, by=by, fields=["status"], reason="cancelled")
    return campaign


def _complete(campaigns: QuerySet, *, today: date) -> QuerySet:
    """Running campaigns whose every call is made: the last day has passed, no call is pending, and every member
    who still consents has had a task (a member who withdrew consent is never called)."""
    pending = CallTask.objects.filter(campaign_member__campaign=OuterRef("pk"), status__in=CallTask.PENDING)
    unplanned = CampaignMember.objects.filter(
        campaign=OuterRef("pk"),
        task__isnull=True,
        client__consent_marketing=True,
        client__merged_into__isnull=True,
    )
    return (
        campaigns.filter(status=Campaign.Status.RUNNING, ends_on__lt=today)
        .exclude(Exists(pending))
        .exclude(Exists(unplanned))
    )


@transaction.atomic
def campaign_finish(*, campaign: Campaign, by: User | None, now: datetime | None = None) -> Campaign:
    """Mark a running campaign finished once every call has been made (see `_complete`)."""
    today = local_date(now or timezone.now())
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status == Campaign.Status.FINISHED:
        return campaign
    if campaign.status != Campaign.Status.RUNNING:
        raise Conflict(_("Only a running campaign can finish; this one is %(status)s.") % _status(campaign))
    if not _complete(Campaign.objects.filter(pk=campaign.pk), today=today).exists():
        raise Conflict(_("Calls of this campaign are still to be made; it finishes after its last day."))
    campaign.status = Campaign.Status.FINISHED
    _save(campaign, by=by, fields=["status"], reason="finished")
    return campaign


def campaigns_finish_complete(*, now: datetime | None = None) -> int:
    """Finish every running campaign whose calls are all made; safe to run as often as wanted."""
    now = now or timezone.now()
    finished = 0
    for pk in _complete(Campaign.objects.all(), today=local_date(now)).values_list("pk", flat=True):
        try:
            campaign_finish(campaign=Campaign(pk=pk), by=None, now=now)
        except Conflict:
            continue  # a call was planned or reopened meanwhile: the next run looks again
        finished += 1
    return finished


# --- reads ----------------------------------------------------------------------------------------------------------


def _labels(outcome: TaskOutcome) -> list[str]:
    """A task keeps its outcome as the label shown to the manager who logged it, in that manager's language."""
    labels = set()
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            labels.add(str(outcome.label))
    return sorted(labels)


def campaigns_progress(ids) -> dict[int, dict]:
    """Progress of each campaign, by id, in one aggregate query however many campaigns are asked about.

    members: chosen at launch; planned: call tasks made so far; pending/done/unreachable/cancelled: those tasks by
    status; answered/declined: done calls where the client talked, or said no; not_planned: members without a task
    (their day has not come, or they withdrew consent); closed and percent: closed tasks, and their share of members.
    """
    ids = list(ids)
    task = "task__status"
    rows = (
        CampaignMember.objects.filter(campaign_id__in=ids)
        .values("campaign_id")
        .annotate(
            members=Count("pk"),
            planned=Count("task"),
            pending=Count("task", filter=Q(**{f"{task}__in": CallTask.PENDING})),
            done=Count("task", filter=Q(**{task: CallTask.Status.DONE})),
            unreachable=Count("task", filter=Q(**{task: CallTask.Status.UNREACHABLE})),
            cancelled=Count("task", filter=Q(**{task: CallTask.Status.CANCELLED})),
            answered=Count(
                "task", filter=Q(**{task: CallTask.Status.DONE}, task__outcome__in=_labels(TaskOutcome.ANSWERED))
            ),
            declined=Count(
                "task", filter=Q(**{task: CallTask.Status.DONE}, task__outcome__in=_labels(TaskOutcome.DECLINED))
            ),
        )
        .order_by()
    )
    found = {row.pop("campaign_id"): row for row in rows}
    return {pk: _derive(found.get(pk)) for pk in ids}


_EMPTY = dict.fromkeys(("members", "planned", "pending", "done", "unreachable", "cancelled", "answered", "declined"), 0)


def _derive(row: dict | None) -> dict:
    progress = {**_EMPTY, **(row or {})}
    progress["closed"] = progress["done"] + progress["unreachable"] + progress["cancelled"]
    progress["not_planned"] = progress["members"] - progress["planned"]
    members = progress["members"] or 1
    for key in ("closed", "done", "unreachable", "cancelled", "pending"):
        progress[f"{key}_percent"] = round(100 * progress[key] / members)
    progress["percent"] = progress["closed_percent"]
    return progress


def campaign_progress(campaign: Campaign) -> dict:
    return campaigns_progress([campaign.pk])[campaign.pk]


def campaign_members(campaign: Campaign) -> QuerySet:
    return CampaignMember.objects.filter(campaign=campaign).select_related("client", "task", "task__assignee")


class CampaignFilter(filters.FilterSet):
    """The campaign list's filters, for the page and the API alike."""

    status = filters.ChoiceFilter(choices=Campaign.Status.choices, label=gettext_lazy("Status"))
    q = filters.CharFilter(field_name="name", lookup_expr="icontains", label=gettext_lazy("Name"))

    class Meta:
        model = Campaign
        form = StyledForm
        fields = ["status", "q"]
