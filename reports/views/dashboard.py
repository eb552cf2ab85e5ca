"""The dashboards: the department head's (the whole department, compared with the previous period) and a manager's
own (her figures beside the department's average). Both draw the tiles the apps registered in
`clientdesk.dashboard`; the charts' data goes to static/js/dashboard.js through `json_script`."""

from django.utils import timezone
from django.views.generic import TemplateView

from accounts.permissions import CapabilityRequiredMixin
from accounts.roles import Capability
from clientdesk.calendar import local_date
from clientdesk.dashboard import PERIOD_KINDS, Period, as_json, draw, head_tiles, own_tiles


def period_of(request) -> Period:
    return Period.from_query(request.GET, today=local_date(timezone.now()))


class DashboardView(CapabilityRequiredMixin, TemplateView):
    template_name = "reports/dashboard.html"
    registry = head_tiles
    compare = "previous"  # what each figure is shown beside: "previous" period or the department's "average"

    def get_context_data(self, **kwargs):
        period = period_of(self.request)
        tiles = draw(self.registry, user=self.request.user, period=period)
        charts = [chart for tile in as_json(tiles) for chart in tile["charts"]]
        return super().get_context_data(
            period=period,
            previous=period.previous(),
            kinds=PERIOD_KINDS,
            tiles=tiles,
            charts=charts,
            compare=self.compare,
            **kwargs,
        )


class HeadDashboardView(DashboardView):
    required_capability = Capability.VIEW_DEPARTMENT_FIGURES


class OwnDashboardView(DashboardView):
    required_capability = Capability.VIEW_OWN_FIGURES
    registry = own_tiles
    compare = "average"
