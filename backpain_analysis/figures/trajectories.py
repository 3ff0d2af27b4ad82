"""Pain and function over time: individual trajectories, the mean, responders, time to improvement."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from backpain_analysis.descriptives import mean_trajectory  # noqa: F401  (moved; importable here for one release)
from backpain_analysis.figures.style import (
    CYCLE,
    GREY,
    OKABE_ITO,
    evenly_spaced,
    figure_axes,
    known_instrument,
    outcome_label,
    outcome_short,
    styled,
    week_axis,
)
from backpain_analysis.instruments import outcome_instrument


def drawn_clients(panel: pd.DataFrame, outcome: str, max_clients: int) -> np.ndarray:
    """Clients with at least one ``outcome`` score, at most ``max_clients`` of them.

    Evenly spaced over the sorted client keys, so the same data always give
    the same selection.
    """
    return evenly_spaced(np.sort(panel.loc[panel[outcome].notna(), "client_id"].unique()), max_clients)


@styled
def plot_trajectories(panel: pd.DataFrame, outcome: str, mean: pd.DataFrame, max_clients: int = 40, ax: Axes | Sequence[Axes] | None = None) -> Figure:
    """Individual clients (grey) and the weekly mean with its 95 % band (colour).

    Parameters
    ----------
    panel:
        The weekly panel: each client's measured weeks become one grey line.
    outcome:
        Instrument column, on the y axis (over its full range for a built-in instrument).
    mean:
        From :func:`backpain_analysis.descriptives.mean_trajectory`.
    max_clients:
        At most this many individual lines (:func:`drawn_clients`); the mean
        uses every client.
    """
    fig, ax = figure_axes(ax, height=4.4)
    drawn = drawn_clients(panel, outcome, max_clients)
    measured = panel[panel["client_id"].isin(drawn)].dropna(subset=[outcome])
    for _, rows in measured.groupby("client_id"):
        ax.plot(rows["week"], rows[outcome], color=GREY, alpha=0.35, linewidth=0.8, marker="o", ms=1.5)
    colour = OKABE_ITO["blue"]
    finite = mean[["conf_low", "conf_high"]].notna().all(axis=1).to_numpy()  # weeks with an interval (5+ clients)
    if (finite[1:] & finite[:-1]).any():
        ax.fill_between(mean["week"], mean["conf_low"], mean["conf_high"], color=colour, alpha=0.25, linewidth=0, label="95 % CI of the mean")
    elif finite.any():  # isolated weeks: a band would not show, so draw their intervals as bars
        ax.vlines(mean["week"][finite], mean["conf_low"][finite], mean["conf_high"][finite], color=colour, alpha=0.5, linewidth=6, label="95 % CI of the mean")
    ax.plot(mean["week"], mean["mean"], color=colour, linewidth=2.5, marker="o", ms=4, label="mean of clients measured that week")
    ax.plot([], [], color=GREY, linewidth=0.8, label=f"individual clients ({len(drawn)} of {panel.loc[panel[outcome].notna(), 'client_id'].nunique()})")
    spec = known_instrument(outcome)
    if spec is not None and spec.min is not None and spec.max is not None:
        pad = 0.03 * (spec.max - spec.min)
        ax.set_ylim(spec.min - pad, spec.max + pad)
    week_axis(ax)
    ax.set_ylabel(outcome_label(outcome))
    ax.set_title(f"{outcome_short(outcome)} over time: each client and the mean")
    ax.legend(loc="upper right", fontsize=8)
    return fig


@styled
def plot_responder_rates(rates: pd.DataFrame, labels: Sequence[str], title: str, ax: Axes | Sequence[Axes] | None = None) -> Figure:
    """Responder percentages with confidence intervals, one bar per row of ``rates``.

    Parameters
    ----------
    rates:
        Rows of :func:`backpain_analysis.responders.responder_rates`:
        ``n_clients``, ``n_responders``, ``estimate``, ``conf_low``,
        ``conf_high`` (proportions, 0-1); ``attrs["conf_level"]`` if set.
    labels:
        One bar label per row (the criterion, the group, ...).
    title:
        Figure title.
    """
    level = rates.attrs.get("conf_level", 0.95)
    fig, ax = figure_axes(ax, height=1.6 + 0.45 * len(rates))
    y = np.arange(len(rates))[::-1]
    pct = 100 * rates[["estimate", "conf_low", "conf_high"]].to_numpy(float)
    ax.barh(y, pct[:, 0], color=OKABE_ITO["green"], alpha=0.8, height=0.6)
    ax.errorbar(pct[:, 0], y, xerr=[pct[:, 0] - pct[:, 1], pct[:, 2] - pct[:, 0]], fmt="none", ecolor=OKABE_ITO["black"], capsize=3)
    for yi, row, p in zip(y, rates.itertuples(), pct, strict=True):
        ax.text(p[2] + 1.5, yi, f"{p[0]:.0f} % ({row.n_responders}/{row.n_clients})", va="center", fontsize=8)
    ax.set_yticks(y, list(labels), fontsize=9)
    ax.set_xlim(0, 120)
    ax.set_xticks(range(0, 101, 20))
    ax.spines["bottom"].set_bounds(0, 100)
    ax.set_xlabel(f"% of clients ({100 * level:.0f} % CI)")
    fig.suptitle(title)
    ax.grid(axis="y", visible=False)
    return fig


@styled
def plot_time_to_improvement(curves: pd.DataFrame, ends: Mapping[str, float], title: str, min_at_risk: int = 5, ax: Axes | Sequence[Axes] | None = None) -> Figure:
    """Cumulative share of clients with a first clinically important improvement (Kaplan-Meier).

    Parameters
    ----------
    curves:
        ``TimeToImprovement.curves`` (possibly several concatenated): one
        step curve per ``group``, with ``time`` (weeks since baseline),
        ``n_at_risk``, ``estimate`` (cumulative proportion improved, 0-1),
        ``conf_low``, ``conf_high``.
    ends:
        Last week of follow-up per group (the longest time in
        ``TimeToImprovement.clients``): each curve is held to there.
    title:
        Figure title.
    min_at_risk:
        A curve stops before the first time with fewer clients at risk: the
        last steps of a Kaplan-Meier curve rest on a handful of clients and
        jump (to 100 % when the last one improves).
    """
    fig, ax = figure_axes(ax, height=4.0)
    styles = ["-", "--", "-.", ":"]
    for i, (group, all_rows) in enumerate(curves.groupby("group", sort=False)):
        colour = CYCLE[i % len(CYCLE)]
        few = all_rows["n_at_risk"] < min_at_risk
        rows = all_rows[~few.cummax()]
        if rows.empty:
            continue
        stop = all_rows.loc[few, "time"].min() if few.any() else max(ends[group], rows["time"].max())
        time = np.append(rows["time"].to_numpy(float), stop)
        def held(column: str) -> np.ndarray:
            return 100 * np.append(rows[column].to_numpy(float), rows[column].iloc[-1])
        ax.fill_between(time, held("conf_low"), held("conf_high"), step="post", color=colour, alpha=0.15, linewidth=0)
        ax.step(time, held("estimate"), where="post", color=colour, linestyle=styles[i % len(styles)], label=str(group))
    ax.set_ylim(0, 100)
    ax.set_xlim(0, max(1.0, *ends.values()))
    week_axis(ax, "weeks since the baseline measurement")
    ax.set_ylabel("% with a first important improvement")
    ax.set_title(title)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left")
    return fig


@styled
def plot_client_changes(trends: pd.DataFrame, outcome: str, ax: Axes | Sequence[Axes] | None = None) -> Figure:
    """Each client's shrunken change to the endpoint with its interval, sorted: how response spreads over clients.

    Parameters
    ----------
    trends:
        :func:`backpain_analysis.responders.client_trends`: ``improvement``,
        ``improvement_low``, ``improvement_high`` (instrument units, positive =
        better); ``attrs``: ``endpoint`` (week), ``level``,
        ``share_likely_important``.
    outcome:
        The instrument (axis label, MCID line).
    """
    rows = trends.sort_values("improvement").reset_index(drop=True)
    fig, ax = figure_axes(ax)
    x = np.arange(1, len(rows) + 1)
    ax.vlines(x, rows["improvement_low"], rows["improvement_high"], color=GREY, linewidth=0.8)
    ax.plot(x, rows["improvement"], "o", color=OKABE_ITO["blue"], ms=3)
    ax.axhline(0, color=OKABE_ITO["black"], linewidth=0.8)
    mcid = outcome_instrument(outcome).mcid_abs
    if mcid is not None and np.isfinite(mcid):
        ax.axhline(mcid, color=OKABE_ITO["vermillion"], linestyle="--", linewidth=1, label=f"MCID ({mcid:g} points)")
        ax.legend(loc="lower right", frameon=True, fontsize=8)  # not on the MCID line, which may sit at the top
    level = trends.attrs.get("level", 0.95)
    ax.set_xlabel("clients, ordered by their estimated change")
    ax.set_ylabel(f"improvement by week {trends.attrs.get('endpoint')}\n{outcome_short(outcome)} points ({100 * level:.0f} % interval)")
    fig.suptitle(f"How each client's {outcome_short(outcome)} changed (shrunken estimates, positive = better)")
    return fig
