"""Idempotent, atomic writes of imported rows into a dataset folder's CSV tables.

An import never appends blindly. It removes the rows an earlier import of the
same source put there (which rows: the caller's rule, see
:func:`backpain_analysis.importers.apps.import_export` and
:func:`backpain_analysis.importers.outcome_sheet.import_outcome_sheet`) and
puts its own rows where the first removed row was (at the end when none
was), so importing the same file twice leaves the table byte for byte as it
was. Every other row, other clients' included, keeps its cells, its columns
and its place. Columns are matched as the loader matches them (case and
surrounding spaces ignored); a column the table lacks is added at its end,
blank for the rows already there. The table is written beside itself and
renamed into place (:func:`backpain_analysis.writing.write_table`).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
from filelock import FileLock, Timeout

from backpain_analysis.errors import DataError
from backpain_analysis.importers.source import header_line
from backpain_analysis.reading import SUFFIXES, decode_choice, normalize_header
from backpain_analysis.writing import write_table

LEDGER_FILE = "import_ledger.csv"
"""The import ledger in the dataset folder: export rows (or sheet cells) not imported."""

IMPORT_LEDGER_COLUMNS: tuple[str, ...] = (
    "client_id",
    "file",
    "row",
    "date",
    "exercise",
    "column",
    "value",
    "reason",
    "import_format",
    "import_sha256",
)
"""Columns of :data:`LEDGER_FILE`: ``row`` is the spreadsheet row in ``file`` (header = 1)."""


LOCK_FILE = ".import.lock"
"""Lock file in the dataset folder that serialises imports into it."""

LOCK_TIMEOUT_S = 600.0
"""Longest wait for another import into the same folder to finish."""


@contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Hold the folder's import lock (:data:`LOCK_FILE`, via ``filelock``) around a read-modify-write.

    Every import reads a table, changes it and writes it back (renamed into
    place); two imports into one folder at once would each write back what
    they read, and the later would drop the earlier's rows. With the lock
    they run one after the other, in processes or threads alike.
    """
    try:
        with FileLock(folder / LOCK_FILE, timeout=LOCK_TIMEOUT_S):
            yield
    except Timeout:
        raise DataError(f"another import into {folder} has held {LOCK_FILE} for {LOCK_TIMEOUT_S:.0f} s: try again when it ends") from None


def find_table(folder: Path, name: str) -> Path | None:
    """The file of table ``name`` in ``folder`` (stem and suffix matched case-insensitively), if any.

    Raises :class:`DataError` when ``folder`` is a file or the table has two files.
    """
    if folder.exists() and not folder.is_dir():
        raise DataError(f"{folder} is a file: give a dataset folder")
    if not folder.exists():
        return None
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.stem.lower() == name and p.suffix.lower() in SUFFIXES)
    if len(files) > 1:
        raise DataError(f"table {name} has {len(files)} files in {folder}, keep one: {', '.join(p.name for p in files)}")
    return files[0] if files else None


def table_path(folder: Path, name: str) -> Path:
    """The CSV file of table ``name`` in ``folder``: the existing one (any case), else ``name.csv``.

    Raises :class:`DataError` when the table exists as Parquet or Excel,
    which an import cannot add to.
    """
    found = find_table(folder, name)
    if found is not None and found.suffix.lower() != ".csv":
        raise DataError(f"{folder} holds {found.name}; an import adds to {name}.csv only: save that table as CSV first")
    return found or folder / f"{name}.csv"


def _read_existing(path: Path) -> pd.DataFrame:
    header = header_line(path)
    if "," not in header and (";" in header or "\t" in header):
        raise DataError(f"{path} is not comma-separated; an import adds to comma-separated tables only: save it as CSV first")
    try:
        data = path.read_bytes()
        return pd.read_csv(io.BytesIO(data), encoding=decode_choice(path, data), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, ValueError) as error:
        raise DataError(f"{path} could not be read ({str(error).splitlines()[0]}): repair it before importing") from None


def read_rows(path: Path) -> pd.DataFrame | None:
    """A table's rows as text with normalised column names (lower case, stripped), ``None`` when absent."""
    if not path.exists():
        return None
    existing = _read_existing(path)
    return existing.rename(columns={c: normalize_header(c) for c in existing.columns})


def replace_rows(
    path: Path,
    new: pd.DataFrame,
    replaced: Callable[[pd.DataFrame], pd.Series],
    required: Sequence[str],
) -> int:
    """Write ``new`` into the CSV table at ``path`` in place of the rows ``replaced`` selects.

    Parameters
    ----------
    path:
        The table (created with ``new``'s columns when absent).
    new:
        Rows to write, all text, columns in the loader's spelling.
    replaced:
        Given the existing rows with normalised column names (lower case,
        stripped; every column of ``new`` present, blank where the table
        lacks it), returns a boolean Series: rows to remove.
    required:
        Columns an existing table must already have.

    Returns
    -------
    int
        Rows removed.
    """
    if not path.exists():
        write_table(new, path)
        return 0
    existing = _read_existing(path)
    names = {normalize_header(c): c for c in existing.columns}
    missing = [c for c in required if c not in names]
    if missing:
        raise DataError(f"{path} lacks column {missing[0]!r}: it is not a table an import can add to")
    added = [c for c in new.columns if c not in names]
    view = existing.rename(columns={actual: norm for norm, actual in names.items()}).assign(**dict.fromkeys(added, ""))
    remove = replaced(view).to_numpy(dtype=bool)
    if new.empty and not remove.any():
        return 0
    at = int(remove.argmax()) if remove.any() else len(existing)
    kept_before = existing.iloc[:at][~remove[:at]]
    kept_after = existing.iloc[at:][~remove[at:]]
    incoming = new.rename(columns=names)
    columns = list(existing.columns) + added
    result = pd.concat([kept_before, incoming, kept_after], ignore_index=True).reindex(columns=columns).fillna("")
    write_table(result, path)
    return int(remove.sum())


def keyed(frame: pd.DataFrame, columns: Sequence[str], keys: set[tuple[str, ...]]) -> pd.Series:
    """Whether each row's values in ``columns`` (stripped text) form one of ``keys``."""
    if not keys or frame.empty:
        return pd.Series(False, index=frame.index)
    values = frame[list(columns)].apply(lambda col: col.astype(str).str.strip())
    return pd.Series([tuple(v) in keys for v in values.itertuples(index=False, name=None)], index=frame.index)


def write_ledger(
    folder: Path, new: pd.DataFrame, import_format: str, keys: set[tuple[str, str]], sha256: str, client_id: str | None = None
) -> int:
    """Replace an earlier import's ledger rows by ``new`` in :data:`LEDGER_FILE`.

    Rows removed: those of ``import_format`` whose ``(client_id, date)`` is in
    ``keys`` (the sessions or visits this import covers), and those of the
    same file content (``import_sha256``) that have no date or no client,
    of this import's ``client_id`` when one is given (an app export belongs
    to one client: importing it for client B leaves client A's undated rows).
    Returns the number removed.
    """

    def replaced(old: pd.DataFrame) -> pd.Series:
        same_format = old["import_format"].str.strip() == import_format
        client = old["client_id"].str.strip()
        undated = (old["date"].str.strip() == "") | (client == "")
        same_file = old["import_sha256"].str.strip() == sha256
        if client_id is not None:
            same_file &= client == client_id
        return same_format & (keyed(old, ("client_id", "date"), keys) | (undated & same_file))

    path = table_path(folder, LEDGER_FILE.removesuffix(".csv"))
    return replace_rows(path, new.reindex(columns=list(IMPORT_LEDGER_COLUMNS)), replaced, ("reason",))
