"""Recall campaigns over the API: the DMS (or the head's scripts) create campaigns and push their VIN lists.

Register in clientdesk/urls.py:
    router.register("recall-campaigns", RecallCampaignViewSet, basename="recall-campaign")
"""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from accounts.roles import Capability
from bookings.filters import RecallCampaignFilter, RecallVinFilter
from bookings.imports import MAX_ROWS, ParsedVins, parse_vin_file, parse_vin_list
from bookings.models import RecallCampaign, RecallVin
from bookings.selectors.recalls import campaign_vins, campaigns_with_counts
from bookings.services.recalls import (
    recall_campaign_create,
    recall_campaign_update,
    recall_vins_import,
)
from clientdesk.api import ServiceModelViewSet
from clientdesk.api_filters import strict_filterset

# A refused list names this many bad rows at most: enough to fix a file, short enough to read.
MAX_REPORTED_ERRORS = 1000


class RecallCampaignSerializer(serializers.ModelSerializer):
    vins_total = serializers.IntegerField(read_only=True, help_text=gettext_lazy("VINs the campaign lists."))
    vins_done = serializers.IntegerField(read_only=True, help_text=gettext_lazy("VINs whose work is done."))

    class Meta:
        model = RecallCampaign
        fields = [
            "id",
            "name",
            "manufacturer_code",
            "description",
            "starts_on",
            "ends_on",
            "created_at",
            "vins_total",
            "vins_done",
        ]
        read_only_fields = fields


class RecallCampaignInputSerializer(serializers.ModelSerializer):
    class Meta:
        model = RecallCampaign
        fields = ["name", "manufacturer_code", "description", "starts_on", "ends_on"]
        # The code's uniqueness is the service's to judge: it answers 409 naming the campaign that holds it.
        extra_kwargs = {"manufacturer_code": {"validators": []}}


class RecallVinSerializer(serializers.ModelSerializer):
    class Meta:
        model = RecallVin
        fields = ["id", "vin", "done_at", "done_by", "done_booking"]
        read_only_fields = fields


class VinListInputSerializer(serializers.Serializer):
    vins = serializers.ListField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=False, max_length=64),
        allow_empty=False,
        min_length=1,
        max_length=MAX_ROWS,
        help_text=gettext_lazy("VINs; Cyrillic look-alike letters, spaces and dashes are forgiven."),
    )


class VinFileInputSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=gettext_lazy("CSV or XLSX, as on the upload page: up to 5 MB."))


VIN_IMPORT_RESULT = inline_serializer(
    "RecallVinImportResult", {"added": serializers.IntegerField(), "total": serializers.IntegerField()}
)


def _refuse(field: str, parsed: ParsedVins) -> ValidationError:
    """400 naming each bad row by its key (list index, or the file's line number); nothing was imported."""
    errors = {str(row.line): [row.error] for row in parsed.bad_rows(limit=MAX_REPORTED_ERRORS)}
    detail = _("%(bad)d of %(total)d rows have errors; nothing was imported.") % {
        "bad": parsed.bad,
        "total": parsed.total,
    }
    return ValidationError({field: errors, "detail": detail})


def _too_big_message() -> str:
    return _(
        "The request is larger than the %(mb).1f MB the server accepts. Send the VINs in several requests, or as a "
        "CSV or XLSX file (up to 5 MB)."
    ) % {"mb": settings.DATA_UPLOAD_MAX_MEMORY_SIZE / (1024 * 1024)}


class RecallCampaignViewSet(ServiceModelViewSet):
    """Recall campaigns with their VIN counts; `POST /{id}/vins/` adds VINs (all or nothing), `GET /{id}/vins/`
    lists them."""

    queryset = RecallCampaign.objects.all()
    serializer_class = RecallCampaignSerializer
    input_serializer_class = RecallCampaignInputSerializer
    filterset_class = RecallCampaignFilter
    read_capability = Capability.VIEW_BOOKINGS
    write_capability = Capability.MANAGE_RECALLS
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return campaigns_with_counts(super().get_queryset())

    def _with_counts(self, campaign: RecallCampaign) -> RecallCampaign:
        return campaigns_with_counts(RecallCampaign.objects.all()).get(pk=campaign.pk)

    def perform_service_create(self, data):
        return self._with_counts(recall_campaign_create(by=self.request.user, **data))

    def perform_service_update(self, instance, data):
        return self._with_counts(recall_campaign_update(campaign=instance, by=self.request.user, **data))

    @extend_schema(
        methods=["GET"],
        parameters=[
            OpenApiParameter("open", OpenApiTypes.BOOL, description="true: work not done yet; false: done."),
            OpenApiParameter("vin", OpenApiTypes.STR, description="A VIN, or at least 4 characters of one."),
        ],
        responses={200: RecallVinSerializer(many=True)},
    )
    @extend_schema(
        methods=["POST"],
        request={"application/json": VinListInputSerializer, "multipart/form-data": VinFileInputSerializer},
        responses={
            200: VIN_IMPORT_RESULT,
            400: OpenApiResponse(description="Bad rows by list index or file line; nothing was imported"),
        },
    )
    @action(detail=True, methods=["get", "post"], url_path="vins", filterset_class=None)
    def vins(self, request, pk=None):
        """GET: the campaign's VINs (cursor pages). POST: add VINs as JSON `{"vins": [...]}` or a CSV/XLSX `file`;
        one bad row refuses them all. VINs already listed are skipped; the answer says how many were added."""
        campaign = self.get_object()
        if request.method == "GET":
            return self._list_vins(request, campaign)
        try:
            has_file = "file" in request.FILES
        except RequestDataTooBig as exc:
            raise ValidationError({"vins": [_too_big_message()]}) from exc
        if has_file:
            serializer = VinFileInputSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            try:
                parsed = parse_vin_file(serializer.validated_data["file"])
            except DjangoValidationError as exc:
                raise ValidationError({"file": exc.messages}) from exc
            field = "file"
        else:
            serializer = VinListInputSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            parsed = parse_vin_list(serializer.validated_data["vins"])
            field = "vins"
        if parsed.bad:
            raise _refuse(field, parsed)
        added = recall_vins_import(campaign=campaign, vins=parsed.vins, by=request.user)
        total = RecallVin.objects.filter(campaign=campaign).count()
        return Response({"added": added, "total": total}, status=status.HTTP_200_OK)

    def _list_vins(self, request, campaign):
        vins = campaign_vins(campaign).select_related(None)
        filterset = strict_filterset(RecallVinFilter)(request.query_params, queryset=vins)
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        page = self.paginate_queryset(filterset.qs)
        return self.get_paginated_response(RecallVinSerializer(page, many=True).data)
