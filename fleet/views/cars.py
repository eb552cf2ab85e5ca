"""The fleet's pages: the board (today or the week), the cars, a car's page with its history, and the transport
department head's actions on a car (add, edit, clear after inspection, to and from maintenance, retire)."""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from accounts.permissions import CapabilityRequiredMixin
from accounts.roles import Capability
from clientdesk.calendar import local_date
from clientdesk.errors import Conflict
from clientdesk.exports import ExportMixin, model_column
from clientdesk.filters import day_from_query
from clientdesk.timefmt import local_datetime_text
from clientdesk.views import SubmitOnceMixin, apply_validation_error, url_maker
from clients.timeline import line_moment
from fleet import selectors
from fleet.forms import CarForm, NoteForm
from fleet.models import FleetCar
from fleet.services import cars as services


class BoardView(CapabilityRequiredMixin, TemplateView):
    """Who has which car until when, what is overdue, what comes back today, what goes out, what needs inspection:
    today, or the week with `?week=1`."""

    required_capability = Capability.VIEW_FLEET
    template_name = "fleet/board.html"

    def get_context_data(self, **kwargs):
        now = timezone.now()
        week = self.request.GET.get("week") == "1"
        day = day_from_query(self.request.GET.get("day"), local_date(now))
        board = selectors.fleet_board(user=self.request.user, now=now, day=day, days=7 if week else 1)
        # Each row links its reservation, car and client: reversed once for the page, not three times a row.
        links = (url_maker("fleet:reservation-detail"), url_maker("fleet:car-detail"), url_maker("clients:detail"))
        visit_url = url_maker("bookings:detail")
        for row in (*board.out, *board.coming):
            row.url, row.car_url, row.client_url = (
                make(pk) for make, pk in zip(links, (row.pk, row.car_id, row.client_id), strict=True)
            )
            row.booking_url = visit_url(row.booking_id) if row.booking_id else ""
            row.starts_text, row.ends_text = line_moment(row.starts_at), line_moment(row.ends_at)
        step = timedelta(days=7 if week else 1)
        return super().get_context_data(
            board=board,
            week=week,
            previous_day=day - step,
            next_day=day + step,
            states=[(s, board.states.get(s, 0)) for s in FleetCar.State if s != FleetCar.State.RETIRED],
            **kwargs,
        )


class CarListView(ExportMixin, CapabilityRequiredMixin, TemplateView):
    """Our cars, by use, the retired ones on request; `?export=csv|xlsx` for the rows shown.

    The list is the dealership's own cars, no one's personal data: the transport department head, who keeps the
    fleet, exports it (for the insurer, the inspection station, accounting), as does the department head, who exports
    every list; the export is logged like any other."""

    required_capability = Capability.VIEW_FLEET
    template_name = "fleet/car_list.html"
    export_name = "fleet-cars"
    export_columns = [
        model_column(FleetCar, "plate"),
        model_column(FleetCar, "make"),
        model_column(FleetCar, "model"),
        model_column(FleetCar, "year"),
        model_column(FleetCar, "vin"),
        model_column(FleetCar, "colour"),
        model_column(FleetCar, "use"),
        model_column(FleetCar, "state"),
        model_column(FleetCar, "mileage_km"),
        model_column(FleetCar, "fuel_percent"),
        model_column(FleetCar, "insurance_until"),
        model_column(FleetCar, "inspection_until"),
    ]

    # The head, who exports every list, and the transport head, whose fleet it is (the cars are no one's personal data).
    export_capability = (Capability.EXPORT_PERSONAL_DATA, Capability.MANAGE_FLEET)

    def chosen(self, cars):
        use = self.request.GET.get("use")
        if use in FleetCar.Use.values:
            cars = cars.filter(use=use)
        if self.request.GET.get("retired") != "1":
            cars = cars.in_use()
        return cars, use

    def export_queryset(self):
        return self.chosen(FleetCar.objects.visible_to(self.request.user))[0].order_by("plate", "id")

    def get_context_data(self, **kwargs):
        cars, use = self.chosen(selectors.cars_for_list(FleetCar.objects.visible_to(self.request.user)))
        soon = local_date(timezone.now()) + timedelta(days=selectors.LAPSE_WARNING_DAYS)
        query = self.request.GET.copy()
        query.pop("export", None)
        return super().get_context_data(
            cars=list(cars),
            soon=soon,
            uses=FleetCar.Use.choices,
            use=use,
            query=query.urlencode(),
            may_export=self.may_export(self.request.user),
            **kwargs,
        )


