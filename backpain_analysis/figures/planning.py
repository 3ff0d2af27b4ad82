"""Planning figures: power curves (:mod:`backpain_analysis.power`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from backpain_analysis.figures.style import CYCLE, GREY, new_figure, outcome_short, styled

if TYPE_CHECKING:
    from backpain_analysis.power import PowerResult

TERM_LABELS: dict[str, str] = {
    "strength_sets_within": "strength (per set/week)",
    "flexibility_min_within": "flexibility (per min/week)",
    "strength_x_flexibility_within": "strength x flexibility",
    "strength_sets_between": "strength, between clients",
    "flexibility_min_between": "flexibility, between clients",
    "week": "weekly trend",
}
"""Legend text per fit term."""

MARKERS: tuple[str, ...] = ("o", "s", "^", "D", "v", "P")


def _axes(ax: Axes | None, height: float = 4.2) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax
    figure = new_figure(height)
    return figure, figure.add_subplot()


@styled
def plot_power_curve(result: PowerResult, target: float = 0.8, ax: Axes | None = None) -> Figure:
    """Simulated power against the number of clients, one line per term, with Monte Carlo intervals.

    A dashed line marks ``target`` power and a dotted one the test level
    (what an effect of 0 is detected at by chance).
    """
    figure, ax = _axes(ax)
    table = result.table
    for colour, marker, (term, part) in zip(CYCLE, MARKERS, table.groupby("term", sort=False)):
        part = part.sort_values("clients")
        effect = part["effect"].iloc[0]
        ax.plot(part["clients"], part["power"], marker=marker, color=colour, label=f"{TERM_LABELS.get(term, term)}: true effect {effect:.3g}")
        ax.fill_between(part["clients"], part["conf_low"], part["conf_high"], color=colour, alpha=0.18, linewidth=0)
    ax.axhline(target, color=GREY, linestyle="--", linewidth=1)
    ax.axhline(result.alpha, color=GREY, linestyle=":", linewidth=1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("clients in the study")
    ax.set_ylabel(f"power (share of studies with p < {result.alpha:g})")
    weeks = int(table["weeks"].iloc[0])
    sims = int(table["sims"].iloc[0])
    ax.set_title(f"Power to detect each effect on {outcome_short(result.scenario.outcome)}: {weeks} weeks, {sims} studies per size")
    ax.legend(loc="best")
    return figure
