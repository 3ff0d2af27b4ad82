"""Loading a dataset folder: every row parsed, checked and accounted for (CONTRACT section 2).

:func:`load` reads the tables as strings (:mod:`backpain_analysis.reading`),
applies the row rules below in order, and returns a
:class:`~backpain_analysis.dataset.Dataset` of normalised tables
(docs/architecture.md) plus the rejected ledger. A row is rejected for the
first rule it fails; accepted + rejected = read for every table, always.

Each rule is a small vectorised function returning the reasons of the rows
that fail it (a Series of strings indexed by spreadsheet row); parsing works
on the distinct values of a column, so a long log costs little more than a
factorisation.

Large tables: columns arrive as codes into their distinct strings (the
reader's ``Categorical`` columns), each parsed column is kept as codes into
its parsed distinct values (:class:`Coded`), and the accepted sessions stay
in that form (:class:`CodedTable`, about 15 bytes a row) until a DataFrame
is asked for: :func:`load` returns a :class:`LoadedDataset`, whose
``sessions`` are built on first use, and the weekly panel reads the codes
directly. Ten million session rows load in a few seconds and well under a
gigabyte (benchmarks/README.md).

Rules, in order
---------------
catalog:  ``exercise`` blank; ``modality`` not one of the six; the same
          exercise name (after normalisation) as an earlier row.
clients:  ``client_id`` blank; ``client_id`` already on an earlier row;
          ``start_date`` not a date; ``age`` not a number 0-120.
sessions: ``client_id``, ``date``, ``exercise`` blank; ``date`` not a date;
          ``sets`` not a whole number 1-1000 (blank: 1); ``reps`` not a whole
          number >= 0; ``load`` not a number >= 0 (blank: 0 = body weight);
          ``load_unit`` not kg or lb (blank: kg); ``duration_s`` not a number
          >= 0; ``rpe`` not a number 0-10; ``modality`` not one of the six
          (blank: the catalog decides); the exercise unknown to the studio and
          built-in catalogs when no modality is given; dated before the
          client's ``start_date``.
outcomes: ``client_id``, ``date``, ``instrument``, ``score`` blank; ``date``
          not a date; ``score`` not a number, or outside the instrument's
          range (items: a whole number 0-5 for ``odi_q*``, 0 or 1 for
          ``rmdq_q*``; custom instruments: any finite number); dated before
          the client's ``start_date``; an item already given on an earlier
          row for the same client and day; an ODI form with more than
          ``odi_max_missing`` sections unanswered (all its item rows).

Dates are ISO (``2024-03-05``) or ISO date-times (``2024-03-05 18:30``,
``T`` allowed, seconds optional, no time zone) in the years 1900-2100.
Text values are compared with surrounding spaces removed (client keys stay
case-sensitive); ``modality``, ``load_unit`` and ``instrument`` ignore case.
Outcome dates are calendar days (an item form is one client's items on one
day). Item forms follow :func:`~backpain_analysis.instruments.score_odi`
and :func:`~backpain_analysis.instruments.score_rmdq`: an unanswered RMDQ
statement counts as not ticked, so RMDQ forms are always scorable. Extra
columns are kept: numeric when every non-blank value is a number, text
otherwise (blank = missing).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from backpain_analysis.catalog import classify_exercises, exercise_key
from backpain_analysis.contract import LB_TO_KG, LEDGER_COLUMNS, MODALITIES, OPTIONAL_COLUMNS, REQUIRED_COLUMNS, TABLES
from backpain_analysis.dataset import Dataset, empty_ledger
from backpain_analysis.errors import DataError
from backpain_analysis.instruments import ITEM_FORMS, ITEMS, builtin_instruments, score_odi, score_rmdq
from backpain_analysis.reading import RawTable, read_dataset, smallest_codes

DATE_PATTERN = r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?"
"""Accepted date text: ISO date, optionally with a time (no time zone)."""
DATE_HINT = "use YYYY-MM-DD, optionally with a time (YYYY-MM-DD HH:MM)"
YEARS: tuple[int, int] = (1900, 2100)
"""Years a date may fall in (outside: a typo, and beyond what datetime64[ns] holds)."""
CLIENT_COLUMNS: tuple[str, ...] = ("client_id", "program", "studio", "start_date", "age", "sex")
"""Clients columns with a meaning (others are kept as extra covariates)."""
MAX_SETS: int = 1000
"""Most sets one row may hold: more is a typo (and 1e19 would overflow int64)."""
AGE_RANGE: tuple[float, float] = (0.0, 120.0)
"""Valid ``age`` in years."""

Part = str | pd.Series | np.ndarray
Checks = list[tuple[str, pd.Series]]
"""Rule results in rule order: (column, reasons of the failing rows)."""


class TextColumn:
    """A raw text column factorised once: rules look at each distinct value once.

    Parameters
    ----------
    values:
        The column as read (strings, blank = ``""``, or a ``Categorical`` of
        them: its codes are used as they are), or ``None`` for a column the
        file does not have (every row blank).
    index:
        The table's row labels (spreadsheet rows).

    Attributes
    ----------
    codes:
        Position of each row's value in ``distinct`` (the smallest integer
        type that holds them).
    distinct:
        The distinct values, surrounding spaces removed (object Series).
    """

    def __init__(self, values: pd.Series | None, index: pd.Index) -> None:
        self.index = index
        if values is None:
            self.codes = np.zeros(len(index), dtype=np.int8)
            distinct = np.array([""], dtype=object)
        elif isinstance(values.dtype, pd.CategoricalDtype):
            self.codes = values.cat.codes.to_numpy()
            distinct = np.asarray(values.cat.categories, dtype=object)
        else:
            self.codes, uniques = pd.factorize(values, use_na_sentinel=False)
            distinct = np.asarray(uniques, dtype=object)
        self.distinct = pd.Series([value.strip() for value in distinct], dtype=object)

    def each(self, per_value: pd.Series | np.ndarray) -> np.ndarray:
        """Broadcast one result per distinct value to one per row (a rule no value fails costs nothing)."""
        per_value = np.asarray(per_value)
        if per_value.dtype == bool and not per_value.any():
            return np.zeros(len(self.codes), dtype=bool)
        return per_value[self.codes]

    def apply(self, func: Callable[[pd.Series], pd.Series]) -> np.ndarray:
        """``func`` of the distinct values, broadcast to rows."""
        return self.each(func(self.distinct))

    @property
    def text(self) -> np.ndarray:
        """Each row's value with surrounding spaces removed (object array)."""
        return self.each(self.distinct.to_numpy(dtype=object))

    @property
    def blank(self) -> np.ndarray:
        """Each row: is the value empty or spaces?"""
        return self.each(self.distinct.to_numpy(dtype=object) == "")

    def coded_text(self, *, blank_missing: bool = False) -> Coded:
        """The stripped values as codes into their distinct strings (blank -> missing when ``blank_missing``)."""
        merged, uniques = pd.factorize(self.distinct)
        dictionary = np.array([None if blank_missing and value == "" else value for value in uniques], dtype=object)
        if len(uniques) == len(self.distinct):  # stripping merged nothing: the column's own codes serve
            return Coded(self.codes, dictionary[merged])
        return Coded(smallest_codes(merged, len(uniques))[self.codes], dictionary)

    def distinct_numbers(self) -> np.ndarray:
        """Each distinct value as float64 (NaN for blank and non-numbers; ``inf`` stays)."""
        return pd.to_numeric(self.distinct.where(self.distinct != ""), errors="coerce").to_numpy(dtype="float64")

    def numbers(self) -> np.ndarray:
        """Each row's value as float64 (NaN for blank and non-numbers; ``inf`` stays)."""
        return self.each(self.distinct_numbers())


