"""The ``backpain`` command (CONTRACT section 4).

Each subcommand is a small function that parses nothing itself: argparse does
that, the library does the work, and a :class:`DataError` becomes one line on
standard error with exit status 2, an operating-system failure one line with
status 1, and Ctrl-C a quiet status 130 (:func:`main`).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from backpain_analysis.errors import DataError

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


INTERRUPTED: int = 130
"""Exit status after Ctrl-C (128 + SIGINT), as shells report it."""


def _one_line(error: OSError) -> str:
    """An operating-system error in one line: what failed, on which file (no traceback)."""
    reason = error.strerror or type(error).__name__
    where = f" {error.filename}" if error.filename else ""
    return f"{reason}{':' if where else ''}{where}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    0 done; 1 the environment failed (disk full, a read-only or forbidden
    output, out of memory), one line on standard error; 2 the input or the
    arguments cannot be used (:class:`DataError`), one line; 130 interrupted
    (Ctrl-C), quietly. Never a traceback for any of these.
    """
    try:
        args = _parser().parse_args(argv)
        handler: Handler = args.handler
        return handler(args)
    except KeyboardInterrupt:
        print("backpain: interrupted", file=sys.stderr)
        return INTERRUPTED
    except DataError as error:
        print(f"backpain {args.command}: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (``backpain fit --json | head``): stop quietly,
        # sending what Python still flushes at exit to nowhere.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as error:
        print(f"backpain {args.command}: {_one_line(error)}", file=sys.stderr)
        return 1
    except MemoryError:
        print(f"backpain {args.command}: out of memory: try a smaller dataset or a machine with more memory", file=sys.stderr)
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
    from backpain_analysis.writing import write_table

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
        first = rejected.head(shown)[["table", "row", "column", "reason"]]
        print(first.map(_printable).to_string(index=False))
    return 0


def _printable(value: object) -> object:
    """Text for a terminal: control characters (an escape sequence a file smuggled in) shown as escapes, not run."""
    if not isinstance(value, str):
        return value
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in value)


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
    from backpain_analysis.writing import write_table

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
    parser.add_argument("--ddf", default="satterthwaite", choices=["satterthwaite", "kenward-roger", "z"],
                        help="denominator df of t intervals and p-values (default satterthwaite; z: Wald z, no df)")
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

        result = _on_cluster(args, lambda dataset: fit_on_cluster(dataset, outcome, args.lag, ddf=args.ddf))
    else:
        result = fit_volume_model(weekly_panel(load(args.data)), outcome=outcome, lag=args.lag, ddf=args.ddf)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
        return 0
    print(f"{result.formula}   (random intercept and week slope by client_id, REML)")
    print(f"{result.n_obs} client-weeks of {result.n_clients} clients, exposures lagged {result.lag} week(s)")
    print(result.summary().to_string(float_format=lambda v: f"{v:.4g}"))
    status = "converged" if result.converged else "DID NOT CONVERGE"
    print(f"status: {status}" + "".join(f"\n  {m}" for m in result.lmm.messages))
    for note in getattr(result, "notes", {}).values():
        print(f"note: {note}")
    return 0


@subcommand
def _register_report(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "report",
        help="run every notebook on a dataset and write an HTML report, figures and tables",
        description=(
            "Execute the project's notebooks on DATA and write to DIR: the executed notebooks, one "
            "self-contained HTML report (no network needed to read it), every figure as PNG and SVG, "
            "the tables as CSV, summary.json (the verdict on each question) and manifest.json with a "
            "checksum per file. The same DATA gives the same bytes. DIR is built aside and appears only "
            "when complete. An existing DIR is refused unless it is an earlier report and --force is "
            "given; anything else at DIR is never touched. Client keys appear as stable pseudonyms "
            "(C001, ...) unless --real-ids. Exit status 0 done, 2 the data or DIR cannot be used, "
            "3 a notebook failed (a bug to report), 130 interrupted."
        ),
    )
    parser.add_argument("data", metavar="DATA", help="dataset folder")
    parser.add_argument("--out", required=True, metavar="DIR", help="report folder to create")
    parser.add_argument("--force", action="store_true", help="replace DIR if it holds an earlier report (its manifest.json)")
    parser.add_argument("--real-ids", action="store_true", help="show real client keys instead of pseudonyms")
    parser.set_defaults(handler=_report)


