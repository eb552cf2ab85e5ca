"""The claims' tiles (registered in ClaimsConfig.ready): on the head's dashboard the open claims, those due within two
working days, the overdue ones and the average time from receipt to close of the claims closed in the period; on a
manager's own page her claims due. Each figure links to the claim list narrowed to its rows; one aggregate each."""

from django.utils.translation import gettext_lazy as _

from accounts.roles import Capability
from claims.models import Claim
from claims.selectors import DueState, claim_figures
from clientdesk.dashboard import Figure, Period, Tile, TileData, head_tiles, list_url, own_tiles

OPEN_STATUSES = [s for s in Claim.Status.values if s not in Claim.ANSWERED_STATUSES]


def head_claims_tile(user, period: Period) -> TileData:
    figures = claim_figures(Claim.objects.visible_to(user), start=period.start, end=period.end)
    previous = period.previous()
    before = claim_figures(Claim.objects.visible_to(user), start=previous.start, end=previous.end)
    return TileData(
        figures=[
            Figure("claims-open", _("Open claims"), figures.open, list_url("claims:list", status=OPEN_STATUSES)),
            Figure(
                "claims-due-soon",
                _("Due within 2 working days"),
                figures.due_soon,
                list_url("claims:list", due_state=DueState.DUE_SOON),
            ),
            Figure(
                "claims-overdue", _("Overdue"), figures.overdue, list_url("claims:list", due_state=DueState.OVERDUE)
            ),
            Figure(
                "claims-days-to-close",
                _("Average days to close"),
                figures.average_days_to_close,
                list_url("claims:list", status=Claim.Status.CLOSED, sort="received"),
                previous=before.average_days_to_close,
            ),
        ]
    )


def own_claims_tile(user, period: Period) -> TileData:
    mine = Claim.objects.visible_to(user).filter(assignee=user)
    figures = claim_figures(mine, start=period.start, end=period.end)
    return TileData(
        figures=[
            Figure("my-claims-open", _("My open claims"), figures.open, list_url("claims:list", assignee=user.pk)),
            Figure(
                "my-claims-due-soon",
                _("Due within 2 working days"),
                figures.due_soon,
                list_url("claims:list", assignee=user.pk, due_state=DueState.DUE_SOON),
            ),
            Figure(
                "my-claims-overdue",
                _("Overdue"),
                figures.overdue,
                list_url("claims:list", assignee=user.pk, due_state=DueState.OVERDUE),
            ),
        ]
    )


def register() -> None:
    head_tiles.register("claims", Tile("claims", _("Claims"), head_claims_tile, Capability.MANAGE_CLAIMS), order=70)
    own_tiles.register(
        "my-claims", Tile("my-claims", _("My claims due"), own_claims_tile, Capability.WORK_CLAIMS), order=30
    )
