"""How the API writes its answers: times as DRF's DateTimeField writes them, and JSON, a lean list's page in C.

DRF's renderer writes JSON with Python's `json` and a list's times each with `isoformat`; for a page of 50 clients
that was about 0.5 ms of a request of 3.5. Here a lean list's page (clientdesk.api: LeanRows) reads its times in the
current zone (`local_times`) and orjson writes the page, times included, to the same bytes
(`tests/test_api_fast_lists.py` compares them with the serializer's)."""

from functools import cache

import orjson
from psycopg import postgres, pq
from psycopg.adapt import Loader
from rest_framework import renderers


def iso_time(value, zone) -> str:
    """A time as DRF's DateTimeField writes it (ISO 8601 in the current zone, "Z" for UTC), made directly."""
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


# Every zone's offset has been whole minutes since 1972 (Liberia's -0:44:30 was the last); before, an offset may
# carry seconds (Moscow's +02:30:17 before 1919), which only Python writes as DRF does.
WHOLE_MINUTE_OFFSETS_SINCE = 1973


# psycopg's own loader of `timestamptz` as text: its C one (psycopg[binary]) where it has it.
TIME_LOADER = postgres.adapters.get_loader(postgres.types["timestamptz"].oid, pq.Format.TEXT)


@cache
def local_times(zone) -> type:
    """psycopg's loader of `timestamptz` that gives a time in `zone`, for JSONRenderer to write as DRF writes it, or,
    for an offset with seconds, the text `iso_time` writes."""

    class LocalTimes(Loader):
        def __init__(self, oid, context=None):
            super().__init__(oid, context)
            self.read = TIME_LOADER(oid, context).load  # psycopg's final C class: used, not extended

        def load(self, data):
            value = self.read(data).astimezone(zone)
            if value.year < WHOLE_MINUTE_OFFSETS_SINCE and value.utcoffset().seconds % 60:
                return iso_time(value, zone)
            return value

    return LocalTimes


class JSONRenderer(renderers.JSONRenderer):
    """DRF's JSON, with a lean list's page (`LeanPage`: text, numbers, booleans, lists and dicts of them, and times
    that LeanRows read in the current zone) written by orjson, in C. orjson writes a time as DRF's DateTimeField does
    (ISO 8601 with its offset, microseconds when there are any, "Z" for a zero offset); the offsets with seconds
    that it would not write were made text when read (`local_times`). DRF writes U+2028 and U+2029 escaped (JavaScript
    would end a line there), so this does too. Anything else, and an indented answer (`; indent=` in Accept), is
    DRF's."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if type(data) is dict and type(data.get("results")) is LeanPage:
            # A page's own times are the serializer's (LeanRows read them so); any other time or value orjson does
            # not write itself (a Decimal, a lazy text) goes through DRF's encoder, as DRF would write it.
            times = orjson.OPT_UTC_Z if data["results"].native_times else orjson.OPT_PASSTHROUGH_DATETIME
            written = orjson.dumps(data, default=self.encoder_class().default, option=times)
            if not self.get_indent(accepted_media_type or "", renderer_context or {}):
                return written.replace(LS, LS_ESCAPED).replace(PS, PS_ESCAPED)
            data = orjson.loads(written)
        return super().render(data, accepted_media_type, renderer_context)


LS, LS_ESCAPED, PS, PS_ESCAPED = "\u2028".encode(), b"\\u2028", "\u2029".encode(), b"\\u2029"


class LeanPage(list):
    """A page of rows already written as the list's serializer writes them (with `native_times`, its times left as
    times in the current zone, for JSONRenderer): `get_serializer` hands it back as its own serializer, whose data it
    is."""

    def __init__(self, rows=(), *, native_times: bool = False):
        super().__init__(rows)
        self.native_times = native_times

    @property
    def data(self):
        return self
