"""Every write to a document: register it, change its details, push it from the DMS, move it along its states.

A document lives along `TRANSITIONS`:

    draft → approved by the head → endorsed by legal → signed          (contracts needing approval)
    expected → signed by the client → handed to accounting / sent to the archive → archived (box / shelf)
    any paper still on file → lost (with the reason) → replaced (by which new paper, with the reason)

Each step is checked against the table (an illegal one is a `Conflict`, HTTP 409, and changes nothing), may need a
capability of whoever takes it (the head approves, legal endorses), and leaves a `DocumentTransition` (who, when, from,
to, comment) beside the row's own history.
"""

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from accounts.roles import Capability, Role
from bookings.models import Booking
from clientdesk import events
from clientdesk.errors import Conflict
from clientdesk.locks import lock_for
from clientdesk.notify import notify
from clients.models import Client, Delivery, Vehicle
from documents.events import DocumentRegistered, DocumentStateChanged
from documents.models import Document, DocumentTransition

S = Document.State

# Who may send a contract back to draft: the head (withdrawing the approval) or legal (refusing to endorse).
REVIEWERS = (Capability.APPROVE_CONTRACTS, Capability.ENDORSE_CONTRACTS)
# from → {to: the capability the step needs (any one of a tuple) instead of EDIT_DOCUMENTS, or None}
TRANSITIONS: dict[str, dict[str, Capability | tuple[Capability, ...] | None]] = {
    S.DRAFT: {S.APPROVED: Capability.APPROVE_CONTRACTS},
    S.APPROVED: {S.ENDORSED: Capability.ENDORSE_CONTRACTS, S.DRAFT: REVIEWERS},
    S.ENDORSED: {S.SIGNED: None, S.DRAFT: REVIEWERS},
    S.EXPECTED: {S.SIGNED: None, S.LOST: None},
    S.SIGNED: {S.AT_ACCOUNTING: None, S.TO_ARCHIVE: None, S.ARCHIVED: None, S.LOST: None, S.REPLACED: None},
    S.AT_ACCOUNTING: {S.TO_ARCHIVE: None, S.ARCHIVED: None, S.LOST: None, S.REPLACED: None},
    S.TO_ARCHIVE: {S.ARCHIVED: None, S.LOST: None},
    S.ARCHIVED: {S.LOST: None, S.REPLACED: None},
    S.LOST: {S.REPLACED: None},
    S.REPLACED: {},
}
# Steps that need the reason written down.
NEEDS_COMMENT = {S.LOST, S.REPLACED}
# A contract sent back to draft needs the reason too.
RETURNS = {(S.APPROVED, S.DRAFT), (S.ENDORSED, S.DRAFT)}
# The capability a step needs when the table names none.
DEFAULT_CAPABILITY = Capability.EDIT_DOCUMENTS

# The verbs shown on the buttons, by target state.
ACTION_LABELS = {
    S.APPROVED: gettext_lazy("Approve"),
    S.ENDORSED: gettext_lazy("Endorse"),
    S.DRAFT: gettext_lazy("Return to draft"),
    S.SIGNED: gettext_lazy("Signed by the client"),
    S.AT_ACCOUNTING: gettext_lazy("Handed to accounting"),
    S.TO_ARCHIVE: gettext_lazy("Sent to the archive"),
    S.ARCHIVED: gettext_lazy("Archived"),
    S.LOST: gettext_lazy("Lost"),
    S.REPLACED: gettext_lazy("Replaced"),
}

EDITABLE_FIELDS = (
    "kind",
    "number",
    "issued_on",
    "title",
    "notes",
    "client",
    "vehicle",
    "delivery",
    "booking",
    "original",
)


def required_capabilities(from_state: str, to_state: str) -> tuple[Capability, ...]:
    """The capabilities of which the step needs one; empty when the step is not in the table."""
    steps = TRANSITIONS.get(from_state, {})
    if to_state not in steps:
        return ()
    needed = steps[to_state] or DEFAULT_CAPABILITY
    return needed if isinstance(needed, tuple) else (needed,)


def may_take(user: User | None, from_state: str, to_state: str) -> bool:
    """Whether `user` may take the step (None: the system, which may take any step the table allows)."""
    needed = required_capabilities(from_state, to_state)
    return bool(needed) and (user is None or any(user.has_capability(c) for c in needed))


def allowed_steps(document: Document, user: User | None = None) -> list[str]:
    """The states the document may move to next (those `user` may take, when given)."""
    steps = []
    for to_state in TRANSITIONS.get(document.state, {}):
        if may_take(user, document.state, to_state):
            steps.append(to_state)
    return steps


