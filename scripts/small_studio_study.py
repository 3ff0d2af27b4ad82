"""Coverage and bias of every analysis in small studios with confounding by indication and informative dropout.

Cells: 15, 25 and 40 clients x 12 weeks (scripts/studio_twists.py), in one
of three scenarios (``--scenario``, :data:`SCENARIOS`): ``main`` (clients
with a higher baseline score are sent to ``intensive``: confounding by
indication with the indication measured; severe clients improve faster),
``latent_severity`` (the choice follows a latent severity the data see only
through one noisy baseline score) and ``null`` (nobody truly changes).
Always: clients who are not improving leave early (informative dropout,
missing at random given their scores), no true program effect; a true
within-client strength effect of -0.03 NPRS per set (0 in ``null``).
Per simulated studio:

- volume model (``fit_volume_model``): the 95 % interval of every exposure
  term (within and between; truth -0.03 for ``strength_sets_within``, 0 for
  the others);
- programs (``compare_programs``, ``doubly_robust=True``): the
  ``intensive - usual`` contrast at the last week every program reaches
  (mixed model; AIPW where the library reports it, and AIPW at every size
  binned by the smallest program's clients, to measure the cut-off), and
  the observed - expected rows (truth 0; ``observed_expected`` alone: only
  these; ``contrast``: only the mixed-model contrast);
- sensitivity (``sensitivity_table``): every row (main, both GEEs, lags 0,
  2, 3, re-centred interaction, detrended, complete follow-up) x the three
  within terms; ``gee``: the two GEE rows alone; ``sensitivity_lags``: the
  lag rows alone (the same fits, about half the time). Truths: the lag-1
  rows' are exact (-0.03 for ``strength_sets_within``, 0 for the others);
  a lag-K row (K != 1) fits a misspecified lag, and a misspecified model's
  estimator converges to its **pseudo-true value**, the parameter of the
  fitted model closest (in expected log-likelihood) to the data-generating
  process (White 1982, Econometrica 50:1-25), which is not 0 here: a
  client's within deviations in two weeks are negatively correlated, so a
  lag-K strength term picks up about -1/(n_weeks - 1) of the simulated
  lag-1 effect (+0.0027), plus what the random slope's GLS weights and the
  dropout add. :func:`pseudo_truths` computes it empirically, once per
  (scenario, n_weeks) and cached: the same analysis fitted on
  ``PSEUDO_TRUTH_CLIENTS`` (10,000) clients from the same data-generating
  process, averaged over the two ``PSEUDO_TRUTH_SEEDS``; its Monte Carlo
  error (the big fits' SE / sqrt(2)) is reported per row as a share of the
  per-studio SE (``truth_mcse_in_se``, under 0.05). The lag rows are scored
  against it; every sensitivity record keeps both ``pseudo_truth`` and
  ``nominal_truth`` (the truth used before: 0 for lag rows) and whether
  the interval covers each (``covered``, ``covered_nominal``). In ``null``
  every exposure is independent of the outcome and of dropout, so every
  row's truth is exactly 0 and nothing is fitted for it;
- responders: the observed-score rate (endpoint window weeks 10-11;
  inverse probability of censoring weighted, ``responder_share``, or
  ``responder_share_refused`` when the dropout model is refused; and the
  complete-case rate, ``responder_share_complete_case``) and the shrunken
  share (``client_trends``) against the true share of clients whose
  noise-free change to week 11 reaches the MCID; every client's interval
  for their own change; in ``null`` also whether the rates' and the
  time-to-improvement curve's (weighted and plain Kaplan-Meier) lower
  limits stay at or below what measurement noise alone gives (the rate's
  ``noise_share``; the curve's ``noise_curve_end``, and for the record the
  older reference ``noise_event_share``). ``responder_rates``: only what
  depends on the dropout model (the rates and, in ``null``, the curve; no
  ``client_trends``).

Usage (results pasted into docs/analyses.md)::

    nice -n 10 python scripts/small_studio_study.py --studies 500 --analyses programs --scenario main --out main.csv
    nice -n 10 python scripts/small_studio_study.py --studies 500 --cells 40 15 25 --analyses sensitivity_lags --out lags.csv
    python scripts/small_studio_study.py --summarise main.csv other.csv
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import proportion_confint

sys.path.insert(0, str(Path(__file__).parent))

from studio_twists import program_studio  # noqa: E402

import backpain_analysis.programs as programs_module  # noqa: E402
from backpain_analysis.programs import compare_programs, observed_vs_expected  # noqa: E402
from backpain_analysis.responders import client_trends, responder_rates, time_to_improvement  # noqa: E402
from backpain_analysis.sensitivity import WITHIN_TERMS, fit_gee, sensitivity_table  # noqa: E402
from backpain_analysis.volume_model import fit_volume_model, volume_design  # noqa: E402

CELLS = (15, 25, 40)
N_WEEKS = 12
STRENGTH = -0.03
VOLUME_TERMS = (
    "strength_sets_within",
    "flexibility_min_within",
    "strength_x_flexibility_within",
    "strength_sets_between",
    "flexibility_min_between",
)


def _record(
    records: list, analysis: str, term: str, truth: float, estimate: float, se: float, low: float, high: float, **extra: float
) -> None:
    """One interval against its truth (``extra``: e.g. ``nominal_truth``, also scored as ``covered_nominal``)."""
    record = {"analysis": analysis, "term": term, "truth": truth, "estimate": estimate, "std_error": se, "covered": bool(low <= truth <= high)}
    if "nominal_truth" in extra:
        record["covered_nominal"] = bool(low <= extra["nominal_truth"] <= high)
    records.append(record | extra | {"conf_low": low, "conf_high": high})


ANALYSES = ("volume_model", "programs", "contrast", "observed_expected", "gee", "sensitivity", "sensitivity_lags", "responders", "responder_rates")

LAGS: tuple[int, ...] = tuple(sensitivity_table.__kwdefaults__["lags"])
"""The lags of ``sensitivity_table``'s ``lag_<K>`` rows (its default)."""

