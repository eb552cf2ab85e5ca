"""Telling staff at once: a notification in the page header (it appears within seconds, no reload) and, when asked,
the same by e-mail.

    notify(users=[claim.escalated_to], title=_("Claim %(number)s escalated to you") % {...}, url=claim_url,
           email=True, key=f"claim-{claim.pk}-escalated")

Call it inside the business action's transaction: the notifications commit or roll back with it. The e-mail goes
after commit through Celery (a slow mail server never holds up a click), and beat sweeps any the broker lost
(`send_notification_emails`), so each wanted e-mail is sent once it can be: stamped `emailed_at` in the
transaction that sent it.
"""

from collections.abc import Iterable

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from clientdesk.celery import send_after_commit
from clientdesk.models import Notification

MAIL_TASK = "clientdesk.tasks.send_notification_emails"


def notify(*, users: Iterable, title: str, body: str = "", url: str = "", email: bool = False) -> list[Notification]:
    """One notification per distinct active user (users or ids); e-mailed too when `email` (to those with an
    address). Returns the notifications made."""
    ids = sorted({getattr(u, "pk", u) for u in users if u is not None})
    if not ids:
        return []
    made = Notification.objects.bulk_create(
        Notification(user_id=user_id, title=title[:200], body=body[:500], url=url[:300], email_wanted=email)
        for user_id in ids
    )
    if email:
        send_after_commit(MAIL_TASK)
    return made


def send_due_emails(*, limit: int = 200) -> int:
    """Send the wanted e-mails not sent yet, oldest first; each in its own transaction, its row locked (two workers
    never send the same one). Returns how many went out."""
    sent = 0
    while sent < limit:
        with transaction.atomic():
            note = (
                Notification.objects.select_for_update(skip_locked=True)
                .select_related("user")
                .filter(email_wanted=True, emailed_at__isnull=True)
                .order_by("created_at", "id")
                .first()
            )
            if note is None:
                return sent
            if note.user.email and note.user.is_active:
                link = f"\n\n{settings.SITE_URL.rstrip('/')}{note.url}" if note.url and settings.SITE_URL else ""
                send_mail(note.title, f"{note.body}{link}".strip() or note.title, None, [note.user.email])
                sent += 1
            note.emailed_at = timezone.now()
            note.save(update_fields=["emailed_at"])
    return sent
