from rest_framework.pagination import CursorPagination


class IdCursorPagination(CursorPagination):
    """Keyset pages ordered by id: steady cost at any depth, no COUNT(*)."""

    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class TimeCursorPagination(IdCursorPagination):
    """Keyset pages of time-ordered rows (the call log), newest first."""

    ordering = ("-started_at", "-id")
