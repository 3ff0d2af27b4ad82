"""The Dask path (``--scheduler``) against the single machine: time, client-process memory, equality.

One dataset made by :mod:`make_large` (Parquet; reused from ``--data-root``
like ``bench_panel.py``'s), its ``sessions`` also written as a folder of
``--parts`` Parquet parts (a partitioned table, as Spark or Dask write it;
``outcomes`` and ``clients`` are the same files). A Dask scheduler and
``--workers`` single-threaded worker processes are started with the ``dask``
command; then, as whole processes (wall time; peak resident memory as the
process's own ``VmHWM``, see :data:`PEAK_WRAPPER`):

- ``backpain panel DATA --out single.parquet`` and ``backpain fit DATA
  --outcome nprs --json`` on the one-file dataset (the single machine);
- the same two commands on the partitioned dataset with ``--scheduler
  ADDRESS``: the measured process is the client (it holds the ledger, one key
  per client and the gathered panel or per-client statistics, never the
  session rows); the cluster is warmed up by one unmeasured run on
  ``data/sample`` and the workers' own peak memory is read after each run.

The panels are compared cell by cell (they must be equal) and the fit
estimates by their largest absolute difference. The script then prints an
extrapolation to 10^9 rows on N workers from the measured per-row worker
time, with its assumptions.

Usage::

    nice -n 10 python benchmarks/bench_distributed.py --rows 10000000 --parts 8 --workers 2

Run it when the machine is quiet (the load average is printed).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_large import make_dataset  # noqa: E402

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
EXTRAPOLATE_ROWS = 1_000_000_000
EXTRAPOLATE_WORKERS = (8, 32, 128)


PEAK_WRAPPER = """
import os, resource, sys
from backpain_analysis.cli import main
status = main(sys.argv[1:])
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
with open(os.environ["BENCH_PEAK_FILE"], "w") as out:
    out.write(f"{hwm / 1024} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}")
sys.exit(status)
"""
"""Runs ``backpain ARGS`` and records the process's own peak resident memory.

``VmHWM`` (the peak of this process image) rather than ``ru_maxrss`` of
``getrusage`` or ``wait4``: Linux carries a parent's peak into a forked
child's ``ru_maxrss`` across ``exec``, so every child of this script (which
held the 10 M-row table while writing the parts) would report at least that.
Both are recorded."""


def run(arguments: list[str], stdout: Path) -> tuple[float, float, float]:
    """``backpain ARGUMENTS`` as a child process (output to ``stdout``): wall time (s), VmHWM and ru_maxrss (MB)."""
    peak_file = stdout.with_suffix(".peak")
    began = time.perf_counter()
    with stdout.open("wb") as out:
        child = subprocess.Popen([sys.executable, "-c", PEAK_WRAPPER, *arguments], stdout=out, env={**os.environ, "BENCH_PEAK_FILE": str(peak_file)})
        _, status, _ = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - began
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: backpain {' '.join(arguments)}")
    hwm, maxrss = (float(v) for v in peak_file.read_text().split())
    return seconds, hwm, maxrss


def partitioned_copy(data: Path, parts: int) -> Path:
    """``data`` with ``sessions`` as a folder of ``parts`` Parquet files (consecutive rows); other tables linked."""
    target = data.with_name(f"{data.name}_parts{parts}")
    folder = target / "sessions"
    if folder.exists() and len(list(folder.glob("*.parquet"))) == parts:
        return target
    folder.mkdir(parents=True, exist_ok=True)
    table = pq.read_table(data / "sessions.parquet")
    edges = np.linspace(0, table.num_rows, parts + 1).astype(int)
    for i, (lo, hi) in enumerate(zip(edges[:-1], edges[1:], strict=True)):
        pq.write_table(table.slice(lo, hi - lo), folder / f"part-{i:05d}.parquet")
    for name in ("outcomes.parquet", "clients.parquet"):
        link = target / name
        if not link.exists():
            link.symlink_to(data / name)
    return target


class Cluster:
    """A Dask scheduler and worker processes started with the ``dask`` command."""

    def __init__(self, root: Path, workers: int) -> None:
        from distributed import Client

        dask = str(Path(sys.executable).with_name("dask"))
        self.file = root / "scheduler.json"
        self.file.unlink(missing_ok=True)
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        self.scheduler = subprocess.Popen([dask, "scheduler", "--scheduler-file", str(self.file), "--port", "0", "--dashboard-address", ":0"], **quiet)
        while not self.file.exists():
            time.sleep(0.2)
        self.workers = subprocess.Popen(
            [dask, "worker", "--scheduler-file", str(self.file), "--nworkers", str(workers), "--nthreads", "1",
             "--memory-limit", "0", "--no-dashboard"],
            **quiet,
        )
        self.client = Client(scheduler_file=str(self.file))
        self.client.wait_for_workers(workers)
        self.address = self.client.scheduler.address

    def warm_up(self, command: list[str], out: Path) -> None:
        """One unmeasured run on data/sample: the workers import the package and read the catalog once.

        A long-lived cluster does that once; timing it in every run (seconds
        per worker on a busy machine) would measure Python's imports, not the work.
        """
        run([*command, "--scheduler", self.address], out)

    def worker_peak_mb(self) -> list[float]:
        """Each worker's peak resident memory since it started (MB; the runs so far)."""
        peaks = self.client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        return sorted(peaks.values())

    def close(self) -> None:
        self.client.close()
        for process in (self.workers, self.scheduler):
            process.terminate()
            process.wait(timeout=60)


