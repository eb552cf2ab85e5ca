"""The paper's tile on the department head's dashboard (registered in DocumentsConfig.ready): sale papers late,
correspondence waiting more than a day for its hand-over, contracts waiting for the head's approval. Each is a state
now, not a flow, so the period does not change it; each figure links to its list narrowed to those rows."""

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.roles import Capability
from clientdesk.calendar import local_date
from clientdesk.dashboard import DOWN, Figure, Period, Tile, TileData, head_tiles, list_url
from documents.models import Correspondence, Document
from documents.services.expected import papers_due_cutoff
from documents.services.mail import unhanded_cutoff


def documents_tile(user, period: Period | None = None) -> TileData:
    now = timezone.now()
    cutoff = papers_due_cutoff(now)
    visible = Document.objects.visible_to(user)
    last_due_day = local_date(cutoff) - timedelta(days=1)
    late = visible.filter(
        state=Document.State.EXPECTED, kind__in=Document.DELIVERY_KINDS, issued_on__lte=last_due_day
    ).count()
    mail = (
        Correspondence.objects.visible_to(user)
        .filter(handed_over_at__isnull=True, created_at__lt=unhanded_cutoff(now))
        .count()
    )
    drafts = visible.filter(state=Document.State.DRAFT).count()
    return TileData(
        figures=[
            Figure(
                "documents-late",
                _("Sale papers late"),
                late,
                list_url(
                    "documents:list",
                    state="expected",
                    kind=list(Document.DELIVERY_KINDS),
                    issued_to=last_due_day.isoformat(),
                ),
                better=DOWN,
            ),
            Figure(
                "documents-mail",
                _("Mail not handed over"),
                mail,
                list_url("documents:mail-list", waiting="true"),
                better=DOWN,
            ),
            Figure(
                "documents-drafts",
                _("Contracts to approve"),
                drafts,
                list_url("documents:list", state="draft"),
                better=DOWN,
            ),
        ]
    )


def register() -> None:
    head_tiles.register(
        "documents",
        Tile("documents", _("Documents"), documents_tile, Capability.VIEW_DOCUMENTS),
        order=85,
    )
