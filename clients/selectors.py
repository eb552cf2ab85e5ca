"""Reads shaped for the pages and the API: search, the client card, likely duplicates."""

import re
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext, pgettext_lazy

from clientdesk.compiled import compiled_rows
from clientdesk.history import HistoryLine, field_changes, reason_ids, reason_text, related_names, shown_changes
from clientdesk.querysets import visibility_key
from clientdesk.text import visible_text
from clientdesk.views import ListRow, url_maker
from clients import timeline
from clients.extensions import TimelineEntry, TimelineSource, card_panels, timeline_sources
from clients.models import Client, ClientPhone, Delivery, Vehicle
from clients.normalize import normalize_phone, phone_fragment, plate_fragment, vin_fragment

# What a query that is (part of) a phone number consists of.
PHONE_LIKE = re.compile(r"^[\d\s()+\-.]+$")

# Why a client matched, strongest first: results are ordered by it.
MATCH_LABELS = {
    "dms_id": _("DMS id"),
    "phone": _("phone"),
    "plate": _("plate"),
    "vin": _("VIN"),
    "name": _("name"),
    "email": _("email"),
}


@dataclass
class SearchHit:
    client: Client
    matched_on: list[str] = field(default_factory=list)

    @property
    def matched_labels(self) -> list[str]:
        return [str(MATCH_LABELS[m]) for m in self.matched_on]


def _phone_conditions(digits: str) -> Q:
    condition = Q(number__contains=digits)
    # A leading 8 is the Russian trunk prefix people dial instead of +7.
    if digits.startswith("8") and len(digits) > 1:
        condition |= Q(number__startswith="+7" + digits[1:])
    return condition


def _whole_number(text: str, digits: str) -> str | None:
    """The E.164 number the text spells out whole (any spelling: 8 (912) ..., +7 912 ..., 912...), else None."""
    if len(digits) < 10:
        return None
    try:
        return normalize_phone(text)
    except ValidationError:
        return None


def _phone_sources(text: str, digits: str) -> list[QuerySet]:
    """The phone matches, strongest first: the whole number; numbers ending with the digits (people say the last
    digits); any number containing them. Within a kind, clients with the most recent activity (the client's last
    change, `updated_at`) come first. Each is one query with a LIMIT on the phone's trigram index: a fragment of 3-4
    digits matches a few thousand numbers at 500,000 clients, which PostgreSQL sorts in a few milliseconds."""
    phones = ClientPhone.objects.filter(client__merged_into__isnull=True)
    recent_first = ("-client__updated_at", "-client_id")
    sources = []
    if number := _whole_number(text, digits):
        sources.append(phones.filter(number=number).order_by(*recent_first))
    sources.append(phones.filter(number__endswith=digits).order_by(*recent_first))
    sources.append(phones.filter(_phone_conditions(digits)).order_by(*recent_first))
    return [source.values_list("client_id", flat=True) for source in sources]


def search_hint(query: str) -> str | None:
    """What to say instead of results when the query is too short to search: a phone number's fragment needs
    `SEARCH_MIN_DIGITS` digits (fewer match a good part of the base, in no useful order)."""
    text = query.strip()
    minimum = settings.CLIENTDESK["SEARCH_MIN_DIGITS"]
    if text and PHONE_LIKE.match(text) and len(re.sub(r"\D", "", text)) < minimum:
        return str(_("Type at least %(count)d digits of the number.") % {"count": minimum})
    return None


