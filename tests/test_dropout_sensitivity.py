"""Dropout sensitivity: Rubin's rules by hand, and delta-adjusted imputation recovering a known delta."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from backpain_analysis.dropout_sensitivity import rubin_pool, tipping_point
from backpain_analysis.errors import DataError
from backpain_analysis.figures.planning import plot_tipping_point
from backpain_analysis.volume_model import fit_volume_model

TERM = "strength_sets_within"


def test_rubins_rules_match_a_hand_computation() -> None:
    # q = 1.0, 1.2, 0.9, 1.1, 1.3; u = 0.04, 0.05, 0.045, 0.05, 0.04 (m = 5)
    # Qbar = 1.1; Ubar = 0.045; B = (0.01 + 0.01 + 0.04 + 0 + 0.04) / 4 = 0.025;
    # T = 0.045 + 1.2 x 0.025 = 0.075; r = 0.03 / 0.045 = 2/3; nu = 4 (1 + 3/2)^2 = 25.
    pooled = rubin_pool([1.0, 1.2, 0.9, 1.1, 1.3], [0.04, 0.05, 0.045, 0.05, 0.04])
    assert pooled["estimate"] == pytest.approx(1.1)
    assert pooled["within"] == pytest.approx(0.045)
    assert pooled["between"] == pytest.approx(0.025)
    assert pooled["std_error"] == pytest.approx(np.sqrt(0.075))
    assert pooled["df"] == pytest.approx(25.0)
    assert pooled["fmi"] == pytest.approx(0.4)
    t975 = 2.0595386  # qt(0.975, 25) in R
    assert pooled["conf_low"] == pytest.approx(1.1 - t975 * np.sqrt(0.075), abs=1e-6)
    # Barnard & Rubin (1999) with complete-data df 100: lambda = 0.4,
    # nu_obs = 101/103 x 100 x 0.6 = 58.8350, nu = 1 / (1/25 + 1/58.8350) = 17.5449
    small = rubin_pool([1.0, 1.2, 0.9, 1.1, 1.3], [0.04, 0.05, 0.045, 0.05, 0.04], df_complete=100)
    assert small["df"] == pytest.approx(17.5449, abs=1e-3)
    with pytest.raises(DataError):
        rubin_pool([1.0], [0.1])


def dropout_study(seed: int, n: int = 60, weeks: int = 10, delta: float = 2.0, effect: float = -0.04) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """Complete and observed panels: half the clients stop reporting NPRS from a week in 4..8 on,
    while training twice as much; their unreported scores are ``delta`` points worse than the model.

    Returns (full panel with the true scores, observed panel, mask of hidden rows).
    """
    rng = np.random.default_rng(seed)
    level = 12 * np.exp(0.5 * rng.standard_normal(n))
    s = np.rint(level[:, None] * np.exp(0.35 * rng.standard_normal((n, weeks)) - 0.06))
    f = np.round(25 * np.exp(0.5 * rng.standard_normal(n))[:, None] * np.exp(0.4 * rng.standard_normal((n, weeks)) - 0.08), 1)
    t = np.arange(weeks)
    hidden = (rng.random(n) < 0.5)[:, None] & (t[None, :] >= rng.integers(4, weeks - 1, n)[:, None])
    s = np.where(hidden, 2 * s, s)
    s_lag = np.zeros_like(s)
    s_lag[:, 1:] = s[:, :-1]
    f_lag = np.zeros_like(f)
    f_lag[:, 1:] = f[:, :-1]
    s_bar, f_bar = s_lag[:, 1:].mean(axis=1), f_lag[:, 1:].mean(axis=1)
    u0, u1 = 1.2 * rng.standard_normal(n), 0.06 * rng.standard_normal(n)
    y = (
        6.2 + u0[:, None] + (-0.06 + u1[:, None]) * t + effect * (s_lag - s_bar[:, None])
        - 0.004 * (f_lag - f_bar[:, None]) - 0.02 * s_bar[:, None] + 0.9 * rng.standard_normal((n, weeks))
    )
    y = y + delta * hidden
    full = pd.DataFrame(
        {"client_id": np.repeat(np.arange(n), weeks), "week": np.tile(t, n), "strength_sets": s.ravel(), "flexibility_min": f.ravel(), "nprs": y.ravel()}
    )
    return full, full.assign(nprs=np.where(hidden.ravel(), np.nan, full["nprs"])), hidden.ravel()


def test_delta_adjusted_imputation_recovers_the_estimate_of_the_complete_data() -> None:
    # Dropout generated with delta = 2 points: the complete data's strength estimate (known answer)
    # is recovered by imputation at delta = 2, while MAR (delta 0) is off by the hidden shift.
    # scripts/planning_checks.py runs 10 datasets; here 3.
    at_truth, at_mar = [], []
    for seed in range(3):
        full, observed, _ = dropout_study(seed)
        known = fit_volume_model(full, "nprs").params.set_index("term").loc[TERM, "estimate"]
        result = tipping_point(observed, "nprs", deltas=(2.0,), m=8, seed=seed).table.set_index("delta")
        at_truth.append(result.loc[2.0, "estimate"] - known)
        at_mar.append(result.loc[0.0, "estimate"] - known)
    bias_truth, bias_mar = np.mean(at_truth), np.mean(at_mar)
    assert bias_mar < -0.01, f"MAR misses the hidden shift ({bias_mar:.4f})"
    assert abs(bias_truth) < 0.4 * abs(bias_mar), f"at the true delta: {bias_truth:.4f} vs MAR {bias_mar:.4f}"


def test_tipping_point_is_where_the_interval_reaches_zero() -> None:
    _, observed, hidden = dropout_study(1)
    result = tipping_point(observed, "nprs", deltas=(0.0, 2.0, 4.0, 6.0), m=6, seed=1)
    table = result.table
    assert result.n_dropout == int(hidden.sum())
    assert table["holds"].iloc[0] and not table["holds"].iloc[-1]
    # the interpolated tipping point lies between the last delta that holds and the first that does not
    first_fail = table.loc[~table["holds"], "delta"].min()
    last_hold = table.loc[table["holds"] & (table["delta"] < first_fail), "delta"].max()
    assert last_hold < result.tipping_delta <= first_fail
    assert f"{result.tipping_delta:.2g}" in result.sentence()
    # the pooled estimate weakens as the unreported weeks (heavy training) get worse
    assert table["estimate"].is_monotonic_increasing
    figure = plot_tipping_point(result)
    assert figure.axes[0].get_xlabel().startswith("delta")


def test_no_dropout_weeks_means_nothing_to_tip_and_bad_requests_are_refused() -> None:
    full, _, _ = dropout_study(2, delta=0.0)
    result = tipping_point(full, "nprs", deltas=(0.0, 1.0), m=2)
    assert result.n_imputed == 0 and "cannot change" in result.sentence()
    with pytest.raises(DataError, match="not a term"):
        tipping_point(full, "nprs", term="strength", m=2)
    with pytest.raises(DataError, match="at least 2"):
        tipping_point(full, "nprs", m=1)