@dataclass(frozen=True)
class Coded:
    """A parsed column: row ``i`` holds ``values[codes[i]]``, one value per distinct cell.

    ``values`` is float64, int64 or datetime64[ns], or object for text
    (``None`` = missing), so a ten-million-row column costs its codes.
    """

    codes: np.ndarray
    values: np.ndarray

    def array(self) -> np.ndarray:
        """Every row's value."""
        return self.values[self.codes]

    def rows(self, mask: np.ndarray) -> np.ndarray | pd.Series:
        """The values of the rows in boolean ``mask``: an array, or pandas' string column for text."""
        codes = self.codes[mask]
        return _arrow_strings(codes, self.values) if self.values.dtype == object else self.values[codes]

    def day(self) -> Coded:
        """Datetimes truncated to their day (midnight)."""
        return Coded(self.codes, self.values.astype("datetime64[D]").astype("datetime64[ns]"))


def _reasons(index: pd.Index, mask: np.ndarray, *parts: Part | TextColumn | Coded) -> pd.Series:
    """The reasons of the rows in ``mask``: a sparse Series indexed by row label.

    ``parts`` (text, a :class:`TextColumn` or :class:`Coded` column, or
    arrays/Series aligned with the rows; datetimes print as ``YYYY-MM-DD``)
    are joined for failing rows only.
    """
    positions = np.flatnonzero(np.asarray(mask, dtype=bool))
    text = pd.Series("", index=index[positions], dtype=object)
    if not len(positions):
        return text
    for part in parts:
        if isinstance(part, TextColumn):
            piece = part.distinct.to_numpy(dtype=object)[part.codes[positions]]
        elif isinstance(part, str):
            piece = part
        else:
            piece = pd.Series(part.values[part.codes[positions]] if isinstance(part, Coded) else np.asarray(part)[positions])
            piece = piece.dt.strftime("%Y-%m-%d") if pd.api.types.is_datetime64_any_dtype(piece) else piece
            piece = piece.astype(object).astype(str).to_numpy(dtype=object)
        text = text + piece
    return text.astype(object)