PSEUDO_TRUTH_CLIENTS = 10_000
PSEUDO_TRUTH_SEEDS: tuple[int, ...] = (1_000_000, 1_000_001)
"""The big studios the pseudo-true values are fitted on (seeds no studio of the study uses)."""


def sensitivity_truth(analysis: str, term: str) -> float:
    """The nominal truth of a sensitivity row: the lag-1 strength effect for lag-1 analyses, else 0.

    Exact for the lag-1 rows. Lag-K rows (K != 1) estimate a different
    quantity (a delayed effect, none simulated), but 0 is not their target:
    a client's within deviations in two different weeks are slightly
    negatively correlated, so a lag-K strength row picks up a sliver (about
    -1/(n_weeks - 1)) of the lag-1 effect with the opposite sign. They are
    scored against :func:`pseudo_truths` instead; this value is kept beside
    it (``nominal_truth``).
    """
    return STRENGTH if term == "strength_sets_within" and not analysis.startswith("lag_") else 0.0


def lag_rows(panel: pd.DataFrame) -> pd.DataFrame:
    """The ``lag_<K>`` rows of ``sensitivity_table`` alone: the volume model at each lag of :data:`LAGS`, its within terms."""
    parts = []
    for lag in LAGS:
        params = fit_volume_model(panel, "nprs", lag).params.set_index("term").loc[list(WITHIN_TERMS)].reset_index()
        parts.append(params.assign(analysis=f"lag_{lag}"))
    return pd.concat(parts, ignore_index=True)


