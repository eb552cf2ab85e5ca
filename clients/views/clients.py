from functools import partial
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import OuterRef, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView

from accounts.models import User
from accounts.permissions import CapabilityRequiredMixin
from accounts.roles import Capability
from clientdesk.errors import Conflict
from clientdesk.exports import Column, ExportMixin, model_column
from clientdesk.timefmt import local_datetime_text
from clientdesk.views import KeysetPage, SubmitOnceMixin, apply_validation_error
from clients import selectors
from clients.filters import ClientFilter
from clients.forms import ClientForm, MergeForm, VehicleForm, phone_formset
from clients.models import Client, ClientPhone, Vehicle
from clients.services import clients as services


class SearchView(CapabilityRequiredMixin, TemplateView):
    """The desk: one box that finds a client by phone fragment, name, plate, VIN or DMS id as you type."""

    required_capability = Capability.VIEW_CLIENTS
    template_name = "clients/search.html"

    def get_template_names(self):
        if self.request.htmx:
            return ["clients/_search_results.html"]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        query = self.request.GET.get("q", "").strip()
        hint = selectors.search_hint(query)
        hits = selectors.client_search(query, user=self.request.user) if query and not hint else []
        return super().get_context_data(query=query, hits=hits, hint=hint, **kwargs)


_client_column = partial(model_column, Client)


class ClientListView(ExportMixin, CapabilityRequiredMixin, TemplateView):
    """The client base with the API's filters; `?export=csv|xlsx` gives the filtered clients as a file (the head's,
    logged: names, phones and e-mails are personal data)."""

    required_capability = Capability.VIEW_CLIENTS
    template_name = "clients/client_list.html"
    export_name = "clients"
    export_capability = Capability.EXPORT_PERSONAL_DATA
    export_columns = [
        _client_column("name"),
        _client_column("kind"),
        Column(gettext_lazy("Phone"), "primary_phone"),
        _client_column("email"),
        Column(gettext_lazy("Manager"), "manager_name"),
        _client_column("consent_personal_data"),
        _client_column("consent_marketing"),
        _client_column("source"),
        _client_column("dms_id"),
        _client_column("created_at", local_datetime_text),
    ]

    def filtered(self):
        queryset = Client.objects.visible_to(self.request.user).active()
        filterset = ClientFilter(self.request.GET or None, queryset=queryset)
        return filterset, filterset.qs if filterset.is_bound and filterset.is_valid() else queryset

    def export_queryset(self):
        filterset, rows = self.filtered()
        if filterset.is_bound and not filterset.is_valid():
            rows = rows.none()  # a filter the list refused exports nothing, never the whole list
        primary = ClientPhone.objects.filter(client=OuterRef("pk"), is_primary=True).values("number")[:1]
        manager = User.name_expression("assigned_manager")
        return rows.annotate(primary_phone=Subquery(primary), manager_name=manager).order_by("-id")

    def get_context_data(self, **kwargs):
        filterset, rows = self.filtered()
        page = KeysetPage(selectors.clients_for_display(rows), after=self.request.GET.get("after"))
        query = self.request.GET.copy()
        query.pop("after", None)
        return super().get_context_data(filter=filterset, page=page, query=query.urlencode(), **kwargs)


class ClientDetailView(CapabilityRequiredMixin, View):
    """The client card: details, phones, vehicles, likely duplicates, the timeline and what other apps add (the
    inline call form)."""

    required_capability = Capability.VIEW_CLIENTS

    def get(self, request, pk):
        before = request.GET.get("before")
        if request.htmx and before:
            # "Show more" on the timeline: only the next page, drawn in place of the button.
            client = get_object_or_404(Client.objects.visible_to(request.user).only("pk"), pk=pk)
            timeline = selectors.client_timeline(client, user=request.user, before=before)
            return render(request, "clients/_timeline_page.html", {"client": client, "timeline": timeline})
        try:
            client = selectors.client_for_card(pk, user=request.user)
        except Client.DoesNotExist as exc:
            raise Http404 from exc
        if client.is_merged:
            messages.info(request, _("%(old)s was merged into this client.") % {"old": client})
            return redirect("clients:detail", client.merged_into_id)
        context = selectors.client_card(client, request=request, before=before)
        return render(request, "clients/client_detail.html", context)


