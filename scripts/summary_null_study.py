"""How often summary.json gives a verdict (better/worse) when nothing works.

Simulated studios with no within-client effect and no program effect
(``simulate(..., outcome_models=...)``); for each seed the summary is
computed on the realised weekly panel and each finding's verdict counted.
Prints, per finding, the share of seeds with ``better`` or ``worse`` and the
share of seeds with any such verdict.

    nice -n 10 .venv/bin/python scripts/summary_null_study.py --seeds 200 --clients 40 --weeks 8
"""

from __future__ import annotations

import argparse

from backpain_analysis.simulate import simulate
from backpain_analysis.summary import summarise

NO_EFFECT = {
    name: {"strength_sets_within": 0.0, "flexibility_min_within": 0.0, "strength_x_flexibility_within": 0.0, "program_week": {}}
    for name in ("nprs", "odi", "psfs")
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--clients", type=int, default=40)
    parser.add_argument("--weeks", type=int, default=8)
    args = parser.parse_args()
    hits: dict[str, int] = {}
    any_hit = 0
    for seed in range(args.seeds):
        study = simulate(args.clients, args.weeks, 1000 + seed, bad_rows=False, outcome_models=NO_EFFECT)
        found = [(f["term"], f["verdict"] in ("better", "worse")) for f in summarise(study.weekly, "nprs").to_dict()["findings"]]
        for term, hit in found:
            hits[term] = hits.get(term, 0) + hit
        any_hit += any(hit for _, hit in found)
    print(f"{args.seeds} null studios of {args.clients} clients x {args.weeks} weeks (NPRS)")
    for term, n in hits.items():
        print(f"  {term:32s} better/worse in {n:4d} seeds ({100 * n / args.seeds:.1f} %)")
    print(f"  any finding better/worse in {any_hit} seeds ({100 * any_hit / args.seeds:.1f} %)")


if __name__ == "__main__":
    main()
