"""`{% load call_form %}{% choice_field field options %}`, `{% text_field field %}`: the client card's "log a call"
form drawn in Python. Django's widget templates take an include per option and two more per input (the widget, its
attributes), and `_field.html` an include per field: through them the form was about a tenth of the card's time,
drawn on every card for a form most views of the card do not use. The markup is what those templates print."""

from html import escape

from django import template
from django.forms import Textarea
from django.utils.safestring import mark_safe
from django.utils.text import capfirst

register = template.Library()


def _radios(field, options, current: str, label: str) -> str:
    name, auto_id = escape(field.html_name), escape(field.auto_id)
    required = " required" if field.field.required else ""
    invalid = " is-invalid" if field.errors else ""
    buttons = []
    for i, (value, text) in enumerate(options):
        checked = " checked" if str(value) == current else ""
        buttons.append(
            f'<div class="form-check form-check-inline"><input type="radio" name="{name}" value="{escape(str(value))}" '
            f'class="form-check-input{invalid}" id="{auto_id}_{i}"{required}{checked}>'
            f'<label class="form-check-label" for="{auto_id}_{i}">{escape(str(text))}</label></div>'
        )
    return f'<div><span class="form-label d-block">{label}</span>{"".join(buttons)}</div>'


def _select(field, options, current: str, label: str) -> str:
    name, auto_id = escape(field.html_name), escape(field.auto_id)
    invalid = f' is-invalid" aria-invalid="true" aria-describedby="{auto_id}_error' if field.errors else ""
    choices = "".join(
        f'<option value="{escape(str(value))}"{" selected" if str(value) == current else ""}>'
        f"{escape(str(text))}</option>"
        for value, text in options
    )
    return (
        f'<label class="form-label" for="{auto_id}">{label}</label>'
        f'<select name="{name}" class="form-select{invalid}" id="{auto_id}">{choices}</select>'
    )


def _field_html(field, control: str) -> str:
    """The field's wrapper as `_field.html` draws it: the control, then its errors and help text."""
    notes = "".join(f'<div class="invalid-feedback d-block">{escape(str(error))}</div>' for error in field.errors)
    if field.help_text:
        notes += f'<div class="form-text">{escape(str(field.help_text))}</div>'
    return mark_safe(f'<div class="mb-2 ">{control}{notes}</div>')  # noqa: S308 - every text is escaped


def _label(field) -> str:
    return escape(capfirst(str(field.label)))


@register.simple_tag
def choice_field(field, options=(), *, radio=False, vehicles=None) -> str:
    """`options`: (value, label) pairs; or `vehicles`, the client's vehicles the card has already loaded (an empty
    choice first); `radio` for radio buttons. A field with errors is marked invalid and its errors follow it."""
    current = str(field.value())
    if vehicles is not None:
        options = [("", field.field.empty_label), *((vehicle.pk, vehicle) for vehicle in vehicles)]
        current = "" if current == "None" else current
    return _field_html(field, (_radios if radio else _select)(field, options, current, _label(field)))


def _attributes(attrs: dict) -> str:
    """What `django/forms/widgets/attrs.html` prints: `name="value"`, a bare name for True, nothing for False."""
    return "".join(
        f" {escape(name)}" if value is True else f' {escape(name)}="{escape(str(value))}"'
        for name, value in attrs.items()
        if value is not False
    )


@register.simple_tag
def text_field(field) -> str:
    """A text, number or textarea field with its label: the widget's context comes from Django (`as_widget`'s
    attributes, the formatted value), only the tag is written here."""
    widget = field.field.widget
    attrs = field.build_widget_attrs({}, widget)
    if field.auto_id and "id" not in widget.attrs:
        attrs.setdefault("id", field.auto_id)
    context = widget.get_context(field.html_name, field.value(), attrs)["widget"]
    name, value, attributes = escape(context["name"]), context["value"], _attributes(context["attrs"])
    if isinstance(widget, Textarea):
        control = f'<textarea name="{name}"{attributes}>\n{escape(str(value)) if value else ""}</textarea>'
    else:
        shown = f' value="{escape(str(value))}"' if value is not None else ""
        control = f'<input type="{escape(context["type"])}" name="{name}"{shown}{attributes}>'
    label = f'<label class="form-label" for="{escape(field.id_for_label)}">{_label(field)}</label>'
    return _field_html(field, label + control)
