"""The loaded dataset: normalised tables plus the rejected-row ledger."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from backpain_analysis.contract import LEDGER_COLUMNS


def empty_ledger() -> pd.DataFrame:
    """A rejected ledger with no rows and the contract's columns."""
    return pd.DataFrame({c: pd.Series(dtype="int64" if c == "row" else "object") for c in LEDGER_COLUMNS})


@dataclass
class Dataset:
    """A dataset folder after loading (docs/architecture.md lists every column).

    Attributes
    ----------
    sessions, outcomes, clients, catalog:
        Accepted rows, normalised; ``clients`` and ``catalog`` are empty frames
        when the folder has no such table.
    rejected:
        The ledger: ``table``, ``row`` (spreadsheet row, header = 1),
        ``column``, ``value``, ``reason``.
    read:
        Rows read per table present in the folder.
    files:
        The file each table was read from.
    """

    sessions: pd.DataFrame
    outcomes: pd.DataFrame
    clients: pd.DataFrame = field(default_factory=pd.DataFrame)
    catalog: pd.DataFrame = field(default_factory=pd.DataFrame)
    rejected: pd.DataFrame = field(default_factory=empty_ledger)
    read: dict[str, int] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)

    def counts(self) -> pd.DataFrame:
        """Rows read, accepted and rejected per table present.

        Returns a DataFrame indexed by table with integer columns ``read``,
        ``accepted`` and ``rejected`` (``accepted + rejected == read``).
        """
        rejected = self.rejected.groupby("table").size() if len(self.rejected) else pd.Series(dtype="int64")
        rows = []
        for table, n_read in self.read.items():
            n_rej = int(rejected.get(table, 0))
            rows.append({"table": table, "read": n_read, "accepted": n_read - n_rej, "rejected": n_rej})
        return pd.DataFrame(rows, columns=["table", "read", "accepted", "rejected"]).set_index("table")
