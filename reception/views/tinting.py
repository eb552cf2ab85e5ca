"""Tinting pages: the consultation (with the legal warning when a regulated window would go below the limit), its
card with the estimate and the order that books the tinting area's slot, the list, and the film price list."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from accounts.permissions import CapabilityRequiredMixin
from accounts.roles import Capability
from bookings.models import ServiceType
from clientdesk.calendar import BusinessCalendar, local_date
from clientdesk.errors import Conflict
from clientdesk.timefmt import local_datetime_text
from clientdesk.views import KeysetPage, SubmitOnceMixin, apply_validation_error
from reception.filters import TintConsultationFilter
from reception.forms import TintConsultationForm, TintFilmForm, TintOrderForm
from reception.models import TintConsultation, TintFilm, WindowZone
from reception.services import tinting as services
from reception.views.pick import ClientPickMixin


class TintConsultationCreateView(CapabilityRequiredMixin, SubmitOnceMixin, ClientPickMixin, View):
    """A consultation with the client at the desk or on the phone: the client (the search box), the car, a film per
    window zone. Saving computes the result and the estimate; below the legal limit it asks for the warning first."""

    required_capability = Capability.EDIT_RECEPTION
    template_name = "reception/tint_form.html"

    def context(self, request, form, client=None, warning=""):
        return {"form": form, "client": client, "warning": warning, "limit": services.legal_limit()}

    def get(self, request):
        if request.htmx and "q" in request.GET:
            return self.search_response(request)
        client = self.chosen_client(request, request.GET.get("client"))
        vehicles = list(client.vehicles.all()) if client else []
        initial = {"client": client, "vehicle": vehicles[0] if len(vehicles) == 1 else None}
        form = TintConsultationForm(user=request.user, initial=initial)
        return render(request, self.template_name, self.context(request, form, client))

    def post(self, request):
        form = TintConsultationForm(request.POST, user=request.user)
        warning = ""
        if form.is_valid():
            data = form.cleaned_data
            try:
                consultation = services.tint_consultation_create(
                    by=request.user,
                    client=data["client"],
                    vehicle=data.get("vehicle"),
                    glass_transmission=data["glass_transmission"],
                    films=form.films(),
                    client_warned=data["client_warned"],
                    note=data["note"],
                )
            except (ValidationError, Conflict) as exc:
                apply_validation_error(form, exc)
                if "client_warned" in form.errors:
                    warning = services.legal_warning(
                        services.plan_tinting(glass_transmission=data["glass_transmission"], films=form.films())
                    )
            else:
                messages.success(request, _("Consultation saved: %(total)s.") % {"total": consultation.estimate})
                self.saved_once(consultation, consultation.get_absolute_url())
                return redirect(consultation)
        client = self.chosen_client(request, request.POST.get("client"))
        return render(request, self.template_name, self.context(request, form, client, warning), status=400)


def tint_card_context(request, consultation, *, order_form=None, alternatives=()) -> dict:
    service = ServiceType.objects.filter(code=services.TINTING_SERVICE_CODE, is_active=True).first()
    can_order = (
        request.user.has_capability(Capability.EDIT_RECEPTION) and not hasattr(consultation, "order") and service
    )
    if can_order and order_form is None:
        today = local_date(timezone.now())
        order_form = TintOrderForm(
            initial={"day": BusinessCalendar().next_working_day(today)},
            can_pick_time=request.user.has_capability(Capability.OVERRIDE_CAPACITY),
        )
    return {
        "consultation": consultation,
        "lines": list(consultation.lines.select_related("film", "consultation")),
        "order": getattr(consultation, "order", None),
        "order_form": order_form if can_order else None,
        "service": service,
        "alternatives": alternatives,
    }


def _consultation(request, pk) -> TintConsultation:
    return get_object_or_404(
        TintConsultation.objects.visible_to(request.user).select_related(
            "client", "vehicle", "created_by", "order__booking"
        ),
        pk=pk,
    )


class TintConsultationDetailView(CapabilityRequiredMixin, View):
    required_capability = Capability.VIEW_RECEPTION

    def get(self, request, pk):
        return render(request, "reception/tint_detail.html", tint_card_context(request, _consultation(request, pk)))


class TintOrderCreateView(CapabilityRequiredMixin, SubmitOnceMixin, View):
    """Book the consultation into the tinting area: a taken slot or a full day comes back with the nearest free
    slots, as the bookings' own form does."""

    required_capability = Capability.EDIT_RECEPTION

    def post(self, request, pk):
        consultation = _consultation(request, pk)
        form = TintOrderForm(request.POST, can_pick_time=request.user.has_capability(Capability.OVERRIDE_CAPACITY))
        alternatives = []
        if form.is_valid():
            try:
                order = services.tint_order_create(
                    by=request.user,
                    consultation=consultation,
                    starts_at=form.cleaned_data["starts_at"],
                    advisor=form.cleaned_data["advisor"],
                )
            except (ValidationError, Conflict) as exc:
                alternatives = getattr(exc, "alternatives", [])
                apply_validation_error(form, exc)
            else:
                when = local_datetime_text(order.booking.starts_at)
                messages.success(request, _("Tinting booked: %(when)s.") % {"when": when})
                self.saved_once(order, consultation.get_absolute_url())
                return redirect(consultation)
        context = tint_card_context(request, consultation, order_form=form, alternatives=alternatives)
        return render(request, "reception/tint_detail.html", context, status=400)


