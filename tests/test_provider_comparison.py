"""Coach and studio comparison: flags a truly better coach, not noise, and undoes case mix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from backpain_analysis.errors import DataError
from backpain_analysis.figures.planning import plot_funnel, plot_raw_vs_adjusted
from backpain_analysis.provider_comparison import _overdispersion, compare_providers, simulate_chain


def _judged_flags(result) -> pd.Series:
    return result.table.loc[result.table["flag"] != "too_few_clients", "flag"]


def test_a_coach_whose_clients_improve_more_is_flagged_in_most_seeds() -> None:
    # C1's clients improve 1.5 NPRS points more than case mix predicts (8 coaches, 15 clients each
    # for C1-C6). scripts/planning_checks.py runs 200 seeds; here 30.
    seeds = range(30)
    flagged = [compare_providers(simulate_chain(better_coach=1.5, seed=s)).table.set_index("provider").loc["C1", "flag"] for s in seeds]
    share = np.mean([f == "better" for f in flagged])
    assert share > 0.6, f"flagged in {share:.0%} of seeds"
    assert "worse" not in flagged


def test_with_no_true_difference_false_flags_are_at_most_nominal() -> None:
    # 5 % nominal per judged coach at the 95 % limits; 60 seeds x 8 coaches = 480 judgements,
    # binomial SE 0.010, so the observed rate must stay below 0.05 + 2 SE (200-seed version in the script).
    flags = pd.concat([_judged_flags(compare_providers(simulate_chain(seed=1000 + s))) for s in range(60)])
    rate = float((flags != "as_expected").mean())
    assert rate <= 0.05 + 2 * np.sqrt(0.05 * 0.95 / len(flags)), f"false flag rate {rate:.3f}"


def test_a_coach_with_few_clients_is_shown_but_never_judged() -> None:
    # C7 and C8 have 3 clients each; even a large true effect on a tiny coach is not flagged.
    panel = simulate_chain(clients_per_coach=9, seed=4)
    result = compare_providers(panel)
    small = result.table.set_index("provider").loc[["C7", "C8"]]
    assert (small["n_clients"] == 3).all() and (small["flag"] == "too_few_clients").all()
    large = result.table.set_index("provider").loc["C1"]
    assert small["limit_high"].min() > large["limit_high"], "funnel limits widen for small coaches"


def test_raw_averages_and_adjusted_estimates_side_by_side_when_one_coach_gets_the_severe_clients() -> None:
    # C1 gets clients starting at NPRS ~8 (others ~6); severe clients improve more points whatever
    # the coach, so C1 leads on the raw average but is as expected after adjustment (no true effect).
    raw_rank, adjusted, flags = [], [], []
    for seed in range(10):
        table = compare_providers(simulate_chain(severe_coach=True, clients_per_coach=30, seed=seed)).side_by_side().set_index("provider")
        raw_rank.append(table.loc["C1", "raw_rank"])
        adjusted.append(table.loc["C1", "estimate"])
        flags.append(table.loc["C1", "flag"])
    assert np.mean(raw_rank) < 2.5, "C1 looks best on raw averages"
    assert abs(np.mean(adjusted)) < 0.25, "adjusted O - E is near 0"
    assert flags.count("as_expected") >= 8
    table = compare_providers(simulate_chain(severe_coach=True, clients_per_coach=30, seed=0)).side_by_side()
    assert {"observed", "raw_rank", "expected", "estimate", "shrunken", "adjusted_rank", "flag"} <= set(table.columns)


def test_observed_minus_expected_is_the_mean_case_mix_residual() -> None:
    result = compare_providers(simulate_chain(seed=9))
    by_client = result.clients.groupby("coach")["observed_minus_expected"].mean()
    table = result.table.set_index("provider")
    assert np.allclose(table["estimate"], by_client.reindex(table.index))
    assert np.allclose(table["observed"] - table["expected"], table["estimate"])
    # least-squares residuals sum to zero over all clients
    assert result.clients["observed_minus_expected"].sum() == pytest.approx(0.0, abs=1e-8)
    assert result.covariates == ["age", "sex"]


def test_overdispersion_follows_spiegelhalter() -> None:
    # hand computation: 10 providers of 20 clients, s^2 = 1; z-scores winsorised at the 10th/90th percentiles
    z = 2.0 * np.array([-3.0, -1.0, -0.5, 0.0, 0.2, 0.4, 0.8, 1.0, 1.5, 4.0])
    n = np.full(10, 20.0)
    low, high = np.quantile(z, [0.1, 0.9])
    phi_hand = np.mean(np.clip(z, low, high) ** 2)
    w = n / 1.0
    tau2_hand = (10 * phi_hand - 9) / (w.sum() - (w**2).sum() / w.sum())
    phi, tau2 = _overdispersion(z, n, 1.0)
    assert phi == pytest.approx(phi_hand) and tau2 == pytest.approx(max(tau2_hand, 0.0))
    assert phi > 1 and tau2 > 0


def test_real_between_coach_spread_widens_the_limits_and_shrinks_small_coaches_more() -> None:
    rng = np.random.default_rng(0)
    panel = simulate_chain(n_coaches=12, clients_per_coach=20, seed=5)
    first = panel.groupby("client_id")["coach"].first()
    shift = {c: rng.normal(0, 0.8) for c in first.unique()}
    late = panel["week"] == 12
    panel.loc[late, "nprs"] = panel.loc[late, "nprs"] - panel.loc[late, "coach"].map(shift)
    result = compare_providers(panel)
    assert result.tau2 > 0
    table = result.table
    ratio = (table["shrunken"] / table["estimate"]).groupby(table["n_clients"]).mean()
    assert ratio.iloc[0] < ratio.iloc[-1] <= 1.0
    multiplicative = compare_providers(panel, overdispersion="multiplicative")
    assert multiplicative.phi == pytest.approx(result.phi)


def test_missing_covariates_keep_the_client_and_bad_input_is_refused() -> None:
    panel = simulate_chain(seed=2)
    panel.loc[panel["client_id"] == "P0001", "age"] = np.nan
    panel.loc[panel["client_id"] == "P0002", "sex"] = None
    result = compare_providers(panel)
    assert len(result.clients) == panel["client_id"].nunique()
    with pytest.raises(DataError, match="no 'studio' column"):
        compare_providers(panel, by="studio")
    with pytest.raises(DataError, match="at least 2"):
        compare_providers(panel.assign(coach="C1"))


def test_figures_draw() -> None:
    result = compare_providers(simulate_chain(better_coach=1.5, seed=1))
    funnel = plot_funnel(result)
    assert funnel.axes[0].get_xlabel() == "clients per coach"
    side = plot_raw_vs_adjusted(result)
    assert len(side.axes[0].get_yticklabels()) == len(result.table)
    labels = side.axes[0].get_legend_handles_labels()[1]
    assert "adjusted: observed - expected (95 % CI)" in labels


def test_raw_vs_adjusted_with_only_small_providers_claims_no_interval() -> None:
    """Every provider below min_clients: hollow points, and no legend entry for an interval drawn nowhere."""
    result = compare_providers(simulate_chain(seed=1), min_clients=10**6)
    labels = plot_raw_vs_adjusted(result).axes[0].get_legend_handles_labels()[1]
    assert "adjusted: observed - expected (95 % CI)" not in labels
    assert any(label.startswith("adjusted, fewer than") for label in labels)
