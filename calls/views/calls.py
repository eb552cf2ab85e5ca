from datetime import timedelta
from functools import partial

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView

from accounts.models import User
from accounts.permissions import CapabilityRequiredMixin
from accounts.roles import Capability
from bookings.selectors.recalls import open_recalls_for_vins
from calls.extensions import queue_panel_contexts
from calls.filters import CallFilter
from calls.forms.calls import CallForm
from calls.forms.tasks import TaskOutcomeForm
from calls.models import Call, CallRules, CallTask
from calls.selectors import manager_queue, queue_rows
from calls.services import calls as services
from calls.services.planning import follow_up_call_day
from calls.services.surveys import active_survey
from clientdesk.calendar import local_date
from clientdesk.errors import Conflict
from clientdesk.exports import Column, ExportMixin, model_column
from clientdesk.timefmt import local_date_text, local_datetime_text
from clientdesk.views import KeysetPage, SubmitOnceMixin, apply_validation_error, url_maker
from clients import selectors as client_selectors
from clients.normalize import normalize_phone, phone_fragment

_call_column = partial(model_column, Call)


class CallListView(ExportMixin, CapabilityRequiredMixin, TemplateView):
    """The call log: every logged call, newest first, with the same filters as the API; `?export=csv|xlsx` gives the
    filtered calls as a file (the head's, logged: the numbers and notes are personal data)."""

    required_capability = Capability.VIEW_CALLS
    template_name = "calls/call_list.html"
    export_name = "calls"
    export_capability = Capability.EXPORT_PERSONAL_DATA
    export_columns = [
        _call_column("started_at", local_datetime_text),
        _call_column("direction"),
        Column(gettext_lazy("Client"), "client__name"),
        _call_column("phone_e164"),
        _call_column("purpose"),
        _call_column("outcome"),
        Column(gettext_lazy("Manager"), "manager_name"),
        _call_column("duration"),
        _call_column("notes"),
    ]

    def filtered(self, queryset):
        filterset = CallFilter(self.request.GET or None, queryset=queryset)
        return filterset, filterset.qs if filterset.is_bound and filterset.is_valid() else queryset

    def export_queryset(self):
        filterset, rows = self.filtered(Call.objects.visible_to(self.request.user))
        if filterset.is_bound and not filterset.is_valid():
            rows = rows.none()  # a filter the list refused exports nothing, never the whole list
        manager = User.name_expression("manager")
        return rows.annotate(manager_name=manager).order_by("-started_at", "-id")

    def get_context_data(self, **kwargs):
        queryset = Call.objects.visible_to(self.request.user).select_related("client", "manager", "vehicle")
        filterset, rows = self.filtered(queryset)
        page = KeysetPage(rows, after=self.request.GET.get("after"), time_field="started_at")
        query = self.request.GET.copy()
        query.pop("after", None)
        return super().get_context_data(filter=filterset, page=page, query=query.urlencode(), **kwargs)


class NewCallView(CapabilityRequiredMixin, TemplateView):
    """ "A call is ringing": type the number, see who it is, or take the caller on as a new client."""

    required_capability = Capability.LOG_CALLS
    template_name = "calls/new_call.html"

    def get_template_names(self):
        return ["calls/_caller_lookup.html"] if self.request.htmx else [self.template_name]

    def get_context_data(self, **kwargs):
        raw = self.request.GET.get("number", "").strip()
        context = {"number": raw, "exact": [], "partial": [], "number_error": None, "e164": None}
        if raw:
            try:
                context["e164"] = normalize_phone(raw)
                context["exact"] = client_selectors.clients_by_phone(context["e164"], user=self.request.user)
            except ValidationError as exc:
                context["number_error"] = exc.messages[0]
            if not context["exact"] and phone_fragment(raw):
                context["partial"] = client_selectors.client_search(raw, user=self.request.user, limit=8)
        return super().get_context_data(**context, **kwargs)


