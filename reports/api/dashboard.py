"""The head's dashboard as JSON: the same tiles, figures and charts as the page, for the head and for integrations
with the department's figures capability."""

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from accounts.roles import Capability
from clientdesk.api import BaseViewSet
from clientdesk.api_filters import BoundedDateInput
from clientdesk.calendar import local_date
from clientdesk.dashboard import MAX_CUSTOM_DAYS, PERIOD_KINDS, Period, as_json, draw, head_tiles
from clientdesk.openapi import ObjectAnswerSchema

_FIGURE = (
    "DashboardFigure",
    {
        "key": serializers.CharField(),
        "label": serializers.CharField(),
        "value": serializers.FloatField(allow_null=True),
        "url": serializers.CharField(help_text="The list behind the figure, with its filters."),
        "previous": serializers.FloatField(allow_null=True, help_text="The previous period's value."),
        "average": serializers.FloatField(allow_null=True),
        "unit": serializers.CharField(help_text="'%', 's', 'h' or empty for a count."),
        "change": serializers.FloatField(allow_null=True),
        "better": serializers.ChoiceField(
            choices=["up", "down", ""], help_text="Which way the figure gets better; empty for neither."
        ),
        "good": serializers.BooleanField(
            allow_null=True, help_text="Whether the change is for the better; null for no change or neither way."
        ),
    },
)
_SERIES = (
    "DashboardSeries",
    {
        "label": serializers.CharField(),
        "data": serializers.ListField(child=serializers.FloatField(allow_null=True), help_text="null is a gap."),
        "urls": serializers.ListField(child=serializers.CharField()),
    },
)
_CHART = (
    "DashboardChart",
    {
        "key": serializers.CharField(),
        "title": serializers.CharField(),
        "kind": serializers.ChoiceField(choices=["bar", "line"]),
        "labels": serializers.ListField(child=serializers.CharField()),
        "series": inline_serializer(*_SERIES, many=True),
        "stacked": serializers.BooleanField(),
        "horizontal": serializers.BooleanField(),
        "unit": serializers.CharField(),
    },
)
DashboardSerializer = inline_serializer(
    "Dashboard",
    {
        "period": inline_serializer(
            "DashboardPeriod",
            {"kind": serializers.CharField(), "first": serializers.DateField(), "last": serializers.DateField()},
        ),
        "previous": inline_serializer(
            "DashboardPreviousPeriod",
            {"kind": serializers.CharField(), "first": serializers.DateField(), "last": serializers.DateField()},
        ),
        "tiles": inline_serializer(
            "DashboardTile",
            many=True,
            fields={
                "key": serializers.CharField(),
                "title": serializers.CharField(),
                "figures": inline_serializer(*_FIGURE, many=True),
                "charts": inline_serializer(*_CHART, many=True),
            },
        ),
    },
)


def _custom_period_has_its_days(given: dict) -> dict:
    """A custom period names both its days, in order, a year at most apart; the other kinds take no days."""
    if given["period"] != "custom":
        return given
    first, last = given.get("from"), given.get("to")
    missing = {name: [_("This field is required.")] for name in ("from", "to") if given.get(name) is None}
    if missing:
        raise serializers.ValidationError(missing)
    if last < first:
        raise serializers.ValidationError({"to": [_("The range ends before it starts.")]})
    if (last - first).days + 1 > MAX_CUSTOM_DAYS:
        raise serializers.ValidationError({"to": [_("Ask for at most %(days)d days.") % {"days": MAX_CUSTOM_DAYS}]})
    return given


# The page forgives a period it cannot read (it shows today); the API names the parameter instead. (`from` is a keyword,
# so the serializer is built with type().)
DashboardQuery = type(
    "DashboardQuery",
    (serializers.Serializer,),
    {
        "period": serializers.ChoiceField(choices=list(PERIOD_KINDS), default="today", help_text="Default: today."),
        "from": BoundedDateInput(required=False, help_text="First day of a custom period (required with it)."),
        "to": BoundedDateInput(
            required=False,
            help_text=f"Last day of a custom period (required with it; {MAX_CUSTOM_DAYS} days at most).",
        ),
        "validate": lambda _self, given: _custom_period_has_its_days(given),
    },
)


class DashboardViewSet(BaseViewSet):
    """The department's figures for a period, each with the previous period's and the URL of the list behind it."""

    read_capability = Capability.VIEW_DEPARTMENT_FIGURES
    pagination_class = None
    filter_backends = []
    schema = ObjectAnswerSchema()  # one dashboard object, not an array of them

    @extend_schema(
        summary="The head's dashboard",
        parameters=[DashboardQuery],
        responses=DashboardSerializer,
    )
    def list(self, request):
        query = DashboardQuery(data=request.query_params.dict())  # a plain dict: an empty value is not "left out"
        query.is_valid(raise_exception=True)
        given = query.validated_data
        today = local_date(timezone.now())
        period = Period.of(given["period"], today, first=given.get("from"), last=given.get("to"))
        tiles = draw(head_tiles, user=request.user, period=period)
        return Response({"period": period.as_json(), "previous": period.previous().as_json(), "tiles": as_json(tiles)})
