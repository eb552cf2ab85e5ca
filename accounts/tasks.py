from importlib import import_module

from celery import shared_task
from django.conf import settings


@shared_task
def clear_expired_sessions() -> None:
    """Sessions past their expiry are dead weight in the sessions table; drop them."""
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()
