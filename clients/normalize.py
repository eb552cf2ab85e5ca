"""Phones, VINs and plates as people type them, turned into one stored form (or a clear refusal).

- phones: any Russian spelling (`8 (912) 345-67-89`, `+7 912 345 6789`, `9123456789`) to E.164 `+79123456789`;
- VIN: 17 characters, digits and Latin letters except I, O, Q; Cyrillic look-alikes typed by mistake are accepted;
- plates: `А123ВС77`, letters typed in Latin or Cyrillic, stored in Cyrillic;
- names: zero-width and control characters removed, spaces collapsed; nothing visible left is a refusal;
- DMS ids: stripped; blank means none;
- model years: from 1950 to next year.
"""

import functools
import re

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clientdesk.calendar import local_date
from clientdesk.text import normalize_name as normalize_name  # the rule lives in the core: accounts shares it
from clientdesk.text import visible_token

# Letters that look the same in both alphabets; the only ones Russian plates use.
_LATIN_TO_CYRILLIC = str.maketrans("ABEKMHOPCTYX", "АВЕКМНОРСТУХ")
_CYRILLIC_TO_LATIN = str.maketrans("АВЕКМНОРСТУХ", "ABEKMHOPCTYX")
PLATE_LETTERS = "АВЕКМНОРСТУХ"
PLATE_RE = re.compile(rf"^[{PLATE_LETTERS}]\d{{3}}[{PLATE_LETTERS}]{{2}}\d{{2,3}}$")
VIN_RE = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")
_SEPARATORS = re.compile(r"[\s\-_.]+")
_PHONE_CHARS = re.compile(r"^[\d\s()+\-.]+$")


def normalize_phone(raw: str) -> str:
    """E.164 form of a phone number, or ValidationError saying what is wrong."""
    text = (raw or "").strip()
    if not text:
        raise ValidationError(_("Enter a phone number."), code="required")
    if not _PHONE_CHARS.match(text):
        raise ValidationError(
            _("A phone number may contain only digits, spaces, brackets, dashes and a leading +."), code="invalid"
        )
    digits = re.sub(r"\D", "", text)
    if len(digits) < 10:
        raise ValidationError(
            _("Too few digits for a phone number (%(count)d); a Russian number has 10 after +7 or 8."),
            code="too_short",
            params={"count": len(digits)},
        )
    try:
        parsed = phonenumbers.parse(text, settings.CLIENTDESK["DEFAULT_PHONE_REGION"])
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(_("This does not look like a phone number."), code="invalid") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ValidationError(_("No such phone number exists: check the code and the digits."), code="invalid")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


@functools.lru_cache(maxsize=4096)
def format_phone(e164: str) -> str:
    """+79123456789 as people read it: +7 912 345-67-89. Remembered per number: a client card's timeline prints the
    same few numbers on every call line, and phonenumbers parses each in about 50 us."""
    try:
        return phonenumbers.format_number(phonenumbers.parse(e164, None), phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    except phonenumbers.NumberParseException:
        return e164


def normalize_vin(raw: str) -> str:
    """The VIN in upper-case Latin, or ValidationError."""
    vin = _SEPARATORS.sub("", (raw or "").upper()).translate(_CYRILLIC_TO_LATIN)
    if not vin:
        return ""
    forbidden = sorted(set(vin) & set("IOQ"))
    if forbidden:
        raise ValidationError(
            _("A VIN never contains the letters I, O or Q (found: %(letters)s); they are read as 1 and 0."),
            code="forbidden_letters",
            params={"letters": ", ".join(forbidden)},
        )
    if len(vin) != 17:
        raise ValidationError(
            _("A VIN has 17 characters; this one has %(count)d."), code="length", params={"count": len(vin)}
        )
    if not VIN_RE.match(vin):
        raise ValidationError(_("A VIN has only digits and Latin letters."), code="invalid")
    return vin


def normalize_plate(raw: str) -> str:
    """The plate in upper-case Cyrillic without spaces (А123ВС77), or ValidationError."""
    plate = _SEPARATORS.sub("", (raw or "").upper()).translate(_LATIN_TO_CYRILLIC)
    if not plate:
        return ""
    bad = sorted({ch for ch in plate if ch.isalpha() and ch not in PLATE_LETTERS})
    if bad:
        raise ValidationError(
            _("Plates use only the letters А В Е К М Н О Р С Т У Х (found: %(letters)s)."),
            code="letters",
            params={"letters": ", ".join(bad)},
        )
    if not PLATE_RE.match(plate):
        raise ValidationError(
            _("A plate is a letter, 3 digits, 2 letters and a 2–3 digit region, like А123ВС77."), code="invalid"
        )
    return plate


def normalize_dms_id(raw: str | None) -> str:
    """The DMS id without surrounding spaces or invisible characters; blank (or only spaces) means none."""
    return visible_token(raw)


MIN_MODEL_YEAR = 1950


def max_model_year() -> int:
    """Next year: a car of next year's model may already be sold; a later one is a typo."""
    return local_date(timezone.now()).year + 1


def validate_model_year(value: int | None) -> None:
    """A model year from 1950 to next year (the database holds 1950–2100: a CHECK cannot read today's date)."""
    if value is not None and value > max_model_year():
        raise ValidationError(
            _("The model year can be at most %(max)d (next year)."), code="max_value", params={"max": max_model_year()}
        )


# --- Fragments for search: never refuse, only reshape ----------------------------------------------------------------


def phone_fragment(query: str) -> str | None:
    """The digits of a query that looks like (part of) a phone number, if there are enough of them."""
    text = query.strip()
    if not text or not _PHONE_CHARS.match(text):
        return None
    digits = re.sub(r"\D", "", text)
    return digits if len(digits) >= settings.CLIENTDESK["SEARCH_MIN_DIGITS"] else None


def plate_fragment(query: str) -> str | None:
    text = _SEPARATORS.sub("", query.upper()).translate(_LATIN_TO_CYRILLIC)
    if len(text) < 3 or not all(ch.isdigit() or ch in PLATE_LETTERS for ch in text):
        return None
    return text


def vin_fragment(query: str) -> str | None:
    text = _SEPARATORS.sub("", query.upper()).translate(_CYRILLIC_TO_LATIN)
    if len(text) < 4 or len(text) > 17 or not all(ch.isdigit() or "A" <= ch <= "Z" for ch in text):
        return None
    if set(text) & set("IOQ"):
        return None
    return text