REPORT_FAILED = 3
"""Exit status of ``backpain report`` when a notebook fails for a reason other than the data."""


def _report(args: argparse.Namespace) -> int:
    from backpain_analysis.report import ReportError, build_report

    try:
        report = build_report(args.data, args.out, force=args.force, real_ids=args.real_ids)
    except ReportError as error:
        print(f"backpain report: {error}", file=sys.stderr)
        return REPORT_FAILED
    except KeyboardInterrupt:
        print("backpain report: interrupted; nothing was written", file=sys.stderr)
        return 130
    manifest = report.manifest
    print(
        f"wrote {report.path}: report.html, {len(manifest['notebooks'])} notebooks, "
        f"{len(manifest['figures'])} figures, {len(manifest['tables'])} tables in {report.seconds:.0f} s"
    )
    return 0


@subcommand
def _register_figure(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "figure",
        help="draw one figure of the report for a dataset, without running the notebooks",
        description=(
            "Compute what figure NAME draws from DATA, as the report's notebook does, and save it to "
            "FILE (.png at 300 dpi, .svg or .pdf). NAME is the figure's file stem in the report's "
            "figures/ folder (volume_effects_forest, strength_flexibility_surface, dose_response, sensitivity, "
            "program_trajectories, program_contrasts, benchmark_hayden_2021, ramp_up, weekly_exposure)."
        ),
        epilog="example: backpain figure volume_effects_forest data/sample --out forest.png",
    )
    parser.add_argument("name", metavar="NAME", help="figure name (see above)")
    parser.add_argument("data", metavar="DATA", help="dataset folder")
    parser.add_argument("--out", required=True, metavar="FILE", help="file to write (.png, .svg or .pdf)")
    parser.add_argument("--real-ids", action="store_true", help="show real client keys instead of pseudonyms")
    parser.set_defaults(handler=_figure)


def _figure(args: argparse.Namespace) -> int:
    from backpain_analysis.recipes import make_figure

    path = make_figure(args.name, args.data, args.out, real_ids=args.real_ids)
    print(f"wrote {path}")
    return 0


