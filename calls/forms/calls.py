from django import forms
from django.utils.translation import gettext_lazy as _

from calls.models import Call
from clientdesk.forms import StyledForm
from clients.forms import PhoneNumberField
from clients.models import Client, Vehicle


class CallForm(StyledForm):
    """The short form a manager fills during or right after a call."""

    direction = forms.ChoiceField(
        label=_("Direction"), choices=Call.Direction.choices, initial=Call.Direction.INBOUND, widget=forms.RadioSelect
    )
    purpose = forms.ChoiceField(label=_("Purpose"), choices=Call.Purpose.choices, initial=Call.Purpose.CONSULTATION)
    outcome = forms.ChoiceField(label=_("Outcome"), choices=Call.Outcome.choices, initial=Call.Outcome.RESOLVED)
    vehicle = forms.ModelChoiceField(label=_("Vehicle"), queryset=Vehicle.objects.none(), required=False)
    phone_number = PhoneNumberField(
        label=_("Number"), required=False, help_text=_("Empty: the client's primary phone.")
    )
    duration_minutes = forms.IntegerField(label=_("Minutes"), min_value=0, max_value=600, initial=1, required=False)
    notes = forms.CharField(label=_("Notes"), widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args, client: Client | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.client = client
        if client is not None:
            self.fields["vehicle"].queryset = client.vehicles.all()
            if len(client.vehicles.all()) == 0:
                del self.fields["vehicle"]
        else:
            del self.fields["vehicle"]
            self.fields["phone_number"].required = True
            self.fields["phone_number"].help_text = ""

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "direction": data["direction"],
            "purpose": data["purpose"],
            "outcome": data["outcome"],
            "vehicle": data.get("vehicle"),
            "phone_number": data.get("phone_number", ""),
            "duration": (data.get("duration_minutes") or 0) * 60,
            "notes": data.get("notes", ""),
            "client": self.client,
        }


class PhoneLookupForm(StyledForm):
    number = PhoneNumberField(label=_("Caller's number"))
