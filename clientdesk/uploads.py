"""Uploaded files (a claim's scan, a damage photo): checked by what they are, stored under a name we make.

The type is read from the file's first bytes, never from its name or the browser's Content-Type, so a script
renamed `scan.pdf` is refused; the size is capped by `UPLOAD_MAX_MB`; the stored name is a random one under the
model's folder (the original name is kept in a field for display only). Nothing under MEDIA_ROOT is served
directly: the app's view checks who may see the file and streams it with `file_response`.

    class ClaimAttachment(models.Model):
        file = models.FileField(upload_to=stored_name("claims"), validators=[accept_upload(PDF, JPEG, PNG)])
"""

import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import FileResponse
from django.utils import timezone
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class FileKind:
    name: str
    extension: str
    content_type: str
    magic: tuple[bytes, ...]

    def matches(self, head: bytes) -> bool:
        return any(head.startswith(m) for m in self.magic)


PDF = FileKind("PDF", "pdf", "application/pdf", (b"%PDF-",))
JPEG = FileKind("JPEG", "jpg", "image/jpeg", (b"\xff\xd8\xff",))
PNG = FileKind("PNG", "png", "image/png", (b"\x89PNG\r\n\x1a\n",))


def sniff(file, kinds: tuple[FileKind, ...]) -> FileKind | None:
    """The kind the file's first bytes say it is, among `kinds` (None if none)."""
    position = file.tell() if hasattr(file, "tell") else 0
    file.seek(0)
    head = file.read(16)
    file.seek(position)
    return next((kind for kind in kinds if kind.matches(head)), None)


@deconstructible
class accept_upload:  # noqa: N801 - used as a validator factory, read like a function
    """A FileField validator: the file is one of `kinds` by its content and at most `UPLOAD_MAX_MB` (or `max_mb`)."""

    def __init__(self, *kinds: FileKind, max_mb: float | None = None):
        self.kinds = kinds
        self.max_mb = max_mb

    def __call__(self, file) -> None:
        limit_mb = self.max_mb or settings.UPLOAD_MAX_MB
        if file.size is not None and file.size > limit_mb * 1024 * 1024:
            raise ValidationError(
                _("The file is %(size).1f MB; at most %(limit)g MB is accepted.")
                % {"size": file.size / 1024 / 1024, "limit": limit_mb},
                code="too_large",
            )
        if file.size == 0:
            raise ValidationError(_("The file is empty."), code="empty")
        if sniff(file, self.kinds) is None:
            raise ValidationError(
                _("Only %(kinds)s files are accepted; this one is not.")
                % {"kinds": ", ".join(kind.name for kind in self.kinds)},
                code="wrong_type",
            )

    def __eq__(self, other) -> bool:
        return isinstance(other, accept_upload) and (self.kinds, self.max_mb) == (other.kinds, other.max_mb)


@deconstructible
class stored_name:  # noqa: N801 - an upload_to callable, read like a function
    """`upload_to` for a FileField: `<folder>/<yyyy>/<mm>/<random>.<ext>`, the extension from what the content is."""

    kinds = (PDF, JPEG, PNG)

    def __init__(self, folder: str):
        self.folder = folder

    def __call__(self, instance, filename: str) -> str:
        extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
        extension = {"jpeg": "jpg"}.get(extension, extension)
        if extension not in {kind.extension for kind in self.kinds}:
            extension = "bin"  # the validator has checked the content; the name only helps a person reading the disk
        return f"{self.folder}/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.{extension}"

    def __eq__(self, other) -> bool:
        return isinstance(other, stored_name) and self.folder == other.folder


def file_response(field_file, *, download_name: str, content_type: str | None = None) -> FileResponse:
    """Stream a stored file to a user the view has already checked, as an attachment under its display name."""
    response = FileResponse(field_file.open("rb"), as_attachment=True, filename=download_name)
    if content_type:
        response["Content-Type"] = content_type
    response["X-Content-Type-Options"] = "nosniff"
    return response
