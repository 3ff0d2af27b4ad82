"""Inverse probability of censoring weights: the dropout model, the weights, the weighted Kaplan-Meier."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.duration.survfunc import SurvfuncRight

from backpain_analysis import ipcw

# A 2 x 2 design in which the main-effects logistic model fits the observed leaving shares exactly:
# (improvement, baseline) = (0, 5): 1 of 4 leave, (2, 5): 2 of 4, (0, 7): 2 of 4, (2, 7): 3 of 4, i.e.
# logit = -log 3 + (log 3 / 2) improvement + (log 3 / 2) (baseline - 5): the MLE is those shares.
CELLS = [((0.0, 5.0), 1), ((2.0, 5.0), 2), ((0.0, 7.0), 2), ((2.0, 7.0), 3)]


def _exact_history() -> pd.DataFrame:
    rows = []
    for (improvement, baseline), leavers in CELLS:
        for k in range(4):
            rows.append({"client_id": f"c{len(rows):02d}", "improvement": improvement, "baseline": baseline, "since": 1 + k % 2, "left": k < leavers})
    return pd.DataFrame(rows)


def test_dropout_model_recovers_hand_computed_hazards_and_weights() -> None:
    model = ipcw.fit_dropout_model(_exact_history(), covariates=("improvement", "baseline"))
    assert model.fitted and model.n_leavers == 8 and model.n_clients == 16
    expected = np.repeat([0.25, 0.5, 0.5, 0.75], 4)
    assert model.rows["hazard"].to_numpy() == pytest.approx(expected, abs=1e-6)
    coefficients = model.params.set_index("term")["estimate"]
    assert coefficients["improvement"] == pytest.approx(np.log(3) / 2, abs=1e-5)
    assert coefficients["baseline"] == pytest.approx(np.log(3) / 2, abs=1e-5)
    # one week at risk each: the weight is 1 / (1 - hazard)
    assert ipcw.inverse_probability_weights(model).to_numpy() == pytest.approx(1 / (1 - expected), rel=1e-5)


def test_weights_cumulate_over_a_clients_weeks() -> None:
    rows = pd.DataFrame({"client_id": ["a", "a", "a", "b"], "hazard": [0.5, 0.2, 0.0, 0.1]})
    model = ipcw.DropoutModel(rows, pd.DataFrame(), 1, 2)
    assert ipcw.inverse_probability_weights(model).tolist() == pytest.approx([2.0, 2.5, 2.5, 1 / 0.9])


def test_nobody_leaving_needs_no_weights_and_few_leavers_or_separation_are_refused_in_words() -> None:
    history = _exact_history().assign(left=False)
    model = ipcw.fit_dropout_model(history)
    assert model.fitted and model.n_leavers == 0 and (model.rows["hazard"] == 0).all()
    few = history.assign(left=[True] * 4 + [False] * 12)
    refused = ipcw.fit_dropout_model(few, "left early")
    assert not refused.fitted and refused.rows["hazard"].isna().all()
    assert refused.refusal.startswith(f"only 4 of 16 clients left early; a model of who leaves needs at least {ipcw.MIN_LEAVERS}")
    separated = history.assign(left=history["improvement"] == 0)  # everyone who did not improve left
    assert ipcw.fit_dropout_model(history.assign(left=history.index % 3 == 0)).params["term"].tolist() == ["Intercept", *ipcw.COVARIATES]
    refused = ipcw.fit_dropout_model(separated)
    assert not refused.fitted and "separates leavers from stayers" in refused.refusal
    assert ipcw.inverse_probability_weights(refused).isna().all()


def test_stabilise_rescales_to_mean_one_and_truncates() -> None:
    weights, truncated = ipcw.stabilise(np.array([2.0, 2.0, 4.0]))
    assert weights.tolist() == pytest.approx([0.75, 0.75, 1.5]) and truncated == 0
    weights, truncated = ipcw.stabilise(np.array([1.0] * 19 + [300.0]))
    assert truncated == 1 and weights[-1] == ipcw.MAX_WEIGHT and weights[0] == pytest.approx(1 / 15.95)


def test_kish_effective_n() -> None:
    assert ipcw.kish_effective_n(np.ones(4)) == 4
    assert ipcw.kish_effective_n(np.array([1.0, 3.0])) == pytest.approx(16 / 10)


def test_weighted_kaplan_meier_by_hand_with_weights_changing_over_time() -> None:
    # A: event at 1 (weight 1); B: event at 2 (weights 1 then 3); C: censored at 2 (weights 2 then 1).
    table = ipcw.weighted_kaplan_meier(np.array([1, 2, 2]), np.array([1, 1, 0]), np.array([[1.0, 0.0], [1.0, 3.0], [2.0, 1.0]]), np.array([1.0, 2.0]))
    # t = 1: Y = 4, d = 1, h = 1/4, Kish M = 16/6; t = 2: Y = 4, d = 3, h = 3/4, M = 16/10.
    assert table["weighted_at_risk"].tolist() == [4.0, 4.0] and table["weighted_events"].tolist() == [1.0, 3.0]
    assert table["n_at_risk"].tolist() == [3, 2] and table["n_events"].tolist() == [1, 1]
    assert table["n_effective"].tolist() == pytest.approx([16 / 6, 1.6])
    assert table["survival"].tolist() == pytest.approx([0.75, 0.1875])
    # Xie & Liu: S sqrt(sum h / (M (1 - h))) = 0.1875 sqrt(0.125 + 1.875)
    assert table["std_error"].tolist() == pytest.approx([0.75 * np.sqrt(0.125), 0.1875 * np.sqrt(2.0)])


SIX_MP_TIMES = np.array([6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35])
SIX_MP_EVENT = np.array([1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0])


def test_equal_weights_give_kaplan_meier_and_greenwood() -> None:
    times = np.unique(SIX_MP_TIMES[SIX_MP_EVENT == 1])
    table = ipcw.weighted_kaplan_meier(SIX_MP_TIMES, SIX_MP_EVENT, np.full(len(SIX_MP_TIMES), 2.5), times)
    reference = SurvfuncRight(SIX_MP_TIMES, SIX_MP_EVENT)
    assert table["survival"].to_numpy() == pytest.approx(reference.surv_prob, rel=1e-12)
    assert table["std_error"].to_numpy() == pytest.approx(reference.surv_prob_se, rel=1e-10)


def test_integer_weights_are_duplicated_subjects() -> None:
    weights = np.arange(len(SIX_MP_TIMES)) % 3 + 1
    times = np.unique(SIX_MP_TIMES[SIX_MP_EVENT == 1])
    table = ipcw.weighted_kaplan_meier(SIX_MP_TIMES, SIX_MP_EVENT, weights.astype(float), times)
    duplicated = SurvfuncRight(np.repeat(SIX_MP_TIMES, weights), np.repeat(SIX_MP_EVENT, weights))
    assert table["survival"].to_numpy() == pytest.approx(duplicated.surv_prob, rel=1e-12)
    assert table["weighted_at_risk"].to_numpy() == pytest.approx(duplicated.n_risk)
