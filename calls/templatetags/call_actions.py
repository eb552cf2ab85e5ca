"""`{% load call_actions %}{% call_action_links call user %}`: the buttons for what higher apps offer the user for a
call (calls.extensions.call_actions), after it is logged and on its line of the timeline (calls.timeline)."""

from html import escape

from django import template
from django.utils.safestring import mark_safe

from calls.extensions import actions_for_call

register = template.Library()


@register.simple_tag
def call_action_links(call, user) -> str:
    if call is None:
        return ""
    return mark_safe(  # noqa: S308 - labels and URLs are escaped
        "".join(
            f'<a class="btn btn-sm btn-outline-danger call-action" href="{escape(url)}">{escape(str(label))}</a>'
            for label, url in actions_for_call(call, user)
        )
    )
