from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination


class PositionedRow(dict):
    """A row already written as its answer that carries, beside it, the raw value of its list's first ordering field:
    the cursor's position, which the written answer may not hold as the database gave it (a time as text)."""

    __slots__ = ("position",)


class IdCursorPagination(CursorPagination):
    """Keyset pages ordered by id: steady cost at any depth, no COUNT(*).

    A cursor the API did not give out is an input error, 400 naming the parameter: DRF answers 404 for one it cannot
    decode and lets a well-formed one whose position is not of the ordering field's type reach the database."""

    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    invalid_cursor_message = _("This cursor is not one the API gave out: follow the `next` and `previous` links.")
    invalid_page_size_message = _("Give a whole number of rows from 1 (more than %(max)s is taken as %(max)s).")
    cursor_query_description = _(
        "Where the page starts: the `cursor` of a `next` or `previous` link (opaque; one the API did not give out is "
        "a 400)."
    )
    page_size_query_description = _("Rows a page: 50 unless given; more than 200 is taken as 200.")

    def paginate_queryset(self, queryset, request, view=None):
        first = self.get_ordering(request, queryset, view)[0].lstrip("-")
        try:
            self.position_field = queryset.model._meta.get_field(first)
        except FieldDoesNotExist:  # an annotation: nothing to check it against
            self.position_field = None
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
        except Exception as error:  # DRF raises NotFound for base64 and number errors
            raise self.invalid_cursor() from error
        if cursor is not None and cursor.position is not None and self.position_field is not None:
            try:
                self.position_field.to_python(cursor.position)
            except DjangoValidationError as error:
                raise self.invalid_cursor() from error
        return cursor

    def _get_position_from_instance(self, instance, ordering):
        if isinstance(instance, PositionedRow):
            return str(instance.position)
        return super()._get_position_from_instance(instance, ordering)

    def get_page_size(self, request):
        """DRF ignores a page size it cannot read; an integrator's typo is a 400 naming the parameter instead."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        digits = raw.isascii() and raw.isdigit()
        size = (min(int(raw), self.max_page_size) if len(raw) <= 18 else self.max_page_size) if digits else 0
        if size < 1:
            raise ValidationError(
                {self.page_size_query_param: [self.invalid_page_size_message % {"max": self.max_page_size}]}
            )
        return size

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["minimum"] = 1
        return parameters

    def invalid_cursor(self) -> ValidationError:
        return ValidationError({self.cursor_query_param: [self.invalid_cursor_message]})


class TimeCursorPagination(IdCursorPagination):
    """Keyset pages of time-ordered rows (the call log), newest first."""

    ordering = ("-started_at", "-id")
