"""Every write to claims and their categories: one function per business action, keyword-only, transactional, recorded.

A claim moves along `ALLOWED_TRANSITIONS`; any other step is refused with a Conflict (HTTP 409) and changes nothing.
Escalation tells the addressed management (every active user of that role) in the page header and by e-mail at
once; a decision is taken by the head or by the management the claim was escalated to; "client informed" needs a
logged call with the client or the answer letter recorded as sent; only then may the claim be closed (the database
refuses it too). The deadline watch (`claims_watch_deadlines`, run by beat) tells the assignee and the head once per
claim and state, the unique `ClaimDeadlineNotice` row deciding between two runs.
"""

from datetime import date, datetime, timedelta
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import User
from accounts.roles import Capability, Role
from bookings.models import Booking
from calls.models import Call
from calls.services.calls import call_log
from claims.models import (
    Claim,
    ClaimAttachment,
    ClaimCategory,
    ClaimCounter,
    ClaimDeadlineNotice,
    ClaimDueChange,
    ClaimTransition,
)
from clientdesk.calendar import BusinessCalendar, at, local_date, local_zone
from clientdesk.errors import Conflict
from clientdesk.notify import notify
from clientdesk.timefmt import local_date_text
from clientdesk.uploads import JPEG, PDF, PNG, accept_upload, sniff
from clients.models import Client, Delivery, Vehicle
from documents.models import Document
from documents.services.documents import document_register
from fleet.models import Reservation

S = Claim.Status
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    S.REGISTERED: frozenset({S.UNDER_REVIEW, S.ESCALATED, S.DECIDED}),
    S.UNDER_REVIEW: frozenset({S.ESCALATED, S.DECIDED}),
    S.ESCALATED: frozenset({S.DECIDED, S.UNDER_REVIEW}),
    S.DECIDED: frozenset({S.INFORMED, S.UNDER_REVIEW}),
    S.INFORMED: frozenset({S.CLOSED, S.UNDER_REVIEW}),
    S.CLOSED: frozenset({S.UNDER_REVIEW}),
}
# Back to review from a decision or later is a reopening: it needs a reason.
REOPEN_FROM = frozenset({S.DECIDED, S.INFORMED, S.CLOSED})
# "Due soon": the due date is at most this many working days ahead.
DUE_SOON_WORKING_DAYS = 2
ATTACHMENT_KINDS = (PDF, JPEG, PNG)


# --- numbers and due dates ---------------------------------------------------------------------------------------


