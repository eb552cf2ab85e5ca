"""What higher apps add to the bookings' pages, without this app importing them (see `clientdesk.registry`).

- `card_panels`: blocks on the booking card (the calls app's "recent calls with the client"), each a template and a
  function `(request, booking, state) -> context | None`.
- `slot_marks`: wishes the booking form and the slot picker take, and which free slots satisfy them (the fleet
  app's "needs a loaner": a loaner free for the planned work plus its return buffer).
"""

from collections.abc import Callable
from dataclasses import dataclass

from clientdesk.registry import Registry


@dataclass(frozen=True)
class CardPanel:
    template: str
    context: Callable[..., dict | None]


card_panels: Registry[CardPanel] = Registry("booking card panels")


@dataclass(frozen=True)
class SlotMark:
    """A wish the booking form and the slot picker take (the fleet app's "needs a loaner"). `field` is the form's
    yes/no field and `booking_create`'s keyword; `label` its text; `keys(slots, planned_minutes=, exclude_booking=)`
    answers, in a fixed number of queries, which free slots also satisfy it (a booking being moved does not count
    against itself), so the picker marks them."""

    field: str
    label: str
    keys: Callable[..., set[str]]
    # Whether a booking already carries the wish (its loaner): moving it, the picker marks the slots the same way.
    held_by: Callable[..., bool] | None = None


slot_marks: Registry[SlotMark] = Registry("booking slot marks")
