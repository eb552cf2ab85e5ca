import pytest
from django.core.exceptions import ValidationError

from clients.normalize import (
    format_phone,
    normalize_phone,
    normalize_plate,
    normalize_vin,
    phone_fragment,
    plate_fragment,
    vin_fragment,
)


@pytest.mark.parametrize(
    "raw",
    [
        "8 (912) 345-67-89",
        "+7 912 345 6789",
        "9123456789",
        "89123456789",
        "+79123456789",
        "7-912-345-67-89",
        " 8.912.345.67.89 ",
    ],
)
def test_any_russian_spelling_becomes_e164(raw):
    assert normalize_phone(raw) == "+79123456789"


def test_landline_with_city_code():
    assert normalize_phone("8 (495) 123-45-67") == "+74951234567"


def test_foreign_number_with_plus_is_kept():
    assert normalize_phone("+375 29 123-45-67") == "+375291234567"


@pytest.mark.parametrize(
    ("raw", "code", "fragment"),
    [
        ("", "required", "Enter a phone number"),
        ("912-34", "too_short", "Too few digits"),
        ("8 912 abc 67 89", "invalid", "only digits"),
        ("8 (012) 345-67-89", "invalid", "No such phone number"),
        ("+7 912 345 67 89 12345", "invalid", ""),
    ],
)
def test_bad_phones_are_refused_with_a_clear_message(raw, code, fragment):
    with pytest.raises(ValidationError) as exc:
        normalize_phone(raw)
    assert exc.value.code == code
    assert fragment in exc.value.messages[0]


def test_format_phone_for_people():
    assert format_phone("+79123456789") == "+7 912 345-67-89"


def test_vin_is_upper_cased_and_cyrillic_lookalikes_become_latin():
    assert normalize_vin(" xta21099012345678 ") == "XTA21099012345678"
    # Cyrillic Х, Т, А typed by a manager on the wrong keyboard layout.
    assert normalize_vin("ХТА21099012345678") == "XTA21099012345678"


def test_blank_vin_is_allowed():
    assert normalize_vin("") == ""


@pytest.mark.parametrize(
    ("raw", "code", "fragment"),
    [
        ("XTA2109901234567", "length", "17 characters; this one has 16"),
        ("XTA210990123456789", "length", "this one has 18"),
        ("XTA2109O012345678", "forbidden_letters", "found: O"),
        ("ITA21099012345678", "forbidden_letters", "found: I"),
        ("XTA21099012345Q78", "forbidden_letters", "found: Q"),
        ("XTA2109901234567!", "invalid", "only digits and Latin letters"),
        ("XTA2109901234567Ж", "invalid", "only digits and Latin letters"),
    ],
)
def test_bad_vins_are_refused_with_a_clear_message(raw, code, fragment):
    with pytest.raises(ValidationError) as exc:
        normalize_vin(raw)
    assert exc.value.code == code
    assert fragment in exc.value.messages[0]


@pytest.mark.parametrize("raw", ["А123ВС77", "a123bc77", "A 123 BC 77", "а123вс77", "A123ВС77"])
def test_plate_in_latin_or_cyrillic_is_stored_in_cyrillic(raw):
    assert normalize_plate(raw) == "А123ВС77"


def test_plate_with_three_digit_region():
    assert normalize_plate("x777xx799") == "Х777ХХ799"


@pytest.mark.parametrize(
    ("raw", "code", "fragment"),
    [
        ("Б123ВС77", "letters", "found: Б"),
        ("D123BC77", "letters", "found: D"),
        ("А12ВС77", "invalid", "like А123ВС77"),
        ("А123ВС7", "invalid", "like А123ВС77"),
        ("123АВС77", "invalid", "like А123ВС77"),
    ],
)
def test_bad_plates_are_refused_with_a_clear_message(raw, code, fragment):
    with pytest.raises(ValidationError) as exc:
        normalize_plate(raw)
    assert exc.value.code == code
    assert fragment in exc.value.messages[0]


@pytest.mark.parametrize(
    ("query", "digits"),
    [("912", "912"), ("(912) 34", "91234"), ("+7 912", "7912"), ("8-912-3", "89123"), ("12", None), ("ivan", None)],
)
def test_phone_fragment(query, digits):
    assert phone_fragment(query) == digits


def test_plate_and_vin_fragments():
    assert plate_fragment("a123") == "А123"
    assert plate_fragment("иван") is None
    assert vin_fragment("xta21") == "XTA21"
    assert vin_fragment("123") is None
    assert vin_fragment("xto21") is None  # O never occurs in a VIN
