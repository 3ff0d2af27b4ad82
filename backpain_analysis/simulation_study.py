"""Simulation studies of the volume model: bias, precision and interval coverage.

Each replicate simulates a study with :func:`backpain_analysis.simulate.simulate`
(known truth), fits :func:`backpain_analysis.volume_model.fit_volume_model` on
its realised weekly panel and compares the estimates with the truth. Use it to
check the estimator (``scripts/volume_recovery_study.py``, docs/volume_model.md)
or as a power analysis for a planned studio study.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import proportion_confint

from backpain_analysis.simulate import simulate
from backpain_analysis.volume_model import fit_volume_model

WITHIN_TERMS: tuple[str, ...] = (
    "strength_sets_within",
    "flexibility_min_within",
    "strength_x_flexibility_within",
)


def replicate_estimates(
    seeds: Iterable[int],
    *,
    n_clients: int = 150,
    n_weeks: int = 16,
    outcome: str = "nprs",
    lag: int = 1,
    terms: Iterable[str] = WITHIN_TERMS,
    simulate_options: Mapping[str, object] | None = None,
    fit_options: Mapping[str, object] | None = None,
) -> pd.DataFrame:
    """Fit the volume model on one simulated study per seed.

    Returns
    -------
    DataFrame, one row per seed and term: ``seed``, ``term``, ``truth`` (the
    value this model estimates: the simulator's effect when ``lag`` is the
    simulator's lag; 0 for a within term at any other lag, since the
    simulated outcome depends on training of one lag only), ``estimate``, ``std_error``, ``conf_low``,
    ``conf_high``, ``covered`` (truth inside the 95 % interval),
    ``converged``.
    """
    rows = []
    terms = tuple(terms)
    for seed in seeds:
        study = simulate(n_clients, n_weeks, int(seed), bad_rows=False, **dict(simulate_options or {}))
        truth = dict(study.truth["instruments"][outcome]["effects"])
        if lag != study.truth["options"]["lag"]:
            truth.update({t: 0.0 for t in truth if t.endswith("_within")})
        result = fit_volume_model(study.weekly, outcome, lag=lag, **dict(fit_options or {}))
        params = result.params.set_index("term")
        for term in terms:
            p = params.loc[term]
            rows.append(
                {
                    "seed": int(seed),
                    "term": term,
                    "truth": float(truth[term]),
                    "estimate": float(p["estimate"]),
                    "std_error": float(p["std_error"]),
                    "conf_low": float(p["conf_low"]),
                    "conf_high": float(p["conf_high"]),
                    "covered": bool(p["conf_low"] <= truth[term] <= p["conf_high"]),
                    "converged": result.converged,
                }
            )
    return pd.DataFrame(rows)


def summarise_replicates(replicates: pd.DataFrame) -> pd.DataFrame:
    """Bias, precision and coverage per term from :func:`replicate_estimates`.

    Returns
    -------
    DataFrame, one row per term: ``term``, ``truth``, ``n_datasets``,
    ``mean_estimate``, ``bias`` (mean estimate - truth), ``bias_mc_se``
    (Monte Carlo SE of the bias), ``relative_bias`` (bias / |truth|),
    ``empirical_sd`` (SD of the estimates), ``mean_std_error`` (mean
    model-based SE; close to ``empirical_sd`` when the SEs are right),
    ``coverage`` (share of 95 % intervals covering the truth),
    ``coverage_low``, ``coverage_high`` (Wilson 95 % interval of the
    coverage), ``converged`` (share of fits that converged).
    """
    rows = []
    for term, group in replicates.groupby("term", sort=False):
        n = len(group)
        truth = float(group["truth"].iloc[0])
        bias = float(group["estimate"].mean() - truth)
        covered = float(group["covered"].mean())
        low, high = proportion_confint(int(group["covered"].sum()), n, alpha=0.05, method="wilson")
        rows.append(
            {
                "term": term,
                "truth": truth,
                "n_datasets": n,
                "mean_estimate": float(group["estimate"].mean()),
                "bias": bias,
                "bias_mc_se": float(group["estimate"].std(ddof=1) / np.sqrt(n)),
                "relative_bias": bias / abs(truth) if truth != 0 else np.nan,
                "empirical_sd": float(group["estimate"].std(ddof=1)),
                "mean_std_error": float(group["std_error"].mean()),
                "coverage": covered,
                "coverage_low": float(low),
                "coverage_high": float(high),
                "converged": float(group["converged"].mean()),
            }
        )
    return pd.DataFrame(rows)
