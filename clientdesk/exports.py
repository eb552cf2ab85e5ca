"""What a list shows, as a file: `?export=csv` or `?export=xlsx` on a list page that uses `ExportMixin`.

- CSV is UTF-8 with a byte-order mark (so Excel reads Cyrillic) and semicolons (the Russian Excel's separator),
  streamed row by row; XLSX is built with openpyxl's write-only workbook.
- A text cell that starts like a formula (`=`, `+`, `-`, `@`, tab, CR) gets a leading apostrophe in both (OWASP's
  CSV-injection advice; openpyxl would otherwise store `=...` as a formula).
- A list holding personal data names `export_capability` (accounts' `Capability.EXPORT_PERSONAL_DATA`, the head's:
  the core imports no app, so the view names it), and only those who have it export; every export is written to the
  security log: who, which list, which filter, how many rows.
- Rows are read with `values_list` (no model instances), at most `EXPORT_MAX_ROWS`.
- A higher app (reports) plugs an `ExportJournal` into `journals`: it records every export (the export log page)
  and builds a list longer than `settings.EXPORT_ASYNC_ROWS` in the background (a Celery task that rebuilds the view
  from `ExportRequest`, writes the file with `write_export` and reports its progress); the list's page then answers
  with a redirect to the export's progress page. Without a journal every export is built in the request.
"""

import csv
import io
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import BooleanField, QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext
from openpyxl import Workbook

from clientdesk.registry import Registry

log = logging.getLogger("clientdesk.security")

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
EXPORT_MAX_ROWS = 100_000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "xlsx": XLSX}
PROGRESS_EVERY = 1000  # rows between two progress reports of a file built in the background


def export_async_rows() -> int:
    """Above this many rows an export is built by a background task (when a journal offers it)."""
    return int(getattr(settings, "EXPORT_ASYNC_ROWS", 5000))


@dataclass(frozen=True)
class ExportRequest:
    """One export asked for: by whom, which list (and the view that shows it, to rebuild it in a task), which
    format, which filter (the list's query without `export` and the keyset position)."""

    user_id: int
    username: str
    list_name: str
    kind: str
    filter: str
    view: str
    view_kwargs: dict = field(default_factory=dict)

    @property
    def filename(self) -> str:
        return f"{self.list_name}-{timezone.localdate():%Y-%m-%d}.{self.kind}"


@dataclass(frozen=True)
class ExportJournal:
    """What a higher app plugs in: `record(export, rows, status)` after an export built in the request ("done", or
    "interrupted" for a download broken off); `defer(export, rows)` queues a long export and gives the URL of its
    progress page."""

    record: Callable[[ExportRequest, int, str], None]
    defer: Callable[[ExportRequest, int], str] | None = None


journals: Registry[ExportJournal] = Registry("export journals")


