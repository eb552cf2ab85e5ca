import django_filters as filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.roles import Role
from bookings.models import Booking, RecallCampaign, RecallVin, ServiceArea
from bookings.selectors.recalls import bookings_with_open_recall
from clientdesk.calendar import day_bounds
from clientdesk.filters import DateFilter, IsoDateTimeFilter
from clientdesk.forms import StyledForm, yes_no_select
from clients.normalize import vin_fragment


class BookingFilter(filters.FilterSet):
    day = DateFilter(method="filter_day", label=_("day"))
    starts_after = IsoDateTimeFilter(field_name="starts_at", lookup_expr="gte", label=_("starting from"))
    starts_before = IsoDateTimeFilter(field_name="starts_at", lookup_expr="lt", label=_("starting before"))
    status = filters.MultipleChoiceFilter(choices=Booking.Status.choices, label=_("status"))
    advisor = filters.ModelChoiceFilter(
        queryset=User.objects.filter(role=Role.ADVISOR, is_active=True), label=_("advisor")
    )
    area = filters.ModelChoiceFilter(queryset=ServiceArea.objects.all(), label=_("area"))
    client = filters.NumberFilter(field_name="client_id", label=_("client"))
    source = filters.ChoiceFilter(choices=Booking.Source.choices, label=_("source"))
    open_recall = filters.BooleanFilter(
        method="filter_open_recall",
        label=_("open recall"),
        widget=yes_no_select(_("with an open recall"), _("without an open recall")),
    )
    dms_id = filters.CharFilter(label=_("DMS id"))

    class Meta:
        model = Booking
        form = StyledForm
        fields = [
            "day",
            "starts_after",
            "starts_before",
            "status",
            "advisor",
            "area",
            "client",
            "source",
            "open_recall",
        ]

    def filter_day(self, queryset, name, value):
        start, end = day_bounds(value)
        return queryset.filter(starts_at__gte=start, starts_at__lt=end)

    def filter_open_recall(self, queryset, name, value):

        with_recall = bookings_with_open_recall(queryset)
        return with_recall if value else queryset.exclude(pk__in=with_recall.values("pk"))


class RecallCampaignFilter(filters.FilterSet):
    q = filters.CharFilter(method="filter_q", label=_("Search"), help_text=_("Name or code"))
    current = filters.BooleanFilter(
        method="filter_current",
        label=_("Running"),
        widget=yes_no_select(_("running today"), _("not running today")),
    )

    class Meta:
        model = RecallCampaign
        form = StyledForm
        fields = ["q", "current"]

    def filter_q(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(manufacturer_code__icontains=value))

    def filter_current(self, queryset, name, value):
        current = RecallCampaign.objects.current()
        return queryset.filter(pk__in=current.values("pk")) if value else queryset.exclude(pk__in=current.values("pk"))


class RecallVinFilter(filters.FilterSet):
    vin = filters.CharFilter(method="filter_vin", label=_("VIN"), help_text=_("At least 4 characters of the VIN"))
    open = filters.BooleanFilter(
        field_name="done_at",
        lookup_expr="isnull",
        label=_("State"),
        widget=yes_no_select(_("open"), _("done")),
    )

    class Meta:
        model = RecallVin
        form = StyledForm
        fields = ["vin", "open"]

    def filter_vin(self, queryset, name, value):
        fragment = vin_fragment(value)
        if fragment is None:  # too short or impossible in a VIN: matches nothing rather than everything
            return queryset.none()
        if len(fragment) == 17:
            return queryset.filter(vin=fragment)
        return queryset.filter(vin__contains=fragment)
