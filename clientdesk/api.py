"""The API's shared pieces: the base viewset that applies permissions, cursor pagination, error answers."""

import hashlib
import json

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import ISO_8601, exceptions, mixins, serializers, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.settings import api_settings
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


class VisibleRelatedField(serializers.PrimaryKeyRelatedField):
    """A related record by its id, looked up among those the requesting user may see (`visible_to(user)`): an id the
    user (or the key's scopes) cannot read answers "does not exist", as one that is not there, so an input can neither
    attach nor probe a record its sender may not read. Needs the request in the serializer's context."""

    def get_queryset(self):
        request = self.context.get("request")
        return super().get_queryset().visible_to(getattr(request, "user", None))


# --- Lean lists ----------------------------------------------------------------------------------------------------


def iso_time(value, zone) -> str:
    """A time as DRF's DateTimeField writes it (ISO 8601 in the current zone, "Z" for UTC), made directly."""
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _is_iso(field: serializers.DateTimeField) -> bool:
    time_format = getattr(field, "format", api_settings.DATETIME_FORMAT)
    return isinstance(time_format, str) and time_format.lower() == ISO_8601 and not hasattr(field, "timezone")


_AS_IS = (serializers.BooleanField, serializers.CharField, serializers.ChoiceField, serializers.IntegerField)


class LeanListMixin:
    """The list answered from `values()` rows, on PostgreSQL: the same JSON as the viewset's serializer writes (the
    OpenAPI schema still describes that serializer), without a model instance, a prefetch or a DRF field call per row.

    Each of the serializer's fields is read straight from the row: a plain field or a foreign key's id as it is, a
    time written as DRF writes it; what is not a column — a list of related ids, nested rows — comes from
    `lean_annotations()`, one expression per field, which SQL computes for the page (an ARRAY subquery, JSON). A field
    the plan cannot read this way makes the list fall back to the serializer, as does SQLite (the embedded default).
    """

    def lean_annotations(self) -> dict:
        return {}

    def _lean_plan(self):
        plan = type(self).__dict__.get("_lean_plan_cached")
        if plan is None:
            serializer = self.get_serializer_class()()
            annotations = self.lean_annotations()
            plan = []
            for field in serializer._readable_fields:
                name, source = field.field_name, field.source
                if name in annotations:
                    plan.append((name, f"lean_{name}", None))
                elif "." in source or source == "*":
                    plan = False
                    break
                elif isinstance(field, (serializers.PrimaryKeyRelatedField, *_AS_IS)):
                    plan.append((name, source, None))
                elif isinstance(field, serializers.DateTimeField) and _is_iso(field):
                    plan.append((name, source, iso_time))
                elif isinstance(field, serializers.DateField | serializers.DecimalField | serializers.DurationField):
                    plan.append((name, source, field))
                else:
                    plan = False
                    break
            type(self)._lean_plan_cached = plan
        return plan

    def list(self, request, *args, **kwargs):
        plan = self._lean_plan() if connection.vendor == "postgresql" else False
        if not plan:
            return super().list(request, *args, **kwargs)
        annotations = {f"lean_{name}": expression for name, expression in self.lean_annotations().items()}
        columns = [source for _name, source, _how in plan if not source.startswith("lean_")]
        queryset = self.filter_queryset(self.get_queryset()).select_related(None).prefetch_related(None)
        page = self.paginate_queryset(queryset.values(*columns, **annotations))
        zone = timezone.get_current_timezone()
        rows = []
        for row in page:
            answer = {}
            for name, source, how in plan:
                value = row[source]
                if how is None or value is None:
                    answer[name] = value
                elif how is iso_time:
                    answer[name] = iso_time(value, zone)
                else:
                    answer[name] = how.to_representation(value)
            rows.append(answer)
        return self.get_paginated_response(rows)


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
