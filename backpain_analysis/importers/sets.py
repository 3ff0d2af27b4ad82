"""The rules every app's set rows go through, whatever the app.

A format module (:mod:`.strong`, :mod:`.hevy`, :mod:`.fitbod`) only renames
its columns into :data:`RAW_COLUMNS` and says which rows are warm-ups;
:func:`build_sets` then turns each export row into either one contract
``sessions`` row (one set, ``sets`` = 1) or one ledger row with the reason,
checking the rules below in this order (the first that fails is reported):

1. a row the format itself cannot use (a Strong rest-timer row, an unknown
   set type or weight unit, a set planned and never done);
2. no exercise name;
3. a date that is not a date (see :mod:`.dates`);
4. a warm-up set, unless warm-ups are included;
5. reps, weight, seconds, distance or RPE that is not a number or is
   negative (a comma-number whose column cannot tell a decimal comma from a
   thousands separator is not read: :func:`decimal_marks`);
6. nothing done: no reps, no seconds and no distance.

What a set row becomes:

- ``date``: the session's start (``YYYY-MM-DD HH:MM:SS`` when the export has
  a time, so distinct start times count sessions). Strong and Hevy stamp each
  set with its workout's start; Fitbod stamps each set with its own time, so
  its sets are grouped into sessions: a new session starts on a new day or
  after a gap of more than :data:`SESSION_GAP` between consecutive sets.
- ``sets`` the export's number of sets on the row (1 when it has none: one
  row is one set); ``reps`` when above 0; ``load`` the weight when above 0 (blank = body
  weight), with ``load_unit`` ``kg`` or ``lb`` as the export states it, else
  the ``--unit`` option, else ``kg`` (with a note saying so); an export that
  states a unit contradicting ``--unit`` is an error. For an assisted
  exercise (a name containing "assist") the weight is the machine's help, not
  a load: it goes to ``assistance`` (in ``load_unit``) and ``load`` stays blank.
- ``duration_s`` the seconds when above 0 (timed holds and cardio keep them;
  a clock duration ``0:09:21`` reads as 561 s);
  ``distance`` and ``distance_unit`` (``km``, ``mi``, ``m``; blank when the
  export does not say) when above 0.
- ``modality`` is ``other`` for a cardio row (a distance and no load) and
  blank otherwise, so the catalog places the exercise.
- ``set_type``: ``normal``, ``warmup``, ``drop`` or ``failure``.
- ``import_row``: the export row (spreadsheet numbering, header = 1).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pandas as pd

from backpain_analysis.errors import DataError
from backpain_analysis.importers.dates import format_datetime, parse_datetimes

RAW_COLUMNS: tuple[str, ...] = (
    "start",
    "exercise",
    "set_type",
    "marker",
    "skip",
    "skip_column",
    "skip_value",
    "reps",
    "weight",
    "load_unit",
    "seconds",
    "distance",
    "distance_unit",
    "rpe",
    "sets",
    "category",
)
"""Columns a format module produces, all text (a column it lacks is blank; a blank ``sets`` is one set;
``category`` is the app's own exercise category, such as FitNotes' Abs or Back): ``set_type`` is ``normal``, ``warmup``, ``drop`` or ``failure``, and
``marker`` the export's own text for it (``W``, ``warmup``, ``true``); ``skip`` is a reason
to leave the row out (blank to keep it), with ``skip_column`` and ``skip_value`` the export's column and value
it quotes (blank: the set type's column and ``marker``); units are as the export writes them (blank when
it is silent)."""

SET_COLUMNS: tuple[str, ...] = (
    "date",
    "exercise",
    "sets",
    "reps",
    "load",
    "load_unit",
    "duration_s",
    "rpe",
    "modality",
    "set_type",
    "distance",
    "distance_unit",
    "assistance",
    "import_row",
)
"""Columns of the set rows :func:`build_sets` returns (contract columns first)."""

LEDGER_COLUMNS: tuple[str, ...] = ("row", "date", "exercise", "column", "value", "reason")
"""Columns of the rows :func:`build_sets` leaves out."""

SESSION_GAP = timedelta(hours=2)
"""Largest gap between consecutive sets of one session, for apps that time each set."""

WARMUP_REASON = "warm-up set (left out of training volume; --include-warmups keeps it)"

_LOAD_UNITS = {"kg": "kg", "kgs": "kg", "kilogram": "kg", "kilograms": "kg", "lb": "lb", "lbs": "lb", "pound": "lb", "pounds": "lb"}
_DISTANCE_UNITS = {
    "km": "km", "kilometer": "km", "kilometers": "km", "kilometre": "km", "kilometres": "km",
    "mi": "mi", "mile": "mi", "miles": "mi",
    "m": "m", "meter": "m", "meters": "m", "metre": "m", "metres": "m",
}  # fmt: skip
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_DECIMAL_COMMA = re.compile(r"[+-]?\d{1,3}(?:\.\d{3})*,\d+|[+-]?\d+,\d+")
_COMMA_NUMBER = re.compile(r"[+-]?\d+,\d+")
_POINT_DECIMAL = re.compile(r"[+-]?\d*\.\d+")
_THOUSANDS_LIKE = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+")
NUMBER_COLUMNS: tuple[str, ...] = ("reps", "weight", "seconds", "distance", "rpe", "sets")
_ASSISTED = re.compile(r"assist", re.IGNORECASE)
_CLOCK = re.compile(r"^\s*(\d+):([0-5]\d)(?::([0-5]\d))?\s*$")
_ASSUMED_KG = "load unit: kg assumed for {} sets (the export does not state it); pass --unit lb if the app was set to pounds"


@dataclass
class AppRows:
    """An export renamed into :data:`RAW_COLUMNS` by a format module.

    Attributes
    ----------
    frame:
        One row per export row, index = spreadsheet row number.
    sources:
        Raw column -> the export's header it came from (for ledger messages).
    stated_unit:
        Where the export states its weight unit (a header or column name),
        ``None`` when it does not.
    """

    frame: pd.DataFrame
    sources: dict[str, str]
    stated_unit: str | None


@dataclass(frozen=True)
class ExportFormat:
    """One app's export format.

    Attributes
    ----------
    name, label:
        ``strong`` / ``Strong``.
    example:
        A header of the format, quoted in error messages.
    required:
        Columns a header must have; each entry lists accepted spellings
        (lower case), the first one named in messages.
    to_rows:
        Renames a read export (lower-cased headers) into :class:`AppRows`.
    timed_sets:
        Each row carries its own time (sessions are found by gaps).
    """

    name: str
    label: str
    example: str
    required: tuple[tuple[str, ...], ...]
    to_rows: Callable[[pd.DataFrame], AppRows]
    timed_sets: bool = False

    def missing(self, columns: Sequence[str]) -> list[str]:
        """Required columns absent from ``columns`` (first spelling of each)."""
        present = set(columns)
        return [spellings[0] for spellings in self.required if not present.intersection(spellings)]


@dataclass
class BuiltSets:
    """Set rows and ledger rows of one export (columns :data:`SET_COLUMNS`, :data:`LEDGER_COLUMNS`)."""

    sets: pd.DataFrame
    ledger: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    categories: pd.Series | None = None
    """The app's own category of each set row (same index as ``sets``; blank when the app has none)."""


