from django import forms
from django.forms import formset_factory
from django.utils.translation import gettext_lazy as _

from clientdesk.forms import StyledForm
from fleet.models import DamageMark, FleetCar


class CarForm(StyledForm):
    plate = forms.CharField(label=_("Plate"), max_length=12)
    vin = forms.CharField(label=_("VIN"), max_length=17, required=False)
    make = forms.CharField(label=_("Make"), max_length=50)
    model = forms.CharField(label=_("Model"), max_length=50)
    year = forms.IntegerField(label=_("Year"), required=False, min_value=1990, max_value=2100)
    colour = forms.CharField(label=_("Colour"), max_length=30, required=False)
    use = forms.ChoiceField(label=_("Use"), choices=FleetCar.Use.choices)
    mileage_km = forms.IntegerField(label=_("Mileage, km"), min_value=0, max_value=2_000_000, initial=0)
    fuel_percent = forms.IntegerField(label=_("Fuel, %"), min_value=0, max_value=100, initial=100)
    insurance_until = forms.DateField(
        label=_("Insurance (ОСАГО) valid until"), widget=forms.DateInput(attrs={"type": "date"})
    )
    inspection_until = forms.DateField(
        label=_("Technical inspection valid until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class NoteForm(StyledForm):
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class ReasonForm(StyledForm):
    reason = forms.CharField(label=_("Reason for cancelling"), max_length=200)


class IntervalForm(StyledForm):
    starts_at = forms.DateTimeField(label=_("From"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    ends_at = forms.DateTimeField(label=_("Due back"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))

    def clean(self):
        data = super().clean()
        if data.get("starts_at") and data.get("ends_at") and data["ends_at"] <= data["starts_at"]:
            self.add_error("ends_at", _("The car must come back after it goes out."))
        return data


class ReservationForm(IntervalForm):
    car = forms.ModelChoiceField(label=_("Car"), queryset=FleetCar.objects.none())
    comment = forms.CharField(label=_("Comment"), max_length=300, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["car"].queryset = FleetCar.objects.filter(use=FleetCar.Use.LOANER).exclude(
            state=FleetCar.State.RETIRED
        )


class TestDriveForm(IntervalForm):
    car = forms.ModelChoiceField(label=_("Demo car"), queryset=FleetCar.objects.none())
    new_client_name = forms.CharField(label=_("New contact: name"), max_length=200, required=False)
    new_client_phone = forms.CharField(label=_("New contact: phone"), max_length=32, required=False)
    sales_manager = forms.CharField(label=_("Accompanying sales manager"), max_length=100)
    route = forms.CharField(label=_("Route"), max_length=300)
    licence_number = forms.CharField(label=_("Driving licence number"), max_length=20)
    licence_valid_until = forms.DateField(
        label=_("Licence valid until"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, client=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.client = client
        self.fields["car"].queryset = FleetCar.objects.filter(use=FleetCar.Use.DEMO).exclude(
            state=FleetCar.State.RETIRED
        )
        if client is not None:
            del self.fields["new_client_name"], self.fields["new_client_phone"]

    def clean(self):
        data = super().clean()
        if self.client is None and not (data.get("new_client_name", "").strip() and data.get("new_client_phone")):
            self.add_error("new_client_name", _("Give the new contact's name and phone (or open this from a card)."))
        return data


class MarkForm(forms.Form):
    zone = forms.ChoiceField(label=_("Zone"), choices=[("", "—"), *DamageMark.Zone.choices], required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=[("", "—"), *DamageMark.Kind.choices], required=False)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            field.widget.attrs["class"] = (
                "form-select form-select-sm" if name != "note" else "form-control form-control-sm"
            )

    def clean(self):
        data = super().clean()
        if bool(data.get("zone")) != bool(data.get("kind")):
            raise forms.ValidationError(_("Choose both the zone and the kind of the damage."))
        return data


MarkFormSet = formset_factory(MarkForm, extra=3, max_num=20)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/jpeg,image/png"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


class ActForm(StyledForm):
    mileage_km = forms.IntegerField(label=_("Mileage, km"), min_value=0, max_value=2_000_000)
    fuel_percent = forms.IntegerField(label=_("Fuel, %"), min_value=0, max_value=100)
    photos = MultipleFileField(label=_("Photos"), required=False)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)
    signatures_confirmed = forms.BooleanField(label=_("The client and I have signed the act"), required=False)


class CheckOutForm(ActForm):
    licence_number = forms.CharField(label=_("Driving licence number"), max_length=20)
    licence_valid_until = forms.DateField(
        label=_("Licence valid until"), widget=forms.DateInput(attrs={"type": "date"})
    )
    deposit = forms.DecimalField(label=_("Deposit, ₽"), required=False, min_value=0, max_digits=10, decimal_places=2)


class CheckInForm(ActForm):
    client_reported_fault = forms.CharField(label=_("Fault reported by the client"), max_length=300, required=False)
    warning_lamp = forms.BooleanField(label=_("A warning lamp is on"), required=False)
