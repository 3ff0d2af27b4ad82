"""One look for every figure: palette, sizes and fonts, readable at report size.

Colours are the Okabe-Ito palette (Okabe & Ito 2008, "Color Universal
Design"), distinguishable with the common colour-vision deficiencies; lines
that must be told apart also differ in marker or dash where it matters. Figures
are built with :class:`matplotlib.figure.Figure` directly (never pyplot), so a
figure function has no global state and draws with the Agg renderer.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from backpain_analysis.instruments import Instrument, instrument, outcome_instrument

OKABE_ITO: dict[str, str] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
}
"""The eight Okabe-Ito colours by name."""

CYCLE: tuple[str, ...] = tuple(OKABE_ITO[c] for c in ("blue", "orange", "green", "vermillion", "purple", "sky_blue", "yellow", "black"))
"""Colour order for series without a fixed colour (yellow late: weak on white)."""

GREY: str = "#8C8C8C"
"""Context: individual clients, reference bands."""

MODALITY_COLOURS: dict[str, str] = {
    "core": OKABE_ITO["blue"],
    "back": OKABE_ITO["sky_blue"],
    "other_strength": OKABE_ITO["purple"],
    "flexibility": OKABE_ITO["green"],
    "mixed": OKABE_ITO["orange"],
    "other": GREY,
}
"""One colour per exercise modality, the same in every figure."""

WIDTH_IN: float = 7.0
"""Figure width in inches (the report's column)."""
DPI: int = 150
"""Screen resolution while drawing."""
PRINT_DPI: int = 300
"""Resolution of saved PNGs: print quality, 2100 px for the full width."""

RC: dict[str, object] = {
    "font.family": "DejaVu Sans",
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "figure.titlesize": 12,
    "figure.titleweight": "bold",
    "axes.prop_cycle": mpl.cycler(color=list(CYCLE)),
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#E5E5E5",
    "grid.linewidth": 0.8,
    "axes.axisbelow": True,
    "lines.linewidth": 1.8,
    "figure.dpi": DPI,
    "savefig.dpi": PRINT_DPI,
    "text.parse_math": False,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "svg.fonttype": "path",
    "image.cmap": "cividis",
}
"""rcParams in force while a figure is drawn and saved. ``text.parse_math`` is off:
names users typed (a program called ``$\\unicode{x}$``) are drawn as typed, never as TeX."""

P = ParamSpec("P")
R = TypeVar("R")


def styled(function: Callable[P, R]) -> Callable[P, R]:
    """Run a figure function with :data:`RC` in force (decorator).

    The returned Figure's label (``fig.get_label()``) is set to the
    function's dotted name, which :func:`~backpain_analysis.figures.export.save_figure`
    records in the report's manifest.
    """

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with mpl.rc_context(RC):
            result = function(*args, **kwargs)
        if isinstance(result, Figure):
            result.set_label(f"{function.__module__}.{function.__qualname__}")
        return result

    return wrapper


def new_figure(height: float = 4.2, width: float = WIDTH_IN) -> Figure:
    """An empty figure of the report's size (inches), with constrained layout."""
    return Figure(figsize=(width, height), layout="constrained")



def figure_axes(ax=None, nrows: int = 1, ncols: int = 1, height: float = 4.2, **subplots: object):  # noqa: ANN001, ANN201
    """The Figure and Axes a plot function draws on.

    With ``ax=None`` a new figure of the report's size (``height`` inches)
    with ``nrows x ncols`` axes (``subplots`` passed to
    :meth:`~matplotlib.figure.Figure.subplots`); otherwise ``ax`` is used: one
    Axes for a one-panel plot, or a sequence of ``nrows * ncols`` Axes (in
    row order) for a multi-panel plot, and the figure is theirs. Returns
    ``(figure, axes)`` where ``axes`` is one Axes or an array shaped like
    ``subplots`` would give.
    """
    count = nrows * ncols
    if ax is None:
        fig = new_figure(height=height)
        return fig, fig.subplots(nrows, ncols, **subplots)
    axes = np.atleast_1d(np.asarray(ax, dtype=object)).ravel()
    if len(axes) != count:
        raise ValueError(f"this plot draws {count} panel(s): pass {'one Axes' if count == 1 else f'{count} Axes'} as ax")
    fig = axes[0].figure
    if count == 1:
        return fig, axes[0]
    return fig, axes.reshape((nrows, ncols) if nrows > 1 and ncols > 1 else (count,))


def known_instrument(name: str | None) -> Instrument | None:
    """The built-in definition of outcome ``name``, or None for a custom outcome (or none)."""
    try:
        return instrument(name) if name is not None else None
    except KeyError:
        return None


def outcome_label(name: str) -> str:
    """Axis label for an outcome: full name, unit, range and direction.

    ``"nprs"`` gives ``"Numeric Pain Rating Scale\n(points, 0-10; lower is
    better)"`` (two lines, to fit a y axis); a custom outcome without a
    built-in definition keeps its name.
    """
    spec = known_instrument(name)
    if spec is None:
        return name
    bounds = f", {spec.min:g}-{spec.max:g}" if spec.min is not None and spec.max is not None else ""
    better = "higher" if spec.higher_is_better else "lower"
    return f"{spec.label}\n({spec.unit}{bounds}; {better} is better)"


def outcome_short(name: str) -> str:
    """Short name for titles and legends: ``NPRS``, ``ODI``, ``Sit-and-reach``; custom names as given."""
    spec = known_instrument(name)
    if spec is None:
        return name
    return spec.name.upper() if spec.name.isalpha() else spec.label


def outcome_unit(name: str) -> str:
    """The outcome's unit (``points``, ``%``, ``mm``, ``cm``), ``score units`` for a custom outcome."""
    spec = known_instrument(name)
    return spec.unit if spec is not None else "score units"


def improvement_sign(name: str) -> float:
    """+1 when higher scores are better, -1 otherwise, as the instrument says (:func:`~backpain_analysis.instruments.outcome_instrument`)."""
    return float(outcome_instrument(name).sign)


def evenly_spaced(items: np.ndarray, at_most: int) -> np.ndarray:
    """At most ``at_most`` of ``items``, evenly spaced from first to last (all when fewer).

    Used where a figure would otherwise draw thousands of lines or points: the
    same input always gives the same selection.
    """
    if len(items) <= at_most:
        return items
    return items[np.unique(np.linspace(0, len(items) - 1, at_most).round().astype(int))]


def week_axis(ax: Axes, label: str = "week since the client's start") -> None:
    """Label the x axis as weeks, with whole-week ticks."""
    ax.set_xlabel(label)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
