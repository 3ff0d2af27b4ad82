"""Writing tables atomically, so a failed write never leaves half a file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd

from backpain_analysis.errors import DataError


def _umask() -> int:
    """The process's file-creation mask (read by setting it and putting it back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_table(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` to ``path`` (.csv or .parquet by suffix), atomically.

    The table is written to a temporary file beside ``path`` and renamed into
    place, so readers see either the old file or the whole new one. The file
    gets the permissions an ordinary ``open`` would give it (0666 less the
    umask), not ``mkstemp``'s owner-only 0600.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in {".csv", ".parquet"}:
        raise DataError(f"cannot write {path}: use a .csv or .parquet file name")
    if not path.parent.exists():
        raise DataError(f"cannot write {path}: folder {path.parent} does not exist")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    os.close(fd)
    try:
        if suffix == ".csv":
            frame.to_csv(tmp, index=False)
        else:
            frame.to_parquet(tmp, index=False)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path
