"""What higher apps add to the calls' pages, without this app importing them (see `clientdesk.registry`).

- `queue_panels`: blocks on the manager's day (the call queue page) beside the queue: her claims due soon, the
  loaners overdue for return. Each is a template and a function `context(request) -> dict | None` (None shows
  nothing); the function reads what it shows in a fixed number of queries.
- `call_actions`: functions `(call, user) -> (label, url) | None` offered after a call is logged and on the call's
  line of the client's timeline (a complaint call opens a claim prefilled from it), to a user who may take them.
  They make no query.
"""

from collections.abc import Callable
from dataclasses import dataclass
from html import escape

from clientdesk.registry import Registry


@dataclass(frozen=True)
class QueuePanel:
    template: str
    context: Callable[..., dict | None]


queue_panels: Registry[QueuePanel] = Registry("queue_panels")
call_actions: Registry[Callable[..., tuple[str, str] | None]] = Registry("call_actions")


def actions_for_call(call, user) -> list[tuple[str, str]]:
    """The contributed actions that apply to this call and that `user` may take, as (label, url) in their order."""
    return [action for make in call_actions if (action := make(call, user)) is not None]


def call_action_links(call, user) -> str:
    """The actions as buttons (escaped HTML): after a call is logged (the `call_action_links` tag) and on its line of
    the timeline (calls.timeline)."""
    if call is None:
        return ""
    return "".join(
        f'<a class="btn btn-sm btn-outline-danger call-action" href="{escape(url)}">{escape(str(label))}</a>'
        for label, url in actions_for_call(call, user)
    )


def queue_panel_contexts(request) -> list[tuple[str, dict]]:
    """The contributed panels that have something to show, as (template, context) in their order."""
    shown = []
    for panel in queue_panels:
        context = panel.context(request)
        if context is not None:
            shown.append((panel.template, context))
    return shown
