"""The ``backpain`` command (CONTRACT section 4).

Each subcommand is a small function that parses nothing itself: argparse does
that, the library does the work, and a :class:`DataError` becomes one line on
standard error with exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

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
