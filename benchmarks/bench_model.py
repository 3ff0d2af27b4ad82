"""Benchmark: the volume-model fit, fast engine vs R lme4 vs statsmodels MixedLM, each in its own fresh process.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_model.py                                    # 1,000, 20,000, 200,000 clients
    .venv/bin/python benchmarks/bench_model.py --clients 1000 20000 --statsmodels-timeout 480
    .venv/bin/python benchmarks/bench_model.py --clients 1000 --no-r --repeat 2

For each size it simulates a contract-like design (clients x 16 weeks: a
pain score on ``week``, the within-client strength and flexibility
deviations, their product, and the two client means; random intercept and
slope for ``week`` per client), writes it to CSV and times the same model on
it three ways, symmetrically: each contender runs in its own fresh process
(start, imports, ``read_csv``/``read.csv``) and times its fits inside that
process:

- ``fast``: ``fit_lmm(engine="fast", ddf=...)``, DataFrame to finished result
  (design, optimisation, optimum check, degrees of freedom, tables);
- ``lme4``: ``lmer(..., REML = TRUE)`` via ``Rscript`` (when R with lme4 and
  jsonlite is installed);
- ``sm``: statsmodels ``MixedLM.from_formula(...).fit(reml=True)`` with its
  default optimizer chain, as a user calls it.

Each process fits ``--repeat`` times (statsmodels ``--statsmodels-repeat``,
and only while a fit takes under 60 s) and reports its first fit (``*_first``:
cold, the process's first fit) and its best (``*_best``: warm); ``*_proc``
is the whole process with one fit (its wall time minus the later fits). A
process that runs past its timeout (``--statsmodels-timeout``,
``--r-timeout``) is stopped and reported as not finished within that time
(``*_timeout`` = the limit, seconds), with the fits it did finish.

Ratios come from this run only, each side timed the same way: ``X/fast
cold`` = X's first fit / fast's first fit, ``X/fast warm`` = best / best,
``X/fast proc`` = process / process. ``fast_engine`` is the engine alone on
the model's arrays in this process (per-client statistics and the
minimisation, optimum check included; no design, df or tables). The
optimum: REML criterion (lme4's -2 log L scale) of lme4 and statsmodels
minus the fast engine's (positive = worse than fast), the largest relative
difference of a fixed effect from lme4's and from statsmodels', and the fast
engine's Newton decrement at its estimate (how much further a Newton step
would lower the criterion). ``load`` is the 1-minute load average when the
size finished. Nothing here is a test; results go to benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from backpain_analysis import mixed_engine as me
from backpain_analysis.contract import FIT_TERMS
from backpain_analysis.mixed import _build_design

FORMULA = "pain ~ " + " + ".join(FIT_TERMS)

_FAST_FIT = """
import json, sys, time
import pandas as pd
from backpain_analysis.mixed import fit_lmm
data = pd.read_csv(sys.argv[1])
for _ in range(int(sys.argv[4])):
    start = time.perf_counter()
    fit = fit_lmm(data, sys.argv[2], "client_id", "~ week", ddf=sys.argv[3])
    seconds = time.perf_counter() - start
    fixef = dict(zip(fit.params["term"], fit.params["estimate"]))
    print(json.dumps({"fit_s": seconds, "reml": fit.reml_criterion, "fixef": fixef,
                      "converged": fit.converged, "decrement": fit._check.decrement}), flush=True)
"""

_SM_FIT = """
import json, sys, time, warnings
import pandas as pd
import statsmodels.formula.api as smf
data = pd.read_csv(sys.argv[1])
for i in range(int(sys.argv[3])):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = smf.mixedlm(sys.argv[2], data, groups="client_id", re_formula="~ week").fit(reml=True)
    seconds = time.perf_counter() - start
    print(json.dumps({"fit_s": seconds, "reml": -2.0 * float(result.llf), "fixef": result.fe_params.to_dict(),
                      "converged": bool(result.converged)}), flush=True)
    if seconds > 60:
        break
