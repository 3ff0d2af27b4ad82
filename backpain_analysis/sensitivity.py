"""Sensitivity of the within-client effects to the estimator, the lag, detrending and dropout.

One tidy table, the main model first, then:

- ``gee_exchangeable`` / ``gee_ar1``: the same design and fixed terms as the
  main model (lag 1) by generalised estimating equations (Gaussian, identity
  link) with an exchangeable or a continuous-time AR(1) working correlation
  (``rho^|week_j - week_k|`` within client) and robust (sandwich) standard
  errors (Liang & Zeger 1986). Consistent for the same fixed effects when
  the mean model is right, whatever the within-client correlation; no
  random slope.
- ``lag_0``, ``lag_2``, ``lag_3``: the main model with the exposures of week
  t-K. Lag 0 mixes the effect of training on pain with the effect of pain on
  training (reverse causation); longer lags estimate a delayed effect, which
  is a different quantity, not the same effect measured again.
- ``detrended``: within terms are deviations from each client's own linear
  trend in exposure (:func:`~backpain_analysis.volume_model.volume_design`),
  so a client who ramps up and improves over the same weeks adds nothing.
- ``complete_followup``: clients whose panel reaches ``complete_week``
  (default: the panel's last week), i.e. who had not dropped out by the end.
  Agreement with the main model supports outcomes missing at random given
  the observed history.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import pandas as pd
import statsmodels.api as sm
from statsmodels.genmod.cov_struct import Autoregressive, Exchangeable

from backpain_analysis.errors import DataError
from backpain_analysis.volume_model import CORE_TERMS, FLEXIBILITY, INTERACTION, STRENGTH, fit_volume_model, volume_design

WITHIN_TERMS: tuple[str, ...] = (f"{STRENGTH}_within", f"{FLEXIBILITY}_within", INTERACTION)
"""The within-client terms the table reports."""

COLUMNS: tuple[str, ...] = (
    "analysis",
    "estimator",
    "lag",
    "term",
    "estimate",
    "std_error",
    "statistic",
    "p_value",
    "conf_low",
    "conf_high",
    "n_obs",
    "n_clients",
)


def _rows(analysis: str, estimator: str, lag: int, params: pd.DataFrame, n_obs: int, n_clients: int) -> pd.DataFrame:
    within = params.set_index("term").loc[list(WITHIN_TERMS)].reset_index()
    return within.assign(analysis=analysis, estimator=estimator, lag=lag, n_obs=n_obs, n_clients=n_clients)[list(COLUMNS)]


def fit_gee(design: pd.DataFrame, outcome: str, correlation: str, conf_level: float = 0.95) -> pd.DataFrame:
    """GEE of the volume model's fixed terms on ``design`` with robust errors.

    Parameters
    ----------
    design:
        Rows of :func:`~backpain_analysis.volume_model.volume_design`.
    outcome:
        Outcome column.
    correlation:
        ``"exchangeable"`` or ``"ar1"`` (AR(1) over a client's successive measurements).
    conf_level:
        Level of the normal-theory intervals.

    Returns
    -------
    Tidy params (``term``, ``estimate``, ``std_error``, ``statistic``,
    ``p_value``, ``conf_low``, ``conf_high``), intercept named ``Intercept``.
    """
    structures = {"exchangeable": lambda: Exchangeable(), "ar1": lambda: Autoregressive(grid=True)}
    if correlation not in structures:
        raise DataError(f"correlation must be 'exchangeable' or 'ar1', not {correlation!r}")
    data = design.sort_values(["client_id", "week"], ignore_index=True)
    formula = f"{outcome} ~ " + " + ".join(CORE_TERMS)
    model = sm.GEE.from_formula(
        formula,
        groups="client_id",
        data=data,
        cov_struct=structures[correlation](),
        family=sm.families.Gaussian(),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = model.fit(cov_type="robust")
    limits = result.conf_int(alpha=1 - conf_level)
    return pd.DataFrame(
        {
            "term": list(result.params.index),
            "estimate": result.params.to_numpy(),
            "std_error": result.bse.to_numpy(),
            "statistic": result.tvalues.to_numpy(),
            "p_value": result.pvalues.to_numpy(),
            "conf_low": limits[0].to_numpy(),
            "conf_high": limits[1].to_numpy(),
        }
    )


def completers(panel: pd.DataFrame, complete_week: int | None = None) -> pd.Index:
    """Clients whose panel reaches ``complete_week`` (default: the panel's last week)."""
    last = panel.groupby("client_id")["week"].max()
    target = int(last.max()) if complete_week is None else int(complete_week)
    return last.index[last >= target]


def sensitivity_table(
    panel: pd.DataFrame,
    outcome: str = "nprs",
    *,
    lags: Sequence[int] = (0, 2, 3),
    complete_week: int | None = None,
    engine: str = "auto",
) -> pd.DataFrame:
    """The within-client effects under every analysis of the module docstring.

    Parameters
    ----------
    panel:
        The weekly panel.
    outcome:
        Instrument column.
    lags:
        Lags besides the main model's 1.
    complete_week:
        Week a client's panel must reach to count as complete follow-up.
    engine:
        Passed to :func:`~backpain_analysis.mixed.fit_lmm`.

    Returns
    -------
    DataFrame, three rows (the within terms ``strength_sets_within``,
    ``flexibility_min_within``, ``strength_x_flexibility_within``) per
    analysis, the main model's first: ``analysis`` (``main``,
    ``gee_exchangeable``, ``gee_ar1``, ``lag_<K>``, ``detrended``,
    ``complete_followup``), ``estimator`` (``lmm_reml`` or ``gee_robust``),
    ``lag`` (weeks), ``term``, ``estimate`` (outcome units per set/week, per
    min/week, per set x min), ``std_error``, ``statistic``, ``p_value``,
    ``conf_low``, ``conf_high`` (95 % intervals: normal-theory Wald for
    both estimators), ``n_obs``, ``n_clients``. ``attrs``: ``conf_level``,
    ``outcome``, ``complete_week``.
    """
    parts = []

    def add_lmm(analysis: str, frame: pd.DataFrame, lag: int, detrend: bool = False) -> None:
        fit = fit_volume_model(frame, outcome, lag, detrend=detrend, engine=engine)
        parts.append(_rows(analysis, "lmm_reml", lag, fit.params, fit.n_obs, fit.n_clients))

    add_lmm("main", panel, 1)
    design = volume_design(panel, outcome, 1)
    for correlation in ("exchangeable", "ar1"):
        params = fit_gee(design, outcome, correlation)
        parts.append(_rows(f"gee_{correlation}", "gee_robust", 1, params, len(design), design["client_id"].nunique()))
    for lag in lags:
        add_lmm(f"lag_{lag}", panel, lag)
    add_lmm("detrended", panel, 1, detrend=True)
    kept = completers(panel, complete_week)
    if len(kept) == 0:
        raise DataError("no client's panel reaches the complete-follow-up week")
    add_lmm("complete_followup", panel[panel["client_id"].isin(kept)], 1)
    table = pd.concat(parts, ignore_index=True)
    table.attrs.update(
        conf_level=0.95,
        outcome=outcome,
        complete_week=int(panel["week"].max()) if complete_week is None else complete_week,
    )
    return table
