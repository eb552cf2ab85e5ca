"""One FilterSet per list, shared by the page and the API."""

import django_filters as filters
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.roles import Role
from clientdesk.filters import IsoDateTimeFilter
from clientdesk.forms import StyledForm, yes_no_select
from clients.models import Client, Vehicle
from clients.normalize import normalize_plate, normalize_vin, phone_fragment
from clients.selectors import search_client_ids, search_hint

LIST_SEARCH_LIMIT = 200


def staff_managers():
    return User.objects.filter(is_active=True, role__in=[Role.MANAGER, Role.HEAD])


def searchable(value: str) -> None:
    """A phone fragment too short to search is a field error (400 in the API), the same hint the search page gives."""
    if hint := search_hint(value):
        raise ValidationError(hint, code="too_short")


class ClientFilter(filters.FilterSet):
    q = filters.CharFilter(
        method="filter_q",
        label=_("Search"),
        help_text=_("Phone digits (at least 3), name, plate, VIN, DMS id"),
        validators=[searchable],
    )
    kind = filters.ChoiceFilter(choices=Client.Kind.choices, label=_("kind"))
    source = filters.ChoiceFilter(choices=Client.Source.choices, label=_("source"))
    assigned_manager = filters.ModelChoiceFilter(queryset=staff_managers(), label=_("assigned manager"))
    consent_marketing = filters.BooleanFilter(
        label=_("consent to marketing"), widget=yes_no_select(_("consented"), _("not consented"))
    )
    dms_id = filters.CharFilter(label=_("DMS id"))
    phone = filters.CharFilter(method="filter_phone", label=_("phone"), validators=[searchable])
    updated_since = IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte", label=_("changed since"))

    class Meta:
        model = Client
        form = StyledForm
        fields = ["q", "kind", "source", "assigned_manager", "consent_marketing", "dms_id", "phone", "updated_since"]

    def filter_q(self, queryset, name, value):
        return queryset.filter(id__in=list(search_client_ids(value, limit=LIST_SEARCH_LIMIT)))

    def filter_phone(self, queryset, name, value):
        digits = phone_fragment(value)
        if not digits:
            return queryset.none()
        return queryset.filter(id__in=list(search_client_ids(digits, limit=LIST_SEARCH_LIMIT)))


class VehicleFilter(filters.FilterSet):
    owner = filters.NumberFilter(field_name="owner_id", label=_("owner"))
    vin = filters.CharFilter(method="filter_vin", label=_("VIN"))
    plate = filters.CharFilter(method="filter_plate", label=_("plate"))
    make = filters.CharFilter(field_name="make", lookup_expr="iexact", label=_("make"))
    model = filters.CharFilter(field_name="model", lookup_expr="iexact", label=_("model"))
    year = filters.NumberFilter(label=_("year"))
    dms_id = filters.CharFilter(label=_("DMS id"))
    delivered = filters.BooleanFilter(
        field_name="delivered_at",
        lookup_expr="isnull",
        exclude=True,
        label=_("delivered"),
        widget=yes_no_select(_("sold here"), _("not sold here")),
    )
    updated_since = IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte", label=_("changed since"))

    class Meta:
        model = Vehicle
        form = StyledForm
        fields = ["owner", "vin", "plate", "make", "model", "year", "dms_id", "delivered", "updated_since"]

    def filter_vin(self, queryset, name, value):
        try:
            return queryset.filter(vin=normalize_vin(value))
        except ValidationError:  # a malformed VIN simply matches nothing
            return queryset.none()

    def filter_plate(self, queryset, name, value):
        try:
            return queryset.filter(plate=normalize_plate(value))
        except ValidationError:
            return queryset.none()
