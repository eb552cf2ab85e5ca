"""The fleet API (thin: input serializers, one service call, output serializers).

- `fleet-cars/`: read; the transport department head's state actions (clear/, maintenance/, back-from-maintenance/,
  retire/);
- `fleet-reservations/`: list, create, cancel/, check-out/, check-in/ (a conflict or an illegal step is 409);
- `test-drives/`: list, create;
- `fleet-free-cars/?use=&starts_at=&ends_at=`: the cars that may be promised for an interval.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import HasCapability
from accounts.roles import Capability
from clientdesk.api import BaseViewSet
from clientdesk.pagination import IdCursorPagination
from fleet.api import serializers as s
from fleet.models import FleetCar, Reservation, TestDrive
from fleet.services import acts, cars, reservations, test_drives


class CarViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    """The fleet's cars; state actions for the transport department head."""

    queryset = FleetCar.objects.all()
    serializer_class = s.FleetCarSerializer
    pagination_class = IdCursorPagination
    read_capability = Capability.VIEW_FLEET
    write_capability = Capability.MANAGE_FLEET

    def _step(self, request, service):
        serializer = s.CarNoteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        step = service(car=self.get_object(), by=request.user, note=serializer.validated_data["note"])
        return Response(s.FleetCarSerializer(step.car).data)

    @extend_schema(request=s.CarNoteSerializer, responses=s.FleetCarSerializer)
    @action(detail=True, methods=["post"])
    def clear(self, request, pk=None):
        return self._step(request, cars.car_clear)

    @extend_schema(request=s.CarNoteSerializer, responses=s.FleetCarSerializer)
    @action(detail=True, methods=["post"])
    def maintenance(self, request, pk=None):
        return self._step(request, cars.car_to_maintenance)

    @extend_schema(request=s.CarNoteSerializer, responses=s.FleetCarSerializer)
    @action(detail=True, methods=["post"], url_path="back-from-maintenance")
    def back_from_maintenance(self, request, pk=None):
        return self._step(request, cars.car_from_maintenance)

    @extend_schema(request=s.CarNoteSerializer, responses=s.FleetCarSerializer)
    @action(detail=True, methods=["post"])
    def retire(self, request, pk=None):
        return self._step(request, cars.car_retire)


class ReservationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    """Reservations of our cars. Create, cancel/, check-out/ and check-in/ are the managers'."""

    queryset = Reservation.objects.all()
    serializer_class = s.ReservationSerializer
    pagination_class = IdCursorPagination
    read_capability = Capability.VIEW_FLEET
    write_capability = Capability.USE_FLEET

    def output(self, reservation, code=status.HTTP_200_OK):
        return Response(s.ReservationSerializer(reservation).data, status=code)

    @extend_schema(request=s.ReservationInputSerializer, responses={201: s.ReservationSerializer})
    def create(self, request):
        serializer = s.ReservationInputSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        return self.output(
            reservations.reservation_create(by=request.user, **serializer.validated_data), status.HTTP_201_CREATED
        )

    @extend_schema(request=s.ReservationCancelSerializer, responses=s.ReservationSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        serializer = s.ReservationCancelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        reason = serializer.validated_data["reason"]
        return self.output(
            reservations.reservation_cancel(reservation=self.get_object(), by=request.user, reason=reason)
        )

    @extend_schema(request=s.CheckOutInputSerializer, responses=s.HandoverActSerializer)
    @action(detail=True, methods=["post"], url_path="check-out")
    def check_out(self, request, pk=None):
        serializer = s.CheckOutInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        act = acts.reservation_check_out(reservation=self.get_object(), by=request.user, **serializer.validated_data)
        return Response(s.HandoverActSerializer(act).data)

    @extend_schema(request=s.CheckInInputSerializer, responses=s.CheckInResultSerializer)
    @action(detail=True, methods=["post"], url_path="check-in")
    def check_in(self, request, pk=None):
        serializer = s.CheckInInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        act, diff = acts.reservation_check_in(
            reservation=self.get_object(), by=request.user, **serializer.validated_data
        )
        return Response(
            s.CheckInResultSerializer(
                {"act": act, "km_driven": diff.km_driven, "fuel_used": diff.fuel_used, "new_damage": diff.new_marks}
            ).data
        )


class TestDriveViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    queryset = TestDrive.objects.select_related("reservation")
    serializer_class = s.TestDriveSerializer
    pagination_class = IdCursorPagination
    read_capability = Capability.VIEW_FLEET
    write_capability = Capability.USE_FLEET

    @extend_schema(request=s.TestDriveInputSerializer, responses={201: s.TestDriveSerializer})
    def create(self, request):
        serializer = s.TestDriveInputSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        name, phone = data.pop("new_client_name"), data.pop("new_client_phone")
        client = data.pop("client", None) or test_drives.NewContact(name=name, phone=phone)
        drive = test_drives.test_drive_book(by=request.user, client=client, **data)
        return Response(s.TestDriveSerializer(drive).data, status=status.HTTP_201_CREATED)


class FreeCarsView(APIView):
    """The cars of a use that may be promised for an interval (reservable, insured through it, held by no one)."""

    permission_classes = [HasCapability]
    read_capability = Capability.VIEW_FLEET

    @extend_schema(
        parameters=[s.FreeCarsQuery],
        responses=s.FleetCarSerializer(many=True),
    )
    def get(self, request):
        query = s.FreeCarsQuery(data=request.query_params.dict())  # a plain dict: an empty value is not "left out"
        query.is_valid(raise_exception=True)
        return Response(s.FleetCarSerializer(reservations.free_cars(**query.validated_data), many=True).data)
