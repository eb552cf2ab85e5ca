from rest_framework import mixins, serializers

from accounts.roles import Capability
from clientdesk.api import BaseViewSet
from clientdesk.pagination import IdCursorPagination
from reception.filters import TintOrderFilter
from reception.models import TintLine, TintOrder


class TintLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = TintLine
        fields = ["zone", "film", "price", "result_transmission"]
        read_only_fields = fields


class TintOrderSerializer(serializers.ModelSerializer):
    client = serializers.IntegerField(source="consultation.client_id", read_only=True)
    vehicle = serializers.IntegerField(source="consultation.vehicle_id", read_only=True, allow_null=True)
    estimate = serializers.DecimalField(source="consultation.estimate", max_digits=10, decimal_places=2, read_only=True)
    warning = serializers.CharField(source="consultation.warning", read_only=True)
    lines = TintLineSerializer(source="consultation.lines", many=True, read_only=True)

    class Meta:
        model = TintOrder
        fields = [
            "id",
            "consultation",
            "client",
            "vehicle",
            "booking",
            "status",
            "estimate",
            "warning",
            "lines",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class TintOrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    """Tinting orders (read only): each books the tinting area, and its status follows its booking."""

    queryset = TintOrder.objects.all()
    serializer_class = TintOrderSerializer
    filterset_class = TintOrderFilter
    pagination_class = IdCursorPagination
    read_capability = Capability.VIEW_RECEPTION

    def get_queryset(self):
        return super().get_queryset().select_related("consultation").prefetch_related("consultation__lines")
