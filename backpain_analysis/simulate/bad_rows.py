"""Planted bad rows: realistic mistakes for the loader to reject, listed in the truth."""

from __future__ import annotations

import numpy as np
import pandas as pd

from backpain_analysis.simulate.files import csv_value
from backpain_analysis.simulate.training import ClientDraws

BAD_ROW_KINDS: tuple[tuple[str, str, str], ...] = (
    ("sessions", "unknown_exercise", "exercise"),
    ("sessions", "bad_date", "date"),
    ("sessions", "negative", "reps"),
    ("sessions", "before_start", "date"),
    ("outcomes", "out_of_range", "score"),
    ("outcomes", "non_numeric", "score"),
)
"""Planted bad rows: (table, kind, column). Each is an extra row, so the
accepted rows, and the truth, are those of the clean simulation."""


def plant_bad_rows(
    rng: np.random.Generator, sessions: pd.DataFrame, outcomes: pd.DataFrame, c: ClientDraws
) -> tuple[pd.DataFrame, pd.DataFrame, list[dict]]:
    """Insert one extra row of each kind in BAD_ROW_KINDS, each right after a random row of its table.

    The extra row copies that row (same client) and then breaks one thing.
    Returns the new tables and the ledger ``table, row, column, value, kind``
    (``row``: spreadsheet row, header = 1).
    """
    tables = {"sessions": sessions, "outcomes": outcomes}
    planted: dict[str, list[tuple[int, str, str, dict]]] = {"sessions": [], "outcomes": []}
    for table, kind, column in BAD_ROW_KINDS:
        if tables[table].empty:
            continue
        at = int(rng.integers(0, len(tables[table])))
        row = tables[table].iloc[at].to_dict()
        if kind == "unknown_exercise":
            row.update(exercise="Jefferson curl", sets=3, reps=8, load=20.0, load_unit="kg", duration_s=pd.NA)
        elif kind == "bad_date":
            row["date"] = "2024-02-30"
        elif kind == "negative":
            row.update(exercise="bird dog", sets=3, reps=-10, load=np.nan, load_unit="", duration_s=pd.NA)
        elif kind == "before_start":
            start = c.start[np.flatnonzero(c.ids == row["client_id"])[0]]
            row["date"] = str(start - np.timedelta64(3, "D"))
        elif kind == "out_of_range":
            row.update(instrument="nprs", score=14.0)
        else:
            row.update(instrument="nprs", score="mild")
        planted[table].append((at, kind, column, row))
    ledger = []
    for table, items in planted.items():
        frame = tables[table]
        position = np.concatenate([np.arange(len(frame)) + 0.0, [at + 0.5 for at, *_ in items]])
        order = np.argsort(position, kind="stable")
        combined = pd.concat([frame.astype(object), pd.DataFrame([r for *_, r in items], dtype=object)], ignore_index=True)
        tables[table] = combined.iloc[order].reset_index(drop=True)
        rank = np.argsort(order)[len(frame):]
        for (_, kind, column, row), index in zip(items, rank, strict=True):
            ledger.append({"table": table, "row": int(index) + 2, "column": column, "value": csv_value(row[column]), "kind": kind})
    return tables["sessions"], tables["outcomes"], sorted(ledger, key=lambda r: (r["table"], r["row"]))
