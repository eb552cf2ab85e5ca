"""The department head's outbound-call pages: every pending task on one board, moved in bulk; the call rules."""

import django_filters as filters
from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import OuterRef, Subquery
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views import View

from accounts.models import Absence, User
from accounts.permissions import CapabilityRequiredMixin
from accounts.roles import Capability, Role
from calls.api.tasks import CallTaskFilter
from calls.models import CallRules, CallTask
from calls.selectors import OVERDUE_AFTER, queue_rows
from calls.services.calls import RULE_BOUNDS, RULE_FIELDS, call_rules_update, call_tasks_reassign
from clientdesk.calendar import local_date
from clientdesk.errors import Conflict
from clientdesk.exports import Column, ExportMixin, model_column
from clientdesk.forms import ServiceModelForm, StyledForm
from clientdesk.timefmt import local_datetime_text
from clientdesk.views import KeysetPage, ServiceFormView, apply_validation_error
from clients.models import ClientPhone

BOARD_PAGE_SIZE = 50

# --- the call rules (one row) -------------------------------------------------------------------------------------


def _time_input():
    return forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class CallRulesForm(ServiceModelForm):
    class Meta:
        model = CallRules
        fields = list(RULE_FIELDS)
        widgets = {
            "calling_from": _time_input(),
            "calling_until": _time_input(),
            "confirmation_hour": _time_input(),
            **{name: forms.NumberInput(attrs={"min": low, "max": high}) for name, (low, high) in RULE_BOUNDS.items()},
        }
        help_texts = {
            "calling_from": gettext_lazy("Outbound calls are made only inside this window, on working days."),
            "max_attempts": gettext_lazy("'No answer' and 'busy' are retried until this many attempts; 1 to 20."),
        }


class HeadMixin(CapabilityRequiredMixin):
    required_capability = Capability.MANAGE_CALLS


class CallRulesView(HeadMixin, ServiceFormView):
    template_name = "calls/head_rules.html"
    form_class = CallRulesForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": CallRules.current()}

    def perform(self, form):
        call_rules_update(by=self.request.user, **{name: form.cleaned_data[name] for name in RULE_FIELDS})
        messages.success(self.request, _("Call rules saved. Tasks already planned keep their times."))
        return redirect("calls:head-rules")


# --- the task board -----------------------------------------------------------------------------------------------


class BoardFilter(CallTaskFilter):
    """The API's filters, narrowed to what the board shows: pending tasks, one kind and one status at a time."""

    kind = filters.ChoiceFilter(choices=CallTask.Kind.choices, label=gettext_lazy("kind"))
    status = filters.ChoiceFilter(choices=[(s.value, s.label) for s in CallTask.PENDING], label=gettext_lazy("status"))

    # Ids and raw times are for API clients; the board does not offer them.
    client = booking = delivery = due_after = due_before = None

    class Meta(CallTaskFilter.Meta):
        fields = ["assignee", "kind", "status", "overdue"]


def active_callers():
    return User.objects.filter(is_active=True, role__in=[Role.MANAGER, Role.HEAD])


class ReassignForm(StyledForm):
    tasks = forms.ModelMultipleChoiceField(
        queryset=CallTask.objects.all(),
        widget=forms.MultipleHiddenInput,
        error_messages={"required": gettext_lazy("Tick the tasks to move.")},
    )
    to = forms.ModelChoiceField(label=gettext_lazy("Reassign to"), queryset=active_callers())


