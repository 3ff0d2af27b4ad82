"""Session 4c (issue 13): decimal commas in a comma-separated file, the ``status`` role of planned sets,
and the name rules hold-out 5 revealed (tests/data/imports/real/README.md, docs/importers.md)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from backpain_analysis.catalog import explain_exercise
from backpain_analysis.cli import main
from backpain_analysis.errors import DataError
from backpain_analysis.importers import import_export, read_export
from backpain_analysis.importers.columns import parse_columns

REAL = Path(__file__).parent / "data" / "imports" / "real"
IOS = REAL / "fitnotesios_shre81_decimalcomma.csv"
IOS_LOG = "date=Start Date (UTC),exercise=Exercise,reps=Reps,weight=Weight,seconds=Time,distance=Distance"
LOG = "date=Date,exercise=Exercise,reps=Reps,weight=Weight"


def _log(tmp_path: Path, weights: list[str]) -> Path:
    """A comma-separated log with every field quoted, one set per weight."""
    lines = ['"Date","Exercise","Reps","Weight"'] + [f'"2024-03-0{i + 1}","Squat","5","{w}"' for i, w in enumerate(weights)]
    path = tmp_path / "log.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_decimal_commas_are_read_from_the_columns_values_and_said(tmp_path: Path) -> None:
    export = read_export(_log(tmp_path, ["28,0", "9,07", "100", "1,250"]), columns=LOG)
    assert export.built.sets["load"].tolist() == ["28", "9.07", "100", "1.25"] and export.built.ledger.empty
    assert export.built.notes[0] == (
        "Weight: 3 values read with a decimal comma ('28,0' = 28): the column holds no point decimals "
        "and a comma with other than 3 digits after it is no thousands separator"
    )


@pytest.mark.parametrize(
    ("weights", "why"),
    [
        (["1,000", "2,500", "60"], "every comma in it has 3 digits after it"),  # 1.0 kg or 1000 kg?
        (["12.5", "9,07", "60"], "the column also holds point decimals"),  # two marks in one column
    ],
)
def test_an_ambiguous_comma_number_is_ledgered_with_both_readings(tmp_path: Path, weights: list[str], why: str) -> None:
    path = _log(tmp_path, weights)
    export = read_export(path, columns=LOG)
    ledger = export.built.ledger
    assert len(export.built.sets) + len(ledger) == 3 and len(ledger) == sum("," in w for w in weights)
    first = weights[[i for i, w in enumerate(weights) if "," in w][0]]
    reading = float(first.replace(",", "."))
    assert ledger["reason"].iloc[0] == (
        f"Weight {first!r} can be read two ways ({why}): a decimal comma ({reading:g}) or a thousands separator "
        f"({float(first.replace(',', '')):g}); pass --decimal-comma if the app writes decimal commas, else remove the thousands separators"
    )
    assert not any("decimal comma (" in note for note in export.built.notes)  # nothing decided silently
    said = read_export(path, columns=LOG, decimal_comma=True)
    assert said.built.ledger.empty or set(said.built.ledger["value"]) == {"12.5"}  # a point in a decimal-comma file is no number


def test_decimal_comma_flag_on_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _log(tmp_path, ["1,000", "2,500"])
    code = main(["import", str(path), "--client-id", "C1", "--out", str(tmp_path / "out"), "--columns", LOG, "--decimal-comma"])
    assert code == 0 and "2 sets written" in capsys.readouterr().out
    sets = pd.read_csv(tmp_path / "out" / "sessions.csv", dtype=str, keep_default_na=False)
    assert sets["load"].tolist() == ["1", "2.5"]


def test_a_plain_comma_separated_file_is_unchanged(tmp_path: Path) -> None:
    """No comma-number in a column: nothing decided, nothing said; a semicolon file keeps its decimal commas."""
    export = read_export(_log(tmp_path, ["60", "62.5"]), columns=LOG)
    assert export.built.sets["load"].tolist() == ["60", "62.5"] and export.built.notes == ["load unit: kg assumed for 2 sets (the export does not state it); pass --unit lb if the app was set to pounds"]
    semicolons = tmp_path / "semi.csv"
    semicolons.write_text("Date;Exercise;Reps;Weight\n2024-03-01;Squat;5;62,5\n", encoding="utf-8")
    assert read_export(semicolons, columns=LOG).built.sets["load"].tolist() == ["62.5"]


def test_status_role_ledgers_planned_sets_never_done(tmp_path: Path) -> None:
    path = tmp_path / "plan.csv"
    rows = ["Date,Exercise,Reps,Status", "2024-03-01,Squat,5,Done", "2024-03-01,Squat,5,NotStarted", "2024-03-01,Squat,5,", "2024-03-01,Squat,5,Maybe"]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    export = read_export(path, columns="date=Date,exercise=Exercise,reps=Reps,status=Status")
    assert export.built.sets["import_row"].tolist() == ["2", "4"]
    assert export.built.ledger[["row", "column", "value", "reason"]].values.tolist() == [
        [3, "Status", "NotStarted", "planned set not done (Status 'NotStarted'): not training"],
        [5, "Status", "Maybe", "Status 'Maybe' is not a done or a not-done status"],
    ]
    assert parse_columns("date=D,exercise=E,reps=R,status=S")["status"] == "S"
    with pytest.raises(DataError, match="'state' is not one of"):
        parse_columns("date=D,exercise=E,reps=R,state=S")


def test_real_ios_log_with_decimal_commas_and_planned_sets(tmp_path: Path) -> None:
    """Hold-out 5's iOS log: blind, 0 sets (every weight 'not a number'); now 42 done sets and 15 planned ones ledgered."""
    result = import_export(IOS, "c1", tmp_path / "a", columns=IOS_LOG + ",status=Status", dayfirst=False, unit="kg")
    assert (result.sets_imported, result.ledger_rows, result.placed_share) == (42, 15, 1.0)
    sets = pd.read_csv(tmp_path / "a" / "sessions.csv", dtype=str, keep_default_na=False)
    assert sets.loc[0, ["date", "exercise", "reps", "load", "load_unit"]].tolist() == ["2018-01-27", "Squat", "5", "25", "kg"]
    run = sets[sets["distance"] != ""].iloc[0]
    assert (run["duration_s"], run["distance"], run["modality"]) == ("1500", "5.17", "other")
    summary = "\n".join(result.summary())
    assert "Weight: 56 values read with a decimal comma ('9,07' = 9.07)" in summary
    assert "not imported: 15 x planned set not done (Status 'NotStarted'): not training" in summary
    # the mapping the coordinator used, without the status column: every row a set, none lost
    plain = import_export(IOS, "c1", tmp_path / "b", columns=IOS_LOG, dayfirst=False, unit="kg")
    assert (plain.sets_imported, plain.ledger_rows) == (57, 0)


