"""`{% load form_token %}{% form_token %}` inside a <form>: the hidden one-time token of SubmitOnceMixin."""

from django import template

from clientdesk.forms import form_token_input

register = template.Library()


@register.simple_tag
def form_token():
    return form_token_input()
