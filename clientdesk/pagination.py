from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination


class IdCursorPagination(CursorPagination):
    """Keyset pages ordered by id: steady cost at any depth, no COUNT(*).

    A cursor the API did not give out is an input error, 400 naming the parameter: DRF answers 404 for one it cannot
    decode and lets a well-formed one whose position is not of the ordering field's type reach the database."""

    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    invalid_cursor_message = _("This cursor is not one the API gave out: follow the `next` and `previous` links.")

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

    def invalid_cursor(self) -> ValidationError:
        return ValidationError({self.cursor_query_param: [self.invalid_cursor_message]})


class TimeCursorPagination(IdCursorPagination):
    """Keyset pages of time-ordered rows (the call log), newest first."""

    ordering = ("-started_at", "-id")
