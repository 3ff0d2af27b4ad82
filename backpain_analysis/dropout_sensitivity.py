"""What could dropout hide? Delta-adjusted multiple imputation and the tipping point of the strength effect.

``backpain fit`` uses the weeks with a score and assumes the others are
missing at random (MAR) given what was observed. Clients who stop reporting
might be those who were doing worse. This module asks how much worse their
unreported scores would have to be for the main conclusion (the within-client
strength effect, or any other fit term) to stop holding: a tipping-point
analysis (ICH E9(R1) sensitivity analysis; as R's rbmi and mice do for
trials).

Which weeks are imputed. Every client-week of the panel that enters the
volume model but for its score: week >= K with a lag-K exposure, the
outcome missing, for clients in the observed-data fit. Weeks after a
client's last reported score are that client's **dropout weeks** (the
client still logged training, or at least was in the panel, but stopped
reporting); earlier gaps are intermittent. Weeks beyond a client's last
panel row are not imputed (no exposure is known there): the estimand is the
within-client effect over the weeks clients were in the program.

Procedure, for each of ``m`` imputations (Rubin 1987; Carpenter & Kenward 2013):

1. Draw the parameters from their approximate posterior: the residual
   variance ``sigma*^2 = sigma^2 (n - p) / chi^2_{n-p}``, the fixed effects
   ``beta* ~ N(beta_hat, (sigma*^2 / sigma^2) cov(beta_hat))``; the random-effects covariance ``D`` is
   kept at its REML estimate.
2. Draw each client's random intercept and slope from their conditional
   law given the client's observed scores and ``beta*``:
   ``b_i ~ N(D Z_i' V_i^-1 (y_i - X_i beta*), D - D Z_i' V_i^-1 Z_i D)``,
   ``V_i = Z_i D Z_i' + sigma*^2 I``.
3. Draw each missing score from ``X beta* + Z b_i + e``, ``e ~ N(0, sigma*^2)``
   (within and between terms computed from the observed-data design), and
   make dropout weeks **worse by delta** points (delta x the instrument's
   worse direction: +delta for pain, -delta for PSFS).
4. Refit ``backpain fit``'s model on the completed panel.

Estimates are pooled by Rubin's rules (:func:`rubin_pool`): the mean
estimate, total variance ``T = U + (1 + 1/m) B``, and Barnard & Rubin's
(1999) degrees of freedom. The same random numbers are used for every delta,
so the curve of the pooled estimate over delta is smooth. The tipping point
is the smallest delta (on a grid, refined by linear interpolation of the
interval bound) at which the 95 % pooled interval first includes 0, so the
conclusion drawn under MAR no longer holds.

Assumptions: the imputation model is the analysis model (congenial up to the
client means, which are those of the observed weeks in step 3); the delta is
the same for every dropout week and client; parameter uncertainty of ``D``
is ignored (its effect on imputed means is second order).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from backpain_analysis.errors import DataError
from backpain_analysis.instruments import Instrument, instrument
from backpain_analysis.volume_model import fit_volume_model, volume_design

TERM_WORDS: dict[str, str] = {
    "strength_sets_within": "within-client strength effect",
    "flexibility_min_within": "within-client flexibility effect",
    "strength_x_flexibility_within": "strength x flexibility interaction",
}
"""How a sentence names a term."""

DEFAULT_DELTAS: tuple[float, ...] = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0)
"""Deltas tried by default (outcome points worse), refined between grid points."""


def rubin_pool(estimates: Sequence[float], variances: Sequence[float], df_complete: float | None = None, conf_level: float = 0.95) -> dict:
    """Pool ``m`` completed-data estimates of one parameter by Rubin's rules.

    ``Q = mean(q_j)``, ``U = mean(u_j)``, ``B = var(q_j)`` (ddof 1),
    ``T = U + (1 + 1/m) B``; degrees of freedom Rubin's (1987)
    ``nu = (m - 1) (1 + U / ((1 + 1/m) B))^2``, combined with the
    complete-data ``df_complete`` by Barnard & Rubin (1999) when given.

    Returns
    -------
    dict with ``estimate``, ``std_error`` (``sqrt(T)``), ``df``, ``statistic``,
    ``p_value`` (two-sided t), ``conf_low``, ``conf_high``, ``within``
    (``U``), ``between`` (``B``), ``fmi`` (fraction of missing information, ``(1 + 1/m) B / T``), ``m``.
    """
    q = np.asarray(estimates, dtype=float)
    u = np.asarray(variances, dtype=float)
    m = len(q)
    if m < 2:
        raise DataError("Rubin's rules need at least 2 imputations")
    qbar = float(q.mean())
    ubar = float(u.mean())
    b = float(q.var(ddof=1))
    t = ubar + (1.0 + 1.0 / m) * b
    r = (1.0 + 1.0 / m) * b / ubar if ubar > 0 else np.inf
    nu = (m - 1) * (1.0 + 1.0 / r) ** 2 if r > 0 else np.inf
    if df_complete is not None and np.isfinite(df_complete):
        lam = (1.0 + 1.0 / m) * b / t
        nu_obs = (df_complete + 1.0) / (df_complete + 3.0) * df_complete * (1.0 - lam)
        nu = 1.0 / (1.0 / nu + 1.0 / nu_obs) if np.isfinite(nu) else nu_obs
    se = float(np.sqrt(t))
    crit = float(stats.t.ppf(0.5 + conf_level / 2.0, nu)) if np.isfinite(nu) else float(stats.norm.ppf(0.5 + conf_level / 2.0))
    statistic = qbar / se if se > 0 else np.nan
    p = float(2 * stats.t.sf(abs(statistic), nu)) if np.isfinite(nu) else float(2 * stats.norm.sf(abs(statistic)))
    return {
        "estimate": qbar,
        "std_error": se,
        "df": float(nu),
        "statistic": statistic,
        "p_value": p,
        "conf_low": qbar - crit * se,
        "conf_high": qbar + crit * se,
        "within": ubar,
        "between": b,
        "fmi": (1.0 + 1.0 / m) * b / t if t > 0 else 0.0,
        "m": m,
    }


@dataclass
class _Imputer:
    """The observed-data fit and everything needed to draw missing scores."""

    panel: pd.DataFrame
    outcome: str
    lag: int
    missing: pd.DataFrame  # rows of the panel to impute, with design columns and `dropout`
    beta: np.ndarray
    cov_beta: np.ndarray
    terms: list[str]
    d: np.ndarray
    sigma2: float
    df_resid: int
    observed: pd.DataFrame  # observed design rows
    clients: np.ndarray


def _imputer(panel: pd.DataFrame, outcome: str, lag: int) -> _Imputer:
    fit = fit_volume_model(panel, outcome, lag)
    observed = fit.design
    # every panel row that would enter the fit if its score were known
    filled = panel.assign(**{outcome: panel[outcome].fillna(0.0)})
    candidates = volume_design(filled, outcome, lag)
    seen = pd.MultiIndex.from_frame(observed[["client_id", "week"]])
    key = pd.MultiIndex.from_frame(candidates[["client_id", "week"]])
    in_fit = candidates["client_id"].isin(observed["client_id"]).to_numpy()
    missing = candidates[~key.isin(seen) & in_fit].copy()
    means = observed.groupby("client_id")[["strength_sets_lag", "flexibility_min_lag"]].mean()
    for exposure in ("strength_sets", "flexibility_min"):
        bar = missing["client_id"].map(means[f"{exposure}_lag"])
        missing[f"{exposure}_between"] = bar
        missing[f"{exposure}_within"] = missing[f"{exposure}_lag"] - bar
    missing["strength_x_flexibility_within"] = missing["strength_sets_within"] * missing["flexibility_min_within"]
    last = observed.groupby("client_id")["week"].max()
    missing["dropout"] = missing["week"] > missing["client_id"].map(last)
    params = fit.params
    terms = list(params["term"])
    return _Imputer(
        panel=panel,
        outcome=outcome,
        lag=lag,
        missing=missing.reset_index(drop=True),
        beta=params["estimate"].to_numpy(float),
        cov_beta=fit.lmm.cov_params().to_numpy(float),
        terms=terms,
        d=fit.lmm.cov_re().to_numpy(float),
        sigma2=float(fit.lmm.scale),
        df_resid=int(fit.n_obs - len(terms)),
        observed=observed,
        clients=observed["client_id"].unique(),
    )


def _x(frame: pd.DataFrame, terms: list[str]) -> np.ndarray:
    return np.column_stack([np.ones(len(frame)) if t == "Intercept" else frame[t].to_numpy(float) for t in terms])


def _draws(imp: _Imputer, rng: np.random.Generator) -> np.ndarray:
    """One MAR draw of every missing score (step 1-3 of the module docstring, delta 0)."""
    scale = imp.df_resid / rng.chisquare(imp.df_resid)
    sigma2 = imp.sigma2 * scale
    beta = rng.multivariate_normal(imp.beta, imp.cov_beta * scale)
    obs = imp.observed
    resid = obs[imp.outcome].to_numpy(float) - _x(obs, imp.terms) @ beta
    codes, levels = pd.factorize(obs["client_id"])
    week = obs["week"].to_numpy(float)
    b = np.zeros((len(levels), 2))
    d = imp.d
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(levels) + 1))
    for i in range(len(levels)):
        rows = order[bounds[i] : bounds[i + 1]]
        z = np.column_stack([np.ones(len(rows)), week[rows]])
        v = z @ d @ z.T + sigma2 * np.eye(len(rows))
        dz = d @ z.T
        solve = np.linalg.solve(v, np.column_stack([resid[rows], dz.T]))
        mean = dz @ solve[:, 0]
        cov = d - dz @ solve[:, 1:]
        cov = (cov + cov.T) / 2.0
        b[i] = rng.multivariate_normal(mean, cov, method="eigh")
    miss = imp.missing
    client = levels.get_indexer(miss["client_id"])
    fixed = _x(miss, imp.terms) @ beta
    return fixed + b[client, 0] + b[client, 1] * miss["week"].to_numpy(float) + np.sqrt(sigma2) * rng.standard_normal(len(miss))


@dataclass
class TippingPoint:
    """Delta-adjusted multiple imputation over a grid of deltas.

    Attributes
    ----------
    table:
        One row per delta: ``delta`` (outcome points worse, in dropout weeks),
        ``term``, then :func:`rubin_pool`'s ``estimate``, ``std_error``, ``df``,
        ``p_value``, ``conf_low``, ``conf_high``, ``fmi``, ``m``; ``holds``
        (the interval excludes 0 on the MAR conclusion's side).
    term, outcome:
        The fit term examined and the instrument.
    tipping_delta:
        Smallest delta >= 0 at which the conclusion stops holding (linear
        interpolation of the interval bound between grid deltas); NaN when
        it holds over the whole grid, 0 when it does not hold under MAR.
    n_imputed, n_dropout:
        Client-weeks imputed, of which dropout weeks.
    """

    table: pd.DataFrame
    term: str
    outcome: str
    tipping_delta: float
    n_imputed: int
    n_dropout: int
    n_clients_dropout: int

    def sentence(self) -> str:
        """The result in plain words."""
        spec = _instrument(self.outcome)
        unit = spec.unit if spec is not None else "score units"
        name = TERM_WORDS.get(self.term, self.term)
        mar = self.table.iloc[0]
        if self.n_dropout == 0:
            return f"No client stopped reporting {self.outcome.upper()} early, so dropout cannot change this conclusion."
        if not mar["holds"]:
            return (
                f"Under missing at random the {name}'s 95 % interval already includes no effect "
                f"({mar['conf_low']:.3g} to {mar['conf_high']:.3g}), so there is no conclusion to tip."
            )
        if not np.isfinite(self.tipping_delta):
            return (
                f"The {name} holds even if the {self.n_dropout} unreported weeks of the "
                f"{self.n_clients_dropout} clients who stopped reporting were {self.table['delta'].max():g} {unit} worse "
                f"than missing at random predicts (the largest delta tried)."
            )
        return (
            f"The {name} would no longer be clear holding if the {self.n_dropout} unreported weeks of the "
            f"{self.n_clients_dropout} clients who stopped reporting were about {self.tipping_delta:.2g} {unit} worse "
            f"than missing at random predicts."
        )


def _instrument(outcome: str) -> Instrument | None:
    """The built-in instrument, or None for a custom outcome (taken as lower-is-better, in score units)."""
    try:
        return instrument(outcome)
    except KeyError:
        return None


def tipping_point(
    panel: pd.DataFrame,
    outcome: str = "nprs",
    term: str = "strength_sets_within",
    *,
    deltas: Sequence[float] = DEFAULT_DELTAS,
    m: int = 10,
    lag: int = 1,
    seed: int = 0,
    conf_level: float = 0.95,
) -> TippingPoint:
    """Delta-adjusted multiple imputation of dropouts' missing scores and the tipping point of ``term``.

    Parameters
    ----------
    panel:
        The weekly panel.
    outcome:
        Instrument modelled (``backpain fit``'s model).
    term:
        The fit term whose conclusion is examined (default the within-client strength effect).
    deltas:
        Outcome points by which dropout weeks are made worse (>= 0; 0 = MAR is always included).
    m:
        Imputations per delta (same random numbers for every delta).
    lag:
        Exposure lag K.
    seed:
        Seed of the imputations.
    conf_level:
        Level of the pooled intervals.

    Raises
    ------
    DataError
        When the model cannot be fitted, ``term`` is not a fit term, or ``m < 2``.
    """
    if m < 2:
        raise DataError(f"m must be at least 2 imputations, got {m}")
    deltas = sorted({0.0, *(float(d) for d in deltas)})
    if deltas[0] < 0:
        raise DataError("deltas are points worse and must be 0 or more")
    imp = _imputer(panel, outcome, lag)
    if term not in imp.terms:
        raise DataError(f"{term!r} is not a term of the model; terms: {', '.join(imp.terms[1:])}")
    miss = imp.missing
    n_dropout = int(miss["dropout"].sum())
    rows = []
    # nothing to impute: two identical "imputations" pool to the observed-data fit (B = 0, normal reference)
    draws = [_draws(imp, np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(j,)))) for j in range(m)] if len(miss) else [np.zeros(0)] * 2
    spec = _instrument(outcome)
    worse = (-1.0 if spec is not None and spec.higher_is_better else 1.0) * miss["dropout"].to_numpy(float)
    df_complete = None
    for delta in deltas:
        estimates, variances = [], []
        for draw in draws:
            completed = _complete(imp, draw + delta * worse)
            fit = fit_volume_model(completed, outcome, lag)
            row = fit.params.set_index("term").loc[term]
            estimates.append(float(row["estimate"]))
            variances.append(float(row["std_error"]) ** 2)
            df_complete = float(fit.n_obs - len(fit.params))
        pooled = rubin_pool(estimates, variances, df_complete if len(miss) else None, conf_level)
        rows.append({"delta": delta, "term": term, **pooled})
    table = pd.DataFrame(rows)
    side = np.sign(table["estimate"].iloc[0])
    bound = np.where(side > 0, table["conf_low"], -table["conf_high"])
    table["holds"] = bound > 0
    return TippingPoint(
        table=table,
        term=term,
        outcome=outcome,
        tipping_delta=_tipping(table["delta"].to_numpy(float), bound),
        n_imputed=len(miss),
        n_dropout=n_dropout,
        n_clients_dropout=int(miss.loc[miss["dropout"], "client_id"].nunique()) if len(miss) else 0,
    )


def _tipping(deltas: np.ndarray, bound: np.ndarray) -> float:
    """First delta where ``bound`` (positive = holds) reaches 0, interpolated linearly; NaN if never."""
    if bound[0] <= 0:
        return 0.0
    for j in range(1, len(deltas)):
        if bound[j] <= 0:
            d0, d1, b0, b1 = deltas[j - 1], deltas[j], bound[j - 1], bound[j]
            return float(d0 + (d1 - d0) * b0 / (b0 - b1))
    return float("nan")


def _complete(imp: _Imputer, values: np.ndarray) -> pd.DataFrame:
    """The panel with the imputed scores written into its missing weeks."""
    if not len(values):
        return imp.panel
    fill = pd.Series(values, index=pd.MultiIndex.from_frame(imp.missing[["client_id", "week"]]))
    key = pd.MultiIndex.from_frame(imp.panel[["client_id", "week"]])
    imputed = fill.reindex(key).to_numpy()
    completed = imp.panel.copy()
    current = completed[imp.outcome].to_numpy(float)
    completed[imp.outcome] = np.where(np.isnan(current), imputed, current)
    return completed
