"""fit_lmm against lme4 (published sleepstudy values and committed reference fits), recovery, API, errors.

The lme4 numbers come from tests/reference/lme4_reference.R (run on the CSVs
beside it); tests never need R.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from backpain_analysis.errors import DataError
from backpain_analysis.mixed import fit_lmm

REFERENCE = Path(__file__).parent / "reference"
LME4 = json.loads((REFERENCE / "lme4_reference.json").read_text())["fits"]
ENGINES = ["fast", "statsmodels"]


def _patsy_name(lme4_name: str) -> str:
    """lme4's coefficient name -> patsy's: ``(Intercept)`` -> ``Intercept``, ``armb`` -> ``arm[T.b]``."""
    name = lme4_name.replace("(Intercept)", "Intercept")
    return ":".join(re.sub(r"^arm([a-z])$", r"arm[T.\1]", part) for part in name.split(":"))


def _fit_reference(name: str, engine: str):
    ref = LME4[name]
    fixed, random = ref["formula"].split(" + (")
    terms, groups = (part.strip() for part in random.rstrip(")").split("|"))
    data = pd.read_csv(REFERENCE / ref["data"])
    return ref, fit_lmm(data, fixed, groups, f"~ {terms}", reml=ref["reml"], engine=engine)


@pytest.fixture(scope="module")
def sleepstudy() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "sleepstudy.csv")


@pytest.mark.parametrize("engine", ENGINES)
def test_sleepstudy_matches_bates_et_al_2015(sleepstudy, engine):
    """Bates, Maechler, Bolker & Walker (2015), J Stat Softw 67(1), the sleepstudy random-slope fit."""
    fit = fit_lmm(sleepstudy, "Reaction ~ Days", "Subject", "~ Days", engine=engine)
    params = fit.params.set_index("term")
    for term, estimate, se in (("Intercept", 251.405, 6.825), ("Days", 10.467, 1.546)):
        assert abs(params.loc[term, "estimate"] - estimate) <= 0.01 * se + 5e-4  # + rounding of the paper
        assert params.loc[term, "std_error"] == pytest.approx(se, rel=0.01)
    vc = fit.variance_components.set_index("term")["estimate"]
    assert vc["sd__Intercept"] == pytest.approx(24.741, abs=1e-3)
    assert vc["sd__Days"] == pytest.approx(5.922, abs=1e-3)
    assert vc["cor__Intercept.Days"] == pytest.approx(0.066, abs=1e-3)
    assert vc["sd__Observation"] == pytest.approx(25.592, abs=1e-3)
    assert fit.reml_criterion == pytest.approx(LME4["sleepstudy"]["reml_criterion"], abs=1e-6)
    assert fit.converged and not fit.singular and not fit.boundary
    assert (fit.nobs, fit.ngroups, fit.n_dropped) == (180, 18, 0)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    "name", ["slope200", "intercept_arms", "singular", pytest.param("three_re", marks=pytest.mark.slow),
             pytest.param("three_re_ml", marks=pytest.mark.slow)]
)
def test_simulated_panels_match_lme4(name, engine):
    """Fixed effects within 0.01 SE, SEs within 1 %, variance components and log-likelihood as lme4's optimum."""
    ref, fit = _fit_reference(name, engine)
    params = fit.params.set_index("term")
    assert sorted(params.index) == sorted(_patsy_name(t) for t in ref["fixef"])
    for term, estimate in ref["fixef"].items():
        se = ref["se"][term]
        assert abs(params.loc[_patsy_name(term), "estimate"] - estimate) <= 0.01 * se
        assert params.loc[_patsy_name(term), "std_error"] == pytest.approx(se, rel=0.01)
    vc = fit.variance_components.set_index("term")["estimate"]
    for term, sd in ref["sd"].items():
        assert vc[f"sd__{_patsy_name(term)}"] == pytest.approx(sd, rel=1e-3, abs=1e-4)
    for pair, corr in ref["corr"].items():
        a, b = (_patsy_name(t) for t in pair.split(":"))
        assert vc[f"cor__{a}.{b}"] == pytest.approx(corr, abs=2e-3)
    assert vc["sd__Observation"] == pytest.approx(ref["sigma"], rel=1e-4)
    # lme4's tight (BOBYQA) optimum: equal within 1e-3; lme4's default fit: no better than ours.
    assert fit.loglik == pytest.approx(ref["loglik"], abs=1e-3)
    assert fit.loglik >= ref["default_fit"]["loglik"] - 1e-6
    assert (fit.nobs, fit.ngroups) == (ref["nobs"], ref["ngroups"][next(iter(ref["ngroups"]))])
    assert fit.singular == ref["singular"]
    assert fit.converged


