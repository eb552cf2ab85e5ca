from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    """The dashboards: they draw the tiles the apps below register in `clientdesk.dashboard`, importing none of them.
    The export log: every list's export (`clientdesk.exports`) is recorded here, and a long one built by a task. The
    daily roll-up of inbound calls serves the inbound tile for whole past days."""

    name = "reports"
    verbose_name = _("Reports")

    def ready(self) -> None:
        from clientdesk import dashboard, exports
        from reports.services.exports import export_defer, export_record
        from reports.services.rollups import rolled_inbound_groups

        exports.journals.register("reports", exports.ExportJournal(record=export_record, defer=export_defer))
        dashboard.readers.register("inbound-groups", rolled_inbound_groups)
