"""The exercise catalog: data files, name matching, coach-correct modalities, real app names."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backpain_analysis import catalog
from backpain_analysis.catalog import builtin_catalog, classify_exercises, exercise_key, normalize_exercise_name
from backpain_analysis.contract import MODALITIES

DATA = Path(__file__).parent / "data" / "loading"

SIMULATOR_NAMES = {
    "plank": "core",
    "side plank": "core",
    "glute bridge": "core",
    "bird dog": "core",
    "dead bug": "core",
    "crunch": "core",
    "seated cable row": "back",
    "pull-up": "back",
    "lat pulldown": "back",
    "back extension": "back",
    "superman": "back",
    "deadlift": "back",
    "hamstring stretch": "flexibility",
    "hip flexor stretch": "flexibility",
    "piriformis stretch": "flexibility",
    "child's pose": "flexibility",
    "cat-cow": "flexibility",
    "knee-to-chest stretch": "flexibility",
    "yoga": "mixed",
    "pilates": "mixed",
    "walking": "other",
    "cycling": "other",
    "squat": "other_strength",
    "leg press": "other_strength",
}


def classify(*names: str, studio: pd.DataFrame | None = None) -> list[object]:
    return classify_exercises(pd.Series(names), studio).tolist()


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("Pull Up (Assisted)", "pull up"),
        ("Row (Machine)", "row"),
        ("Bench Press (Barbell) (Paused)", "bench press"),
        ("(Plank)", "plank"),
        ("Child's Pose", "child pose"),
        ("CHILD\u2019S POSE", "child pose"),
        ("cat-cows", "cat cow"),
        ("  Hip_Flexor   Stretches ", "hip flexor stretch"),
        ("Dumbbell Flies", "dumbbell fly"),
        ("Bench Presses", "bench press"),
        ("Crunches", "crunch"),
        ("Lunges", "lunge"),
        ("Calves stretch", "calf stretch"),
        ("Abs", "ab"),
        ("Sit-ups", "sit up"),
    ],
)
def test_normalize_exercise_name(raw: str, normalised: str) -> None:
    assert normalize_exercise_name(raw) == normalised


def test_spaces_are_ignored_in_matching() -> None:
    assert exercise_key("Pull Up") == exercise_key("pullups") == exercise_key("PULL-UP (Band)") == "pullup"


@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x24F), max_size=40))
@settings(max_examples=200, deadline=None)
def test_normalisation_is_idempotent(name: str) -> None:
    once = normalize_exercise_name(name)
    assert normalize_exercise_name(once) == once


@pytest.mark.parametrize(("name", "modality"), sorted(SIMULATOR_NAMES.items()))
def test_simulator_names_are_in_the_catalog(name: str, modality: str) -> None:
    assert classify(name) == [modality]


@pytest.mark.parametrize(
    ("name", "modality"),
    [
        ("Back Squat", "other_strength"),
        ("Squat (Barbell)", "other_strength"),
        ("Glute Bridge", "core"),
        ("Romanian Deadlift (Dumbbell)", "back"),
        ("Hip Thrust (Barbell)", "core"),
        ("Seated Row", "back"),
        ("Row (Machine)", "back"),
        ("Rowing (Machine)", "other"),
        ("Upright Row (Barbell)", "other_strength"),
        ("Running", "other"),
        ("Reformer Pilates", "mixed"),
        ("Good Morning (Barbell)", "back"),
        ("Face Pull (Cable)", "back"),
        ("Prone Press-Up", "flexibility"),
        ("Press-Up", "other_strength"),
        ("Leg Curl (Machine)", "other_strength"),
        ("Foam Rolling", "flexibility"),
        ("Seated Cable Row - V Grip (Cable)", "back"),
        ("Lat Pulldown - Close Grip (Cable)", "back"),
    ],
)
def test_coach_decisions(name: str, modality: str) -> None:
    assert classify(name) == [modality]


def test_unknown_names_are_missing() -> None:
    result = classify_exercises(pd.Series(["Jefferson curl", None, "plank"], index=[7, 8, 9]))
    assert list(result.index) == [7, 8, 9]
    assert result.isna().tolist() == [True, True, False]


def test_studio_catalog_adds_and_overrides() -> None:
    studio = pd.DataFrame({"exercise": ["Jefferson Curl", "PLANKS"], "modality": ["back", "mixed"]})
    assert classify("jefferson curls", "Plank", "side plank", studio=studio) == ["back", "mixed", "core"]


def test_builtin_files_are_valid_and_consistent() -> None:
    table = builtin_catalog()
    assert list(table.columns) == [*catalog.CATALOG_COLUMNS, "file"]
    assert table["modality"].isin(MODALITIES).all()
    assert (table["exercise"].str.strip() != "").all()
    assert (table["source"].str.strip() != "").all()
    keys = table.assign(key=table["exercise"].map(exercise_key))
    conflicts = keys.groupby("key")["modality"].nunique()
    assert conflicts[conflicts > 1].empty, keys[keys["key"].isin(conflicts[conflicts > 1].index)]
    assert table["file"].iloc[0] == "catalog.csv"


def test_every_modality_is_represented() -> None:
    assert set(builtin_catalog()["modality"]) == set(MODALITIES)


def _plural(name: str) -> str:
    """``name`` with its last word in the plural (English rules; words already ending in s or i kept)."""
    *first, word = normalize_exercise_name(name).split()
    if word.endswith(("s", "i")):
        plural = word
    elif word.endswith(("x", "ch", "sh")):
        plural = word + "es"
    elif word.endswith("y") and len(word) > 2 and word[-2] not in "aeiou":
        plural = word[:-1] + "ies"
    else:
        plural = word + "s"
    return " ".join([*first, plural])


def test_every_builtin_name_survives_spelling_variants() -> None:
    table = builtin_catalog().drop_duplicates("exercise")
    names = table["exercise"]
    expected = table["modality"].tolist()
    for variant in (
        names.str.upper(),
        names.str.replace(" ", "-"),
        names.str.replace(" ", "_").str.title(),
        names + " (Dumbbell)",
        names.map(_plural),
    ):
        assert classify_exercises(variant).fillna("unknown").tolist() == expected


def test_missing_app_file_is_tolerated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(catalog, "BUILTIN_FILES", ("catalog.csv", "no_such_catalog_apps.csv"))
    catalog._builtin.cache_clear()
    try:
        assert set(builtin_catalog()["file"]) == {"catalog.csv"}
        assert classify("plank") == ["core"]
    finally:
        catalog._builtin.cache_clear()


def test_real_export_names_map() -> None:
    """Share of set rows of the real Strong and Hevy exports (../shared/real-exports) whose exercise maps.

    ``real_export_names.csv`` holds each export's distinct exercise names with
    their number of set rows.
    """
    names = pd.read_csv(DATA / "real_export_names.csv")
    names["mapped"] = classify_exercises(names["exercise"]).notna()
    share = names.groupby("app").apply(lambda g: (g["set_rows"] * g["mapped"]).sum() / g["set_rows"].sum(), include_groups=False)
    assert share["hevy"] >= 0.99, names[~names["mapped"]]
    assert share["strong"] >= 0.99, names[~names["mapped"]]
