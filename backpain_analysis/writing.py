"""Writing tables atomically, so a failed write never leaves half a file, and safely for spreadsheets.

A CSV written for people (the rejected ledger, the panel, a report's tables)
is opened in a spreadsheet, where a cell such as ``=HYPERLINK(...)``,
``+cmd|...``, ``-2+3`` or ``@SUM(...)`` is a formula. As OWASP's "CSV
Injection" page recommends, :func:`write_table` writes every text cell (and
column name) that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return with a leading apostrophe (``'=HYPERLINK(...)``), which spreadsheets
show as text. Numbers are never touched, nor text that is a plain number
(``-3``, ``+1.5e3``): they cannot run anything. Parquet files are written as
they are.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import pandas as pd

from backpain_analysis.errors import DataError

FORMULA_START: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula (OWASP)."""
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def neutralize_formula(text: str) -> str:
    """``text`` with a leading apostrophe when a spreadsheet would read it as a formula (a plain number stays)."""
    if text.startswith(FORMULA_START) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def neutralize_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells and column names cannot run as spreadsheet formulas.

    Each distinct text value is checked once; numeric, boolean and date
    columns are returned as they are.
    """
    columns = {}
    for position, name in enumerate(frame.columns):
        column = frame.iloc[:, position]
        if column.dtype == object or pd.api.types.is_string_dtype(column.dtype) or isinstance(column.dtype, pd.CategoricalDtype):
            uniques = pd.unique(column.dropna().astype(object))
            unsafe = {v: neutralize_formula(v) for v in uniques if isinstance(v, str) and neutralize_formula(v) != v}
            if unsafe:
                column = column.astype(object).replace(unsafe)
        columns[neutralize_formula(name) if isinstance(name, str) else name] = column
    out = pd.DataFrame(columns, index=frame.index)
    if len(out.columns) != len(frame.columns):
        raise DataError("two column names differ only by a leading apostrophe: rename one")
    return out


def _text_values(frame: pd.DataFrame) -> set[str]:
    """Every distinct text cell and column name of ``frame``."""
    values = {name for name in frame.columns if isinstance(name, str)}
    for position in range(frame.shape[1]):
        column = frame.iloc[:, position]
        if column.dtype == object or pd.api.types.is_string_dtype(column.dtype) or isinstance(column.dtype, pd.CategoricalDtype):
            values |= {v for v in pd.unique(column.dropna().astype(object)) if isinstance(v, str)}
    return values


def _umask() -> int:
    """The process's file-creation mask (read by setting it and putting it back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_table(frame: pd.DataFrame, path: str | Path, *, neutralize: bool = True) -> Path:
    """Write ``frame`` to ``path`` (.csv or .parquet by suffix), atomically.

    The table is written to a temporary file beside ``path`` and renamed into
    place, so readers see either the old file or the whole new one. The file
    gets the permissions an ordinary ``open`` would give it (0666 less the
    umask), not ``mkstemp``'s owner-only 0600. A CSV's text cells are
    neutralised against formula injection (:func:`neutralize_formulas`)
    unless ``neutralize=False`` (for data files a program reads back).

    Raises :class:`DataError` for a wrong suffix, a missing folder or a folder
    at ``path``; ``OSError`` (disk full, read-only, no permission: the
    environment, not the data) passes through with the temporary file removed.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in {".csv", ".parquet"}:
        raise DataError(f"cannot write {path}: use a .csv or .parquet file name")
    if not path.parent.exists():
        raise DataError(f"cannot write {path}: folder {path.parent} does not exist")
    if path.is_dir():
        raise DataError(f"cannot write {path}: it is a folder; give a file name such as {path / ('table' + suffix)}")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    os.close(fd)
    try:
        if suffix == ".csv":
            # pandas quotes a cell holding a line feed but not one holding a bare carriage return: end lines
            # with CR LF then (RFC 4180), so such a cell is quoted and reads back as one cell
            crlf = any("\r" in value for value in _text_values(frame))
            (neutralize_formulas(frame) if neutralize else frame).to_csv(tmp, index=False, lineterminator="\r\n" if crlf else "\n")
        else:
            frame.to_parquet(tmp, index=False)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path
