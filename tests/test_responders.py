"""Responders: change from baseline, Wilson intervals, Kaplan-Meier time to improvement."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from backpain_analysis.errors import DataError
from backpain_analysis.mixed import fit_lmm
from backpain_analysis.responders import client_changes, client_trends, responder_rates, time_to_improvement, wilson_interval
from backpain_analysis.simulate import simulate


@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [
        # Newcombe 1998, Stat Med 17:857-872, Table I, method 3 (score interval without continuity correction).
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0000, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_interval_matches_newcombe_1998(successes: int, n: int, low: float, high: float) -> None:
    got = wilson_interval(successes, n)
    assert got == pytest.approx((low, high), abs=5e-5)


# Freireich et al. 1963 6-MP arm (remission weeks, 0 = censored), the Kaplan-Meier example of
# Kleinbaum & Klein, Survival Analysis, ch. 2. Reference: R 4.x survival,
# summary(survfit(Surv(t, s) ~ 1, conf.type = "log-log")): time, survival, std.err, lower, upper.
SIX_MP_TIMES = [6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35]
SIX_MP_EVENT = [1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]
SIX_MP_R = pd.DataFrame(
    [
        (6, 0.857, 0.0764, 0.620, 0.952),
        (7, 0.807, 0.0869, 0.563, 0.923),
        (10, 0.753, 0.0963, 0.503, 0.889),
        (13, 0.690, 0.1068, 0.432, 0.849),
        (16, 0.627, 0.1141, 0.368, 0.805),
        (22, 0.538, 0.1282, 0.268, 0.747),
        (23, 0.448, 0.1346, 0.188, 0.680),
    ],
    columns=["time", "survival", "std_error", "lower", "upper"],
)


def _panel_from_times(times: list[int], events: list[int], programs: list[str] | None = None) -> pd.DataFrame:
    """NPRS 8 at week 0; at week T either 5 (improved by 3 >= MCID 2: event) or 8 (last measurement: censored)."""
    rows = []
    for i, (time, event) in enumerate(zip(times, events, strict=True)):
        program = programs[i] if programs else "a"
        rows.append({"client_id": f"k{i:02d}", "week": 0, "nprs": 8.0, "program": program})
        rows.append({"client_id": f"k{i:02d}", "week": time, "nprs": 5.0 if event else 8.0, "program": program})
    return pd.DataFrame(rows)


def test_kaplan_meier_matches_r_survival_on_6mp() -> None:
    result = time_to_improvement(_panel_from_times(SIX_MP_TIMES, SIX_MP_EVENT), "nprs", by=None, confirm=False, censoring="independent")
    curve = result.curves[result.curves["time"] > 0].reset_index(drop=True)
    assert curve["time"].tolist() == SIX_MP_R["time"].tolist()
    assert 1 - curve["estimate"].to_numpy() == pytest.approx(SIX_MP_R["survival"].to_numpy(), abs=5e-4)
    assert curve["std_error"].to_numpy() == pytest.approx(SIX_MP_R["std_error"].to_numpy(), abs=5e-5)
    assert 1 - curve["conf_high"].to_numpy() == pytest.approx(SIX_MP_R["lower"].to_numpy(), abs=5e-4)
    assert 1 - curve["conf_low"].to_numpy() == pytest.approx(SIX_MP_R["upper"].to_numpy(), abs=5e-4)
    assert curve["n_at_risk"].tolist() == [21, 17, 15, 12, 11, 7, 6]
    median = result.medians.iloc[0]
    # R: median 23, 0.95LCL 13, 0.95UCL NA (not reached).
    assert (median["estimate"], median["conf_low"]) == (23, 13)
    assert np.isnan(median["conf_high"])
    assert result.curves.iloc[0][["time", "estimate"]].tolist() == [0, 0]


def test_kaplan_meier_without_censoring_is_the_empirical_distribution() -> None:
    times = [1, 2, 2, 3, 5, 5, 5, 8]
    result = time_to_improvement(_panel_from_times(times, [1] * len(times)), "nprs", by=None, confirm=False, censoring="independent")
    curve = result.curves.set_index("time")["estimate"]
    for t in sorted(set(times)):
        assert curve[t] == pytest.approx(np.mean(np.array(times) <= t))


def test_logrank_and_groups() -> None:
    times = [1, 2, 2, 3, 4, 9, 10, 11, 12, 12]
    programs = ["fast"] * 5 + ["slow"] * 5
    result = time_to_improvement(_panel_from_times(times, [1] * 10, programs), "nprs", confirm=False, censoring="independent")
    assert result.medians["group"].tolist() == ["all", "fast", "slow"]
    assert result.medians.set_index("group").loc[["fast", "slow"], "estimate"].tolist() == [2, 11]
    assert result.logrank.iloc[0]["df"] == 1
    assert result.logrank.iloc[0]["p_value"] < 0.01


def test_client_changes_directions_criteria_and_baseline_rule() -> None:
    panel = pd.DataFrame(
        [
            # a: NPRS 6 -> 4: 2 points (absolute yes), 33 % (relative yes); PSFS 3 -> 6 (+3, better).
            ("a", 0, 6.0, 3.0), ("a", 3, 4.0, np.nan), ("a", 5, np.nan, 6.0),
            # b: NPRS 3 -> 2: 1 point (no), 33 % (relative yes); PSFS 5 -> 4 (worse).
            ("b", 1, 3.0, 5.0), ("b", 4, 2.0, 4.0),
            # c: NPRS 2 -> 0: recovered.
            ("c", 0, 2.0, np.nan), ("c", 2, 1.0, np.nan), ("c", 6, 0.0, np.nan),
            # d: first measured in week 2: no baseline.
            ("d", 2, 7.0, np.nan), ("d", 6, 1.0, np.nan),
            # e: baseline only.
            ("e", 0, 5.0, np.nan),
        ],
        columns=["client_id", "week", "nprs", "psfs"],
    )
    nprs = client_changes(panel, "nprs").set_index("client_id")
    assert nprs.index.tolist() == ["a", "b", "c"]
    assert nprs.attrs["excluded"] == {"no_baseline": 1, "no_followup": 1}
    assert nprs["improvement"].tolist() == [2.0, 1.0, 2.0]
    assert nprs["mcid_absolute"].tolist() == [True, False, True]
    assert nprs["mcid_relative"].tolist() == [True, True, True]
    assert nprs["recovered"].tolist() == [False, False, True]
    assert client_changes(panel, "nprs", at_week=2)["client_id"].tolist() == ["c"]
    psfs = client_changes(panel, "psfs").set_index("client_id")
    assert psfs["improvement"].tolist() == [3.0, -1.0]
    assert psfs["mcid_absolute"].tolist() == [True, False]
    assert "mcid_relative" not in psfs.columns and "recovered" not in psfs.columns


def test_custom_instrument_is_a_clear_error() -> None:
    panel = pd.DataFrame({"client_id": ["a", "a"], "week": [0, 1], "grip": [10.0, 12.0]})
    with pytest.raises(DataError, match="has no minimal important change"):
        responder_rates(panel, "grip")


@pytest.fixture(scope="module")
def study():
    return simulate(200, 12, seed=11, bad_rows=False)


def test_responder_rate_recovers_simulated_share(study) -> None:
    truth = study.truth["instruments"]["nprs"]["responders"]
    rates = responder_rates(study.weekly, "nprs")
    overall = rates[(rates["group"] == "all") & (rates["term"] == "mcid_absolute")].iloc[0]
    # Same definition (week-0 baseline, last measured week) on the same scores: identical share.
    assert overall["n_clients"] == truth["clients_with_follow_up"]
    assert overall["estimate"] == pytest.approx(truth["observed_share_ge_mcid"])
    # The expected share under the data-generating process lies inside the Wilson interval.
    assert overall["conf_low"] < truth["expected_share_observed_ge_mcid"] < overall["conf_high"]
    programs = rates[rates["group"] != "all"]
    assert set(programs["group"]) == {"usual", "stretching_only", "strength_mobility"}
    assert programs.groupby("term")["n_clients"].sum().eq(overall["n_clients"]).all()
    assert rates.attrs["conf_level"] == 0.95



def test_endpoint_window_dropout_share_and_wilson_std_error() -> None:
    panel = pd.DataFrame(
        [("a", 0, 6.0), ("a", 9, 5.0), ("a", 11, 3.0), ("b", 0, 5.0), ("b", 4, 2.0), ("c", 0, 7.0), ("c", 10, 4.0), ("c", 14, 1.0)],
        columns=["client_id", "week", "nprs"],
    )
    changes = client_changes(panel, "nprs", window=(9, 12)).set_index("client_id")
    assert changes["followup_week"].to_dict() == {"a": 11, "c": 10}
    assert changes.attrs["followup"] == "last measurement in weeks 9-12"
    assert changes.attrs["dropout_share"] == pytest.approx(1 / 3)
    rates = responder_rates(panel, "nprs", window=(9, 12), by=None, missing="complete_case")
    row = rates[rates["term"] == "mcid_absolute"].iloc[0]
    assert (row["n_clients"], row["n_responders"], row["n_dropouts"]) == (2, 2, 1)
    assert (row["method"], row["estimate"], row["complete_case_estimate"]) == ("complete case", 1.0, 1.0)
    assert row["dropout_share"] == pytest.approx(1 / 3)
    # the standard error is the one the Wilson interval implies
    assert row["std_error"] * 2 * 1.959964 == pytest.approx(row["conf_high"] - row["conf_low"], rel=1e-5)
    # by default one leaver is too few for a model of who leaves: refused in words, no weighted number
    refused = responder_rates(panel, "nprs", window=(9, 12), by=None)
    row = refused[refused["term"] == "mcid_absolute"].iloc[0]
    assert np.isnan(row["estimate"]) and np.isnan(row["conf_low"]) and row["complete_case_estimate"] == 1.0
    assert "only 1 of 3 clients left before week 9" in refused.attrs["notes"][0]


def test_sustained_improvement_needs_confirmation() -> None:
    # k0 beats baseline by 3 in week 2 but not in week 3, then again in weeks 5 and 6 (confirmed at 5)
    rows = [(0, 8.0), (2, 5.0), (3, 7.5), (5, 5.0), (6, 5.5)]
    panel = pd.DataFrame([("k0", w, s) for w, s in rows], columns=["client_id", "week", "nprs"])
    first = time_to_improvement(panel, "nprs", by=None, confirm=False, censoring="independent").clients.iloc[0]
    sustained = time_to_improvement(panel, "nprs", by=None).clients.iloc[0]
    assert (first["time"], first["event"]) == (2, 1)
    assert (sustained["time"], sustained["event"]) == (5, 1)


def test_with_no_true_change_responders_time_to_improvement_and_trends_say_so(studio_twists) -> None:
    """Nobody truly changes: the responder rate is what noise alone gives, confirmed events are rare,
    and the shrunken per-client changes call almost nobody likely to have improved by the MCID.
    Tolerances: the noise share inside the 95 % Wilson interval; confirmed noise events under half the
    unconfirmed ones; expected share of important improvers under 5 %."""
    panel, truth = studio_twists.program_studio(120, 12, seed=8, course=0.0, severity_course=0.0, slope_sd=0.0, informative_dropout=False)
    assert truth["true_responder_share"] == 0.0
    rates = responder_rates(panel, "nprs", window=(10, 11), by=None)
    row = rates[rates["term"] == "mcid_absolute"].iloc[0]
    assert row["conf_low"] <= row["noise_share"] <= row["conf_high"]
    assert 0.0 < row["noise_share"] < 0.15
    assert rates.attrs["noise_sd"] == pytest.approx(0.8, rel=0.1)
    tti = time_to_improvement(panel, "nprs", by=None)
    assert tti.notes["noise_event_share"] < 0.5 * tti.notes["noise_event_share_unconfirmed"]
    assert tti.curves["estimate"].max() < tti.notes["noise_event_share"] + 0.1
    trends = client_trends(panel, "nprs", endpoint=11)
    assert trends.attrs["share_likely_important"] < 0.05
    # the interval for the share of truly important improvers holds the true 0
    assert trends.attrs["share_conf_low"] == 0.0 <= trends.attrs["share_conf_high"] < 0.1
    raw = panel[panel["week"] == 11].set_index("client_id")["nprs"] - panel[panel["week"] == 0].set_index("client_id")["nprs"]
    assert trends["estimate"].std() < 0.5 * raw.std()  # shrunken towards the average change
    assert {"improvement", "improvement_low", "improvement_high", "prob_important"} <= set(trends.columns)


def test_client_trends_prediction_errors_match_hendersons_equations(studio_twists) -> None:
    """Each client's SE is the prediction-error SD of (b1 + u1_i) from the inverse of Henderson's
    mixed-model equations (dense, here) times the endpoint (to 1e-8), not sqrt(Var(b1) + condVar)."""
    panel, _ = studio_twists.program_studio(20, 10, seed=5, slope_sd=0.15)
    trends = client_trends(panel, "nprs", endpoint=9)
    fit = fit_lmm(panel, "nprs ~ week", groups="client_id", re_formula="~ week")
    clients = pd.Index(trends["client_id"])
    codes = clients.get_indexer(panel["client_id"])
    x = np.column_stack([np.ones(len(panel)), panel["week"].to_numpy(float)])
    z = np.zeros((len(panel), 2 * len(clients)))
    z[np.arange(len(panel)), 2 * codes] = 1.0
    z[np.arange(len(panel)), 2 * codes + 1] = panel["week"].to_numpy(float)
    g_inv = np.kron(np.eye(len(clients)), np.linalg.inv(fit.cov_re().loc[["Intercept", "week"], ["Intercept", "week"]].to_numpy()))
    mme = np.block([[x.T @ x, x.T @ z], [z.T @ x, z.T @ z + fit.scale * g_inv]]) / fit.scale
    errors = np.linalg.inv(mme)
    for j in range(len(clients)):
        pick = np.zeros(len(mme))
        pick[1] = pick[2 + 2 * j + 1] = 1.0
        assert trends["std_error"].iloc[j] == pytest.approx(9 * np.sqrt(pick @ errors @ pick), rel=1e-8)
    naive = 9 * np.sqrt(fit.params.set_index("term").loc["week", "std_error"] ** 2 + fit.random_effects.query("term == 'week'")["std_error"].to_numpy() ** 2)
    assert (trends["std_error"].to_numpy() < naive).all()


def _null_studio(studio_twists, n_clients: int, seed: int, informative: bool = True) -> pd.DataFrame:
    """Nobody truly changes; with ``informative`` clients whose score worsened leave early (MAR given their scores)."""
    panel, _ = studio_twists.program_studio(
        n_clients, 12, seed=seed, course=0.0, severity_course=0.0, slope_sd=0.0, informative_dropout=informative, indication="baseline_score"
    )
    return panel


def test_endpoint_dropout_model_is_fitted_on_the_weeks_before_the_endpoint() -> None:
    # a, b, c measured in the window (weeks 3-4); d..h leave before it, after weeks 1 or 2
    scores = {
        "a": [5, 4, 4, 3], "b": [6, 6, 5, 5], "c": [4, 4, 3, 3],
        "d": [5, 7], "e": [6, 6, 8], "f": [4, 6], "g": [5, 5, 7], "h": [3, 5],
    }
    panel = pd.DataFrame([(c, w, float(v)) for c, values in scores.items() for w, v in enumerate(values)], columns=["client_id", "week", "nprs"])
    rates = responder_rates(panel, "nprs", window=(3, 4), by=None)
    model = rates.attrs["dropout_model"]
    rows = model.rows.set_index(["client_id", "week"])
    assert len(rows) == 3 * 3 + 2 + 3 + 2 + 3 + 2  # weeks 0-2 of the stayers, every week of the leavers
    assert rows["left"].groupby(level=0).sum().to_dict() == {"a": 0, "b": 0, "c": 0, "d": 1, "e": 1, "f": 1, "g": 1, "h": 1}
    assert bool(rows.loc[("e", 2), "left"]) and not bool(rows.loc[("e", 1), "left"])
    assert rows.loc[("e", 2), "improvement"] == -2.0 and rows.loc[("e", 2), "baseline"] == 6.0
    if model.fitted:  # 5 leavers: weighted; otherwise (separation) refused in words
        row = rates[rates["term"] == "mcid_absolute"].iloc[0]
        assert row["method"] == "ipcw" and row["n_effective"] <= row["n_clients"]
    else:
        assert "could not be fitted" in rates.attrs["notes"][0]


def test_ipcw_responder_rate_removes_the_dropout_bias_when_nobody_changes(studio_twists) -> None:
    """Nobody truly changes and clients whose score worsened leave (about half): the complete-case rate
    exceeds what noise alone gives, the weighted one does not. Tolerances (one seeded studio of 400
    clients): the weighted rate within 0.02 of the noise share and its interval holding it; the
    complete-case rate at least 0.015 above the weighted one."""
    panel = _null_studio(studio_twists, 400, seed=21)
    rates = responder_rates(panel, "nprs", window=(10, 11), by=None)
    row = rates[rates["term"] == "mcid_absolute"].iloc[0]
    assert row["method"] == "ipcw" and rates.attrs["dropout_model"].fitted
    assert 0.35 < row["dropout_share"] < 0.6
    assert abs(row["estimate"] - row["noise_share"]) < 0.02
    assert row["conf_low"] <= row["noise_share"] <= row["conf_high"]
    assert row["complete_case_estimate"] > row["estimate"] + 0.015
    assert row["n_effective"] < row["n_clients"]
    assert "missing at random given their observed scores" in rates.attrs["missing_assumption"]
    coefficients = rates.attrs["dropout_model"].params.set_index("term")["estimate"]
    assert coefficients["improvement"] < -0.5  # clients whose score worsened (negative improvement) left


def test_ipcw_time_to_improvement_removes_the_dropout_bias_when_nobody_changes(studio_twists) -> None:
    """As above for the confirmed time-to-improvement curve, against the noise-alone curve on the same
    schedules. Tolerances: the weighted end within 0.015 of the noise curve and its interval holding it;
    the plain Kaplan-Meier end at least 0.005 above the weighted one."""
    panel = _null_studio(studio_twists, 400, seed=21)
    tti = time_to_improvement(panel, "nprs", by=None)
    end = tti.curves.iloc[-1]
    noise = tti.notes["noise_curve_end"]
    assert "refusal" not in tti.notes and tti.notes["dropout_model"].fitted
    assert abs(end["estimate"] - noise) < 0.015
    assert end["conf_low"] <= noise <= end["conf_high"]
    assert end["km_estimate"] > end["estimate"] + 0.005
    assert tti.notes["noise_event_share"] < noise  # events within shortened follow-up are fewer than over the whole of it
    assert np.isfinite(tti.medians.iloc[0]["n_clients"])


def test_ipcw_without_dropout_is_the_kaplan_meier_and_refusal_is_in_words(studio_twists) -> None:
    panel = _null_studio(studio_twists, 60, seed=4, informative=False)
    weighted = time_to_improvement(panel, "nprs", by=None)
    plain = time_to_improvement(panel, "nprs", by=None, censoring="independent")
    assert weighted.notes["missing_assumption"].startswith("no client left")
    # everyone followed to the end: the noise curve's end is the share of clients with a noise event (same draws)
    assert weighted.notes["noise_curve_end"] == pytest.approx(weighted.notes["noise_event_share"], rel=1e-12)
    for column in ("estimate", "std_error", "conf_low", "conf_high"):
        assert weighted.curves[column].to_numpy() == pytest.approx(plain.curves[column].to_numpy(), abs=1e-12)
    rates = responder_rates(panel, "nprs", window=(10, 11), by=None)
    assert (rates["method"] == "complete case").all() and rates.attrs["notes"] == ["no client left before week 10: no weighting needed"]
    # three clients leave early: too few for a model of who leaves
    few = panel[~(panel["client_id"].isin(["c000", "c001", "c002"]) & (panel["week"] > 3))]
    refused = time_to_improvement(few, "nprs", by=None)
    assert refused.notes["refusal"].startswith("only 3 of 60 clients stopped being measured before week 11")
    later = refused.curves[refused.curves["time"] > 0]
    assert later["estimate"].isna().all() and later["km_estimate"].notna().all()
    assert np.isnan(refused.medians.iloc[0]["estimate"])


def test_weighted_wilson_median_from_band_and_weights_at_by_hand() -> None:
    from backpain_analysis.responders import _median_from_band, _weighted_wilson, _weights_at

    # with equal weights Kish's n is n: the Wilson interval itself
    assert _weighted_wilson(15 / 148, 148.0, 0.95) == pytest.approx(wilson_interval(15, 148), rel=1e-12)
    assert _weighted_wilson(0.0, 12.5, 0.95)[0] == 0.0 and np.isnan(_weighted_wilson(np.nan, 10.0, 0.95)[0])
    # the median is the first time the share reaches 0.5; its limits where the band's upper / lower edge do
    time = np.array([0.0, 2.0, 4.0, 6.0, 8.0])
    estimate = np.array([0.0, 0.3, 0.5, 0.6, 0.7])
    low, high = estimate - 0.15, estimate + 0.25
    assert _median_from_band(time, estimate, low, high) == {"estimate": 4.0, "conf_low": 2.0, "conf_high": 8.0}
    assert np.isnan(_median_from_band(time, estimate / 2, low / 2, high / 2)["estimate"])
    # a client's weight at each time: through their weeks up to t (confirmed events) or before t (single scores)
    steps = (np.array([1.0, 2.0, 4.0]), np.array([1.5, 2.0, 3.0]))
    times = np.array([1.0, 2.0, 3.0, 5.0])
    assert _weights_at((*steps, True), times).tolist() == [1.5, 2.0, 2.0, 3.0]
    assert _weights_at((*steps, False), times).tolist() == [1.0, 1.5, 2.0, 3.0]
    assert _weights_at(None, times).tolist() == [1.0] * 4
