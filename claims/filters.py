"""The claim list's filters, shared by the page and the API."""

import django_filters as filters
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from claims.models import Claim, ClaimCategory
from claims.selectors import DueBounds, DueState, due_state_q
from clientdesk.calendar import local_date
from clientdesk.filters import IsoDateTimeFilter, SharedFormClassMixin
from clientdesk.forms import StyledForm


def _assignees(request):
    return User.objects.filter(is_active=True, role__in=["manager", "head"]).order_by("last_name", "first_name", "id")


class ClaimFilter(SharedFormClassMixin, filters.FilterSet):
    due_state = filters.ChoiceFilter(choices=DueState.choices, method="filter_due_state", label=_("due"))
    status = filters.MultipleChoiceFilter(choices=Claim.Status.choices, label=_("status"))
    category = filters.ModelChoiceFilter(queryset=ClaimCategory.objects.all(), label=_("category"))
    assignee = filters.ModelChoiceFilter(queryset=_assignees, label=_("assigned manager"))
    escalated_to = filters.ChoiceFilter(choices=Claim.Department.choices, label=_("escalated to"))
    client = filters.NumberFilter(field_name="client_id", label=_("client"))
    number = filters.CharFilter(field_name="number", lookup_expr="icontains", label=_("number"))
    received_after = IsoDateTimeFilter(field_name="received_at", lookup_expr="gte", label=_("received from"))
    received_before = IsoDateTimeFilter(field_name="received_at", lookup_expr="lt", label=_("received before"))

    class Meta:
        model = Claim
        form = StyledForm
        fields = [
            "due_state",
            "status",
            "category",
            "assignee",
            "escalated_to",
            "client",
            "number",
            "received_after",
            "received_before",
        ]

    def __init__(self, *args, bounds: DueBounds | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        # The page's (or the API request's), so the calendar is read once for the filter and the rows' due states.
        self.bounds = bounds or getattr(self.request, "claim_bounds", None)

    def filter_due_state(self, queryset, name, value):
        return queryset.filter(due_state_q(value, today=local_date(timezone.now()), bounds=self.bounds))