class VehicleDetailView(CapabilityRequiredMixin, View):
    """The vehicle's page: the car, its owner and everything that names it (calls, workshop visits, claims,
    documents, handovers), newest first, "Show more" paging like the client card's timeline."""

    required_capability = Capability.VIEW_CLIENTS

    def get(self, request, pk):
        try:
            vehicle = selectors.vehicle_for_page(pk, user=request.user)
        except Vehicle.DoesNotExist as exc:
            raise Http404 from exc
        before = request.GET.get("before")
        timeline = selectors.vehicle_timeline(vehicle, user=request.user, before=before)
        context = {"vehicle": vehicle, "timeline_vehicle": vehicle, "timeline": timeline}
        if request.htmx and before:
            return render(request, "clients/_timeline_page.html", context)
        return render(request, "clients/vehicle_detail.html", context)


class ClientFormMixin(CapabilityRequiredMixin):
    required_capability = Capability.EDIT_CLIENTS
    template_name = "clients/client_form.html"

    def render_form(self, request, form, phones, *, client=None, status=200):
        return render(request, self.template_name, {"form": form, "phones": phones, "client": client}, status=status)

    def save(self, request, form, phones, client=None):
        if not (form.is_valid() and phones.is_valid()):
            return None
        data = dict(form.cleaned_data)
        try:
            if client is None:
                return services.client_create(by=request.user, phones=phones.phone_inputs(), **data)
            return services.client_update(client=client, by=request.user, phones=phones.phone_inputs(), **data)
        except (ValidationError, Conflict) as exc:
            if isinstance(exc, ValidationError) and "phones" in getattr(exc, "error_dict", {}):
                phones._non_form_errors = phones.error_class(exc.error_dict.pop("phones"))
            apply_validation_error(form, exc)
            return None


class ClientCreateView(ClientFormMixin, SubmitOnceMixin, View):
    def get(self, request):
        form = ClientForm(initial={"source": request.GET.get("source", Client.Source.CALL)})
        return self.render_form(request, form, phone_formset(initial_number=request.GET.get("phone", "")))

    def post(self, request):
        form, phones = ClientForm(request.POST), phone_formset(request.POST)
        client = self.save(request, form, phones)
        if client is None:
            return self.render_form(request, form, phones, status=400)
        messages.success(request, _("Client %(client)s created.") % {"client": client})
        url = client.get_absolute_url()
        if phone := request.GET.get("phone"):
            url += "?" + urlencode({"phone": phone, "direction": "in"}) + "#log-call"
        self.saved_once(client, url)
        return redirect(url)


class ClientUpdateView(ClientFormMixin, SubmitOnceMixin, View):
    def get_client(self, request, pk) -> Client:
        client = get_object_or_404(Client.objects.visible_to(request.user).prefetch_related("phones"), pk=pk)
        if client.is_merged:
            raise Http404
        return client

    def get(self, request, pk):
        client = self.get_client(request, pk)
        return self.render_form(request, ClientForm(instance=client), phone_formset(client=client), client=client)

    def post(self, request, pk):
        client = self.get_client(request, pk)
        form, phones = ClientForm(request.POST, instance=client), phone_formset(request.POST)
        if self.save(request, form, phones, client=client) is None:
            return self.render_form(request, form, phones, client=client, status=400)
        messages.success(request, _("Saved."))
        self.saved_once(client, client.get_absolute_url())
        return redirect(client)