class TintListView(CapabilityRequiredMixin, TemplateView):
    """Consultations, newest first, with their order's status."""

    required_capability = Capability.VIEW_RECEPTION
    template_name = "reception/tint_list.html"

    def get_context_data(self, **kwargs):
        queryset = TintConsultation.objects.visible_to(self.request.user).select_related("client", "vehicle", "order")
        filterset = TintConsultationFilter(self.request.GET or None, queryset=queryset)
        rows = filterset.qs if filterset.is_bound and filterset.is_valid() else queryset
        page = KeysetPage(rows, after=self.request.GET.get("after"), time_field="created_at")
        query = self.request.GET.copy()
        query.pop("after", None)
        return super().get_context_data(filter=filterset, page=page, query=query.urlencode(), **kwargs)


class TintPriceListView(CapabilityRequiredMixin, TemplateView):
    """The films and their price per window zone: what the estimate is made from."""

    required_capability = Capability.VIEW_RECEPTION
    template_name = "reception/tint_prices.html"

    def get_context_data(self, **kwargs):
        films = list(TintFilm.objects.visible_to(self.request.user).prefetch_related("prices"))
        for film in films:
            by_zone = {price.zone: price.price for price in film.prices.all()}
            film.row = [by_zone.get(zone) for zone in WindowZone.values]
        return super().get_context_data(films=films, zones=WindowZone.choices, limit=services.legal_limit(), **kwargs)


class TintFilmFormView(CapabilityRequiredMixin, SubmitOnceMixin, View):
    required_capability = Capability.MANAGE_RECEPTION
    template_name = "reception/tint_film_form.html"

    def get_film(self, request, pk) -> TintFilm | None:
        return get_object_or_404(TintFilm.objects.visible_to(request.user), pk=pk) if pk else None

    def get(self, request, pk=None):
        film = self.get_film(request, pk)
        initial = {}
        if film is not None:
            initial = {"name": film.name, "light_transmission": film.light_transmission, "is_active": film.is_active}
            initial |= {f"price_{p.zone}": p.price for p in film.prices.all()}
        return render(request, self.template_name, {"form": TintFilmForm(initial=initial), "film": film})

    def post(self, request, pk=None):
        film = self.get_film(request, pk)
        form = TintFilmForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                film = services.tint_film_save(
                    by=request.user,
                    film=film,
                    name=data["name"],
                    light_transmission=data["light_transmission"],
                    is_active=data["is_active"],
                    prices=form.prices(),
                )
            except (ValidationError, Conflict) as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, _("Saved: %(name)s.") % {"name": film})
                self.saved_once(film, reverse("reception:tint-prices"))
                return redirect("reception:tint-prices")
        return render(request, self.template_name, {"form": form, "film": film}, status=400)


urlpatterns = [
    path("tinting/", TintListView.as_view(), name="tint-list"),
    path("tinting/new/", TintConsultationCreateView.as_view(), name="tint-create"),
    path("tinting/<int:pk>/", TintConsultationDetailView.as_view(), name="tint-detail"),
    path("tinting/<int:pk>/order/", TintOrderCreateView.as_view(), name="tint-order"),
    path("tinting/prices/", TintPriceListView.as_view(), name="tint-prices"),
    path("tinting/films/new/", TintFilmFormView.as_view(), name="tint-film-create"),
    path("tinting/films/<int:pk>/", TintFilmFormView.as_view(), name="tint-film-edit"),
]
