"""Tow desk pages: take an order on the phone, the dispatch board, the order's card and its steps, the list, the
contractors' directory and the monthly reconciliation with a contractor."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from accounts.permissions import CapabilityRequiredMixin
from accounts.roles import Capability
from clientdesk.calendar import local_date
from clientdesk.errors import Conflict
from clientdesk.timefmt import local_datetime_text
from clientdesk.views import KeysetPage, SubmitOnceMixin, apply_validation_error
from reception.exports import csv_response
from reception.filters import TowOrderFilter
from reception.forms import (
    ContractorForm,
    CostForm,
    DispatchForm,
    ReasonForm,
    ReconciliationForm,
    TowOrderForm,
)
from reception.models import TowContractor, TowOrder
from reception.selectors import tow as selectors
from reception.services import tow as services
from reception.views.pick import ClientPickMixin

S = TowOrder.Status


class TowBoardView(CapabilityRequiredMixin, TemplateView):
    """The dispatch board: every open tow order, oldest first, the ones not dispatched in time flagged. It polls
    every 30 s with the version it shows and gets 204 until an order changes or turns overdue."""

    required_capability = Capability.VIEW_RECEPTION
    template_name = "reception/tow_board.html"

    def get(self, request, *args, **kwargs):
        shown = request.GET.get("version")
        if request.htmx and shown and shown == selectors.board_version_now(user=request.user, now=timezone.now()):
            return HttpResponse(status=204)
        return super().get(request, *args, **kwargs)

    def get_template_names(self):
        return ["reception/_tow_board.html"] if self.request.htmx else [self.template_name]

    def get_context_data(self, **kwargs):
        board = selectors.tow_board(user=self.request.user, now=timezone.now())
        return super().get_context_data(
            board=board, minutes=int(selectors.dispatch_window().total_seconds() // 60), **kwargs
        )


class TowOrderCreateView(CapabilityRequiredMixin, SubmitOnceMixin, ClientPickMixin, View):
    """Take a tow order while the client is on the line: find them with the search box (or name a new one), then
    where the car is, what happened, where it goes."""

    required_capability = Capability.EDIT_RECEPTION
    template_name = "reception/tow_form.html"

    def context(self, request, form, client=None):
        return {"form": form, "client": client, "query": request.GET.get("q", "")}

    def get(self, request):
        if request.htmx and "q" in request.GET:
            return self.search_response(request)
        client = self.chosen_client(request, request.GET.get("client"))
        initial = {}
        if client is not None:
            phones = list(client.phones.all())
            vehicles = list(client.vehicles.all())
            initial = {
                "client": client,
                "phone_on_site": phones[0].number if phones else "",
                "vehicle": vehicles[0] if len(vehicles) == 1 else None,
            }
        form = TowOrderForm(user=request.user, initial=initial)
        return render(request, self.template_name, self.context(request, form, client))

    def post(self, request):
        form = TowOrderForm(request.POST, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            client = data["client"] or services.NewCaller(name=data["new_client_name"])
            try:
                order = services.tow_order_create(
                    by=request.user,
                    client=client,
                    vehicle=data.get("vehicle"),
                    car=data["car"],
                    pickup_address=data["pickup_address"],
                    landmark=data["landmark"],
                    phone_on_site=data["phone_on_site"],
                    problem=data["problem"],
                    problem_note=data["problem_note"],
                    destination=data["destination"],
                    wanted_at=data.get("wanted_at"),
                    contractor=data.get("contractor"),
                    driver=data["driver"],
                    service_type=data.get("service_type"),
                )
            except (ValidationError, Conflict) as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, _("Tow order taken: %(order)s.") % {"order": order})
                self.saved_once(order, order.get_absolute_url())
                return redirect(order)
        client = self.chosen_client(request, request.POST.get("client"))
        return render(request, self.template_name, self.context(request, form, client), status=400)


def client_card_panel(request, client, state) -> dict | None:
    """The client card's buttons to take a tow order or a tinting consultation for the client (no query: the card's
    count stays pinned)."""
    return {} if request.user.has_capability(Capability.EDIT_RECEPTION) else None


def tow_card_context(request, order: TowOrder, **forms) -> dict:
    return {
        "order": order,
        "overdue": selectors.is_overdue(order, now=timezone.now()),
        "steps": available_steps(request.user, order),
        "dispatch_form": forms.get("dispatch_form")
        or DispatchForm(initial={"contractor": order.contractor, "driver": order.driver}),
        "reason_form": forms.get("reason_form") or ReasonForm(),
        "cost_form": forms.get("cost_form") or CostForm(initial={"cost": order.cost}),
        "transitions": list(order.transitions.select_related("by")),
    }


# step name in the URL → the status it leads to
STEPS = {
    "dispatch": S.DISPATCHED,
    "on-the-way": S.ON_THE_WAY,
    "delivered": S.DELIVERED,
    "cancel": S.CANCELLED,
    "fail": S.FAILED,
}


def available_steps(user, order: TowOrder) -> list[str]:
    """The buttons the card offers: the steps the service would take that the user may take."""
    if not user.has_capability(Capability.EDIT_RECEPTION):
        return []
    allowed = services.ALLOWED_TRANSITIONS.get(order.status, frozenset())
    return [name for name, target in STEPS.items() if target in allowed]


class TowOrderDetailView(CapabilityRequiredMixin, View):
    required_capability = Capability.VIEW_RECEPTION

    def get(self, request, pk):
        order = get_object_or_404(
            TowOrder.objects.visible_to(request.user).select_related(
                "client", "vehicle", "contractor", "service_type", "booking", "created_by"
            ),
            pk=pk,
        )
        return render(request, "reception/tow_detail.html", tow_card_context(request, order))


class TowOrderStepView(CapabilityRequiredMixin, View):
    """The card's buttons: dispatch (tow service, ETA, driver), on the way, delivered, cancel and fail (a reason),
    and the cost."""

    required_capability = Capability.EDIT_RECEPTION

    def post(self, request, pk, step):
        if step not in (*STEPS, "cost"):
            raise Http404
        order = get_object_or_404(TowOrder.objects.visible_to(request.user), pk=pk)
        form, refused = None, False
        try:
            if step == "dispatch":
                form = DispatchForm(request.POST)
                if form.is_valid():
                    services.tow_order_dispatch(order=order, by=request.user, **form.cleaned_data)
            elif step in ("cancel", "fail"):
                form = ReasonForm(request.POST)
                if form.is_valid():
                    services.tow_order_transition(
                        order=order, by=request.user, to=STEPS[step], note=form.cleaned_data["reason"]
                    )
            elif step == "cost":
                form = CostForm(request.POST)
                if form.is_valid():
                    services.tow_order_set_cost(order=order, by=request.user, cost=form.cleaned_data["cost"])
            elif step == "delivered":
                services.tow_order_deliver(order=order, by=request.user)
            else:
                services.tow_order_transition(order=order, by=request.user, to=STEPS[step])
        except (ValidationError, Conflict) as exc:
            if form is None:
                refused = True
                messages.error(request, " ".join(getattr(exc, "messages", [str(getattr(exc, "message", exc))])))
            else:
                apply_validation_error(form, exc)
        if form is not None and form.errors:
            order.refresh_from_db()
            name = {"dispatch": "dispatch_form", "cost": "cost_form"}.get(step, "reason_form")
            context = tow_card_context(request, order, **{name: form})
            context["failed_step"] = step
            return render(request, "reception/tow_detail.html", context, status=400)
        if not refused:
            order.refresh_from_db()
            messages.success(
                request, _("%(order)s: %(status)s.") % {"order": order, "status": order.get_status_display()}
            )
        return redirect(order)


class TowOrderListView(CapabilityRequiredMixin, TemplateView):
    """Every tow order, newest first, with the same filters as the API."""

    required_capability = Capability.VIEW_RECEPTION
    template_name = "reception/tow_list.html"

    def get_context_data(self, **kwargs):
        queryset = selectors.tows_for_display(TowOrder.objects.visible_to(self.request.user))
        filterset = TowOrderFilter(self.request.GET or None, queryset=queryset)
        rows = filterset.qs if filterset.is_bound and filterset.is_valid() else queryset
        page = KeysetPage(rows, after=self.request.GET.get("after"), time_field="created_at")
        query = self.request.GET.copy()
        query.pop("after", None)
        return super().get_context_data(filter=filterset, page=page, query=query.urlencode(), **kwargs)


class ContractorListView(CapabilityRequiredMixin, TemplateView):
    required_capability = Capability.MANAGE_RECEPTION
    template_name = "reception/contractor_list.html"

    def get_context_data(self, **kwargs):
        contractors = TowContractor.objects.visible_to(self.request.user).order_by("-is_active", "name", "id")
        return super().get_context_data(contractors=contractors, **kwargs)


class ContractorFormView(CapabilityRequiredMixin, SubmitOnceMixin, View):
    required_capability = Capability.MANAGE_RECEPTION
    template_name = "reception/contractor_form.html"

    def get_contractor(self, request, pk) -> TowContractor | None:
        return get_object_or_404(TowContractor.objects.visible_to(request.user), pk=pk) if pk else None

    def get(self, request, pk=None):
        contractor = self.get_contractor(request, pk)
        initial = {}
        if contractor is not None:
            initial = {
                "name": contractor.name,
                "phones": "\n".join(contractor.phones),
                "call_out_rate": contractor.call_out_rate,
                "rate_per_km": contractor.rate_per_km,
                "rates_note": contractor.rates_note,
                "is_active": contractor.is_active,
            }
        form = ContractorForm(initial=initial)
        return render(request, self.template_name, {"form": form, "contractor": contractor})

    def post(self, request, pk=None):
        contractor = self.get_contractor(request, pk)
        form = ContractorForm(request.POST)
        if form.is_valid():
            try:
                if contractor is None:
                    contractor = services.tow_contractor_create(by=request.user, **form.cleaned_data)
                else:
                    contractor = services.tow_contractor_update(
                        contractor=contractor, by=request.user, **form.cleaned_data
                    )
            except (ValidationError, Conflict) as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, _("Saved: %(name)s.") % {"name": contractor})
                self.saved_once(contractor, reverse("reception:contractor-list"))
                return redirect("reception:contractor-list")
        return render(request, self.template_name, {"form": form, "contractor": contractor}, status=400)


class ReconciliationView(CapabilityRequiredMixin, TemplateView):
    """A contractor's orders of a month with their costs, to check against the invoice; `?export=csv` for a file."""

    required_capability = Capability.MANAGE_RECEPTION
    template_name = "reception/tow_reconciliation.html"

    def get(self, request, *args, **kwargs):
        form = ReconciliationForm(request.GET or None, initial={"month": local_date(timezone.now()).replace(day=1)})
        report = None
        if form.is_bound and form.is_valid():
            report = selectors.reconciliation(
                contractor=form.cleaned_data["contractor"], month=form.cleaned_data["month"], user=request.user
            )
            if request.GET.get("export") == "csv":
                return reconciliation_csv(report)
        return self.render_to_response(self.get_context_data(form=form, report=report))


