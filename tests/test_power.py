"""Power by simulation: reproducible, type I error at the nominal level, agreement with an independent simulation."""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from backpain_analysis.cli import main
from backpain_analysis.errors import DataError
from backpain_analysis.loading import load
from backpain_analysis.panel import weekly_panel
from backpain_analysis.power import (
    DEFAULT_SCENARIO,
    WITHIN_TERMS,
    PowerScenario,
    power_curve,
    simulate_panel,
    study_rng,
    wilson_interval,
)
from backpain_analysis.volume_model import fit_volume_model

NULL = DEFAULT_SCENARIO.with_effects(**{term: 0.0 for term in WITHIN_TERMS})


def test_wilson_interval_matches_the_textbook_value() -> None:
    # Wilson score interval for 5/10 at 95 %: 0.2366 to 0.7634 (Agresti & Coull 1998, Table 1 formula).
    low, high = wilson_interval(5, 10)
    assert low == pytest.approx(0.2366, abs=1e-4)
    assert high == pytest.approx(0.7634, abs=1e-4)
    low, high = wilson_interval(0, 20)
    assert low == 0.0 and high == pytest.approx(0.1611, abs=1e-4)


def test_simulated_panel_follows_the_scenario() -> None:
    scenario = replace(DEFAULT_SCENARIO, dropout_share=0.0, measured_share=1.0, program_week=0.0)
    panel = simulate_panel(scenario, 300, 10, np.random.default_rng(3))
    assert len(panel) == 3000 and panel["nprs"].notna().all()
    assert (panel["strength_sets"] == panel["strength_sets"].round()).all()
    assert (panel["strength_sets"] == 0).mean() == pytest.approx(scenario.strength.zero_share, abs=0.02)
    fit = fit_volume_model(panel, "nprs")
    estimates = fit.params.set_index("term")
    for term in ("strength_sets_within", "week"):
        est = estimates.loc[term]
        assert est["conf_low"] - 0.005 < scenario.effects[term] < est["conf_high"] + 0.005
    vc = fit.lmm.variance_components.set_index("term")["estimate"]
    assert vc["sd__Observation"] == pytest.approx(scenario.residual_sd, rel=0.05)
    assert vc["sd__Intercept"] == pytest.approx(scenario.sd_intercept, rel=0.2)


def test_dropout_and_measured_share_are_drawn_as_stated() -> None:
    scenario = replace(DEFAULT_SCENARIO, dropout_share=0.5, measured_share=0.6)
    panel = simulate_panel(scenario, 2000, 10, np.random.default_rng(4))
    last = panel.groupby("client_id")["week"].max()
    assert (last < 9).mean() == pytest.approx(0.5, abs=0.04)
    assert panel.loc[panel["week"] >= 1, "nprs"].notna().mean() == pytest.approx(0.6, abs=0.02)
    assert panel.loc[panel["week"] == 0, "nprs"].notna().all()


def test_same_seed_same_result_and_studies_do_not_depend_on_batching() -> None:
    first = power_curve([8, 10], 5, 6, seed=11)
    again = power_curve([8, 10], 5, 6, seed=11)
    pd.testing.assert_frame_equal(first.table, again.table)
    assert np.array_equal(first.p_values[8], again.p_values[8], equal_nan=True)
    other = power_curve([8], 5, 6, seed=12)
    assert not np.array_equal(first.p_values[8], other.p_values[8])
    # study k gets the same stream whatever else is run
    a = simulate_panel(DEFAULT_SCENARIO, 8, 5, study_rng(11, 8, 3))
    b = simulate_panel(DEFAULT_SCENARIO, 8, 5, study_rng(11, 8, 3))
    pd.testing.assert_frame_equal(a, b)