def search_client_ids(query: str, *, limit: int | None = None) -> dict[int, list[str]]:
    """Ids of active clients matching the query, each with what it matched on, strongest match first.

    Every kind of match is its own small query with a LIMIT, served by its own index (trigram indexes over the
    normalised columns on PostgreSQL, LIKE on SQLite), instead of one OR across joins no index can serve. Phone
    matches are ranked (`_phone_sources`); the other kinds take any matches, in no order.
    """
    limit = limit or settings.CLIENTDESK["SEARCH_LIMIT"]
    text = visible_text(query)  # spaces collapsed; no NUL or control character reaches the database
    if len(text) < 2:
        return {}
    sources: list[tuple[str, QuerySet]] = []
    active_owner = Q(owner__merged_into__isnull=True)

    # No ORDER BY where the order does not matter: a model's default ordering would make the database sort every
    # match before the LIMIT.
    sources.append(("dms_id", Client.objects.active().filter(dms_id=text).values_list("id", flat=True).order_by()))
    if digits := phone_fragment(text):
        sources += [("phone", ids) for ids in _phone_sources(text, digits)]
    if plate := plate_fragment(text):
        by_plate = Vehicle.objects.filter(active_owner, plate__contains=plate)
        sources.append(("plate", by_plate.values_list("owner_id", flat=True).order_by()))
    if vin := vin_fragment(text):
        by_vin = Vehicle.objects.filter(active_owner, vin__contains=vin)
        sources.append(("vin", by_vin.values_list("owner_id", flat=True).order_by()))
    if any(ch.isalpha() for ch in text):
        by_name = Client.objects.active()
        for word in Client.search_key(text).split():
            by_name = by_name.filter(search_name__contains=word)
        sources.append(("name", by_name.values_list("id", flat=True).order_by()))
        if "@" in text:
            email = Client.objects.active().filter(email=text.lower())
            sources.append(("email", email.values_list("id", flat=True).order_by()))

    hits: dict[int, list[str]] = {}
    for label, ids in sources:
        for client_id in ids[:limit]:
            hits.setdefault(client_id, [])
            if label not in hits[client_id]:
                hits[client_id].append(label)
        if len(hits) >= limit:
            break
    return dict(list(hits.items())[:limit])


def clients_for_display(queryset: QuerySet) -> QuerySet:
    """Clients with what a result row or list row shows: phones and vehicles, in three queries whatever the count."""
    return queryset.select_related("assigned_manager").prefetch_related(
        Prefetch("phones", queryset=ClientPhone.objects.order_by("-is_primary", "id")),
        Prefetch("vehicles", queryset=Vehicle.objects.order_by("id")),
    )


def client_search(query: str, *, user, limit: int | None = None) -> list[SearchHit]:
    hits = search_client_ids(query, limit=limit)
    if not hits:
        return []
    clients = clients_for_display(Client.objects.visible_to(user).filter(id__in=hits)).in_bulk()
    rank = {client_id: position for position, client_id in enumerate(hits)}
    ordered = sorted((cid for cid in hits if cid in clients), key=lambda cid: (rank[cid], clients[cid].name))
    return [SearchHit(client=clients[cid], matched_on=hits[cid]) for cid in ordered]


def clients_by_phone(number_e164: str, *, user) -> list[Client]:
    """Active clients with exactly this number: who is calling."""
    ids = ClientPhone.objects.filter(number=number_e164, client__merged_into__isnull=True).values("client_id")
    return list(clients_for_display(Client.objects.visible_to(user).filter(id__in=ids)).order_by("name")[:10])


@dataclass
class DuplicateHint:
    client: Client
    reasons: list[str]


def client_duplicates(client: Client) -> list[DuplicateHint]:
    """Other active clients that are likely the same person: a shared phone number or the same email. A company and
    a private person sharing only a phone are not proposed (a director's mobile on the company's card, a family
    number): that needs more evidence, such as the same email.

    One small query per kind of evidence, each served by its index, then the candidates with their phones."""
    numbers = [p.number for p in client.phones.all()]
    candidate_ids: set[int] = set()
    if numbers:
        sharing = ClientPhone.objects.filter(number__in=numbers).exclude(client_id=client.pk).order_by()
        candidate_ids.update(sharing.values_list("client_id", flat=True)[:50])
    if client.email:
        same_email = Client.objects.filter(email=client.email).exclude(pk=client.pk).order_by()
        candidate_ids.update(same_email.values_list("id", flat=True)[:50])
    if not candidate_ids:
        return []
    others = (
        Client.objects.active()
        .filter(pk__in=candidate_ids)
        .order_by("name", "id")
        .prefetch_related(Prefetch("phones", queryset=ClientPhone.objects.order_by("-is_primary", "id")))[:20]
    )
    hints = []
    for other in others:
        reasons = [
            str(_("same phone %(phone)s") % {"phone": p.display}) for p in other.phones.all() if p.number in numbers
        ]
        same_email = bool(client.email) and other.email == client.email
        if same_email:
            reasons.append(str(_("same email")))
        if other.kind != client.kind and not same_email:
            continue
        hints.append(DuplicateHint(client=other, reasons=reasons))
    return hints


