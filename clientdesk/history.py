"""History lines that read as sentences in either language, shared by every page that shows recorded changes.

A line is a sentence written whole for its model and event ("Client created", "Vehicle Lada Vesta changed"; see
the app's selectors), followed by what changed, each value as a person reads it: yes/no for a flag, the label of a
choice, the name of a linked record, a moment in the dealership's zone and format, "empty" for nothing. The machine
notes the services leave in a record (`history_change_reason`, a transition's note) are read back as sentences in
the page's language by `reason_text`; a person's own words pass through as written.
"""

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.db import models
from django.utils.translation import gettext, pgettext

from clientdesk.timefmt import local_date_text, local_datetime_text, local_time_text


@dataclass(frozen=True)
class FieldChange:
    label: str
    old: str
    new: str


@dataclass
class HistoryLine:
    at: datetime
    user: object
    sentence: str
    fields: list[FieldChange] = field(default_factory=list)
    reason: str = ""


def empty_text() -> str:
    return pgettext("history value", "empty")


def value_text(model_field: models.Field, value, *, names: dict | None = None) -> str:
    """One recorded value as a person reads it. `names` maps (related model, pk) to a name for foreign keys."""
    if value is None or value == "":
        return empty_text()
    if isinstance(model_field, models.BooleanField):
        return pgettext("history value", "yes") if value else pgettext("history value", "no")
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if model_field.is_relation and model_field.many_to_one:
        key = (model_field.related_model, value)
        return (names or {}).get(key) or pgettext("history value", "record #%(id)s") % {"id": value}
    if isinstance(value, datetime):
        return local_datetime_text(value)
    if isinstance(value, date):
        return local_date_text(value)
    if isinstance(value, time):
        return local_time_text(value)
    return str(value)


def related_names(pairs: Iterable[tuple[type[models.Model], object]]) -> dict:
    """The names of linked records, one query per model: {(model, pk): str(record)}."""
    wanted: dict[type[models.Model], set] = defaultdict(set)
    for model, pk in pairs:
        if pk not in (None, ""):
            wanted[model].add(pk)
    names = {}
    for model, pks in wanted.items():
        for pk, row in model._default_manager.in_bulk(list(pks)).items():
            names[(model, pk)] = str(row)
    return names


def field_changes(diffs: list[tuple[object, object]], *, names: dict) -> list[FieldChange]:
    """`diffs` is [(simple-history ModelChange, model field)]: each as label, old and new text."""
    return [
        FieldChange(
            label=str(model_field.verbose_name),
            old=value_text(model_field, change.old, names=names),
            new=value_text(model_field, change.new, names=names),
        )
        for change, model_field in diffs
    ]


def shown_changes(record, previous) -> list[tuple[object, models.Field]]:
    """What a change record changed against the one before it, less the columns people never edit (a folded search
    key, timestamps)."""
    model = record.instance_type
    shown = []
    for change in record.diff_against(previous).changes:
        model_field = model._meta.get_field(change.field)
        if model_field.editable:
            shown.append((change, model_field))
    return shown


# The notes services leave in the history, as they are stored (English, with ids), and their sentences.
REASONS: list[tuple[re.Pattern, Callable[[re.Match, Callable[[int], str]], str]]] = [
    (
        re.compile(r"^merged into #(\d+)$"),
        lambda m, client: (
            pgettext("history", "This client was merged into %(client)s.") % {"client": client(int(m[1]))}
        ),
    ),
    (
        re.compile(r"^merged #(\d+) into this client$"),
        lambda m, client: (
            pgettext("history", "Client %(client)s was merged into this client.") % {"client": client(int(m[1]))}
        ),
    ),
    (
        re.compile(r"^client #(\d+) merged into #(\d+)$"),
        lambda m, client: (
            pgettext("history", "Moved from client %(source)s to %(target)s when they were merged.")
            % {"source": client(int(m[1])), "target": client(int(m[2]))}
        ),
    ),
]
REASON_IDS = re.compile(r"#(\d+)")


def reason_ids(reason: str) -> list[int]:
    """The client ids a stored note names, for looking up their names in one query."""
    if any(pattern.match(reason) for pattern, _sentence in REASONS):
        return [int(i) for i in REASON_IDS.findall(reason)]
    return []


def reason_text(reason: str, *, client_name: Callable[[int], str]) -> str:
    """A stored note as a sentence in the page's language. Notes written as message ids (`gettext_noop`) are
    translated; a person's own words are left as they are."""
    reason = (reason or "").strip()
    if not reason:
        return ""
    for pattern, sentence in REASONS:
        if match := pattern.match(reason):
            return sentence(match, client_name)
    return gettext(reason)
