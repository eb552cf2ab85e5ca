"""The documents' line on the client's and the vehicle's timelines (`clients.extensions.TimelineSource.line`,
registered in DocumentsConfig.ready; why f-strings: `clients.timeline`)."""

from html import escape

from django.db.models import QuerySet
from django.utils.translation import gettext

from clients.timeline import choice_label, line_day, line_html, vehicle_columns, vehicle_text
from documents.models import Document


def document_rows(documents: QuerySet) -> QuerySet:
    """The documents as `document_line` reads them (ordered by when they were registered, `created_at`)."""
    return documents.values(
        *("pk", "created_at", "kind", "number", "state", "issued_on", "archive_box", "archive_shelf"),
        *vehicle_columns(),
    )


def document_line(entry, user) -> str:
    """The kind and number (a link to the document) and its state, the date it bears; the car and where the paper
    lies."""
    doc = entry.obj
    name = choice_label(Document.Kind, doc.kind)
    if doc.number:
        name += f" № {escape(doc.number)}"
    badge_class = Document.STATE_BADGES.get(doc.state, "text-bg-danger")
    state = f'<span class="badge {badge_class}">{choice_label(Document.State, doc.state)}</span>'
    title = f'<a href="{escape(entry.url)}"><strong>{name}</strong></a> · {state}'
    vehicle = vehicle_text(doc)
    location = Document.place(doc.archive_box, doc.archive_shelf)
    details = ""
    if vehicle or location:
        place = escape(gettext("Location"))
        where = f" · {place}: {escape(location)}" if location else ""
        details = f'<div class="small text-body-secondary">{vehicle}{where}</div>'
    return line_html("document-entry", title, line_day(doc.issued_on), details)