def next_claim_number(year: int) -> str:
    """The next number of the year, `П-2026-00042`: the year's counter row is locked until the transaction ends, so
    concurrent registrations queue for it and never share a number."""
    ClaimCounter.objects.bulk_create([ClaimCounter(year=year, last=0)], ignore_conflicts=True)
    counter = ClaimCounter.objects.select_for_update().get(year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"П-{year}-{counter.last:05d}"


def claim_due_date(*, category: ClaimCategory, received_at: datetime, agreed_term_days: int | None = None) -> date:
    """The day the answer is due: the category's term in calendar days from the day the claim was received (local
    date), or the term agreed in writing where the category takes one, never more than the category's maximum."""
    days = category.term_days
    if category.term_agreed:
        if not agreed_term_days:
            raise ValidationError({"agreed_term_days": _("Give the term agreed with the client in writing.")})
        limit = category.max_term_days or category.term_days
        if agreed_term_days > limit:
            raise ValidationError(
                {"agreed_term_days": _("The agreed term is at most %(days)s days.") % {"days": limit}}
            )
        days = agreed_term_days
    return local_date(received_at) + timedelta(days=days)


def due_soon_limit(today: date, *, calendar: BusinessCalendar | None = None) -> date:
    """The last due date that counts as "due soon" today: the second working day from today."""
    calendar = calendar or BusinessCalendar()
    day = today
    for _n in range(DUE_SOON_WORKING_DAYS):
        day = calendar.next_working_day(day)
    return day


# --- helpers ---------------------------------------------------------------------------------------------------------


def _save(instance, *, by: User | None, reason: str = "", exclude=()) -> None:
    instance.full_clean(exclude=["created_by", *exclude], validate_constraints=False)
    instance._history_user = by
    if reason:
        instance._change_reason = reason
    instance.save()


def _locked(claim: Claim) -> Claim:
    return Claim.objects.select_for_update().get(pk=claim.pk)


def _move(claim: Claim, *, by: User | None, to: str, comment: str = "", call: Call | None = None, **fields) -> Claim:
    """Change the (locked) claim's status along the allowed transitions, record the step, save the fields."""
    previous = claim.status
    if to not in ALLOWED_TRANSITIONS.get(previous, frozenset()):
        raise Conflict(
            _("A claim that is %(current)s cannot become %(target)s.")
            % {"current": Claim.Status(previous).label.lower(), "target": Claim.Status(to).label.lower()},
            field="status",
        )
    claim.status = to
    for name, value in fields.items():
        setattr(claim, name, value)
    _save(claim, by=by, reason=comment[:100])
    ClaimTransition.objects.create(claim=claim, from_status=previous, to_status=to, by=by, comment=comment, call=call)
    return claim


def claim_url(claim: Claim) -> str:
    return reverse("claims:detail", args=[claim.pk])


# --- categories ----------------------------------------------------------------------------------------------------

CATEGORY_FIELDS = ("code", "name", "term_days", "term_agreed", "max_term_days", "basis", "is_active", "order")


@transaction.atomic
def claim_category_save(*, by: User | None, category: ClaimCategory | None = None, **fields) -> ClaimCategory:
    """Add a category or change one (its term applies to claims received from now on: a claim's due date is
    computed when it is received and stays)."""
    unknown = set(fields) - set(CATEGORY_FIELDS)
    if unknown:
        raise TypeError(f"claim_category_save does not change {sorted(unknown)}")
    if category is None:
        category = ClaimCategory()
    else:
        category = ClaimCategory.objects.select_for_update().get(pk=category.pk)
    for name, value in fields.items():
        setattr(category, name, value.strip() if isinstance(value, str) else value)
    if category.max_term_days is not None and category.max_term_days < category.term_days:
        raise ValidationError({"max_term_days": _("The maximum term cannot be shorter than the term.")})
    category.full_clean(validate_constraints=False)
    category._history_user = by
    category.save()
    return category


# --- registering ---------------------------------------------------------------------------------------------------


def _check_links(
    *,
    client: Client,
    vehicle: Vehicle | None,
    booking: Booking | None,
    delivery: Delivery | None,
    call: Call | None,
    loaner: Reservation | None = None,
) -> None:
    errors = {}
    if client.merged_into_id:
        errors["client"] = _("This client was merged into %(target)s.") % {"target": client.merged_into}
    if vehicle is not None and vehicle.owner_id != client.pk:
        errors["vehicle"] = _("This vehicle belongs to another client.")
    if booking is not None and booking.client_id != client.pk:
        errors["booking"] = _("This visit is another client's.")
    if delivery is not None and delivery.client_id != client.pk:
        errors["delivery"] = _("This delivery is another client's.")
    if call is not None and call.client_id not in (None, client.pk):
        errors["source_call"] = _("This call was with another client.")
    if loaner is not None and loaner.client_id != client.pk:
        errors["loaner"] = _("This loaner car was another client's.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def claim_register(
    *,
    by: User,
    client: Client,
    category: ClaimCategory,
    client_words: str,
    demand: str,
    kind: str = Claim.Kind.ORAL,
    channel: str = Claim.Channel.PHONE,
    received_at: datetime | None = None,
    agreed_term_days: int | None = None,
    vehicle: Vehicle | None = None,
    booking: Booking | None = None,
    delivery: Delivery | None = None,
    source_call: Call | None = None,
    loaner: Reservation | None = None,
    assignee: User | None = None,
    files=(),
) -> Claim:
    """Register a claim: its number, its due date from the category, the assigned manager (the one registering it
    unless another is named), the scans of a written claim."""
    received_at = received_at or timezone.now()
    if received_at > timezone.now() + timedelta(minutes=5):
        raise ValidationError({"received_at": _("A claim cannot be received in the future.")})
    if not category.is_active:
        raise ValidationError({"category": _("This category is no longer in use.")})
    _check_links(client=client, vehicle=vehicle, booking=booking, delivery=delivery, call=source_call, loaner=loaner)
    if not category.term_agreed:
        agreed_term_days = None
    due = claim_due_date(category=category, received_at=received_at, agreed_term_days=agreed_term_days)
    claim = Claim(
        number="-",
        client=client,
        vehicle=vehicle,
        booking=booking,
        delivery=delivery,
        source_call=source_call,
        loaner=loaner,
        kind=kind,
        channel=channel,
        received_at=received_at,
        client_words=client_words.strip(),
        demand=demand.strip(),
        category=category,
        agreed_term_days=agreed_term_days,
        due_date=due,
        assignee=assignee or by,
        created_by=by,
    )
    claim.full_clean(exclude=["number", "created_by"], validate_constraints=False)
    claim.number = next_claim_number(local_date(received_at).year)
    claim._history_user = by
    claim.save()
    ClaimTransition.objects.create(claim=claim, from_status="", to_status=S.REGISTERED, by=by)
    for file in files:
        claim_attach(claim=claim, by=by, file=file)
    return claim


@transaction.atomic
def claim_attach(*, claim: Claim, by: User | None, file) -> ClaimAttachment:
    """Add a scan or photo: PDF, JPEG or PNG by its content, at most UPLOAD_MAX_MB; anything else is refused with a
    message saying why."""
    try:
        accept_upload(*ATTACHMENT_KINDS)(file)
    except ValidationError as exc:
        raise ValidationError({"file": exc.messages}) from exc
    kind = sniff(file, ATTACHMENT_KINDS)
    name = (getattr(file, "name", "") or "file").rsplit("/", 1)[-1][:200]
    attachment = ClaimAttachment(
        claim=claim, original_name=name, content_type=kind.content_type, size=file.size, uploaded_by=by
    )
    attachment.file.save(name, file, save=False)
    attachment.save()
    return attachment


@transaction.atomic
def claim_change_category(
    *, claim: Claim, by: User, category: ClaimCategory, reason: str, agreed_term_days: int | None = None
) -> Claim:
    """Put the claim in another category (or change the agreed term): the due date is recomputed from the day it was
    received, and the change is recorded with its reason."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the category changes.")})
    claim = _locked(claim)
    if claim.is_answered:
        raise Conflict(_("The client has had the answer: the category no longer changes."), field="category")
    if not category.is_active:
        raise ValidationError({"category": _("This category is no longer in use.")})
    if not category.term_agreed:
        agreed_term_days = None
    new_due = claim_due_date(category=category, received_at=claim.received_at, agreed_term_days=agreed_term_days)
    ClaimDueChange.objects.create(
        claim=claim,
        old_category=claim.category,
        new_category=category,
        old_due_date=claim.due_date,
        new_due_date=new_due,
        reason=reason[:300],
        by=by,
    )
    claim.category, claim.agreed_term_days, claim.due_date = category, agreed_term_days, new_due
    _save(claim, by=by, reason=reason[:100])
    return claim


# --- the status machine ------------------------------------------------------------------------------------------


@transaction.atomic
def claim_review(*, claim: Claim, by: User, comment: str = "") -> Claim:
    """Take a registered claim under review (or send an escalated one back to the department, with a comment)."""
    claim = _locked(claim)
    if claim.status in REOPEN_FROM:
        raise Conflict(_("A decided claim goes back to review only when reopened, with a reason."), field="status")
    return _move(claim, by=by, to=S.UNDER_REVIEW, comment=comment.strip())


def management_users(department: str) -> list[User]:
    return list(User.objects.filter(role=department, is_active=True).order_by("pk"))


@transaction.atomic
def claim_escalate(*, claim: Claim, by: User, to: str, comment: str = "") -> Claim:
    """Hand the claim to the workshop's or the sales department's management: every active user of that role is told
    at once, in the page header and by e-mail."""
    if to not in Claim.Department.values:
        raise ValidationError({"to": _("Choose the workshop's or the sales department's management.")})
    addressees = management_users(to)
    if not addressees:
        raise ValidationError(
            {"to": _("Nobody holds the role %(role)s: ask the head to set it up.") % {"role": Role(to).label}}
        )
    claim = _locked(claim)
    claim = _move(claim, by=by, to=S.ESCALATED, comment=comment.strip(), escalated_to=to)
    notify(
        users=addressees,
        title=_("Claim %(number)s escalated to you") % {"number": claim.number},
        body=_("%(client)s: %(demand)s. The answer is due %(due)s.")
        % {"client": claim.client, "demand": claim.demand[:200], "due": local_date_text(claim.due_date)},
        url=claim_url(claim),
        email=True,
    )
    return claim


def may_decide(user: User, claim: Claim) -> bool:
    """The head decides any claim; a management user the claims escalated to their management."""
    if not user.has_capability(Capability.DECIDE_CLAIMS):
        return False
    if user.has_capability(Capability.MANAGE_CLAIMS):
        return True
    return claim.status == S.ESCALATED and claim.escalated_to == user.role


@transaction.atomic
def claim_decide(
    *,
    claim: Claim,
    by: User,
    outcome: str,
    decision_text: str,
    compensation_kind: str = "",
    compensation_amount: Decimal | None = None,
) -> Claim:
    """Record the decision: the outcome, what the client gets (kind and amount) where anything, the text the answer
    letter carries. The assignee is told."""
    claim = _locked(claim)
    if not may_decide(by, claim):
        raise PermissionDenied(_("Only the head or the management the claim was escalated to decides it."))
    errors = {}
    if outcome not in Claim.Outcome.values:
        errors["outcome"] = _("Choose the outcome.")
    if not decision_text.strip():
        errors["decision_text"] = _("Write the decision: the client's answer is made from it.")
    if compensation_amount is not None and not compensation_kind:
        errors["compensation_kind"] = _("Say what the amount is for.")
    if outcome == Claim.Outcome.REFUSED and (compensation_kind or compensation_amount):
        errors["compensation_kind"] = _("A refused claim gives no compensation.")
    if errors:
        raise ValidationError(errors)
    claim = _move(
        claim,
        by=by,
        to=S.DECIDED,
        comment=decision_text.strip(),
        outcome=outcome,
        decision_text=decision_text.strip(),
        compensation_kind=compensation_kind,
        compensation_amount=compensation_amount,
        decided_by=by,
        decided_at=timezone.now(),
    )
    if claim.assignee_id != by.pk:
        notify(
            users=[claim.assignee_id],
            title=_("Claim %(number)s decided: tell the client") % {"number": claim.number},
            body=claim.get_outcome_display(),
            url=claim_url(claim),
        )
    return claim


@transaction.atomic
def claim_inform_by_call(*, claim: Claim, by: User, call: Call, comment: str = "") -> Claim:
    """The client was told the decision on this logged call (with this client, after the decision)."""
    claim = _locked(claim)
    if claim.status != S.DECIDED:
        raise Conflict(_("The client is informed of a decision: this claim has none yet."), field="status")
    if call.client_id != claim.client_id:
        raise ValidationError({"call": _("This call was with another client.")})
    if claim.decided_at and call.started_at < claim.decided_at - timedelta(minutes=5):
        raise ValidationError({"call": _("This call was before the decision.")})
    return _move(
        claim,
        by=by,
        to=S.INFORMED,
        comment=comment.strip() or call.notes[:300],
        call=call,
        informed_via=Claim.InformedVia.CALL,
        informed_call=call,
        informed_at=call.started_at,
    )


@transaction.atomic
def claim_inform_with_new_call(
    *, claim: Claim, by: User, notes: str, direction: str = Call.Direction.OUTBOUND, duration: int = 0
) -> Claim:
    """Log the call in which the manager told the client the decision, and mark the client informed by it."""
    if not notes.strip():
        raise ValidationError({"notes": _("Write what the client was told.")})
    locked = _locked(claim)
    if locked.status != S.DECIDED:
        raise Conflict(_("The client is informed of a decision: this claim has none yet."), field="status")
    call = call_log(
        by=by,
        direction=direction,
        purpose=Call.Purpose.COMPLAINT,
        outcome=Call.Outcome.TALKED,
        client=locked.client,
        vehicle=locked.vehicle,
        duration=duration,
        notes=notes.strip(),
    )
    return claim_inform_by_call(claim=locked, by=by, call=call)


@transaction.atomic
def claim_letter_sent(*, claim: Claim, by: User, sent_on: date | None = None, comment: str = "") -> Claim:
    """The answer letter made from the decision was sent: the client is informed by letter."""
    claim = _locked(claim)
    if claim.status != S.DECIDED:
        raise Conflict(_("The client is informed of a decision: this claim has none yet."), field="status")
    today = local_date(timezone.now())
    sent_on = sent_on or today
    if sent_on > today:
        raise ValidationError({"sent_on": _("A letter cannot be sent in the future.")})
    if claim.decided_at and sent_on < local_date(claim.decided_at):
        raise ValidationError({"sent_on": _("The letter cannot be sent before the decision.")})
    now = timezone.now()
    # A letter sent on an earlier day: that local day at this local time (not the UTC clock time on the local date).
    informed_at = now if sent_on == today else at(sent_on, timezone.localtime(now, local_zone()).time())
    letters = claim.transitions.filter(to_status=S.INFORMED).count()
    # Our copy of the letter goes on file as a document of kind "claim answer", to be archived with the others.
    document = document_register(
        by=by,
        kind=Document.Kind.CLAIM_ANSWER,
        issued_on=sent_on,
        client=claim.client,
        vehicle=claim.vehicle,
        booking=claim.booking,
        delivery=claim.delivery,
        number=f"{claim.number}-О" + (f"{letters + 1}" if letters else ""),
        title=f"Ответ на претензию {claim.number}",
        original=False,
    )
    return _move(
        claim,
        by=by,
        to=S.INFORMED,
        comment=comment.strip() or gettext_noop("Answer letter sent."),
        informed_via=Claim.InformedVia.LETTER,
        informed_at=informed_at,
        answer_document=document,
    )


@transaction.atomic
def claim_close(*, claim: Claim, by: User, comment: str = "") -> Claim:
    """Close a claim whose client has been informed (never before)."""
    claim = _locked(claim)
    if claim.status != S.INFORMED:
        if claim.status in (S.DECIDED, S.ESCALATED, S.UNDER_REVIEW, S.REGISTERED):
            raise Conflict(_("A claim is closed only after the client was informed of the decision."), field="status")
        raise Conflict(_("This claim is closed already."), field="status")
    return _move(claim, by=by, to=S.CLOSED, comment=comment.strip(), closed_at=timezone.now())


@transaction.atomic
def claim_reopen(*, claim: Claim, by: User, reason: str) -> Claim:
    """Reopen a decided, answered or closed claim (the client came back): back under review, with the reason. The
    decision and the informing stay in the history; the claim needs a new decision."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the claim is reopened.")})
    claim = _locked(claim)
    if claim.status not in REOPEN_FROM:
        raise Conflict(_("Only a decided, answered or closed claim is reopened."), field="status")
    return _move(
        claim,
        by=by,
        to=S.UNDER_REVIEW,
        comment=reason,
        outcome="",
        compensation_kind="",
        compensation_amount=None,
        decision_text="",
        decided_by=None,
        decided_at=None,
        informed_via="",
        informed_call=None,
        informed_at=None,
        answer_document=None,
        closed_at=None,
    )


