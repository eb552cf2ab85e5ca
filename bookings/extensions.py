"""What higher apps add to the bookings' pages, without this app importing them (see `clientdesk.registry`).

- `card_panels`: blocks on the booking card (the calls app's "recent calls with the client"), each a template and a
  function `(request, booking, state) -> context | None`.
"""

from collections.abc import Callable
from dataclasses import dataclass

from clientdesk.registry import Registry


@dataclass(frozen=True)
class CardPanel:
    template: str
    context: Callable[..., dict | None]


card_panels: Registry[CardPanel] = Registry("booking card panels")
