"""Dates and times as workout apps and studio spreadsheets write them.

Accepted forms (surrounding spaces, narrow and non-breaking spaces ignored):

- year first, always year-month-day: ``2021-09-02 18:54:45``,
  ``2024/03/05``, ``2021-01-12 08:13:50 +0000``, ``2024-03-05T18:30:00Z``,
  ``2023-01-05 6:51:52 PM`` (Strong with a 12-hour clock);
- a month name: ``8 Apr 2026, 16:50`` (Hevy in English), ``Apr 8, 2026,
  4:50 PM``, ``8 de abr. de 2026, 16:50``, ``8. Apr. 2026 16:50``,
  ``9 Nis 2026, 15:26`` (Hevy in Turkish), with the wide and abbreviated month
  names of every CLDR locale (Babel's data; accents and a trailing dot
  optional). A name that means different months in different languages
  (``listopad``: November in Polish, October in Croatian) is read in the
  language the column's other month names share, or else refused with a
  reason; English and Portuguese names always keep their English or
  Portuguese meaning (``mar`` is March, ``out`` October);
- numbers only, day and month in either order: ``08/04/2026 16:50``,
  ``4/8/26 4:50 PM``, ``08.04.2026``, ``08-04-2026`` (two-digit years are
  20YY).

Day-first or month-first is the user's choice when given (``--dayfirst`` or
``--monthfirst``); otherwise it is decided once per column, deterministically:
a first number above 12 in any value means day-first, a second number above
12 means month-first (both at once is an error: the column mixes orders).
When no value settles it, dotted dates (``08.04.2026``) are day-first, a
column with a 12-hour clock (AM/PM) is month-first (the United States
convention), and anything else is day-first (most of the world); the
returned note says which was assumed.

A time zone offset (``+0000``, ``Z``, ``UTC``) is dropped and the clock time
kept as written: apps write the phone's local offset, and the local day is
the day trained.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cache

from babel import Locale, localedata
from babel.dates import get_month_names

from backpain_analysis.errors import DataError

_FILLER = frozenset({"de", "del", "of", "the", "le", "el"})
_TIME = re.compile(
    r"(?<![\d:])(?P<h>\d{1,2}):(?P<m>\d{2})(?::(?P<s>\d{2})(?:[.,]\d+)?)?"
    r"\s*(?P<ampm>[ap]\.?\s?m\.?)?(?!\d)",
    re.IGNORECASE,
)
_ZONE = re.compile(r"^(?:z|utc|gmt)?\s*(?:[+-]\d{2}:?\d{2})?$", re.IGNORECASE)
_YEAR_FIRST = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
_NUMERIC = re.compile(r"^(\d{1,2})([-/.])(\d{1,2})\2(\d{4}|\d{2})$")
_TOKENS = re.compile(r"\d+|[^\W\d_]+", re.UNICODE)
_TRAILER = re.compile(r"(?:\s*[,;]|(?<=\d)t|\s+(?:at|um|a|as|om|alle|el))$")
_ORDINAL = re.compile(r"(\d)(?:st|nd|rd|th)\b", re.IGNORECASE)


@dataclass(frozen=True)
class ParsedDates:
    """Dates parsed from one column.

    Attributes
    ----------
    values:
        One naive ``datetime`` per input text, ``None`` where the text is not
        a date.
    has_time:
        Whether each text carried a clock time.
    note:
        The day/month order assumed for all-numeric dates when no value
        settled it, else ``None``.
    """

    values: list[datetime | None]
    has_time: list[bool]
    note: str | None
    problems: list[str] = field(default_factory=list)
    """Why a text is not a date, where more can be said than "unparseable"
    (an ambiguous month name), else ``""``; empty when there are none."""


@dataclass(frozen=True)
class _Pieces:
    """A text split into its fields: ``first`` and ``second`` are day and month
    in the order written, except when ``month_named`` (then day, month)."""

    text: str
    year: int
    first: int
    second: int
    month_named: bool
    dotted: bool
    clock: tuple[int, int, int] | None
    twelve_hour: bool
    month_word: str = ""


_PREFERRED = ("en", "pt")
"""Languages whose month names keep their meaning whatever other languages say
(the behaviour before CLDR names were read: Hevy and Strong in English and
Portuguese)."""
_WORD = re.compile(r"[^\W\d_]+")


@cache
def _month_names(preferred_only: bool = False) -> dict[str, dict[str, frozenset[int]]]:
    """Folded month name -> {language: months it names}, from every CLDR locale
    (or only the English and Portuguese ones, quick to build, when ``preferred_only``).

    Wide and abbreviated names, format and stand-alone forms, folded as dates
    are (case, accents) and without a trailing dot; names holding spaces,
    digits or inner punctuation (``4月``) are left out, since dates are read
    as words and numbers. Built once (about a thousand locales, a few seconds).
    """
    names: dict[str, dict[str, set[int]]] = {}
    for identifier in localedata.locale_identifiers():
        if preferred_only and identifier.split("_")[0] not in _PREFERRED:
            continue
        locale = Locale.parse(identifier)
        for context in ("format", "stand-alone"):
            for width in ("wide", "abbreviated"):
                for month, name in locale.months[context][width].items():
                    key = _fold(name).strip().rstrip(".")
                    if _WORD.fullmatch(key):
                        names.setdefault(key, {}).setdefault(locale.language, set()).add(month)
    return {key: {language: frozenset(months) for language, months in by.items()} for key, by in names.items()}


def _resolve_months(words: set[str]) -> dict[str, int | str]:
    """Each month word of a column -> its month number, or why it is refused.

    A word whose English or Portuguese meaning is one month takes it; else a
    word meaning one month in every language that has it takes that month;
    else the languages all the column's month words share decide, when they
    agree on one month.
    """
    quick = _month_names(preferred_only=True)
    if all(len(set().union(*quick.get(word, {}).values())) == 1 for word in words):
        return {word: next(iter(set().union(*quick[word].values()))) for word in words}
    names = _month_names()
    shared: set[str] | None = None
    for word in words:
        languages = set(names.get(word, {}))
        shared = languages if shared is None else shared & languages
    resolved: dict[str, int | str] = {}
    for word in words:
        meanings = names.get(word, {})
        preferred = set().union(*(meanings.get(language, frozenset()) for language in _PREFERRED))
        every = set().union(*meanings.values())
        within = set().union(*(months for language, months in meanings.items() if language in (shared or set())))
        for candidates in (preferred, every, within):
            if len(candidates) == 1:
                resolved[word] = candidates.pop()
                break
        else:
            readings = sorted({(month, language) for language, months in meanings.items() for month in months})
            shown = ", ".join(f"{get_month_names('wide', locale='en')[month]} in {Locale.parse(language).english_name}" for month, language in readings[:6])
            resolved[word] = (
                f"the month name {word!r} means different months in different languages ({shown}"
                f"{', ...' if len(readings) > 6 else ''}) and the column's other dates do not settle which: "
                "export the dates with numbers or in another language"
            )
    return resolved


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _clock(match: re.Match[str]) -> tuple[int, int, int] | None:
    hour, minute, second = int(match["h"]), int(match["m"]), int(match["s"] or 0)
    if match["ampm"]:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if match["ampm"].lower().startswith("p") else 0)
    if hour > 23 or minute > 59 or second > 59:
        return None
    return hour, minute, second


def _split(text: str) -> _Pieces | None:
    text = " ".join(text.replace("\u202f", " ").replace("\u00a0", " ").split())
    if not text:
        return None
    clock = None
    twelve_hour = False
    date_part = text
    match = _TIME.search(text)
    if match:
        if not _ZONE.match(text[match.end() :].strip()):
            return None
        clock = _clock(match)
        if clock is None:
            return None
        twelve_hour = bool(match["ampm"])
        date_part = text[: match.start()]
    date_part = _TRAILER.sub("", _fold(date_part).strip())
    found = _YEAR_FIRST.match(date_part)
    if found:
        year, month, day = (int(g) for g in found.groups())
        return _Pieces(text, year, day, month, True, False, clock, twelve_hour)
    found = _NUMERIC.match(date_part)
    if found:
        first, separator, second, year = found.groups()
        full_year = int(year) + (2000 if len(year) == 2 else 0)
        return _Pieces(text, full_year, int(first), int(second), False, separator == ".", clock, twelve_hour)
    return _named(text, date_part, clock, twelve_hour)


def _named(text: str, date_part: str, clock: tuple[int, int, int] | None, twelve_hour: bool) -> _Pieces | None:
    tokens = [t for t in _TOKENS.findall(_ORDINAL.sub(r"\1", date_part)) if t not in _FILLER]
    months = [t for t in tokens if not t.isdigit()]
    numbers = [t for t in tokens if t.isdigit()]
    if len(months) != 1 or len(numbers) != 2:
        return None
    day, year = sorted(numbers, key=len)
    if len(day) > 2 or len(year) != 4 or (months[0] not in _month_names(preferred_only=True) and months[0] not in _month_names()):
        return None
    return _Pieces(text, int(year), int(day), 0, True, False, clock, twelve_hour, months[0])


def _day_first(pieces: Sequence[_Pieces], column: str) -> tuple[bool, str | None]:
    open_order = [p for p in pieces if not p.month_named]
    if not open_order:
        return True, None
    day_first = next((p for p in open_order if p.first > 12), None)
    month_first = next((p for p in open_order if p.second > 12), None)
    if day_first and month_first:
        raise DataError(
            f"dates in column {column!r} mix day-first and month-first orders "
            f"({day_first.text!r} is day-first, {month_first.text!r} month-first): "
            "export them in one format"
        )
    if day_first or month_first:
        return bool(day_first), None
    if any(p.dotted for p in open_order):
        return True, f"numeric dates in {column!r} read day-first (dotted dates are day-first)"
    if any(p.twelve_hour for p in open_order):
        return False, f"numeric dates in {column!r} read month-first (12-hour clock: United States order); no day above 12 settles it"
    return True, f"numeric dates in {column!r} read day-first; no day above 12 settles it"


def parse_datetimes(texts: Sequence[str], column: str, dayfirst: bool | None = None) -> ParsedDates:
    """Parse a column of date or date-time texts (rules in the module docstring).

    Parameters
    ----------
    texts:
        The cells as text.
    column:
        The column's name, for messages.
    dayfirst:
        ``True`` or ``False`` fixes the order of all-numeric dates (the user's
        ``--dayfirst`` / ``--monthfirst``); a value impossible in that order
        (a month 13) is then not a date. ``None`` decides from the values.

    Returns
    -------
    ParsedDates
        Unparseable or impossible dates (``31/02/2024``) are ``None``.

    Raises
    ------
    DataError
        When the column mixes day-first and month-first numeric dates.
    """
    split = [_split(str(t)) for t in texts]
    months = _resolve_months({p.month_word for p in split if p is not None and p.month_word})
    problems = [""] * len(split)
    for position, pieces in enumerate(split):
        if pieces is not None and pieces.month_word:
            month = months[pieces.month_word]
            if isinstance(month, str):
                problems[position], split[position] = month, None
            else:
                split[position] = replace(pieces, second=month)
    if dayfirst is None:
        day_first, note = _day_first([p for p in split if p is not None], column)
    else:
        day_first, note = dayfirst, None
    values: list[datetime | None] = []
    for pieces in split:
        if pieces is None:
            values.append(None)
            continue
        if pieces.month_named or day_first:
            day, month = pieces.first, pieces.second
        else:
            day, month = pieces.second, pieces.first
        try:
            values.append(datetime(pieces.year, month, day, *(pieces.clock or (0, 0, 0))))
        except ValueError:
            values.append(None)
    return ParsedDates(values, [p is not None and p.clock is not None for p in split], note, problems)


def format_datetime(value: datetime, has_time: bool) -> str:
    """``YYYY-MM-DD HH:MM:SS`` when the source had a time, else ``YYYY-MM-DD``."""
    return value.strftime("%Y-%m-%d %H:%M:%S" if has_time else "%Y-%m-%d")