class VehicleFormView(CapabilityRequiredMixin, View):
    required_capability = Capability.EDIT_CLIENTS
    template_name = "clients/vehicle_form.html"

    def get_objects(self, request, **kwargs) -> tuple[Client, Vehicle | None]:
        if "vehicle_pk" in kwargs:
            vehicle = get_object_or_404(
                Vehicle.objects.visible_to(request.user).select_related("owner"), pk=kwargs["vehicle_pk"]
            )
            return vehicle.owner, vehicle
        client = get_object_or_404(Client.objects.visible_to(request.user).active(), pk=kwargs["pk"])
        return client, None

    def get(self, request, **kwargs):
        client, vehicle = self.get_objects(request, **kwargs)
        form = VehicleForm(instance=vehicle)
        return render(request, self.template_name, {"form": form, "client": client, "vehicle": vehicle})

    def post(self, request, **kwargs):
        client, vehicle = self.get_objects(request, **kwargs)
        form = VehicleForm(request.POST, instance=vehicle)
        if form.is_valid():
            try:
                if vehicle is None:
                    services.vehicle_create(by=request.user, owner=client, **form.cleaned_data)
                else:
                    services.vehicle_update(vehicle=vehicle, by=request.user, **form.cleaned_data)
            except (ValidationError, Conflict) as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, _("Vehicle saved."))
                return redirect(client)
        context = {"form": form, "client": client, "vehicle": vehicle}
        return render(request, self.template_name, context, status=400)


class DuplicateListView(CapabilityRequiredMixin, TemplateView):
    """The head's data-quality list: phone numbers shared by several clients."""

    required_capability = Capability.MANAGE_DUPLICATES
    template_name = "clients/duplicates.html"

    def get_context_data(self, **kwargs):
        groups, next_after = selectors.duplicate_phone_groups(after=self.request.GET.get("after"))
        return super().get_context_data(groups=groups, next_after=next_after, **kwargs)


def _merge_target(source: Client, raw) -> Client | None:
    """The client to keep as given in the address or the form, with what the preview shows; None if not a usable
    id (the form then says why)."""
    try:
        pk = int(raw)
    except (TypeError, ValueError):
        return None
    if pk == source.pk:
        return None
    return (
        Client.objects.active()
        .select_related("assigned_manager")
        .prefetch_related("phones", "vehicles")
        .filter(pk=pk)
        .first()
    )


class MergeView(CapabilityRequiredMixin, View):
    """The head compares a duplicate with the client to keep, chooses for each difference whose value stays (the
    consents with their dates), then merges. A target the head has not compared yet is shown first, not merged."""

    required_capability = Capability.MANAGE_DUPLICATES
    template_name = "clients/merge.html"

    def get_source(self, pk) -> Client:
        return get_object_or_404(
            Client.objects.active().select_related("assigned_manager").prefetch_related("phones", "vehicles"), pk=pk
        )

    def render_page(self, request, source, form, status=200):
        context = {"source": source, "form": form, "target": form.target}
        return render(request, self.template_name, context, status=status)

    def get(self, request, pk):
        source = self.get_source(pk)
        target = _merge_target(source, request.GET.get("into"))
        initial = {"target": request.GET.get("into"), "previewed": target.pk if target else None}
        return self.render_page(request, source, MergeForm(initial=initial, source=source, target=target))

    def post(self, request, pk):
        source = self.get_source(pk)
        target = _merge_target(source, request.POST.get("target"))
        form = MergeForm(request.POST, source=source, target=target)
        if form.is_valid() and target is None:
            form.add_error("target", _("A client cannot be merged into itself."))
        elif form.is_valid() and not form.is_previewed:
            # Another client than the one compared: show the differences of this pair before anything is merged.
            messages.info(request, _("Compare the two clients and choose what to keep, then merge."))
            initial = {"target": target.pk, "previewed": target.pk}
            return self.render_page(request, source, MergeForm(initial=initial, source=source, target=target))
        elif form.is_valid():
            try:
                kept = services.client_merge(source=source, target=target, by=request.user, keep=form.keep())
            except (ValidationError, Conflict) as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, _("%(source)s merged into %(target)s.") % {"source": source, "target": kept})
                return redirect(kept)
        return self.render_page(request, source, form, status=400)


class ClientHistoryView(CapabilityRequiredMixin, TemplateView):
    """Every recorded change of the client, its phones and vehicles: who, when, what."""

    required_capability = Capability.VIEW_CLIENTS
    template_name = "clients/history.html"

    def get_context_data(self, **kwargs):
        client = get_object_or_404(Client.objects.visible_to(self.request.user), pk=self.kwargs["pk"])
        return super().get_context_data(client=client, changes=selectors.client_changes(client), **kwargs)