@pytest.mark.parametrize(
    ("name", "modality", "rule"),
    [
        ("AS Hack Squats", "other_strength", "the unknown capital-letter prefix 'AS'"),
        ("AS Iso-Lateral Lat Pull-down ", "back", "'lat pulldown'"),
        ("AS Selectorized Standing Lateral Raises", "other_strength", "'lateral raise'"),
        ("Cable Overhead (Extensión De Triceps)", "other_strength", "read with the words inside its brackets"),
        ("Trizepsdrücken (Kabelzug)", "other_strength", "'trizepsdrücken'"),
        ("Fliegende (Kurzhantel)", "other_strength", "'fliegende'"),
        ("Reverse Fliegende", "back", "'reverse fliegende'"),
        ("Kniebeugung forcieren", "flexibility", "'kniebeugung'"),
        ("90-90 Übung", "flexibility", "'90 90'"),
        ("Peso muerto rumano con barra", "back", "back-pain rule 'peso muerto rumano'"),
        ("Puente de glúteos", "core", "back-pain rule 'puente'"),
        ("Press de banca inclinado", "other_strength", "'press de banca'"),
    ],
)
def test_session_4c_rules_place_tuned_names(name: str, modality: str, rule: str) -> None:
    placed = explain_exercise(name)
    assert (placed.modality, placed.placed_by) == (modality, "rule") and rule in placed.rule, placed.rule


@pytest.mark.parametrize(
    "name",
    [
        "XQ Curl",  # a single movement word after the prefix is not clear enough
        "AS Jefferson Curl",  # the rest places nothing either
        "Cable Overhead (Zzyzx)",  # the bracket's words place nothing either
    ],
)
def test_last_readings_refuse_what_they_cannot_read(name: str) -> None:
    assert explain_exercise(name).modality is None


