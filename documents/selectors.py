"""Reads of the documents app shaped for pages, the API and other apps: the archive search, the cards, the timeline."""

import re

from django.conf import settings
from django.db.models import F, Q, QuerySet

from clientdesk.history import HistoryLine, field_changes, related_names, shown_changes
from clientdesk.views import ListRow
from clients.models import Client, Vehicle
from clients.normalize import plate_fragment, vin_fragment
from clients.selectors import search_client_ids
from documents import timeline
from documents.models import Document, Registry

# How many clients and cars one search box query may stand for (the most relevant first).
SEARCH_PEOPLE_LIMIT = 200
# A number fragment shorter than this matches too much for a trigram index: it is compared whole.
MIN_NUMBER_FRAGMENT = 3
# A run of this many digits in a number picks out a few documents (see `number_condition`); at most this many ids.
NUMBER_DIGITS_MIN = 6
NUMBER_IDS_LIMIT = 1000
# Columns a step changes: the card shows them in its trail, not in its history of edits.
STEP_FIELDS = {"state", "state_changed_at"}


def is_signed(document: Document) -> bool:
    """Whether the paper carries the client's signature (signed, or further on: at accounting, in the archive).
    Reads the row afresh, so a caller holding an old instance gets today's answer."""
    state = Document.objects.filter(pk=document.pk).values_list("state", flat=True).first()
    return state in Document.SIGNED_STATES


def documents_for_display(queryset: QuerySet) -> QuerySet:
    """Documents with what a list row shows (`client_label`, `car_label`, `vin_label`), in one query whatever the
    count. The client's and car's columns come as annotations rather than `select_related`: one model per row instead
    of three, which is a third of a 50-row page's time."""
    return queryset.annotate(
        client_name=F("client__name"),
        vehicle_make=F("vehicle__make"),
        vehicle_model=F("vehicle__model"),
        vehicle_plate=F("vehicle__plate"),
        vehicle_vin=F("vehicle__vin"),
    ).only(
        "id",
        "kind",
        "number",
        "issued_on",
        "title",
        "original",
        "state",
        "archive_box",
        "archive_shelf",
        "dms_id",
        "delivery_id",
        "booking_id",
        "client_id",
        "vehicle_id",
    )


# What a row of the archive list prints (templates/documents/_document_row.html), as `values()` columns.
LIST_COLUMNS = (
    *("pk", "kind", "number", "issued_on", "title", "original", "state", "archive_box", "archive_shelf"),
    *("client_id", "vehicle_id", "client_name", "vehicle_make", "vehicle_model", "vehicle_plate", "vehicle_vin"),
)


def document_list_rows(queryset: QuerySet) -> QuerySet:
    """The archive list's rows as dicts of the columns it prints (`documents_for_display`'s annotations included):
    a plain row per document rather than a model, a fifth of a page's time. `shape_list_rows` makes the page's rows,
    with their labels, once the page is cut."""
    return documents_for_display(queryset).values(*LIST_COLUMNS)


_KIND_LABELS = dict(Document.Kind.choices)
_STATE_LABELS = dict(Document.State.choices)


def shape_list_rows(rows: list[dict]) -> list[ListRow]:
    """The page's rows, each with the names the row template reads of a document (`get_kind_display`,
    `state_badge`, `car_label`…), so the same template prints a model or a row."""
    shaped = []
    for row in rows:
        kind, state = row["kind"], row["state"]
        car = Vehicle.label(row["vehicle_make"], row["vehicle_model"], row["vehicle_plate"])
        car = "" if row["vehicle_id"] is None else car
        shaped.append(
            ListRow(
                row,
                get_kind_display=_KIND_LABELS.get(kind, kind),
                get_state_display=_STATE_LABELS.get(state, state),
                state_badge=Document.STATE_BADGES.get(state, "text-bg-danger"),
                location=Document.place(row["archive_box"], row["archive_shelf"]),
                client_label=row["client_name"] or "",
                car_label=car,
                vin_label=row["vehicle_vin"] or "",
            )
        )
    return shaped


def search_vehicle_ids(text: str, *, limit: int = SEARCH_PEOPLE_LIMIT) -> list[int]:
    """Cars whose VIN or plate contains the fragment (each its own query on its trigram index)."""
    ids: list[int] = []
    if plate := plate_fragment(text):
        ids += Vehicle.objects.filter(plate__contains=plate).values_list("id", flat=True).order_by()[:limit]
    if vin := vin_fragment(text):
        ids += Vehicle.objects.filter(vin__contains=vin).values_list("id", flat=True).order_by()[:limit]
    return list(dict.fromkeys(ids))[:limit]


def number_digits(key: str) -> str:
    """The longest run of digits in a number's search key ("дкп-2024/0573949" → "0573949"), when it is long enough to
    pick out a few documents by itself."""
    runs = sorted(re.findall(r"\d+", key), key=len, reverse=True)
    return runs[0] if runs and len(runs[0]) >= NUMBER_DIGITS_MIN and runs[0] != key else ""


