"""Inverse probability of censoring weights: correcting for clients who leave because of how they are doing.

When clients who are not improving stop coming, those still measured at an
endpoint (and those still at risk in a Kaplan-Meier curve) are the luckier
ones, and a complete-case rate or a Kaplan-Meier curve that assumes
non-informative censoring overstates improvement. Inverse probability of
censoring weighting (IPCW; Robins & Finkelstein 2000, Biometrics 56:779)
removes that bias under one assumption:

**missing at random given the observed scores**: whether a client leaves
after a measured week depends only on what was observed up to that week
(here their change from baseline that week, their baseline score and the
time since baseline), not on their unobserved later scores.

Dropout model (a discrete-time hazard, pooled logistic regression over
client-weeks at risk of leaving, statsmodels ``Logit``)::

    logit P(last measurement at week s | measured at s, history)
        = a0 + a1 * improvement_is + a2 * baseline_i + a3 * since_is

``improvement_is`` is the change from baseline at week ``s`` signed so that
positive is better (instrument units), ``since_is`` the weeks since the
baseline week (leaving may be more or less likely as follow-up goes on;
in the simulated studios, where nobody can leave in the first two weeks,
leaving it out attenuated the improvement coefficient and left part of the
bias: the weighted rate's lower limit held the noise share in 93.6 % of
studios at 25 clients without it, 94.7 % with it, 250 studios). A client's probability of still
being measured after week ``t`` is ``K_i(t) = prod_{s <= t} (1 - h_is)``
over their measured weeks; each client still measured counts with weight
``1 / K_i(t)``, stabilised: rescaled to mean 1 over the clients it is
compared with (those measured at the endpoint, or each risk set), which
leaves the weighted (Hajek-type) estimates unchanged, then truncated at
:data:`MAX_WEIGHT`.

The model is refused, in words, when fewer than :data:`MIN_LEAVERS` clients
left, or when the logistic fit separates (a covariate predicts leaving
perfectly) or does not converge: weights from such a fit would be
arbitrary.

:func:`weighted_kaplan_meier` is the product-limit estimator with weights
that may change over time (each subject's weight at each event time), with
the variance of Xie & Liu (2005, Stat Med 24:3089): Greenwood's formula with
each risk set's size replaced by its Kish effective size.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationError, PerfectSeparationWarning

MIN_LEAVERS: int = 5
"""Fewest clients who left (before the endpoint, or before the end of follow-up) for a dropout model to be fitted."""

MAX_WEIGHT: float = 10.0
"""Stabilised weights are truncated here: no measured client stands for more than ten average ones."""

COVARIATES: tuple[str, ...] = ("improvement", "baseline", "since")
"""Predictors of leaving in the dropout model (with an intercept)."""

ASSUMPTION: str = (
    "clients who left are assumed missing at random given their observed scores: whether a client leaves after a "
    "measured week depends only on their change from baseline that week, their baseline score and the weeks since "
    "baseline (inverse probability of censoring weights from a pooled logistic model of leaving)"
)
"""The missing-data assumption of every IPCW estimate, in words."""


@dataclass
class DropoutModel:
    """A fitted (or refused) pooled logistic model of leaving.

    Attributes
    ----------
    rows:
        The client-weeks at risk of leaving, in the order given, with
        ``hazard`` (fitted probability of leaving after that week; NaN when
        refused).
    params:
        Tidy coefficients (``term``, ``estimate``, ``std_error``,
        ``conf_low``, ``conf_high``: log-odds of leaving per unit); empty
        when refused.
    n_leavers, n_clients:
        Clients who left; clients with at least one at-risk week.
    refusal:
        Why no model was fitted (a sentence), or ``None``.
    """

    rows: pd.DataFrame
    params: pd.DataFrame
    n_leavers: int
    n_clients: int
    refusal: str | None = None

    @property
    def fitted(self) -> bool:
        return self.refusal is None


def fit_dropout_model(history: pd.DataFrame, what: str = "left", covariates: tuple[str, ...] = COVARIATES) -> DropoutModel:
    """Fit the dropout model of the module docstring on client-weeks at risk of leaving.

    Parameters
    ----------
    history:
        One row per client and measured week at risk of leaving:
        ``client_id``, ``improvement`` (change from baseline that week,
        positive = better, instrument units), ``baseline`` (score),
        ``since`` (weeks since the baseline week), ``left`` (bool: the
        client left after this week).
    what:
        How leaving is defined, for the refusal sentence (e.g. ``"left before week 10"``).
    covariates:
        The predictors (columns of ``history``), with an intercept.

    Returns
    -------
    :class:`DropoutModel`. With nobody leaving, every hazard is 0 (no
    weighting is needed). Refused (``refusal`` set, hazards NaN) when
    1 to ``MIN_LEAVERS - 1`` clients left or the fit separates or does not
    converge.
    """
    rows = history.reset_index(drop=True).copy()
    left = rows["left"].astype(bool).to_numpy()
    n_leavers = int(rows.loc[left, "client_id"].nunique())
    n_clients = int(rows["client_id"].nunique())
    empty = pd.DataFrame(columns=["term", "estimate", "std_error", "conf_low", "conf_high"])
    if n_leavers == 0:
        return DropoutModel(rows.assign(hazard=0.0), empty, 0, n_clients)

    def refuse(reason: str) -> DropoutModel:
        return DropoutModel(rows.assign(hazard=np.nan), empty, n_leavers, n_clients, reason)

    if n_leavers < MIN_LEAVERS:
        return refuse(
            f"only {n_leavers} of {n_clients} clients {what}; a model of who leaves needs at least {MIN_LEAVERS}, "
            "so no estimate corrected for informative dropout is given"
        )
    x = sm.add_constant(rows[list(covariates)].to_numpy(float), has_constant="add")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", PerfectSeparationWarning)
            warnings.simplefilter("error", ConvergenceWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            fit = sm.Logit(left.astype(float), x).fit(disp=0, maxiter=100)
    except (PerfectSeparationError, PerfectSeparationWarning, ConvergenceWarning, np.linalg.LinAlgError):
        fit = None
    hazard = fit.predict(x) if fit is not None else None
    if fit is None or not fit.mle_retvals.get("converged", True) or not np.all(np.isfinite(fit.bse)) or np.any((hazard < 1e-8) | (hazard > 1 - 1e-8)):
        return refuse(
            f"the model of who leaves could not be fitted ({n_leavers} of {n_clients} clients {what}; the change from "
            "baseline, the baseline score or the week separates leavers from stayers), so no estimate corrected for "
            "informative dropout is given"
        )
    ci = fit.conf_int()
    params = pd.DataFrame(
        {"term": ["Intercept", *covariates], "estimate": fit.params, "std_error": fit.bse, "conf_low": ci[:, 0], "conf_high": ci[:, 1]}
    )
    return DropoutModel(rows.assign(hazard=hazard), params, n_leavers, n_clients)


def inverse_probability_weights(model: DropoutModel) -> pd.Series:
    """Each at-risk row's ``1 / K_i(t)``: the inverse probability of still being measured *after* that week.

    Cumulative over the client's rows in the order of ``model.rows`` (sort
    them by week within client first); NaN when the model was refused.
    """
    rows = model.rows
    log_keep = pd.Series(np.log1p(-rows["hazard"].to_numpy(float)), index=rows.index)
    return np.exp(-log_keep.groupby(rows["client_id"].to_numpy(), sort=False).cumsum()).rename("weight")


def stabilise(weights: np.ndarray) -> tuple[np.ndarray, int]:
    """Weights rescaled to mean 1 and truncated at :data:`MAX_WEIGHT`; and how many were truncated.

    Rescaling leaves every ratio estimate (a weighted proportion, a weighted
    hazard) unchanged; truncation changes them only where it binds.
    """
    w = np.asarray(weights, dtype=float)
    if not len(w):
        return w, 0
    scaled = w / w.mean()
    return np.minimum(scaled, MAX_WEIGHT), int((scaled > MAX_WEIGHT).sum())


def kish_effective_n(weights: np.ndarray) -> float:
    """Kish's effective sample size ``(sum w)^2 / sum w^2`` (equals n for equal weights)."""
    w = np.asarray(weights, dtype=float)
    return float(w.sum() ** 2 / (w**2).sum()) if len(w) and (w**2).sum() > 0 else 0.0


