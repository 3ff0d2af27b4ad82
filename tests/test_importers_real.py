"""The two real app exports in ../shared/real-exports (Strong and Hevy), imported end to end.

Expected counts come from reading the raw files with the csv module here,
not from the importer: rows read, warm-ups, dates and weights are checked
against that independent reading.
"""

from __future__ import annotations

import csv
import hashlib
import os
from pathlib import Path

import pandas as pd
import pytest

from backpain_analysis.catalog import classify_exercises
from backpain_analysis.importers import import_export
from backpain_analysis.loading import load

REAL = Path(os.environ.get("BACKPAIN_REAL_EXPORTS", Path(__file__).resolve().parents[2] / "shared" / "real-exports"))
pytestmark = pytest.mark.skipif(not REAL.is_dir(), reason=f"real exports not present at {REAL}")

# What a coach calls every exercise of the two files (CONTRACT section 1 modalities):
# Olympic lifts and squats train the legs and hips (other_strength), pulls from the floor,
# hinges, rows and pulldowns train the back, bridges and hip thrusts are core (lumbopelvic
# bridging), cardio is other.
COACH = {
    "Snatch (Barbell)": "other_strength",
    "Squat (Barbell)": "other_strength",
    "Clean and Jerk (Barbell)": "other_strength",
    "Clean (Barbell)": "other_strength",
    "Front Squat (Barbell)": "other_strength",
    "Power Snatch (Barbell)": "other_strength",
    "Power Clean": "other_strength",
    "Overhead Press (Barbell)": "other_strength",
    "Snatch Pull (Barbell)": "back",
    "Hang Snatch (Barbell)": "other_strength",
    "Split Jerk (Barbell)": "other_strength",
    "Aerobics": "other",
    "Crunch": "core",
    "Good Morning (Barbell)": "back",
    "Bench Press (Barbell)": "other_strength",
    "Hang Clean (Barbell)": "other_strength",
    "Clean Pull": "back",
    "Push Up": "other_strength",
    "Deadlift (Barbell)": "back",
    "Snatch Ballance": "other_strength",
    "Strict Military Press (Barbell)": "other_strength",
    "Swimming": "other",
    "Bicep Curl (Dumbbell)": "other_strength",
    "Single Arm Lateral Raise (Cable)": "other_strength",
    "Triceps Pushdown": "other_strength",
    "Cable Fly Crossovers": "other_strength",
    "Single Arm Lat Pulldown": "back",
    "Leg Extension (Machine)": "other_strength",
    "Single Arm Triceps Pushdown (Cable)": "other_strength",
    "Incline Bench Press (Smith Machine)": "other_strength",
    "Lat Pulldown (Cable)": "back",
    "Incline Bench Press (Dumbbell)": "other_strength",
    "Pull Up": "back",
    "Lateral Raise (Dumbbell)": "other_strength",
    "Shoulder Press (Dumbbell)": "other_strength",
    "Bicep Curl (Barbell)": "other_strength",
    "Hip Adduction (Machine)": "other_strength",
    "Triceps Rope Pushdown": "other_strength",
    "Romanian Deadlift (Dumbbell)": "back",
    "Bicep Curl (Cable)": "other_strength",
    "Hip Thrust (Barbell)": "core",
    "Rear Delt Reverse Fly (Machine)": "back",
    "Back Extension (Weighted Hyperextension)": "back",
    "Squat (Smith Machine)": "other_strength",
    "Bent Over Row (Barbell)": "back",
    "Hack Squat (Machine)": "other_strength",
    "Seated Cable Row - Bar Wide Grip": "back",
    "Lying Leg Curl (Machine)": "other_strength",
    "Calf Extension (Machine)": "other_strength",
    "Iso-Lateral Row (Machine)": "back",
    "Leg Press (Machine)": "other_strength",
    "Hip Abduction (Machine)": "other_strength",
    "Chest Fly (Machine)": "other_strength",
    "Leg Press Horizontal (Machine)": "other_strength",
    "Seated Leg Curl (Machine)": "other_strength",
    "Seated Shoulder Press (Machine)": "other_strength",
    "Preacher Curl (Machine)": "other_strength",
    "Butterfly (Pec Deck)": "other_strength",
    "Seated Cable Row - V Grip (Cable)": "back",
    "Preacher Curl (Barbell)": "other_strength",
    "Lat Pulldown - Close Grip (Cable)": "back",
    "Triceps Kickback (Dumbbell)": "other_strength",
    "Chin Up (Assisted)": "back",
    "Romanian Deadlift (Barbell)": "back",
    "Incline Cable Fly": "other_strength",
    "Seated Palms Up Wrist Curl": "other_strength",
    "Overhead Press (Smith Machine)": "other_strength",
    "Seated Dip Machine": "other_strength",
    "Straight Arm Lat Pulldown (Cable)": "back",
    "Hanging Knee Raise": "core",
    "Standing Calf Raise": "other_strength",
    "Landmine Row": "back",
    "Bench Press (Dumbbell)": "other_strength",
    "Dumbbell Row": "back",
    "Treadmill": "other",
}


