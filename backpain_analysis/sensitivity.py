"""Sensitivity of the within-client effects to the estimator, the lag, detrending and dropout.

One tidy table, the main model first, then:

- ``gee_exchangeable`` / ``gee_ar1``: the same design and fixed terms as the
  main model (lag 1) by generalised estimating equations (Gaussian, identity
  link) with an exchangeable or an AR(1) working correlation over real
  weeks (``rho^|week_j - week_k|`` within client, so a gap of two weeks is
  two steps, not one: :class:`WeeklyAR1`, because statsmodels'
  ``Autoregressive`` correlates row positions) and the bias-reduced sandwich of Mancl & DeRouen
  (2001; statsmodels ``cov_type="bias_reduced"``) with t intervals on
  ``G - 1`` degrees of freedom (G clients): the plain robust sandwich
  covers 82-90 % at 15-25 clients. Consistent for the same fixed effects
  when the mean model is right, whatever the within-client correlation; no
  random slope. statsmodels' warnings (e.g. on convergence) are re-issued
  and listed in ``attrs["warnings"]``, never silenced.
- ``lag_0``, ``lag_2``, ``lag_3``: the main model with the exposures of week
  t-K. Lag 0 mixes the effect of training on pain with the effect of pain on
  training (reverse causation); longer lags estimate a delayed effect, which
  is a different quantity, not the same effect measured again. With an
  effect at lag 1 only, a lag-K row is not 0 either: within-client centring
  makes it pick up a small share of the lag-1 effect with the opposite sign
  (its pseudo-true value: in the simulation studies +0.004 at lag 2 for a
  lag-1 effect of -0.03 over 12 weeks; docs/analyses.md).
- ``interaction_recentred``: the main model with the strength x flexibility
  product re-centred within client (purely within-client; the main model
  keeps CONTRACT section 4's plain product, whose client mean is a
  between-client quantity).
- ``detrended``: within terms are deviations from each client's own linear
  trend in exposure (:func:`~backpain_analysis.volume_model.volume_design`),
  so a client who ramps up and improves over the same weeks adds nothing.
- ``complete_followup``: clients whose panel reaches ``complete_week``
  (default: the panel's last week), i.e. who had not dropped out by the end.
  A different answer among completers says dropout is related to the
  effect; agreement does **not** show that outcomes are missing at random
  (completers-only analyses are biased under MAR and MNAR alike), it only
  fails to show a difference.

Every row carries the raw estimate and interval and ``improvement``,
``improvement_low``, ``improvement_high`` signed by the outcome's instrument
(positive = better).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import pandas as pd
import statsmodels.api as sm
import numpy as np
from statsmodels.genmod.cov_struct import CovStruct, Exchangeable

from backpain_analysis.errors import DataError
from backpain_analysis.instruments import Instrument, outcome_instrument
from backpain_analysis.lags import check_lag
from backpain_analysis.tidy import TIDY_COLUMNS, resolve_level, tidy
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
    "df",
    "p_value",
    "conf_low",
    "conf_high",
    "n_obs",
    "n_clients",
)


class WeeklyAR1(CovStruct):
    """AR(1) working correlation over real weeks: ``corr(y_ij, y_ik) = rho^|week_j - week_k|``.

    ``rho`` is the moment estimate of statsmodels' gridded ``Autoregressive``
    (mean product of standardised residuals one week apart over their mean
    square), taken only over pairs of measurements exactly one week apart;
    clipped to [0, 0.99]. Needs ``time`` = week in the GEE and rows sorted by
    week within client.
    """

    def __init__(self) -> None:
        super().__init__()
        self.dep_params = 0.0

    def update(self, params) -> None:
        scale = self.model.estimate_scale()
        products, squares, n_pairs, n_rows = 0.0, 0.0, 0, 0
        for i in range(self.model.num_group):
            expval, _ = self.model.cached_means[i]
            resid = (self.model.endog_li[i] - expval) / np.sqrt(scale * self.model.family.variance(expval))
            weeks = self.model.time_li[i][:, 0]
            adjacent = np.diff(weeks) == 1
            products += float(np.sum(resid[:-1][adjacent] * resid[1:][adjacent]))
            n_pairs += int(adjacent.sum())
            squares += float(np.sum(resid**2))
            n_rows += len(resid)
        rho = (products / n_pairs) / (squares / n_rows) if n_pairs and squares > 0 else 0.0
        self.dep_params = float(np.clip(rho, 0.0, 0.99))

    def covariance_matrix(self, endog_expval, index):
        weeks = self.model.time_li[index][:, 0]
        return self.dep_params ** np.abs(weeks[:, None] - weeks[None, :]), True

    def summary(self) -> str:
        return f"Autocorrelation over one week: {self.dep_params:.3f}"


def _rows(analysis: str, estimator: str, lag: int, params: pd.DataFrame, n_obs: int, n_clients: int) -> pd.DataFrame:
    within = params.set_index("term").loc[list(WITHIN_TERMS)].reset_index()
    if "df" not in within.columns:
        within["df"] = float("nan")
    return within.assign(analysis=analysis, estimator=estimator, lag=lag, n_obs=n_obs, n_clients=n_clients)[list(COLUMNS)]


def fit_gee(design: pd.DataFrame, outcome: str, correlation: str, level: float = 0.95, conf_level: float | None = None) -> pd.DataFrame:
    """GEE of the volume model's fixed terms on ``design`` with bias-reduced sandwich errors and t(G-1) intervals.

    Parameters
    ----------
    design:
        Rows of :func:`~backpain_analysis.volume_model.volume_design`.
    outcome:
        Outcome column.
    correlation:
        ``"exchangeable"`` or ``"ar1"`` (AR(1) over real weeks: ``rho^|week distance|``).
    level:
        Level of the t(G - 1) intervals (``conf_level``: deprecated alias).

    Returns
    -------
    Tidy params (``term``, ``estimate``, ``std_error``, ``statistic``,
    ``df`` (G - 1), ``p_value``, ``conf_low``, ``conf_high``), intercept
    named ``Intercept``; ``attrs["warnings"]`` lists statsmodels' warnings
    (each also re-issued as a ``UserWarning``).
    """
    level = resolve_level(level, conf_level)
    structures = {"exchangeable": lambda: Exchangeable(), "ar1": WeeklyAR1}
    if correlation not in structures:
        raise DataError(f"correlation must be 'exchangeable' or 'ar1', not {correlation!r}")
    data = design.sort_values(["client_id", "week"], ignore_index=True)
    formula = f"{outcome} ~ " + " + ".join(CORE_TERMS)
    model = sm.GEE.from_formula(
        formula,
        groups="client_id",
        data=data,
        time=data[["week"]].to_numpy(float),
        cov_struct=structures[correlation](),
        family=sm.families.Gaussian(),
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = model.fit(cov_type="bias_reduced")
    messages = list(dict.fromkeys(f"GEE ({correlation}): {w.message}" for w in caught))
    for message in messages:
        warnings.warn(message, UserWarning, stacklevel=2)
    n_groups = int(data["client_id"].nunique())
    table = tidy(pd.DataFrame({"term": list(result.params.index)}), result.params.to_numpy(), result.bse.to_numpy(), df=n_groups - 1, level=level)
    table = table[[*TIDY_COLUMNS[:4], "df", *TIDY_COLUMNS[4:]]]
    table.attrs["warnings"] = messages
    return table


def completers(panel: pd.DataFrame, complete_week: int | None = None) -> pd.Index:
    """Clients whose panel reaches ``complete_week`` (default: the panel's last week)."""
    last = panel.groupby("client_id")["week"].max()
    target = int(last.max()) if complete_week is None else int(complete_week)
    return last.index[last >= target]


def sensitivity_table(
    panel: pd.DataFrame,
    outcome: str | Instrument = "nprs",
    *,
    lags: Sequence[int] = (0, 2, 3),
    complete_week: int | None = None,
    engine: str = "auto",
    level: float = 0.95,
) -> pd.DataFrame:
    """The within-client effects under every analysis of the module docstring.

    Parameters
    ----------
    panel:
        The weekly panel.
    outcome:
        Instrument name (any case) or :class:`~backpain_analysis.instruments.Instrument`.
    lags:
        Lags besides the main model's 1 (whole weeks, 0 or more).
    complete_week:
        Week a client's panel must reach to count as complete follow-up.
    engine:
        Passed to :func:`~backpain_analysis.mixed.fit_lmm`.

    Returns
    -------
    DataFrame, three rows (the within terms ``strength_sets_within``,
    ``flexibility_min_within``, ``strength_x_flexibility_within``) per
    analysis, the main model's first: ``analysis`` (``main``,
    ``gee_exchangeable``, ``gee_ar1``, ``lag_<K>``, ``interaction_recentred``, ``detrended``,
    ``complete_followup``), ``estimator`` (``lmm_reml`` or
    ``gee_bias_reduced``), ``lag`` (weeks), ``term``, ``estimate`` (outcome
    units per set/week, per min/week, per set x min; raw sign),
    ``std_error``, ``statistic``, ``df`` (GEE: G - 1; mixed model: the
    engine's, NaN until it gives one), ``p_value``, ``conf_low``,
    ``conf_high``, ``n_obs``, ``n_clients``, ``improvement``,
    ``improvement_low``, ``improvement_high`` (signed, positive = better).
    ``attrs``: ``level`` (``conf_level`` kept for one release), ``outcome``,
    ``complete_week``, ``direction``, ``warnings`` (the GEE fits'),
    ``completers_note``.
    """
    level = float(level)
    spec = outcome_instrument(outcome)
    outcome = spec.name
    lags = [check_lag(lag, "lags") for lag in lags]
    parts = []

    def add_lmm(analysis: str, frame: pd.DataFrame, lag: int, detrend: bool = False, recentre: bool = False) -> None:
        fit = fit_volume_model(frame, spec, lag, detrend=detrend, recentre_interaction=recentre, engine=engine, level=level)
        parts.append(_rows(analysis, "lmm_reml", lag, fit.params, fit.n_obs, fit.n_clients))

    add_lmm("main", panel, 1)
    design = volume_design(panel, outcome, 1)
    gee_warnings: list[str] = []
    for correlation in ("exchangeable", "ar1"):
        params = fit_gee(design, outcome, correlation, level=level)
        gee_warnings += params.attrs["warnings"]
        parts.append(_rows(f"gee_{correlation}", "gee_bias_reduced", 1, params, len(design), design["client_id"].nunique()))
    for lag in lags:
        add_lmm(f"lag_{lag}", panel, lag)
    add_lmm("interaction_recentred", panel, 1, recentre=True)
    add_lmm("detrended", panel, 1, detrend=True)
    kept = completers(panel, complete_week)
    if len(kept) == 0:
        raise DataError("no client's panel reaches the complete-follow-up week")
    add_lmm("complete_followup", panel[panel["client_id"].isin(kept)], 1)
    table = spec.with_improvement(pd.concat(parts, ignore_index=True))
    table.attrs.update(
        level=level,
        conf_level=level,
        outcome=outcome,
        complete_week=int(panel["week"].max()) if complete_week is None else complete_week,
        warnings=gee_warnings,
        completers_note="completers only: a different answer suggests dropout related to the effect; agreement does not show data are missing at random",
    )
    return table
