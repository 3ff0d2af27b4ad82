"""Saving figures and tables so a report can collect them, byte for byte.

A notebook calls :func:`save_figure` / :func:`save_table` with the report's
output folder. Each call writes the files (``figures/NAME.png`` and
``figures/NAME.svg``, or ``tables/NAME.csv``), adds one line to
``registry.jsonl`` in that folder (:func:`register`: kind, name, caption,
files and, for a figure, the library function that drew it), and returns an
object that displays itself in the notebook with its caption.

Reproducibility: the same figure gives the same bytes. PNG files carry no
``Software`` tag, SVG files no date and a fixed creator, and SVG element ids
are salted with the figure's name instead of a random salt.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from dataclasses import dataclass
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from backpain_analysis.figures.style import RC

REGISTRY: str = "registry.jsonl"
"""File, in the output folder, listing every saved figure and table."""

_NAME = re.compile(r"^[a-z0-9][a-z0-9_]*$")
_CREATOR = "backpain_analysis"


def safe_name(name: str) -> str:
    """``name`` as a file stem: itself when already lower-case letters, digits and underscores.

    Otherwise (a name built from an instrument or program a user typed, say
    ``"mean_grip strength"`` or ``"<img ...>"``) every other character becomes
    ``_``, the result is cut to 60 characters and given the first 8 hex digits
    of the name's SHA-256, so that different names never share a file.
    """
    if _NAME.match(name) and len(name) <= 80:
        return name
    stem = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:60] or "item"
    return f"{stem}_{hashlib.sha256(name.encode('utf-8')).hexdigest()[:8]}"


def register(out_dir: str | Path, kind: str, name: str, caption: str, files: list[str], **details: object) -> None:
    """Add one line to ``out_dir/registry.jsonl``: what was written (``files``, relative to ``out_dir``) and why.

    ``kind`` is ``figure``, ``table`` or ``summary``; ``details`` are further
    JSON-serialisable fields the report's ``manifest.json`` carries over
    (a figure's drawing ``function``, the summary's interval levels).
    """
    record = {"kind": kind, "name": name, "caption": caption, "files": files, **details}
    with open(Path(out_dir) / REGISTRY, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, sort_keys=True) + "\n")


def read_registry(out_dir: str | Path) -> list[dict[str, object]]:
    """Every record of ``out_dir/registry.jsonl`` in order of saving (empty if none).

    Each record has ``kind`` (``figure``, ``table`` or ``summary``), ``name``,
    ``caption`` and ``files`` (paths relative to ``out_dir``), and the
    ``details`` given to :func:`register`.
    """
    path = Path(out_dir) / REGISTRY
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@dataclass(frozen=True)
class SavedFigure:
    """A figure written to disk; displays as the PNG with its caption."""

    name: str
    caption: str
    png: Path
    svg: Path

    def _repr_html_(self) -> str:
        data = base64.b64encode(self.png.read_bytes()).decode("ascii")
        return (
            f'<figure style="margin:0 0 1em 0"><img style="max-width:100%" alt="{html.escape(self.caption)}" '
            f'src="data:image/png;base64,{data}"/><figcaption>{html.escape(self.caption)} '
            f'<span style="color:#777">(figures/{self.name}.png)</span></figcaption></figure>'
        )


@dataclass(frozen=True)
class SavedTable:
    """A table written to CSV; displays with its caption, whole if short, else as a pointer to the file."""

    name: str
    caption: str
    csv: Path
    frame: pd.DataFrame
    max_rows: int = 15

    def _repr_html_(self) -> str:
        pointer = f'<span style="color:#777">(tables/{self.name}.csv, {len(self.frame):,} rows)</span>'
        head = f"<p><b>Table.</b> {html.escape(self.caption)} {pointer}</p>"
        if len(self.frame) > self.max_rows:
            return head
        formatters = {c: _formatter(self.frame[c]) for c in self.frame.columns if pd.api.types.is_float_dtype(self.frame[c])}
        return head + self.frame.to_html(index=False, formatters=formatters, na_rep="")


def _formatter(values: pd.Series):
    """One number format per column, chosen from its typical size (the CSV keeps full precision)."""
    size = values.abs().median()
    if not np.isfinite(size) or size >= 100:
        decimals = 0
    elif size >= 10:
        decimals = 1
    elif size >= 0.1 or size == 0:
        decimals = 2
    else:
        decimals = 4
    return lambda v: f"{v:,.{decimals}f}"


def save_figure(fig: Figure, name: str, caption: str, out_dir: str | Path) -> SavedFigure:
    """Write ``fig`` as ``out_dir/figures/NAME.png`` and ``.svg`` and register it.

    Parameters
    ----------
    fig:
        A figure from a ``backpain_analysis.figures`` function.
    name:
        File stem, unique in a report: lower-case letters, digits, underscores
        (any other name is made safe by :func:`safe_name`).
    caption:
        One or two sentences a reader needs to read the figure (what is drawn,
        units, what was sampled or aggregated).
    out_dir:
        The report's output folder (created if missing).

    Returns
    -------
    :class:`SavedFigure`, which a notebook displays as the image plus caption.
    """
    name = safe_name(name)
    out_dir = Path(out_dir)
    folder = out_dir / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    png, svg = folder / f"{name}.png", folder / f"{name}.svg"
    with mpl.rc_context({**RC, "svg.hashsalt": name}):
        fig.savefig(png, format="png", metadata={"Software": None})
        fig.savefig(svg, format="svg", metadata={"Date": None, "Creator": _CREATOR})
    files = [str(p.relative_to(out_dir)) for p in (png, svg)]
    function = fig.get_label() or None
    register(out_dir, "figure", name, caption, files, function=function)
    return SavedFigure(name, caption, png, svg)


def save_table(frame: pd.DataFrame, name: str, caption: str, out_dir: str | Path) -> SavedTable:
    """Write ``frame`` as ``out_dir/tables/NAME.csv`` (UTF-8, ``\\n`` line ends) and register it.

    Floats are written with 10 significant digits, so rounding noise in the
    last bits of a computation cannot change the file. Client keys are the
    caller's duty: pass tables through
    :func:`backpain_analysis.pseudonyms.pseudonymize` first. Returns a
    :class:`SavedTable`, which a notebook displays with its caption.
    """
    name = safe_name(name)
    out_dir = Path(out_dir)
    folder = out_dir / "tables"
    folder.mkdir(parents=True, exist_ok=True)
    csv = folder / f"{name}.csv"
    frame.to_csv(csv, index=False, lineterminator="\n", float_format="%.10g")
    register(out_dir, "table", name, caption, [str(csv.relative_to(out_dir))])
    return SavedTable(name, caption, csv, frame)
