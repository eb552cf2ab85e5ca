"""Claims' pages: the list by due state, registering a claim (from the client card or a complaint call), the claim's
card with its steps, the printed registration card and answer letter (HTML and PDF), the scans, the categories."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView

from accounts.permissions import CapabilityRequiredMixin
from accounts.roles import Capability
from calls.models import Call
from claims import selectors, services
from claims.filters import ClaimFilter
from claims.forms import (
    AttachForm,
    CategoryChangeForm,
    CategoryForm,
    ClaimForm,
    CommentForm,
    DecideForm,
    EscalateForm,
    InformCallForm,
    LetterSentForm,
    ReasonForm,
)
from claims.models import Claim, ClaimAttachment, ClaimCategory
from clientdesk.calendar import local_date
from clientdesk.errors import Conflict
from clientdesk.exports import Column, ExportMixin, model_column
from clientdesk.pdf import pdf_response, render_html, render_pdf
from clientdesk.timefmt import local_datetime_text
from clientdesk.uploads import file_response
from clientdesk.views import KeysetPage, SubmitOnceMixin, apply_validation_error
from clients import selectors as client_selectors
from clients.models import Client

S = Claim.Status
SORTS = {"due": ("due_date", True), "received": ("received_at", False)}


class ClaimListView(ExportMixin, CapabilityRequiredMixin, TemplateView):
    """Every claim the user may see, by due date (soonest first) or newest first, filtered by due state, status,
    category, manager; the same filters as the API. `?export=csv|xlsx` for the rows the filters show (the clients'
    names and words are personal data: exporting them is the head's, and logged)."""

    required_capability = Capability.VIEW_CLAIMS
    template_name = "claims/claim_list.html"
    export_name = "claims"
    export_capability = Capability.EXPORT_PERSONAL_DATA
    export_columns = [
        model_column(Claim, "number"),
        model_column(Claim, "received_at", local_datetime_text),
        model_column(Claim, "due_date"),
        model_column(Claim, "status"),
        Column(gettext_lazy("Client"), "client__name"),
        Column(gettext_lazy("VIN"), "vehicle__vin"),
        model_column(Claim, "kind"),
        model_column(Claim, "channel"),
        Column(gettext_lazy("Category"), "category__name"),
        model_column(Claim, "client_words"),
        model_column(Claim, "demand"),
        model_column(Claim, "escalated_to"),
        model_column(Claim, "outcome"),
        model_column(Claim, "closed_at", local_datetime_text),
    ]

    def export_queryset(self):
        rows = Claim.objects.visible_to(self.request.user)
        filterset = ClaimFilter(self.request.GET or None, queryset=rows, bounds=selectors.due_bounds())
        if filterset.is_bound and not filterset.is_valid():
            return Claim.objects.none()  # a filter it refuses exports nothing, not everything
        field, ascending = SORTS[self.sort()]
        return (filterset.qs if filterset.is_bound else rows).order_by(field if ascending else f"-{field}", "id")

    def sort(self) -> str:
        """The order the page shows, which the export keeps: `?sort=due` (soonest first, the default) or `received`."""
        return self.request.GET.get("sort") if self.request.GET.get("sort") in SORTS else "due"

    def get_context_data(self, **kwargs):
        queryset = selectors.claim_list_rows(Claim.objects.visible_to(self.request.user))
        bounds = selectors.due_bounds()
        filterset = ClaimFilter(self.request.GET or None, queryset=queryset, bounds=bounds)
        rows = filterset.qs if filterset.is_bound and filterset.is_valid() else queryset
        sort = self.sort()
        field, ascending = SORTS[sort]
        page = KeysetPage(rows, after=self.request.GET.get("after"), time_field=field, ascending=ascending)
        page.object_list = selectors.shape_list_rows(page.object_list, bounds)
        query = self.request.GET.copy()
        query.pop("after", None)
        return super().get_context_data(
            filter=filterset,
            page=page,
            query=query.urlencode(),
            sort=sort,
            can_register=self.request.user.has_capability(Capability.WORK_CLAIMS),
            **kwargs,
        )


class ClaimCreateView(CapabilityRequiredMixin, SubmitOnceMixin, View):
    """Register a claim. Opened from the client card (`?client=`) or from a logged complaint call (`?call=`): the
    client, the car and the call's notes are filled in. Without either, find the client first."""

    required_capability = Capability.WORK_CLAIMS
    template_name = "claims/claim_form.html"

    def source_call(self, request, value) -> Call | None:
        if not str(value or "").isdigit():
            return None
        return Call.objects.visible_to(request.user).select_related("client", "vehicle").filter(pk=value).first()

    def client_of(self, request, value) -> Client | None:
        if not str(value or "").isdigit():
            return None
        client = Client.objects.visible_to(request.user).select_related("merged_into").filter(pk=value).first()
        return client.merged_into if client is not None and client.is_merged else client

    def context(self, request, form, client, call):
        return {
            "form": form,
            "client": client,
            "call": call,
            "categories": list(ClaimCategory.objects.filter(is_active=True)),
        }

    def get(self, request):
        call = self.source_call(request, request.GET.get("call"))
        client = (
            call.client if call is not None and call.client_id else self.client_of(request, request.GET.get("client"))
        )
        if client is None:
            query = request.GET.get("q", "").strip()
            hits = client_selectors.client_search(query, user=request.user, limit=10) if query else []
            return render(request, "claims/claim_pick_client.html", {"query": query, "hits": hits})
        vehicles = list(client.vehicles.all())
        initial = {
            "kind": Claim.Kind.ORAL,
            "channel": Claim.Channel.PHONE,
            "received_at": timezone.localtime(call.started_at if call else timezone.now()).strftime("%Y-%m-%dT%H:%M"),
            "vehicle": (call.vehicle if call is not None and call.vehicle_id else None)
            or (vehicles[0] if len(vehicles) == 1 else None),
            "client_words": call.notes if call is not None else "",
        }
        form = ClaimForm(client=client, initial=initial)
        return render(request, self.template_name, self.context(request, form, client, call))

    def post(self, request):
        call = self.source_call(request, request.POST.get("call"))
        client = self.client_of(request, request.POST.get("client"))
        if client is None:
            return redirect("claims:create")
        form = ClaimForm(request.POST, request.FILES, client=client)
        if form.is_valid():
            data = form.cleaned_data
            try:
                claim = services.claim_register(
                    by=request.user,
                    client=client,
                    category=data["category"],
                    client_words=data["client_words"],
                    demand=data["demand"],
                    kind=data["kind"],
                    channel=data["channel"],
                    received_at=data["received_at"],
                    agreed_term_days=data.get("agreed_term_days"),
                    vehicle=data.get("vehicle"),
                    booking=data.get("booking"),
                    delivery=data.get("delivery"),
                    loaner=data.get("loaner"),
                    source_call=call,
                    files=data.get("files") or [],
                )
            except (ValidationError, Conflict) as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, _("Claim %(number)s registered.") % {"number": claim.number})
                self.saved_once(claim, claim.get_absolute_url())
                return redirect(claim)
        return render(request, self.template_name, self.context(request, form, client, call), status=400)


