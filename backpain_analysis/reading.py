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
  Columns that identify a person (:func:`contract.is_identifying`: names,
  e-mail, phone, address, birth date, matched ignoring case, spaces,
  hyphens, underscores) are dropped here, in every table, and never reach a
  frame; so are free-text columns of the ``clients`` table
  (:func:`contract.is_free_text`: notes, comments, remarks). A blank header becomes
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
- Speed and memory: CSV text is streamed through pyarrow's reader
  :data:`CSV_BLOCK_BYTES` at a time, each block's columns kept as codes into
  the block's distinct strings (the file is never held whole; an empty line
  is a row of blank cells, as in pandas); a file without quote characters is
  cut at line ends into :data:`CSV_THREADS` parts streamed at once (the
  streaming reader itself is single-threaded); files it cannot read exactly as
  above (ragged rows, UTF-16, a first line that is empty) go through pandas'
  parser, which names the line of a ragged row.
  Parquet is read column by column (:data:`PARQUET_THREADS` at once, each
  decoded on one thread unless cores are to spare) and each
  column dictionary-encoded by Arrow, so only its distinct values are turned into text (as pandas prints
  them; integers stay integers even in a column with blanks). A number or
  date-time column whose cells come in runs (a log's date-times: one per
  session, repeated on each of its rows) has only each run's first cell hashed. Columns are held as
  codes into their distinct strings (pandas ``Categorical``), which
  :func:`read_table` turns into plain strings unless asked for the codes
  (``categorical=True``, what the loader uses: ten million rows then take
  tens of megabytes, not gigabytes).
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import os
import re
import warnings
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from backpain_analysis.coded import smallest_codes
from backpain_analysis.contract import REQUIRED_COLUMNS, TABLES, is_free_text, is_identifying
from backpain_analysis.errors import DataError

SUFFIXES: tuple[str, ...] = (".csv", ".parquet", ".xlsx")
"""File suffixes a table may have."""
PARQUET_THREADS: int = 2
"""Parquet columns read at once (each in flight holds one decoded column: ~0.1 GB per 10 million rows)."""
_ARROW_THREADS: bool = (os.cpu_count() or 1) > PARQUET_THREADS
"""Let Arrow decode one column with its own threads too? Only with cores to spare: on two cores, two columns at once plus
Arrow's pool spent up to twice the CPU (10 M rows: ~3.6 s against ~1.8 s decoding column by column)."""

CSV_THREADS: int = 2
"""Parts of a CSV file without quote characters parsed at once (pyarrow's streaming reader uses one thread)."""
CSV_BLOCK_BYTES: int = 2**20
"""Bytes of CSV text read and parsed at a time (a large file is streamed, never held whole; pyarrow reads a few blocks ahead)."""

MAX_COLUMNS: int = 1000
"""Most columns a table may have (a header wider than this is refused before its rows are read)."""
MAX_XLSX_CELLS: int = 20_000_000
"""Most cells (rows x columns of the used range) of a workbook's first sheet."""
MAX_XLSX_BYTES: int = 512 * 2**20
"""Most bytes a workbook may expand to (all its XML parts together)."""
MAX_XLSX_RATIO: int = 100
"""Compression ratio above which a workbook larger than :data:`MAX_XLSX_RATIO_FROM` is a zip bomb (real ones: 5-20x)."""
MAX_XLSX_RATIO_FROM: int = 16 * 2**20
_CELL_REF = re.compile(rb'<(?:\w+:)?c\b[^>]*?\br="([A-Z]{1,3})([0-9]{1,7})"')
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\b[^>]*?\bref="([A-Z]{1,3})?([0-9]{1,7})?(?::([A-Z]{1,3})([0-9]{1,7}))?"')

