"""How often summary.json says better/worse when nothing works, and how often it finds true effects.

``--scenario null``: simulated studios with no within-client effect and no
program effect; for each seed the summary is computed on the realised weekly
panel. Prints, per finding, the share of seeds with ``better`` or ``worse``
and the share of seeds with any such verdict (the issue-14 criterion: none
in at least 19 of 20 seeds, i.e. a family-wise rate of at most 5 %).

``--scenario power``: the simulator's default effects (NPRS: 0.4 points per
10 strength sets a week) and a strength_mobility program that improves NPRS
by 0.15 points a week more than usual care; prints the share of seeds with
each verdict for the strength finding and each program finding.

    nice -n 10 .venv/bin/python scripts/summary_null_study.py --scenario null --seeds 100 --clients 30 --weeks 8
    nice -n 10 .venv/bin/python scripts/summary_null_study.py --scenario power --seeds 20 --clients 60 --weeks 12
"""

from __future__ import annotations

import argparse
from collections import Counter

from backpain_analysis.simulate import simulate
from backpain_analysis.summary import summarise

NO_EFFECT = {
    name: {"strength_sets_within": 0.0, "flexibility_min_within": 0.0, "strength_x_flexibility_within": 0.0, "program_week": {}}
    for name in ("nprs", "odi", "psfs")
}
PROGRAM_EFFECT = {"nprs": {"program_week": {"strength_mobility": -0.15}}}
"""NPRS 0.15 points a week lower in strength_mobility than in usual care (1.2 points by week 8)."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=("null", "power"), default="null")
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--first-seed", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=30)
    parser.add_argument("--weeks", type=int, default=8)
    args = parser.parse_args()
    null = args.scenario == "null"
    verdicts: dict[str, Counter] = {}
    any_hit = 0
    levels = Counter()
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        if null:
            study = simulate(args.clients, args.weeks, seed, bad_rows=False, outcome_models=NO_EFFECT)
        else:
            study = simulate(args.clients, args.weeks, seed, program_advantage=True, bad_rows=False, outcome_models=PROGRAM_EFFECT)
        summary = summarise(study.weekly, "nprs")
        levels[f"{summary.family_size} findings, each at {100 * summary.level:.4g} %"] += 1
        found = summary.to_dict()["findings"]
        for f in found:
            verdicts.setdefault(f["term"], Counter())[f["verdict"]] += 1
        any_hit += any(f["verdict"] in ("better", "worse") for f in found)
    print(f"{args.scenario}: {args.seeds} studios of {args.clients} clients x {args.weeks} weeks (NPRS), seeds {args.first_seed}+")
    print("  intervals: " + "; ".join(f"{k} ({n} seeds)" for k, n in levels.items()))
    for term, counts in verdicts.items():
        shares = ", ".join(f"{v} {100 * n / args.seeds:.1f} %" for v, n in sorted(counts.items()))
        print(f"  {term:32s} {shares}")
    print(f"  any finding better/worse in {any_hit} of {args.seeds} seeds ({100 * any_hit / args.seeds:.1f} %)")


if __name__ == "__main__":
    main()
