"""The loaded dataset: normalised tables plus the rejected-row ledger."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from backpain_analysis.coded import CodedTable
from backpain_analysis.contract import LEDGER_COLUMNS


def empty_ledger() -> pd.DataFrame:
    """A rejected ledger with no rows and the contract's columns."""
    return pd.DataFrame({c: pd.Series(dtype="int64" if c == "row" else "object") for c in LEDGER_COLUMNS})


@dataclass(init=False, eq=False)
class Dataset:
    """A dataset folder after loading (docs/architecture.md lists every column).

    Build one from DataFrames, ``Dataset(sessions=frame, outcomes=frame,
    ...)``, or, as :func:`~backpain_analysis.loading.load` does, from the
    session rows in coded form (``session_table=``). Giving ``sessions``
    makes its table from the frame (and wins over ``session_table``, so
    ``dataclasses.replace(dataset, sessions=frame)`` works).

    Attributes
    ----------
    session_table:
        The accepted session rows as codes into their distinct values
        (:class:`~backpain_analysis.coded.CodedTable`, about 15 bytes a row):
        what :func:`~backpain_analysis.panel.weekly_panel` reads.
    sessions:
        The same rows as a DataFrame, built on first use and kept (treat it
        as read-only; assign a new frame to change the sessions).
    outcomes, clients, catalog:
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

    session_table: CodedTable
    outcomes: pd.DataFrame
    clients: pd.DataFrame = field(default_factory=pd.DataFrame)
    catalog: pd.DataFrame = field(default_factory=pd.DataFrame)
    rejected: pd.DataFrame = field(default_factory=empty_ledger)
    read: dict[str, int] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)

    def __init__(
        self,
        sessions: pd.DataFrame | None = None,
        outcomes: pd.DataFrame | None = None,
        clients: pd.DataFrame | None = None,
        catalog: pd.DataFrame | None = None,
        rejected: pd.DataFrame | None = None,
        read: dict[str, int] | None = None,
        files: dict[str, Path] | None = None,
        *,
        session_table: CodedTable | None = None,
    ) -> None:
        if sessions is None and session_table is None:
            raise TypeError("Dataset needs sessions (a DataFrame) or session_table")
        self._sessions: pd.DataFrame | None = None
        if sessions is not None:
            self.sessions = sessions
        else:
            self.session_table = session_table
        self.outcomes = pd.DataFrame() if outcomes is None else outcomes
        self.clients = pd.DataFrame() if clients is None else clients
        self.catalog = pd.DataFrame() if catalog is None else catalog
        self.rejected = empty_ledger() if rejected is None else rejected
        self.read = {} if read is None else dict(read)
        self.files = {} if files is None else dict(files)

    @property
    def sessions(self) -> pd.DataFrame:
        """Accepted session rows (docs/architecture.md), built from :attr:`session_table` on first use."""
        if self._sessions is None:
            self._sessions = self.session_table.frame()
        return self._sessions

    @sessions.setter
    def sessions(self, frame: pd.DataFrame) -> None:
        self.session_table = CodedTable.of_frame(frame)
        self._sessions = frame

    def client_ids(self) -> np.ndarray:
        """The distinct client keys of the accepted rows of every table, as text, sorted.

        Read from the session codes (each distinct key once), so a large
        dataset never builds its sessions DataFrame for this.
        """
        keys = [np.asarray(self.session_table.columns["client_id"].used(self.session_table.accepted), dtype=object)]
        keys += [t["client_id"].dropna().unique() for t in (self.outcomes, self.clients) if "client_id" in t]
        present = [k for k in np.concatenate([np.asarray(k, dtype=object) for k in keys]) if k is not None and not pd.isna(k)]
        return np.array(sorted({str(k) for k in present}), dtype=object)

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
