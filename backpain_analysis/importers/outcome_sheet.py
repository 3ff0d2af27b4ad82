"""A studio's outcome spreadsheet (one row per visit) -> the contract's long ``outcomes`` table.

The sheet (CSV or Excel ``.xlsx``, first sheet) has a client column, a date
column and one column per instrument, e.g. ``client, date, NPRS, ODI``.
Headers are matched ignoring case, spaces, punctuation and a parenthesised
unit (``ODI (%)``, ``Pain (0-10)``):

- built-in instruments by name or common alias (:data:`ALIASES`: ``NPRS``,
  ``NRS``, ``Pain`` -> ``nprs``; ``Oswestry`` -> ``odi``; ``Roland-Morris``
  -> ``rmdq``; ``Sit and reach (cm)`` -> ``sit_and_reach_cm``; ...), and item
  columns ``ODI Q3``, ``odi_q3``, ``RMDQ item 12`` -> ``odi_q3``,
  ``rmdq_q12``;
- any other column whose non-blank cells are mostly (at least half) numbers
  is kept as a custom instrument named by its header in snake case
  (``Grip strength (kg)`` -> ``grip_strength_kg``), except visit
  bookkeeping (:data:`NOT_SCORES`: visit number, week, age, ...) and
  contact columns (:data:`CONTACT_COLUMNS`: mobile, phone number, tel, zip,
  e-mail, names, date of birth, address, or cells holding e-mail addresses or
  phone numbers), which are never instruments nor the client key; a header
  that nearly spells a built-in instrument (``NRPS``) is kept as custom with
  a note suggesting the built-in name;
- every other column is listed as ignored; columns that identify a person
  never reach this module (:mod:`backpain_analysis.reading` drops them).

Each non-blank score cell becomes one ``outcomes`` row; blank cells (and
``NA``, ``n/a``, ``-``) are skipped; ``45%`` and ``6/10`` read as 45 and 6.
A row without a client or a readable date, a cell that is not a number, and
a row with no score at all go to ``import_ledger.csv`` with the reason, so
every sheet row is accounted for. Ranges are not checked here: the loader
does that, as for any outcomes table.

Idempotence: re-importing replaces, among rows earlier outcome-sheet imports
wrote, those of the same client, day and instrument as a visit and column of
this sheet, so the same sheet twice changes nothing and a corrected sheet
replaces its earlier values (a cleared cell removes its old value); rows
typed by hand are never touched.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path

import pandas as pd

from backpain_analysis.contract import REQUIRED_COLUMNS
from backpain_analysis.errors import DataError
from backpain_analysis.importers.dates import format_datetime, parse_datetimes
from backpain_analysis.importers.sets import ambiguous_comma_reason, column_decimal_mark, number_text, parse_number
from backpain_analysis.importers.source import decimal_comma, file_digest
from backpain_analysis.importers.store import LEDGER_FILE, folder_lock, keyed, replace_rows, table_path, write_ledger
from backpain_analysis.instruments import ITEM_FORMS, ITEMS, builtin_instruments
from backpain_analysis.reading import read_table

FORMAT_NAME = "outcome_sheet"
"""``import_format`` of the rows this module writes."""

ALIASES: dict[str, str] = {
    **dict.fromkeys(("nprs", "nrs", "pain", "pain score", "pain nrs", "pain nprs", "numeric pain rating scale",
                     "numerical pain rating scale", "numeric rating scale", "pain intensity"), "nprs"),
    **dict.fromkeys(("vas", "pain vas", "vas pain", "visual analogue scale", "visual analog scale"), "vas"),
    **dict.fromkeys(("odi", "oswestry", "oswestry disability index", "odi score", "odi total", "oswestry score"), "odi"),
    **dict.fromkeys(("rmdq", "rmq", "rdq", "roland morris", "roland morris disability questionnaire",
                     "roland morris score"), "rmdq"),
    **dict.fromkeys(("psfs", "psfs mean", "psfs score", "patient specific functional scale"), "psfs"),
    **dict.fromkeys(("sit and reach", "sit and reach cm", "sit reach"), "sit_and_reach_cm"),
}  # fmt: skip
"""Normalised header (see :func:`header_key`) -> built-in instrument."""

OUTCOME_IMPORT_COLUMNS: tuple[str, ...] = (
    "client_id", "date", "instrument", "score", "import_file", "import_format", "import_row", "import_column", "import_sha256"
)  # fmt: skip
"""Columns an outcome-sheet import writes to ``outcomes.csv``, in order."""

NOT_SCORES: frozenset[str] = frozenset(
    {"visit", "visit number", "visit no", "session", "session number", "week", "day", "month", "year", "age",
     "height", "time", "id", "client id", "row"}
)  # fmt: skip
"""Numeric bookkeeping columns that are never taken as custom instruments."""

CONTACT_COLUMNS: frozenset[str] = frozenset(
    {"name", "names", "first name", "firstname", "last name", "lastname", "surname", "full name", "fullname", "client name",
     "patient name", "given name", "family name", "email", "e mail", "email address", "e mail address", "mail", "phone",
     "phone number", "phone no", "telephone", "tel", "mobile", "mobile number", "mobile phone", "cell", "cell phone",
     "address", "street", "street address", "city", "zip", "zip code", "zipcode", "postcode", "post code", "postal code",
     "dob", "date of birth", "birth date", "birthdate", "birthday", "ssn", "nhs number", "insurance number"}
)  # fmt: skip
"""Headers (as :func:`header_key` reads them) of columns that identify or contact a person: never an
instrument, never the client key, whatever the loader's own list holds."""

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[\d\s().-]{7,}$")
_ITEM = re.compile(r"^(odi|oswestry|rmdq|rmq|roland morris)\s*(?:q|item|question|no)?\s*(\d+)$")
_FORM = {"odi": "odi", "oswestry": "odi", "rmdq": "rmdq", "rmq": "rmdq", "roland morris": "rmdq"}
_MISSING = frozenset({"", "na", "n/a", "nan", "none", "missing", "-", "\u2013", "\u2014", "."})
_OUT_OF = re.compile(r"^(.*?)\s*(?:%|/\s*\d+(?:[.,]\d+)?)$")


