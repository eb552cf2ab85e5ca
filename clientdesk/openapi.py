"""What drf-spectacular cannot tell from the code alone, said once for the whole OpenAPI document: a value a read-only
field may answer blank, a decimal string's real pattern, a `list` that answers one object, and (the postprocessing
hook) the error answers of every operation, a trimmed text's need of a non-space character, the dates' year bounds.

Every endpoint answers the same way when a request cannot be served (`clientdesk.api.exception_handler`): a JSON body
with `detail` (and field errors for 400), and the status codes below. Listing them on each operation lets a generated
client and a fuzzer expect them instead of calling them undocumented.
"""

import copy

from django.core.exceptions import FieldDoesNotExist
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import build_choice_field
from rest_framework.fields import ChoiceField, EmailField, MultipleChoiceField

from clientdesk.api_filters import bounded_dates_in_schema


class ObjectAnswerSchema(AutoSchema):
    """For a `list` action that answers one object of its own shape (a feed page, a dashboard), not a page of rows:
    drf-spectacular would document it as an array of that object."""

    def _is_list_view(self, serializer=None) -> bool:
        return False


class BlankModelValueExtension(OpenApiSerializerFieldExtension):
    """A read-only e-mail or choice answers the model's value, which may be blank: `""`, which `format: email` or the
    enum alone forbids. drf-spectacular says so itself for a field that takes a blank (from `allow_blank`), but DRF sets
    no `allow_blank` on a read-only field: the model field says."""

    target_class = "rest_framework.fields.Field"
    priority = 1

    @classmethod
    def _matches(cls, target) -> bool:
        return (
            isinstance(target, EmailField | ChoiceField)
            and not isinstance(target, MultipleChoiceField)
            and target.read_only
            and not target.allow_blank
            and _model_allows_blank(target)
        )

    def map_serializer_field(self, auto_schema, direction):
        if isinstance(self.target, ChoiceField):
            blankable = copy.copy(self.target)
            blankable.allow_blank = True
            return build_choice_field(blankable)
        return {"oneOf": [{"type": "string", "format": "email"}, {"type": "string", "maxLength": 0}]}


class DecimalStringExtension(OpenApiSerializerFieldExtension):
    """A decimal written as a string: drf-spectacular's pattern allows an empty string and a minus sign whatever the
    field's `min_value`; this one needs a digit, and a sign only where a negative value is taken."""

    target_class = "rest_framework.fields.DecimalField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        field = self.target
        schema = auto_schema._map_serializer_field(field, direction, bypass_extensions=True)
        if "pattern" in schema and field.max_whole_digits and field.decimal_places and not field.localize:
            sign = "" if field.min_value is not None and field.min_value >= 0 else "-?"
            whole, places = field.max_whole_digits, field.decimal_places
            schema["pattern"] = rf"^{sign}(?:\d{{1,{whole}}}(?:\.\d{{0,{places}}})?|\.\d{{1,{places}}})$"
        return schema


def _model_allows_blank(field) -> bool:
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    try:
        return bool(model and model._meta.get_field(field.source).blank)
    except FieldDoesNotExist:
        return False


ERROR_SCHEMA = {
    "type": "object",
    "description": "`detail` says what went wrong; a 400 also names each field that was refused, with its messages.",
    "properties": {
        "detail": {"type": "string"},
        "code": {"type": "string", "description": "`stale` for a write older than the one held (409)."},
    },
    "additionalProperties": True,
}

# Status code: (description, which operations answer it)
ALWAYS, WRITES, WITH_ID, WITH_QUERY, POSTS = "always", "writes", "with_id", "with_query", "posts"
ERRORS = {
    "400": ("The request is not valid: the fields refused, with their messages.", (WRITES, WITH_QUERY)),
    "401": ("No credentials, or an API key that is not valid.", (ALWAYS,)),
    "403": ("This user may not do this.", (ALWAYS,)),
    "404": ("Not found, or not visible to this user.", (WITH_ID,)),
    "405": ("This method is not offered here.", (ALWAYS,)),
    "406": ("The Accept header asks for a format the API does not answer in (it answers JSON).", (ALWAYS,)),
    "409": (
        "Conflicts with what is there: an id in use, a step not allowed from the record's state, a stale write.",
        (WRITES,),
    ),
    "413": ("The body is larger than the server accepts.", (WRITES,)),
    "415": ("The body's Content-Type is not one the operation takes.", (WRITES,)),
    "422": ("The Idempotency-Key was used before for a different request.", (POSTS,)),
    "429": ("Too many requests: wait the seconds the Retry-After header says.", (ALWAYS,)),
    "503": ("The database is not answering: retry after the seconds Retry-After says.", (ALWAYS,)),
}


def _applies(kinds: tuple[str, ...], *, method: str, path: str, operation: dict) -> bool:
    has_query = any(p.get("in") == "query" for p in operation.get("parameters", []))
    facts = {
        ALWAYS: True,
        WRITES: method in {"post", "put", "patch", "delete"},
        POSTS: method == "post",
        WITH_ID: "{" in path,
        WITH_QUERY: has_query,
    }
    return any(facts[kind] for kind in kinds)


def _drop_format_beside_one_of(node) -> None:
    """drf-spectacular adds `format: email` from the field's validator beside our `oneOf` (BlankModelValueExtension),
    which would forbid the blank again."""
    if isinstance(node, dict):
        if "oneOf" in node and node.get("format") == "email":
            del node["format"]
        for value in node.values():
            _drop_format_beside_one_of(value)
    elif isinstance(node, list):
        for value in node:
            _drop_format_beside_one_of(value)


# Python's strip() (DRF's trimming) also removes the separators \x1c-\x1f and NEL, which a regex engine's `\s` may not.
NOT_ONLY_SPACE = r"[^\s\x1c-\x1f\x85]"


def _text_not_blank(components: dict) -> None:
    """A text field that may not be blank is trimmed first (DRF's `trim_whitespace`): say it needs a character that is
    not white space, which `minLength: 1` alone does not."""
    for name, component in components.items():
        if not name.endswith("Request"):
            continue
        for field in component.get("properties", {}).values():
            if field.get("type") == "string" and field.get("minLength", 0) >= 1 and not _constrained(field):
                field["pattern"] = NOT_ONLY_SPACE


def _constrained(field: dict) -> bool:
    return any(key in field for key in ("pattern", "format", "enum", "readOnly"))


def document_error_answers(result: dict, generator, request, public) -> dict:
    """Add the error answers each operation can give (those it documents itself are kept as they are)."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault("Error", ERROR_SCHEMA)
    _drop_format_beside_one_of(components)
    _text_not_blank(components)
    bounded_dates_in_schema({name: schema for name, schema in components.items() if name.endswith("Request")})
    reference = {"$ref": "#/components/schemas/Error"}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            query = [p["schema"] for p in operation.get("parameters", []) if p.get("in") == "query"]
            bounded_dates_in_schema(query)
            for schema in query:
                # A filter's title is its model field's Russian label: a generated client would name its enum by it.
                schema.pop("title", None)
                schema.get("items", {}).pop("title", None)
            responses = operation["responses"]
            for code, (description, kinds) in ERRORS.items():
                if code in responses or not _applies(kinds, method=method, path=path, operation=operation):
                    continue
                responses[code] = {"description": description, "content": {"application/json": {"schema": reference}}}
    return result