def blank_reasons(column: TextColumn, name: str) -> pd.Series:
    """Rows whose ``name`` is blank (empty or spaces)."""
    return _reasons(column.index, column.blank, f"{name} is blank")


def parse_dates(column: TextColumn, name: str) -> tuple[Coded, pd.Series]:
    """Parse ISO dates or date-times (:data:`DATE_PATTERN`).

    Returns datetime64[ns] timestamps (NaT when blank or invalid) and the
    reasons of the non-blank values that are not dates, e.g.
    ``date '05/03/2024' is not a date: use YYYY-MM-DD, ...``.
    """

    text = column.distinct.to_numpy(dtype=object)
    iso = _fullmatch(text, DATE_PATTERN)
    year = np.array([int(value[:4]) if ok else 0 for value, ok in zip(text, iso, strict=True)], dtype=np.int64)
    in_years = iso & (year >= YEARS[0]) & (year <= YEARS[1])
    parsed = np.full(len(text), np.datetime64("NaT"), dtype="datetime64[ns]")
    parsed[in_years] = pd.to_datetime(pd.Series(text[in_years], dtype=object), format="ISO8601", errors="coerce").to_numpy(dtype="datetime64[ns]")
    when = Coded(column.codes, parsed)
    not_date = column.each(np.isnat(parsed) & (text != "") & ~(iso & ~in_years))
    reasons = pd.concat(
        [
            _reasons(column.index, not_date, f"{name} '", column, f"' is not a date: {DATE_HINT}"),
            _reasons(column.index, column.each(iso & ~in_years), f"{name} ", column, f" is outside the years {YEARS[0]}-{YEARS[1]}"),
        ]
    )
    return when, reasons


def _fullmatch(text: np.ndarray, pattern: str) -> np.ndarray:
    """Which strings match ``pattern`` in full: Arrow's RE2 for ASCII ones, Python's ``re`` (Unicode digits) for the rest."""
    values = pa.array(text, type=pa.string())
    matched = np.array(pc.match_substring_regex(values, f"^(?:{pattern})$"), dtype=bool)
    other = np.flatnonzero(~np.array(pc.string_is_ascii(values), dtype=bool))
    compiled = re.compile(pattern)
    matched[other] = [compiled.fullmatch(text[i]) is not None for i in other]
    return matched


def _expected(low: float | None, high: float | None, integer: bool) -> str:
    kind = "a whole number" if integer else "a number"
    if low is not None and high is not None:
        return f"{kind} {low:g}-{high:g}"
    return f"{kind} >= {low:g}" if low is not None else kind


def parse_numbers(
    column: TextColumn,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    integer: bool = False,
    default: float = np.nan,
) -> tuple[Coded, pd.Series]:
    """Parse numbers that must lie in ``[low, high]`` (and be whole when ``integer``).

    Blank values take ``default`` and pass. Returns float64 values (NaN where
    invalid) and reasons such as ``sets '2.5' is not a whole number >= 1`` or
    ``rpe 12 is outside 0-10``. Every test runs on the distinct values.
    """
    number, blank = column.distinct_numbers(), (column.distinct == "").to_numpy()
    expected = _expected(low, high, integer)
    invalid = ~blank & ~np.isfinite(number)
    if integer:
        invalid |= ~blank & (number != np.round(number))
    with np.errstate(invalid="ignore"):
        outside = np.zeros(len(number), dtype=bool)
        if low is not None:
            outside |= number < low
        if high is not None:
            outside |= number > high
    outside &= ~blank & ~invalid
    range_text = f"is outside {low:g}-{high:g}" if low is not None and high is not None else f"is not {expected}"
    reasons = pd.concat(
        [
            _reasons(column.index, column.each(invalid), f"{name} '", column, f"' is not {expected}"),
            _reasons(column.index, column.each(outside), f"{name} ", column, f" {range_text}"),
        ]
    )
    return Coded(column.codes, np.where(blank, default, np.where(invalid | outside, np.nan, number))), reasons


def parse_choices(column: TextColumn, name: str, choices: tuple[str, ...], default: object = None) -> tuple[Coded, pd.Series]:
    """Parse one of ``choices`` ignoring case; blank -> ``default``.

    Returns the lower-case choice (``default`` when blank, None when invalid)
    and the reasons of the invalid rows.
    """
    lower = column.distinct.str.lower()
    valid = lower.isin(choices).to_numpy()
    per_value = np.where(valid, lower.to_numpy(dtype=object), None)
    per_value[(column.distinct == "").to_numpy()] = default
    bad = column.each(~valid & (column.distinct != "").to_numpy())
    return Coded(column.codes, per_value), _reasons(column.index, bad, f"{name} '", column, f"' is not one of {', '.join(choices)}")


