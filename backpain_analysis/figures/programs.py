"""Program figures: adjusted trajectories, pairwise contrasts, and our change against the published benchmark."""

from __future__ import annotations

from collections.abc import Sequence

import textwrap

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from backpain_analysis.descriptives import improvement_on_100  # noqa: F401  (kept importable here for one release)
from backpain_analysis.evidence import HAYDEN_2021, PAIN_TO_100  # noqa: F401
from backpain_analysis.figures.style import (
    CYCLE,
    GREY,
    OKABE_ITO,
    figure_axes,
    outcome_label,
    outcome_short,
    outcome_unit,
    styled,
    week_axis,
)

@styled
def plot_program_trajectories(trajectories: pd.DataFrame, outcome: str, level: float = 0.95, ax: Axes | Sequence[Axes] | None = None) -> Figure:
    """Model-based mean score per program and week, for clients with the same baseline.

    Parameters
    ----------
    trajectories:
        ``ProgramComparison.trajectories``: ``program``, ``week``,
        ``estimate``, ``conf_low``, ``conf_high`` (instrument units).
    outcome:
        The instrument (axis label).
    level:
        Confidence level of the bands (legend text).
    """
    fig, ax = figure_axes(ax, height=4.2)
    styles = ["-", "--", "-.", ":"]
    for i, (program, rows) in enumerate(trajectories.groupby("program", sort=True)):
        colour = CYCLE[i % len(CYCLE)]
        ax.fill_between(rows["week"], rows["conf_low"], rows["conf_high"], color=colour, alpha=0.15, linewidth=0)
        ax.plot(rows["week"], rows["estimate"], color=colour, linestyle=styles[i % len(styles)], label=str(program))
    week_axis(ax)
    ax.set_ylabel(outcome_label(outcome))
    ax.set_title(f"{outcome_short(outcome)} by program, adjusted for baseline ({100 * level:.0f} % bands)")
    ax.legend(title="program", loc="best")
    return fig


@styled
def plot_program_contrasts(contrasts: pd.DataFrame, outcome: str, level: float = 0.95, ax: Axes | Sequence[Axes] | None = None) -> Figure:
    """Pairwise program differences at chosen weeks, signed so that positive favours the first-named program.

    Parameters
    ----------
    contrasts:
        ``ProgramComparison.contrasts``: ``week``, ``program``, ``versus``,
        and ``improvement``, ``improvement_low``, ``improvement_high`` (the
        difference signed by the instrument so that positive = ``program``'s
        clients better; the table's own columns, drawn as they are).
    outcome:
        The instrument (axis label, direction).
    level:
        Confidence level (axis label).
    """
    rows = contrasts.reset_index(drop=True)
    fig, ax = figure_axes(ax, height=1.6 + 0.32 * len(rows))
    y = np.arange(len(rows))[::-1]
    values = rows[["improvement", "improvement_low", "improvement_high"]].to_numpy(float)
    weeks = sorted(rows["week"].unique())
    colours = {w: CYCLE[i % len(CYCLE)] for i, w in enumerate(weeks)}
    for yi, row, v in zip(y, rows.itertuples(), values, strict=True):
        colour = colours[row.week]
        ax.plot([min(v[1], v[2]), max(v[1], v[2])], [yi, yi], color=colour, linewidth=2)
        ax.plot(v[0], yi, "o", color=colour, ms=5)
    labels = [f"{r.program} vs {r.versus}, week {r.week}" for r in rows.itertuples()]
    ax.set_yticks(y, labels, fontsize=8)
    ax.axvline(0, color=OKABE_ITO["black"], linewidth=0.8)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel(
        f"advantage of the first-named program, {outcome_short(outcome)} {outcome_unit(outcome)}\n"
        f"({100 * level:.0f} % CI; positive = the first program's clients are better)"
    )
    fig.suptitle(f"Programs compared on {outcome_short(outcome)}, same baseline score")
    return fig


@styled
def plot_benchmark(ours: pd.DataFrame, outcome: str, ax: Axes | Sequence[Axes] | None = None) -> Figure:
    """Our clients' pain improvement next to the Cochrane benchmark for exercise, on a 0-100 scale.

    Parameters
    ----------
    ours:
        From :func:`improvement_on_100`.
    outcome:
        The pain instrument the improvement was measured on (label).
    """
    labels = [textwrap.fill(str(HAYDEN_2021["label"]), 45)] + [
        f"our clients: {'all' if g == 'all' else g} (n = {n})" for g, n in zip(ours["group"], ours["n_clients"], strict=True)
    ]
    values = np.vstack([[HAYDEN_2021["estimate"], HAYDEN_2021["conf_low"], HAYDEN_2021["conf_high"]], ours[["estimate", "conf_low", "conf_high"]].to_numpy(float)])
    fig, ax = figure_axes(ax, height=1.8 + 0.45 * len(labels))
    y = np.arange(len(labels))[::-1]
    colours = [GREY] + [OKABE_ITO["vermillion"] if g == "all" else OKABE_ITO["blue"] for g in ours["group"]]
    markers = ["D"] + ["o"] * len(ours)
    for yi, v, colour, marker in zip(y, values, colours, markers, strict=True):
        ax.plot([v[1], v[2]], [yi, yi], color=colour, linewidth=2)
        ax.plot(v[0], yi, marker=marker, color=colour, ms=7)
    ax.axvspan(HAYDEN_2021["conf_low"], HAYDEN_2021["conf_high"], color=GREY, alpha=0.12, linewidth=0)
    ax.axvline(0, color=OKABE_ITO["black"], linewidth=0.8)
    ax.set_yticks(y, labels, fontsize=8)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel(f"pain improvement, points on a 0-100 scale (95 % CI)\nours: {outcome_short(outcome)} change from baseline, rescaled")
    fig.suptitle("Our clients' pain improvement and the published effect of exercise")
    return fig
