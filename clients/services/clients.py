"""Every write to clients, their phones and vehicles: one function per business action.

Each is transactional, validates with the model's rules, turns a uniqueness clash into `Conflict` (HTTP 409, or a
form error) and records who did it in the history.
"""

import functools
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from types import MappingProxyType

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.models import HistoricalChanges

from accounts.models import User
from clientdesk import events
from clientdesk.errors import Conflict, Stale
from clientdesk.locks import lock_for
from clients.events import ClientsChanged, VehiclesChanged
from clients.models import Client, ClientPhone, Vehicle
from clients.normalize import normalize_dms_id, normalize_name, normalize_phone, normalize_plate, normalize_vin

# What client_create and client_update take: also the API's input fields (with the phones), in this order.
CLIENT_FIELDS = (
    "kind",
    "name",
    "email",
    "preferred_contact_time",
    "notes",
    "consent_personal_data",
    "consent_personal_data_at",
    "consent_marketing",
    "consent_marketing_at",
    "source",
    "dms_id",
    "dms_updated_at",
    "assigned_manager",
    "data_issue",
)
# What a client the DMS creates holds unless its record says otherwise (it came from the DMS): the single upsert and
# the set-based bulk (`clients.services.bulk`) both start from it.
DMS_CLIENT_DEFAULTS: Mapping[str, object] = MappingProxyType({"source": Client.Source.DMS})
VEHICLE_FIELDS = frozenset(
    {"owner", "vin", "plate", "make", "model", "year", "colour", "mileage", "delivered_at", "dms_id", "dms_updated_at"}
)


@dataclass(frozen=True)
class PhoneInput:
    number: str
    kind: str = ClientPhone.Kind.MOBILE
    is_primary: bool = False
    comment: str = ""


# --- helpers -----------------------------------------------------------------------------------------------------


def _check_fields(fields: dict, allowed: Collection[str], action: str) -> None:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise TypeError(f"{action} cannot set {sorted(unknown)}")


def _save(instance: models.Model, *, by: User | None, reason: str = "") -> None:
    """Validate and save, with the author in the history; a unique index hit by a racing writer becomes Conflict."""
    instance.full_clean()
    instance._history_user = by
    if reason:
        instance._change_reason = reason
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as exc:
        raise Conflict(_("Someone saved the same record a moment ago; reload and try again.")) from exc


CONSENTS = (("consent_personal_data", "consent_personal_data_at"), ("consent_marketing", "consent_marketing_at"))


def _stamp_consents(client: Client, *, previous: dict[str, bool]) -> None:
    """A consent turned on gets its date (now, unless given); a consent withdrawn loses it."""
    now = timezone.now()
    for flag, stamp in CONSENTS:
        given = getattr(client, flag)
        was_given = previous.get(flag, False)
        if not given:
            setattr(client, stamp, None)
        elif not was_given and getattr(client, stamp) is None:
            setattr(client, stamp, now)


def _ensure_dms_id_free(model, dms_id: str, *, exclude_pk=None) -> None:
    if not dms_id:
        return
    clash = model.objects.filter(dms_id=dms_id).exclude(pk=exclude_pk).first()
    if clash is not None:
        raise Conflict(
            _("DMS id %(dms_id)s already belongs to %(record)s.") % {"dms_id": dms_id, "record": clash},
            field="dms_id",
            existing=clash,
        )


# A number as typed → its E.164 form, remembered per process: the DMS sends the same numbers night after night, and
# parsing one costs more than the rest of its record's checks (a refusal is not remembered: it raises each time).
@functools.lru_cache(maxsize=100_000)
def _normalized_in(raw: str, region: str) -> str:
    return normalize_phone(raw)


def _normalized_phone(raw: str) -> str:
    return _normalized_in(raw, settings.CLIENTDESK["DEFAULT_PHONE_REGION"])  # the region the result depends on


class CleanPhones(list):
    """Phones that have been through `phones_clean`: the services take them as they are, so an input layer that
    cleaned them to report its errors (the API) does not have every number parsed twice."""