_HINTS = {".xls": "save it as .xlsx or .csv", ".tsv": "rename it to .csv", ".txt": "rename it to .csv"}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_PARSER_LINE = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
_BLANK_FILE = re.compile(rb"[ \t\r\n\x00\xef\xbb\xbf\xff\xfe]*\Z")
_NOT_PLAIN_TEXT = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, b"PK\x03\x04", b"PAR1")
"""How files start that :func:`decode_choice` must judge whole (UTF-16, a workbook, Parquet)."""


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
        All cells as strings (blank = ``""``), or as a ``Categorical`` of
        strings when read with ``categorical=True``; index ``source_row`` =
        the spreadsheet row number (header = 1).
    encoding:
        Text encoding used for a CSV (``None`` for Parquet and Excel).
    dropped:
        Identifying (and, for ``clients``, free-text) columns that were dropped.
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


def find_tables(folder: str | Path, *, folders: bool = False) -> dict[str, Path]:
    """The file of each contract table present in ``folder``.

    With ``folders=True`` a table may instead be a subfolder ``NAME/`` (of
    Parquet parts, CONTRACT section 1; :mod:`backpain_analysis.partitions`
    reads them), returned as that folder.

    Raises :class:`DataError` when the folder does not exist, a table has two
    files (or a file and a folder), or a required table has none.
    """
    folder = Path(folder)
    if not folder.exists():
        raise DataError(f"dataset folder {folder} does not exist")
    if not folder.is_dir():
        raise DataError(f"{folder} is not a folder: give the folder that holds sessions.csv and outcomes.csv")
    try:
        entries = list(folder.iterdir())
        files = [p for p in entries if p.is_file()]
        subfolders = {p.name.lower(): p for p in entries if folders and p.is_dir() and p.name.lower() in TABLES}
    except OSError as error:
        raise DataError(f"cannot read folder {folder}: {error.strerror}") from None
    found: dict[str, Path] = {}
    for table, required in TABLES.items():
        matched = sorted(p for p in files if p.stem.lower() == table and p.suffix.lower() in SUFFIXES)
        if len(matched) > 1:
            raise DataError(f"table {table} has {len(matched)} files, keep one: {', '.join(p.name for p in matched)}")
        if matched and table in subfolders:
            raise DataError(f"table {table} is both a file ({matched[0].name}) and a folder ({subfolders[table].name}/): keep one")
        if matched or table in subfolders:
            found[table] = matched[0] if matched else subfolders[table]
            continue
        if required:
            other = [p for p in files if p.stem.lower() == table and p.suffix.lower() in _HINTS]
            hint = f"; found {other[0].name}: {_HINTS[other[0].suffix.lower()]}" if other else ""
            forms = [f"{table}.csv", f"{table}.parquet", f"{table}.xlsx", *([f"a folder {table}/ of Parquet files"] if folders else [])]
            raise DataError(f"{folder} has no {table} table (expected {', '.join(forms[:-1])} or {forms[-1]}){hint}")
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
    if _is_utf8(data):
        return "utf-8-sig"
    try:
        data.decode("utf-8")
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


def _is_utf8(data: bytes, block: int = 1 << 24) -> bool:
    """Is ``data`` valid UTF-8? Checked a block at a time, so no copy of a large file is ever decoded at once."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    try:
        for start in range(0, len(data), block):
            decoder.decode(view[start : start + block])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _delimiter(first_line: str) -> str:
    if "," in first_line:
        return ","
    if ";" in first_line:
        return ";"
    return "\t" if "\t" in first_line else ","


def _inspect_csv(path: Path) -> tuple[str, bytes, bool]:
    """A CSV file's encoding (:func:`decode_choice`'s verdict), its first :data:`CSV_BLOCK_BYTES`, and whether it holds a quote character.

    Clean UTF-8 (no NUL byte, no magic number of another format) is
    recognised a block at a time, so a large file is never held whole; any
    other file is judged on its whole bytes by :func:`decode_choice` (which
    raises or warns).
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as file:
        first = block = file.read(CSV_BLOCK_BYTES)
        clean = not first.startswith(_NOT_PLAIN_TEXT) and not _BLANK_FILE.match(first)
        quoted = False
        try:
            while clean and block:
                if not block.isascii() or decoder.getstate()[0]:  # ASCII with no character pending is UTF-8
                    decoder.decode(block)
                clean = b"\x00" not in block
                quoted = quoted or b'"' in block
                block = file.read(CSV_BLOCK_BYTES)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            clean = False
    if clean:
        return "utf-8-sig", first, quoted
    data = path.read_bytes()
    return decode_choice(path, data), data[:CSV_BLOCK_BYTES], b'"' in data


