import django_filters as filters
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.roles import Role
from clientdesk.calendar import day_bounds
from clientdesk.forms import StyledForm, yes_no_select

from .models import Booking, ServiceArea


class BookingFilter(filters.FilterSet):
    day = filters.DateFilter(method="filter_day", label=_("day"))
    starts_after = filters.IsoDateTimeFilter(field_name="starts_at", lookup_expr="gte", label=_("starting from"))
    starts_before = filters.IsoDateTimeFilter(field_name="starts_at", lookup_expr="lt", label=_("starting before"))
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
        from .recalls import bookings_with_open_recall

        with_recall = bookings_with_open_recall(queryset)
        return with_recall if value else queryset.exclude(pk__in=with_recall.values("pk"))
