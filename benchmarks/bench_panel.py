"""``backpain panel`` against DuckDB aggregations of the same rows: time and peak memory.

For each size, a dataset made by :mod:`make_large` (Parquet; generated once
under ``--data-root`` and reused), then, alternately and ``--repeat`` times,
three whole processes:

- ours: ``backpain panel DATA --out panel.parquet`` (reading, validation,
  the rejected ledger, the full panel of CONTRACT section 3 with adherence,
  acute/chronic loads, outcomes and covariates, writing);
- DuckDB: a SQL script (:data:`DUCKDB_SQL`) that reads the same files (Parquet, or
  with ``--formats csv`` CSV copies of them), keeps the rows
  that pass the simple row rules (blank key or date, sets < 1, rpe outside
  0-10, negative load, unit not kg/lb, before the start date), maps
  exercises to modalities by a join to the built-in catalog (case and
  spaces ignored), computes the week from the client's start date and writes
  per client-week the sets per modality, volume load, flexibility and mixed
  minutes, sessions and active days to Parquet. No ledger, no empty weeks,
  no outcomes;
- plain DuckDB: the query a user writes first (:data:`DUCKDB_PLAIN_SQL`,
  issue 15's reference): the same rules and catalog join in one statement,
  exposures only (no sessions or active days, which need distinct counts).

Each process's wall time, CPU time (user + system) and peak resident memory
(``ru_utime``, ``ru_stime``, ``ru_maxrss`` of that child, from ``os.wait4``)
are recorded; the table shows the minimum over the repeats and the ratios
ours / each DuckDB query. CPU time is shown because wall time here moves with
the cost of fresh memory pages (benchmarks/README.md, fifth round): system
time is where that shows. The exposures of the
outputs are then compared on the client-weeks DuckDB writes (they must agree).

Usage::

    python benchmarks/bench_panel.py --rows 1000000 10000000 --repeat 3 --formats parquet csv

Run it when the machine is quiet (the load average is printed).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from backpain_analysis import catalog as catalog_module
from backpain_analysis.catalog import BUILTIN_FILES

COMPARED = ("core_sets", "back_sets", "other_strength_sets", "volume_load_kg", "flexibility_min", "mixed_min", "sessions", "active_days")

DUCKDB_SQL = """
SET enable_progress_bar = false;
CREATE TEMP TABLE names AS
    WITH catalog AS (
        SELECT lower(trim(exercise)) AS key, arg_min(modality, position) AS modality
        FROM (SELECT *, row_number() OVER () AS position FROM read_csv('{catalog}', all_varchar = true))
        GROUP BY key
    )
    SELECT n.exercise, k.modality
    FROM (SELECT DISTINCT exercise FROM {reader}('{data}/sessions.{suffix}'{options})) n
    JOIN catalog k ON lower(trim(n.exercise)) = k.key;
CREATE TEMP TABLE starts AS
    SELECT s.client_id, coalesce(any_value(c.start_date), min(CAST(s.date AS DATE))) AS start_date
    FROM {reader}('{data}/sessions.{suffix}'{options}) s
    LEFT JOIN {reader}('{data}/clients.{suffix}'{options}) c USING (client_id)
    WHERE s.client_id IS NOT NULL
    GROUP BY s.client_id;
