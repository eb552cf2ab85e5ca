"""The webhooks' API: endpoints (subscriptions) and their delivery log with replay, for the head; the change feed,
for the DMS."""

from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.models import User
from accounts.roles import Capability, Role
from clientdesk.api import BaseViewSet
from clientdesk.openapi import ObjectAnswerSchema
from webhooks import services
from webhooks.models import Delivery, DeliveryAttempt, Endpoint, EventType, OutboxEvent


class WebhookEndpointSerializer(serializers.ModelSerializer):
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(role=Role.INTEGRATION, is_active=True),
        help_text=_("The integration user the webhooks are for."),
    )
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EventType.choices),
        required=False,
        max_length=len(EventType.values),
        help_text=_("Event types to send; empty or absent: all."),
    )
    secret = serializers.CharField(
        read_only=True, help_text=_('Sign check key: HMAC-SHA256 of "<timestamp>.<body>" under this secret.')
    )

    class Meta:
        model = Endpoint
        fields = [
            "id",
            "owner",
            "url",
            "events",
            "secret",
            "is_active",
            "disabled_reason",
            "failing_since",
            "failures_in_a_row",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["is_active", "disabled_reason", "failing_since", "failures_in_a_row"]


class WebhookEndpointUpdateSerializer(serializers.Serializer):
    url = serializers.URLField(max_length=500, required=False)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EventType.choices), required=False, max_length=len(EventType.values)
    )
    is_active = serializers.BooleanField(
        required=False, help_text=_("Switch on again after an automatic switch-off (clears the failure count).")
    )


class EndpointViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, BaseViewSet
):
    """Where the DMS is told of changes: a URL, the events it wants, the secret requests are signed with."""

    queryset = Endpoint.objects.all()
    serializer_class = WebhookEndpointSerializer
    read_capability = Capability.MANAGE_USERS
    write_capability = Capability.MANAGE_USERS

    def create(self, request, *args, **kwargs):
        serializer = WebhookEndpointSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint = services.endpoint_create(by=request.user, **serializer.validated_data)
        return Response(WebhookEndpointSerializer(endpoint).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=WebhookEndpointUpdateSerializer, responses=WebhookEndpointSerializer)
    def update(self, request, *args, **kwargs):
        endpoint = self.get_object()
        serializer = WebhookEndpointUpdateSerializer(data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        endpoint = services.endpoint_update(endpoint=endpoint, by=request.user, **serializer.validated_data)
        return Response(WebhookEndpointSerializer(endpoint).data)

    @extend_schema(request=None, responses=WebhookEndpointSerializer)
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        """A new secret; requests are signed with it from now on."""
        endpoint = services.endpoint_rotate_secret(endpoint=self.get_object(), by=request.user)
        return Response(WebhookEndpointSerializer(endpoint).data)


class WebhookAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeliveryAttempt
        fields = ["at", "status_code", "latency_ms", "response_excerpt", "error", "ok"]
        read_only_fields = fields


class WebhookDeliverySerializer(serializers.ModelSerializer):
    event_type = serializers.CharField(source="event.event_type", read_only=True)
    log = WebhookAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = Delivery
        fields = [
            "id",
            "event",
            "event_type",
            "endpoint",
            "record_key",
            "status",
            "attempts",
            "next_attempt_at",
            "delivered_at",
            "created_at",
            "log",
        ]
        read_only_fields = fields


class DeliveryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    """Each event owed to each endpoint, with the log of every attempt (status, latency, the answer's start). Filter
    by `endpoint` and `status`; replay any of them."""

    queryset = Delivery.objects.all()
    serializer_class = WebhookDeliverySerializer
    read_capability = Capability.MANAGE_USERS
    write_capability = Capability.MANAGE_USERS

    def get_queryset(self):
        queryset = (
            super()
            .get_queryset()
            .select_related("event")
            .prefetch_related(Prefetch("log", queryset=DeliveryAttempt.objects.order_by("-at", "-id")))
        )
        params = self.request.query_params
        if params.get("endpoint", "").isdigit():
            queryset = queryset.filter(endpoint_id=int(params["endpoint"]))
        if params.get("status") in Delivery.Status.values:
            queryset = queryset.filter(status=params["status"])
        return queryset

    @extend_schema(
        parameters=[
            OpenApiParameter("endpoint", int),
            OpenApiParameter("status", str, enum=Delivery.Status.values),
        ]
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=None, responses=WebhookDeliverySerializer)
    @action(detail=True, methods=["post"])
    def replay(self, request, pk=None):
        """Send this delivery again now (delivered, given up or waiting), with a fresh set of attempts."""
        delivery = services.delivery_replay(delivery=self.get_object(), by=request.user)
        return Response(WebhookDeliverySerializer(self.get_queryset().get(pk=delivery.pk)).data)


# --- the change feed ---------------------------------------------------------------------------------------------

FEED_LIMIT, FEED_MAX = 100, 1000


class ChangeSerializer(serializers.ModelSerializer):
    cursor = serializers.IntegerField(source="position", help_text=_("Pass as `since` to read on after this change."))
    type = serializers.CharField(source="event_type")
    data = serializers.JSONField(source="payload")
    occurred_at = serializers.DateTimeField(source="created_at")

    class Meta:
        model = OutboxEvent
        fields = ["cursor", "id", "type", "record_type", "record_id", "data", "occurred_at"]
        read_only_fields = fields


class ChangesQuery(serializers.Serializer):
    since = serializers.IntegerField(
        min_value=0, default=0, help_text=_("The last `cursor` read (0 or absent: from the beginning).")
    )
    limit = serializers.IntegerField(min_value=1, max_value=FEED_MAX, default=FEED_LIMIT)


class ChangePageSerializer(serializers.Serializer):
    results = ChangeSerializer(many=True)
    next_since = serializers.IntegerField(help_text=_("The `since` for the next call."))
    has_more = serializers.BooleanField()


class ChangeFeedViewSet(BaseViewSet):
    """Every change to clients, vehicles and bookings, in commit order: resumable from any cursor, without gaps or
    repeats."""

    queryset = OutboxEvent.objects.all()
    serializer_class = ChangeSerializer
    pagination_class = None
    schema = ObjectAnswerSchema()  # the feed answers one page object, not an array of them
    read_capability = Capability.VIEW_CLIENTS

    @extend_schema(
        parameters=[ChangesQuery],
        responses={200: ChangePageSerializer, 400: OpenApiResponse(description=_("A bad `since` or `limit`."))},
    )
    def list(self, request):
        """Changes after `since`, oldest first, at most `limit` (100 by default, 1,000 at most). Keep the last
        `cursor` (or `next_since`) and call again with it; a change is listed once its transaction has committed and
        no older transaction is still running, so nothing can appear later before a cursor already read."""
        query = ChangesQuery(data=request.query_params.dict())  # a plain dict: an empty value is not "left out"
        query.is_valid(raise_exception=True)
        since, limit = query.validated_data["since"], query.validated_data["limit"]
        services.sequence_outbox()
        rows = list(self.get_queryset().filter(position__gt=since).order_by("position")[: limit + 1])
        page = rows[:limit]
        return Response(
            {
                "results": ChangeSerializer(page, many=True).data,
                "next_since": page[-1].position if page else since,
                "has_more": len(rows) > limit,
            }
        )
