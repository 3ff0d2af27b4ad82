"""Real exports from public repositories (tests/data/imports/real, README there): every row
accounted for, sets placed, and a coach's placement of their names.

Expected row counts come from reading each file with the csv module here, not
from the importer. Every file here is now tuned on and must place at least 95 %
of its sets. The hold-outs of rounds 1-3 were measured blind once (recorded in
docs/importers.md: every one at 95 % or more except the renamed Strong export,
87.1 %) and became tuned files in session 4 (``tuned-s4``); blind hold-out set 4,
measured once by the coordinator (round 4, recorded in docs/importers.md), became
tuned files in session 4b (``tuned-s4b``), blind hold-out set 5 (round 5) in
session 4c (``tuned-s4c``), blind hold-out set 6 (round 6) in session 4d (``tuned-s4d``) and blind
hold-out set 7 (round 7) in session 4e (``tuned-s4e``) and blind hold-out set 8 (round 8) in session 4f (``tuned-s4f``). A newer blind set is measured by the coordinator, not here.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest

from backpain_analysis.catalog import builtin_catalog, exercise_key, explain_exercise
from backpain_analysis.errors import DataError
from backpain_analysis.importers import import_export

REAL = Path(__file__).parent / "data" / "imports" / "real"
FITNOTES_LBS = "date=Date,exercise=Exercise,category=Category,reps=Reps,weight=Weight (lbs),distance=Distance,distance_unit=Distance Unit,seconds=Time"
FITNOTES_UNIT = (
    "date=Date,exercise=Exercise,category=Category,reps=Reps,weight=Weight,unit=Weight Unit,distance=Distance,distance_unit=Distance Unit,seconds=Time"
)
PLAIN_LOG = "date=Date,exercise=Exercise,weight=Weight,reps=Reps"
SET_LOG = "date=date,exercise=exercise,weight=weight,reps=reps"  # its 'set' column numbers the sets: not a count
IOS_LOG = "date=Start Date (UTC),exercise=Exercise,reps=Reps,weight=Weight,seconds=Time,distance=Distance,status=Status"  # with --monthfirst --unit kg
FITNOTES_KGS = FITNOTES_LBS.replace("Weight (lbs)", "Weight (kgs)")
SET_TYPE_LOG = "date=Date,exercise=Exercise,reps=Reps,weight=Weight,seconds=Time,distance=Distance,set_type=Set Type,rpe=RIR/RPE"  # with --unit kg
CHINESE_LOG = "date=时刻,exercise=动作,weight=每组重量,reps=每组次数"
HEVY_API = "date=workout_start_time,exercise=exercise_title,reps=reps,weight=weight_kg,seconds=duration_seconds,set_type=set_type,rpe=rpe"
# file -> (tuned, or tuned-s4 ... tuned-s4f: a hold-out of rounds 1-3 / 4 / 5 / 6 / 7 / 8 tuned on since session 4 / 4b / 4c / 4d / 4e / 4f; --columns mapping or None,
# format label, smallest share of sets placed)
EXPORTS = {
    "fitbod_chrsilvi.csv": ("tuned", None, "Fitbod", 0.95),
    "hevy_si2aung.csv": ("tuned", None, "Hevy", 0.95),
    "strong_bladeours_semicolon.csv": ("tuned", None, "Strong", 0.95),
    "fitnotes_wmgriffi3.csv": ("tuned", FITNOTES_LBS, "mapped CSV", 0.95),
    "fitbod_jaredhutchinson.csv": ("tuned", None, "Fitbod", 0.95),
    "hevy_tonytromp.csv": ("tuned", None, "Hevy", 0.95),
    "strong_sebastienrdgs_french.csv": ("tuned", None, "Strong", 0.95),
    "strong_mlahoz_oldlayout.csv": ("tuned", None, "Strong", 0.95),
    "fitbod_fsxac_oldlayout.csv": ("tuned", None, "Fitbod (older layout)", 0.95),
    "fitbod_mymmind.csv": ("tuned", None, "Fitbod", 0.95),
    "strong_dericmei_chinese.csv": ("tuned", None, "Strong", 0.95),
    "strong_eliah3_german.csv": ("tuned", None, "Strong", 0.95),
    "strong_notseraphin.csv": ("tuned", None, "Strong", 0.95),
    "strong_colebaril.csv": ("tuned", None, "Strong", 0.95),
    "hevy_lukeram_api.csv": ("tuned", HEVY_API, "mapped CSV", 0.95),
    "hevy_arthmnz_portuguese.csv": ("tuned", None, "Hevy", 0.95),
    "hevy_ferreiragabrielw.csv": ("tuned", None, "Hevy", 0.95),
    "fitnotes_moferg.csv": ("tuned", FITNOTES_LBS, "mapped CSV", 0.95),
    "fitbod_joecummings.csv": ("tuned-s4", None, "Fitbod", 0.95),
    "hevy_ajccosta.csv": ("tuned-s4", None, "Hevy", 0.95),
    "strong_jannesantana.csv": ("tuned-s4", None, "Strong", 0.95),
    "strong_shuheilocale_renamed.csv": ("tuned-s4", None, "Strong", 0.95),
    "fitnotes_bilallb.csv": ("tuned-s4", FITNOTES_UNIT, "mapped CSV", 0.95),
    "fitbod_datojulien.csv": ("tuned-s4", None, "Fitbod", 0.95),
    "strong_linusjacobsson.csv": ("tuned-s4", None, "Strong", 0.95),
    "strong_simongomez_french.csv": ("tuned-s4", None, "Strong", 0.95),
    "fitbod_jakemull13.csv": ("tuned-s4", None, "Fitbod", 0.95),
    "strong_harrig12.csv": ("tuned-s4", None, "Strong", 0.95),
    "fitbod_hannasage.csv": ("tuned", None, "Fitbod", 0.95),
    "fitbod_atrain773_excel.csv": ("tuned", None, "Fitbod", 0.95),
    "strong_mbenningfield13.csv": ("tuned", None, "Strong", 0.95),
    "strong_dstanek_semicolon.csv": ("tuned", None, "Strong", 0.95),
    "strong_shreybirmiwal_decimalreps.csv": ("tuned", None, "Strong", 0.95),
    "mapped_duckmayr_na.csv": ("tuned", PLAIN_LOG, "mapped CSV", 0.95),
    "mapped_chbouvi_log.csv": ("tuned", SET_LOG, "mapped CSV", 0.95),
    "hevy_lucasdiasalves_portuguese.csv": ("tuned", None, "Hevy", 0.95),
    "strong_andrewgrinko_noduration.csv": ("tuned-s4b", None, "Strong", 0.95),
    "strong_hipml_lb_custom.csv": ("tuned-s4b", None, "Strong", 0.95),
    "strong_ysmath_nonotes.csv": ("tuned-s4b", None, "Strong", 0.95),
    "strong_patrickzim_german.csv": ("tuned-s4b", None, "Strong", 0.95),
    "hevy_arardomboi_usdates.csv": ("tuned-s4b", None, "Hevy", 0.95),
    "hevy_nathann_lb_emoji.csv": ("tuned-s4b", None, "Hevy", 0.95),
    "hevy_andyjwest_lb_supersets.csv": ("tuned-s4b", None, "Hevy", 0.95),
    "fitbod_komootti.csv": ("tuned-s4b", None, "Fitbod", 0.95),
    "fitbod_daisydaines.csv": ("tuned-s4b", None, "Fitbod", 0.95),
    "fitnotes_frefdt.csv": ("tuned-s4b", None, "mapped CSV", 0.95),  # recognised as FitNotes by its Category column
    "fitbod_thomasvrancken.csv": ("tuned-s4c", None, "Fitbod", 0.95),
    "fitnotes_nakky94.csv": ("tuned-s4c", None, "mapped CSV", 0.95),  # recognised as FitNotes by its Category column
    "fitnotesios_shre81_decimalcomma.csv": ("tuned-s4c", IOS_LOG, "mapped CSV", 0.95),  # decimal commas; --monthfirst --unit kg
    "hevy_ahmedabdelwahed1_us.csv": ("tuned-s4c", None, "Hevy", 0.95),
    "hevy_pablosgomez50_semicolon.csv": ("tuned-s4c", None, "Hevy", 0.95),
    "strong_7o1234.csv": ("tuned-s4c", None, "Strong", 0.95),
    "strong_rclayton999_semicolon.csv": ("tuned-s4c", None, "Strong", 0.95),
    "strong_shutcoffee_german.csv": ("tuned-s4c", None, "Strong", 0.95),
    "strong_alibecerra.csv": ("tuned-s4d", None, "Strong", 0.95),  # --unit lb
    "strong_breinsp_german_titles.csv": ("tuned-s4d", None, "Strong", 0.95),
    "strong_andrew50_setmarks.csv": ("tuned-s4d", None, "Strong", 0.95),  # --unit lb
    "strong_cmartins2001_rpe.csv": ("tuned-s4d", None, "Strong", 0.95),  # --unit lb
    "hevy_stvrvdimitris_rpe.csv": ("tuned-s4d", None, "Hevy", 0.95),
    "hevy_tomaszzywicki.csv": ("tuned-s4d", None, "Hevy", 0.95),
    "hevy_sierra711_lbs.csv": ("tuned-s4d", None, "Hevy", 0.95),
    "fitnotes_afrank84_numbered.csv": ("tuned-s4d", FITNOTES_UNIT, "mapped CSV", 0.95),
    "fitnotes_drobotnik_kgs_header.csv": ("tuned-s4d", FITNOTES_KGS, "mapped CSV", 0.95),
    "mapped_hneandro_exercisedb_names.csv": ("tuned-s4d", SET_TYPE_LOG, "mapped CSV", 0.95),  # --unit kg
    "strong_dyang504.csv": ("tuned-s4e", None, "Strong", 0.95),  # --unit kg
    "strong_cmccorkle21_semicolon.csv": ("tuned-s4e", None, "Strong", 0.95),
    "strong_temahiser_unitcols.csv": ("tuned-s4e", None, "Strong", 0.95),
    "strong_lukeevans01.csv": ("tuned-s4e", None, "Strong", 0.95),  # --unit kg
    "fitbod_elnelson575.csv": ("tuned-s4e", None, "Fitbod", 0.95),
    "hevy_thebusinesman.csv": ("tuned-s4e", None, "Hevy", 0.95),
    "hevy_canonat2326_turkish.csv": ("tuned-s4e", None, "Hevy", 0.95),
    "hevy_ghb72_spanish.csv": ("tuned-s4e", None, "Hevy", 0.95),
    "hevy_kunyewu_lbs.csv": ("tuned-s4e", None, "Hevy", 0.95),
    "fitnotes_labodyn.csv": ("tuned-s4e", None, "mapped CSV", 0.95),
    "fitnotes_lukaszebedin.csv": ("tuned-s4e", None, "mapped CSV", 0.95),
    "strong_abe0mesh.csv": ("tuned-s4f", None, "Strong", 0.95),  # --unit lb
    "strong_amigo163.csv": ("tuned-s4f", None, "Strong", 0.95),
    "strong_arafathnihar.csv": ("tuned-s4f", None, "Strong", 0.95),  # --unit kg
    "strong_camster811.csv": ("tuned-s4f", None, "Strong", 0.95),  # no header line
    "strong_glenjoy99.csv": ("tuned-s4f", None, "Strong", 0.95),  # --unit lb
    "strong_faw01.csv": ("tuned-s4f", None, "Strong", 0.95),  # --unit kg
    "strong_shanraeh.csv": ("tuned-s4f", None, "Strong", 0.95),
    "hevy_felipe_ruizm.csv": ("tuned-s4f", None, "Hevy", 0.95),
    "other_saturnzzzz.csv": ("tuned-s4f", CHINESE_LOG, "mapped CSV", 0.95),  # --unit kg
}
FLAGS = {
    "fitnotesios_shre81_decimalcomma.csv": {"dayfirst": False, "unit": "kg"},
    "strong_alibecerra.csv": {"unit": "lb"},
    "strong_andrew50_setmarks.csv": {"unit": "lb"},
    "strong_cmartins2001_rpe.csv": {"unit": "lb"},
    "mapped_hneandro_exercisedb_names.csv": {"unit": "kg"},
    "strong_dyang504.csv": {"unit": "kg"},
    "strong_lukeevans01.csv": {"unit": "kg"},
    "strong_abe0mesh.csv": {"unit": "lb"},
    "strong_arafathnihar.csv": {"unit": "kg"},
    "strong_glenjoy99.csv": {"unit": "lb"},
    "strong_faw01.csv": {"unit": "kg"},
    "other_saturnzzzz.csv": {"unit": "kg"},
}
HEADERLESS = {"strong_camster811.csv"}
"""Exports whose first line is already a data row (Strong's old Android layout)."""
"""Options the user passes besides --columns (``--monthfirst``, ``--unit``)."""


def _records(path: Path) -> int:
    """Data records of a CSV file, counted with the csv module (blank lines not counted)."""
    text = path.read_text(encoding="utf-8-sig")
    delimiter = ";" if "," not in text.splitlines()[0] else ","
    skip = 0 if path.name in HEADERLESS else 1
    return sum(1 for row in list(csv.reader(io.StringIO(text), delimiter=delimiter))[skip:] if any(c.strip() for c in row))


@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_real_export_imports_with_every_row_accounted(tmp_path: Path, name: str) -> None:
    group, columns, label, floor = EXPORTS[name]
    result = import_export(REAL / name, "c1", tmp_path, columns=columns, **FLAGS.get(name, {}))
    assert result.export.format.label == label
    assert result.export.rows_read == _records(REAL / name)
    assert result.sets_imported + result.ledger_rows == result.export.rows_read
    sessions = pd.read_csv(tmp_path / "sessions.csv", dtype=str, keep_default_na=False)
    ledger = pd.read_csv(tmp_path / "import_ledger.csv", dtype=str, keep_default_na=False)
    rows = sorted([*sessions["import_row"].astype(int), *ledger["row"].astype(int)])
    assert len(rows) == len(set(rows)) == result.export.rows_read
    # warm-ups, rest timers, a logged set with nothing done, unquoted separators, shifted rows: nothing else
    expected = (
        "warm-up set (",
        "rest timer row, not a set",
        "no reps, no duration and no distance: nothing was done",
        "line has ",
        "planned set not done (Status 'NotStarted')",
        "set order 'Deadlift (Barbell)' is not a set number",  # strong_abe0mesh rows 44-49: shifted one column right in the source
        "set order 'Pull Up' is not a set number",
    )
    implausible = "in one set is more than 100 km: another number typed into the distance column?"  # a sled's load as miles
    too_slow = "Correct the unit in the export"  # FitNotes miles written with the unit m (a 30-minute walk of 1.4 m)
    assert all(reason.startswith(expected) or reason.endswith((implausible, too_slow)) for reason in ledger["reason"]), set(ledger["reason"])
    assert result.placed_share >= floor, (group, result.placed_share, result.unplaced)


def test_renamed_strong_header_is_read_by_structure(tmp_path: Path) -> None:
    result = import_export(REAL / "strong_shuheilocale_renamed.csv", "c1", tmp_path)
    assert result.export.built.notes[0].startswith("recognised as a Strong export by its column order and values")
    sets = pd.read_csv(tmp_path / "sessions.csv", dtype=str, keep_default_na=False)
    assert sets.loc[0, ["date", "exercise", "reps", "load"]].tolist() == ["2018-08-31 05:49:00", "V-Bar Pulldown", "12", "45"]


def test_real_french_strong_export_is_read_by_structure(tmp_path: Path) -> None:
    """A real export from a phone set to French (issue 13 item 3): every header word translated."""
    result = import_export(REAL / "strong_sebastienrdgs_french.csv", "c1", tmp_path)
    assert result.export.built.notes[0].startswith("recognised as a Strong export by its column order and values")
    assert "\"nom de l'exercice\" = exercise name, 'ordre de la série' = set order, 'poids' = weight" in result.export.built.notes[0]
    sets = pd.read_csv(tmp_path / "sessions.csv", dtype=str, keep_default_na=False)
    assert sets.loc[0, ["date", "exercise", "duration_s", "reps", "modality"]].tolist() == ["2023-08-16 13:10:30", "Aerobics", "600", "", ""]
    assert sets.loc[1, ["exercise", "reps", "load", "load_unit"]].tolist() == ["Bench Press (Dumbbell)", "8", "20", "kg"]
    assert sets.loc[sets["exercise"] == "Chest Dip (Assisted)", "assistance"].tolist() == ["14", "18", "18"]


def test_strong_oldest_layout_counts_sets_from_zero_with_bare_unit_headers(tmp_path: Path) -> None:
    """Strong's 2016 layout: ``Date,Workout Name,Exercise Name,Set Order,kg,Reps,km,Seconds,Notes``, sets from 0."""
    result = import_export(REAL / "strong_mlahoz_oldlayout.csv", "c1", tmp_path)
    note = result.export.built.notes[0]
    assert "'kg' = weight (kg)" in note and "'km' = distance (km)" in note and "'set order' = set order" in note
    sets = pd.read_csv(tmp_path / "sessions.csv", dtype=str, keep_default_na=False)
    assert sets.loc[0, ["exercise", "reps", "load", "load_unit", "set_type"]].tolist() == ["Squat", "5", "70", "kg", "normal"]
    plank = sets[sets["exercise"] == "Plank Fitball"]
    assert plank["duration_s"].tolist() == ["60"] * 4 and (plank["reps"] == "").all()
    assert result.ledger_rows == 0


def test_fitnotes_clock_durations_pounds_and_unquoted_commas(tmp_path: Path) -> None:
    lbs = import_export(REAL / "fitnotes_wmgriffi3.csv", "c1", tmp_path / "a", columns=FITNOTES_LBS)
    sets = pd.read_csv(tmp_path / "a" / "sessions.csv", dtype=str, keep_default_na=False)
    run = sets[sets["exercise"] == "Running (Treadmill)"].iloc[0]
    assert (run["duration_s"], run["distance"], run["distance_unit"], run["modality"]) == ("561", "1.23", "mi", "other")
    assert set(sets.loc[sets["load"] != "", "load_unit"]) == {"lb"} and lbs.ledger_rows == 0
    commas = import_export(REAL / "fitnotes_bilallb.csv", "c1", tmp_path / "b", columns=FITNOTES_UNIT)
    ledger = commas.export.built.ledger
    assert ledger["row"].tolist() == [7, 8]
    assert ledger["reason"].str.startswith("line has 10 fields but the header has 9").all()


def test_fitnotes_miles_written_as_metres_go_to_the_ledger(tmp_path: Path) -> None:
    """A real FitNotes export logs walks as ``1.4`` with the unit ``m`` in 30 minutes: not believed."""
    result = import_export(REAL / "fitnotes_afrank84_numbered.csv", "c1", tmp_path, columns=FITNOTES_UNIT)
    ledger = result.export.built.ledger
    slow = ledger[ledger["reason"].str.contains("slower than 10 m an hour")]
    assert len(slow) == result.ledger_rows == 13
    assert slow["reason"].iloc[-1] == (
        "Distance 1.4 m in 1800 s is slower than 10 m an hour: a distance in km or miles with the unit 'm'? Correct the unit in the export"
    )
    sets = pd.read_csv(tmp_path / "sessions.csv", dtype=str, keep_default_na=False)
    assert "Walking" not in set(sets["exercise"]) and len(sets) == 135


def _coach() -> pd.DataFrame:
    coach = pd.read_csv(REAL / "coach_placements.csv", dtype=str, keep_default_na=False)
    return coach.assign(placed=coach["exercise"].map(lambda n: explain_exercise(n).modality))


def test_coach_names_are_real_and_not_in_the_catalog_verbatim() -> None:
    coach = _coach()
    verbatim = set(builtin_catalog()["exercise"].map(exercise_key))
    earlier = coach[~coach["group"].isin(["tuned-s4b", "tuned-s4c", "tuned-s4d", "tuned-s4e", "tuned-s4f"])]
    assert not earlier["exercise"].map(exercise_key).isin(verbatim).any()
    # hold-outs 4-6's coaches compared names as written (case and spaces aside): 'Bench Press (Barbell)' is listed
    as_written = set(builtin_catalog()["exercise"].str.strip().str.casefold())
    assert not coach["exercise"].str.strip().str.casefold().isin(as_written).any()
    assert coach["exercise"].is_unique and (coach["reason"].str.strip() != "").all()
    texts = "\n".join((REAL / name).read_text(encoding="utf-8") for name in EXPORTS)
    in_fixtures = coach["exercise"].map(lambda n: n in texts)
    assert in_fixtures.sum() >= 60  # the rest come from later sessions of the same exports (README)


def test_coach_agreement_on_at_least_100_names() -> None:
    """Issue 13: at least 100 real names placed as a coach would, in at least 95 % of cases.

    Every name here comes from an export tuned on (``tuned``, or ``tuned-s4``/``tuned-s4b``/``tuned-s4c``:
    a former hold-out, whose blind agreement of round 3, 46 of 53, of round 4, 100 of 120, of round 5,
    70 of 82, of round 6, 121 of 130, of round 7, 125 of 131, and of round 8, 122 of 134, are recorded in docs/importers.md)."""
    coach = _coach()
    assert set(coach["group"]) <= {"tuned", "tuned-s4", "tuned-s4b", "tuned-s4c", "tuned-s4d", "tuned-s4e", "tuned-s4f"}
    assert len(coach) >= 100
    assert (coach["placed"] == coach["modality"]).mean() >= 0.95, coach[coach["placed"] != coach["modality"]]
    for group in ("tuned-s4", "tuned-s4b", "tuned-s4c", "tuned-s4d", "tuned-s4e", "tuned-s4f"):
        former = coach[coach["group"] == group]
        assert (former["placed"] == former["modality"]).mean() >= 0.95, group


def test_real_chinese_strong_header_is_read_by_structure(tmp_path: Path) -> None:
    """A real Strong export from a phone set to Chinese: ``日期,锻炼名称,时长,运动名称,设置顺序,重量,次,...``."""
    result = import_export(REAL / "strong_dericmei_chinese.csv", "c1", tmp_path)
    note = result.export.built.notes[0]
    assert "'运动名称' = exercise name, '设置顺序' = set order, '重量' = weight, '次' = reps" in note
    sets = pd.read_csv(tmp_path / "sessions.csv", dtype=str, keep_default_na=False)
    assert sets.loc[0, ["date", "exercise", "reps", "load"]].tolist() == ["2020-09-29 07:10:22", "Bent Over Row (Barbell)", "5", "44.092452"]
    assert sets["date"].nunique() == 3 and result.ledger_rows == 0


def test_real_german_strong_export_rest_timers_and_mistranslated_set_order(tmp_path: Path) -> None:
    """German Strong: the set order header is machine-translated (``Reihenfolge festlegen``) and rest timers are ``Ruhezeit``."""
    result = import_export(REAL / "strong_eliah3_german.csv", "c1", tmp_path)
    assert "'reihenfolge festlegen' = set order" in result.export.built.notes[0]
    ledger = pd.read_csv(tmp_path / "import_ledger.csv", dtype=str, keep_default_na=False)
    with open(REAL / "strong_eliah3_german.csv", newline="", encoding="utf-8") as handle:
        rests = sum(row[4] == "Ruhezeit" for row in list(csv.reader(handle))[1:])  # the set order column, counted here
    assert set(ledger["reason"]) == {"rest timer row, not a set"} and len(ledger) == rests == 19
    sets = pd.read_csv(tmp_path / "sessions.csv", dtype=str, keep_default_na=False)
    hang = sets[sets["exercise"] == "Pull Up Hang Dauer"]
    assert hang["duration_s"].tolist() == ["35", "25"] and (hang["reps"] == "").all()


def test_real_fitbod_older_layout_keeps_its_sets_and_ledgers_empty_rows(tmp_path: Path) -> None:
    """Fitbod's older layout (``Date,Exercise,Sets,Reps,Weight,isWarmup,Note``), a real export: no unit stated."""
    result = import_export(REAL / "fitbod_fsxac_oldlayout.csv", "c1", tmp_path)
    assert result.export.built.notes[0].startswith("load unit: kg assumed for")
    ledger = pd.read_csv(tmp_path / "import_ledger.csv", dtype=str, keep_default_na=False)
    assert ledger["reason"].value_counts().to_dict() == {
        "warm-up set (left out of training volume; --include-warmups keeps it)": 6,
        "no reps, no duration and no distance: nothing was done": 3,
    }
    sets = pd.read_csv(tmp_path / "sessions.csv", dtype=str, keep_default_na=False)
    assert sets.loc[0, ["date", "exercise", "sets", "reps", "load"]].tolist() == ["2019-02-13", "Chin Up", "1", "5", ""]


def test_real_hevy_api_csv_through_columns_reads_the_unit_at_the_header_end(tmp_path: Path) -> None:
    """A CSV built from Hevy's API, read with --columns: ISO start times with an offset, ``weight_kg`` states kg."""
    result = import_export(REAL / "hevy_lukeram_api.csv", "c1", tmp_path, columns=HEVY_API)
    assert not any(n.startswith("load unit: kg assumed") for n in result.export.built.notes)
    sets = pd.read_csv(tmp_path / "sessions.csv", dtype=str, keep_default_na=False)
    assert sets.loc[0, ["date", "exercise", "duration_s"]].tolist() == ["2026-01-25 01:47:58", "Dead Hang", "70"]
    assert set(sets.loc[sets["load"] != "", "load_unit"]) == {"kg"}


def test_real_hevy_export_with_portuguese_dates_and_a_multiline_note(tmp_path: Path) -> None:
    result = import_export(REAL / "hevy_arthmnz_portuguese.csv", "c1", tmp_path)
    assert result.export.rows_read == _records(REAL / "hevy_arthmnz_portuguese.csv") == 36
    sets = pd.read_csv(tmp_path / "sessions.csv", dtype=str, keep_default_na=False)
    assert sets["date"].unique().tolist()[:2] == ["2026-09-04 15:16:00", "2026-09-03 15:30:00"]
    curl = sets[sets["exercise"] == "Lying Leg Curl (Machine)"]
    assert curl[["reps", "load", "rpe"]].values.tolist() == [["8", "95.2", "10"], ["8", "86.4", "10"]]  # the first after a two-line note


@pytest.mark.parametrize(
    ("name", "modality", "rule"),
    [
        ("Scissor Crossover Kick", "core", "movement rule 'crossover kick'"),
        ("Side Leg Raises", "other_strength", "movement rule 'side leg raise'"),
        ("TRX Hamstring Pull-In", "other_strength", "movement rule 'hamstring pull in'"),
        ("Pull Up Hang Dauer", "flexibility", "movement rule 'pull up hang'"),
        ("Pike Push Ups", "other_strength", "'push up'"),
        ("Pendulum Squat", "other_strength", "'squat'"),
        ("Isometrische Kniebeuge", "other_strength", "movement rule 'kniebeuge'"),
        ("Rudergerät Time", "other", "movement rule 'rudergerät'"),
        ("TKE's", "other_strength", "movement rule 'tke'"),
        ("Tib raises", "other_strength", "'raise'"),
    ],
)
def test_session_3_rules_place_tuned_names(name: str, modality: str, rule: str) -> None:
    """Rules written in the third round of issue 13 from the session-3 tuned exports (README)."""
    placed = explain_exercise(name)
    assert (placed.modality, placed.placed_by) == (modality, "rule") and rule in placed.rule


@pytest.mark.parametrize(
    ("name", "modality", "rule"),
    [
        ("Elevación de Gemelos a Una Pierna (Macuerna)", "other_strength", "movement rule 'elevación de gemelo'"),
        ("Empuje de Caderas (Barra)", "core", "back-pain rule 'empuje de cadera'"),
        ("Dar Tutuş Bench Press (Bar)", "other_strength", "'bench press'"),
        ("Plank Surrender", "core", "back-pain rule 'plank surrender'"),
        ("Dumbbell Incline Prone Bench", "back", "movement rule 'incline prone'"),
        ("Stacco Rumeno", "back", "back-pain rule 'stacco rumeno'"),
        ("Rematore con Manubrio", "back", "movement rule 'rematore'"),
        ("Dambıl Kürek Çekme", "back", "movement rule 'kürek çekme'"),
        ("Mekik", "core", "movement rule 'mekik'"),
    ],
)
def test_session_4e_rules_place_localised_library_names(name: str, modality: str, rule: str) -> None:
    """Hevy's library in Spanish, Italian and Turkish, plank variants and the prone incline row (hold-out 7's misses)."""
    placed = explain_exercise(name)
    assert (placed.modality, placed.placed_by) == (modality, "rule") and rule in placed.rule, placed


def test_real_turkish_hevy_export_reads_turkish_month_names(tmp_path: Path) -> None:
    """Hevy on a phone set to Turkish writes ``9 Nis 2026, 15:26`` (Nisan, April) and ``Mar`` (Mart, March)."""
    result = import_export(REAL / "hevy_canonat2326_turkish.csv", "c1", tmp_path)
    assert result.ledger_rows == 0 and result.sets_imported == 98
    sets = pd.read_csv(tmp_path / "sessions.csv", dtype=str, keep_default_na=False)
    assert "2026-04-09 15:26:00" in set(sets["date"]) and all(d.startswith("2026-0") for d in sets["date"])


def test_real_fitbod_export_saved_by_a_spreadsheet_program(tmp_path: Path) -> None:
    """Fitbod re-saved by a spreadsheet program: ``TRUE``/``FALSE`` warm-up flags and 15-digit weights."""
    result = import_export(REAL / "fitbod_atrain773_excel.csv", "c1", tmp_path)
    ledger = pd.read_csv(tmp_path / "import_ledger.csv", dtype=str, keep_default_na=False)
    assert ledger[["row", "reason"]].values.tolist() == [["2", "warm-up set (left out of training volume; --include-warmups keeps it)"]]
    sets = pd.read_csv(tmp_path / "sessions.csv", dtype=str, keep_default_na=False)
    assert sets.loc[0, ["exercise", "reps", "load", "load_unit"]].tolist() == ["Dumbbell Shoulder Press", "10", "13.607787", "kg"]
    assert result.placed_share == 1.0


def test_real_android_strong_export_in_pounds_per_row(tmp_path: Path) -> None:
    import_export(REAL / "strong_dstanek_semicolon.csv", "c1", tmp_path)
    sets = pd.read_csv(tmp_path / "sessions.csv", dtype=str, keep_default_na=False)
    assert set(sets["load_unit"]) == {"lb"} and sets["date"].nunique() == 3
    rear = sets.loc[sets["exercise"] == "Bent-Over Lateral Raise (Dumbbell)", "load"].tolist()
    assert rear == ["60", "70", "80", "90", "90"]


def test_real_strong_export_with_decimal_reps_and_rest_timers(tmp_path: Path) -> None:
    """Strong writing reps as ``10.0`` and a rest timer after every set (its own durations run to ``264h 1m``)."""
    result = import_export(REAL / "strong_shreybirmiwal_decimalreps.csv", "c1", tmp_path)
    assert result.sets_imported == result.ledger_rows == 56
    sets = pd.read_csv(tmp_path / "sessions.csv", dtype=str, keep_default_na=False)
    assert sets.loc[0, ["exercise", "reps", "load"]].tolist() == ["Incline Bench Press (Dumbbell)", "10", "35"]
    assert sets.loc[sets["exercise"] == "Pull Up (Assisted)", "assistance"].unique().tolist() == ["55"]


def test_real_plain_log_with_na_weights_through_columns(tmp_path: Path) -> None:
    """A hand-kept log written by R (``Date,Workout,Exercise,Weight,Reps``): ``NA`` is a blank weight (body weight), not a bad number."""
    result = import_export(REAL / "mapped_duckmayr_na.csv", "c1", tmp_path, columns=PLAIN_LOG)
    assert result.ledger_rows == 0 and result.sets_imported == 8
    sets = pd.read_csv(tmp_path / "sessions.csv", dtype=str, keep_default_na=False)
    assert sets.loc[sets["exercise"] == "Pull up", "load"].tolist() == [""] * 5


@pytest.mark.parametrize(("name", "columns"), [("fitnotes_wmgriffi3.csv", FITNOTES_LBS), ("fitnotes_bilallb.csv", FITNOTES_UNIT)])
def test_fitnotes_header_is_recognised_without_columns(tmp_path: Path, name: str, columns: str) -> None:
    """FitNotes' ``Category`` column tells its header apart: ``--format auto`` reads it as the documented mapping does."""
    auto = import_export(REAL / name, "c1", tmp_path / "auto")
    assert auto.export.built.notes[0].startswith("recognised as a FitNotes export by its header: read as --columns 'date=date,")
    mapped = import_export(REAL / name, "c1", tmp_path / "mapped", columns=columns)
    drop = ["import_file", "import_sha256"]
    a = pd.read_csv(tmp_path / "auto" / "sessions.csv", dtype=str, keep_default_na=False).drop(columns=drop)
    b = pd.read_csv(tmp_path / "mapped" / "sessions.csv", dtype=str, keep_default_na=False).drop(columns=drop)
    pd.testing.assert_frame_equal(a, b)
    assert (auto.sets_imported, auto.ledger_rows) == (mapped.sets_imported, mapped.ledger_rows)


def test_app_category_places_only_names_no_catalog_places(tmp_path: Path) -> None:
    """FitNotes' Category column: 'Static V Pulses' (Abs) becomes core; every name a catalog places keeps its placement."""
    result = import_export(REAL / "fitnotes_wmgriffi3.csv", "c1", tmp_path)
    assert result.by_category.reset_index().values.tolist() == [["Static V Pulses", "Abs", "core", 1]]
    assert "  'Static V Pulses' -> core: the app's category 'Abs' [1 sets]" in result.summary()
    sets = pd.read_csv(tmp_path / "sessions.csv", dtype=str, keep_default_na=False)
    assert sets.loc[sets["exercise"] == "Static V Pulses", "modality"].tolist() == ["core"]
    # Face pulls and the like that FitNotes files under Shoulders keep the catalog's placement: the row stays blank
    placed_by_catalog = sets[sets["exercise"] != "Static V Pulses"]
    assert set(placed_by_catalog["modality"]) <= {"", "other"} and result.placed_share == 1.0
    studio = tmp_path / "studio"
    studio.mkdir()
    (studio / "catalog.csv").write_text("exercise,modality\nStatic V Pulses,other_strength\n", encoding="utf-8")
    again = import_export(REAL / "fitnotes_wmgriffi3.csv", "c1", studio)
    assert again.by_category.empty  # the studio's catalog places it: the category is not needed


def test_real_hevy_export_in_portuguese(tmp_path: Path) -> None:
    """Hevy with its exercise library in Portuguese (``Supino (Barra)``, ``Levantamento Terra``) and Portuguese month abbreviations."""
    result = import_export(REAL / "hevy_lucasdiasalves_portuguese.csv", "c1", tmp_path)
    assert result.placed_share == 1.0 and result.ledger_rows == 0
    sets = pd.read_csv(tmp_path / "sessions.csv", dtype=str, keep_default_na=False)
    assert sets["date"].unique().tolist() == ["2026-04-30 19:37:00", "2026-04-29 19:30:00", "2026-04-28 19:11:00", "2026-04-27 18:56:00"]
    placed = {n: explain_exercise(n).modality for n in ("Levantamento Terra Sumô", "Elevação Pélvica (Barra)", "Remadas Dobradas (Barra)")}
    assert placed == {"Levantamento Terra Sumô": "back", "Elevação Pélvica (Barra)": "core", "Remadas Dobradas (Barra)": "back"}


@pytest.mark.parametrize(
    ("name", "modality", "rule"),
    [
        ("Cable Core Palloff Press", "core", "read 'palloff' as 'pallof'"),
        ("Bench press Backup", "other_strength", "bookkeeping words 'backup'"),
        ("Deadlift Old Data", "back", "bookkeeping words 'old data'"),
        ("Leg Press OLD", "other_strength", "bookkeeping words 'old'"),
        ("Technogym Seated Machine Fly", "other_strength", "'machine fly'"),
        ("Smith Machine Incline", "other_strength", "'incline'"),
        ("james grip lat pulldown", "back", "the unknown first word before the head 'lat pulldown' is set aside"),
        ("hinter Schultern", "other_strength", "'schultern'"),
        ("Cable Low Chest Thing", "other_strength", "'chest'"),
        ("Hip flexor Lift", "core", "'hip flexor lift'"),
    ],
)
def test_session_4b_rules_place_tuned_names(name: str, modality: str, rule: str) -> None:
    """Hold-out 4's misses, fixed by general rules once it became tuned data (docs/importers.md)."""
    placed = explain_exercise(name)
    assert (placed.modality, placed.placed_by) == (modality, "rule") and rule in placed.rule


def test_names_set_aside_for_review_are_listed_in_the_summary(tmp_path: Path) -> None:
    """A user's bookkeeping words (``Leg Press OLD``) place by the rest of the name, and the summary lists the name for review."""
    result = import_export(REAL / "strong_hipml_lb_custom.csv", "c1", tmp_path, unit="lb")
    summary = "\n".join(result.summary())
    assert "'Leg Press OLD' -> other_strength" in summary and "bookkeeping words 'old' set aside" in summary
    assert result.unplaced.to_dict() == {"Zzzdump2": 4}  # a placeholder: a coach asks the client


def test_real_strong_export_without_a_duration_column(tmp_path: Path) -> None:
    """Strong without ``Duration`` (``Date,Workout Name,Exercise Name,Set Order,...``): the same exercise twice in a session is kept."""
    result = import_export(REAL / "strong_andrewgrinko_noduration.csv", "c1", tmp_path)
    assert result.ledger_rows == 0 and result.sets_imported == 106
    sets = pd.read_csv(tmp_path / "sessions.csv", dtype=str, keep_default_na=False)
    raises = sets[(sets["exercise"] == "Lateral Raise (Dumbbell)") & sets["date"].str.startswith("2019-12-09")]
    assert len(raises) == 6


def test_a_sled_load_typed_into_the_distance_column_is_ledgered_not_cardio(tmp_path: Path) -> None:
    """Hevy ``Sled Push`` rows with 305 in ``distance_miles`` and no time: 490 km in one set is not believed."""
    result = import_export(REAL / "hevy_andyjwest_lb_supersets.csv", "c1", tmp_path)
    ledger = pd.read_csv(tmp_path / "import_ledger.csv", dtype=str, keep_default_na=False)
    sled = ledger[ledger["exercise"] == "Sled Push"]
    assert len(sled) == 9 and set(sled["column"]) == {"distance_miles"} and set(sled["value"]) == {"305", "280", "285"}
    assert sled["reason"].iloc[0] == "distance_miles 305 mi in one set is more than 100 km: another number typed into the distance column?"
    sets = pd.read_csv(tmp_path / "sessions.csv", dtype=str, keep_default_na=False)
    assert "Sled Push" not in set(sets["exercise"]) and result.sets_imported + result.ledger_rows == result.export.rows_read


def test_real_strong_export_without_a_header_line_is_read_by_structure(tmp_path: Path) -> None:
    """Strong's old Android export writes no header: its first line is a set, imported as data (row 1)."""
    result = import_export(REAL / "strong_camster811.csv", "c1", tmp_path)
    notes = result.export.built.notes
    assert notes[0] == "strong_camster811.csv has no header line: its first line (dated '2020-12-05 15:44:36') is a set and is read as data"
    assert "'column 3' = exercise name, 'column 4' = set order, 'column 5' = weight, 'column 6' = weight unit, 'column 7' = reps" in notes[1]
    sets = pd.read_csv(tmp_path / "sessions.csv", dtype=str, keep_default_na=False)
    first = sets[sets["import_row"] == "1"].iloc[0]
    assert first[["date", "exercise", "reps", "load", "load_unit"]].tolist() == ["2020-12-05 15:44:36", "Bench Press (Barbell)", "10", "35", "lb"]
    assert result.export.rows_read == len(sets) == 57 and result.ledger_rows == 0


def test_a_headerless_file_that_is_not_strong_is_refused_with_its_first_line(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text("2024-01-02,Squat,5\n2024-01-03,Plank,1\n", encoding="utf-8")
    with pytest.raises(DataError, match="has no header line \\(its first line is '2024-01-02,Squat,5'\\)") as refused:
        import_export(path, "c1", tmp_path / "out")
    assert "column 1" not in str(refused.value)


def test_chinese_gym_names_are_read_word_by_word() -> None:
    """``movement｜equipment｜sides``: the Chinese words read in English, the bar's parts as modifiers."""
    placed = {name: explain_exercise(name).modality for name in ("哑铃平板卧推｜哑铃｜双边", "绳索下压｜器械｜双边", "杠铃划船", "臀桥", "平板支撑", "坐姿体前屈拉伸", "罗马尼亚硬拉")}
    assert placed == {
        "哑铃平板卧推｜哑铃｜双边": "other_strength",
        "绳索下压｜器械｜双边": "other_strength",
        "杠铃划船": "back",
        "臀桥": "core",  # the back-pain rule: bridges are core
        "平板支撑": "core",  # plank, not the 'flat' (平板) of a flat bench
        "坐姿体前屈拉伸": "flexibility",
        "罗马尼亚硬拉": "back",
    }
    assert "read the Chinese words '卧推' as 'bench press', '哑铃' as 'dumbbell'" in explain_exercise("哑铃平板卧推｜哑铃｜双边").reason


def test_weights_written_with_their_unit_are_read_in_that_unit(tmp_path: Path) -> None:
    """The Chinese log writes ``30 磅`` (30 lb) in four rows of a kg column: read as lb, not refused."""
    result = import_export(REAL / "other_saturnzzzz.csv", "c1", tmp_path, columns=CHINESE_LOG, unit="kg")
    assert "每组重量: 4 weights written with a unit ('30 磅' = 30 lb): read in that unit" in result.export.built.notes
    sets = pd.read_csv(tmp_path / "sessions.csv", dtype=str, keep_default_na=False)
    assert sets.groupby("load_unit").size().to_dict() == {"kg": 66, "lb": 4}
    assert set(sets.loc[sets["load_unit"] == "lb", "load"]) == {"30"} and result.ledger_rows == 0


def test_weight_with_unit_text_in_a_mapped_log(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text("Date,Exercise,Weight,Reps\n2024-01-02,Squat,30 kg,5\n2024-01-02,Squat,30lbs,5\n2024-01-02,Squat,20,5\n", encoding="utf-8")
    import_export(path, "c1", tmp_path / "out", columns=PLAIN_LOG, unit="lb")
    sets = pd.read_csv(tmp_path / "out" / "sessions.csv", dtype=str, keep_default_na=False)
    assert sets[["load", "load_unit"]].values.tolist() == [["30", "kg"], ["30", "lb"], ["20", "lb"]]
