"""``backpain report`` on a studio chain's worth of clients: time, peak memory, and figures that stay light.

Makes ``backpain simulate --clients N --weeks W --seed 1`` once under
``--data-root``, then runs ``backpain report DATA --out DIR --force`` as a
child process ``--repeat`` times and prints:

- wall time (minimum over the repeats) and peak resident memory of the
  largest process in the tree (the command or the notebook kernel it starts:
  ``ru_maxrss`` from ``os.wait4`` covers the child and the descendants it
  waited for; it is a maximum, not a sum);
- the same for ``backpain panel`` on that dataset (loading, validation and
  the panel: the part of the report every notebook starts with);
- the size of ``report.html`` and of the largest figure file;
- every figure whose caption says it shows a sample or a summary of the
  clients (``40 of 2000 clients``, ``at most 1,500 drawn``, ``median``,
  ``interquartile range``), so a reader sees that no figure draws one line
  per client of a large studio.

Usage::

    python benchmarks/bench_report.py --clients 2000 --weeks 26 --repeat 2
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_panel import backpain_command, run  # noqa: E402

SUMMARY_WORDS = re.compile(r"\d[\d,]* of \d[\d,]* clients|at most [\d,]+|median|interquartile|mean of the clients|share of clients|% of")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=2000)
    parser.add_argument("--weeks", type=int, default=26)
    parser.add_argument("--repeat", type=int, default=2, help="runs of each command; the minimum time is reported")
    parser.add_argument("--data-root", type=Path, default=Path("/tmp/backpain_bench"), help="where data and outputs go")
    args = parser.parse_args()
    backpain = backpain_command()
    data = args.data_root / f"report_{args.clients}x{args.weeks}"
    out = args.data_root / f"report_{args.clients}x{args.weeks}_out"
    if not (data / "sessions.csv").exists():
        seconds, _ = run([*backpain, "simulate", "--clients", str(args.clients), "--weeks", str(args.weeks), "--seed", "1", "--out", str(data)])
        print(f"simulated {args.clients} clients x {args.weeks} weeks in {seconds:.1f} s")
    rows = sum(1 for _ in (data / "sessions.csv").open()) - 1
    print(f"dataset {data}: {rows:,} session rows; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    commands = {
        "panel": [*backpain, "panel", str(data), "--out", str(args.data_root / "report_panel.parquet")],
        "report": [*backpain, "report", str(data), "--out", str(out), "--force"],
    }
    for name, command in commands.items():
        runs = [run(command) for _ in range(args.repeat)]
        print(f"backpain {name:<7} {min(s for s, _ in runs):7.1f} s  peak {max(m for _, m in runs):6.0f} MB  (runs: {', '.join(f'{s:.1f}' for s, _ in runs)} s)")
    manifest = json.loads((out / "manifest.json").read_text())
    figures = sorted((out / "figures").iterdir(), key=lambda p: p.stat().st_size)
    print(f"report.html {(out / 'report.html').stat().st_size / 1e6:.1f} MB; largest figure {figures[-1].name} {figures[-1].stat().st_size / 1e3:.0f} kB")
    print(f"{len(manifest['figures'])} figures; those that sample or summarise clients, in their captions' words:")
    for figure in manifest["figures"]:
        found = SUMMARY_WORDS.findall(figure["caption"])
        print(f"  {figure['name']:<30} {'; '.join(dict.fromkeys(found)) if found else '(a per-group summary or model output)'}")


if __name__ == "__main__":
    main()