def duplicate_reasons(keys: pd.Series, shown: pd.Series, name: str, note: str = "") -> pd.Series:
    """Rows whose non-blank ``keys`` repeat an earlier row's: the later rows fail.

    The reason names the first row, e.g. ``client_id 'c01' is already on row 3``.
    """
    present = keys.notna() & (keys != "")
    rows = pd.Series(keys.index, index=keys.index)
    first = rows[present].groupby(keys[present], sort=False).transform("first").reindex(keys.index)
    later = (first.notna() & (first != rows)).to_numpy()
    return _reasons(keys.index, later, f"{name} '", shown, "' is already on row ", first.fillna(0).astype("int64"), note)


def before_start_reasons(client_id: TextColumn, day: Coded, clients: pd.DataFrame) -> pd.Series:
    """Rows dated before their client's ``start_date`` (clients without one pass)."""
    starts = pd.Series(clients["start_date"].to_numpy(dtype="datetime64[ns]"), index=clients["client_id"].to_numpy(dtype=object))
    start = Coded(client_id.codes, starts.reindex(client_id.distinct.to_numpy()).to_numpy(dtype="datetime64[ns]"))
    if np.isnat(start.values).all():
        return _reasons(client_id.index, np.zeros(len(client_id.codes), dtype=bool))
    early = _days(day.values)[day.codes] < _days(start.values, missing=np.iinfo(np.int32).min)[start.codes]
    return _reasons(client_id.index, early, "date ", day, " is before client ", client_id, "'s start_date ", start)


def _days(values: np.ndarray, missing: int = np.iinfo(np.int32).max) -> np.ndarray:
    """Midnight datetimes as int32 days since 1970 (``missing`` for NaT), to compare many rows cheaply."""
    days = values.astype("datetime64[D]").astype(np.int64)
    return np.where(np.isnat(values), missing, days).astype(np.int32)


def classify_rows(exercise: TextColumn, given: Coded, catalog: pd.DataFrame) -> tuple[Coded, pd.Series]:
    """Each row's modality: the row's own ``modality``, else the catalogs'.

    Returns the modalities (None when unknown; codes into
    ``MODALITIES + (None,)``) and, for rows with neither, a reason beginning
    ``unknown exercise``.
    """
    choices = pd.Index([*MODALITIES, None], dtype=object)
    from_catalog = choices.get_indexer(classify_exercises(exercise.distinct, catalog).astype(object).where(lambda m: m.notna(), None))
    own = choices.get_indexer(pd.Index(given.values, dtype=object))
    row_own, row_catalog = own.astype(np.int8)[given.codes], from_catalog.astype(np.int8)[exercise.codes]
    modality = Coded(np.where(row_own < len(MODALITIES), row_own, row_catalog), np.asarray(choices, dtype=object))
    unknown = (modality.codes == len(MODALITIES)) & ~exercise.blank
    return modality, _reasons(
        exercise.index, unknown, "unknown exercise '", exercise, "' - add it to catalog.csv or give a modality"
    )


def _score_ranges() -> pd.DataFrame:
    """Valid score range per instrument name: ``low``, ``high``, ``whole`` (items)."""
    builtin = builtin_instruments().set_index("name")
    ranges = pd.DataFrame({"low": builtin["min"], "high": builtin["max"], "whole": False})
    items = pd.DataFrame({"low": 0.0, "high": [float(form.item_max) for form in ITEMS.values()], "whole": True}, index=list(ITEMS))
    return pd.concat([ranges, items])


def parse_scores(score: TextColumn, instrument: TextColumn) -> tuple[np.ndarray, pd.Series]:
    """Parse outcome scores and check them against each row's instrument.

    Built-in instruments must lie in their range, items must be whole numbers
    in theirs (``odi_q*`` 0-5, ``rmdq_q*`` 0-1), custom instruments need a
    finite number. Blank scores pass here (see :func:`blank_reasons`).
    Returns float64 scores and reasons such as
    ``score 14 is outside nprs range 0-10``.
    """
    number, blank = score.numbers(), score.blank
    ranges = _score_ranges().reindex(instrument.distinct.str.lower())
    low, high = instrument.each(ranges["low"]), instrument.each(ranges["high"])
    whole = instrument.each(ranges["whole"].fillna(False).astype(bool))
    bounds = instrument.each(np.array([f"{lo:g}-{hi:g}" for lo, hi in zip(ranges["low"], ranges["high"], strict=True)], dtype=object))
    name = instrument.each(instrument.distinct.str.lower())
    invalid = ~blank & ~np.isfinite(number)
    not_whole = ~blank & ~invalid & whole & (number != np.round(number))
    with np.errstate(invalid="ignore"):
        outside = ~blank & ~invalid & ~not_whole & ((number < low) | (number > high))
    reasons = pd.concat(
        [
            _reasons(score.index, invalid, "score '", score, "' is not a number"),
            _reasons(score.index, not_whole, "score ", score, " for ", name, " is not a whole number ", bounds),
            _reasons(score.index, outside, "score ", score, " is outside ", name, " range ", bounds),
        ]
    )
    return np.where(invalid | not_whole | outside, np.nan, number), reasons