def phones_clean(phones: Iterable[PhoneInput]) -> CleanPhones:
    """Normalised numbers (each parsed once), no repeats, exactly one primary (the first, if none was marked); more
    than `ClientPhone.MAX_PER_CLIENT` is refused before any is parsed. Errors are keyed `phones`."""
    if isinstance(phones, CleanPhones):
        return phones
    phones = list(islice(phones, ClientPhone.MAX_PER_CLIENT + 1))
    if len(phones) > ClientPhone.MAX_PER_CLIENT:
        raise ValidationError(
            {"phones": _("A client has at most %(max)d phones.") % {"max": ClientPhone.MAX_PER_CLIENT}}
        )
    cleaned: list[PhoneInput] = []
    errors: list[ValidationError] = []
    seen: set[str] = set()
    for phone in phones:
        try:
            number = _normalized_phone(phone.number)
        except ValidationError as exc:
            errors.append(
                ValidationError(_("%(number)s: %(error)s") % {"number": phone.number, "error": exc.messages[0]})
            )
            continue
        if number in seen:
            errors.append(ValidationError(_("%(number)s is listed twice.") % {"number": phone.number}))
            continue
        seen.add(number)
        cleaned.append(PhoneInput(number=number, kind=phone.kind, is_primary=phone.is_primary, comment=phone.comment))
    if errors:
        raise ValidationError({"phones": errors})
    primaries = [p for p in cleaned if p.is_primary]
    if len(primaries) > 1:
        raise ValidationError({"phones": _("Only one phone can be primary.")})
    if cleaned and not primaries:
        first = cleaned[0]
        cleaned[0] = PhoneInput(number=first.number, kind=first.kind, is_primary=True, comment=first.comment)
    return CleanPhones(cleaned)


def _replace_phones(client: Client, phones: list[PhoneInput], *, by: User | None) -> bool:
    """Make the client's phones exactly `phones`, keeping the rows (and their history) of numbers that stay; a phone
    that is already as given is not written at all (no history row for a repeated push). True if anything changed."""
    existing = {p.number: p for p in client.phones.all()}
    wanted = {p.number: p for p in phones}
    changed = False
    for number, row in existing.items():
        if number not in wanted:
            row._history_user = by
            row.delete()
            changed = True
    # Clear an old primary that stops being one first, so the one-primary index never sees two.
    for row in existing.values():
        if row.number in wanted and row.is_primary and not wanted[row.number].is_primary:
            row.is_primary = False
            row._history_user = by
            row.save(update_fields=["is_primary"])
    for phone in phones:
        row = existing.get(phone.number) or ClientPhone(client=client, number=phone.number)
        if row.pk and (row.kind, row.is_primary, row.comment) == (phone.kind, phone.is_primary, phone.comment):
            continue
        row.kind, row.is_primary, row.comment = phone.kind, phone.is_primary, phone.comment
        _save(row, by=by)
        changed = True
    return changed


def refuse_stale(held, *, sent) -> None:
    """The DMS's writes land in the order it made them: one whose `dms_updated_at` is older than the one held is
    refused (equal times are the same write again, which changes nothing); a write without a time is taken as new."""
    if sent is not None and held.dms_updated_at is not None and sent < held.dms_updated_at:
        raise Stale(held_at=held.dms_updated_at)


def stored_values(instance: models.Model) -> dict:
    """What a save would write, but for the time it was written: equal before and after means nothing changed."""
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields if f.name != "updated_at"}


# --- clients -----------------------------------------------------------------------------------------------------


def _normalise_client_fields(fields: dict) -> dict:
    # Emails are compared and searched exactly, through an index; the case of an address carries no meaning.
    if "email" in fields:
        fields["email"] = (fields["email"] or "").strip().lower()
    if "dms_id" in fields:
        fields["dms_id"] = normalize_dms_id(fields["dms_id"])
    if "name" in fields:
        try:
            fields["name"] = normalize_name(fields["name"])
        except ValidationError as exc:
            raise ValidationError({"name": exc.messages}) from exc
    return fields


def _required_dms_id(dms_id: str | None) -> str:
    dms_id = normalize_dms_id(dms_id)
    if not dms_id:
        raise ValidationError({"dms_id": _("The DMS id is required.")})
    return dms_id


@transaction.atomic
def client_create(*, by: User | None, name: str, phones: Iterable[PhoneInput] = (), **fields) -> Client:
    _check_fields(fields, CLIENT_FIELDS, "client_create")
    fields = _normalise_client_fields({**fields, "name": name})
    name = fields.pop("name")
    cleaned_phones = phones_clean(phones)
    client = Client(name=name, **fields)
    _ensure_dms_id_free(Client, client.dms_id)
    _stamp_consents(client, previous={})
    _save(client, by=by)
    _replace_phones(client, cleaned_phones, by=by)
    events.publish(ClientsChanged(created=(client.pk,), by_id=by.pk if by else None))
    return client


