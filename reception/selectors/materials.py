"""Reads of the reception's printed materials: the list with its flags, and what needs attention today."""

from dataclasses import dataclass
from datetime import date

from django.contrib import messages
from django.db.models import Count, F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _

from accounts.roles import Capability
from clientdesk.calendar import local_date
from reception.models import PrintedMaterial


def flag(materials, *, today: date) -> list[PrintedMaterial]:
    """The rows with `low` (below minimum) and `stale` (past the review-by date) set, for the list to mark."""
    rows = list(materials)
    for material in rows:
        material.low = material.is_active and material.below_minimum
        material.stale = material.is_active and material.review_due(today)
        # What the restock form offers: enough to be back at twice the minimum (ten when there is no minimum).
        material.suggested = max(2 * material.minimum - material.stock, 1) if material.minimum else 10
    return rows


@dataclass(frozen=True)
class Attention:
    low: int
    stale: int

    @property
    def total(self) -> int:
        return self.low + self.stale


def materials_attention(*, user, today: date | None = None) -> Attention:
    """How many items in use are below their minimum and how many are past their review date: one aggregate."""
    today = today or local_date(timezone.now())
    found = (
        PrintedMaterial.objects.visible_to(user)
        .filter(is_active=True)
        .aggregate(
            low=Count("id", filter=Q(stock__lt=F("minimum"))),
            stale=Count("id", filter=Q(review_by__lt=today)),
        )
    )
    return Attention(found["low"], found["stale"])


def materials_start_notice(user) -> tuple[int, str] | None:
    """The managers' start-of-day notice (`accounts.extensions.start_notices`): printed materials needing attention,
    with a link to the list narrowed to them."""
    if not user.has_capability(Capability.EDIT_RECEPTION):
        return None
    attention = materials_attention(user=user)
    if not attention.total:
        return None
    url = reverse("reception:material-list") + "?attention=true"
    text = format_html(
        '{} <a href="{}" class="alert-link" id="materials-notice">{}</a>',
        _("Printed materials: %(low)d below minimum, %(stale)d due for review.")
        % {"low": attention.low, "stale": attention.stale},
        url,
        _("See the list"),
    )
    return messages.WARNING, text