_SET_KINDS = {
    **dict.fromkeys(("", "normal", "n", "regular", "working", "work", "straight", "false", "0", "no"), "normal"),
    **dict.fromkeys(("w", "warmup", "true", "1", "yes"), "warmup"),
    **dict.fromkeys(("d", "drop", "dropped"), "drop"),
    **dict.fromkeys(("f", "failure", "tofailure", "fail"), "failure"),
}
_SET_SUFFIX = re.compile(r"(?<=.)\s*sets?$")


def set_kind(marker: str) -> str | None:
    """A set-type marker read as ``normal``, ``warmup``, ``drop`` or ``failure`` (None when unknown).

    Any spelling of the same words: case, spaces, underscores and hyphens ignored and a ``set``
    suffix dropped, so ``NORMAL_SET``, ``Drop Set``, ``dropset``, ``warm-up`` and ``WARMUP_SET`` are
    read alike; a flag column's ``true``/``false`` means warm-up or not.
    """
    text = re.sub(r"[\s_\-]+", " ", str(marker).strip().casefold())
    return _SET_KINDS.get(_SET_SUFFIX.sub("", text).replace(" ", ""))


def first_column(columns: Sequence[str], spellings: Sequence[str]) -> str | None:
    """The first of ``spellings`` present in ``columns``, else ``None``."""
    return next((s for s in spellings if s in columns), None)


