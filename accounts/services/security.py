"""Writes around signing in: unlocking a user or an address, and password reset mail (asked for by the user on the
sign-in page, or sent by the head from the user's page). Each is logged on `clientdesk.security`; what the head does
is also kept in the user's history."""

import logging

from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from accounts.models import SecurityEventKind, User
from accounts.roles import Role
from clientdesk.celery import send_after_commit

logger = logging.getLogger("clientdesk.security")

RESET_SUBJECT_TEMPLATE = "registration/password_reset_subject.txt"
RESET_EMAIL_TEMPLATE = "registration/password_reset_email.txt"


def _record(*, user: User, by: User, kind: SecurityEventKind) -> None:
    User.history.bulk_history_create([user], update=True, default_user=by, default_change_reason=kind.value)


@transaction.atomic
def user_unlock(*, user: User, by: User) -> int:
    """Lifts the lockout of this user name (failed sign-ins from any address); returns the attempts cleared."""
    cleared = axes_reset(username=user.get_username())
    _record(user=user, by=by, kind=SecurityEventKind.UNLOCKED)
    logger.warning("Sign-in unlocked: user=%s by=%s cleared=%s", user.get_username(), by.get_username(), cleared)
    return cleared


@transaction.atomic
def address_unlock(*, address: str, by: User) -> int:
    """Lifts the lockout of an address (failed sign-ins for any user name from it)."""
    cleared = axes_reset(ip=address)
    logger.warning("Sign-in address unlocked: address=%s by=%s cleared=%s", address, by.get_username(), cleared)
    return cleared


def password_reset_mail_send(*, context: dict, to_email: str) -> None:
    """The reset mail in the language the page was in, then in the other one: the reader gets their own language
    first where it is known, and can read it either way."""
    context = {**context, "expiry_minutes": settings.PASSWORD_RESET_TIMEOUT // 60}
    current = translation.get_language() or settings.LANGUAGE_CODE
    languages = [current, *(code for code, _name in settings.LANGUAGES if code != current)]
    with translation.override(current):
        subject = "".join(render_to_string(RESET_SUBJECT_TEMPLATE, context).splitlines())
    bodies = []
    for language in languages:
        with translation.override(language):
            bodies.append(render_to_string(RESET_EMAIL_TEMPLATE, context).strip())
    EmailMessage(subject, "\n\n————————\n\n".join(bodies) + "\n", settings.DEFAULT_FROM_EMAIL, [to_email]).send()


def reset_context(*, user: User, domain: str, secure: bool) -> dict:
    """What the reset mail needs: the same keys Django's PasswordResetForm passes."""
    return {
        "email": user.email,
        "domain": domain,
        "site_name": "ClientDesk",
        "uid": urlsafe_base64_encode(force_bytes(user.pk)),
        "user": user,
        "token": default_token_generator.make_token(user),
        "protocol": "https" if secure else "http",
    }


def password_reset_queue(*, user: User, domain: str, secure: bool) -> None:
    """The reset mail goes out from the worker after commit (accounts.tasks.send_password_reset), in the language
    of the page that asked."""
    send_after_commit(
        "accounts.tasks.send_password_reset",
        user.pk,
        domain,
        secure,
        translation.get_language() or settings.LANGUAGE_CODE,
        options={"expires": settings.PASSWORD_RESET_TIMEOUT},
    )


@transaction.atomic
def password_reset_request(*, email: str, domain: str, secure: bool, address: str) -> None:
    """ "Forgot your password?": every active member of staff with this address gets a link; nobody is told whether
    there was one."""
    users = list(
        User.objects.filter(email__iexact=email, is_active=True).exclude(role=Role.INTEGRATION).only("pk", "password")
    )
    users = [user for user in users if user.has_usable_password()]
    for user in users:
        password_reset_queue(user=user, domain=domain, secure=secure)
    logger.warning("Password reset asked: address=%s accounts=%s", address, len(users))


@transaction.atomic
def user_password_reset_send(*, user: User, by: User, domain: str, secure: bool) -> None:
    """The head sends a member of staff a link to set a new password (the head never sees or sets it)."""
    if user.role == Role.INTEGRATION:
        raise ValidationError(_("Integration users never sign in with a password; they use API keys."))
    if not user.is_active:
        raise ValidationError(_("This user is deactivated."))
    if not user.email:
        raise ValidationError(_("This user has no e-mail address; add one first."))
    password_reset_queue(user=user, domain=domain, secure=secure)
    _record(user=user, by=by, kind=SecurityEventKind.RESET_LINK_SENT)
    logger.warning("Password reset link sent: user=%s by=%s", user.get_username(), by.get_username())


def password_reset_completed(*, user: User, address: str) -> None:
    """A new password set from a reset link: the user proved they hold the mailbox, so their lockout ends too."""
    axes_reset(username=user.get_username())
    logger.warning("Password reset completed: user=%s address=%s", user.get_username(), address)
