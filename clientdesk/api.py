"""The API's shared pieces: the base viewset that applies permissions, cursor pagination, error answers."""

import copy
import hashlib
import json

from django import forms
from django.conf import settings
from django.core.exceptions import EmptyResultSet, FieldDoesNotExist, FullResultSet, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError, connection, connections, models, transaction
from django.db.models import Exists, Field
from django.db.models.expressions import RawSQL
from django.db.models.query import BaseIterable
from django.utils import timezone
from django.utils.translation import gettext as _
from django_filters.utils import translate_validation
from rest_framework import ISO_8601, exceptions, mixins, serializers, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.fields import SkipField, empty
from rest_framework.relations import PKOnlyObject
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from clientdesk.api_filters import StrictFilterBackend
from clientdesk.compiled import BUILT_EACH_TIME, STAND_IN, kept, known
from clientdesk.errors import (
    DATABASE_RETRY_AFTER_SECONDS,
    DATABASE_UNAVAILABLE_ERRORS,
    DATABASE_UNAVAILABLE_MESSAGE,
    Conflict,
)
from clientdesk.models import IdempotencyKey
from clientdesk.pagination import PositionedRow
from clientdesk.querysets import visibility_key
from clientdesk.renderers import JSONRenderer, LeanPage, iso_time, local_times


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


# --- Lean reads ----------------------------------------------------------------------------------------------------
#
# A list answers 50 rows of 10-20 fields, and DRF's machinery per field per row (get_attribute, to_representation)
# was most of its time. A *read plan*, made once per serializer class, says how each field's answer is made from its
# column's value. BaseViewSet's lists apply it to `values()` rows; LeanReadSerializer applies it to model instances
# (single answers, and the lists on SQLite). Both answer exactly what DRF's own serializer writes.


def written(value, how, zone):
    """A column's value as a read plan writes it: as it is (`how` None, or no value), a time as DRF writes it
    (`iso_time`), or through `how.to_representation` (a DRF field's conversion, NestedRows)."""
    if value is None or how is None:
        return value
    return iso_time(value, zone) if how is iso_time else how.to_representation(value)


def _is_iso(field: serializers.DateTimeField) -> bool:
    time_format = getattr(field, "format", api_settings.DATETIME_FORMAT)
    return isinstance(time_format, str) and time_format.lower() == ISO_8601 and not hasattr(field, "timezone")


# Fields whose answer is the column's value as the database gives it (their to_representation would only copy it).
_AS_IS = frozenset(
    {
        serializers.BooleanField.to_representation,
        serializers.CharField.to_representation,
        serializers.ChoiceField.to_representation,
        serializers.IntegerField.to_representation,
        serializers.ReadOnlyField.to_representation,
    }
)
# Fields whose answer is DRF's own to_representation of the column's value, which needs nothing but the value.
_CONVERTED = frozenset(
    {
        serializers.DateTimeField.to_representation,
        serializers.DateField.to_representation,
        serializers.TimeField.to_representation,
        serializers.DecimalField.to_representation,
        serializers.DurationField.to_representation,
        serializers.FloatField.to_representation,
        serializers.UUIDField.to_representation,
        serializers.JSONField.to_representation,
    }
)


def column_reading(field: serializers.Field):
    """How a read field's answer is made from its column's value (a foreign key's: the id): None for the value as it
    is, `iso_time`, or the field itself (its to_representation); False when the field is not one column's value (a
    method field, nested rows, many ids, a field of the project's own making)."""
    if isinstance(field, serializers.PrimaryKeyRelatedField):
        own = type(field).to_representation is serializers.PrimaryKeyRelatedField.to_representation
        return None if own and field.pk_field is None else False
    if field.source == "*" or type(field).get_attribute is not serializers.Field.get_attribute:
        return False
    method = type(field).to_representation
    if method in _AS_IS:
        return None
    if method is serializers.BigIntegerField.to_representation:  # ids: a number unless settings make them text
        return field if getattr(field, "coerce_to_string", api_settings.COERCE_BIGINT_TO_STRING) else None
    if method is serializers.DateTimeField.to_representation and _is_iso(field):
        return iso_time
    return field if method in _CONVERTED else False


