"""The simulator: determinism, contract format, exposures = the rows, truth, bad rows, recovery."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from backpain_analysis.catalog import classify_exercises
from backpain_analysis.cli import main
from backpain_analysis.contract import OPTIONAL_COLUMNS, REQUIRED_COLUMNS
from backpain_analysis.errors import DataError
from backpain_analysis.instruments import instrument
from backpain_analysis.loading import load
from backpain_analysis.panel import weekly_panel
from backpain_analysis.simulate import (
    BAD_ROW_KINDS,
    EFFECT_TERMS,
    EXERCISES,
    OUTCOME_MODELS,
    SATURATION_SETS,
    simulate,
    write_study,
)

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
EXPOSURES = ("core_sets", "back_sets", "other_strength_sets", "strength_sets", "volume_load_kg",
             "flexibility_min", "mixed_min", "sessions", "active_days")


@pytest.fixture(scope="module")
def study():
    return simulate(40, 10, seed=11)


@pytest.fixture(scope="module")
def written(study, tmp_path_factory):
    out = tmp_path_factory.mktemp("sim")
    write_study(study, out)
    return out


def _read(folder, table: str) -> pd.DataFrame:
    return pd.read_csv(folder / f"{table}.csv", dtype=str, keep_default_na=False)


def _without_bad_rows(frame: pd.DataFrame, truth: dict, table: str) -> pd.DataFrame:
    rows = [r["row"] for r in truth["bad_rows"] if r["table"] == table]
    return frame.drop(index=[r - 2 for r in rows])


def test_same_seed_same_study_other_seed_other_study():
    a, b, c = simulate(15, 6, seed=3), simulate(15, 6, seed=3), simulate(15, 6, seed=4)
    for table in ("sessions", "outcomes", "clients", "weekly"):
        pd.testing.assert_frame_equal(getattr(a, table), getattr(b, table))
    assert a.truth == b.truth
    assert not a.sessions.equals(c.sessions)


def test_files_follow_the_contract(study, written):
    sessions, outcomes, clients = (_read(written, t) for t in ("sessions", "outcomes", "clients"))
    for table, frame in (("sessions", sessions), ("outcomes", outcomes), ("clients", clients)):
        assert set(REQUIRED_COLUMNS[table]) <= set(frame.columns)
        assert set(frame.columns) <= set(REQUIRED_COLUMNS[table]) | set(OPTIONAL_COLUMNS[table]) | {"name", "email"}
    good = _without_bad_rows(sessions, study.truth, "sessions")
    assert classify_exercises(good["exercise"]).notna().all()
    assert set(good["exercise"]) <= {e.name for e in EXERCISES}
    assert (good["sets"].astype(int) >= 1).all()
    assert set(good["load_unit"]) <= {"", "kg", "lb"}
    assert ((good["load"] == "") == (good["load_unit"] == "")).all()
    assert good["date"].str.fullmatch(r"\d{4}-\d{2}-\d{2}( \d{2}:\d{2})?").all()
    mixed = good[good["exercise"].isin(["yoga", "pilates"])]
    assert (mixed["sets"] == "1").all() and (mixed["duration_s"].astype(int) >= 45 * 60).all()
    scores = _without_bad_rows(outcomes, study.truth, "outcomes")
    items = scores["instrument"].str.fullmatch(r"odi_q\d+")
    assert scores.loc[items, "score"].astype(int).between(0, 5).all()
    for name in ("nprs", "odi", "psfs"):
        info, values = instrument(name), scores.loc[scores["instrument"] == name, "score"].astype(float)
        assert values.between(info.min, info.max).all() and len(values)
    assert clients["name"].str.fullmatch(r"Client \d+").all()
    assert clients["email"].str.fullmatch(r"client\d+@example\.invalid").all()


def test_written_truth_is_the_truth(study, written):
    assert json.loads((written / "truth.json").read_text()) == study.truth


def test_exposures_are_a_hand_aggregation_of_the_written_rows(study, written):
    rows = _without_bad_rows(_read(written, "sessions"), study.truth, "sessions")
    start = _read(written, "clients").set_index("client_id")["start_date"].map(pd.Timestamp)
    modality = {e.name: e.modality for e in EXERCISES}
    rows = rows.assign(
        day=pd.to_datetime(rows["date"].str[:10]),
        modality=rows["exercise"].map(modality),
        sets=rows["sets"].astype(int),
        minutes=rows["sets"].astype(int) * pd.to_numeric(rows["duration_s"]).fillna(0) / 60,
        kg=pd.to_numeric(rows["load"]).fillna(0) * np.where(rows["load_unit"] == "lb", 0.45359237, 1.0),
    )
    rows["week"] = (rows["day"] - rows["client_id"].map(start)).dt.days // 7
    rows["volume"] = rows["sets"] * pd.to_numeric(rows["reps"]).fillna(0) * rows["kg"]
    keys = ["client_id", "week"]
    sets = rows.pivot_table(index=keys, columns="modality", values="sets", aggfunc="sum", fill_value=0)
    minutes = rows.pivot_table(index=keys, columns="modality", values="minutes", aggfunc="sum", fill_value=0.0)
    grouped = rows.groupby(keys)
    hand = pd.DataFrame({
        "core_sets": sets["core"], "back_sets": sets["back"], "other_strength_sets": sets["other_strength"],
        "strength_sets": sets["core"] + sets["back"],
        "volume_load_kg": rows[rows["modality"].isin(["core", "back"])].groupby(keys)["volume"].sum(),
        "flexibility_min": minutes["flexibility"], "mixed_min": minutes["mixed"],
        "sessions": grouped["date"].nunique(), "active_days": grouped["day"].nunique(),
    }).reset_index()
    merged = study.weekly.merge(hand, on=["client_id", "week"], how="left", suffixes=("", "_hand"))
    assert len(hand) == (study.weekly["active_days"] > 0).sum()
    for column in EXPOSURES:
        np.testing.assert_allclose(merged[column], merged[f"{column}_hand"].fillna(0), atol=1e-9, err_msg=column)


def test_loader_rejects_exactly_the_planted_rows_and_the_panel_is_the_simulated_one(study, written):
    dataset = load(written)
    planted = {(r["table"], r["row"]) for r in study.truth["bad_rows"]}
    assert set(zip(dataset.rejected["table"], dataset.rejected["row"], strict=True)) == planted
    unknown = dataset.rejected[dataset.rejected["value"] == "Jefferson curl"]
    assert unknown["reason"].str.startswith("unknown exercise").all() and len(unknown) == 1
    panel = weekly_panel(dataset)
    merged = panel.merge(study.weekly, on=["client_id", "week"], how="outer", suffixes=("", "_sim"), indicator=True)
    assert (merged["_merge"] == "both").all()
    for column in (*EXPOSURES, "nprs", "odi", "psfs"):
        np.testing.assert_allclose(merged[column].astype(float), merged[f"{column}_sim"].astype(float), atol=1e-9, err_msg=column)


def test_planted_bad_rows_are_where_truth_says(study, written):
    kinds = {(r["table"], r["kind"], r["column"]) for r in study.truth["bad_rows"]}
    assert kinds == set(BAD_ROW_KINDS)
    for r in study.truth["bad_rows"]:
        frame = _read(written, r["table"])
        assert frame.at[r["row"] - 2, r["column"]] == r["value"]
    clean = simulate(40, 10, seed=11, bad_rows=False)
    assert clean.truth["bad_rows"] == []
    assert len(study.sessions) - len(clean.sessions) == sum(t == "sessions" for t, _, _ in BAD_ROW_KINDS)
    pd.testing.assert_frame_equal(clean.weekly, study.weekly)


def test_truth_names_every_parameter(study):
    truth = study.truth
    assert {"seed", "package_version", "options", "instruments", "bad_rows", "clients", "training"} <= set(truth)
    assert truth["seed"] == 11 and truth["options"]["lag"] == 1
    for name, entry in truth["instruments"].items():
        assert list(entry["effects"]) == ["Intercept", *EFFECT_TERMS]
        assert set(entry["random_effects"]) >= {"sd_intercept", "sd_week", "corr_intercept_week"}
        assert entry["residual_sd"] == OUTCOME_MODELS[name].residual_sd
        assert entry["effects"]["strength_sets_within"] == OUTCOME_MODELS[name].strength_sets_within
    assert len(truth["clients"]) == 40


def test_the_documented_formula_gives_the_expected_scores():
    """mu_it of docs/simulation.md, rebuilt from truth.json and the weekly panel."""
    study = simulate(60, 12, seed=5, program_advantage=True, bad_rows=False)
    effects = study.truth["instruments"]["nprs"]["effects"]
    direct = study.truth["instruments"]["nprs"]["programs"]["direct_week_vs_reference"]
    w = study.weekly.sort_values(["client_id", "week"]).copy()
    clients = {c["client_id"]: c for c in study.truth["clients"]}
    for lag, column in (("S", "strength_sets"), ("F", "flexibility_min")):
        w[lag] = w.groupby("client_id")[column].shift(1)
    fit = w[w["nprs"].notna() & w["S"].notna()]
    means = fit.groupby("client_id")[["S", "F"]].mean()
    for client, row in means.iterrows():
        assert row["S"] == pytest.approx(clients[client]["nprs"]["strength_sets_mean"], rel=1e-5)
    later = w[w["week"] >= 1]
    sb, fb = later["client_id"].map(means["S"]), later["client_id"].map(means["F"])
    ds, df = later["S"] - sb, later["F"] - fb
    u0 = later["client_id"].map(lambda k: clients[k]["nprs"]["u_intercept"])
    u1 = later["client_id"].map(lambda k: clients[k]["nprs"]["u_week"])
    slope = OUTCOME_MODELS["nprs"].week + later["program"].map(direct) + u1
    mu = (effects["Intercept"] + u0 + slope * later["week"]
          + effects["strength_sets_within"] * ds + effects["flexibility_min_within"] * df
          + effects["strength_x_flexibility_within"] * ds * df
          + effects["strength_sets_between"] * sb + effects["flexibility_min_between"] * fb)
    known = sb.notna()
    np.testing.assert_allclose(mu[known], later.loc[known, "nprs_expected"], atol=1e-4)


def test_saturating_strength_effect_follows_its_curve():
    zero = {term: 0.0 for term in EFFECT_TERMS[1:]} | {"week": 0.0, "sd_intercept": 0.0, "sd_week": 0.0}
    study = simulate(50, 10, seed=8, dose_response="saturating", bad_rows=False, outcome_models={"nprs": zero})
    dose = study.truth["instruments"]["nprs"]["dose_response"]
    assert dose["k_sets_per_week"] == SATURATION_SETS and dose["emax"] == OUTCOME_MODELS["nprs"].saturation_emax
    w = study.weekly.sort_values(["client_id", "week"]).copy()
    w["curve"] = 1 - np.exp(-w.groupby("client_id")["strength_sets"].shift(1) / SATURATION_SETS)
    fit = w[w["nprs"].notna() & w["curve"].notna()]
    centre = w["client_id"].map(fit.groupby("client_id")["curve"].mean())
    expected = OUTCOME_MODELS["nprs"].intercept + dose["emax"] * (w["curve"] - centre)
    later = w["week"] >= 1
    np.testing.assert_allclose(w.loc[later, "nprs_expected"], expected[later], atol=1e-12)
    assert study.truth["instruments"]["nprs"]["effects"]["strength_sets_within"] < 0


def test_reverse_causation_flares_cut_the_next_weeks_training():
    study = simulate(200, 12, seed=2, reverse_causation=True, bad_rows=False)
    w = study.weekly.sort_values(["client_id", "week"]).copy()
    w["flare_before"] = w.groupby("client_id")["flare"].shift(1)
    w = w[w["week"] >= 3].dropna(subset=["flare_before"])
    deviation = w["strength_sets"] - w.groupby("client_id")["strength_sets"].transform("mean")
    assert np.corrcoef(deviation, w["flare_before"])[0, 1] < -0.1
    assert study.truth["reverse_causation"]["rho"] > 0 and study.truth["options"]["reverse_causation"]


def test_dropout_leaves_no_rows_after_the_last_week(study):
    for client in study.truth["clients"]:
        weeks = study.weekly.loc[study.weekly["client_id"] == client["client_id"], "week"]
        assert weeks.max() < client["weeks_in_study"]
    assert any(c["weeks_in_study"] < 10 for c in study.truth["clients"])


def test_expected_responder_share_matches_the_simulated_share():
    study = simulate(1500, 8, seed=21, bad_rows=False)
    for name in ("nprs", "odi"):
        r = study.truth["instruments"][name]["responders"]
        n, p = r["clients_with_follow_up"], r["expected_share_observed_ge_mcid"]
        assert abs(r["observed_share_ge_mcid"] - p) < 3.5 * np.sqrt(p * (1 - p) / n), name
        assert r["share_true_improvement_ge_mcid"] < p  # noise adds apparent responders


def test_program_advantage_is_recorded_and_steepens_the_slope():
    on = simulate(400, 12, seed=4, program_advantage=True, bad_rows=False).truth["instruments"]["nprs"]["programs"]
    off = simulate(400, 12, seed=4, bad_rows=False).truth["instruments"]["nprs"]["programs"]
    assert on["direct_week_vs_reference"]["strength_mobility"] == OUTCOME_MODELS["nprs"].program_week["strength_mobility"]
    assert set(off["direct_week_vs_reference"].values()) == {0.0}
    gap = on["total_week_vs_reference"]["strength_mobility"] - off["total_week_vs_reference"]["strength_mobility"]
    assert gap == pytest.approx(OUTCOME_MODELS["nprs"].program_week["strength_mobility"], abs=1e-9)


def test_lag1_mixed_model_recovers_the_within_strength_effect():
    study = simulate(150, 16, seed=2024, bad_rows=False)
    w = study.weekly.sort_values(["client_id", "week"]).copy()
    for lag, column in (("S", "strength_sets"), ("F", "flexibility_min")):
        w[lag] = w.groupby("client_id")[column].shift(1)
    d = w.dropna(subset=["nprs", "S"]).copy()
    for lag, name in (("S", "s"), ("F", "f")):
        d[f"{name}b"] = d.groupby("client_id")[lag].transform("mean")
        d[f"{name}w"] = d[lag] - d[f"{name}b"]
    d["sf"] = d["sw"] * d["fw"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = smf.mixedlm("nprs ~ week + sw + fw + sf + sb + fb", d, groups="client_id", re_formula="~week").fit(
            reml=True, method=["lbfgs"]
        )
    truth = study.truth["instruments"]["nprs"]["effects"]["strength_sets_within"]
    assert abs(fit.params["sw"] - truth) < 3 * fit.bse["sw"]


def test_bad_arguments_are_one_line_errors():
    with pytest.raises(DataError, match="at least 1 client and 2 weeks"):
        simulate(0, 10, seed=1)
    with pytest.raises(DataError, match="dose_response"):
        simulate(5, 10, seed=1, dose_response="cubic")
    with pytest.raises(DataError, match="no simulated instrument 'vas'"):
        simulate(5, 10, seed=1, outcome_models={"vas": {}})


def test_simulate_command_writes_the_four_files(tmp_path, capsys):
    out = tmp_path / "sim"
    status = main(["simulate", "--clients", "12", "--weeks", "6", "--seed", "9", "--out", str(out),
                   "--reverse-causation", "--dose-response", "saturating", "--no-bad-rows"])
    assert status == 0
    assert sorted(p.name for p in out.iterdir()) == ["clients.csv", "outcomes.csv", "sessions.csv", "truth.json"]
    truth = json.loads((out / "truth.json").read_text())
    assert truth["options"] | {"outcome_models": {}, "training": {}} == {
        "reverse_causation": True, "dose_response": "saturating", "bad_rows": False, "program_advantage": False,
        "lag": 1, "outcome_models": {}, "training": {},
    }
    assert re.search(r"sessions\.csv \(\d+ rows\)", capsys.readouterr().out)
    assert main(["simulate", "--clients", "0", "--weeks", "6", "--seed", "9", "--out", str(out)]) == 2


def test_the_sample_is_what_its_readme_command_makes(tmp_path):
    readme = (SAMPLE / "README.md").read_text()
    command = re.search(r"^backpain (simulate .*) --out data/sample$", readme, re.MULTILINE)
    assert command, "data/sample/README.md must give the simulate command"
    assert main([*command.group(1).split(), "--out", str(tmp_path)]) == 0
    for name in ("sessions.csv", "outcomes.csv", "clients.csv"):
        assert (tmp_path / name).read_bytes() == (SAMPLE / name).read_bytes(), name
    made, shipped = (json.loads((folder / "truth.json").read_text()) for folder in (tmp_path, SAMPLE))
    assert made | {"package_version": None} == shipped | {"package_version": None}
