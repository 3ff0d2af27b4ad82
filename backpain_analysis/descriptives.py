"""Descriptive numbers the report shows beside its models: counts, shares, means with intervals, nothing fitted.

Figures draw these; they never compute them. Weekly distributions of
exposures (:func:`weekly_quantiles`), adherence (:func:`adherence_by_week`,
:func:`adherence_with_assumed_sets`), acute:chronic load ratios, mean
trajectories, data coverage and grouped rejection reasons, and the pain change
set beside published evidence (:func:`improvement_on_100`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

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


def panel_with_assumed_sets(panel: pd.DataFrame, assumed: pd.DataFrame) -> pd.DataFrame:
    """``panel`` with ``days_20min`` and ``met_20min_most_days`` counting untimed strength sets.

    ``assumed`` is :func:`adherence_with_assumed_sets`'s table; client-weeks
    absent from it (no training) get 0 days and ``False``. The result feeds
    :func:`adherence_by_week` and :func:`~backpain_analysis.figures.exposure.plot_adherence`
    so that the adherence figure and table use the same minutes as the
    report's headline. ``attrs``: ``seconds_per_set``.
    """
    keys = ["client_id", "week"]
    merged = panel.drop(columns=["days_20min", "met_20min_most_days"], errors="ignore").merge(assumed, on=keys, how="left")
    merged["days_20min"] = merged.pop("days_20min_assumed").fillna(0).astype(int)
    merged["met_20min_most_days"] = merged.pop("met_most_days_assumed").astype("boolean").fillna(False).astype(bool)
    merged.attrs["seconds_per_set"] = assumed.attrs.get("seconds_per_set", SECONDS_PER_UNTIMED_SET)
    return merged


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


_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


_CLIENT = re.compile(r"\bclient (?!…)\S+?(?='s | on )")


def rejection_reasons(rejected: pd.DataFrame) -> pd.DataFrame:
    """Group the rejected ledger by kind of reason.

    A reason's own value (``score 14 is outside ...``), any date, and the
    client a reason names (``before client C012's start_date``) are replaced
    by ``…`` so that rows rejected for the same rule fall together.

    Parameters
    ----------
    rejected:
        The ledger: ``table``, ``row``, ``column``, ``value``, ``reason``.

    Returns
    -------
    DataFrame sorted by ``rows`` (descending), columns ``table``, ``column``,
    ``reason`` (the generalised reason), ``rows`` (count), ``example_row``
    (first spreadsheet row with it), ``example_value``.
    """
    columns = ["table", "column", "reason", "rows", "example_row", "example_value"]
    if rejected.empty:
        return pd.DataFrame(columns=columns)

    def general(reason: object, value: object) -> str:
        text, value = str(reason), "" if pd.isna(value) else str(value)
        if value.strip():
            text = re.sub(rf"(?<![\w.]){re.escape(value)}(?![\w.])", "…", text)
        text = _DATE.sub("…", text)
        return _CLIENT.sub("client …", text)

    ledger = rejected.assign(
        reason=[general(r, v) for r, v in zip(rejected["reason"], rejected["value"], strict=True)],
        column=rejected["column"].fillna("").astype(str),
    ).sort_values(["table", "row"], kind="stable")
    grouped = ledger.groupby(["table", "column", "reason"], sort=False)
    out = grouped.agg(rows=("row", "size"), example_row=("row", "first"), example_value=("value", "first")).reset_index()
    return out.sort_values(["rows", "table", "column", "reason"], ascending=[False, True, True, True], ignore_index=True)[columns]


def weekly_coverage(panel: pd.DataFrame, instruments: Sequence[str]) -> pd.DataFrame:
    """Share of followed clients with sessions and with each instrument, per week.

    A client is followed in week ``w`` when the panel has that client-week
    (from week 0 to the week of their last record).

    Returns
    -------
    DataFrame, one row per week: ``week``, ``clients`` (followed that week),
    ``with_sessions`` (% of them with at least one session), and
    ``with_<instrument>`` (% with that instrument measured) for each
    instrument.
    """
    grouped = panel.groupby("week")
    out = pd.DataFrame({"clients": grouped.size(), "with_sessions": 100 * grouped["sessions"].apply(lambda s: (s > 0).mean())})
    for name in instruments:
        out[f"with_{name}"] = 100 * grouped[name].apply(lambda s: s.notna().mean())
    return out.reset_index()


def mean_trajectory(
    panel: pd.DataFrame, outcome: str, min_clients: int = 3, level: float = 0.95, min_clients_interval: int = 5
) -> pd.DataFrame:
    """Mean score per week with a t-based confidence interval.

    The mean is over the clients measured that week, so who contributes
    changes from week to week (drop-out, skipped measurements): it describes
    the measured clients, it is not a model estimate.

    Parameters
    ----------
    panel:
        The weekly panel.
    outcome:
        Instrument column.
    min_clients:
        Weeks with fewer measured clients are left out.
    level:
        Confidence level of ``conf_low``/``conf_high``.
    min_clients_interval:
        Weeks with fewer measured clients keep their mean but no interval
        (NaN): an interval from 3 or 4 clients is not shown as if meaningful.

    Returns
    -------
    DataFrame: ``week``, ``clients`` (measured that week), ``mean``, ``sd``,
    ``conf_low``, ``conf_high`` (mean +/- t quantile x sd / sqrt(clients)),
    in the instrument's units.
    """
    measured = panel.dropna(subset=[outcome]).groupby("week")[outcome]
    out = pd.DataFrame({"clients": measured.size(), "mean": measured.mean(), "sd": measured.std(ddof=1)}).reset_index()
    out = out[out["clients"] >= min_clients].reset_index(drop=True)
    half = stats.t.ppf(0.5 + level / 2, out["clients"] - 1) * out["sd"] / np.sqrt(out["clients"])
    out = out.assign(conf_low=out["mean"] - half, conf_high=out["mean"] + half)
    return without_small_intervals(out, min_clients_interval, "clients", ("conf_low", "conf_high"))


def weekly_quantiles(panel: pd.DataFrame, columns: Sequence[str], min_clients: int = 5) -> pd.DataFrame:
    """Distribution of weekly exposures across clients, week by week.

    Parameters
    ----------
    panel:
        The weekly panel.
    columns:
        Exposure columns to summarise.
    min_clients:
        Weeks with fewer clients followed are left out (too few to describe).

    Returns
    -------
    Tidy DataFrame: ``week``, ``variable``, ``clients`` (followed that week),
    ``mean``, ``q25``, ``median``, ``q75`` (in the variable's unit per week).
    """
    long = panel.melt(id_vars=["week"], value_vars=list(columns), var_name="variable", value_name="value")
    long["variable"] = pd.Categorical(long["variable"], categories=list(columns))
    grouped = long.groupby(["variable", "week"], observed=True)["value"]
    out = pd.DataFrame(
        {
            "clients": grouped.size(),
            "mean": grouped.mean(),
            "q25": grouped.quantile(0.25),
            "median": grouped.median(),
            "q75": grouped.quantile(0.75),
        }
    ).reset_index()
    out["variable"] = out["variable"].astype(str)
    return out[out["clients"] >= min_clients].reset_index(drop=True)[["week", "variable", "clients", "mean", "q25", "median", "q75"]]


def adherence_by_week(panel: pd.DataFrame, min_clients: int = 5) -> pd.DataFrame:
    """Share of clients meeting "20-30 minutes on most days", week by week.

    Uses the panel's ``met_20min_most_days`` (at least 20 logged training
    minutes on at least 4 of the week's 7 days) and ``days_20min``: pass
    :func:`panel_with_assumed_sets`'s panel to count untimed strength sets
    (the report does).

    Returns
    -------
    DataFrame: ``week``, ``clients`` (followed that week), ``met`` (% of them
    meeting the target), ``mean_days_20min`` (mean days with 20+ minutes);
    weeks with fewer than ``min_clients`` clients are left out.
    """
    grouped = panel.groupby("week")
    out = pd.DataFrame(
        {
            "clients": grouped.size(),
            "met": 100 * grouped["met_20min_most_days"].mean(),
            "mean_days_20min": grouped["days_20min"].mean(),
        }
    ).reset_index()
    return out[out["clients"] >= min_clients].reset_index(drop=True)


def acute_chronic_ratio(panel: pd.DataFrame, prefix: str = "strength", from_week: int = 4) -> pd.Series:
    """Acute:chronic load ratio per client-week from ``from_week`` on (NaN where chronic is 0).

    Earlier weeks are left out: the chronic average starts from zero and needs
    about four weeks to mean anything, so early ratios are inflated.
    """
    later = panel[panel["week"] >= from_week]
    chronic = later[f"{prefix}_chronic"].where(later[f"{prefix}_chronic"] > 0)
    return (later[f"{prefix}_acute"] / chronic).rename(f"{prefix}_acwr")


def ratio_shares(ratio: pd.Series, low: float = 0.8, high: float = 1.3) -> dict[str, float]:
    """Percentages of client-weeks with the ratio below ``low``, within, and above ``high``.

    The 0.8-1.3 band is the range usually quoted as "not a spike"
    (Gabbett 2016, Br J Sports Med 50:273); it is used here descriptively, not
    as a validated injury threshold.
    """
    valid = ratio.dropna()
    if valid.empty:
        return {"below": np.nan, "within": np.nan, "above": np.nan}
    return {
        "below": 100 * float((valid < low).mean()),
        "within": 100 * float(valid.between(low, high).mean()),
        "above": 100 * float((valid > high).mean()),
    }