def _grid_with_pyarrow(source: Path | bytes, encoding: str, delimiter: str, n_fields: int, parts: int = 1) -> pd.DataFrame | None:
    """Fast path: every record with pyarrow's streaming reader, as Categorical columns of strings.

    The text is parsed :data:`CSV_BLOCK_BYTES` at a time; each block's
    columns are kept only as small codes into that block's distinct strings,
    which are united into one set per column at the end, so memory holds the
    codes (1-4 bytes a cell), never the file. An empty line is a row of
    blank cells, as in :func:`_grid_with_pandas`. With ``parts`` > 1 the
    text is cut at line ends into that many byte ranges, parsed at once (the
    streaming reader is single-threaded): only for text without quote
    characters, where every line end ends a record. Returns ``None`` (use
    :func:`_grid_with_pandas`) for anything pyarrow refuses (ragged rows,
    ...). UTF-16 text and files starting with an empty line (pandas refuses
    those) must not come here.
    """
    names = [f"f{i}" for i in range(n_fields)]
    options = {
        "read_options": pacsv.ReadOptions(column_names=names, encoding="utf8" if encoding == "utf-8-sig" else encoding, block_size=CSV_BLOCK_BYTES),
        "parse_options": pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True, ignore_empty_lines=False),
        "convert_options": pacsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.dictionary(pa.int32(), pa.string())), strings_can_be_null=False, quoted_strings_can_be_null=False
        ),
    }
    cuts = _cuts(source, parts)
    whole = pa.py_buffer(source) if isinstance(source, bytes) else pa.OSFile(str(source))
    streams = [
        pa.BufferReader(whole.slice(a, b - a)) if isinstance(whole, pa.Buffer) else whole.get_stream(a, b - a)
        for a, b in itertools.pairwise(cuts)
    ]
    try:
        with ThreadPoolExecutor(max(len(streams), 1)) as pool:
            per_part = list(pool.map(partial(_blocks, options=options), streams))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, UnicodeDecodeError):
        return None
    finally:
        if not isinstance(whole, pa.Buffer):
            whole.close()
    pieces = [[block for part in per_part for block in part[i]] for i in range(n_fields)]
    del per_part
    rows = sum(len(codes) for codes, _ in pieces[0]) if pieces else 0
    columns = {}
    for i, piece in enumerate(pieces):
        columns[i] = _united(piece, rows)
        pieces[i] = []  # each column's blocks go as soon as it is united
    pa.default_memory_pool().release_unused()
    return pd.DataFrame(columns, index=pd.RangeIndex(rows))