def reconciliation_csv(report: selectors.Reconciliation):
    """The month as Excel opens it: costs in the reader's number format (a decimal comma in Russian)."""
    header = [_("Order"), _("Taken"), _("Status"), _("Car"), _("Pick-up address"), _("Destination"), _("Cost")]
    rows = [
        [
            order.pk,
            local_datetime_text(order.created_at),
            order.get_status_display(),
            order.car_label,
            order.pickup_address,
            order.destination or _("our workshop"),
            number_format(order.cost, 2) if order.cost is not None else "",
        ]
        for order in report.rows
    ]
    rows.append(["", "", "", "", "", _("Total"), number_format(report.total, 2)])
    filename = f"tow-{report.contractor.pk}-{report.month:%Y-%m}.csv"
    return csv_response(filename, header, rows)


urlpatterns = [
    path("tow/", TowBoardView.as_view(), name="tow-board"),
    path("tow/new/", TowOrderCreateView.as_view(), name="tow-create"),
    path("tow/all/", TowOrderListView.as_view(), name="tow-list"),
    path("tow/<int:pk>/", TowOrderDetailView.as_view(), name="tow-detail"),
    path("tow/<int:pk>/<slug:step>/", TowOrderStepView.as_view(), name="tow-step"),
    path("tow/contractors/", ContractorListView.as_view(), name="contractor-list"),
    path("tow/contractors/new/", ContractorFormView.as_view(), name="contractor-create"),
    path("tow/contractors/<int:pk>/", ContractorFormView.as_view(), name="contractor-edit"),
    path("tow/reconciliation/", ReconciliationView.as_view(), name="tow-reconciliation"),
]