def number_condition(key: str) -> Q:
    """Documents whose number contains the key. Every number shares its kind's and year's trigrams (`дкп`, `202`),
    so a whole number asked of the trigram index reads hundreds of thousands of entries; its longest run of digits
    reads a handful. So a key with such a run is looked up by the run first (one small query), and the few numbers
    found are checked against the whole key."""
    if len(key) < MIN_NUMBER_FRAGMENT:
        return Q(number_key=key)
    digits = number_digits(key)
    if not digits:
        return Q(number_key__contains=key)
    ids = list(
        Document.objects.filter(number_key__contains=digits).values_list("id", flat=True).order_by()[:NUMBER_IDS_LIMIT]
    )
    return Q(id__in=ids, number_key__contains=key) if ids else Q(pk__in=[])


def archive_search(queryset: QuerySet, query: str) -> QuerySet:
    """The archive's one search box: documents whose number contains the text, or whose client (by name, phone,
    plate, VIN, DMS id: the client search) or car (by VIN or plate) matches it, or whose DMS id it is.

    The people and cars are found first, each by its own small query on its own index (at most
    `SEARCH_PEOPLE_LIMIT` each); the documents are then one query whose OR the database serves with a bitmap of the
    number's trigram index and the client and vehicle indexes, instead of an OR across joins no index can serve."""
    text = " ".join((query or "").split())
    if not text:
        return queryset
    condition = number_condition(Document.search_key(text)) | Q(dms_id=text)
    client_ids = list(search_client_ids(text, limit=SEARCH_PEOPLE_LIMIT))
    if client_ids:
        condition |= Q(client_id__in=client_ids)
    vehicle_ids = search_vehicle_ids(text)
    if vehicle_ids:
        condition |= Q(vehicle_id__in=vehicle_ids)
    return queryset.filter(condition)


def document_for_card(pk: int, *, user) -> Document:
    return (
        Document.objects.visible_to(user)
        .select_related("client", "vehicle", "delivery", "booking", "created_by", "replaced_by")
        .get(pk=pk)
    )


def document_transitions(document: Document) -> list:
    return list(document.transitions.select_related("by", "registry"))


def document_changes(document: Document, *, limit: int = 100) -> list[HistoryLine]:
    """The document's recorded edits, newest first, each with what changed (state steps are in its transitions)."""
    records = list(document.history.select_related("history_user").order_by("-history_date", "-history_id")[:limit])
    pairs = []
    diffs = []
    for record, previous in zip(records, [*records[1:], None], strict=True):
        if previous is None:
            diffs.append((record, []))
            continue
        # The state's steps are shown as the document's trail (who, when, from, to, comment), not again here.
        changes = [(c, f) for c, f in shown_changes(record, previous) if f.name not in STEP_FIELDS]
        diffs.append((record, changes))
        for change, model_field in changes:
            if model_field.is_relation:
                pairs += [(model_field.related_model, change.old), (model_field.related_model, change.new)]
    names = related_names(pairs)
    lines = []
    for record, changes in diffs:
        if record.history_type == "+":
            sentence = str(Document._meta.verbose_name).capitalize()
        elif not changes:
            continue
        else:
            sentence = ""
        lines.append(
            HistoryLine(
                at=record.history_date,
                user=record.history_user,
                sentence=sentence,
                fields=field_changes(changes, names=names),
                reason=record.history_change_reason or "",
            )
        )
    return lines


def contracts_awaiting(user) -> QuerySet:
    """Contracts on their way to signature: drafts for the head, approved ones for legal, endorsed ones to sign."""
    return (
        documents_for_display(Document.objects.visible_to(user))
        .filter(state__in=Document.APPROVAL_STATES)
        .order_by("issued_on", "id")
    )


def registries_for_display(queryset: QuerySet) -> QuerySet:
    return queryset.select_related("created_by", "received_by")


def registry_documents(registry: Registry) -> list[Document]:
    return list(
        documents_for_display(Document.objects.filter(registry_items__registry=registry)).order_by("registry_items__id")
    )


def mail_for_display(queryset: QuerySet) -> QuerySet:
    return queryset.select_related("addressee", "handed_over_by", "client")


def client_timeline_documents(client: Client, user) -> QuerySet:
    """The client's documents for the card's timeline (clients.extensions)."""
    return timeline.document_rows(Document.objects.visible_to(user).filter(client=client))


def vehicle_timeline_documents(vehicle: Vehicle, user) -> QuerySet:
    """The vehicle's documents for its page (clients.extensions; (vehicle, created_at) index)."""
    return timeline.document_rows(Document.objects.visible_to(user).filter(vehicle=vehicle))


def vehicle_documents(vehicle: Vehicle, user, *, limit: int = 50) -> list[Document]:
    return list(
        Document.objects.visible_to(user)
        .filter(vehicle=vehicle)
        .order_by("-issued_on", "-id")
        .only("id", "kind", "number", "issued_on", "state", "archive_box", "archive_shelf")[:limit]
    )


def default_page_size() -> int:
    return int(getattr(settings, "DOCUMENTS_PAGE_SIZE", 50))
