"""Typed and pasted text as people mean it.

Invisible characters come along with names pasted from a messenger, a PDF or a spreadsheet: zero-width spaces and
joiners, direction marks, the BOM (Unicode category Cf) and control characters (Cc). They make a name that looks
filled in but is empty, or two spellings of one name that do not compare equal. Tabs and newlines count as spaces.
"""

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

NO_VISIBLE_LETTERS = _("Enter a name: this one has no visible letters.")


def _visible(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch) not in ("Cc", "Cf")


def visible_text(raw: str | None) -> str:
    """The text without invisible characters, its spaces collapsed."""
    return " ".join("".join(ch for ch in (raw or "") if _visible(ch)).split())


def visible_token(raw: str | None) -> str:
    """An identifier (a DMS id) without invisible characters or surrounding spaces; its inner spaces kept."""
    return "".join(ch for ch in (raw or "") if _visible(ch)).strip()


def normalize_name(raw: str | None, *, required: bool = True) -> str:
    """A name with the invisible characters removed and its spaces collapsed. ValidationError when something was typed
    but nothing visible is left, or, for a required name, when nothing was typed at all."""
    text = visible_text(raw)
    if not text and (required or (raw or "").strip()):
        raise ValidationError(NO_VISIBLE_LETTERS, code="blank")
    return text
