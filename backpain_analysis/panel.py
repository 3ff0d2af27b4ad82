"""The client-week panel (CONTRACT section 3): exposures, adherence, load, outcomes.

One row per client per week. ``week`` counts whole weeks from the client's
``start_date`` (or, without one, the earlier of the client's first session and
first outcome); week 0 is days 0-6. Every week from 0 to the week of the
client's last record (session or outcome) is present: a week without sessions
has zero exposures, not missing ones. Outcomes are weekly means and stay
missing in weeks nobody measured them. Records dated before a client's week 0
(possible only in a hand-built :class:`Dataset`: the loader rejects them) are
left out.

Speed and memory: columns are read as codes into their distinct values, so
each distinct value is converted once; every dataset holds its sessions in
that form (``Dataset.session_table``, a
:class:`~backpain_analysis.coded.CodedTable`) and they never become a
DataFrame here. Rows are then taken about 250,000 at a time (each chunk's
temporaries stay small): a first pass finds each client's first and last
day (over each run of one client's rows), a second
adds every row into dense client-day and client-week arrays (a bincount over
the span of cells a chunk touches, short when rows come client by client;
``numpy.add.at`` otherwise). No row is sorted, and
besides the codes memory grows with the number of client-weeks, not of rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from backpain_analysis.contract import MODALITIES
from backpain_analysis.coded import Coded
from backpain_analysis.dataset import Dataset
from backpain_analysis.lags import check_lag

EXPOSURE_COLUMNS: tuple[str, ...] = (
    "core_sets",
    "back_sets",
    "other_strength_sets",
    "strength_sets",
    "volume_load_kg",
    "flexibility_min",
    "mixed_min",
    "other_min",
    "training_min",
    "sessions",
    "active_days",
)
"""Exposure columns of the panel, in order (units: sets/week, kg/week, min/week, counts)."""

SESSION_COLUMNS: tuple[str, ...] = ("client_id", "date", "session_start", "modality", "sets", "reps", "load_kg", "duration_s")
"""The session columns the panel reads (of ``Dataset.session_table``); a process that only builds panels may keep just these."""

ADHERENCE_COLUMNS: tuple[str, ...] = ("days_20min", "met_20min_most_days")
LOAD_COLUMNS: tuple[str, ...] = (
    "strength_acute",
    "strength_chronic",
    "flexibility_acute",
    "flexibility_chronic",
)

MOST_DAYS: int = 4
"""Days a week that count as "most days" (more than half of 7)."""
DAILY_MINUTES_TARGET: float = 20.0
"""The lower end of the "20-30 minutes" a day the programs ask for."""
ACUTE_DAYS: int = 7
CHRONIC_DAYS: int = 28

_MODALITY = {name: i for i, name in enumerate(MODALITIES)}
_UNKNOWN = len(MODALITIES)
_STRENGTH = [_MODALITY["core"], _MODALITY["back"]]
_NS_PER_DAY = 86_400_000_000_000
_CHUNK_ROWS = 250_000
"""Rows per pass of the sums (each chunk's temporaries: about 20 MB)."""


def _days(values: np.ndarray) -> np.ndarray:
    """Whole days since 1970-01-01 of datetimes (the day each falls on; NaT -> 0, only on rejected rows)."""
    values = np.asarray(values, dtype="datetime64[ns]")
    return np.where(np.isnat(values), 0, values.astype("datetime64[D]").astype(np.int64))


@dataclass
class _Rows:
    """Records as codes into distinct values (``coded``), only the rows in ``accepted`` counting."""

    coded: dict[str, Coded]
    accepted: np.ndarray | None = None

    @classmethod
    def of(cls, frame: pd.DataFrame, columns: Sequence[str]) -> _Rows:
        return cls({name: Coded.of(frame[name]) for name in columns})

    def chunks(self, *names: str) -> Iterator[dict[str, np.ndarray]]:
        """The accepted rows' codes of ``names``, about :data:`_CHUNK_ROWS` rows at a time.

        A chunk ends where the client changes (looking up to one more chunk
        ahead), so a client whose rows come together is summed within one
        chunk: its sums are the plain running sums in row order, whatever
        the chunk size or the other clients in the table.
        """
        clients = self.coded["client_id"].codes
        n, first = len(clients), 0
        while first < n:
            end = min(first + _CHUNK_ROWS, n)
            if end < n:
                ahead = min(end + _CHUNK_ROWS, n)
                change = np.flatnonzero(clients[end:ahead] != clients[end - 1])
                end = end + int(change[0]) if len(change) else ahead
            part = slice(first, end)
            keep = None if self.accepted is None else self.accepted[part]
            yield {name: self.coded[name].codes[part] if keep is None else self.coded[name].codes[part][keep] for name in names}
            first = end


def _sessions(dataset: Dataset) -> _Rows:
    """The dataset's session rows, as the codes it holds (only the accepted rows counting)."""
    table = dataset.session_table
    return _Rows({name: table.columns[name] for name in SESSION_COLUMNS}, None if table.accepted.all() else table.accepted)


@dataclass
class _Clients:
    """The clients with a record, sorted by id, and each one's first and last day (days since 1970)."""

    ids: np.ndarray
    first: np.ndarray
    last: np.ndarray
    position: dict[str, np.ndarray] = field(default_factory=dict)
    """Per records table: the client position of each distinct ``client_id`` value (-1: no accepted row)."""


def _clients(tables: dict[str, _Rows]) -> _Clients:
    """First pass over every table: which clients have records, their first and last day (per run of one client's rows)."""
    ranges = {}
    for name, rows in tables.items():
        ids, day = rows.coded["client_id"].values, _days(rows.coded["date"].values)
        first = np.full(len(ids), np.iinfo(np.int64).max)
        last = np.full(len(ids), np.iinfo(np.int64).min)
        for chunk in rows.chunks("client_id", "date"):
            if not len(chunk["client_id"]):
                continue
            runs = np.flatnonzero(_first_of_runs(chunk["client_id"]))  # a client's rows usually come together
            when = day[chunk["date"]]
            np.minimum.at(first, chunk["client_id"][runs], np.minimum.reduceat(when, runs))
            np.maximum.at(last, chunk["client_id"][runs], np.maximum.reduceat(when, runs))
        present = first <= last
        ranges[name] = (np.asarray(ids, dtype=object), present, first, last)
    present_ids = [ids[present] for ids, present, _, _ in ranges.values()]
    union = np.unique(np.concatenate(present_ids)) if sum(map(len, present_ids)) else np.array([], dtype=object)
    clients = _Clients(union, np.full(len(union), np.iinfo(np.int64).max), np.full(len(union), np.iinfo(np.int64).min))
    for name, (ids, present, first, last) in ranges.items():
        where = np.where(present, np.searchsorted(union, ids), -1) if len(union) else np.full(len(ids), -1)
        clients.position[name] = where
        np.minimum.at(clients.first, where[present], first[present])
        np.maximum.at(clients.last, where[present], last[present])
    return clients


def _first_of_runs(*codes: np.ndarray) -> np.ndarray:
    """Rows whose codes differ from the row before's in any of ``codes`` (the first row of each run of equal rows)."""
    first = np.zeros(len(codes[0]), dtype=bool)
    first[:1] = True
    for column in codes:
        first[1:] |= column[1:] != column[:-1]
    return first


def _start_days(clients: _Clients, table: pd.DataFrame) -> np.ndarray:
    """Day 0 of each client (days since 1970): ``start_date`` if the clients table gives one, else the first record."""
    start = clients.first.copy()
    if len(table) and "start_date" in table.columns:
        given = table.dropna(subset=["start_date"]).drop_duplicates("client_id")
        where = pd.Index(clients.ids).get_indexer(given["client_id"].to_numpy(dtype=object))
        found = where >= 0
        start[where[found]] = _days(given["start_date"].to_numpy())[found]
    return start


def _records(dataset: Dataset) -> dict[str, _Rows]:
    return {"sessions": _sessions(dataset), "outcomes": _Rows.of(dataset.outcomes, ("client_id", "date", "instrument", "score"))}


def client_start_dates(dataset: Dataset) -> pd.Series:
    """Day 0 of each client's weeks, indexed by ``client_id``.

    The client's ``start_date`` when the clients table gives one, else the
    earlier of the client's first session and first outcome.
    """
    clients = _clients(_records(dataset))
    start = _start_days(clients, dataset.clients)
    return pd.Series(start.astype("datetime64[D]").astype("datetime64[ns]"), index=pd.Index(clients.ids, name="client_id"), name="start_date")


@dataclass
class _Grid:
    """Client-weeks 0..last of each client, in client then week order; row of (client c, week w) = offset[c] + w."""

    start: np.ndarray
    weeks: np.ndarray
    offset: np.ndarray
    early_records: bool
    """Does any client have a record before its day 0 (only possible in a hand-built Dataset)?"""

    @property
    def size(self) -> int:
        return int(self.weeks.sum())

    def day_cells(self, position: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per distinct client value (its ``position``, -1 for none): the client-day of day 0 and day 0 itself.

        A record on day ``d`` falls in client-day ``7 * row + day of the week``
        = ``base + d``, when ``d >= start`` (else it is before week 0).
        """
        present = position >= 0
        safe = np.where(present, position, 0)
        if not present.any():
            return np.zeros(len(position), dtype=np.int64), np.full(len(position), np.iinfo(np.int64).max)
        base = np.where(present, 7 * self.offset[safe] - self.start[safe], 0)
        return base, np.where(present, self.start[safe], np.iinfo(np.int64).max)


def _grid(clients: _Clients, start: np.ndarray) -> _Grid:
    weeks = np.maximum((clients.last - start) // 7 + 1, 0)
    offset = np.concatenate([[0], np.cumsum(weeks)[:-1]]).astype(np.int64)
    return _Grid(start=start, weeks=weeks, offset=offset, early_records=bool((clients.first < start).any()))


def _per_value(column: Coded) -> np.ndarray:
    return np.asarray(column.values, dtype=np.float64)


def _ewma_day_weights(span: int) -> np.ndarray:
    """Weight of day ``j`` (0-6) of a week in the exponentially weighted load at the week's end."""
    lam = 2.0 / (span + 1.0)
    return lam * (1.0 - lam) ** np.arange(6, -1, -1)


def _session_sums(rows: _Rows, position: np.ndarray, grid: _Grid) -> dict[str, np.ndarray]:
    """Second pass over the sessions: dense sums per client-week (and, where a day matters, per client-day).

    Training time is summed in seconds (``sets * duration_s``, whole numbers
    in practice, so sums are exact) and divided by 60 once per cell: the
    20-minute threshold is never missed by a rounding error. Loads enter as
    each week's days weighted for the smoothing (:func:`_ewma_loads`).
    Every sum goes into a dense array by :meth:`_Span.add`.
    """
    n, k = grid.size, _UNKNOWN + 1
    day = _days(rows.coded["date"].values)
    _, session = np.unique(np.asarray(rows.coded["session_start"].values, dtype="datetime64[ns]"), return_inverse=True)
    modality = np.array([_MODALITY.get(v, _UNKNOWN) if isinstance(v, str) else _UNKNOWN for v in rows.coded["modality"].values], dtype=np.int64)
    strength = np.isin(np.arange(k), _STRENGTH)
    flexibility = np.arange(k) == _MODALITY["flexibility"]
    sets = _per_value(rows.coded["sets"])
    reps, load, duration = (np.nan_to_num(_per_value(rows.coded[c])) for c in ("reps", "load_kg", "duration_s"))  # unknown adds 0
    sums = {name: np.zeros(n * k) for name in ("sets", "seconds", "volume")}  # per client-week and modality
    sums["day_seconds"], active = np.zeros(7 * n), np.zeros(7 * n, dtype=np.int32)  # rows per client-day
    daily_loads = np.zeros(14 * n)  # per client-day: strength sets, flexibility minutes
    keys, span_keys = [], int(session.max(initial=0)) + 1
    base, start = grid.day_cells(position)
    for chunk in rows.chunks(*SESSION_COLUMNS):
        when, client = day[chunk["date"]], chunk["client_id"]
        kept = _Kept(when >= start[client] if grid.early_records else None)
        cell = kept(base[client] + when)
        if not len(cell):
            continue
        span = _Span.of(cell)
        local = cell - span.first
        m = modality[kept(chunk["modality"])]
        row_sets = sets[kept(chunk["sets"])]
        seconds = row_sets * duration[kept(chunk["duration_s"])]
        volume = row_sets * reps[kept(chunk["reps"])] * load[kept(chunk["load_kg"])]
        by_modality = local // 7 * k + m
        for name, weights in (("sets", row_sets), ("seconds", seconds), ("volume", volume)):
            span.add(sums[name], by_modality, weights, per_week=k)
        span.add(active, local, None, per_day=1)
        span.add(sums["day_seconds"], local, seconds, per_day=1)
        flexible = flexibility[m]
        span.add(daily_loads, 2 * local + flexible, np.where(flexible, seconds / 60.0, np.where(strength[m], row_sets, 0.0)), per_day=2)
        keys.append(_session_keys(cell, session[kept(chunk["session_start"])], span_keys))
    distinct = pd.unique(np.concatenate(keys)) if keys else np.array([], dtype=np.int64)
    sums["sessions"] = np.bincount(distinct // span_keys // 7, minlength=n)
    sums["active_days"] = (active.reshape(n, 7) > 0).sum(axis=1)
    sums["days_20min"] = (sums.pop("day_seconds").reshape(n, 7) >= 60.0 * DAILY_MINUTES_TARGET).sum(axis=1)
    daily_loads = daily_loads.reshape(n, 7, 2)
    for i, name in enumerate(("strength", "flexibility")):
        for label, span in (("acute", ACUTE_DAYS), ("chronic", CHRONIC_DAYS)):
            sums[f"{name}_{label}"] = daily_loads[:, :, i] @ _ewma_day_weights(span)
    return {name: values.reshape(n, k) if name in ("sets", "seconds", "volume") else values for name, values in sums.items()}


_DENSE_SLACK: int = 4096
"""Client-days a chunk's span may exceed eight per row and still be summed by a bincount over it."""


@dataclass(frozen=True)
class _Span:
    """The client-days a chunk of rows touches: ``days`` days from client-day ``first`` (whole weeks)."""

    first: int
    days: int
    dense: bool
    """Sum by a bincount over the span (else ``numpy.add.at``, slower per row but indifferent to the span)."""

    @classmethod
    def of(cls, cell: np.ndarray) -> _Span:
        first = int(cell.min()) // 7 * 7
        days = (int(cell.max()) - first) // 7 * 7 + 7
        return cls(first, days, days <= 8 * len(cell) + _DENSE_SLACK)  # rows logged client by client: a few hundred clients' weeks

    def add(self, total: np.ndarray, index: np.ndarray, weights: np.ndarray | None, *, per_day: int = 0, per_week: int = 0) -> None:
        """``total[offset + index] += weights`` (1 per row when ``None``), ``index`` counted from the span's first day.

        ``total`` holds ``per_day`` slots per client-day or ``per_week`` per client-week.
        """
        offset, size = (self.first * per_day, self.days * per_day) if per_day else (self.first // 7 * per_week, self.days // 7 * per_week)
        if self.dense:
            total[offset : offset + size] += np.bincount(index, weights, minlength=size).astype(total.dtype, copy=False)
        else:
            np.add.at(total, index + offset, 1 if weights is None else weights)


@dataclass(frozen=True)
class _Kept:
    """Select the rows in ``mask`` (every row when ``None``)."""

    mask: np.ndarray | None

    def __call__(self, values: np.ndarray) -> np.ndarray:
        return values if self.mask is None else values[self.mask]


def _session_keys(cell: np.ndarray, session: np.ndarray, span: int) -> np.ndarray:
    """(client-day, session start) pairs as ``cell * span + session`` (``session < span``), consecutive repeats dropped.

    The rows of one session logged together leave one key; the hash-based
    ``unique`` over all chunks' keys then sees about one key per session.
    """
    key = cell * span + session
    return key[_first_of_runs(key)]


def _exposures(sums: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Weekly exposures and adherence per grid row from the dense sums."""
    sets, minutes = sums["sets"], sums["seconds"] / 60.0
    out = {f"{m}_sets": sets[:, _MODALITY[m]].round().astype(np.int64) for m in ("core", "back", "other_strength")}
    out["strength_sets"] = out["core_sets"] + out["back_sets"]
    out["volume_load_kg"] = sums["volume"][:, _STRENGTH].sum(axis=1)
    out |= {f"{m}_min": minutes[:, _MODALITY[m]].copy() for m in ("flexibility", "mixed", "other")}
    out["training_min"] = minutes.sum(axis=1)
    out |= {name: sums[name] for name in ("sessions", "active_days", "days_20min")}
    return out


def _ewma_loads(sums: dict[str, np.ndarray], grid: _Grid) -> dict[str, np.ndarray]:
    """Exponentially weighted acute and chronic daily load at the end of each week.

    Daily loads (strength sets, flexibility minutes) are smoothed with
    ``L_d = lam * x_d + (1 - lam) * L_{d-1}``, ``lam = 2 / (N + 1)``, starting
    from 0 on day 0 (Williams et al. 2017, Br J Sports Med 51:209). Units are
    per day: sets/day and minutes/day. Descriptive only. Computed a week at a
    time: ``L`` at the end of week w is ``(1 - lam)^7`` times ``L`` at the end
    of week w-1 plus the week's own days, day j weighted ``lam (1 - lam)^(6 - j)``
    (:func:`_session_sums`).
    """
    out = {}
    for name in ("strength", "flexibility"):
        for label, span in (("acute", ACUTE_DAYS), ("chronic", CHRONIC_DAYS)):
            level = sums[f"{name}_{label}"].copy()
            decay = (1.0 - 2.0 / (span + 1.0)) ** 7
            for week in range(1, int(grid.weeks.max(initial=0))):
                rows = grid.offset[grid.weeks > week] + week
                level[rows] += decay * level[rows - 1]
            out[f"{name}_{label}"] = level
    return out


def _outcome_means(rows: _Rows, position: np.ndarray, grid: _Grid) -> dict[str, np.ndarray]:
    """Weekly mean score per instrument (NaN where not measured), one column per instrument, sorted by name."""
    codes = {name: rows.coded[name].codes for name in ("client_id", "date", "instrument", "score")}
    base, start = grid.day_cells(position)
    when, client = _days(rows.coded["date"].values)[codes["date"]], codes["client_id"]
    cell = base[client] + when
    score = _per_value(rows.coded["score"])[codes["score"]]
    keep = (when >= start[client]) & ~np.isnan(score)
    instrument_codes, instruments = pd.factorize(rows.coded["instrument"].values[codes["instrument"][keep]])
    n, k = grid.size, len(instruments)
    index = cell[keep] // 7 * k + instrument_codes
    total = np.bincount(index, weights=score[keep], minlength=n * k).reshape(n, k)
    count = np.bincount(index, minlength=n * k).reshape(n, k)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, total / count, np.nan)
    return {str(name): mean[:, i] for name, i in sorted((str(v), i) for i, v in enumerate(instruments))}


MAX_CATEGORIES: int = 20
"""A text covariate with more distinct values than this and than half the clients is not categorical."""


def declared_covariates(clients: pd.DataFrame) -> pd.DataFrame:
    """The clients columns the panel carries: ``client_id`` and the declared covariates.

    A declared covariate is a clients column other than ``client_id``,
    ``start_date`` and ``source_row`` (identifying and free-text columns never
    get this far: the reader drops them, :func:`~backpain_analysis.contract.is_identifying`)
    that is numeric, or text with at most :data:`MAX_CATEGORIES` distinct
    values or at most one per two clients (a category such as ``program``,
    ``studio``, ``coach``, ``sex``). A text column with nearly one value per
    client (a membership number, a remark under an unknown name) is an
    identifier or free text, not a covariate, and is left out.
    """
    kept = clients.drop(columns=["start_date", "source_row"], errors="ignore")
    n_clients = max(len(kept), 1)
    text = [
        name
        for name in kept.columns
        if name != "client_id" and not pd.api.types.is_numeric_dtype(kept[name]) and not pd.api.types.is_datetime64_any_dtype(kept[name])
    ]
    too_many = [name for name in text if kept[name].nunique() > max(MAX_CATEGORIES, n_clients // 2)]
    return kept.drop(columns=too_many)


def weekly_panel(dataset: Dataset) -> pd.DataFrame:
    """Build the client-week panel of CONTRACT section 3.

    Parameters
    ----------
    dataset:
        A loaded :class:`~backpain_analysis.dataset.Dataset`.

    Returns
    -------
    DataFrame, one row per client and week, sorted by ``client_id``, ``week``:

    - ``client_id``; ``week`` (int, 0 = days 0-6 from the client's start);
      ``week_start`` (date of the week's day 0).
    - ``core_sets``, ``back_sets``, ``other_strength_sets``,
      ``strength_sets`` (core + back): sets per week.
    - ``volume_load_kg``: sum of sets x reps x load (kg) over core and back
      rows; rows without reps add 0.
    - ``flexibility_min``, ``mixed_min``, ``other_min``: sum of
      sets x duration_s / 60 over rows of that modality (min/week); rows
      without a duration add 0.
    - ``training_min``: the same over all rows (minutes where known).
    - ``sessions``: distinct session start times; ``active_days``: distinct
      days with any row.
    - ``days_20min``: days with at least 20 known training minutes;
      ``met_20min_most_days``: ``days_20min >= 4``.
    - ``strength_acute``, ``strength_chronic`` (sets/day) and
      ``flexibility_acute``, ``flexibility_chronic`` (min/day): 7- and
      28-day exponentially weighted daily loads at the week's last day.
    - one column per instrument measured (weekly mean score, NaN when none).
    - the declared client covariates (:func:`declared_covariates`):
      ``program``, ``studio``, ``coach``, ``age``, ``sex`` and other numeric
      or categorical clients columns; identifying and free-text columns
      never among them.
    """
    records = _records(dataset)
    clients = _clients(records)
    grid = _grid(clients, _start_days(clients, dataset.clients))
    sums = _session_sums(records["sessions"], clients.position["sessions"], grid)
    client = np.repeat(np.arange(len(clients.ids)), grid.weeks)
    week = np.arange(grid.size) - grid.offset[client]
    panel = {
        "client_id": clients.ids[client],
        "week": week,
        "week_start": ((grid.start[client] + 7 * week) * _NS_PER_DAY).astype("datetime64[ns]"),
    }
    panel |= _exposures(sums)
    panel["met_20min_most_days"] = panel["days_20min"] >= MOST_DAYS
    panel |= _ewma_loads(sums, grid)
    del sums
    panel |= _outcome_means(records["outcomes"], clients.position["outcomes"], grid)
    covariates = declared_covariates(dataset.clients)
    if len(covariates.columns) > 1:
        covariates = covariates.drop_duplicates("client_id").set_index("client_id").reindex(clients.ids)
        both = set(covariates.columns) & set(panel)  # named apart as a merge would: _x (panel), _y (clients)
        panel = {f"{name}_x" if name in both else name: values for name, values in panel.items()}
        panel |= {f"{name}_y" if name in both else name: covariates[name].iloc[client].reset_index(drop=True) for name in covariates.columns}
    return pd.DataFrame(panel, copy=False)


def lagged(panel: pd.DataFrame, columns: Sequence[str], lag: int = 1, suffix: str | None = None) -> pd.DataFrame:
    """Add each column's value from week ``t - lag`` of the same client.

    Parameters
    ----------
    panel:
        A weekly panel keyed by ``client_id`` and ``week``.
    columns:
        Columns to lag.
    lag:
        Weeks back (0 returns copies; negative is refused by
        :func:`~backpain_analysis.lags.check_lag`). Week ``t - lag`` before the client's
        week 0 gives NaN.
    suffix:
        Name of the new columns is ``column + suffix``; default ``_lag{lag}``.

    Returns
    -------
    The panel with the lagged columns added (original rows and order).
    """
    lag = check_lag(lag)
    suffix = f"_lag{lag}" if suffix is None else suffix
    shifted = panel[["client_id", "week", *columns]].copy()
    shifted["week"] = shifted["week"] + lag
    shifted = shifted.rename(columns={c: f"{c}{suffix}" for c in columns})
    return panel.merge(shifted, on=["client_id", "week"], how="left")