def compare_panels(a: Path, b: Path) -> str:
    """``equal`` when the two panel files hold the same cells, else the first difference."""
    try:
        pd.testing.assert_frame_equal(pd.read_parquet(a), pd.read_parquet(b), check_exact=True)
    except AssertionError as error:
        return str(error).splitlines()[0]
    return "equal"


def estimates(path: Path) -> np.ndarray:
    return np.array([e["estimate"] for e in json.loads(path.read_text())["effects"]], dtype=float)


def bench(rows: int, parts: int, workers: int, root: Path) -> dict[str, object]:
    data = root / f"rows_{rows}"
    if not (data / "sessions.parquet").exists():
        make_dataset(data, rows)
    split = partitioned_copy(data, parts)
    out = root / "distributed"
    out.mkdir(exist_ok=True)
    result: dict[str, object] = {"rows": rows, "parts": parts, "workers": workers, "load_average_before": os.getloadavg()[0]}
    result["single_panel_s"], result["single_panel_mb"], result["single_panel_maxrss_mb"] = run(
        ["panel", str(data), "--out", str(out / "single.parquet")], out / "single_panel.txt"
    )
    result["single_fit_s"], result["single_fit_mb"], result["single_fit_maxrss_mb"] = run(
        ["fit", str(data), "--outcome", "nprs", "--json"], out / "single_fit.json"
    )
    cluster = Cluster(out, workers)
    try:
        cluster.warm_up(["panel", str(SAMPLE), "--out", str(out / "warm_up.parquet")], out / "warm_up.txt")
        scheduler = ["--scheduler", cluster.address]
        result["dask_panel_s"], result["dask_panel_client_mb"], result["dask_panel_client_maxrss_mb"] = run(
            ["panel", str(split), "--out", str(out / "dask.parquet"), *scheduler], out / "dask_panel.txt"
        )
        result["dask_panel_worker_mb"] = cluster.worker_peak_mb()
        result["dask_fit_s"], result["dask_fit_client_mb"], result["dask_fit_client_maxrss_mb"] = run(
            ["fit", str(split), "--outcome", "nprs", "--json", *scheduler], out / "dask_fit.json"
        )
        result["dask_fit_worker_mb"] = cluster.worker_peak_mb()
    finally:
        cluster.close()
    result["load_average_after"] = os.getloadavg()[0]
    result["panel_cells"] = compare_panels(out / "single.parquet", out / "dask.parquet")
    result["fit_max_abs_difference"] = float(np.abs(estimates(out / "single_fit.json") - estimates(out / "dask_fit.json")).max())
    return result


PART_ROWS = 1_500_000
"""Rows per Parquet part assumed at 10^9 rows (Spark's 128 MB files hold about this many session rows)."""
TASK_OVERHEAD_S = 200e-6
"""Scheduler time per task (Dask's documentation: about 200 microseconds)."""


