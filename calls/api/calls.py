from rest_framework import serializers

from accounts.roles import Capability
from calls.filters import CallFilter
from calls.models import Call
from calls.services import calls as services
from clientdesk.api import ServiceModelViewSet
from clientdesk.pagination import TimeCursorPagination
from clients.models import Client, Vehicle


class CallSerializer(serializers.ModelSerializer):
    class Meta:
        model = Call
        fields = [
            "id",
            "direction",
            "client",
            "vehicle",
            "phone_number",
            "phone_e164",
            "manager",
            "started_at",
            "duration",
            "purpose",
            "outcome",
            "notes",
            "created_at",
        ]
        read_only_fields = fields


class CallInputSerializer(serializers.ModelSerializer):
    client = serializers.PrimaryKeyRelatedField(queryset=Client.objects.all(), required=False, allow_null=True)
    vehicle = serializers.PrimaryKeyRelatedField(queryset=Vehicle.objects.all(), required=False, allow_null=True)

    class Meta:
        model = Call
        fields = [
            "direction",
            "client",
            "vehicle",
            "phone_number",
            "started_at",
            "duration",
            "purpose",
            "outcome",
            "notes",
        ]


class CallViewSet(ServiceModelViewSet):
    """The call log: list with filters, log a call, correct one."""

    queryset = Call.objects.select_related("client", "manager")
    serializer_class = CallSerializer
    input_serializer_class = CallInputSerializer
    filterset_class = CallFilter
    pagination_class = TimeCursorPagination
    read_capability = Capability.VIEW_CALLS
    write_capability = Capability.LOG_CALLS

    def perform_service_create(self, data):
        return services.call_log(by=self.request.user, **data)

    def perform_service_update(self, instance, data):
        return services.call_update(call=instance, by=self.request.user, **data)
