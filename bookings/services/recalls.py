"""Recall and warranty campaigns (гарантийные акции): the writes, the reads other pages ask, the lists' filters.

Writes (keyword-only, transactional, the author kept in the history):
    recall_campaign_create(*, by, name, manufacturer_code, description="", starts_on=None, ends_on=None)
    recall_campaign_update(*, campaign, by, **fields)
    recall_vins_import(*, campaign, vins, by) -> int            all or nothing; returns how many VINs were added
    recall_vin_mark_done(*, recall_vin, by, booking=None)        idempotent: the first "done" stays

Reads for the booking form, the arrival board and the booking list:
    open_recalls_for_vins(vins) -> {vin: [campaign, ...]}        one query
    open_recalls_for_vin(vin) -> [campaign, ...]
    bookings_with_open_recall(queryset) -> queryset             one query, an EXISTS on the open-VIN index

"Open" means: the campaign runs today (`RecallCampaign.objects.current()`) and the work on that VIN is not done.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import Capability
from bookings.imports import check_vins
from bookings.models import Booking, RecallCampaign, RecallVin
from clientdesk.errors import Conflict

CAMPAIGN_FIELDS = frozenset({"name", "manufacturer_code", "description", "starts_on", "ends_on"})
IMPORT_BATCH = 2000
# Existing VINs are looked up in chunks that stay far below SQLite's limit of bound parameters.
LOOKUP_CHUNK = 5000
MAX_LISTED_ERRORS = 100


# --- helpers -----------------------------------------------------------------------------------------------------


def _check_fields(fields: dict, allowed: frozenset[str], action: str) -> None:
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"{action} cannot set {sorted(unknown)}")


def _clean_code(code: str) -> str:
    return " ".join((code or "").split())


def _ensure_code_free(code: str, *, exclude_pk=None) -> None:
    """Codes differing only in case are the same campaign to a person reading a recall letter."""
    if not code:
        return
    clash = RecallCampaign.objects.filter(manufacturer_code__iexact=code).exclude(pk=exclude_pk).first()
    if clash is not None:
        raise Conflict(
            _("Campaign code %(code)s is already used by %(campaign)s.") % {"code": code, "campaign": clash},
            field="manufacturer_code",
            existing=clash,
        )


def _check_dates(campaign: RecallCampaign) -> None:
    if campaign.starts_on and campaign.ends_on and campaign.starts_on > campaign.ends_on:
        raise ValidationError({"ends_on": _("The campaign must start before it ends.")})


def _save(campaign: RecallCampaign, *, by: User | None) -> None:
    # The code's uniqueness was checked case-insensitively above and answers as a Conflict, not a field error.
    campaign.full_clean(validate_unique=False)
    campaign._history_user = by
    try:
        with transaction.atomic():
            campaign.save()
    except IntegrityError as exc:
        raise Conflict(_("Someone saved the same campaign code a moment ago; reload and try again.")) from exc


# --- campaigns ---------------------------------------------------------------------------------------------------


@transaction.atomic
def recall_campaign_create(
    *,
    by: User | None,
    name: str,
    manufacturer_code: str,
    description: str = "",
    starts_on=None,
    ends_on=None,
) -> RecallCampaign:
    """A new campaign, without VINs yet. A code already in use (in any case) is a Conflict naming that campaign."""
    campaign = RecallCampaign(
        name=(name or "").strip(),
        manufacturer_code=_clean_code(manufacturer_code),
        description=(description or "").strip(),
        starts_on=starts_on,
        ends_on=ends_on,
    )
    _check_dates(campaign)
    _ensure_code_free(campaign.manufacturer_code)
    _save(campaign, by=by)
    return campaign


@transaction.atomic
def recall_campaign_update(*, campaign: RecallCampaign, by: User | None, **fields) -> RecallCampaign:
    """Change the given fields: any of name, manufacturer_code, description, starts_on, ends_on."""
    _check_fields(fields, CAMPAIGN_FIELDS, "recall_campaign_update")
    campaign = RecallCampaign.objects.select_for_update().get(pk=campaign.pk)
    if "manufacturer_code" in fields:
        fields["manufacturer_code"] = _clean_code(fields["manufacturer_code"])
    for name in ("name", "description"):
        if name in fields:
            fields[name] = (fields[name] or "").strip()
    for name, value in fields.items():
        setattr(campaign, name, value)
    _check_dates(campaign)
    _ensure_code_free(campaign.manufacturer_code, exclude_pk=campaign.pk)
    _save(campaign, by=by)
    return campaign


# --- VINs --------------------------------------------------------------------------------------------------------


def _existing_vins(campaign: RecallCampaign, vins: list[str]) -> set[str]:
    existing: set[str] = set()
    for start in range(0, len(vins), LOOKUP_CHUNK):
        chunk = vins[start : start + LOOKUP_CHUNK]
        existing.update(RecallVin.objects.filter(campaign=campaign, vin__in=chunk).values_list("vin", flat=True))
    return existing


def recall_vins_new_count(*, campaign: RecallCampaign, vins: list[str]) -> int:
    """How many of these (normalised, distinct) VINs the campaign does not list yet: the upload preview's figure."""
    return len(vins) - len(_existing_vins(campaign, vins))


