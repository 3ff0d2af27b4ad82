"""Hand-made export variants (tests/data/imports): what each row must become.

Each file was written by hand from the format's documentation and known
variants, so the expected rows below are what the file says, row by row.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from backpain_analysis.errors import DataError
from backpain_analysis.importers import import_export, read_export
from backpain_analysis.importers.sets import WARMUP_REASON

DATA = Path(__file__).parent / "data" / "imports"
VARIANTS = [
    "strong_android_semicolon_lb.csv",
    "strong_new_lbs.csv",
    "strong_wdf.csv",
    "hevy_lb_daymonth.csv",
    "hevy_us_locale.csv",
    "hevy_portuguese_dates.csv",
    "fitbod.csv",
    "fitbod_support.csv",
]


def _rows(name: str, **options: object) -> tuple[pd.DataFrame, pd.DataFrame]:
    built = read_export(DATA / name, **options).built
    return built.sets.set_index(built.sets["import_row"].astype(int)), built.ledger.set_index("row")


@pytest.mark.parametrize("name", VARIANTS)
def test_every_row_accounted_and_file_unchanged(tmp_path: Path, name: str) -> None:
    path = DATA / name
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    result = import_export(path, "c9", tmp_path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    sets = pd.read_csv(tmp_path / "sessions.csv", dtype=str, keep_default_na=False)
    ledger = pd.read_csv(tmp_path / "import_ledger.csv", dtype=str, keep_default_na=False)
    rows = sorted(sets["import_row"].astype(int).tolist() + ledger["row"].astype(int).tolist())
    assert rows == list(range(2, result.export.rows_read + 2))
    assert sorted(p.name for p in tmp_path.iterdir()) == [".import.lock", "import_ledger.csv", "sessions.csv"]  # no temporary file left


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("strong_android_semicolon_lb.csv", "strong"), ("strong_new_lbs.csv", "strong"), ("hevy_us_locale.csv", "hevy"), ("fitbod_support.csv", "fitbod")],
)
def test_format_detected_from_header(name: str, fmt: str) -> None:
    assert read_export(DATA / name).format.name == fmt


def test_strong_android_semicolons_decimal_commas_pounds() -> None:
    sets, ledger = _rows("strong_android_semicolon_lb.csv")
    assert ledger.loc[2, "reason"] == WARMUP_REASON and ledger.loc[2, "value"] == "W"
    assert sets.loc[3, ["load", "load_unit", "reps", "rpe", "set_type"]].tolist() == ["185.5", "lb", "5", "8.5", "normal"]
    assert sets.loc[6, "set_type"] == "drop"
    assert sets.loc[7, ["duration_s", "reps", "load"]].tolist() == ["60", "", ""]  # plank keeps its seconds
    assert sets.loc[8, ["duration_s", "set_type"]].tolist() == ["75", "failure"]
    assert sets.loc[9, ["modality", "distance", "distance_unit", "duration_s"]].tolist() == ["other", "5.2", "km", "1800"]
    assert sets.loc[11, ["exercise", "reps", "load", "load_unit"]].tolist() == ["Glute Bridge", "15", "", ""]
    assert ledger.loc[12, "reason"].startswith("no reps, no duration and no distance")
    assert (sets["date"].str.len() == 19).all()


def test_strong_newer_export_rest_timer_twelve_hour_clock_assisted() -> None:
    sets, ledger = _rows("strong_new_lbs.csv")
    assert ledger.loc[4, "reason"] == "rest timer row, not a set"
    assert sets.loc[3, ["date", "load", "load_unit"]].tolist() == ["2024-03-05 18:01:12", "135", "lb"]
    assert sets.loc[6, ["date", "modality", "distance", "distance_unit"]].tolist() == ["2024-03-06 07:15:00", "other", "3.1", "mi"]
    assert sets.loc[7, ["load", "assistance", "load_unit"]].tolist() == ["", "40", "lb"]


def test_strong_set_order_letters_and_bad_rows() -> None:
    sets, ledger = _rows("strong_wdf.csv")
    assert ledger.loc[[2, 3], "reason"].eq(WARMUP_REASON).all()
    assert sets.loc[6, "set_type"] == "failure" and sets.loc[8, "set_type"] == "drop"
    assert ledger.loc[9, "reason"] == "set order 'X' is not a set number, W, D or F"
    assert ledger.loc[14, "reason"] == "unparseable date 'not a date'"
    assert sets.loc[10, ["exercise", "duration_s"]].tolist() == ["Side Plank", "40"]
    with_warmups, ledger_with = _rows("strong_wdf.csv", include_warmups=True)
    assert with_warmups.loc[[2, 3], "set_type"].eq("warmup").all() and sorted(ledger_with.index) == [9, 14]


def test_unit_option_fills_a_silent_export_and_refuses_a_contradiction(tmp_path: Path) -> None:
    silent = read_export(DATA / "strong_wdf.csv", unit="lb").built
    assert set(silent.sets.loc[silent.sets["load"] != "", "load_unit"]) == {"lb"} and not silent.notes
    assumed = read_export(DATA / "strong_wdf.csv").built
    assert set(assumed.sets.loc[assumed.sets["load"] != "", "load_unit"]) == {"kg"}
    assert any("kg assumed" in note for note in assumed.notes)
    assert read_export(DATA / "strong_new_lbs.csv", unit="lb").built.sets.loc[0, "load_unit"] == "lb"
    for name in ("strong_new_lbs.csv", "strong_android_semicolon_lb.csv", "hevy_us_locale.csv", "fitbod.csv"):
        other = "kg" if "lb" in name else "lb"
        with pytest.raises(DataError, match=f"--unit {other} contradicts it"):
            import_export(DATA / name, "c1", tmp_path, unit=other)
    assert not (tmp_path / "sessions.csv").exists()


def test_hevy_pounds_day_first_dates_and_set_types() -> None:
    sets, ledger = _rows("hevy_lb_daymonth.csv")
    assert ledger.loc[2, "reason"] == WARMUP_REASON
    assert sets.loc[3, ["date", "load", "load_unit", "rpe"]].tolist() == ["2026-04-08 16:50:00", "135", "lb", "8"]
    assert sets.loc[4, "set_type"] == "drop" and sets.loc[5, "set_type"] == "failure"
    assert sets.loc[6, ["load", "assistance"]].tolist() == ["", "40"]
    assert sets.loc[7, ["duration_s", "modality"]].tolist() == ["90", ""]
    assert sets.loc[8, ["date", "distance", "distance_unit", "modality"]].tolist() == ["2026-04-13 07:05:00", "3.5", "mi", "other"]
    assert "is not normal, warmup, dropset or failure" in ledger.loc[9, "reason"]


def test_hevy_month_names_in_other_locales() -> None:
    us, _ = _rows("hevy_us_locale.csv")
    assert us.loc[3, "date"] == "2026-04-08 16:50:00" and us.loc[5, "date"] == "2026-04-10 07:05:00"
    portuguese, ledger = _rows("hevy_portuguese_dates.csv")
    assert ledger.empty
    assert portuguese["date"].tolist() == ["2026-04-08 16:50:00", "2026-04-08 16:50:00", "2026-02-03 07:15:00", "2025-12-31 18:00:00"]


def test_ambiguous_numeric_dates_are_read_day_first_with_a_note(tmp_path: Path) -> None:
    text = (DATA / "hevy_lb_daymonth.csv").read_text(encoding="utf-8").replace("13/04/2026", "12/04/2026")
    path = tmp_path / "hevy.csv"
    path.write_text(text, encoding="utf-8")
    export = read_export(path)
    assert set(export.built.sets["date"].str[:10]) == {"2026-04-08", "2026-04-12"}
    assert any("day-first" in note for note in export.built.notes)


def test_fitbod_sets_grouped_into_sessions_and_warmups() -> None:
    sets, ledger = _rows("fitbod.csv")
    assert sorted(ledger.index) == [2, 8, 11]
    assert ledger.loc[[2, 8], "reason"].eq(WARMUP_REASON).all()
    assert ledger.loc[11, "reason"].startswith("no reps, no duration")  # 0 reps logged
    assert sets.loc[[3, 4, 5, 6], "date"].eq("2021-12-27 10:02:51").all()  # one morning session, started by the warm-up
    assert sets.loc[7, ["date", "modality", "distance", "distance_unit", "duration_s"]].tolist() == ["2021-12-27 18:30:00", "other", "4000", "m", "1500"]
    assert sets.loc[[9, 10], "date"].eq("2021-12-28 09:00:00").all()  # offset dropped, clock time kept
    assert sets.loc[3, ["reps", "load", "load_unit"]].tolist() == ["10", "22.6796", "kg"]
    with_warmups, _ = _rows("fitbod.csv", include_warmups=True)
    assert with_warmups.loc[2, ["set_type", "date"]].tolist() == ["warmup", "2021-12-27 10:02:51"]


def test_fitbod_support_extract() -> None:
    sets, ledger = _rows("fitbod_support.csv")
    assert sets["date"].tolist() == ["2020-06-01", "2020-06-01"]
    assert ledger.loc[3, "reason"] == WARMUP_REASON


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("unknown_garmin.csv", "not a Strong, Hevy or Fitbod export"),
        ("broken_truncated_strong.csv", "fields but the header has 12"),
    ],
)
def test_unknown_and_broken_files_give_one_line(tmp_path: Path, name: str, expected: str) -> None:
    with pytest.raises(DataError, match=expected) as caught:
        import_export(DATA / name, "c1", tmp_path)
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "sessions.csv").exists()


def test_wrong_format_option_names_the_missing_column(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="is not a Fitbod export: it lacks 'weight\\(kg\\)', 'iswarmup'"):
        import_export(DATA / "strong_wdf.csv", "c1", tmp_path, format="fitbod")


@pytest.mark.parametrize(
    ("content", "expected"),
    [(b"", "is empty"), (b"PK\x03\x04rest", "Excel workbook or zip"), (b"\x00\x01\x02binary", "not a text file")],
)
def test_files_that_are_not_text(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(content)
    with pytest.raises(DataError, match=expected):
        read_export(path)


def test_unplaced_names_are_kept_and_listed(tmp_path: Path) -> None:
    result = import_export(DATA / "strong_wdf.csv", "c1", tmp_path)
    assert result.unplaced.to_dict() == {"Jefferson Curl": 1}
    assert any("Jefferson Curl" in line for line in result.summary())
    (tmp_path / "catalog.csv").write_text("exercise,modality\njefferson curl,back\n", encoding="utf-8")
    assert import_export(DATA / "strong_wdf.csv", "c1", tmp_path).unplaced.empty
