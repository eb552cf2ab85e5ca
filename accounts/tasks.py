from importlib import import_module

from celery import shared_task
from django.conf import settings
from django.utils import translation

from accounts.models import User
from accounts.services import security


@shared_task
def clear_expired_sessions() -> None:
    """Sessions past their expiry are dead weight in the sessions table; drop them."""
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=3, soft_time_limit=50, time_limit=60)
def send_password_reset(user_id: int, domain: str, secure: bool, language: str) -> bool:
    """Mail a member of staff a link to set a new password. Sent by the worker, not by the request, so the reset
    page answers as fast for an unknown address as for a known one. The link is made here, from the user's current
    state; an account deactivated meanwhile gets nothing."""
    user = User.objects.filter(pk=user_id, is_active=True).exclude(email="").first()
    if user is None or not user.has_usable_password() or user.is_integration:
        return False
    with translation.override(language):
        security.password_reset_mail_send(
            context=security.reset_context(user=user, domain=domain, secure=secure), to_email=user.email
        )
    return True
