"""`{% load board %}{% board_rows rows arrive_query %}`: the rows of today's board, drawn in Python.

A long day's board draws a hundred rows or more and redraws them whenever a visit changes; through the template engine
each row cost about 150 µs (a lookup and an escape per cell), here a few. Every text that comes from the database is
escaped; the URLs are made from ids by `url_maker`.
"""

from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

register = template.Library()

# The row's colour by its state (Bootstrap's table variants).
STATE_CLASS = {"late": " table-warning", "arrived": " table-info"}


@register.simple_tag
def board_rows(rows, arrive_query: str = ""):
    """`arrive_query`: the day, filters and open folds the Arrived button carries, so it redraws the same board."""
    recall, not_confirmed, arrived = (escape(gettext(text)) for text in ("recall", "not confirmed", "Arrived"))
    query = escape(arrive_query)
    html = []
    for row in rows:
        vehicle = escape(row.vehicle) if row.vehicle else "—"
        if row.open_recalls:
            vehicle += f' <span class="badge text-bg-danger recall-badge">⚠ {recall}: {escape(row.recall_codes)}</span>'
        if row.confirmed:
            confirmed = f"✓ {row.confirmed}"
        else:
            confirmed = f'<span class="text-danger">{not_confirmed}</span>' if row.is_open else "—"
        state = escape(row.state_label) + (f" {row.arrived}" if row.arrived else "")
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
    return mark_safe("".join(html))  # noqa: S308 - every text from the database is escaped above
