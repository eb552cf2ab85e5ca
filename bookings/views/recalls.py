"""Recall campaign pages: the list, the campaign form, the campaign's VINs with "done" buttons, and the VIN upload.

The upload goes in two steps. The file is read and checked in full; if any row is bad, nothing can be imported (the
user fixes the file and uploads it again). A clean list is kept in the user's session under a random token, never
round-tripped through the browser, and the confirm step imports exactly that list.
"""

import copy
import secrets
from functools import cached_property

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView

from accounts.permissions import CapabilityRequiredMixin
from accounts.roles import Capability
from bookings.filters import RecallCampaignFilter, RecallVinFilter
from bookings.imports import parse_vin_file
from bookings.models import RecallCampaign, RecallVin
from bookings.selectors.recalls import campaign_vins, campaigns_with_counts
from bookings.services.recalls import (
    may_mark_done,
    recall_campaign_create,
    recall_campaign_update,
    recall_vin_mark_done,
    recall_vins_import,
    recall_vins_new_count,
)
from clientdesk.calendar import local_date
from clientdesk.errors import Conflict
from clientdesk.forms import ServiceModelForm, StyledForm
from clientdesk.views import KeysetPage, ServiceFormView
from clients.models import Vehicle

SESSION_KEY = "recall_import"
PREVIEW_BAD_ROWS = 100
PREVIEW_GOOD_ROWS = 20


class RecallCampaignForm(ServiceModelForm):
    class Meta:
        model = RecallCampaign
        fields = ["name", "manufacturer_code", "description", "starts_on", "ends_on"]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "starts_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "ends_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }
        help_texts = {
            "manufacturer_code": gettext_lazy("As in the manufacturer's letter; unique."),
            "starts_on": gettext_lazy("Empty: already running."),
            "ends_on": gettext_lazy("Empty: until further notice."),
        }


