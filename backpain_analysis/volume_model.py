"""The longitudinal volume model behind ``backpain fit`` (CONTRACT section 4).

Model, for client *i* in week *t* with exposures lagged by *K* weeks
(``S`` strength sets/week, ``F`` flexibility minutes/week)::

    y_it = b0 + b1 * week
         + bSW * (S_i,t-K - Sbar_i) + bFW * (F_i,t-K - Fbar_i)
         + bSF * (S_i,t-K - Sbar_i) * (F_i,t-K - Fbar_i)
         + bSB * Sbar_i + bFB * Fbar_i
         + u0_i + u1_i * week + e_it,
    (u0_i, u1_i) ~ N(0, G),  e_it ~ N(0, sigma^2), fitted by REML.

``Sbar_i`` and ``Fbar_i`` are the client's means over the weeks that enter the
fit (weeks with the outcome measured and a lag-K exposure). The within terms
(``*_within``) answer "is a client better in weeks after they trained more
than usual?": they are free of stable between-client confounding (motivation,
severity, fitness) because each client is compared with themselves. The
between terms (``*_between``) compare clients who train more with clients who
train less, and carry all of that confounding. Lagging the exposure keeps this
week's pain from explaining this week's training; it does not remove
confounding by slowly varying time-dependent factors (docs/volume_model.md).

Assumptions: linear effects within the observed range (see
:mod:`backpain_analysis.dose_response` for curves), Gaussian residuals
independent within client given the random intercept and slope, outcomes
missing at random given the observed history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from backpain_analysis.contract import FIT_TERMS
from backpain_analysis.errors import DataError
from backpain_analysis.instruments import Instrument, builtin_instruments, outcome_instrument
from backpain_analysis.lags import check_lag
from backpain_analysis.mixed import LMMResult, fit_lmm
from backpain_analysis.tidy import FittedCounts, check_level

STRENGTH = "strength_sets"
FLEXIBILITY = "flexibility_min"
INTERACTION = "strength_x_flexibility_within"
CORE_TERMS: tuple[str, ...] = FIT_TERMS
"""The fixed terms of ``backpain fit`` besides the intercept, in order."""

CLINICAL_UNITS: dict[str, tuple[float, str]] = {
    STRENGTH: (10.0, "10 sets/week"),
    FLEXIBILITY: (30.0, "30 min/week"),
    "mixed_min": (30.0, "30 min/week"),
    "volume_load_kg": (1000.0, "1000 kg/week"),
    "week": (4.0, "4 weeks"),
}
"""Exposure -> (clinically sensible step, label): the clinical units of every effect reported
per unit (10 sets/week, 30 min/week), defined here only."""

MIN_CLIENTS = 5
"""Fewest clients any model of this layer is fitted on (below it: a DataError saying so)."""
MIN_WEEKS_PER_CLIENT = 2


def clinical_unit(term: str) -> tuple[float, str] | None:
    """(step, label) of a model term in clinical units, or ``None`` when it has none.

    ``strength_sets_within`` -> ``(10.0, "10 sets/week")``; the interaction
    ``strength_x_flexibility_within`` -> ``(300.0, "10 sets/week x 30 min/week")``.
    """
    if term == INTERACTION:
        (s_step, s_label), (f_step, f_label) = CLINICAL_UNITS[STRENGTH], CLINICAL_UNITS[FLEXIBILITY]
        return s_step * f_step, f"{s_label} x {f_label}"
    return CLINICAL_UNITS.get(term.removesuffix("_within").removesuffix("_between"))


def check_min_clients(n_clients: int, what: str) -> None:
    """Raise a DataError when fewer than :data:`MIN_CLIENTS` clients are available for ``what``."""
    if n_clients < MIN_CLIENTS:
        raise DataError(f"too few clients for {what}: {n_clients}, at least {MIN_CLIENTS} are needed")


def _detrend_within_client(values: pd.Series, week: pd.Series, client: pd.Series) -> pd.Series:
    """Residual of each client's own least-squares line of ``values`` on ``week``."""
    frame = pd.DataFrame({"y": values.to_numpy(float), "t": week.to_numpy(float), "g": client.to_numpy()})
    grouped = frame.groupby("g", sort=False)
    t_c = frame["t"] - grouped["t"].transform("mean")
    y_c = frame["y"] - grouped["y"].transform("mean")
    sxx = (t_c * t_c).groupby(frame["g"], sort=False).transform("sum")
    sxy = (t_c * y_c).groupby(frame["g"], sort=False).transform("sum")
    slope = (sxy / sxx.where(sxx > 0)).fillna(0.0)
    return pd.Series((y_c - slope * t_c).to_numpy(), index=values.index)


