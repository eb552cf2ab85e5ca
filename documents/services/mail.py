"""The correspondence register: incoming and outgoing letters, faxes and parcels.

Registering an item addressed to someone on staff tells them in-app at once. An item is handed over once (to its
addressee for incoming mail, to the post or courier for outgoing); an item not handed over for more than a day is
flagged on the list, and beat tells the head about it once (`flagged_at` is the memory of having told).
"""

from datetime import date, datetime, timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import Role
from clientdesk.errors import Conflict
from clientdesk.notify import notify
from clients.models import Client
from documents.models import Correspondence

EDITABLE_FIELDS = (
    "direction",
    "kind",
    "dated_on",
    "sender",
    "recipient",
    "subject",
    "addressee",
    "client",
    "tracking_number",
    "notes",
)
# How long an item may wait for its hand-over before it is flagged.
UNHANDED_AFTER = timedelta(days=1)


def _save(item: Correspondence, *, by: User | None, reason: str = "") -> None:
    item.full_clean(exclude=["created_by", "handed_over_by", "addressee", "client"], validate_constraints=False)
    item._history_user = by
    if reason:
        item._change_reason = reason
    item.save()


def _tell_addressee(item: Correspondence) -> None:
    if item.addressee_id is None:
        return
    title = (
        _("Incoming mail for you: %(subject)s")
        if item.direction == Correspondence.Direction.INCOMING
        else _("Outgoing mail in your name: %(subject)s")
    ) % {"subject": item.subject}
    notify(users=[item.addressee_id], title=title, body=item.sender, url=item.get_absolute_url())


@transaction.atomic
def mail_register(
    *,
    by: User | None,
    dated_on: date,
    sender: str,
    recipient: str,
    subject: str,
    direction: str = Correspondence.Direction.INCOMING,
    kind: str = Correspondence.Kind.LETTER,
    addressee: User | None = None,
    client: Client | None = None,
    tracking_number: str = "",
    notes: str = "",
) -> Correspondence:
    """Enter an item in the register; its addressee on staff is told at once."""
    item = Correspondence(
        direction=direction,
        kind=kind,
        dated_on=dated_on,
        sender=(sender or "").strip(),
        recipient=(recipient or "").strip(),
        subject=(subject or "").strip(),
        addressee=addressee,
        client=client,
        tracking_number=(tracking_number or "").strip(),
        notes=(notes or "").strip(),
        created_by=by,
    )
    _save(item, by=by)
    _tell_addressee(item)
    return item


@transaction.atomic
def mail_update(*, item: Correspondence, by: User | None, **fields) -> Correspondence:
    """Correct an item's details; a new addressee is told."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"mail_update does not change {sorted(unknown)}")
    item = Correspondence.objects.select_for_update().get(pk=item.pk)
    old_addressee = item.addressee_id
    for name, value in fields.items():
        setattr(item, name, value.strip() if isinstance(value, str) else value)
    _save(item, by=by)
    if item.addressee_id != old_addressee:
        _tell_addressee(item)
    return item


@transaction.atomic
def mail_hand_over(*, item: Correspondence, by: User, at: datetime | None = None, comment: str = "") -> Correspondence:
    """Record that the item was handed over (to the addressee, or to the post). Once: a second time is a conflict."""
    item = Correspondence.objects.select_for_update().get(pk=item.pk)
    if item.handed_over_at is not None:
        raise Conflict(_("This item is already handed over."), field="handed_over_at")
    item.handed_over_at = at or timezone.now()
    item.handed_over_by = by
    _save(item, by=by, reason=comment.strip())
    return item


def unhanded_cutoff(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - UNHANDED_AFTER


def flag_unhanded_mail(*, now: datetime | None = None, limit: int = 500) -> int:
    """Tell the head, in one notification, about the items that waited more than a day and were not yet told of. The
    rows are claimed with SKIP LOCKED and stamped in the same transaction, so two beats at once tell once."""
    now = now or timezone.now()
    with transaction.atomic():
        items = list(
            Correspondence.objects.select_for_update(skip_locked=True)
            .filter(handed_over_at__isnull=True, flagged_at__isnull=True, created_at__lt=unhanded_cutoff(now))
            .order_by("created_at", "id")[:limit]
        )
        if not items:
            return 0
        Correspondence.objects.filter(pk__in=[item.pk for item in items]).update(flagged_at=now)
        heads = User.objects.filter(role=Role.HEAD, is_active=True)
        subjects = "; ".join(item.subject for item in items[:5])
        notify(
            users=heads,
            title=_("Correspondence not handed over for more than a day: %(count)d") % {"count": len(items)},
            body=subjects,
            url=reverse("documents:mail-list") + "?unhanded=1",
            email=True,
        )
    return len(items)