def _cuts(source: Path | bytes, parts: int) -> list[int]:
    """Byte offsets ``0 < ... < size`` cutting ``source`` into up to ``parts`` ranges, each cut just after a line feed."""
    size = len(source) if isinstance(source, bytes) else source.stat().st_size
    cuts = [0]
    with io.BytesIO(source) if isinstance(source, bytes) else source.open("rb") as file:
        for i in range(1, parts):
            file.seek(max(size * i // parts, cuts[-1]))
            window = file.read(CSV_BLOCK_BYTES)
            found = window.find(b"\n")
            if found >= 0 and file.tell() - len(window) + found + 1 < size:
                cuts.append(file.tell() - len(window) + found + 1)
    return [*cuts, size]


def _blocks(stream: pa.NativeFile, options: dict[str, object]) -> list[list[tuple[np.ndarray, pa.Array]]]:
    """Per column, each block's codes (smallest integer type) and distinct strings, as pyarrow streams ``stream``."""
    with stream:
        reader = pacsv.open_csv(stream, **options)
        pieces: list[list[tuple[np.ndarray, pa.Array]]] = [[] for _ in reader.schema.names]
        for batch in reader:  # pyarrow has dropped a UTF-8 byte-order mark
            for piece, column in zip(pieces, batch.columns, strict=True):
                piece.append((smallest_codes(column.indices.to_numpy(), len(column.dictionary)), column.dictionary))
    return pieces


def _united(blocks: list[tuple[np.ndarray, pa.Array]], rows: int) -> pd.Categorical:
    """One column from its blocks, each codes into the block's own distinct strings: codes into all of them."""
    if not blocks:
        return pd.Categorical.from_codes(np.array([], dtype=np.int8), categories=pd.Index([], dtype=object))
    encoded = pc.dictionary_encode(pa.concat_arrays([dictionary for _, dictionary in blocks]))
    mapping, distinct = encoded.indices.to_numpy(), encoded.dictionary
    codes = np.empty(rows, dtype=smallest_codes(np.empty(0, dtype=np.int32), len(distinct)).dtype)
    row = offset = 0
    for local, dictionary in blocks:
        codes[row : row + len(local)] = mapping[offset : offset + len(dictionary)][local]
        row, offset = row + len(local), offset + len(dictionary)
    return pd.Categorical.from_codes(codes, categories=pd.Index(distinct.to_pylist(), dtype=object))


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
    encoding, first, quoted = _inspect_csv(path)
    head = first[:65536].decode(encoding, errors="ignore").lstrip("\ufeff")
    first_line = head.splitlines()[0] if head.strip() else ""
    delimiter = _delimiter(first_line)
    n_fields = len(next(csv.reader([first_line], delimiter=delimiter), [""]))
    if n_fields > MAX_COLUMNS:
        raise DataError(f"{path.name} has {n_fields:,} columns; a table may have at most {MAX_COLUMNS:,}: keep the columns the analysis needs")
    exact_only = encoding == "utf-16" or first.startswith((b"\n", b"\r"))
    grid = None if exact_only else _grid_with_pyarrow(path, encoding, delimiter, n_fields, 1 if quoted else CSV_THREADS)
    return (grid if grid is not None else _grid_with_pandas(path, path.read_bytes(), encoding, delimiter)), encoding


def _texts(values: pd.Series) -> np.ndarray:
    """Distinct typed values as the text pandas prints for them; missing ones (None, NaN, NaT) as ``""``."""
    if isinstance(values.dtype, pd.DatetimeTZDtype) or values.dtype.kind == "M":
        text = np.asarray(pd.DatetimeIndex(values).astype(str), dtype=object)
    else:
        text = np.array([str(v) for v in values], dtype=object)
    text[pd.isna(values).to_numpy()] = ""
    return text


def _categorical(codes: np.ndarray, texts: np.ndarray, used: np.ndarray | None = None) -> pd.Categorical:
    """Cells ``texts[codes]`` as a Categorical of the distinct strings used.

    Texts that repeat (two typed values printing alike, a blank and a
    missing cell) are merged and unused ones dropped; codes are kept as they
    are when there is nothing to merge or drop (the usual case). ``used``
    (which texts occur) is counted when not given.
    """
    texts = np.asarray(texts, dtype=object)
    used = np.bincount(codes, minlength=len(texts)) > 0 if used is None else used
    categories = pd.Index(texts, dtype=object)
    if used.all() and categories.is_unique:  # the Index keeps the answer: the Categorical does not hash the texts again
        return pd.Categorical.from_codes(smallest_codes(codes, len(texts)), categories=categories)
    merged, distinct = pd.factorize(texts[used])
    lookup = np.full(len(texts), -1, dtype=np.int32)
    lookup[used] = merged
    return pd.Categorical.from_codes(smallest_codes(lookup[codes], len(distinct)), categories=pd.Index(np.asarray(distinct, dtype=object), dtype=object))


def _indices(chunk: pa.DictionaryArray, blank: int) -> np.ndarray:
    """A dictionary chunk's indices as numpy, missing cells pointing at ``blank`` (read from Arrow's buffers: ``fill_null`` was slower)."""
    indices = chunk.indices
    if not indices.null_count:
        return indices.to_numpy()
    dtype = np.dtype(indices.type.to_pandas_dtype())
    values = np.frombuffer(indices.buffers()[1], dtype=dtype, count=indices.offset + len(indices))[indices.offset :]
    return np.where(np.asarray(indices.is_null()), dtype.type(blank), values)


RUN_SAMPLE_ROWS: int = 65_536
"""Rows of a column's first chunk looked at to decide whether its cells come in runs."""
RUN_SHARE: float = 0.5
"""A column whose runs of equal cells number at most this share of its rows is encoded run by run."""


def _run_starts(chunk: pa.Array, rows: int | None = None) -> np.ndarray:
    """Where each run of equal cells (same bytes, both present or both missing) begins, in the first ``rows`` cells.

    Two missing cells with different bytes underneath start two runs: harmless,
    each run still holds one value.
    """
    n = len(chunk) if rows is None else min(rows, len(chunk))
    if not n:  # an empty chunk may have no value buffer at all
        return np.array([], dtype=np.int64)
    width = np.dtype(f"u{chunk.type.bit_width // 8}")
    values = np.frombuffer(chunk.buffers()[1], dtype=width, count=chunk.offset + n)[chunk.offset :]
    change = values[1:] != values[:-1]
    if chunk.null_count:
        valid = np.asarray(chunk.slice(0, n).is_valid())
        change |= valid[1:] != valid[:-1]
    return np.concatenate([[0], np.flatnonzero(change) + 1])


def _runs(column: pa.ChunkedArray) -> list[np.ndarray] | None:
    """Each chunk's run starts, when the column is fixed-width and its cells come in runs (a log's date-times: one per session)."""
    fixed = pa.types.is_integer(column.type) or pa.types.is_floating(column.type) or pa.types.is_temporal(column.type)
    if not fixed or not len(column) or column.type.bit_width not in (8, 16, 32, 64):
        return None
    sample = next(chunk for chunk in column.chunks if len(chunk))
    if len(_run_starts(sample, RUN_SAMPLE_ROWS)) > RUN_SHARE * min(RUN_SAMPLE_ROWS, len(sample)):
        return None
    starts = [_run_starts(chunk) for chunk in column.chunks]
    return starts if sum(map(len, starts)) <= RUN_SHARE * len(column) else None


def _encoded_runs(column: pa.ChunkedArray, starts: list[np.ndarray]) -> tuple[np.ndarray, pa.Array, bool]:
    """Codes of every cell, hashing only the first cell of each run (``starts``: per chunk), the dictionary, and whether a cell is missing."""
    pairs = list(zip(column.chunks, starts, strict=True))
    heads = pc.dictionary_encode(pa.concat_arrays([chunk.take(pa.array(chunk_starts)) for chunk, chunk_starts in pairs]))
    lengths = np.concatenate([np.diff(chunk_starts, append=len(chunk)) for chunk, chunk_starts in pairs])
    blank = len(heads.dictionary)
    return np.repeat(smallest_codes(_indices(heads, blank), blank + 1), lengths), heads.dictionary, heads.null_count > 0


def _one_dictionary(column: pa.ChunkedArray) -> bool:
    """Do all chunks have equal dictionaries (as Arrow's own encoder leaves them: one for all)? Then they need no unifying.

    Unifying re-hashes every chunk's dictionary: 2.2-2.4 s for the 77 chunks
    ``pq.read_table`` gives a column of 300,000 distinct date-times.
    Dictionaries are compared by content (Arrow's ``Buffer ==``).
    """
    dictionaries = [chunk.dictionary for chunk in column.chunks]
    if not dictionaries:
        return True
    first = dictionaries[0]
    return all(len(d) == len(first) and d.offset == first.offset and d.buffers() == first.buffers() for d in dictionaries[1:])


def _encoded(column: pa.ChunkedArray) -> pd.Categorical:
    """One Parquet column as a Categorical of its cells' text, each distinct value converted once.

    Arrow's dictionary encoding hashes every cell; a column whose cells come
    in runs (:func:`_runs`) has only each run's first cell hashed and its
    code repeated over the run.
    """
    if pa.types.is_dictionary(column.type) and not pa.types.is_string(column.type.value_type) and not pa.types.is_large_string(column.type.value_type):
        column = column.cast(column.type.value_type)  # Arrow unifies a half-float dictionary as raw bits: encode the values ourselves
    starts = None if pa.types.is_dictionary(column.type) else _runs(column)
    if starts is not None:
        codes, dictionary, missing = _encoded_runs(column, starts)
    else:
        if not pa.types.is_dictionary(column.type):
            column = pc.dictionary_encode(column)
        if not _one_dictionary(column):
            column = column.unify_dictionaries()
        dictionary = column.chunk(0).dictionary if column.num_chunks else pa.array([], type=column.type.value_type)
        chunks = [_indices(c, len(dictionary)) for c in column.chunks]
        codes, missing = (np.concatenate(chunks) if chunks else np.array([], dtype=np.int32)), column.null_count > 0
    # missing cells point one past the dictionary, at ""; an encoder's dictionary holds only values present
    used = np.append(np.ones(len(dictionary), dtype=bool), missing)
    return _categorical(codes, np.append(_texts(dictionary.to_pandas()), ""), used)


def _read_parquet_column(path: Path, name: str) -> pd.Categorical:
    column = _encoded(pq.ParquetFile(path).read(columns=[name], use_threads=_ARROW_THREADS).column(0))
    pa.default_memory_pool().release_unused()  # hand the column's Arrow buffers back to the system now
    return column


def _read_parquet(path: Path) -> tuple[list[str], list[pd.Categorical]]:
    """Header and columns of a Parquet file (pandas' saved index columns left out)."""
    try:
        file = pq.ParquetFile(path)
        schema = file.schema_arrow
        index_columns = [c for c in (schema.pandas_metadata or {}).get("index_columns", []) if isinstance(c, str)]
        names = [name for name in schema.names if name not in index_columns]
        if len(names) > MAX_COLUMNS:
            raise DataError(f"{path.name} has {len(names):,} columns; a table may have at most {MAX_COLUMNS:,}: keep the columns the analysis needs")
        if any(pa.types.is_nested(schema.field(name).type) for name in names):
            raise DataError(f"{path.name} has a column of lists or records: flatten it to one value per cell")
        with ThreadPoolExecutor(PARQUET_THREADS) as pool:  # Arrow decodes and encodes without holding the GIL
            columns = list(pool.map(partial(_read_parquet_column, path), names))
    except DataError:
        raise
    except Exception as error:  # pyarrow raises many types for a damaged file
        raise DataError(f"{path.name} could not be read as Parquet ({type(error).__name__}: {str(error).splitlines()[0]})") from None
    return names, columns


def _nonblank(columns: list[pd.Categorical]) -> np.ndarray:
    """Rows with at least one non-empty cell (all of them as soon as one column has no empty cell)."""
    blank_codes = [np.flatnonzero(np.asarray(c.categories == "")) for c in columns]
    nonblank = np.ones(len(columns[0]) if columns else 0, dtype=bool)
    if not columns or any(len(code) == 0 for code in blank_codes):
        return nonblank
    blank = np.flatnonzero(columns[0].codes == blank_codes[0][0])  # the rows blank in the first column, then in each next one
    for column, code in zip(columns[1:], blank_codes[1:], strict=True):
        blank = blank[column.codes[blank] == code[0]]
    nonblank[blank] = False
    return nonblank


def _has_text(column: pd.Categorical) -> bool:
    """Does any cell hold more than spaces?"""
    used = np.unique(column.codes)
    return bool((pd.Index(column.categories[used]).str.strip() != "").any())


def _split(grid: pd.DataFrame) -> tuple[list[str], list[pd.Categorical]]:
    """A grid read without a header (row 0 = the header line) as header texts and Categorical body columns."""
    header, columns = [], []
    for position in range(grid.shape[1]):
        column = grid.iloc[:, position]
        if isinstance(column.dtype, pd.CategoricalDtype):
            codes, texts = column.cat.codes.to_numpy(), np.asarray(column.cat.categories, dtype=object)
        else:
            codes, texts = pd.factorize(column.to_numpy(dtype=object))
        header.append(str(texts[codes[0]]))
        columns.append(_categorical(codes[1:], texts))
    return header, columns


def _column_number(letters: bytes) -> int:
    """Spreadsheet column letters as a 1-based number (``A`` = 1, ``XFD`` = 16384)."""
    number = 0
    for letter in letters:
        number = 26 * number + letter - 64
    return number


def _first_sheet(archive: zipfile.ZipFile) -> str:
    """The archive member holding a workbook's first sheet (what ``read_excel(sheet_name=0)`` reads)."""
    names = set(archive.namelist())
    try:
        workbook = archive.read("xl/workbook.xml")
        rels = archive.read("xl/_rels/workbook.xml.rels")
        rid = re.search(rb"<(?:\w+:)?sheet\b[^>]*?\br:id=\"([^\"]+)\"", workbook).group(1)
        for rel in re.finditer(rb"<(?:\w+:)?Relationship\b[^>]*>", rels):
            if re.search(rb'\bId="' + re.escape(rid) + rb'"', rel.group(0)):
                target = re.search(rb'\bTarget="([^"]+)"', rel.group(0)).group(1).decode()
                member = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
                if member in names:
                    return member
    except (KeyError, AttributeError):
        pass
    sheets = sorted(n for n in names if n.startswith("xl/worksheets/") and n.endswith(".xml"))
    if not sheets:
        raise KeyError("no worksheet")
    return sheets[0]


def check_xlsx(path: Path) -> None:
    """Refuse, before reading it, a workbook too large to read safely (the limits in docs/loading.md).

    Checked from the zip directory and one streaming pass over the first
    sheet's XML (never more than :data:`MAX_XLSX_BYTES` of it): the total
    uncompressed size, a compression ratio that only a zip bomb reaches, and
    the sheet's declared dimension and cell references against
    :data:`MAX_COLUMNS` and :data:`MAX_XLSX_CELLS`. Raises :class:`DataError`
    with one line naming the file and the limit.
    """
    advice = "save the table as CSV or Parquet, or keep only the used rows and columns"
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            expanded = sum(info.file_size for info in infos)
            packed = max(sum(info.compress_size for info in infos), 1)
            if expanded > MAX_XLSX_BYTES or (expanded > MAX_XLSX_RATIO_FROM and expanded / packed > MAX_XLSX_RATIO):
                raise DataError(
                    f"{path.name} expands to {expanded / 2**20:,.0f} MB ({expanded / packed:,.0f} times its size); "
                    f"workbooks are read up to {MAX_XLSX_BYTES // 2**20} MB and {MAX_XLSX_RATIO}x compression: {advice}"
                )
            max_row = max_column = 0
            tail = b""
            with archive.open(_first_sheet(archive)) as sheet:
                while chunk := sheet.read(1 << 20):
                    text = tail + chunk
                    for match in _DIMENSION.finditer(text):
                        last_column, last_row = match.group(3) or match.group(1), match.group(4) or match.group(2)
                        max_column = max(max_column, _column_number(last_column or b""))
                        max_row = max(max_row, int(last_row or 0))
                    for match in _CELL_REF.finditer(text):
                        max_column = max(max_column, _column_number(match.group(1)))
                        max_row = max(max_row, int(match.group(2)))
                    if max_column > MAX_COLUMNS or max_row * max_column > MAX_XLSX_CELLS:
                        raise DataError(
                            f"{path.name}'s first sheet spans {max_row:,} rows x {max_column:,} columns; workbooks are read up to "
                            f"{MAX_COLUMNS:,} columns and {MAX_XLSX_CELLS:,} cells: {advice}"
                        )
                    tail = text[-64:]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, NotImplementedError, RuntimeError, ValueError, EOFError) as error:
        raise DataError(f"{path.name} could not be read as an Excel workbook ({type(error).__name__}: {str(error).splitlines()[0]})") from None


def _read_excel(path: Path) -> pd.DataFrame:
    check_xlsx(path)
    try:
        grid = pd.read_excel(path, sheet_name=0, header=None, dtype=str, na_filter=False, engine="openpyxl")
    except Exception as error:  # openpyxl and zipfile raise many types for a damaged file
        raise DataError(f"{path.name} could not be read as an Excel workbook ({type(error).__name__}: {str(error).splitlines()[0]})") from None
    return grid


def read_table(name: str, path: str | Path, *, categorical: bool = False, required: bool = True) -> RawTable:
    """Read one table file into strings (rules in the module docstring).

    With ``categorical=True`` every column is a pandas ``Categorical`` of the
    same strings (codes into the distinct values: compact for long tables).
    With ``required=False`` the required columns are not checked (a part of
    a partitioned table whose folder names hold some of them,
    :func:`~backpain_analysis.partitions.read_part`).

    Raises :class:`DataError` when the file cannot be read, has no header,
    has duplicate column names after normalisation, or lacks a column that
    :data:`contract.REQUIRED_COLUMNS` requires for table ``name``.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    encoding = None
    try:
        if suffix == ".csv":
            grid, encoding = _read_csv(path)
        elif suffix == ".parquet":
            grid = None
            header, columns = _read_parquet(path)
        elif suffix == ".xlsx":
            grid = _read_excel(path)
        else:
            raise DataError(f"{path.name}: a table must be .csv, .parquet or .xlsx")
    except OSError as error:  # unreadable (permissions), a folder named like a table, gone meanwhile
        raise DataError(f"cannot read {path.name}: {error.strerror or type(error).__name__}") from None
    if grid is not None:
        if grid.shape[0] == 0 or grid.shape[1] == 0:
            raise DataError(f"{path.name} is empty: it needs at least a header row")
        header, columns = _split(grid)
    if not header:
        raise DataError(f"{path.name} is empty: it needs at least a header row")
    header = [normalize_header(h) for h in header]
    frame = pd.DataFrame(dict(enumerate(columns)), index=pd.RangeIndex(2, len(columns[0]) + 2, name="source_row"), copy=False)  # the columns as read, not copies
    nonblank = _nonblank(columns)  # before any column is dropped: a row holding only an e-mail is data
    blank_header = [i for i, h in enumerate(header) if h == ""]
    keep = [i for i in range(len(header)) if i not in blank_header or _has_text(columns[i])]
    header = [h or f"unnamed_{i + 1}" for i, h in enumerate(header)]
    frame = frame.iloc[:, keep]
    frame.columns = [header[i] for i in keep]
    seen: dict[str, int] = {}
    for position, column in enumerate(frame.columns):
        if column in seen:
            raise DataError(f"{path.name} has two columns named {column!r} (columns {seen[column] + 1} and {position + 1})")
        seen[column] = position
    missing = [c for c in REQUIRED_COLUMNS.get(name, ()) if c not in seen] if required else []
    if missing:
        listed = ", ".join(repr(c) for c in missing)
        raise DataError(f"{path.name} lacks required column {listed} (its columns: {', '.join(frame.columns)})")
    dropped = tuple(c for c in frame.columns if c not in REQUIRED_COLUMNS.get(name, ()) and (is_identifying(c) or (name == "clients" and is_free_text(c))))
    frame = frame.drop(columns=list(dropped))
    frame = frame if nonblank.all() else frame[nonblank]
    if not categorical:
        frame = frame.astype(str)
    return RawTable(name=name, path=path, frame=frame, encoding=encoding, dropped=dropped)


def read_dataset(folder: str | Path, *, categorical: bool = False) -> dict[str, RawTable]:
    """Read every contract table present in ``folder`` (see :func:`find_tables` and :func:`read_table`)."""
    return {name: read_table(name, path, categorical=categorical) for name, path in find_tables(folder).items()}
