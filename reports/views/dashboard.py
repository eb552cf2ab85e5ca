"""The dashboards: the department head's (the whole department, compared with the previous period) and a manager's
own (her figures beside the department's average), or a service advisor's own on the same page (their arrivals and
load beside the previous period and the advisors' average). Each draws the tiles the apps registered in
`clientdesk.dashboard`; the charts' data goes to static/js/dashboard.js through `json_script`."""

from django.utils import timezone
from django.views.generic import TemplateView

from accounts.permissions import CapabilityRequiredMixin
from accounts.roles import Capability, Role
from clientdesk.calendar import local_date
from clientdesk.dashboard import PERIOD_KINDS, Period, advisor_tiles, as_json, draw, head_tiles, own_tiles


def period_of(request) -> Period:
    return Period.from_query(request.GET, today=local_date(timezone.now()))


class DashboardView(CapabilityRequiredMixin, TemplateView):
    template_name = "reports/dashboard.html"
    registry = head_tiles
    # What each figure is shown beside: the "previous" period, the department's "average", or "both".
    compare = "previous"

    def get_context_data(self, **kwargs):
        period = period_of(self.request)
        tiles = draw(self.get_registry(), user=self.request.user, period=period)
        charts = [chart for tile in as_json(tiles) for chart in tile["charts"]]
        return super().get_context_data(
            period=period,
            previous=period.previous(),
            kinds=PERIOD_KINDS,
            tiles=tiles,
            charts=charts,
            compare=self.get_compare(),
            **kwargs,
        )

    def get_registry(self):
        return self.registry

    def get_compare(self) -> str:
        return self.compare


class HeadDashboardView(DashboardView):
    required_capability = Capability.VIEW_DEPARTMENT_FIGURES


class OwnDashboardView(DashboardView):
    required_capability = Capability.VIEW_OWN_FIGURES
    registry = own_tiles
    compare = "average"

    def is_advisor(self) -> bool:
        return self.request.user.role == Role.ADVISOR

    def get_registry(self):
        """An advisor's tiles for an advisor, a manager's for anyone else (the head's own figures are her calls)."""
        return advisor_tiles if self.is_advisor() else self.registry

    def get_compare(self) -> str:
        return "both" if self.is_advisor() else self.compare
