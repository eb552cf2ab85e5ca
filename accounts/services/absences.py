"""Every write to absences: who is away, from when to when, and who stands in.

While someone is away, the outbound queue routes their call tasks to the substitute (`calls.selectors.routable_to`,
decided when the queue is read, so the tasks come back the day the absence ends). The rules below keep that routing
from losing a task: the substitute makes calls and is at work on every one of those days, and nobody has two
absences at once (two substitutes for one day would split their tasks by chance).
"""

from datetime import date, timedelta

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.models import Absence, User
from accounts.roles import Capability
from clientdesk.calendar import local_date

ABSENCE_FIELDS = frozenset({"starts_on", "ends_on", "substitute", "reason"})


def _span(absence: Absence) -> dict:
    return {"from": date_format(absence.starts_on), "to": date_format(absence.ends_on)}


def _overlapping(starts_on: date, ends_on: date, *, exclude_pk=None):
    return Absence.objects.filter(starts_on__lte=ends_on, ends_on__gte=starts_on).exclude(pk=exclude_pk)


def _makes_calls(user: User) -> bool:
    return user.is_active and user.has_capability(Capability.LOG_CALLS)


def _lock(*users: User) -> None:
    """Absences that could clash always share a person; locking the people, in id order, decides them one by one."""
    list(User.objects.select_for_update().filter(pk__in=[u.pk for u in users if u is not None]).order_by("pk"))


def _check(absence: Absence, *, dates_changed: bool = True) -> None:
    """Refuse, with every reason at once, an absence the queue could not route."""
    errors: dict[str, list[str]] = {}

    def refuse(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    user, substitute = absence.user, absence.substitute
    starts_on, ends_on = absence.starts_on, absence.ends_on
    if starts_on and ends_on and ends_on < starts_on:
        refuse("ends_on", _("An absence ends on or after its first day."))
    # The queue routes tasks from today on, so an absence wholly in the past would route nothing; recording one is a
    # mistyped date. Dates of an absence that is already over may still be left as they are.
    if ends_on and dates_changed and ends_on < local_date(timezone.now()):
        refuse("ends_on", _("This absence would be over already (it ends before today): check the dates."))
    # Who is away is checked when the absence is recorded; shortening the absence of someone since deactivated is fine.
    if absence.pk is None and user is not None and not _makes_calls(user):
        refuse("user", _("%(user)s does not make calls: absences here are for the call queue.") % {"user": user})
    if substitute is not None:
        if user is not None and substitute.pk == user.pk:
            refuse("substitute", _("Someone else must stand in."))
        elif not _makes_calls(substitute):
            refuse("substitute", _("%(user)s does not make calls and cannot stand in.") % {"user": substitute})
    if errors or not (user and substitute and starts_on and ends_on):
        raise ValidationError(errors or _("Give who is away, the dates and the substitute."))

    around = _overlapping(starts_on, ends_on, exclude_pk=absence.pk).select_related("user", "substitute")
    for other in around.filter(user=user).order_by("starts_on"):
        refuse(
            NON_FIELD_ERRORS,
            _("%(user)s is already away from %(from)s to %(to)s: change that absence instead.")
            % {"user": user, **_span(other)},
        )
    for other in around.filter(user=substitute).order_by("starts_on"):
        refuse(
            "substitute",
            _("%(user)s is away too, from %(from)s to %(to)s: choose someone who is at work.")
            % {"user": substitute, **_span(other)},
        )
    for other in around.filter(substitute=user).order_by("starts_on"):
        refuse(
            NON_FIELD_ERRORS,
            _("%(user)s stands in for %(other)s from %(from)s to %(to)s: name another substitute for %(other)s first.")
            % {"user": user, "other": other.user, **_span(other)},
        )
    if errors:
        raise ValidationError(errors)


def _save(absence: Absence, *, by: User, reason: str = "", dates_changed: bool = True) -> Absence:
    _check(absence, dates_changed=dates_changed)
    absence.full_clean()
    absence._history_user = by
    if reason:
        absence._change_reason = reason
    absence.save()
    return absence


@transaction.atomic
def absence_create(
    *, by: User, user: User, starts_on: date, ends_on: date, substitute: User, reason: str = ""
) -> Absence:
    """Record that `user` is away from `starts_on` to `ends_on` inclusive, with `substitute` taking their calls."""
    _lock(user, substitute)
    absence = Absence(
        user=user,
        starts_on=starts_on,
        ends_on=ends_on,
        substitute=substitute,
        reason=(reason or "").strip(),
        created_by=by,
    )
    return _save(absence, by=by)


@transaction.atomic
def absence_update(*, absence: Absence, by: User, **fields) -> Absence:
    """Change the dates (lengthen, shorten, move), the substitute or the reason; who is away stays."""
    unknown = set(fields) - ABSENCE_FIELDS
    if unknown:
        raise TypeError(f"absence_update cannot set {sorted(unknown)}")
    _lock(absence.user, absence.substitute, fields.get("substitute"))
    absence = Absence.objects.select_related("user", "substitute").get(pk=absence.pk)
    before = (absence.starts_on, absence.ends_on)
    for name, value in fields.items():
        setattr(absence, name, (value or "").strip() if name == "reason" else value)
    return _save(absence, by=by, dates_changed=(absence.starts_on, absence.ends_on) != before)


@transaction.atomic
def absence_end(*, absence: Absence, by: User, back_on: date | None = None) -> Absence | None:
    """The person is back at work on `back_on` (today by default): the absence ends the day before.

    An absence that had not begun by then never happened: it is removed (its history keeps it). Returns the
    shortened absence, or None when removed.
    """
    back_on = back_on or local_date(timezone.now())
    _lock(absence.user)
    absence = Absence.objects.select_related("user", "substitute").get(pk=absence.pk)
    if absence.ends_on < back_on:
        raise ValidationError(_("This absence is already over (it ended on %(to)s).") % _span(absence))
    if absence.starts_on >= back_on:
        absence._history_user = by
        absence._change_reason = "cancelled"
        absence.delete()
        return None
    absence.ends_on = back_on - timedelta(days=1)
    absence.full_clean()
    absence._history_user = by
    absence._change_reason = "ended early"
    absence.save(update_fields=["ends_on"])
    return absence
