"""VIN lists as the manufacturer or the DMS hands them over: a CSV or XLSX file, or a plain list, read row by row.

Every row is checked with `normalize_vin` and keeps its line number, so a bad file is reported row by row and the
user fixes it; importing is the service's job (`bookings.recalls.recall_vins_import`) and happens only for a clean
list.

CSV: comma, semicolon or tab; UTF-8 with or without BOM, cp1251 (Russian Excel's "CSV"), UTF-16 (Excel's "Unicode
text"). XLSX: the first sheet. The VIN column is the one headed "VIN" if there is such a header, else the first one;
a first row whose first cell cannot be a VIN is a header and is skipped. Empty rows are ignored.
"""

import codecs
import csv
import io
import re
import warnings
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import PurePath
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from clients.normalize import VIN_RE, normalize_vin

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 200_000
DELIMITERS = (";", ",", "\t")
TEXT_SUFFIXES = frozenset({"", ".csv", ".txt", ".tsv"})
XLSX_SUFFIXES = frozenset({"", ".xlsx", ".xlsm"})
ZIP_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_HEADER_VIN = re.compile(r"^vin(\b|_)", re.IGNORECASE)
_DIGIT = re.compile(r"\d")


class VinRow(NamedTuple):
    """One row as read: its line in the file (or position in the list), the text, and the VIN or why not."""

    line: int
    raw: str
    vin: str | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class ParsedVins:
    """The rows of a VIN list and what they add up to. `vins` holds each good VIN once, in the order first seen."""

    rows: list[VinRow] = field(default_factory=list)
    vins: list[str] = field(default_factory=list)
    good: int = 0
    bad: int = 0
    duplicates: int = 0

    @property
    def total(self) -> int:
        return len(self.rows)

    @property
    def is_clean(self) -> bool:
        """Importable: at least one VIN and not one bad row."""
        return self.bad == 0 and bool(self.vins)

    def bad_rows(self, limit: int | None = None) -> list[VinRow]:
        return _first(self.rows, lambda row: not row.ok, limit)

    def good_rows(self, limit: int | None = None) -> list[VinRow]:
        return _first(self.rows, lambda row: row.ok, limit)


def _first(rows: list[VinRow], wanted, limit: int | None) -> list[VinRow]:
    found = []
    for row in rows:
        if wanted(row):
            found.append(row)
            if limit is not None and len(found) >= limit:
                break
    return found


def check_vins(values: Iterable[tuple[int, str]]) -> ParsedVins:
    """Normalise (line, text) pairs; bad ones keep their error, repeats of a good VIN are counted, not kept twice."""
    parsed = ParsedVins()
    seen: set[str] = set()
    for line, raw in values:
        text = raw.strip()
        try:
            # A clean VIN is its own normal form; skipping the full normalisation makes a 200,000-row file fast.
            vin = text if VIN_RE.fullmatch(text) else normalize_vin(text)
        except ValidationError as exc:
            parsed.rows.append(VinRow(line, text, None, exc.messages[0]))
            parsed.bad += 1
            continue
        if not vin:
            parsed.rows.append(VinRow(line, text, None, _("No VIN in this row.")))
            parsed.bad += 1
            continue
        parsed.rows.append(VinRow(line, text, vin, None))
        parsed.good += 1
        if vin in seen:
            parsed.duplicates += 1
        else:
            seen.add(vin)
            parsed.vins.append(vin)
    return parsed


def parse_vin_list(values: Sequence[str]) -> ParsedVins:
    """A list of VINs (as the API receives them); each row's `line` is its 0-based position in the list."""
    return check_vins(enumerate(values))


def parse_vin_file(uploaded_file) -> ParsedVins:
    """Read an uploaded CSV or XLSX file of VINs.

    Refuses, with a ValidationError saying what to do, a file over 5 MB or 200,000 rows, a format that is neither
    CSV nor XLSX, and a file without a single VIN row. Bad rows do not refuse the file: they are in the result,
    with their line numbers and messages.
    """
    size = getattr(uploaded_file, "size", None)
    if size is not None and size > MAX_FILE_BYTES:
        raise _too_big()
    if hasattr(uploaded_file, "seek"):
        uploaded_file.seek(0)
    data = uploaded_file.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise _too_big()
    name = getattr(uploaded_file, "name", "") or ""
    suffix = PurePath(name).suffix.lower()

    if data.startswith(OLE2_MAGIC):
        raise ValidationError(
            _("This is an old Excel file (.xls). Save it as .xlsx or as CSV and upload it again."), code="xls"
        )
    if data.startswith(ZIP_MAGIC) and suffix in XLSX_SUFFIXES:
        table = _xlsx_rows(data)
    elif suffix in TEXT_SUFFIXES and not _is_binary(data):
        table = _csv_rows(_decode(data))
    else:
        raise _unknown_format(name)
    parsed = check_vins(_vin_cells(table))
    if not parsed.rows:
        raise ValidationError(_("The file has no VINs."), code="empty")
    return parsed