def _relation_attname(model, name: str) -> str | None:
    """The attribute holding a forward foreign key's id (`owner` → `owner_id`), or None."""
    try:
        field = model._meta.get_field(name)
    except (AttributeError, FieldDoesNotExist):
        return None
    return field.attname if field.concrete and (field.many_to_one or field.one_to_one) else None


def instance_plan(serializer) -> list[tuple[str, str | None, object]]:
    """Each readable field as (name, attribute, how): how None reads the attribute as it is, `iso_time` or a field
    writes it, a list of such entries reads the (prefetched) related rows as plain objects; attribute None leaves the
    field to DRF (its get_attribute and to_representation)."""
    model = getattr(getattr(serializer, "Meta", None), "model", None)
    plan = []
    for field in serializer._readable_fields:
        name, source = field.field_name, field.source
        simple = "." not in source and source != "*"
        reading = column_reading(field) if simple else False
        if reading is not False and isinstance(field, serializers.RelatedField):
            attname = _relation_attname(model, source)
            plan.append((name, attname, None) if attname else (name, None, field))
        elif reading is not False:
            plan.append((name, source, reading))
        elif simple and isinstance(field, serializers.ListSerializer):
            inner = instance_plan(field.child)
            plain = all(how is None and attribute for _name, attribute, how in inner)
            plan.append((name, source, inner) if plain else (name, None, field))
        else:
            plan.append((name, None, field))
    return plan


class LeanReadSerializer(serializers.ModelSerializer):
    """A read-only model serializer that answers as ModelSerializer does, by its read plan: plain fields, foreign keys
    and lists of plain nested rows straight from the instance, times written directly, any other field through DRF."""

    def to_representation(self, instance):
        # Building a ModelSerializer's fields costs milliseconds per request; a plan with no DRF field left in it
        # depends on the class only, so it is made once per class.
        plan = type(self).__dict__.get("_class_plan") or self.__dict__.get("_plan")
        if plan is None:
            plan = self.__dict__["_plan"] = instance_plan(self)
            if all(how is None or how is iso_time or isinstance(how, list) for _name, _source, how in plan):
                type(self)._class_plan = plan
        answer = {}
        zone = timezone.get_current_timezone()
        for name, source, how in plan:
            if source is None:  # DRF's own way, as Serializer.to_representation goes
                try:
                    value = how.get_attribute(instance)
                except SkipField:
                    continue
                empty = (value.pk if isinstance(value, PKOnlyObject) else value) is None
                answer[name] = None if empty else how.to_representation(value)
                continue
            value = getattr(instance, source)
            if isinstance(how, list) and value is not None:
                answer[name] = [{n: getattr(row, a) for n, a, _how in how} for row in value.all()]
            else:
                answer[name] = written(value, how, zone)
        return answer


def _column_path(model, field: serializers.Field) -> str | None:
    """The `values()` path of a field's source, through forward foreign keys (`campaign_member.campaign_id` →
    `campaign_member__campaign_id`); None when it is not a column (a property, a reverse relation), or when a nullable
    hop would make DRF leave the field out where the row would say null."""
    parts = field.source.split(".")
    for hop in parts[:-1]:
        try:
            relation = model._meta.get_field(hop)
        except FieldDoesNotExist:
            return None
        if not (relation.concrete and (relation.many_to_one or relation.one_to_one)):
            return None
        if relation.null and not (field.allow_null and field.default is empty):
            return None
        model = relation.related_model
    try:
        last = model._meta.get_field(parts[-1])
    except FieldDoesNotExist:
        return "__".join(parts) if len(parts) == 1 else None  # perhaps an annotation: checked on the queryset
    if not last.concrete or last.many_to_many:
        return None
    if last.is_relation and parts[-1] != last.attname and not isinstance(field, serializers.PrimaryKeyRelatedField):
        return None  # a related object written as text, not its id
    return "__".join(parts)


