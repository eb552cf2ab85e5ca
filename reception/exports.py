"""CSV files people open in Excel: UTF-8 with a byte-order mark (so Cyrillic reads right), semicolons (the Russian
Excel's list separator), and every cell that Excel would take for a formula neutralised."""

import csv
import io
from collections.abc import Iterable

from django.http import HttpResponse

from clientdesk.exports import safe_cell


def csv_response(filename: str, header: Iterable, rows: Iterable[Iterable]) -> HttpResponse:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow([safe_cell(cell) for cell in header])
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    response = HttpResponse(("\ufeff" + buffer.getvalue()).encode("utf-8"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
