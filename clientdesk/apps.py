from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClientDeskConfig(AppConfig):
    name = "clientdesk"
    verbose_name = _("ClientDesk")

    def ready(self) -> None:
        import clientdesk.openapi  # noqa: F401 - drf-spectacular's extensions for the schema register on import
        from clientdesk.api_filters import bound_api_dates
        from clientdesk.celery import ensure_filesystem_broker_dirs

        # The web process publishes to the embedded broker too, so its folders must exist before the first send.
        ensure_filesystem_broker_dirs()
        bound_api_dates()