def extrapolate(r: dict[str, object]) -> list[str]:
    """10^9 rows on N workers from the measured run, with its assumptions.

    Two costs per row: the Dask panel's (``dask_panel_s`` x workers / rows:
    worker-seconds per row with this run's splitting, moving and fixed costs,
    pessimistic) and the single machine's (``single_panel_s`` / rows: one
    process doing the same rules and sums, what a worker approaches when its
    parts are large and the moves are cheap).
    """
    rows, workers = int(r["rows"]), int(r["workers"])
    per_row = float(r["dask_panel_s"]) * workers / rows
    per_row_single = float(r["single_panel_s"]) / rows
    parts = EXTRAPOLATE_ROWS // PART_ROWS
    ranges = EXTRAPOLATE_ROWS // 2_000_000  # scale.panel.ROWS_PER_RANGE
    tasks = parts * ranges + parts + 2 * ranges  # a piece per part and range, a task per part, per range (panel, statistics)
    scheduling = tasks * TASK_OVERHEAD_S
    clients = EXTRAPOLATE_ROWS // 500
    lines = [
        f"extrapolation to {EXTRAPOLATE_ROWS:,} rows; assumptions: worker time linear in rows, at this run's Dask cost of "
        f"{per_row * 1e6:.2f} worker-us per row (fixed costs, splitting and moves included) or at the single machine's "
        f"{per_row_single * 1e6:.2f} us per row (wall time of one process, which reads with two threads: the same rules and sums "
        "without the cluster's overheads); one core per worker; "
        f"parts of {PART_ROWS:,} rows ({parts:,} parts), {ranges:,} client ranges of 2 M rows, {tasks:,} tasks at "
        f"{TASK_OVERHEAD_S * 1e6:.0f} us of scheduler time each ({scheduling / 60:.0f} min, serial); "
        "~30 bytes per accepted row moved between workers once, over a network at least as fast as the work; "
        "500 rows per client (2 M clients), 26 weeks"
    ]
    for n in EXTRAPOLATE_WORKERS:
        lines.append(
            f"  {n:>4} workers: ~{(per_row * EXTRAPOLATE_ROWS / n + scheduling) / 60:.0f} min at the Dask cost, "
            f"~{(per_row_single * EXTRAPOLATE_ROWS / n + scheduling) / 60:.0f} min at the single-machine cost "
            f"(work {per_row * EXTRAPOLATE_ROWS / n / 60:.0f} / {per_row_single * EXTRAPOLATE_ROWS / n / 60:.0f} min each + "
            f"{scheduling / 60:.0f} min scheduling); {EXTRAPOLATE_ROWS * 30 / 1e9 / n:.1f} GB of coded rows each"
        )
    lines.append(
        f"  client: ledger + {clients:,} client keys; `panel` gathers ~{clients * 26 * 30 * 8 / 1e9:.0f} GB of client-weeks, "
        f"`fit` only ~{clients * 22 * 8 / 1e9:.1f} GB of per-client statistics"
    )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--parts", type=int, default=8, help="Parquet parts of the partitioned sessions table")
    parser.add_argument("--workers", type=int, default=2, help="Dask worker processes (one thread each)")
    parser.add_argument("--data-root", type=Path, default=Path("/tmp/backpain_bench"), help="where data and outputs go")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    args.data_root.mkdir(parents=True, exist_ok=True)
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    r = bench(args.rows, args.parts, args.workers, args.data_root)
    print(f"{r['rows']:,} session rows, sessions in {r['parts']} parts, {r['workers']} local workers")
    print(f"{'':18} {'time s':>8} {'client MB':>10} {'workers MB':>14}")
    print(f"{'single panel':18} {r['single_panel_s']:>8.1f} {r['single_panel_mb']:>10.0f} {'-':>14}")
    print(f"{'dask panel':18} {r['dask_panel_s']:>8.1f} {r['dask_panel_client_mb']:>10.0f} {'/'.join(f'{m:.0f}' for m in r['dask_panel_worker_mb']):>14}")
    print(f"{'single fit':18} {r['single_fit_s']:>8.1f} {r['single_fit_mb']:>10.0f} {'-':>14}")
    print(f"{'dask fit':18} {r['dask_fit_s']:>8.1f} {r['dask_fit_client_mb']:>10.0f} {'/'.join(f'{m:.0f}' for m in r['dask_fit_worker_mb']):>14}")
    print(f"time ratio dask/single: panel {r['dask_panel_s'] / r['single_panel_s']:.2f}, fit {r['dask_fit_s'] / r['single_fit_s']:.2f}; "
          f"client memory ratio: panel {r['dask_panel_client_mb'] / r['single_panel_mb']:.2f}, fit {r['dask_fit_client_mb'] / r['single_fit_mb']:.2f}")
    print(f"panel cells: {r['panel_cells']}; fit estimates max |difference|: {r['fit_max_abs_difference']:.2g}")
    print(f"load average after: {r['load_average_after']:.2f}")
    print("\n".join(extrapolate(r)))
    if args.json:
        args.json.write_text(json.dumps(r, indent=2))


if __name__ == "__main__":
    main()
