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
