from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from clientdesk.forms import ServiceModelForm, StyledForm
from clients.filters import staff_managers
from clients.models import Client, ClientPhone, Vehicle
from clients.normalize import normalize_phone, normalize_plate, normalize_vin
from clients.services.clients import PhoneInput


class ClientForm(ServiceModelForm):
    class Meta:
        model = Client
        fields = [
            "kind",
            "name",
            "email",
            "preferred_contact_time",
            "consent_personal_data",
            "consent_marketing",
            "source",
            "assigned_manager",
            "dms_id",
            "notes",
            "data_issue",
        ]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assigned_manager"].queryset = staff_managers()
        self.fields["name"].widget.attrs["autofocus"] = True


class PhoneNumberField(forms.CharField):
    """A phone number as people type it, cleaned to E.164 by the one rule every phone input shares
    (`clients.normalize.normalize_phone`); a number that rule refuses is a field error."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 32)
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        return normalize_phone(value) if value else value


class PhoneForm(StyledForm):
    number = PhoneNumberField(label=_("Phone"))
    kind = forms.ChoiceField(label=_("Kind"), choices=ClientPhone.Kind.choices, initial=ClientPhone.Kind.MOBILE)
    is_primary = forms.BooleanField(label=_("Primary"), required=False)
    comment = forms.CharField(label=_("Comment"), max_length=100, required=False)


class BasePhoneFormSet(forms.BaseFormSet):
    def clean(self):
        if any(self.errors):
            return
        numbers = [f.cleaned_data["number"] for f in self.forms if f.cleaned_data and not self._should_delete_form(f)]
        if len(numbers) != len(set(numbers)):
            raise ValidationError(_("The same number is listed twice."))
        primaries = [f for f in self.forms if f.cleaned_data.get("is_primary") and not self._should_delete_form(f)]
        if len(primaries) > 1:
            raise ValidationError(_("Only one phone can be primary."))

    def phone_inputs(self) -> list[PhoneInput]:
        return [
            PhoneInput(
                number=f.cleaned_data["number"],
                kind=f.cleaned_data["kind"],
                is_primary=f.cleaned_data["is_primary"],
                comment=f.cleaned_data["comment"],
            )
            for f in self.forms
            if f.cleaned_data and not self._should_delete_form(f)
        ]


PhoneFormSet = forms.formset_factory(
    PhoneForm,
    formset=BasePhoneFormSet,
    extra=1,
    can_delete=True,
    max_num=ClientPhone.MAX_PER_CLIENT,
    validate_max=True,
    # A forged management form asking for thousands of rows is refused before they are built.
    absolute_max=ClientPhone.MAX_PER_CLIENT + 5,
)


def phone_formset(data=None, *, client: Client | None = None, initial_number: str = ""):
    initial = (
        [
            {"number": p.display, "kind": p.kind, "is_primary": p.is_primary, "comment": p.comment}
            for p in client.phones.all()
        ]
        if client
        else ([{"number": initial_number, "is_primary": True}] if initial_number else [])
    )
    return PhoneFormSet(data, initial=initial, prefix="phones")


class VehicleForm(ServiceModelForm):
    class Meta:
        model = Vehicle
        fields = ["vin", "plate", "make", "model", "year", "colour", "mileage", "delivered_at", "dms_id"]
        widgets = {"delivered_at": forms.DateTimeInput(attrs={"type": "datetime-local"})}

    def clean_vin(self):
        return normalize_vin(self.cleaned_data["vin"])

    def clean_plate(self):
        return normalize_plate(self.cleaned_data["plate"])


class MergeForm(StyledForm):
    target = forms.ModelChoiceField(
        label=_("Keep this client"),
        queryset=Client.objects.active(),
        widget=forms.NumberInput,
        help_text=_("The id of the client to keep; everything of this one moves there."),
    )