def _too_big() -> ValidationError:
    return ValidationError(
        _("The file is larger than %(mb)d MB. Split it into smaller files and upload them one by one."),
        code="too_big",
        params={"mb": MAX_FILE_BYTES // (1024 * 1024)},
    )


def _too_many_rows() -> ValidationError:
    return ValidationError(
        _("The file has more than %(rows)s rows. Split it into smaller files and upload them one by one."),
        code="too_many_rows",
        params={"rows": f"{MAX_ROWS:,}".replace(",", " ")},
    )


def _unknown_format(name: str) -> ValidationError:
    return ValidationError(
        _("%(name)s is neither a CSV nor an XLSX file. Save the VIN list from Excel as .xlsx or CSV."),
        code="unknown_format",
        params={"name": name or _("The file")},
    )


# --- CSV -------------------------------------------------------------------------------------------------------------


def _is_binary(data: bytes) -> bool:
    """Zip, PDF, images...: text files (other than UTF-16, which starts with its BOM) have no NUL bytes."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    return data.startswith(ZIP_MAGIC) or b"\x00" in data[:4096]


def _decode(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise _unreadable_text() from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    # Excel in Russian Windows saves "CSV" in cp1251.
    try:
        return data.decode("cp1251")
    except UnicodeDecodeError as exc:
        raise _unreadable_text() from exc


def _unreadable_text() -> ValidationError:
    return ValidationError(
        _("The file's text encoding cannot be read. Save it as CSV UTF-8 and upload it again."), code="encoding"
    )


def _delimiter(text: str) -> str:
    """The delimiter found on the most of the first lines (then the most often); a one-column file has none."""
    sample = text[:65536].splitlines()[:50]
    scores = {d: (sum(d in line for line in sample), sum(line.count(d) for line in sample)) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: scores[d])
    return best if scores[best][0] else ","


def _csv_rows(text: str) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        for cells in reader:
            yield reader.line_num, cells
    except csv.Error as exc:
        raise ValidationError(
            _("Line %(line)d cannot be read as CSV: %(error)s"),
            code="csv",
            params={"line": reader.line_num, "error": str(exc)},
        ) from exc


# --- XLSX ------------------------------------------------------------------------------------------------------------


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, list[str]]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    unreadable = ValidationError(
        _("This XLSX file cannot be read. Open it in Excel, save it again as .xlsx and upload it."), code="xlsx"
    )
    with warnings.catch_warnings():
        # openpyxl warns about styles and extensions it ignores; none of that matters for a list of VINs.
        warnings.simplefilter("ignore")
        try:
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError, TypeError) as exc:
            raise unreadable from exc
        try:
            if not workbook.worksheets:
                return
            try:
                for number, values in enumerate(workbook.worksheets[0].iter_rows(values_only=True), start=1):
                    yield number, [_cell_text(value) for value in values]
            except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
                raise unreadable from exc
        finally:
            workbook.close()


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


# --- the VIN column --------------------------------------------------------------------------------------------------


def _may_be_vin(text: str) -> bool:
    """A header names the column; a VIN, even a mistyped one, almost always has a digit in it."""
    if _DIGIT.search(text):
        return True
    try:
        return bool(normalize_vin(text))
    except ValidationError:
        return False


def _vin_cells(table: Iterable[tuple[int, list[str]]]) -> Iterator[tuple[int, str]]:
    """(line, VIN cell) of every non-empty row, the header skipped; refuses a file with too many rows."""
    column: int | None = None
    count = 0
    for line, cells in table:
        stripped = [cell.strip() for cell in cells]
        if not any(stripped):
            continue
        if column is None:
            column = next((i for i, cell in enumerate(stripped) if _HEADER_VIN.match(cell)), None)
            if column is not None:
                continue
            column = 0
            if not _may_be_vin(stripped[0]):
                continue
        count += 1
        if count > MAX_ROWS:
            raise _too_many_rows()
        yield line, stripped[column] if column < len(stripped) else ""
