"""Benchmark: the volume-model fit, fast engine vs statsmodels MixedLM vs R lme4, in one run.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_model.py --skip-statsmodels-above 1000   # 1,000, 20,000, 200,000 clients
    .venv/bin/python benchmarks/bench_model.py --clients 1000 --no-r

For each size it simulates a contract-like design (clients x 16 weeks: a
pain score on ``week``, the within-client strength and flexibility
deviations, their product, and the two client means; random intercept and
slope for ``week`` per client) and times, on the same data:

- ``fast fit``: ``fit_lmm(engine="fast", ddf=...)`` in this process, from the
  DataFrame to the finished result (design, optimisation, optimum check,
  degrees of freedom, tables); the best of ``--repeat`` runs;
- ``fast engine``: the engine alone on the model's arrays (per-client
  sufficient statistics and the minimisation of the profiled REML
  criterion, optimum check included; no design, df or tables): the part the
  issue's "plain NumPy profiled REML over per-client summaries" measures;
- ``fast cold`` / ``fast proc``: the same fit timed inside a fresh Python
  process (its first fit, as ``lme4 first`` is R's first ``lmer``), and that
  whole process (imports, ``read_csv``, fit: what a command-line user waits for);
- ``sm fit``: statsmodels ``MixedLM.from_formula(...).fit(reml=True)`` with its
  default optimizer chain, as a user calls it;
- ``lme4 fit`` / ``lme4 first`` / ``lme4 proc``: ``lmer`` timed inside R,
  the best of ``--repeat`` fits and the first fit of the R process, and the
  whole ``Rscript`` process (start, ``library(lme4)``, ``read.csv``, one
  fit: the process time minus the fits after the first), when ``Rscript``
  with lme4 is installed.

Ratios come from this run only, each side timed the same way:
``lme4/fast warm`` is best against best (``lme4 fit`` / ``fast fit``),
``lme4/fast cold`` is first fit against first fit, each in its own fresh
process (``lme4 first`` / ``fast cold``). The last columns compare the optimum: REML
criterion (lme4's -2 log L scale) of statsmodels and lme4 minus the fast
engine's (positive = worse than fast), the largest relative difference of a
fixed effect from lme4's, and the fast engine's Newton decrement at its
estimate (how much further a Newton step would lower the criterion).
``load`` is the 1-minute load average when the size finished. Nothing here
is a test; results go to benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from backpain_analysis import mixed_engine as me
from backpain_analysis.contract import FIT_TERMS
from backpain_analysis.mixed import _build_design, fit_lmm

FORMULA = "pain ~ " + " + ".join(FIT_TERMS)

_PYTHON_FIT = """
import json, sys, time
import pandas as pd
from backpain_analysis.mixed import fit_lmm
data = pd.read_csv(sys.argv[1])
start = time.perf_counter()
fit = fit_lmm(data, sys.argv[2], "client_id", "~ week", ddf=sys.argv[3])
print(json.dumps({"fit_s": time.perf_counter() - start, "reml": fit.reml_criterion}))
"""

_R_FIT = """
args <- commandArgs(TRUE)
suppressPackageStartupMessages(library(lme4))
d <- read.csv(args[1])
f <- as.formula(paste(args[2], "+ (week | client_id)"))
t <- vapply(seq_len(as.integer(args[3])), function(i) system.time(m <<- lmer(f, data = d, REML = TRUE))[["elapsed"]], 0)
fe <- fixef(m)
cat(jsonlite::toJSON(list(first_s = t[1], best_s = min(t), later_s = sum(t[-1]), reml = REMLcrit(m), fixef = as.list(fe)), auto_unbox = TRUE, digits = NA))
"""


def simulate(clients: int, weeks: int, seed: int) -> pd.DataFrame:
    """A weekly panel shaped like the volume model's design (units: sets/week, min/week, 0-10 pain)."""
    rng = np.random.default_rng(seed)
    client = np.repeat(np.arange(clients), weeks)
    week = np.tile(np.arange(weeks), clients)
    strength = rng.poisson(rng.gamma(2.0, 4.0, clients)[client]).astype(float)
    flexibility = rng.gamma(2.0, 15.0, clients)[client] * rng.uniform(0.2, 1.8, client.size)
    frame = pd.DataFrame({"client_id": [f"c{c:06d}" for c in client], "week": week})
    for name, values in (("strength_sets", strength), ("flexibility_min", flexibility)):
        mean = pd.Series(values).groupby(client).transform("mean").to_numpy()
        frame[f"{name}_within"] = values - mean
        frame[f"{name}_between"] = mean
    frame["strength_x_flexibility_within"] = frame["strength_sets_within"] * frame["flexibility_min_within"]
    b = rng.multivariate_normal([0.0, 0.0], [[1.5, 0.02], [0.02, 0.01]], size=clients)
    frame["pain"] = (
        6.0
        - 0.05 * week
        - 0.04 * frame["strength_sets_within"]
        - 0.01 * frame["flexibility_min_within"]
        - 0.001 * frame["strength_x_flexibility_within"]
        - 0.03 * frame["strength_sets_between"]
        - 0.005 * frame["flexibility_min_between"]
        + b[client, 0]
        + b[client, 1] * week
        + rng.normal(0.0, 1.0, client.size)
    )
    return frame


