from django import forms
from django.utils.translation import gettext_lazy as _

from claims.models import Claim, ClaimCategory
from clientdesk.forms import StyledForm

DATETIME_LOCAL = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several scans at once; each is checked by the service (type by content, size)."""

    widget = MultipleFileInput

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(item, initial) for item in data if item]
        return [super().clean(data, initial)] if data else []


def active_categories():
    return ClaimCategory.objects.filter(is_active=True)


class ClaimForm(StyledForm):
    """A claim as the manager registers it: the client and car come from the card or the call it was opened from."""

    kind = forms.ChoiceField(label=_("Kind"), choices=Claim.Kind.choices, widget=forms.RadioSelect)
    channel = forms.ChoiceField(label=_("Channel"), choices=Claim.Channel.choices)
    received_at = forms.DateTimeField(label=_("Received"), widget=DATETIME_LOCAL)
    vehicle = forms.ModelChoiceField(label=_("Vehicle"), queryset=None, required=False)
    booking = forms.ModelChoiceField(label=_("Workshop visit"), queryset=None, required=False)
    delivery = forms.ModelChoiceField(label=_("Car delivery"), queryset=None, required=False)
    loaner = forms.ModelChoiceField(label=_("Loaner car"), queryset=None, required=False)
    client_words = forms.CharField(label=_("The client's words"), widget=forms.Textarea(attrs={"rows": 4}))
    demand = forms.CharField(label=_("The client's demand"), widget=forms.Textarea(attrs={"rows": 2}))
    category = forms.ModelChoiceField(label=_("Category"), queryset=ClaimCategory.objects.none())
    agreed_term_days = forms.IntegerField(
        label=_("Term agreed in writing, days"),
        min_value=1,
        max_value=366,
        required=False,
        help_text=_("For fixing a defect: the term agreed with the client, at most 45 days."),
    )
    files = MultipleFileField(
        label=_("Scans (PDF, JPEG, PNG)"),
        required=False,
        widget=MultipleFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )

    def __init__(self, *args, client, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = active_categories()
        self.fields["vehicle"].queryset = client.vehicles.all()
        self.fields["booking"].queryset = client.bookings.order_by("-starts_at")
        self.fields["delivery"].queryset = client.deliveries.select_related("vehicle", "client")
        self.fields["loaner"].queryset = client.fleet_reservations.select_related("car").order_by("-starts_at")


class ReasonForm(StyledForm):
    reason = forms.CharField(label=_("Reason"), max_length=300, widget=forms.Textarea(attrs={"rows": 2}))


class CommentForm(StyledForm):
    comment = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class EscalateForm(StyledForm):
    to = forms.ChoiceField(label=_("To"), choices=Claim.Department.choices, widget=forms.RadioSelect)
    comment = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class DecideForm(StyledForm):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=Claim.Outcome.choices, widget=forms.RadioSelect)
    compensation_kind = forms.ChoiceField(
        label=_("Compensation"), choices=[("", "")] + list(Claim.CompensationKind.choices), required=False
    )
    compensation_amount = forms.DecimalField(
        label=_("Amount, RUB"), max_digits=12, decimal_places=2, min_value=0, required=False
    )
    decision_text = forms.CharField(label=_("Decision"), widget=forms.Textarea(attrs={"rows": 3}))


class InformCallForm(StyledForm):
    notes = forms.CharField(
        label=_("What the client was told"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )


class LetterSentForm(StyledForm):
    sent_on = forms.DateField(label=_("Sent on"), widget=DATE_INPUT)


class CategoryChangeForm(StyledForm):
    category = forms.ModelChoiceField(label=_("Category"), queryset=ClaimCategory.objects.none())
    agreed_term_days = forms.IntegerField(label=_("Term agreed in writing, days"), min_value=1, required=False)
    reason = forms.CharField(label=_("Reason"), max_length=300)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = active_categories()


class AttachForm(StyledForm):
    file = forms.FileField(label=_("Scan or photo (PDF, JPEG, PNG)"))


class CategoryForm(StyledForm):
    code = forms.SlugField(label=_("Code"), max_length=40)
    name = forms.CharField(label=_("Name"), max_length=150)
    term_days = forms.IntegerField(label=_("Term, calendar days"), min_value=1, max_value=366)
    term_agreed = forms.BooleanField(label=_("Term agreed in writing"), required=False)
    max_term_days = forms.IntegerField(label=_("Maximum term, calendar days"), min_value=1, required=False)
    basis = forms.CharField(label=_("Basis"), max_length=300, required=False)
    order = forms.IntegerField(label=_("Order"), min_value=0, max_value=32000, initial=100)
    is_active = forms.BooleanField(label=_("In use"), required=False, initial=True)
