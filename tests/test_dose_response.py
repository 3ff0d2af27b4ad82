"""Dose-response spline: basis algebra, and the plateau on simulated saturating and linear truths."""

from __future__ import annotations

import numpy as np
import pytest

from backpain_analysis.dose_response import PLATEAU_SHARE, fit_dose_response, spline_basis
from backpain_analysis.errors import DataError
from backpain_analysis.simulate import SATURATION_SETS, simulate

KNOTS = [2.0, 6.0, 11.0, 30.0]


def test_spline_basis_is_linear_outside_the_knots_and_its_derivative_is_exact() -> None:
    x = np.linspace(0.0, 45.0, 901)
    basis = spline_basis(x, KNOTS)
    assert basis.shape == (len(x), len(KNOTS) - 1)
    assert basis[:, 0] == pytest.approx(x)
    for side in (x <= KNOTS[0], x >= KNOTS[-1]):
        second_difference = np.diff(basis[side], n=2, axis=0)
        assert np.abs(second_difference).max() < 1e-9
    step = x[1] - x[0]
    numeric = np.gradient(basis, step, axis=0)
    exact = spline_basis(x, KNOTS, derivative=True)
    assert exact[1:-1] == pytest.approx(numeric[1:-1], abs=1e-3)


def test_too_few_distinct_doses_is_a_clear_error() -> None:
    study = simulate(30, 8, seed=1, bad_rows=False)
    panel = study.weekly.assign(strength_sets=np.where(study.weekly["strength_sets"] > 0, 5, 0))
    with pytest.raises(DataError, match="too few distinct weekly doses"):
        fit_dose_response(panel, "nprs")


def _true_curve(dose: np.ndarray, emax: float) -> np.ndarray:
    return emax * (1.0 - np.exp(-dose / SATURATION_SETS))


@pytest.fixture(scope="module")
def saturating():
    study = simulate(150, 16, seed=3, dose_response="saturating", bad_rows=False)
    return study, fit_dose_response(study.weekly, "nprs")


def test_saturating_truth_shows_its_plateau(saturating) -> None:
    study, result = saturating
    emax = study.truth["instruments"]["nprs"]["dose_response"]["emax"]
    curve = result.curves[result.curves["exposure"] == "strength_sets"]
    dose = curve["dose"].to_numpy()
    truth = _true_curve(dose, emax)
    # Pointwise 95 % bands cover the true curve over most of the range.
    covered = (curve["conf_low"] <= truth) & (truth <= curve["conf_high"])
    assert covered.mean() >= 0.9
    flat = result.flattening.set_index("exposure").loc["strength_sets"]
    assert flat["plateau"]
    # The dose reaching 90 % of the largest benefit within the same range, from the true curve.
    benefit = -truth
    true_dose = dose[np.argmax(benefit >= PLATEAU_SHARE * benefit.max())]
    assert flat["conf_low"] <= true_dose <= flat["conf_high"]
    assert abs(flat["estimate"] - true_dose) < 6.0
    # Slope near zero at the top of the range: within 25 % of the initial slope, and its interval covers the truth.
    top = curve.iloc[-1]
    true_top_slope = emax / SATURATION_SETS * np.exp(-top["dose"] / SATURATION_SETS)
    assert abs(top["slope"]) < 0.25 * abs(curve.iloc[0]["slope"])
    assert top["slope_conf_low"] <= true_top_slope <= top["slope_conf_high"]
    assert result.nonlinearity.set_index("exposure").loc["strength_sets", "p_value"] < 0.01


def test_linear_truth_shows_no_plateau() -> None:
    study = simulate(150, 16, seed=4, bad_rows=False)
    result = fit_dose_response(study.weekly, "nprs")
    slope = study.truth["instruments"]["nprs"]["effects"]["strength_sets_within"]
    flat = result.flattening.set_index("exposure").loc["strength_sets"]
    assert not flat["plateau"]
    assert np.isnan(flat["estimate"])
    assert flat["message"].startswith("no plateau within the observed range")
    curve = result.curves[result.curves["exposure"] == "strength_sets"]
    truth = slope * curve["dose"]
    assert ((curve["conf_low"] <= truth) & (truth <= curve["conf_high"])).mean() >= 0.9
    assert list(result.curves.columns) == [
        "exposure", "dose", "estimate", "std_error", "conf_low", "conf_high",
        "slope", "slope_std_error", "slope_conf_low", "slope_conf_high",
        "improvement", "improvement_low", "improvement_high", "benefit",
    ]
