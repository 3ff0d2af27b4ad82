"""Planning and fairness figures: power curves (:mod:`backpain_analysis.power`), coach/studio funnel plots
(:mod:`backpain_analysis.provider_comparison`), tipping points (:mod:`backpain_analysis.dropout_sensitivity`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from backpain_analysis.dropout_sensitivity import TippingPoint
from backpain_analysis.figures.style import CYCLE, GREY, OKABE_ITO, new_figure, outcome_short, outcome_unit, styled
from backpain_analysis.provider_comparison import LIMITS, ProviderComparison

if TYPE_CHECKING:
    from backpain_analysis.power import PowerResult

TERM_LABELS: dict[str, str] = {
    "strength_sets_within": "strength (per set/week)",
    "flexibility_min_within": "flexibility (per min/week)",
    "strength_x_flexibility_within": "strength x flexibility",
    "strength_sets_between": "strength, between clients",
    "flexibility_min_between": "flexibility, between clients",
    "week": "weekly trend",
    "program_week": "program difference (per week)",
}
"""Legend text per fit term."""

MARKERS: tuple[str, ...] = ("o", "s", "^", "D", "v", "P")


def _plural(name: str) -> str:
    return name + ("es" if name.endswith(("ch", "sh", "s", "x")) else "s")


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
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncols=1, fontsize=8)  # below: clear of the curves and the level line
    return figure


@styled
def plot_funnel(comparison: ProviderComparison, ax: Axes | None = None) -> Figure:
    """Funnel plot: each coach's (studio's) observed minus expected improvement against its number of clients.

    Lines are the 95 % and 99.8 % control limits around 0 (as expected),
    overdispersion-adjusted as in :mod:`backpain_analysis.provider_comparison`;
    filled points are flagged, hollow grey points have too few clients to judge.
    """
    figure, ax = _axes(ax)
    table = comparison.table
    top = max(float(table["n_clients"].max()) * 1.1, 10.0)
    n = np.linspace(1.0, top, 200)
    for level, style in zip(LIMITS, ("--", ":")):
        low, high = comparison.limits(n, level)
        ax.plot(n, high, color=GREY, linestyle=style, linewidth=1, label=f"{level * 100:g} % limits")
        ax.plot(n, low, color=GREY, linestyle=style, linewidth=1)
    ax.axhline(0.0, color=GREY, linewidth=1)
    colours = {"better": OKABE_ITO["green"], "worse": OKABE_ITO["vermillion"], "as_expected": OKABE_ITO["blue"], "too_few_clients": GREY}
    labels = {"better": "better than expected", "worse": "worse than expected", "as_expected": "as expected", "too_few_clients": f"fewer than {comparison.min_clients} clients (not judged)"}
    for flag, part in table.groupby("flag", sort=True):
        hollow = flag == "too_few_clients"
        ax.scatter(
            part["n_clients"], part["estimate"], s=36, label=labels[flag],
            facecolors="none" if hollow else colours[flag], edgecolors=colours[flag], zorder=3,
        )
    for row in table.itertuples():
        ax.annotate(str(row.provider), (row.n_clients, row.estimate), textcoords="offset points", xytext=(4, 3), fontsize=8)
    unit = outcome_unit(comparison.outcome)
    ax.set_xlabel(f"clients per {comparison.by}")
    ax.set_ylabel(f"observed - expected improvement\n({outcome_short(comparison.outcome)} {unit}; above 0 = better)")
    ax.set_title(f"{_plural(comparison.by).capitalize()} against case-mix-adjusted expectation ({outcome_short(comparison.outcome)})")
    ax.legend(loc="best")
    return figure


@styled
def plot_raw_vs_adjusted(comparison: ProviderComparison, ax: Axes | None = None) -> Figure:
    """Raw mean improvement beside the case-mix-adjusted O - E (with intervals) and its shrunken value, per provider.

    A provider with fewer than ``comparison.min_clients`` clients gets a
    hollow point and no interval (one from one or two clients would look
    meaningful and is not).
    """
    table = comparison.side_by_side()
    figure, ax = _axes(ax, height=max(3.0, 0.45 * len(table) + 1.5))
    y = np.arange(len(table))[::-1]
    enough = (table["n_clients"] >= comparison.min_clients).to_numpy()
    if enough.any():  # no legend entry for an interval that is drawn nowhere
        ax.errorbar(
            table["estimate"][enough], y[enough],
            xerr=[(table["estimate"] - table["conf_low"])[enough], (table["conf_high"] - table["estimate"])[enough]],
            fmt="o", color=OKABE_ITO["blue"], label="adjusted: observed - expected (95 % CI)",
        )
    if not enough.all():
        ax.scatter(
            table["estimate"][~enough], y[~enough], facecolors="none", edgecolors=OKABE_ITO["blue"], zorder=3,
            label=f"adjusted, fewer than {comparison.min_clients} clients (no interval)",
        )
    ax.scatter(table["shrunken"], y - 0.2, marker="D", color=OKABE_ITO["green"], label="adjusted, shrunken", zorder=3)
    raw_centred = table["observed"] - table["observed"].mean()
    ax.scatter(raw_centred, y + 0.2, marker="s", color=OKABE_ITO["orange"], label="raw mean improvement minus chain mean", zorder=3)
    ax.axvline(0.0, color=GREY, linewidth=1)
    ax.set_yticks(y, [f"{p} (n={n})" for p, n in zip(table["provider"], table["n_clients"])])
    ax.set_xlabel(f"improvement relative to the chain ({outcome_short(comparison.outcome)} {outcome_unit(comparison.outcome)}; right = better)")
    ax.set_title(f"{_plural(comparison.by).capitalize()}: raw averages vs case-mix-adjusted")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=2, fontsize=8)  # below: never over a provider's row
    return figure


@styled
def plot_tipping_point(tipping: TippingPoint, ax: Axes | None = None) -> Figure:
    """Pooled estimate of the examined term (with its 95 % interval) against delta, the tipping point marked.

    Delta is how much worse (outcome points) the unreported weeks of clients
    who stopped reporting are assumed to be than missing at random predicts;
    delta 0 is the MAR analysis.
    """
    figure, ax = _axes(ax)
    table = tipping.table
    ax.fill_between(table["delta"], table["conf_low"], table["conf_high"], color=OKABE_ITO["blue"], alpha=0.2, linewidth=0, label="95 % interval (Rubin's rules)")
    ax.plot(table["delta"], table["estimate"], marker="o", color=OKABE_ITO["blue"], label="pooled estimate")
    ax.axhline(0.0, color=GREY, linewidth=1)
    if np.isfinite(tipping.tipping_delta) and tipping.tipping_delta > 0:
        ax.axvline(tipping.tipping_delta, color=OKABE_ITO["vermillion"], linestyle="--", linewidth=1.2, label=f"tipping point: {tipping.tipping_delta:.2g}")
    unit = outcome_unit(tipping.outcome)
    ax.set_xlabel(f"delta: unreported weeks assumed worse by ({outcome_short(tipping.outcome)} {unit})")
    ax.set_ylabel(f"{TERM_LABELS.get(tipping.term, tipping.term)}\n({outcome_short(tipping.outcome)} {unit})")
    ax.set_title(f"What dropout could hide: {TERM_LABELS.get(tipping.term, tipping.term)}\nunder delta-adjusted imputation")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncols=3, fontsize=8)  # below: clear of the band and the 0 line
    return figure
