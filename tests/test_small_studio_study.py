"""A small version of scripts/small_studio_study.py (the recorded study is in docs/analyses.md).

10 simulated studios of 20 clients x 12 weeks with confounding by indication
(clients with a higher baseline score sent to 'intensive': the study's
``main`` scenario) and informative dropout, no true program effect, a true
within-client strength effect.
Tolerances, for a true coverage of 95 %: at least 7 of 10 intervals cover
(P(fewer) = 0.1 %); the program contrast's mean bias within 0.5 of its mean
SE (the recorded study: under 0.1 SE).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

SCRIPTS = Path(__file__).parents[1] / "scripts"


def _load_study():
    """scripts/small_studio_study.py as a module (its helper studio_twists importable while it runs)."""
    sys.path.insert(0, str(SCRIPTS))
    try:
        spec = importlib.util.spec_from_file_location("small_studio_study", SCRIPTS / "small_studio_study.py")
        study = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(study)
    finally:
        sys.path.remove(str(SCRIPTS))
    return study


def _study(first_seed: int, analyses: tuple[str, ...], scenario: str) -> pd.DataFrame:
    """The study's summary over 10 studios of 20 clients (seeds ``first_seed`` onwards)."""
    study = _load_study()
    records = [r for seed in range(10) for r in study.one_studio(20, first_seed + seed, analyses, scenario)]
    return study.summarise(pd.DataFrame(records)).set_index(["analysis", "term"])


@pytest.fixture(scope="module")
def results() -> pd.DataFrame:
    return _study(1000, ("volume_model", "programs", "gee", "responders"), "main")


@pytest.mark.parametrize(
    ("analysis", "term"),
    [
        ("volume_model", "strength_sets_within"),
        ("volume_model", "flexibility_min_within"),
        ("programs_lmm", "intensive - usual"),
        ("gee_exchangeable", "strength_sets_within"),
        ("gee_ar1", "strength_sets_within"),
        ("observed_expected", "intensive"),
        ("observed_expected", "usual"),
        ("responder_share_blup", "expected share"),
    ],
)
def test_intervals_cover_the_truth(results, analysis: str, term: str) -> None:
    row = results.loc[(analysis, term)]
    assert row["studies"] == 10
    assert row["coverage"] >= 7 / 10


def test_program_contrast_is_unbiased_under_confounding_by_indication(results) -> None:
    assert abs(results.loc[("programs_lmm", "intensive - usual"), "bias_in_se"]) < 0.5


@pytest.fixture(scope="module")
def null_results() -> pd.DataFrame:
    return _study(2000, ("observed_expected", "responders"), "null")


def test_with_no_true_effect_observed_expected_and_the_shrunken_share_say_so(null_results) -> None:
    """Nobody truly changes (the study's ``null`` scenario; recorded: O - E covers 0 in 93.5-96.3 %, the
    shrunken share's interval holds 0 in every studio). Tolerances: at least 7 of 10 O - E intervals
    cover 0; the shrunken share's interval holds 0 in at least 9 of 10 and its mean is under 0.05."""
    for program in ("intensive", "usual"):
        assert null_results.loc[("observed_expected", program), "coverage"] >= 7 / 10
    share = null_results.loc[("responder_share_blup", "expected share")]
    assert share["coverage"] >= 9 / 10
    assert share["bias"] < 0.05  # truth 0


def test_with_no_true_effect_the_weighted_rate_and_curve_claim_no_more_than_noise(null_results) -> None:
    """Nobody truly changes and clients whose score worsened leave (recorded, 500 studios per cell: the
    weighted rate's lower limit at or below the noise share in 93.8-98.0 % of studios, the weighted
    curve's in 95.9-97.0 %). Tolerances: at least 6 of 10 studios with a fitted dropout model, and in
    at least 80 % of those the lower limits at or below the noise references (at a true 97.5 %,
    P(fewer) is about 0.2 % with 10 studios); the weighted rate's mean excess over the noise share under
    the complete-case rate's."""
    for analysis in ("responder_share_vs_noise", "time_to_improvement_vs_noise"):
        row = null_results.xs(analysis, level="analysis").iloc[0]
        assert row["studies"] >= 6
        assert row["coverage"] >= 0.8
    weighted = null_results.loc[("responder_share_vs_noise", "lower limit <= noise share")]
    complete = null_results.loc[("responder_share_complete_case_vs_noise", "lower limit <= noise share")]
    assert weighted["bias"] < complete["bias"]


