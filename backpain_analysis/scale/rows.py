"""Row rules on a cluster's workers: one task per part, the ledger gathered, the accepted rows split by client.

The session rules of :func:`~backpain_analysis.loading.load_sessions` look at
one row at a time (given the catalog and the clients' start dates), so they
run on each part of ``sessions`` on its own: :func:`session_part` reads the
part (:func:`~backpain_analysis.partitions.read_part`), applies them and keeps
the accepted rows as codes (:class:`Rows`, the columns the weekly panel reads,
about 30 bytes a row). The outcome rules need all of a client's items of one
day together (duplicates, item forms), so :func:`outcome_table` loads the
whole ``outcomes`` table in one task. ``clients`` and ``catalog`` are small
and load on the calling process (:func:`small_table`).

Every ledger row carries ``file``: the part it came from
(:attr:`~backpain_analysis.partitions.Part.label`), ``row`` being the row in
that part (header = 1). :func:`split` cuts accepted rows into client ranges,
rows keeping their order, so each range's panel can be built on one worker.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from backpain_analysis.coded import Coded, smallest_codes
from backpain_analysis.contract import LEDGER_COLUMNS
from backpain_analysis.dataset import empty_ledger
from backpain_analysis.loading import load_catalog, load_clients, load_outcomes, load_sessions
from backpain_analysis.panel import SESSION_COLUMNS
from backpain_analysis.partitions import Part, WholeTable, read_part, read_whole

LEDGER_WITH_FILE: tuple[str, ...] = (*LEDGER_COLUMNS, "file")
"""Columns of a cluster ledger: the contract's, plus the part each row is in."""


def _compact(codes: np.ndarray, values: np.ndarray) -> Coded:
    """``values[codes]`` with only the values used (codes renumbered in order of first use)."""
    used_codes, used = pd.factorize(codes)
    return Coded(smallest_codes(used_codes, len(used)), np.asarray(values)[used])


@dataclass
class Rows:
    """Accepted session rows as coded columns (:data:`~backpain_analysis.panel.SESSION_COLUMNS`, the only ones kept on the workers), in file order."""

    columns: dict[str, Coded]

    def __len__(self) -> int:
        return len(self.columns["client_id"].codes)

    def take(self, rows: np.ndarray) -> Rows:
        """The rows at positions ``rows`` (in that order)."""
        return Rows({name: _compact(column.codes[rows], column.values) for name, column in self.columns.items()})

    @classmethod
    def concat(cls, pieces: list[Rows]) -> Rows:
        """The rows of ``pieces`` one after another, each column's values merged."""
        columns = {}
        for name in SESSION_COLUMNS:
            values = np.concatenate([piece.columns[name].values for piece in pieces])
            sizes = np.array([len(piece.columns[name].values) for piece in pieces], dtype=np.int64)
            shift = np.concatenate([[0], np.cumsum(sizes)[:-1]])
            codes = np.concatenate([piece.columns[name].codes.astype(np.int64) + s for piece, s in zip(pieces, shift, strict=True)])
            merged = Coded.of(values)  # one code per distinct value again
            columns[name] = Coded(smallest_codes(merged.codes[codes], len(merged.values)), merged.values)
        return cls(columns)

    @property
    def client_ids(self) -> np.ndarray:
        """Distinct client keys of the rows."""
        return np.asarray(self.columns["client_id"].values, dtype=object)


@dataclass
class PartResult:
    """One part after the row rules: rows read, the ledger and the accepted rows."""

    read: int
    ledger: pd.DataFrame
    rows: Rows

    def summary(self) -> tuple[int, pd.DataFrame, np.ndarray]:
        """What the calling process gathers: rows read, ledger, distinct accepted client keys."""
        return self.read, self.ledger, self.rows.client_ids


def with_file(ledger: pd.DataFrame, file: str | np.ndarray) -> pd.DataFrame:
    """The ledger with the ``file`` column (columns :data:`LEDGER_WITH_FILE`)."""
    return ledger.assign(file=file)[list(LEDGER_WITH_FILE)] if len(ledger) else empty_ledger().assign(file=pd.Series(dtype=object))


