"""The ``backpain`` command (CONTRACT section 4).

Each subcommand is a small function that parses nothing itself: argparse does
that, the library does the work, and a :class:`DataError` becomes one line on
standard error with exit status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from backpain_analysis.errors import DataError
from backpain_analysis.writing import write_table

Handler = Callable[[argparse.Namespace], int]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="backpain",
        description=(
            "Outcomes analysis for back-pain exercise programs. Start with "
            "'backpain validate DATA' on a folder holding sessions.csv and outcomes.csv."
        ),
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for register in _REGISTRY:
        register(sub)
    return parser


_REGISTRY: list[Callable[[argparse._SubParsersAction], None]] = []


def subcommand(register: Callable[[argparse._SubParsersAction], None]) -> Callable:
    """Add a subcommand: ``register(sub)`` adds its parser and sets ``handler``."""
    _REGISTRY.append(register)
    return register


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except DataError as error:
        print(f"backpain {args.command}: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (``backpain fit --json | head``): stop quietly,
        # sending what Python still flushes at exit to nowhere.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


# Subcommands are registered below, one function each, in contract order.


@subcommand
def _register_validate(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "validate",
        help="check a dataset: rows read, accepted and rejected per table, with reasons",
        description=(
            "Load DATA, a folder holding sessions and outcomes (and optionally clients and "
            "catalog) as .csv, .parquet or .xlsx, and report for every table how many rows were "
            "read, accepted and rejected. Each rejected row is listed with its table, spreadsheet "
            "row number (header = row 1), column, value and the reason to fix it. The files are "
            "only read, never changed. Exit status 0 when the dataset loads (even with rejected "
            "rows), 2 with a one-line reason when it cannot be loaded."
        ),
        epilog="example: backpain validate data/sample --rejected rejected.csv",
    )
    parser.add_argument("data", metavar="DATA", help="dataset folder")
    parser.add_argument(
        "--rejected", metavar="FILE", help="write every rejected row (table,row,column,value,reason) to FILE (.csv or .parquet)"
    )
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object: table -> {read, accepted, rejected}"
    )
    parser.set_defaults(handler=_validate)


def _validate(args: argparse.Namespace) -> int:
    import json
    import warnings

    from backpain_analysis.loading import load

    if args.rejected and Path(args.rejected).suffix.lower() not in {".csv", ".parquet"}:
        raise DataError(f"--rejected {args.rejected} must end in .csv or .parquet")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dataset = load(args.data)
    for warning in caught:
        print(f"note: {warning.message}", file=sys.stderr)
    counts = dataset.counts()
    if args.rejected:
        write_table(dataset.rejected, args.rejected)
    if args.json:
        print(json.dumps({table: {k: int(v) for k, v in row.items()} for table, row in counts.iterrows()}))
        return 0
    print(counts.to_string())
    shown = 10
    rejected = dataset.rejected
    if args.rejected:
        print(f"wrote {len(rejected)} rejected rows to {args.rejected}")
    elif len(rejected):
        print(f"\nrejected rows (first {min(shown, len(rejected))} of {len(rejected)}; all with --rejected FILE):")
        print(rejected.head(shown)[["table", "row", "column", "reason"]].to_string(index=False))
    return 0


def _add_scheduler(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on the Dask cluster at ADDRESS (tcp://host:8786), or 'local' to start one on this machine; same results",
    )


def _on_cluster(args: argparse.Namespace, work: Callable[..., object]) -> object:
    """Load DATA on the Dask cluster at ``--scheduler`` and return ``work(dataset)`` (docs/scale_out.md)."""
    from backpain_analysis.scale.cluster import connect
    from backpain_analysis.scale.panel import load_on_cluster

    with connect(args.scheduler) as client:
        return work(load_on_cluster(args.data, client))


@subcommand
def _register_panel(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "panel",
        help="write the client-week panel of exposures and outcomes",
        description=(
            "Load DATA (a folder with sessions and outcomes tables) and write one row per "
            "client and week: strength sets, flexibility minutes, adherence, and the weekly "
            "mean of every instrument. Rows the loader rejects are left out; see "
            "'backpain validate' for why."
        ),
    )
    parser.add_argument("data", metavar="DATA", help="dataset folder")
    parser.add_argument("--out", required=True, metavar="FILE", help="output file, .csv or .parquet")
    _add_scheduler(parser)
    parser.set_defaults(handler=_panel)


def _panel(args: argparse.Namespace) -> int:
    from backpain_analysis.loading import load
    from backpain_analysis.panel import weekly_panel

    out = Path(args.out)
    if out.suffix.lower() not in {".csv", ".parquet"}:
        raise DataError(f"--out {out} must end in .csv or .parquet")
    panel = _on_cluster(args, lambda dataset: dataset.panel()) if args.scheduler else weekly_panel(load(args.data))
    write_table(panel, out)
    print(f"wrote {len(panel)} client-weeks of {panel['client_id'].nunique()} clients to {out}")
    return 0


@subcommand
def _register_simulate(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "simulate",
        help="write a simulated dataset with known effects (and truth.json)",
        description=(
            "Simulate N clients followed for W weeks: their programs, training sessions "
            "(sessions.csv), pain and disability scores (outcomes.csv) and covariates "
            "(clients.csv), from a documented data-generating process (docs/simulation.md). "
            "truth.json records every effect used, so an analysis can be checked against it. "
            "The same seed always gives the same files."
        ),
        epilog="example: backpain simulate --clients 150 --weeks 16 --seed 1 --reverse-causation --out sim/flares",
    )
    parser.add_argument("--clients", type=int, required=True, metavar="N", help="number of clients")
    parser.add_argument("--weeks", type=int, required=True, metavar="W", help="weeks of follow-up per client (at least 2)")
    parser.add_argument("--seed", type=int, required=True, metavar="S", help="random seed")
    parser.add_argument("--out", required=True, metavar="DIR", help="folder to write (created if needed; the four files are replaced)")
    parser.add_argument(
        "--reverse-causation",
        action="store_true",
        help="pain flares cut the next week's training, so same-week models are biased",
    )
    parser.add_argument(
        "--dose-response",
        choices=("linear", "saturating"),
        default="linear",
        help="shape of the within-client strength effect: linear, or saturating (plateau); default linear",
    )
    parser.add_argument(
        "--program-advantage",
        action="store_true",
        help="strength_mobility clients improve faster each week than the other programs (amounts in truth.json)",
    )
    parser.add_argument(
        "--bad-rows",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="plant a few realistic bad rows for the loader to reject, listed in truth.json (default: on)",
    )
    parser.set_defaults(handler=_simulate)


def _simulate(args: argparse.Namespace) -> int:
    from backpain_analysis.simulate import simulate, write_study

    study = simulate(
        args.clients,
        args.weeks,
        args.seed,
        reverse_causation=args.reverse_causation,
        dose_response=args.dose_response,
        program_advantage=args.program_advantage,
        bad_rows=args.bad_rows,
    )
    paths = write_study(study, args.out)
    counts = ", ".join(f"{paths[t].name} ({study.truth['rows'][t]} rows)" for t in ("sessions", "outcomes", "clients"))
    print(f"wrote {counts} and truth.json to {Path(args.out)}")
    print(f"{len(study.truth['bad_rows'])} planted bad rows are listed in truth.json under bad_rows")
    return 0


@subcommand
def _register_fit(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "fit",
        help="fit the mixed model of an outcome on lagged strength and flexibility volume",
        description=(
            "Fit OUTCOME in week t on strength sets and flexibility minutes of week t-K: "
            "within-client deviations from the client's mean, their product, the client means, "
            "and week, with a random intercept and week slope per client (REML). Estimates are "
            "in the instrument's units per one set/week or one minute/week."
        ),
    )
    parser.add_argument("data", metavar="DATA", help="dataset folder")
    parser.add_argument("--outcome", required=True, metavar="INSTRUMENT", help="e.g. nprs, odi, rmdq, psfs")
    parser.add_argument("--lag", type=int, default=1, metavar="K", help="exposure lag in weeks (default 1)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    _add_scheduler(parser)
    parser.set_defaults(handler=_fit)


def _fit(args: argparse.Namespace) -> int:
    import json

    from backpain_analysis.loading import load
    from backpain_analysis.panel import weekly_panel
    from backpain_analysis.volume_model import fit_volume_model

    outcome = args.outcome.strip().lower()
    if args.scheduler:
        from backpain_analysis.scale.fit import fit_on_cluster

        result = _on_cluster(args, lambda dataset: fit_on_cluster(dataset, outcome, args.lag))
    else:
        result = fit_volume_model(weekly_panel(load(args.data)), outcome=outcome, lag=args.lag)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
        return 0
    print(f"{result.formula}   (random intercept and week slope by client_id, REML)")
    print(f"{result.n_obs} client-weeks of {result.n_clients} clients, exposures lagged {result.lag} week(s)")
    print(result.summary().to_string(float_format=lambda v: f"{v:.4g}"))
    status = "converged" if result.converged else "DID NOT CONVERGE"
    print(f"status: {status}" + "".join(f"\n  {m}" for m in result.lmm.messages))
    return 0


@subcommand
def _register_report(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "report",
        help="run every notebook on a dataset and write an HTML report, figures and tables",
        description=(
            "Execute the project's notebooks on DATA and write to DIR: the executed notebooks, one "
            "self-contained HTML report (no network needed to read it), every figure as PNG and SVG, "
            "the tables as CSV, and manifest.json with a checksum per file. The same DATA gives the "
            "same bytes. DIR is built aside and appears only when complete; an existing DIR is kept "
            "unless --force. Client keys appear as stable pseudonyms (C001, ...) unless --real-ids."
        ),
    )
    parser.add_argument("data", metavar="DATA", help="dataset folder")
    parser.add_argument("--out", required=True, metavar="DIR", help="report folder to create")
    parser.add_argument("--force", action="store_true", help="replace DIR if it exists")
    parser.add_argument("--real-ids", action="store_true", help="show real client keys instead of pseudonyms")
    parser.set_defaults(handler=_report)


def _report(args: argparse.Namespace) -> int:
    from backpain_analysis.report import build_report

    report = build_report(args.data, args.out, force=args.force, real_ids=args.real_ids)
    manifest = report.manifest
    print(
        f"wrote {report.path}: report.html, {len(manifest['notebooks'])} notebooks, "
        f"{len(manifest['figures'])} figures, {len(manifest['tables'])} tables in {report.seconds:.0f} s"
    )
    return 0


@subcommand
def _register_import(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "import",
        help="add one client's Strong, Hevy or Fitbod export to DIR/sessions.csv",
        description=(
            "Read FILE, one client's workout-app export (Strong, Hevy or Fitbod CSV; the app is "
            "recognised from the header), and write its sets to DIR/sessions.csv, one row per set, "
            "creating DIR and the file when missing. Rows of other clients, other apps and rows "
            "typed by hand are left as they are; sessions this client's earlier imports of the same "
            "app brought are replaced, so importing the same file twice changes nothing. Every "
            "export row not imported (a warm-up set, a rest timer, a row with nothing done, an "
            "unreadable date) is listed with its row number and reason in DIR/import_ledger.csv. "
            "FILE is only read."
        ),
        epilog="example: backpain import strong_workouts.csv --client-id C017 --out data/studio",
    )
    parser.add_argument("file", metavar="FILE", help="the app's CSV export")
    parser.add_argument("--client-id", required=True, metavar="ID", help="the client the export belongs to")
    parser.add_argument("--out", required=True, metavar="DIR", help="dataset folder to add to")
    parser.add_argument("--format", default="auto", choices=["auto", "strong", "hevy", "fitbod"], help="the app (default: detect)")
    parser.add_argument(
        "--unit", choices=["kg", "lb"], help="weight unit for exports that do not state it (Strong's iOS export); default kg"
    )
    parser.add_argument("--include-warmups", action="store_true", help="import warm-up sets too (marked set_type=warmup)")
    parser.set_defaults(handler=_import)


def _summarised(run: Callable[[], object]) -> int:
    """Run an import, print reading notes (encodings) to standard error and its summary lines."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run()
    for warning in caught:
        print(f"note: {warning.message}", file=sys.stderr)
    print("\n".join(result.summary()))
    return 0


