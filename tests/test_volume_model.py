"""The volume model behind ``backpain fit``: lme4 references, recovery, reverse causation, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from backpain_analysis.cli import main
from backpain_analysis.errors import DataError
from backpain_analysis.mixed import fit_lmm
from backpain_analysis.simulate import simulate, write_study
from backpain_analysis.simulation_study import replicate_estimates, summarise_replicates
from backpain_analysis.volume_model import CORE_TERMS, fit_volume_model, volume_design

REFERENCE = Path(__file__).parent / "reference" / "volume_model"
LME4_CASES = sorted(p.stem.removeprefix("lme4_") for p in REFERENCE.glob("lme4_*.json"))


@pytest.fixture(scope="module")
def study():
    return simulate(150, 16, 3, bad_rows=False)


# --- lme4 references: tests/reference/volume_model/fit_volume_lme4.R on make_designs.py's designs


@pytest.mark.parametrize("engine", ["fast", "statsmodels"])
@pytest.mark.parametrize("case", LME4_CASES)
def test_matches_lme4(case: str, engine: str) -> None:
    ref = json.loads((REFERENCE / f"lme4_{case}.json").read_text())
    design = pd.read_csv(REFERENCE / f"design_{case}.csv")
    outcome = ref["outcome"]
    formula = f"{outcome} ~ " + " + ".join(CORE_TERMS)
    fit = fit_lmm(design, formula, groups="client_id", re_formula="~ week", engine=engine)
    ours = fit.params.set_index("term")
    assert list(ours.index) == ["Intercept", *ref["terms"][1:]]
    se = np.asarray(ref["std_error"])
    # estimates within 0.01 SE of lme4's, SEs within 1 %, REML criterion within 1e-3
    assert np.max(np.abs(ours["estimate"].to_numpy() - ref["estimate"]) / se) < 0.01
    np.testing.assert_allclose(ours["std_error"].to_numpy(), se, rtol=0.01)
    assert fit.reml_criterion == pytest.approx(ref["reml_criterion"], abs=1e-3)
    assert fit.nobs == ref["nobs"]


def test_design_matches_the_contract_definitions(study) -> None:
    design = volume_design(study.weekly, "nprs", lag=1)
    row = design.iloc[5]
    client = study.weekly[study.weekly["client_id"] == row["client_id"]].set_index("week")
    # the exposure of week t-1 enters week t
    assert row["strength_sets_lag"] == client.loc[row["week"] - 1, "strength_sets"]
    same = design[design["client_id"] == row["client_id"]]
    # the between term is the client's mean over the weeks that enter the fit
    assert row["strength_sets_between"] == pytest.approx(same["strength_sets_lag"].mean())
    assert row["strength_sets_within"] == pytest.approx(row["strength_sets_lag"] - same["strength_sets_lag"].mean())
    assert row["strength_x_flexibility_within"] == pytest.approx(
        row["strength_sets_within"] * row["flexibility_min_within"]
    )
    assert design["nprs"].notna().all()
    assert (design.groupby("client_id")["strength_sets_within"].sum().abs() < 1e-9).all()
    # on request the interaction is re-centred within client (issue 12), a purely within-client term
    centred = volume_design(study.weekly, "nprs", lag=1, recentre_interaction=True)
    product = same["strength_sets_within"] * same["flexibility_min_within"]
    assert centred.iloc[5]["strength_x_flexibility_within"] == pytest.approx(
        row["strength_x_flexibility_within"] - product.mean()
    )
    assert (centred.groupby("client_id")["strength_x_flexibility_within"].sum().abs() < 1e-9).all()


# --- parameter recovery


def test_each_within_effect_within_3_se_of_truth(study) -> None:
    result = fit_volume_model(study.weekly, "nprs")
    truth = study.truth["instruments"]["nprs"]["effects"]
    params = result.params.set_index("term")
    assert result.converged
    for term in ("strength_sets_within", "flexibility_min_within", "strength_x_flexibility_within", "week"):
        z = (params.loc[term, "estimate"] - truth[term]) / params.loc[term, "std_error"]
        assert abs(z) < 3, (term, z)


def test_bias_and_coverage_small_study() -> None:
    """30 studies of 100 clients x 12 weeks (the 200-study version: docs/volume_model.md).

    Tolerance: coverage of each within term >= 0.80 (the 95 % interval's
    coverage over 30 studies has a binomial SD of 0.04, so 0.80 is 3.75 SD
    below 0.95), and |bias| <= 3 Monte Carlo SEs.
    """
    summary = summarise_replicates(replicate_estimates(range(500, 530), n_clients=100, n_weeks=12))
    for row in summary.itertuples():
        assert row.coverage >= 0.80, row
        assert abs(row.bias) <= 3 * row.bias_mc_se, row
        assert row.converged == 1.0


def test_reverse_causation_biases_the_same_week_model_not_the_lagged_one() -> None:
    """A flare that cuts next week's training, and persists, fakes a same-week benefit.

    The simulated pain depends on last week's training only, so the true
    same-week within effect is 0. With reverse causation the same-week model
    finds a benefit anyway (200-study mean: -0.012 per set, docs/volume_model.md);
    the lagged within-client model stays within 25 % of the true -0.04.
    Tolerance: the same-week mean over 8 studies is below -0.004 (about 3.5
    Monte Carlo SEs from 0).
    """
    seeds = range(900, 908)
    options = {"reverse_causation": True}
    same = replicate_estimates(seeds, n_clients=150, lag=0, terms=["strength_sets_within"], simulate_options=options)
    lagged = replicate_estimates(seeds, n_clients=150, lag=1, terms=["strength_sets_within"], simulate_options=options)
    assert (same["truth"] == 0).all()
    assert same["estimate"].mean() < -0.004
    truth = lagged["truth"].iloc[0]
    assert truth < 0
    assert abs(lagged["estimate"].mean() - truth) < 0.25 * abs(truth)


# --- options and clinical units


def test_clinical_effects_scale_and_direction(study) -> None:
    result = fit_volume_model(study.weekly, "nprs")
    clinical = result.clinical_effects().set_index("term")
    params = result.params.set_index("term")
    assert clinical.loc["strength_sets_within", "per"] == "10 sets/week"
    assert clinical.loc["strength_sets_within", "estimate"] == pytest.approx(10 * params.loc["strength_sets_within", "estimate"])
    # NPRS: lower is better, so a negative coefficient is an improvement
    assert clinical.loc["strength_sets_within", "improvement"] > 0
    assert clinical.loc["strength_sets_within", "mcid"] == 2
    assert clinical.loc["flexibility_min_within", "per"] == "30 min/week"


def test_higher_is_better_instrument_is_turned_around(study) -> None:
    panel = study.weekly.assign(psfs=10 - study.weekly["nprs"])
    clinical = fit_volume_model(panel, "psfs").clinical_effects().set_index("term")
    assert clinical.loc["strength_sets_within", "estimate"] > 0
    assert clinical.loc["strength_sets_within", "improvement"] > 0
    low, high = clinical.loc["strength_sets_within", ["improvement_low", "improvement_high"]]
    assert low <= clinical.loc["strength_sets_within", "improvement"] <= high


def test_options_add_terms(study) -> None:
    result = fit_volume_model(
        study.weekly, "nprs", extra_exposures=["mixed_min"], covariates=["program"], baseline=True, detrend=True
    )
    terms = set(result.params["term"])
    assert {"mixed_min_within", "mixed_min_between", "baseline_score"} <= terms
    assert any(t.startswith("C(program)") for t in terms)
    base = volume_design(study.weekly, "nprs", baseline=True)
    first_week = study.weekly.dropna(subset=["nprs"]).groupby("client_id")["week"].min()
    assert (base["week"].to_numpy() > base["client_id"].map(first_week).to_numpy()).all()


def test_errors_are_one_line(study) -> None:
    with pytest.raises(DataError, match="no outcome 'rmdq' in this dataset; measured: nprs, odi"):
        fit_volume_model(study.weekly, "rmdq")
    few = study.weekly[study.weekly["client_id"].isin(study.weekly["client_id"].unique()[:3])]
    with pytest.raises(DataError, match="too few clients"):
        fit_volume_model(few, "nprs")
    with pytest.raises(DataError, match="lag"):
        fit_volume_model(study.weekly, "nprs", lag=-1)


# --- the command


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("fit")
    write_study(simulate(60, 10, 11), out)
    return out


def test_fit_json_follows_the_contract(sample_dir, capsys) -> None:
    assert main(["fit", str(sample_dir), "--outcome", "nprs", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    terms = [e["term"] for e in payload["effects"]]
    assert terms == ["Intercept", *CORE_TERMS]
    for effect in payload["effects"]:
        assert set(effect) == {"term", "estimate", "std_error", "df", "conf_low", "conf_high", "p_value"}
        assert effect["conf_low"] <= effect["estimate"] <= effect["conf_high"]
    assert payload["lag"] == 1 and payload["converged"] in (True, False)


def test_fit_lag_and_text_output(sample_dir, capsys) -> None:
    assert main(["fit", str(sample_dir), "--outcome", "NPRS", "--lag", "2"]) == 0
    out = capsys.readouterr().out
    assert "lagged 2 week" in out and "strength_sets_within" in out and "status:" in out


def test_fit_unfittable_dataset_exits_2(sample_dir, tmp_path, capsys) -> None:
    assert main(["fit", str(sample_dir), "--outcome", "rmdq"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "rmdq" in err


def test_fit_json_into_a_closed_pipe_prints_no_traceback(sample_dir) -> None:
    import subprocess
    import sys

    backpain = Path(sys.executable).parent / "backpain"
    fit = subprocess.Popen([backpain, "fit", str(sample_dir), "--outcome", "nprs", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    fit.stdout.close()  # the reader is gone before the fit prints, like `| head -1` on a long output
    assert fit.wait(timeout=120) in (0, 1)
    assert b"Traceback" not in fit.stderr.read()


def test_small_studio_result_says_between_client_intervals_run_narrow(studio_twists) -> None:
    """Fewer than 20 clients with Satterthwaite df: a note in words (measured coverage 92.3-93.3 % at 15
    clients, docs/analyses.md); none with Kenward-Roger df or with 20 clients or more."""
    from backpain_analysis.volume_model import BETWEEN_DF_MIN_CLIENTS

    small, _ = studio_twists.program_studio(15, 12, seed=3)
    result = fit_volume_model(small, "nprs")
    assert result.n_clients == 15 < BETWEEN_DF_MIN_CLIENTS
    note = result.notes["between_df"]
    assert "With 15 clients" in note and "kenward-roger" in note and "92.3-93.3 %" in note
    assert result.to_dict()["notes"] == [note]
    assert fit_volume_model(small, "nprs", ddf="kenward-roger").notes == {}
    large, _ = studio_twists.program_studio(25, 12, seed=3)
    assert fit_volume_model(large, "nprs").notes == {}
