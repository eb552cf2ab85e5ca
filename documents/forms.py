from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import User
from bookings.models import Booking
from clientdesk.filters import BoundedDateField
from clientdesk.forms import StyledForm, VisibleLinksForm
from clients.models import Client, Delivery, Vehicle
from documents.models import Correspondence, Document, Registry

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _by_number(label, queryset, help_text=""):
    """A link to a record typed by its number in the base (a select of 500,000 clients would be no use)."""
    return forms.ModelChoiceField(
        label=label, queryset=queryset, required=False, widget=forms.NumberInput(), help_text=help_text
    )


class DocumentForm(VisibleLinksForm):
    kind = forms.ChoiceField(label=_("kind"), choices=Document.Kind.choices)
    number = forms.CharField(label=_("number"), max_length=64, required=False)
    issued_on = BoundedDateField(label=_("date"), widget=DATE_INPUT)
    title = forms.CharField(label=_("title"), max_length=255, required=False)
    original = forms.BooleanField(label=_("original"), required=False, initial=True, help_text=_("Unticked: a copy."))
    client = _by_number(_("client"), Client.objects.all(), _("The client's number in the base (on the card)."))
    vehicle = _by_number(_("vehicle"), Vehicle.objects.all())
    delivery = _by_number(_("delivery"), Delivery.objects.all())
    booking = _by_number(_("booking"), Booking.objects.all())
    notes = forms.CharField(label=_("notes"), widget=forms.Textarea(attrs={"rows": 3}), required=False)


class DocumentCreateForm(DocumentForm):
    start = forms.ChoiceField(
        label=_("the paper is"),
        choices=[
            (Document.State.EXPECTED, _("expected (not signed yet)")),
            (Document.State.SIGNED, _("signed by the client")),
            (Document.State.DRAFT, _("a draft contract for approval")),
        ],
        initial=Document.State.EXPECTED,
        widget=forms.RadioSelect,
    )


class StepForm(StyledForm):
    comment = forms.CharField(label=_("comment"), max_length=300, required=False)
    archive_box = forms.CharField(label=_("archive box"), max_length=32, required=False)
    archive_shelf = forms.CharField(label=_("archive shelf"), max_length=32, required=False)


class RegistryCreateForm(VisibleLinksForm):
    destination = forms.ChoiceField(label=pgettext_lazy("registry", "to"), choices=Registry.Destination.choices)
    note = forms.CharField(label=_("note"), max_length=300, required=False)
    archive_box = forms.CharField(label=_("archive box"), max_length=32, required=False)
    archive_shelf = forms.CharField(label=_("archive shelf"), max_length=32, required=False)
    documents = forms.ModelMultipleChoiceField(
        label=_("documents"), queryset=Document.objects.all(), widget=forms.MultipleHiddenInput
    )


class RegistryConfirmForm(StyledForm):
    received_name = forms.CharField(label=_("received by (name)"), max_length=150)
    archive_box = forms.CharField(label=_("archive box"), max_length=32, required=False)
    archive_shelf = forms.CharField(label=_("archive shelf"), max_length=32, required=False)


class ReasonForm(StyledForm):
    reason = forms.CharField(label=_("reason"), max_length=200)


class MailForm(VisibleLinksForm):
    direction = forms.ChoiceField(label=_("direction"), choices=Correspondence.Direction.choices)
    kind = forms.ChoiceField(label=_("kind"), choices=Correspondence.Kind.choices)
    dated_on = BoundedDateField(label=_("date"), widget=DATE_INPUT)
    sender = forms.CharField(label=pgettext_lazy("correspondence", "from"), max_length=200)
    recipient = forms.CharField(label=pgettext_lazy("correspondence", "to"), max_length=200)
    subject = forms.CharField(label=_("subject"), max_length=300)
    addressee = forms.ModelChoiceField(
        label=_("addressee on staff"),
        queryset=User.objects.filter(is_active=True).order_by("last_name", "first_name", "id"),
        required=False,
    )
    client = _by_number(_("client"), Client.objects.all())
    tracking_number = forms.CharField(label=_("tracking number"), max_length=64, required=False)
    notes = forms.CharField(label=_("notes"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
