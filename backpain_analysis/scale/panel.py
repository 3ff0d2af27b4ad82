"""The weekly panel on a Dask cluster: row rules per part on the workers, one panel per client range.

:func:`load_on_cluster` runs in three steps, the calling process holding only
the small tables, the ledger and one key per client, never the session rows:

1. ``clients`` and ``catalog`` load here and are broadcast to the workers.
   Each part of ``sessions`` is one task (:func:`~backpain_analysis.scale.rows.session_part`):
   read, row rules, accepted rows kept on the worker as codes. ``outcomes``
   loads whole in one task. Only the ledgers, the rows read and each part's
   distinct client keys come back.
2. The sorted client keys are cut into ranges of equal size (about one per
   two million accepted rows, at least two per worker thread); each part's
   accepted rows are split by range (rows keeping their file order).
3. One task per range gathers its clients' rows from every part (all of a
   client's records: week 0, the first record over all parts, needs nothing
   from elsewhere) and builds their panel with the single-machine
   :func:`~backpain_analysis.panel.weekly_panel`, so every cell is computed
   by the same code from the same rows in the same order: the cells equal
   those of ``weekly_panel(load(path))``.

:meth:`ClusterDataset.panel` gathers the ranges' panels (client-weeks, not
session rows) in client order and adds the client covariates, which depend
on all clients (:func:`~backpain_analysis.panel.declared_covariates`).
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from backpain_analysis.coded import CodedTable
from backpain_analysis.contract import TABLES
from backpain_analysis.dataset import Dataset
from backpain_analysis.errors import DataError
from backpain_analysis.panel import declared_covariates, weekly_panel
from backpain_analysis.partitions import dataset_parts
from backpain_analysis.scale.rows import (
    OutcomeResult,
    PartResult,
    Rows,
    outcome_table,
    session_part,
    small_table,
    split,
    split_frame,
)

ROWS_PER_RANGE: int = 2_000_000
"""Accepted session rows per client range (a range's task holds about 30 bytes per row plus its panel)."""
RANGES_PER_THREAD: int = 2
"""Client ranges per worker thread at least, so that every worker has work."""


def _split_rows(result: PartResult, bounds: np.ndarray) -> list[Rows]:
    return split(result.rows, bounds)


def _split_outcomes(result: OutcomeResult, bounds: np.ndarray) -> list[pd.DataFrame]:
    return split_frame(result.outcomes, bounds)


def range_panel(pieces: list[Rows], outcomes: pd.DataFrame, clients: pd.DataFrame) -> pd.DataFrame:
    """The panel of one client range (a worker task), without the client covariates.

    ``pieces`` are the range's accepted session rows from each part, in part
    order; ``outcomes`` its accepted outcomes; ``clients`` its clients'
    ``client_id`` and ``start_date``.
    """
    rows = Rows.concat(pieces)
    table = CodedTable(rows.columns, np.ones(len(rows), dtype=bool))
    return weekly_panel(Dataset(session_table=table, outcomes=outcomes, clients=clients))


def _range_bounds(ids: np.ndarray, n_ranges: int) -> np.ndarray:
    """The first key of ranges 1 .. n_ranges - 1 over the sorted distinct ``ids``."""
    n_ranges = max(1, min(n_ranges, len(ids)))
    return ids[(np.arange(1, n_ranges) * len(ids)) // n_ranges]


@dataclass(eq=False)
class ClusterDataset:
    """A dataset loaded on a Dask cluster: the ledger here, the panel's pieces on the workers.

    Attributes
    ----------
    client:
        The :class:`distributed.Client` it runs on.
    rejected:
        The ledger, as :attr:`Dataset.rejected <backpain_analysis.dataset.Dataset>`
        plus ``file``: the file (for a partitioned table, the part, e.g.
        ``sessions/studio=north/part-0.parquet``) that ``row`` is in.
    read:
        Rows read per table present.
    clients:
        The accepted clients table.
    instruments:
        Instruments measured (the panel's outcome columns).
    ranges:
        Futures of each client range's panel (without covariates), in client order.
    """

    client: Any
    rejected: pd.DataFrame
    read: dict[str, int]
    clients: pd.DataFrame
    instruments: list[str]
    ranges: list[Any]

    def counts(self) -> pd.DataFrame:
        """Rows read, accepted and rejected per table (as :meth:`Dataset.counts <backpain_analysis.dataset.Dataset.counts>`)."""
        return Dataset.counts(self)  # reads only .rejected and .read

    def panel(self) -> pd.DataFrame:
        """The weekly panel of CONTRACT section 3, equal to ``weekly_panel(load(path))``.

        Gathers the client ranges' panels (client-weeks; the session rows
        stay on the workers) and adds the declared client covariates.
        """
        pieces = self.client.gather(self.ranges)
        filled = [piece for piece in pieces if len(piece)] or pieces[:1]
        panel = pd.concat(filled, ignore_index=True) if len(filled) > 1 else filled[0]
        base = [c for c in filled[0].columns if c not in self.instruments]
        panel = panel.reindex(columns=base + [i for i in self.instruments if i in set().union(*(p.columns for p in filled))])
        return with_covariates(panel, self.clients)


def with_covariates(panel: pd.DataFrame, clients: pd.DataFrame) -> pd.DataFrame:
    """``panel`` with each row's declared client covariates, named as :func:`~backpain_analysis.panel.weekly_panel` names them."""
    covariates = declared_covariates(clients)
    if len(covariates.columns) <= 1:
        return panel
    covariates = covariates.drop_duplicates("client_id").set_index("client_id").reindex(panel["client_id"].to_numpy(dtype=object))
    both = set(covariates.columns) & set(panel.columns)
    out = panel.rename(columns={name: f"{name}_x" for name in both})
    for name in covariates.columns:
        out[f"{name}_y" if name in both else name] = covariates[name].reset_index(drop=True)
    return out


def load_on_cluster(path: str | Path, client: Any, *, odi_max_missing: int = 1, ranges: int | None = None) -> ClusterDataset:
    """Load a dataset folder on a Dask cluster and build its weekly panel there (module docstring).

    Parameters
    ----------
    path:
        Dataset folder (CONTRACT section 1); any table may be a folder of
        Parquet parts (:mod:`backpain_analysis.partitions`). The workers read
        the files themselves: they must see the folder at this path.
    client:
        A :class:`distributed.Client` (:func:`~backpain_analysis.scale.cluster.connect`).
    odi_max_missing:
        As in :func:`~backpain_analysis.loading.load`.
    ranges:
        Client ranges to build the panel in (default: one per
        :data:`ROWS_PER_RANGE` accepted rows, at least
        :data:`RANGES_PER_THREAD` per worker thread).

    Returns
    -------
    ClusterDataset
        The ledger and counts; the panel stays on the workers until
        :meth:`ClusterDataset.panel` is asked for.

    Raises
    ------
    DataError
        As :func:`~backpain_analysis.loading.load` does.
    """
    if isinstance(odi_max_missing, bool) or not isinstance(odi_max_missing, int) or not 0 <= odi_max_missing <= 9:
        raise DataError(f"odi_max_missing must be a whole number 0-9, got {odi_max_missing!r}")
    parts = dataset_parts(path)
    catalog, catalog_ledger, catalog_read = small_table("catalog", parts.get("catalog"))
    clients, clients_ledger, clients_read = small_table("clients", parts.get("clients"))
    catalog_f, clients_f = client.scatter([catalog, clients], broadcast=True)
    # pure=False: a file read again is read again (never a result kept from before the file changed)
    part_results = [client.submit(session_part, part, catalog_f, clients_f, pure=False) for part in parts["sessions"]]
    outcome_result = client.submit(outcome_table, parts["outcomes"], clients_f, odi_max_missing, pure=False)
    summaries = client.gather([client.submit(PartResult.summary, f) for f in part_results])
    outcome_read, outcome_ledger, outcome_ids = client.gather(client.submit(OutcomeResult.summary, outcome_result))
    instruments = client.gather(client.submit(OutcomeResult.instruments, outcome_result))
    ids = np.unique(np.concatenate([np.asarray(s[2], dtype=object) for s in summaries] + [np.asarray(outcome_ids, dtype=object)]).astype(str))
    if ranges is None:
        threads = sum(client.nthreads().values()) or 1
        accepted = sum(s[0] - len(s[1]) for s in summaries)
        ranges = max(RANGES_PER_THREAD * threads, math.ceil(accepted / ROWS_PER_RANGE))
    bounds = _range_bounds(ids.astype(object), ranges)
    n_ranges = len(bounds) + 1
    split_parts = [client.submit(_split_rows, f, bounds) for f in part_results]
    split_outcomes = client.submit(_split_outcomes, outcome_result, bounds)
    client_pieces = split_frame(clients[["client_id", "start_date"]], bounds)
    panels = [
        client.submit(
            range_panel,
            [client.submit(operator.getitem, f, r) for f in split_parts],
            client.submit(operator.getitem, split_outcomes, r),
            client_pieces[r],
        )
        for r in range(n_ranges)
    ]
    del part_results, outcome_result  # the workers free each part's rows once split
    ledgers = {
        "sessions": [s[1] for s in summaries],
        "outcomes": [outcome_ledger],
        "clients": [clients_ledger],
        "catalog": [catalog_ledger],
    }
    rejected = pd.concat([ledger for name in TABLES for ledger in ledgers[name] if len(ledger)] or [ledgers["catalog"][0]], ignore_index=True)
    read = {"sessions": sum(s[0] for s in summaries), "outcomes": outcome_read, "clients": clients_read, "catalog": catalog_read}
    return ClusterDataset(
        client=client,
        rejected=rejected,
        read={name: int(n) for name, n in read.items() if n is not None},
        clients=clients,
        instruments=instruments,
        ranges=panels,
    )
