"""What the notebooks import: their inputs, a way to turn data problems into sentences, and figures shown or excused.

The notebook side of the report. It imports no notebook machinery (no zmq,
jupyter_client, papermill or nbconvert), so a kernel running a notebook
starts light; the runner that executes notebooks is
:mod:`backpain_analysis.report`, imported only by the command line.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

import pandas as pd
from IPython.display import Markdown
from matplotlib.figure import Figure

from backpain_analysis.dataset import Dataset
from backpain_analysis.errors import DataError
from backpain_analysis.figures.export import SavedFigure, save_figure
from backpain_analysis.instruments import builtin_instruments
from backpain_analysis.loading import load
from backpain_analysis.narrative import literal, not_shown
from backpain_analysis.panel import weekly_panel
from backpain_analysis.pseudonyms import pseudonym_map, pseudonymize, pseudonymize_ledger

T = TypeVar("T")

PRIMARY_ORDER: tuple[str, ...] = ("nprs", "vas", "odi", "rmdq", "psfs")
"""The main outcome of a report is the first of these that the dataset measures."""


@dataclass(frozen=True)
class NotebookInputs:
    """What every notebook starts from.

    Attributes
    ----------
    dataset: the loaded dataset, client keys replaced by pseudonyms unless real ids were asked for.
    panel: its weekly panel (same keys).
    outcomes: instruments measured, built-in ones first in the order of
        ``data/instruments.csv``, then custom ones alphabetically.
    primary: the main outcome (first of :data:`PRIMARY_ORDER` measured), or None.
    """

    dataset: Dataset
    panel: pd.DataFrame
    outcomes: list[str]
    primary: str | None


def notebook_inputs(data_path: str | Path, real_ids: bool = False) -> NotebookInputs:
    """Load ``data_path``, build the weekly panel, and hide client keys.

    With ``real_ids=False`` (the default) every ``client_id`` in the dataset's
    tables and the panel becomes its stable pseudonym
    (:mod:`backpain_analysis.pseudonyms`), one mapping for all tables, and
    client keys quoted in the rejected ledger are replaced too. Warnings
    raised while loading (a file's encoding, say) are not shown here: the
    data-quality notebook reports the ledger.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dataset = load(data_path)
    if not real_ids:
        mapping = pseudonym_map(
            pd.concat([t["client_id"] for t in (dataset.sessions, dataset.outcomes, dataset.clients) if "client_id" in t])
        )
        tables = {
            name: pseudonymize(getattr(dataset, name), mapping)
            for name in ("sessions", "outcomes", "clients")
            if "client_id" in getattr(dataset, name)
        }
        dataset = replace(dataset, rejected=pseudonymize_ledger(dataset.rejected, mapping), **tables)
    panel = weekly_panel(dataset)
    measured = set(dataset.outcomes["instrument"].astype(str))
    builtin = [name for name in builtin_instruments()["name"] if name in measured]
    outcomes = builtin + sorted(measured - set(builtin))
    primary = next((name for name in PRIMARY_ORDER if name in measured), None)
    return NotebookInputs(dataset, panel, outcomes, primary)


_PATH = re.compile(r"(?:[A-Za-z]:)?(?:[\\/][^\s\\/:'\"]+){2,}[\\/]?")


def plain_message(message: object) -> str:
    """A library message as one line for a reader: file-system paths shortened to their last part."""
    text = " ".join(str(message).split())
    return _PATH.sub(lambda m: re.split(r"[\\/]", m.group(0).rstrip("\\/"))[-1], text)


class Attempts:
    """Run a notebook's analyses so that a data problem becomes a sentence, not an error.

    ``attempts("volume model", fit_volume_model, panel, "nprs")`` returns the
    fit, or None after noting ``("volume model", reason)`` in ``problems``
    when the analysis raises :class:`~backpain_analysis.errors.DataError`
    (too few clients, an absent instrument). Warnings the analysis raises
    (a fit that did not converge, a numerical caution) are kept in
    ``warnings`` as ``(what, message)``, never shown raw. Any other exception
    propagates: it is a bug, and the report must fail on it.
    """

    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []
        self.warnings: list[tuple[str, str]] = []

    def __call__(self, what: str, analysis: Callable[..., T], *args: object, **kwargs: object) -> T | None:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                return analysis(*args, **kwargs)
            except DataError as error:
                self.problems.append((what, plain_message(error)))
                return None
            finally:
                for message in dict.fromkeys(plain_message(w.message) for w in caught):
                    self.warnings.append((what, message))

    def reason(self, what: str) -> str:
        """Why ``what`` was not estimated ('' when it was)."""
        return next((why for name, why in self.problems if name == what), "")

    def notes(self) -> str:
        """One Markdown line per analysis not estimated, and per caution, with its reason (user text escaped)."""
        lines = [f"Not estimated — {literal(what)}: {literal(why)}." for what, why in self.problems]
        lines += [f"Caution — {literal(what)}: {literal(why)}." for what, why in self.warnings]
        return "\n\n".join(lines)


def show_figure(
    figure_or_reason: Figure | str, name: str, caption: str, out_dir: str | Path, what: str = "Figure"
) -> SavedFigure | Markdown:
    """A figure saved for the report, or the sentence that replaces it when there is too little data.

    ``figure_or_reason`` is either a ``Figure`` from a
    ``backpain_analysis.figures`` function, saved by
    :func:`~backpain_analysis.figures.export.save_figure` as ``name`` with
    ``caption`` under ``out_dir``, or the plain-words reason the dataset
    cannot support it (too few clients, no model), which gives
    ``"**WHAT not shown:** REASON."`` with both texts escaped
    (:func:`~backpain_analysis.narrative.not_shown`) and writes nothing.
    Decide before drawing, so that nothing is drawn from too little data::

        display(show_figure(plot_x(table) if len(table) else "no week has 5 clients", "x", "...", out_dir, "Weekly x"))

    Returns what the notebook displays (the image with its caption, or the sentence).
    """
    if isinstance(figure_or_reason, Figure):
        return save_figure(figure_or_reason, name, caption, out_dir)
    return Markdown(not_shown(what, str(figure_or_reason)))
