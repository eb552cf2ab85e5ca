from django import forms
from django.utils.translation import gettext_lazy as _

from bookings.forms import SlotChoiceMixin
from bookings.models import ServiceType
from clientdesk.forms import StyledForm, VisibleLinksForm
from clients.forms import PhoneNumberField
from clients.models import Client, Vehicle
from reception.models import PrintedMaterial, TintFilm, TowContractor, TowOrder, WindowZone
from reception.services.tow import DEFAULT_SERVICE_CODE

DATETIME_LOCAL = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def _active_contractors():
    return TowContractor.objects.filter(is_active=True)


class TowOrderForm(VisibleLinksForm):
    """A tow order as a manager takes it on the phone: who (found or new), where, what happened, where to, when."""

    client = forms.ModelChoiceField(
        label=_("Client"), queryset=Client.objects.active(), required=False, widget=forms.HiddenInput
    )
    new_client_name = forms.CharField(
        label=_("Or a new client's name"),
        max_length=200,
        required=False,
        help_text=_("When the caller is not on file."),
    )
    vehicle = forms.ModelChoiceField(
        label=_("Vehicle"), queryset=Vehicle.objects.all(), required=False, widget=forms.HiddenInput
    )
    car = forms.CharField(
        label=_("Car"), max_length=100, required=False, help_text=_("Make, model, plate, when not on file.")
    )
    pickup_address = forms.CharField(label=_("Pick-up address"), max_length=300)
    landmark = forms.CharField(label=_("Landmark"), max_length=200, required=False)
    phone_on_site = PhoneNumberField(label=_("Phone on site"))
    problem = forms.ChoiceField(
        label=_("What happened"),
        choices=TowOrder.Problem.choices,
        initial=TowOrder.Problem.WONT_START,
        widget=forms.RadioSelect,
    )
    problem_note = forms.CharField(label=_("Details"), max_length=300, required=False)
    destination = forms.CharField(
        label=_("Destination"), max_length=300, required=False, help_text=_("Empty: our workshop.")
    )
    wanted_at = forms.DateTimeField(
        label=_("Wanted time"),
        required=False,
        widget=DATETIME_LOCAL,
        input_formats=["%Y-%m-%dT%H:%M"],
        help_text=_("Empty: as soon as possible."),
    )
    contractor = forms.ModelChoiceField(label=_("Tow service"), queryset=TowContractor.objects.none(), required=False)
    driver = forms.CharField(label=_("Driver"), max_length=100, required=False)
    service_type = forms.ModelChoiceField(
        label=_("Work at the workshop"), queryset=ServiceType.objects.none(), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contractor"].queryset = _active_contractors()
        self.fields["service_type"].queryset = ServiceType.objects.filter(is_active=True)
        self.fields["problem"].widget.attrs["class"] = "form-check-input"
        if not self.is_bound:
            self.initial.setdefault(
                "service_type", ServiceType.objects.filter(code=DEFAULT_SERVICE_CODE, is_active=True).first()
            )

    def clean(self):
        data = super().clean()
        if not data.get("client") and not (data.get("new_client_name") or "").strip():
            raise forms.ValidationError(_("Find the client, or give the caller's name."), code="no_client")
        return data


class DispatchForm(StyledForm):
    contractor = forms.ModelChoiceField(label=_("Tow service"), queryset=TowContractor.objects.none())
    eta = forms.DateTimeField(
        label=_("Their ETA at the car"), required=False, widget=DATETIME_LOCAL, input_formats=["%Y-%m-%dT%H:%M"]
    )
    driver = forms.CharField(label=_("Driver"), max_length=100, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contractor"].queryset = _active_contractors()


class ReasonForm(StyledForm):
    reason = forms.CharField(label=_("Reason"), max_length=200)


class CostForm(StyledForm):
    cost = forms.DecimalField(label=_("Cost"), min_value=0, max_digits=10, decimal_places=2, required=False)


class ContractorForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=200)
    phones = forms.CharField(
        label=_("Phones"), required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text=_("One per line.")
    )
    call_out_rate = forms.DecimalField(label=_("Call-out rate"), min_value=0, max_digits=10, decimal_places=2)
    rate_per_km = forms.DecimalField(label=_("Rate per km"), min_value=0, max_digits=10, decimal_places=2)
    rates_note = forms.CharField(label=_("Rates, details"), max_length=300, required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def clean_phones(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["phones"].splitlines() if line.strip()]


class ReconciliationForm(StyledForm):
    contractor = forms.ModelChoiceField(label=_("Tow service"), queryset=TowContractor.objects.all())
    month = forms.DateField(
        label=_("Month"), widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"), input_formats=["%Y-%m"]
    )


class MaterialForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=PrintedMaterial.Kind.choices)
    location = forms.ChoiceField(label=_("Where it lives"), choices=PrintedMaterial.Location.choices)
    stock = forms.IntegerField(label=_("In stock"), min_value=0)
    minimum = forms.IntegerField(label=_("Minimum"), min_value=0)
    review_by = forms.DateField(label=_("Review by"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    is_active = forms.BooleanField(label=_("In use"), required=False, initial=True)


class RestockForm(StyledForm):
    quantity = forms.IntegerField(label=_("Added"), min_value=1, max_value=100_000)


class TintConsultationForm(VisibleLinksForm):
    """The consultation as the manager fills it with the client: the car, its glass, a film per window zone."""

    client = forms.ModelChoiceField(
        label=_("Client"), queryset=Client.objects.active(), widget=forms.HiddenInput, required=False
    )
    vehicle = forms.ModelChoiceField(
        label=_("Vehicle"), queryset=Vehicle.objects.all(), required=False, widget=forms.HiddenInput
    )
    glass_transmission = forms.IntegerField(
        label=_("Glass light transmission, %"),
        min_value=1,
        max_value=100,
        initial=90,
        help_text=_("The car's own glass, before any film (as measured, or the maker's figure)."),
    )
    client_warned = forms.BooleanField(label=_("The client was warned about the legal limit"), required=False)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        films = TintFilm.objects.filter(is_active=True)
        for zone, label in WindowZone.choices:
            self.fields[f"film_{zone}"] = forms.ModelChoiceField(label=label, queryset=films, required=False)
            self.fields[f"film_{zone}"].widget.attrs["class"] = "form-select"

    def film_fields(self):
        return [self[f"film_{zone}"] for zone in WindowZone.values]

    def films(self) -> dict:
        return {
            zone: self.cleaned_data[f"film_{zone}"]
            for zone in WindowZone.values
            if self.cleaned_data.get(f"film_{zone}")
        }

    def clean(self):
        data = super().clean()
        if not data.get("client"):
            raise forms.ValidationError(_("Find the client first."), code="no_client")
        return data


class TintOrderForm(SlotChoiceMixin, StyledForm):
    """Book the tinting area's slot with the bookings' slot picker."""

    def __init__(self, *args, can_pick_time: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not can_pick_time:
            del self.fields["manual_time"]
            del self.fields["manual_advisor"]


class TintFilmForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=100)
    light_transmission = forms.IntegerField(label=_("Light transmission, %"), min_value=1, max_value=100)
    is_active = forms.BooleanField(label=_("In use"), required=False, initial=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for zone, label in WindowZone.choices:
            self.fields[f"price_{zone}"] = forms.DecimalField(
                label=_("Price: %(zone)s") % {"zone": label},
                required=False,
                min_value=0,
                max_digits=10,
                decimal_places=2,
            )
            self.fields[f"price_{zone}"].widget.attrs["class"] = "form-control"

    def prices(self) -> dict:
        return {zone: self.cleaned_data.get(f"price_{zone}") for zone in WindowZone.values}