def rebuild_view(export: ExportRequest, user):
    """The list view `export` was asked on, set up with its filter and `user`, for a task to read its rows."""
    request = HttpRequest()
    request.method = "GET"
    request.GET = QueryDict(export.filter)
    request.user = user
    view = import_string(export.view)()
    view.setup(request, **export.view_kwargs)
    return view


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
    # What exporting this list needs beyond seeing it: a capability, or several of which any one will do.
    export_capability: str | tuple[str, ...] | None = None

    def export_queryset(self) -> QuerySet:  # pragma: no cover - every list using the mixin defines it
        raise NotImplementedError

    def get(self, request, *args, **kwargs):
        return self.exported(request) or super().get(request, *args, **kwargs)

    def may_export(self, user) -> bool:
        """Whether this user may export the list they see: one of `export_capability` if the list names any."""
        needed = self.export_capability
        if not needed:
            return True
        return any(user.has_capability(capability) for capability in ((needed,) if isinstance(needed, str) else needed))

    def exported(self, request) -> HttpResponse | None:
        """The export `?export=` asks for, or None for the page (a view whose class defines `get` itself calls this
        first)."""
        kind = request.GET.get("export")
        if kind not in ("csv", "xlsx"):
            return None
        if not self.may_export(request.user):
            raise PermissionDenied
        export = self.export_request(kind)
        queryset = self.export_queryset()
        journal = next(iter(journals), None)
        if journal and journal.defer:
            # Counting stops one row past the threshold: a cheap question, whatever the list's length.
            threshold = export_async_rows()
            if queryset.values("pk")[: threshold + 1].count() > threshold:
                return redirect(journal.defer(export, queryset.values("pk")[:EXPORT_MAX_ROWS].count()))
        rows = self.export_rows(queryset)
        header = self.export_header()
        where = {"user": export.username, "list": export.list_name, "filter": export.filter, "export": export}
        if kind == "xlsx":
            response = HttpResponse(self.xlsx(header, rows, where), content_type=XLSX)
        else:
            response = StreamingHttpResponse(self.csv(header, rows, where), content_type=CONTENT_TYPES["csv"])
        response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
        return response

    def export_request(self, kind: str) -> ExportRequest:
        query = self.request.GET.copy()
        for name in ("export", "after"):
            query.pop(name, None)
        cls = type(self)
        return ExportRequest(
            user_id=self.request.user.pk,
            username=self.request.user.username,
            list_name=self.export_name,
            kind=kind,
            filter=query.urlencode(),
            view=f"{cls.__module__}.{cls.__qualname__}",
            view_kwargs=dict(self.kwargs),
        )

    def export_rows(self, queryset: QuerySet | None = None):
        queryset = self.export_queryset() if queryset is None else queryset
        return queryset.values_list(*(c.field for c in self.export_columns))[:EXPORT_MAX_ROWS]

    def export_header(self) -> list[str]:
        return [str(c.header) for c in self.export_columns]

    def cells(self, row) -> list:
        # A missing value is an empty cell: a column's `show` only ever sees a value.
        return [
            safe_cell(c.show(v) if c.show and v is not None else v)
            for c, v in zip(self.export_columns, row, strict=True)
        ]

    def csv_lines(self, header: list[str], rows, progress: Callable[[int], None] | None = None) -> Iterator[str]:
        """The file's lines: the byte-order mark and the header, then a line a row; `progress(n)` every so often."""
        writer = csv.writer(_Echo(), delimiter=";")
        yield "\ufeff" + writer.writerow([safe_cell(h) for h in header])
        for count, row in enumerate(rows.iterator(chunk_size=2000), start=1):
            yield writer.writerow(self.cells(row))
            if progress and count % PROGRESS_EVERY == 0:
                progress(count)

    def csv(self, header: list[str], rows, where: dict) -> Iterator[str]:
        count, finished = -1, False  # the header is not a row
        try:
            for line in self.csv_lines(header, rows):
                count += 1
                yield line
            finished = True
        finally:  # a download broken off still leaves its line in the log, with the rows that went out
            self.log("CSV", max(count, 0), where, status="done" if finished else "interrupted")

    def workbook(self, header: list[str], rows, progress: Callable[[int], None] | None = None) -> tuple[Workbook, int]:
        book = Workbook(write_only=True)
        sheet = book.create_sheet(self.export_name[:31])
        sheet.append([safe_cell(h) for h in header])
        count = 0
        for count, row in enumerate(rows.iterator(chunk_size=2000), start=1):
            sheet.append(self.cells(row))
            if progress and count % PROGRESS_EVERY == 0:
                progress(count)
        return book, count

    def xlsx(self, header: list[str], rows, where: dict) -> bytes:
        book, count = self.workbook(header, rows)
        buffer = io.BytesIO()
        book.save(buffer)
        self.log("XLSX", count, where)
        return buffer.getvalue()

    def write_export(self, kind: str, path, progress: Callable[[int], None] | None = None) -> int:
        """Write the whole export to the file at `path` (a task's work); the number of rows written."""
        header, rows = self.export_header(), self.export_rows()
        if kind == "xlsx":
            book, count = self.workbook(header, rows, progress)
            book.save(path)
            return count
        count = -1
        with open(path, "w", encoding="utf-8", newline="") as out:
            for line in self.csv_lines(header, rows, progress):
                out.write(line)
                count += 1
        return count

    def log(self, kind: str, count: int, where: dict, *, status: str = "done") -> None:
        log.info(
            "Export: user=%s list=%s format=%s rows=%d filter=%s",
            where["user"],
            where["list"],
            kind,
            count,
            where["filter"] or "-",
        )
        if (export := where.get("export")) is not None:
            for journal in journals:
                journal.record(export, count, status)