def values_plan(serializer, model, annotated: dict) -> list[tuple[str, str, object]] | None:
    """Each readable field as (name, values() path, how), the fields named in `annotated` (name → expression) read
    from the annotation `lean_<name>`: as they are, or written by the expression's own `to_representation`
    (NestedRows); None when a field is none of these (the list then goes through the serializer)."""
    plan = []
    for field in serializer._readable_fields:
        if field.field_name in annotated:
            expression = annotated[field.field_name]
            how = expression if hasattr(expression, "to_representation") else None
            plan.append((field.field_name, f"lean_{field.field_name}", how))
            continue
        reading = column_reading(field)
        path = _column_path(model, field) if reading is not False else None
        if path is None:
            return None
        plan.append((field.field_name, path, reading))
    return plan


class NestedRows(RawSQL):
    """A list field of plain related rows, read in the page's own query (a `lean_annotations` expression): `sql` is an
    ARRAY subquery of one text array per related row, its columns in the order of `fields`, each given with how its
    text becomes the answer (None: as it is; `from_text_bool` for a boolean).

    psycopg parses the text arrays in C and `to_representation` zips each into a dict in the nested serializer's field
    order. Chosen over json_build_object, which PostgreSQL took longer to build and psycopg to parse (one json.loads
    per row): 0.2 ms less for a page of 50 clients with their phones."""

    def __init__(self, sql: str, fields: list[tuple[str, object]]):
        super().__init__(sql, (), output_field=Field())  # noqa: S611 - the callers' constant SQL, no input in it
        self.names = [name for name, _reading in fields]
        self.readings = [(name, reading) for name, reading in fields if reading is not None]

    def to_representation(self, rows: list[list[str | None]]) -> list[dict]:
        answers = [dict(zip(self.names, row, strict=True)) for row in rows]
        for answer in answers:
            for name, reading in self.readings:
                if answer[name] is not None:
                    answer[name] = reading(answer[name])
        return answers


def from_text_bool(text: str) -> bool:
    """A boolean as PostgreSQL writes it as text (`is_primary::text`)."""
    return text == "true"


def _own_column(model, path: str) -> Field | None:
    """The model's own column a `values()` path names (a foreign key: its id), when the database's value is the one
    `values()` gives (no `from_db_value`); else None."""
    try:
        field = model._meta.get_field(path)
    except FieldDoesNotExist:
        return None
    if not field.concrete or field.many_to_many or field.column is None or hasattr(field, "from_db_value"):
        return None
    # A parent's field under multi-table inheritance is a column of the parent's table.
    return field if field.model._meta.db_table == model._meta.db_table else None


def plain_query(query) -> bool:
    """Whether a query reads its model's table alone, filtered and nothing more: the queries LeanRows reads."""
    table = query.model._meta.db_table
    # An alias no longer referred to is a join the ORM trimmed (`merged_into__isnull` reads the table's own column).
    return (
        all(alias == table or not query.alias_refcount[alias] for alias in query.alias_map)
        and query.default_cols
        and not query.is_sliced
        and not (query.select or query.values_select or query.annotations or query.distinct or query.group_by)
        and not (query.extra or query.extra_tables or query.extra_order_by or query.combinator)
        and not query.select_for_update
    )