@pytest.fixture(scope="module")
def study():
    return _load_study()


def test_the_lag_2_pseudo_truth_is_near_its_analytic_approximation(study) -> None:
    """The target of the misspecified lag-2 strength row, as the study computes it (10,000 clients x 12 weeks,
    two seeds): a client's within deviations in two weeks correlate about -1/(n_weeks - 1), so it picks up
    about +0.03/11 = +0.0027 of the simulated lag-1 effect of -0.03. The approximation leaves out the
    lag-2 design's shorter rows (10 weeks: +0.0030 by least squares within clients), the random slope's
    GLS weights (+0.0012 more, measured) and dropout. Tolerances: its Monte Carlo error under 0.001
    (under 0.06 of a 40-client studio's SE of 0.017); within 0.0025 of the approximation; and above 0 by
    more than 3 Monte Carlo errors (0, the truth used before, is not its target)."""
    pseudo = study.pseudo_truths("main", 12, study.PSEUDO_TRUTH_CLIENTS, study.PSEUDO_TRUTH_SEEDS, lags_only=True)
    row = pseudo.loc[("lag_2", "strength_sets_within")]
    assert row["mcse"] < 0.001
    assert abs(row["pseudo_truth"] - (-study.STRENGTH / (12 - 1))) < 0.0025
    assert row["pseudo_truth"] > 3 * row["mcse"]


def test_lag_1_rows_keep_their_exact_truth_and_lag_rows_are_scored_against_their_pseudo_truth(study, monkeypatch) -> None:
    """One 20-client studio (pseudo-truths from two 300-client studios, to stay fast): every lag-1 row's
    truth is still -0.03 (strength) or 0; the lag rows' truth is the pseudo-true value with the nominal 0
    kept beside it; the lag-only option fits exactly the table's lag rows (estimates equal to 1e-9)."""
    monkeypatch.setattr(study, "PSEUDO_TRUTH_CLIENTS", 300)
    records = pd.DataFrame(study.one_studio(20, 3000, ("sensitivity",), "main"))
    assert len(records) == 9 * 3  # every analysis x within term
    lagged = records["analysis"].str.startswith("sensitivity_lag_")
    lag_1 = records[~lagged]
    exact = np.where(lag_1["term"] == "strength_sets_within", -0.03, 0.0)
    np.testing.assert_array_equal(lag_1["truth"], exact)
    np.testing.assert_array_equal(lag_1["nominal_truth"], exact)
    assert (lag_1["truth_mcse"] == 0).all()
    pseudo = study.pseudo_truths("main", 12, 300, study.PSEUDO_TRUTH_SEEDS, False)
    lags = records[lagged]
    keys = list(zip(lags["analysis"].str.removeprefix("sensitivity_"), lags["term"], strict=True))
    np.testing.assert_allclose(lags["truth"], pseudo.loc[keys, "pseudo_truth"])
    assert (lags["nominal_truth"] == 0).all() and (lags["truth"] != 0).all()
    only = pd.DataFrame(study.one_studio(20, 3000, ("sensitivity_lags",), "main"))
    merged = lags.merge(only, on=["analysis", "term"], suffixes=("", "_only"), validate="one_to_one")
    assert len(merged) == len(study.LAGS) * 3
    np.testing.assert_allclose(merged["estimate_only"], merged["estimate"], rtol=1e-9)
    np.testing.assert_allclose(merged["truth_only"], merged["truth"], rtol=1e-9)
    summary = study.summarise(records).set_index(["analysis", "term"])
    assert summary.loc[("sensitivity_lag_2", "strength_sets_within"), "nominal_truth"] == 0
    assert summary.loc[("sensitivity_main", "strength_sets_within"), "mean_truth"] == -0.03
