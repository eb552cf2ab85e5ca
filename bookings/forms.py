from collections.abc import Callable
from datetime import datetime
from functools import cache

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.roles import Role
from bookings.extensions import slot_marks
from bookings.models import Booking, ServiceType
from bookings.selectors import board as board_selectors
from bookings.selectors.slots import parse_slot_key
from bookings.services.bookings import MAX_SERVICE_TYPES
from clientdesk.calendar import local_zone
from clientdesk.forms import EMPTY_LABEL, StyledForm

# An id that names no option is refused as a model select refuses it (Django's words, translated), not echoed back.
NOT_AN_OPTION = {"invalid_choice": forms.ModelChoiceField.default_error_messages["invalid_choice"]}


class BoardFilterForm(StyledForm):
    """Narrow today's board to one area or one advisor: at a group's scale a day holds more than a desk can read.

    Its options are (id, name) rows (`bookings.selectors.board.filter_areas`, `filter_advisors`; the two cache
    entries in one round trip), read when the form is drawn or a filter checked, at most once each: a poll that names
    no filter reads nothing, and forty advisors are not built as models for one select (ModelChoiceField cost the
    board about a millisecond)."""

    area = forms.TypedChoiceField(
        label=_("Area"), coerce=int, empty_value=None, required=False, error_messages=NOT_AN_OPTION
    )
    advisor = forms.TypedChoiceField(
        label=_("Advisor"), coerce=int, empty_value=None, required=False, error_messages=NOT_AN_OPTION
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        entries = cache(board_selectors.filter_entries)
        self.fields["area"].choices = _read_once(lambda: board_selectors.filter_areas(entries()))
        self.fields["advisor"].choices = _read_once(lambda: board_selectors.filter_advisors(entries()))

    @classmethod
    def chosen_in(cls, query) -> dict[str, int]:
        """`chosen()` of the form bound to `query`, without building one when it names no filter (most polls)."""
        if not any(query.get(name) for name in cls.base_fields):
            return {}
        return cls(query).chosen()

    def chosen(self) -> dict[str, int]:
        """The ids to narrow by, by field name: those given and valid (a bad one is shown on the form and left out)."""
        if not self.is_bound:
            return {}
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {name: data[name] for name in ("area", "advisor") if data.get(name) is not None}


def _read_once(read: Callable[[], list]) -> Callable[[], list]:
    """A select's choices, the blank one first, read when first wanted (a callable's choices are lazy) and then kept."""
    return cache(lambda: [("", EMPTY_LABEL), *read()])


class SlotChoiceMixin(forms.Form):
    """A slot from the picker (`advisor@start`), or — for the head going over capacity — an advisor and a time."""

    slot = forms.CharField(required=False, widget=forms.HiddenInput)
    day = forms.DateField(label=_("Day"), widget=forms.DateInput(attrs={"type": "date"}))
    manual_time = forms.TimeField(
        label=_("Time"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
        help_text=_("Instead of a slot"),
    )
    manual_advisor = forms.ModelChoiceField(label=_("Advisor"), queryset=User.objects.none(), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["manual_advisor"].queryset = User.objects.filter(
            role=Role.ADVISOR, is_active=True, advisor_profile__is_active=True
        )

    def clean(self):
        data = super().clean()
        parsed = parse_slot_key(data.get("slot", ""))
        if parsed:
            advisor_id, starts_at = parsed
            data["advisor"] = User.objects.filter(pk=advisor_id).first()
            data["starts_at"] = starts_at
        elif data.get("manual_time") and data.get("manual_advisor") and data.get("day"):
            data["advisor"] = data["manual_advisor"]
            data["starts_at"] = datetime.combine(data["day"], data["manual_time"], tzinfo=local_zone())
        else:
            raise forms.ValidationError(_("Pick a free slot (or give an advisor and a time)."), code="no_slot")
        if data.get("advisor") is None:
            raise forms.ValidationError(_("That advisor no longer exists; pick another slot."), code="no_advisor")
        return data


class BookingForm(SlotChoiceMixin, StyledForm):
    vehicle = forms.ModelChoiceField(label=_("Vehicle"), queryset=None, required=False)
    service_types = forms.ModelMultipleChoiceField(
        label=_("Services"),
        queryset=ServiceType.objects.filter(is_active=True).select_related("area"),
        widget=forms.CheckboxSelectMultiple,
    )
    planned_minutes = forms.IntegerField(
        label=_("Planned work, minutes"),
        required=False,
        min_value=5,
        max_value=60 * 24 * 5,
        help_text=_("Empty: the services' standard time."),
    )
    comment = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    source = forms.ChoiceField(label=_("Source"), choices=Booking.Source.choices, initial=Booking.Source.CALL)
    capacity_override_reason = forms.CharField(
        label=_("Reason for going over capacity"), required=False, max_length=200, help_text=_("Department head only.")
    )

    field_order = ["vehicle", "service_types", "planned_minutes", "day", "slot", "comment", "source"]

    def clean_service_types(self):
        types = self.cleaned_data["service_types"]
        if len(types) > MAX_SERVICE_TYPES:
            raise forms.ValidationError(
                _("Choose at most %(max)d services for one visit.") % {"max": MAX_SERVICE_TYPES}, code="max"
            )
        return types

    def __init__(self, *args, client, can_override: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.client = client
        self.fields["vehicle"].queryset = client.vehicles.all()
        self.fields["service_types"].widget.attrs["class"] = "form-check-input"
        if not can_override:
            for name in ("capacity_override_reason", "manual_time", "manual_advisor"):
                del self.fields[name]
        # The wishes higher apps offer (the fleet app's "needs a loaner"), each a yes/no field.
        for mark in slot_marks:
            self.fields[mark.field] = forms.BooleanField(label=mark.label, required=False)

    def wishes(self) -> dict[str, bool]:
        """The wishes ticked, as `booking_create` takes them."""
        return {mark.field: bool(self.cleaned_data.get(mark.field)) for mark in slot_marks}

    def wish_fields(self) -> list:
        return [self[mark.field] for mark in slot_marks]


class RescheduleForm(SlotChoiceMixin, StyledForm):
    reason = forms.CharField(label=_("Reason"), required=False, max_length=200)

    def __init__(self, *args, can_pick_time: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not can_pick_time:
            del self.fields["manual_time"]
            del self.fields["manual_advisor"]


class CancelForm(StyledForm):
    reason = forms.CharField(label=_("Reason for cancelling"), max_length=200)
