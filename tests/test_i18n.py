"""The translation catalogues: complete, compiled, in step with the code, and actually used.

Every user-facing string is marked for translation; `make messages` regenerates locale/ru and locale/en and compiles
them. These tests catch what is easy to forget: an untranslated or fuzzy entry, a .mo file not recompiled after the
.po changed, a string added to the code without re-running makemessages, a placeholder lost in translation.
No database is needed.
"""

import ast
import gettext as gnu_gettext
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django import forms
from django.utils import formats, translation
from django.utils.translation import gettext, ngettext

ROOT = Path(__file__).resolve().parent.parent
LOCALE_DIR = ROOT / "locale"
LANGUAGES = ("ru", "en")
PLURAL_FORMS = {
    # The standard GNU gettext rule for Russian: 1, 21, 31… / 2–4, 22–24… / everything else.
    "ru": "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);",
    "en": "nplurals=2; plural=(n != 1);",
}
# What `make messages` leaves out, plus what is not source at all; the copy for the makemessages check skips it.
MAKEMESSAGES_IGNORE = ("node_modules", ".venv", "var", "tests", "bench")
COPY_IGNORE = shutil.ignore_patterns(
    # bench is an installed app (settings import it) though its strings are not translated: copied, not scanned.
    *(pattern for pattern in MAKEMESSAGES_IGNORE if pattern != "bench"),
    ".git",
    "staticfiles",
    "test-artifacts",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    "*.pyc",
    "*.mo",
)
PLACEHOLDER = re.compile(r"%\((\w+)\)[#0 +-]*\d*(?:\.\d+)?[sdifr]")


# --- A small .po reader ------------------------------------------------------------------------------------------


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)  # index 0 for a singular entry
    flags: set[str] = field(default_factory=set)
    references: list[str] = field(default_factory=list)

    @property
    def is_header(self) -> bool:
        return self.msgid == "" and self.msgctxt is None

    @property
    def where(self) -> str:
        return f"{self.msgid!r} ({' '.join(self.references) or 'no reference'})"


_KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr)(?:\[(\d+)\])?\s+(".*")\s*$')


def read_po(path: Path) -> list[Entry]:
    """The entries of a .po file, header first; obsolete (`#~`) entries are left out."""
    entries: list[Entry] = []
    entry: Entry | None = None
    target: tuple[str, int] | None = None

    def finish() -> None:
        nonlocal entry, target
        if entry is not None and target is not None:
            entries.append(entry)
        entry, target = None, None

    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line:
            finish()
            continue
        if line.startswith("#~"):
            continue
        if entry is None:
            entry = Entry()
        if line.startswith("#,"):
            entry.flags.update(flag.strip() for flag in line[2:].split(",") if flag.strip())
        elif line.startswith("#:"):
            entry.references.extend(line[2:].split())
        elif line.startswith("#"):
            continue
        elif match := _KEYWORD.match(line):
            keyword, index, literal = match.groups()
            if keyword in ("msgid", "msgctxt") and target is not None and target[0] == "msgstr":
                finish()  # entries not separated by a blank line
                entry = Entry()
            target = (keyword, int(index or 0))
            _append(entry, target, ast.literal_eval(literal))
        elif line.startswith('"') and target is not None:
            _append(entry, target, ast.literal_eval(line))
        else:
            raise AssertionError(f"{path}:{number}: cannot read {line!r}")
    finish()
    return entries


def _append(entry: Entry, target: tuple[str, int], text: str) -> None:
    keyword, index = target
    if keyword == "msgstr":
        entry.msgstr[index] = entry.msgstr.get(index, "") + text
    else:
        setattr(entry, keyword, (getattr(entry, keyword) or "") + text)


def header_fields(entries: list[Entry]) -> dict[str, str]:
    header = next(e for e in entries if e.is_header)
    return dict(
        (key.strip(), value.strip())
        for key, _, value in (line.partition(":") for line in header.msgstr.get(0, "").splitlines())
        if key.strip()
    )


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / "django.po"


