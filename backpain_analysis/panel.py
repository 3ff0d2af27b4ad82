"""The client-week panel (CONTRACT section 3): exposures, adherence, load, outcomes.

One row per client per week. ``week`` counts whole weeks from the client's
``start_date`` (or, without one, the earlier of the client's first session and
first outcome); week 0 is days 0-6. Every week from 0 to the week of the
client's last record (session or outcome) is present: a week without sessions
has zero exposures, not missing ones. Outcomes are weekly means and stay
missing in weeks nobody measured them. Records dated before a client's week 0
(possible only in a hand-built :class:`Dataset`: the loader rejects them) are
left out.

Speed: every sum is a ``numpy.bincount`` over integer client-week (or
client-day) positions on a dense grid, so ten million session rows aggregate
in seconds without sorting rows. Columns are read as codes into their
distinct values, so each distinct value is converted once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from backpain_analysis.contract import MODALITIES
from backpain_analysis.dataset import Dataset

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


def _factorized(frame: pd.DataFrame, column: str) -> tuple[np.ndarray, np.ndarray]:
    """``column`` as (codes, distinct values); missing values get their own code."""
    codes, values = pd.factorize(frame[column], use_na_sentinel=False)
    return codes, np.asarray(values)


@dataclass(frozen=True)
class _FrameColumns:
    """A sessions DataFrame read column by column as codes into distinct values."""

    frame: pd.DataFrame

    def codes(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        """``column`` as (codes, distinct values)."""
        return _factorized(self.frame, column)


def _coded(dataset: Dataset) -> _FrameColumns:
    """The dataset's sessions as codes into distinct values."""
    return _FrameColumns(dataset.sessions)


def _days(values: np.ndarray) -> np.ndarray:
    """Whole days since 1970-01-01 of datetimes (the day each falls on)."""
    return np.asarray(values, dtype="datetime64[ns]").astype("datetime64[D]").astype(np.int64)


def _numbers(columns: _FrameColumns, name: str) -> np.ndarray:
    codes, values = columns.codes(name)
    return np.asarray(values, dtype=np.float64)[codes]


@dataclass
class _Sessions:
    """Session rows as arrays: client position, day, session key, modality code, sets, seconds, load volume.

    Training time is summed in seconds (``sets * duration_s``, whole numbers
    in practice, so sums are exact) and divided by 60 once per cell: the
    20-minute threshold is never missed by a rounding error.
    """

    client: np.ndarray
    day: np.ndarray
    session: np.ndarray
    modality: np.ndarray
    sets: np.ndarray
    seconds: np.ndarray
    volume: np.ndarray


