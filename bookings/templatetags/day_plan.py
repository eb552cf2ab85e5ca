"""`{% load day_plan %}`: the day calendar's area boxes, advisor cards and visit lists, drawn in Python.

The day calendar draws a card per advisor (forty in a dealer group) and, on a short day, every visit; through the
template engine each card cost about 100 µs (a dozen lookups, ifs and escapes), which made it most of the page's own
time. Here a card is one f-string, and so is each area's box with its bar (through the engine: a loop, five
variables resolved and escaped, and a tag, per area). Every text from the database goes through `html.escape` (what
Django's `escape` does, without its check for lazy strings on every call); the URLs are made from ids.
"""

from html import escape

from django import template
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, ngettext

from bookings.templatetags.percent_bar import bar_html

register = template.Library()


def _visit_items(visits) -> str:
    return "".join(
        f'<li><a href="{v.url}">{v.time}</a> {escape(v.client_name)}'
        f"{' · ' + escape(v.vehicle) if v.vehicle else ''} "
        f'<span class="badge {v.status_badge}">{escape(v.status_label)}</span></li>'
        for v in visits
    )


def _visit_list(visits) -> str:
    items = _visit_items(visits) or f'<li class="text-body-secondary">{escape(gettext("Free all day."))}</li>'
    return f'<ul class="list-unstyled small mb-0 day-visits">\n  {items}\n</ul>'


@register.simple_tag
def day_areas(plan):
    """A box per area: its name, the minutes booked of its capacity, and the bar of that share."""
    minutes_label = escape(gettext("min"))
    return mark_safe(  # noqa: S308 - the area's name is escaped; the figures are numbers
        "".join(
            f'<div class="col-md-6 col-xl-3">\n    <div class="d-flex justify-content-between small">'
            f"<strong>{escape(load.area.name)}</strong><span>{load.used} / {load.capacity} {minutes_label}</span>"
            f"</div>\n    {bar_html(load.percent, load.level, load.area.name)}  </div>\n"
            for load in plan.areas
        )
    )


def _clients(count: int) -> str:
    """ "3 clients", with the plural the language asks for ("3 клиента", "5 клиентов")."""
    return escape(ngettext("%(count)d client", "%(count)d clients", count) % {"count": count})


@register.simple_tag
def day_visits(visits):
    """One advisor's visits of the day (the list under a card, and the HTMX answer when a folded card is opened)."""
    return mark_safe(_visit_list(visits))  # noqa: S308 - every text from the database is escaped


@register.simple_tag
def day_advisors(plan):
    """A card per advisor: name, count, first and last visit; the visits listed (a short day, or the card opened), or
    a fold fetched when opened (HTMX; a link without JavaScript), or "free all day"."""
    # Literal gettext calls, so that makemessages finds each text here.
    visits_label, show_label = escape(gettext("Visits")), escape(gettext("Show the visits"))
    # A day the workshop is closed says so, not that everyone is free.
    free_label = escape(gettext("Free all day.") if plan.hours else gettext("Closed"))
    day_url = reverse("bookings:day")
    day_text = plan.day.isoformat()
    html = []
    for adv in plan.advisors:
        uid = adv.key
        span = f" · {adv.first}–{adv.last}" if adv.count else ""
        if plan.listed:
            body = _visit_list(adv.bookings or [])
        elif adv.count:
            query = f"day={day_text}&amp;advisor={uid}"  # an ISO date and digits: nothing to encode
            if adv.bookings is not None:
                opening, slot = " open", _visit_list(adv.bookings)
            else:
                opening = (
                    f' hx-get="{day_url}?{query}" hx-trigger="toggle once" hx-target="find .day-visits-slot" '
                    'hx-swap="innerHTML"'
                )
                slot = f'<a href="?{query}">{show_label}</a>'
            body = (
                f'<details class="day-advisor small" data-advisor="{uid}"{opening}>\n'
                f"        <summary>{visits_label}</summary>\n"
                f'        <div class="day-visits-slot">{slot}</div>\n      </details>'
            )
        else:
            body = f'<p class="small text-body-secondary mb-0">{free_label}</p>'
        html.append(
            '<div class="col-md-6 col-xl-4">\n    <div class="card"><div class="card-body">\n'
            f'      <h3 class="h6">{escape(adv.name)} <small class="text-body-secondary">· {_clients(adv.count)}'
            f"{span}</small></h3>\n      {body}\n    </div></div>\n  </div>\n"
        )
    return mark_safe("".join(html))  # noqa: S308 - every text from the database is escaped
