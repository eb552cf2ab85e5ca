"""The paper's pages: the archive (search and filters), a document's card with its steps, the contracts awaiting
approval, the transfer registries (make, print, PDF, confirm), the correspondence register. Thin: each POST calls one
service."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView

from accounts.permissions import CapabilityRequiredMixin
from accounts.roles import Capability
from clientdesk.calendar import local_date
from clientdesk.errors import Conflict
from clientdesk.exports import Column, ExportMixin, model_column
from clientdesk.pdf import pdf_response, render_html, render_pdf
from clientdesk.views import KeysetPage, SubmitOnceMixin, apply_validation_error
from documents import selectors
from documents.filters import CorrespondenceFilter, DocumentFilter, RegistryFilter
from documents.forms import (
    DocumentCreateForm,
    DocumentForm,
    MailForm,
    ReasonForm,
    RegistryConfirmForm,
    RegistryCreateForm,
    StepForm,
)
from documents.models import Correspondence, Document, Registry
from documents.services import documents as services
from documents.services import mail as mail_services
from documents.services import registries as registry_services

S = Document.State


def _query_without(request, *names) -> str:
    query = request.GET.copy()
    for name in ("after", *names):
        query.pop(name, None)
    return query.urlencode()


def _error_text(exc) -> str:
    if isinstance(exc, Conflict):
        return str(exc.message)
    return " ".join(getattr(exc, "messages", [str(exc)]))


class DocumentListView(ExportMixin, CapabilityRequiredMixin, TemplateView):
    """The archive: one search box, the filters, newest first by date, keyset pages; `?export=csv|xlsx` for the rows
    the filters show (client names are personal data: exporting them is the head's, and logged)."""

    required_capability = Capability.VIEW_DOCUMENTS
    template_name = "documents/document_list.html"
    export_name = "documents"
    export_capability = Capability.EXPORT_PERSONAL_DATA
    export_columns = [
        model_column(Document, "issued_on"),
        model_column(Document, "kind"),
        model_column(Document, "number"),
        model_column(Document, "title"),
        Column(gettext_lazy("Client"), "client__name"),
        Column(gettext_lazy("VIN"), "vehicle__vin"),
        Column(gettext_lazy("Plate"), "vehicle__plate"),
        model_column(Document, "original"),
        model_column(Document, "state"),
        model_column(Document, "archive_box"),
        model_column(Document, "archive_shelf"),
        model_column(Document, "dms_id"),
    ]

    def filtered(self, queryset):
        filterset = DocumentFilter(self.request.GET or None, queryset=queryset)
        rows = filterset.qs if filterset.is_bound and filterset.is_valid() else queryset
        return filterset, rows

    def export_queryset(self):
        if self.request.GET and not DocumentFilter(self.request.GET, queryset=Document.objects.none()).is_valid():
            return Document.objects.none()  # a filter it refuses exports nothing, not everything
        return self.filtered(Document.objects.visible_to(self.request.user))[1].order_by("-issued_on", "-id")

    def get_context_data(self, **kwargs):
        queryset = selectors.document_list_rows(Document.objects.visible_to(self.request.user))
        filterset, rows = self.filtered(queryset)
        page = KeysetPage(
            rows, after=self.request.GET.get("after"), time_field="issued_on", size=selectors.default_page_size()
        )
        page.object_list = selectors.shape_list_rows(page.object_list)
        return super().get_context_data(
            filter=filterset,
            page=page,
            query=_query_without(self.request),
            hidden_filters=("client", "vehicle", "delivery", "booking"),
            **kwargs,
        )


def client_card_panel(request, client, state) -> dict | None:
    """The client card's links to the client's documents and to register one (no query: the card's count stays
    pinned)."""
    if not request.user.has_capability(Capability.VIEW_DOCUMENTS):
        return None
    return {"can_edit": request.user.has_capability(Capability.EDIT_DOCUMENTS)}


def card_context(request, document: Document, **extra) -> dict:
    steps = services.allowed_steps(document, request.user)
    return {
        "document": document,
        "steps": [(to, services.ACTION_LABELS[to]) for to in steps],
        "step_form": extra.pop("step_form", None) or StepForm(),
        "transitions": selectors.document_transitions(document),
        "changes": selectors.document_changes(document),
        "registries": list(document.registry_items.select_related("registry").order_by("-id")),
        "can_edit": request.user.has_capability(Capability.EDIT_DOCUMENTS),
        **extra,
    }


class DocumentDetailView(CapabilityRequiredMixin, View):
    required_capability = Capability.VIEW_DOCUMENTS

    def get(self, request, pk):
        try:
            document = selectors.document_for_card(pk, user=request.user)
        except Document.DoesNotExist as exc:
            raise Http404 from exc
        return render(request, "documents/document_detail.html", card_context(request, document))


class DocumentStepView(CapabilityRequiredMixin, View):
    """A step of the document's life (signed, handed to accounting, archived, lost, approve, endorse...). The service
    decides whether the step is allowed and whether this user may take it."""

    required_capability = Capability.VIEW_DOCUMENTS

    def post(self, request, pk, to):
        if to not in S.values:
            raise Http404
        document = get_object_or_404(Document.objects.visible_to(request.user), pk=pk)
        form = StepForm(request.POST)
        if form.is_valid():
            try:
                document = services.document_transition(document=document, by=request.user, to=to, **form.cleaned_data)
            except PermissionDenied:
                raise
            except Conflict as exc:
                messages.error(request, _error_text(exc))
                return redirect(self.next_url(request, document))
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(
                    request,
                    _("%(document)s: %(state)s.") % {"document": document, "state": document.get_state_display()},
                )
                return redirect(self.next_url(request, document))
        document = selectors.document_for_card(pk, user=request.user)
        context = card_context(request, document, step_form=form, failed_step=to)
        return render(request, "documents/document_detail.html", context, status=400)

    @staticmethod
    def next_url(request, document) -> str:
        wanted = request.POST.get("next", "")
        # Only a page of this site ("/\\evil.com" reads as another host to a browser: Django's check knows it).
        same_site = url_has_allowed_host_and_scheme(wanted, {request.get_host()}, require_https=request.is_secure())
        return wanted if wanted and same_site else document.get_absolute_url()


class DocumentFormView(CapabilityRequiredMixin, SubmitOnceMixin, View):
    """Register a document, or correct its details."""

    required_capability = Capability.EDIT_DOCUMENTS
    template_name = "documents/document_form.html"

    def get_document(self, request, pk):
        return get_object_or_404(Document.objects.visible_to(request.user), pk=pk) if pk else None

    def get(self, request, pk=None):
        document = self.get_document(request, pk)
        if document is None:
            initial = {key: request.GET.get(key) for key in ("client", "vehicle", "delivery", "booking", "kind")}
            form = DocumentCreateForm(initial={k: v for k, v in initial.items() if v}, user=request.user)
        else:
            form = DocumentForm(
                initial={name: getattr(document, name) for name in services.EDITABLE_FIELDS}, user=request.user
            )
        return render(request, self.template_name, {"form": form, "document": document})

    def post(self, request, pk=None):
        document = self.get_document(request, pk)
        form = (DocumentCreateForm if document is None else DocumentForm)(request.POST, user=request.user)
        if form.is_valid():
            data = dict(form.cleaned_data)
            try:
                if document is None:
                    start = data.pop("start")
                    document = services.document_register(
                        by=request.user,
                        state=None if start == S.DRAFT else start,
                        needs_approval=start == S.DRAFT,
                        **data,
                    )
                    messages.success(request, _("Document registered: %(document)s.") % {"document": document})
                else:
                    document = services.document_update(document=document, by=request.user, **data)
                    messages.success(request, _("Saved: %(document)s.") % {"document": document})
            except (ValidationError, Conflict) as exc:
                apply_validation_error(form, exc)
            else:
                self.saved_once(document, document.get_absolute_url())
                return redirect(document)
        return render(request, self.template_name, {"form": form, "document": document}, status=400)


class ContractListView(CapabilityRequiredMixin, TemplateView):
    """Contracts on their way to signature, each with the step its reader may take (approve, endorse, sign)."""

    required_capability = Capability.VIEW_DOCUMENTS
    template_name = "documents/contract_list.html"

    def get_context_data(self, **kwargs):
        contracts = list(selectors.contracts_awaiting(self.request.user)[:200])
        user = self.request.user
        rows = [
            (doc, [(to, services.ACTION_LABELS[to]) for to in services.allowed_steps(doc, user)]) for doc in contracts
        ]
        return super().get_context_data(rows=rows, **kwargs)


# --- registries ------------------------------------------------------------------------------------------------


class RegistryListView(CapabilityRequiredMixin, TemplateView):
    required_capability = Capability.VIEW_DOCUMENTS
    template_name = "documents/registry_list.html"

    def get_context_data(self, **kwargs):
        queryset = selectors.registries_for_display(Registry.objects.visible_to(self.request.user))
        filterset = RegistryFilter(self.request.GET or None, queryset=queryset)
        rows = filterset.qs if filterset.is_bound and filterset.is_valid() else queryset
        page = KeysetPage(rows, after=self.request.GET.get("after"), time_field="created_at")
        return super().get_context_data(filter=filterset, page=page, query=_query_without(self.request), **kwargs)


class RegistryCreateView(CapabilityRequiredMixin, SubmitOnceMixin, View):
    """Pick documents from a filtered list (those that may go where the registry goes) and make the registry."""

    required_capability = Capability.EDIT_DOCUMENTS
    template_name = "documents/registry_form.html"

    def candidates(self, request, destination):
        queryset = selectors.documents_for_display(
            Document.objects.visible_to(request.user).filter(state__in=registry_services.ELIGIBLE[destination])
        ).exclude(registry_items__open=True)
        filterset = DocumentFilter(request.GET or None, queryset=queryset)
        rows = filterset.qs if filterset.is_bound and filterset.is_valid() else queryset
        # Paging inside the form (a POST with `page_after`) keeps what was picked on the pages before.
        after = request.POST.get("page_after") or request.GET.get("after")
        return filterset, KeysetPage(rows, after=after, time_field="issued_on", size=100)

    def destination(self, request) -> str:
        wanted = request.POST.get("destination") or request.GET.get("destination")
        return wanted if wanted in Registry.Destination.values else Registry.Destination.ACCOUNTING

    def context(self, request, form):
        destination = self.destination(request)
        filterset, page = self.candidates(request, destination)
        picked = {int(pk) for pk in request.POST.getlist("documents") if pk.isdigit()}
        shown = {doc.pk for doc in page}
        return {
            "form": form,
            "filter": filterset,
            "page": page,
            "destination": destination,
            "destinations": Registry.Destination.choices,
            "query": _query_without(request),
            "picked": picked,
            "picked_elsewhere": sorted(picked - shown),
        }

    def get(self, request):
        form = RegistryCreateForm(initial={"destination": self.destination(request)}, user=request.user)
        return render(request, self.template_name, self.context(request, form))

    def post(self, request):
        if "page_after" in request.POST:  # the form's own "next page": nothing is made yet
            form = RegistryCreateForm(initial={"destination": self.destination(request)}, user=request.user)
            return render(request, self.template_name, self.context(request, form))
        form = RegistryCreateForm(request.POST, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                registry = registry_services.registry_create(by=request.user, **data)
            except (ValidationError, Conflict) as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, _("%(registry)s made.") % {"registry": registry})
                self.saved_once(registry, registry.get_absolute_url())
                return redirect(registry)
        return render(request, self.template_name, self.context(request, form), status=400)


def _registry(request, pk) -> Registry:
    return get_object_or_404(selectors.registries_for_display(Registry.objects.visible_to(request.user)), pk=pk)


def registry_print_context(registry: Registry) -> dict:
    documents = selectors.registry_documents(registry)
    return {"registry": registry, "documents": documents}


class RegistryDetailView(CapabilityRequiredMixin, View):
    required_capability = Capability.VIEW_DOCUMENTS

    def get(self, request, pk, confirm_form=None, cancel_form=None, status=200):
        registry = _registry(request, pk)
        context = {
            **registry_print_context(registry),
            "confirm_form": confirm_form
            or RegistryConfirmForm(
                initial={"archive_box": registry.archive_box, "archive_shelf": registry.archive_shelf}
            ),
            "cancel_form": cancel_form or ReasonForm(),
            "can_edit": request.user.has_capability(Capability.EDIT_DOCUMENTS),
        }
        return render(request, "documents/registry_detail.html", context, status=status)


class RegistryPrintView(CapabilityRequiredMixin, View):
    """The registry as printed (HTML), and as a PDF with `?format=pdf` (the `registry-pdf` route)."""

    required_capability = Capability.VIEW_DOCUMENTS
    as_pdf = False

    def get(self, request, pk):
        registry = _registry(request, pk)
        context = registry_print_context(registry)
        if self.as_pdf:
            pdf = render_pdf("documents/print/registry.html", context, request=request)
            return pdf_response(pdf, f"registry-{registry.year}-{registry.sequence:05d}.pdf")
        context["pdf_url"] = reverse("documents:registry-pdf", args=[registry.pk])
        return HttpResponse(render_html("documents/print/registry.html", context, request=request))


class RegistryConfirmView(CapabilityRequiredMixin, View):
    required_capability = Capability.EDIT_DOCUMENTS

    def post(self, request, pk):
        registry = _registry(request, pk)
        form = RegistryConfirmForm(request.POST)
        if form.is_valid():
            try:
                registry = registry_services.registry_confirm_received(
                    registry=registry, by=request.user, **form.cleaned_data
                )
            except Conflict as exc:
                messages.error(request, _error_text(exc))
                return redirect(registry)
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, _("%(registry)s received.") % {"registry": registry})
                return redirect(registry)
        return RegistryDetailView().get(request, pk, confirm_form=form, status=400)


