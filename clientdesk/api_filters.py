"""The API's filter backend: django-filter with the FilterSets the pages use, strict where the pages are lenient.

A page's filter form forgives: `?open=maybe` shows everything, `?client=1.5` is a number. An integrator's filter must
not: a value the API does not understand is a 400 naming the parameter, and the OpenAPI document says what is
understood (`drf_spectacular` reads the same decisions through `StrictFilterExtension` below):

- a yes/no filter takes `true` or `false` (also `True`/`False`/`1`/`0`, as django-filter reads them);
- a number filter on an integer column (an id, a year) takes an integer;
- a date or time filter bounded to the years 1900-9998 (`clientdesk.filters`) says so with a pattern;
- an empty value is refused: give a value or leave the parameter out (an empty text is a value).

And every date and time a request gives is in the years the API can store and answer (`bound_api_dates`).
"""

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_filters import fields as filter_fields
from django_filters import filters
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import get_model_field
from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from clientdesk.compiled import compiled_rows
from clientdesk.filters import (
    LATEST,
    BoundedDateField,
    BoundedIsoDateTimeField,
    SharedFormClassMixin,
    check_date_range,
)

TRUE, FALSE = ("true", "True", "1"), ("false", "False", "0")
# A four-digit year from 1900 to 9998 (clientdesk.filters.EARLIEST/LATEST) at the start of a date or a date-time.
BOUNDED_YEAR = r"^(19\d\d|[2-8]\d\d\d|9[0-8]\d\d|99[0-8]\d|999[0-8])-"
INTEGER_COLUMNS = (models.IntegerField, models.AutoField, models.ForeignKey)
EMPTY = _("Give a value, or leave the parameter out.")


# A time the API takes is from 1920 on: before it the local zone's offset was not whole minutes (Moscow's +02:31:19
# until 1919), and a time stored then could not be answered in RFC 3339.
EARLIEST_MOMENT_YEAR = 1920
BOUNDED_MOMENT_YEAR = r"^(19[2-9]\d|[2-8]\d\d\d|9[0-8]\d\d|99[0-8]\d|999[0-8])-"
MOMENT_OUT_OF_RANGE = _("Give a time between %(earliest)s and %(latest)s.")


def check_moment_range(value) -> None:
    if value is not None and not EARLIEST_MOMENT_YEAR <= value.year <= LATEST.year:
        raise ValidationError(
            MOMENT_OUT_OF_RANGE, code="out_of_range", params={"earliest": EARLIEST_MOMENT_YEAR, "latest": LATEST.year}
        )


def bound_api_dates() -> None:
    """Every date and time the API takes, in the years it can store, compute with and answer (`AppConfig.ready`).

    DRF's fields take any year from 1 to 9999; a date before 1900 stored through the API came back as
    `0364-04-12T19:00:09+02:30:17`. The rule is DRF's own validator hook (`default_validators`), set once for every
    serializer rather than on each of the forty date fields; the OpenAPI document says it (`bounded_dates_in_schema`).
    """
    serializers.DateField.default_validators = [check_date_range]
    serializers.DateTimeField.default_validators = [check_moment_range]


def bounded_dates_in_schema(node) -> None:
    """The years `bound_api_dates` allows, as a pattern on every date and date-time in `node` (a request body's
    component, a query parameter) that has none (a filter's comes from `StrictFilterExtension`)."""
    if isinstance(node, dict):
        if node.get("type") == "string" and not node.get("readOnly") and "pattern" not in node:
            if node.get("format") == "date":
                node["pattern"] = BOUNDED_YEAR
            elif node.get("format") == "date-time":
                node["pattern"] = BOUNDED_MOMENT_YEAR
        for value in node.values():
            bounded_dates_in_schema(value)
    elif isinstance(node, list):
        for value in node:
            bounded_dates_in_schema(value)


@extend_schema_field({"type": "string", "format": "date", "pattern": BOUNDED_YEAR})
class BoundedDateInput(serializers.DateField):
    """A date a query or a body gives, in the years the calendar can step from (clientdesk.filters)."""

    default_validators = [check_date_range]


class StrictNullBooleanField(forms.NullBooleanField):
    widget = forms.TextInput

    def to_python(self, value):
        if value in (None, ""):
            return None
        if value in TRUE:
            return True
        if value in FALSE:
            return False
        raise forms.ValidationError(_("Give true or false."), code="invalid")

    def validate(self, value):
        pass


