"""One FilterSet per list, shared by the page and the API."""

import django_filters as filters
from django.utils.translation import gettext_lazy as _

from clientdesk.filters import IsoDateTimeFilter
from clientdesk.forms import StyledForm, yes_no_select
from reception.models import PrintedMaterial, TintConsultation, TintOrder, TowContractor, TowOrder


class TowOrderFilter(filters.FilterSet):
    status = filters.MultipleChoiceFilter(choices=TowOrder.Status.choices, label=_("status"))
    contractor = filters.ModelChoiceFilter(queryset=TowContractor.objects.all(), label=_("tow service"))
    client = filters.NumberFilter(field_name="client_id", label=_("client"))
    created_after = IsoDateTimeFilter(field_name="created_at", lookup_expr="gte", label=_("taken from"))
    created_before = IsoDateTimeFilter(field_name="created_at", lookup_expr="lt", label=_("taken before"))

    class Meta:
        model = TowOrder
        form = StyledForm
        fields = ["status", "contractor", "client", "created_after", "created_before"]


class PrintedMaterialFilter(filters.FilterSet):
    kind = filters.ChoiceFilter(choices=PrintedMaterial.Kind.choices, label=_("kind"))
    location = filters.ChoiceFilter(choices=PrintedMaterial.Location.choices, label=_("where it lives"))
    attention = filters.BooleanFilter(
        method="filter_attention",
        label=_("attention"),
        widget=yes_no_select(_("below minimum or due for review"), _("in order")),
    )

    class Meta:
        model = PrintedMaterial
        form = StyledForm
        fields = ["kind", "location", "attention"]

    def filter_attention(self, queryset, name, value):
        flagged = queryset.needing_attention()
        return flagged if value else queryset.exclude(pk__in=flagged.values("pk"))


class TintOrderFilter(filters.FilterSet):
    status = filters.MultipleChoiceFilter(choices=TintOrder.Status.choices, label=_("status"))
    client = filters.NumberFilter(field_name="consultation__client_id", label=_("client"))

    class Meta:
        model = TintOrder
        form = StyledForm
        fields = ["status", "client"]


class TintConsultationFilter(filters.FilterSet):
    client = filters.NumberFilter(field_name="client_id", label=_("client"))
    order_status = filters.MultipleChoiceFilter(
        field_name="order__status", choices=TintOrder.Status.choices, label=_("order")
    )
    warned = filters.BooleanFilter(
        method="filter_warned", label=_("legal warning"), widget=yes_no_select(_("warned"), _("no warning needed"))
    )

    class Meta:
        model = TintConsultation
        form = StyledForm
        fields = ["client", "order_status", "warned"]

    def filter_warned(self, queryset, name, value):
        return queryset.exclude(warning="") if value else queryset.filter(warning="")