def session_part(part: Part, catalog: pd.DataFrame, clients: pd.DataFrame) -> PartResult:
    """Read one sessions part and apply the row rules (a worker task).

    ``catalog`` and ``clients`` are the accepted studio catalog and clients
    (from :func:`small_table`).
    """
    raw = read_part("sessions", part)
    table, ledger = load_sessions(raw, catalog, clients)
    accepted = np.flatnonzero(table.accepted)
    columns = {name: table.columns[name] for name in SESSION_COLUMNS}
    columns = {name: c if isinstance(c, Coded) else Coded.of(c) for name, c in columns.items()}
    return PartResult(raw.rows, with_file(ledger, part.label), Rows(columns).take(accepted))


def _relocated(ledger: pd.DataFrame, whole: WholeTable) -> pd.DataFrame:
    """A ledger of ``whole``'s frame rows given each part's own file and row."""
    if not len(ledger):
        return with_file(ledger, "")
    file, row = whole.locate(ledger["row"].to_numpy())
    return with_file(ledger.assign(row=row), file)


def small_table(name: str, parts: list[Part] | None) -> tuple[pd.DataFrame, pd.DataFrame, int | None]:
    """``clients`` or ``catalog`` loaded whole: accepted rows, ledger (with ``file``) and rows read (None: absent)."""
    loader = {"clients": load_clients, "catalog": load_catalog}[name]
    if parts is None:
        accepted, ledger = loader(None)
        return accepted, with_file(ledger, ""), None
    whole = read_whole(name, parts)
    accepted, ledger = loader(whole.raw)
    if len(accepted):
        accepted = accepted.assign(source_row=whole.locate(accepted["source_row"].to_numpy())[1])
    return accepted, _relocated(ledger, whole), whole.raw.rows


@dataclass
class OutcomeResult:
    """The outcomes table after its rules: rows read, ledger and accepted (scored) rows."""

    read: int
    ledger: pd.DataFrame
    outcomes: pd.DataFrame

    def summary(self) -> tuple[int, pd.DataFrame, np.ndarray]:
        """Rows read, ledger, distinct accepted client keys and instruments."""
        return self.read, self.ledger, self.outcomes["client_id"].unique().astype(object)

    def instruments(self) -> list[str]:
        return sorted(str(v) for v in self.outcomes["instrument"].unique())


def outcome_table(parts: list[Part], clients: pd.DataFrame, odi_max_missing: int) -> OutcomeResult:
    """Load the whole ``outcomes`` table (a worker task): item forms need a client's rows of a day together."""
    whole = read_whole("outcomes", parts)
    outcomes, ledger = load_outcomes(whole.raw, clients, odi_max_missing)
    if len(outcomes) and "source_row" in outcomes.columns:
        outcomes = outcomes.assign(source_row=whole.locate(outcomes["source_row"].to_numpy())[1])
    return OutcomeResult(whole.raw.rows, _relocated(ledger, whole), outcomes)


def range_of(ids: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """The client range of each key: ``bounds`` holds the first key of ranges 1, 2, ... (sorted)."""
    return np.searchsorted(bounds, np.asarray(ids, dtype=object), side="right")


def split(rows: Rows, bounds: np.ndarray) -> list[Rows]:
    """The rows of each client range (``len(bounds) + 1`` pieces), rows keeping their order."""
    client = rows.columns["client_id"]
    which = range_of(client.values, bounds)[client.codes]
    order = np.argsort(which, kind="stable")
    edges = np.concatenate([[0], np.cumsum(np.bincount(which, minlength=len(bounds) + 1))])
    return [rows.take(order[edges[i] : edges[i + 1]]) for i in range(len(bounds) + 1)]


def split_frame(frame: pd.DataFrame, bounds: np.ndarray) -> list[pd.DataFrame]:
    """The rows of ``frame`` (with ``client_id``) in each client range, in order."""
    which = range_of(frame["client_id"].to_numpy(dtype=object), bounds) if len(frame) else np.array([], dtype=np.int64)
    return [frame[which == i].reset_index(drop=True) for i in range(len(bounds) + 1)]