class CheckedModelChoiceField(filter_fields.ModelChoiceField):
    """A choice of a record by its id (the client list's `assigned_manager`) checked by one query compiled once
    (`clientdesk.compiled`): `queryset.get()` built and compiled the same query through the ORM and made a model
    instance on every request, about 0.3 ms of a list's. The answer is the record with only its id read (its other
    fields load when first read), which is what a filter by relation uses; a refusal is the field's own. Where the
    query cannot be compiled once (SQLite, a choice by another field) it is Django's own field.

    The compiled query is kept under a key made with the field: a form's fields are copies of its class's, made for
    each request, and copies share it (Django copies a field shallowly), so the query is compiled once per form class,
    not once per request."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.compiled_key = ("checked choice", object())

    def to_python(self, value):
        null = self.null_label is not None and value == self.null_value
        model = self.queryset.model
        if null or value in self.empty_values or self.to_field_name:
            return super().to_python(value)
        self.validate_no_null_characters(value)
        try:
            key = model._meta.pk.to_python(value)
        except ValidationError:
            key = None
        if type(key) is not int:
            return super().to_python(value)
        found = compiled_rows(self.compiled_key, lambda pk: self.queryset.filter(pk=pk).values("pk")[:1], key)
        if found is None:
            return super().to_python(value)
        if not found:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value})
        return model.from_db(self.queryset.db, [model._meta.pk.attname], [found[0]["pk"]])


def _is_integer_filter(filter_field, model) -> bool:
    if not isinstance(filter_field, filters.NumberFilter) or model is None or not filter_field.field_name:
        return False
    field = get_model_field(model, filter_field.field_name)
    return isinstance(field, INTEGER_COLUMNS)


def strict_filterset(filterset_class):
    """`filterset_class` with the form fields the API reads strictly (one subclass per FilterSet, made once).

    The strict class shares its form class and copies its filters shallowly (SharedFormClassMixin) unless a filter's
    choices depend on the request (a callable queryset): otherwise django-filter deep-copies every filter and makes
    two form classes (its own and the strict one) on every request, most of an API list's filtering time.

    Each strict class is kept on the class it is made from, so it lives exactly as long: django-filter makes a new
    FilterSet class per request for `filterset_fields`, and a new form class per request unless the FilterSet shares
    one; a registry of them would only grow."""
    strict = filterset_class.__dict__.get(STRICT)
    if strict is None:
        model = filterset_class._meta.model

        def get_form_class(self):
            form_class = super(strict, self).get_form_class()
            strict_form = form_class.__dict__.get(STRICT)
            if strict_form is None:
                fields = form_class.base_fields
                replaced = {}
                for name, filter_field in self.filters.items():
                    old = fields.get(name)
                    if old is None:
                        continue
                    if isinstance(filter_field, filters.BooleanFilter):
                        replaced[name] = StrictNullBooleanField(required=old.required, label=old.label)
                    elif _is_integer_filter(filter_field, model):
                        replaced[name] = forms.IntegerField(required=old.required, label=old.label)
                    elif type(old) is filter_fields.ModelChoiceField and not _asks_the_request_for(filter_field):
                        options = {**filter_field.extra, "label": old.label, "required": old.required}
                        replaced[name] = CheckedModelChoiceField(**options)
                # A subclass: the form class may be the FilterSet's shared one (SharedFormClassMixin), which the pages
                # read too.
                strict_form = type(form_class.__name__, (form_class,), replaced)
                setattr(form_class, STRICT, strict_form)
            return strict_form

        def is_valid(self):
            valid = super(strict, self).is_valid()
            # django-filter takes an empty value as no filter; the API says a value or nothing (text filters aside,
            # where the empty text is a value).
            blanks = [
                name
                for name, filter_field in self.filters.items()
                if not isinstance(filter_field, filters.CharFilter) and self.data.get(name) == ""
            ]
            for name in blanks:
                self.form.add_error(name, forms.ValidationError(EMPTY, code="blank"))
            return valid and not blanks

        attributes = {
            "__module__": filterset_class.__module__,
            "get_form_class": get_form_class,
            "is_valid": is_valid,
        }
        # A FilterSet that shares already (its author judged it may) or one that must not is left as it is.
        keep = issubclass(filterset_class, SharedFormClassMixin) or _asks_the_request(filterset_class)
        shared = () if keep else (SharedFormClassMixin,)
        strict = type(filterset_class.__name__, (*shared, filterset_class), attributes)
        setattr(filterset_class, STRICT, strict)
    return strict


def _asks_the_request(filterset_class) -> bool:
    """Whether a filter's choices are made per request (django-filter's callable `queryset`, given the request)."""
    return any(_asks_the_request_for(f) for f in filterset_class.base_filters.values())


def _asks_the_request_for(filter_field) -> bool:
    return callable(filter_field.extra.get("queryset"))


STRICT = "_api_strict_class"


class StrictFilterBackend(DjangoFilterBackend):
    """django-filter with the view's FilterSet read strictly (`strict_filterset`). A backend that builds its
    FilterSet itself gets the strict one from `get_filterset_class`."""

    def get_filterset_class(self, view, queryset=None):
        filterset_class = super().get_filterset_class(view, queryset)
        return None if filterset_class is None else strict_filterset(filterset_class)


class StrictFilterExtension(DjangoFilterExtension):
    """What `StrictFilterBackend` accepts, in the OpenAPI document."""

    target_class = "clientdesk.api_filters.StrictFilterBackend"
    priority = 1

    def resolve_filter_field(self, auto_schema, model, filterset_class, field_name, filter_field):
        parameters = super().resolve_filter_field(auto_schema, model, filterset_class, field_name, filter_field)
        for parameter in parameters:
            schema = parameter["schema"]
            target = schema.get("items", schema)
            if _is_integer_filter(filter_field, model):
                target["type"] = "integer"
                target.pop("format", None)
            if issubclass(filter_field.field_class, BoundedDateField | BoundedIsoDateTimeField):
                target["pattern"] = BOUNDED_YEAR
        return parameters
