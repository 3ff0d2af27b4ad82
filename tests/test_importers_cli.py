"""The import and import-outcomes commands: exit status, one-line errors, files written."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from backpain_analysis.cli import main

DATA = Path(__file__).parent / "data" / "imports"


def test_import_prints_a_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["import", str(DATA / "strong_wdf.csv"), "--client-id", "C017", "--out", str(tmp_path), "--unit", "lb"])
    out = capsys.readouterr().out
    assert code == 0
    assert "13 rows read, 9 sets written" in out and "4 rows listed" in out
    assert "2 x warm-up set" in out and "'Jefferson Curl' (1)" in out
    sessions = pd.read_csv(tmp_path / "sessions.csv", dtype=str, keep_default_na=False)
    assert set(sessions["client_id"]) == {"C017"} and set(sessions.loc[sessions["load"] != "", "load_unit"]) == {"lb"}


def test_include_warmups_and_format_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["import", str(DATA / "fitbod.csv"), "--client-id", "a", "--out", str(tmp_path), "--format", "fitbod", "--include-warmups"])
    assert code == 0 and "10 rows read, 9 sets written" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["import", str(DATA / "unknown_garmin.csv"), "--client-id", "a"], "is not a Strong, Hevy or Fitbod export"),
        (["import", str(DATA / "broken_truncated_strong.csv"), "--client-id", "a"], "header has 12"),
        (["import", str(DATA / "no_such_file.csv"), "--client-id", "a"], "does not exist"),
        (["import", str(DATA / "hevy_us_locale.csv"), "--client-id", "a", "--unit", "lb"], "contradicts"),
        (["import-outcomes", str(DATA / "strong_wdf.csv")], "has no column 'client'"),
    ],
)
def test_errors_are_one_line_with_status_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], expected: str) -> None:
    code = main([*args, "--out", str(tmp_path / "data")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and expected in err and "Traceback" not in err
    assert not (tmp_path / "data").exists()


def test_import_outcomes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["import-outcomes", str(DATA / "outcome_sheet.csv"), "--out", str(tmp_path), "--client-column", "Client"])
    out = capsys.readouterr().out
    assert code == 0
    assert "6 rows read, 10 scores written" in out and "roland-morris -> rmdq" in out and "name (identifies a person)" in out
    assert len(pd.read_csv(tmp_path / "outcomes.csv")) == 10


def test_summary_lists_names_placed_by_rule(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    export = tmp_path / "strong.csv"
    export.write_text(
        "Date,Workout Name,Duration,Exercise Name,Set Order,Weight,Reps,Distance,Seconds,Notes,Workout Notes,RPE\n"
        "2024-03-05 18:00:00,A,1h,Barbell Glute Bridge,1,60,10,0,0,,,\n"
        "2024-03-05 18:00:00,A,1h,Barbell Glute Bridge,2,60,10,0,0,,,\n"
        "2024-03-05 18:00:00,A,1h,Plank,1,0,0,0,60,,,\n"
        "2024-03-05 18:00:00,A,1h,Blorp Press Thing,1,10,10,0,0,,,\n"
    )
    assert main(["import", str(export), "--client-id", "c1", "--out", str(tmp_path / "d")]) == 0
    out = capsys.readouterr().out
    assert "1 exercise names placed by rule, not by an exact catalog entry (review them):" in out
    assert "'Barbell Glute Bridge' -> core: back-pain rule 'glute bridge'" in out and "[2 sets]" in out
    assert "unknown exercise 'Blorp Press Thing'" in out


def test_catalog_explain(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "explain", "V-Bar Pulldown", "Plank"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("'V-Bar Pulldown' -> back: ") and "modifiers: v bar" in out[0]
    assert out[1].startswith("'Plank' -> core: built-in catalog.csv entry 'plank'")
    assert main(["catalog", "explain", "Jefferson curl"]) == 1
    assert capsys.readouterr().out.startswith("unknown exercise 'Jefferson curl'")
    (tmp_path / "catalog.csv").write_text("exercise,modality\nJefferson curl,flexibility\n")
    assert main(["catalog", "explain", "jefferson curls", "--data", str(tmp_path)]) == 0
    assert "-> flexibility: the studio's catalog table" in capsys.readouterr().out
