from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClientDeskConfig(AppConfig):
    name = "clientdesk"
    verbose_name = _("ClientDesk")

    def ready(self) -> None:
        from clientdesk.celery import ensure_filesystem_broker_dirs

        # The web process publishes to the embedded broker too, so its folders must exist before the first send.
        ensure_filesystem_broker_dirs()
