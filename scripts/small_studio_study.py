"""Coverage and bias of every analysis in small studios with confounding by indication and informative dropout.

Cells: 15, 25 and 40 clients x 12 weeks (scripts/studio_twists.py): more
severe clients are sent to ``intensive`` (confounding by indication, severity
measured through the baseline score), clients who are not improving leave
early (informative dropout, missing at random given their scores), no true
program effect, a true within-client strength effect of -0.03 NPRS per set.
Per simulated studio:

- volume model (``fit_volume_model``): the 95 % interval of every exposure
  term (within and between; truth -0.03 for ``strength_sets_within``, 0 for
  the others);
- programs (``compare_programs``, ``doubly_robust=True``): the
  ``intensive - usual`` contrast at the last week every program reaches
  (mixed model and AIPW; truth 0), bias in units of the SE, and the
  observed - expected rows (truth 0);
- sensitivity (``fit_gee`` on the volume design): bias-reduced sandwich with
  t(G - 1) intervals, exchangeable and AR(1)-over-weeks working correlations;
- responders (``responder_rates`` with the endpoint window weeks 10-11):
  whether the Wilson interval covers the true share of clients whose
  noise-free improvement at week 11 reaches the MCID, and the mean shrunken
  expected share (``client_trends``).

Usage (results pasted into docs/analyses.md)::

    nice -n 10 python scripts/small_studio_study.py --studies 200 --out studio_study.csv
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import proportion_confint

sys.path.insert(0, str(Path(__file__).parent))

from studio_twists import program_studio  # noqa: E402

from backpain_analysis.programs import compare_programs  # noqa: E402
from backpain_analysis.responders import client_trends, responder_rates  # noqa: E402
from backpain_analysis.sensitivity import fit_gee  # noqa: E402
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


def _record(records: list, analysis: str, term: str, truth: float, estimate: float, se: float, low: float, high: float) -> None:
    records.append(
        {"analysis": analysis, "term": term, "truth": truth, "estimate": estimate, "std_error": se, "covered": bool(low <= truth <= high)}
    )


ANALYSES = ("volume_model", "programs", "gee", "responders")


def one_studio(n_clients: int, seed: int, analyses: tuple[str, ...] = ANALYSES) -> list[dict]:
    """Every interval of one simulated studio (of the ``analyses`` asked), with its truth."""
    panel, truth = program_studio(n_clients, N_WEEKS, seed, confounding=1.5, informative_dropout=True, strength_within=STRENGTH)
    records: list[dict] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # counted below, not printed per studio
        volume = fit_volume_model(panel, "nprs").params.set_index("term") if "volume_model" in analyses else pd.DataFrame()
        for term in VOLUME_TERMS if "volume_model" in analyses else ():
            row = volume.loc[term]
            _record(records, "volume_model", term, STRENGTH if term == "strength_sets_within" else 0.0, row.estimate, row.std_error, row.conf_low, row.conf_high)
        comparison = compare_programs(panel, "nprs", reference="usual", doubly_robust=True, with_responders=False) if "programs" in analyses else None
        tables = (("programs_lmm", comparison.contrasts), ("programs_aipw", comparison.doubly_robust)) if comparison else ()
        for name, table in tables:
            if table is None or table.empty:
                continue
            row = table.iloc[-1]
            _record(records, name, f"intensive - usual, week {int(row.week)}", 0.0, row.estimate, row.std_error, row.conf_low, row.conf_high)
        for row in comparison.observed_expected.itertuples() if comparison else ():
            _record(records, "observed_expected", row.program, 0.0, row.estimate, row.std_error, row.conf_low, row.conf_high)
        design = volume_design(panel, "nprs", 1)
        for correlation in ("exchangeable", "ar1") if "gee" in analyses else ():
            row = fit_gee(design, "nprs", correlation).set_index("term").loc["strength_sets_within"]
            _record(records, f"gee_{correlation}", "strength_sets_within", STRENGTH, row.estimate, row.std_error, row.conf_low, row.conf_high)
        if "responders" in analyses:
            rates = responder_rates(panel, "nprs", window=(10, 11), by=None)
            row = rates[rates["term"] == "mcid_absolute"].iloc[0]
            _record(records, "responder_share", "mcid_absolute", truth["true_responder_share"], row.estimate, row.std_error, row.conf_low, row.conf_high)
            trends = client_trends(panel, "nprs", endpoint=N_WEEKS - 1)
            share = trends.attrs["share_likely_important"]
            _record(
                records, "responder_share_blup", "expected share", truth["true_responder_share"], share, np.nan,
                trends.attrs["share_conf_low"], trends.attrs["share_conf_high"],
            )
    for record in records:
        record.update(n_clients=n_clients, seed=seed, dropout_share=truth["dropout_share"])
    return records


def summarise(results: pd.DataFrame) -> pd.DataFrame:
    """Coverage (with its Wilson 95 % interval), bias and bias in SE units per cell, analysis and term."""
    rows = []
    keys = ["analysis", "n_clients"]
    for (analysis, n_clients), group in results.assign(term=results["term"].str.replace(r", week \d+", "", regex=True)).groupby(keys, sort=False):
        for term, rows_of_term in group.groupby("term", sort=False):
            k, n = int(rows_of_term["covered"].sum()), len(rows_of_term)
            low, high = proportion_confint(k, n, method="wilson")
            bias = float((rows_of_term["estimate"] - rows_of_term["truth"]).mean())
            rows.append(
                {
                    "analysis": analysis,
                    "term": term,
                    "clients": n_clients,
                    "studies": n,
                    "coverage": k / n,
                    "coverage_low": low,
                    "coverage_high": high,
                    "bias": bias,
                    "bias_in_se": bias / float(rows_of_term["std_error"].mean()) if rows_of_term["std_error"].notna().any() else np.nan,
                    "mean_truth": float(rows_of_term["truth"].mean()),
                }
            )
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=200, help="simulated studios per cell (at most)")
    parser.add_argument("--cells", type=int, nargs="+", default=list(CELLS))
    parser.add_argument("--analyses", nargs="+", default=list(ANALYSES), choices=list(ANALYSES))
    parser.add_argument("--minutes", type=float, default=None, help="stop starting new studios after this many minutes")
    parser.add_argument("--out", type=Path, default=None, help="CSV of every per-studio record, appended as studios finish")
    args = parser.parse_args()
    records, failures = [], 0
    start = time.perf_counter()
    for seed in range(args.studies):  # seed-major: every cell has the same number of studios when stopped
        if args.minutes is not None and time.perf_counter() - start > 60 * args.minutes:
            break
        for n_clients in args.cells:
            try:
                new = one_studio(n_clients, seed, tuple(args.analyses))
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


def markdown(table: pd.DataFrame) -> str:
    """A Markdown table (numbers to 3 decimals) without extra dependencies."""
    cells = [[f"{v:.3f}" if isinstance(v, float) else str(v) for v in row] for row in table.itertuples(index=False)]
    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in cells])


if __name__ == "__main__":
    main()
