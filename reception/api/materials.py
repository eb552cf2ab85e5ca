from django.utils import timezone
from rest_framework import mixins, serializers

from accounts.roles import Capability
from clientdesk.api import BaseViewSet
from clientdesk.calendar import local_date
from clientdesk.pagination import IdCursorPagination
from reception.filters import PrintedMaterialFilter
from reception.models import PrintedMaterial


class PrintedMaterialSerializer(serializers.ModelSerializer):
    below_minimum = serializers.BooleanField(read_only=True)
    review_due = serializers.SerializerMethodField()

    class Meta:
        model = PrintedMaterial
        fields = [
            "id",
            "name",
            "kind",
            "location",
            "stock",
            "minimum",
            "review_by",
            "is_active",
            "below_minimum",
            "review_due",
            "updated_at",
        ]
        read_only_fields = fields

    def get_review_due(self, material) -> bool:
        return material.review_due(self.context["today"])


class PrintedMaterialViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    """The reception's printed materials with their flags (read only: restocking is the page's two clicks)."""

    queryset = PrintedMaterial.objects.all()
    serializer_class = PrintedMaterialSerializer
    filterset_class = PrintedMaterialFilter
    pagination_class = IdCursorPagination
    read_capability = Capability.VIEW_RECEPTION

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "today": local_date(timezone.now())}