_MISSING_NUMBER = frozenset({"na", "n/a", "nan", "none", "null", "-", "\u2013", "\u2014"})
"""Cells that mean "no value" (``NA`` as R and pandas write it, a dash): read as blank, like an empty cell."""


def parse_number(text: str, decimal_comma: bool) -> float | None:
    """A finite number from text, ``None`` for a blank or a missing-value marker (``NA``, ``n/a``,
    ``-``); raises ``ValueError`` otherwise.

    With ``decimal_comma`` (semicolon-separated files) ``80,5`` and
    ``1.234,5`` read as 80.5 and 1234.5.
    """
    text = text.strip().replace("\u00a0", "").replace(" ", "")
    if not text or text.casefold() in _MISSING_NUMBER:
        return None
    if decimal_comma and _DECIMAL_COMMA.fullmatch(text):
        text = text.replace(".", "").replace(",", ".")
    if not _NUMBER.fullmatch(text):
        raise ValueError(text)
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def clock_seconds(text: str) -> float | None:
    """Seconds of a clock duration (``0:09:21``, ``1:30``), ``None`` for any other text."""
    found = _CLOCK.match(text)
    if not found:
        return None
    first, second, third = (int(g) if g else None for g in found.groups())
    return float(first * 3600 + second * 60 + third if third is not None else first * 60 + second)


def number_text(value: float | None) -> str:
    """A number as written to a table: ``80``, ``22.68``, at most 6 decimals; blank for ``None``."""
    if value is None:
        return ""
    return f"{value:.6f}".rstrip("0").rstrip(".")


def session_starts(times: Sequence[datetime | None]) -> list[datetime | None]:
    """The start of each set's session, for apps that time every set.

    Sets are taken in time order; one starts a new session when it falls on
    another day than the previous set or more than :data:`SESSION_GAP` after
    it. Each set gets its session's first time; ``None`` stays ``None``.
    """
    starts: list[datetime | None] = [None] * len(times)
    order = sorted((t, i) for i, t in enumerate(times) if t is not None)
    start = previous = None
    for time, i in order:
        if previous is None or time.date() != previous.date() or time - previous > SESSION_GAP:
            start = time
        starts[i] = start
        previous = time
    return starts


@dataclass
class DecimalMarks:
    """How each number column of an export writes its decimals (:func:`decimal_marks`).

    Attributes
    ----------
    comma:
        Raw number columns (:data:`NUMBER_COLUMNS`) read with a decimal comma.
    ambiguous:
        Column -> why its values cannot tell a decimal comma from a thousands
        separator (:meth:`refusal` words the ledger reason).
    notes:
        What was decided from the values, for the import summary.
    """

    comma: frozenset[str]
    ambiguous: dict[str, str]
    notes: list[str]

    def refusal(self, name: str, source: str, text: str) -> str | None:
        """The ledger reason for ``text`` in an ambiguous column when it is a comma-number, else ``None``."""
        return ambiguous_comma_reason(source, text, self.ambiguous[name]) if name in self.ambiguous else None


def decimal_marks(frame: pd.DataFrame, sources: dict[str, str], decimal_comma: bool | None) -> DecimalMarks:
    """Decide, per number column, whether ``9,07`` is 9.07.

    ``True``/``False`` apply to every column (a semicolon-separated file or
    ``--decimal-comma``; ``False`` keeps a comma out of numbers). ``None`` (a
    comma-separated file) reads each column's comma-numbers, which can only be
    there in quoted cells:

    - none: nothing to decide;
    - some comma-number has other than 3 digits after its comma (``9,07``,
      ``28,0``, ``5,17``) and the column holds no point decimal (``12.5``):
      the comma is that column's decimal mark, since a thousands group always
      has 3 digits; the summary says so;
    - every comma-number looks like a thousands group (``1,000``,
      ``2,500``), or the column also holds point decimals: the values cannot
      say which mark the comma is, so those rows go to the ledger with a
      reason naming both readings and ``--decimal-comma`` (never a guess).
    """
    if decimal_comma is not None:
        return DecimalMarks(frozenset(NUMBER_COLUMNS) if decimal_comma else frozenset(), {}, [])
    comma: set[str] = set()
    ambiguous: dict[str, str] = {}
    notes: list[str] = []
    for name in NUMBER_COLUMNS:
        reading, words = column_decimal_mark(frame[name], sources.get(name, name))
        if reading == "comma":
            comma.add(name)
            notes.append(words)
        elif reading == "ambiguous":
            ambiguous[name] = words
    return DecimalMarks(frozenset(comma), ambiguous, notes)