class LeanRows(BaseIterable):
    """A lean list's page read with a select list made once per list around the WHERE clause that the request's own
    queryset compiles to, yielding the rows written by the read plan (PositionedRow, for the cursor).

    Building the page's query with `values()` and compiling all of it took about 0.5 ms a request, nearly what
    PostgreSQL took to run it; the select list depends only on the list's serializer, and the order and limit are the
    pagination's. The filters are still the ORM's own (django-filter, `visible_to`): their WHERE is compiled by
    Django's compiler, for a query of the model's table alone (`plain_query`; anything else reads through values())."""

    table: str  # quoted
    select: str  # the plan's columns in the answer's order, then the ordering's that the answer does not hold
    select_params: tuple
    names: tuple[str, ...]
    written: tuple[tuple[str, int, object], ...]  # the fields whose value is written: name, index in the row, how
    columns: dict[str, tuple[int, str]]  # an ordering field: its index in the row and its column
    # Whether every time in the row is one the plan writes as DRF does: they are then read in the current zone
    # (`LocalTimes`) and left as times for the renderer (JSONRenderer) to write, in C.
    native_times: bool

    def __iter__(self):
        statement = self.statement()
        if statement is not None:
            yield from self.run(*statement)

    def statement(self) -> tuple[str, tuple, int | None] | None:
        """The page's SQL, its parameters and the index in a row of the cursor's position (the first ordering
        field's); None when it can hold no row (`none()`: a user who may not see the rows)."""
        query = self.queryset.query
        db = connections[self.queryset.db]
        try:
            where, params = query.get_compiler(connection=db).compile(query.where)
        except EmptyResultSet:
            return None
        except FullResultSet:
            where, params = "", ()
        sql = [f"SELECT {self.select} FROM {self.table}"]  # noqa: S608 - names from the models, values as parameters
        if where:
            sql.append(f"WHERE {where}")
        if query.order_by:
            order = (f"{self.columns[o.lstrip('-')][1]} {'DESC' if o[0] == '-' else 'ASC'}" for o in query.order_by)
            sql.append(f"ORDER BY {', '.join(order)}")
        if query.high_mark is not None:
            sql.append(f"LIMIT {query.high_mark - query.low_mark:d}")
        if query.low_mark:
            sql.append(f"OFFSET {query.low_mark:d}")
        position = self.columns[query.order_by[0].lstrip("-")][0] if query.order_by else None
        return " ".join(sql), (*self.select_params, *params), position

    def run(self, sql: str, params, position: int | None):
        zone = timezone.get_current_timezone()
        with connections[self.queryset.db].cursor() as cursor:
            if self.native_times:
                cursor.cursor.adapters.register_loader("timestamptz", local_times(zone))
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        names, to_write = self.names, self.written
        for row in rows:
            # The plan's columns come first, in the answer's order; the ordering's own, if any, after them.
            answer = PositionedRow(zip(names, row, strict=False))
            answer.position = None if position is None else row[position]
            for name, index, how in to_write:
                answer[name] = written(row[index], how, zone)
            yield answer


def lean_rows(model, plan, annotations: dict, ordering: list[str]) -> type[LeanRows] | None:
    """LeanRows for a list whose fields are all columns of the model's own table or RawSQL annotations (NestedRows),
    paginated by columns of its own; None for any other list."""
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    select, params, written, columns, times = [], [], [], {}, []
    for index, (name, path, how) in enumerate(plan):
        if path.startswith("lean_"):
            expression = annotations[path.removeprefix("lean_")]
            if not isinstance(expression, RawSQL):
                return None
            select.append(f"({expression.sql})")
            params.extend(expression.params)
            field = expression.output_field
        else:
            field = _own_column(model, path)
            if field is None:
                return None
            select.append(f"{table}.{quote(field.column)}")
            columns[path] = (index, select[-1])
        if how is not None:
            written.append((name, index, how))
        times.append(how is iso_time or not isinstance(field, models.DateTimeField))
    for name in ordering:
        if name not in columns:
            field = _own_column(model, name)
            if field is None:
                return None
            columns[name] = (len(select), f"{table}.{quote(field.column)}")
            select.append(columns[name][1])
        # a time the pagination orders by is its cursor's position, read as it is
        times.append(not isinstance(_own_column(model, name), models.DateTimeField))
    native_times = all(times)
    if native_times:
        written = [(name, index, how) for name, index, how in written if how is not iso_time]
    attributes = {
        "table": table,
        "select": ", ".join(select),
        "select_params": tuple(params),
        "names": tuple(name for name, _path, _how in plan),
        "written": tuple(written),
        "columns": columns,
        "native_times": native_times,
    }
    return type(f"{model.__name__}LeanRows", (LeanRows,), attributes)