def _save(document: Document, *, by: User | None, reason: str = "") -> None:
    document.full_clean(exclude=["created_by", "replaced_by"], validate_constraints=False)
    # Registered as a draft, or a draft given another kind: the constraint would refuse it, here it is the kind's error.
    if document.state in Document.APPROVAL_STATES and document.kind not in Document.CONTRACT_KINDS:
        raise ValidationError({"kind": _("Only contracts and supplementary agreements go through approval.")})
    document._history_user = by
    if reason:
        document._change_reason = reason
    try:
        with transaction.atomic():
            document.save()
    except IntegrityError as exc:
        text = str(exc)
        if "document_dms_id_unique" in text:
            raise Conflict(_("Another document has this DMS id."), field="dms_id") from exc
        if "document_one_expected_per_delivery" in text:
            raise Conflict(_("This delivery already has this document."), field="kind") from exc
        raise


def _fill_links(document: Document) -> None:
    """A document of a delivery or a booking belongs to its client and car too, unless told otherwise."""
    source = document.delivery or document.booking
    if source is not None:
        if document.client_id is None:
            document.client_id = source.client_id
        if document.vehicle_id is None and source.vehicle_id is not None:
            document.vehicle_id = source.vehicle_id
    if document.vehicle_id is not None and document.client_id is None:
        document.client_id = Vehicle.objects.filter(pk=document.vehicle_id).values_list("owner_id", flat=True).first()


def _record(document: Document, *, by: User | None, previous: str, to: str, comment: str = "", registry=None) -> None:
    DocumentTransition.objects.create(
        document=document,
        from_state=previous,
        to_state=to,
        at=document.state_changed_at or timezone.now(),
        by=by,
        comment=comment[:300],
        registry=registry,
    )


@transaction.atomic
def document_register(
    *,
    by: User | None,
    kind: str,
    issued_on: date,
    client: Client | None = None,
    vehicle: Vehicle | None = None,
    delivery: Delivery | None = None,
    booking: Booking | None = None,
    number: str = "",
    title: str = "",
    original: bool = True,
    dms_id: str | None = None,
    notes: str = "",
    state: str | None = None,
    needs_approval: bool = False,
) -> Document:
    """Put a document on file. It starts `expected` (the paper is awaited), or `draft` when it is a contract that needs
    the head's approval and legal's endorsement (`needs_approval`), or in the `state` given (a paper that arrives
    signed: `signed`)."""
    if needs_approval:
        if kind not in Document.CONTRACT_KINDS:
            raise ValidationError({"kind": _("Only contracts and supplementary agreements go through approval.")})
        state = S.DRAFT
    state = state or S.EXPECTED
    if state not in (S.DRAFT, S.EXPECTED, S.SIGNED):
        raise ValidationError({"state": _("A new document is a draft, expected or signed.")})
    document = Document(
        kind=kind,
        issued_on=issued_on,
        client=client,
        vehicle=vehicle,
        delivery=delivery,
        booking=booking,
        number=(number or "").strip(),
        title=(title or "").strip(),
        notes=(notes or "").strip(),
        original=original,
        dms_id=(dms_id or "").strip(),
        state=state,
        state_changed_at=timezone.now(),
        created_by=by,
    )
    _fill_links(document)
    _save(document, by=by)
    _record(document, by=by, previous="", to=state)
    _tell_next_approver(document, by=by)
    events.publish(DocumentRegistered(document_id=document.pk, by_id=getattr(by, "pk", None)))
    return document


def _tell_next_approver(document: Document, *, by: User | None) -> None:
    """A contract on its way to signature is announced to whoever takes its next step: a draft to the head, an
    approved one to legal, an endorsed one (or one sent back) to whoever registered it."""
    title = {
        S.DRAFT: _("A contract awaits your approval: %(document)s"),
        S.APPROVED: _("A contract awaits your endorsement: %(document)s"),
        S.ENDORSED: _("The contract is endorsed and may be signed: %(document)s"),
    }.get(document.state)
    if title is None:
        return
    if document.state == S.DRAFT and document.created_by_id and document.created_by_id != getattr(by, "pk", None):
        users = [document.created_by_id]  # sent back: its author corrects it
        title = _("A contract was sent back to draft: %(document)s")
    elif document.state == S.DRAFT:
        users = User.objects.filter(role=Role.HEAD, is_active=True)
    elif document.state == S.APPROVED:
        users = User.objects.filter(role=Role.LEGAL, is_active=True)
    else:
        users = [document.created_by_id]
    notify(users=users, title=title % {"document": document}, url=document.get_absolute_url())


