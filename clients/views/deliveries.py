"""Recording a car's handover from the client card: the buyer, the car, when, who sold it."""

from functools import cached_property

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.permissions import CapabilityRequiredMixin
from accounts.roles import Capability
from clientdesk.forms import StyledForm
from clientdesk.views import ServiceFormView
from clients.extensions import delivery_notices
from clients.models import Client, Vehicle
from clients.normalize import normalize_vin
from clients.services import deliveries


class DeliveryForm(StyledForm):
    """The car is one of the buyer's, or any car on file found by its VIN (a car from stock, a trade-in sold on)."""

    vehicle = forms.ModelChoiceField(label=gettext_lazy("Car"), queryset=Vehicle.objects.none(), required=False)
    vin = forms.CharField(
        label=gettext_lazy("…or its VIN"),
        max_length=40,
        required=False,
        help_text=gettext_lazy("For a car on file under another owner; the buyer becomes its owner."),
    )
    delivered_at = forms.DateTimeField(
        label=gettext_lazy("Handed over"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    sales_manager = forms.CharField(label=gettext_lazy("Sales manager"), max_length=150, required=False)
    dms_id = forms.CharField(label=gettext_lazy("DMS id"), max_length=64, required=False)

    def __init__(self, *args, client: Client, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["vehicle"].queryset = client.vehicles.order_by("id")
        if not self.fields["vehicle"].queryset.exists():
            del self.fields["vehicle"]

    def clean_vin(self):
        return normalize_vin(self.cleaned_data["vin"])

    def clean(self):
        data = super().clean()
        vehicle, vin = data.get("vehicle"), data.get("vin")
        if "vin" in self.errors or "vehicle" in self.errors:
            return data
        if vehicle and vin and vehicle.vin != vin:
            self.add_error("vin", _("Choose the car or give a VIN, not both."))
        elif not vehicle and not vin:
            field = "vehicle" if "vehicle" in self.fields else "vin"
            self.add_error(field, _("Which car was handed over? Choose it, or give its VIN."))
        elif not vehicle:
            data["vehicle"] = Vehicle.objects.filter(vin=vin).first()
            if data["vehicle"] is None:
                self.add_error("vin", _("No car with this VIN is on file: add the car to the card first."))
        return data


class DeliveryCreateView(CapabilityRequiredMixin, ServiceFormView):
    required_capability = Capability.EDIT_CLIENTS
    template_name = "clients/delivery_form.html"
    form_class = DeliveryForm

    @cached_property
    def client(self) -> Client:
        return get_object_or_404(Client.objects.visible_to(self.request.user).active(), pk=self.kwargs["pk"])

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "client": self.client}

    def get_initial(self):
        initial = {"delivered_at": timezone.localtime().replace(second=0, microsecond=0)}
        chosen = self.request.GET.get("vehicle", "")
        vehicles = list(self.client.vehicles.order_by("id").values_list("pk", flat=True))
        if chosen.isdigit() and int(chosen) in vehicles:
            initial["vehicle"] = int(chosen)
        elif len(vehicles) == 1:
            initial["vehicle"] = vehicles[0]
        return initial

    def get_context_data(self, **kwargs):
        return super().get_context_data(client=self.client, **kwargs)

    def perform(self, form):
        data = form.cleaned_data
        delivery = deliveries.delivery_record(
            by=self.request.user,
            client=self.client,
            vehicle=data["vehicle"],
            delivered_at=data["delivered_at"],
            sales_manager=data["sales_manager"],
            dms_id=data["dms_id"],
        )
        self._announce_follow_up(delivery)
        return redirect(self.client)

    def _announce_follow_up(self, delivery) -> None:
        """The message after a handover: what the other apps say of it (the follow-up call's day), or plain news."""
        notices = [notice for notice in (source(delivery) for source in delivery_notices) if notice]
        for level, text in notices or [("success", _("Delivery recorded."))]:
            getattr(messages, level)(self.request, text)


urlpatterns = [
    path("<int:pk>/deliveries/new/", DeliveryCreateView.as_view(), name="delivery-create"),
]