def volume_design(
    panel: pd.DataFrame,
    outcome: str | Instrument,
    lag: int = 1,
    *,
    exposures: Sequence[str] = (STRENGTH, FLEXIBILITY),
    detrend: bool = False,
    baseline: bool = False,
    recentre_interaction: bool = False,
) -> pd.DataFrame:
    """The rows and columns the volume model is fitted on.

    Parameters
    ----------
    panel:
        The weekly panel (:func:`backpain_analysis.weekly_panel`).
    outcome:
        Instrument name (any case, e.g. ``"NPRS"``) or :class:`Instrument`.
    lag:
        Exposure lag K in weeks (0 = same week; negative is refused).
    exposures:
        Exposure columns; the first two are strength and flexibility, whose
        within deviations form the interaction. Extras (``mixed_min``,
        ``volume_load_kg``) get their own within and between terms.
    detrend:
        Within terms are deviations from the client's own linear trend in
        exposure over weeks instead of from the client's mean, so that a
        client who both ramps up training and improves over time does not
        count as a within-client effect.
    baseline:
        Add ``baseline_score``: the client's first measured outcome (centred
        at the mean over clients); the baseline week itself then leaves the fit.
    recentre_interaction:
        Subtract from the interaction each client's mean of it, so that it is
        purely within-client (issue 12). Off by default: CONTRACT section 4
        defines ``strength_x_flexibility_within`` as the plain product of the
        two within deviations, and ``backpain fit`` must reproduce it.

    Returns
    -------
    DataFrame with ``client_id``, ``week``, the outcome, ``<exposure>_lag``,
    ``<exposure>_within``, ``<exposure>_between`` for each exposure,
    ``strength_x_flexibility_within`` (the product of the two within
    deviations; with ``recentre_interaction`` minus each client's mean of
    that product), ``baseline_score`` (when asked) and the
    panel's client covariates.
    """
    lag = check_lag(lag)
    outcome = outcome_instrument(outcome).name
    if outcome not in panel.columns:
        measured = [name for name in builtin_instruments()["name"] if name in panel.columns]
        raise DataError(f"no outcome '{outcome}' in this dataset; measured: {', '.join(measured) or 'none'}")
    missing = [c for c in exposures if c not in panel.columns]
    if missing:
        raise DataError(f"exposure {missing[0]!r} is not a panel column")
    shifted = panel[["client_id", "week", *exposures]].copy()
    shifted["week"] += lag
    shifted = shifted.rename(columns={c: f"{c}_lag" for c in exposures})
    design = panel.merge(shifted, on=["client_id", "week"], how="inner")
    if baseline:
        measured = design.dropna(subset=[outcome]).sort_values("week")
        first = panel.dropna(subset=[outcome]).sort_values("week").groupby("client_id").head(1)
        base = first.set_index("client_id")[outcome]
        design = measured.assign(baseline_score=measured["client_id"].map(base) - base.mean())
        design = design[design["week"] > design["client_id"].map(first.set_index("client_id")["week"])]
    design = design.dropna(subset=[outcome]).reset_index(drop=True)
    client = design["client_id"]
    for exposure in exposures:
        value = design[f"{exposure}_lag"].astype(float)
        mean = value.groupby(client).transform("mean")
        design[f"{exposure}_between"] = mean
        design[f"{exposure}_within"] = (
            _detrend_within_client(value, design["week"], client) if detrend else value - mean
        )
    product = design[f"{exposures[0]}_within"] * design[f"{exposures[1]}_within"]
    design[INTERACTION] = product - product.groupby(client).transform("mean") if recentre_interaction else product
    return design