@transaction.atomic
def client_update(*, client: Client, by: User | None, phones: Iterable[PhoneInput] | None = None, **fields) -> Client:
    """Change the given fields (and, if `phones` is given, the whole phone list)."""
    _check_fields(fields, CLIENT_FIELDS, "client_update")
    _normalise_client_fields(fields)
    client = Client.objects.select_for_update().get(pk=client.pk)
    if client.is_merged:
        raise Conflict(_("This client was merged into %(target)s; edit that card.") % {"target": client.merged_into})
    previous = {flag: getattr(client, flag) for flag, _stamp in CONSENTS}
    stored = stored_values(client)
    cleaned_phones = phones_clean(phones) if phones is not None else None
    for name, value in fields.items():
        setattr(client, name, value)
    _ensure_dms_id_free(Client, client.dms_id, exclude_pk=client.pk)
    _stamp_consents(client, previous=previous)
    saved = stored_values(client) != stored  # a repeated push changes nothing: no new updated_at, no history row
    if saved:
        _save(client, by=by)
    phones_changed = cleaned_phones is not None and _replace_phones(client, cleaned_phones, by=by)
    if phones_changed and not saved:
        # A changed phone is a changed client for whoever syncs by `updated_since` (the phone keeps its own history).
        client.updated_at = timezone.now()
        Client.objects.filter(pk=client.pk).update(updated_at=client.updated_at)
    if saved or phones_changed:
        events.publish(ClientsChanged(updated=(client.pk,), by_id=by.pk if by else None))
    return client


@transaction.atomic
def client_upsert_by_dms_id(
    *, by: User | None, dms_id: str, name: str, phones: Iterable[PhoneInput] | None = None, **fields
) -> tuple[Client, bool]:
    """Create or update the client the DMS knows as `dms_id`; sending the same record twice gives one row.

    A DMS id that belonged to a client since merged into another updates the client kept.
    Returns (client, created). A blank DMS id (or only spaces) is refused: the DMS always names its record.
    """
    fields.pop("dms_id", None)
    dms_id = _required_dms_id(dms_id)
    lock_for(f"clients.Client.dms_id:{dms_id}")  # writers of one DMS id queue here (clientdesk.locks)
    for attempt in range(2):
        existing = Client.objects.select_for_update().filter(dms_id=dms_id).first()
        if existing is not None:
            while existing.merged_into_id:
                existing = existing.merged_into
            refuse_stale(existing, sent=fields.get("dms_updated_at"))
            return client_update(client=existing, by=by, name=name, phones=phones, **fields), False
        try:
            with transaction.atomic():
                created = {**DMS_CLIENT_DEFAULTS, **fields}
                return client_create(by=by, dms_id=dms_id, name=name, phones=phones or (), **created), True
        except Conflict as exc:
            # Another writer inserted the same DMS id between our look and our insert: take the update path.
            if attempt or exc.field not in (None, "dms_id"):
                raise
    raise AssertionError("unreachable")  # pragma: no cover


# What a merge decides field by field: the head sees each difference and chooses the side to keep.
MERGE_CHOICE_FIELDS = (
    "kind",
    "name",
    "email",
    "preferred_contact_time",
    "assigned_manager",
    "consent_personal_data",
    "consent_marketing",
)
KEEP_TARGET, KEEP_SOURCE = "target", "source"
_CONSENT_STAMPS = dict(CONSENTS)


@dataclass(frozen=True)
class MergeDifference:
    """One thing the merge decides: the field, both sides' values (a consent as (given, date)), the side kept unless
    the head chooses otherwise; for a consent, when either side withdrew it (None: never withdrawn)."""

    field: str
    target_value: object
    source_value: object
    default: str
    target_withdrawn_at: datetime | None = None
    source_withdrawn_at: datetime | None = None

    @property
    def is_consent(self) -> bool:
        return self.field in _CONSENT_STAMPS


def _merge_value(client: Client, name: str):
    if name in _CONSENT_STAMPS:
        return (getattr(client, name), getattr(client, _CONSENT_STAMPS[name]))
    if name == "assigned_manager":
        return client.assigned_manager_id
    return getattr(client, name)


def consent_withdrawn_at(client: Client, flag: str) -> datetime | None:
    """When the client withdrew this consent (its last given → not given change in the history), or None when it is
    given now or was never given."""
    if getattr(client, flag):
        return None
    given = client.history.filter(**{flag: True}).order_by("-history_date").values_list("history_date", flat=True)
    last_given = given.first()
    if last_given is None:
        return None
    withdrawn = client.history.filter(**{flag: False, "history_date__gt": last_given}).order_by("history_date")
    return withdrawn.values_list("history_date", flat=True).first()


