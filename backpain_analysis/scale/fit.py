"""The volume model of ``backpain fit`` from per-client sufficient statistics computed on the workers.

The profiled REML criterion of the mixed-model engine
(:class:`~backpain_analysis.mixed_engine.ProfiledDeviance`) needs, per
client *i*, only ``Z_i'Z_i`` and ``Z_i'[X_i y_i]``, plus ``[X y]'[X y]``
summed over all rows (``X_i'X_i``, ``X_i'y_i`` and ``y_i'y_i`` enter only
through that sum; ``n_i`` counts the client's rows). Each client range's
task builds the model rows from its own panel with
:func:`~backpain_analysis.volume_model.volume_design` (a client's within and
between terms use only that client's weeks) and returns those statistics
(:func:`range_statistics`: 21 numbers per client for the contract's model,
p = 7 fixed and q = 2 random effects, plus one ``8 x 8`` matrix per range). The calling process stacks them
in client order, adds the cross-products and maximises the same REML
criterion with the same optimiser as :func:`~backpain_analysis.volume_model.fit_volume_model`
(:func:`~backpain_analysis.mixed_engine.minimize_deviance`, which ends with
Newton steps to an absolute tolerance): the estimates agree to rounding
(tests: 1e-8).

Model and terms: CONTRACT section 4 (``week``, the three within terms, the
two between terms; random intercept and week slope per client; REML).
Denominator df (Satterthwaite by default, Kenward-Roger, or Wald z) come
from the same statistics through the engine's
:func:`~backpain_analysis.mixed_engine.satterthwaite_basis` and
:func:`~backpain_analysis.mixed_engine.kenward_roger_basis`, as
``fit_lmm`` computes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from backpain_analysis import mixed, mixed_engine as me
from backpain_analysis.contract import FIT_TERMS
from backpain_analysis.errors import DataError
from backpain_analysis.instruments import Instrument, outcome_instrument
from backpain_analysis.lags import check_lag
from backpain_analysis.scale.panel import ClusterDataset
from backpain_analysis.tidy import tidy
from backpain_analysis.volume_model import FLEXIBILITY, MIN_CLIENTS, MIN_WEEKS_PER_CLIENT, STRENGTH, VolumeModelResult, volume_design

FIXED: tuple[str, ...] = ("Intercept", *FIT_TERMS)
"""Fixed-effect columns of ``X``, in the order of ``fit_volume_model``'s formula."""
RANDOM: tuple[str, ...] = ("Intercept", "week")
"""Random-effect columns of ``Z``: intercept and week slope per client."""
CONF_LEVEL = 0.95


@dataclass
class ClientStatistics:
    """Per-client sufficient statistics of one client range (group axis last, clients sorted by key).

    Attributes
    ----------
    ids, n:
        Client keys and their rows in the fit.
    ztz, ztw:
        ``(q, q, G)`` ``Z_i'Z_i`` and ``(q, p + 1, G)`` ``Z_i'[X_i y_i]``.
    wtw:
        ``(p + 1, p + 1)`` ``[X y]'[X y]`` over the range's rows.
    """

    ids: np.ndarray
    n: np.ndarray
    ztz: np.ndarray
    ztw: np.ndarray
    wtw: np.ndarray

    @classmethod
    def empty(cls) -> ClientStatistics:
        q, k = len(RANDOM), len(FIXED) + 1
        return cls(np.array([], dtype=object), np.array([], dtype=np.int64), np.zeros((q, q, 0)), np.zeros((q, k, 0)), np.zeros((k, k)))

    @classmethod
    def stack(cls, parts: list[ClientStatistics]) -> ClientStatistics:
        """Ranges one after another (their clients are disjoint); the cross-products added."""
        return cls(
            ids=np.concatenate([p.ids for p in parts]),
            n=np.concatenate([p.n for p in parts]),
            ztz=np.concatenate([p.ztz for p in parts], axis=2),
            ztw=np.concatenate([p.ztw for p in parts], axis=2),
            wtw=np.sum([p.wtw for p in parts], axis=0),
        )

    def engine_statistics(self) -> me.SufficientStatistics:
        """The engine's form (:class:`~backpain_analysis.mixed_engine.SufficientStatistics`)."""
        return me.SufficientStatistics(
            ztz=self.ztz, ztw=self.ztw, wtw=self.wtw, n_obs=int(self.n.sum()),
            n_fixed=len(FIXED), n_random=len(RANDOM), n_groups=len(self.ids),
        )


