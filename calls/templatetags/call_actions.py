"""`{% load call_actions %}{% for label, url in call|call_actions:user %}`: what higher apps offer the user for a
call (calls.extensions.call_actions)."""

from django import template

from calls.extensions import actions_for_call

register = template.Library()


@register.filter(name="call_actions")
def call_actions_filter(call, user) -> list[tuple[str, str]]:
    return actions_for_call(call, user) if call is not None else []
