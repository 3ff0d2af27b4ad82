"""The client-week panel (CONTRACT section 3): exposures, adherence, load, outcomes.

One row per client per week. ``week`` counts whole weeks from the client's
``start_date`` (or, without one, the earlier of the client's first session and
first outcome); week 0 is days 0-6. Every week from 0 to the week of the
client's last record (session or outcome) is present: a week without sessions
has zero exposures, not missing ones. Outcomes are weekly means and stay
missing in weeks nobody measured them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.signal import lfilter

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

_SET_MODALITIES = {"core": "core_sets", "back": "back_sets", "other_strength": "other_strength_sets"}
_MINUTE_MODALITIES = {"flexibility": "flexibility_min", "mixed": "mixed_min", "other": "other_min"}
_DAY = np.timedelta64(1, "D")


def client_start_dates(dataset: Dataset) -> pd.Series:
    """Day 0 of each client's weeks, indexed by ``client_id``.

    The client's ``start_date`` when the clients table gives one, else the
    earlier of the client's first session and first outcome.
    """
    first = pd.concat([dataset.sessions[["client_id", "date"]], dataset.outcomes[["client_id", "date"]]])
    start = first.groupby("client_id")["date"].min()
    clients = dataset.clients
    if len(clients) and "start_date" in clients.columns:
        given = clients.dropna(subset=["start_date"]).set_index("client_id")["start_date"]
        given = given[given.index.isin(start.index)]
        start.loc[given.index] = given.to_numpy()
    return start.dt.normalize().rename("start_date")


def _week_of(frame: pd.DataFrame, start: pd.Series) -> np.ndarray:
    days = (frame["date"].dt.normalize() - frame["client_id"].map(start)) / _DAY
    return np.floor(days.to_numpy(dtype=float) / 7).astype("int64")


def _row_minutes(sessions: pd.DataFrame) -> pd.Series:
    """Minutes of one row: sets x duration_s / 60, 0 where the duration is unknown."""
    return (sessions["sets"] * sessions["duration_s"] / 60.0).fillna(0.0)


def _exposures(sessions: pd.DataFrame) -> pd.DataFrame:
    """Weekly exposures per (client_id, week) from sessions that carry ``week``."""
    if sessions.empty:
        return pd.DataFrame(columns=["client_id", "week"])
    s = sessions.assign(
        minutes=_row_minutes(sessions),
        load_volume=(sessions["sets"] * sessions["reps"] * sessions["load_kg"]).fillna(0.0),
    )
    keys = ["client_id", "week"]
    sets = s.pivot_table(index=keys, columns="modality", values="sets", aggfunc="sum", fill_value=0)
    minutes = s.pivot_table(index=keys, columns="modality", values="minutes", aggfunc="sum", fill_value=0.0)
    out = pd.DataFrame(index=s.groupby(keys).size().index)
    for modality, column in _SET_MODALITIES.items():
        out[column] = sets[modality].astype("int64") if modality in sets else 0
    out["strength_sets"] = out["core_sets"] + out["back_sets"]
    strength = s["modality"].isin(["core", "back"])
    out["volume_load_kg"] = s[strength].groupby(keys)["load_volume"].sum().reindex(out.index, fill_value=0.0)
    for modality, column in _MINUTE_MODALITIES.items():
        out[column] = minutes[modality].astype(float) if modality in minutes else 0.0
    out["training_min"] = s.groupby(keys)["minutes"].sum()
    out["sessions"] = s.groupby(keys)["session_start"].nunique()
    out["active_days"] = s.groupby(keys)["date"].nunique()
    daily = s.groupby([*keys, "date"])["minutes"].sum()
    out["days_20min"] = (daily >= DAILY_MINUTES_TARGET).groupby(level=keys).sum()
    return out.reset_index()


def _ewma_loads(sessions: pd.DataFrame, grid: pd.DataFrame, start: pd.Series) -> pd.DataFrame:
    """Exponentially weighted acute and chronic daily load at the end of each week.

    Daily loads (strength sets, flexibility minutes) are smoothed with
    ``L_d = lam * x_d + (1 - lam) * L_{d-1}``, ``lam = 2 / (N + 1)``, starting
    from 0 on day 0 (Williams et al. 2017, Br J Sports Med 51:209). Units are
    per day: sets/day and minutes/day. Descriptive only.
    """
    clients = grid["client_id"].drop_duplicates().to_numpy()
    n_days = int(grid["week"].max() + 1) * 7 if len(grid) else 0
    index = pd.Index(clients)
    day = ((sessions["date"].dt.normalize() - sessions["client_id"].map(start)) / _DAY).to_numpy(dtype="int64")
    row = index.get_indexer(sessions["client_id"])
    strength = np.where(sessions["modality"].isin(["core", "back"]), sessions["sets"], 0).astype(float)
    flexibility = np.where(sessions["modality"] == "flexibility", _row_minutes(sessions), 0.0)
    week_end = grid["week"].to_numpy() * 7 + 6
    grid_row = index.get_indexer(grid["client_id"])
    out = {}
    for name, values in (("strength", strength), ("flexibility", flexibility)):
        daily = np.zeros((len(clients), max(n_days, 1)))
        np.add.at(daily, (row, day), values)
        for label, span in (("acute", ACUTE_DAYS), ("chronic", CHRONIC_DAYS)):
            lam = 2.0 / (span + 1.0)
            smoothed = lfilter([lam], [1.0, lam - 1.0], daily, axis=1)
            out[f"{name}_{label}"] = smoothed[grid_row, week_end]
    return pd.DataFrame(out, index=grid.index)


def _outcomes(outcomes: pd.DataFrame) -> pd.DataFrame:
    if outcomes.empty:
        return pd.DataFrame(columns=["client_id", "week"])
    wide = outcomes.pivot_table(index=["client_id", "week"], columns="instrument", values="score", aggfunc="mean")
    wide.columns = [str(c) for c in wide.columns]
    return wide.reset_index()


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
    sessions, outcomes = dataset.sessions, dataset.outcomes
    start = client_start_dates(dataset)
    sessions = sessions.assign(week=_week_of(sessions, start))
    outcomes = outcomes.assign(week=_week_of(outcomes, start))
    last = pd.concat([sessions[["client_id", "week"]], outcomes[["client_id", "week"]]]).groupby("client_id")["week"].max()
    counts = last.to_numpy() + 1
    grid = pd.DataFrame(
        {
            "client_id": np.repeat(last.index.to_numpy(), counts),
            "week": np.concatenate([np.arange(n) for n in counts]) if len(counts) else np.array([], dtype="int64"),
        }
    )
    grid["week_start"] = grid["client_id"].map(start) + pd.to_timedelta(grid["week"] * 7, unit="D")
    panel = grid.merge(_exposures(sessions), on=["client_id", "week"], how="left")
    int_columns = [c for c in (*EXPOSURE_COLUMNS, "days_20min") if not c.endswith("_min") and c != "volume_load_kg"]
    float_columns = [c for c in EXPOSURE_COLUMNS if c.endswith("_min") or c == "volume_load_kg"]
    panel[int_columns] = panel[int_columns].fillna(0).astype("int64")
    panel[float_columns] = panel[float_columns].fillna(0.0).astype(float)
    panel["met_20min_most_days"] = panel["days_20min"] >= MOST_DAYS
    panel = pd.concat([panel, _ewma_loads(sessions, panel, start)], axis=1)
    panel = panel.merge(_outcomes(outcomes), on=["client_id", "week"], how="left")
    covariates = dataset.clients.drop(columns=["start_date", "source_row"], errors="ignore")
    if len(covariates.columns) > 1:
        panel = panel.merge(covariates, on="client_id", how="left")
    return panel.sort_values(["client_id", "week"], ignore_index=True)


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
