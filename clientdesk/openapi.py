"""The OpenAPI document's error answers, said once for every operation (drf-spectacular's postprocessing hook).

Every endpoint answers the same way when a request cannot be served (`clientdesk.api.exception_handler`): a JSON body
with `detail` (and field errors for 400), and the status codes below. Listing them on each operation lets a generated
client and a fuzzer expect them instead of calling them undocumented.
"""

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


def document_error_answers(result: dict, generator, request, public) -> dict:
    """Add the error answers each operation can give (those it documents itself are kept as they are)."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault("Error", ERROR_SCHEMA)
    reference = {"$ref": "#/components/schemas/Error"}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for code, (description, kinds) in ERRORS.items():
                if code in responses or not _applies(kinds, method=method, path=path, operation=operation):
                    continue
                responses[code] = {"description": description, "content": {"application/json": {"schema": reference}}}
    return result