class ClientCallCreateView(CapabilityRequiredMixin, SubmitOnceMixin, View):
    """The inline "log a call" form on the client card (HTMX swaps the panel; without JS it redirects)."""

    required_capability = Capability.LOG_CALLS

    def post(self, request, pk):
        try:
            client = client_selectors.client_for_card(pk, user=request.user)
        except client_selectors.Client.DoesNotExist:
            return redirect("clients:search")
        form = CallForm(request.POST, client=client)
        saved = False
        if form.is_valid():
            try:
                call = services.call_log(by=request.user, **form.service_kwargs())
                saved = True
                self.saved_once(call, client.get_absolute_url())
            except (ValidationError, Conflict) as exc:
                apply_validation_error(form, exc)
        if not request.htmx:
            if saved:
                messages.success(request, _("Call logged."))
                return redirect(client)
            context = client_selectors.client_card(client, request=request, call_form=form)
            return render(request, "clients/client_detail.html", context, status=400)
        context = client_selectors.client_card(client, request=request, call_form=None if saved else form)
        context["just_logged"] = saved
        context["logged_call"] = call if saved else None
        return render(request, "clients/_card_activity.html", context, status=200 if saved else 400)


class UnknownCallerView(CapabilityRequiredMixin, SubmitOnceMixin, View):
    """Log a call from a number that belongs to no client (a wrong number, an enquiry that gave no name)."""

    required_capability = Capability.LOG_CALLS
    template_name = "calls/call_form.html"

    def get(self, request):
        form = CallForm(initial={"phone_number": request.GET.get("number", "")})
        return render(request, self.template_name, {"form": form})

    def post(self, request):
        form = CallForm(request.POST)
        if form.is_valid():
            try:
                call = services.call_log(by=request.user, **form.service_kwargs())
            except (ValidationError, Conflict) as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, _("Call logged."))
                self.saved_once(call, reverse("calls:list"))
                return redirect(reverse("calls:list"))
        return render(request, self.template_name, {"form": form}, status=400)


class QueueView(CapabilityRequiredMixin, TemplateView):
    """The manager's outbound queue: what is due now first, overdue marked, counts by kind."""

    required_capability = Capability.LOG_CALLS
    template_name = "calls/queue.html"

    def get_context_data(self, **kwargs):
        kind = self.request.GET.get("kind") or None
        if kind not in CallTask.Kind.values:
            kind = None
        queue = manager_queue(self.request.user, kind=kind)
        take_url = url_maker("calls:task-take")
        for task in queue.tasks:
            task.take_url = take_url(task.pk)
        total = sum(queue.counts.values())
        kinds = [(k, label, queue.counts.get(k, 0)) for k, label in CallTask.Kind.choices]
        panels = queue_panel_contexts(self.request)
        return super().get_context_data(queue=queue, kind=kind, kinds=kinds, total=total, panels=panels, **kwargs)


class TakeNextTaskView(CapabilityRequiredMixin, View):
    required_capability = Capability.LOG_CALLS

    def post(self, request):
        task = services.call_task_claim_next(by=request.user)
        if task is None:
            messages.info(request, _("Nothing is due right now."))
            return redirect("calls:queue")
        return redirect("calls:task", pk=task.pk)


class TakeTaskView(CapabilityRequiredMixin, View):
    required_capability = Capability.LOG_CALLS

    def post(self, request, pk):
        task = get_object_or_404(CallTask.objects.visible_to(request.user), pk=pk)
        try:
            services.call_task_claim(task=task, by=request.user)
        except Conflict as exc:
            messages.warning(request, str(exc.message))
            if isinstance(exc, services.TaskClaimed) and exc.can_take_over:
                # The head may take it over: on the task's page, with the box to do so.
                return redirect("calls:task", pk=task.pk)
            return redirect("calls:queue")
        return redirect("calls:task", pk=task.pk)


