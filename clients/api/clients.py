from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection
from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action

from accounts.roles import Capability
from clientdesk.api import (
    BulkAnswerSerializer,
    BulkRequestSerializer,
    CompiledListMixin,
    LeanReadSerializer,
    NestedRows,
    ServiceModelViewSet,
    bulk_upsert,
    bulk_upsert_many,
    from_text_bool,
)
from clients.filters import ClientFilter, VehicleFilter, staff_managers
from clients.models import Client, ClientPhone, Vehicle
from clients.normalize import normalize_plate, normalize_vin
from clients.services import bulk as bulk_services
from clients.services import clients as services


class PhoneSerializer(serializers.Serializer):
    number = serializers.CharField(max_length=32, help_text=_("Any Russian spelling; stored as E.164."))
    kind = serializers.ChoiceField(choices=ClientPhone.Kind.choices, default=ClientPhone.Kind.MOBILE)
    is_primary = serializers.BooleanField(default=False)
    comment = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


# What an API client may send for a client; the output adds the id, merge and timestamps.
CLIENT_INPUT_FIELDS = [*services.CLIENT_FIELDS, "phones"]


class ClientSerializer(LeanReadSerializer):
    phones = PhoneSerializer(many=True, read_only=True)

    class Meta:
        model = Client
        fields = ["id", *CLIENT_INPUT_FIELDS, "merged_into", "created_at", "updated_at"]
        read_only_fields = fields


class ClientInputSerializer(serializers.ModelSerializer):
    # The count is checked before any phone is looked at; each number is then normalised once, by the service.
    phones = PhoneSerializer(many=True, required=False, max_length=ClientPhone.MAX_PER_CLIENT)
    assigned_manager = serializers.PrimaryKeyRelatedField(queryset=staff_managers(), required=False, allow_null=True)

    class Meta:
        model = Client
        fields = CLIENT_INPUT_FIELDS
        # Uniqueness is judged by the service, which answers 409 naming the record that holds the value.
        validators = []
        extra_kwargs = {"dms_id": {"validators": []}}

    def validate_phones(self, phones: list[dict]) -> services.CleanPhones:
        # The service's own cleaning (normalised, no repeats in any spelling, one primary), done once here so its
        # refusal is reported with the other fields'; the service then takes the clean list as it is.
        try:
            return services.phones_clean(services.PhoneInput(**p) for p in phones)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict["phones"]) from exc


class PreloadedRelatedField(serializers.PrimaryKeyRelatedField):
    """A primary key looked up among rows the bulk endpoint read once for the whole batch (`context[preloaded]`, a
    dict by id), so validating a thousand records sends no query per record; the same answers as the plain field."""

    def __init__(self, *, preloaded: str, **kwargs):
        self.preloaded = preloaded
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("incorrect_type", data_type=type(data).__name__)
        try:
            pk = int(data)
        except ValueError:
            self.fail("incorrect_type", data_type=type(data).__name__)
        found = self.context[self.preloaded].get(pk)
        if found is None:
            self.fail("does_not_exist", pk_value=data)
        return found


# The list's phones of each client, primary first, read in the page's own query: one query for the page and its
# phones. Written as SQL: the same subquery built with the ORM (OuterRef, ArraySubquery) took longer to assemble and
# compile, on every request, than PostgreSQL took to run it. The columns in PhoneSerializer's order.
LEAN_PHONES = NestedRows(
    f"""ARRAY(
        SELECT ARRAY[p.number, p.kind, p.is_primary::text, p.comment]
        FROM {ClientPhone._meta.db_table} p WHERE p.client_id = "{Client._meta.db_table}"."id"
        ORDER BY p.is_primary DESC, p.id
    )""",  # noqa: S608 - table names from the models, nothing from a request
    [("number", None), ("kind", None), ("is_primary", from_text_bool), ("comment", None)],
)


def _phones() -> Prefetch:
    """A client's phones as the API lists them: the primary first."""
    return Prefetch("phones", queryset=ClientPhone.objects.order_by("-is_primary", "id"))


def _int_values(records: list[dict], key: str) -> set[int]:
    values = set()
    for record in records:
        value = record.get(key)
        # isdecimal, not isdigit: "²" is a digit that int() refuses.
        if isinstance(value, int | str) and not isinstance(value, bool) and str(value).isdecimal():
            values.add(int(value))
    return values


