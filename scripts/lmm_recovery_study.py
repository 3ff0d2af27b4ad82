"""Simulation study of fit_lmm: bias, RMSE and 95 % interval coverage, and fast vs statsmodels agreement.

Usage (from the repository root)::

    .venv/bin/python scripts/lmm_recovery_study.py                  # 500 data sets per scenario
    .venv/bin/python scripts/lmm_recovery_study.py --datasets 100 --agreement 20

Scenarios (Gaussian, REML, fast engine; truth in ``SCENARIOS``):

- ``small_slope``: 40 groups x 8 occasions, random intercept and slope;
- ``studio``: 200 groups x 16 weeks, random intercept and slope, a within-group
  interaction (the contract's model shape at a small studio's size);
- ``few_groups``: 12 groups x 5 occasions, random intercept only, with a
  group-level covariate (where Wald z intervals are expected to undercover).

For each fixed effect: mean error (bias), its Monte Carlo SE, RMSE, and the
share of 95 % Wald intervals covering the truth (Monte Carlo SE
``sqrt(0.95 * 0.05 / datasets)``); for each SD, the mean estimate. Then on
``--agreement`` data sets of ``studio``, the fast and statsmodels engines'
largest fixed-effect difference (in SEs) and REML log-likelihood difference.
Results are recorded in docs/engine.md.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from backpain_analysis.mixed import fit_lmm


@dataclass(frozen=True)
class Scenario:
    groups: int
    occasions: int
    formula: str
    re_formula: str | None
    beta: dict[str, float]
    sd_intercept: float
    sd_slope: float
    corr: float


SCENARIOS = {
    "small_slope": Scenario(40, 8, "y ~ week + x + g", "~ week", {"Intercept": 2.0, "week": -0.3, "x": 0.5, "g": 0.2}, 1.0, 0.2, 0.25),
    "studio": Scenario(
        200, 16, "y ~ week + x * w + g", "~ week",
        {"Intercept": 6.0, "week": -0.08, "x": -0.05, "w": -0.01, "g": 0.3, "x:w": -0.002}, 1.3, 0.06, 0.5,
    ),
    "few_groups": Scenario(12, 5, "y ~ x + g", None, {"Intercept": 1.0, "x": 0.5, "g": 1.0}, 1.0, 0.0, 0.0),
}


def simulate(s: Scenario, rng: np.random.Generator) -> pd.DataFrame:
    """One data set of scenario ``s``: ``x`` varies within groups, ``w`` too (minutes), ``g`` between groups."""
    group = np.repeat(np.arange(s.groups), s.occasions)
    week = np.tile(np.arange(s.occasions), s.groups).astype(float)
    frame = pd.DataFrame(
        {
            "group": group,
            "week": week,
            "x": rng.poisson(rng.gamma(2.0, 3.0, s.groups)[group]).astype(float),
            "w": rng.gamma(2.0, 10.0, group.size),
            "g": rng.binomial(1, 0.5, s.groups)[group].astype(float),
        }
    )
    cov = s.corr * s.sd_intercept * s.sd_slope
    b = rng.multivariate_normal([0.0, 0.0], [[s.sd_intercept**2, cov], [cov, s.sd_slope**2]], size=s.groups)
    mean = sum(value * (1.0 if term == "Intercept" else frame.eval(term.replace(":", "*"))) for term, value in s.beta.items())
    frame["y"] = mean + b[group, 0] + b[group, 1] * week + rng.normal(0.0, 1.0, group.size)
    return frame


def study(name: str, s: Scenario, datasets: int, seed: int) -> pd.DataFrame:
    rows = []
    start = time.perf_counter()
    for k in range(datasets):
        fit = fit_lmm(simulate(s, np.random.default_rng([seed, k])), s.formula, "group", s.re_formula)
        p = fit.params.set_index("term")
        vc = fit.variance_components.set_index("term")["estimate"]
        for term, truth in s.beta.items():
            rows.append(
                {
                    "term": term,
                    "error": p.loc[term, "estimate"] - truth,
                    "covered": p.loc[term, "conf_low"] <= truth <= p.loc[term, "conf_high"],
                    "sd_intercept": vc["sd__Intercept"],
                    "sd_slope": vc.get("sd__week", 0.0),
                    "converged": fit.converged,
                }
            )
    elapsed = time.perf_counter() - start
    frame = pd.DataFrame(rows)
    out = frame.groupby("term", sort=False).agg(
        bias=("error", "mean"),
        bias_mc_se=("error", lambda e: e.std(ddof=1) / np.sqrt(len(e))),
        rmse=("error", lambda e: float(np.sqrt(np.mean(e**2)))),
        coverage=("covered", "mean"),
    )
    out.insert(0, "scenario", name)
    print(
        f"{name}: {datasets} data sets in {elapsed:.1f} s; converged {frame['converged'].mean():.1%}; "
        f"mean SD intercept {frame['sd_intercept'].mean():.4f} (truth {s.sd_intercept}), "
        f"slope {frame['sd_slope'].mean():.4f} (truth {s.sd_slope}); coverage MC SE {np.sqrt(0.95 * 0.05 / datasets):.3f}"
    )
    return out.reset_index()


def agreement(datasets: int, seed: int) -> pd.DataFrame:
    s = SCENARIOS["studio"]
    rows = []
    for k in range(datasets):
        data = simulate(s, np.random.default_rng([seed, 10_000 + k]))
        fast = fit_lmm(data, s.formula, "group", s.re_formula, engine="fast")
        ref = fit_lmm(data, s.formula, "group", s.re_formula, engine="statsmodels")
        rows.append(
            {
                "max_fixef_diff_in_se": float(((fast.params["estimate"] - ref.params["estimate"]).abs() / fast.params["std_error"]).max()),
                "loglik_fast_minus_statsmodels": fast.loglik - ref.loglik,
                "statsmodels_optimizer": ref.optimizer.rsplit("kept ", 1)[-1],
            }
        )
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=500)
    parser.add_argument("--agreement", type=int, default=50, help="data sets for the fast vs statsmodels comparison")
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args(argv)
    table = pd.concat([study(name, s, args.datasets, args.seed) for name, s in SCENARIOS.items()], ignore_index=True)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    if args.agreement:
        agree = agreement(args.agreement, args.seed)
        print(f"\nfast vs statsmodels on {len(agree)} 'studio' data sets:")
        print(agree.describe().loc[["mean", "min", "max"]].to_string(float_format=lambda v: f"{v:.3g}"))
        print("statsmodels attempt kept:", agree["statsmodels_optimizer"].value_counts().to_dict())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