def test_dask_cluster_gives_identical_results() -> None:
    distributed = pytest.importorskip("dask.distributed")
    here = power_curve([8], 5, 30, seed=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
            with distributed.Client(cluster) as client:
                seen = []
                there = power_curve([8], 5, 30, seed=5, scheduler=client, progress=lambda d, t: seen.append((d, t)))
    pd.testing.assert_frame_equal(here.table, there.table)
    assert np.array_equal(here.p_values[8], there.p_values[8], equal_nan=True)
    assert seen[-1] == (30, 30)


def test_type_one_error_is_nominal_with_every_effect_zero() -> None:
    # 100 studies x 3 within terms = 300 tests at alpha 0.05; binomial SE sqrt(.05 * .95 / 300) = 0.0126.
    # The 2,000-study version is scripts/power_checks.py (result in docs/planning.md).
    result = power_curve([15], 7, 100, seed=2026, scenario=NULL)
    rejections = (result.table["power"] * result.table["sims"]).sum()
    tests = result.table["sims"].sum()
    rate = rejections / tests
    se = math.sqrt(0.05 * 0.95 / tests)
    assert abs(rate - 0.05) < 3 * se, f"type I error {rate:.3f}"
    assert (result.table["failed"] == 0).all()


def independent_p_values(sims: int, seed: int) -> list[float]:
    """The documented process written again client by client, fitted with plain statsmodels MixedLM."""
    import statsmodels.formula.api as smf

    s = DEFAULT_SCENARIO
    rng = np.random.default_rng(seed)
    n, weeks = 12, 6
    p_values = []
    for _ in range(sims):
        rows = []
        for client in range(n):
            levels = {}
            series = {}
            for name, pattern in (("S", s.strength), ("F", s.flexibility)):
                level = pattern.median * math.exp(pattern.between_sd * rng.normal())
                values = []
                for _week in range(weeks):
                    value = level * math.exp(pattern.within_sd * rng.normal() - pattern.within_sd**2 / 2)
                    if rng.uniform() < pattern.zero_share:
                        value = 0.0
                    values.append(round(value) if pattern.integer else round(value, 1))
                series[name] = values
                levels[name] = level
            s_lag, f_lag = series["S"][:-1], series["F"][:-1]
            s_bar, f_bar = np.mean(s_lag), np.mean(f_lag)
            z0, z1 = rng.normal(), rng.normal()
            u0 = s.sd_intercept * z0
            u1 = s.sd_week * (s.corr_intercept_week * z0 + math.sqrt(1 - s.corr_intercept_week**2) * z1)
            for week in range(1, weeks):
                sw, fw = s_lag[week - 1] - s_bar, f_lag[week - 1] - f_bar
                mu = (
                    s.effects["Intercept"] + u0 + (s.effects["week"] + u1) * week
                    + s.effects["strength_sets_within"] * sw + s.effects["flexibility_min_within"] * fw
                    + s.effects["strength_x_flexibility_within"] * sw * fw
                    + s.effects["strength_sets_between"] * s_bar + s.effects["flexibility_min_between"] * f_bar
                )
                rows.append({"g": client, "week": week, "sw": sw, "fw": fw, "sb": s_bar, "fb": f_bar, "y": mu + s.residual_sd * rng.normal()})
        data = pd.DataFrame(rows)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = smf.mixedlm("y ~ week + sw + fw + sw:fw + sb + fb", data, groups="g", re_formula="~week").fit(reml=True, method="lbfgs")
        p_values.append(float(fit.pvalues["sw"]))
    return p_values


@pytest.mark.slow
def test_power_agrees_with_an_independent_statsmodels_simulation() -> None:
    # 12 clients x 6 weeks, everyone measured, no dropout: strength power near one half,
    # where Monte Carlo error is largest; 60 studies each, so the SE of the difference is <= 0.091
    # (scripts/power_checks.py runs 400 of each; result in docs/planning.md).
    sims = 60
    scenario = replace(DEFAULT_SCENARIO, dropout_share=0.0, measured_share=1.0, program_week=0.0)
    ours = power_curve([12], 6, sims, seed=7, scenario=scenario, terms=["strength_sets_within"]).table["power"].iloc[0]
    theirs = float(np.mean(np.array(independent_p_values(sims, seed=8)) < 0.05))
    se = math.sqrt(ours * (1 - ours) / sims + theirs * (1 - theirs) / sims)
    assert 0.15 < theirs < 0.85, "the design should sit where power is informative"
    assert abs(ours - theirs) < 3 * max(se, 0.03), f"ours {ours:.2f}, statsmodels {theirs:.2f}"


def test_program_contrast_is_detected_when_large_and_at_alpha_when_zero() -> None:
    big = DEFAULT_SCENARIO.with_effects(program_week=-0.3)
    result = power_curve([20], 8, 12, seed=4, scenario=big, terms=["strength_sets_within", "program_week"])
    row = result.table.set_index("term").loc["program_week"]
    assert row["effect"] == -0.3 and row["power"] >= 0.75
    null = DEFAULT_SCENARIO.with_effects(program_week=0.0)
    assert null.program_week == 0.0 and null.effects == DEFAULT_SCENARIO.effects
    p = power_curve([20], 8, 60, seed=5, scenario=null, terms=["program_week"]).p_values[20][:, 0]
    assert 0.0 <= np.mean(p < 0.05) <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / 60)
    panel = simulate_panel(big, 10, 4, np.random.default_rng(0))
    assert set(panel["program"]) == {"reference", "tested"}