class CarFormView(CapabilityRequiredMixin, SubmitOnceMixin, View):
    """Add a car to the fleet, or edit one (the transport department head)."""

    required_capability = Capability.MANAGE_FLEET
    template_name = "fleet/car_form.html"

    def get_car(self, pk):
        return get_object_or_404(FleetCar.objects.visible_to(self.request.user), pk=pk) if pk else None

    def get(self, request, pk=None):
        car = self.get_car(pk)
        initial = {name: getattr(car, name) for name in CarForm.base_fields} if car else {}
        return render(request, self.template_name, {"form": CarForm(initial=initial), "car": car})

    def post(self, request, pk=None):
        car = self.get_car(pk)
        form = CarForm(request.POST)
        if form.is_valid():
            try:
                if car is None:
                    car = services.car_create(by=request.user, **form.cleaned_data)
                else:
                    car = services.car_update(car=car, by=request.user, **form.cleaned_data)
            except (ValidationError, Conflict) as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, _("Saved: %(car)s.") % {"car": car})
                self.saved_once(car, car.get_absolute_url())
                return redirect(car)
        return render(request, self.template_name, {"form": form, "car": car}, status=400)


class CarDetailView(CapabilityRequiredMixin, View):
    required_capability = Capability.VIEW_FLEET

    def get(self, request, pk):
        car = get_object_or_404(FleetCar.objects.visible_to(request.user), pk=pk)
        context = selectors.car_page(car, user=request.user) | {
            "note_form": NoteForm(),
            "actions": car_actions(request.user, car),
        }
        return render(request, "fleet/car_detail.html", context)


CAR_ACTIONS = {
    "clear": services.car_clear,
    "maintenance": services.car_to_maintenance,
    "back-from-maintenance": services.car_from_maintenance,
    "retire": services.car_retire,
}


def car_actions(user, car: FleetCar) -> list[str]:
    """The transport head's buttons the car's state allows."""
    if not user.has_capability(Capability.MANAGE_FLEET):
        return []
    allowed = services.ALLOWED_STATES.get(car.state, frozenset())
    S = FleetCar.State
    offered = []
    if car.state == S.NEEDS_INSPECTION:
        offered.append("clear")
    if S.IN_MAINTENANCE in allowed:
        offered.append("maintenance")
    if car.state == S.IN_MAINTENANCE:
        offered.append("back-from-maintenance")
    if S.RETIRED in allowed:
        offered.append("retire")
    return offered


class CarActionView(CapabilityRequiredMixin, View):
    required_capability = Capability.MANAGE_FLEET

    def post(self, request, pk, action):
        if action not in CAR_ACTIONS:
            raise Http404
        car = get_object_or_404(FleetCar.objects.visible_to(request.user), pk=pk)
        form = NoteForm(request.POST)
        note = form.cleaned_data["note"] if form.is_valid() else ""
        try:
            step = CAR_ACTIONS[action](car=car, by=request.user, note=note)
        except (ValidationError, Conflict) as exc:
            messages.error(request, str(getattr(exc, "message", exc)))
            return redirect(car)
        car, rehoused = step.car, step.rehoused
        messages.success(request, _("%(car)s: %(state)s.") % {"car": car, "state": car.get_state_display()})
        if rehoused.moved:
            moved = "; ".join(f"{r.client}, {local_datetime_text(r.starts_at)} → {r.car.plate}" for r in rehoused.moved)
            messages.info(request, _("Moved to other cars (their managers are told): %(list)s.") % {"list": moved})
        if rehoused.released:
            released = "; ".join(f"{r.client}, {local_datetime_text(r.starts_at)}" for r in rehoused.released)
            messages.warning(request, _("Released (their managers are told): %(list)s.") % {"list": released})
        return redirect(car)


urlpatterns = [
    path("", BoardView.as_view(), name="board"),
    path("cars/", CarListView.as_view(), name="car-list"),
    path("cars/new/", CarFormView.as_view(), name="car-create"),
    path("cars/<int:pk>/", CarDetailView.as_view(), name="car-detail"),
    path("cars/<int:pk>/edit/", CarFormView.as_view(), name="car-edit"),
    path("cars/<int:pk>/<slug:action>/", CarActionView.as_view(), name="car-action"),
]
