"""The workshop set-up pages (department head only): one overview and a few short forms.

The overview shows the week, the calendar exceptions of the next twelve months, the areas, the service types and the
advisors, each section with its add and edit links. The whole week is edited on one form; areas, types and advisor
profiles are switched off with their "active" box rather than deleted; a calendar exception may be removed, after a
confirmation page.
"""

from datetime import timedelta
from functools import cached_property

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms import formset_factory
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views import View
from django.views.generic import TemplateView

from accounts.models import User
from accounts.permissions import CapabilityRequiredMixin
from accounts.roles import Capability
from bookings.models import AdvisorProfile, ServiceArea, ServiceType
from bookings.services import setup as services
from clientdesk.calendar import local_date
from clientdesk.errors import Conflict
from clientdesk.forms import ServiceModelForm, StyledForm
from clientdesk.models import CalendarDay, Weekday, WorkingHours
from clientdesk.views import ServiceFormView, apply_validation_error

TIME_WIDGET = {"type": "time"}


def _time_input():
    return forms.TimeInput(attrs=TIME_WIDGET, format="%H:%M")


def _autofocus(form) -> None:
    for field in form.fields.values():
        if not field.widget.is_hidden and not field.disabled:
            field.widget.attrs["autofocus"] = True
            return


def _overview(anchor: str = "") -> str:
    url = reverse("bookings:setup")
    return f"{url}#{anchor}" if anchor else url


# --- forms -------------------------------------------------------------------------------------------------------


class WeekdayHoursForm(StyledForm):
    """One row of the week: closed, or open from–to."""

    closed = forms.BooleanField(label=gettext_lazy("Closed"), required=False)
    opens = forms.TimeField(label=gettext_lazy("Opens"), required=False, widget=_time_input())
    closes = forms.TimeField(label=gettext_lazy("Closes"), required=False, widget=_time_input())

    def clean(self):
        data = super().clean()
        if data.get("closed"):
            return data
        opens, closes = data.get("opens"), data.get("closes")
        if opens is None and "opens" not in self.errors:
            self.add_error("opens", _("Give the opening time, or tick “closed”."))
        if closes is None and "closes" not in self.errors:
            self.add_error("closes", _("Give the closing time, or tick “closed”."))
        if opens and closes and closes <= opens:
            self.add_error("closes", _("Closing time must be after opening time."))
        return data

    def hours(self):
        data = self.cleaned_data
        return None if data.get("closed") else (data["opens"], data["closes"])


WeekFormSet = formset_factory(
    WeekdayHoursForm, extra=0, min_num=len(Weekday), max_num=len(Weekday), validate_min=True, validate_max=True
)


