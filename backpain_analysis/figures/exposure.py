"""Training-exposure figures: weekly volume by modality, adherence, ramp-up, load."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from backpain_analysis.descriptives import acute_chronic_ratio, adherence_by_week, ratio_shares, weekly_quantiles  # noqa: F401  (moved; importable here for one release)
from backpain_analysis.figures.style import GREY, MODALITY_COLOURS, OKABE_ITO, figure_axes, styled, week_axis

WEEKLY_PANELS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("Strength sets", ("core_sets", "back_sets", "other_strength_sets"), "sets per week"),
    ("Core and back volume load", ("volume_load_kg",), "kg per week (sets x reps x load)"),
    ("Flexibility and yoga/pilates", ("flexibility_min", "mixed_min"), "minutes per week"),
    ("Other activity", ("other_min",), "minutes per week"),
)
"""(panel title, panel columns, y label) of :func:`plot_weekly_exposure`."""

_LABELS = {
    "core_sets": "core",
    "back_sets": "back",
    "other_strength_sets": "other strength",
    "volume_load_kg": "core + back",
    "flexibility_min": "flexibility",
    "mixed_min": "yoga / pilates",
    "other_min": "walking, cycling, ...",
}
_COLOURS = {
    "core_sets": MODALITY_COLOURS["core"],
    "back_sets": MODALITY_COLOURS["back"],
    "other_strength_sets": MODALITY_COLOURS["other_strength"],
    "volume_load_kg": OKABE_ITO["black"],
    "flexibility_min": MODALITY_COLOURS["flexibility"],
    "mixed_min": MODALITY_COLOURS["mixed"],
    "other_min": OKABE_ITO["black"],
}


def _median_band(ax: Axes, summary: pd.DataFrame, column: str) -> None:
    part = summary[summary["variable"] == column]
    colour = _COLOURS[column]
    ax.fill_between(part["week"], part["q25"], part["q75"], color=colour, alpha=0.18, linewidth=0)
    ax.plot(part["week"], part["median"], color=colour, marker="o", ms=3, label=_LABELS[column])


@styled
def plot_weekly_exposure(summary: pd.DataFrame, ax: Axes | Sequence[Axes] | None = None) -> Figure:
    """Median (line) and interquartile range (band) of weekly training by modality.

    Parameters
    ----------
    summary:
        :func:`weekly_quantiles` of every column in :data:`WEEKLY_PANELS`.
    """
    fig, axes = figure_axes(ax, 2, 2, height=5.6, sharex=True)
    axes = np.asarray(axes).ravel()
    for ax, (title, columns, unit) in zip(axes, WEEKLY_PANELS, strict=True):
        logged = [c for c in columns if summary.loc[summary["variable"] == c, "mean"].max() > 0]
        for column in logged:
            _median_band(ax, summary, column)
        if not logged:
            ax.text(0.5, 0.5, "none logged", transform=ax.transAxes, ha="center", color=GREY)
        ax.set_title(title, fontsize=10)
        ax.set_ylabel(unit)
        ax.set_ylim(bottom=0)
        if len(columns) > 1 and logged:
            ax.legend(loc="upper left", fontsize=8)
    for ax in axes[2:]:
        week_axis(ax)
    fig.suptitle("Weekly training per client: median and interquartile range")
    return fig


@styled
def plot_adherence(
    panel: pd.DataFrame,
    by_week: pd.DataFrame,
    most_days: int = 4,
    ax: Axes | Sequence[Axes] | None = None,
    seconds_per_set: float | None = None,
) -> Figure:
    """Adherence to "20-30 minutes on most days": by week, and days per client-week.

    Parameters
    ----------
    panel:
        The weekly panel (for the distribution of ``days_20min``), best
        :func:`~backpain_analysis.descriptives.panel_with_assumed_sets`'s.
    by_week:
        From :func:`adherence_by_week`.
    most_days:
        Days per week that count as "most days" (drawn as the threshold).
    seconds_per_set:
        The assumed time of an untimed strength set, stated under the title;
        default ``panel.attrs["seconds_per_set"]``; None there too: the
        minutes are stated as logged durations only.
    """
    if seconds_per_set is None:
        seconds_per_set = panel.attrs.get("seconds_per_set")
    fig, (left, right) = figure_axes(ax, 1, 2, height=3.8, width_ratios=[3, 2])
    left.plot(by_week["week"], by_week["met"], color=OKABE_ITO["blue"], marker="o", ms=3)
    left.set_ylim(0, 100)
    week_axis(left)
    left.set_ylabel(f"% of clients (20+ min on {most_days}+ days)")
    left.set_title("Clients meeting the target", fontsize=10)
    days = panel["days_20min"].value_counts(normalize=True).reindex(range(8), fill_value=0.0) * 100
    colours = [OKABE_ITO["blue"] if d >= most_days else GREY for d in days.index]
    right.bar(days.index, days.to_numpy(), color=colours)
    right.axvline(most_days - 0.5, color=OKABE_ITO["black"], linestyle="--", linewidth=1)
    right.text(most_days - 0.4, right.get_ylim()[1] * 0.95, "target met", fontsize=8, va="top")
    right.set_xticks(range(8))
    right.set_xlabel("days with 20+ min in the week")
    right.set_ylabel("% of client-weeks")
    right.set_title("Days with 20+ minutes", fontsize=10)
    minutes = (
        f"untimed strength sets: an assumed {seconds_per_set:.0f} s each"
        if seconds_per_set is not None
        else "logged duration only: untimed strength sets add nothing"
    )
    fig.suptitle(f'Adherence to "20-30 minutes on most days"\n({minutes})')
    return fig


RAMP_COLUMNS: tuple[tuple[str, str], ...] = (
    ("training_min", "training minutes per week"),
    ("strength_sets", "core + back sets per week"),
)
"""(column, y label) of the two panels of :func:`plot_ramp_up`."""


@styled
def plot_ramp_up(panel: pd.DataFrame, weeks: int = 8, ax: Axes | Sequence[Axes] | None = None) -> Figure:
    """Box plots of weekly training in each of the first ``weeks`` weeks.

    Boxes: interquartile range with the median; whiskers: 1.5 IQR; points
    beyond them are not drawn (the summary, not the outliers, is the point).
    """
    first = panel[panel["week"] < weeks]
    present = [int(w) for w in sorted(first["week"].unique())]
    if not present:
        raise ValueError(f"plot_ramp_up needs at least one client-week before week {weeks}")
    fig, axes = figure_axes(ax, 1, 2, height=3.8)
    for ax, (column, label), colour in zip(axes, RAMP_COLUMNS, (OKABE_ITO["orange"], MODALITY_COLOURS["core"]), strict=True):
        data = [first.loc[first["week"] == w, column].to_numpy() for w in present]
        ax.boxplot(
            data, positions=present, widths=0.6, showfliers=False, patch_artist=True,
            boxprops={"facecolor": colour, "alpha": 0.5}, medianprops={"color": OKABE_ITO["black"]},
        )
        ax.set_xlabel("week since the client's start")
        ax.set_xticks(present, [str(int(w)) for w in present])  # one label per box, at the box
        ax.set_xlim(min(present) - 0.6, max(present) + 0.6)
        ax.set_ylabel(label)
        ax.set_ylim(bottom=0)
    fig.suptitle(f"Ramp-up: weekly training in the first {len(present)} weeks")
    return fig


LOAD_PANELS: tuple[tuple[str, str, str], ...] = (
    ("strength", "Core and back strength", "sets per day"),
    ("flexibility", "Flexibility", "minutes per day"),
)
"""(load prefix, panel title, unit) of :func:`plot_acute_chronic`."""


@styled
def plot_acute_chronic(summary: pd.DataFrame, ax: Axes | Sequence[Axes] | None = None) -> Figure:
    """Median acute (7-day) and chronic (28-day) training load by week.

    Parameters
    ----------
    summary:
        :func:`weekly_quantiles` of ``strength_acute``, ``strength_chronic``,
        ``flexibility_acute`` and ``flexibility_chronic`` (exponentially
        weighted daily loads at each week's last day).
    """
    fig, axes = figure_axes(ax, 1, 2, height=3.8, sharex=True)
    for ax, (prefix, title, unit) in zip(axes, LOAD_PANELS, strict=True):
        for kind, style, colour in (("acute", "-", OKABE_ITO["vermillion"]), ("chronic", "--", OKABE_ITO["blue"])):
            part = summary[summary["variable"] == f"{prefix}_{kind}"]
            ax.fill_between(part["week"], part["q25"], part["q75"], color=colour, alpha=0.15, linewidth=0)
            days = 7 if kind == "acute" else 28
            ax.plot(part["week"], part["median"], color=colour, linestyle=style, label=f"{kind} ({days}-day)")
        ax.set_title(title, fontsize=10)
        ax.set_ylabel(f"load, {unit}")
        week_axis(ax)
        ax.set_ylim(bottom=0)
        ax.legend(loc="lower right", fontsize=8)
    fig.suptitle("Acute and chronic training load: median and interquartile range")
    return fig