# The card's steps: the name in the URL, the capability it needs, the form it takes.
STEPS: dict[str, tuple[Capability, type | None]] = {
    "review": (Capability.WORK_CLAIMS, CommentForm),
    "escalate": (Capability.WORK_CLAIMS, EscalateForm),
    "decide": (Capability.DECIDE_CLAIMS, DecideForm),
    "inform-call": (Capability.WORK_CLAIMS, InformCallForm),
    "letter-sent": (Capability.WORK_CLAIMS, LetterSentForm),
    "close": (Capability.WORK_CLAIMS, CommentForm),
    "reopen": (Capability.MANAGE_CLAIMS, ReasonForm),
    "category": (Capability.WORK_CLAIMS, CategoryChangeForm),
    "attach": (Capability.WORK_CLAIMS, AttachForm),
}
FORM_NAMES = {
    "review": "review_form",
    "escalate": "escalate_form",
    "decide": "decide_form",
    "inform-call": "inform_form",
    "letter-sent": "letter_form",
    "close": "close_form",
    "reopen": "reopen_form",
    "category": "category_form",
    "attach": "attach_form",
}


def available_steps(user, claim: Claim) -> set[str]:
    """The steps the card offers: those the service would take that the user may take."""
    allowed = services.ALLOWED_TRANSITIONS.get(claim.status, frozenset())
    steps = set()
    if user.has_capability(Capability.WORK_CLAIMS):
        if S.UNDER_REVIEW in allowed and claim.status not in services.REOPEN_FROM:
            steps.add("review")
        if S.ESCALATED in allowed:
            steps.add("escalate")
        if claim.status == S.DECIDED:
            steps |= {"inform-call", "letter-sent"}
        if claim.status == S.INFORMED:
            steps.add("close")
        if not claim.is_answered:
            steps.add("category")
        steps.add("attach")
    if S.DECIDED in allowed and services.may_decide(user, claim):
        steps.add("decide")
    if claim.status in services.REOPEN_FROM and user.has_capability(Capability.MANAGE_CLAIMS):
        steps.add("reopen")
    return steps


