"""The exports' pages: the head's export log; an export built in the background (its progress, polled by HTMX, then
the download), shown and handed only to the user who asked for it."""

import django_filters as filters
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import TemplateView

from accounts.models import User
from accounts.permissions import CapabilityRequiredMixin
from accounts.roles import Capability
from clientdesk.exports import CONTENT_TYPES
from clientdesk.filters import IsoDateTimeFilter
from clientdesk.forms import StyledForm
from clientdesk.uploads import file_response
from clientdesk.views import KeysetPage
from reports.models import Export


class ExportLogFilter(filters.FilterSet):
    user = filters.ModelChoiceFilter(
        queryset=User.objects.filter(exports__isnull=False).distinct().order_by("username"), label=_("user")
    )
    list_name = filters.CharFilter(label=_("list"))
    status = filters.ChoiceFilter(choices=Export.Status.choices, label=_("status"))
    asked_after = IsoDateTimeFilter(field_name="created_at", lookup_expr="gte", label=_("asked from"))
    asked_before = IsoDateTimeFilter(field_name="created_at", lookup_expr="lt", label=_("asked before"))

    class Meta:
        model = Export
        form = StyledForm
        fields = ["user", "list_name", "status", "asked_after", "asked_before"]


class ExportLogView(CapabilityRequiredMixin, TemplateView):
    """Every export: who, when, which list, which filter, how many rows, how it went; newest first."""

    required_capability = Capability.EXPORT_PERSONAL_DATA
    template_name = "reports/export_log.html"

    def get_context_data(self, **kwargs):
        filterset = ExportLogFilter(self.request.GET or None, queryset=Export.objects.select_related("user"))
        rows = filterset.qs if filterset.is_bound and filterset.is_valid() else filterset.queryset
        if filterset.is_bound and not filterset.is_valid():
            rows = rows.none()
        page = KeysetPage(rows, after=self.request.GET.get("after"), time_field="created_at")
        query = self.request.GET.copy()
        query.pop("after", None)
        return super().get_context_data(filter=filterset, page=page, query=query.urlencode(), **kwargs)


class OwnExportMixin(CapabilityRequiredMixin):
    """An export built in the background is its user's alone: anyone else gets 404, as for a row that is not."""

    required_capability = Capability.EXPORT_PERSONAL_DATA

    def export(self, pk: int) -> Export:
        return get_object_or_404(Export, pk=pk, user=self.request.user)


class ExportDetailView(OwnExportMixin, View):
    template_name = "reports/export_detail.html"

    def get(self, request, pk):
        return render(request, self.template_name, {"export": self.export(pk)})


class ExportProgressView(OwnExportMixin, View):
    """The progress card alone, for the detail page's polling (it stops polling once the export has finished)."""

    def get(self, request, pk):
        return render(request, "reports/_export_progress.html", {"export": self.export(pk)})


class ExportDownloadView(OwnExportMixin, View):
    def get(self, request, pk):
        export = self.export(pk)
        if export.status != Export.Status.DONE or not export.file:
            raise Http404
        return file_response(export.file, download_name=export.download_name, content_type=CONTENT_TYPES[export.format])