class RegistryCancelView(CapabilityRequiredMixin, View):
    required_capability = Capability.EDIT_DOCUMENTS

    def post(self, request, pk):
        registry = _registry(request, pk)
        form = ReasonForm(request.POST)
        if form.is_valid():
            try:
                registry = registry_services.registry_cancel(
                    registry=registry, by=request.user, reason=form.cleaned_data["reason"]
                )
            except (Conflict, ValidationError) as exc:
                messages.error(request, _error_text(exc))
            else:
                messages.success(request, _("%(registry)s cancelled.") % {"registry": registry})
            return redirect(registry)
        return RegistryDetailView().get(request, pk, cancel_form=form, status=400)


# --- correspondence --------------------------------------------------------------------------------------------


class MailListView(CapabilityRequiredMixin, TemplateView):
    """The correspondence register, newest first; items waiting more than a day for their hand-over are flagged."""

    required_capability = Capability.VIEW_DOCUMENTS
    template_name = "documents/mail_list.html"

    def get_context_data(self, **kwargs):
        queryset = selectors.mail_for_display(Correspondence.objects.visible_to(self.request.user))
        filterset = CorrespondenceFilter(self.request.GET or None, queryset=queryset)
        rows = filterset.qs if filterset.is_bound and filterset.is_valid() else queryset
        page = KeysetPage(rows, after=self.request.GET.get("after"), time_field="created_at")
        return super().get_context_data(
            filter=filterset,
            page=page,
            query=_query_without(self.request),
            overdue_before=mail_services.unhanded_cutoff(),
            can_edit=self.request.user.has_capability(Capability.EDIT_DOCUMENTS),
            **kwargs,
        )