@functools.cache
def pseudo_truths(
    scenario: str = "main",
    n_weeks: int = N_WEEKS,
    n_clients: int = PSEUDO_TRUTH_CLIENTS,
    seeds: tuple[int, ...] = PSEUDO_TRUTH_SEEDS,
    lags_only: bool = False,
) -> pd.DataFrame:
    """The pseudo-true value of every sensitivity row: its analysis fitted on big studios from the study's process.

    Each of ``seeds`` simulates one studio of ``n_clients`` clients x
    ``n_weeks`` weeks in ``scenario`` (as :func:`one_studio` does) and fits
    ``sensitivity_table`` on it (``lags_only``: only :func:`lag_rows`).
    Cached per argument tuple: treat the result as read-only.

    Returns
    -------
    DataFrame indexed by ``analysis`` and ``term``: ``pseudo_truth`` (the
    mean estimate over the seeds, outcome units per set/week, per min/week,
    per set x min), ``mcse`` (its Monte Carlo error: the big fits' mean SE /
    sqrt(number of seeds)), ``seed_spread`` (largest minus smallest estimate
    over the seeds) and one ``seed_<s>`` column per seed with its estimate.
    """
    estimates, errors = {}, []
    for seed in seeds:
        panel, _ = program_studio(n_clients, n_weeks, seed, confounding=1.5, informative_dropout=True, **SCENARIOS[scenario])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rows = (lag_rows(panel) if lags_only else sensitivity_table(panel, "nprs")).set_index(["analysis", "term"])
        estimates[f"seed_{seed}"] = rows["estimate"]
        errors.append(rows["std_error"])
    table = pd.DataFrame(estimates)
    return pd.concat(
        [
            table.mean(axis=1).rename("pseudo_truth"),
            (pd.concat(errors, axis=1).mean(axis=1) / np.sqrt(len(seeds))).rename("mcse"),
            (table.max(axis=1) - table.min(axis=1)).rename("seed_spread"),
            table,
        ],
        axis=1,
    )


SCENARIOS: dict[str, dict] = {
    "main": {"indication": "baseline_score", "strength_within": STRENGTH},
    "latent_severity": {"indication": "severity", "strength_within": STRENGTH},
    "null": {"indication": "baseline_score", "strength_within": 0.0, "course": 0.0, "severity_course": 0.0, "slope_sd": 0.0},
}
"""Twists of every studio: confounding by indication (``confounding=1.5``) and informative dropout, plus

- ``main``: programs chosen on the measured baseline score (confounding by
  indication, the indication measured), severe clients improve faster;
- ``latent_severity``: programs chosen on the latent severity, which the
  data see only through one noisy baseline score (some confounding
  unmeasured: residual confounding is expected);
- ``null``: nobody truly changes (no course, no program effect, no exposure
  effect): responder shares, time to improvement and observed - expected
  must say so.
"""

AIPW_BINS = (0, 10, 15, 20, 25, 1000)
"""Bins of the smallest program's size (clients measured near the last week) for the doubly robust contrast."""


