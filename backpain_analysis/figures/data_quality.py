"""Data-quality figures: rows accepted and rejected, why, and what was measured when."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.colors import ListedColormap
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator


from backpain_analysis.descriptives import rejection_reasons, weekly_coverage  # noqa: F401  (moved; importable here for one release)
from backpain_analysis.figures.style import CYCLE, GREY, OKABE_ITO, evenly_spaced, figure_axes, outcome_short, styled, week_axis


@styled
def plot_row_accounting(counts: pd.DataFrame, ax: Axes | Sequence[Axes] | None = None) -> Figure:
    """Rows read per table, split into accepted and rejected.

    Parameters
    ----------
    counts:
        ``Dataset.counts()``: indexed by table, columns ``read``,
        ``accepted``, ``rejected`` (rows).
    """
    counts = counts.iloc[::-1]
    fig, ax = figure_axes(ax, height=1.2 + 0.45 * len(counts))
    y = np.arange(len(counts))
    ax.barh(y, counts["accepted"], color=OKABE_ITO["blue"], label="accepted")
    ax.barh(y, counts["rejected"], left=counts["accepted"], color=OKABE_ITO["vermillion"], label="rejected")
    for i, row in enumerate(counts.itertuples()):
        share = 100 * row.rejected / row.read if row.read else 0.0
        shown = "< 0.1" if 0 < share < 0.1 else f"{share:.1f}"
        ax.text(row.read, i, f"  {row.read:,} read, {row.rejected:,} rejected ({shown} %)", va="center", fontsize=9)
    ax.set_yticks(y, counts.index)
    ax.set_xlim(0, counts["read"].max() * 1.6 if len(counts) else 1)
    ax.set_xlabel("input rows (count)")
    ax.set_title("Every input row, accepted or rejected, per table")
    ax.grid(axis="y", visible=False)
    ax.legend(loc="lower right")
    return fig


@styled
def plot_rejection_reasons(reasons: pd.DataFrame, top: int = 12, ax: Axes | Sequence[Axes] | None = None) -> Figure:
    """Rejected rows by reason, the ``top`` most frequent (horizontal bars).

    Parameters
    ----------
    reasons:
        From :func:`rejection_reasons` (at least one row).
    top:
        Reasons drawn; the rest are summed into one bar "other reasons".
    """
    if reasons.empty:
        raise ValueError("no rejected rows to plot")
    shown = reasons.head(top)
    labels = [
        textwrap.shorten(f"{r.table}" + (f".{r.column}" if r.column else "") + f": {r.reason}", 70, placeholder=" …")
        for r in shown.itertuples()
    ]
    values = list(shown["rows"])
    if len(reasons) > top:
        labels.append(f"{len(reasons) - top} other reasons")
        values.append(int(reasons["rows"].iloc[top:].sum()))
    fig, ax = figure_axes(ax, height=1.4 + 0.38 * len(values))
    y = np.arange(len(values))[::-1]
    ax.barh(y, values, color=OKABE_ITO["vermillion"])
    for yi, v in zip(y, values, strict=True):
        ax.text(v, yi, f" {v:,}", va="center", fontsize=9)
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_xlim(0, max(values) * 1.15)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("rejected rows (count)")
    ax.set_title("Why rows were rejected")
    ax.grid(axis="y", visible=False)
    return fig


SHARE_MIN_CLIENTS = 5
"""Fewest clients followed in some week for the coverage figure to draw percentages; below it, counts."""


@styled
def plot_weekly_coverage(coverage: pd.DataFrame, instruments: Sequence[str], ax: Axes | Sequence[Axes] | None = None) -> Figure:
    """Clients followed per week (top) and how many of them trained and were measured (bottom).

    The bottom panel shows percentages of the clients followed, or counts of
    clients when no week has :data:`SHARE_MIN_CLIENTS` clients followed (a
    "100 %" of two clients says less than "2 clients").

    Parameters
    ----------
    coverage:
        From :func:`weekly_coverage`.
    instruments:
        The instruments in ``coverage`` to draw, in order.
    """
    counts = coverage["clients"].max() < SHARE_MIN_CLIENTS if len(coverage) else False

    def scaled(column: str) -> pd.Series:
        return (coverage[column] * coverage["clients"] / 100).round() if counts else coverage[column]

    fig, (top, bottom) = figure_axes(ax, 2, 1, height=5.2, sharex=True, height_ratios=[1, 2])
    top.bar(coverage["week"], coverage["clients"], color=GREY, width=0.8)
    top.set_ylabel("clients followed")
    top.yaxis.set_major_locator(MaxNLocator(integer=True))
    top.set_title("Who was followed, who trained and who was measured, by week")
    bottom.plot(coverage["week"], scaled("with_sessions"), color=OKABE_ITO["black"], marker="o", ms=3, label="any session")
    styles = ["-", "--", "-.", ":"]
    for i, name in enumerate(instruments):
        bottom.plot(
            coverage["week"], scaled(f"with_{name}"), color=CYCLE[i % len(CYCLE)],
            linestyle=styles[i % len(styles)], marker="s", ms=3, label=f"{outcome_short(name)} measured",
        )
    if counts:
        bottom.set_ylim(0, coverage["clients"].max() + 0.3)
        bottom.yaxis.set_major_locator(MaxNLocator(integer=True))
        bottom.set_ylabel("clients (of those followed)")
    else:
        bottom.set_ylim(0, 105)
        bottom.set_ylabel("% of clients followed")
    week_axis(bottom)
    bottom.legend(ncols=min(4, 1 + len(instruments)), loc="upper center", bbox_to_anchor=(0.5, -0.2))
    return fig


_GRID_STATES = ("nothing logged", "sessions only", "outcome only", "sessions and outcome")


def coverage_grid(panel: pd.DataFrame, instrument: str, max_clients: int = 60) -> tuple[pd.DataFrame, int]:
    """Client x week states for a heat map, at most ``max_clients`` clients.

    Clients are taken evenly spaced over the sorted client keys (so the same
    data always give the same selection).

    Returns
    -------
    (grid, n_clients): ``grid`` is indexed by ``client_id`` (the drawn
    clients, sorted) with one column per week holding 0 (nothing logged),
    1 (sessions only), 2 (``instrument`` only), 3 (both), NaN after the
    client's last record; ``n_clients`` is the number of clients in the panel.
    """
    clients = evenly_spaced(np.sort(panel["client_id"].unique()), max_clients)
    rows = panel[panel["client_id"].isin(clients)]
    state = (rows["sessions"] > 0).astype(int) + 2 * rows[instrument].notna().astype(int)
    grid = rows.assign(state=state).pivot(index="client_id", columns="week", values="state").astype(float)
    return grid, panel["client_id"].nunique()


@styled
def plot_coverage_grid(grid: pd.DataFrame, instrument: str, n_clients: int, ax: Axes | Sequence[Axes] | None = None) -> Figure:
    """One row per client, one column per week: what was logged (heat map).

    Parameters
    ----------
    grid, n_clients:
        From :func:`coverage_grid`.
    instrument:
        The instrument whose measurements the grid shows.
    """
    colours = ["#D4D4D4", OKABE_ITO["sky_blue"], OKABE_ITO["orange"], OKABE_ITO["blue"]]
    fig, ax = figure_axes(ax, height=min(7.5, 2.6 + 0.09 * len(grid)))
    ax.imshow(
        np.ma.masked_invalid(grid.to_numpy()), aspect="auto", interpolation="nearest",
        cmap=ListedColormap(colours), vmin=-0.5, vmax=3.5,
        extent=(grid.columns.min() - 0.5, grid.columns.max() + 0.5, len(grid) - 0.5, -0.5),
    )
    ax.grid(False)
    if len(grid) <= 30:
        ax.set_yticks(np.arange(len(grid)), grid.index, fontsize=7)
    else:
        ax.set_yticks([])
    shown = f"all {n_clients}" if len(grid) == n_clients else f"{len(grid)} of {n_clients}"
    ax.set_ylabel(f"client ({shown} clients)")
    week_axis(ax)
    ax.set_title(f"Sessions and {outcome_short(instrument)} measurements per client-week")
    handles = [Patch(facecolor=c, edgecolor="#BBBBBB", label=s) for c, s in zip(colours, _GRID_STATES, strict=True)]
    handles.append(Patch(facecolor="white", edgecolor="#BBBBBB", label="after last record"))
    fig.legend(handles=handles, loc="outside lower center", ncols=3, fontsize=8)
    return fig