COPY (
    WITH per_session AS (
        SELECT client_id, week, day, date,
               sum(sets) FILTER (modality = 'core') AS core_sets,
               sum(sets) FILTER (modality = 'back') AS back_sets,
               sum(sets) FILTER (modality = 'other_strength') AS other_strength_sets,
               sum(sets * reps * load_kg) FILTER (modality IN ('core', 'back')) AS volume_load_kg,
               sum(sets * duration_s) FILTER (modality = 'flexibility') / 60 AS flexibility_min,
               sum(sets * duration_s) FILTER (modality = 'mixed') / 60 AS mixed_min
        FROM (
            SELECT s.client_id, s.date, CAST(s.date AS DATE) AS day, s.sets, s.reps, s.duration_s, n.modality,
                   CAST(floor(datediff('day', t.start_date, CAST(s.date AS DATE)) / 7) AS BIGINT) AS week,
                   coalesce(s.load, 0) * CASE WHEN coalesce(lower(s.load_unit), 'kg') = 'lb' THEN 0.45359237 ELSE 1 END AS load_kg
            FROM {reader}('{data}/sessions.{suffix}'{options}) s
            JOIN names n USING (exercise)
            JOIN starts t USING (client_id)
            WHERE s.date IS NOT NULL AND coalesce(s.sets, 1) >= 1
              AND (s.rpe IS NULL OR s.rpe BETWEEN 0 AND 10) AND coalesce(s.load, 0) >= 0
              AND coalesce(lower(s.load_unit), 'kg') IN ('kg', 'lb')
        )
        WHERE week >= 0
        GROUP BY ALL
    ),
    per_day AS (
        SELECT client_id, week, day, count(*) AS sessions,
               sum(core_sets) AS core_sets, sum(back_sets) AS back_sets, sum(other_strength_sets) AS other_strength_sets,
               sum(volume_load_kg) AS volume_load_kg, sum(flexibility_min) AS flexibility_min, sum(mixed_min) AS mixed_min
        FROM per_session
        GROUP BY ALL
    )
    SELECT client_id, week,
           coalesce(sum(core_sets), 0) AS core_sets, coalesce(sum(back_sets), 0) AS back_sets,
           coalesce(sum(other_strength_sets), 0) AS other_strength_sets, coalesce(sum(volume_load_kg), 0) AS volume_load_kg,
           coalesce(sum(flexibility_min), 0) AS flexibility_min, coalesce(sum(mixed_min), 0) AS mixed_min,
           sum(sessions) AS sessions, count(*) AS active_days
    FROM per_day
    GROUP BY ALL
) TO '{out}' (FORMAT parquet);
"""
"""The DuckDB side. Distinct exercise names are mapped to modalities once and
client start dates computed once (temporary tables); distinct sessions and
days are counted by grouping by session, then by day, then by week, which
DuckDB runs several times faster than ``count(DISTINCT ...)`` here."""


DUCKDB_PLAIN_SQL = """
SET enable_progress_bar = false;
COPY (
    WITH catalog AS (
        SELECT lower(trim(exercise)) AS key, arg_min(modality, position) AS modality
        FROM (SELECT *, row_number() OVER () AS position FROM read_csv('{catalog}', all_varchar = true))
        GROUP BY key
    )
    SELECT s.client_id,
           CAST(floor(datediff('day', c.start_date, CAST(s.date AS DATE)) / 7) AS BIGINT) AS week,
           coalesce(sum(s.sets) FILTER (k.modality = 'core'), 0) AS core_sets,
           coalesce(sum(s.sets) FILTER (k.modality = 'back'), 0) AS back_sets,
           coalesce(sum(s.sets) FILTER (k.modality = 'other_strength'), 0) AS other_strength_sets,
           coalesce(sum(s.sets * s.reps * coalesce(s.load, 0)
                        * CASE WHEN lower(s.load_unit) = 'lb' THEN 0.45359237 ELSE 1 END) FILTER (k.modality IN ('core', 'back')), 0) AS volume_load_kg,
           coalesce(sum(s.sets * s.duration_s) FILTER (k.modality = 'flexibility') / 60, 0) AS flexibility_min,
           coalesce(sum(s.sets * s.duration_s) FILTER (k.modality = 'mixed') / 60, 0) AS mixed_min
    FROM {reader}('{data}/sessions.{suffix}'{options}) s
    JOIN catalog k ON lower(trim(s.exercise)) = k.key
    JOIN {reader}('{data}/clients.{suffix}'{options}) c ON s.client_id = c.client_id
    WHERE s.date >= c.start_date AND coalesce(s.sets, 1) >= 1
      AND (s.rpe IS NULL OR s.rpe BETWEEN 0 AND 10) AND coalesce(s.load, 0) >= 0
      AND coalesce(lower(s.load_unit), 'kg') IN ('kg', 'lb')
    GROUP BY ALL
) TO '{out}' (FORMAT parquet);
"""
"""The plain DuckDB side: what a user writes first. One query: the catalog
joined on the normalised name, the client's ``start_date`` joined from
``clients``, the simple row rules, exposures summed per client-week (no
sessions or active days, which need distinct counts; no ledger, no empty
weeks, no outcomes)."""


CSV_OPTIONS = ", header = true, timestampformat = '%Y-%m-%d %H:%M:%S', dateformat = '%Y-%m-%d'"
"""How DuckDB reads the CSV copies (typed columns, as the Parquet files have them)."""


def duckdb_command(data: Path, out: Path, file_format: str = "parquet", query: str = DUCKDB_SQL) -> list[str]:
    """A process that runs a DuckDB aggregation (``query``: :data:`DUCKDB_SQL` or :data:`DUCKDB_PLAIN_SQL`) of ``data`` into ``out``.

    It imports DuckDB only, so its time and memory are DuckDB's.
    """
    catalog = Path(catalog_module.__file__).parent / "data" / BUILTIN_FILES[0]
    reader, options = ("read_csv", CSV_OPTIONS) if file_format == "csv" else ("read_parquet", "")
    sql = query.format(catalog=catalog, data=data, out=out, reader=reader, suffix=file_format, options=options)
    return [sys.executable, "-c", "import sys, duckdb; duckdb.connect().execute(sys.argv[1])", sql]


def run(command: list[str]) -> tuple[float, float, float]:
    """Run ``command`` as a child process; its wall time (s), peak resident memory (MB) and CPU time (user + system, s)."""
    began = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - began
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(command)}")
    return seconds, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def backpain_command() -> list[str]:
    """The installed ``backpain`` script beside this Python, else the module's ``main``."""
    script = Path(sys.executable).with_name("backpain")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from backpain_analysis.cli import main; sys.exit(main())"]


