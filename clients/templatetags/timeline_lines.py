"""`{% load timeline_lines %}{% timeline_lines timeline %}`: a page of the timeline, each entry drawn by its source's
`line` (`clients.extensions.TimelineSource`; the shared pieces in `clients.timeline`)."""

from django import template
from django.utils.safestring import mark_safe

register = template.Library()


@register.simple_tag(takes_context=True)
def timeline_lines(context, page) -> str:
    user = context["request"].user
    return mark_safe("".join(entry.line(entry, user) for entry in page.entries))  # noqa: S308 - lines escape their texts