def merge_differences(*, source: Client, target: Client) -> list[MergeDifference]:
    """Every field on which the two cards differ and the merge must decide, with its default: the target's value,
    a blank of the target's filled from the duplicate; a consent the duplicate withdrew stays withdrawn, and one the
    target withdrew is not replaced by the duplicate's, so a withdrawal is never silently turned into a consent."""
    differences = []
    for name in MERGE_CHOICE_FIELDS:
        mine, theirs = _merge_value(target, name), _merge_value(source, name)
        if mine == theirs:
            continue
        if name in _CONSENT_STAMPS:
            target_withdrawn, source_withdrawn = consent_withdrawn_at(target, name), consent_withdrawn_at(source, name)
            default = KEEP_SOURCE if source_withdrawn and mine[0] else KEEP_TARGET
            differences.append(MergeDifference(name, mine, theirs, default, target_withdrawn, source_withdrawn))
        else:
            default = KEEP_SOURCE if mine in ("", None) else KEEP_TARGET
            differences.append(MergeDifference(name, mine, theirs, default))
    return differences


def _merge_choices(differences: list[MergeDifference], keep: Mapping[str, str] | None) -> dict[str, str]:
    keep = dict(keep or {})
    unknown = sorted(set(keep) - set(MERGE_CHOICE_FIELDS))
    bad = sorted(name for name, side in keep.items() if side not in (KEEP_TARGET, KEEP_SOURCE))
    if unknown or bad:
        raise ValidationError(_("Choose, for each difference, the client kept or the duplicate."))
    return {d.field: keep.get(d.field, d.default) for d in differences}


@transaction.atomic
def client_merge(*, source: Client, target: Client, by: User, keep: Mapping[str, str] | None = None) -> Client:
    """Merge the duplicate `source` into `target`.

    `keep` says, for each difference the merge decides (`merge_differences`), whose value stays: "target" or
    "source"; a difference not named takes its default (see `merge_differences`). The merge's record in the target's
    history shows every value taken from the duplicate.

    Everything that points at the source (vehicles, calls, and whatever later apps add) moves to the target, each
    move recorded in its history. Phones the target lacks move too. The source stays, marked as merged, so its
    history and old links survive; its DMS id passes to the target if the target has none.
    """
    if source.pk == target.pk:
        raise ValidationError(_("A client cannot be merged into itself."))
    locked = {c.pk: c for c in Client.objects.select_for_update().filter(pk__in=[source.pk, target.pk]).order_by("pk")}
    source, target = locked[source.pk], locked[target.pk]
    if source.is_merged or target.is_merged:
        raise Conflict(_("One of these clients has already been merged."))
    choices = _merge_choices(merge_differences(source=source, target=target), keep)

    target_numbers = set(target.phones.values_list("number", flat=True))
    for phone in source.phones.all():
        if phone.number not in target_numbers:
            phone.client, phone.is_primary = target, False
            phone._history_user = by
            phone.save(update_fields=["client", "is_primary"])
    if not target.phones.filter(is_primary=True).exists():
        first = target.phones.order_by("id").first()
        if first is not None:
            first.is_primary = True
            first._history_user = by
            first.save(update_fields=["is_primary"])
    _move_related(source=source, target=target, by=by)

    for name, side in choices.items():
        if side != KEEP_SOURCE:
            continue
        if name in _CONSENT_STAMPS:
            setattr(target, _CONSENT_STAMPS[name], getattr(source, _CONSENT_STAMPS[name]))
        attribute = "assigned_manager_id" if name == "assigned_manager" else name
        setattr(target, attribute, getattr(source, attribute))
    if source.notes:
        target.notes = f"{target.notes}\n\n{source.notes}".strip()
    moved_dms_id = source.dms_id if source.dms_id and not target.dms_id else ""

    source.merged_into, source.merged_at = target, timezone.now()
    if moved_dms_id:
        source.dms_id = ""
    _save(source, by=by, reason=f"merged into #{target.pk}")
    if moved_dms_id:
        target.dms_id = moved_dms_id
    # The merge's record in the target's history shows each value taken from the duplicate (old → new); a
    # difference decided for the target leaves its value, so the record is the choice.
    _save(target, by=by, reason=f"merged #{source.pk} into this client")
    return target