def range_statistics(panel: pd.DataFrame, outcome: str, lag: int) -> ClientStatistics:
    """A client range's statistics for the contract's model of ``outcome`` at exposure lag ``lag`` (a worker task)."""
    if outcome not in panel.columns or not len(panel):
        return ClientStatistics.empty()
    design = volume_design(panel, outcome, lag)
    design = design[design[[outcome, *FIT_TERMS]].notna().all(axis=1)]
    if not len(design):
        return ClientStatistics.empty()
    codes, levels = pd.factorize(design["client_id"], sort=True)
    x = np.column_stack([np.ones(len(design)), *(design[t].to_numpy(dtype=float) for t in FIT_TERMS)])
    z = np.column_stack([np.ones(len(design)), design["week"].to_numpy(dtype=float)])
    stats = me.sufficient_statistics(x, z, design[outcome].to_numpy(dtype=float), codes, len(levels))
    return ClientStatistics(np.asarray(levels, dtype=object), np.bincount(codes, minlength=len(levels)), stats.ztz, stats.ztw, stats.wtw)


def _check_estimable(stats: me.SufficientStatistics) -> None:
    """The checks of :func:`~backpain_analysis.mixed.fit_lmm` that the statistics allow (rows, groups, collinearity)."""
    n, p, q, g = stats.n_obs, stats.n_fixed, stats.n_random, stats.n_groups
    if n <= p or g < q + 1 or n <= q * g:
        raise DataError(f"{g} clients and {n} client-weeks cannot support the model's {p} fixed and {q} random effects per client")
    xtx = stats.wtw[:p, :p]
    scale = np.sqrt(np.diag(xtx))
    eigval = np.linalg.eigvalsh(xtx / np.outer(scale, scale)) if np.all(scale > 0) else np.zeros(1)
    if eigval.min() <= eigval.max() * max(n, p) * np.finfo(float).eps:
        raise DataError("the model's fixed-effect columns are collinear in this dataset (no variation in an exposure?)")


@dataclass(eq=False)
class ClusterFit:
    """The volume model fitted from statistics gathered from a cluster.

    Offers what ``backpain fit`` prints from a
    :class:`~backpain_analysis.volume_model.VolumeModelResult`: ``params``
    (tidy: ``term``, ``estimate``, ``std_error``, ``statistic``, ``p_value``,
    ``conf_low``, ``conf_high``; Wald z), ``variance_components``,
    ``converged``, ``messages``, ``n_obs``, ``n_clients``, :meth:`summary` and
    :meth:`to_dict` (the same JSON object). ``deviance`` is the engine's
    criterion at the estimate (kept for the denominator-df computations,
    which work from the same statistics).
    """

    outcome: str
    lag: int
    formula: str
    params: pd.DataFrame
    variance_components: pd.DataFrame
    theta: np.ndarray
    reml_criterion: float
    converged: bool
    messages: list[str]
    n_obs: int
    n_clients: int
    deviance: me.ProfiledDeviance = field(repr=False)
    conf_level: float = CONF_LEVEL
    ddf: str = "satterthwaite"
    """Denominator df of ``params``: ``satterthwaite``, ``kenward-roger`` or ``z`` (Wald; ``df`` missing)."""

    @property
    def level(self) -> float:
        """The confidence level (the engine's newer name for ``conf_level``)."""
        return self.conf_level

    @property
    def instrument(self) -> Instrument:
        """The outcome's instrument (its direction: which way is better)."""
        return outcome_instrument(self.outcome)

    @property
    def lmm(self) -> ClusterFit:
        """Itself: what ``VolumeModelResult.lmm`` offers the printing code (``messages``, ``conf_level``)."""
        return self

    def summary(self) -> pd.DataFrame:
        """``params`` indexed by term, for display."""
        return self.params.set_index("term")

    def to_dict(self) -> dict:
        """The JSON object of ``backpain fit --json``."""
        return VolumeModelResult.to_dict(self)  # reads only the attributes above


