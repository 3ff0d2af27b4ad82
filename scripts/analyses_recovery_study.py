"""Recovery study for the analyses of docs/analyses.md over many simulated studios.

Per seed, three simulated data sets of 150 clients x 16 weeks
(:func:`backpain_analysis.simulate.simulate`, no planted bad rows):

- linear truth: sensitivity table (bias and 95 % coverage of the within
  strength effect per variant; the truth is the simulated lag-1 effect for
  lag-1 variants and 0 for lags 0, 2, 3), dose-response (false plateaus),
  responder rate (Wilson coverage of the expected share);
- saturating truth: dose-response (plateau found, coverage of the dose
  reaching 90 % of the largest benefit within the fitted range);
- program advantage (strength_mobility -0.1 NPRS/week against usual care,
  between-client effects and ramp-up off, so that programs differ by their
  slope only): coverage of the contrasts at weeks 4, 8, 12.

Usage::

    python scripts/analyses_recovery_study.py --seeds 100 --workers 2 --out results.csv

prints a Markdown summary (pasted into docs/analyses.md) and writes every
per-seed number to ``--out``.
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd

from backpain_analysis.dose_response import PLATEAU_SHARE, fit_dose_response
from backpain_analysis.programs import compare_programs
from backpain_analysis.responders import responder_rates
from backpain_analysis.sensitivity import sensitivity_table
from backpain_analysis.simulate import SATURATION_SETS, simulate

N_CLIENTS, N_WEEKS = 150, 16
ADVANTAGE = -0.1
WEEKS = (4, 8, 12)


def _covers(low: float, value: float, high: float) -> bool:
    return bool(low <= value <= high)


def one_seed(seed: int) -> list[dict]:
    """Every recovery record of one seed (one dict per estimate)."""
    records = []
    linear = simulate(N_CLIENTS, N_WEEKS, seed, bad_rows=False)
    truth = linear.truth["instruments"]["nprs"]
    table = sensitivity_table(linear.weekly, "nprs")
    for row in table[table["term"] == "strength_sets_within"].itertuples():
        target = truth["effects"]["strength_sets_within"] if row.lag == 1 else 0.0
        records.append({"seed": seed, "study": "sensitivity", "item": row.analysis, "estimate": row.estimate,
                        "truth": target, "covered": _covers(row.conf_low, target, row.conf_high)})
    flat = fit_dose_response(linear.weekly, "nprs").flattening.set_index("exposure")
    records.append({"seed": seed, "study": "dose_linear", "item": "false_plateau", "estimate": float(flat.loc["strength_sets", "plateau"])})
    records.append({"seed": seed, "study": "dose_linear", "item": "false_plateau_flexibility", "estimate": float(flat.loc["flexibility_min", "plateau"])})
    rates = responder_rates(linear.weekly, "nprs", by=None)
    rate = rates[rates["term"] == "mcid_absolute"].iloc[0]
    expected = truth["responders"]["expected_share_observed_ge_mcid"]
    records.append({"seed": seed, "study": "responders", "item": "mcid_absolute", "estimate": rate["estimate"],
                    "truth": expected, "covered": _covers(rate["conf_low"], expected, rate["conf_high"])})

    saturating = simulate(N_CLIENTS, N_WEEKS, seed, dose_response="saturating", bad_rows=False)
    result = fit_dose_response(saturating.weekly, "nprs")
    emax = saturating.truth["instruments"]["nprs"]["dose_response"]["emax"]
    dose = result.curves.loc[result.curves["exposure"] == "strength_sets", "dose"].to_numpy()
    benefit = -emax * (1.0 - np.exp(-dose / SATURATION_SETS))
    target = float(dose[np.argmax(benefit >= PLATEAU_SHARE * benefit.max())])
    flat = result.flattening.set_index("exposure").loc["strength_sets"]
    records.append({"seed": seed, "study": "dose_saturating", "item": "plateau_found", "estimate": float(flat["plateau"])})
    if flat["plateau"]:
        records.append({"seed": seed, "study": "dose_saturating", "item": "flattening_dose", "estimate": flat["estimate"],
                        "truth": target, "covered": _covers(flat["conf_low"], target, flat["conf_high"])})

    overrides = {"nprs": {"strength_sets_between": 0.0, "flexibility_min_between": 0.0, "program_week": {"strength_mobility": ADVANTAGE}}}
    programs = simulate(N_CLIENTS, N_WEEKS, seed, bad_rows=False, program_advantage=True, outcome_models=overrides, training={"ramp": ()})
    slopes = programs.truth["instruments"]["nprs"]["programs"]["direct_week_vs_reference"]
    contrasts = compare_programs(programs.weekly, "nprs", weeks=WEEKS, reference="usual").contrasts
    for row in contrasts[contrasts["versus"] == "usual"].itertuples():
        target = slopes[row.program] * row.week
        records.append({"seed": seed, "study": "programs", "item": f"{row.program} week {row.week}", "estimate": row.estimate,
                        "truth": target, "covered": _covers(row.conf_low, target, row.conf_high)})
    return records


def summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Per study and item: seeds, mean estimate, truth, bias, empirical SD, coverage (or share for 0/1 items)."""
    grouped = frame.groupby(["study", "item"], sort=False)
    out = grouped.agg(seeds=("seed", "nunique"), mean=("estimate", "mean"), sd=("estimate", "std"),
                      truth=("truth", "mean"), coverage=("covered", "mean"))
    out["bias"] = out["mean"] - out["truth"]
    return out.reset_index()[["study", "item", "seeds", "mean", "truth", "bias", "sd", "coverage"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--first-seed", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--out", default="analyses_recovery.csv")
    args = parser.parse_args()
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        records = [r for rows in pool.map(one_seed, seeds) for r in rows]
    frame = pd.DataFrame(records)
    frame.to_csv(args.out, index=False)
    table = summary(frame)
    print("| " + " | ".join(table.columns) + " |")
    print("|" + " --- |" * len(table.columns))
    for row in table.itertuples(index=False):
        print("| " + " | ".join(v if isinstance(v, str) else f"{v:.4g}" for v in row) + " |")


if __name__ == "__main__":
    main()
