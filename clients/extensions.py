"""What higher apps add to the clients' pages, without this app importing them (see `clientdesk.registry`).

- `timeline_sources`: kinds of rows that join the card's timeline (calls, workshop visits, follow-up surveys; claims
  and loaners later), each a `TimelineSource`: the card pages them all together, newest first. A source that also
  gives `vehicle_rows` joins the vehicle page's timeline.
- `card_panels`: blocks on the card's activity column (the "log a call" form), each a template and a function
  giving its context, or None to show nothing.
- `delivery_notices`: functions `(delivery) -> (level, text) | None` whose message follows a recorded handover (the
  calls app says when the follow-up call will be).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from clientdesk.registry import Registry


@dataclass(frozen=True)
class TimelineSource:
    """A kind of row on the client's timeline.

    `rows(client, user)` is the client's rows of this kind that the user may see, as `values()` of what its line prints
    ("pk", the `at` field, names as annotations) and unordered: the card orders them by the `at` field and id, newest
    first, and reads one page at a time after a cursor, so (client, `at`) wants an index. It may read only the
    client's id (and what `visible_to` reads of the user): the card builds the first page's query once, for a stand-in
    client, and runs it again for each (clientdesk.compiled). `url`, if given, names the URL of a row (taking its pk),
    reversed once per page and handed to the line as `entry.url`.

    `line(entry, user)` draws one entry as HTML (`entry.obj` is the row, a `ListRow`): a Python function rather than
    a template, since a card draws twenty lines of six kinds and each through the template engine cost about as much
    as the page's queries. Every text from the database goes through `html.escape`; `clients.timeline` has what
    lines print alike (times, choice labels, the car). The card, its "Show more" pages and the vehicle's page all draw
    a kind with its one `line`.

    `vehicle_rows(vehicle, user)`, if given, is the same (reading the vehicle's id only) for the rows that name the
    vehicle: the vehicle's page pages them the same way, so (vehicle, `at`) wants an index too. A source without it
    stays off the vehicle's page; a source whose `rows` is None is on the vehicle's page only (tow orders, tinting
    consultations).
    """

    kind: str
    at: str
    rows: Callable[..., QuerySet] | None
    line: Callable[..., str]
    url: str | None = None
    vehicle_rows: Callable[..., QuerySet] | None = None


@dataclass(frozen=True)
class TimelineEntry:
    """One line of the client's timeline: `obj` is the row (a `ListRow` of its source's columns), drawn by `line`,
    which finds the row's page as `url`. Entries are ordered by (at, kind, id), newest first."""

    kind: str
    at: datetime
    obj: Any
    line: Callable[..., str]
    url: str = ""

    @property
    def position(self) -> tuple[datetime, str, int]:
        return self.at, self.kind, self.obj.pk


@dataclass(frozen=True)
class CardPanel:
    """A block of the card's activity column. `context(request, client, state)` returns what `template` needs, or
    None to leave the block out; `state` carries what a view re-rendering the card passes back (a form with errors)."""

    template: str
    context: Callable[..., dict | None]


DeliveryNotice = Callable[..., tuple[str, str] | None]

timeline_sources: Registry[TimelineSource] = Registry("client timeline")
card_panels: Registry[CardPanel] = Registry("client card panels")
delivery_notices: Registry[DeliveryNotice] = Registry("delivery notices")
