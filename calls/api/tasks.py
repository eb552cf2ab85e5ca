"""Outbound call tasks over the API: read them with filters; log how a call went as an action on its task.

`CallTaskFilter` serves this endpoint and the head's task board alike.
"""

import django_filters as filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.models import User
from accounts.roles import Capability, Role
from calls.models import CallTask, TaskOutcome
from calls.selectors import OVERDUE_AFTER
from calls.services.calls import call_task_work
from clientdesk.api import BaseViewSet
from clientdesk.filters import IsoDateTimeFilter
from clientdesk.forms import StyledForm, yes_no_select
from clientdesk.pagination import IdCursorPagination


def callers():
    """Everyone who can hold call tasks, including those since deactivated (their old tasks are still listed)."""
    return User.objects.filter(role__in=[Role.MANAGER, Role.HEAD])


class CallTaskFilter(filters.FilterSet):
    kind = filters.MultipleChoiceFilter(choices=CallTask.Kind.choices, label=_("kind"))
    status = filters.MultipleChoiceFilter(choices=CallTask.Status.choices, label=_("status"))
    assignee = filters.ModelChoiceFilter(
        queryset=callers(), null_label=_("— not assigned —"), null_value="none", label=_("assignee")
    )
    client = filters.NumberFilter(field_name="client_id", label=_("client"))
    booking = filters.NumberFilter(field_name="booking_id", label=_("booking"))
    delivery = filters.NumberFilter(field_name="delivery_id", label=_("delivery"))
    due_after = IsoDateTimeFilter(field_name="due_at", lookup_expr="gte", label=_("due from"))
    due_before = IsoDateTimeFilter(field_name="due_at", lookup_expr="lt", label=_("due before"))
    overdue = filters.BooleanFilter(
        method="filter_overdue", label=_("overdue"), widget=yes_no_select(_("overdue only"), _("not overdue"))
    )

    class Meta:
        model = CallTask
        form = StyledForm
        fields = ["kind", "status", "assignee", "client", "booking", "delivery", "due_after", "due_before", "overdue"]

    def filter_overdue(self, queryset, name, value):
        # As in the manager's queue: pending, and the next attempt more than an hour behind.
        late = {"status__in": CallTask.PENDING, "next_attempt_at__lt": timezone.now() - OVERDUE_AFTER}
        return queryset.filter(**late) if value else queryset.exclude(**late)


class CallTaskSerializer(serializers.ModelSerializer):
    campaign = serializers.IntegerField(source="campaign_member.campaign_id", read_only=True, allow_null=True)

    class Meta:
        model = CallTask
        fields = [
            "id",
            "kind",
            "client",
            "booking",
            "delivery",
            "campaign",
            "due_at",
            "next_attempt_at",
            "assignee",
            "status",
            "attempts",
            "outcome",
            "closed_reason",
            "claimed_by",
            "closed_at",
            "created_at",
        ]
        read_only_fields = fields


# A follow-up survey is a few questions; a body with more answers than this is refused before any is read.
MAX_SURVEY_ANSWERS = 50


class TaskOutcomeSerializer(serializers.Serializer):
    """How the call went. What a given outcome needs (a reason, a new time, a call-back time) is checked by the
    service, which answers with field errors."""

    outcome = serializers.ChoiceField(choices=TaskOutcome.choices)
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    duration = serializers.IntegerField(required=False, default=0, min_value=0, max_value=36_000, help_text="seconds")
    cancel_reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    new_starts_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    new_advisor = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(role=Role.ADVISOR, is_active=True), required=False, allow_null=True, default=None
    )
    call_back_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    take_over = serializers.BooleanField(
        required=False,
        default=False,
        help_text=_("The department head takes over a task a colleague is working; anyone else gets 409."),
    )
    survey_answers = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=2000),
        required=False,
        allow_null=True,
        default=None,
        help_text=_(
            "Question id → score or text; for an answered follow-up call, every question with a score must be "
            "answered (or send the outcome survey_declined)."
        ),
    )

    def validate_survey_answers(self, answers: dict | None) -> dict | None:
        if answers is not None and len(answers) > MAX_SURVEY_ANSWERS:
            raise serializers.ValidationError(
                _("A survey has at most %(max)d questions.") % {"max": MAX_SURVEY_ANSWERS}
            )
        return answers


def _by_question(exc: DjangoValidationError) -> dict:
    """The service names an unanswered survey question `q_<id>`; the API answers under `survey_answers.<id>`."""
    errors: dict = {}
    for field, messages in exc.message_dict.items():
        if field.startswith("q_"):
            errors.setdefault("survey_answers", {})[field[2:]] = messages
        else:
            errors[field] = messages
    return errors


class CallTaskViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    """Outbound call tasks. `POST /call-tasks/{id}/outcome/` logs the call that worked the task and does what the
    outcome means (confirm, move or cancel the booking, retry later, record the survey…); a closed task is 409."""

    queryset = CallTask.objects.select_related("campaign_member")
    serializer_class = CallTaskSerializer
    filterset_class = CallTaskFilter
    pagination_class = IdCursorPagination
    read_capability = Capability.VIEW_CALLS
    write_capability = Capability.LOG_CALLS
    action_capabilities = {"outcome": Capability.LOG_CALLS}

    @extend_schema(
        request=TaskOutcomeSerializer,
        responses={
            200: CallTaskSerializer,
            400: OpenApiResponse(description="Field errors"),
            409: OpenApiResponse(description="The task is already closed, or a colleague is working it"),
        },
    )
    @action(detail=True, methods=["post"])
    def outcome(self, request, pk=None):
        task = self.get_object()
        serializer = TaskOutcomeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        answered_follow_up = task.kind == CallTask.Kind.FOLLOW_UP and data["outcome"] == TaskOutcome.ANSWERED
        if data["survey_answers"] and not answered_follow_up:
            raise serializers.ValidationError(
                {"survey_answers": [_("Survey answers are for an answered follow-up call only.")]}
            )
        try:
            task = call_task_work(task=task, by=request.user, **data)
        except DjangoValidationError as exc:
            if hasattr(exc, "error_dict") and any(field.startswith("q_") for field in exc.error_dict):
                raise serializers.ValidationError(_by_question(exc)) from exc
            raise
        return Response(CallTaskSerializer(self.get_queryset().get(pk=task.pk)).data)