def test_fast_engine_reaches_lme4_where_statsmodels_lbfgs_stops_short():
    """The issue's case: on this 200-client panel statsmodels' L-BFGS stops 3.3 log-likelihood units short."""
    ref, fit = _fit_reference("slope200", "fast")
    assert fit.loglik == pytest.approx(ref["loglik"], abs=1e-6)
    params = fit.params.set_index("term")["estimate"]
    for term, estimate in ref["fixef"].items():
        assert params[_patsy_name(term)] == pytest.approx(estimate, rel=1e-4)


def test_sleepstudy_random_effects_and_predictions_match_lme4(sleepstudy):
    ref = LME4["sleepstudy"]
    fit = fit_lmm(sleepstudy, "Reaction ~ Days", "Subject", "~ Days")
    blups = fit.random_effects.pivot(index="level", columns="term", values="estimate")
    blup_se = fit.random_effects.pivot(index="level", columns="term", values="std_error")
    levels = [int(g) for g in ref["ranef"]["group"]]
    for term in ("Intercept", "Days"):
        np.testing.assert_allclose(blups.loc[levels, term], ref["ranef"][term], rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(blup_se.loc[levels, term], ref["ranef"][f"{term}_sd"], rtol=1e-4)
    np.testing.assert_allclose(fit.predict().iloc[:10], ref["fitted_first10"], rtol=1e-7)
    np.testing.assert_allclose(fit.predict(include_random=False).iloc[:10], ref["population_first10"], rtol=1e-9)


def test_predict_new_data_unknown_groups_and_missing_values(sleepstudy):
    fit = fit_lmm(sleepstudy, "Reaction ~ Days", "Subject", "~ Days")
    beta = fit.params.set_index("term")["estimate"]
    new = pd.DataFrame({"Days": [0.0, 5.0, np.nan], "Subject": [308, 99999, 308]}, index=[10, 11, 12])
    predicted = fit.predict(new)
    blup = fit.random_effects.query("level == 308").set_index("term")["estimate"]
    assert list(predicted.index) == [10, 11, 12]
    assert predicted[10] == pytest.approx(beta["Intercept"] + blup["Intercept"])
    assert predicted[11] == pytest.approx(beta["Intercept"] + 5 * beta["Days"])  # unseen group: population
    assert np.isnan(predicted[12])
    population = fit.predict(new.drop(columns="Subject"), include_random=False)
    assert population[10] == pytest.approx(beta["Intercept"])
    with pytest.raises(DataError, match="Subject"):
        fit.predict(new.drop(columns="Subject"))


def test_missing_rows_are_dropped_counted_and_reported():
    ref, fit = _fit_reference("three_re", "fast")
    data = pd.read_csv(REFERENCE / ref["data"])
    assert fit.n_dropped == int(data["x1"].isna().sum()) == len(data) - ref["nobs"]
    assert any("dropped" in m and "x1" in m for m in fit.messages)


def test_result_tables_have_the_contract_columns(sleepstudy):
    fit = fit_lmm(sleepstudy, "Reaction ~ Days", "Subject", "~ Days", level=0.9)
    assert list(fit.params.columns) == [
        "term", "estimate", "std_error", "statistic", "df", "p_value", "conf_low", "conf_high"
    ]
    assert fit.level == 0.9 and fit.ddf == "satterthwaite"
    assert fit.params.attrs == {"level": 0.9, "ddf": "satterthwaite", "null": 0.0}
    row = fit.params.set_index("term").loc["Days"]
    t = stats.t.ppf(0.95, row["df"])
    assert row["conf_high"] - row["estimate"] == pytest.approx(t * row["std_error"])
    assert row["statistic"] == pytest.approx(row["estimate"] / row["std_error"])
    assert row["p_value"] == pytest.approx(2 * stats.t.sf(abs(row["statistic"]), row["df"]))
    wald = fit_lmm(sleepstudy, "Reaction ~ Days", "Subject", "~ Days", level=0.9, ddf="z").params.set_index("term")
    assert np.isnan(wald.loc["Days", "df"])
    z = stats.norm.ppf(0.95)
    assert wald.loc["Days", "conf_high"] - wald.loc["Days", "estimate"] == pytest.approx(z * row["std_error"])
    assert wald.loc["Days", "p_value"] == pytest.approx(2 * stats.norm.sf(abs(row["statistic"])))
    assert list(fit.variance_components["term"]) == ["sd__Intercept", "sd__Days", "cor__Intercept.Days", "sd__Observation"]
    assert list(fit.random_effects.columns) == ["level", "term", "estimate", "std_error"]
    assert fit.cov_params().loc["Days", "Days"] == pytest.approx(row["std_error"] ** 2)
    assert fit.cov_re().loc["Days", "Days"] == pytest.approx(5.922133**2, rel=1e-5)
    assert fit.aic == pytest.approx(-2 * fit.loglik + 2 * 6)
    assert fit.bic == pytest.approx(-2 * fit.loglik + np.log(180) * 6)


def test_summary_and_html_are_readable(sleepstudy):
    fit = fit_lmm(sleepstudy, "Reaction ~ Days", "Subject", "~ Days")
    text = fit.summary()
    for piece in ("REML criterion 1743.6283", "Subject", "Residual", "Days", "converged", "not singular"):
        assert piece in text
    page = fit._repr_html_()
    assert "<table" in page and "Days" in page and "Reaction ~ Days" in page


def test_ml_fit_reports_loglik_not_reml_criterion():
    ref, fit = _fit_reference("three_re_ml", "fast")
    assert np.isnan(fit.reml_criterion)
    assert -2 * fit.loglik == pytest.approx(ref["deviance"], abs=2e-3)
    assert "maximum likelihood" in fit.summary()


def test_singular_fit_is_flagged_in_status_and_messages():
    _, fit = _fit_reference("singular", "fast")
    assert fit.singular and fit.boundary and fit.converged
    assert any(m.startswith("singular fit") for m in fit.messages)
    corr = fit.variance_components.set_index("term").loc["cor__Intercept.time", "estimate"]
    assert corr == pytest.approx(-1.0)


def test_intercept_only_with_categorical_terms_and_transformations():
    data = pd.read_csv(REFERENCE / "panel_intercept_arms.csv")
    base = fit_lmm(data, "y ~ dose * arm + age", "group")
    assert "dose:arm[T.b]" in set(base.params["term"])
    assert base.re_formula == "~ 1"
    centred = fit_lmm(data.assign(age=data["age"] - 45.0), "y ~ dose * C(arm) + center(age)", "group", "1")
    assert centred.loglik == pytest.approx(base.loglik, abs=1e-6)
    logged = fit_lmm(data, "y ~ np.log1p(dose) + arm", "group")
    assert "np.log1p(dose)" in set(logged.params["term"])


@pytest.mark.parametrize("seed", range(8))
def test_fast_and_statsmodels_engines_agree_on_random_designs(seed):
    """Same optimum from two optimisers: criterion within 1e-4, fixed effects within 0.001 SE."""
    rng = np.random.default_rng(seed)
    groups, per = int(rng.integers(15, 40)), int(rng.integers(4, 10))
    client = np.repeat(np.arange(groups), per)
    frame = pd.DataFrame(
        {
            "client": client,
            "week": np.tile(np.arange(per), groups),
            "a": rng.normal(size=client.size),
            "b": rng.gamma(2.0, 2.0, size=client.size),
        }
    )
    sd_slope = [0.0, 0.05, 0.3][seed % 3]
    frame["y"] = (
        1.0 + 0.5 * frame["a"] - 0.2 * frame["b"] + 0.1 * frame["a"] * frame["b"]
        + rng.normal(0, 1.0, groups)[client] + rng.normal(0, sd_slope, groups)[client] * frame["week"]
        + rng.normal(size=client.size)
    )
    re_formula = "~ week" if seed % 4 else None
    fast = fit_lmm(frame, "y ~ a * b + week", "client", re_formula, reml=seed % 5 != 0, engine="fast")
    reference = fit_lmm(frame, "y ~ a * b + week", "client", re_formula, reml=seed % 5 != 0, engine="statsmodels")
    assert fast.loglik >= reference.loglik - 1e-6
    assert fast.loglik == pytest.approx(reference.loglik, abs=1e-4)
    diff = (fast.params["estimate"] - reference.params["estimate"]).abs() / fast.params["std_error"]
    assert diff.max() < 1e-3


@pytest.mark.slow
def test_parameter_recovery_bias_and_coverage():
    """100 simulated data sets of 40 groups x 8 occasions, random intercept and slope.

    Tolerances: each fixed effect's mean error within 3.5 Monte Carlo SEs of
    0; coverage of the 95 % Wald intervals, pooled over the 4 effects (400
    intervals), inside the binomial 99.9 % band around 95 % (91.4-98.6 %).
    """
    truth = np.array([2.0, -0.3, 0.5, 0.2])
    estimates, covered = [], []
    for seed in range(100):
        rng = np.random.default_rng(1000 + seed)
        client = np.repeat(np.arange(40), 8)
        week = np.tile(np.arange(8), 40).astype(float)
        x = rng.normal(size=client.size)
        group_x = np.repeat(rng.binomial(1, 0.5, 40), 8)
        b = rng.multivariate_normal([0, 0], [[1.0, 0.05], [0.05, 0.04]], size=40)
        y = truth @ np.vstack([np.ones_like(x), week, x, group_x]) + b[client, 0] + b[client, 1] * week
        frame = pd.DataFrame({"y": y + rng.normal(size=client.size), "week": week, "x": x, "g": group_x, "client": client})
        params = fit_lmm(frame, "y ~ week + x + g", "client", "~ week").params
        estimates.append(params["estimate"].to_numpy())
        covered.append((params["conf_low"] <= truth) & (truth <= params["conf_high"]))
    errors = np.array(estimates) - truth
    mc_se = errors.std(axis=0, ddof=1) / np.sqrt(len(errors))
    assert np.all(np.abs(errors.mean(axis=0)) < 3.5 * mc_se)
    coverage = np.mean(covered)
    half_band = stats.norm.ppf(0.9995) * np.sqrt(0.95 * 0.05 / np.size(covered))
    assert abs(coverage - 0.95) < half_band


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"formula": "Reaction ~ Dayz"}, "'Dayz', which is not in the data"),
        ({"formula": "Reaction ~ days"}, "did you mean 'Days'"),
        ({"formula": "Subject ~ Days"}, "not numeric"),
        ({"groups": "subject"}, "'subject'"),
        ({"re_formula": "~ Weeks"}, "'Weeks'"),
        ({"formula": "~ Days"}, "needs an outcome"),
        ({"formula": "Reaction ~ Days + I(2 * Days)"}, "collinear"),
        ({"formula": "Reaction ~ np.log(Days - 5)"}, "missing or infinite values"),
        ({"formula": "Reaction ~ Days + Empty"}, "no complete rows"),
        ({"engine": "lme4"}, "engine must be one of"),
        ({"level": 95}, "level must be a number between 0 and 1"),
        ({"ddf": "kr"}, "ddf must be one of satterthwaite, kenward-roger, z"),
        ({"ddf": "kenward-roger", "reml": False}, "needs a REML fit"),
    ],
)
def test_bad_input_raises_one_line_data_error(sleepstudy, kwargs, match):
    args = {"formula": "Reaction ~ Days", "groups": "Subject", "re_formula": "~ Days"} | kwargs
    data = sleepstudy.assign(Subject=sleepstudy["Subject"].astype(str), Empty=np.nan)
    with pytest.raises(DataError, match=match) as caught:
        fit_lmm(data, **args)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("ddf", ["satterthwaite", "kenward-roger", "z"])