# --- the deadline watch ------------------------------------------------------------------------------------------


def _head_ids() -> list[int]:
    return list(User.objects.filter(role=Role.HEAD, is_active=True).values_list("pk", flat=True))


def claims_watch_deadlines(*, now: datetime | None = None, limit: int = 500) -> int:
    """Tell the assignee and the head about each open claim that turned due soon (due within two working days) or
    overdue, once per claim and state: the notice row and the notifications commit together, and the unique
    (claim, state) row makes a second run, a retry or a second process running at the same moment tell nobody again.
    Returns how many notices were made."""
    now = now or timezone.now()
    today = local_date(now)
    soon = due_soon_limit(today)
    heads = _head_ids()
    made = 0
    candidates = (
        Claim.objects.open()
        .filter(due_date__lte=soon)
        .select_related("client")
        .only("pk", "number", "due_date", "assignee_id", "client__name")
        .order_by("due_date", "pk")
    )
    noticed = set(
        ClaimDeadlineNotice.objects.filter(claim__in=candidates.values("pk")).values_list("claim_id", "state")
    )
    for claim in candidates[: limit * 2]:
        state = ClaimDeadlineNotice.State.OVERDUE if claim.due_date < today else ClaimDeadlineNotice.State.DUE_SOON
        if (claim.pk, state) in noticed:
            continue
        try:
            with transaction.atomic():
                ClaimDeadlineNotice.objects.create(claim=claim, state=state)
                if state == ClaimDeadlineNotice.State.OVERDUE:
                    title = _("Claim %(number)s is overdue") % {"number": claim.number}
                else:
                    title = _("Claim %(number)s is due soon") % {"number": claim.number}
                body = _("%(client)s: the answer is due %(due)s.") % {
                    "client": claim.client.name,
                    "due": local_date_text(claim.due_date),
                }
                notify(users=[claim.assignee_id, *heads], title=title, body=body, url=claim_url(claim), email=True)
        except IntegrityError:
            continue  # another run noticed it first
        made += 1
        if made >= limit:
            break
    return made
