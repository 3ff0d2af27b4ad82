"""Dose-response: does more weekly training keep helping, or does it plateau?

The volume model (:mod:`backpain_analysis.volume_model`) makes the within-client
effect a straight line. Here the lagged weekly dose ``x`` (strength sets or
flexibility minutes in week t-K) enters through a restricted (natural) cubic
spline, linear below the first and above the last knot (Harrell 2015,
*Regression Modeling Strategies*, section 2.4.5)::

    f(x) = b1 * x + sum_j b_j * B_j(x),  j = 2 .. k-1,

with ``k`` knots at Harrell's quantiles of the positive weekly doses (zero
weeks are one point, not a quantile). Each basis column is split as in the
volume model into its within-client deviation and its client mean, so the
curve is estimated from each client's own weeks (free of stable
between-client confounding), while the client means absorb the
between-client part::

    y_it = b0 + b_week * week + sum_e [f_e(x_e,it) - mean_i f_e]  (within)
         + sum_e sum_j c_ej * mean_i B_ej                            (between)
         + bSF * (S_it - Sbar_i) * (F_it - Fbar_i)
         + u0_i + u1_i * week + e_it        (REML, as in the volume model)

The reported curve is ``f(x) - f(0)``: the outcome after a week of ``x``
sets (or minutes) compared with a week of none, same client, flexibility (or
strength) at the client's usual level. Its band is pointwise, by the delta
method from the fixed-effect covariance ``V``: ``Var = d(x)' V d(x)`` with
``d(x) = B(x) - B(0)``. With one knot pair only (``n_knots`` = 2) the model
is the volume model itself.

The flattening dose is reported only when the data support a plateau:
(1) training helps somewhere in the observed range (the band of the benefit
``f(0) - f(x)``, or ``f(x) - f(0)`` for higher-is-better scales, lies above
zero at some dose), and (2) from some dose on, to the end of the observed
range, the upper confidence bound of the benefit slope stays below
``flat_fraction`` (default 25 %) of the initial slope, the mean benefit per
unit of dose from 0 to the second knot (``(f(t_2) - f(0)) / t_2``, the low
doses where about a third of the training weeks lie). It is then the smallest dose reaching 90 % of the largest
benefit within the observed range, with an interval from ``n_draws``
draws of the within coefficients from ``N(beta, V)``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import chi2, norm

from backpain_analysis.errors import DataError
from backpain_analysis.instruments import Instrument, instrument, outcome_instrument
from backpain_analysis.lags import check_lag
from backpain_analysis.mixed import LMMResult, fit_lmm
from backpain_analysis.tidy import FittedCounts, resolve_level
from backpain_analysis.volume_model import FLEXIBILITY, INTERACTION, STRENGTH, check_min_clients, volume_design

HARRELL_QUANTILES: dict[int, tuple[float, ...]] = {
    3: (0.10, 0.50, 0.90),
    4: (0.05, 0.35, 0.65, 0.95),
    5: (0.05, 0.275, 0.50, 0.725, 0.95),
}
"""Knot positions as quantiles of the dose, by number of knots (Harrell 2015, table 2.3)."""

DOSE_UNITS: dict[str, str] = {STRENGTH: "sets/week", FLEXIBILITY: "min/week"}
PLATEAU_SHARE = 0.9
"""The flattening dose is where the curve reaches this share of its largest benefit."""


def spline_basis(x: np.ndarray, knots: Sequence[float], derivative: bool = False) -> np.ndarray:
    """Restricted cubic spline basis (or its first derivative) at ``x``.

    Column 1 is ``x``; column ``j + 1`` (j = 1 .. k-2) is
    ``[(x - t_j)+^3 - (x - t_{k-1})+^3 (t_k - t_j) / (t_k - t_{k-1})
    + (x - t_k)+^3 (t_{k-1} - t_j) / (t_k - t_{k-1})] / (t_k - t_1)^2``,
    Harrell's parametrisation (the divisor only scales the coefficients).

    Returns
    -------
    Array of shape ``(len(x), k - 1)``.
    """
    x = np.asarray(x, dtype=float)
    t = np.asarray(knots, dtype=float)
    k = len(t)
    power = 2 if derivative else 3
    factor = 3.0 if derivative else 1.0

    def plus(at: float) -> np.ndarray:
        return factor * np.clip(x - at, 0.0, None) ** power

    columns = [np.ones_like(x) if derivative else x]
    for j in range(k - 2):
        term = (
            plus(t[j])
            - plus(t[k - 2]) * (t[k - 1] - t[j]) / (t[k - 1] - t[k - 2])
            + plus(t[k - 1]) * (t[k - 2] - t[j]) / (t[k - 1] - t[k - 2])
        )
        columns.append(term / (t[k - 1] - t[0]) ** 2)
    return np.column_stack(columns)


def _knots(dose: pd.Series, n_knots: int) -> np.ndarray:
    if n_knots not in HARRELL_QUANTILES:
        raise DataError(f"n_knots must be 3, 4 or 5, not {n_knots}")
    positive = dose[dose > 0]
    knots = np.unique(np.quantile(positive, HARRELL_QUANTILES[n_knots])) if len(positive) else np.array([])
    if len(knots) < n_knots:
        raise DataError(
            f"{dose.name}: too few distinct weekly doses ({positive.nunique()} positive values) "
            f"for a spline with {n_knots} knots; try fewer knots"
        )
    return knots


def _basis_terms(exposure: str, n_columns: int) -> list[str]:
    """Within-term names of an exposure's basis columns; the first is the volume model's linear term."""
    return [f"{exposure}_within"] + [f"{exposure}_s{j}_within" for j in range(2, n_columns + 1)]


@dataclass
class DoseResponseResult(FittedCounts):
    """A fitted dose-response model.

    Attributes
    ----------
    params:
        Tidy fixed effects of the spline model (``term``, ``estimate``,
        ``std_error``, ``statistic``, ``p_value``, ``conf_low``,
        ``conf_high``): ``<exposure>_within`` is the slope below the first
        knot, ``<exposure>_s<j>_within`` the spline terms, ``*_between``
        the client means of the same columns.
    curves:
        One row per exposure and grid dose: ``exposure``; ``dose`` (sets/week
        or min/week, from 0 to ``upper_quantile`` of the observed doses);
        ``estimate`` (outcome change against a week with dose 0, instrument
        units), ``std_error``, ``conf_low``, ``conf_high`` (pointwise);
        ``slope`` (outcome change per extra set or minute at that dose),
        ``slope_std_error``, ``slope_conf_low``, ``slope_conf_high``;
        ``improvement``, ``improvement_low``, ``improvement_high``
        (``estimate`` and its band signed by the instrument so that positive
        is better); ``benefit`` (the same as ``improvement``, kept for one
        release).
    flattening:
        One row per exposure: ``exposure``, ``unit``; ``plateau`` (bool,
        whether the data support one); ``estimate``, ``conf_low``,
        ``conf_high`` (dose reaching 90 % of the largest benefit within the
        observed range and its simulation interval; NaN without a plateau);
        ``flat_from`` (first dose from which the benefit slope's upper bound
        stays below ``flat_fraction`` of the initial slope);
        ``dose_at_max`` (dose of the largest estimated benefit);
        ``max_benefit`` (its size, outcome units, positive is better);
        ``initial_slope``, ``initial_slope_conf_low``,
        ``initial_slope_conf_high`` (mean benefit per unit of dose from 0
        to the second knot); ``message`` (the finding in words).
    nonlinearity:
        Wald test that the within spline terms are zero (a straight line):
        ``exposure``, ``term`` (``"nonlinear"``), ``statistic`` (chi-square),
        ``df``, ``p_value``.
    knots:
        Exposure -> knot positions (dose units).
    instrument:
        The outcome's instrument (its ``direction`` signs every benefit).
    level:
        Confidence level (``conf_level`` is a deprecated alias).
    """

    outcome: str
    lag: int
    formula: str
    level: float
    params: pd.DataFrame
    curves: pd.DataFrame
    flattening: pd.DataFrame
    nonlinearity: pd.DataFrame
    knots: dict[str, np.ndarray]
    lmm: LMMResult
    design: pd.DataFrame
    instrument: Instrument

    def summary(self) -> pd.DataFrame:
        """``flattening`` indexed by exposure, for display (a method returning a DataFrame)."""
        return self.flattening.set_index("exposure")


def _first_dose(doses: np.ndarray, reached: np.ndarray) -> np.ndarray:
    """Per row of ``reached`` (draws x grid), the first grid dose where it is True (NaN if none)."""
    any_reached = reached.any(axis=1)
    return np.where(any_reached, doses[np.argmax(reached, axis=1)], np.nan)


def _flattening(
    exposure: str,
    curve: pd.DataFrame,
    initial: float,
    initial_se: float,
    draws: np.ndarray,
    sign: float,
    z: float,
    flat_fraction: float,
) -> dict:
    """The plateau decision and flattening dose of one exposure (see the module docstring).

    ``curve`` is the exposure's rows of ``curves``; ``initial``/``initial_se``
    the benefit slope from 0 to the second knot; ``draws`` the benefit curve
    under draws of the coefficients (draws x grid).
    """
    doses = curve["dose"].to_numpy()
    benefit = curve["benefit"].to_numpy()
    benefit_low = curve["improvement_low"].to_numpy()
    slope_high = (curve["slope_conf_high"] if sign > 0 else -curve["slope_conf_low"]).to_numpy()
    flat = slope_high < flat_fraction * initial
    stays_flat = np.flip(np.cumprod(np.flip(flat))).astype(bool)
    row = {
        "exposure": exposure,
        "unit": DOSE_UNITS.get(exposure, ""),
        "plateau": False,
        "estimate": np.nan,
        "conf_low": np.nan,
        "conf_high": np.nan,
        "flat_from": np.nan,
        "dose_at_max": float(doses[np.argmax(benefit)]),
        "max_benefit": float(benefit.max()),
        "initial_slope": float(initial),
        "initial_slope_conf_low": float(initial - z * initial_se),
        "initial_slope_conf_high": float(initial + z * initial_se),
    }
    unit = row["unit"]
    if not (benefit_low > 0).any():
        row["message"] = f"no clear benefit of more training within the observed range (0-{doses[-1]:.0f} {unit}), so no plateau to locate"
        return row
    if not stays_flat.any():
        row["message"] = f"no plateau within the observed range (0-{doses[-1]:.0f} {unit})"
        return row
    flat_from = float(doses[np.argmax(stays_flat)])
    reached = (draws >= PLATEAU_SHARE * draws.max(axis=1, keepdims=True)) & (draws.max(axis=1) > 0)[:, None]
    alpha = 2 * float(norm.sf(z))
    low, high = np.nanquantile(_first_dose(doses, reached), [alpha / 2, 1 - alpha / 2])
    estimate = float(_first_dose(doses, (benefit >= PLATEAU_SHARE * benefit.max())[None, :])[0])
    row.update(plateau=True, estimate=estimate, conf_low=float(low), conf_high=float(high), flat_from=flat_from)
    row["message"] = (
        f"plateau: 90 % of the benefit seen within 0-{doses[-1]:.0f} {unit} is reached by "
        f"{estimate:.0f} {unit} ({low:.0f}-{high:.0f}); little further gain from {flat_from:.0f} {unit}"
    )
    return row


def fit_dose_response(
    panel: pd.DataFrame,
    outcome: str | Instrument = "nprs",
    lag: int = 1,
    *,
    exposures: Sequence[str] = (STRENGTH, FLEXIBILITY),
    n_knots: int = 4,
    grid_points: int = 61,
    upper_quantile: float = 0.95,
    flat_fraction: float = 0.25,
    higher_is_better: bool | None = None,
    level: float = 0.95,
    n_draws: int = 4000,
    seed: int = 0,
    engine: str = "auto",
    conf_level: float | None = None,
) -> DoseResponseResult:
    """Fit the spline dose-response model of the module docstring.

    Parameters
    ----------
    panel:
        The weekly panel.
    outcome:
        Instrument name (any case) or :class:`~backpain_analysis.instruments.Instrument`;
        its direction signs the benefit (a custom outcome declares it with
        ``instrument(name, higher_is_better=...)``).
    lag:
        Exposure lag K in weeks (default 1, as the volume model; negative is refused).
    exposures:
        Strength and flexibility columns (both get a spline; their within
        deviations form the interaction term).
    n_knots:
        3, 4 or 5 knots (Harrell's quantiles of the positive doses).
    grid_points, upper_quantile:
        The curve is evaluated at ``grid_points`` doses from 0 to the
        ``upper_quantile`` quantile of the observed lagged doses (beyond it
        the data are too thin for a curve).
    flat_fraction:
        Plateau threshold: the benefit slope's upper bound must stay below
        this share of the initial slope.
    higher_is_better:
        Deprecated (kept for one release): pass ``outcome=instrument(name,
        higher_is_better=...)`` instead.
    level:
        Level of the bands and intervals (``conf_level``: deprecated alias).
    n_draws, seed:
        Draws from ``N(beta, V)`` for the flattening dose's interval.
    engine:
        Passed to :func:`~backpain_analysis.mixed.fit_lmm`.

    Returns
    -------
    :class:`DoseResponseResult`
    """
    lag = check_lag(lag)
    level = resolve_level(level, conf_level)
    if higher_is_better is not None and not isinstance(outcome, Instrument):
        warnings.warn("higher_is_better is deprecated: pass outcome=instrument(name, higher_is_better=...)", DeprecationWarning, stacklevel=2)
        outcome = instrument(outcome, higher_is_better)
    spec = outcome_instrument(outcome)
    outcome, sign = spec.name, spec.sign
    design = volume_design(panel, outcome, lag, exposures=exposures)
    check_min_clients(int(design["client_id"].nunique()), f"a dose-response curve of {outcome} (clients with a lag-{lag} exposure)")
    client = design["client_id"]
    knots, grids, terms = {}, {}, ["week"]
    for exposure in exposures:
        dose = design[f"{exposure}_lag"].astype(float).rename(exposure)
        knots[exposure] = _knots(dose, n_knots)
        basis = spline_basis(dose.to_numpy(), knots[exposure])
        within = _basis_terms(exposure, basis.shape[1])
        for j, name in enumerate(within):
            if j > 0:
                mean = pd.Series(basis[:, j], index=design.index).groupby(client).transform("mean")
                design[name] = basis[:, j] - mean
                design[name.replace("_within", "_between")] = mean
        terms += within + [name.replace("_within", "_between") for name in within]
        grids[exposure] = np.linspace(0.0, float(dose.quantile(upper_quantile)), grid_points)
    terms.append(INTERACTION)
    formula = f"{outcome} ~ " + " + ".join(terms)
    lmm = fit_lmm(design, formula, groups="client_id", re_formula="~ week", reml=True, engine=engine, level=level)
    beta_all = lmm.params.set_index("term")["estimate"]
    cov_all = lmm.cov_params()
    z = float(norm.ppf(0.5 + level / 2))
    rng = np.random.default_rng(seed)
    curves, flattening, nonlinear = [], [], []
    for exposure in exposures:
        names = _basis_terms(exposure, len(knots[exposure]) - 1)
        beta = beta_all[names].to_numpy()
        cov = cov_all.loc[names, names].to_numpy()
        doses = grids[exposure]
        diff = spline_basis(doses, knots[exposure]) - spline_basis(np.zeros(1), knots[exposure])
        deriv = spline_basis(doses, knots[exposure], derivative=True)
        estimate, se = diff @ beta, np.sqrt(np.einsum("ij,jk,ik->i", diff, cov, diff))
        slope, slope_se = deriv @ beta, np.sqrt(np.einsum("ij,jk,ik->i", deriv, cov, deriv))
        curve = spec.with_improvement(
            pd.DataFrame(
                {
                    "exposure": exposure,
                    "dose": doses,
                    "estimate": estimate,
                    "std_error": se,
                    "conf_low": estimate - z * se,
                    "conf_high": estimate + z * se,
                    "slope": slope,
                    "slope_std_error": slope_se,
                    "slope_conf_low": slope - z * slope_se,
                    "slope_conf_high": slope + z * slope_se,
                }
            )
        )
        curves.append(curve.assign(benefit=curve["improvement"]))
        draws = sign * rng.multivariate_normal(beta, cov, size=n_draws, method="svd") @ diff.T
        low_doses = knots[exposure][1]
        secant = (spline_basis([low_doses], knots[exposure]) - spline_basis([0.0], knots[exposure]))[0] / low_doses
        initial, initial_se = sign * float(secant @ beta), float(np.sqrt(secant @ cov @ secant))
        flattening.append(_flattening(exposure, curves[-1], initial, initial_se, draws, sign, z, flat_fraction))
        spline = beta[1:]
        statistic = float(spline @ np.linalg.solve(cov[1:, 1:], spline))
        nonlinear.append({"exposure": exposure, "term": "nonlinear", "statistic": statistic, "df": len(spline), "p_value": float(chi2.sf(statistic, len(spline)))})
    curves = pd.concat(curves, ignore_index=True)
    curves.attrs.update(spec.with_improvement(curves.iloc[0:0]).attrs, level=level)
    return DoseResponseResult(
        outcome=outcome,
        lag=lag,
        formula=formula,
        level=level,
        params=lmm.params,
        curves=curves,
        flattening=pd.DataFrame(flattening),
        nonlinearity=pd.DataFrame(nonlinear),
        knots=knots,
        lmm=lmm,
        design=design,
        instrument=spec,
    )
