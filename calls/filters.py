import django_filters as filters
from django.utils.translation import gettext_lazy as _

from calls.api.tasks import callers
from calls.models import Call
from clientdesk.filters import IsoDateTimeFilter
from clientdesk.forms import StyledForm
from clients.normalize import phone_fragment


class CallFilter(filters.FilterSet):
    client = filters.NumberFilter(field_name="client_id", label=_("client"))
    # Whoever can hold calls, deactivated too: their old calls stay in the log (a dashboard's bar links to them).
    manager = filters.ModelChoiceFilter(queryset=callers(), label=_("manager"))
    direction = filters.ChoiceFilter(choices=Call.Direction.choices, label=_("direction"))
    purpose = filters.ChoiceFilter(choices=Call.Purpose.choices, label=_("purpose"))
    outcome = filters.ChoiceFilter(choices=Call.Outcome.choices, label=_("outcome"))
    started_after = IsoDateTimeFilter(field_name="started_at", lookup_expr="gte", label=_("started from"))
    started_before = IsoDateTimeFilter(field_name="started_at", lookup_expr="lt", label=_("started before"))
    phone = filters.CharFilter(method="filter_phone", label=_("number"))

    class Meta:
        model = Call
        form = StyledForm
        fields = ["client", "manager", "direction", "purpose", "outcome", "started_after", "started_before", "phone"]

    def filter_phone(self, queryset, name, value):
        digits = phone_fragment(value)
        if not digits:
            return queryset.none()
        # Exact E.164 is what the index serves; a full Russian number typed any way becomes one.
        if len(digits) == 11 and digits[0] in "78":
            return queryset.filter(phone_e164="+7" + digits[1:])
        if len(digits) == 10:
            return queryset.filter(phone_e164="+7" + digits)
        return queryset.filter(phone_e164__contains=digits)
