"""Volume-effect figures: within/between forest plot, interaction surface, dose-response, sensitivity."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from backpain_analysis.figures.style import GREY, OKABE_ITO, new_figure, outcome_short, outcome_unit, styled

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
def plot_forest(effects: pd.DataFrame, outcome: str, level: float = 0.95) -> Figure:
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
    fig = new_figure(height=1.8 + 0.75 * len(exposures))
    ax = fig.subplots()
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