# What `CompiledListMixin.checked_filters` found of a request's filters that choose no record and run no code.
VALID = "valid"


class BuildTheWholeWay(Exception):
    """A compiled list's page that must be built the whole way after all (`CompiledPage`)."""


class CompiledPage:
    """What a compiled list hands DRF's cursor pagination in place of its queryset: the pagination orders it, narrows
    it to the rows past the cursor's position and slices it, as it does a queryset, and reading it runs the page's SQL
    compiled once for that shape (`CompiledListMixin`), with the position put in."""

    def __init__(self, view, key, rows: type[LeanRows], chosen: tuple):
        self.view, self.key, self.rows, self.model = view, key, rows, view.queryset.model
        self.chosen = chosen
        self.ordering, self.after, self.window = (), None, slice(None)

    def order_by(self, *ordering):
        self.ordering = ordering
        return self

    def filter(self, **position):
        ((lookup, value),) = position.items()  # the pagination's one condition: `<ordering field>__lt/gt`
        self.after = (lookup, value)
        return self

    def __getitem__(self, window: slice):
        self.window = window
        return self

    def __iter__(self):
        lookup = self.after[0] if self.after else None
        shape = (self.ordering, lookup, self.window.start, self.window.stop)
        compiled = kept((self.key, shape), lambda: self.view.compile_page(*shape, chosen=self.chosen))
        if compiled is BUILT_EACH_TIME:
            raise BuildTheWholeWay
        found = []
        if compiled is not None:
            rows, sql, params, position, at = compiled
            if at is not None:
                params = list(params)
                field = self.model._meta.get_field(lookup.partition("__")[0])
                params[at] = field.get_db_prep_value(self.after[1], connections[self.view.queryset.db], prepared=False)
            found = list(rows.run(sql, params, position))
        if not found and self.chosen:
            # No row: perhaps a chosen record has gone (the query asks for it too), which the filters refuse (a 400).
            self.view.checked_filters(self.view.request)
        return iter(found)


