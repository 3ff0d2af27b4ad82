"""Descriptive numbers the report shows beside its models: means with intervals, nothing fitted.

Figures draw these; they never compute them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from backpain_analysis.evidence import PAIN_TO_100


def improvement_on_100(changes: pd.DataFrame, outcome: str, by: str = "program", level: float = 0.95) -> pd.DataFrame:
    """Mean pain improvement from baseline, on a 0-100 scale, overall and by group.

    Parameters
    ----------
    changes:
        :func:`backpain_analysis.responders.client_changes` of a pain
        instrument (``improvement`` per client, positive = better).
    outcome:
        ``nprs`` or ``vas`` (:data:`~backpain_analysis.evidence.PAIN_TO_100`).
    by:
        Group column in ``changes`` (rows per group when present).
    level:
        Confidence level of the t interval.

    Returns
    -------
    DataFrame: ``group`` (``"all"`` then each group), ``n_clients``,
    ``estimate`` (mean improvement, points on 0-100), ``std_error``,
    ``conf_low``, ``conf_high`` (t interval on ``n_clients - 1`` df; NaN
    with fewer than 2 clients).
    """
    factor = PAIN_TO_100[outcome]
    groups = [("all", changes)]
    if by in changes.columns:
        groups += [(str(g), rows) for g, rows in changes[changes[by].notna()].groupby(by, sort=True)]
    out = []
    for label, rows in groups:
        values = factor * rows["improvement"].to_numpy(float)
        n = len(values)
        mean = float(values.mean()) if n else np.nan
        se = float(values.std(ddof=1) / np.sqrt(n)) if n > 1 else np.nan
        half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * se if n > 1 else np.nan
        out.append({"group": label, "n_clients": n, "estimate": mean, "std_error": se, "conf_low": mean - half, "conf_high": mean + half})
    return pd.DataFrame(out)


SECONDS_PER_UNTIMED_SET: float = 90.0
"""Assumed time of one strength set logged without a duration, rest included (seconds).

About 30-40 s of work (8-12 repetitions at 3-4 s each) plus 60 s of rest,
the lower end of the 1-2 minutes between sets that the American College of
Sports Medicine recommends for moderate loads (ACSM Position Stand,
"Progression models in resistance training for healthy adults",
Med Sci Sports Exerc 2009;41(3):687-708). An assumption, not a measurement: pass
another value to :func:`adherence_with_assumed_sets` to see how the answer
moves."""

STRENGTH_FOR_TIME: tuple[str, ...] = ("core", "back", "other_strength")
"""Modalities whose untimed sets count :data:`SECONDS_PER_UNTIMED_SET`."""


def adherence_with_assumed_sets(
    sessions: pd.DataFrame,
    start_dates: pd.Series,
    seconds_per_set: float = SECONDS_PER_UNTIMED_SET,
    minutes_per_day: float = 20.0,
    most_days: int = 4,
) -> pd.DataFrame:
    """Days per client-week with ``minutes_per_day`` of training, counting untimed strength sets.

    A row's time is ``sets x duration_s`` when it has a duration, else, for a
    strength modality (:data:`STRENGTH_FOR_TIME`), ``sets x seconds_per_set``;
    other untimed rows add nothing. Days are counted from each client's day 0
    (``start_dates``, as :func:`backpain_analysis.panel.client_start_dates`
    gives them), week ``w`` being days ``7w`` to ``7w + 6``.

    Parameters
    ----------
    sessions:
        Accepted session rows (``Dataset.sessions``): ``client_id``, ``date``,
        ``modality``, ``sets``, ``duration_s``.
    start_dates:
        Day 0 per client, indexed by ``client_id``.

    Returns
    -------
    DataFrame, one row per client-week with any training: ``client_id``,
    ``week``, ``days_20min_assumed`` (days reaching ``minutes_per_day``),
    ``met_most_days_assumed`` (``days_20min_assumed >= most_days``). ``attrs``:
    ``seconds_per_set``.
    """
    columns = ["client_id", "week", "days_20min_assumed", "met_most_days_assumed"]
    if sessions.empty:
        return pd.DataFrame(columns=columns).astype({"week": int, "days_20min_assumed": int, "met_most_days_assumed": bool})
    sets = sessions["sets"].astype(float)
    untimed = sessions["duration_s"].isna() & sessions["modality"].astype(str).isin(STRENGTH_FOR_TIME)
    seconds = (sets * sessions["duration_s"]).where(~untimed, sets * seconds_per_set).fillna(0.0)
    start = sessions["client_id"].map(start_dates)
    day = (sessions["date"].dt.normalize() - start).dt.days
    daily = pd.DataFrame({"client_id": sessions["client_id"], "day": day, "seconds": seconds}).groupby(["client_id", "day"])["seconds"].sum()
    daily = daily.reset_index()
    daily["week"] = daily["day"] // 7
    daily["enough"] = daily["seconds"] >= 60.0 * minutes_per_day - 1e-9
    out = daily.groupby(["client_id", "week"])["enough"].sum().rename("days_20min_assumed").reset_index()
    out["days_20min_assumed"] = out["days_20min_assumed"].astype(int)
    out["met_most_days_assumed"] = out["days_20min_assumed"] >= most_days
    out.attrs["seconds_per_set"] = seconds_per_set
    return out[columns]


def without_small_intervals(
    table: pd.DataFrame, minimum: int = 5, n_column: str = "n_clients", columns: tuple[str, ...] = ("std_error", "conf_low", "conf_high")
) -> pd.DataFrame:
    """``table`` with the interval columns blanked (NaN) on rows resting on fewer than ``minimum`` clients.

    For display: an interval from two or three clients is not shown as if it
    meant something; the counts and estimates stay.
    """
    small = table[n_column] < minimum
    present = [c for c in columns if c in table.columns]
    out = table.copy()
    out.loc[small, present] = np.nan
    return out
