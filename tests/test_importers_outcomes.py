"""Studio outcome sheets (one row per visit) -> the long outcomes table."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from backpain_analysis.errors import DataError
from backpain_analysis.importers.outcome_sheet import builtin_for, import_outcome_sheet, read_outcome_sheet
from backpain_analysis.loading import load

SHEET = Path(__file__).parent / "data" / "imports" / "outcome_sheet.csv"


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("NPRS", "nprs"),
        ("Pain (0-10)", "nprs"),
        ("VAS (mm)", "vas"),
        ("ODI (%)", "odi"),
        ("Oswestry Disability Index", "odi"),
        ("Roland-Morris", "rmdq"),
        ("PSFS", "psfs"),
        ("Sit-and-reach (cm)", "sit_and_reach_cm"),
        ("sit_and_reach_cm", "sit_and_reach_cm"),
        ("ODI Q3", "odi_q3"),
        ("odi_q10", "odi_q10"),
        ("RMDQ item 24", "rmdq_q24"),
        ("Grip strength", None),
    ],
)
def test_headers_to_instruments(header: str, name: str | None) -> None:
    assert builtin_for(header) == name


def test_item_beyond_the_form_is_an_error() -> None:
    with pytest.raises(DataError, match="the ODI has items 1 to 10"):
        builtin_for("ODI Q11")


def test_sheet_to_long_rows_and_ledger() -> None:
    before = hashlib.sha256(SHEET.read_bytes()).hexdigest()
    sheet = read_outcome_sheet(SHEET)
    assert hashlib.sha256(SHEET.read_bytes()).hexdigest() == before
    got = {(r.client_id, r.date, r.instrument): r.score for r in sheet.outcomes.itertuples()}
    assert got == {
        ("c1", "2024-03-05", "nprs"): "6",
        ("c1", "2024-03-05", "odi"): "40",
        ("c1", "2024-03-05", "rmdq"): "12",
        ("c1", "2024-03-05", "grip_strength_kg"): "30.5",
        ("c1", "2024-03-05", "odi_q1"): "3",
        ("c1", "2024-03-19", "nprs"): "4",
        ("c1", "2024-03-19", "odi"): "32",
        ("c1", "2024-03-19", "grip_strength_kg"): "31",
        ("c2", "2024-03-06", "nprs"): "7",
        ("c2", "2024-03-06", "rmdq"): "15",
    }
    reasons = dict(zip(sheet.ledger["row"], sheet.ledger["reason"], strict=True))
    assert reasons == {
        4: "score 'abc' in column 'grip strength (kg)' is not a number",
        5: "no client id",
        6: "unparseable date 'yesterday'",
        7: "no scores in this row",
    }
    accounted = set(sheet.outcomes["import_row"].astype(int)) | set(sheet.ledger["row"])
    assert accounted == set(range(2, sheet.rows_read + 2))
    assert sheet.custom == ["grip strength (kg)"]
    assert sheet.ignored == {"name": "identifies a person", "visit": "visit bookkeeping", "notes": "not numbers"}
    assert sheet.notes == []  # 19/03/2024 settles day-first


def test_import_is_idempotent_and_loads(tmp_path: Path) -> None:
    (tmp_path / "outcomes.csv").write_text("client_id,date,instrument,score\nx1,2024-01-01,nprs,3\n", encoding="utf-8")
    first = import_outcome_sheet(SHEET, tmp_path)
    snapshot = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    second = import_outcome_sheet(SHEET, tmp_path)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == snapshot
    assert second.replaced_outcomes == len(first.sheet.outcomes) == 10
    outcomes = _read(tmp_path / "outcomes.csv")
    assert outcomes.iloc[0].tolist()[:4] == ["x1", "2024-01-01", "nprs", "3"]
    assert not outcomes.apply(lambda col: col.str.contains("Jane|Bob")).any().any()
    (tmp_path / "sessions.csv").write_text("client_id,date,exercise\nc1,2024-03-05,plank\n", encoding="utf-8")
    dataset = load(tmp_path)
    assert dataset.counts().loc["outcomes", "read"] == 11
    assert set(dataset.outcomes["instrument"]) >= {"nprs", "odi", "rmdq", "grip_strength_kg"}


def test_corrected_sheet_replaces_values_and_cleared_cells(tmp_path: Path) -> None:
    import_outcome_sheet(SHEET, tmp_path)
    corrected = tmp_path / "visits.csv"
    corrected.write_text(SHEET.read_text(encoding="utf-8").replace("c1,05/03/2024,6,40%,12", "c1,05/03/2024,5,40%,"), encoding="utf-8")
    result = import_outcome_sheet(corrected, tmp_path)
    outcomes = _read(tmp_path / "outcomes.csv")
    visit = outcomes[(outcomes["client_id"] == "c1") & (outcomes["date"] == "2024-03-05")]
    assert dict(zip(visit["instrument"], visit["score"], strict=True)) == {"nprs": "5", "odi": "40", "grip_strength_kg": "30.5", "odi_q1": "3"}
    assert len(outcomes) == len(result.sheet.outcomes)


def test_excel_sheet_with_named_columns(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "Client ID": ["c1", "c1", "c2"],
            "Visit date": pd.to_datetime(["2024-03-05", "2024-03-19", "2024-03-06"]),
            "NRS": [6, 4, None],
            "PSFS": [3.5, 5.0, 6.0],
        }
    )
    path = tmp_path / "visits.xlsx"
    frame.to_excel(path, index=False)
    sheet = read_outcome_sheet(path, client_column="client id", date_column="visit date")
    assert sheet.outcomes[["client_id", "date", "instrument", "score"]].values.tolist() == [
        ["c1", "2024-03-05", "nprs", "6"],
        ["c1", "2024-03-05", "psfs", "3.5"],
        ["c1", "2024-03-19", "nprs", "4"],
        ["c1", "2024-03-19", "psfs", "5"],
        ["c2", "2024-03-06", "psfs", "6"],
    ]
    assert sheet.ledger.empty


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"client_column": "patient"}, "has no column 'patient'.*--client-column"),
        ({"date_column": "when"}, "has no column 'when'.*--date-column"),
        ({"client_column": "name"}, "identifies a person"),
    ],
)
def test_missing_or_identifying_key_columns(options: dict[str, str], expected: str) -> None:
    with pytest.raises(DataError, match=expected):
        read_outcome_sheet(SHEET, **options)