class CompiledListMixin:
    """A list whose page query is compiled once per shape, then run again with the cursor's position put in: for a
    hot list (clients, vehicles, deliveries) the queryset, visibility, filters and pagination were about 0.4 ms of ORM
    building a request, more than PostgreSQL took to answer.

    Only for a viewset whose rows depend on nothing but who asks (`clientdesk.querysets.visibility_key`, and an API
    key's scopes) and the query string: the clock or the data must not go into its `get_queryset`, which is why it
    is a mixin a viewset takes, not the default. What is kept in the process (`clientdesk.compiled`) is keyed by the
    viewset, who asks, the parameters a filter or the page size reads, and the page's shape (order, which side of the
    position, the slice): the SQL the ORM compiled for a stand-in position. The filters are validated as the whole way
    validates them, and their verdict kept. A record a filter chooses (a manager) may have gone since: the page's query
    asks that it is still there, and a page that comes back empty has its filters validated again, which refuses a
    choice gone as the whole way refuses it. The cursor is decoded and checked, and the links made, by DRF's
    pagination as always.

    Built the whole way, as before: SQLite, a list LeanRows does not read, a filter that runs code of its own
    (`method`: a search reads the data), a position that is not an integer column."""

    compiled_list = True  # what clientdesk.middleware.ApiListMiddleware looks for (it may not import this module)

    def list(self, request, *args, **kwargs):
        lean = self._lean_plan(self.queryset)  # kept per class: None on SQLite
        rows = None if lean is None else lean[2]
        if rows is None:  # a list LeanRows does not read
            return super().list(request, *args, **kwargs)
        # What the page's SQL and the filters' verdict depend on: who asks, and the filters and page size given (not
        # the cursor, whose position is put in, nor a parameter no one reads).
        read = self.parameters_read()
        query = request.query_params.lists()
        key = (
            type(self),
            visibility_key(request.user),
            tuple(sorted(getattr(request.auth, "scopes", None) or ())),
            tuple(sorted((name, tuple(values)) for name, values in query if name in read)),
        )
        filters = known((key, "filters"))
        if filters is None:
            filters = self.checked_filters(request)
            if filters is BUILT_EACH_TIME:  # a search: not kept, there are as many as texts typed
                return super().list(request, *args, **kwargs)
            kept((key, "filters"), lambda: filters)
        try:
            page = self.paginate_queryset(CompiledPage(self, key, rows, () if filters is VALID else filters))
        except BuildTheWholeWay:
            return super().list(request, *args, **kwargs)
        return self.get_paginated_response(page)

    @classmethod
    def parameters_read(cls) -> frozenset[str]:
        made = cls.__dict__.get("_parameters_read")
        if made is None:
            filterset_class = getattr(cls, "filterset_class", None)
            filters = filterset_class.base_filters if filterset_class is not None else {}
            made = cls._parameters_read = frozenset({*filters, cls.pagination_class.page_size_query_param})
        return made

    def checked_filters(self, request):
        """The request's filters validated as the filter backend does (a 400 naming the parameter): BUILT_EACH_TIME for
        a filter that runs code of its own (`method`: a search reads the data), whose list is built the whole way; for
        filters that choose records (a manager), the conditions that each is still one to choose, which the page's
        query asks; VALID for the others, whose verdict holds for the same query string whenever it comes."""
        filterset = self.filter_backends[0]().validated_filterset(request, self.queryset, self)
        if filterset is None:
            return VALID
        if any(getattr(f, "method", None) for f in filterset.filters.values()):
            return BUILT_EACH_TIME
        chosen = []
        for name, field in filterset.form.fields.items():
            if isinstance(field, forms.ModelChoiceField) and (value := filterset.form.cleaned_data.get(name)):
                records = value if isinstance(field, forms.ModelMultipleChoiceField) else [value]
                chosen += [Exists(field.queryset.filter(pk=record.pk)) for record in records]
        return tuple(chosen) or VALID

    def compile_page(self, ordering, lookup, start, stop, *, chosen=()):
        """The page's LeanRows, SQL, parameters, the index in a row of the cursor's position and the index among the
        parameters of the position put in (None for a first page); None when the page can hold no row;
        BUILT_EACH_TIME for a page that must be built the whole way (a filter that joins another table). `chosen`:
        the conditions that the records the filters chose are still there (`checked_filters`)."""
        queryset = self.filter_queryset(self.get_queryset())
        if not plain_query(queryset.query):
            return BUILT_EACH_TIME
        queryset = queryset.filter(*chosen).select_related(None).prefetch_related(None).order_by(*ordering)
        if lookup is not None:
            field = queryset.model._meta.get_field(lookup.partition("__")[0])
            if not isinstance(field, models.IntegerField | models.AutoField):
                return BUILT_EACH_TIME
            queryset = queryset.filter(**{lookup: STAND_IN})
        rows = self._lean_plan(self.queryset)[2](queryset[start:stop])
        statement = rows.statement()
        if statement is None:
            return None
        sql, params, position = statement
        at = [i for i, value in enumerate(params) if type(value) is int and value == STAND_IN]
        if len(at) != (lookup is not None):
            return BUILT_EACH_TIME
        return rows, sql, params, position, at[0] if at else None