def claim_card_context(request, claim: Claim, **forms) -> dict:
    today = local_date(timezone.now())
    selectors.mark_due_states([claim])
    context = {
        "claim": claim,
        "steps": available_steps(request.user, claim),
        **selectors.claim_links(claim),
        "review_form": CommentForm(prefix="review"),
        "close_form": CommentForm(prefix="close"),
        "escalate_form": EscalateForm(),
        "decide_form": DecideForm(),
        "inform_form": InformCallForm(),
        "letter_form": LetterSentForm(initial={"sent_on": today}),
        "reopen_form": ReasonForm(),
        "category_form": CategoryChangeForm(
            initial={"category": claim.category_id, "agreed_term_days": claim.agreed_term_days}
        ),
        "attach_form": AttachForm(),
    }
    context.update(forms)
    return context


class ClaimDetailView(CapabilityRequiredMixin, View):
    required_capability = Capability.VIEW_CLAIMS

    def get(self, request, pk):
        try:
            claim = selectors.claim_for_card(pk, user=request.user)
        except Claim.DoesNotExist as exc:
            raise Http404 from exc
        return render(request, "claims/claim_detail.html", claim_card_context(request, claim))


class ClaimStepView(CapabilityRequiredMixin, View):
    """The card's buttons, each a service call; an illegal step is refused with a message and changes nothing."""

    required_capability = Capability.VIEW_CLAIMS

    def post(self, request, pk, step):
        if step not in STEPS:
            raise Http404
        capability, form_class = STEPS[step]
        if not request.user.has_capability(capability):
            raise PermissionDenied
        claim = get_object_or_404(Claim.objects.visible_to(request.user), pk=pk)
        prefix = {"review": "review", "close": "close"}.get(step)
        form = form_class(request.POST, request.FILES, prefix=prefix)
        refused = None
        if form.is_valid():
            try:
                self.perform(step, claim, request.user, form.cleaned_data)
            except Conflict as exc:
                refused = str(exc.message)
            except ValidationError as exc:
                apply_validation_error(form, exc)
        if refused:
            messages.error(request, refused)
            return redirect(claim)
        if form.errors:
            claim = selectors.claim_for_card(pk, user=request.user)
            context = claim_card_context(request, claim, **{FORM_NAMES[step]: form})
            context["failed_step"] = step
            return render(request, "claims/claim_detail.html", context, status=400)
        claim.refresh_from_db()
        messages.success(request, _("%(claim)s: %(status)s.") % {"claim": claim, "status": claim.get_status_display()})
        return redirect(claim)

    def perform(self, step, claim, user, data):
        if step == "review":
            services.claim_review(claim=claim, by=user, comment=data["comment"])
        elif step == "escalate":
            services.claim_escalate(claim=claim, by=user, to=data["to"], comment=data["comment"])
        elif step == "decide":
            services.claim_decide(claim=claim, by=user, **data)
        elif step == "inform-call":
            services.claim_inform_with_new_call(claim=claim, by=user, notes=data["notes"])
        elif step == "letter-sent":
            services.claim_letter_sent(claim=claim, by=user, sent_on=data["sent_on"])
        elif step == "close":
            services.claim_close(claim=claim, by=user, comment=data["comment"])
        elif step == "reopen":
            services.claim_reopen(claim=claim, by=user, reason=data["reason"])
        elif step == "category":
            services.claim_change_category(claim=claim, by=user, **data)
        elif step == "attach":
            services.claim_attach(claim=claim, by=user, file=data["file"])


class ClaimAttachmentView(CapabilityRequiredMixin, View):
    """A scan, to those who may see its claim."""

    required_capability = Capability.VIEW_CLAIMS

    def get(self, request, pk):
        visible = Claim.objects.visible_to(request.user).values("pk")
        attachment = get_object_or_404(ClaimAttachment.objects.filter(claim__in=visible), pk=pk)
        return file_response(
            attachment.file, download_name=attachment.original_name, content_type=attachment.content_type
        )


PRINTED = {"card": "claims/print/card.html", "letter": "claims/print/letter.html"}


