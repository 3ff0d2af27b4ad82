"""The compact coded form of a table: each column as small integer codes into its distinct values.

A ten-million-row session log has a few thousand distinct values per column,
so every column is held as ``codes`` (the smallest integer type that fits)
into ``values`` (one per distinct cell): about 15 bytes a row for the whole
sessions table. Rules run once per distinct value, and the weekly panel adds
the codes straight into dense client-week sums; a DataFrame is built only
when one is asked for (:meth:`CodedTable.frame`). A leaf module: numpy,
pandas and pyarrow only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa


def smallest_codes(codes: np.ndarray, n_values: int) -> np.ndarray:
    """``codes`` (0 to ``n_values`` - 1) in the smallest signed integer type that holds them."""
    dtype = np.int8 if n_values < 2**7 else np.int16 if n_values < 2**15 else np.int32
    return np.asarray(codes).astype(dtype, copy=False)


@dataclass(frozen=True)
class Coded:
    """A parsed column: row ``i`` holds ``values[codes[i]]``, one value per distinct cell.

    ``values`` is float64, int64 or datetime64[ns], or object for text
    (``None`` = missing), so a ten-million-row column costs its codes.
    """

    codes: np.ndarray
    values: np.ndarray

    @classmethod
    def of(cls, values: pd.Series | np.ndarray) -> Coded:
        """Any column factorised (missing values kept as a value of their own)."""
        codes, uniques = pd.factorize(values, use_na_sentinel=False)
        return cls(smallest_codes(codes, len(uniques)), np.asarray(uniques))

    def rows(self, mask: np.ndarray) -> np.ndarray | pd.Series:
        """The values of the rows in boolean ``mask``: an array, or pandas' string column for text."""
        codes = self.codes[mask]
        return arrow_strings(codes, self.values) if self.values.dtype == object else self.values[codes]

    def used(self, mask: np.ndarray | None = None) -> np.ndarray:
        """The distinct values that occur on the rows in ``mask`` (every row when ``None``), in code order."""
        codes = self.codes if mask is None else self.codes[mask]
        return self.values[np.flatnonzero(np.bincount(codes.astype(np.int64), minlength=len(self.values)))]

    def relabel(self, values: np.ndarray) -> Coded:
        """The same codes into other values (one per distinct value): a renamed column costs nothing."""
        return Coded(self.codes, np.asarray(values))

    def day(self) -> Coded:
        """Datetimes truncated to their day (midnight)."""
        return Coded(self.codes, self.values.astype("datetime64[D]").astype("datetime64[ns]"))


def arrow_strings(indices: np.ndarray, dictionary: list[str | None] | np.ndarray) -> pd.Series:
    """``dictionary[indices]`` (index -1 = missing) as pandas' string column.

    Going through an Arrow dictionary avoids converting every row's Python
    string: pandas 3 gets its Arrow-backed ``str`` column directly.
    """
    positions = pa.array(indices.astype(np.int32), mask=indices < 0)
    return pa.DictionaryArray.from_arrays(positions, pa.array(dictionary, type=pa.string())).cast(pa.string()).to_pandas()


def _strings(values: np.ndarray) -> pd.Series:
    """Text values (None or NA = missing) as pandas' string column, via their distinct values."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return arrow_strings(codes, np.asarray(uniques, dtype=object))


class CodedTable:
    """The rows of a table as coded columns, only the ``accepted`` ones counting; its DataFrame built on demand.

    Parameters
    ----------
    columns:
        Output columns in order, each :class:`Coded` or one value per input
        row (text as an object array, ``None`` = missing).
    accepted:
        Boolean, one per input row: the rows the table holds.
    source_row:
        The spreadsheet row of each input row, an array or a pandas Index
        (a file's ``RangeIndex`` is kept as it is); ``None``: the table has
        no ``source_row`` column.

    ``columns`` and ``accepted`` are what
    :func:`~backpain_analysis.panel.weekly_panel` reads.
    """

    def __init__(self, columns: dict[str, Coded | np.ndarray], accepted: np.ndarray, source_row: np.ndarray | pd.Index | None = None) -> None:
        self.columns = dict(columns)
        self.accepted = np.asarray(accepted, dtype=bool)
        self.source_row = None if source_row is None else source_row if isinstance(source_row, pd.Index) else np.asarray(source_row, dtype=np.int64)

    @classmethod
    def of_frame(cls, frame: pd.DataFrame) -> CodedTable:
        """A DataFrame's columns, each factorised (``source_row`` kept as the row numbers when present)."""
        columns = {name: Coded.of(frame[name]) for name in frame.columns if name != "source_row"}
        source_row = frame["source_row"].to_numpy(dtype=np.int64) if "source_row" in frame.columns else None
        return cls(columns, np.ones(len(frame), dtype=bool), source_row)

    def __len__(self) -> int:
        """Rows held (accepted)."""
        return int(self.accepted.sum())

    def with_column(self, name: str, column: Coded) -> CodedTable:
        """A copy with ``name`` replaced by ``column`` (same rows)."""
        return CodedTable(self.columns | {name: column}, self.accepted, self.source_row)

    def frame(self) -> pd.DataFrame:
        """The accepted rows as a DataFrame (docs/architecture.md): text as pandas' string columns."""
        kept = {}
        for name, column in self.columns.items():
            if isinstance(column, Coded):
                kept[name] = column.rows(self.accepted)
            else:
                values = np.asarray(column)[self.accepted]
                kept[name] = _strings(values) if values.dtype == object else values
        if self.source_row is not None:
            kept["source_row"] = np.asarray(self.source_row[self.accepted], dtype=np.int64)
        return pd.DataFrame(kept)
