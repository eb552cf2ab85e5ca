from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReceptionConfig(AppConfig):
    name = "reception"
    verbose_name = _("Reception desks")

    def ready(self) -> None:
        from accounts import extensions as accounts
        from reception.selectors.materials import materials_start_notice

        accounts.start_notices.register("reception-materials", materials_start_notice, order=50)
