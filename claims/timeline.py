"""The claims' line on the client's and the vehicle's timelines (`clients.extensions.TimelineSource.line`,
registered in ClaimsConfig.ready; why f-strings: `clients.timeline`)."""

from html import escape

from django.db.models import QuerySet
from django.utils.text import Truncator
from django.utils.translation import gettext

from claims.models import Claim
from clients.timeline import choice_label, line_day, line_html, line_moment, user_columns, user_text


def claim_rows(claims: QuerySet) -> QuerySet:
    """The claims as `claim_line` reads them."""
    return claims.values(
        *("pk", "number", "status", "received_at", "due_date", "demand", "category__name"), *user_columns("assignee")
    )


def claim_line(entry, user) -> str:
    """The number (a link to the claim), category and status; who answers it by when; the client's demand."""
    claim = entry.obj
    status = escape(claim.status)
    label = choice_label(Claim.Status, claim.status)
    badge_class = Claim.STATUS_BADGES.get(claim.status, "text-bg-secondary")
    badge = f'<span class="badge {badge_class}" data-status="{status}">{label}</span>'
    claim_word, answer_due = escape(gettext("Claim")), escape(gettext("answer due"))
    title = (
        f'<strong>{claim_word} <a href="{escape(entry.url)}">{escape(claim.number)}</a></strong>'
        f" · {escape(claim['category__name'])} · {badge}"
    )
    due = f"{answer_due} {line_day(claim.due_date)}"
    details = (
        f'<div class="small text-body-secondary">{user_text(claim, "assignee")} · {due}</div>'
        f'<div class="small">{escape(Truncator(claim.demand).chars(200))}</div>'
    )
    return line_html("timeline-claim", title, line_moment(claim.received_at), details, wrap=True)