def one_studio(n_clients: int, seed: int, analyses: tuple[str, ...] = ANALYSES, scenario: str = "main", ddf: str = "satterthwaite") -> list[dict]:
    """Every interval of one simulated studio (of the ``analyses`` asked), with its truth (``ddf``: of the volume model)."""
    panel, truth = program_studio(n_clients, N_WEEKS, seed, confounding=1.5, informative_dropout=True, **SCENARIOS[scenario])
    strength = truth["strength_sets_within"]
    records: list[dict] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # counted below, not printed per studio
        volume = fit_volume_model(panel, "nprs", ddf=ddf).params.set_index("term") if "volume_model" in analyses else pd.DataFrame()
        for term in VOLUME_TERMS if "volume_model" in analyses else ():
            row = volume.loc[term]
            _record(records, "volume_model" if ddf == "satterthwaite" else f"volume_model_{ddf}", term, strength if term == "strength_sets_within" else 0.0, row.estimate, row.std_error, row.conf_low, row.conf_high)
        if "programs" in analyses:
            cut_off = programs_module.DOUBLY_ROBUST_MIN_CLIENTS
            try:  # the doubly robust contrast is measured at every size; the library refuses it below its cut-off
                programs_module.DOUBLY_ROBUST_MIN_CLIENTS = 0
                comparison = compare_programs(panel, "nprs", reference="usual", doubly_robust=True, with_responders=False)
            finally:
                programs_module.DOUBLY_ROBUST_MIN_CLIENTS = cut_off
            row = comparison.contrasts.iloc[-1]
            _record(records, "programs_lmm", "intensive - usual", 0.0, row.estimate, row.std_error, row.conf_low, row.conf_high)
            robust = comparison.doubly_robust
            if robust is not None and not robust.empty:
                row = robust.iloc[-1]
                smallest = int(robust.attrs["smallest_program_clients"])
                if smallest >= cut_off:
                    _record(records, "programs_aipw", "intensive - usual", 0.0, row.estimate, row.std_error, row.conf_low, row.conf_high)
                size_bin = pd.cut([smallest], AIPW_BINS, right=False).astype(str)[0]
                _record(records, "programs_aipw_by_size", f"smallest program {size_bin}", 0.0, row.estimate, row.std_error, row.conf_low, row.conf_high)
            else:
                records.append({"analysis": "programs_aipw_refused", "term": "no result (separation)", "truth": 0.0, "estimate": np.nan, "std_error": np.nan, "covered": False})
        if "contrast" in analyses and "programs" not in analyses:  # the mixed-model contrast alone (no AIPW jackknife)
            row = compare_programs(panel, "nprs", reference="usual", with_responders=False).contrasts.iloc[-1]
            _record(records, "programs_lmm", "intensive - usual", 0.0, row.estimate, row.std_error, row.conf_low, row.conf_high)
        if "programs" in analyses or "observed_expected" in analyses:
            table = comparison.observed_expected if "programs" in analyses else observed_vs_expected(panel, "nprs")
            for row in table.itertuples():
                _record(records, "observed_expected", row.program, 0.0, row.estimate, row.std_error, row.conf_low, row.conf_high)
        design = volume_design(panel, "nprs", 1)
        for correlation in ("exchangeable", "ar1") if "gee" in analyses else ():
            row = fit_gee(design, "nprs", correlation).set_index("term").loc["strength_sets_within"]
            _record(records, f"gee_{correlation}", "strength_sets_within", strength, row.estimate, row.std_error, row.conf_low, row.conf_high)
        if "sensitivity" in analyses or "sensitivity_lags" in analyses:
            lags_only = "sensitivity" not in analyses
            pseudo = pseudo_truths(scenario, N_WEEKS, PSEUDO_TRUTH_CLIENTS, PSEUDO_TRUTH_SEEDS, lags_only) if strength else None
            for row in (lag_rows(panel) if lags_only else sensitivity_table(panel, "nprs")).itertuples():
                nominal = sensitivity_truth(row.analysis, row.term) if strength else 0.0
                pseudo_truth, mcse = (0.0, 0.0) if pseudo is None else pseudo.loc[(row.analysis, row.term), ["pseudo_truth", "mcse"]]
                misspecified = row.analysis.startswith("lag_")  # lag-1 truths are exact: scored against them
                _record(
                    records, f"sensitivity_{row.analysis}", row.term, pseudo_truth if misspecified else nominal,
                    row.estimate, row.std_error, row.conf_low, row.conf_high,
                    nominal_truth=nominal, pseudo_truth=pseudo_truth, truth_mcse=mcse if misspecified else 0.0,
                )
        if "responders" in analyses or "responder_rates" in analyses:
            rates = responder_rates(panel, "nprs", window=(10, 11), by=None)
            row = rates[rates["term"] == "mcid_absolute"].iloc[0]
            share = truth["true_responder_share"]
            _record(records, "responder_share_complete_case", "mcid_absolute", share, row.complete_case_estimate, np.nan, row.complete_case_conf_low, row.complete_case_conf_high)
            if np.isfinite(row.estimate):
                _record(records, "responder_share", "mcid_absolute", share, row.estimate, row.std_error, row.conf_low, row.conf_high)
            else:
                records.append({"analysis": "responder_share_refused", "term": "dropout model refused", "truth": share, "estimate": np.nan, "std_error": np.nan, "covered": False})
            if scenario == "null":  # nobody changes: the rate should be what measurement noise alone gives
                if np.isfinite(row.estimate):
                    _record(records, "responder_share_vs_noise", "lower limit <= noise share", row.noise_share, row.estimate, row.std_error, row.conf_low, np.inf)
                # the absolute criterion's noise share does not depend on the baseline: the same for the clients measured
                _record(records, "responder_share_complete_case_vs_noise", "lower limit <= noise share", row.noise_share, row.complete_case_estimate, np.nan, row.complete_case_conf_low, np.inf)
            if scenario == "null":  # the time-to-improvement curve against what noise alone gives
                tti = time_to_improvement(panel, "nprs", by=None)
                last = tti.curves.iloc[-1]
                noise = tti.notes["noise_curve_end"]
                if "refusal" in tti.notes:
                    records.append({"analysis": "time_to_improvement_refused", "term": "dropout model refused", "truth": noise, "estimate": np.nan, "std_error": np.nan, "covered": False})
                else:
                    _record(records, "time_to_improvement_vs_noise", "lower limit at the end <= noise curve (ipcw)", noise, last.estimate, last.std_error, last.conf_low, np.inf)
                _record(records, "time_to_improvement_km_vs_noise", "lower limit at the end <= noise curve", noise, last.km_estimate, last.km_std_error, last.km_conf_low, np.inf)
                share = tti.notes["noise_event_share"]
                _record(records, "time_to_improvement_km_vs_noise_share", "lower limit at the end <= noise event share", share, last.km_estimate, last.km_std_error, last.km_conf_low, np.inf)
        if "responders" in analyses:
            trends = client_trends(panel, "nprs", endpoint=N_WEEKS - 1)
            true_change = pd.Series(truth["true_change"]).reindex(trends["client_id"]).to_numpy(float)
            for client, change in zip(trends.itertuples(), true_change, strict=True):
                _record(records, "client_change", "per-client change to week 11", change, client.estimate, client.std_error, client.conf_low, client.conf_high)
            share = trends.attrs["share_likely_important"]
            _record(
                records, "responder_share_blup", "expected share", truth["true_responder_share"], share, np.nan,
                trends.attrs["share_conf_low"], trends.attrs["share_conf_high"],
            )
    for record in records:
        record.update(n_clients=n_clients, seed=seed, scenario=scenario, dropout_share=truth["dropout_share"])
    return records


