from uuid import uuid4

from django import forms
from django.forms.models import ModelChoiceIterator
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from clientdesk.querysets import VisibleQuerySet

# The hidden field that carries a form's one-time token (clientdesk.views.SubmitOnceMixin).
FORM_TOKEN_FIELD = "form_token"  # noqa: S105 - a field name, not a secret


def form_token_input() -> SafeString:
    """A fresh one-time token as a hidden input, made when the form is rendered (`{% form_token %}`)."""
    return format_html('<input type="hidden" name="{}" value="{}">', FORM_TOKEN_FIELD, uuid4())


def yes_no_select(yes: str, no: str) -> forms.Select:
    """A three-way select for a BooleanFilter that says what "yes" and "no" mean (never django-filter's "Unknown");
    the API sends true/false."""
    return forms.Select(choices=[("", _("all")), ("true", yes), ("false", no)])


# Django's own blank-choice label is not in its Russian catalogue yet; ours is, and reads better in a narrow select.
EMPTY_LABEL = _("— not chosen —")


class ListedModelChoiceIterator(ModelChoiceIterator):
    """A select's options read in one query. Django's iterator reads them through `QuerySet.iterator()`, which on
    PostgreSQL is a server-side cursor: DECLARE, FETCH and CLOSE, three round trips for a list of twenty areas."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset.all():
            yield self.choice(obj)


class StyledFormMixin:
    """Bootstrap classes on every widget, and `is-invalid` on fields that failed validation; a model select's options
    in one query."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.ModelChoiceField):
                field.iterator = ListedModelChoiceIterator
                if field.empty_label is not None:
                    field.empty_label = EMPTY_LABEL
            elif isinstance(field, forms.ChoiceField):
                choices = list(field.choices)
                if choices and choices[0][0] in ("", None):
                    field.choices = [("", EMPTY_LABEL), *choices[1:]]
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.RadioSelect):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()
                widget.attrs["aria-invalid"] = "true"


class StyledForm(StyledFormMixin, forms.Form):
    pass


class ServiceModelForm(StyledFormMixin, forms.ModelForm):
    """A ModelForm that checks fields only: uniqueness and constraints are the service's to judge, with the
    values it fills in (consent dates, normalised numbers) and a Conflict that names the other record."""

    def validate_unique(self):
        pass

    def validate_constraints(self):
        pass


class VisibleLinksForm(StyledForm):
    """A form whose links to records (a client, a car, a booking, documents...) are looked up among the rows its user
    may see (`visible_to(user)`), as the API's `VisibleRelatedField` does: a hidden record answers as one that is not
    there, so the form can neither attach nor probe it. The fields declare the whole table; the user narrows it."""

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.ModelChoiceField) and isinstance(field.queryset, VisibleQuerySet):
                field.queryset = field.queryset.visible_to(user)