def weighted_kaplan_meier(time: np.ndarray, event: np.ndarray, weights: np.ndarray, times: np.ndarray) -> pd.DataFrame:
    """Product-limit estimate with subject weights that may differ at each event time.

    Parameters
    ----------
    time, event:
        Per subject: follow-up time and 1 = event, 0 = censored at ``time``
        (a subject censored at t is at risk at t).
    weights:
        Shape ``(n_subjects, len(times))``: each subject's weight when at risk
        at each of ``times`` (a 1-D array of length n_subjects: the same
        weight at every time).
    times:
        The increasing times at which the estimate may step (normally the
        distinct event times).

    Returns
    -------
    DataFrame, one row per time in ``times``: ``time``, ``n_at_risk``,
    ``n_events`` (counts of subjects), ``weighted_at_risk``,
    ``weighted_events`` (sums of weights), ``n_effective`` (Kish effective
    size of the risk set), ``survival`` (``prod (1 - d_w / Y_w)``) and
    ``std_error`` (of the survival, Xie & Liu 2005:
    ``S(t) sqrt(sum h_j / (M_j (1 - h_j)))``, ``h_j = d_w / Y_w``, ``M_j`` the
    Kish size; Greenwood's formula for equal weights).
    """
    time, event, times = np.asarray(time, float), np.asarray(event, int), np.asarray(times, float)
    w = np.asarray(weights, dtype=float)
    if w.ndim == 1:
        w = np.repeat(w[:, None], len(times), axis=1)
    at_risk = time[:, None] >= times[None, :]
    events = (time[:, None] == times[None, :]) & (event[:, None] == 1)
    w_risk = np.where(at_risk, w, 0.0)
    y_w = w_risk.sum(axis=0)
    d_w = np.where(events, w, 0.0).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        m = y_w**2 / (w_risk**2).sum(axis=0)
        h = np.where(y_w > 0, d_w / y_w, 0.0)
        terms = np.where((h > 0) & (h < 1), h / (m * (1 - h)), 0.0)
    survival = np.cumprod(1 - h)
    return pd.DataFrame(
        {
            "time": times,
            "n_at_risk": at_risk.sum(axis=0),
            "n_events": events.sum(axis=0),
            "weighted_at_risk": y_w,
            "weighted_events": d_w,
            "n_effective": m,
            "survival": survival,
            "std_error": survival * np.sqrt(np.cumsum(terms)),
        }
    )