def header_key(header: str) -> str:
    """A header as matched: accents, a parenthesised unit and punctuation removed, lower case, single spaces."""
    text = unicodedata.normalize("NFKD", str(header).casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"\([^()]*\)", " ", text)
    return " ".join(re.split(r"[\W_]+", text)).strip()


def _snake(header: str) -> str:
    text = unicodedata.normalize("NFKD", str(header).casefold())
    return "_".join(w for w in re.split(r"[\W_]+", "".join(c for c in text if not unicodedata.combining(c))) if w)


def builtin_for(header: str) -> str | None:
    """The built-in instrument or item a header names, else ``None``.

    Raises :class:`DataError` for an item number the form does not have
    (``ODI Q11``).
    """
    key = header_key(header)
    names = set(builtin_instruments()["name"])
    if key.replace(" ", "_") in names | set(ITEMS):
        return key.replace(" ", "_")
    item = _ITEM.match(key)
    if item:
        form = ITEM_FORMS[_FORM[item.group(1)]]
        name = f"{form.instrument}_q{int(item.group(2))}"
        if name not in ITEMS:
            raise DataError(f"column {header!r}: the {form.instrument.upper()} has items 1 to {form.n_items}")
        return name
    return ALIASES.get(key)


_COMMA_REMEDY = "save the sheet with decimal points, or without thousands separators"


def _score(text: str, comma: bool) -> float | None:
    """A score from a cell: ``None`` when blank; ``ValueError`` when not a number."""
    cleaned = text.strip()
    if cleaned.casefold() in _MISSING:
        return None
    out_of = _OUT_OF.match(cleaned)
    return parse_number(out_of.group(1) if out_of else cleaned, comma)


