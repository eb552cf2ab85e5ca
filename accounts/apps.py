from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        # The security log; the cached user and API key forgotten when saved; the API key scheme for drf-spectacular.
        from accounts import audit, backends, key_cache, schema  # noqa: F401