def duplicate_phone_groups(*, after: str | None = None, size: int = 50) -> tuple[list[dict], str | None]:
    """Phone numbers shared by more than one active client, for the head's data-quality list; keyset by number.

    Each client after the first gets `merge_into`: the first client of the same kind (person or company) on that
    number, or None. A company and a private person are never proposed for merging on a shared phone alone; a
    group holding both kinds says so (`mixed_kinds`)."""
    shared = (
        ClientPhone.objects.filter(client__merged_into__isnull=True)
        .values("number")
        .annotate(clients=Count("client", distinct=True))
        .filter(clients__gt=1)
        .order_by("number")
    )
    if after:
        shared = shared.filter(number__gt=after)
    groups = list(shared[: size + 1])
    has_next = len(groups) > size
    groups = groups[:size]
    numbers = [g["number"] for g in groups]
    members: dict[str, list[Client]] = {n: [] for n in numbers}
    rows = (
        ClientPhone.objects.filter(number__in=numbers, client__merged_into__isnull=True)
        .select_related("client")
        .order_by("number", "client_id")
    )
    for phone in rows:
        members[phone.number].append(phone.client)
    result = []
    for number in numbers:
        first_of_kind: dict[str, Client] = {}
        for member in members[number]:
            member.merge_into = first_of_kind.get(member.kind)
            first_of_kind.setdefault(member.kind, member)
        result.append(
            {
                "number": number,
                "display": ClientPhone(number=number).display,
                "clients": members[number],
                "mixed_kinds": len(first_of_kind) > 1,
            }
        )
    return result, (numbers[-1] if has_next else None)


def client_timeline_deliveries(client: Client, user) -> QuerySet:
    """The client's handovers, for the card's timeline."""
    return timeline.delivery_rows(Delivery.objects.visible_to(user).filter(client=client))


def vehicle_timeline_deliveries(vehicle: Vehicle, user) -> QuerySet:
    """The vehicle's handovers, for its page (served by the unique (vehicle, delivered_at) constraint's index)."""
    return timeline.delivery_rows(Delivery.objects.visible_to(user).filter(vehicle=vehicle))


DELIVERIES = TimelineSource(
    "delivery",
    "delivered_at",
    client_timeline_deliveries,
    timeline.delivery_line,
    vehicle_rows=vehicle_timeline_deliveries,
)
# Entries on the card's first page, and on each page "Show more" adds.
TIMELINE_PAGE = 20


@dataclass
class TimelinePage:
    entries: list[TimelineEntry]
    # The cursor of the next page ("Show more"), None on the last.
    next_before: str | None


def timeline_cursor(entry: TimelineEntry) -> str:
    at, kind, pk = entry.position
    return f"{at.isoformat()}_{kind}_{pk}"


def _parse_timeline_cursor(before: str | None) -> tuple[datetime, str, int] | None:
    if not before:
        return None
    try:
        moment, kind, pk = before.split("_")
        at = datetime.fromisoformat(moment)
        return (at, kind, int(pk)) if at.tzinfo is not None else None
    except ValueError:
        return None  # a mangled cursor shows the first page rather than an error


