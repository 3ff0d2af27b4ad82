"""Large checks of ``backpain power`` (results recorded in docs/planning.md).

1. Type I error: every within-client effect 0, 2,000 simulated studies of
   20 clients x 8 weeks (default NPRS scenario otherwise); the rejection rate
   of each term at 5 % must lie in 3.5-6.5 %.
2. Agreement with an independent simulation: the documented process written
   again client by client and fitted with plain statsmodels MixedLM
   (tests/test_power.py::independent_p_values), 12 clients x 6 weeks, 400
   studies each; the two powers must agree within Monte Carlo error.

3. Coaches: in simulated chains (``provider_comparison.simulate_chain``, 8
   coaches), the share of 200 seeds in which a coach whose clients improve
   1.5 NPRS points more is flagged, and the false-flag rate per judged coach
   over 200 seeds with no true difference.

4. Dropout tipping point: 10 simulated datasets where half the clients stop
   reporting while training twice as much and their unreported scores are
   2 points worse (tests/test_dropout_sensitivity.py::dropout_study): the
   delta-adjusted imputation estimate at delta 2 against the complete data's
   estimate (the known answer), the MAR estimate's bias, and the imputed
   tipping point against the complete data's own (the delta, added to the
   hidden weeks' MAR-free truth, at which its 95 % interval reaches 0).

Run from the repository root: ``nice -n 10 .venv/bin/python scripts/planning_checks.py``.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from backpain_analysis.power import DEFAULT_SCENARIO, WITHIN_TERMS, power_curve, stderr_progress

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from test_power import independent_p_values  # noqa: E402


def type_one_error(sims: int = 2000) -> None:
    null = DEFAULT_SCENARIO.with_effects(**{term: 0.0 for term in WITHIN_TERMS})
    start = time.perf_counter()
    result = power_curve([20], 8, sims, seed=20261129, scenario=null, progress=stderr_progress(every=30))
    print(f"type I error, {sims} studies of 20 clients x 8 weeks ({time.perf_counter() - start:.0f} s):")
    print(result.table[["term", "power", "conf_low", "conf_high", "failed"]].to_string(index=False, float_format=lambda v: f"{v:.4f}"))


def agreement(sims: int = 400) -> None:
    scenario = replace(DEFAULT_SCENARIO, dropout_share=0.0, measured_share=1.0, program_week=0.0)
    ours = power_curve([12], 6, sims, seed=7, scenario=scenario, terms=["strength_sets_within"]).table["power"].iloc[0]
    theirs = float(np.mean(np.array(independent_p_values(sims, seed=8)) < 0.05))
    se = math.sqrt(ours * (1 - ours) / sims + theirs * (1 - theirs) / sims)
    print(f"power of strength_sets_within, 12 clients x 6 weeks, {sims} studies each:")
    print(f"  backpain power {ours:.4f}, independent statsmodels loop {theirs:.4f}, difference {ours - theirs:+.4f} (SE {se:.4f}, z {(ours - theirs) / se:+.2f})")


def coach_flags(seeds: int = 200) -> None:
    from backpain_analysis.provider_comparison import compare_providers, simulate_chain

    hits = sum(
        compare_providers(simulate_chain(better_coach=1.5, seed=s)).table.set_index("provider").loc["C1", "flag"] == "better"
        for s in range(seeds)
    )
    judged = false = 0
    for s in range(seeds):
        table = compare_providers(simulate_chain(seed=100_000 + s)).table
        table = table[table["flag"] != "too_few_clients"]
        judged += len(table)
        false += int((table["flag"] != "as_expected").sum())
    print(f"coaches: truly better coach (+1.5 NPRS points) flagged in {hits}/{seeds} seeds ({hits / seeds:.1%});")
    print(f"  no true difference: {false}/{judged} judged coaches flagged ({false / judged:.2%}, nominal 5 %)")


def dropout_recovery(datasets: int = 10) -> None:
    from test_dropout_sensitivity import dropout_study

    from backpain_analysis.dropout_sensitivity import tipping_point
    from backpain_analysis.volume_model import fit_volume_model

    term = "strength_sets_within"
    at_truth, at_mar, tips, oracle = [], [], [], []
    for seed in range(datasets):
        full, observed, hidden = dropout_study(seed)
        known = fit_volume_model(full, "nprs").params.set_index("term").loc[term]
        table = tipping_point(observed, "nprs", deltas=(2.0, 4.0, 6.0, 8.0), m=10, seed=seed)
        pooled = table.table.set_index("delta")
        at_truth.append(pooled.loc[2.0, "estimate"] - known["estimate"])
        at_mar.append(pooled.loc[0.0, "estimate"] - known["estimate"])
        tips.append(table.tipping_delta)
        # complete data with the hidden weeks shifted by (d - 2) more: where its own interval reaches 0
        bounds = []
        grid = np.arange(0.0, 8.01, 1.0)
        for d in grid:
            shifted = full.assign(nprs=full["nprs"] + (d - 2.0) * hidden)
            bounds.append(fit_volume_model(shifted, "nprs").params.set_index("term").loc[term, "conf_high"])
        bounds = -np.array(bounds)
        cross = np.nonzero(bounds <= 0)[0]
        oracle.append(np.interp(0.0, [-bounds[cross[0] - 1], -bounds[cross[0]]], [grid[cross[0] - 1], grid[cross[0]]]) if len(cross) and cross[0] > 0 else np.nan)
    at_truth, at_mar, tips, oracle = map(np.array, (at_truth, at_mar, tips, oracle))
    print(f"dropout: {datasets} datasets, true delta 2 (per set/week, strength within):")
    print(f"  imputed at delta 2 minus complete-data estimate: mean {at_truth.mean():+.4f} (SD {at_truth.std(ddof=1):.4f})")
    print(f"  MAR (delta 0) minus complete-data estimate:      mean {at_mar.mean():+.4f} (SD {at_mar.std(ddof=1):.4f})")
    both = np.isfinite(tips) & np.isfinite(oracle)
    print(f"  tipping delta: imputed median {np.nanmedian(tips):.2f}, complete-data median {np.nanmedian(oracle):.2f}; "
          f"median difference {np.median(tips[both] - oracle[both]):+.2f} over {both.sum()} datasets with both")


if __name__ == "__main__":
    which = sys.argv[1:] or ["type1", "agreement", "coaches", "dropout"]
    if "type1" in which:
        type_one_error()
    if "agreement" in which:
        agreement()
    if "coaches" in which:
        coach_flags()
    if "dropout" in which:
        dropout_recovery()