def test_an_incline_bench_named_alone_in_german_is_the_incline_bench_press() -> None:
    placed = explain_exercise("Schrägbank (Maschine)")
    assert (placed.modality, placed.placed_by) == ("other_strength", "exact") and "incline bench press" in placed.rule
    assert explain_exercise("Schrägbank Curl").rule.startswith("built-in catalog.csv entry 'curl'")  # beside a movement only a modifier


def test_bracket_words_are_read_only_when_the_name_outside_places_nothing() -> None:
    placed = explain_exercise("Bench Press (Extensión De Triceps)")
    assert placed.modality == "other_strength" and "brackets" not in placed.rule and "'bench press'" in placed.rule
    assert explain_exercise("xq hack squat").modality is None  # the prefix rule needs capitals as written


def test_translated_strong_export_with_quoted_decimal_commas_is_recognised(tmp_path: Path) -> None:
    """A comma-separated Strong export from a German phone writing ``"80,5"``: found by structure, commas read and said."""
    header = "Datum,Workout-Name,Dauer,Name der Übung,Reihenfolge festlegen,Gewicht,Wiederh.,Entfernung,Sekunden,Notizen,Workout-Notizen,RPE"
    rows = [f'2024-03-01 10:00:00,"Push",45min,"Kniebeuge",{i},"{w}",8,0,0,"","",' for i, w in enumerate(["80,5", "82,5", "85"], start=1)]
    path = tmp_path / "strong.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    export = read_export(path)
    assert export.built.notes[0].startswith("recognised as a Strong export by its column order and values")
    assert export.built.sets["load"].tolist() == ["80.5", "82.5", "85"]
    assert any(n.startswith("Weight: 2 values read with a decimal comma ('80,5' = 80.5)") for n in export.built.notes)


def test_outcome_sheet_decimal_commas_are_decided_per_column(tmp_path: Path) -> None:
    """A comma-separated outcome sheet quoting ``"4,5"``: read per column and said; ``"1,500"`` in another column ledgered."""
    from backpain_analysis.importers.outcome_sheet import read_outcome_sheet

    rows = ["client,date,NPRS,Walk distance (m)", 'c1,2024-03-01,"4,5","1,500"', 'c1,2024-03-08,"3,0","2,000"', "c1,2024-03-15,2,900"]
    path = tmp_path / "visits.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    sheet = read_outcome_sheet(path)
    nprs = sheet.outcomes[sheet.outcomes["instrument"] == "nprs"]
    assert nprs["score"].tolist() == ["4.5", "3", "2"]
    assert any(n.startswith("nprs: 2 values read with a decimal comma ('4,5' = 4.5)") for n in sheet.notes)
    walk = sheet.ledger[sheet.ledger["column"] == "walk distance (m)"]
    assert walk["reason"].tolist()[0] == (
        "walk distance (m) '1,500' can be read two ways (every comma in it has 3 digits after it): a decimal comma (1.5) "
        "or a thousands separator (1500); save the sheet with decimal points, or without thousands separators"
    )
    assert len(walk) == 2 and len(sheet.outcomes) + len(sheet.ledger) == 6  # 3 rows x 2 instruments, nothing lost


@pytest.mark.parametrize(
    ("name", "modality"),
    [
        ("Reverse Butterfly", "back"),  # the reverse pec-deck, as every reverse fly
        ("Butterfly", "other_strength"),
        ("Hängendes Beinheben", "core"),
        ("Rumänisches Kreuzheben", "back"),
        ("Klimmzüge", "back"),
        ("Kurzhantel Bizepscurl", "other_strength"),  # a plural first part written together: bizeps + curl
        ("Abduktoren Maschine", "other_strength"),
        ("Dehnen", "flexibility"),
        ("Estiramiento de isquiotibiales", "flexibility"),
        ("Pájaros", "back"),
        ("Remo en polea baja", "back"),
        ("Fondos en paralelas", "other_strength"),
        ("Press francés", "other_strength"),
    ],
)
def test_german_and_spanish_gym_words_are_data(name: str, modality: str) -> None:
    assert explain_exercise(name).modality == modality, explain_exercise(name).rule