def column_decimal_mark(cells: pd.Series, source: str) -> tuple[str, str]:
    """How one column of a comma-separated file writes decimals (the rule of :func:`decimal_marks`).

    Returns ``("none", "")`` when it holds no comma-number, ``("comma", note)`` when its commas are
    decimal marks (the note for the summary), ``("ambiguous", why)`` when its values cannot say
    (:func:`ambiguous_comma_reason` words the ledger reason)."""
    cells = cells.astype(str).str.strip().str.replace("\u00a0", "").str.replace(" ", "")
    commas = cells[cells.map(lambda c: bool(_COMMA_NUMBER.fullmatch(c)))]
    if commas.empty:
        return "none", ""
    points = cells.map(lambda c: bool(_POINT_DECIMAL.fullmatch(c))).any()
    decimal = commas[~commas.map(lambda c: bool(_THOUSANDS_LIKE.fullmatch(c)))]
    if len(decimal) and not points:
        example = decimal.iloc[0]
        count = f"{len(commas)} value{'s' if len(commas) > 1 else ''}"
        return "comma", (
            f"{source}: {count} read with a decimal comma ({example!r} = {parse_number(example, True):g}): the column holds "
            "no point decimals and a comma with other than 3 digits after it is no thousands separator"
        )
    return "ambiguous", "the column also holds point decimals" if points else "every comma in it has 3 digits after it"


_DECIMAL_COMMA_REMEDY = "pass --decimal-comma if the app writes decimal commas, else remove the thousands separators"


def ambiguous_comma_reason(source: str, text: str, why: str, remedy: str = _DECIMAL_COMMA_REMEDY) -> str | None:
    """The ledger reason for ``text`` in a column whose decimal mark is ambiguous, ``None`` if it is no comma-number."""
    cell = text.strip()
    if not _COMMA_NUMBER.fullmatch(cell):
        return None
    return (
        f"{source} {cell!r} can be read two ways ({why}): a decimal comma ({parse_number(cell, True):g}) "
        f"or a thousands separator ({float(cell.replace(',', '')):g}); {remedy}"
    )


_WEIGHT_WITH_UNIT = re.compile(r"^\s*([-+]?\d[\d.,]*)\s*(kgs?|kilograms?|lbs?|pounds?|磅|公斤|千克)\.?\s*$", re.IGNORECASE)
_CELL_UNITS = {**{u: "kg" for u in ("kg", "kgs", "kilogram", "kilograms", "公斤", "千克")}, **{u: "lb" for u in ("lb", "lbs", "pound", "pounds", "磅")}}


def _units_in_weights(frame: pd.DataFrame, source: str) -> tuple[pd.DataFrame, pd.Series, str | None]:
    """Weights written with their unit as text (``30 磅`` = 30 lb, ``30 kg``, ``30lbs``) split into number and unit.

    Only where the row states no unit of its own; returns the frame with bare numbers, each row's unit
    from its weight cell (blank elsewhere) and a note saying how many were read so."""
    found = frame["weight"].astype(str).str.extract(_WEIGHT_WITH_UNIT)
    usable = found[0].notna() & (frame["load_unit"].astype(str).str.strip() == "")
    units = found[1].str.casefold().map(_CELL_UNITS).where(usable, "").fillna("")
    if not usable.any():
        return frame, units, None
    example = frame.loc[usable, "weight"].iloc[0].strip()
    frame = frame.assign(weight=frame["weight"].mask(usable, found[0]))
    count = int(usable.sum())
    note = f"{source}: {count} weight{'s' if count > 1 else ''} written with a unit ({example!r} = {found.loc[usable, 0].iloc[0]} {units[usable].iloc[0]}): read in that unit"
    return frame, units, note


def _unit_column(raw: pd.Series, table: dict[str, str]) -> pd.Series:
    """Normalised unit words; ``None`` where a stated unit is not recognised."""
    cleaned = raw.str.strip().str.lower().str.rstrip(".")
    return cleaned.map(lambda u: "" if u == "" else table.get(u))