@dataclass
class VolumeModelResult(FittedCounts):
    """A fitted volume model.

    Attributes
    ----------
    params:
        Tidy fixed effects (``term``, ``estimate``, ``std_error``,
        ``statistic``, ``df``, ``p_value``, ``conf_low``, ``conf_high``) in outcome
        units per one set/week, one minute/week or one week.
    lmm:
        The underlying :class:`~backpain_analysis.mixed.LMMResult`
        (variance components, convergence, predictions).
    design:
        The rows the model was fitted on (:func:`volume_design`).
    instrument:
        The outcome's :class:`~backpain_analysis.instruments.Instrument`
        (direction: ``instrument.direction``). ``params`` keeps the raw sign
        (outcome units, positive = higher score); :meth:`clinical_effects`
        adds the ``improvement`` columns (positive = better).
    level, n_obs, n_clients:
        Confidence level of every interval; rows and clients fitted.
    notes:
        Warnings in words: ``between_df`` when fewer than
        :data:`BETWEEN_DF_MIN_CLIENTS` clients are fitted with Satterthwaite df
        (the between-client intervals run slightly narrow, with the measured
        coverage).
    """

    outcome: str
    lag: int
    formula: str
    params: pd.DataFrame
    lmm: LMMResult
    design: pd.DataFrame
    instrument: Instrument
    options: dict = field(default_factory=dict)
    notes: dict = field(default_factory=dict)

    @property
    def level(self) -> float:
        return float(self.lmm.conf_level)


    @property
    def converged(self) -> bool:
        return bool(self.lmm.converged)


    def clinical_effects(self) -> pd.DataFrame:
        """Effects per clinically sensible unit and against the instrument's MCID.

        Returns
        -------
        DataFrame, one row per exposure term (``week`` and the within and
        between terms), columns: ``term``; ``per`` (the unit, e.g.
        ``"10 sets/week"``); ``estimate``, ``conf_low``, ``conf_high``
        (outcome change per that unit, outcome units); ``improvement``,
        ``improvement_low``, ``improvement_high`` (the same, signed so that
        positive means better whatever the instrument's direction);
        ``mcid`` (the instrument's absolute MCID, NaN if it has none);
        ``improvement_mcid`` (improvement as a fraction of the MCID).
        ``attrs``: ``instrument``, ``direction``, ``sign_convention``, ``level``.
        """
        rows = []
        for row in self.params.itertuples(index=False):
            unit = None if row.term == "Intercept" else clinical_unit(row.term)
            if unit is None:
                continue
            step, label = unit
            rows.append({"term": row.term, "per": label, **{c: step * getattr(row, c) for c in ("estimate", "conf_low", "conf_high")}})
        table = pd.DataFrame(rows, columns=["term", "per", "estimate", "conf_low", "conf_high"])
        signed = self.instrument.with_improvement(table)
        mcid = self.instrument.mcid_abs if self.instrument.mcid_abs is not None else np.nan
        table = signed.assign(mcid=mcid, improvement_mcid=signed["improvement"] / mcid)
        table.attrs.update(signed.attrs, level=self.level)
        return table

    def summary(self) -> pd.DataFrame:
        """``params`` indexed by term, for display (a method returning a DataFrame, as on every model result)."""
        return self.params.set_index("term")

    def to_dict(self) -> dict:
        """The JSON object of ``backpain fit --json``."""
        keys = ["term", "estimate", "std_error", "df", "conf_low", "conf_high", "p_value"]
        effects = [
            {k: (v if isinstance(v, str) else (None if not np.isfinite(v) else float(v))) for k, v in row.items()}
            for row in self.params[keys].to_dict("records")
        ]
        return {
            "outcome": self.outcome,
            "lag": self.lag,
            "formula": self.formula,
            "groups": "client_id",
            "re_formula": "~ week",
            "method": "REML",
            "instrument": self.instrument.name,
            "direction": self.instrument.direction,
            "level": self.level,
            "conf_level": self.level,
            "ddf": self.lmm.ddf,
            "n_obs": self.n_obs,
            "n_clients": self.n_clients,
            "converged": self.converged,
            "messages": list(self.lmm.messages),
            "notes": list(getattr(self, "notes", {}).values()),  # ClusterFit (scale/fit.py) reuses this method without notes
            "effects": effects,
        }


