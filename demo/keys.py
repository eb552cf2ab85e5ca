"""The demo DMS user's API key, kept where `make run` can print it again.

A real key is shown once and stored only as a digest. The demo's key is a convenience for whoever tries the API
after `make run`: `seed_demo` makes it, it is saved beside the embedded database (`var/demo-api-key`, readable by
its owner only), and the start-up banner prints it on every run. When the saved key is gone or no longer works
(revoked by the head, another database), a fresh one replaces it.
"""

from pathlib import Path

from django.conf import settings
from django.db import transaction

from accounts.models import ApiKey, User
from accounts.services.users import api_key_create, api_key_revoke
from demo.data import DEMO_INTEGRATION

KEY_NAME = "DMS demo"


def key_file() -> Path:
    return Path(settings.VAR_DIR) / "demo-api-key"


def saved_demo_api_key() -> str | None:
    """The saved key if it still lets the demo DMS user in."""
    try:
        raw = key_file().read_text().strip()
    except OSError:
        return None
    works = ApiKey.objects.active().filter(user__username=DEMO_INTEGRATION.username, digest=ApiKey.digest_of(raw))
    return raw if raw and works.exists() else None


@transaction.atomic
def demo_api_key() -> str | None:
    """The demo DMS user's working key: the saved one, or a fresh one made now. None when the demo is not loaded."""
    integration = User.objects.filter(username=DEMO_INTEGRATION.username, is_active=True).first()
    if integration is None:
        return None
    if raw := saved_demo_api_key():
        return raw
    head = User.objects.filter(username="head").first() or integration
    for stale in ApiKey.objects.active().filter(user=integration, name=KEY_NAME):
        api_key_revoke(key=stale, by=head)
    _key, raw = api_key_create(user=integration, name=KEY_NAME, by=head)
    path = key_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    path.write_text(raw + "\n")
    return raw
