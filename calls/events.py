"""The facts the calls app announces (see `clientdesk.events`): a call task worked to its end, a follow-up survey
answered or declined. The webhooks tell the DMS of both; the handlers with which the calls app reacts to the apps
below it are in `calls/handlers.py`."""

from dataclasses import dataclass

from clientdesk.events import DomainEvent


@dataclass(frozen=True)
class CallTaskClosed(DomainEvent):
    """A call task closed by the outcome a manager logged (done or unreachable): its `status` and the `outcome`."""

    task_id: int
    status: str
    outcome: str
    by_id: int | None


@dataclass(frozen=True)
class SurveyAnswered(DomainEvent):
    """A buyer's follow-up survey was recorded: answered (with its CSI) or declined."""

    response_id: int
    by_id: int | None
