"""Generic column rules: parse a text column once per distinct value and say why a row fails.

Nothing here knows the contract's tables: :mod:`backpain_analysis.loading`
applies these rules to them. Each rule is a small vectorised function
returning the reasons of the rows that fail it (a Series of strings indexed
by spreadsheet row) together with the parsed values as codes into their
distinct values (:class:`~backpain_analysis.coded.Coded`), so a long log
costs little more than a factorisation.

Dates are ISO (``2024-03-05``) or ISO date-times (``2024-03-05 18:30``,
``T`` allowed, seconds optional, no time zone) in the years 1900-2100.
Numbers must be finite: ``inf``, ``nan`` and text are refused with
``... is not a number``, and a value above a column's plausibility limit
(``high``) with ``... is outside LOW-HIGH`` plus the column's note.
Text values are compared with surrounding spaces removed.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from backpain_analysis.coded import Coded, smallest_codes
from backpain_analysis.contract import LEDGER_COLUMNS
from backpain_analysis.dataset import empty_ledger

DATE_PATTERN = r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?"
"""Accepted date text: ISO date, optionally with a time (no time zone)."""
DATE_HINT = "use YYYY-MM-DD, optionally with a time (YYYY-MM-DD HH:MM)"
YEARS: tuple[int, int] = (1900, 2100)
"""Years a date may fall in (outside: a typo, and beyond what datetime64[ns] holds)."""

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
            self.codes = values.array.codes  # the Categorical's own codes (``.cat.codes`` copies them into a new Series)
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


def row_reasons(index: pd.Index, mask: np.ndarray, *parts: Part | TextColumn | Coded) -> pd.Series:
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


def value_reasons(column: TextColumn, failing: np.ndarray, *parts: Part | TextColumn | Coded) -> pd.Series:
    """:func:`row_reasons` of the rows whose distinct value fails (``failing``: one per distinct value).

    A rule no distinct value fails touches no row (no row-long mask is made).
    """
    values = np.flatnonzero(np.asarray(failing, dtype=bool))
    if not len(values):
        return row_reasons(column.index, np.zeros(0, dtype=bool))
    if len(values) > 4:
        return row_reasons(column.index, column.each(failing), *parts)
    rows = column.codes == values[0]  # a few failing values: comparing the codes is quicker than a lookup per row
    for value in values[1:]:
        rows |= column.codes == value
    return row_reasons(column.index, rows, *parts)


def blank_reasons(column: TextColumn, name: str) -> pd.Series:
    """Rows whose ``name`` is blank (empty or spaces)."""
    return value_reasons(column, (column.distinct == "").to_numpy(), f"{name} is blank")


def parse_dates(column: TextColumn, name: str) -> tuple[Coded, pd.Series]:
    """Parse ISO dates or date-times (:data:`DATE_PATTERN`).

    Returns datetime64[ns] timestamps (NaT when blank or invalid) and the
    reasons of the non-blank values that are not dates, e.g.
    ``date '05/03/2024' is not a date: use YYYY-MM-DD, ...``.
    """

    text = column.distinct.to_numpy(dtype=object)
    iso = _fullmatch(text, DATE_PATTERN)
    year = _years(text, iso)
    in_years = iso & (year >= YEARS[0]) & (year <= YEARS[1])
    parsed = np.full(len(text), np.datetime64("NaT"), dtype="datetime64[ns]")
    parsed[in_years] = pd.to_datetime(pd.Series(text[in_years], dtype=object), format="ISO8601", errors="coerce").to_numpy(dtype="datetime64[ns]")
    when = Coded(column.codes, parsed)
    reasons = pd.concat(
        [
            value_reasons(column, np.isnat(parsed) & (text != "") & ~(iso & ~in_years), f"{name} '", column, f"' is not a date: {DATE_HINT}"),
            value_reasons(column, iso & ~in_years, f"{name} ", column, f" is outside the years {YEARS[0]}-{YEARS[1]}"),
        ]
    )
    return when, reasons


def _years(text: np.ndarray, iso: np.ndarray) -> np.ndarray:
    """The year (first four digits) of each ISO date text in ``iso`` (0 elsewhere): Arrow for ASCII digits, ``int`` for other digits."""
    year = np.zeros(len(text), dtype=np.int64)
    heads = pc.utf8_slice_codeunits(pa.array(text, type=pa.string()), 0, 4)
    plain = iso & np.array(pc.string_is_ascii(heads), dtype=bool)
    year[plain] = np.asarray(pc.cast(heads.filter(pa.array(plain)), pa.int64()))
    year[iso & ~plain] = [int(value[:4]) for value in text[iso & ~plain]]
    return year


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
    above: str = "",
) -> tuple[Coded, pd.Series]:
    """Parse finite numbers that must lie in ``[low, high]`` (and be whole when ``integer``).

    Blank values take ``default`` and pass. Returns float64 values (NaN where
    invalid) and reasons such as ``sets '2.5' is not a whole number >= 1``,
    ``reps 'inf' is not a whole number 0-1000`` or ``rpe 12 is outside 0-10``;
    ``above`` is added to the reason of a value above ``high`` (why the limit
    exists). Every test runs on the distinct values.
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
    with np.errstate(invalid="ignore"):
        too_high = outside & (number > high) if high is not None and above else np.zeros(len(number), dtype=bool)
    reasons = pd.concat(
        [
            value_reasons(column, invalid, f"{name} '", column, f"' is not {expected}"),
            value_reasons(column, outside & ~too_high, f"{name} ", column, f" {range_text}"),
            value_reasons(column, too_high, f"{name} ", column, f" {range_text}{above}"),
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
    bad = ~valid & (column.distinct != "").to_numpy()
    return Coded(column.codes, per_value), value_reasons(column, bad, f"{name} '", column, f"' is not one of {', '.join(choices)}")


def duplicate_reasons(keys: pd.Series, shown: pd.Series, name: str, note: str = "") -> pd.Series:
    """Rows whose non-blank ``keys`` repeat an earlier row's: the later rows fail.

    The reason names the first row, e.g. ``client_id 'c01' is already on row 3``.
    """
    present = keys.notna() & (keys != "")
    rows = pd.Series(keys.index, index=keys.index)
    first = rows[present].groupby(keys[present], sort=False).transform("first").reindex(keys.index)
    later = (first.notna() & (first != rows)).to_numpy()
    return row_reasons(keys.index, later, f"{name} '", shown, "' is already on row ", first.fillna(0).astype("int64"), note)


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


def typed_extra(column: TextColumn, accepted: np.ndarray) -> Coded:
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
