"""Sensitivity table: structure, and every variant near the truth without reverse causation."""

from __future__ import annotations

import pandas as pd
import pytest

from backpain_analysis.sensitivity import COLUMNS, WITHIN_TERMS, completers, sensitivity_table
from backpain_analysis.simulate import simulate

ANALYSES = ["main", "gee_exchangeable", "gee_ar1", "lag_0", "lag_2", "lag_3", "interaction_recentred", "detrended", "complete_followup"]


@pytest.fixture(scope="module")
def table():
    study = simulate(150, 16, seed=7, bad_rows=False)
    return study, sensitivity_table(study.weekly, "nprs")


def test_table_structure(table) -> None:
    _, result = table
    assert list(result.columns) == [*COLUMNS, "improvement", "improvement_low", "improvement_high"]
    gee = result[result["analysis"].str.startswith("gee")]
    assert (gee["estimator"] == "gee_bias_reduced").all() and (gee["df"] == gee["n_clients"] - 1).all()
    assert "not show data are missing at random" in result.attrs["completers_note"]
    assert result["analysis"].unique().tolist() == ANALYSES
    assert result.iloc[0]["analysis"] == "main"
    assert (result.groupby("analysis", sort=False)["term"].apply(list) == [list(WITHIN_TERMS)] * len(ANALYSES)).all()
    assert result.set_index("analysis")["lag"].groupby(level=0).first().to_dict() == {
        "main": 1, "gee_exchangeable": 1, "gee_ar1": 1, "lag_0": 0, "lag_2": 2, "lag_3": 3, "interaction_recentred": 1, "detrended": 1, "complete_followup": 1
    }
    main = result[result["analysis"] == "main"].iloc[0]
    complete = result[result["analysis"] == "complete_followup"].iloc[0]
    assert complete["n_clients"] < main["n_clients"] and complete["n_obs"] < main["n_obs"]
    assert (result["conf_low"] < result["estimate"]).all() and (result["estimate"] < result["conf_high"]).all()


def test_every_variant_recovers_its_truth(table) -> None:
    """Lag-1 variants estimate the simulated lag-1 effect; other lags estimate 0.

    The simulator's outcome depends on last week's training only and weekly
    deviations are nearly independent, so the effect of the exposure K = 0,
    2, 3 weeks back is 0 up to a small demeaning artefact (+0.002 to +0.004,
    under one SE; docs/analyses.md). Tolerance: 3 standard errors of each variant.
    """
    study, result = table
    truth = study.truth["instruments"]["nprs"]["effects"]["strength_sets_within"]
    strength = result[result["term"] == "strength_sets_within"]
    for row in strength.itertuples():
        expected = truth if row.lag == 1 else 0.0
        assert abs(row.estimate - expected) < 3 * row.std_error, row.analysis


def test_completers_reach_the_last_week() -> None:
    panel = pd.DataFrame({"client_id": list("aaabbc"), "week": [0, 1, 2, 0, 1, 2]})
    assert completers(panel).tolist() == ["a", "c"]
    assert completers(panel, complete_week=1).tolist() == ["a", "b", "c"]


def test_gee_ar1_counts_real_weeks_and_uses_the_small_sample_sandwich() -> None:
    """Issue 12: AR(1) over weeks, not row positions; Mancl-DeRouen sandwich; t(G - 1) intervals."""
    import statsmodels.api as sm
    from scipy.stats import t
    from statsmodels.genmod.cov_struct import Autoregressive

    import numpy as np

    from backpain_analysis.sensitivity import WeeklyAR1, fit_gee
    from backpain_analysis.volume_model import CORE_TERMS, volume_design

    study = simulate(20, 12, seed=3, bad_rows=False)
    panel = study.weekly[~study.weekly["week"].isin([4, 5, 8])]  # gaps: row positions are not weeks
    design = volume_design(panel, "nprs", 1).sort_values(["client_id", "week"], ignore_index=True)
    ours = fit_gee(design, "nprs", "ar1").set_index("term")
    formula = "nprs ~ " + " + ".join(CORE_TERMS)
    by_row = sm.GEE.from_formula(formula, groups="client_id", data=design, cov_struct=Autoregressive(grid=True),
                                 family=sm.families.Gaussian())
    by_row_fit = by_row.fit(cov_type="robust")
    assert not ours["estimate"].to_numpy() == pytest.approx(by_row_fit.params.to_numpy(), rel=1e-6)
    # the working correlation of a client with a gap: rho^2 across the two-week gap, rho^1 between adjacent weeks
    model = sm.GEE.from_formula(formula, groups="client_id", data=design, time=design[["week"]].to_numpy(float),
                                cov_struct=WeeklyAR1(), family=sm.families.Gaussian())
    fit = model.fit(cov_type="bias_reduced")
    rho = model.cov_struct.dep_params
    assert 0 < rho < 1
    weeks = model.time_li[0][:, 0]
    corr, _ = model.cov_struct.covariance_matrix(None, 0)
    j = int(np.flatnonzero(np.diff(weeks) > 1)[0])
    assert corr[j, j + 1] == pytest.approx(rho ** (weeks[j + 1] - weeks[j]))
    assert ours["estimate"].to_numpy() == pytest.approx(fit.params.to_numpy(), rel=1e-8)
    assert ours["std_error"].to_numpy() == pytest.approx(fit.bse.to_numpy(), rel=1e-8)
    # Mancl-DeRouen inflates the plain sandwich
    assert (fit.bse.to_numpy() > model.fit(cov_type="robust").bse.to_numpy()).all()
    groups = design["client_id"].nunique()
    row = ours.loc["strength_sets_within"]
    assert row["df"] == groups - 1
    assert row["conf_high"] - row["estimate"] == pytest.approx(t.ppf(0.975, groups - 1) * row["std_error"])
