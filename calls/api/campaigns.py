"""Campaigns and survey answers over the API, read-only: the DMS and the head's reports read them.

Register in clientdesk/urls.py:
    router.register("campaigns", CampaignViewSet, basename="campaign")
    router.register("survey-responses", SurveyResponseViewSet, basename="survey-response")
"""

import django_filters as filters
from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import mixins, serializers

from accounts.roles import Capability
from calls.models import Campaign, SurveyAnswer, SurveyResponse
from calls.services.campaigns import CampaignFilter, campaign_progress, campaigns_progress
from clientdesk.api import BaseViewSet
from clientdesk.filters import IsoDateTimeFilter
from clientdesk.pagination import IdCursorPagination

PROGRESS = inline_serializer(
    "CampaignProgress",
    {
        name: serializers.IntegerField()
        for name in (
            "members",
            "planned",
            "not_planned",
            "pending",
            "done",
            "unreachable",
            "cancelled",
            "closed",
            "answered",
            "declined",
            "percent",
        )
    },
)
PROGRESS_KEYS = ("members", "planned", "not_planned", "pending", "done", "unreachable", "cancelled", "closed")


class CampaignSerializer(serializers.ModelSerializer):
    progress = serializers.SerializerMethodField(help_text=_("Members and their calls so far."))

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "script",
            "segment",
            "starts_on",
            "ends_on",
            "status",
            "launched_at",
            "created_at",
            "progress",
        ]
        read_only_fields = fields

    @extend_schema_field(PROGRESS)
    def get_progress(self, campaign: Campaign) -> dict:
        # The list attaches every row's progress from one query; a single campaign asks for its own.
        progress = getattr(campaign, "progress", None) or campaign_progress(campaign)
        return {key: progress[key] for key in (*PROGRESS_KEYS, "answered", "declined", "percent")}


class ReadOnlyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    """Campaigns and surveys are the department's shared records: whoever holds the read capability sees them all,
    so the rows are not narrowed further by user."""

    def get_queryset(self):
        return self.queryset.all()


class CampaignViewSet(ReadOnlyViewSet):
    """Campaigns, newest first, each with its progress (members, calls planned, done, unreachable, cancelled...)."""

    queryset = Campaign.objects.order_by()
    serializer_class = CampaignSerializer
    filterset_class = CampaignFilter
    read_capability = Capability.VIEW_CALLS

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        if page is not None:
            progress = campaigns_progress(campaign.pk for campaign in page)
            for campaign in page:
                campaign.progress = progress[campaign.pk]
        return page


class SurveyAnswerSerializer(serializers.ModelSerializer):
    question_text = serializers.CharField(source="question.text", read_only=True)
    kind = serializers.CharField(source="question.kind", read_only=True)

    class Meta:
        model = SurveyAnswer
        fields = ["question", "question_text", "kind", "score", "text"]
        read_only_fields = fields


class SurveyResponseSerializer(serializers.ModelSerializer):
    client = serializers.IntegerField(source="delivery.client_id", read_only=True)
    vehicle = serializers.IntegerField(source="delivery.vehicle_id", read_only=True)
    answers = SurveyAnswerSerializer(many=True, read_only=True)

    class Meta:
        model = SurveyResponse
        fields = ["id", "delivery", "client", "vehicle", "survey", "answered_at", "taken_by", "csi", "answers"]
        read_only_fields = fields


class SurveyResponseFilter(filters.FilterSet):
    answered_after = IsoDateTimeFilter(field_name="answered_at", lookup_expr="gte", label=_("answered from"))
    answered_before = IsoDateTimeFilter(field_name="answered_at", lookup_expr="lt", label=_("answered before"))
    delivery = filters.NumberFilter(field_name="delivery_id", label=_("delivery"))
    client = filters.NumberFilter(field_name="delivery__client_id", label=_("client"))

    class Meta:
        model = SurveyResponse
        fields = ["answered_after", "answered_before", "delivery", "client"]


class AnsweredCursorPagination(IdCursorPagination):
    """Newest answers first, on the answered_at index."""

    ordering = ("-answered_at", "-id")


class SurveyResponseViewSet(ReadOnlyViewSet):
    """Buyers' answers to the follow-up survey, one response per delivery, with its CSI and every answer."""

    queryset = SurveyResponse.objects.select_related("delivery").prefetch_related(
        Prefetch("answers", queryset=SurveyAnswer.objects.select_related("question").order_by("question__position"))
    )
    serializer_class = SurveyResponseSerializer
    filterset_class = SurveyResponseFilter
    pagination_class = AnsweredCursorPagination
    read_capability = Capability.VIEW_CALLS