def _resolve_load_units(units: pd.Series, stated_by: str | None, option: str | None, label: str) -> tuple[pd.Series, pd.Series]:
    """Each row's load unit after ``--unit``, and where kg was assumed; raises when the export contradicts ``--unit``."""
    stated = units[units.notna() & (units != "")]
    if option is not None and len(stated) and (stated != option).any():
        other = stated[stated != option].iloc[0]
        raise DataError(f"this {label} export states its weights in {other} ({stated_by!r}); --unit {option} contradicts it: drop --unit")
    silent = units == ""
    return units.mask(silent, option or "kg"), silent & (option is None)


_METRES = {"km": 1000.0, "mi": 1609.344, "m": 1.0}
MAX_SET_DISTANCE_KM = 100.0
"""A distance above this in one set is not believed (a sled's load typed into Hevy's distance column
read as 305 miles): the row goes to the ledger with a reason instead of becoming cardio."""
MIN_SET_SPEED_M_PER_H = 10.0
"""A distance covered slower than this (10 m an hour) over a set's duration is not believed: miles
written with the unit ``m`` (a FitNotes walk of ``1.4`` ``m`` in 30 minutes); the row goes to the
ledger with a reason instead of a wrong distance."""


def _check(
    row: dict[str, str],
    sources: dict[str, str],
    load_unit: str | None,
    dated: bool,
    include_warmups: bool,
    marks: DecimalMarks,
    distance_unit: str = "",
) -> tuple[str, str, str] | dict[str, float | None]:
    """The row's numbers, or ``(reason, column, value)`` for the first rule it fails."""
    if row["skip"]:
        if row["skip_column"]:
            return row["skip"], row["skip_column"], row["skip_value"]
        return row["skip"], sources.get("set_type", ""), row["marker"]
    if load_unit is None:
        return f"weight unit {row['load_unit']!r} is not kg or lb", sources.get("load_unit", ""), row["load_unit"]
    if not row["exercise"].strip():
        return "no exercise name", sources["exercise"], ""
    if not dated:
        return f"unparseable date {row['start']!r}", sources["start"], row["start"]
    if row["set_type"] == "warmup" and not include_warmups:
        return WARMUP_REASON, sources.get("set_type", ""), row["marker"]
    values: dict[str, float | None] = {}
    for name in ("reps", "weight", "seconds", "distance", "rpe", "sets"):
        source = sources.get(name, name)
        try:
            value = clock_seconds(row[name]) if name == "seconds" else None
            value = parse_number(row[name], name in marks.comma) if value is None else value
        except ValueError:
            return marks.refusal(name, source, row[name]) or f"{source} {row[name]!r} is not a number", source, row[name]
        if name == "sets" and value is not None and (value < 1 or value != int(value)):
            return f"{source} {row[name]!r} is not a whole number of sets (1 or more)", source, row[name]
        if value is not None and value < 0 and not (name == "weight" and _ASSISTED.search(row["exercise"])):
            return f"{source} {row[name]} is negative", source, row[name]
        values[name] = value
    if not any((values[k] or 0) > 0 for k in ("reps", "seconds", "distance")):
        return "no reps, no duration and no distance: nothing was done", "", ""
    if (values["distance"] or 0) * _METRES.get(distance_unit, 0.0) > MAX_SET_DISTANCE_KM * 1000:
        source = sources.get("distance", "distance")
        reason = f"{source} {row['distance']} {distance_unit} in one set is more than {MAX_SET_DISTANCE_KM:g} km: another number typed into the distance column?"
        return reason, source, row["distance"]
    metres, seconds = (values["distance"] or 0) * _METRES.get(distance_unit, 0.0), values["seconds"] or 0
    if metres > 0 and seconds > 0 and metres / seconds * 3600 < MIN_SET_SPEED_M_PER_H:
        source = sources.get("distance", "distance")
        reason = (
            f"{source} {row['distance']} {distance_unit} in {seconds:g} s is slower than {MIN_SET_SPEED_M_PER_H:g} m an hour: "
            f"a distance in km or miles with the unit {distance_unit!r}? Correct the unit in the export"
        )
        return reason, source, row["distance"]
    return values