@subcommand
def _register_import(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "import",
        help="add one client's Strong, Hevy or Fitbod export (or any app's CSV with --columns) to DIR/sessions.csv",
        description=(
            "Read FILE, one client's workout-app export (Strong, Hevy or Fitbod CSV; the app is "
            "recognised from the header, a Strong export with a translated header by its column order "
            "and values; any other app's CSV is read with --columns), and write its sets to DIR/sessions.csv, one row per set, "
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
    parser.add_argument(
        "--columns",
        metavar="ROLE=HEADER,...",
        help=(
            "read any other app's CSV (FitNotes, JEFIT, ...) by naming its columns: roles date, exercise (required), "
            "reps/seconds/distance (at least one), weight, unit, sets, distance_unit, rpe, set_type, category, status; "
            "e.g. --columns 'date=Date,exercise=Exercise,reps=Reps,weight=Weight,unit=Weight Unit'"
        ),
    )
    parser.add_argument(
        "--allow-duplicate",
        action="store_true",
        help="import an export already imported for another client (refused by default: its sets would count twice)",
    )
    parser.add_argument(
        "--decimal-comma",
        action="store_const",
        const=True,
        help="numbers use a decimal comma (9,07 = 9.07) in every column; by default a comma-separated file's quoted comma-numbers are read per column from their values, and ambiguous ones (1,000) are listed in the ledger",
    )
    _add_date_order(parser)
    parser.set_defaults(handler=_import)


def _add_date_order(parser: argparse.ArgumentParser) -> None:
    order = parser.add_mutually_exclusive_group()
    order.add_argument("--dayfirst", dest="dayfirst", action="store_const", const=True, help="read numeric dates as day/month (08/04 = 8 April)")
    order.add_argument(
        "--monthfirst", dest="dayfirst", action="store_const", const=False, help="read numeric dates as month/day (08/04 = August 4)"
    )


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

    return _summarised(
        lambda: import_export(
            args.file,
            args.client_id,
            args.out,
            args.format,
            args.unit,
            args.include_warmups,
            columns=args.columns,
            dayfirst=args.dayfirst,
            allow_duplicate=args.allow_duplicate,
            decimal_comma=args.decimal_comma,
        )
    )


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
    _add_date_order(parser)
    parser.set_defaults(handler=_import_outcomes)


def _import_outcomes(args: argparse.Namespace) -> int:
    from backpain_analysis.importers.outcome_sheet import import_outcome_sheet

    return _summarised(lambda: import_outcome_sheet(args.file, args.out, args.client_column, args.date_column, dayfirst=args.dayfirst))


@subcommand
def _register_catalog(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "catalog",
        help="the exercise catalog: 'backpain catalog explain NAME' says where a name lands and why",
        description="Questions about the exercise catalog that places exercise names in modalities.",
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    explain = actions.add_parser(
        "explain",
        help="place exercise names and say which catalog entry or rule placed each",
        description=(
            "For each NAME print its modality and the entry or rule that placed it: the studio's "
            "catalog table (with --data), an exact entry of the built-in catalog, or the name read as "
            "a movement plus modifiers (equipment, stance, grip, tempo, bracketed notes). An unknown "
            "name gets 'unknown exercise ...' with the nearest known names. Exit status 0 when every "
            "name is placed, 1 when one is unknown."
        ),
        epilog="example: backpain catalog explain 'Barbell Glute Bridge' 'V-Bar Pulldown'",
    )
    explain.add_argument("names", nargs="+", metavar="NAME", help="exercise names as logged")
    explain.add_argument("--data", metavar="DIR", help="a dataset folder whose catalog table applies first")
    explain.set_defaults(handler=_catalog_explain)


def _catalog_explain(args: argparse.Namespace) -> int:
    from backpain_analysis.catalog import explain_exercise
    from backpain_analysis.importers.apps import studio_catalog

    studio = studio_catalog(Path(args.data)) if args.data else None
    placements = [explain_exercise(name, studio) for name in args.names]
    print("\n".join(p.reason for p in placements))
    return 0 if all(p.modality is not None for p in placements) else 1


@subcommand
def _register_power(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "power",
        help="how many clients a study needs: simulated power of 'backpain fit' per number of clients",
        description=(
            "Simulate SIMS studies for each number of clients, each followed for W weeks, fit the "
            "model of 'backpain fit' to each, and report the share in which each within-client effect "
            "(strength, flexibility, their interaction) is detected at the 5 %% level (two-sided), with a "
            "95 %% Monte Carlo (Wilson) interval. Effects, variance components, exposure patterns, "
            "measured weeks and dropout come from the model fitted on --from DATA, or from documented "
            "NPRS defaults (docs/planning.md). The same seed gives the same numbers, with or without "
            "--scheduler."
        ),
        epilog="example: backpain power --clients 20,40,80 --weeks 12 --sims 500 --seed 1 --effect strength_sets_within=-0.03",
    )
    parser.add_argument("--clients", required=True, metavar="N1,N2,...", help="numbers of clients, comma-separated (each at least 5)")
    parser.add_argument("--weeks", type=int, required=True, metavar="W", help="weeks of follow-up per client")
    parser.add_argument("--sims", type=int, required=True, metavar="S", help="simulated studies per number of clients")
    parser.add_argument("--seed", type=int, required=True, metavar="K", help="random seed")
    parser.add_argument("--from", dest="data", metavar="DATA", help="dataset folder whose fitted model the studies copy")
    parser.add_argument("--outcome", metavar="INSTRUMENT", help="instrument of DATA to model (needed with --from)")
    parser.add_argument("--lag", type=int, default=1, metavar="K", help="exposure lag in weeks (default 1)")
    parser.add_argument(
        "--effect",
        action="append",
        default=[],
        metavar="TERM=VALUE",
        help="true effect of a fit term, per one set or one minute per week (repeatable), e.g. strength_sets_within=-0.03",
    )
    parser.add_argument(
        "--program-contrast",
        action="store_true",
        help="also the power for a difference in weekly slope between two programs (term program_week; set it with --effect program_week=VALUE, default -0.05 points/week without --from, 0 with it)",
    )
    parser.add_argument("--scheduler", metavar="ADDRESS", help="run the simulations on the Dask cluster at ADDRESS ('local' starts one here)")
    parser.add_argument("--figure", metavar="FILE", help="also write the power curve (.png or .svg)")
    parser.add_argument("--json", action="store_true", help="print a JSON list of {clients, weeks, term, effect, power, conf_low, conf_high, sims}")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on standard error")
    parser.set_defaults(handler=_power)


def _parse_effects(items: Sequence[str]) -> dict[str, float]:
    effects: dict[str, float] = {}
    for item in items:
        term, sep, value = item.partition("=")
        try:
            effects[term.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            raise DataError(f"--effect {item!r} must be TERM=VALUE, e.g. strength_sets_within=-0.03")
    return effects


def _parse_clients(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise DataError(f"--clients {text!r} must be whole numbers separated by commas, e.g. 20,40,80") from None


def _power(args: argparse.Namespace) -> int:
    import json

    from backpain_analysis.power import DEFAULT_SCENARIO, PROGRAM_TERM, WITHIN_TERMS, PowerScenario, power_curve, stderr_progress

    clients = _parse_clients(args.clients)
    effects = _parse_effects(args.effect)
    if args.data:
        if not args.outcome:
            raise DataError("--from DATA needs --outcome INSTRUMENT (e.g. nprs)")
        from backpain_analysis.loading import load
        from backpain_analysis.panel import weekly_panel

        scenario = PowerScenario.from_fit(weekly_panel(load(args.data)), args.outcome.strip().lower(), args.lag)
    else:
        if args.outcome and args.outcome.strip().lower() != DEFAULT_SCENARIO.outcome:
            raise DataError(f"without --from DATA the defaults are for {DEFAULT_SCENARIO.outcome}; give --from DATA for {args.outcome}")
        from dataclasses import replace

        scenario = replace(DEFAULT_SCENARIO, lag=args.lag)
    scenario = scenario.with_effects(**effects)
    progress = None if args.quiet else stderr_progress()
    terms = [*WITHIN_TERMS, PROGRAM_TERM] if args.program_contrast else list(WITHIN_TERMS)
    result = power_curve(clients, args.weeks, args.sims, args.seed, scenario, terms=terms, scheduler=args.scheduler, progress=progress)
    if args.figure:
        from backpain_analysis.figures.planning import plot_power_curve

        if Path(args.figure).suffix.lower() not in {".png", ".svg"}:
            raise DataError(f"--figure {args.figure} must end in .png or .svg")
        plot_power_curve(result).savefig(args.figure)
    if args.json:
        print(json.dumps(result.to_records(), indent=2))
        return 0
    print(f"{scenario.outcome}: {scenario.source}; {args.weeks} weeks, {args.sims} studies per size, alpha {result.alpha}")
    shown = result.table[["clients", "term", "effect", "power", "conf_low", "conf_high", "failed"]]
    print(shown.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    return 0