def test_contrast_of_unit_weights_is_the_params_row(sleepstudy, ddf):
    fit = fit_lmm(sleepstudy, "Reaction ~ Days", "Subject", "~ Days", ddf=ddf)
    table = fit.contrast(np.eye(2), names=["Intercept", "Days"])
    pd.testing.assert_frame_equal(table, fit.params)
    assert list(table.columns) == ["term", "estimate", "std_error", "statistic", "df", "p_value", "conf_low", "conf_high"]


def test_contrast_accepts_dicts_series_frames_and_arrays(sleepstudy):
    fit = fit_lmm(sleepstudy, "Reaction ~ Days", "Subject", "~ Days")
    by_dict = fit.contrast({"Intercept": 1.0, "Days": 5.0})
    assert by_dict["term"].tolist() == ["Intercept + 5*Days"]
    by_series = fit.contrast(pd.Series({"Days": 5.0, "Intercept": 1.0}))
    by_array = fit.contrast([1.0, 5.0])
    frame = pd.DataFrame({"Days": [5.0, -1.0], "Intercept": [1.0, 0.0]}, index=["day 5", "minus Days"])
    by_frame = fit.contrast(frame)
    assert by_frame["term"].tolist() == ["day 5", "minus Days"]
    for other in (by_series, by_array, by_frame.iloc[:1]):
        np.testing.assert_allclose(other.iloc[:, 1:].to_numpy(float), by_dict.iloc[:, 1:].to_numpy(float), rtol=1e-12)
    beta = fit.params.set_index("term")["estimate"]
    cov = fit.cov_params()
    assert by_dict["estimate"][0] == pytest.approx(beta["Intercept"] + 5 * beta["Days"])
    assert by_dict["std_error"][0] == pytest.approx(np.sqrt(cov.iloc[0, 0] + 10 * cov.iloc[0, 1] + 25 * cov.iloc[1, 1]))
    # Balanced design: every contrast has lmerTest's 17 df (tests/test_mixed_ddf.py pins unbalanced ones to R).
    assert by_dict["df"][0] == pytest.approx(17.0, rel=1e-5)
    assert by_frame["estimate"][1] == pytest.approx(-beta["Days"])
    assert by_frame["df"][1] == pytest.approx(fit.params["df"][1])
    assert fit.contrast({"Days": 1.0, "Intercept": -1.0})["term"][0] == "-Intercept + Days"


