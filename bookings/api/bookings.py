from datetime import date, timedelta

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import OuterRef
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from accounts.permissions import HasCapability
from accounts.roles import Capability, Role
from bookings.extensions import slot_marks
from bookings.filters import BookingFilter
from bookings.models import Booking, ServiceArea, ServiceType
from bookings.selectors.bookings import bookings_for_display
from bookings.selectors.slots import free_slots
from bookings.services import bookings as services
from clientdesk.api import BaseViewSet
from clientdesk.calendar import BusinessCalendar
from clientdesk.pagination import IdCursorPagination
from clients.models import Client, Vehicle

MAX_SLOT_DAYS = 14


class BookingSerializer(serializers.ModelSerializer):
    service_types = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Booking
        fields = [
            "id",
            "client",
            "vehicle",
            "service_types",
            "area",
            "advisor",
            "starts_at",
            "advisor_until",
            "planned_minutes",
            "comment",
            "source",
            "status",
            "cancel_reason",
            "confirmed_at",
            "arrived_at",
            "capacity_override_reason",
            "dms_id",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class BoundedManyRelatedField(serializers.ManyRelatedField):
    """Service-type ids, at most MAX_SERVICE_TYPES: the count is checked before any id is looked up (each lookup is
    a query, so 5,000 ids were 5,000 queries)."""

    def to_internal_value(self, data):
        if isinstance(data, list | tuple) and len(data) > services.MAX_SERVICE_TYPES:
            raise serializers.ValidationError(
                _("Choose at most %(max)d services for one visit.") % {"max": services.MAX_SERVICE_TYPES}
            )
        return super().to_internal_value(data)


class BookingInputSerializer(serializers.Serializer):
    client = serializers.PrimaryKeyRelatedField(queryset=Client.objects.all())
    vehicle = serializers.PrimaryKeyRelatedField(queryset=Vehicle.objects.all(), required=False, allow_null=True)
    service_types = BoundedManyRelatedField(
        child_relation=serializers.PrimaryKeyRelatedField(queryset=ServiceType.objects.filter(is_active=True)),
        required=False,
    )
    area = serializers.PrimaryKeyRelatedField(queryset=ServiceArea.objects.filter(is_active=True), required=False)
    advisor = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(role=Role.ADVISOR, is_active=True))
    starts_at = serializers.DateTimeField()
    planned_minutes = serializers.IntegerField(required=False, min_value=5, max_value=60 * 24 * 5)
    comment = serializers.CharField(required=False, allow_blank=True, default="")
    source = serializers.ChoiceField(choices=Booking.Source.choices, default=Booking.Source.CALL)
    capacity_override_reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    dms_id = serializers.CharField(required=False, allow_blank=True, default="", max_length=64)
    needs_loaner = serializers.BooleanField(
        required=False,
        default=False,
        help_text=_(
            "Reserve a loaner car for the planned work in the same transaction; refused whole when none is free."
        ),
    )


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200)


class RescheduleSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField()
    advisor = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(role=Role.ADVISOR, is_active=True), required=False
    )
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


class BookingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    """Workshop bookings. Status changes are actions (POST .../confirm/ etc.); an illegal one answers 409."""

    queryset = Booking.objects.all()
    serializer_class = BookingSerializer
    filterset_class = BookingFilter
    pagination_class = IdCursorPagination
    read_capability = Capability.VIEW_BOOKINGS
    write_capability = Capability.EDIT_BOOKINGS
    action_capabilities = {"start": Capability.SERVICE_BOOKINGS, "complete": Capability.SERVICE_BOOKINGS}

    def get_queryset(self):
        return bookings_for_display(super().get_queryset())

    def lean_annotations(self) -> dict:
        # The list's service-type ids in one ARRAY per row, ordered by name as the card's prefetch orders them.
        chosen = Booking.service_types.through.objects.filter(booking=OuterRef("pk"))
        return {"service_types": ArraySubquery(chosen.order_by("servicetype__name").values("servicetype_id"))}

    def output(self, booking, code=status.HTTP_200_OK):
        booking = self.get_queryset().get(pk=booking.pk)
        return Response(BookingSerializer(booking).data, status=code)

    @extend_schema(request=BookingInputSerializer, responses={201: BookingSerializer})
    def create(self, request):
        serializer = BookingInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        booking = services.booking_create(by=request.user, **serializer.validated_data)
        return self.output(booking, status.HTTP_201_CREATED)

    def _transition(self, request, pk, to, *, note=""):
        booking = self.get_object()
        return self.output(services.booking_transition(booking=booking, by=request.user, to=to, note=note))

    @extend_schema(request=NoteSerializer, responses=BookingSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        return self._transition(request, pk, Booking.Status.CONFIRMED, note=self._note(request))

    @extend_schema(request=None, responses=BookingSerializer)
    @action(detail=True, methods=["post"])
    def arrived(self, request, pk=None):
        return self._transition(request, pk, Booking.Status.ARRIVED)

    @extend_schema(request=None, responses=BookingSerializer)
    @action(detail=True, methods=["post"], url_path="no-show")
    def no_show(self, request, pk=None):
        return self._transition(request, pk, Booking.Status.NO_SHOW)

    @extend_schema(request=None, responses=BookingSerializer)
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        return self._transition(request, pk, Booking.Status.IN_SERVICE)

    @extend_schema(request=None, responses=BookingSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        return self._transition(request, pk, Booking.Status.COMPLETED)

    @extend_schema(request=CancelSerializer, responses=BookingSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        serializer = CancelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._transition(request, pk, Booking.Status.CANCELLED, note=serializer.validated_data["reason"])

    @extend_schema(request=RescheduleSerializer, responses=BookingSerializer)
    @action(detail=True, methods=["post"])
    def reschedule(self, request, pk=None):
        serializer = RescheduleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        booking = services.booking_reschedule(booking=self.get_object(), by=request.user, **serializer.validated_data)
        return self.output(booking)

    @staticmethod
    def _note(request) -> str:
        serializer = NoteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data["note"]


class FreeSlotsQuery(serializers.Serializer):
    date_from = serializers.DateField()
    date_to = serializers.DateField(required=False)
    service_types = BoundedManyRelatedField(
        child_relation=serializers.PrimaryKeyRelatedField(queryset=ServiceType.objects.filter(is_active=True))
    )
    advisor = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(role=Role.ADVISOR, is_active=True), required=False
    )

    def validate(self, attrs):
        attrs.setdefault("date_to", attrs["date_from"])
        if attrs["date_to"] < attrs["date_from"]:
            raise serializers.ValidationError({"date_to": _("The range ends before it starts.")})
        if (attrs["date_to"] - attrs["date_from"]).days >= MAX_SLOT_DAYS:
            raise serializers.ValidationError(
                {"date_to": _("Ask for at most %(days)d days.") % {"days": MAX_SLOT_DAYS}}
            )
        if not attrs["service_types"]:
            raise serializers.ValidationError({"service_types": _("Choose at least one service.")})
        return attrs


class SlotSerializer(serializers.Serializer):
    advisor = serializers.IntegerField(source="advisor_id")
    advisor_name = serializers.CharField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()


class FreeSlotsView(APIView):
    """Free slots for the chosen services over a date range (at most 14 days)."""

    permission_classes = [HasCapability]
    read_capability = Capability.VIEW_BOOKINGS

    @extend_schema(
        parameters=[
            OpenApiParameter("date_from", date, required=True),
            OpenApiParameter("date_to", date),
            OpenApiParameter("service_types", int, many=True, required=True),
            OpenApiParameter("advisor", int),
            OpenApiParameter(
                "needs_loaner", bool, description=_("Mark each slot with whether a loaner is free for the work too.")
            ),
        ],
        responses=SlotSerializer(many=True),
    )
    def get(self, request):
        query = FreeSlotsQuery(
            data={
                "date_from": request.query_params.get("date_from"),
                "date_to": request.query_params.get("date_to") or request.query_params.get("date_from"),
                "service_types": request.query_params.getlist("service_types"),
                **({"advisor": request.query_params["advisor"]} if request.query_params.get("advisor") else {}),
            }
        )
        query.is_valid(raise_exception=True)
        data = query.validated_data
        area, minutes = services.plan_for(data["service_types"])
        calendar = BusinessCalendar()
        slots = []
        day = data["date_from"]
        while day <= data["date_to"]:
            slots += free_slots(
                day=day, area=area, planned_minutes=minutes, advisor=data.get("advisor"), calendar=calendar
            )
            day += timedelta(days=1)
        rows = SlotSerializer(slots, many=True).data
        # The wishes asked for (a loaner...): each slot says whether it also satisfies them.
        for mark in slot_marks:
            if request.query_params.get(mark.field) in ("true", "1", "on"):
                keys = mark.keys(slots, planned_minutes=minutes, exclude_booking=None)
                for slot, row in zip(slots, rows, strict=True):
                    row[mark.field] = slot.key in keys
        return Response(rows)
