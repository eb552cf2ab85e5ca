"""The documents API: the archive (list with the page's filters and search, cursor pages), a document, its steps as
an action (409 when illegal), create or upsert by DMS id so the DMS can push a sale's papers; the registries (read)."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.roles import Capability
from bookings.models import Booking
from clientdesk.api import BaseViewSet, VisibleRelatedField
from clientdesk.pagination import IdCursorPagination
from clients.models import Client, Delivery, Vehicle
from documents.filters import DocumentFilter, RegistryFilter
from documents.models import Document, Registry
from documents.selectors import documents_for_display, registries_for_display
from documents.services import documents as services


class DocumentCursorPagination(IdCursorPagination):
    ordering = ("-issued_on", "-id")


class DocumentSerializer(serializers.ModelSerializer):
    client_name = serializers.CharField(source="client_label", read_only=True)
    vin = serializers.CharField(source="vin_label", read_only=True)
    plate = serializers.CharField(source="vehicle_plate", allow_null=True, read_only=True)  # null: no vehicle

    class Meta:
        model = Document
        fields = [
            "id",
            "kind",
            "number",
            "issued_on",
            "title",
            "client",
            "client_name",
            "vehicle",
            "vin",
            "plate",
            "delivery",
            "booking",
            "original",
            "state",
            "archive_box",
            "archive_shelf",
            "dms_id",
        ]
        read_only_fields = fields


class DocumentInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Document.Kind.choices)
    issued_on = serializers.DateField()
    number = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    title = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    # Each linked record among those the sender may see: an id it may not read answers "does not exist".
    client = VisibleRelatedField(queryset=Client.objects.all(), required=False, allow_null=True)
    vehicle = VisibleRelatedField(queryset=Vehicle.objects.all(), required=False, allow_null=True)
    delivery = VisibleRelatedField(queryset=Delivery.objects.all(), required=False, allow_null=True)
    booking = VisibleRelatedField(queryset=Booking.objects.all(), required=False, allow_null=True)
    original = serializers.BooleanField(required=False, default=True)
    dms_id = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("With a DMS id the document is created the first time and updated after (200)."),
    )
    state = serializers.ChoiceField(
        choices=[(Document.State.EXPECTED, "expected"), (Document.State.SIGNED, "signed")],
        required=False,
        default=Document.State.EXPECTED,
    )


class TransitionSerializer(serializers.Serializer):
    to = serializers.ChoiceField(choices=Document.State.choices)
    comment = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    archive_box = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    archive_shelf = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")


class DocumentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    """Documents. `?q=` searches as the archive page does (client name or phone, VIN, plate, number); the other
    filters are the page's. POST with `dms_id` upserts (201 created, 200 updated). Steps: POST .../transition/."""

    queryset = Document.objects.all()
    serializer_class = DocumentSerializer
    filterset_class = DocumentFilter
    pagination_class = DocumentCursorPagination
    read_capability = Capability.VIEW_DOCUMENTS
    write_capability = Capability.EDIT_DOCUMENTS
    # A step's own capability (approve, endorse) is the service's to check; seeing the document is enough to ask.
    action_capabilities = {"transition": Capability.VIEW_DOCUMENTS}

    def get_queryset(self):
        return documents_for_display(super().get_queryset())

    def output(self, document, code=status.HTTP_200_OK):
        document = documents_for_display(Document.objects.filter(pk=document.pk)).get()
        return Response(DocumentSerializer(document).data, status=code)

    @extend_schema(request=DocumentInputSerializer, responses={201: DocumentSerializer, 200: DocumentSerializer})
    def create(self, request):
        serializer = DocumentInputSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        dms_id = data.pop("dms_id")
        if dms_id:
            document, created = services.document_upsert_dms(by=request.user, dms_id=dms_id, **data)
            return self.output(document, status.HTTP_201_CREATED if created else status.HTTP_200_OK)
        document = services.document_register(by=request.user, **data)
        return self.output(document, status.HTTP_201_CREATED)

    @extend_schema(request=TransitionSerializer, responses=DocumentSerializer)
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        serializer = TransitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        document = services.document_transition(
            document=self.get_object(), by=request.user, **serializer.validated_data
        )
        return self.output(document)


class RegistrySerializer(serializers.ModelSerializer):
    number = serializers.CharField(read_only=True)
    documents = serializers.SerializerMethodField()

    class Meta:
        model = Registry
        fields = [
            "id",
            "number",
            "destination",
            "state",
            "note",
            "archive_box",
            "archive_shelf",
            "created_at",
            "received_at",
            "received_name",
            "documents",
        ]
        read_only_fields = fields

    def get_documents(self, registry) -> list[int]:
        return [item.document_id for item in registry.items.all()]


class RegistryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    """Transfer registries (read): their number, where they went, whether received, and their documents' ids."""

    queryset = Registry.objects.all()
    serializer_class = RegistrySerializer
    filterset_class = RegistryFilter
    pagination_class = IdCursorPagination
    read_capability = Capability.VIEW_DOCUMENTS

    def get_queryset(self):
        return registries_for_display(super().get_queryset()).prefetch_related("items")