@transaction.atomic
def recall_vins_import(*, campaign: RecallCampaign, vins: list[str], by: User | None) -> int:
    """Add VINs to a campaign, all or nothing; returns how many were added.

    Every VIN is checked with `normalize_vin`: one bad VIN refuses the whole list with a ValidationError naming the
    bad ones (by 1-based position), and nothing is added. Repeats in the list count once; VINs the campaign already
    lists are skipped. Imports into one campaign queue behind each other (the campaign row is locked), so the count
    returned is exact.
    """
    parsed = check_vins((number, str(raw)) for number, raw in enumerate(vins, start=1))
    if parsed.bad:
        errors = [
            ValidationError(
                _("No. %(line)d (%(raw)s): %(error)s") % {"line": row.line, "raw": row.raw, "error": row.error}
            )
            for row in parsed.bad_rows(limit=MAX_LISTED_ERRORS)
        ]
        if parsed.bad > MAX_LISTED_ERRORS:
            errors.append(ValidationError(_("…and %(count)d more.") % {"count": parsed.bad - MAX_LISTED_ERRORS}))
        raise ValidationError({"vins": errors})
    campaign = RecallCampaign.objects.select_for_update().get(pk=campaign.pk)
    existing = _existing_vins(campaign, parsed.vins)
    new = [vin for vin in parsed.vins if vin not in existing]
    if not new:
        return 0
    # Rows added below get ids above today's highest, and the campaign is locked: so "this campaign, id above
    # last_pk" is exactly the rows this import adds (the highest id is one step down the primary key index).
    last_pk = RecallVin.objects.aggregate(last=Max("pk"))["last"] or 0
    try:
        with transaction.atomic():
            for start in range(0, len(new), IMPORT_BATCH):
                batch = new[start : start + IMPORT_BATCH]
                RecallVin.objects.bulk_create([RecallVin(campaign_id=campaign.pk, vin=vin) for vin in batch])
            _record_created(campaign, after_pk=last_pk, by=by)
    except IntegrityError as exc:
        raise Conflict(_("Someone changed this campaign's VIN list a moment ago; try again.")) from exc
    return len(new)


def _record_created(campaign: RecallCampaign, *, after_pk: int, by: User | None) -> None:
    """The "created" history rows of the VINs just imported, in one INSERT ... SELECT.

    simple_history's own bulk writer builds a Python object per row and doubled the time of a 200,000-VIN import;
    this statement copies the rows inside the database. The columns come from the history model, so a field added
    to RecallVin is copied too; a new history-only field fails loudly here rather than going unrecorded.
    """
    history = RecallVin.history.model
    quote = connection.ops.quote_name
    source = {field.attname: field.column for field in RecallVin._meta.concrete_fields}
    stamped = {
        "history_date": timezone.now(),
        "history_change_reason": "import",
        "history_type": "+",
        "history_user_id": by.pk if by is not None else None,
    }
    columns, selected, params = [], [], []
    for field in history._meta.concrete_fields:
        if field.attname == "history_id":
            continue
        columns.append(quote(field.column))
        if field.attname in source:
            selected.append(quote(source[field.attname]))
        else:
            selected.append("%s")
            params.append(field.get_db_prep_save(stamped[field.attname], connection))
    sql = (
        f"INSERT INTO {quote(history._meta.db_table)} ({', '.join(columns)}) "  # noqa: S608 - names from the models
        f"SELECT {', '.join(selected)} FROM {quote(RecallVin._meta.db_table)} "
        f"WHERE {quote(source['campaign_id'])} = %s AND {quote(source['id'])} > %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, campaign.pk, after_pk])


@transaction.atomic
def recall_vin_mark_done(*, recall_vin: RecallVin, by: User | None, booking: Booking | None = None) -> RecallVin:
    """Record that the campaign work was done on this car (at this visit, if given).

    Marking a VIN already done changes nothing: the first time, author and visit stay. A visit for another car is
    refused.
    """
    row = RecallVin.objects.select_for_update().get(pk=recall_vin.pk)
    if row.done_at is not None:
        return row
    if booking is not None:
        vehicle_vin = booking.vehicle.vin if booking.vehicle_id else ""
        if vehicle_vin != row.vin:
            raise ValidationError({"booking": _("This visit is for another car, not %(vin)s.") % {"vin": row.vin}})
    row.done_at = timezone.now()
    row.done_by = by
    row.done_booking = booking
    row._history_user = by
    row.save(update_fields=["done_at", "done_by", "done_booking"])
    return row


def may_mark_done(user) -> bool:
    """The advisor who did the work, the desk, or whoever runs the campaigns."""
    return user.has_capability(Capability.SERVICE_BOOKINGS) or user.has_capability(Capability.MANAGE_RECALLS)


# --- reads -------------------------------------------------------------------------------------------------------


# --- lists: one FilterSet each, shared by the page and the API -----------------------------------------------------