def first_failures(table: str, raw: pd.DataFrame, checks: Checks) -> pd.DataFrame:
    """The ledger of ``raw``'s rejected rows: for each, the first failing check.

    ``value`` is the failing cell exactly as read (blank when the file has no
    such column).
    """
    parts = [
        pd.DataFrame({"row": reasons.index.to_numpy(dtype="int64"), "column": column, "reason": reasons.to_numpy(dtype=object), "order": i})
        for i, (column, reasons) in enumerate(checks)
        if len(reasons)
    ]
    if not parts:
        return empty_ledger()
    failed = pd.concat(parts, ignore_index=True).sort_values(["row", "order"], kind="stable").drop_duplicates("row")
    values = pd.Series("", index=failed.index, dtype=object)
    for column, rows in failed.groupby("column")["row"]:
        if column in raw.columns:
            values[rows.index] = raw.loc[rows.to_numpy(), column].to_numpy(dtype=object)
    return failed.assign(table=table, value=values)[list(LEDGER_COLUMNS)].reset_index(drop=True)


def _typed_extra(column: TextColumn, accepted: np.ndarray) -> Coded:
    """An extra column: float64 when every non-blank value of an accepted row is a number, else text with blanks missing.

    Rejected rows do not vote: one stray ``x`` on a rejected row leaves a
    numeric column numeric.
    """
    number = column.distinct_numbers()
    used = np.zeros(len(number), dtype=bool)
    codes = column.codes[accepted]
    used[codes[codes >= 0]] = True
    if (~np.isnan(number) | (column.distinct == "").to_numpy() | ~used).all():
        return Coded(column.codes, number)
    return column.coded_text(blank_missing=True)


def _arrow_strings(indices: np.ndarray, dictionary: list[str | None] | np.ndarray) -> pd.Series:
    """``dictionary[indices]`` (index -1 = missing) as pandas' string column.

    Going through an Arrow dictionary avoids converting every row's Python
    string: pandas 3 gets its Arrow-backed ``str`` column directly.
    """
    positions = pa.array(indices.astype(np.int32), mask=indices < 0)
    return pa.DictionaryArray.from_arrays(positions, pa.array(dictionary, type=pa.string())).cast(pa.string()).to_pandas()


def _strings(values: np.ndarray) -> pd.Series:
    """Text values (None or NA = missing) as pandas' string column, via their distinct values."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return _arrow_strings(codes, np.asarray(uniques, dtype=object))


class CodedTable:
    """The accepted rows of a table as parsed columns; its DataFrame is built on demand.

    Parameters
    ----------
    columns:
        Output columns in order, each :class:`Coded` or one value per input
        row (text as an object array, ``None`` = missing); the file's extra
        columns follow (numeric when every value is, else text), then
        ``source_row``.
    raw:
        The table as read (its index holds the spreadsheet rows).
    known:
        Columns of the file that have a meaning (not extras).
    accepted:
        Boolean, one per input row.

    Attributes ``columns`` (every output column but ``source_row``, extras
    included) and ``accepted`` are what :func:`~backpain_analysis.panel.weekly_panel`
    reads.
    """

    def __init__(self, columns: dict[str, Coded | np.ndarray], raw: pd.DataFrame, known: tuple[str, ...], accepted: np.ndarray) -> None:
        self.columns = dict(columns)
        for extra in raw.columns:
            if extra not in known and extra not in self.columns and extra != "source_row":
                self.columns[extra] = _typed_extra(TextColumn(raw[extra], raw.index), accepted)
        self.source_row = raw.index
        self.accepted = accepted

    def frame(self) -> pd.DataFrame:
        """The accepted rows as a DataFrame (docs/architecture.md): text as pandas' string columns."""
        kept = {}
        for name, column in self.columns.items():
            if isinstance(column, Coded):
                kept[name] = column.rows(self.accepted)
            else:
                values = np.asarray(column)[self.accepted]
                kept[name] = _strings(values) if values.dtype == object else values
        kept["source_row"] = self.source_row.to_numpy(dtype="int64")[self.accepted]
        return pd.DataFrame(kept)


