"""`{% load call_actions %}{% call_action_links call user %}`: the buttons for what higher apps offer the user for a
call (calls.extensions.call_actions) after it is logged."""

from django import template
from django.utils.safestring import mark_safe

from calls import extensions

register = template.Library()


@register.simple_tag
def call_action_links(call, user) -> str:
    return mark_safe(extensions.call_action_links(call, user))  # noqa: S308 - labels and URLs are escaped