class ClaimPrintView(CapabilityRequiredMixin, View):
    """The claim's registration card for the client, or the answer letter with the decision: an HTML page to print,
    or (`pdf/`) the same as a PDF."""

    required_capability = Capability.VIEW_CLAIMS
    as_pdf = False

    def get(self, request, pk, form):
        if form not in PRINTED:
            raise Http404
        try:
            claim = selectors.claim_for_card(pk, user=request.user)
        except Claim.DoesNotExist as exc:
            raise Http404 from exc
        if form == "letter" and not claim.decided_at:
            messages.warning(request, _("The answer letter is made from the decision: the claim has none yet."))
            return redirect(claim)
        context = {"claim": claim, "today": local_date(timezone.now())}
        # A Russian form whatever the page's language: its dates and numbers in Russian format too.
        with translation.override("ru"):
            if self.as_pdf:
                pdf = render_pdf(PRINTED[form], {**context, "pdf": True}, request=request)
                return pdf_response(pdf, f"claim-{form}-{claim.pk}.pdf")
            context["pdf_url"] = reverse("claims:pdf", args=[claim.pk, form])
            return HttpResponse(render_html(PRINTED[form], context, request=request))


class CategoryListView(CapabilityRequiredMixin, TemplateView):
    required_capability = Capability.MANAGE_CLAIMS
    template_name = "claims/category_list.html"

    def get_context_data(self, **kwargs):
        categories = ClaimCategory.objects.visible_to(self.request.user).order_by("-is_active", "order", "name", "id")
        return super().get_context_data(categories=categories, **kwargs)


class CategoryFormView(CapabilityRequiredMixin, SubmitOnceMixin, View):
    required_capability = Capability.MANAGE_CLAIMS
    template_name = "claims/category_form.html"

    def get_category(self, request, pk) -> ClaimCategory | None:
        return get_object_or_404(ClaimCategory.objects.visible_to(request.user), pk=pk) if pk else None

    def get(self, request, pk=None):
        category = self.get_category(request, pk)
        initial = {}
        if category is not None:
            initial = {name: getattr(category, name) for name in services.CATEGORY_FIELDS}
        form = CategoryForm(initial=initial)
        return render(request, self.template_name, {"form": form, "category": category})

    def post(self, request, pk=None):
        category = self.get_category(request, pk)
        form = CategoryForm(request.POST)
        if form.is_valid():
            duplicate = ClaimCategory.objects.filter(code=form.cleaned_data["code"])
            if category is not None:
                duplicate = duplicate.exclude(pk=category.pk)
            if duplicate.exists():
                form.add_error("code", _("Another category has this code."))
            else:
                try:
                    category = services.claim_category_save(by=request.user, category=category, **form.cleaned_data)
                except (ValidationError, Conflict) as exc:
                    apply_validation_error(form, exc)
                else:
                    messages.success(request, _("Saved: %(name)s.") % {"name": category})
                    self.saved_once(category, reverse("claims:category-list"))
                    return redirect("claims:category-list")
        return render(request, self.template_name, {"form": form, "category": category}, status=400)


# --- what the claims app adds to other apps' pages (registered in ClaimsConfig.ready) --------------------------------


def client_card_panel(request, client, state) -> dict | None:
    """The client card's "register a claim" button (no query: the card's count stays pinned)."""
    return {} if request.user.has_capability(Capability.WORK_CLAIMS) else None


def queue_panel(request) -> dict | None:
    """The manager's day: her claims due within two working days or overdue."""
    if not request.user.has_capability(Capability.WORK_CLAIMS):
        return None
    claims, _bounds = selectors.my_claims_due(request.user)
    return {"my_claims_due": claims}


def complaint_call_action(call, user) -> tuple[str, str] | None:
    """After a complaint call is logged (and on its row): one click opens a claim prefilled from it, for those who
    register claims."""
    if call.purpose != Call.Purpose.COMPLAINT or not user.has_capability(Capability.WORK_CLAIMS):
        return None
    return _("Register a claim"), f"{reverse('claims:create')}?call={call.pk}"


urlpatterns = [
    path("", ClaimListView.as_view(), name="list"),
    path("new/", ClaimCreateView.as_view(), name="create"),
    path("<int:pk>/", ClaimDetailView.as_view(), name="detail"),
    path("<int:pk>/print/<slug:form>/", ClaimPrintView.as_view(), name="print"),
    path("<int:pk>/pdf/<slug:form>/", ClaimPrintView.as_view(as_pdf=True), name="pdf"),
    path("<int:pk>/<slug:step>/", ClaimStepView.as_view(), name="step"),
    path("attachments/<int:pk>/", ClaimAttachmentView.as_view(), name="attachment"),
    path("categories/", CategoryListView.as_view(), name="category-list"),
    path("categories/new/", CategoryFormView.as_view(), name="category-create"),
    path("categories/<int:pk>/", CategoryFormView.as_view(), name="category-edit"),
]