def build_sets(
    rows: AppRows,
    fmt: ExportFormat,
    *,
    include_warmups: bool,
    unit: str | None,
    decimal_comma: bool | None,
    dayfirst: bool | None = None,
) -> BuiltSets:
    """Apply the module's rules to an export's rows.

    Parameters
    ----------
    rows:
        The export renamed by its format module.
    fmt:
        The export's format.
    include_warmups:
        Keep warm-up sets (``set_type`` = ``warmup``) instead of listing them.
    unit:
        ``kg``, ``lb`` or ``None``: the ``--unit`` option.
    decimal_comma:
        ``True``: numbers use a decimal comma (a file that is not
        comma-separated, or ``--decimal-comma``); ``False``: never; ``None``:
        decided per column from its values (:func:`decimal_marks`).
    dayfirst:
        ``True`` (``--dayfirst``) or ``False`` (``--monthfirst``) fixes the
        order of all-numeric dates; ``None`` decides it from the values
        (:func:`.dates.parse_datetimes`).

    Returns
    -------
    BuiltSets
        ``sets`` (:data:`SET_COLUMNS`, text), ``ledger`` (:data:`LEDGER_COLUMNS`)
        and notes on assumptions made. Every export row is in exactly one.
    """
    frame = rows.frame.reindex(columns=list(RAW_COLUMNS), fill_value="")
    start_column = rows.sources["start"]
    parsed = parse_datetimes(frame["start"].tolist(), start_column, dayfirst)
    frame, cell_units, unit_note = _units_in_weights(frame, rows.sources.get("weight", "weight"))
    marks = decimal_marks(frame, rows.sources, decimal_comma)
    notes = ([parsed.note] if parsed.note else []) + marks.notes + ([unit_note] if unit_note else [])
    starts = session_starts(parsed.values) if fmt.timed_sets else parsed.values
    load_units, assumed = _resolve_load_units(_unit_column(frame["load_unit"], _LOAD_UNITS), rows.stated_unit, unit, fmt.label)
    load_units, assumed = load_units.mask(cell_units != "", cell_units), assumed & (cell_units == "")
    units, assumed_at = load_units.tolist(), assumed.tolist()
    distance_units = _unit_column(frame["distance_unit"], _DISTANCE_UNITS).tolist()
    sets: list[dict[str, str]] = []
    categories: list[str] = []
    ledger: list[dict[str, object]] = []
    assumed_loads = 0
    records = frame.astype(object).to_dict("records")
    for position, (row_number, row) in enumerate(zip(frame.index, records, strict=True)):
        start = starts[position]
        date_text = format_datetime(start, parsed.has_time[position]) if start is not None else ""
        exercise = row["exercise"].strip()
        outcome = _check(row, rows.sources, units[position], start is not None, include_warmups, marks, distance_units[position] or "")
        if isinstance(outcome, tuple):
            reason, column, value = outcome
            if start is None and parsed.problems[position] and reason.startswith("unparseable date"):
                reason = f"{reason}: {parsed.problems[position]}"
            ledger.append({"row": row_number, "date": date_text, "exercise": exercise, "column": column, "value": value, "reason": reason})
            continue
        reps, weight, seconds, distance = (outcome[k] or 0.0 for k in ("reps", "weight", "seconds", "distance"))
        assisted = bool(_ASSISTED.search(exercise)) and weight != 0
        load = abs(weight) if weight != 0 else None
        assumed_loads += load is not None and not assisted and bool(assumed_at[position])
        sets.append(
            {
                "date": date_text,
                "exercise": exercise,
                "sets": number_text(outcome["sets"] or 1.0),
                "reps": number_text(reps if reps > 0 else None),
                "load": "" if assisted else number_text(load),
                "load_unit": units[position] if load is not None else "",
                "duration_s": number_text(seconds if seconds > 0 else None),
                "rpe": number_text(outcome["rpe"]),
                "modality": "other" if distance > 0 and load is None else "",
                "set_type": row["set_type"],
                "distance": number_text(distance if distance > 0 else None),
                "distance_unit": (distance_units[position] or row["distance_unit"].strip()) if distance > 0 else "",
                "assistance": number_text(load) if assisted else "",
                "import_row": str(row_number),
            }
        )
        categories.append(row["category"].strip())
    return BuiltSets(
        sets=pd.DataFrame(sets, columns=list(SET_COLUMNS)).astype(str),
        ledger=pd.DataFrame(ledger, columns=list(LEDGER_COLUMNS)).astype({"row": "int64"}),
        notes=notes + ([_ASSUMED_KG.format(assumed_loads)] if assumed_loads else []),
        categories=pd.Series(categories, dtype=object),
    )