def _older_than(source: TimelineSource, position: tuple[datetime, str, int]) -> Q:
    """Rows of `source` that come after `position` in (time, kind, id) order, newest first. The kind is one value
    per source, so it only decides whether rows at the cursor's very moment come before or after it."""
    at, kind, pk = position
    if source.kind < kind:
        return Q(**{f"{source.at}__lte": at})
    if source.kind > kind:
        return Q(**{f"{source.at}__lt": at})
    return Q(**{f"{source.at}__lt": at}) | Q(**{source.at: at, "pk__lt": pk})


def _timeline(owner: Client | Vehicle, sources: list, *, user, before: str | None, size: int) -> TimelinePage:
    """One page of `size` entries after the cursor `before` from the owner's rows of each source, newest first;
    `sources` are (source, rows) with `rows(owner, user)` the source's queryset for the owner.

    Keyset by (time, kind, id): each source gives at most `size + 1` rows after the cursor from its (owner, time)
    index, one query each, and the merge keeps the first `size`; the extra row tells whether there is a next page.
    Rows are `values()` of what their lines print, as `ListRow`s: no model per line. The first page, which every card
    draws, runs each source's query as compiled once for the source, the owner's kind and who asks
    (`clientdesk.compiled`): building and compiling six queries with their joins cost more than running them.
    """
    position = _parse_timeline_cursor(before)
    entries: list[TimelineEntry] = []
    for source, rows in sources:

        def page_rows(pk: int, source=source, rows=rows) -> QuerySet:
            found = rows(type(owner)(pk=pk), user)
            if position is not None:
                found = found.filter(_older_than(source, position))
            return found.order_by(f"-{source.at}", "-pk")[: size + 1]

        found = None
        if position is None:
            key = ("timeline", source.kind, type(owner).__name__, visibility_key(user), size)
            found = compiled_rows(key, page_rows, owner.pk)
        if found is None:
            found = page_rows(owner.pk)
        url = url_maker(source.url) if source.url else None
        entries += (
            TimelineEntry(source.kind, row[source.at], ListRow(row), source.line, url(row["pk"]) if url else "")
            for row in found
        )
    entries.sort(key=lambda e: e.position, reverse=True)
    page = entries[:size]
    return TimelinePage(entries=page, next_before=timeline_cursor(page[-1]) if len(entries) > size else None)


def client_timeline(client: Client, *, user, before: str | None = None, size: int = TIMELINE_PAGE) -> TimelinePage:
    """What happened with the client, newest first, one page of `size` entries after the cursor `before`: its
    handovers and what the other apps contribute (calls, workshop visits, surveys; `extensions.timeline_sources`)."""
    sources = [(source, source.rows) for source in (DELIVERIES, *timeline_sources) if source.rows]
    return _timeline(client, sources, user=user, before=before, size=size)


def vehicle_timeline(vehicle: Vehicle, *, user, before: str | None = None, size: int = TIMELINE_PAGE) -> TimelinePage:
    """Everything that names the vehicle, newest first, paged like the client's timeline: its handovers and the rows
    of every source that says how to find a vehicle's rows (`TimelineSource.vehicle_rows`: calls, workshop visits,
    claims, documents, tow orders, tinting consultations), one query per source on its (vehicle, time) index."""
    sources = [
        (source, source.vehicle_rows) for source in (DELIVERIES, *timeline_sources) if source.vehicle_rows is not None
    ]
    return _timeline(vehicle, sources, user=user, before=before, size=size)


def vehicle_for_page(pk: int, *, user) -> Vehicle:
    """The vehicle with its owner, for its page; raises Vehicle.DoesNotExist when the user may not see it or its owner
    was merged into another client (a merge moves the cars to the client kept, so none should be left behind)."""
    return (
        Vehicle.objects.visible_to(user)
        .filter(owner__in=Client.objects.visible_to(user).active())
        .select_related("owner")
        .get(pk=pk)
    )