def _ids_and_codes(pairs: Sequence[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, list[np.ndarray]]:
    """The sorted distinct client ids over several (codes, values) columns and each row's position in them."""
    values = [np.asarray(v, dtype=object) for _, v in pairs]
    ids = np.unique(np.concatenate(values)) if values and sum(len(v) for v in values) else np.array([], dtype=object)
    positions = [np.searchsorted(ids, v).astype(np.int64)[codes] if len(v) else codes.astype(np.int64) for (codes, _), v in zip(pairs, values, strict=True)]
    return ids, positions


def _session_arrays(columns: _FrameColumns, client: np.ndarray) -> _Sessions:
    start_codes, start_values = columns.codes("session_start")
    _, canonical = np.unique(np.asarray(start_values, dtype="datetime64[ns]"), return_inverse=True)
    date_codes, date_values = columns.codes("date")
    modality_codes, modality_values = columns.codes("modality")
    per_value = np.array([_MODALITY.get(v, _UNKNOWN) if isinstance(v, str) else _UNKNOWN for v in modality_values], dtype=np.int8)
    sets = _numbers(columns, "sets")
    seconds = np.nan_to_num(sets * _numbers(columns, "duration_s"), nan=0.0)
    volume = np.nan_to_num(sets * _numbers(columns, "reps") * _numbers(columns, "load_kg"), nan=0.0)
    return _Sessions(
        client=client,
        day=_days(date_values)[date_codes],
        session=canonical.astype(np.int64)[start_codes],
        modality=per_value[modality_codes],
        sets=sets,
        seconds=seconds,
        volume=volume,
    )


def _start_days(ids: np.ndarray, days: Sequence[tuple[np.ndarray, np.ndarray]], clients: pd.DataFrame) -> np.ndarray:
    """Day 0 of each client (days since 1970): ``start_date`` if given, else the first record."""
    start = np.full(len(ids), np.iinfo(np.int64).max, dtype=np.int64)
    for client, day in days:
        np.minimum.at(start, client, day)
    if len(clients) and "start_date" in clients.columns:
        given = clients.dropna(subset=["start_date"]).drop_duplicates("client_id")
        where = pd.Index(ids).get_indexer(given["client_id"].to_numpy(dtype=object))
        found = where >= 0
        start[where[found]] = _days(given["start_date"].to_numpy())[found]
    return start


def client_start_dates(dataset: Dataset) -> pd.Series:
    """Day 0 of each client's weeks, indexed by ``client_id``.

    The client's ``start_date`` when the clients table gives one, else the
    earlier of the client's first session and first outcome.
    """
    columns = _coded(dataset)
    date_codes, date_values = columns.codes("date")
    outcome_day = _days(dataset.outcomes["date"].to_numpy())
    ids, (s_client, o_client) = _ids_and_codes([columns.codes("client_id"), _factorized(dataset.outcomes, "client_id")])
    start = _start_days(ids, [(s_client, _days(date_values)[date_codes]), (o_client, outcome_day)], dataset.clients)
    return pd.Series(start.astype("datetime64[D]").astype("datetime64[ns]"), index=pd.Index(ids, name="client_id"), name="start_date")


@dataclass
class _Grid:
    """Client-weeks 0..last of each client, in client then week order; row of (client c, week w) = offset[c] + w."""

    start: np.ndarray
    weeks: np.ndarray
    offset: np.ndarray

    @property
    def size(self) -> int:
        return int(self.weeks.sum())

    def rows(self, client: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Grid row of each record (-1 before the client's week 0)."""
        week = (day - self.start[client]) // 7
        return np.where(week >= 0, self.offset[client] + week, -1)


def _grid(start: np.ndarray, records: Sequence[tuple[np.ndarray, np.ndarray]]) -> _Grid:
    last = np.full(len(start), -1, dtype=np.int64)
    for client, day in records:
        np.maximum.at(last, client, (day - start[client]) // 7)
    weeks = last + 1
    return _Grid(start=start, weeks=weeks, offset=np.concatenate([[0], np.cumsum(weeks)[:-1]]).astype(np.int64))


def _exposures(s: _Sessions, grid: _Grid) -> dict[str, np.ndarray]:
    """Weekly exposures and adherence per grid row (dense arrays of length ``grid.size``)."""
    n = grid.size
    row = grid.rows(s.client, s.day)
    keep = row >= 0
    row, modality = row[keep], s.modality[keep].astype(np.int64)
    cell = row * (_UNKNOWN + 1) + modality
    by_modality = {
        name: np.bincount(cell, weights=values[keep], minlength=n * (_UNKNOWN + 1)).reshape(n, _UNKNOWN + 1)
        for name, values in (("sets", s.sets), ("seconds", s.seconds), ("volume", s.volume))
    }
    sets, minutes = by_modality["sets"], by_modality["seconds"] / 60.0
    out = {f"{m}_sets": sets[:, _MODALITY[m]].round().astype(np.int64) for m in ("core", "back", "other_strength")}
    out["strength_sets"] = out["core_sets"] + out["back_sets"]
    out["volume_load_kg"] = by_modality["volume"][:, _STRENGTH].sum(axis=1)
    out |= {f"{m}_min": minutes[:, _MODALITY[m]].copy() for m in ("flexibility", "mixed", "other")}
    out["training_min"] = minutes.sum(axis=1)
    day_cell = row * 7 + (s.day[keep] - grid.start[s.client[keep]]) % 7
    out["sessions"] = _distinct_per_row(day_cell, s.session[keep], n)
    out["active_days"] = (np.bincount(day_cell, minlength=7 * n).reshape(n, 7) > 0).sum(axis=1)
    daily = np.bincount(day_cell, weights=s.seconds[keep], minlength=7 * n).reshape(n, 7)
    out["days_20min"] = (daily >= 60.0 * DAILY_MINUTES_TARGET).sum(axis=1)
    return out


def _distinct_per_row(day_cell: np.ndarray, session: np.ndarray, n: int) -> np.ndarray:
    """Distinct session keys per grid row (a session falls on one client-day, hence one row).

    Consecutive repeats (rows of one session logged together) are dropped
    before the hash-based ``unique``, which then sees about one row per session.
    """
    span = int(session.max()) + 1 if len(session) else 1
    key = day_cell * span + session
    first_of_run = np.ones(len(key), dtype=bool)
    first_of_run[1:] = key[1:] != key[:-1]
    return np.bincount(pd.unique(key[first_of_run]) // span // 7, minlength=n)


def _ewma_loads(s: _Sessions, grid: _Grid) -> dict[str, np.ndarray]:
    """Exponentially weighted acute and chronic daily load at the end of each week.

    Daily loads (strength sets, flexibility minutes) are smoothed with
    ``L_d = lam * x_d + (1 - lam) * L_{d-1}``, ``lam = 2 / (N + 1)``, starting
    from 0 on day 0 (Williams et al. 2017, Br J Sports Med 51:209). Units are
    per day: sets/day and minutes/day. Descriptive only. Computed a week at a
    time: ``L`` at the end of week w is ``(1 - lam)^7`` times ``L`` at the end
    of week w-1 plus the week's seven days weighted ``lam (1 - lam)^(6 - j)``.
    """
    n = grid.size
    row = grid.rows(s.client, s.day)
    keep = row >= 0
    day_cell = row[keep] * 7 + (s.day[keep] - grid.start[s.client[keep]]) % 7
    strength = np.isin(s.modality[keep], _STRENGTH)
    daily = {
        "strength": np.bincount(day_cell, weights=np.where(strength, s.sets[keep], 0.0), minlength=7 * n).reshape(n, 7),
        "flexibility": np.bincount(
            day_cell, weights=np.where(s.modality[keep] == _MODALITY["flexibility"], s.seconds[keep], 0.0), minlength=7 * n
        ).reshape(n, 7)
        / 60.0,
    }
    out = {}
    for name, values in daily.items():
        for label, span in (("acute", ACUTE_DAYS), ("chronic", CHRONIC_DAYS)):
            lam = 2.0 / (span + 1.0)
            level = values @ (lam * (1.0 - lam) ** np.arange(6, -1, -1))
            decay = (1.0 - lam) ** 7
            for week in range(1, int(grid.weeks.max(initial=0))):
                rows = grid.offset[grid.weeks > week] + week
                level[rows] += decay * level[rows - 1]
            out[f"{name}_{label}"] = level
    return out


def _outcome_means(outcomes: pd.DataFrame, client: np.ndarray, day: np.ndarray, grid: _Grid) -> dict[str, np.ndarray]:
    """Weekly mean score per instrument (NaN where not measured), one column per instrument, sorted by name."""
    row = grid.rows(client, day)
    score = outcomes["score"].to_numpy(dtype=np.float64)
    keep = (row >= 0) & ~np.isnan(score)
    instrument_codes, instruments = pd.factorize(outcomes["instrument"].to_numpy(dtype=object)[keep])
    n, k = grid.size, len(instruments)
    cell = row[keep] * k + instrument_codes
    total = np.bincount(cell, weights=score[keep], minlength=n * k).reshape(n, k)
    count = np.bincount(cell, minlength=n * k).reshape(n, k)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, total / count, np.nan)
    return {str(name): mean[:, i] for name, i in sorted((str(v), i) for i, v in enumerate(instruments))}


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
    - client covariates from the clients table (``program``, ``studio``,
      ``age``, ``sex``, ...), identifying columns never among them.
    """
    columns, outcomes = _coded(dataset), dataset.outcomes
    ids, (s_client, o_client) = _ids_and_codes([columns.codes("client_id"), _factorized(outcomes, "client_id")])
    sessions = _session_arrays(columns, s_client)
    o_day = _days(outcomes["date"].to_numpy())
    start = _start_days(ids, [(s_client, sessions.day), (o_client, o_day)], dataset.clients)
    grid = _grid(start, [(s_client, sessions.day), (o_client, o_day)])
    client = np.repeat(np.arange(len(ids)), grid.weeks)
    week = np.arange(grid.size) - grid.offset[client]
    panel = {
        "client_id": ids[client],
        "week": week,
        "week_start": ((start[client] + 7 * week) * _NS_PER_DAY).astype("datetime64[ns]"),
    }
    panel |= _exposures(sessions, grid)
    panel["met_20min_most_days"] = panel["days_20min"] >= MOST_DAYS
    panel |= _ewma_loads(sessions, grid)
    panel |= _outcome_means(outcomes, o_client, o_day, grid)
    frame = pd.DataFrame(panel)
    covariates = dataset.clients.drop(columns=["start_date", "source_row"], errors="ignore")
    if len(covariates.columns) > 1:
        covariates = covariates.drop_duplicates("client_id").set_index("client_id")
        frame = frame.join(covariates.reindex(ids).iloc[client].reset_index(drop=True))
    return frame


def lagged(panel: pd.DataFrame, columns: Sequence[str], lag: int = 1, suffix: str | None = None) -> pd.DataFrame:
    """Add each column's value from week ``t - lag`` of the same client.

    Parameters
    ----------
    panel:
        A weekly panel keyed by ``client_id`` and ``week``.
    columns:
        Columns to lag.
    lag:
        Weeks back (0 returns copies). Week ``t - lag`` before the client's
        week 0 gives NaN.
    suffix:
        Name of the new columns is ``column + suffix``; default ``_lag{lag}``.

    Returns
    -------
    The panel with the lagged columns added (original rows and order).
    """
    if lag < 0:
        raise ValueError("lag must be >= 0")
    suffix = f"_lag{lag}" if suffix is None else suffix
    shifted = panel[["client_id", "week", *columns]].copy()
    shifted["week"] = shifted["week"] + lag
    shifted = shifted.rename(columns={c: f"{c}{suffix}" for c in columns})
    return panel.merge(shifted, on=["client_id", "week"], how="left")
