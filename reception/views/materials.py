"""The reception's printed materials: the list with what needs attention flagged, restocking in two clicks (the
button opens a small form with a suggested number, "Add" saves it and redraws the row), and the head's editing."""

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
from clientdesk.calendar import local_date
from clientdesk.errors import Conflict
from clientdesk.views import SubmitOnceMixin, apply_validation_error
from reception.filters import PrintedMaterialFilter
from reception.forms import MaterialForm, RestockForm
from reception.models import PrintedMaterial
from reception.selectors.materials import flag
from reception.services import materials as services


class MaterialListView(CapabilityRequiredMixin, TemplateView):
    """Every printed item by where it lives; the ones below minimum or due for review are marked, and the filter
    shows only them. The list is the reception's few dozen items: one page."""

    required_capability = Capability.VIEW_RECEPTION
    template_name = "reception/material_list.html"

    def get_context_data(self, **kwargs):
        queryset = PrintedMaterial.objects.visible_to(self.request.user)
        filterset = PrintedMaterialFilter(self.request.GET or None, queryset=queryset)
        rows = filterset.qs if filterset.is_bound and filterset.is_valid() else queryset
        today = local_date(timezone.now())
        return super().get_context_data(filter=filterset, materials=flag(rows, today=today), **kwargs)


class MaterialRestockView(CapabilityRequiredMixin, View):
    """Copies put out: HTMX answers the redrawn row; without JavaScript, back to the list."""

    required_capability = Capability.EDIT_RECEPTION

    def post(self, request, pk):
        material = get_object_or_404(PrintedMaterial.objects.visible_to(request.user), pk=pk)
        form = RestockForm(request.POST)
        status = 200
        if form.is_valid():
            try:
                material = services.material_restock(
                    material=material, by=request.user, quantity=form.cleaned_data["quantity"]
                )
            except ValidationError as exc:
                apply_validation_error(form, exc)
        if form.errors:
            status = 400
            messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        elif not request.htmx:
            messages.success(request, _("%(item)s: %(stock)d in stock.") % {"item": material, "stock": material.stock})
        if not request.htmx:
            return redirect("reception:material-list")
        [row] = flag([material], today=local_date(timezone.now()))
        return render(request, "reception/_material_row.html", {"m": row, "restocked": not form.errors}, status=status)


class MaterialFormView(CapabilityRequiredMixin, SubmitOnceMixin, View):
    required_capability = Capability.MANAGE_RECEPTION
    template_name = "reception/material_form.html"

    def get_material(self, request, pk) -> PrintedMaterial | None:
        return get_object_or_404(PrintedMaterial.objects.visible_to(request.user), pk=pk) if pk else None

    def get(self, request, pk=None):
        material = self.get_material(request, pk)
        initial = {name: getattr(material, name) for name in services.MATERIAL_FIELDS} if material else {}
        return render(request, self.template_name, {"form": MaterialForm(initial=initial), "material": material})

    def post(self, request, pk=None):
        material = self.get_material(request, pk)
        form = MaterialForm(request.POST)
        if form.is_valid():
            try:
                if material is None:
                    material = services.material_create(by=request.user, **form.cleaned_data)
                else:
                    material = services.material_update(material=material, by=request.user, **form.cleaned_data)
            except (ValidationError, Conflict) as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, _("Saved: %(name)s.") % {"name": material})
                self.saved_once(material, reverse("reception:material-list"))
                return redirect("reception:material-list")
        return render(request, self.template_name, {"form": form, "material": material}, status=400)


urlpatterns = [
    path("materials/", MaterialListView.as_view(), name="material-list"),
    path("materials/new/", MaterialFormView.as_view(), name="material-create"),
    path("materials/<int:pk>/", MaterialFormView.as_view(), name="material-edit"),
    path("materials/<int:pk>/restock/", MaterialRestockView.as_view(), name="material-restock"),
]