class MailFormView(CapabilityRequiredMixin, SubmitOnceMixin, View):
    required_capability = Capability.EDIT_DOCUMENTS
    template_name = "documents/mail_form.html"

    def get_item(self, request, pk):
        return (
            get_object_or_404(selectors.mail_for_display(Correspondence.objects.visible_to(request.user)), pk=pk)
            if pk
            else None
        )

    def get(self, request, pk=None):
        item = self.get_item(request, pk)
        if item is None:
            initial = {"dated_on": local_date(timezone.now()), "recipient": _("the dealership")}
        else:
            initial = {name: getattr(item, name) for name in mail_services.EDITABLE_FIELDS}
        return render(request, self.template_name, {"form": MailForm(initial=initial, user=request.user), "item": item})

    def post(self, request, pk=None):
        item = self.get_item(request, pk)
        form = MailForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                if item is None:
                    item = mail_services.mail_register(by=request.user, **form.cleaned_data)
                else:
                    item = mail_services.mail_update(item=item, by=request.user, **form.cleaned_data)
            except (ValidationError, Conflict) as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, _("Saved: %(item)s.") % {"item": item})
                self.saved_once(item, reverse("documents:mail-list"))
                return redirect("documents:mail-list")
        return render(request, self.template_name, {"form": form, "item": item}, status=400)


