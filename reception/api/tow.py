from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.roles import Capability
from bookings.models import Booking, ServiceType
from clientdesk.api import BaseViewSet
from clientdesk.pagination import IdCursorPagination
from clients.models import Client, Vehicle
from reception.filters import TowOrderFilter
from reception.models import TowContractor, TowOrder
from reception.selectors.tow import is_overdue, tows_for_display
from reception.services import tow as services


class TowOrderSerializer(serializers.ModelSerializer):
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = TowOrder
        fields = [
            "id",
            "client",
            "vehicle",
            "car",
            "pickup_address",
            "landmark",
            "phone_on_site",
            "problem",
            "problem_note",
            "destination",
            "wanted_at",
            "contractor",
            "driver",
            "service_type",
            "status",
            "reason",
            "eta",
            "dispatched_at",
            "delivered_at",
            "cost",
            "booking",
            "overdue",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_overdue(self, order) -> bool:
        return is_overdue(order, now=self.context["now"])


class TowOrderInputSerializer(serializers.Serializer):
    client = serializers.PrimaryKeyRelatedField(queryset=Client.objects.all(), required=False)
    client_name = serializers.CharField(
        required=False, max_length=200, help_text=_("A caller not on file: the client is created with the order.")
    )
    vehicle = serializers.PrimaryKeyRelatedField(queryset=Vehicle.objects.all(), required=False, allow_null=True)
    car = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    pickup_address = serializers.CharField(max_length=300)
    landmark = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    phone_on_site = serializers.CharField(max_length=32)
    problem = serializers.ChoiceField(choices=TowOrder.Problem.choices, default=TowOrder.Problem.WONT_START)
    problem_note = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)
    destination = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)
    wanted_at = serializers.DateTimeField(required=False, allow_null=True)
    contractor = serializers.PrimaryKeyRelatedField(
        queryset=TowContractor.objects.filter(is_active=True), required=False, allow_null=True
    )
    driver = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    service_type = serializers.PrimaryKeyRelatedField(
        queryset=ServiceType.objects.filter(is_active=True), required=False, allow_null=True
    )

    def validate(self, attrs):
        if not attrs.get("client") and not attrs.get("client_name", "").strip():
            raise serializers.ValidationError({"client": _("Give the client, or the caller's name.")})
        name = attrs.pop("client_name", "")
        attrs["client"] = attrs.get("client") or services.NewCaller(name=name)
        return attrs


class DispatchSerializer(serializers.Serializer):
    contractor = serializers.PrimaryKeyRelatedField(queryset=TowContractor.objects.all())
    eta = serializers.DateTimeField(required=False, allow_null=True)
    driver = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200)


class DeliverSerializer(serializers.Serializer):
    booking = serializers.PrimaryKeyRelatedField(
        queryset=Booking.objects.all(), required=False, allow_null=True, help_text=_("The client's visit to link.")
    )


class CostSerializer(serializers.Serializer):
    cost = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0, allow_null=True)


class TowOrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    """Tow orders. Steps are actions (POST .../dispatch/, on-the-way/, delivered/, cancel/, fail/); an illegal one
    answers 409. A repeated delivered/ answers the order as it is, with its one booking."""

    queryset = TowOrder.objects.all()
    serializer_class = TowOrderSerializer
    filterset_class = TowOrderFilter
    pagination_class = IdCursorPagination
    read_capability = Capability.VIEW_RECEPTION
    write_capability = Capability.EDIT_RECEPTION

    def get_queryset(self):
        return tows_for_display(super().get_queryset())

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "now": timezone.now()}

    def output(self, order, code=status.HTTP_200_OK):
        return Response(TowOrderSerializer(order, context=self.get_serializer_context()).data, status=code)

    @extend_schema(request=TowOrderInputSerializer, responses={201: TowOrderSerializer})
    def create(self, request):
        serializer = TowOrderInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = services.tow_order_create(by=request.user, **serializer.validated_data)
        return self.output(order, status.HTTP_201_CREATED)

    @extend_schema(request=DispatchSerializer, responses=TowOrderSerializer)
    @action(detail=True, methods=["post"], url_path="dispatch")
    def dispatch_order(self, request, pk=None):
        serializer = DispatchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self.output(
            services.tow_order_dispatch(order=self.get_object(), by=request.user, **serializer.validated_data)
        )

    @extend_schema(request=None, responses=TowOrderSerializer)
    @action(detail=True, methods=["post"], url_path="on-the-way")
    def on_the_way(self, request, pk=None):
        return self.output(services.tow_order_on_the_way(order=self.get_object(), by=request.user))

    @extend_schema(request=DeliverSerializer, responses=TowOrderSerializer)
    @action(detail=True, methods=["post"])
    def delivered(self, request, pk=None):
        serializer = DeliverSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        booking = serializer.validated_data.get("booking")
        return self.output(services.tow_order_deliver(order=self.get_object(), by=request.user, booking=booking))

    @extend_schema(request=ReasonSerializer, responses=TowOrderSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        reason = serializer.validated_data["reason"]
        return self.output(services.tow_order_cancel(order=self.get_object(), by=request.user, reason=reason))

    @extend_schema(request=ReasonSerializer, responses=TowOrderSerializer)
    @action(detail=True, methods=["post"])
    def fail(self, request, pk=None):
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        reason = serializer.validated_data["reason"]
        return self.output(services.tow_order_fail(order=self.get_object(), by=request.user, reason=reason))

    @extend_schema(request=CostSerializer, responses=TowOrderSerializer)
    @action(detail=True, methods=["post"])
    def cost(self, request, pk=None):
        serializer = CostSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        cost = serializer.validated_data["cost"]
        return self.output(services.tow_order_set_cost(order=self.get_object(), by=request.user, cost=cost))


class TowContractorSerializer(serializers.ModelSerializer):
    class Meta:
        model = TowContractor
        fields = ["id", "name", "phones", "call_out_rate", "rate_per_km", "rates_note", "is_active"]
        read_only_fields = fields


class TowContractorViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    """The tow services the department calls (read only: the department head keeps the directory on its page)."""

    queryset = TowContractor.objects.all()
    serializer_class = TowContractorSerializer
    pagination_class = IdCursorPagination
    read_capability = Capability.VIEW_RECEPTION
