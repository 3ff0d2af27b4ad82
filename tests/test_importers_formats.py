"""Formats by structure (issue 13 item 3): Strong's translated and renamed headers by column order and
value shapes, Strong's older layout with units in the header, Fitbod's older Sets layout, a Hevy
variant, and the --columns mapping for any other app's CSV."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from backpain_analysis.cli import main
from backpain_analysis.errors import DataError
from backpain_analysis.importers import import_export, read_export
from backpain_analysis.importers.columns import parse_columns
from backpain_analysis.importers.sets import set_kind

DATA = Path(__file__).parent / "data" / "imports"
PROVENANCE = ["import_file", "import_sha256"]

TRANSLATED = {
    # iOS layout, German
    "strong_wdf.csv": "Datum,Trainingsname,Dauer,Übungsname,Satzreihenfolge,Gewicht,Wiederholungen,Distanz,Sekunden,Notizen,Trainingsnotizen,RPE",
    # Android layout (semicolons, unit columns), Spanish
    "strong_android_semicolon_lb.csv": (
        "Fecha;Nombre del entrenamiento;Nombre del ejercicio;Orden de la serie;Peso;Unidad de peso;Repeticiones;RPE;"
        "Distancia;Unidad de distancia;Segundos;Notas;Notas del entrenamiento;Duración del entrenamiento"
    ),
    # newer layout (Workout #, units in the header), Japanese
    "strong_new_lbs.csv": "ワークアウト #,日付,ワークアウト名,時間 (秒),種目名,セット順,重量 (lbs),回数,RPE,距離 (miles),秒,メモ,ワークアウトメモ",
}


def _sessions(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "sessions.csv", dtype=str, keep_default_na=False).drop(columns=PROVENANCE)


@pytest.mark.parametrize("name", sorted(TRANSLATED))
def test_translated_strong_header_gives_the_same_sets(tmp_path: Path, name: str) -> None:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    translated = tmp_path / name
    translated.write_text("\n".join([TRANSLATED[name], *lines[1:]]) + "\n", encoding="utf-8")
    unit = "lb" if name == "strong_wdf.csv" else None
    english = import_export(DATA / name, "c1", tmp_path / "en", unit=unit)
    other = import_export(translated, "c1", tmp_path / "xx", unit=unit)
    assert other.export.format.name == "strong"
    assert other.export.built.notes[0].startswith("recognised as a Strong export by its column order and values")
    pd.testing.assert_frame_equal(_sessions(tmp_path / "xx"), _sessions(tmp_path / "en"))
    assert other.export.built.ledger["reason"].tolist() == english.export.built.ledger["reason"].tolist()
    # --format strong accepts it too; hevy does not
    assert read_export(translated, "strong", unit=unit).format.name == "strong"
    with pytest.raises(DataError, match="is not a Hevy export"):
        read_export(translated, "hevy")


def test_translated_rest_timer_rows_are_rests_by_their_shape(tmp_path: Path) -> None:
    """The German app writes its rest timers as 'Ruhezeit' (header as the German app writes it): a word in the
    set order with seconds and no reps or weight is a rest, even when every other row is one."""
    export = tmp_path / "strong_de.csv"
    export.write_text(
        "Datum,Workout-Name,Dauer,Name der Übung,Reihenfolge festlegen,Gewicht,Wiederh.,Entfernung,Sekunden,Notizen,Workout-Notizen,RPE\n"
        '2025-08-23 17:51:23,"Ganzkörper",1h,"Chest Press (Machine)",1,50.0,12.0,0,0.0,"","",\n'
        '2025-08-23 17:51:23,"Ganzkörper",1h,"Chest Press (Machine)",Ruhezeit,0,0.0,0,120.0,,,\n'
        '2025-08-23 17:51:23,"Ganzkörper",1h,"Chest Press (Machine)",2,55.0,10.0,0,0.0,,,8\n'
        '2025-08-23 17:51:23,"Ganzkörper",1h,"Chest Press (Machine)",Ruhezeit,0,0.0,0,90.0,,,\n'
        '2025-08-23 17:51:23,"Ganzkörper",1h,"Plank",1,0,0.0,0,60.0,"",,\n'
        '2025-08-23 17:51:23,"Ganzkörper",1h,"Plank",Ruhezeit,0,0.0,0,60.0,,,\n',
        encoding="utf-8",
    )
    result = import_export(export, "c1", tmp_path / "d")
    assert result.export.built.notes[0].startswith("recognised as a Strong export by its column order and values")
    sets = _sessions(tmp_path / "d")
    assert sets[["exercise", "reps", "duration_s", "rpe"]].values.tolist() == [
        ["Chest Press (Machine)", "12", "", ""],
        ["Chest Press (Machine)", "10", "", "8"],  # the RPE, last after the notes, is kept
        ["Plank", "", "60", ""],
    ]
    reasons = result.export.built.ledger.set_index("row")["reason"].to_dict()
    assert reasons == {3: "rest timer row, not a set", 5: "rest timer row, not a set", 7: "rest timer row, not a set"}


def test_a_notes_column_blank_in_the_sample_is_not_taken_for_the_rpe(tmp_path: Path) -> None:
    """Strong's oldest layout ends with Notes, where newer iOS layouts put the RPE: notes left blank in the
    rows the structure is read from, then written later, must not reject those later sets as a bad RPE."""
    from backpain_analysis.importers.structure import _SAMPLE

    header = "Date,Workout Name,Exercise Name,Set Order,kg,Reps,km,Seconds,Notes"
    rows = [f"2016-10-{3 + i // 400:02d} 19:30:55,W1D1,Squat,{i % 5},70.0,5,0.0,0," for i in range(_SAMPLE)]
    export = tmp_path / "strong_oldest.csv"
    export.write_text("\n".join([header, *rows, "2016-10-09 19:30:55,W1D1,Squat,0,72.5,5,0.0,0,felt strong today"]) + "\n")
    built = read_export(export).built
    assert built.ledger.empty, built.ledger["reason"].tolist()
    assert len(built.sets) == _SAMPLE + 1


def test_a_file_without_strong_structure_is_still_refused(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="is not a Strong, Hevy or Fitbod export.*--columns"):
        read_export(DATA / "unknown_garmin.csv")


def test_strong_older_layout_units_in_column_names(tmp_path: Path) -> None:
    export = tmp_path / "strong_old.csv"
    export.write_text(
        "Date,Workout Name,Exercise Name,Set Order,Weight (kg),Reps,Distance (km),Seconds,Notes,Workout Notes\n"
        "2019-05-02 07:10:00,Morning,Deadlift (Barbell),1,100,5,0,0,,\n"
        "2019-05-02 07:10:00,Morning,Running (Treadmill),1,0,0,3.2,1200,,\n",
        encoding="utf-8",
    )
    result = import_export(export, "c1", tmp_path / "d")
    sets = _sessions(tmp_path / "d")
    assert result.export.format.name == "strong" and not result.export.built.notes  # the header states kg: no assumption
    assert sets[["load", "load_unit", "distance", "distance_unit", "modality"]].values.tolist() == [
        ["100", "kg", "", "", ""],
        ["", "", "3.2", "km", "other"],
    ]


def test_fitbod_older_layout_keeps_its_sets_column(tmp_path: Path) -> None:
    export = tmp_path / "fitbod_old.csv"
    export.write_text(
        "Date,Exercise,Sets,Reps,Weight\n"
        "2018-03-01 18:00:00,Barbell Glute Bridge,3,10,60\n"
        "2018-03-01 18:00:00,Plank,2,0,0\n"
        "2018-03-01 18:00:00,Back Squat,x,5,80\n"
        "2018-03-01 18:00:00,Back Squat,2.5,5,80\n",
        encoding="utf-8",
    )
    result = import_export(export, "c1", tmp_path / "d", unit="lb")
    sets = _sessions(tmp_path / "d")
    assert result.export.format.label == "Fitbod (older layout)" and result.export.format.name == "fitbod"
    assert sets[["exercise", "sets", "reps", "load", "load_unit"]].values.tolist() == [["Barbell Glute Bridge", "3", "10", "60", "lb"]]
    assert result.export.built.ledger["reason"].tolist() == [
        "no reps, no duration and no distance: nothing was done",
        "Sets 'x' is not a number",
        "Sets '2.5' is not a whole number of sets (1 or more)",
    ]
    kg = read_export(export, "fitbod")
    assert any(note.startswith("load unit: kg assumed") for note in kg.built.notes)


def test_hevy_variant_with_set_order_and_metres(tmp_path: Path) -> None:
    export = tmp_path / "hevy_variant.csv"
    export.write_text(
        "title,start_time,end_time,description,exercise_title,superset_id,exercise_notes,set_order,weight_kg,reps,set_type,"
        "distance_m,duration_seconds\n"
        "Push Day,2024-03-05 18:00:00,2024-03-05 19:00:00,,Bench Press (Barbell),,,1,60,8,normal,,\n"
        "Push Day,2024-03-05 18:00:00,2024-03-05 19:00:00,,Rowing (Machine),,,1,,,normal,2000,480\n",
        encoding="utf-8",
    )
    import_export(export, "c1", tmp_path / "d")
    sets = _sessions(tmp_path / "d")
    assert sets[["exercise", "load", "distance", "distance_unit", "duration_s"]].values.tolist() == [
        ["Bench Press (Barbell)", "60", "", "", ""],
        ["Rowing (Machine)", "", "2000", "m", "480"],
    ]


JEFIT_LIKE = (
    "Day,Exercise Name,Set Kind,Sets,Repetitions,Load (lbs),Minutes\n"
    "08/04/2026,Barbell Hip Thrust,warm-up,1,10,45,\n"
    "08/04/2026,Barbell Hip Thrust,,3,8,135,\n"
    "08/04/2026,Dead Hang,,2,,,0:45\n"
    "09/04/2026,Lat Pulldown,D,1,12,90,\n"
    "09/04/2026,Lat Pulldown,superset?,1,12,90,\n"
)
JEFIT_COLUMNS = "date=Day,exercise=Exercise Name,set_type=Set Kind,sets=Sets,reps=Repetitions,weight=Load (lbs),seconds=Minutes"


def test_columns_mapping_reads_any_app(tmp_path: Path) -> None:
    export = tmp_path / "jefit.csv"
    export.write_text(JEFIT_LIKE, encoding="utf-8")
    result = import_export(export, "c1", tmp_path / "d", columns=JEFIT_COLUMNS, dayfirst=False)
    sets = _sessions(tmp_path / "d")
    assert result.export.format.name == "columns"
    assert sets[["date", "exercise", "sets", "reps", "load", "load_unit", "duration_s", "set_type"]].values.tolist() == [
        ["2026-08-04", "Barbell Hip Thrust", "3", "8", "135", "lb", "", "normal"],
        ["2026-08-04", "Dead Hang", "2", "", "", "", "45", "normal"],
        ["2026-09-04", "Lat Pulldown", "1", "12", "90", "lb", "", "drop"],
    ]
    assert result.export.built.ledger["reason"].tolist() == [
        "warm-up set (left out of training volume; --include-warmups keeps it)",
        "set type 'superset?' is not normal, warm-up, drop or failure",
    ]


@pytest.mark.parametrize(
    ("marker", "kind"),
    [
        ("NORMAL_SET", "normal"),  # an app's enum names (a real export: hold-out 6)
        ("DROP_SET", "drop"),
        ("FAILURE_SET", "failure"),
        ("WARMUP_SET", "warmup"),
        ("warm_up", "warmup"),
        ("Warm-Up Set", "warmup"),
        (" Drop Set ", "drop"),
        ("dropset", "drop"),
        ("normal set", "normal"),
        ("Regular", "normal"),
        ("W", "warmup"),
        ("", "normal"),
    ],
)
def test_set_types_are_read_in_any_spelling(marker: str, kind: str) -> None:
    assert set_kind(marker) == kind


@pytest.mark.parametrize("marker", ["superset?", "set", "AMRAP_SET", "rest"])
def test_unknown_set_types_stay_unknown(marker: str) -> None:
    assert set_kind(marker) is None


def test_columns_set_types_in_enum_spelling_import_and_unknown_ones_are_ledgered(tmp_path: Path) -> None:
    export = tmp_path / "log.csv"
    export.write_text(
        "Date,Exercise,Reps,Weight,Set Type\n"
        "2026-03-20 17:32,Lever Seated Row,10,40,NORMAL_SET\n"
        "2026-03-20 17:32,Lever Seated Row,8,30,DROP_SET\n"
        "2026-03-20 17:32,Lever Seated Row,6,30,FAILURE_SET\n"
        "2026-03-20 17:32,Lever Seated Row,12,20,WARMUP_SET\n"
        "2026-03-20 17:32,Lever Seated Row,12,20,AMRAP_SET\n",
        encoding="utf-8",
    )
    result = import_export(export, "c1", tmp_path / "d", columns="date=Date,exercise=Exercise,reps=Reps,weight=Weight,set_type=Set Type", unit="kg")
    assert _sessions(tmp_path / "d")["set_type"].tolist() == ["normal", "drop", "failure"]
    assert result.export.built.ledger["reason"].tolist() == [
        "warm-up set (left out of training volume; --include-warmups keeps it)",
        "set type 'AMRAP_SET' is not normal, warm-up, drop or failure",
    ]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("exercise=Exercise,reps=Reps", "must name the date column"),
        ("date=Date,exercise=Exercise", "at least one of reps, seconds, distance"),
        ("date=Date,exercise=Exercise,reps=Reps,colour=Hue", "'colour' is not one of"),
        ("date=Date,exercise=Exercise,reps", "'reps' is not ROLE=HEADER"),
        ("date=Date,date=Day,exercise=E,reps=R", "'date' is given twice"),
    ],
)
def test_bad_mappings_are_one_clear_line(spec: str, message: str) -> None:
    with pytest.raises(DataError, match=message):
        parse_columns(spec)


def test_columns_on_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    export = tmp_path / "jefit.csv"
    export.write_text(JEFIT_LIKE, encoding="utf-8")
    assert main(["import", str(export), "--client-id", "c1", "--out", str(tmp_path / "d"), "--columns", JEFIT_COLUMNS, "--monthfirst"]) == 0
    assert "5 rows read, 3 sets written" in capsys.readouterr().out
    missing = JEFIT_COLUMNS.replace("Minutes", "Seconds")
    assert main(["import", str(export), "--client-id", "c1", "--out", str(tmp_path / "e"), "--columns", missing]) == 2
    assert "has no column 'Seconds' named in --columns" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["1", "2", "3", "1", "2"], True),
        (["0", "1", "2", "0", "1", "2", "3"], True),  # Strong's 2016 layout counts from 0
        (["1", "1", "1", "1"], True),  # one set of each exercise
        (["1", "Rest Timer", "2", "Rest Timer", "3", "Rest Timer"], True),
        (["1", "Ruhezeit", "2", "Ruhezeit", "W", "Ruhezeit"], True),
        (["0", "0", "0", "0", "0"], False),  # a column of zeros (an unused distance) is not a set order
        (["5", "8", "10", "12", "5"], False),  # reps
        (["35min", "35min", "1h", "1h"], False),  # durations
    ],
)
def test_set_order_column_by_its_values(values: list[str], expected: bool) -> None:
    from backpain_analysis.importers.structure import _is_set_order

    assert _is_set_order(pd.Series(values, name="column")) is expected
