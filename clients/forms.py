from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

from clientdesk.forms import ServiceModelForm, StyledForm
from clientdesk.timefmt import local_date_text
from clients.filters import staff_managers
from clients.models import Client, ClientPhone, Vehicle
from clients.normalize import normalize_phone, normalize_plate, normalize_vin
from clients.services.clients import KEEP_SOURCE, KEEP_TARGET, MergeDifference, PhoneInput, merge_differences


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


def _merge_value_text(client: Client, difference: MergeDifference, side: str) -> str:
    """One side of a difference as the head reads it."""
    kept = side == KEEP_TARGET
    value = difference.target_value if kept else difference.source_value
    if difference.is_consent:
        given, at = value
        withdrawn_at = difference.target_withdrawn_at if kept else difference.source_withdrawn_at
        if given:
            return str(_("given on %(day)s") % {"day": local_date_text(at)})
        if withdrawn_at:
            return str(_("withdrawn on %(day)s") % {"day": local_date_text(withdrawn_at)})
        return pgettext("merge value", "not given")
    if difference.field == "kind":
        return str(Client.Kind(value).label)
    if difference.field == "assigned_manager":
        return str(client.assigned_manager) if client.assigned_manager_id else pgettext("merge value", "not assigned")
    return value or pgettext("merge value", "empty")


def _consent_warning(difference: MergeDifference, source: Client) -> str:
    """What the head must know before deciding a consent that one side has and the other does not."""
    if not difference.is_consent or difference.target_value[0] == difference.source_value[0]:
        return ""
    if difference.source_withdrawn_at:
        return _(
            "The duplicate withdrew this consent on %(day)s: the merge keeps it withdrawn unless you choose the "
            "client kept's consent."
        ) % {"day": local_date_text(difference.source_withdrawn_at)}
    if difference.target_withdrawn_at:
        return _(
            "The client kept withdrew this consent on %(day)s: the duplicate's older consent is not taken unless "
            "you choose it, and only if the client has given it again."
        ) % {"day": local_date_text(difference.target_withdrawn_at)}
    if difference.source_value[0]:
        return _(
            "Only the duplicate has this consent: it is not carried over unless you choose it. A withdrawn consent "
            "is never turned into a given one without your choice."
        )
    return ""


class MergeForm(StyledForm):
    """The client to keep and, once the two have been compared (`previewed` is the target shown), a choice per
    difference the merge decides (`keep_<field>`: the client kept's value or the duplicate's)."""

    target = forms.ModelChoiceField(
        label=_("Keep this client"),
        queryset=Client.objects.active(),
        widget=forms.NumberInput,
        help_text=_("The id of the client to keep; everything of this one moves there."),
    )
    previewed = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, source: Client, target: Client | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.source, self.target = source, target
        self.differences = merge_differences(source=source, target=target) if target and target.pk != source.pk else []
        self.rows = []
        for difference in self.differences:
            model_field = Client._meta.get_field(difference.field)
            target_text = _merge_value_text(target, difference, KEEP_TARGET)
            source_text = _merge_value_text(source, difference, KEEP_SOURCE)
            name = f"keep_{difference.field}"
            self.fields[name] = forms.ChoiceField(
                label=model_field.verbose_name,
                choices=[
                    (KEEP_TARGET, _("the client kept: %(value)s") % {"value": target_text}),
                    (KEEP_SOURCE, _("the duplicate: %(value)s") % {"value": source_text}),
                ],
                initial=difference.default,
                # Missing (a form sent for another target than the one compared): the default, as the page showed.
                required=False,
                widget=forms.RadioSelect,
            )
            self.fields[name].widget.attrs["class"] = "form-check-input"
            self.rows.append(
                {
                    "field": name,
                    "label": model_field.verbose_name,
                    "target": target_text,
                    "source": source_text,
                    "warning": _consent_warning(difference, source),
                }
            )

    @property
    def is_previewed(self) -> bool:
        """Whether the head has seen the differences of this very pair (the target in the form is the one shown)."""
        return self.target is not None and self.cleaned_data.get("previewed") == self.target.pk

    def keep(self) -> dict[str, str]:
        return {d.field: self.cleaned_data.get(f"keep_{d.field}") or d.default for d in self.differences}

    def bound_rows(self):
        return [{**row, "bound": self[row["field"]]} for row in self.rows]