class MailHandOverView(CapabilityRequiredMixin, View):
    required_capability = Capability.EDIT_DOCUMENTS

    def post(self, request, pk):
        item = get_object_or_404(Correspondence.objects.visible_to(request.user), pk=pk)
        status = 200
        try:
            item = mail_services.mail_hand_over(item=item, by=request.user)
        except Conflict as exc:
            status = 409
            messages.error(request, _error_text(exc))
        else:
            if not request.htmx:
                messages.success(request, _("Handed over: %(item)s.") % {"item": item})
        if request.htmx:
            # The redrawn row; a refusal's message shows with the next page.
            item = selectors.mail_for_display(Correspondence.objects.filter(pk=item.pk)).get()
            context = {"item": item, "can_edit": True, "overdue_before": mail_services.unhanded_cutoff()}
            return render(request, "documents/_mail_row.html", context, status=status)
        return redirect(
            reverse("documents:mail-list") + (f"?{request.POST['query']}" if request.POST.get("query") else "")
        )


urlpatterns = [
    path("", DocumentListView.as_view(), name="list"),
    path("new/", DocumentFormView.as_view(), name="create"),
    path("<int:pk>/", DocumentDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", DocumentFormView.as_view(), name="edit"),
    path("<int:pk>/step/<slug:to>/", DocumentStepView.as_view(), name="step"),
    path("contracts/", ContractListView.as_view(), name="contract-list"),
    path("registries/", RegistryListView.as_view(), name="registry-list"),
    path("registries/new/", RegistryCreateView.as_view(), name="registry-create"),
    path("registries/<int:pk>/", RegistryDetailView.as_view(), name="registry-detail"),
    path("registries/<int:pk>/print/", RegistryPrintView.as_view(), name="registry-print"),
    path("registries/<int:pk>/pdf/", RegistryPrintView.as_view(as_pdf=True), name="registry-pdf"),
    path("registries/<int:pk>/confirm/", RegistryConfirmView.as_view(), name="registry-confirm"),
    path("registries/<int:pk>/cancel/", RegistryCancelView.as_view(), name="registry-cancel"),
    path("mail/", MailListView.as_view(), name="mail-list"),
    path("mail/new/", MailFormView.as_view(), name="mail-create"),
    path("mail/<int:pk>/", MailFormView.as_view(), name="mail-edit"),
    path("mail/<int:pk>/hand-over/", MailHandOverView.as_view(), name="mail-hand-over"),
]
