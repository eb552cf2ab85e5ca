"""The API's shared pieces: the base viewset that applies permissions, cursor pagination, error answers."""

import hashlib
import json

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from clientdesk.errors import (
    DATABASE_RETRY_AFTER_SECONDS,
    DATABASE_UNAVAILABLE_ERRORS,
    DATABASE_UNAVAILABLE_MESSAGE,
    Conflict,
)
from clientdesk.models import IdempotencyKey


def exception_handler(exc, context):
    """Service refusals become answers: a Conflict is 409, a model ValidationError is 400 with field errors, a body
    over the server's limit 413 (Django would answer an HTML page), a database that is not answering 503 with
    Retry-After."""
    if isinstance(exc, DATABASE_UNAVAILABLE_ERRORS):
        response = Response({"detail": str(DATABASE_UNAVAILABLE_MESSAGE)}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
        return response
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / (1024 * 1024)
        detail = _("The request is larger than the %(mb).1f MB the server accepts; send it in parts.") % {"mb": limit}
        return Response({"detail": detail}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, Conflict):
        return Response(exc.as_dict(), status=status.HTTP_409_CONFLICT)
    if isinstance(exc, IntegrityError):
        return Response({"detail": _("This conflicts with an existing record.")}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, DataError):
        # What validation let through and the database cannot store: a NUL byte, a number past its column's range.
        detail = _("A value in the request cannot be stored (a NUL character or a number out of range).")
        return Response({"detail": detail}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoValidationError):
        exc = ValidationError(as_serializer_error(exc))
    return drf_exception_handler(exc, context)


IDEMPOTENCY_HEADER = "Idempotency-Key"
# Answers that say the request was not carried out, so a retry with the same key should run it, not replay them.
NOT_CARRIED_OUT = {status.HTTP_408_REQUEST_TIMEOUT, status.HTTP_429_TOO_MANY_REQUESTS}


def request_fingerprint(request) -> str:
    """What makes two requests "the same" for an idempotency key: the method, the path with its query, the body."""
    digest = hashlib.sha256(f"{request.method} {request.get_full_path()}\n".encode())
    digest.update(request.body)
    return digest.hexdigest()


class BaseViewSet(viewsets.GenericViewSet):
    """Every API viewset: rows through `visible_to(user)`, access through `read_capability`/`write_capability`, which
    the permission class of the settings (`accounts.permissions.HasCapability`) checks.

    A POST sent with an `Idempotency-Key` header is carried out once: its answer is stored with the key in the same
    transaction as what it wrote, and the same key again (a retry after a timeout) gets that answer back, marked
    `Idempotent-Replayed: true`, writing nothing; the same key with another body is refused with 422.
    """

    read_capability: str | None = None
    write_capability: str | None = None

    def dispatch(self, request, *args, **kwargs):
        key = request.headers.get(IDEMPOTENCY_HEADER, "").strip()
        if request.method != "POST" or not key:
            return super().dispatch(request, *args, **kwargs)
        drf_request = self.initialize_request(request, *args, **kwargs)
        try:
            user = drf_request.user  # authenticated once: DRF's dispatch below is handed this same request
        except exceptions.APIException as exc:  # a wrong key, a throttled address: answered as DRF would
            self.request, self.headers = drf_request, self.default_response_headers
            return self.finalize_response(drf_request, self.handle_exception(exc))
        if not user.is_authenticated or len(key) > IdempotencyKey.MAX_LENGTH:
            return super().dispatch(request, *args, **kwargs)  # refused on its own terms (401/403), or below
        try:
            fingerprint = request_fingerprint(request)
        except RequestDataTooBig:
            return super().dispatch(request, *args, **kwargs)  # answered 413 by the exception handler
        with transaction.atomic():
            IdempotencyKey.objects.filter(
                user=user, key=key, created_at__lt=timezone.now() - IdempotencyKey.KEEP
            ).delete()
            try:
                with transaction.atomic():
                    spent = IdempotencyKey.objects.create(user=user, key=key, fingerprint=fingerprint)
            except IntegrityError:
                # Spent already, or spent by a request that was running meanwhile and has now committed.
                return self.idempotent_replay(request, IdempotencyKey.objects.get(user=user, key=key), fingerprint)
            response = super().dispatch(request, *args, **kwargs)
            if response.status_code >= 500 or response.status_code in NOT_CARRIED_OUT:
                transaction.set_rollback(True)
            elif not transaction.get_connection().needs_rollback:
                spent.status_code = response.status_code
                spent.body = json.loads(JSONRenderer().render(response.data)) if response.data is not None else None
                spent.save(update_fields=["status_code", "body"])
        return response

    def initialize_request(self, request, *args, **kwargs):
        """One DRF request per Django request: the idempotency check authenticates it before DRF's dispatch does, and
        an API key is looked up (and a wrong one counted against the address) once, not twice."""
        made = getattr(self, "_drf_request", None)
        if made is None or made._request is not request:
            made = self._drf_request = super().initialize_request(request, *args, **kwargs)
        return made

    def idempotent_replay(self, request, spent: IdempotencyKey, fingerprint: str):
        if spent.fingerprint != fingerprint:
            response = Response(
                {
                    "detail": _(
                        "This Idempotency-Key was already used for a different request; use a new key for a new "
                        "request."
                    )
                },
                status=status.HTTP_422_UNPROCESSABLE_ENTITY,
            )
        else:
            response = Response(spent.body, status=spent.status_code, headers={"Idempotent-Replayed": "true"})
        drf_request = self.initialize_request(request)
        self.headers = self.default_response_headers
        return self.finalize_response(drf_request, response)

    def get_queryset(self):
        return super().get_queryset().visible_to(self.request.user)


class ServiceModelViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, BaseViewSet
):
    """List, retrieve, create, update (no delete: nothing is hard-deleted). Writes go through services:
    `input_serializer_class` validates, `perform_service_create/update` calls the service, the output serializer
    answers."""

    input_serializer_class = None

    def get_serializer_class(self):
        if self.action in {"create", "update", "partial_update"} and self.input_serializer_class:
            return self.input_serializer_class
        return super().get_serializer_class()

    def output(self, instance, *, status_code=status.HTTP_200_OK):
        serializer = self.serializer_class(instance, context=self.get_serializer_context())
        return Response(serializer.data, status=status_code)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        instance = self.perform_service_create(serializer.validated_data)
        return self.output(instance, status_code=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        instance = self.get_object()
        serializer = self.get_serializer(instance, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        instance = self.perform_service_update(instance, serializer.validated_data)
        return self.output(instance)

    def perform_service_create(self, data):  # pragma: no cover - each viewset defines it
        raise NotImplementedError

    def perform_service_update(self, instance, data):  # pragma: no cover
        raise NotImplementedError


# --- Bulk upserts by DMS id --------------------------------------------------------------------------------------

BULK_MAX_RECORDS = 1000


class BulkRequestSerializer(serializers.Serializer):
    records = serializers.ListField(
        child=serializers.DictField(),
        min_length=1,
        max_length=BULK_MAX_RECORDS,
        help_text=_("Up to 1,000 records, each as the single upsert takes it, with its `dms_id`."),
    )


class BulkResultSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text=_("The record's place in `records`, from 0."))
    dms_id = serializers.CharField(allow_null=True)
    status = serializers.ChoiceField(choices=["created", "updated", "unchanged", "error"])
    id = serializers.IntegerField(required=False, help_text=_("Our id of the record (not for errors)."))
    errors = serializers.DictField(required=False, help_text=_("Field errors, as a single upsert would answer."))


class BulkAnswerSerializer(serializers.Serializer):
    results = BulkResultSerializer(many=True)
    counts = serializers.DictField(child=serializers.IntegerField())


def _bulk_validated(request, *, input_serializer, context) -> tuple[list[dict], list[tuple[int, str, dict]]]:
    """The batch read and each record validated as the single upsert validates it: the answers of the records refused
    (by index) and the valid ones as (index, dms_id, data). `context` is a dict, or a callable given the raw records
    that returns one (what a set-based path reads once for the whole batch, such as the owners named)."""
    batch = BulkRequestSerializer(data=request.data)
    batch.is_valid(raise_exception=True)
    records = batch.validated_data["records"]
    if callable(context):
        context = context(records)
    # One serializer validates every record, as DRF's own `many=True` does: a model serializer builds its fields
    # when first asked, which for a thousand records took longer than the validation itself.
    serializer = input_serializer(context=context)
    refused, valid = [], []
    for index, record in enumerate(records):
        dms_id = record.get("dms_id")
        result: dict = {"index": index, "dms_id": dms_id if isinstance(dms_id, str) else None}
        if not isinstance(dms_id, str) or not dms_id.strip():
            refused.append({**result, "status": "error", "errors": {"dms_id": [_("The DMS id is required.")]}})
            continue
        try:
            data = dict(serializer.run_validation(record))
        except (ValidationError, DjangoValidationError) as exc:
            refused.append({**result, "status": "error", "errors": as_serializer_error(exc)})
            continue
        data.pop("dms_id", None)
        valid.append((index, dms_id, data))
    return refused, valid


def _bulk_answer(results: list[dict]) -> Response:
    results.sort(key=lambda r: r["index"])
    counts = {name: 0 for name in ("created", "updated", "unchanged", "error")}
    for result in results:
        counts[result["status"]] += 1
    return Response({"results": results, "counts": counts})


def bulk_upsert(request, *, input_serializer, context, upsert) -> Response:
    """Upsert each record by its DMS id as the single `PUT …/dms/{dms_id}/` would, each in its own transaction: valid
    records land even when others fail, and the answer says per record `created`, `updated` (something changed),
    `unchanged` (sent again as held: nothing written) or `error` with its field errors. Safe to send again.

    `upsert(dms_id=..., data=...)` returns (record, created); a record counts as changed when its `updated_at`
    moved during the call."""
    results, valid = _bulk_validated(request, input_serializer=input_serializer, context=context)
    for index, dms_id, data in valid:
        result: dict = {"index": index, "dms_id": dms_id}
        started = timezone.now()
        try:
            with transaction.atomic():
                obj, created = upsert(dms_id=dms_id, data=data)
        except Conflict as exc:
            results.append({**result, "status": "error", "errors": exc.as_dict()})
            continue
        except DjangoValidationError as exc:
            results.append({**result, "status": "error", "errors": as_serializer_error(exc)})
            continue
        changed = created or obj.updated_at >= started
        results.append(
            {**result, "status": "created" if created else "updated" if changed else "unchanged", "id": obj.pk}
        )
    return _bulk_answer(results)


def bulk_upsert_many(request, *, input_serializer, context, upsert_many) -> Response:
    """The same contract as `bulk_upsert`, with the valid records handed over together to a set-based service:
    `upsert_many(records)` takes them as (index, dms_id, data) and returns, by index, an outcome with `status`, `id`
    and `errors`."""
    results, valid = _bulk_validated(request, input_serializer=input_serializer, context=context)
    outcomes = upsert_many(valid) if valid else {}
    for index, dms_id, _data in valid:
        outcome = outcomes[index]
        result: dict = {"index": index, "dms_id": dms_id, "status": outcome.status}
        if outcome.status == "error":
            result["errors"] = outcome.errors
        else:
            result["id"] = outcome.id
        results.append(result)
    return _bulk_answer(results)
