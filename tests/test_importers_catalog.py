"""data/catalog_apps.csv: app-library names, valid, consistent with catalog.csv, and right."""

from __future__ import annotations

import pandas as pd
import pytest

from backpain_analysis.catalog import CATALOG_COLUMNS, builtin_catalog, classify_exercises, exercise_key
from backpain_analysis.contract import MODALITIES


@pytest.fixture(scope="module")
def catalogs() -> pd.DataFrame:
    frame = builtin_catalog()
    return frame.assign(key=frame["exercise"].map(exercise_key))


def test_schema_and_values(catalogs: pd.DataFrame) -> None:
    apps = catalogs[catalogs["file"] == "catalog_apps.csv"]
    assert len(apps) >= 150
    assert list(apps.columns[: len(CATALOG_COLUMNS)]) == list(CATALOG_COLUMNS)
    assert apps["modality"].isin(list(MODALITIES)).all()
    assert (apps["source"].str.strip() != "").all()


def test_adds_names_only(catalogs: pd.DataFrame) -> None:
    """No app row repeats a name catalog.csv (or another app row) already places: nothing is shadowed."""
    apps = catalogs[catalogs["file"] == "catalog_apps.csv"]
    curated = set(catalogs.loc[catalogs["file"] == "catalog.csv", "key"])
    assert not set(apps["key"]) & curated
    assert not apps["key"].duplicated().any()


# Common names of the Strong, Hevy and Fitbod libraries, with the modality a coach gives them.
COMMON = {
    "Bench Press (Barbell)": "other_strength",
    "Lat Pulldown (Cable)": "back",
    "Seated Row (Cable)": "back",
    "Hip Thrust (Barbell)": "core",
    "Romanian Deadlift (Barbell)": "back",
    "Plank": "core",
    "Hanging Leg Raise": "core",
    "Running": "other",
    "Cycling": "other",
    "Squat (Barbell)": "other_strength",
    "Glute Bridge": "core",
    "Back Extension (Machine)": "back",
    "Bent Over One Arm Row (Dumbbell)": "back",
    "Chest Supported Incline Row (Dumbbell)": "back",
    "Cable Pull Through": "back",
    "Dumbbell Romanian Deadlift": "back",
    "Barbell Hip Thrust": "core",
    "Frog Pumps": "core",
    "Cable Twist (Down to up)": "core",
    "Knee Raise Parallel Bars": "core",
    "Reverse Plank": "core",
    "Dumbbell Bench Press": "other_strength",
    "Hip Abductor (Machine)": "other_strength",
    "Zercher Squat (Barbell)": "other_strength",
    "Box Jump": "other_strength",
    "Hang Power Clean (Barbell)": "other_strength",
    "Elliptical Machine": "other",
    "Stair Machine": "other",
    "HIIT": "other",
    "Lying Spinal Twist": "flexibility",
    "90/90 Hip Stretch": "flexibility",
    "Yoga": "mixed",
    "Pilates": "mixed",
    "Child's Pose": "flexibility",
}


def test_common_app_names_get_the_right_modality() -> None:
    names = pd.Series(list(COMMON))
    assert classify_exercises(names).tolist() == list(COMMON.values())