def client_card(client: Client, *, request, before: str | None = None, **state) -> dict:
    """The card's context: the client, likely duplicates, a page of the timeline (the newest, or the one after the
    cursor `before`) and the panels other apps contribute (`extensions.card_panels`), each panel's context merged in
    and its template listed in `panels`."""
    context = {
        "client": client,
        "duplicates": client_duplicates(client),
        "timeline": client_timeline(client, user=request.user, before=before),
        "panels": [],
    }
    for panel in card_panels:
        panel_context = panel.context(request, client, state)
        if panel_context is not None:
            context.update(panel_context)
            context["panels"].append(panel.template)
    return context


def client_for_card(pk: int, *, user) -> Client:
    """The client with phones, vehicles and manager loaded; raises Client.DoesNotExist. A merged client's card sends
    the user on to the client kept, by id (`merged_into_id`): nothing of that client is read here."""
    return clients_for_display(Client.objects.visible_to(user)).get(pk=pk)


# The history page's sentences, whole for each record and event, so that each language can say them its own way
# (in Russian the verb agrees with the noun: "Клиент создан", "Телефон добавлен").
HISTORY_SENTENCES = {
    Client: {
        "+": pgettext_lazy("history", "Client created"),
        "~": pgettext_lazy("history", "Client changed"),
        "-": pgettext_lazy("history", "Client deleted"),
    },
    ClientPhone: {
        "+": pgettext_lazy("history", "Phone %(phone)s added"),
        "~": pgettext_lazy("history", "Phone %(phone)s changed"),
        "-": pgettext_lazy("history", "Phone %(phone)s removed"),
    },
    Vehicle: {
        "+": pgettext_lazy("history", "Vehicle %(vehicle)s added"),
        "~": pgettext_lazy("history", "Vehicle %(vehicle)s changed"),
        "-": pgettext_lazy("history", "Vehicle %(vehicle)s removed"),
    },
}


def _history_sentence(record) -> str:
    sentence = HISTORY_SENTENCES[record.instance_type][record.history_type]
    instance = record.instance
    if isinstance(instance, ClientPhone):
        return sentence % {"phone": instance.display}
    if isinstance(instance, Vehicle):
        return sentence % {"vehicle": str(instance)}
    return str(sentence)


def client_changes(client: Client, *, limit: int = 300) -> list[HistoryLine]:
    """The recorded history of the client, its phones and its vehicles, newest first: each line a sentence, with
    what changed as people read it (clientdesk.history)."""
    # A phone or car that came with a merged duplicate shows its whole story, the move included.
    sources = (
        Client.history.filter(id=client.pk),
        ClientPhone.history.filter(id__in=ClientPhone.history.filter(client_id=client.pk).values("id")),
        Vehicle.history.filter(id__in=Vehicle.history.filter(owner_id=client.pk).values("id")),
    )
    found = []  # (record, its diffs)
    for records in sources:
        previous: dict[int, object] = {}
        for record in records.select_related("history_user").order_by("history_date", "history_id")[:limit]:
            before = previous.get(record.id)
            diffs = shown_changes(record, before) if before is not None and record.history_type == "~" else []
            previous[record.id] = record
            found.append((record, diffs))
    # The names of everything the lines link to, one query per model.
    pairs = [(f.related_model, c.old) for _r, diffs in found for c, f in diffs if f.is_relation]
    pairs += [(f.related_model, c.new) for _r, diffs in found for c, f in diffs if f.is_relation]
    pairs += [(Client, pk) for record, _d in found for pk in reason_ids(record.history_change_reason or "")]
    names = related_names(pairs)

    def client_name(pk: int) -> str:
        name = names.get((Client, pk))
        return pgettext("history", "%(name)s (#%(id)s)") % {"name": name, "id": pk} if name else f"#{pk}"

    changes = [
        HistoryLine(
            at=record.history_date,
            user=record.history_user,
            sentence=_history_sentence(record),
            fields=field_changes(diffs, names=names),
            reason=reason_text(record.history_change_reason or "", client_name=client_name),
        )
        for record, diffs in found
    ]
    changes.sort(key=lambda c: c.at, reverse=True)
    return changes[:limit]