def _mostly_numbers(column: pd.Series, comma: bool) -> bool:
    filled = [c for c in column if c.strip().casefold() not in _MISSING]
    numbers = 0
    for cell in filled:
        try:
            numbers += _score(cell, comma) is not None
        except ValueError:
            continue
    return bool(filled) and 2 * numbers >= len(filled)


@dataclass
class OutcomeSheet:
    """An outcome sheet, read and checked.

    Attributes
    ----------
    path:
        The sheet.
    sha256:
        First 16 hex digits of the SHA-256 of its bytes.
    rows_read:
        Data rows (blank rows not counted).
    outcomes:
        Long rows: ``client_id``, ``date``, ``instrument``, ``score``,
        ``import_row`` (sheet row, header = 1), ``import_column`` (the
        sheet's header), all text.
    ledger:
        ``row``, ``client_id``, ``date``, ``column``, ``value``, ``reason``.
    instruments:
        Sheet header -> instrument name, for the columns read as scores.
    custom:
        Headers taken as custom instruments.
    ignored:
        Header -> why it was not read.
    notes:
        Assumptions made (day/month order of numeric dates).
    """

    path: Path
    sha256: str
    rows_read: int
    outcomes: pd.DataFrame
    ledger: pd.DataFrame
    instruments: dict[str, str]
    custom: list[str] = field(default_factory=list)
    ignored: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _find(columns: list[str], wanted: str, fallbacks: tuple[str, ...], option: str, path: Path, dropped: tuple[str, ...]) -> str:
    key = header_key(wanted)
    if key in dropped or key in CONTACT_COLUMNS or key.replace(" ", "_") in dropped:
        raise DataError(
            f"column {wanted!r} of {path.name} identifies a person and is never read: use a column of client keys ({option})"
        )
    for candidate in (key, *fallbacks):
        found = next((c for c in columns if header_key(c) == candidate), None)
        if found:
            return found
    raise DataError(f"{path.name} has no column {wanted!r} (its columns: {', '.join(columns)}): name it with {option}")


def _contact_values(column: pd.Series) -> str | None:
    """``e-mail addresses`` or ``phone numbers`` when most filled cells are such, else ``None``."""
    filled = column.astype(str).str.strip()
    filled = filled[filled != ""]
    if filled.empty:
        return None
    if filled.str.fullmatch(_EMAIL).mean() >= 0.5:
        return "e-mail addresses"
    if filled.str.fullmatch(_PHONE).mean() >= 0.5 and filled.str.count(r"\d").min() >= 7:
        return "phone numbers"
    return None


def near_builtin(header: str) -> str | None:
    """The built-in instrument a header nearly spells (``NRPS`` -> ``nprs``, ``Oswestery`` -> ``odi``), else ``None``."""
    key = header_key(header)
    names = {n: n for n in builtin_instruments()["name"]} | ALIASES
    close = difflib.get_close_matches(key, list(names), n=1, cutoff=0.74)
    if not close and len(key) <= 6:
        close = [n for n in names if len(n) == len(key) and sorted(n) == sorted(key)]  # a transposition: NRPS
    return names[close[0]] if close else None


