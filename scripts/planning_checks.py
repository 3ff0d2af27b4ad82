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
    scenario = replace(DEFAULT_SCENARIO, dropout_share=0.0, measured_share=1.0)
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


if __name__ == "__main__":
    which = sys.argv[1:] or ["type1", "agreement", "coaches"]
    if "type1" in which:
        type_one_error()
    if "agreement" in which:
        agreement()
    if "coaches" in which:
        coach_flags()
