"""The security log (ASVS 16.3): every sign-in, failed sign-in, sign-out and lockout, from Django's and django-axes'
signals, on the `clientdesk.security` logger. Who and from where, never a password; unlocks, reset links and API-key
failures are logged where they happen (accounts.services.security, accounts.authentication)."""

import logging

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from clientdesk.middleware import client_ip

logger = logging.getLogger("clientdesk.security")


def _username(value) -> str:
    # What was typed as a user name may be anything (even a password typed in the wrong box): cut short.
    return str(value or "-")[:60]


@receiver(user_logged_in, dispatch_uid="clientdesk-security-login")
def log_sign_in(sender, request, user, **kwargs):
    logger.info("Sign-in: user=%s address=%s", user.get_username(), client_ip(request) if request else "-")


@receiver(user_logged_out, dispatch_uid="clientdesk-security-logout")
def log_sign_out(sender, request, user, **kwargs):
    if user is not None:
        logger.info("Sign-out: user=%s address=%s", user.get_username(), client_ip(request) if request else "-")


@receiver(user_login_failed, dispatch_uid="clientdesk-security-login-failed")
def log_failed_sign_in(sender, credentials, request=None, **kwargs):
    # Django has already replaced the password in `credentials` with stars; only the user name is used.
    logger.warning(
        "Sign-in failed: username=%s address=%s locked=%s",
        _username(credentials.get("username")),
        client_ip(request) if request else "-",
        "yes" if getattr(request, "axes_locked_out", False) else "no",
    )


@receiver(user_locked_out, dispatch_uid="clientdesk-security-locked-out")
def log_lockout(sender, request, username, ip_address, **kwargs):
    logger.warning("Sign-in locked: username=%s address=%s", _username(username), ip_address or "-")
