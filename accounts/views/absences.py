"""The head's absences pages: who is away now and soon, record an absence, change or end it early."""

from functools import cached_property

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView

from accounts.extensions import absence_columns
from accounts.models import Absence, User
from accounts.permissions import CapabilityRequiredMixin
from accounts.roles import Capability, Role
from accounts.services import absences as services
from clientdesk.calendar import local_date
from clientdesk.forms import ServiceModelForm
from clientdesk.views import ServiceFormView


def _callers():
    """Who can be away from the queue or stand in: active managers and heads."""
    return User.objects.filter(is_active=True, role__in=[Role.MANAGER, Role.HEAD])


def _date_input():
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class AbsenceForm(ServiceModelForm):
    class Meta:
        model = Absence
        fields = ["user", "starts_on", "ends_on", "substitute", "reason"]
        widgets = {"starts_on": _date_input(), "ends_on": _date_input()}
        help_texts = {
            "substitute": gettext_lazy("Takes the absentee's call tasks while they are away; they come back after."),
            "reason": gettext_lazy("Holiday, sick leave, training…"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = _callers()
        self.fields["substitute"].queryset = _callers()
        if self.instance.pk:
            # Who is away is what the absence is; for someone else, record another one.
            self.fields["user"].disabled = True
            self.fields["user"].queryset = User.objects.filter(pk=self.instance.user_id)

    def clean(self):
        data = super().clean()
        starts_on, ends_on = data.get("starts_on"), data.get("ends_on")
        if starts_on and ends_on and ends_on < starts_on:
            self.add_error("ends_on", _("An absence ends on or after its first day."))
        elif ends_on and "ends_on" in self.changed_data and ends_on < local_date(timezone.now()):
            # The service refuses it too; said here beside the field before anything else is checked.
            self.add_error("ends_on", _("This absence would be over already (it ends before today): check the dates."))
        return data


class AbsenceMixin(CapabilityRequiredMixin):
    required_capability = Capability.MANAGE_CALLS


class AbsenceListView(AbsenceMixin, TemplateView):
    """Who is away today and who will be, with their substitutes and how many tasks the substitute takes over."""

    template_name = "accounts/absence_list.html"

    def get_context_data(self, **kwargs):
        today = local_date(timezone.now())
        columns = list(absence_columns)
        rows = list(
            Absence.objects.filter(ends_on__gte=today)
            .select_related("user", "substitute")
            .annotate(is_current=Q(starts_on__lte=today))
            .annotate(**{f"column_{i}": column.annotation() for i, column in enumerate(columns)})
            .order_by("starts_on", "ends_on", "pk")
        )
        for absence in rows:
            absence.cells = [getattr(absence, f"column_{i}") for i in range(len(columns))]
        kwargs["columns"] = [column.heading for column in columns]
        return super().get_context_data(absences=rows, today=today, **kwargs)


class AbsenceCreateView(AbsenceMixin, ServiceFormView):
    template_name = "accounts/absence_form.html"
    form_class = AbsenceForm

    def get_initial(self):
        initial = {"starts_on": local_date(timezone.now())}
        if (user := self.request.GET.get("user", "")).isdigit():
            initial["user"] = int(user)
        return initial

    def perform(self, form):
        absence = services.absence_create(by=self.request.user, **form.cleaned_data)
        messages.success(
            self.request,
            _("Absence recorded: %(user)s's calls go to %(substitute)s.")
            % {"user": absence.user, "substitute": absence.substitute},
        )
        return redirect("accounts:absence-list")


class AbsenceUpdateView(AbsenceMixin, ServiceFormView):
    template_name = "accounts/absence_form.html"
    form_class = AbsenceForm

    @cached_property
    def absence(self) -> Absence:
        return get_object_or_404(Absence.objects.select_related("user", "substitute"), pk=self.kwargs["pk"])

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.absence}

    def get_context_data(self, **kwargs):
        return super().get_context_data(absence=self.absence, **kwargs)

    def perform(self, form):
        fields = {name: form.cleaned_data[name] for name in ("starts_on", "ends_on", "substitute", "reason")}
        services.absence_update(absence=self.absence, by=self.request.user, **fields)
        messages.success(self.request, _("Absence saved."))
        return redirect("accounts:absence-list")


class AbsenceEndView(AbsenceMixin, View):
    """A confirmation, then the end: the person is back today and their tasks come back to them."""

    template_name = "accounts/absence_end.html"

    def get_absence(self, pk) -> Absence:
        return get_object_or_404(Absence.objects.select_related("user", "substitute"), pk=pk)

    def get(self, request, pk):
        absence = self.get_absence(pk)
        today = local_date(timezone.now())
        return render(request, self.template_name, {"absence": absence, "upcoming": absence.starts_on >= today})

    def post(self, request, pk):
        absence = self.get_absence(pk)
        try:
            ended = services.absence_end(absence=absence, by=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect(reverse("accounts:absence-list"))
        if ended is None:
            messages.success(request, _("The absence of %(user)s is cancelled.") % {"user": absence.user})
        else:
            messages.success(
                request, _("%(user)s is back: their calls come back to them from today.") % {"user": absence.user}
            )
        return redirect(reverse("accounts:absence-list"))


urlpatterns = [
    path("absences/", AbsenceListView.as_view(), name="absence-list"),
    path("absences/new/", AbsenceCreateView.as_view(), name="absence-create"),
    path("absences/<int:pk>/", AbsenceUpdateView.as_view(), name="absence-edit"),
    path("absences/<int:pk>/end/", AbsenceEndView.as_view(), name="absence-end"),
]
