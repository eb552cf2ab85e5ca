"""Deliveries over the API: the DMS pushes car sales (idempotent by DMS id); anyone who sees clients reads them."""

import django_filters as filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.roles import Capability
from clientdesk.api import BaseViewSet, BulkAnswerSerializer, BulkRequestSerializer, CompiledListMixin, bulk_upsert
from clientdesk.filters import IsoDateTimeFilter
from clientdesk.forms import StyledForm
from clientdesk.pagination import IdCursorPagination
from clients.models import Client, Delivery, Vehicle
from clients.normalize import normalize_vin
from clients.services import deliveries


class DeliveryFilter(filters.FilterSet):
    client = filters.NumberFilter(field_name="client_id", label=_("client"))
    vehicle = filters.NumberFilter(field_name="vehicle_id", label=_("vehicle"))
    delivered_after = IsoDateTimeFilter(field_name="delivered_at", lookup_expr="gte", label=_("from"))
    delivered_before = IsoDateTimeFilter(field_name="delivered_at", lookup_expr="lt", label=_("to"))
    dms_id = filters.CharFilter(label=_("DMS id"))

    class Meta:
        model = Delivery
        form = StyledForm
        fields = ["client", "vehicle", "delivered_after", "delivered_before", "dms_id"]


class DeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = Delivery
        fields = [
            "id",
            "client",
            "vehicle",
            "delivered_at",
            "sales_manager",
            "dms_id",
            "dms_updated_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class DeliveryInputSerializer(serializers.Serializer):
    """The buyer by `client` (id) or `client_dms_id`; the car by `vehicle` (id), `vehicle_dms_id` or `vin`."""

    client = serializers.PrimaryKeyRelatedField(queryset=Client.objects.all(), required=False)
    client_dms_id = serializers.CharField(required=False, max_length=64, help_text=_("The buyer's DMS id."))
    vehicle = serializers.PrimaryKeyRelatedField(queryset=Vehicle.objects.all(), required=False)
    vehicle_dms_id = serializers.CharField(required=False, max_length=64, help_text=_("The car's DMS id."))
    vin = serializers.CharField(required=False, max_length=40, help_text=_("The car's VIN."))
    delivered_at = serializers.DateTimeField()
    sales_manager = serializers.CharField(required=False, allow_blank=True, max_length=150)
    dms_id = serializers.CharField(required=False, allow_blank=True, max_length=64)
    dms_updated_at = serializers.DateTimeField(
        required=False,
        help_text=_("When the DMS changed this sale; an older write than the one held is refused (409)."),
    )

    def validate_vin(self, value: str) -> str:
        return normalize_vin(value)

    def validate(self, attrs):
        errors = {}
        if client_dms_id := attrs.pop("client_dms_id", None):
            client = Client.objects.filter(dms_id=client_dms_id).first()
            if client is None:
                errors["client_dms_id"] = [_("No client has this DMS id.")]
            attrs["client"] = client
        for name, lookup, missing in (
            ("vehicle_dms_id", "dms_id", _("No vehicle has this DMS id.")),
            ("vin", "vin", _("No vehicle has this VIN.")),
        ):
            if not attrs.get(name):
                continue
            vehicle = Vehicle.objects.filter(**{lookup: attrs.pop(name)}).first()
            if vehicle is None:
                errors[name] = [missing]
            elif attrs.get("vehicle") is not None and attrs["vehicle"] != vehicle:
                errors[name] = [_("This is another vehicle than the one given.")]
            attrs["vehicle"] = vehicle
        attrs.pop("vin", None)
        if attrs.get("client") is None and "client_dms_id" not in errors:
            errors["client"] = [_("Give the buyer: `client` (id) or `client_dms_id`.")]
        if attrs.get("vehicle") is None and not {"vehicle_dms_id", "vin"} & set(errors):
            errors["vehicle"] = [_("Give the car: `vehicle` (id), `vehicle_dms_id` or `vin`.")]
        if errors:
            raise serializers.ValidationError(errors)
        return {name: value for name, value in attrs.items() if value is not None}


class DeliveryViewSet(CompiledListMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    """Cars sold and handed over. The DMS upserts with `PUT /deliveries/dms/{dms_id}/`: the same sale sent twice is
    one row. The buyer becomes the car's owner; the 7-day follow-up call is planned from `delivered_at`."""

    queryset = Delivery.objects.all()
    serializer_class = DeliverySerializer
    filterset_class = DeliveryFilter
    pagination_class = IdCursorPagination
    read_capability = Capability.VIEW_CLIENTS
    write_capability = Capability.EDIT_CLIENTS

    def output(self, delivery, code=status.HTTP_200_OK):
        return Response(DeliverySerializer(delivery).data, status=code)

    @extend_schema(
        request=DeliveryInputSerializer,
        responses={201: DeliverySerializer, 400: OpenApiResponse(description="Field errors")},
    )
    def create(self, request):
        serializer = DeliveryInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        delivery = deliveries.delivery_record(by=request.user, **serializer.validated_data)
        return self.output(delivery, status.HTTP_201_CREATED)

    @extend_schema(
        request=DeliveryInputSerializer,
        responses={
            200: DeliverySerializer,
            201: DeliverySerializer,
            400: OpenApiResponse(description="Field errors"),
            409: OpenApiResponse(description="The same car's handover that day has another DMS id"),
        },
    )
    @action(detail=False, methods=["put"], url_path=r"dms/(?P<dms_id>.+)")
    def upsert_by_dms_id(self, request, dms_id: str):
        """Create or update the delivery with this DMS id (201 when created, 200 when updated). A handover already
        entered by hand (same car, same day, no DMS id) is taken over."""
        serializer = DeliveryInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("dms_id", None)
        delivery, created = deliveries.delivery_upsert_by_dms_id(by=request.user, dms_id=dms_id, **data)
        return self.output(delivery, status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(request=BulkRequestSerializer, responses={200: BulkAnswerSerializer})
    @action(detail=False, methods=["post"], url_path="bulk")
    def bulk(self, request):
        """Upsert up to 1,000 deliveries by DMS id in one request (each record as `PUT /deliveries/dms/{dms_id}/` takes
        it, with its `dms_id`): per record `created`, `updated`, `unchanged` or `error` with field errors."""

        def upsert(*, dms_id, data):
            return deliveries.delivery_upsert_by_dms_id(by=request.user, dms_id=dms_id, **data)

        return bulk_upsert(request, input_serializer=DeliveryInputSerializer, context={}, upsert=upsert)