def _move_related(*, source: Client, target: Client, by: User) -> None:
    """Re-point every row of every model that refers to a client (except phones, handled above)."""
    for relation in Client._meta.related_objects:
        model = relation.related_model
        if model is ClientPhone or issubclass(model, HistoricalChanges) or not relation.one_to_many:
            continue
        field = relation.field.name
        for row in model._default_manager.filter(**{field: source}):
            setattr(row, field, target)
            row._history_user = by
            row._change_reason = f"client #{source.pk} merged into #{target.pk}"
            row.save(update_fields=[field])


# --- vehicles ----------------------------------------------------------------------------------------------------


def _normalise_vehicle_fields(fields: dict) -> dict:
    errors: dict[str, list] = {}
    if "dms_id" in fields:
        fields["dms_id"] = normalize_dms_id(fields["dms_id"])
    for name, normalise in (("vin", normalize_vin), ("plate", normalize_plate)):
        if name in fields:
            try:
                fields[name] = normalise(fields[name] or "")
            except ValidationError as exc:
                errors[name] = exc.messages
    if errors:
        raise ValidationError(errors)
    return fields


def _ensure_vin_free(vin: str, *, exclude_pk=None) -> None:
    if not vin:
        return
    clash = Vehicle.objects.select_related("owner").filter(vin=vin).exclude(pk=exclude_pk).first()
    if clash is not None:
        raise Conflict(
            _(
                "VIN %(vin)s is already on file: %(vehicle)s of %(owner)s. "
                "If that is the same person, merge the clients."
            )
            % {"vin": vin, "vehicle": clash, "owner": clash.owner},
            field="vin",
            existing=clash,
        )


@transaction.atomic
def vehicle_create(*, by: User | None, owner: Client, **fields) -> Vehicle:
    _check_fields(fields, VEHICLE_FIELDS - {"owner"}, "vehicle_create")
    if owner.is_merged:
        raise Conflict(_("This client was merged into %(target)s.") % {"target": owner.merged_into}, field="owner")
    vehicle = Vehicle(owner=owner, **_normalise_vehicle_fields(fields))
    _ensure_vin_free(vehicle.vin)
    _ensure_dms_id_free(Vehicle, vehicle.dms_id)
    _save(vehicle, by=by)
    events.publish(VehiclesChanged(created=(vehicle.pk,), by_id=by.pk if by else None))
    return vehicle


@transaction.atomic
def vehicle_update(*, vehicle: Vehicle, by: User | None, **fields) -> Vehicle:
    _check_fields(fields, VEHICLE_FIELDS, "vehicle_update")
    vehicle = Vehicle.objects.select_for_update().get(pk=vehicle.pk)
    owner = fields.get("owner")
    if owner is not None and owner.is_merged:
        raise Conflict(_("This client was merged into %(target)s.") % {"target": owner.merged_into}, field="owner")
    stored = stored_values(vehicle)
    for name, value in _normalise_vehicle_fields(fields).items():
        setattr(vehicle, name, value)
    _ensure_vin_free(vehicle.vin, exclude_pk=vehicle.pk)
    _ensure_dms_id_free(Vehicle, vehicle.dms_id, exclude_pk=vehicle.pk)
    if stored_values(vehicle) != stored:
        _save(vehicle, by=by)
        events.publish(VehiclesChanged(updated=(vehicle.pk,), by_id=by.pk if by else None))
    return vehicle


@transaction.atomic
def vehicle_upsert_by_dms_id(*, by: User | None, dms_id: str, owner: Client, **fields) -> tuple[Vehicle, bool]:
    """Create or update the vehicle the DMS knows as `dms_id`. Returns (vehicle, created)."""
    fields.pop("dms_id", None)
    dms_id = _required_dms_id(dms_id)
    lock_for(f"clients.Vehicle.dms_id:{dms_id}")  # writers of one DMS id queue here (clientdesk.locks)
    while owner.merged_into_id:
        owner = owner.merged_into
    for attempt in range(2):
        existing = Vehicle.objects.select_for_update().filter(dms_id=dms_id).first()
        if existing is not None:
            refuse_stale(existing, sent=fields.get("dms_updated_at"))
            return vehicle_update(vehicle=existing, by=by, owner=owner, **fields), False
        try:
            with transaction.atomic():
                return vehicle_create(by=by, owner=owner, dms_id=dms_id, **fields), True
        except Conflict as exc:
            if attempt or exc.field not in (None, "dms_id"):
                raise
    raise AssertionError("unreachable")  # pragma: no cover