def test_contrast_null_level_and_method(sleepstudy):
    fit = fit_lmm(sleepstudy, "Reaction ~ Days", "Subject", "~ Days")
    base = fit.contrast({"Days": 1.0}).iloc[0]
    shifted = fit.contrast({"Days": 1.0}, null=10.0).iloc[0]
    assert shifted["statistic"] == pytest.approx((base["estimate"] - 10.0) / base["std_error"])
    assert shifted["p_value"] == pytest.approx(2 * stats.t.sf(abs(shifted["statistic"]), base["df"]))
    assert (shifted["conf_low"], shifted["conf_high"]) == (base["conf_low"], base["conf_high"])
    narrow = fit.contrast({"Days": 1.0}, level=0.5)
    assert narrow.attrs["level"] == 0.5
    assert narrow["conf_high"][0] - base["estimate"] == pytest.approx(stats.t.ppf(0.75, base["df"]) * base["std_error"])
    kr = fit_lmm(sleepstudy, "Reaction ~ Days", "Subject", "~ Days", ddf="kenward-roger").params
    pd.testing.assert_frame_equal(fit.contrast(np.eye(2), ddf="kenward-roger", names=["Intercept", "Days"]), kr)


@pytest.mark.parametrize(
    ("weights", "match"),
    [
        ({"Dayz": 1.0}, "'Dayz', not a fixed effect; terms are: Intercept, Days"),
        ([1.0, 2.0, 3.0], "need 2 columns"),
        ([0.0, 0.0], "all weights 0"),
        ([np.nan, 1.0], "finite"),
    ],
)
def test_contrast_bad_weights_are_data_errors(sleepstudy, weights, match):
    fit = fit_lmm(sleepstudy, "Reaction ~ Days", "Subject", "~ Days", ddf="z")
    with pytest.raises(DataError, match=match):
        fit.contrast(weights)