def test_scenario_from_the_sample_data_uses_the_fitted_model() -> None:
    panel = weekly_panel(load("data/sample"))
    scenario = PowerScenario.from_fit(panel, "nprs")
    fit = fit_volume_model(panel, "nprs")
    assert scenario.effects["strength_sets_within"] == pytest.approx(
        fit.params.set_index("term").loc["strength_sets_within", "estimate"]
    )
    assert 0.0 <= scenario.dropout_share <= 1.0 and 0.0 < scenario.measured_share <= 1.0
    assert scenario.strength.median > 0 and scenario.flexibility.median > 0
    assert scenario.residual_sd > 0 and scenario.sd_intercept > 0
    with pytest.raises(DataError, match="unknown effect"):
        scenario.with_effects(strength=1.0)


def test_bad_requests_are_refused_in_words() -> None:
    with pytest.raises(DataError, match="at least 5"):
        power_curve([3], 8, 10, 1)
    with pytest.raises(DataError, match="--weeks"):
        power_curve([10], 2, 10, 1)
    with pytest.raises(DataError, match="unknown term"):
        power_curve([10], 8, 10, 1, terms=["strength"])


def test_command_prints_the_contract_json(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    figure = tmp_path / "power.png"
    code = main(
        ["power", "--clients", "8,12", "--weeks", "5", "--sims", "4", "--seed", "3",
         "--effect", "strength_sets_within=-0.1", "--json", "--figure", str(figure)]
    )
    assert code == 0
    out = capsys.readouterr()
    records = json.loads(out.out)
    assert len(records) == 6
    assert set(records[0]) == {"clients", "weeks", "term", "effect", "power", "conf_low", "conf_high", "sims"}
    strength = [r for r in records if r["term"] == "strength_sets_within"]
    assert [r["clients"] for r in strength] == [8, 12] and all(r["effect"] == -0.1 for r in strength)
    assert all(r["conf_low"] <= r["power"] <= r["conf_high"] and r["sims"] == 4 for r in records)
    assert "8/8 simulated studies" in out.err or "16/16 simulated studies" in out.err
    assert figure.stat().st_size > 0


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--effect", "strength_sets_within"], "TERM=VALUE"),
        (["--effect", "strength=1"], "unknown effect"),
        (["--clients", "a,b"], "whole numbers"),
        (["--outcome", "odi"], "--from DATA"),
    ],
)
def test_command_refuses_bad_options(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["power", "--clients", "8", "--weeks", "5", "--sims", "2", "--seed", "1"]
    if "--clients" in argv:
        base = ["power", "--weeks", "5", "--sims", "2", "--seed", "1"]
    assert main(base + argv) == 2
    assert message in capsys.readouterr().err