class TaskBoardView(ExportMixin, HeadMixin, View):
    """All pending tasks, earliest next attempt first, with the queue's filters; tick tasks, choose a manager,
    move them. An absentee's tasks show who is working them today. `?export=csv|xlsx` gives the filtered tasks as a
    file (the head's, logged: clients' names and phones)."""

    template_name = "calls/head_tasks.html"
    export_name = "call-tasks"
    export_capability = Capability.EXPORT_PERSONAL_DATA
    export_columns = [
        model_column(CallTask, "next_attempt_at", local_datetime_text),
        model_column(CallTask, "due_at", local_datetime_text),
        model_column(CallTask, "kind"),
        Column(gettext_lazy("Client"), "client__name"),
        Column(gettext_lazy("Phone"), "primary_phone"),
        Column(gettext_lazy("Campaign"), "campaign_member__campaign__name"),
        model_column(CallTask, "attempts"),
        Column(gettext_lazy("Assignee"), "assignee_name"),
        model_column(CallTask, "status"),
        model_column(CallTask, "outcome"),
    ]

    def get(self, request):
        return self.exported(request) or self.render_board(ReassignForm())

    def filtered(self):
        queryset = CallTask.objects.visible_to(self.request.user).pending()
        filterset = BoardFilter(self.request.GET or None, queryset=queryset)
        return filterset, filterset.qs if filterset.is_bound and filterset.is_valid() else queryset

    def export_queryset(self):
        filterset, rows = self.filtered()
        if filterset.is_bound and not filterset.is_valid():
            rows = rows.none()  # a filter the board refused exports nothing, never the whole board
        primary = ClientPhone.objects.filter(client=OuterRef("client_id"), is_primary=True).values("number")[:1]
        return rows.annotate(primary_phone=Subquery(primary), assignee_name=User.name_expression("assignee")).order_by(
            "next_attempt_at", "id"
        )

    def post(self, request):
        form = ReassignForm(request.POST)
        if form.is_valid():
            chosen = form.cleaned_data["tasks"]
            try:
                moved = call_tasks_reassign(
                    task_ids=[task.pk for task in chosen], to=form.cleaned_data["to"], by=request.user
                )
            except (ValidationError, Conflict) as exc:
                apply_validation_error(form, exc)
            else:
                self.announce(moved, len(chosen), form.cleaned_data["to"])
                return redirect(self.here())
        return self.render_board(form, status=400)

    def here(self) -> str:
        """This page with the filters it was reached with, and no cursor (the rows moved)."""
        query = self.request.GET.copy()
        query.pop("after", None)
        return f"{self.request.path}?{query.urlencode()}" if query else self.request.path

    def announce(self, moved: int, chosen: int, to: User) -> None:
        messages.success(
            self.request,
            ngettext("%(n)d task moved to %(user)s.", "%(n)d tasks moved to %(user)s.", moved)
            % {"n": moved, "user": to},
        )
        if moved < chosen:
            messages.warning(
                self.request,
                ngettext(
                    "%(n)d task was closed meanwhile and stays as it was.",
                    "%(n)d tasks were closed meanwhile and stay as they were.",
                    chosen - moved,
                )
                % {"n": chosen - moved},
            )

    def render_board(self, reassign_form, *, status=200):
        request = self.request
        now = timezone.now()
        filterset, rows = self.filtered()
        page = KeysetPage(
            queue_rows(rows),
            after=request.GET.get("after"),
            size=BOARD_PAGE_SIZE,
            time_field="next_attempt_at",
            ascending=True,
        )
        standing_in = {
            absence.user_id: absence.substitute
            for absence in Absence.objects.on(local_date(now)).select_related("substitute")
        }
        for task in page:
            task.is_overdue = task.next_attempt_at < now - OVERDUE_AFTER
            task.is_due = task.next_attempt_at <= now
            task.worked_by = standing_in.get(task.assignee_id)
        query = request.GET.copy()
        query.pop("after", None)
        context = {
            "filter": filterset,
            "page": page,
            "query": query.urlencode(),
            "reassign_form": reassign_form,
            "chosen": {str(pk) for pk in reassign_form.data.getlist("tasks")} if reassign_form.is_bound else set(),
            "here": self.here(),
        }
        return render(request, self.template_name, context, status=status)


urlpatterns = [
    path("head/tasks/", TaskBoardView.as_view(), name="head-tasks"),
    path("head/rules/", CallRulesView.as_view(), name="head-rules"),
]
