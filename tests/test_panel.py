"""Panel arithmetic against small hand-computed cases (CONTRACT section 3)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from backpain_analysis.contract import LB_TO_KG
from backpain_analysis.dataset import Dataset
from backpain_analysis.loading import load
from backpain_analysis.panel import client_start_dates, lagged, weekly_panel


def _sessions(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    frame["date"] = pd.to_datetime(frame["date"])
    start = pd.to_datetime(frame.pop("start")) if "start" in frame else frame["date"]
    frame["session_start"] = start.fillna(frame["date"])
    for column, default in (("reps", np.nan), ("load_kg", 0.0), ("duration_s", np.nan), ("sets", 1)):
        frame[column] = frame[column].fillna(default) if column in frame else default
    frame["sets"] = frame["sets"].astype("int64")
    return frame


def _outcomes(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["client_id", "date", "instrument", "score"])
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


@pytest.fixture
def small() -> Dataset:
    sessions = _sessions(
        [
            # week 0 of client a (start 2024-03-04, a Monday)
            {"client_id": "a", "date": "2024-03-04", "start": "2024-03-04 08:00", "exercise": "plank", "modality": "core", "sets": 3, "duration_s": 30},
            {"client_id": "a", "date": "2024-03-04", "start": "2024-03-04 08:00", "exercise": "row", "modality": "back", "sets": 3, "reps": 10, "load_kg": 20 * LB_TO_KG},
            {"client_id": "a", "date": "2024-03-04", "start": "2024-03-04 18:00", "exercise": "hamstring stretch", "modality": "flexibility", "sets": 2, "duration_s": 45},
            {"client_id": "a", "date": "2024-03-06", "exercise": "yoga", "modality": "mixed", "sets": 1, "duration_s": 3600},
            {"client_id": "a", "date": "2024-03-10", "exercise": "squat", "modality": "other_strength", "sets": 4, "reps": 5, "load_kg": 60},
            # week 2 of client a (week 1 has no sessions)
            {"client_id": "a", "date": "2024-03-18", "exercise": "walking", "modality": "other", "sets": 1, "duration_s": 1800},
            {"client_id": "a", "date": "2024-03-19", "exercise": "bridge", "modality": "core", "sets": 2, "reps": 12},
            # client b without start_date: first record is an outcome on 2024-05-01
            {"client_id": "b", "date": "2024-05-09", "exercise": "pull-up", "modality": "back", "sets": 5, "reps": 5},
        ]
    )
    outcomes = _outcomes(
        [
            ("a", "2024-03-05", "nprs", 6),
            ("a", "2024-03-09", "nprs", 4),
            ("a", "2024-03-26", "odi", 30),
            ("b", "2024-05-01", "nprs", 7),
        ]
    )
    clients = pd.DataFrame(
        {"client_id": ["a", "b"], "start_date": pd.to_datetime(["2024-03-04", None]), "program": ["strength", "stretch"]}
    )
    return Dataset(sessions=sessions, outcomes=outcomes, clients=clients)


def test_start_dates_fall_back_to_first_record(small: Dataset) -> None:
    start = client_start_dates(small)
    assert start["a"] == pd.Timestamp("2024-03-04")
    assert start["b"] == pd.Timestamp("2024-05-01")


def test_weeks_span_start_to_last_record_with_zero_filled_gaps(small: Dataset) -> None:
    panel = weekly_panel(small)
    a = panel[panel["client_id"] == "a"].set_index("week")
    assert list(a.index) == [0, 1, 2, 3]  # last record: odi on day 22 = week 3
    assert a.loc[1, ["strength_sets", "flexibility_min", "sessions", "active_days"]].tolist() == [0, 0, 0, 0]
    assert a.loc[3, "training_min"] == 0.0
    b = panel[panel["client_id"] == "b"].set_index("week")
    assert list(b.index) == [0, 1]  # outcome day 0, pull-ups day 8


def test_week_zero_exposures_by_hand(small: Dataset) -> None:
    w0 = weekly_panel(small).set_index(["client_id", "week"]).loc[("a", 0)]
    assert w0["core_sets"] == 3
    assert w0["back_sets"] == 3
    assert w0["other_strength_sets"] == 4
    assert w0["strength_sets"] == 6
    # 3 sets x 10 reps x 20 lb; the squat is not core/back and the plank has no reps
    assert w0["volume_load_kg"] == pytest.approx(3 * 10 * 20 * 0.45359237)
    assert w0["flexibility_min"] == pytest.approx(2 * 45 / 60)
    assert w0["mixed_min"] == pytest.approx(60.0)
    # plank 1.5 min + stretch 1.5 min + yoga 60 min
    assert w0["training_min"] == pytest.approx(63.0)
    # two timed sessions on day 0, one date-only session on day 2, one on day 6
    assert w0["sessions"] == 4
    assert w0["active_days"] == 3
    assert w0["days_20min"] == 1
    assert not w0["met_20min_most_days"]


def test_week_two_and_outcome_means(small: Dataset) -> None:
    panel = weekly_panel(small).set_index(["client_id", "week"])
    w2 = panel.loc[("a", 2)]
    assert w2["other_min"] == pytest.approx(30.0)
    assert w2["core_sets"] == 2
    assert w2["volume_load_kg"] == 0.0  # body weight
    assert panel.loc[("a", 0), "nprs"] == pytest.approx(5.0)
    assert np.isnan(panel.loc[("a", 1), "nprs"])
    assert panel.loc[("a", 3), "odi"] == 30
    assert panel.loc[("b", 0), "program"] == "stretch"


def test_most_days_rule() -> None:
    rows = [
        {"client_id": "c", "date": f"2024-01-0{d}", "exercise": "pilates", "modality": "mixed", "duration_s": 20 * 60}
        for d in (1, 2, 3, 4)
    ]
    panel = weekly_panel(Dataset(sessions=_sessions(rows), outcomes=_outcomes([]), clients=pd.DataFrame()))
    assert panel.loc[0, "days_20min"] == 4
    assert bool(panel.loc[0, "met_20min_most_days"])


def test_ewma_loads_follow_the_recursion() -> None:
    rows = [{"client_id": "c", "date": "2024-01-01", "exercise": "plank", "modality": "core", "sets": 10}]
    rows.append({"client_id": "c", "date": "2024-01-15", "exercise": "walk", "modality": "other", "sets": 1})
    panel = weekly_panel(Dataset(sessions=_sessions(rows), outcomes=_outcomes([]), clients=pd.DataFrame()))
    lam_a, lam_c = 2 / 8, 2 / 29
    # 10 sets on day 0, then six days of nothing: L_6 = lam * 10 * (1 - lam)^6
    assert panel.loc[0, "strength_acute"] == pytest.approx(lam_a * 10 * (1 - lam_a) ** 6)
    assert panel.loc[1, "strength_chronic"] == pytest.approx(lam_c * 10 * (1 - lam_c) ** 13)
    assert panel.loc[0, "flexibility_acute"] == 0.0


def test_lag_alignment(small: Dataset) -> None:
    panel = lagged(weekly_panel(small), ["strength_sets"], lag=1)
    a = panel[panel["client_id"] == "a"].set_index("week")
    assert np.isnan(a.loc[0, "strength_sets_lag1"])
    assert a.loc[1, "strength_sets_lag1"] == 6  # week 0's strength sets
    assert a.loc[3, "strength_sets_lag1"] == 2
    b = panel[panel["client_id"] == "b"].set_index("week")
    assert b.loc[1, "strength_sets_lag1"] == 0  # never crosses clients
    two = lagged(weekly_panel(small), ["strength_sets"], lag=2).set_index(["client_id", "week"])
    assert two.loc[("a", 2), "strength_sets_lag2"] == 6


def _random_dataset(seed: int) -> Dataset:
    """Clients with and without a start date (some after records), timed and date-only sessions, every modality, two instruments."""
    rng = np.random.default_rng(seed)
    n = 600
    client = rng.choice([f"k{i:02d}" for i in range(25)], n)
    day = pd.Timestamp("2024-03-01") + pd.to_timedelta(rng.integers(0, 60, n), unit="D")
    timed = rng.random(n) < 0.5
    start = day + pd.to_timedelta(np.where(timed, rng.choice([8, 12, 18], n), 0), unit="h")
    modality = rng.choice(["core", "back", "other_strength", "flexibility", "mixed", "other"], n)
    sessions = pd.DataFrame(
        {
            "client_id": client,
            "date": day,
            "session_start": start,
            "exercise": "x",
            "modality": modality,
            "sets": rng.integers(1, 5, n),
            "reps": np.where(rng.random(n) < 0.3, np.nan, rng.integers(0, 15, n)),
            "load_kg": rng.choice([0.0, 2.5, 20 * 0.45359237], n),
            "duration_s": np.where(rng.random(n) < 0.4, np.nan, rng.integers(10, 900, n)),
        }
    )
    m = 150
    outcomes = pd.DataFrame(
        {
            "client_id": rng.choice([f"k{i:02d}" for i in range(28)], m),
            "date": pd.Timestamp("2024-03-05") + pd.to_timedelta(rng.integers(0, 70, m), unit="D"),
            "instrument": rng.choice(["nprs", "odi"], m),
            "score": rng.integers(0, 11, m).astype(float),
        }
    )
    ids = [f"k{i:02d}" for i in range(0, 30, 2)]
    # some start before their records, some after the first ones (records before day 0 are left out), some unknown
    starts = pd.to_datetime(rng.choice(["2024-02-20", "2024-03-10"], len(ids))).where(rng.random(len(ids)) < 0.6)
    clients = pd.DataFrame({"client_id": ids, "start_date": starts, "program": rng.choice(["a", "b"], len(ids))})
    return Dataset(sessions=sessions, outcomes=outcomes, clients=clients)


def _ewma_reference(daily: np.ndarray, span: int) -> np.ndarray:
    lam, level, out = 2 / (span + 1), 0.0, []
    for value in daily:
        level = lam * value + (1 - lam) * level
        out.append(level)
    return np.array(out)[6::7]


def _reference_panel(dataset: Dataset) -> pd.DataFrame:
    """The panel by plain pandas group-bys on a full client-week grid, loads by a day-by-day loop."""
    s, o = dataset.sessions.copy(), dataset.outcomes.copy()
    start = pd.concat([s[["client_id", "date"]], o[["client_id", "date"]]]).groupby("client_id")["date"].min()
    given = dataset.clients.dropna(subset=["start_date"]).set_index("client_id")["start_date"]
    start.update(given[given.index.isin(start.index)])
    for frame in (s, o):
        frame["day"] = (frame["date"] - frame["client_id"].map(start)).dt.days
        frame["week"] = frame["day"] // 7
    s, o = s[s["day"] >= 0].copy(), o[o["day"] >= 0].copy()
    last = pd.concat([s[["client_id", "week"]], o[["client_id", "week"]]]).groupby("client_id")["week"].max()
    grid = pd.MultiIndex.from_tuples([(c, w) for c, n in last.items() for w in range(n + 1)], names=["client_id", "week"])
    s["seconds"] = (s["sets"] * s["duration_s"]).fillna(0.0)
    s["volume"] = (s["sets"] * s["reps"] * s["load_kg"]).where(s["modality"].isin(["core", "back"])).fillna(0.0)
    by_week = s.groupby(["client_id", "week"])
    sets = s.pivot_table(index=["client_id", "week"], columns="modality", values="sets", aggfunc="sum")
    seconds = s.pivot_table(index=["client_id", "week"], columns="modality", values="seconds", aggfunc="sum")
    daily = s.groupby(["client_id", "week", "date"])["seconds"].sum()
    panel = pd.DataFrame(index=grid)
    panel["week_start"] = [start[c] + pd.Timedelta(days=7 * w) for c, w in grid]
    for m in ("core", "back", "other_strength"):
        panel[f"{m}_sets"] = sets[m].reindex(grid).fillna(0).astype(int)
    panel["strength_sets"] = panel["core_sets"] + panel["back_sets"]
    panel["volume_load_kg"] = by_week["volume"].sum().reindex(grid).fillna(0.0)
    for m in ("flexibility", "mixed", "other"):
        panel[f"{m}_min"] = seconds[m].reindex(grid).fillna(0.0) / 60
    panel["training_min"] = by_week["seconds"].sum().reindex(grid).fillna(0.0) / 60
    panel["sessions"] = by_week["session_start"].nunique().reindex(grid).fillna(0)
    panel["active_days"] = by_week["date"].nunique().reindex(grid).fillna(0)
    panel["days_20min"] = (daily >= 1200).groupby(["client_id", "week"]).sum().reindex(grid).fillna(0)
    panel["met_20min_most_days"] = panel["days_20min"] >= 4
    for name, values in (("strength", s["sets"].where(s["modality"].isin(["core", "back"]), 0)), ("flexibility", s["seconds"].where(s["modality"] == "flexibility", 0.0) / 60)):
        for label, span in (("acute", 7), ("chronic", 28)):
            loads = []
            for client, weeks in last.items():
                per_day = np.zeros(7 * (weeks + 1))
                mine = (s["client_id"] == client).to_numpy()
                np.add.at(per_day, s["day"][mine], values[mine])
                loads.extend(_ewma_reference(per_day, span))
            panel[f"{name}_{label}"] = loads
    panel = panel.join(o.pivot_table(index=["client_id", "week"], columns="instrument", values="score", aggfunc="mean"))
    panel = panel.reset_index().merge(dataset.clients[["client_id", "program"]], on="client_id", how="left")
    return panel


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_panel_equals_a_plain_pandas_reference(seed: int) -> None:
    dataset = _random_dataset(seed)
    pd.testing.assert_frame_equal(weekly_panel(dataset), _reference_panel(dataset), check_dtype=False, rtol=1e-12)


def test_loaded_codes_and_dataframes_give_the_same_panel() -> None:
    # a loaded dataset hands the panel its codes; the same rows as DataFrames take the other road
    loaded = load(Path(__file__).resolve().parents[1] / "data" / "sample")
    from_codes = weekly_panel(loaded)
    frames = Dataset(sessions=loaded.sessions, outcomes=loaded.outcomes, clients=loaded.clients)
    pd.testing.assert_frame_equal(from_codes, weekly_panel(frames))
    assert from_codes["sessions"].sum() > 0 and from_codes["strength_acute"].max() > 0


def test_rows_taken_in_small_chunks_give_the_same_panel(monkeypatch: pytest.MonkeyPatch) -> None:
    # sessions, days and clients straddle chunk boundaries: distinct counts and day sums must not split
    import backpain_analysis.panel as panel_module

    loaded = load(Path(__file__).resolve().parents[1] / "data" / "sample")
    whole = weekly_panel(loaded)
    assert len(loaded.session_table.accepted) < panel_module._CHUNK_ROWS
    monkeypatch.setattr(panel_module, "_CHUNK_ROWS", 7)
    pd.testing.assert_frame_equal(weekly_panel(loaded), whole)


def test_no_accepted_records_give_an_empty_panel(tmp_path: Path) -> None:
    (tmp_path / "sessions.csv").write_text("client_id,date,exercise\nc1,2024-01-01,Jefferson curl\n", encoding="utf-8")
    (tmp_path / "outcomes.csv").write_text("client_id,date,instrument,score\nc1,2024-01-01,nprs,14\n", encoding="utf-8")
    panel = weekly_panel(load(tmp_path))
    assert panel.empty and {"client_id", "week", "strength_sets", "sessions"} <= set(panel.columns)


def test_dataset_holds_its_coded_sessions_explicitly() -> None:
    # issue 10 item 4: no subclass overriding a dataclass field with a property, no isinstance in the panel
    import ast
    import dataclasses
    import inspect

    import backpain_analysis.panel as panel_module
    from backpain_analysis.coded import CodedTable

    assert "session_table" in {f.name for f in dataclasses.fields(Dataset)}
    assert "sessions" not in {f.name for f in dataclasses.fields(Dataset)}
    loaded = load(Path(__file__).resolve().parents[1] / "data" / "sample")
    assert type(loaded) is Dataset and isinstance(loaded.session_table, CodedTable)
    tree = ast.parse(inspect.getsource(panel_module))
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "isinstance"]
    assert not [c for c in calls if "dataset" in ast.unparse(c.args[0]).lower() or "Dataset" in ast.unparse(c.args[1])]
    # a hand-built dataset: its frame is kept as given, its codes made from it; assigning a frame replaces both
    frame = loaded.sessions.head(50)
    built = Dataset(sessions=frame, outcomes=loaded.outcomes.head(0))
    assert built.sessions is frame and len(built.session_table) == 50
    built.sessions = frame.head(10)
    assert len(built.session_table) == 10 and len(built.sessions) == 10


@pytest.mark.parametrize("dense", [True, False])
def test_rows_in_any_order_give_the_same_panel_on_both_summing_roads(monkeypatch: pytest.MonkeyPatch, dense: bool) -> None:
    # rows shuffled across clients, in chunks that span many clients: a bincount over each chunk's span of client-days,
    # or numpy.add.at when the span is long (forced here); the same cells up to the order of floating-point additions
    import backpain_analysis.panel as panel_module

    loaded = load(Path(__file__).resolve().parents[1] / "data" / "sample")
    whole = weekly_panel(loaded)
    shuffled = Dataset(sessions=loaded.sessions.sample(frac=1.0, random_state=3), outcomes=loaded.outcomes, clients=loaded.clients)
    monkeypatch.setattr(panel_module, "_CHUNK_ROWS", 50)
    monkeypatch.setattr(panel_module, "_DENSE_SLACK", 10**9 if dense else -(10**9))
    pd.testing.assert_frame_equal(weekly_panel(shuffled), whole, rtol=1e-12)
    assert whole["sessions"].sum() > 0 and whole["volume_load_kg"].sum() > 0
