"""The core's printing (clientdesk/pdf.py) and upload checks (clientdesk/uploads.py) every app builds on."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from pypdf import PdfReader

from clientdesk.pdf import pdf_response, render_html, render_pdf
from clientdesk.uploads import JPEG, PDF, PNG, accept_upload, stored_name

TEMPLATE = "print/base.html"


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@override_settings(DEALERSHIP={"name": "ООО «Автоцентр Север»", "address": "Тверь", "phone": "1", "inn": "69"})
def test_a_printed_form_renders_to_a_pdf_in_russian_with_the_dealerships_details():
    data = render_pdf(TEMPLATE, {"pdf": True})
    assert data.startswith(b"%PDF-")
    assert "ООО «Автоцентр Север»" in pdf_text(data)
    assert "Download PDF" not in render_html(TEMPLATE, {"pdf": True})
    assert "Download PDF" in render_html(TEMPLATE, {"pdf_url": "/x.pdf"})


def test_a_printed_form_fetches_nothing_from_the_network(tmp_path, settings):
    """An <img> pointing outside is dropped (WeasyPrint logs it), and the PDF is still made."""
    template = tmp_path / "outside.html"
    template.write_text(
        '{% extends "print/base.html" %}{% block content %}<img src="http://example.com/x.png">Текст{% endblock %}'
    )
    engine = {**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], tmp_path]}
    with override_settings(TEMPLATES=[engine]):
        assert "Текст" in pdf_text(render_pdf("outside.html"))


def test_the_pdf_download_has_a_safe_name():
    response = pdf_response(b"%PDF-1.7", "Претензия П-2026/00042.pdf", inline=False)
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment; filename*=utf-8''")
    assert "/" not in response["Content-Disposition"].split("''")[1]


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


@pytest.mark.parametrize(
    ("name", "content"),
    [("scan.pdf", b"%PDF-1.4 ..."), ("photo.JPG", b"\xff\xd8\xff\xe0 ..."), ("shot.png", b"\x89PNG\r\n\x1a\n ...")],
)
def test_an_upload_is_accepted_by_its_content(name, content):
    accept_upload(PDF, JPEG, PNG)(upload(name, content))


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("scan.pdf", b"<script>alert(1)</script>", "Only PDF, JPEG, PNG files"),  # the name lies
        ("empty.pdf", b"", "empty"),
        ("big.pdf", b"%PDF-" + b"0" * 2 * 1024 * 1024, "at most 1 MB"),
    ],
)
def test_a_wrong_upload_is_refused_with_a_clear_message(name, content, message):
    with pytest.raises(ValidationError, match=message):
        accept_upload(PDF, JPEG, PNG, max_mb=1)(upload(name, content))


def test_a_stored_file_gets_a_name_of_ours():
    name = stored_name("claims")(None, "../../etc/passwd; rm -rf.PDF")
    assert name.startswith("claims/") and name.endswith(".pdf") and ".." not in name
    assert stored_name("claims")(None, "evil.php").endswith(".bin")


def test_a_printed_form_takes_its_styles_from_the_static_file(settings):
    """No inline <style> (the pages' CSP refuses it): the PDF reads static/css/print.css through the fetcher."""
    html = render_html(TEMPLATE, {"pdf": True})
    assert "<style" not in html and "css/print.css" in html
    data = render_pdf(TEMPLATE, {"pdf": True})
    # The A4 page and the footer's page counter come from the stylesheet: "1 / 1" is printed only if it was read.
    assert "1 / 1" in pdf_text(data)
