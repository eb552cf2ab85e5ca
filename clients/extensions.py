"""What higher apps add to the clients' pages, without this app importing them (see `clientdesk.registry`).

- `timeline_sources`: functions `(client, user, limit) -> entries` whose entries join the card's timeline (calls,
  workshop visits, follow-up surveys; claims and loaners later).
- `card_panels`: blocks on the card's activity column (the "log a call" form), each a template and a function
  giving its context, or None to show nothing.
- `delivery_notices`: functions `(delivery) -> (level, text) | None` whose message follows a recorded handover (the
  calls app says when the follow-up call will be).
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from clientdesk.registry import Registry


@dataclass(frozen=True)
class TimelineEntry:
    """One line of the client's timeline: drawn with `template`, which finds the row as `entry.obj`."""

    kind: str
    at: datetime
    obj: object
    template: str


@dataclass(frozen=True)
class CardPanel:
    """A block of the card's activity column. `context(request, client, state)` returns what `template` needs, or
    None to leave the block out; `state` carries what a view re-rendering the card passes back (a form with errors)."""

    template: str
    context: Callable[..., dict | None]


TimelineSource = Callable[..., Iterable[TimelineEntry]]
DeliveryNotice = Callable[..., tuple[str, str] | None]

timeline_sources: Registry[TimelineSource] = Registry("client timeline")
card_panels: Registry[CardPanel] = Registry("client card panels")
delivery_notices: Registry[DeliveryNotice] = Registry("delivery notices")