def test_conf_level_is_a_deprecated_alias_of_level(sleepstudy):
    with pytest.warns(DeprecationWarning, match="level="):
        fit = fit_lmm(sleepstudy, "Reaction ~ Days", "Subject", "~ Days", conf_level=0.9)
    assert fit.level == fit.conf_level == 0.9
    assert fit.params.attrs["level"] == 0.9


def test_too_few_groups_for_the_random_effects_is_a_data_error(sleepstudy):
    two = sleepstudy[sleepstudy["Subject"].isin([308, 309])]
    with pytest.raises(DataError, match="2 groups"):
        fit_lmm(two, "Reaction ~ Days", "Subject", "~ Days")
    assert fit_lmm(two, "Reaction ~ Days", "Subject").ngroups == 2


@pytest.mark.parametrize(
    "formula, re_formula",
    [
        ("Reaction ~ Days", "~ Days"),
        ("Reaction ~ Days * dose + whole", "~ 0 + Days"),
        ("Reaction ~ 0 + Days + Days:dose:whole", "~ 1"),
    ],
)
def test_plain_numeric_formulas_skip_patsy_with_the_same_matrices(sleepstudy, formula, re_formula):
    """Formulas of plain numeric columns are filled without patsy's per-row work: same names, same numbers."""
    import patsy

    from backpain_analysis import mixed

    frame = sleepstudy.assign(dose=np.linspace(0.0, 3.0, len(sleepstudy)), whole=np.arange(len(sleepstudy), dtype="int32"))
    env = patsy.EvalEnvironment([mixed._FORMULA_FUNCTIONS])
    fast = mixed._plain_numeric_design(frame, formula, re_formula, env)
    assert fast is not None
    for (info, columns), (reference_info, reference) in zip(fast, mixed._patsy_design(frame, formula, re_formula, env), strict=True):
        assert info.column_names == reference_info.column_names
        np.testing.assert_array_equal(mixed._dense(columns, len(frame)), mixed._dense(reference, len(frame)))
    # A single-column term is the frame's own column (no copy); the intercept is None (ones).
    (_, y), (names, x), _ = fast
    assert np.shares_memory(y[0], frame["Reaction"].to_numpy()) and ("Intercept" not in names.column_names or x[0] is None)


