"""Dataset files -> raw frames of strings (CONTRACT section 1).

Reading changes nothing and guesses no types: every cell arrives as the text
the file holds (blank cells as ``""``), so the rejected ledger can show values
verbatim. Parsing and row rules live in :mod:`backpain_analysis.loading`.

Rules
-----
- A table is ``NAME.csv``, ``NAME.parquet`` or ``NAME.xlsx`` (first sheet) in
  the folder, the name and suffix matched case-insensitively; two files for
  one table are an error naming both.
- Headers: surrounding spaces and a byte-order mark are ignored and names are
  lower-cased; two columns with the same normalised name are an error.
  Columns that identify a person (:data:`contract.IDENTIFYING_COLUMNS`) are
  dropped here and never reach a frame. A blank header becomes
  ``unnamed_<position>`` (and is dropped when its column is blank too: the
  trace of a trailing delimiter).
- Rows: the frame's index is the spreadsheet row number (header = 1, first
  data row = 2). Rows whose cells are all empty are not data (a trailing
  blank line, an empty spreadsheet row): they are skipped and not counted,
  and the rows after them keep their numbers. A row of spaces is data (and
  is rejected by the loader for its blank key).
- CSV text encoding: UTF-8 with or without byte-order mark, or UTF-16 with
  its byte-order mark. A file that is not valid UTF-8 is decoded as
  Windows-1252 (what Excel's plain "CSV" export writes on Western Windows)
  when every byte is defined there and no control character appears, with a
  warning; anything else is refused with a one-line message naming the file.
- CSV delimiter: a comma, unless the header line has none and has semicolons
  (European Excel) or tabs.
- Speed: CSV text is parsed by pyarrow's multi-threaded reader; files it
  cannot read exactly as above (empty lines, ragged rows, UTF-16) go through
  pandas' parser, which keeps empty lines and names the line of a ragged row.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from backpain_analysis.contract import IDENTIFYING_COLUMNS, REQUIRED_COLUMNS, TABLES
from backpain_analysis.errors import DataError

SUFFIXES: tuple[str, ...] = (".csv", ".parquet", ".xlsx")
"""File suffixes a table may have."""

_HINTS = {".xls": "save it as .xlsx or .csv", ".tsv": "rename it to .csv", ".txt": "rename it to .csv"}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_PARSER_LINE = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
_BLANK_FILE = re.compile(rb"[ \t\r\n\x00\xef\xbb\xbf\xff\xfe]*\Z")


class EncodingWarning(UserWarning):
    """A table was read in a fallback encoding (Windows-1252)."""


@dataclass
class RawTable:
    """One table as read: strings only, normalised headers, identifying columns gone.

    Attributes
    ----------
    name:
        Table name (``sessions``, ...).
    path:
        The file read.
    frame:
        All cells as strings (blank = ``""``); index ``source_row`` = the
        spreadsheet row number (header = 1).
    encoding:
        Text encoding used for a CSV (``None`` for Parquet and Excel).
    dropped:
        Identifying columns that were dropped.
    """

    name: str
    path: Path
    frame: pd.DataFrame
    encoding: str | None = None
    dropped: tuple[str, ...] = field(default=())

    @property
    def rows(self) -> int:
        """Rows read (non-blank data rows)."""
        return len(self.frame)


def normalize_header(name: object) -> str:
    """A column name as matched: byte-order marks and surrounding spaces removed, lower case."""
    return str(name).replace("\ufeff", "").strip().lower()


def find_tables(folder: str | Path) -> dict[str, Path]:
    """The file of each contract table present in ``folder``.

    Raises :class:`DataError` when the folder does not exist, a table has two
    files, or a required table has none.
    """
    folder = Path(folder)
    if not folder.exists():
        raise DataError(f"dataset folder {folder} does not exist")
    if not folder.is_dir():
        raise DataError(f"{folder} is not a folder: give the folder that holds sessions.csv and outcomes.csv")
    entries = [p for p in folder.iterdir() if p.is_file()]
    found: dict[str, Path] = {}
    for table, required in TABLES.items():
        files = sorted(p for p in entries if p.stem.lower() == table and p.suffix.lower() in SUFFIXES)
        if len(files) > 1:
            raise DataError(f"table {table} has {len(files)} files, keep one: {', '.join(p.name for p in files)}")
        if files:
            found[table] = files[0]
            continue
        if required:
            other = [p for p in entries if p.stem.lower() == table and p.suffix.lower() in _HINTS]
            hint = f"; found {other[0].name}: {_HINTS[other[0].suffix.lower()]}" if other else ""
            raise DataError(f"{folder} has no {table} table (expected {table}.csv, {table}.parquet or {table}.xlsx){hint}")
    return found


def decode_choice(path: Path, data: bytes) -> str:
    """The text encoding to read a CSV's bytes with (rules in the module docstring).

    Raises :class:`DataError` for an empty file, a binary file or text in an
    encoding that cannot be decoded reliably.
    """
    if _BLANK_FILE.match(data):
        raise DataError(f"{path.name} is empty: it needs at least a header row")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            data.decode("utf-16")
        except UnicodeDecodeError as error:
            raise DataError(f"{path.name} starts with a UTF-16 byte-order mark but is not valid UTF-16 (byte {error.start})") from None
        return "utf-16"
    if data.startswith(b"PK\x03\x04"):
        raise DataError(f"{path.name} is an Excel workbook or zip archive, not CSV text: rename it to {path.stem}.xlsx")
    if data.startswith(b"PAR1"):
        raise DataError(f"{path.name} is a Parquet file, not CSV text: rename it to {path.stem}.parquet")
    if b"\x00" in data:
        raise DataError(f"{path.name} is not a text file (it contains NUL bytes): export the table as CSV UTF-8")
    try:
        data.decode("utf-8")
        return "utf-8-sig"
    except UnicodeDecodeError as error:
        utf8_error = error
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        text = None
    if text is None or _CONTROL.search(text):
        raise DataError(
            f"{path.name} is neither UTF-8 nor Windows-1252 text (byte 0x{data[utf8_error.start]:02x} at offset "
            f"{utf8_error.start}): save it as 'CSV UTF-8'"
        )
    warnings.warn(f"{path.name} is not UTF-8; read it as Windows-1252 (Excel's CSV export)", EncodingWarning, stacklevel=2)
    return "cp1252"


def _delimiter(first_line: str) -> str:
    if "," in first_line:
        return ","
    if ";" in first_line:
        return ";"
    return "\t" if "\t" in first_line else ","


def _grid_with_pyarrow(data: bytes, encoding: str, delimiter: str, n_fields: int) -> pd.DataFrame | None:
    """Fast path: every record as strings with pyarrow's multi-threaded reader.

    Returns ``None`` (use :func:`_grid_with_pandas`) when the file could hold
    empty lines (pyarrow skips them, which would shift row numbers), is
    UTF-16, or is anything pyarrow refuses (ragged rows, ...).
    """
    if encoding == "utf-16" or data.startswith((b"\n", b"\r")) or b"\n\n" in data or b"\n\r\n" in data:
        return None
    names = [f"f{i}" for i in range(n_fields)]
    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(column_names=names, encoding="utf8" if encoding == "utf-8-sig" else encoding),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False, quoted_strings_can_be_null=False
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, UnicodeDecodeError):
        return None
    grid = table.to_pandas()
    grid.columns = range(n_fields)
    if len(grid):
        grid.iloc[0, 0] = str(grid.iloc[0, 0]).lstrip("\ufeff")
    return grid


def _grid_with_pandas(path: Path, data: bytes, encoding: str, delimiter: str) -> pd.DataFrame:
    """Every record as strings with pandas' C parser, empty lines kept as rows."""
    try:
        return pd.read_csv(
            io.BytesIO(data),
            encoding=encoding,
            sep=delimiter,
            header=None,
            dtype=str,
            na_filter=False,
            skip_blank_lines=False,
            quotechar='"',
        )
    except pd.errors.ParserError as error:
        match = _PARSER_LINE.search(str(error))
        if match:
            expected, line, saw = match.groups()
            raise DataError(
                f"{path.name} line {line} has {saw} fields but the header has {expected}: quote values that contain '{delimiter}'"
            ) from None
        raise DataError(f"{path.name} is not a well-formed CSV file ({str(error).splitlines()[0]})") from None
    except (UnicodeDecodeError, ValueError) as error:
        raise DataError(f"{path.name} could not be read as CSV ({str(error).splitlines()[0]})") from None


