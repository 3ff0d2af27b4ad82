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

import pandas as pd
import pytest

SCRIPTS = Path(__file__).parents[1] / "scripts"


def _study(first_seed: int, analyses: tuple[str, ...], scenario: str) -> pd.DataFrame:
    """The study's summary over 10 studios of 20 clients (seeds ``first_seed`` onwards)."""
    sys.path.insert(0, str(SCRIPTS))
    try:
        spec = importlib.util.spec_from_file_location("small_studio_study", SCRIPTS / "small_studio_study.py")
        study = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(study)
        records = [r for seed in range(10) for r in study.one_studio(20, first_seed + seed, analyses, scenario)]
    finally:
        sys.path.remove(str(SCRIPTS))
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