def fit_volume_model(
    panel: pd.DataFrame,
    outcome: str | Instrument = "nprs",
    lag: int = 1,
    *,
    extra_exposures: Sequence[str] = (),
    covariates: Sequence[str] = (),
    baseline: bool = False,
    detrend: bool = False,
    recentre_interaction: bool = False,
    engine: str = "auto",
    ddf: str = "satterthwaite",
    level: float = 0.95,
) -> VolumeModelResult:
    """Fit the longitudinal volume model of the module docstring.

    Parameters
    ----------
    panel:
        The weekly panel.
    outcome:
        Instrument to model: a name in any case (``"NPRS"``, ``"psfs"``, a
        custom outcome) or an :class:`~backpain_analysis.instruments.Instrument`
        (how a custom outcome declares its direction). Estimates are in the
        instrument's units with the raw sign in ``params``;
        :meth:`VolumeModelResult.clinical_effects` adds them signed as
        improvements.
    lag:
        K, the exposure lag in weeks (default 1).
    extra_exposures:
        More exposures with within and between terms (``mixed_min``,
        ``volume_load_kg``).
    covariates:
        Client covariates added as fixed terms (``program`` enters as a
        categorical, numeric ones linearly).
    baseline, detrend, recentre_interaction:
        See :func:`volume_design`.
    engine:
        Mixed-model engine passed to :func:`~backpain_analysis.mixed.fit_lmm`.
    ddf:
        Denominator df of ``params`` (its ``df`` column): ``"satterthwaite"``,
        ``"kenward-roger"`` or ``"z"``, passed to :func:`~backpain_analysis.mixed.fit_lmm`.
    level:
        Confidence level of the intervals.

    Raises
    ------
    DataError
        When the outcome is absent, or fewer than 5 clients have at least 2
        weeks with the outcome and a lag-K exposure.
    """
    lag = check_lag(lag)
    level = check_level(level)
    spec = outcome_instrument(outcome)
    outcome = spec.name
    exposures = (STRENGTH, FLEXIBILITY, *extra_exposures)
    design = volume_design(panel, outcome, lag, exposures=exposures, detrend=detrend, baseline=baseline, recentre_interaction=recentre_interaction)
    weeks = design.groupby("client_id").size()
    usable = int((weeks >= MIN_WEEKS_PER_CLIENT).sum())
    if usable < MIN_CLIENTS:
        raise DataError(
            f"too few clients to fit {outcome}: {usable} have {MIN_WEEKS_PER_CLIENT}+ weeks with {outcome} "
            f"and a lag-{lag} exposure, at least {MIN_CLIENTS} are needed"
        )
    terms = list(CORE_TERMS)
    for exposure in extra_exposures:
        terms += [f"{exposure}_within", f"{exposure}_between"]
    if baseline:
        terms.append("baseline_score")
    for covariate in covariates:
        if covariate not in design.columns:
            raise DataError(f"covariate {covariate!r} is not a column of the clients table")
        numeric = pd.api.types.is_numeric_dtype(design[covariate])
        terms.append(covariate if numeric else f"C({covariate})")
    formula = f"{outcome} ~ " + " + ".join(terms)
    lmm = fit_lmm(design, formula, groups="client_id", re_formula="~ week", reml=True, engine=engine, ddf=ddf, level=level)
    options = {
        "extra_exposures": list(extra_exposures),
        "covariates": list(covariates),
        "baseline": baseline,
        "detrend": detrend,
        "recentre_interaction": recentre_interaction,
    }
    notes = {}
    n_clients = int(design["client_id"].nunique())
    if lmm.ddf == "satterthwaite" and n_clients < BETWEEN_DF_MIN_CLIENTS:
        notes["between_df"] = between_df_note(n_clients)
    return VolumeModelResult(outcome, lag, formula, lmm.params, lmm, design, spec, options, notes)


BETWEEN_DF_MIN_CLIENTS = 20
"""Below this many clients the result notes that Satterthwaite between-client intervals run slightly narrow."""


def between_df_note(n_clients: int) -> str:
    """Why the between-client intervals of a small studio deserve a little caution (measured, docs/analyses.md)."""
    return (
        f"With {n_clients} clients (fewer than {BETWEEN_DF_MIN_CLIENTS}), the intervals of the between-client terms "
        "(strength_sets_between, flexibility_min_between) from Satterthwaite df run slightly narrow: in 1,500 simulated "
        "studios of 15 clients their 95 % intervals covered 92.3-93.3 %, while ddf=\"kenward-roger\" covered 94.1-94.9 % on the same studios; "
        "the within-client terms were not affected (93.5-94.9 %). Refit with ddf=\"kenward-roger\" (CLI: --ddf kenward-roger) "
        "for intervals that keep their level."
    )