def summarise(results: pd.DataFrame) -> pd.DataFrame:
    """Coverage (with its Wilson 95 % interval), bias and bias in SE units per cell, analysis and term."""
    rows = []
    if "scenario" not in results.columns:
        results = results.assign(scenario="main")
    results = results.assign(scenario=results["scenario"].fillna("main"))
    keys = ["scenario", "analysis", "n_clients"]
    for (scenario, analysis, n_clients), group in results.assign(term=results["term"].str.replace(r", week \d+", "", regex=True)).groupby(keys, sort=False):
        for term, rows_of_term in group.groupby("term", sort=False):
            k, n = int(rows_of_term["covered"].sum()), len(rows_of_term)
            low, high = proportion_confint(k, n, method="wilson")
            errors = rows_of_term["estimate"] - rows_of_term["truth"]
            bias, mean_se = float(errors.mean()), float(rows_of_term["std_error"].mean())
            rows.append(
                {
                    "scenario": scenario,
                    "analysis": analysis,
                    "term": term,
                    "clients": n_clients,
                    "studies": int(rows_of_term["seed"].nunique()) if "seed" in rows_of_term else n,
                    "intervals": n,
                    "coverage": k / n,
                    "coverage_low": low,
                    "coverage_high": high,
                    "bias": bias,
                    "bias_in_se": bias / mean_se if mean_se > 0 else np.nan,
                    "bias_in_se_mcse": float(errors.std(ddof=1)) / np.sqrt(n) / mean_se if n > 1 and mean_se > 0 else np.nan,
                    "mean_truth": float(rows_of_term["truth"].mean()),
                }
                | _nominal_columns(rows_of_term, mean_se)
            )
    return pd.DataFrame(rows)