@pytest.mark.parametrize(
    "values",
    [
        pd.Series(np.repeat(["b", "c", "d10", "d9"], 3)),  # sorted runs: the one-pass path
        pd.Series(np.repeat(["b", "c", "d10", "d9"], 3), dtype="str"),
        pd.Series(np.repeat(["b", "c", "d10", "d9"], 3), dtype="object"),
        pd.Series(np.repeat([3, 7, 20], 4)),
        pd.Series(np.repeat([0.5, 1.5], 3)),
        pd.Series(["b", "b", "a", "a", "c"]),  # runs out of order
        pd.Series(["a", "b", "a", "b"]),  # a group in two runs
        pd.Series(pd.Categorical(["x", "x", "y"])),
        pd.Series([1, "a", "a"], dtype="object"),  # not comparable: factorize's unsorted order
        pd.Series(["only"]),
    ],
)
def test_group_codes_equal_pandas_factorize(values):
    from backpain_analysis import mixed

    codes, levels = mixed._group_codes(values)
    try:
        expected_codes, expected_levels = pd.factorize(values, sort=True)
    except TypeError:
        expected_codes, expected_levels = pd.factorize(values)
    np.testing.assert_array_equal(codes, expected_codes)
    assert codes.dtype == np.intp
    pd.testing.assert_index_equal(levels, pd.Index(expected_levels))