class VinFileForm(StyledForm):
    file = forms.FileField(
        label=gettext_lazy("VIN list"),
        help_text=gettext_lazy(
            "CSV (comma, semicolon or tab; UTF-8 or Windows-1251) or XLSX: the first column, or the column headed "
            "VIN. Up to 5 MB and 200,000 rows."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.tsv,.xlsx"}),
    )


def _campaigns(user):
    return RecallCampaign.objects.visible_to(user)


class RecallListView(CapabilityRequiredMixin, TemplateView):
    required_capability = Capability.VIEW_BOOKINGS
    template_name = "bookings/recall_list.html"

    def get_context_data(self, **kwargs):
        queryset = _campaigns(self.request.user)
        filterset = RecallCampaignFilter(self.request.GET or None, queryset=queryset)
        rows = filterset.qs if filterset.is_bound and filterset.is_valid() else queryset
        page = KeysetPage(campaigns_with_counts(rows), after=self.request.GET.get("after"))
        query = self.request.GET.copy()
        query.pop("after", None)
        return super().get_context_data(
            filter=filterset, page=page, query=query.urlencode(), today=local_date(timezone.now()), **kwargs
        )


class RecallCreateView(CapabilityRequiredMixin, ServiceFormView):
    required_capability = Capability.MANAGE_RECALLS
    template_name = "bookings/recall_form.html"
    form_class = RecallCampaignForm

    def perform(self, form):
        campaign = recall_campaign_create(by=self.request.user, **form.cleaned_data)
        messages.success(
            self.request, _("Campaign %(campaign)s created. Now upload its VINs.") % {"campaign": campaign}
        )
        return redirect("bookings:recall-upload", campaign.pk)


class RecallUpdateView(CapabilityRequiredMixin, ServiceFormView):
    required_capability = Capability.MANAGE_RECALLS
    template_name = "bookings/recall_form.html"
    form_class = RecallCampaignForm

    @cached_property
    def campaign(self) -> RecallCampaign:
        return get_object_or_404(_campaigns(self.request.user), pk=self.kwargs["pk"])

    def get_form_kwargs(self):
        # A copy: the form writes what was typed into its instance, and a refused code must not become the title.
        return {**super().get_form_kwargs(), "instance": copy.copy(self.campaign)}

    def get_context_data(self, **kwargs):
        return super().get_context_data(campaign=self.campaign, **kwargs)

    def perform(self, form):
        campaign = recall_campaign_update(campaign=self.campaign, by=self.request.user, **form.cleaned_data)
        messages.success(self.request, _("Saved."))
        return redirect(campaign)


class RecallDetailView(CapabilityRequiredMixin, TemplateView):
    """The campaign and its VINs, in the order they were added; search by a VIN fragment, show open or done ones."""

    required_capability = Capability.VIEW_BOOKINGS
    template_name = "bookings/recall_detail.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        campaign = get_object_or_404(campaigns_with_counts(_campaigns(user)), pk=self.kwargs["pk"])
        queryset = campaign_vins(campaign)
        filterset = RecallVinFilter(self.request.GET or None, queryset=queryset)
        rows = filterset.qs if filterset.is_bound and filterset.is_valid() else queryset
        page = KeysetPage(rows, after=self.request.GET.get("after"), ascending=True)
        _attach_vehicles(user, page.object_list)
        query = self.request.GET.copy()
        query.pop("after", None)
        return super().get_context_data(
            campaign=campaign,
            page=page,
            query=query.urlencode(),
            filter=filterset,
            searching=bool(self.request.GET.get("vin") or self.request.GET.get("open")),
            can_mark_done=may_mark_done(user),
            can_manage=user.has_capability(Capability.MANAGE_RECALLS),
            **kwargs,
        )


def _attach_vehicles(user, rows: list[RecallVin]) -> None:
    """`vehicle_on_file` on each row: whose car the VIN is, so the desk can invite the owner; one query a page."""
    vehicles: dict[str, Vehicle] = {}
    if rows and user.has_capability(Capability.VIEW_CLIENTS):
        found = Vehicle.objects.visible_to(user).filter(vin__in=[row.vin for row in rows]).select_related("owner")
        vehicles = {vehicle.vin: vehicle for vehicle in found}
    for row in rows:
        row.vehicle_on_file = vehicles.get(row.vin)


class RecallVinDoneView(CapabilityRequiredMixin, View):
    """The "done" button on a campaign's VIN (an HTMX row swap, or a plain post that comes back to the list)."""

    required_capability = Capability.VIEW_BOOKINGS

    def post(self, request, pk):
        if not may_mark_done(request.user):
            raise PermissionDenied
        visible = RecallVin.objects.filter(campaign__in=_campaigns(request.user))
        row = recall_vin_mark_done(recall_vin=get_object_or_404(visible, pk=pk), by=request.user)
        if request.htmx:
            row = RecallVin.objects.select_related("done_by").get(pk=row.pk)
            _attach_vehicles(request.user, [row])
            return render(request, "bookings/recall_vin_row.html", {"row": row, "can_mark_done": True})
        messages.success(request, _("%(vin)s: campaign work done.") % {"vin": row.vin})
        target = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
            target = reverse("bookings:recall-detail", args=[row.campaign_id])
        return redirect(target)


class RecallUploadView(CapabilityRequiredMixin, View):
    """Step 1: upload a file and see what it holds; a clean list can then be confirmed."""

    required_capability = Capability.MANAGE_RECALLS
    template_name = "bookings/recall_upload.html"

    def context(self, campaign, form, **extra) -> dict:
        return {"campaign": campaign, "form": form, **extra}

    def get(self, request, pk):
        campaign = get_object_or_404(_campaigns(request.user), pk=pk)
        return render(request, self.template_name, self.context(campaign, VinFileForm()))

    def post(self, request, pk):
        campaign = get_object_or_404(_campaigns(request.user), pk=pk)
        # A new upload replaces whatever preview was pending, so an old confirm button cannot import a stale list.
        request.session.pop(SESSION_KEY, None)
        form = VinFileForm(request.POST, request.FILES)
        if not form.is_valid():
            return render(request, self.template_name, self.context(campaign, form), status=400)
        upload = form.cleaned_data["file"]
        try:
            parsed = parse_vin_file(upload)
        except ValidationError as exc:
            form.add_error("file", exc)
            return render(request, self.template_name, self.context(campaign, form), status=400)
        preview = {
            "parsed": parsed,
            "file_name": upload.name,
            "bad_rows": parsed.bad_rows(limit=PREVIEW_BAD_ROWS),
            "good_rows": parsed.good_rows(limit=PREVIEW_GOOD_ROWS),
            "more_bad": max(parsed.bad - PREVIEW_BAD_ROWS, 0),
        }
        if not parsed.is_clean:
            return render(request, self.template_name, self.context(campaign, VinFileForm(), **preview), status=400)
        new = recall_vins_new_count(campaign=campaign, vins=parsed.vins)
        token = secrets.token_urlsafe(16)
        request.session[SESSION_KEY] = {
            "token": token,
            "campaign": campaign.pk,
            "file": upload.name,
            # One string, not a list: 200,000 VINs stay a few compressed megabytes in the session row.
            "vins": "\n".join(parsed.vins),
        }
        extra = {**preview, "token": token, "new": new, "already": len(parsed.vins) - new}
        return render(request, self.template_name, self.context(campaign, VinFileForm(), **extra))


class RecallUploadConfirmView(CapabilityRequiredMixin, View):
    """Step 2: import the list the preview showed, all or nothing."""

    required_capability = Capability.MANAGE_RECALLS

    def post(self, request, pk):
        campaign = get_object_or_404(_campaigns(request.user), pk=pk)
        pending = request.session.get(SESSION_KEY) or {}
        token = request.POST.get("token", "")
        if not (token and pending.get("campaign") == campaign.pk and constant_time_compare(pending["token"], token)):
            messages.error(
                request, _("This preview is out of date (another file was uploaded since); upload the file again.")
            )
            return redirect("bookings:recall-upload", campaign.pk)
        vins = pending["vins"].split("\n")
        try:
            added = recall_vins_import(campaign=campaign, vins=vins, by=request.user)
        except (ValidationError, Conflict) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(getattr(exc, "message", exc))])))
            return redirect("bookings:recall-upload", campaign.pk)
        del request.session[SESSION_KEY]
        messages.success(
            request,
            _(
                "%(file)s imported: %(added)d VINs added, %(skipped)d were already listed. "
                "The campaign lists %(total)d VINs."
            )
            % {
                "file": pending.get("file", ""),
                "added": added,
                "skipped": len(vins) - added,
                "total": RecallVin.objects.filter(campaign=campaign).count(),
            },
        )
        return redirect(campaign)


urlpatterns = [
    path("recalls/", RecallListView.as_view(), name="recall-list"),
    path("recalls/new/", RecallCreateView.as_view(), name="recall-create"),
    path("recalls/<int:pk>/", RecallDetailView.as_view(), name="recall-detail"),
    path("recalls/<int:pk>/edit/", RecallUpdateView.as_view(), name="recall-edit"),
    path("recalls/<int:pk>/upload/", RecallUploadView.as_view(), name="recall-upload"),
    path("recalls/<int:pk>/upload/confirm/", RecallUploadConfirmView.as_view(), name="recall-upload-confirm"),
    path("recalls/vins/<int:pk>/done/", RecallVinDoneView.as_view(), name="recall-vin-done"),
]