class RequestedFiltersBackend(StrictFilterBackend):
    """django-filter (read strictly: clientdesk.api_filters) with a FilterSet of only the filters the request gives a
    value for. A FilterSet deep-copies all its filters and builds a form class and a form of all of them for every
    request: with eight filters and one given, that was a large share of a list request's time. A filter left out would
    have done nothing (django-filter skips an empty value); a filter whose widget cannot tell that it was left out (a
    checkbox, a multiple select), or that is required, is kept."""

    _narrowed: dict = {}
    _widgets: dict = {}

    def filter_queryset(self, request, queryset, view):
        filterset = self.validated_filterset(request, queryset, view)
        return queryset if filterset is None else filterset.qs

    def validated_filterset(self, request, queryset, view):
        """The request's FilterSet, its values validated (a 400 naming the parameter otherwise), as django-filter's
        backend validates them before filtering; None for a view without filters."""
        filterset = self.get_filterset(request, queryset, view)
        if filterset is not None and not filterset.is_valid() and self.raise_exception:
            raise translate_validation(filterset.errors)
        return filterset

    def get_filterset(self, request, queryset, view):
        if getattr(view, "filterset_class", None) is None:
            # `filterset_fields` makes a new class per request: nothing to keep narrowed copies of
            return super().get_filterset(request, queryset, view)
        filterset_class = self.get_filterset_class(view, queryset)
        kwargs = self.get_filterset_kwargs(request, queryset, view)
        return self.narrowed(filterset_class, kwargs["data"])(**kwargs)

    @classmethod
    def narrowed(cls, filterset_class, data):
        widgets = cls._widgets.get(filterset_class)
        if widgets is None:
            widgets = cls._widgets[filterset_class] = cls._filter_widgets(filterset_class)
        if not widgets:
            return filterset_class
        given = frozenset(
            name
            for name, (widget, required) in widgets.items()
            if required or not widget.value_omitted_from_data(data, {}, name)
        )
        if len(given) == len(widgets):
            return filterset_class
        narrowed = cls._narrowed.get((filterset_class, given))
        if narrowed is None:
            narrowed = type(filterset_class.__name__, (filterset_class,), {"__module__": filterset_class.__module__})
            narrowed.base_filters = {n: f for n, f in filterset_class.base_filters.items() if n in given}
            cls._narrowed[(filterset_class, given)] = narrowed
        return narrowed

    @staticmethod
    def _filter_widgets(filterset_class) -> dict:
        """Each filter's form widget and whether it is required, from a copy of the filters (the class's own stay
        unbuilt); empty when the FilterSet cannot be narrowed (a filter that cannot be built without a request)."""
        try:
            filters = copy.deepcopy(filterset_class.base_filters)
            return {name: (f.field.widget, bool(f.extra.get("required"))) for name, f in filters.items()}
        except Exception:  # noqa: BLE001 - narrowing is only a saving: whatever the reason, filter as django-filter does
            return {}


