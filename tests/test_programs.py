"""Program comparison: a true program advantage is recovered; observed vs expected algebra."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from backpain_analysis.errors import DataError
from backpain_analysis.programs import compare_programs, observed_vs_expected
from backpain_analysis.simulate import simulate

ADVANTAGE = -0.1
"""Extra NPRS change per week in strength_mobility against usual care (points/week)."""


@pytest.fixture(scope="module")
def comparison():
    # Between-client training effects and the ramp-up weeks off, so that the programs differ
    # only by their weekly slope (the simulator's direct and total program effects coincide).
    overrides = {"nprs": {"strength_sets_between": 0.0, "flexibility_min_between": 0.0, "program_week": {"strength_mobility": ADVANTAGE}}}
    study = simulate(150, 16, seed=5, bad_rows=False, program_advantage=True, outcome_models=overrides, training={"ramp": ()})
    return study, compare_programs(study.weekly, "nprs", weeks=(4, 8, 12), reference="usual")


def test_true_program_advantage_has_the_right_sign_and_is_covered(comparison) -> None:
    """Each contrast within 3 SE of the truth (its 99.7 % interval covers it); the 95 % coverage
    over many seeds is in docs/analyses.md (scripts/analyses_recovery_study.py)."""
    study, result = comparison
    truth = study.truth["instruments"]["nprs"]["programs"]["direct_week_vs_reference"]
    contrasts = result.contrasts.set_index(["week", "term"])
    for week in (4, 8, 12):
        for program in ("strength_mobility", "stretching_only"):
            row = contrasts.loc[(week, f"{program} - usual")]
            assert abs(row["estimate"] - truth[program] * week) < 3 * row["std_error"]
    strongest = contrasts.loc[(12, "strength_mobility - usual")]
    assert strongest["estimate"] < 0 and strongest["conf_high"] < 0
    slope = result.params.set_index("term").loc["program[strength_mobility]:week"]
    assert abs(slope["estimate"] - ADVANTAGE) < 3 * slope["std_error"]
    # Risk-adjusted view: the advantaged program improves more than expected from its clients' baselines.
    oe = result.observed_expected.set_index("program")
    assert oe.loc["strength_mobility", "conf_low"] > 0
    assert oe.loc["usual", "estimate"] < 0


def test_result_tables(comparison) -> None:
    _, result = comparison
    tidy = ["estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high"]
    assert list(result.contrasts.columns) == ["week", "program", "versus", "term", *tidy]
    assert len(result.contrasts) == 3 * 3
    assert list(result.trajectories.columns) == ["program", "week", "estimate", "std_error", "conf_low", "conf_high"]
    assert result.trajectories["program"].unique().tolist() == ["usual", "strength_mobility", "stretching_only"]
    assert set(result.responder_rates["group"]) == {"all", "usual", "stretching_only", "strength_mobility"}
    assert result.params["term"].tolist()[:3] == ["Intercept", "week", "baseline_score"]
    # A contrast is the difference of two trajectories at that week.
    traj = result.trajectories.set_index(["program", "week"])["estimate"]
    row = result.contrasts.set_index(["week", "term"]).loc[(8, "strength_mobility - usual")]
    assert row["estimate"] == pytest.approx(traj[("strength_mobility", 8)] - traj[("usual", 8)])


def test_observed_vs_expected_matches_the_matrix_formula() -> None:
    rng = np.random.default_rng(0)
    rows = []
    for i in range(30):
        base = rng.uniform(3, 9)
        program = "abc"[i % 3]
        follow = 0.5 * base - (1.0 if program == "a" else 0.0) + rng.normal(0, 1)
        rows += [(f"k{i}", 0, base, program), (f"k{i}", 6, follow, program)]
    panel = pd.DataFrame(rows, columns=["client_id", "week", "nprs", "program"])
    table = observed_vs_expected(panel, "nprs").set_index("program")
    base = panel[panel["week"] == 0].set_index("client_id")
    follow = panel[panel["week"] == 6].set_index("client_id")
    y = (base["nprs"] - follow["nprs"]).to_numpy()
    x = np.column_stack([np.ones(len(y)), base["nprs"].to_numpy()])
    hat = x @ np.linalg.solve(x.T @ x, x.T)
    residual = y - hat @ y
    sigma2 = residual @ residual / (len(y) - 2)
    for program in "abc":
        a = (base["program"] == program).to_numpy() / (base["program"] == program).sum()
        assert table.loc[program, "estimate"] == pytest.approx(a @ residual)
        assert table.loc[program, "std_error"] == pytest.approx(np.sqrt(sigma2 * a @ (np.eye(len(y)) - hat) @ a))
    assert (table["n_clients"] * table["estimate"]).sum() == pytest.approx(0.0, abs=1e-9)
    assert table.loc["a", "estimate"] > 0


def test_one_program_is_a_clear_error() -> None:
    panel = pd.DataFrame({"client_id": ["a", "a"], "week": [0, 3], "nprs": [6.0, 4.0], "program": ["x", "x"]})
    with pytest.raises(DataError, match="at least 2 are needed"):
        compare_programs(panel, "nprs")
