"""The ``backpain`` command (CONTRACT section 4).

Each subcommand is a small function that parses nothing itself: argparse does
that, the library does the work, and a :class:`DataError` becomes one line on
standard error with exit status 2.
"""

from __future__ import annotations

import argparse
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


# Subcommands are registered below, one function each, in contract order.


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
    parser.set_defaults(handler=_panel)


def _panel(args: argparse.Namespace) -> int:
    from backpain_analysis.loading import load
    from backpain_analysis.panel import weekly_panel

    out = Path(args.out)
    if out.suffix.lower() not in {".csv", ".parquet"}:
        raise DataError(f"--out {out} must end in .csv or .parquet")
    panel = weekly_panel(load(args.data))
    write_table(panel, out)
    print(f"wrote {len(panel)} client-weeks of {panel['client_id'].nunique()} clients to {out}")
    return 0
