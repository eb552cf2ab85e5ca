"""What a list shows, as a file: `?export=csv` or `?export=xlsx` on a list page that uses `ExportMixin`.

- CSV is UTF-8 with a byte-order mark (so Excel reads Cyrillic) and semicolons (the Russian Excel's separator),
  streamed row by row; XLSX is built with openpyxl's write-only workbook.
- A text cell that starts like a formula (`=`, `+`, `-`, `@`, tab, CR) gets a leading apostrophe in both (OWASP's
  CSV-injection advice; openpyxl would otherwise store `=...` as a formula).
- A list holding personal data names `export_capability` (accounts' `Capability.EXPORT_PERSONAL_DATA`, the head's:
  the core imports no app, so the view names it), and only those who have it export; every export is written to the
  security log: who, which list, which filter, how many rows.
- Rows are read with `values_list` (no model instances), at most `EXPORT_MAX_ROWS`.
"""

import csv
import io
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import BooleanField, QuerySet
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext
from openpyxl import Workbook

log = logging.getLogger("clientdesk.security")

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
EXPORT_MAX_ROWS = 100_000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def safe_cell(value):
    """Numbers and empty cells as they are; text that starts like a formula behind an apostrophe."""
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        return value
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


@dataclass(frozen=True)
class Column:
    """A column of an export: its header, the field read with `values_list`, and how a value is shown."""

    header: Any
    field: str
    show: Callable[[Any], Any] | None = None


def yes_no(value: bool | None) -> str:
    return "" if value is None else gettext("yes") if value else gettext("no")


def model_column(model, name: str, show: Callable[[Any], Any] | None = None) -> Column:
    """A column of one of `model`'s own fields, headed by the field's verbose name; a field with choices shows their
    labels and a yes/no field says yes or no, unless `show` says otherwise."""
    field = model._meta.get_field(name)
    if show is None and field.choices:
        show = dict(field.flatchoices).get
    elif show is None and isinstance(field, BooleanField):
        show = yes_no
    return Column(field.verbose_name, name, show)


class _Echo:
    """A file-like object whose write returns the line: csv.writer then yields lines for a streaming response."""

    def write(self, value: str) -> str:
        return value


class ExportMixin:
    """Answers `?export=csv|xlsx` with the filtered rows of `export_queryset()` in `export_columns`, checked and
    logged; any other request goes on to the page."""

    export_columns: list[Column] = []
    export_name = "export"
    export_capability: str | None = None  # what exporting this list needs beyond seeing it

    def export_queryset(self) -> QuerySet:  # pragma: no cover - every list using the mixin defines it
        raise NotImplementedError

    def get(self, request, *args, **kwargs):
        kind = request.GET.get("export")
        if kind not in ("csv", "xlsx"):
            return super().get(request, *args, **kwargs)
        if self.export_capability and not request.user.has_capability(self.export_capability):
            raise PermissionDenied
        query = request.GET.copy()
        for name in ("export", "after"):
            query.pop(name, None)
        rows = self.export_queryset().values_list(*(c.field for c in self.export_columns))[:EXPORT_MAX_ROWS]
        filename = f"{self.export_name}-{timezone.localdate():%Y-%m-%d}.{kind}"
        header = [str(c.header) for c in self.export_columns]
        where = {"user": request.user.username, "list": self.export_name, "filter": query.urlencode()}
        if kind == "xlsx":
            response = HttpResponse(self.xlsx(header, rows, where), content_type=XLSX)
        else:
            response = StreamingHttpResponse(self.csv(header, rows, where), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    def cells(self, row) -> list:
        return [safe_cell(c.show(v) if c.show else v) for c, v in zip(self.export_columns, row, strict=True)]

    def csv(self, header: list[str], rows, where: dict) -> Iterator[str]:
        writer = csv.writer(_Echo(), delimiter=";")
        yield "\ufeff" + writer.writerow([safe_cell(h) for h in header])
        count = 0
        try:
            for row in rows.iterator(chunk_size=2000):
                count += 1
                yield writer.writerow(self.cells(row))
        finally:  # a download broken off still leaves its line in the log, with the rows that went out
            self.log("CSV", count, where)

    def xlsx(self, header: list[str], rows, where: dict) -> bytes:
        book = Workbook(write_only=True)
        sheet = book.create_sheet(self.export_name[:31])
        sheet.append([safe_cell(h) for h in header])
        count = 0
        for row in rows.iterator(chunk_size=2000):
            count += 1
            sheet.append(self.cells(row))
        buffer = io.BytesIO()
        book.save(buffer)
        self.log("XLSX", count, where)
        return buffer.getvalue()

    def log(self, kind: str, count: int, where: dict) -> None:
        log.info(
            "Export: user=%s list=%s format=%s rows=%d filter=%s",
            where["user"],
            where["list"],
            kind,
            count,
            where["filter"] or "-",
        )