def compare(ours: Path, theirs: Path) -> float:
    """Largest absolute difference of the exposures both wrote, over DuckDB's client-weeks (every one must be in ours)."""
    b = pd.read_parquet(theirs)
    compared = [c for c in COMPARED if c in b.columns]
    a = pd.read_parquet(ours, columns=["client_id", "week", *compared])
    b["client_id"] = b["client_id"].astype(str)
    joined = b.merge(a, on=["client_id", "week"], how="left", suffixes=("_duckdb", ""), indicator=True)
    if (joined["_merge"] != "both").any():
        return float("inf")
    return max(float(np.max(np.abs(joined[c].to_numpy(float) - joined[f"{c}_duckdb"].to_numpy(float)), initial=0.0)) for c in compared)


def csv_copy(data: Path) -> Path:
    """The dataset's three tables as CSV files in a sibling folder (made once, by DuckDB in a child process)."""
    folder = data.with_name(data.name + "_csv")
    if not (folder / "sessions.csv").exists():
        folder.mkdir(parents=True, exist_ok=True)
        copies = "".join(
            f"COPY (SELECT * FROM read_parquet('{data / (table + '.parquet')}')) TO '{folder / (table + '.csv')}' "
            "(HEADER, TIMESTAMPFORMAT '%Y-%m-%d %H:%M:%S', DATEFORMAT '%Y-%m-%d');"
            for table in ("sessions", "outcomes", "clients")
        )
        subprocess.run([sys.executable, "-c", "import sys, duckdb; duckdb.connect().execute(sys.argv[1])", copies], check=True)
    return folder