def _import(args: argparse.Namespace) -> int:
    from backpain_analysis.importers import import_export

    return _summarised(lambda: import_export(args.file, args.client_id, args.out, args.format, args.unit, args.include_warmups))


@subcommand
def _register_import_outcomes(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "import-outcomes",
        help="add a studio's outcome sheet (one row per visit) to DIR/outcomes.csv",
        description=(
            "Read FILE, a spreadsheet (.csv or .xlsx) with one row per visit: a client column, a "
            "date column and one column per instrument (e.g. client, date, NPRS, ODI). Instrument "
            "headers are matched to the built-in instruments (NPRS, VAS, ODI, RMDQ, PSFS, "
            "sit-and-reach, ODI/RMDQ items); other numeric columns become custom instruments. Each "
            "filled cell becomes one row of DIR/outcomes.csv; blank cells are skipped; cells, and "
            "rows, that cannot be used are listed in DIR/import_ledger.csv. Re-importing the sheet "
            "replaces the scores its earlier import wrote for the same visits. FILE is only read."
        ),
        epilog="example: backpain import-outcomes visits.xlsx --out data/studio --client-column 'client id'",
    )
    parser.add_argument("file", metavar="FILE", help="the outcome sheet")
    parser.add_argument("--out", required=True, metavar="DIR", help="dataset folder to add to")
    parser.add_argument("--client-column", default="client", metavar="NAME", help="header of the client key column (default: client)")
    parser.add_argument("--date-column", default="date", metavar="NAME", help="header of the visit date column (default: date)")
    parser.set_defaults(handler=_import_outcomes)


def _import_outcomes(args: argparse.Namespace) -> int:
    from backpain_analysis.importers.outcome_sheet import import_outcome_sheet

    return _summarised(lambda: import_outcome_sheet(args.file, args.out, args.client_column, args.date_column))
