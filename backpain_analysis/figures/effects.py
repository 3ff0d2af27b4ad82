"""Volume-effect figures: within/between forest plot, interaction surface, dose-response, sensitivity."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from backpain_analysis.figures.style import (
    GREY,
    OKABE_ITO,
    evenly_spaced,
    improvement_sign,
    figure_axes,
    outcome_short,
    outcome_unit,
    styled,
)
from backpain_analysis.volume_model import CLINICAL_UNITS, FLEXIBILITY, INTERACTION, STRENGTH

EXPOSURE_NAMES: dict[str, str] = {
    "strength_sets": "core + back strength",
    "flexibility_min": "flexibility",
    "mixed_min": "yoga / pilates",
    "volume_load_kg": "volume load",
    "strength_x_flexibility": "strength x flexibility",
}
"""Reader-facing names of the exposures in effect terms."""

_KINDS = {
    "within": ("within client: weeks above the client's usual", OKABE_ITO["blue"], "o"),
    "between": ("between clients: clients who train more", OKABE_ITO["orange"], "s"),
}


def _split_term(term: str) -> tuple[str, str]:
    """``strength_sets_within`` -> (``strength_sets``, ``within``); the interaction counts as within."""
    if term == "strength_x_flexibility_within":
        return "strength_x_flexibility", "within"
    for kind in _KINDS:
        if term.endswith(f"_{kind}"):
            return term.removesuffix(f"_{kind}"), kind
    return term, ""


@styled
def plot_forest(effects: pd.DataFrame, outcome: str, level: float = 0.95, ax: Axes | Sequence[Axes] | None = None) -> Figure:
    """Within- and between-client effects per clinically sensible unit, as improvements.

    Parameters
    ----------
    effects:
        ``VolumeModelResult.clinical_effects()``: ``term``, ``per`` (unit
        label), ``improvement``, ``improvement_low``, ``improvement_high``
        (outcome units, positive = better) and ``mcid``. The ``week`` row is
        left out (it is the time trend, not a volume effect).
    outcome:
        The instrument modelled (axis label).
    level:
        Confidence level of the intervals (legend text).
    """
    rows = effects[effects["term"] != "week"].copy()
    rows[["exposure", "kind"]] = [_split_term(t) for t in rows["term"]]
    exposures = list(dict.fromkeys(rows["exposure"]))
    fig, ax = figure_axes(ax, height=1.8 + 0.75 * len(exposures))
    offsets = {"within": 0.15, "between": -0.15}
    for i, exposure in enumerate(exposures):
        y0 = len(exposures) - 1 - i
        for row in rows[rows["exposure"] == exposure].itertuples():
            _, colour, marker = _KINDS[row.kind]
            y = y0 + offsets[row.kind]
            ax.plot([row.improvement_low, row.improvement_high], [y, y], color=colour, linewidth=2)
            ax.plot(row.improvement, y, marker=marker, color=colour, ms=7, linestyle="none")
    labels = [f"{EXPOSURE_NAMES.get(e, e)}\nper {rows.loc[rows['exposure'] == e, 'per'].iloc[0]}" for e in exposures]
    ax.set_yticks(np.arange(len(exposures))[::-1], labels, fontsize=9)
    ax.set_ylim(-0.7, len(exposures) - 0.3)
    ax.axvline(0, color=OKABE_ITO["black"], linewidth=1)
    handles = [Line2D([], [], color=c, marker=m, linewidth=2, label=label) for label, c, m in _KINDS.values()]
    mcid = rows["mcid"].dropna()
    if len(mcid):
        ax.axvline(float(mcid.iloc[0]), color=GREY, linestyle="--", linewidth=1)
        handles.append(Line2D([], [], color=GREY, linestyle="--", label=f"MCID ({float(mcid.iloc[0]):g})"))
    ax.grid(axis="y", visible=False)
    ax.set_xlabel(f"improvement in {outcome_short(outcome)}, {outcome_unit(outcome)} ({100 * level:.0f} % CI; positive = better)")
    fig.suptitle(f"Training volume and {outcome_short(outcome)}: within- and between-client effects")
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.18), ncols=2, fontsize=8)
    return fig


def interaction_surface(params: pd.DataFrame, design: pd.DataFrame, outcome: str, points: int = 41) -> pd.DataFrame:
    """Predicted change against the client's usual week over a grid of within-client deviations.

    ``change = bSW * s + bFW * f + bSF * s * f`` with ``s`` and ``f`` the
    week's strength sets and flexibility minutes above (below, if negative)
    the client's own mean, over the 5th to 95th percentile of the deviations
    observed in ``design``.

    Parameters
    ----------
    params:
        Tidy fixed effects of the volume model.
    design:
        The rows the model was fitted on (``VolumeModelResult.design``).
    outcome:
        The instrument (for the direction of improvement).
    points:
        Grid points per axis.

    Returns
    -------
    DataFrame: ``strength_sets_within`` (sets/week), ``flexibility_min_within``
    (min/week), ``change`` (outcome units), ``improvement`` (``change``
    signed so that positive is better).
    """
    beta = params.set_index("term")["estimate"]
    axes = {
        column: np.linspace(*np.quantile(design[column], [0.05, 0.95]), points)
        for column in ("strength_sets_within", "flexibility_min_within")
    }
    s, f = np.meshgrid(axes["strength_sets_within"], axes["flexibility_min_within"], indexing="ij")
    change = beta["strength_sets_within"] * s + beta["flexibility_min_within"] * f + beta["strength_x_flexibility_within"] * s * f
    return pd.DataFrame(
        {
            "strength_sets_within": s.ravel(),
            "flexibility_min_within": f.ravel(),
            "change": change.ravel(),
            "improvement": improvement_sign(outcome) * change.ravel(),
        }
    )


@styled
def plot_interaction_surface(surface: pd.DataFrame, design: pd.DataFrame, outcome: str, max_points: int = 1500, ax: Axes | Sequence[Axes] | None = None) -> Figure:
    """Contour map of the predicted improvement over strength and flexibility deviations.

    Parameters
    ----------
    surface:
        From :func:`interaction_surface`.
    design:
        The fitted rows; their deviations are drawn as grey dots (at most
        ``max_points``, evenly spaced rows) to show where the data are.
    outcome:
        The instrument (colour-bar label).
    """
    strength = np.sort(surface["strength_sets_within"].unique())
    flexibility = np.sort(surface["flexibility_min_within"].unique())
    grid = surface.pivot(index="flexibility_min_within", columns="strength_sets_within", values="improvement").to_numpy()
    limit = float(np.nanmax(np.abs(grid))) or 1.0
    fig, ax = figure_axes(ax, height=4.8)
    levels = MaxNLocator(nbins=12, symmetric=True).tick_values(-limit, limit)
    filled = ax.contourf(strength, flexibility, grid, levels=levels, cmap="PuOr_r")
    ax.contour(strength, flexibility, grid, levels=levels, colors="black", linewidths=0.3, linestyles="solid")
    ax.contour(strength, flexibility, grid, levels=[0.0], colors="black", linewidths=1.4)
    shown = design.iloc[evenly_spaced(np.arange(len(design)), max_points)]
    ax.scatter(shown["strength_sets_within"], shown["flexibility_min_within"], s=4, color=GREY, alpha=0.5, linewidths=0)
    ax.set_xlim(strength[0], strength[-1])
    ax.set_ylim(flexibility[0], flexibility[-1])
    ax.axhline(0, color=OKABE_ITO["black"], linewidth=0.6, linestyle=":")
    ax.axvline(0, color=OKABE_ITO["black"], linewidth=0.6, linestyle=":")
    ax.grid(False)
    handles = [
        Line2D([], [], color="black", linewidth=1.4, label="no change"),
        Line2D([], [], color=GREY, marker="o", linestyle="none", ms=3, label="observed weeks"),
    ]
    ax.legend(handles=handles, loc="upper left", frameon=True, fontsize=8)
    ax.set_xlabel("core + back sets above the client's usual week (sets/week)")
    ax.set_ylabel("flexibility minutes above usual (min/week)")
    bar = fig.colorbar(filled, ax=ax)
    bar.set_label(f"predicted improvement in {outcome_short(outcome)}, {outcome_unit(outcome)} (positive = better)")
    ax.set_title(f"Strength x flexibility: {outcome_short(outcome)} the week after, vs a usual week")
    return fig


DOSE_LABELS: dict[str, str] = {
    "strength_sets": "core + back sets\nin the week before (sets/week)",
    "flexibility_min": "flexibility minutes\nin the week before (min/week)",
}


@styled
def plot_dose_response(curves: pd.DataFrame, flattening: pd.DataFrame, outcome: str, level: float = 0.95, ax: Axes | Sequence[Axes] | None = None) -> Figure:
    """Benefit of a week's training against a week of none, by dose, one panel per exposure.

    Parameters
    ----------
    curves:
        ``DoseResponseResult.curves``: ``exposure``, ``dose``, ``estimate``,
        ``conf_low``, ``conf_high`` (outcome change against dose 0).
    flattening:
        ``DoseResponseResult.flattening``: ``exposure``, ``plateau``,
        ``estimate`` (the flattening dose, drawn as a dashed line when
        ``plateau``).
    outcome:
        The instrument (axis label, direction of improvement).
    level:
        Confidence level of the bands (legend text).
    """
    sign = improvement_sign(outcome)
    exposures = list(dict.fromkeys(curves["exposure"]))
    fig, axes = figure_axes(ax, 1, len(exposures), height=3.9, sharey=True)
    axes = np.atleast_1d(axes)
    colours = {"strength_sets": OKABE_ITO["blue"], "flexibility_min": OKABE_ITO["green"]}
    for ax, exposure in zip(axes, exposures, strict=True):
        rows = curves[curves["exposure"] == exposure]
        colour = colours.get(exposure, OKABE_ITO["orange"])
        bounds = np.sort(sign * rows[["conf_low", "conf_high"]].to_numpy(float), axis=1)
        ax.fill_between(rows["dose"], bounds[:, 0], bounds[:, 1], color=colour, alpha=0.2, linewidth=0, label=f"{100 * level:.0f} % CI")
        ax.plot(rows["dose"], sign * rows["estimate"], color=colour, label="estimate")
        ax.axhline(0, color=OKABE_ITO["black"], linewidth=0.8)
        plateau = flattening[(flattening["exposure"] == exposure) & flattening["plateau"].astype(bool)]
        if len(plateau):
            dose = float(plateau["estimate"].iloc[0])
            ax.axvline(dose, color=OKABE_ITO["vermillion"], linestyle="--", linewidth=1)
            ax.text(dose, ax.get_ylim()[1], f" 90 % of benefit\n by {dose:.0f}", fontsize=8, va="top", color=OKABE_ITO["vermillion"])
        ax.set_xlabel(DOSE_LABELS.get(exposure, exposure))
        ax.set_xlim(0, rows["dose"].max())
        ax.legend(loc="upper left", fontsize=8)
    axes[0].set_ylabel(f"improvement in {outcome_short(outcome)}, {outcome_unit(outcome)}")
    fig.suptitle(f"Dose-response: {outcome_short(outcome)} after a week of training vs a week of none")
    return fig


ANALYSIS_LABELS: dict[str, str] = {
    "main": "main model (mixed, lag 1)",
    "gee_exchangeable": "GEE, exchangeable",
    "gee_ar1": "GEE, AR(1)",
    "lag_0": "same week (lag 0)",
    "lag_2": "lag 2 weeks",
    "lag_3": "lag 3 weeks",
    "detrended": "detrended exposures",
    "complete_followup": "complete follow-up only",
    "interaction_recentred": "interaction re-centred within client",
}
"""Reader-facing names of the analyses of :func:`backpain_analysis.sensitivity.sensitivity_table`."""

_WITHIN_STEPS: dict[str, tuple[float, str]] = {
    "strength_sets_within": (CLINICAL_UNITS[STRENGTH][0], f"strength\nper {CLINICAL_UNITS[STRENGTH][1]}"),
    "flexibility_min_within": (CLINICAL_UNITS[FLEXIBILITY][0], f"flexibility\nper {CLINICAL_UNITS[FLEXIBILITY][1]}"),
    INTERACTION: (
        CLINICAL_UNITS[STRENGTH][0] * CLINICAL_UNITS[FLEXIBILITY][0],
        f"strength x flexibility\nper {CLINICAL_UNITS[STRENGTH][0]:g} sets x {CLINICAL_UNITS[FLEXIBILITY][0]:g} min",
    ),
}


@styled
def plot_sensitivity(table: pd.DataFrame, outcome: str, ax: Axes | Sequence[Axes] | None = None) -> Figure:
    """The within-client effects under each analysis, one panel per term, as improvements.

    Parameters
    ----------
    table:
        :func:`backpain_analysis.sensitivity.sensitivity_table`: ``analysis``,
        ``term``, ``estimate``, ``conf_low``, ``conf_high`` (per set/week,
        min/week, set x min). Effects are drawn per the volume model's
        clinical units (10 sets/week, 30 min/week) and signed so that
        positive is better.
    outcome:
        The instrument (axis label, direction).
    """
    sign = improvement_sign(outcome)
    analyses = list(dict.fromkeys(table["analysis"]))
    terms = [t for t in _WITHIN_STEPS if t in set(table["term"])]
    fig, axes = figure_axes(ax, 1, len(terms), height=1.6 + 0.32 * len(analyses), sharey=True)
    axes = np.atleast_1d(axes)
    y = np.arange(len(analyses))[::-1]
    for ax, term in zip(axes, terms, strict=True):
        step, label = _WITHIN_STEPS[term]
        rows = table[table["term"] == term].set_index("analysis").reindex(analyses)
        values = sign * step * rows[["estimate", "conf_low", "conf_high"]].to_numpy(float)
        low, high = np.minimum(values[:, 1], values[:, 2]), np.maximum(values[:, 1], values[:, 2])
        colours = [OKABE_ITO["vermillion"] if a == "main" else OKABE_ITO["blue"] for a in analyses]
        ax.hlines(y, low, high, colors=colours, linewidth=2)
        ax.scatter(values[:, 0], y, color=colours, zorder=3, s=22)
        ax.axvline(0, color=OKABE_ITO["black"], linewidth=0.8)
        ax.set_title(label, fontsize=9)
        ax.set_xlabel(f"improvement, {outcome_unit(outcome)}")
        ax.xaxis.set_major_locator(MaxNLocator(nbins=3))  # three narrow panels: fewer ticks, no labels running together
        ax.grid(axis="y", visible=False)
    axes[0].set_yticks(y, [ANALYSIS_LABELS.get(a, a) for a in analyses], fontsize=8)
    fig.suptitle(f"Within-client effects on {outcome_short(outcome)} under other analyses")
    return fig
