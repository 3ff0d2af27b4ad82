"""Writing a simulated study: the contract's CSV files as a person would type them, and truth.json."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from backpain_analysis.errors import DataError
from backpain_analysis.writing import write_table

if TYPE_CHECKING:
    from backpain_analysis.simulate.study import SimulatedStudy

def date_text(start: np.ndarray, day: np.ndarray, minute: np.ndarray | None = None) -> np.ndarray:
    """``YYYY-MM-DD`` of ``start + day``, with `` HH:MM`` where ``minute`` (of the day) is >= 0."""
    dates = np.datetime_as_string(start + day.astype("timedelta64[D]"), unit="D")
    if minute is None:
        return dates
    return np.array([f"{d} {m // 60:02d}:{m % 60:02d}" if m >= 0 else d for d, m in zip(dates, minute.tolist(), strict=True)], dtype=object)


def csv_value(value) -> str:
    """A cell as a person would type it: 40 not 40.0, blank for missing."""
    if value is None or value is pd.NA or (isinstance(value, (float, np.floating)) and math.isnan(value)):
        return ""
    if isinstance(value, (float, np.floating)):
        return format(float(value), ".10g")
    return str(value)


def _csv_text(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({column: [csv_value(v) for v in frame[column].tolist()] for column in frame.columns})


def _json_text(value, indent: str = "") -> str:
    """JSON with objects indented, lists of numbers on one line, list items one per line."""
    inner = indent + " "
    if isinstance(value, dict) and value:
        items = [f"{inner}{json.dumps(k)}: {_json_text(v, inner)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
        return "[\n" + ",\n".join(inner + json.dumps(v) for v in value) + "\n" + indent + "]"
    return json.dumps(value)


def write_study(study: SimulatedStudy, out_dir: str | Path) -> dict[str, Path]:
    """Write ``sessions.csv``, ``outcomes.csv``, ``clients.csv`` and ``truth.json`` to ``out_dir``.

    The folder is created if needed; these four files are replaced, nothing
    else in it is touched. Returns table name -> path written.
    """
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DataError(f"cannot create output folder {out}: {error.strerror}") from error
    paths = {}
    for name in ("sessions", "outcomes", "clients"):
        paths[name] = write_table(_csv_text(getattr(study, name)), out / f"{name}.csv")
    paths["truth"] = out / "truth.json"
    paths["truth"].write_text(_json_text(study.truth) + "\n", encoding="utf-8")
    return paths