def _read_csv(path: Path) -> tuple[pd.DataFrame, str]:
    data = path.read_bytes()
    encoding = decode_choice(path, data)
    head = data[:65536].decode(encoding, errors="ignore").lstrip("\ufeff")
    first_line = head.splitlines()[0] if head.strip() else ""
    delimiter = _delimiter(first_line)
    n_fields = len(next(csv.reader([first_line], delimiter=delimiter), [""]))
    grid = _grid_with_pyarrow(data, encoding, delimiter, n_fields)
    return (grid if grid is not None else _grid_with_pandas(path, data, encoding, delimiter)), encoding


def _as_text(column: pd.Series) -> np.ndarray:
    """A typed column as strings, nulls as ``""``; each distinct value converted once."""
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    if isinstance(uniques, pd.DatetimeIndex):
        text = np.asarray(uniques.astype(str), dtype=object)
    else:
        text = np.array([str(u) for u in uniques], dtype=object)
    return np.append(text, "")[codes]


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        table = pd.read_parquet(path)
    except Exception as error:  # pyarrow raises many types for a damaged file
        raise DataError(f"{path.name} could not be read as Parquet ({type(error).__name__}: {str(error).splitlines()[0]})") from None
    header = pd.DataFrame([list(table.columns)], columns=range(table.shape[1]))
    try:
        body = pd.DataFrame({i: _as_text(table.iloc[:, i]) for i in range(table.shape[1])}, index=range(1, len(table) + 1))
    except TypeError:  # lists, dicts or arrays in a cell cannot be factorised
        raise DataError(f"{path.name} has a column of lists or records: flatten it to one value per cell") from None
    return pd.concat([header.astype(str), body.astype(str)], ignore_index=True)