"""

_R_FIT = """
args <- commandArgs(TRUE)
suppressPackageStartupMessages(library(lme4))
d <- read.csv(args[1])
f <- as.formula(paste(args[2], "+ (week | client_id)"))
for (i in seq_len(as.integer(args[3]))) {
  s <- system.time(m <- lmer(f, data = d, REML = TRUE))[["elapsed"]]
  cat(jsonlite::toJSON(list(fit_s = s, reml = REMLcrit(m), fixef = as.list(fixef(m))), auto_unbox = TRUE, digits = NA), "\n")
  flush(stdout())
}
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


def _timed_process(command: list[str], timeout: float | None) -> dict[str, float]:
    """Run one contender's process; its fits (one JSON line each), the process time with one fit, and a timeout flag."""
    start = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=timeout)
        output, timed_out = done.stdout, False
    except subprocess.TimeoutExpired as stopped:
        output, timed_out = stopped.stdout or "", True
        output = output.decode() if isinstance(output, bytes) else output
    wall = time.perf_counter() - start
    fits = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    row: dict[str, object] = {"fits": fits, "timed_out": timed_out}
    if fits:
        row["first"] = fits[0]["fit_s"]
        row["best"] = min(fit["fit_s"] for fit in fits)
        row["proc"] = math.nan if timed_out else wall - sum(fit["fit_s"] for fit in fits[1:])
    return row


def _progress(clients: int, name: str, result: dict[str, object]) -> None:
    """One contender's figures on stderr as soon as its process ends."""
    fits = ", ".join(f"{fit['fit_s']:.3f}" for fit in result["fits"])
    stopped = " (stopped: timeout)" if result["timed_out"] else ""
    print(f"  {time.strftime('%H:%M:%S', time.gmtime())} UTC {clients} clients, {name}: fits {fits} s; process {result.get('proc', math.nan):.2f} s{stopped}; "
          f"load {os.getloadavg()[0]:.2f}", file=sys.stderr, flush=True)