class ClientBulkInputSerializer(ClientInputSerializer):
    """A client in a bulk request: as the single upsert validates it, the manager found among those read once."""

    assigned_manager = PreloadedRelatedField(
        preloaded="managers", queryset=staff_managers(), required=False, allow_null=True
    )

    @staticmethod
    def batch_context(records: list[dict]) -> dict:
        wanted = _int_values(records, "assigned_manager")
        return {"managers": {u.pk: u for u in staff_managers().filter(pk__in=wanted)} if wanted else {}}


class ClientViewSet(CompiledListMixin, ServiceModelViewSet):
    """Clients. The DMS upserts with `PUT /clients/dms/{dms_id}/`: the same record sent twice is one row."""

    queryset = Client.objects.all()
    serializer_class = ClientSerializer
    input_serializer_class = ClientInputSerializer
    filterset_class = ClientFilter
    read_capability = Capability.VIEW_CLIENTS
    write_capability = Capability.EDIT_CLIENTS

    def get_queryset(self):
        # The API shows phones only (vehicles have their own endpoint), so load nothing else.
        queryset = super().get_queryset().prefetch_related(_phones())
        return queryset.active() if self.action == "list" else queryset

    def lean_annotations(self) -> dict:
        return {"phones": LEAN_PHONES}

    def perform_service_create(self, data):
        return services.client_create(by=self.request.user, **data)

    def perform_service_update(self, instance, data):
        return services.client_update(client=instance, by=self.request.user, **data)

    @extend_schema(
        request=ClientInputSerializer,
        responses={200: ClientSerializer, 201: ClientSerializer, 400: OpenApiResponse(description="Field errors")},
    )
    @action(detail=False, methods=["put"], url_path=r"dms/(?P<dms_id>.+)")
    def upsert_by_dms_id(self, request, dms_id: str):
        """Create or update the client with this DMS id (201 when created, 200 when updated)."""
        serializer = ClientInputSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("dms_id", None)
        client, created = services.client_upsert_by_dms_id(by=request.user, dms_id=dms_id, **data)
        # Read back as written, not through visible_to: a key scoped to writing clients may not be one that reads them.
        client = Client.objects.prefetch_related(_phones()).get(pk=client.pk)
        return self.output(client, status_code=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(request=BulkRequestSerializer, responses={200: BulkAnswerSerializer})
    @action(detail=False, methods=["post"], url_path="bulk")
    def bulk(self, request):
        """Upsert up to 1,000 clients by DMS id in one request (each record as `PUT /clients/dms/{dms_id}/` takes it,
        with its `dms_id`): per record `created`, `updated`, `unchanged` or `error` with field errors."""

        if connection.vendor == "postgresql":
            return bulk_upsert_many(
                request,
                input_serializer=ClientBulkInputSerializer,
                context=lambda records: {
                    **self.get_serializer_context(),
                    **ClientBulkInputSerializer.batch_context(records),
                },
                upsert_many=lambda valid: bulk_services.client_bulk_upsert(
                    by=request.user, records=[bulk_services.BulkRecord(*record) for record in valid]
                ),
            )

        def upsert(*, dms_id, data):  # the embedded default (SQLite): record by record
            return services.client_upsert_by_dms_id(by=request.user, dms_id=dms_id, **data)

        return bulk_upsert(
            request, input_serializer=ClientInputSerializer, context=self.get_serializer_context(), upsert=upsert
        )


class VehicleSerializer(serializers.ModelSerializer):
    class Meta:
        model = Vehicle
        fields = [
            "id",
            "owner",
            "vin",
            "plate",
            "make",
            "model",
            "year",
            "colour",
            "mileage",
            "delivered_at",
            "dms_id",
            "dms_updated_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class VehicleInputSerializer(serializers.ModelSerializer):
    owner = serializers.PrimaryKeyRelatedField(queryset=Client.objects.all(), required=False)
    owner_dms_id = serializers.CharField(required=False, write_only=True, help_text=_("The owner's DMS id."))

    class Meta:
        model = Vehicle
        fields = [
            "owner",
            "owner_dms_id",
            "vin",
            "plate",
            "make",
            "model",
            "year",
            "colour",
            "mileage",
            "delivered_at",
            "dms_id",
            "dms_updated_at",
        ]
        validators = []
        extra_kwargs = {"dms_id": {"validators": []}, "vin": {"validators": []}}

    def validate_vin(self, value: str) -> str:
        return normalize_vin(value)

    def validate_plate(self, value: str) -> str:
        return normalize_plate(value)

    def owner_by_dms_id(self, dms_id: str) -> Client | None:
        return Client.objects.filter(dms_id=dms_id).first()

    def validate(self, attrs):
        owner_dms_id = attrs.pop("owner_dms_id", None)
        if owner_dms_id:
            owner = self.owner_by_dms_id(owner_dms_id)
            if owner is None:
                raise serializers.ValidationError({"owner_dms_id": _("No client has this DMS id.")})
            attrs["owner"] = owner
        if "owner" not in attrs and not self.partial:
            raise serializers.ValidationError({"owner": _("Give the owner: `owner` (id) or `owner_dms_id`.")})
        return attrs


class VehicleBulkInputSerializer(VehicleInputSerializer):
    """A vehicle in a bulk request: its owner found among the clients read once for the whole batch."""

    owner = PreloadedRelatedField(preloaded="owners", queryset=Client.objects.all(), required=False)

    def owner_by_dms_id(self, dms_id: str) -> Client | None:
        return self.context["owners_by_dms_id"].get(dms_id)

    @staticmethod
    def batch_context(records: list[dict]) -> dict:
        ids = _int_values(records, "owner")
        dms_ids = {r["owner_dms_id"] for r in records if isinstance(r.get("owner_dms_id"), str) and r["owner_dms_id"]}
        owners = list(Client.objects.filter(pk__in=ids)) if ids else []
        by_dms_id = list(Client.objects.filter(dms_id__in=dms_ids)) if dms_ids else []
        return {"owners": {c.pk: c for c in owners}, "owners_by_dms_id": {c.dms_id: c for c in by_dms_id}}


class VehicleViewSet(CompiledListMixin, ServiceModelViewSet):
    """Vehicles. The DMS upserts with `PUT /vehicles/dms/{dms_id}/`."""

    queryset = Vehicle.objects.all()
    serializer_class = VehicleSerializer
    input_serializer_class = VehicleInputSerializer
    filterset_class = VehicleFilter
    read_capability = Capability.VIEW_CLIENTS
    write_capability = Capability.EDIT_CLIENTS

    def perform_service_create(self, data):
        return services.vehicle_create(by=self.request.user, **data)

    def perform_service_update(self, instance, data):
        return services.vehicle_update(vehicle=instance, by=self.request.user, **data)

    @extend_schema(request=VehicleInputSerializer, responses={200: VehicleSerializer, 201: VehicleSerializer})
    @action(detail=False, methods=["put"], url_path=r"dms/(?P<dms_id>.+)")
    def upsert_by_dms_id(self, request, dms_id: str):
        """Create or update the vehicle with this DMS id (201 when created, 200 when updated)."""
        serializer = VehicleInputSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("dms_id", None)
        vehicle, created = services.vehicle_upsert_by_dms_id(by=request.user, dms_id=dms_id, **data)
        return self.output(vehicle, status_code=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(request=BulkRequestSerializer, responses={200: BulkAnswerSerializer})
    @action(detail=False, methods=["post"], url_path="bulk")
    def bulk(self, request):
        """Upsert up to 1,000 vehicles by DMS id in one request (each record as `PUT /vehicles/dms/{dms_id}/` takes
        it, with its `dms_id`): per record `created`, `updated`, `unchanged` or `error` with field errors."""

        if connection.vendor == "postgresql":
            return bulk_upsert_many(
                request,
                input_serializer=VehicleBulkInputSerializer,
                context=lambda records: {
                    **self.get_serializer_context(),
                    **VehicleBulkInputSerializer.batch_context(records),
                },
                upsert_many=lambda valid: bulk_services.vehicle_bulk_upsert(
                    by=request.user, records=[bulk_services.BulkRecord(*record) for record in valid]
                ),
            )

        def upsert(*, dms_id, data):  # the embedded default (SQLite): record by record
            return services.vehicle_upsert_by_dms_id(by=request.user, dms_id=dms_id, **data)

        return bulk_upsert(
            request, input_serializer=VehicleInputSerializer, context=self.get_serializer_context(), upsert=upsert
        )