def fit_on_cluster(dataset: ClusterDataset, outcome: str = "nprs", lag: int = 1, ddf: str = "satterthwaite") -> ClusterFit:
    """Fit the contract's volume model of ``outcome`` (exposures lagged ``lag`` weeks) on a cluster-loaded dataset.

    Raises
    ------
    DataError
        As :func:`~backpain_analysis.volume_model.fit_volume_model` does: an
        absent outcome, a negative lag, fewer than 5 clients with 2+ weeks in
        the fit, or a model the data cannot support.
    """
    check_lag(lag)
    if ddf not in me.DDF_METHODS:
        raise DataError(f"ddf must be one of {', '.join(me.DDF_METHODS)}, not {ddf!r}")
    if outcome not in dataset.instruments:
        columns = ["client_id", "week", STRENGTH, FLEXIBILITY, *dataset.instruments]
        volume_design(pd.DataFrame(columns=columns), outcome, lag)  # raises the single-machine message
    client = dataset.client
    parts = client.gather([client.submit(range_statistics, panel, outcome, lag) for panel in dataset.ranges])
    combined = ClientStatistics.stack(parts)
    usable = int((combined.n >= MIN_WEEKS_PER_CLIENT).sum())
    if usable < MIN_CLIENTS:
        raise DataError(
            f"too few clients to fit {outcome}: {usable} have {MIN_WEEKS_PER_CLIENT}+ weeks with {outcome} "
            f"and a lag-{lag} exposure, at least {MIN_CLIENTS} are needed"
        )
    stats = combined.engine_statistics()
    _check_estimable(stats)
    deviance = me.ProfiledDeviance(stats, reml=True)
    with me.one_blas_thread():
        optimum = me.minimize_deviance(deviance)
        theta, check = optimum.theta, optimum.check
        sol = deviance.solution(theta)
        params = _tidy_params(deviance, theta, check, ddf)
    diag_theta = np.abs(theta[me.identity_theta(len(RANDOM)) == 1.0])
    shape = _Shape(list(RANDOM))
    return ClusterFit(
        outcome=outcome,
        lag=lag,
        formula=f"{outcome} ~ " + " + ".join(FIT_TERMS),
        params=params,
        variance_components=mixed._variance_components(list(RANDOM), "client_id", sol.sigma2 * sol.relative_cov, sol.sigma2),
        theta=theta,
        reml_criterion=sol.deviance,
        converged=check.converged,
        messages=mixed._status_messages(shape, shape, check, diag_theta),
        n_obs=stats.n_obs,
        n_clients=stats.n_groups,
        deviance=deviance,
        ddf=ddf,
    )


def refined(deviance: me.ProfiledDeviance, optimum: me.Optimum) -> np.ndarray:
    """``optimum.theta`` after the engine's Newton polish (:func:`~backpain_analysis.mixed_engine.newton_polish`).

    :func:`~backpain_analysis.mixed_engine.minimize_deviance` now ends with
    those Newton steps itself (to an absolute Newton decrement of 1e-10
    deviance units), so both this path and the single-machine fit stop at
    the criterion's minimum, which rounding differences in the statistics
    move by about 1e-13; this returns that point (boundary fits as they are).
    """
    if np.any(optimum.theta[me.identity_theta(deviance.stats.n_random) == 1.0] == 0.0):
        return optimum.theta
    return me.newton_polish(deviance, optimum.theta, optimum.check)[0]


def _tidy_params(deviance: me.ProfiledDeviance, theta: np.ndarray, check: me.OptimumCheck, ddf: str, level: float = CONF_LEVEL) -> pd.DataFrame:
    """Tidy fixed effects with t intervals on ``ddf``'s denominator df (normal for ``z``), as ``fit_lmm`` gives."""
    sol = deviance.solution(theta)
    if ddf == "satterthwaite":
        se, dof = me.satterthwaite_basis(deviance, theta, check.hessian).std_error_and_df(np.eye(len(FIXED)))
    elif ddf == "kenward-roger":
        se, dof = me.kenward_roger_basis(deviance, theta).std_error_and_df(np.eye(len(FIXED)))
    else:
        se, dof = np.sqrt(np.diag(sol.cov_beta)), None
    return tidy(pd.DataFrame({"term": list(FIXED)}), sol.beta, se, df=dof, level=level)


@dataclass(frozen=True)
class _Shape:
    """What :func:`mixed._status_messages` reads of a design and a spec: no rows dropped (the panel has none missing), the terms."""

    random_names: list[Any]
    groups: str = "client_id"
    n_dropped: int = 0
    dropped_by_column: dict = field(default_factory=dict)