class TaskWorkView(CapabilityRequiredMixin, View):
    """The client card with the task's context (the booking, the car, the campaign's script) and the outcome form."""

    required_capability = Capability.LOG_CALLS
    template_name = "calls/task_work.html"

    def get_task(self, request, pk) -> CallTask:
        return get_object_or_404(
            queue_rows(CallTask.objects.visible_to(request.user)).select_related("booking__area"), pk=pk
        )

    def outcome_form(self, request, task, data=None) -> TaskOutcomeForm:
        """The outcome form; for the head, when a colleague is working the task, with a box to take it over."""
        holder = services.claim_holder(task, by=request.user, now=timezone.now())
        can_take_over = holder is not None and request.user.has_capability(Capability.MANAGE_CALLS)
        form = TaskOutcomeForm(
            data, task=task, survey=active_survey(), take_over_from=holder if can_take_over else None
        )
        form.holder = holder
        return form

    def render_page(self, request, task, form, status=200):
        client = client_selectors.client_for_card(task.client_id, user=request.user)
        context = client_selectors.client_card(client, request=request, without_call_form=True)
        vins = [v.vin for v in client.vehicles.all() if v.vin]
        context.update(
            task=task,
            holder=form.holder,
            outcome_form=form,
            recalls=open_recalls_for_vins(vins),
            previous_calls=task.calls.select_related("manager").order_by("-started_at"),
        )
        return render(request, self.template_name, context, status=status)

    def get(self, request, pk):
        task = self.get_task(request, pk)
        return self.render_page(request, task, self.outcome_form(request, task))

    def post(self, request, pk):
        task = self.get_task(request, pk)
        form = self.outcome_form(request, task, request.POST)
        if form.is_valid():
            try:
                services.call_task_work(task=task, by=request.user, **form.service_kwargs())
            except (ValidationError, Conflict) as exc:
                if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
                    for field in ("new_starts_at", "call_back_at", "survey"):
                        if field in exc.error_dict:
                            target = {"new_starts_at": "slot", "call_back_at": "call_back_date"}.get(field)
                            form.add_error(target if target in form.fields else None, exc.error_dict.pop(field))
                apply_validation_error(form, exc)
            else:
                messages.success(request, _("%(client)s: call logged.") % {"client": task.client})
                return redirect("calls:queue")
        return self.render_page(request, task, form, status=400)


# --- what the calls app adds to other apps' pages (registered in CallsConfig.ready) ----------------------------------


def client_call_form_panel(request, client, state: dict) -> dict | None:
    """The client card's "log a call" form: for those who log calls; a phone and direction in the address (from the
    caller pop-up or a new client just made) are filled in."""
    if state.get("without_call_form") or not request.user.has_capability(Capability.LOG_CALLS):
        return None
    form = state.get("call_form")
    if form is None:
        initial = {key: request.GET[key] for key in ("phone", "direction") if request.GET.get(key)}
        if "phone" in initial:
            initial["phone_number"] = initial.pop("phone")
        form = CallForm(client=client, initial=initial)
    return {"call_form": form}


def booking_calls_panel(request, booking, state: dict) -> dict | None:
    """The booking card's "recent calls with the client"."""
    calls = (
        Call.objects.visible_to(request.user)
        .filter(client=booking.client)
        .select_related("manager")
        .order_by("-started_at")[:10]
    )
    return {"calls": calls}


def follow_up_notice(delivery) -> tuple[str, str] | None:
    """What the manager is told after recording a handover: the day of the buyer's follow-up call, or that it is too
    long ago for one."""
    rules = CallRules.current()
    call_day = follow_up_call_day(delivery, rules=rules)
    if call_day < local_date(timezone.now()) - timedelta(days=rules.planner_catch_up_days):
        return "warning", _(
            "Delivery recorded. It is too long ago for the follow-up call: call the buyer yourself if needed."
        )
    text = _("Delivery recorded. The follow-up call is planned for %(day)s.") % {"day": local_date_text(call_day)}
    return "success", text
