"""The fleet API's shapes: output serializers of the rows, input serializers of the actions."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from clientdesk.api import VisibleRelatedField
from clients.models import Client
from fleet.models import DamageMark, FleetCar, HandoverAct, Reservation, TestDrive
from fleet.services.acts import Mark


def _one_of(choices) -> str:
    return ", ".join(value for value, _label in choices)


# Plain strings, with their values named, where another app's enum of the same field name would collide in the schema.
class FleetCarSerializer(serializers.ModelSerializer):
    state = serializers.CharField(read_only=True, help_text=_one_of(FleetCar.State.choices))

    class Meta:
        model = FleetCar
        fields = [
            "id",
            "plate",
            "vin",
            "make",
            "model",
            "year",
            "colour",
            "use",
            "state",
            "mileage_km",
            "fuel_percent",
            "insurance_until",
            "inspection_until",
            "notes",
        ]
        read_only_fields = fields


class ReservationSerializer(serializers.ModelSerializer):
    kind = serializers.CharField(read_only=True, help_text=_one_of(Reservation.Kind.choices))

    class Meta:
        model = Reservation
        fields = [
            "id",
            "car",
            "kind",
            "client",
            "booking",
            "starts_at",
            "ends_at",
            "free_from",
            "status",
            "checked_out_at",
            "returned_at",
            "cancel_reason",
            "contract_signed_at",
            "comment",
            "created_at",
        ]
        read_only_fields = fields


@extend_schema_field({"type": "string", "enum": DamageMark.Zone.values})
class ZoneField(serializers.CharField):
    """A damage mark's zone: checked by DamageMarkInputSerializer with its own message; the OpenAPI lists the values."""


@extend_schema_field({"type": "string", "enum": DamageMark.Kind.values})
class DamageKindField(serializers.CharField):
    """A damage mark's kind, likewise."""


class DamageMarkInputSerializer(serializers.Serializer):
    zone = ZoneField(max_length=20, help_text=_one_of(DamageMark.Zone.choices))
    kind = DamageKindField(max_length=10, help_text=_one_of(DamageMark.Kind.choices))
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)

    def validate_zone(self, value):
        if value not in DamageMark.Zone.values:
            raise serializers.ValidationError(_("Unknown zone."))
        return value

    def validate_kind(self, value):
        if value not in DamageMark.Kind.values:
            raise serializers.ValidationError(_("Unknown kind of damage."))
        return value


class DamageMarkSerializer(serializers.ModelSerializer):
    zone = serializers.CharField(read_only=True, help_text=_one_of(DamageMark.Zone.choices))
    kind = serializers.CharField(read_only=True, help_text=_one_of(DamageMark.Kind.choices))

    class Meta:
        model = DamageMark
        fields = ["zone", "kind", "note", "is_new"]


class HandoverActSerializer(serializers.ModelSerializer):
    marks = DamageMarkSerializer(many=True, read_only=True)
    direction = serializers.CharField(read_only=True, help_text=_one_of(HandoverAct.Direction.choices))

    class Meta:
        model = HandoverAct
        fields = [
            "id",
            "reservation",
            "direction",
            "at",
            "mileage_km",
            "fuel_percent",
            "licence_number",
            "licence_valid_until",
            "deposit",
            "client_reported_fault",
            "warning_lamp",
            "marks",
        ]
        read_only_fields = fields


class ReservationInputSerializer(serializers.Serializer):
    car = VisibleRelatedField(queryset=FleetCar.objects.all())
    client = VisibleRelatedField(queryset=Client.objects.all())
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)


class ReservationCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200)


class HandoverActInputSerializer(serializers.Serializer):
    mileage_km = serializers.IntegerField(min_value=0, max_value=2_000_000)
    fuel_percent = serializers.IntegerField(min_value=0, max_value=100)
    signatures_confirmed = serializers.BooleanField()
    marks = DamageMarkInputSerializer(many=True, required=False, default=list, max_length=20)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)

    def validate_marks(self, value):
        return [Mark(m["zone"], m["kind"], m.get("note", "")) for m in value]


class CheckOutInputSerializer(HandoverActInputSerializer):
    licence_number = serializers.CharField(max_length=20)
    licence_valid_until = serializers.DateField()
    deposit = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0, required=False, allow_null=True)


class CheckInInputSerializer(HandoverActInputSerializer):
    client_reported_fault = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)
    warning_lamp = serializers.BooleanField(required=False, default=False)


class CheckInResultSerializer(serializers.Serializer):
    act = HandoverActSerializer()
    km_driven = serializers.IntegerField()
    fuel_used = serializers.IntegerField()
    new_damage = DamageMarkSerializer(many=True)


class TestDriveSerializer(serializers.ModelSerializer):
    reservation = ReservationSerializer(read_only=True)

    class Meta:
        model = TestDrive
        fields = ["id", "reservation", "sales_manager", "route", "licence_number", "licence_valid_until"]
        read_only_fields = fields


class TestDriveInputSerializer(serializers.Serializer):
    car = VisibleRelatedField(queryset=FleetCar.objects.all())
    client = VisibleRelatedField(queryset=Client.objects.all(), required=False)
    new_client_name = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    new_client_phone = serializers.CharField(required=False, allow_blank=True, default="", max_length=32)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    sales_manager = serializers.CharField(max_length=100)
    route = serializers.CharField(max_length=300)
    licence_number = serializers.CharField(max_length=20)
    licence_valid_until = serializers.DateField()

    def validate(self, attrs):
        if not attrs.get("client") and not (attrs["new_client_name"].strip() and attrs["new_client_phone"].strip()):
            raise serializers.ValidationError({"client": _("Give the client, or the new contact's name and phone.")})
        return attrs


class FreeCarsQuery(serializers.Serializer):
    use = serializers.ChoiceField(choices=FleetCar.Use.choices, default=FleetCar.Use.LOANER)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()

    def validate(self, attrs):
        if attrs["ends_at"] <= attrs["starts_at"]:
            raise serializers.ValidationError({"ends_at": _("The car must come back after it goes out.")})
        if (attrs["ends_at"] - attrs["starts_at"]).days > 62:
            raise serializers.ValidationError({"ends_at": _("Ask for at most two months.")})
        return attrs


class CarNoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)