def _locked(document: Document) -> Document:
    return Document.objects.select_for_update().get(pk=document.pk)


@transaction.atomic
def document_update(*, document: Document, by: User | None, **fields) -> Document:
    """Change a document's details (not its state: that is `document_transition`)."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"document_update does not change {sorted(unknown)}")
    document = _locked(document)
    for name, value in fields.items():
        if isinstance(value, str):
            value = value.strip()
        setattr(document, name, value)
    _fill_links(document)
    _save(document, by=by)
    return document


@transaction.atomic
def document_upsert_dms(*, by: User | None, dms_id: str, **fields) -> tuple[Document, bool]:
    """The DMS pushes a document by its id: created the first time, updated after. A paper the delivery already
    expects (made when the car was handed over) is adopted instead of duplicated. Returns (document, created).
    A pushed `state` of `signed` signs an expected document; other states are moved with `document_transition`."""
    dms_id = (dms_id or "").strip()
    if not dms_id:
        raise ValidationError({"dms_id": _("The DMS id is required.")})
    signed = fields.pop("state", None) == S.SIGNED
    lock_for(f"documents.Document.dms:{dms_id}")
    document = Document.objects.select_for_update().filter(dms_id=dms_id).first()
    created = False
    if document is None and fields.get("delivery") is not None and fields.get("kind") in Document.DELIVERY_KINDS:
        lock_for(f"documents.delivery:{fields['delivery'].pk}")
        document = (
            Document.objects.select_for_update()
            .filter(delivery=fields["delivery"], kind=fields["kind"], original=True, dms_id="")
            .exclude(state__in=Document.GONE_STATES)
            .first()
        )
    if document is None:
        document = document_register(by=by, dms_id=dms_id, state=S.SIGNED if signed else None, **fields)
        created = True
    else:
        document.dms_id = dms_id
        document = _update_fields(document, by=by, fields=fields)
        if signed and document.state == S.EXPECTED:
            document = document_transition(document=document, by=by, to=S.SIGNED, comment="DMS")
    return document, created


def _update_fields(document: Document, *, by: User | None, fields: dict) -> Document:
    for name, value in fields.items():
        if name not in EDITABLE_FIELDS:
            raise TypeError(f"a DMS push does not change {name}")
        setattr(document, name, value.strip() if isinstance(value, str) else value)
    _fill_links(document)
    _save(document, by=by)
    return document


def check_step(document: Document, *, to: str, by: User | None) -> None:
    """Refuse a step the table does not allow (Conflict) or the user may not take (PermissionDenied)."""
    if to not in S.values:
        raise ValidationError({"to": _("Unknown state.")})
    if to not in TRANSITIONS.get(document.state, {}):
        raise Conflict(
            _("A document that is “%(state)s” cannot become “%(to)s”.")
            % {"state": document.get_state_display(), "to": S(to).label},
            field="state",
        )
    if not may_take(by, document.state, to):
        raise PermissionDenied(_("You may not take this step."))


@transaction.atomic
def document_transition(
    *,
    document: Document,
    by: User | None,
    to: str,
    comment: str = "",
    archive_box: str = "",
    archive_shelf: str = "",
    replaced_by: Document | None = None,
    registry=None,
) -> Document:
    """Move a document one step along `TRANSITIONS`, recorded. Lost and replaced need the reason; archived needs the
    box (and, if known, the shelf); a contract sent back to draft needs the reason."""
    document = _locked(document)
    previous = document.state
    check_step(document, to=to, by=by)
    comment = (comment or "").strip()
    if (to in NEEDS_COMMENT or (previous, to) in RETURNS) and not comment:
        raise ValidationError({"comment": _("Say why.")})
    if to == S.ARCHIVED:
        box = (archive_box or document.archive_box).strip()
        if not box:
            raise ValidationError({"archive_box": _("Say which box the document is filed in.")})
        document.archive_box = box
        document.archive_shelf = (archive_shelf or document.archive_shelf).strip()
    if to == S.REPLACED and replaced_by is not None:
        if replaced_by.pk == document.pk:
            raise ValidationError({"replaced_by": _("A document cannot replace itself.")})
        document.replaced_by = replaced_by
    document.state = to
    document.state_changed_at = timezone.now()
    _save(document, by=by, reason=comment)
    _record(document, by=by, previous=previous, to=to, comment=comment, registry=registry)
    if to in Document.APPROVAL_STATES:
        _tell_next_approver(document, by=by)
    events.publish(
        DocumentStateChanged(document_id=document.pk, from_state=previous, to_state=to, by_id=getattr(by, "pk", None))
    )
    return document