class BaseViewSet(viewsets.GenericViewSet):
    """Every API viewset: rows through `visible_to(user)`, access through `read_capability`/`write_capability`, which
    the permission class of the settings (`accounts.permissions.HasCapability`) checks.

    A POST sent with an `Idempotency-Key` header is carried out once: its answer is stored with the key in the same
    transaction as what it wrote, and the same key again (a retry after a timeout) gets that answer back, marked
    `Idempotent-Replayed: true`, writing nothing; the same key with another body is refused with 422.
    """

    read_capability: str | None = None
    write_capability: str | None = None
    filter_backends = [RequestedFiltersBackend]

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

    # --- the lean list: see "Lean reads" below

    def lean_annotations(self) -> dict:
        """The list's fields that are not one column (nested rows, lists of ids): name → an expression PostgreSQL
        computes for each row of the page (an ARRAY subquery) whose value is the field's answer as it is, or a
        NestedRows, which writes it. The same for every request: LeanRows keeps a RawSQL's text with the list's."""
        return {}

    def paginate_queryset(self, queryset):
        """On PostgreSQL a list's page is read as rows written by the serializer's read plan: one query for the page
        (and whatever `lean_annotations` adds to it), no model instance, prefetch or DRF field call per row. A query of
        the model's table alone is read by LeanRows, any other as `values()`. A serializer with a field the plan cannot
        read (a method field, nested rows without an annotation), or a viewset that handles its page itself, keeps
        DRF's way."""
        if isinstance(queryset, CompiledPage):
            return LeanPage(super().paginate_queryset(queryset), native_times=queryset.rows.native_times)
        lean = self._lean_plan(queryset) if self.action == "list" else None
        if lean is None:
            return super().paginate_queryset(queryset)
        plan, columns, rows = lean
        queryset = queryset.select_related(None).prefetch_related(None)
        if rows is not None and plain_query(queryset.query):
            queryset._iterable_class = rows  # as values() sets its own; kept by the pagination's filter and slice
            page = super().paginate_queryset(queryset)
            return None if page is None else LeanPage(page, native_times=rows.native_times)
        annotations = {f"lean_{name}": expression for name, expression in self.lean_annotations().items()}
        page = super().paginate_queryset(queryset.values(*columns, **annotations))
        if page is None:
            return None
        zone = timezone.get_current_timezone()
        return LeanPage(
            {name: row[source] if how is None else written(row[source], how, zone) for name, source, how in plan}
            for row in page
        )

    def get_serializer(self, *args, **kwargs):
        if args and isinstance(args[0], LeanPage):
            return args[0]  # written already (paginate_queryset)
        return super().get_serializer(*args, **kwargs)

    def _lean_plan(self, queryset) -> tuple[list, list[str], type[LeanRows] | None] | None:
        """The list's read plan, the columns to read (with the pagination's ordering) and its LeanRows, if it has
        one; None for DRF's way."""
        if connection.vendor != "postgresql" or type(self).paginate_queryset is not BaseViewSet.paginate_queryset:
            return None
        cls = type(self)
        made = cls.__dict__.get("_lean_made")
        if made is None:
            annotations = self.lean_annotations()
            plan = values_plan(self.get_serializer_class()(), queryset.model, annotations)
            model_fields = {f.name for f in queryset.model._meta.get_fields()}
            loose = (
                set()
                if plan is None
                else {path for _name, path, _how in plan if "__" not in path and not path.startswith("lean_")}
                - model_fields
            )
            ordering = getattr(self.paginator, "ordering", None) or ()
            ordering = [name.lstrip("-") for name in ((ordering,) if isinstance(ordering, str) else ordering)]
            columns = None if plan is None else [path for _name, path, _how in plan if not path.startswith("lean_")]
            columns = None if plan is None else list(dict.fromkeys([*columns, *ordering]))
            # A filter backend that orders (DRF's OrderingFilter) would give the pagination an ordering per request.
            chosen = any(hasattr(backend, "get_ordering") for backend in self.filter_backends)
            rows = None if plan is None or loose or chosen else lean_rows(queryset.model, plan, annotations, ordering)
            made = cls._lean_made = (plan, loose, columns, rows)
        plan, loose, columns, rows = made
        if plan is None or not loose <= queryset.query.annotations.keys():
            return None  # a field the plan cannot read, or one whose annotation this queryset does not make
        return plan, columns, rows


class VisibleRelatedField(serializers.PrimaryKeyRelatedField):
    """A related record by its id, looked up among those the requesting user may see (`visible_to(user)`): an id the
    user (or the key's scopes) cannot read answers "does not exist", as one that is not there, so an input can neither
    attach nor probe a record its sender may not read. Needs the request in the serializer's context."""

    def get_queryset(self):
        request = self.context.get("request")
        return super().get_queryset().visible_to(getattr(request, "user", None))


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
