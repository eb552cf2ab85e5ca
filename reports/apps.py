from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    """The dashboards: they draw the tiles the apps below register in `clientdesk.dashboard`, importing none of them."""

    name = "reports"
    verbose_name = _("Reports")