def _read_excel(path: Path) -> pd.DataFrame:
    try:
        grid = pd.read_excel(path, sheet_name=0, header=None, dtype=str, na_filter=False, engine="openpyxl")
    except Exception as error:  # openpyxl and zipfile raise many types for a damaged file
        raise DataError(f"{path.name} could not be read as an Excel workbook ({type(error).__name__}: {str(error).splitlines()[0]})") from None
    return grid


def read_table(name: str, path: str | Path) -> RawTable:
    """Read one table file into strings (rules in the module docstring).

    Raises :class:`DataError` when the file cannot be read, has no header,
    has duplicate column names after normalisation, or lacks a column that
    :data:`contract.REQUIRED_COLUMNS` requires for table ``name``.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    encoding = None
    if suffix == ".csv":
        grid, encoding = _read_csv(path)
    elif suffix == ".parquet":
        grid = _read_parquet(path)
    elif suffix == ".xlsx":
        grid = _read_excel(path)
    else:
        raise DataError(f"{path.name}: a table must be .csv, .parquet or .xlsx")
    if grid.shape[0] == 0 or grid.shape[1] == 0:
        raise DataError(f"{path.name} is empty: it needs at least a header row")
    header = [normalize_header(h) for h in grid.iloc[0]]
    frame = grid.iloc[1:].astype(str)
    frame.index = pd.RangeIndex(2, len(grid) + 1, name="source_row")
    nonblank = frame.ne("").any(axis=1)  # before any column is dropped: a row holding only an e-mail is data
    blank_header = [i for i, h in enumerate(header) if h == ""]
    keep = [i for i in range(len(header)) if i not in blank_header or (frame.iloc[:, i].str.strip() != "").any()]
    header = [h or f"unnamed_{i + 1}" for i, h in enumerate(header)]
    frame = frame.iloc[:, keep]
    frame.columns = [header[i] for i in keep]
    seen: dict[str, int] = {}
    for position, column in enumerate(frame.columns):
        if column in seen:
            raise DataError(f"{path.name} has two columns named {column!r} (columns {seen[column] + 1} and {position + 1})")
        seen[column] = position
    missing = [c for c in REQUIRED_COLUMNS.get(name, ()) if c not in seen]
    if missing:
        listed = ", ".join(repr(c) for c in missing)
        raise DataError(f"{path.name} lacks required column {listed} (its columns: {', '.join(frame.columns)})")
    dropped = tuple(c for c in frame.columns if c in IDENTIFYING_COLUMNS)
    frame = frame.drop(columns=list(dropped))
    frame = frame if nonblank.all() else frame[nonblank]
    return RawTable(name=name, path=path, frame=frame, encoding=encoding, dropped=dropped)


def read_dataset(folder: str | Path) -> dict[str, RawTable]:
    """Read every contract table present in ``folder`` (see :func:`find_tables`)."""
    return {name: read_table(name, path) for name, path in find_tables(folder).items()}