def bench(rows: int, root: Path, repeat: int, file_format: str = "parquet") -> dict[str, float]:
    """Time both processes ``repeat`` times on ``rows`` session rows in ``file_format``; minima and ratios.

    Data is made in child processes: a child started after the parent had
    grown would report the parent's size as its own peak (Linux keeps the
    high-water mark across fork and exec).
    """
    data = root / f"rows_{rows}"
    if not (data / "sessions.parquet").exists():
        make_large = Path(__file__).resolve().with_name("make_large.py")
        subprocess.run([sys.executable, str(make_large), "--rows", str(rows), "--out", str(data)], check=True, stdout=subprocess.DEVNULL)
    if file_format == "csv":
        data = csv_copy(data)
    outputs = {name: root / f"{name}_{rows}_{file_format}.parquet" for name in ("ours", "duckdb", "plain")}
    commands = {
        "ours": [*backpain_command(), "panel", str(data), "--out", str(outputs["ours"])],
        "duckdb": duckdb_command(data, outputs["duckdb"], file_format),
        "plain": duckdb_command(data, outputs["plain"], file_format, DUCKDB_PLAIN_SQL),
    }
    times: dict[str, list[tuple[float, float, float]]] = {name: [] for name in commands}
    for _ in range(repeat):
        for name, command in commands.items():
            times[name].append(run(command))
    result = {"rows": rows, "format": file_format, "load_average": os.getloadavg()[0]}
    for name, runs in times.items():
        result[f"{name}_s"] = min(s for s, _, _ in runs)
        result[f"{name}_mb"] = min(m for _, m, _ in runs)
        result[f"{name}_cpu_s"] = min(c for _, _, c in runs)
    for name in ("duckdb", "plain"):
        result[f"time_ratio_{name}"] = result["ours_s"] / result[f"{name}_s"]
        result[f"cpu_ratio_{name}"] = result["ours_cpu_s"] / result[f"{name}_cpu_s"]
        result[f"memory_ratio_{name}"] = result["ours_mb"] / result[f"{name}_mb"]
        result[f"max_abs_difference_{name}"] = compare(outputs["ours"], outputs[name])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each process; the minimum is reported")
    parser.add_argument("--data-root", type=Path, default=Path("/tmp/backpain_bench"), help="where data and outputs go")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--formats", nargs="+", choices=("parquet", "csv"), default=["parquet"], help="file formats to time (CSV: copies made once)")
    args = parser.parse_args()
    args.data_root.mkdir(parents=True, exist_ok=True)
    print(f"{time.strftime('%H:%M', time.gmtime())} UTC, load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print("DuckDB = the query with sessions and active days (DUCKDB_SQL); plain = exposures only (DUCKDB_PLAIN_SQL); x = ours / theirs")
    results = []
    header = (
        f"{'rows':>12} {'format':>7} {'ours s':>7} {'ours MB':>7} {'DuckDB s':>8} {'MB':>5} {'plain s':>7} {'MB':>5} "
        f"{'time x':>6} {'plain x':>7} {'mem x':>5} {'plain mem x':>11} {'CPU s':>6} {'plain CPU s':>11} {'plain CPU x':>11} {'max diff':>8} {'load':>5}"
    )
    print(header)
    for rows, file_format in ((rows, file_format) for rows in args.rows for file_format in args.formats):
        r = bench(rows, args.data_root, args.repeat, file_format)
        results.append(r)
        difference = max(r["max_abs_difference_duckdb"], r["max_abs_difference_plain"])
        print(
            f"{rows:>12,} {file_format:>7} {r['ours_s']:>7.2f} {r['ours_mb']:>7.0f} {r['duckdb_s']:>8.2f} {r['duckdb_mb']:>5.0f} "
            f"{r['plain_s']:>7.2f} {r['plain_mb']:>5.0f} {r['time_ratio_duckdb']:>6.2f} {r['time_ratio_plain']:>7.2f} "
            f"{r['memory_ratio_duckdb']:>5.2f} {r['memory_ratio_plain']:>11.2f} {r['ours_cpu_s']:>6.2f} {r['plain_cpu_s']:>11.2f} "
            f"{r['cpu_ratio_plain']:>11.2f} {difference:>8.2g} {r['load_average']:>5.2f}",
            flush=True,
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
