"""The tow orders' and tinting consultations' lines on the vehicle's timeline (`clients.extensions.TimelineSource.line`,
registered in ReceptionConfig.ready; the rows: `reception.selectors.timeline`; why f-strings: `clients.timeline`)."""

from html import escape

from django.db.models import QuerySet
from django.utils.formats import localize
from django.utils.translation import gettext

from clients.timeline import choice_label, line_html, line_moment, user_columns, user_text
from reception.models import TowOrder


def tow_rows(orders: QuerySet) -> QuerySet:
    """The tow orders as `tow_line` reads them."""
    return orders.values("pk", "created_at", "problem", "status", "pickup_address", "contractor__name")


def tow_line(entry, user) -> str:
    """The order (a link to it), what happened and its status; where the car is picked up, by which tow service."""
    order = entry.obj
    status = escape(order.status)
    badge = (
        f'<span class="badge tow-status-{status} {TowOrder.STATUS_BADGES.get(order.status, "text-bg-danger")}">'
        f"{choice_label(TowOrder.Status, order.status)}</span>"
    )
    tow_order = escape(gettext("Tow order"))
    title = (
        f'<strong><a href="{escape(entry.url)}">{tow_order} № {order.pk}</a></strong>'
        f" · {choice_label(TowOrder.Problem, order.problem)} · {badge}"
    )
    facts = escape(order.pickup_address)
    if order["contractor__name"] is not None:
        facts += f" · {escape(order['contractor__name'])}"
    details = f'<div class="small text-body-secondary text-break">{facts}</div>'
    return line_html("tow-entry", title, line_moment(order.created_at), details, wrap=True)


def tint_rows(consultations: QuerySet) -> QuerySet:
    """The tinting consultations as `tint_line` reads them."""
    return consultations.values("pk", "created_at", "estimate", "note", *user_columns("created_by"))


def tint_line(entry, user) -> str:
    """The consultation (a link to it) and its estimate; who consulted, and the note."""
    consultation = entry.obj
    consultation_word, estimate = escape(gettext("Tinting consultation")), escape(gettext("Estimate"))
    title = (
        f'<strong><a href="{escape(entry.url)}">{consultation_word}</a></strong>'
        f" · {estimate}: {localize(consultation.estimate)}"
    )
    facts = " · ".join(text for text in (user_text(consultation, "created_by"), escape(consultation.note)) if text)
    details = f'<div class="small text-body-secondary text-break">{facts}</div>' if facts else ""
    return line_html("tint-entry", title, line_moment(consultation.created_at), details, wrap=True)
