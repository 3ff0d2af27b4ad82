"""Tables stored as a folder of Parquet parts (CONTRACT section 1): finding and reading the parts.

A table too large for one file is a folder ``NAME/`` of Parquet files, as
Spark, Dask or DuckDB write them, possibly in hive-partitioned subfolders
(``sessions/studio=north/part-0.parquet``). Rules:

- The parts are the ``.parquet`` files anywhere under the folder, in sorted
  order of their path relative to it; files and folders whose name starts
  with ``_`` or ``.`` (``_SUCCESS``, ``_metadata``, ``.crc`` files) are not data.
- A folder ``key=value`` on a part's path adds a text column ``key`` with that
  value to every row of the part (``%XX`` escapes decoded; Spark's
  ``__HIVE_DEFAULT_PARTITION__`` is a blank). A column the file itself holds
  wins over a folder key of the same name. Keys are normalised like headers;
  identifying keys (and, in ``clients``, free-text ones) are dropped like
  such columns.
- Each part is read by :func:`~backpain_analysis.reading.read_table`, so
  cells arrive as text exactly as for a single file, and its rows are
  numbered within the part (header = 1, first data row = 2): the ledger names
  the part (:attr:`Part.label`, e.g. ``sessions/studio=north/part-0.parquet``)
  and the row in it.
- A table given both as a file and as a folder, or a folder without parts, is
  an error naming it.

:func:`dataset_parts` finds every table of a dataset folder, each as a list
of parts (a single file is one part); :func:`read_part` reads one;
:func:`read_whole` reads all parts of a table into one frame (for the
smaller tables), remembering which part and row each frame row came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pandas as pd

from backpain_analysis.contract import REQUIRED_COLUMNS, is_free_text, is_identifying
from backpain_analysis.errors import DataError
from backpain_analysis.reading import RawTable, find_tables, normalize_header, read_table

HIVE_DEFAULT = "__HIVE_DEFAULT_PARTITION__"
"""The folder value Spark and Hive write for a missing partition key."""


@dataclass(frozen=True)
class Part:
    """One file of a table.

    Attributes
    ----------
    path:
        The file.
    label:
        How the ledger names it: the path relative to the dataset folder
        (``sessions.parquet``, ``sessions/studio=north/part-0.parquet``).
    keys:
        Hive partition keys from the folders on its path, ``(name, value)`` pairs.
    """

    path: Path
    label: str
    keys: tuple[tuple[str, str], ...] = field(default=())


def _is_data(relative: Path) -> bool:
    return not any(name.startswith(("_", ".")) for name in relative.parts)


def _hive_keys(relative: Path) -> tuple[tuple[str, str], ...]:
    keys = []
    for folder in relative.parts[:-1]:
        if "=" in folder:
            name, value = folder.split("=", 1)
            value = unquote(value)
            keys.append((normalize_header(unquote(name)), "" if value == HIVE_DEFAULT else value))
    return tuple(keys)


def folder_parts(folder: Path, root: Path) -> list[Part]:
    """The Parquet parts under ``folder`` in sorted order (labels relative to ``root``)."""
    found = sorted(
        (p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() == ".parquet" and _is_data(p.relative_to(folder))),
        key=lambda p: p.relative_to(folder).as_posix(),
    )
    if not found:
        raise DataError(f"folder {folder.relative_to(root).as_posix()}/ holds no .parquet files: a partitioned table is a folder of Parquet parts")
    return [Part(p, p.relative_to(root).as_posix(), _hive_keys(p.relative_to(folder))) for p in found]


def dataset_parts(folder: str | Path) -> dict[str, list[Part]]:
    """The parts of every contract table present in ``folder`` (a file is one part).

    Raises :class:`DataError` as :func:`~backpain_analysis.reading.find_tables`
    (``folders=True``) does, and when a folder has no parts.
    """
    root = Path(folder)
    return {
        name: folder_parts(path, root) if path.is_dir() else [Part(path, path.name)]
        for name, path in find_tables(root, folders=True).items()
    }


def read_part(name: str, part: Part) -> RawTable:
    """One part of table ``name`` as :func:`~backpain_analysis.reading.read_table` reads a file (``categorical=True``).

    Hive keys become constant text columns; with keys, required columns are
    checked after they are added (a table partitioned by ``client_id`` holds
    no such column in its files).
    """
    raw = read_table(name, part.path, categorical=True, required=not part.keys)
    frame = raw.frame
    added = {key: value for key, value in part.keys if key not in frame.columns and not is_identifying(key) and not (name == "clients" and is_free_text(key))}
    if added:
        constant = {key: pd.Categorical.from_codes(np.zeros(len(frame), dtype=np.int8), categories=[value]) for key, value in added.items()}
        frame = frame.assign(**{key: pd.Series(values, index=frame.index) for key, values in constant.items()})
    missing = [c for c in REQUIRED_COLUMNS.get(name, ()) if c not in frame.columns]
    if missing:
        raise DataError(f"{part.label} lacks required column {', '.join(repr(c) for c in missing)} (its columns: {', '.join(frame.columns)})")
    return RawTable(name=name, path=part.path, frame=frame, encoding=raw.encoding, dropped=raw.dropped)


@dataclass(frozen=True)
class WholeTable:
    """All parts of a table read into one frame.

    ``raw.frame`` is indexed 2, 3, ... over the parts in order (as if they
    were one file); :meth:`locate` turns those row numbers back into each
    part's own label and row.
    """

    raw: RawTable
    labels: tuple[str, ...]
    first_rows: np.ndarray
    """Frame row number of each part's first row (its own row 2)."""
    source_rows: np.ndarray
    """Each frame row's row number within its part."""

    def locate(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Part labels and in-part row numbers of frame rows ``rows``."""
        rows = np.asarray(rows, dtype=np.int64)
        which = np.searchsorted(self.first_rows, rows, side="right") - 1
        return np.asarray(self.labels, dtype=object)[which], self.source_rows[rows - 2]


def read_whole(name: str, parts: list[Part]) -> WholeTable:
    """Every part of table ``name`` in one frame, columns united (a column a part lacks is blank there)."""
    raws = [read_part(name, part) for part in parts]
    columns = list(dict.fromkeys(c for raw in raws for c in raw.frame.columns))
    united = {}
    for column in columns:
        pieces = [
            raw.frame[column] if column in raw.frame.columns else pd.Series(pd.Categorical([""] * raw.rows), index=raw.frame.index)
            for raw in raws
        ]
        united[column] = pd.api.types.union_categoricals([pd.Categorical(p) for p in pieces])
    n = sum(raw.rows for raw in raws)
    frame = pd.DataFrame(united, index=pd.RangeIndex(2, n + 2, name="source_row")) if columns else pd.DataFrame(index=pd.RangeIndex(2, n + 2))
    sizes = np.array([raw.rows for raw in raws], dtype=np.int64)
    first_rows = 2 + np.concatenate([[0], np.cumsum(sizes)[:-1]])
    source_rows = np.concatenate([raw.frame.index.to_numpy(dtype=np.int64) for raw in raws]) if raws else np.array([], np.int64)
    raw = RawTable(name=name, path=parts[0].path, frame=frame, dropped=tuple(dict.fromkeys(d for r in raws for d in r.dropped)))
    return WholeTable(raw, tuple(p.label for p in parts), first_rows, source_rows)