def _nominal_columns(rows: pd.DataFrame, mean_se: float) -> dict[str, float]:
    """Where records carry a nominal truth beside the one scored (sensitivity rows): it, coverage of it, the truth's MC error in SE."""
    if "nominal_truth" not in rows.columns or rows["nominal_truth"].isna().all():
        return {}
    return {
        "nominal_truth": float(rows["nominal_truth"].mean()),
        "coverage_nominal": float(rows["covered_nominal"].astype(bool).mean()),
        "truth_mcse_in_se": float(rows["truth_mcse"].mean()) / mean_se if mean_se > 0 else np.nan,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=200, help="simulated studios per cell (at most)")
    parser.add_argument("--cells", type=int, nargs="+", default=list(CELLS))
    parser.add_argument("--analyses", nargs="+", default=list(ANALYSES), choices=list(ANALYSES))
    parser.add_argument("--scenario", default="main", choices=list(SCENARIOS))
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--ddf", default="satterthwaite", choices=["satterthwaite", "kenward-roger", "z"], help="df of the volume model's intervals")
    parser.add_argument("--minutes", type=float, default=None, help="stop starting new studios after this many minutes")
    parser.add_argument("--out", type=Path, default=None, help="CSV of every per-studio record, appended as studios finish")
    parser.add_argument("--summarise", type=Path, nargs="+", default=None, help="only summarise these CSVs of per-studio records")
    args = parser.parse_args()
    if args.summarise:
        records = [pd.read_csv(path, keep_default_na=False, na_values=["", "nan", "NaN"]) for path in args.summarise]  # "null" is a scenario
        print(markdown(summarise(pd.concat(records, ignore_index=True))))
        return
    records, failures = [], 0
    start = time.perf_counter()
    if {"sensitivity", "sensitivity_lags"} & set(args.analyses) and SCENARIOS[args.scenario]["strength_within"]:
        pseudo = pseudo_truths(args.scenario, N_WEEKS, PSEUDO_TRUTH_CLIENTS, PSEUDO_TRUTH_SEEDS, "sensitivity" not in args.analyses)
        print(f"pseudo-true values ({PSEUDO_TRUTH_CLIENTS} clients x {N_WEEKS} weeks, seeds {PSEUDO_TRUTH_SEEDS}; {time.perf_counter() - start:.0f} s)\n")
        print(markdown(pseudo.reset_index(), decimals=5) + "\n", flush=True)
    for seed in range(args.first_seed, args.first_seed + args.studies):  # seed-major: every cell has the same number of studios when stopped
        if args.minutes is not None and time.perf_counter() - start > 60 * args.minutes:
            break
        for n_clients in args.cells:
            try:
                new = one_studio(n_clients, seed, tuple(args.analyses), args.scenario, args.ddf)
            except Exception as error:  # noqa: BLE001 - counted and reported, the study goes on
                failures += 1
                print(f"studio {n_clients} clients seed {seed}: {type(error).__name__}: {error}", file=sys.stderr)
                continue
            records += new
            if args.out:
                pd.DataFrame(new).to_csv(args.out, mode="a", header=not args.out.exists(), index=False)
        print(f"seed {seed} done after {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    table = summarise(pd.DataFrame(records))
    print(f"up to {int(table['studies'].max())} studios per cell, {failures} failed; {time.perf_counter() - start:.0f} s\n")
    print(markdown(table))


def markdown(table: pd.DataFrame, decimals: int = 3) -> str:
    """A Markdown table (numbers to ``decimals`` decimals) without extra dependencies."""
    cells = [[f"{v:.{decimals}f}" if isinstance(v, float) else str(v) for v in row] for row in table.itertuples(index=False)]
    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in cells])


if __name__ == "__main__":
    main()
