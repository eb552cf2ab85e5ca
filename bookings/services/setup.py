"""The workshop set-up the department head maintains: the regular week, calendar exceptions, service areas, service
types and the advisors' reception slots. Every rule that asks "is the workshop open, and how much can it take?" reads
these rows, through `clientdesk.calendar.BusinessCalendar` and the booking services.

Writes (keyword-only, transactional, validated; the author is kept in the history; a call that changes nothing writes
no history row, so the seed and a re-submitted form leave no noise):
    working_hours_set(*, by, weekday, opens, closes) -> WorkingHours
    working_hours_clear(*, by, weekday) -> bool                 False when the day was already off
    working_week_set(*, by, week) -> list[int]                  {weekday: (opens, closes) or None}; the days changed
    calendar_day_set(*, by, date, kind, opens=None, closes=None, note="", replace=True) -> CalendarDay
    calendar_day_remove(*, by, date) -> bool                    False when there was nothing to remove
    service_area_create(*, by, name, code, daily_capacity_minutes) -> ServiceArea
    service_area_update(*, area, by, **fields) -> ServiceArea   name, code, daily_capacity_minutes, is_active
    service_type_create(*, by, name, code, area, standard_minutes) -> ServiceType
    service_type_update(*, service_type, by, **fields) -> ServiceType   name, code, area, standard_minutes, is_active
    advisor_profile_set(*, by, user, slot_minutes, is_active=True) -> AdvisorProfile

Areas, types and advisor profiles are deactivated, never deleted: bookings keep pointing at them. Weekday rows and
calendar exceptions are configuration and may be removed; the history keeps who removed what.

Reads for the set-up pages:
    setup_overview(*, today) -> SetupOverview                   five queries, whatever the number of rows
    bookings_outside_hours(*, first, last) -> int               open bookings the current hours no longer serve
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import Role
from bookings.models import AdvisorProfile, Booking, ServiceArea, ServiceType
from clientdesk.calendar import BusinessCalendar, day_bounds, local_date
from clientdesk.errors import Conflict
from clientdesk.models import CalendarDay, Weekday, WorkingHours
from clientdesk.timefmt import local_date_text, local_time_text

AREA_FIELDS = frozenset({"name", "code", "daily_capacity_minutes", "is_active"})
TYPE_FIELDS = frozenset({"name", "code", "area", "standard_minutes", "is_active"})
# A hundred posts working round the clock: anything above is a typo (minutes typed as hours, an extra zero).
MAX_CAPACITY_MINUTES = 100 * 24 * 60
SLOT_MINUTES = (5, 240)
UPCOMING_DAYS = 365
LISTED_NAMES = 5


# --- helpers -----------------------------------------------------------------------------------------------------


def _check_fields(fields: dict, allowed: frozenset[str], action: str) -> None:
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"{action} cannot set {sorted(unknown)}")


def _assign(instance: models.Model, values: dict) -> bool:
    """Set the values; whether any differed from what the instance held."""
    changed = False
    for name, value in values.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed = True
    return changed


def _save(instance: models.Model, *, by: User | None) -> None:
    """Validate and save with the author in the history. Uniqueness is checked beforehand and answered as a Conflict
    that names the other record; a unique index hit by a racing writer becomes a Conflict too."""
    instance.full_clean(validate_unique=False)
    instance._history_user = by
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as exc:
        raise Conflict(_("Someone saved the same record a moment ago; reload and try again.")) from exc


def _delete(instance: models.Model, *, by: User | None) -> None:
    instance._history_user = by
    instance.delete()


def _clean_name(name: str) -> str:
    return " ".join((name or "").split())


def _clean_code(code: str) -> str:
    return (code or "").strip().lower()


def _clock(value: time) -> str:
    return local_time_text(value)


def _day(value: date) -> str:
    return local_date_text(value)


def _listed(items) -> str:
    names = [str(item) for item in items[:LISTED_NAMES]]
    if len(items) > LISTED_NAMES:
        names.append("…")
    return ", ".join(names)


def _check_hours(opens: time | None, closes: time | None) -> None:
    errors = {}
    if opens is None:
        errors["opens"] = _("Give the opening time.")
    if closes is None:
        errors["closes"] = _("Give the closing time.")
    if not errors and closes <= opens:
        errors["closes"] = _("Closing time must be after opening time.")
    if errors:
        raise ValidationError(errors)


def _weekday(value) -> Weekday:
    try:
        return Weekday(int(value))
    except (TypeError, ValueError) as exc:
        raise ValidationError({"weekday": _("No such weekday.")}) from exc


# --- the regular week --------------------------------------------------------------------------------------------


def _locked_week() -> dict[int, WorkingHours]:
    """All weekday rows, locked: the "at least one working day" rule reads the whole week, so two heads editing
    different days at once must queue."""
    return {row.weekday: row for row in WorkingHours.objects.select_for_update().order_by("weekday")}


def _apply_day(rows: dict[int, WorkingHours], weekday: int, hours: tuple[time, time] | None, *, by) -> bool:
    row = rows.get(weekday)
    if hours is None:
        if row is None:
            return False
        _delete(row, by=by)
        del rows[weekday]
        return True
    opens, closes = hours
    if row is None:
        row = WorkingHours(weekday=weekday, opens=opens, closes=closes)
    elif not _assign(row, {"opens": opens, "closes": closes}):
        return False
    _save(row, by=by)
    rows[weekday] = row
    return True


def _no_working_day() -> ValidationError:
    return ValidationError(_("The workshop must work at least one day a week."), code="no_working_day")


@transaction.atomic
def working_hours_set(*, by: User | None, weekday: int, opens: time, closes: time) -> WorkingHours:
    """Open the workshop on this weekday at these hours (a day off becomes a working day)."""
    weekday = _weekday(weekday)
    _check_hours(opens, closes)
    rows = _locked_week()
    _apply_day(rows, weekday, (opens, closes), by=by)
    return rows[weekday]


@transaction.atomic
def working_hours_clear(*, by: User | None, weekday: int) -> bool:
    """Make this weekday a day off. The last working weekday cannot go: every "next working day" would fail."""
    weekday = _weekday(weekday)
    rows = _locked_week()
    if weekday in rows and len(rows) == 1:
        raise _no_working_day()
    return _apply_day(rows, weekday, None, by=by)


@transaction.atomic
def working_week_set(*, by: User | None, week: Mapping[int, tuple[time, time] | None]) -> list[int]:
    """Set several weekdays at once, all or nothing: each weekday maps to (opens, closes), or None for a day off.

    Weekdays not in `week` stay as they are. Returns the weekdays that changed.
    """
    wanted: dict[Weekday, tuple[time, time] | None] = {}
    errors: list[str] = []
    for key, hours in week.items():
        weekday = _weekday(key)
        if hours is not None:
            try:
                _check_hours(*hours)
            except ValidationError as exc:
                errors.extend(f"{weekday.label}: {message}" for message in exc.messages)
        wanted[weekday] = hours
    if errors:
        raise ValidationError(errors)
    rows = _locked_week()
    # The rule holds for the week as it will be, not day by day: closing Monday to Saturday and opening Sunday in one
    # go is allowed, though any one of those steps alone might leave no working day.
    open_days = {day for day in rows if wanted.get(day, ()) is not None} | {d for d, h in wanted.items() if h}
    if not open_days:
        raise _no_working_day()
    return [int(day) for day in sorted(wanted) if _apply_day(rows, day, wanted[day], by=by)]


# --- calendar exceptions -----------------------------------------------------------------------------------------


def _check_exception(day: date, kind: str, opens: time | None, closes: time | None) -> None:
    """A holiday has no hours; a short day shortens a regular working day; a working day off opens a regular day
    off. Anything else is a different kind of exception, and the message says which."""
    Kind = CalendarDay.Kind
    if kind not in Kind.values:
        raise ValidationError({"kind": _("Choose a holiday, a short day or a working day off.")})
    if kind == Kind.HOLIDAY:
        if opens is not None or closes is not None:
            raise ValidationError(
                {"opens": _("A holiday is closed all day: leave the hours empty, or choose a short day.")}
            )
        return
    _check_hours(opens, closes)
    regular = WorkingHours.objects.filter(weekday=day.weekday()).first()
    if kind == Kind.SHORT:
        if regular is None:
            raise ValidationError(
                {
                    "kind": _(
                        "%(day)s is a day off in the regular week: to open the workshop that day, choose a working "
                        "day off."
                    )
                    % {"day": _day(day)}
                }
            )
        inside = regular.opens <= opens and closes <= regular.closes
        if not inside or (opens, closes) == (regular.opens, regular.closes):
            raise ValidationError(
                {
                    "closes": _(
                        "A short day lies within the regular hours of %(weekday)s, %(opens)s–%(closes)s, and is "
                        "shorter."
                    )
                    % {
                        "weekday": Weekday(day.weekday()).label,
                        "opens": _clock(regular.opens),
                        "closes": _clock(regular.closes),
                    }
                }
            )
    elif regular is not None:
        raise ValidationError(
            {
                "kind": _(
                    "%(day)s is already a working day (%(opens)s–%(closes)s) in the regular week: to shorten it, "
                    "choose a short day."
                )
                % {"day": _day(day), "opens": _clock(regular.opens), "closes": _clock(regular.closes)}
            }
        )


@transaction.atomic
def calendar_day_set(
    *,
    by: User | None,
    date: date,
    kind: str,
    opens: time | None = None,
    closes: time | None = None,
    note: str = "",
    replace: bool = True,
) -> CalendarDay:
    """Make `date` a holiday, a short day or a worked day off. An exception already on that date is changed, unless
    `replace` is False: then it is a Conflict naming it (a form adding a new exception must not overwrite one)."""
    if date is None:
        raise ValidationError({"date": _("Give the date.")})
    _check_exception(date, kind, opens, closes)
    existing = CalendarDay.objects.select_for_update().filter(date=date).first()
    if existing is not None and not replace:
        raise Conflict(
            _("%(day)s already has an exception: %(kind)s. Edit that one instead.")
            % {"day": _day(date), "kind": existing.get_kind_display()},
            field="date",
            existing=existing,
        )
    row = existing or CalendarDay(date=date)
    changed = _assign(row, {"kind": kind, "opens": opens, "closes": closes, "note": _clean_name(note)})
    if changed or row.pk is None:
        _save(row, by=by)
    return row


@transaction.atomic
def calendar_day_remove(*, by: User | None, date: date) -> bool:
    """The date follows the regular week again. The removed row stays in the history, with who removed it."""
    row = CalendarDay.objects.select_for_update().filter(date=date).first()
    if row is None:
        return False
    _delete(row, by=by)
    return True


# --- service areas -----------------------------------------------------------------------------------------------


def _name_taken_messages(model) -> tuple[str, str]:
    """(active, deactivated) wordings; whole sentences, so each language can phrase them its own way."""
    if model is ServiceArea:
        return (
            _("There is already an area called %(name)s (code %(code)s)."),
            _("There is already an area called %(name)s (code %(code)s), deactivated: reactivate it instead."),
        )
    return (
        _("There is already a service type called %(name)s (code %(code)s)."),
        _("There is already a service type called %(name)s (code %(code)s), deactivated: reactivate it instead."),
    )


def _ensure_name_and_code_free(model, instance) -> None:
    """Codes are compared ignoring case; names too, in Python, because SQLite folds only ASCII letters and these
    tables hold tens of rows, not thousands."""
    clash = model.objects.filter(code__iexact=instance.code).exclude(pk=instance.pk).first()
    if clash is not None:
        raise Conflict(
            _("Code %(code)s is already used by %(record)s.") % {"code": instance.code, "record": clash},
            field="code",
            existing=clash,
        )
    folded = instance.name.casefold()
    for other in model.objects.exclude(pk=instance.pk).only("pk", "name", "code", "is_active"):
        if other.name.casefold() == folded:
            active, deactivated = _name_taken_messages(model)
            message = active if other.is_active else deactivated
            raise Conflict(message % {"name": other.name, "code": other.code}, field="name", existing=other)


def _check_capacity(area: ServiceArea) -> None:
    minutes = area.daily_capacity_minutes
    if minutes is None or minutes <= 0:
        raise ValidationError({"daily_capacity_minutes": _("Capacity must be positive.")})
    if minutes > MAX_CAPACITY_MINUTES:
        raise ValidationError(
            {
                "daily_capacity_minutes": _("At most %(hours)d hours a day: check the number.")
                % {"hours": MAX_CAPACITY_MINUTES // 60}
            }
        )


def _check_area_serves_its_types(area: ServiceArea) -> None:
    """An area keeps room for the longest of its active types, and cannot close while active types need it."""
    types = list(ServiceType.objects.filter(area=area, is_active=True).order_by("-standard_minutes", "name"))
    if not area.is_active and types:
        raise ValidationError(
            {
                "is_active": _(
                    "Active service types are done in this area: %(types)s. Deactivate them or move them to "
                    "another area first."
                )
                % {"types": _listed(types)}
            }
        )
    if types and types[0].standard_minutes > area.daily_capacity_minutes:
        longest = types[0]
        raise ValidationError(
            {
                "daily_capacity_minutes": _(
                    "%(type)s takes %(minutes)d minutes, more than this capacity: it could never be booked. "
                    "Shorten it or move it to another area first."
                )
                % {"type": longest, "minutes": longest.standard_minutes}
            }
        )


@transaction.atomic
def service_area_create(*, by: User | None, name: str, code: str, daily_capacity_minutes: int) -> ServiceArea:
    """A new, active area. Its capacity is the standard minutes of work it can take in a working day."""
    area = ServiceArea(name=_clean_name(name), code=_clean_code(code), daily_capacity_minutes=daily_capacity_minutes)
    _check_capacity(area)
    _ensure_name_and_code_free(ServiceArea, area)
    _save(area, by=by)
    return area


@transaction.atomic
def service_area_update(*, area: ServiceArea, by: User | None, **fields) -> ServiceArea:
    """Change any of name, code, daily_capacity_minutes, is_active (False deactivates: no new bookings there)."""
    _check_fields(fields, AREA_FIELDS, "service_area_update")
    area = ServiceArea.objects.select_for_update().get(pk=area.pk)
    if "name" in fields:
        fields["name"] = _clean_name(fields["name"])
    if "code" in fields:
        fields["code"] = _clean_code(fields["code"])
    if not _assign(area, fields):
        return area
    _check_capacity(area)
    _ensure_name_and_code_free(ServiceArea, area)
    _check_area_serves_its_types(area)
    _save(area, by=by)
    return area


# --- service types -----------------------------------------------------------------------------------------------


def _check_type(service_type: ServiceType) -> None:
    minutes = service_type.standard_minutes
    if minutes is None or minutes <= 0:
        raise ValidationError({"standard_minutes": _("Duration must be positive.")})
    if service_type.area_id is None:
        raise ValidationError({"area": _("Choose the area that does this work.")})
    # Locked so that the area cannot be deactivated or shrunk while a type is being pointed at it.
    area = ServiceArea.objects.select_for_update().get(pk=service_type.area_id)
    if not service_type.is_active:
        return
    if not area.is_active:
        raise ValidationError(
            {"area": _("%(area)s is deactivated: choose an active area, or reactivate it first.") % {"area": area}}
        )
    if minutes > area.daily_capacity_minutes:
        raise ValidationError(
            {
                "standard_minutes": _(
                    "Longer than the daily capacity of %(area)s (%(minutes)d minutes): it could never be booked."
                )
                % {"area": area, "minutes": area.daily_capacity_minutes}
            }
        )


@transaction.atomic
def service_type_create(
    *, by: User | None, name: str, code: str, area: ServiceArea, standard_minutes: int
) -> ServiceType:
    """A new, active type of work, done in `area` and taking `standard_minutes` of it."""
    service_type = ServiceType(
        name=_clean_name(name), code=_clean_code(code), area=area, standard_minutes=standard_minutes
    )
    _check_type(service_type)
    _ensure_name_and_code_free(ServiceType, service_type)
    _save(service_type, by=by)
    return service_type


@transaction.atomic
def service_type_update(*, service_type: ServiceType, by: User | None, **fields) -> ServiceType:
    """Change any of name, code, area, standard_minutes, is_active. Existing bookings keep their planned time."""
    _check_fields(fields, TYPE_FIELDS, "service_type_update")
    service_type = ServiceType.objects.select_for_update().get(pk=service_type.pk)
    if "name" in fields:
        fields["name"] = _clean_name(fields["name"])
    if "code" in fields:
        fields["code"] = _clean_code(fields["code"])
    if not _assign(service_type, fields):
        return service_type
    _check_type(service_type)
    _ensure_name_and_code_free(ServiceType, service_type)
    _save(service_type, by=by)
    return service_type


# --- advisors ----------------------------------------------------------------------------------------------------


@transaction.atomic
def advisor_profile_set(*, by: User | None, user: User, slot_minutes: int, is_active: bool = True) -> AdvisorProfile:
    """Create or change the advisor's reception slot; is_active=False stops new bookings with them.

    Only a service advisor gets a profile. A profile left behind by someone whose role has since changed may still
    be switched off, which is how it is tidied up.
    """
    profile = AdvisorProfile.objects.select_for_update().filter(user=user).first()
    if user.role != Role.ADVISOR and (profile is None or is_active):
        raise ValidationError(
            {
                "user": _(
                    "%(user)s is not a service advisor (the role is “%(role)s”): change the role on the Users page "
                    "first."
                )
                % {"user": user, "role": user.get_role_display()}
            }
        )
    if is_active and not user.is_active:
        raise ValidationError({"user": _("%(user)s is deactivated and cannot receive clients.") % {"user": user}})
    low, high = SLOT_MINUTES
    if not isinstance(slot_minutes, int) or not low <= slot_minutes <= high:
        raise ValidationError(
            {"slot_minutes": _("A slot is between %(low)d and %(high)d minutes.") % {"low": low, "high": high}}
        )
    row = profile or AdvisorProfile(user=user)
    if _assign(row, {"slot_minutes": slot_minutes, "is_active": is_active}) or row.pk is None:
        _save(row, by=by)
    return row


# --- reads for the set-up pages ----------------------------------------------------------------------------------


def capacity_hours(minutes: int) -> Decimal:
    """Minutes as hours with at most two decimals, no trailing zeros: 990 → 16.5, 3840 → 64."""
    hours = (Decimal(minutes) / 60).quantize(Decimal("0.01"))
    # normalize() alone would write 600 as 6E+2.
    return hours.quantize(Decimal(1)) if hours == hours.to_integral_value() else hours.normalize()


def hours_to_minutes(hours: Decimal) -> int:
    """Hours as typed (16.5) to whole minutes (990), the unit capacity is kept in."""
    return int((hours * 60).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class WeekdayRow:
    weekday: Weekday
    hours: WorkingHours | None


@dataclass(frozen=True)
class AdvisorRow:
    user: User
    profile: AdvisorProfile | None

    @property
    def bookable(self) -> bool:
        """Offered by the slot picker: what the booking services ask, so the page never promises otherwise."""
        return bool(self.profile and self.profile.is_active and self.user.is_active)

    @property
    def role_changed(self) -> bool:
        return self.user.role != Role.ADVISOR


@dataclass(frozen=True)
class SetupOverview:
    week: list[WeekdayRow]
    exceptions: list[CalendarDay]
    areas: list[ServiceArea]
    types: list[ServiceType]
    advisors: list[AdvisorRow]
    first: date
    last: date


def setup_overview(*, today: date) -> SetupOverview:
    """Everything the set-up page shows, in five queries whatever the number of areas, types and advisors."""
    last = today + timedelta(days=UPCOMING_DAYS)
    rows = {row.weekday: row for row in WorkingHours.objects.all()}
    week = [WeekdayRow(weekday, rows.get(weekday)) for weekday in Weekday]
    exceptions = list(CalendarDay.objects.filter(date__range=(today, last)).order_by("date"))
    areas = list(ServiceArea.objects.order_by("-is_active", "name"))
    for area in areas:
        area.capacity_hours = capacity_hours(area.daily_capacity_minutes)
    types = list(ServiceType.objects.select_related("area").order_by("-is_active", "area__name", "name"))
    users = (
        User.objects.filter(Q(role=Role.ADVISOR, is_active=True) | Q(advisor_profile__isnull=False))
        .select_related("advisor_profile")
        .order_by("last_name", "first_name", "username")
    )
    advisors = [AdvisorRow(user, getattr(user, "advisor_profile", None)) for user in users]
    return SetupOverview(week, exceptions, areas, types, advisors, today, last)


def bookings_outside_hours(*, first: date, last: date) -> int:
    """How many bookings still to come in [first, last] now lie outside the working hours: after a holiday is
    declared or the week shortened, the desk has clients to call and move."""
    start, _end = day_bounds(first)
    _start, end = day_bounds(last)
    rows = Booking.objects.filter(
        status__in=(Booking.Status.SCHEDULED, Booking.Status.CONFIRMED),
        starts_at__gte=max(start, timezone.now()),
        starts_at__lt=end,
    ).values_list("starts_at", "advisor_until")
    calendar = BusinessCalendar()
    outside = 0
    for starts_at, until in rows.iterator():
        hours = calendar.hours(local_date(starts_at))
        if hours is None or starts_at < hours.start or until > hours.end:
            outside += 1
    return outside