def _accepted(raw: pd.DataFrame, ledger: pd.DataFrame) -> np.ndarray:
    """Rows not in the ledger (the index holds increasing spreadsheet rows: found by bisection, no hashing)."""
    accepted = np.ones(len(raw), dtype=bool)
    accepted[np.searchsorted(raw.index, ledger["row"].to_numpy(dtype=np.int64))] = False
    return accepted


def _columns(raw: pd.DataFrame, names: tuple[str, ...]) -> dict[str, TextColumn]:
    return {name: TextColumn(raw[name] if name in raw.columns else None, raw.index) for name in names}


def load_catalog(raw: RawTable | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The studio catalog table: accepted rows (``exercise``, ``modality``, extras, ``source_row``) and ledger."""
    if raw is None:
        empty = {"exercise": np.array([], dtype=object), "modality": np.array([], dtype=object)}
        return CodedTable(empty, pd.DataFrame(index=pd.Index([], dtype="int64")), (), np.array([], dtype=bool)).frame(), empty_ledger()
    frame = raw.frame
    col = _columns(frame, REQUIRED_COLUMNS["catalog"])
    modality, bad_modality = parse_choices(col["modality"], "modality", MODALITIES)
    exercise = pd.Series(col["exercise"].text, index=frame.index)
    keys = pd.Series(col["exercise"].apply(lambda names: names.map(exercise_key)), index=frame.index)
    note = " (names match ignoring case, spacing, hyphens and plurals)"
    checks: Checks = [
        ("exercise", blank_reasons(col["exercise"], "exercise")),
        ("modality", blank_reasons(col["modality"], "modality")),
        ("modality", bad_modality),
        ("exercise", duplicate_reasons(keys, exercise, "exercise", note)),
    ]
    ledger = first_failures("catalog", frame, checks)
    table = {"exercise": col["exercise"].coded_text(), "modality": modality}
    return CodedTable(table, frame, REQUIRED_COLUMNS["catalog"], _accepted(frame, ledger)).frame(), ledger


def load_clients(raw: RawTable | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The clients table: accepted rows (docs/architecture.md) and ledger."""
    if raw is None:
        empty = {"client_id": np.array([], dtype=object), "start_date": np.array([], dtype="datetime64[ns]")}
        return CodedTable(empty, pd.DataFrame(index=pd.Index([], dtype="int64")), (), np.array([], dtype=bool)).frame(), empty_ledger()
    frame = raw.frame
    col = _columns(frame, CLIENT_COLUMNS)
    client_id = pd.Series(col["client_id"].text, index=frame.index)
    start, bad_start = parse_dates(col["start_date"], "start_date")
    age, bad_age = parse_numbers(col["age"], "age", low=AGE_RANGE[0], high=AGE_RANGE[1])
    checks: Checks = [
        ("client_id", blank_reasons(col["client_id"], "client_id")),
        ("client_id", duplicate_reasons(client_id, client_id, "client_id")),
        ("start_date", bad_start),
        ("age", bad_age),
    ]
    ledger = first_failures("clients", frame, checks)
    table = {"client_id": col["client_id"].coded_text()}
    table |= {name: col[name].coded_text(blank_missing=True) for name in ("program", "studio") if name in frame.columns}
    table["start_date"] = start
    table |= {"age": age} if "age" in frame.columns else {}
    table |= {"sex": col["sex"].coded_text(blank_missing=True)} if "sex" in frame.columns else {}
    return CodedTable(table, frame, CLIENT_COLUMNS, _accepted(frame, ledger)).frame(), ledger


def load_sessions(raw: RawTable, catalog: pd.DataFrame, clients: pd.DataFrame) -> tuple[CodedTable, pd.DataFrame]:
    """The sessions table: accepted rows (docs/architecture.md; ``.frame()`` builds them) and ledger.

    ``catalog`` is the accepted studio catalog (overrides the built-in one);
    ``clients`` the accepted clients (for ``start_date``). Every column stays
    codes into its distinct values until the DataFrame is asked for.
    """
    frame = raw.frame
    known = REQUIRED_COLUMNS["sessions"] + OPTIONAL_COLUMNS["sessions"]
    col = _columns(frame, known)
    when, bad_date = parse_dates(col["date"], "date")
    day = when.day()
    sets, bad_sets = parse_numbers(col["sets"], "sets", low=1, high=MAX_SETS, integer=True, default=1)
    reps, bad_reps = parse_numbers(col["reps"], "reps", low=0, integer=True)
    load_value, bad_load = parse_numbers(col["load"], "load", low=0, default=0.0)
    unit, bad_unit = parse_choices(col["load_unit"], "load_unit", ("kg", "lb"), default="kg")
    duration, bad_duration = parse_numbers(col["duration_s"], "duration_s", low=0)
    rpe, bad_rpe = parse_numbers(col["rpe"], "rpe", low=0, high=10)
    given, bad_modality = parse_choices(col["modality"], "modality", MODALITIES)
    modality, unknown = classify_rows(col["exercise"], given, catalog)
    checks: Checks = [
        ("client_id", blank_reasons(col["client_id"], "client_id")),
        ("date", blank_reasons(col["date"], "date")),
        ("date", bad_date),
        ("exercise", blank_reasons(col["exercise"], "exercise")),
        ("sets", bad_sets),
        ("reps", bad_reps),
        ("load", bad_load),
        ("load_unit", bad_unit),
        ("duration_s", bad_duration),
        ("rpe", bad_rpe),
        ("modality", bad_modality),
        ("exercise", unknown),
        ("date", before_start_reasons(col["client_id"], day, clients)),
    ]
    ledger = first_failures("sessions", frame, checks)
    table = {
        "client_id": col["client_id"].coded_text(),
        "date": day,
        "session_start": when,
        "exercise": col["exercise"].coded_text(),
        "modality": modality,
        "sets": Coded(sets.codes, np.nan_to_num(sets.values).astype(np.int64)),  # NaN only on rejected rows
        "reps": reps,
        "load_kg": _kilograms(load_value, unit),
        "duration_s": duration,
        "rpe": rpe,
    }
    return CodedTable(table, frame, known, _accepted(frame, ledger)), ledger


def _kilograms(load: Coded, unit: Coded) -> Coded:
    """Load per rep in kg: ``load`` times 0.45359237 where ``unit`` is lb, coded by each (load, unit) pair."""
    factor = np.where(unit.values == "lb", LB_TO_KG, 1.0)
    codes = smallest_codes(load.codes, len(load.values) * len(factor)) * len(factor) + unit.codes
    return Coded(codes, (load.values[:, None] * factor[None, :]).ravel())


def _form_failures(items: pd.DataFrame, odi_max_missing: int) -> tuple[pd.Series, pd.DataFrame]:
    """Score the item forms in ``items``; reasons for the rows of unscorable forms.

    ``items`` holds the valid, non-duplicate item rows (``client_id``,
    ``date``, ``instrument``, ``score``, ``form``), indexed by source row.
    Returns the reasons and the scored outcome rows (``client_id``, ``date``,
    ``instrument``, ``score``, ``source_row`` = the form's first item row).
    """
    reasons, scored = [], []
    for name, form in ITEM_FORMS.items():
        rows = items[items["form"] == name]
        if rows.empty:
            continue
        forms = score_odi(rows, odi_max_missing) if name == "odi" else score_rmdq(rows)
        first_row = rows.index.to_series().groupby([rows["client_id"], rows["date"]]).min().rename("source_row")
        forms = forms.join(first_row, on=["client_id", "date"])
        scored.append(forms[forms["scorable"]].assign(instrument=name)[["client_id", "date", "instrument", "score", "source_row"]])
        per_row = rows[["client_id", "date"]].join(forms.set_index(["client_id", "date"]), on=["client_id", "date"])
        note = f" of {form.n_items} sections answered; at most {odi_max_missing} may be missing (odi_max_missing)"
        reasons.append(
            _reasons(
                per_row.index, ~per_row["scorable"].to_numpy(dtype=bool), f"the {name} form of client ",
                per_row["client_id"], " on ", per_row["date"], " has ", per_row["answered"], note,
            )
        )
    return (
        pd.concat(reasons) if reasons else pd.Series([], dtype=object),
        pd.concat(scored, ignore_index=True) if scored else pd.DataFrame(),
    )


def load_outcomes(raw: RawTable, clients: pd.DataFrame, odi_max_missing: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The outcomes table (item forms scored): accepted rows and ledger.

    An accepted item row becomes part of its form's ``odi`` or ``rmdq`` row
    (``source_row`` = the form's first item row), so ``outcomes`` may have
    fewer rows than were accepted.
    """
    frame = raw.frame
    known = REQUIRED_COLUMNS["outcomes"]
    col = _columns(frame, known)
    when, bad_date = parse_dates(col["date"], "date")
    day = when.day()
    instrument = Coded(col["instrument"].codes, col["instrument"].distinct.str.lower().to_numpy(dtype=object))
    score, bad_score = parse_scores(col["score"], col["instrument"])
    checks: Checks = [
        ("client_id", blank_reasons(col["client_id"], "client_id")),
        ("date", blank_reasons(col["date"], "date")),
        ("date", bad_date),
        ("instrument", blank_reasons(col["instrument"], "instrument")),
        ("score", blank_reasons(col["score"], "score")),
        ("score", bad_score),
        ("date", before_start_reasons(col["client_id"], day, clients)),
    ]
    ledger = first_failures("outcomes", frame, checks)
    table = {"client_id": col["client_id"].coded_text(), "date": day, "instrument": instrument, "score": score}
    form_of = {item: f.instrument for item, f in ITEMS.items()}
    is_item = col["instrument"].each(np.array([name in form_of for name in instrument.values], dtype=bool))
    rows = _accepted(frame, ledger) & is_item
    items = pd.DataFrame(
        {name: column.values[column.codes[rows]] if isinstance(column, Coded) else column[rows] for name, column in table.items()},
        index=frame.index[rows],
    )
    items["form"] = items["instrument"].map(form_of)
    key = items["client_id"] + "\x1f" + items["date"].dt.strftime("%Y-%m-%d") + "\x1f" + items["instrument"]
    duplicates = duplicate_reasons(key, items["instrument"], "instrument", " for this client and day")
    unscorable, scored = _form_failures(items.drop(index=duplicates.index), odi_max_missing)
    checks += [("instrument", duplicates), ("score", unscorable)]
    ledger = first_failures("outcomes", frame, checks)
    plain = CodedTable(table, frame, known, _accepted(frame, ledger) & ~is_item).frame()
    outcomes = pd.concat([plain, scored], ignore_index=True) if len(scored) else plain
    return outcomes.sort_values("source_row", kind="stable").reset_index(drop=True).astype({"source_row": "int64"}), ledger


class LoadedDataset(Dataset):
    """A :class:`~backpain_analysis.dataset.Dataset` from :func:`load` whose ``sessions`` are built on first use.

    ``session_table`` holds the accepted session rows as codes into distinct
    values (:class:`CodedTable`); :func:`~backpain_analysis.panel.weekly_panel`
    reads it directly, so ten million rows never become a DataFrame unless
    ``sessions`` is asked for. Once it is (or is assigned), the DataFrame is
    the only copy and the table is dropped: changes made to it count.
    """

    session_table: CodedTable | None = None

    @property  # type: ignore[override]
    def sessions(self) -> pd.DataFrame:
        """Accepted session rows (docs/architecture.md)."""
        if self._sessions is None and self.session_table is not None:
            self._sessions, self.session_table = self.session_table.frame(), None
        return self._sessions

    @sessions.setter
    def sessions(self, frame: pd.DataFrame | None) -> None:
        self._sessions = frame
        if frame is not None:
            self.session_table = None


def load(path: str | Path, *, odi_max_missing: int = 1) -> LoadedDataset:
    """Load a dataset folder (CONTRACT sections 1-2), accounting for every row.

    Parameters
    ----------
    path:
        Folder holding ``sessions`` and ``outcomes`` (and optionally
        ``clients`` and ``catalog``) as ``.csv``, ``.parquet`` or ``.xlsx``.
    odi_max_missing:
        ODI sections that may be unanswered on an item form (0-9; default 1).

    Returns
    -------
    Dataset
        ``sessions``, ``outcomes``, ``clients``, ``catalog`` (accepted rows,
        normalised; columns in docs/architecture.md), ``rejected`` (the
        ledger: ``table``, ``row``, ``column``, ``value``, ``reason``, in
        table then row order), ``read`` (rows read per table present) and
        ``files``.

    Raises
    ------
    DataError
        With a one-line message when the folder, a file, a required table or
        a required column cannot be used. Row problems never raise: they go
        to the ledger. The input files are only read.
    """
    if isinstance(odi_max_missing, bool) or not isinstance(odi_max_missing, int) or not 0 <= odi_max_missing <= 9:
        raise DataError(f"odi_max_missing must be a whole number 0-9, got {odi_max_missing!r}")
    raw = read_dataset(path, categorical=True)
    catalog, catalog_ledger = load_catalog(raw.get("catalog"))
    clients, clients_ledger = load_clients(raw.get("clients"))
    sessions, sessions_ledger = load_sessions(raw["sessions"], catalog, clients)
    outcomes, outcomes_ledger = load_outcomes(raw["outcomes"], clients, odi_max_missing)
    ledgers = [ledger for ledger in (sessions_ledger, outcomes_ledger, clients_ledger, catalog_ledger) if len(ledger)]
    dataset = LoadedDataset(
        sessions=None,
        outcomes=outcomes,
        clients=clients,
        catalog=catalog,
        rejected=pd.concat(ledgers, ignore_index=True) if ledgers else empty_ledger(),
        read={name: raw[name].rows for name in TABLES if name in raw},
        files={name: raw[name].path for name in TABLES if name in raw},
    )
    dataset.session_table = sessions
    return dataset
