"""Benchmark: ``backpain power`` on 1,000 simulated 40-client studies, against a statsmodels loop.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_power.py                  # 1,000 studies, statsmodels on 30 of them
    .venv/bin/python benchmarks/bench_power.py --sims 200 --reference 10 --scheduler local

Times, in this run:

- ``power``: :func:`backpain_analysis.power.power_curve` for 40 clients x 12
  weeks (default NPRS scenario), every study simulated and fitted with the
  model of ``backpain fit`` (what ``backpain power --clients 40 --sims S``
  does, without process start-up);
- ``statsmodels loop``: the same first ``--reference`` simulated studies,
  their design built with ``volume_design`` and fitted with plain
  statsmodels ``MixedLM.from_formula(...).fit(reml=True)`` (its default
  optimizer chain), as a simr-style loop in Python would.

The ratio is statsmodels' time per study over ours, both from this run.
Nothing here is a test; the printed figures go to docs/planning.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings

import numpy as np

from backpain_analysis.contract import FIT_TERMS
from backpain_analysis.power import DEFAULT_SCENARIO, power_curve, simulate_panel, study_rng
from backpain_analysis.volume_model import volume_design


def _statsmodels_loop(studies: int, clients: int, weeks: int, seed: int) -> float:
    import statsmodels.formula.api as smf

    formula = "nprs ~ " + " + ".join(FIT_TERMS)
    start = time.perf_counter()
    for index in range(studies):
        panel = simulate_panel(DEFAULT_SCENARIO, clients, weeks, study_rng(seed, clients, index))
        design = volume_design(panel, "nprs", 1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            smf.mixedlm(formula, design, groups="client_id", re_formula="~week").fit(reml=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sims", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=40)
    parser.add_argument("--weeks", type=int, default=12)
    parser.add_argument("--reference", type=int, default=30, help="studies fitted with statsmodels")
    parser.add_argument("--scheduler", default=None, help="Dask scheduler for the power run ('local' starts one)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    start = time.perf_counter()
    result = power_curve([args.clients], args.weeks, args.sims, args.seed, scheduler=args.scheduler)
    ours = time.perf_counter() - start
    reference = _statsmodels_loop(args.reference, args.clients, args.weeks, args.seed)
    per_ours = ours / args.sims
    per_sm = reference / args.reference
    print(f"power: {args.sims} studies of {args.clients} clients x {args.weeks} weeks in {ours:.1f} s ({1000 * per_ours:.1f} ms per study)")
    print(f"statsmodels loop: {args.reference} studies in {reference:.1f} s ({1000 * per_sm:.1f} ms per study)")
    print(f"ratio statsmodels / power per study: {per_sm / per_ours:.1f}x; statsmodels for {args.sims} studies would take {per_sm * args.sims:.0f} s")
    print(f"failed fits: {int(result.table['failed'].iloc[0])}; power: " + ", ".join(
        f"{r.term} {r.power:.3f}" for r in result.table.itertuples()))


if __name__ == "__main__":
    main()