def _statsmodels_fit(frame: pd.DataFrame) -> dict[str, float]:
    import statsmodels.formula.api as smf

    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = smf.mixedlm(FORMULA, frame, groups="client_id", re_formula="~ week").fit(reml=True)
    return {"fit_s": time.perf_counter() - start, "reml": -2.0 * float(result.llf)}


def _timed_process(command: list[str]) -> tuple[dict, float]:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1]), time.perf_counter() - start


def _has_lme4() -> bool:
    if shutil.which("Rscript") is None:
        return False
    probe = subprocess.run(["Rscript", "-e", "library(lme4); library(jsonlite)"], capture_output=True)
    return probe.returncode == 0


def machine() -> str:
    """One line describing this machine and the versions in play."""
    import statsmodels

    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if line.startswith("model name")]
        cpu = names[0] if names else cpu
    r = ""
    if _has_lme4():
        r = subprocess.run(
            ["Rscript", "-e", 'cat(R.version$major, R.version$minor, as.character(packageVersion("lme4")))'],
            capture_output=True, text=True,
        ).stdout.split()
        r = f", R {r[0]}.{r[1]}, lme4 {r[2]}"
    load = ", load average {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())
    return (
        f"{cpu}, {os.cpu_count()} cores{load}, {platform.system()} {platform.release()}; Python {platform.python_version()}, "
        f"numpy {np.__version__}, pandas {pd.__version__}, statsmodels {statsmodels.__version__}{r}"
    )


def bench(
    clients: int, weeks: int, seed: int, run_statsmodels: bool, run_r: bool, workdir: Path, ddf: str = "satterthwaite",
    repeat: int = 3,
) -> dict[str, float]:
    frame = simulate(clients, weeks, seed)
    path = workdir / f"panel_{clients}.csv"
    frame.to_csv(path, index=False)
    row: dict[str, float] = {"clients": clients, "rows": len(frame)}
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fast = fit_lmm(frame, FORMULA, "client_id", "~ week", engine="fast", ddf=ddf)
        times.append(time.perf_counter() - start)
    row["fast_fit"] = min(times)
    design = _build_design(frame, FORMULA, "client_id", "~ week")
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        with me.one_blas_thread():
            stats = design.statistics()
            me.minimize_deviance(me.ProfiledDeviance(stats))
        times.append(time.perf_counter() - start)
    row["fast_engine"] = min(times)
    row["fast_converged"] = fast.converged
    row["fast_decrement"] = fast._check.decrement
    fast_beta = fast.params.set_index("term")["estimate"]
    cold, row["fast_proc"] = _timed_process([sys.executable, "-c", _PYTHON_FIT, str(path), FORMULA, ddf])
    row["fast_cold"] = cold["fit_s"]
    if run_statsmodels:
        sm = _statsmodels_fit(frame)
        row["sm_fit"] = sm["fit_s"]
        row["sm_minus_fast_reml"] = sm["reml"] - fast.reml_criterion
    if run_r:
        script = workdir / "fit.R"
        script.write_text(_R_FIT)
        r, proc = _timed_process(["Rscript", str(script), str(path), FORMULA, str(repeat)])
        row["lme4_proc"] = proc - r["later_s"]
        row["lme4_fit"] = r["best_s"]
        row["lme4_first"] = r["first_s"]
        row["lme4_minus_fast_reml"] = r["reml"] - fast.reml_criterion
        lme4_beta = pd.Series(r["fixef"]).rename({"(Intercept)": "Intercept"})
        row["max_rel_fixef_vs_lme4"] = float(((fast_beta - lme4_beta[fast_beta.index]).abs() / lme4_beta.abs()).max())
    row["load"] = os.getloadavg()[0]
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[1000, 20000, 200000])
    parser.add_argument("--weeks", type=int, default=16)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--skip-statsmodels-above", type=int, default=None, metavar="N",
                        help="do not run statsmodels for more than N clients (it took 352 s at 20,000 on a quiet machine)")
    parser.add_argument("--no-r", action="store_true", help="do not run R lme4 even if installed")
    parser.add_argument("--ddf", default="satterthwaite", choices=["satterthwaite", "kenward-roger", "z"],
                        help="degrees of freedom computed by the fast fit (default satterthwaite, as fit_lmm)")
    parser.add_argument("--repeat", type=int, default=3, help="in-process fast fits and lmer fits (in R) per size; the best and lme4's first are reported")
    args = parser.parse_args(argv)
    run_r = not args.no_r and _has_lme4()
    print(machine())
    print(f"model: {FORMULA} + (week | client_id), REML; {args.weeks} weeks per client; fast fit ddf={args.ddf}\n")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for clients in args.clients:
            run_sm = args.skip_statsmodels_above is None or clients <= args.skip_statsmodels_above
            rows.append(bench(clients, args.weeks, args.seed, run_sm, run_r, Path(tmp), args.ddf, args.repeat))
            print(f"  done: {json.dumps(rows[-1], default=str)}", file=sys.stderr, flush=True)
    table = pd.DataFrame(rows)
    if "sm_fit" in table:
        table["sm/fast"] = table["sm_fit"] / table["fast_fit"]
    if "lme4_fit" in table:
        table["lme4/fast warm"] = table["lme4_fit"] / table["fast_fit"]
        table["lme4/fast cold"] = table["lme4_first"] / table["fast_cold"]
        table["lme4/fast proc"] = table["lme4_proc"] / table["fast_proc"]
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