def read_outcome_sheet(
    path: str | Path, client_column: str = "client", date_column: str = "date", *, dayfirst: bool | None = None
) -> OutcomeSheet:
    """Read a visit-per-row outcome sheet into long outcome rows and ledger rows.

    Parameters
    ----------
    path:
        The sheet, ``.csv`` or ``.xlsx``.
    client_column, date_column:
        Headers of the client key and the visit date (case and spaces
        ignored). With the defaults, ``client_id`` and ``visit date`` are
        found too. A contact column (:data:`CONTACT_COLUMNS`, or one holding
        e-mail addresses or phone numbers) is refused as the client key.
    dayfirst:
        ``True``/``False`` fixes the day/month order of all-numeric dates
        (``--dayfirst``/``--monthfirst``); ``None`` decides from the values.

    Raises
    ------
    DataError
        Unreadable file, missing client or date column, an item column
        beyond its form, numeric dates mixing day-first and month-first.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"outcome sheet {path} does not exist")
    table = read_table("outcome_sheet", path)
    frame = table.frame
    columns = list(frame.columns)
    client_fallbacks = ("client id", "client") if client_column == "client" else ()
    client = _find(columns, client_column, client_fallbacks, "--client-column", path, table.dropped)
    date_fallbacks = ("visit date", "date of visit") if date_column == "date" else ()
    date = _find(columns, date_column, date_fallbacks, "--date-column", path, table.dropped)
    contact = _contact_values(frame[client])
    if contact:
        raise DataError(
            f"column {client!r} of {path.name} holds {contact}, which identify a person: use a column of client keys (--client-column)"
        )
    comma = decimal_comma(path)
    instruments: dict[str, str] = {}
    custom: list[str] = []
    notes: list[str] = []
    ignored = {c: "identifies a person" for c in table.dropped}
    for column in columns:
        if column in (client, date):
            continue
        name = builtin_for(column)
        if name:
            instruments[column] = name
        elif header_key(column) in CONTACT_COLUMNS or _contact_values(frame[column]):
            ignored[column] = "identifies a person"
        elif header_key(column) in NOT_SCORES:
            ignored[column] = "visit bookkeeping"
        elif _mostly_numbers(frame[column], True):  # a decimal comma is a number's shape; read below
            instruments[column] = _snake(column)
            custom.append(column)
            near = near_builtin(column)
            if near:
                notes.append(
                    f"column {column!r} is read as a custom instrument {_snake(column)!r}; did you mean {near!r}? "
                    f"Rename the column to {near.upper()} to score it as the built-in {near}"
                )
        else:
            ignored[column] = "not numbers"
    marks = {column: ("comma", "") if comma else column_decimal_mark(frame[column], column) for column in instruments}
    notes += [words for reading, words in marks.values() if reading == "comma" and words]
    parsed = parse_datetimes(frame[date].tolist(), date, dayfirst)
    outcomes: list[tuple[str, ...]] = []
    ledger: list[tuple[object, ...]] = []
    records = frame.astype(object).to_dict("records")
    for position, (row, cells) in enumerate(zip(frame.index, records, strict=True)):
        client_id = cells[client].strip()
        when = parsed.values[position]
        day = format_datetime(when, parsed.has_time[position] and when.time() != time(0)) if when else ""
        if not client_id:
            ledger.append((row, "", day, client, "", "no client id"))
            continue
        if when is None:
            why = f": {parsed.problems[position]}" if parsed.problems[position] else ""
            ledger.append((row, client_id, "", date, cells[date], f"unparseable date {cells[date]!r}{why}"))
            continue
        scored = False
        for column, instrument in instruments.items():
            try:
                score = _score(cells[column], marks[column][0] == "comma")
            except ValueError:
                reading, why = marks[column]
                reason = (ambiguous_comma_reason(column, cells[column], why, _COMMA_REMEDY) if reading == "ambiguous" else None) or (
                    f"score {cells[column]!r} in column {column!r} is not a number"
                )
                ledger.append((row, client_id, day, column, cells[column], reason))
                scored = True
                continue
            if score is not None:
                outcomes.append((client_id, day, instrument, number_text(score), str(row), column))
                scored = True
        if not scored:
            ledger.append((row, client_id, day, "", "", "no scores in this row"))
    return OutcomeSheet(
        path=path,
        sha256=file_digest(path),
        rows_read=table.rows,
        outcomes=pd.DataFrame(outcomes, columns=["client_id", "date", "instrument", "score", "import_row", "import_column"], dtype=object),
        ledger=pd.DataFrame(ledger, columns=["row", "client_id", "date", "column", "value", "reason"]).astype({"row": "int64"}),
        instruments=instruments,
        custom=custom,
        ignored=ignored,
        notes=notes + ([parsed.note] if parsed.note else []),
    )


@dataclass
class OutcomeImportResult:
    """What :func:`import_outcome_sheet` did: the sheet, files written, rows replaced."""

    sheet: OutcomeSheet
    outcomes_path: Path
    ledger_path: Path
    replaced_outcomes: int
    replaced_ledger: int

    def summary(self) -> list[str]:
        """Lines a person reads after an import."""
        sheet = self.sheet
        lines = [
            f"{sheet.path.name} (outcome sheet): {sheet.rows_read} rows read, {len(sheet.outcomes)} scores written to "
            f"{self.outcomes_path}, {len(sheet.ledger)} problems listed in {self.ledger_path}",
            "instruments: "
            + ", ".join(f"{h} -> {n}{' (custom)' if h in sheet.custom else ''}" for h, n in sheet.instruments.items()),
        ]
        if sheet.ignored:
            lines.append("columns not read: " + ", ".join(f"{h} ({why})" for h, why in sheet.ignored.items()))
        if self.replaced_outcomes or self.replaced_ledger:
            lines.append(
                f"replaced {self.replaced_outcomes} scores and {self.replaced_ledger} ledger rows of earlier imports of these visits"
            )
        reasons = sheet.ledger["reason"].value_counts()
        lines += [f"  not imported: {count} x {reason}" for reason, count in reasons.items()]
        return lines + sheet.notes


def import_outcome_sheet(
    path: str | Path, out: str | Path, client_column: str = "client", date_column: str = "date", *, dayfirst: bool | None = None
) -> OutcomeImportResult:
    """Import an outcome sheet into ``out/outcomes.csv`` (created when missing).

    Rows written: ``client_id``, ``date``, ``instrument``, ``score``, then
    ``import_file``, ``import_format`` (``outcome_sheet``), ``import_row``,
    ``import_column``, ``import_sha256``. Problems go to
    ``out/import_ledger.csv``. The idempotence rule is in the module
    docstring; parameters as :func:`read_outcome_sheet`.
    """
    sheet = read_outcome_sheet(path, client_column, date_column, dayfirst=dayfirst)
    folder = Path(out)
    outcomes_path = table_path(folder, "outcomes")
    ledger_path = table_path(folder, LEDGER_FILE.removesuffix(".csv"))
    folder.mkdir(parents=True, exist_ok=True)
    provenance = {"import_file": sheet.path.name, "import_format": FORMAT_NAME, "import_sha256": sheet.sha256}
    rows = sheet.outcomes.assign(**provenance)[list(OUTCOME_IMPORT_COLUMNS)]
    visits = {(c, d) for c, d in zip(sheet.ledger["client_id"], sheet.ledger["date"], strict=True) if c and d}
    visits |= set(zip(sheet.outcomes["client_id"], sheet.outcomes["date"], strict=True))
    keys = {(c, d, i) for c, d in visits for i in set(sheet.instruments.values())}

    def earlier_import(old: pd.DataFrame) -> pd.Series:
        return (old["import_format"].str.strip() == FORMAT_NAME) & keyed(old, ("client_id", "date", "instrument"), keys)

    ledger = sheet.ledger.assign(file=sheet.path.name, exercise="", **{k: v for k, v in provenance.items() if k != "import_file"})
    with folder_lock(folder):
        replaced = replace_rows(outcomes_path, rows, earlier_import, REQUIRED_COLUMNS["outcomes"])
        replaced_ledger = write_ledger(folder, ledger, FORMAT_NAME, visits, sheet.sha256)
    return OutcomeImportResult(sheet, outcomes_path, ledger_path, replaced, replaced_ledger)