def _max_rel(ours: dict[str, float], theirs: dict[str, float]) -> float:
    theirs = {("Intercept" if k == "(Intercept)" else k): v for k, v in theirs.items()}
    return max(abs(v - theirs[k]) / abs(theirs[k]) for k, v in ours.items())


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
    clients: int, weeks: int, seed: int, workdir: Path, *, run_statsmodels: bool, run_r: bool, ddf: str = "satterthwaite",
    repeat: int = 3, sm_repeat: int = 1, sm_timeout: float | None = 600.0, r_timeout: float | None = None,
) -> dict[str, object]:
    """One size: the three contenders' processes in turn, then the engine alone in this process."""
    frame = simulate(clients, weeks, seed)
    path = workdir / f"panel_{clients}.csv"
    frame.to_csv(path, index=False)
    row: dict[str, object] = {"clients": clients, "rows": len(frame)}
    fast = _timed_process([sys.executable, "-c", _FAST_FIT, str(path), FORMULA, ddf, str(repeat)], None)
    last = fast["fits"][-1]
    row.update(fast_first=fast["first"], fast_best=fast["best"], fast_proc=fast["proc"])
    row.update(fast_converged=last["converged"], fast_decrement=last["decrement"])
    design = _build_design(frame, FORMULA, "client_id", "~ week")
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        with me.one_blas_thread():
            me.minimize_deviance(me.ProfiledDeviance(design.statistics()))
        times.append(time.perf_counter() - start)
    row["fast_engine"] = min(times)
    contenders = []
    if run_r:
        script = workdir / "fit.R"
        script.write_text(_R_FIT)
        contenders.append(("lme4", ["Rscript", str(script), str(path), FORMULA, str(repeat)], r_timeout))
    if run_statsmodels:
        contenders.append(("sm", [sys.executable, "-c", _SM_FIT, str(path), FORMULA, str(sm_repeat)], sm_timeout))
    _progress(clients, "fast", fast)
    for name, command, timeout in contenders:
        result = _timed_process(command, timeout)
        _progress(clients, name, result)
        if result["timed_out"]:
            row[f"{name}_timeout"] = timeout
        if result["fits"]:
            row.update({f"{name}_first": result["first"], f"{name}_best": result["best"], f"{name}_proc": result["proc"]})
            row[f"{name}_minus_fast_reml"] = result["fits"][-1]["reml"] - last["reml"]
            row[f"max_rel_fixef_vs_{name}"] = _max_rel(last["fixef"], result["fits"][-1]["fixef"])
    row["load"] = os.getloadavg()[0]
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[1000, 20000, 200000])
    parser.add_argument("--weeks", type=int, default=16)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--skip-statsmodels-above", type=int, default=None, metavar="N",
                        help="do not run statsmodels for more than N clients (it took 352 s at 20,000 on a quiet machine)")
    parser.add_argument("--statsmodels-timeout", type=float, default=600.0, metavar="S",
                        help="stop statsmodels' process after S seconds and report it as not finished (default 600)")
    parser.add_argument("--statsmodels-repeat", type=int, default=1,
                        help="statsmodels fits per process (later ones only while a fit takes under 60 s)")
    parser.add_argument("--r-timeout", type=float, default=None, metavar="S", help="stop the R process after S seconds")
    parser.add_argument("--no-r", action="store_true", help="do not run R lme4 even if installed")
    parser.add_argument("--ddf", default="satterthwaite", choices=["satterthwaite", "kenward-roger", "z"],
                        help="degrees of freedom computed by the fast fit (default satterthwaite, as fit_lmm)")
    parser.add_argument("--repeat", type=int, default=3, help="fast and lme4 fits per process; the first (cold) and the best (warm) are reported")
    args = parser.parse_args(argv)
    run_r = not args.no_r and _has_lme4()
    print(machine())
    print(f"model: {FORMULA} + (week | client_id), REML; {args.weeks} weeks per client; fast fit ddf={args.ddf}\n")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for clients in args.clients:
            run_sm = args.skip_statsmodels_above is None or clients <= args.skip_statsmodels_above
            rows.append(bench(
                clients, args.weeks, args.seed, Path(tmp), run_statsmodels=run_sm, run_r=run_r, ddf=args.ddf, repeat=args.repeat,
                sm_repeat=args.statsmodels_repeat, sm_timeout=args.statsmodels_timeout, r_timeout=args.r_timeout,
            ))
            print(f"  done {time.strftime('%H:%M:%S', time.gmtime())} UTC: {json.dumps(rows[-1], default=str)}", file=sys.stderr, flush=True)
    print(ratio_table(pd.DataFrame(rows)))
    return 0


def ratio_table(table: pd.DataFrame) -> str:
    """The run's figures and same-run ratios as text; a timed-out contender shows ``>S`` (not finished within S seconds)."""
    for name in ("lme4", "sm"):
        if f"{name}_first" in table:
            table[f"{name}/fast cold"] = table[f"{name}_first"] / table["fast_first"]
            table[f"{name}/fast warm"] = table[f"{name}_best"] / table["fast_best"]
            table[f"{name}/fast proc"] = table[f"{name}_proc"] / table["fast_proc"]
        if f"{name}_timeout" in table:
            limit = table[f"{name}_timeout"]
            stopped = limit.notna() & (table.get(f"{name}_first", pd.Series(np.nan, index=table.index)).isna())
            table[f"{name}_first"] = table.get(f"{name}_first", pd.Series(np.nan, index=table.index)).astype(object)
            table.loc[stopped, f"{name}_first"] = [f">{v:.0f} (not finished)" for v in limit[stopped]]
            table[f"{name}/fast cold"] = table.get(f"{name}/fast cold", pd.Series(np.nan, index=table.index)).astype(object)
            table.loc[stopped, f"{name}/fast cold"] = [f">{v / f:.0f}" for v, f in zip(limit[stopped], table.loc[stopped, "fast_first"])]
    with pd.option_context("display.width", 250, "display.max_columns", 40):
        return table.to_string(index=False, float_format=lambda v: f"{v:.3g}")


if __name__ == "__main__":
    raise SystemExit(main())
