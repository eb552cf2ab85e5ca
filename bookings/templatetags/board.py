"""`{% load board %}`: today's board drawn in Python: its parts and rows (`board_parts`), its filter's selects
(`filter_selects`).

A long day's board draws a hundred rows or more and redraws them whenever a visit changes; through the template engine
each row cost about 150 µs (a lookup and an escape per cell), here a few, and the parts around them (the counts, each
fold's heading and link, the table heads: 0.3 ms of tags and lookups) one f-string each. Every text that comes from
the database goes through `html.escape` (what Django's `escape` does, without its check for lazy strings on every
call); the URLs are made from ids by `url_maker`. Literal gettext calls, so that makemessages finds each text here.
"""

from html import escape

from django import template
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.text import capfirst
from django.utils.translation import gettext

from bookings.selectors.board import STATE_LABELS

register = template.Library()

# The row's colour by its state (Bootstrap's table variants).
STATE_CLASS = {"late": " table-warning", "arrived": " table-info"}


@register.simple_tag
def board_parts(board, arrive_query: str = ""):
    """The board under its filter: the day's counts, then each of `board.parts`: the rows drawn in full (under their
    heading on a long day), and each fold with its count and its Show/Hide link, its rows when opened.
    `arrive_query`: the day, filters and open folds the Arrived button carries, so it redraws the same board."""
    board_url = reverse("bookings:board")
    counts = "".join(
        f'<span class="badge text-bg-light border">{escape(label)}: {n}</span>' for label, n in board.counts.items()
    )
    html = [f'<div class="d-flex flex-wrap gap-2 mb-2 small" id="board-counts">\n  {counts}\n</div>\n']
    for part in board.parts:
        fold, rows = part["fold"], part["rows"]
        if fold:
            link, toggle = escape(fold.link), escape(gettext("Hide") if fold.shown else gettext("Show"))
            html.append(
                f'<section class="board-fold mt-3" id="fold-{fold.name}" data-fold="{fold.name}">\n'
                '  <h2 class="h6 d-flex flex-wrap align-items-center gap-2">\n'
                f'    <span>{escape(fold.label)}</span> <span class="badge text-bg-secondary">{fold.count}</span>\n'
                f'    <a class="btn btn-sm btn-outline-secondary fold-toggle" href="?{link}"\n'
                f'       hx-get="{board_url}?{link}" hx-target="#board" hx-swap="outerHTML" hx-push-url="true">'
                f"{toggle}</a>\n"
                "  </h2>\n"
            )
            if rows:
                html.append(_table(rows, arrive_query, nobody=""))
            html.append("</section>\n")
        elif board.whole:
            html.append(_table(rows, arrive_query, nobody=gettext("Nobody is booked for this day.")))
        else:
            now = escape(gettext("Late, arrived and due within the hour"))
            html.append(f'<h2 class="h6 mt-2" id="board-now">{now}</h2>\n')
            html.append(_table(rows, arrive_query, nobody=gettext("Nobody is late, waiting or due within the hour.")))
    return mark_safe("".join(html))  # noqa: S308 - every text from the database is escaped


def _table(rows, arrive_query: str, *, nobody: str) -> str:
    """A part's table: its head, its rows, or `nobody` said in a row of its own."""
    head = "".join(
        f"<th>{escape(label)}</th>"
        for label in (
            gettext("Time"),
            gettext("Client"),
            gettext("Vehicle"),
            gettext("Advisor"),
            gettext("Confirmed"),
            gettext("State"),
        )
    )
    body = _rows(rows, arrive_query) or f'<tr><td colspan="7" class="text-body-secondary">{escape(nobody)}</td></tr>\n'
    return (
        '<table class="table table-sm align-middle table-stack board-table">\n'
        f"  <thead><tr>{head}<th></th></tr></thead>\n  <tbody>\n  {body}  </tbody>\n</table>\n"
    )


def _rows(rows, arrive_query: str) -> str:
    if not rows:
        return ""
    recall, arrived = escape(gettext("recall")), escape(gettext("Arrived"))
    not_confirmed = escape(gettext("not confirmed"))
    states = {state: escape(str(label)) for state, label in STATE_LABELS.items()}
    not_confirmed = f'<span class="text-danger">{not_confirmed}</span>'
    query = escape(arrive_query)
    html = []
    for row in rows:
        vehicle = escape(row.vehicle) if row.vehicle else "—"
        if row.open_recalls:
            vehicle += f' <span class="badge text-bg-danger recall-badge">⚠ {recall}: {escape(row.recall_codes)}</span>'
        if row.confirmed:
            confirmed = f"✓ {row.confirmed}"
        else:
            confirmed = not_confirmed if row.is_open else "—"
        state = states[row.state] + (f" {row.arrived}" if row.arrived else "")
        button = ""
        if "arrived" in row.actions:
            button = (
                f'<button class="btn btn-sm btn-success arrived-button" type="button" '
                f'hx-post="{row.arrived_url}{query}" hx-vals=\'{{"from": "board"}}\' hx-target="#board" '
                f'hx-swap="outerHTML">{arrived}</button>'
            )
        html.append(
            f'<tr class="board-row state-{row.state}{STATE_CLASS.get(row.state, "")}" data-booking="{row.pk}">'
            f'<td class="fw-semibold"><a href="{row.url}">{row.time}</a></td>'
            f'<td class="fw-semibold"><a href="{row.client_url}">{escape(row.client_name)}</a></td>'
            f"<td>{vehicle}</td><td>{escape(row.advisor_name)}</td><td>{confirmed}</td><td>{state}</td>"
            f'<td class="text-end stack-action">{button}</td></tr>\n'
        )
    return "".join(html)


@register.simple_tag
def filter_selects(form):
    """Each select of the board's filter form with its label, options and errors: forty advisors through Django's
    widgets cost a template per option, through the template engine a lookup, an escape and an `if` each. The options
    are the form's own choices, so the select offers what the form accepts."""
    html = []
    for field in form:
        chosen = str(field.value() or "")
        options = "".join(
            f'<option value="{escape(str(value))}"{" selected" if str(value) == chosen else ""}>'
            f"{escape(str(label))}</option>"
            for value, label in field.field.choices
        )
        errors = "".join(f'<div class="invalid-feedback d-block">{escape(str(error))}</div>' for error in field.errors)
        html.append(
            '<div class="col-sm-6 col-md-4 col-xl-3"><div class="mb-2">\n'
            f'    <label class="form-label" for="{field.id_for_label}">{escape(capfirst(str(field.label)))}</label>\n'
            f'    <select name="{field.html_name}" id="{field.id_for_label}" '
            f'class="form-select{" is-invalid" if field.errors else ""}">{options}</select>\n'
            f"    {errors}\n  </div></div>"
        )
    return mark_safe("".join(html))  # noqa: S308 - labels, values and errors are escaped