@pytest.mark.parametrize(
    "formula", ["Reaction ~ C(Days)", "Reaction ~ np.log1p(Days)", "Reaction ~ flag + Days", 'Reaction ~ Q("Days")']
)
def test_formulas_patsy_must_evaluate_take_the_patsy_path(sleepstudy, formula):
    import patsy

    from backpain_analysis import mixed

    frame = sleepstudy.assign(flag=sleepstudy["Days"] > 4)
    assert mixed._plain_numeric_design(frame, formula, "~ 1", patsy.EvalEnvironment([mixed._FORMULA_FUNCTIONS])) is None
    assert fit_lmm(frame, formula, "Subject").converged


def test_columns_outside_the_model_neither_drop_rows_nor_change_the_fit(sleepstudy):
    """The design reads the model's columns in place: other columns (even unnamed twins or gaps) play no part."""
    plain = fit_lmm(sleepstudy, "Reaction ~ Days", "Subject", "~ Days")
    extra = sleepstudy.assign(note=np.where(np.arange(len(sleepstudy)) % 3 == 0, np.nan, 1.0))
    extra.index = np.repeat(np.arange(len(extra) // 2 + 1), 2)[: len(extra)]  # duplicate row labels
    twin = pd.concat([extra, extra[["note"]]], axis=1)  # a duplicated column name outside the model
    before = twin.copy()
    for frame in (extra, twin):
        fit = fit_lmm(frame, "Reaction ~ Days", "Subject", "~ Days")
        assert fit.nobs == len(sleepstudy) and fit.n_dropped == 0
        np.testing.assert_allclose(fit.params["estimate"], plain.params["estimate"], rtol=1e-10)
    pd.testing.assert_frame_equal(twin, before)


def test_a_fit_keeps_columns_and_builds_the_design_matrices_only_for_predict(sleepstudy):
    """The fit works from the model's columns: X and Z exist only once predict (or another user) asks for them."""
    fit = fit_lmm(sleepstudy, "Reaction ~ Days", "Subject", "~ Days")
    design = fit._design
    assert "x" not in vars(design) and "z" not in vars(design)
    assert design.x_columns[0] is None and np.shares_memory(design.y, sleepstudy["Reaction"].to_numpy())  # float: no copy
    fitted = fit.predict()
    blups = fit.random_effects.pivot(index="level", columns="term", values="estimate").loc[design.levels]
    expected = (
        fit.params["estimate"].iloc[0] + fit.params["estimate"].iloc[1] * sleepstudy["Days"]
        + blups["Intercept"].to_numpy()[design.codes] + blups["Days"].to_numpy()[design.codes] * sleepstudy["Days"]
    )
    np.testing.assert_allclose(fitted, expected, rtol=1e-12)
    np.testing.assert_array_equal(design.x, np.column_stack([np.ones(len(sleepstudy)), sleepstudy["Days"]]))