def untranslated_or_fuzzy(entries: list[Entry]) -> list[str]:
    problems = []
    for e in entries:
        if "fuzzy" in e.flags:
            problems.append(f"fuzzy: {e.where}")
        if e.is_header:
            continue
        forms = [e.msgstr.get(i, "") for i in range(max(len(e.msgstr), 1))]
        if not all(forms):
            problems.append(f"untranslated: {e.where}")
    return problems


# --- The catalogues themselves -----------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_is_complete_and_not_fuzzy(language):
    entries = read_po(po_path(language))
    assert len(entries) > 100, "the catalogue looks empty: run `make messages`"
    problems = untranslated_or_fuzzy(entries)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("language", LANGUAGES)
def test_header_names_the_language_and_its_plural_rule(language):
    fields = header_fields(read_po(po_path(language)))
    assert fields["Language"] == language
    assert fields["Content-Type"] == "text/plain; charset=UTF-8"
    assert fields["Plural-Forms"] == PLURAL_FORMS[language]


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_form_has_exactly_the_placeholders_of_the_source(language):
    nplurals = int(re.search(r"nplurals=(\d+)", PLURAL_FORMS[language]).group(1))
    problems = []
    for e in read_po(po_path(language)):
        if e.is_header:
            continue
        if e.msgid_plural is not None and sorted(e.msgstr) != list(range(nplurals)):
            problems.append(f"needs {nplurals} plural forms, has {sorted(e.msgstr)}: {e.where}")
        wanted = set(PLACEHOLDER.findall(e.msgid_plural or e.msgid))
        for index, text in e.msgstr.items():
            if set(PLACEHOLDER.findall(text)) != wanted:
                problems.append(f"msgstr[{index}] {text!r} has other placeholders than {e.where}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("language", LANGUAGES)
def test_compiled_mo_matches_the_po(language, tmp_path):
    """The committed .mo is what msgfmt makes of the committed .po (compared message by message, not byte by byte)."""
    if shutil.which("msgfmt") is None:
        pytest.skip("msgfmt (GNU gettext) is not installed")
    po, committed_mo = po_path(language), po_path(language).with_suffix(".mo")
    assert committed_mo.exists(), f"{committed_mo} is missing: run `make messages`"
    fresh_mo = tmp_path / "django.mo"
    result = subprocess.run(["msgfmt", "--check-format", "-o", str(fresh_mo), str(po)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr

    def messages(path: Path) -> dict:
        with path.open("rb") as fp:
            return dict(gnu_gettext.GNUTranslations(fp)._catalog)  # the parsed message table

    fresh, committed = messages(fresh_mo), messages(committed_mo)
    stale = sorted(str(k) for k in fresh.keys() ^ committed.keys())
    changed = sorted(str(k) for k in fresh.keys() & committed.keys() if fresh[k] != committed[k])
    assert (stale, changed) == ([], []), f"{committed_mo} is out of date: run `make messages`"


# --- The catalogues against the code -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def regenerated_catalogues(tmp_path_factory) -> dict[str, list[Entry]]:
    """Run makemessages as `make messages` does, on a copy of the source with the committed .po files."""
    copy = tmp_path_factory.mktemp("i18n") / "project"
    shutil.copytree(ROOT, copy, ignore=COPY_IGNORE, symlinks=True)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "clientdesk.settings.test")}
    env.pop("PYTHONPATH", None)  # the copy's own packages, not the working tree's
    command = [sys.executable, "manage.py", "makemessages", "--no-obsolete"]
    command += [f"--locale={language}" for language in LANGUAGES]
    command += [f"--ignore={pattern}" for pattern in MAKEMESSAGES_IGNORE]
    result = subprocess.run(command, cwd=copy, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return {language: read_po(copy / "locale" / language / "LC_MESSAGES" / "django.po") for language in LANGUAGES}


def _keys(entries: list[Entry]) -> set[tuple]:
    return {(e.msgctxt, e.msgid, e.msgid_plural) for e in entries if not e.is_header}


@pytest.mark.slow
@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_covers_every_marked_string(language, regenerated_catalogues):
    """A string marked in code or templates but not yet in the catalogue shows up here as untranslated."""
    problems = untranslated_or_fuzzy(regenerated_catalogues[language])
    assert not problems, "run `make messages` and translate:\n" + "\n".join(problems)


@pytest.mark.slow
@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_has_no_strings_the_code_no_longer_uses(language, regenerated_catalogues):
    committed = _keys(read_po(po_path(language)))
    current = _keys(regenerated_catalogues[language])
    gone = sorted(repr(key[1]) for key in committed - current)
    new = sorted(repr(key[1]) for key in current - committed)
    assert not gone, "no longer in the code; run `make messages` to drop them:\n" + "\n".join(gone)
    assert not new, "not in the catalogue yet; run `make messages` and translate:\n" + "\n".join(new)


# --- The translations in use --------------------------------------------------------------------------------------

# Passed to gettext through names, never as literals: `make messages` also scans tests/, and a literal here would
# land in the project's catalogue.
SEARCH = "Search"
DJANGO_REQUIRED = "This field is required."  # from Django's own catalogue
GLOSSARY = {
    "Search": "Поиск",
    "Log a call": "Зарегистрировать звонок",
    "Call log": "Журнал звонков",
    "Clients": "Клиенты",
    "Inbound": "Входящий",
    "Outbound": "Исходящий",
    "Visit confirmation": "Подтверждение визита",
    "Follow-up": "Контрольный звонок",
    "Department head": "Руководитель отдела",
    "Service advisor": "Мастер-приёмщик",
    "Transport department head": "Руководитель транспортного отдела",
    "consent to personal-data processing": "согласие на обработку персональных данных",
    "plate": "госномер",
    "DMS id": "ID в DMS",
    "Merge": "Объединить",
    "Likely duplicates": "Вероятные дубли",
    "API key": "API-ключ",
    "Sign in": "Войти",
    "Sign out": "Выйти",
}


def test_russian_is_served_from_the_catalogue():
    with translation.override("ru"):
        assert gettext(SEARCH) != SEARCH
        assert {english: gettext(english) for english in GLOSSARY} == GLOSSARY
        # Django's own catalogue still loads beside ours (it uses a different plural rule).
        assert gettext(DJANGO_REQUIRED) == "Обязательное поле."


def test_english_is_served_as_written():
    with translation.override("en"):
        assert {english: gettext(english) for english in GLOSSARY} == {english: english for english in GLOSSARY}


def _russian_plural_index(n: int) -> int:
    if n % 10 == 1 and n % 100 != 11:
        return 0
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return 1
    return 2


def test_russian_plural_forms_follow_the_russian_rule():
    """1, 21, 101 строка; 2, 3, 22 строки; 0, 5, 11, 14, 25 строк: Django picks the form our header's rule names."""
    plurals = [e for e in read_po(po_path("ru")) if e.msgid_plural and len(set(e.msgstr.values())) == 3]
    assert plurals, "no Russian entry with three distinct plural forms to check"
    entry = plurals[0]
    with translation.override("ru"):
        for n in (0, 1, 2, 3, 4, 5, 11, 12, 14, 21, 22, 25, 101, 111, 1001):
            assert ngettext(entry.msgid, entry.msgid_plural, n) == entry.msgstr[_russian_plural_index(n)], n


def test_english_dates_are_day_first_on_a_24_hour_clock():
    moment = datetime(2026, 11, 26, 20, 30, tzinfo=UTC)
    with translation.override("en"):
        assert formats.date_format(moment, "SHORT_DATETIME_FORMAT") == "26.11.2026 20:30"
        assert formats.date_format(moment, "DATETIME_FORMAT") == "26 November 2026, 20:30"
        assert formats.get_format("FIRST_DAY_OF_WEEK") == 1
        # What date inputs send still parses, and so does what people type.
        assert forms.DateField().clean("2026-11-26") == forms.DateField().clean("26.11.2026")