def _raw(name: str) -> list[dict[str, str]]:
    with open(REAL / name, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _sessions(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "sessions.csv", dtype=str, keep_default_na=False)


def _ledger(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "import_ledger.csv", dtype=str, keep_default_na=False)


@pytest.mark.parametrize("name", ["strong.csv", "hevy.csv"])
def test_every_row_is_a_set_or_a_ledger_row(tmp_path: Path, name: str) -> None:
    raw = _raw(name)
    before = _digest(REAL / name)
    result = import_export(REAL / name, "c1", tmp_path)
    assert _digest(REAL / name) == before
    sets, ledger = _sessions(tmp_path), _ledger(tmp_path)
    rows = sorted(sets["import_row"].astype(int).tolist() + ledger["row"].astype(int).tolist())
    assert rows == list(range(2, len(raw) + 2))
    assert result.export.rows_read == len(raw) == result.sets_imported + result.ledger_rows
    assert (sets["sets"] == "1").all() and (sets["client_id"] == "c1").all()


def test_strong_dates_units_and_holds(tmp_path: Path) -> None:
    raw = pd.DataFrame(_raw("strong.csv"))
    result = import_export(REAL / "strong.csv", "c1", tmp_path)
    sets = _sessions(tmp_path).set_index(pd.Index(range(2, len(raw) + 2)))
    raw.index = sets.index
    assert (sets["date"] == raw["Date"]).all()  # ISO with time already: kept as the session start
    loaded = pd.to_numeric(raw["Weight"]) > 0
    assert (pd.to_numeric(sets.loc[loaded, "load"]) == pd.to_numeric(raw.loc[loaded, "Weight"])).all()
    assert (sets.loc[loaded, "load_unit"] == "kg").all()
    assert any("kg assumed" in note for note in result.export.built.notes)
    timed = pd.to_numeric(raw["Seconds"]) > 0
    assert (pd.to_numeric(sets.loc[timed, "duration_s"]) == pd.to_numeric(raw.loc[timed, "Seconds"])).all()
    cardio = pd.to_numeric(raw["Distance"]) > 0
    assert (sets.loc[cardio, "modality"] == "other").all()
    assert set(sets.loc[~cardio, "modality"]) == {""}


def test_strong_unit_option_sets_pounds(tmp_path: Path) -> None:
    result = import_export(REAL / "strong.csv", "c1", tmp_path, unit="lb")
    sets = _sessions(tmp_path)
    assert set(sets.loc[sets["load"] != "", "load_unit"]) == {"lb"}
    assert not result.export.built.notes


def test_hevy_dates_weights_and_warmups(tmp_path: Path) -> None:
    raw = pd.DataFrame(_raw("hevy.csv"))
    raw.index = range(2, len(raw) + 2)
    import_export(REAL / "hevy.csv", "c1", tmp_path)
    sets = _sessions(tmp_path).set_index("import_row")
    sets.index = sets.index.astype(int)
    ledger = _ledger(tmp_path)
    warmups = raw.index[raw["set_type"] == "warmup"]
    assert sorted(ledger["row"].astype(int)) == list(warmups)
    assert ledger["reason"].str.startswith("warm-up set").all()
    kept = raw.drop(index=warmups)
    first = kept.index[kept["start_time"] == "8 Apr 2026, 16:50"]
    assert (sets.loc[first, "date"] == "2026-04-08 16:50:00").all()
    assert sets["date"].nunique() == kept["start_time"].nunique()  # one session per workout start
    weighted = kept["weight_kg"] != ""
    expected = pd.to_numeric(kept.loc[weighted, "weight_kg"])
    assisted = kept.loc[weighted, "exercise_title"].str.contains("Assisted")
    assert (pd.to_numeric(sets.loc[expected.index[~assisted], "load"]) == expected[~assisted]).all()
    assert (pd.to_numeric(sets.loc[expected.index[assisted], "assistance"]) == expected[assisted]).all()
    assert (sets.loc[expected.index[assisted], "load"] == "").all()
    assert set(sets.loc[sets["load"] != "", "load_unit"]) == {"kg"}
    treadmill = kept.index[kept["exercise_title"] == "Treadmill"]
    assert (sets.loc[treadmill, "duration_s"] == kept.loc[treadmill, "duration_seconds"]).all()
    assert set(sets["set_type"]) == {"normal", "drop", "failure"}


def test_hevy_include_warmups(tmp_path: Path) -> None:
    raw = _raw("hevy.csv")
    result = import_export(REAL / "hevy.csv", "c1", tmp_path, include_warmups=True)
    sets = _sessions(tmp_path)
    assert result.sets_imported == len(raw) and result.ledger_rows == 0
    assert (sets["set_type"] == "warmup").sum() == sum(r["set_type"] == "warmup" for r in raw)


def test_reimport_changes_nothing_and_keeps_other_clients(tmp_path: Path) -> None:
    import_export(REAL / "strong.csv", "a", tmp_path)
    import_export(REAL / "hevy.csv", "b", tmp_path)
    files = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    again = import_export(REAL / "strong.csv", "a", tmp_path)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == files
    assert again.replaced_sets == again.sets_imported
    import_export(REAL / "hevy.csv", "b", tmp_path)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == files


@pytest.mark.parametrize("name", ["strong.csv", "hevy.csv"])
def test_names_map_to_the_right_modality(tmp_path: Path, name: str) -> None:
    result = import_export(REAL / name, "c1", tmp_path)
    assert result.placed_share >= 0.95
    sets = _sessions(tmp_path)
    modality = classify_exercises(sets["exercise"])
    assert sets["exercise"].isin(list(COACH)).all()
    right = modality == sets["exercise"].map(COACH)
    assert right.mean() >= 0.95
    assert right.all(), sorted(set(sets.loc[~right, "exercise"]))


def test_loader_accepts_the_import(tmp_path: Path) -> None:
    import_export(REAL / "strong.csv", "a", tmp_path)
    import_export(REAL / "hevy.csv", "b", tmp_path)
    pd.DataFrame({"client_id": ["a"], "date": ["2021-01-04"], "instrument": ["nprs"], "score": ["4"]}).to_csv(
        tmp_path / "outcomes.csv", index=False
    )
    dataset = load(tmp_path)
    counts = dataset.counts()
    assert counts.loc["sessions", "read"] == len(_sessions(tmp_path))
    unknown = dataset.rejected[dataset.rejected["table"] == "sessions"]
    assert unknown.empty, unknown["reason"].unique()
    starts = dataset.sessions.groupby("client_id")["session_start"].nunique()
    assert starts["b"] == pd.DataFrame(_raw("hevy.csv"))["start_time"].nunique()
