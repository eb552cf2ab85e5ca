"""One FilterSet per list, shared by the page and the API."""

import django_filters as filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from clientdesk.filters import DateFilter, SharedFormClassMixin
from clientdesk.forms import StyledForm, yes_no_select
from documents.models import Correspondence, Document, Registry
from documents.selectors import archive_search
from documents.services.mail import unhanded_cutoff


class DocumentFilter(SharedFormClassMixin, filters.FilterSet):
    """The archive: one search box (client name or phone, VIN, plate, document number) and the filters beside it."""

    q = filters.CharFilter(method="filter_search", label=_("search"))
    kind = filters.MultipleChoiceFilter(
        choices=Document.Kind.choices, label=_("kind"), distinct=False, widget=forms.SelectMultiple(attrs={"size": 3})
    )
    state = filters.MultipleChoiceFilter(
        choices=Document.State.choices, label=_("state"), distinct=False, widget=forms.SelectMultiple(attrs={"size": 3})
    )
    issued_from = DateFilter(field_name="issued_on", lookup_expr="gte", label=_("dated from"))
    issued_to = DateFilter(field_name="issued_on", lookup_expr="lte", label=_("dated to"))
    box = filters.CharFilter(field_name="archive_box", lookup_expr="startswith", label=_("archive box"))
    shelf = filters.CharFilter(field_name="archive_shelf", lookup_expr="startswith", label=_("archive shelf"))
    original = filters.BooleanFilter(
        field_name="original", label=_("original or copy"), widget=yes_no_select(_("original"), _("copy"))
    )
    client = filters.NumberFilter(field_name="client_id", label=_("client"))
    vehicle = filters.NumberFilter(field_name="vehicle_id", label=_("vehicle"))
    delivery = filters.NumberFilter(field_name="delivery_id", label=_("delivery"))
    booking = filters.NumberFilter(field_name="booking_id", label=_("booking"))

    class Meta:
        model = Document
        form = StyledForm
        fields = ["q", "kind", "state", "issued_from", "issued_to", "box", "shelf", "original"]

    def filter_search(self, queryset, name, value):
        return archive_search(queryset, value)


class RegistryFilter(filters.FilterSet):
    destination = filters.ChoiceFilter(choices=Registry.Destination.choices, label=pgettext_lazy("registry", "to"))
    state = filters.ChoiceFilter(choices=Registry.State.choices, label=_("state"))
    year = filters.NumberFilter(field_name="year", label=pgettext_lazy("registry", "year"))

    class Meta:
        model = Registry
        form = StyledForm
        fields = ["destination", "state", "year"]


class CorrespondenceFilter(filters.FilterSet):
    direction = filters.ChoiceFilter(choices=Correspondence.Direction.choices, label=_("direction"))
    kind = filters.ChoiceFilter(choices=Correspondence.Kind.choices, label=_("kind"))
    unhanded = filters.BooleanFilter(
        field_name="handed_over_at",
        lookup_expr="isnull",
        label=pgettext_lazy("correspondence", "handed over"),
        widget=yes_no_select(_("not handed over"), _("handed over")),
    )
    waiting = filters.BooleanFilter(
        method="filter_waiting",
        label=_("waiting more than a day"),
        widget=yes_no_select(_("waiting more than a day"), _("handed over or recent")),
    )
    addressee = filters.NumberFilter(field_name="addressee_id", label=_("addressee"))

    class Meta:
        model = Correspondence
        form = StyledForm
        fields = ["direction", "kind", "unhanded", "waiting"]

    def filter_waiting(self, queryset, name, value):
        waiting = Q(handed_over_at__isnull=True, created_at__lt=unhanded_cutoff())
        return queryset.filter(waiting) if value else queryset.exclude(waiting)
