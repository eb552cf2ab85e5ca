"""The one place that prints: a Django template rendered to HTML, then to PDF by WeasyPrint.

Every printed form (a claim's registration card and answer letter, a loaner's handover act, a power of attorney, a
transfer registry...) is a template extending `print/base.html`, so the same page serves as the HTML print view and,
through `render_pdf`, as the PDF. Fonts and styles are the page's own (no network: WeasyPrint fetches nothing from
outside the project's static files).

    pdf = render_pdf("claims/print/card.html", {"claim": claim})
    return pdf_response(pdf, f"claim-{claim.number}.pdf")
"""

from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.exceptions import SuspiciousFileOperation
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils.http import content_disposition_header


def print_context(context: dict | None = None) -> dict:
    """What every printed form may show: the dealership's details from settings, plus the form's own context."""
    return {"dealership": settings.DEALERSHIP, **(context or {})}


def render_html(template_name: str, context: dict | None = None, *, request=None) -> str:
    return render_to_string(template_name, print_context(context), request=request)


def _static_file(name: str) -> str | None:
    """The file of a static name: from the apps' and project's static folders (development, tests), or collected
    under STATIC_ROOT with its hashed name (production: `{% static %}` names the hashed copy)."""
    name = name.split("?", 1)[0]
    found = finders.find(name)
    if found:
        return found
    try:
        collected = Path(staticfiles_storage.path(name))
    except (NotImplementedError, ValueError, SuspiciousFileOperation):
        return None
    return str(collected) if collected.is_file() else None


def _static_files_only():
    """WeasyPrint's URL fetcher, limited to the project's static files: a printed form never reaches the network
    (a dealership LAN may have none, and a URL inside user text must not make the server fetch it). Anything else is
    skipped with a warning in the log, and the form prints without it."""
    import weasyprint  # Pango loads at import: only the processes that print pay for it

    class StaticFilesOnly(weasyprint.URLFetcher):
        def fetch(self, url, headers=None):
            prefix = "/" + settings.STATIC_URL.lstrip("/")
            path = url.split("://", 1)[-1]
            found = _static_file(path[path.find(prefix) + len(prefix) :]) if prefix in path else None
            if not found:
                raise ValueError(f"printed forms load only the project's static files, not {url!r}")
            return super().fetch(Path(found).as_uri(), headers)

    return StaticFilesOnly(allowed_protocols=("file",))


def render_pdf(template_name: str, context: dict | None = None, *, request=None) -> bytes:
    """The template as a PDF (A4, the fonts the page names: DejaVu carries Cyrillic)."""
    import weasyprint  # see _static_files_only

    html = render_html(template_name, context, request=request)
    return weasyprint.HTML(string=html, base_url="http://print.local/", url_fetcher=_static_files_only()).write_pdf()


def pdf_response(pdf: bytes, filename: str, *, inline: bool = True) -> HttpResponse:
    """The PDF as a download (or shown in the browser's viewer when `inline`), under an ASCII-safe file name."""
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(not inline, filename.replace("/", "-"))
    response["X-Content-Type-Options"] = "nosniff"
    return response
