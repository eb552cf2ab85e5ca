"""Transfer registries (реестры передачи): documents handed to accounting or to the archive together.

A registry is numbered by a yearly sequence (`Р-2026-00001`), taken under an advisory lock so two registries made at
once never share a number (the unique (year, sequence) guards it on the database). A document travels in at most one
registry at a time. When the receiving side confirms, every document in the registry moves state in one transaction
(the registry and its documents locked first): handed to accounting, or archived in the registry's box and shelf. If
any of them cannot move (lost meanwhile, moved by hand), nothing moves and the confirmation is refused.
"""

from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from clientdesk.calendar import local_date
from clientdesk.errors import Conflict
from clientdesk.locks import lock_for
from documents.models import Document, Registry, RegistryItem
from documents.services.documents import check_step, document_transition

D = Registry.Destination
S = Document.State

# Which documents may travel to each destination, and the state they reach when received.
ELIGIBLE = {D.ACCOUNTING: (S.SIGNED,), D.ARCHIVE: (S.SIGNED, S.AT_ACCOUNTING, S.TO_ARCHIVE)}
ARRIVED_STATE = {D.ACCOUNTING: S.AT_ACCOUNTING, D.ARCHIVE: S.ARCHIVED}
MAX_DOCUMENTS = 500


def _save(registry: Registry, *, by: User | None, reason: str = "") -> None:
    registry.full_clean(exclude=["created_by", "received_by"], validate_constraints=False)
    registry._history_user = by
    if reason:
        registry._change_reason = reason
    registry.save()


def _next_sequence(year: int) -> int:
    lock_for(f"documents.Registry.year:{year}")
    last = Registry.objects.filter(year=year).aggregate(last=Max("sequence"))["last"]
    return (last or 0) + 1


@transaction.atomic
def registry_create(
    *,
    by: User | None,
    destination: str,
    documents: Iterable[Document],
    note: str = "",
    archive_box: str = "",
    archive_shelf: str = "",
) -> Registry:
    """Make a numbered registry of the documents picked. Each must be in a state that may travel there and not already
    on its way in another registry."""
    ids = sorted({document.pk for document in documents})
    if not ids:
        raise ValidationError({"documents": _("Pick at least one document.")})
    if len(ids) > MAX_DOCUMENTS:
        raise ValidationError(
            {"documents": _("A registry holds at most %(count)d documents.") % {"count": MAX_DOCUMENTS}}
        )
    if destination not in D.values:
        raise ValidationError({"destination": _("Choose where the documents go.")})
    locked = list(Document.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
    wrong = [document for document in locked if document.state not in ELIGIBLE[destination]]
    if wrong:
        raise ValidationError(
            {
                "documents": _("These documents cannot go to %(to)s now: %(list)s.")
                % {"to": D(destination).label.lower(), "list": ", ".join(str(d) for d in wrong[:10])}
            }
        )
    busy = list(RegistryItem.objects.filter(document_id__in=ids, open=True).select_related("registry", "document"))
    if busy:
        raise Conflict(
            _("Already on their way in another registry: %(list)s.")
            % {"list": ", ".join(f"{item.document} ({item.registry})" for item in busy[:10])},
            field="documents",
        )
    now = timezone.now()
    year = local_date(now).year
    registry = Registry(
        year=year,
        sequence=_next_sequence(year),
        destination=destination,
        note=(note or "").strip(),
        archive_box=(archive_box or "").strip(),
        archive_shelf=(archive_shelf or "").strip(),
        created_by=by,
    )
    _save(registry, by=by)
    try:
        with transaction.atomic():
            RegistryItem.objects.bulk_create(RegistryItem(registry=registry, document_id=pk) for pk in ids)
    except IntegrityError as exc:
        raise Conflict(_("A document was put in another registry meanwhile."), field="documents") from exc
    return registry


def _locked(registry: Registry) -> Registry:
    return Registry.objects.select_for_update().get(pk=registry.pk)


@transaction.atomic
def registry_confirm_received(
    *,
    registry: Registry,
    by: User,
    received_name: str = "",
    archive_box: str = "",
    archive_shelf: str = "",
    at: datetime | None = None,
) -> Registry:
    """The receiving side signed for the documents: all of them move (to accounting, or archived in the box and
    shelf), or none does."""
    registry = _locked(registry)
    if registry.state != Registry.State.SENT:
        raise Conflict(
            _("Registry %(number)s is already %(state)s.")
            % {"number": registry.number, "state": registry.get_state_display().lower()},
            field="state",
        )
    to = ARRIVED_STATE[registry.destination]
    box = (archive_box or registry.archive_box).strip()
    shelf = (archive_shelf or registry.archive_shelf).strip()
    if to == S.ARCHIVED and not box:
        raise ValidationError({"archive_box": _("Say which box the documents are filed in.")})
    items = list(registry.items.select_related(None).order_by("document_id"))
    documents = list(Document.objects.select_for_update().filter(pk__in=[i.document_id for i in items]).order_by("pk"))
    for document in documents:
        check_step(document, to=to, by=by)
    for document in documents:
        document_transition(
            document=document,
            by=by,
            to=to,
            comment=registry.number,
            archive_box=box,
            archive_shelf=shelf,
            registry=registry,
        )
    registry.items.update(open=False)
    registry.state = Registry.State.RECEIVED
    registry.received_at = at or timezone.now()
    registry.received_by = by
    registry.received_name = (received_name or "").strip()
    registry.archive_box, registry.archive_shelf = box, shelf
    _save(registry, by=by, reason="received")
    return registry


@transaction.atomic
def registry_cancel(*, registry: Registry, by: User, reason: str) -> Registry:
    """The registry did not go (made by mistake): its documents are free to travel in another one."""
    registry = _locked(registry)
    if registry.state != Registry.State.SENT:
        raise Conflict(_("Only a registry on its way can be cancelled."), field="state")
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say why.")})
    registry.items.update(open=False)
    registry.state = Registry.State.CANCELLED
    registry.note = f"{registry.note}\n{reason.strip()}".strip()[:300]
    _save(registry, by=by, reason=reason.strip())
    return registry