class CalendarDayForm(ServiceModelForm):
    class Meta:
        model = CalendarDay
        fields = ["date", "kind", "opens", "closes", "note"]
        widgets = {
            "date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "kind": forms.RadioSelect,
            "opens": _time_input(),
            "closes": _time_input(),
        }
        help_texts = {
            "opens": gettext_lazy("For a short day or a working day off; empty for a holiday."),
            "note": gettext_lazy("What the day is, e.g. “Victory Day” or “transferred from Saturday”."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = CalendarDay.Kind.choices
        if not self.instance.pk:
            self.fields["kind"].initial = CalendarDay.Kind.HOLIDAY
        else:
            # The date is what the exception is; to move it, remove it and add another.
            self.fields["date"].disabled = True


class ServiceAreaForm(ServiceModelForm):
    daily_capacity_hours = forms.DecimalField(
        label=gettext_lazy("Daily capacity, hours"),
        max_digits=7,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.25", "min": "0", "inputmode": "decimal"}),
        help_text=gettext_lazy(
            "Standard hours of work the area takes in a working day: posts × hours, e.g. 8 × 8 = 64."
        ),
    )

    class Meta:
        model = ServiceArea
        fields = ["name", "code", "is_active"]
        help_texts = {
            "code": gettext_lazy("Short Latin name for reports and the API, e.g. “mechanical”; unique."),
            "is_active": gettext_lazy("Untick to stop new bookings in this area; existing ones stay."),
        }

    field_order = ["name", "code", "daily_capacity_hours", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial.setdefault(
                "daily_capacity_hours", services.capacity_hours(self.instance.daily_capacity_minutes)
            )
        else:
            del self.fields["is_active"]

    def clean_daily_capacity_hours(self):
        hours = self.cleaned_data["daily_capacity_hours"]
        if hours <= 0:
            raise ValidationError(_("Capacity must be positive."))
        return hours

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        data["daily_capacity_minutes"] = services.hours_to_minutes(data.pop("daily_capacity_hours"))
        return data


class AreaChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name if obj.is_active else _("%(area)s (deactivated)") % {"area": obj.name}


class ServiceTypeForm(ServiceModelForm):
    class Meta:
        model = ServiceType
        fields = ["name", "code", "area", "standard_minutes", "is_active"]
        field_classes = {"area": AreaChoiceField}
        widgets = {"standard_minutes": forms.NumberInput(attrs={"step": "5", "min": "0"})}
        help_texts = {
            "code": gettext_lazy("Short Latin name for reports and the API, e.g. “to-1”; unique."),
            "standard_minutes": gettext_lazy("The time a booking plans for this work (the manager may change it)."),
            "is_active": gettext_lazy("Untick to stop offering this service; existing bookings keep it."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = ServiceArea.objects.order_by("-is_active", "name")
        if not self.instance.pk:
            del self.fields["is_active"]


class AdvisorProfileForm(ServiceModelForm):
    class Meta:
        model = AdvisorProfile
        fields = ["slot_minutes", "is_active"]
        widgets = {"slot_minutes": forms.NumberInput(attrs={"step": "5", "min": "5", "max": "240"})}
        help_texts = {
            "slot_minutes": gettext_lazy("Time to receive one client; each booking takes one slot. Usually 30."),
            "is_active": gettext_lazy("Untick while the advisor does not receive clients; their bookings stay."),
        }


# --- pages -------------------------------------------------------------------------------------------------------


class SetupMixin(CapabilityRequiredMixin):
    required_capability = Capability.MANAGE_WORKSHOP


class SetupView(SetupMixin, TemplateView):
    """The head's one page for the workshop's hours, exceptions, areas, types and advisors."""

    template_name = "bookings/setup.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(setup=services.setup_overview(today=local_date(timezone.now())), **kwargs)


def _warn_outside_hours(request, first, last) -> None:
    count = services.bookings_outside_hours(first=first, last=last)
    if count:
        messages.warning(
            request,
            ngettext(
                "%(count)d booking still to come now lies outside the working hours: call the client and move it.",
                "%(count)d bookings still to come now lie outside the working hours: call the clients and move them.",
                count,
            )
            % {"count": count},
        )


class WeekView(SetupMixin, View):
    """The regular week on one form: seven rows of closed / opens / closes, saved all or nothing."""

    template_name = "bookings/setup_week.html"

    def render_week(self, formset, *, status=200):
        rows = list(zip(Weekday, formset, strict=True))
        return render(self.request, self.template_name, {"formset": formset, "rows": rows}, status=status)

    def get(self, request):
        current = {row.weekday: row for row in WorkingHours.objects.all()}
        initial = [
            {"closed": True}
            if (row := current.get(day)) is None
            else {"closed": False, "opens": row.opens, "closes": row.closes}
            for day in Weekday
        ]
        formset = WeekFormSet(initial=initial)
        _autofocus(formset.forms[0])
        return self.render_week(formset)

    def post(self, request):
        formset = WeekFormSet(request.POST)
        if not formset.is_valid():
            return self.render_week(formset, status=400)
        week = {day: form.hours() for day, form in zip(Weekday, formset, strict=True)}
        try:
            changed = services.working_week_set(by=request.user, week=week)
        except (ValidationError, Conflict) as exc:
            formset._non_form_errors = formset.error_class(getattr(exc, "messages", None) or [str(exc.message)])
            return self.render_week(formset, status=400)
        if changed:
            messages.success(request, _("Working hours saved."))
            today = local_date(timezone.now())
            _warn_outside_hours(request, today, today + timedelta(days=services.UPCOMING_DAYS))
        else:
            messages.info(request, _("Nothing changed."))
        return redirect(_overview("week"))


class SetupFormView(SetupMixin, ServiceFormView):
    """A set-up form whose valid data goes to one service; the service's refusals land beside their fields.

    `error_fields` maps a service's field name to the form's, where they differ (capacity is typed in hours)."""

    template_name = "bookings/setup_form.html"
    error_fields: dict[str, str] = {}
    title = ""
    anchor = ""

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        if self.request.method == "GET":
            _autofocus(form)
        return form

    def form_valid(self, form):
        try:
            return self.perform(form)
        except (ValidationError, Conflict) as exc:
            apply_validation_error(form, self.renamed(exc))
            return self.form_invalid(form)

    def renamed(self, exc):
        if isinstance(exc, Conflict):
            exc.field = self.error_fields.get(exc.field, exc.field)
            return exc
        if hasattr(exc, "error_dict"):
            return ValidationError({self.error_fields.get(k, k): v for k, v in exc.error_dict.items()})
        return exc

    def get_context_data(self, **kwargs):
        kwargs.setdefault("title", self.title)
        kwargs.setdefault("cancel_url", _overview(self.anchor))
        return super().get_context_data(**kwargs)

    def saved(self, message: str):
        messages.success(self.request, message)
        return redirect(_overview(self.anchor))


# calendar exceptions


class CalendarDayMixin:
    form_class = CalendarDayForm
    anchor = "calendar"

    def save_day(self, form, *, replace: bool):
        data = form.cleaned_data
        row = services.calendar_day_set(
            by=self.request.user,
            date=data["date"],
            kind=data["kind"],
            opens=data["opens"],
            closes=data["closes"],
            note=data["note"],
            replace=replace,
        )
        _warn_outside_hours(self.request, row.date, row.date)
        return self.saved(
            _("%(day)s: %(kind)s saved.") % {"day": date_format(row.date), "kind": row.get_kind_display()}
        )


class CalendarDayCreateView(CalendarDayMixin, SetupFormView):
    title = gettext_lazy("New calendar exception")

    def get_initial(self):
        initial = super().get_initial()
        if day := self.request.GET.get("date"):
            initial["date"] = day
        return initial

    def perform(self, form):
        return self.save_day(form, replace=False)


class CalendarDayUpdateView(CalendarDayMixin, SetupFormView):
    @cached_property
    def day(self) -> CalendarDay:
        return get_object_or_404(CalendarDay, pk=self.kwargs["pk"])

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.day}

    def get_context_data(self, **kwargs):
        title = _("Calendar exception on %(day)s") % {"day": date_format(self.day.date)}
        remove_url = reverse("bookings:setup-day-remove", args=[self.day.pk])
        return super().get_context_data(**{"title": title, "remove_url": remove_url, **kwargs})

    def perform(self, form):
        return self.save_day(form, replace=True)


class CalendarDayRemoveView(SetupMixin, View):
    """A confirmation page, then the removal: the day follows the regular week again."""

    template_name = "bookings/setup_day_remove.html"

    def get(self, request, pk):
        return render(request, self.template_name, {"day": get_object_or_404(CalendarDay, pk=pk)})

    def post(self, request, pk):
        day = get_object_or_404(CalendarDay, pk=pk)
        services.calendar_day_remove(by=request.user, date=day.date)
        messages.success(request, _("%(day)s follows the regular week again.") % {"day": date_format(day.date)})
        _warn_outside_hours(request, day.date, day.date)
        return redirect(_overview("calendar"))


# areas


class AreaMixin:
    form_class = ServiceAreaForm
    anchor = "areas"
    error_fields = {"daily_capacity_minutes": "daily_capacity_hours"}


class AreaCreateView(AreaMixin, SetupFormView):
    title = gettext_lazy("New service area")

    def perform(self, form):
        area = services.service_area_create(by=self.request.user, **form.service_fields())
        return self.saved(_("Area %(area)s created.") % {"area": area})


class AreaUpdateView(AreaMixin, SetupFormView):
    @cached_property
    def area(self) -> ServiceArea:
        return get_object_or_404(ServiceArea, pk=self.kwargs["pk"])

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.area}

    def get_context_data(self, **kwargs):
        return super().get_context_data(**{"title": _("Area %(area)s") % {"area": self.area}, **kwargs})

    def perform(self, form):
        area = services.service_area_update(area=self.area, by=self.request.user, **form.service_fields())
        return self.saved(_("Area %(area)s saved.") % {"area": area})


# service types


class TypeMixin:
    form_class = ServiceTypeForm
    anchor = "types"


class TypeCreateView(TypeMixin, SetupFormView):
    title = gettext_lazy("New service type")

    def get_initial(self):
        initial = super().get_initial()
        if area := self.request.GET.get("area"):
            initial["area"] = area
        return initial

    def perform(self, form):
        service_type = services.service_type_create(by=self.request.user, **form.cleaned_data)
        return self.saved(_("Service type %(type)s created.") % {"type": service_type})


class TypeUpdateView(TypeMixin, SetupFormView):
    @cached_property
    def service_type(self) -> ServiceType:
        return get_object_or_404(ServiceType, pk=self.kwargs["pk"])

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.service_type}

    def get_context_data(self, **kwargs):
        title = _("Service type %(type)s") % {"type": self.service_type}
        return super().get_context_data(**{"title": title, **kwargs})

    def perform(self, form):
        service_type = services.service_type_update(
            service_type=self.service_type, by=self.request.user, **form.cleaned_data
        )
        return self.saved(_("Service type %(type)s saved.") % {"type": service_type})


# advisors


class AdvisorView(SetupFormView):
    """The reception slot of one advisor (the profile is made on first save)."""

    form_class = AdvisorProfileForm
    anchor = "advisors"

    @cached_property
    def advisor(self) -> User:
        return get_object_or_404(User.objects.select_related("advisor_profile"), pk=self.kwargs["pk"])

    def get_form_kwargs(self):
        profile = getattr(self.advisor, "advisor_profile", None) or AdvisorProfile(user=self.advisor)
        return {**super().get_form_kwargs(), "instance": profile}

    def get_context_data(self, **kwargs):
        title = _("Advisor %(user)s") % {"user": self.advisor}
        return super().get_context_data(**{"title": title, "advisor": self.advisor, **kwargs})

    def perform(self, form):
        services.advisor_profile_set(by=self.request.user, user=self.advisor, **form.cleaned_data)
        return self.saved(_("Advisor %(user)s saved.") % {"user": self.advisor})


urlpatterns = [
    path("setup/", SetupView.as_view(), name="setup"),
    path("setup/week/", WeekView.as_view(), name="setup-week"),
    path("setup/calendar/new/", CalendarDayCreateView.as_view(), name="setup-day-create"),
    path("setup/calendar/<int:pk>/", CalendarDayUpdateView.as_view(), name="setup-day-edit"),
    path("setup/calendar/<int:pk>/remove/", CalendarDayRemoveView.as_view(), name="setup-day-remove"),
    path("setup/areas/new/", AreaCreateView.as_view(), name="setup-area-create"),
    path("setup/areas/<int:pk>/", AreaUpdateView.as_view(), name="setup-area-edit"),
    path("setup/types/new/", TypeCreateView.as_view(), name="setup-type-create"),
    path("setup/types/<int:pk>/", TypeUpdateView.as_view(), name="setup-type-edit"),
    path("setup/advisors/<int:pk>/", AdvisorView.as_view(), name="setup-advisor"),
]
