"""The reception's tile on the department head's dashboard (registered in ReceptionConfig.ready): the printed
materials below their minimum or past their review date today, one aggregate; each figure links to the list narrowed
to the items that need attention."""

from django.utils.translation import gettext_lazy as _

from accounts.roles import Capability
from clientdesk.dashboard import DOWN, Figure, Period, Tile, TileData, head_tiles, list_url
from reception.selectors.materials import materials_attention


def materials_tile(user, period: Period) -> TileData:
    """What the materials are like now (a stock is a state, not a flow: the period does not change it)."""
    attention = materials_attention(user=user)
    url = list_url("reception:material-list", attention="true")
    return TileData(
        figures=[
            Figure("materials-low", _("Below minimum"), attention.low, url, better=DOWN),
            Figure("materials-review", _("Due for review"), attention.stale, url, better=DOWN),
        ]
    )


def register() -> None:
    head_tiles.register(
        "reception-materials",
        Tile("reception-materials", _("Printed materials"), materials_tile, Capability.VIEW_RECEPTION),
        order=80,
    )
