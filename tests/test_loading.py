"""Loading with a ledger (CONTRACT sections 1, 2, 4-validate, 5-load)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from backpain_analysis.cli import main
from backpain_analysis.contract import LB_TO_KG, LEDGER_COLUMNS, MODALITIES
from backpain_analysis.errors import DataError
from backpain_analysis.loading import DATE_HINT, IMPLAUSIBLE, load
from backpain_analysis.panel import weekly_panel

CLEAN = Path(__file__).parent / "data" / "loading" / "clean"
TABLE_ROWS = {"sessions": 9, "outcomes": 27, "clients": 3, "catalog": 2}


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(CLEAN, folder)
    return folder


def append(folder: Path, table: str, *lines: str) -> list[int]:
    """Append data lines to ``table``.csv; returns their spreadsheet row numbers."""
    path = folder / f"{table}.csv"
    before = len(path.read_text(encoding="utf-8").splitlines())
    with path.open("a", encoding="utf-8") as handle:
        handle.writelines(line + "\n" for line in lines)
    return list(range(before + 1, before + 1 + len(lines)))


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_clean_dataset_loads_without_rejections(data: Path) -> None:
    dataset = load(data)
    assert dataset.rejected.empty
    assert list(dataset.rejected.columns) == list(LEDGER_COLUMNS)
    assert dataset.read == TABLE_ROWS
    assert dataset.counts()["accepted"].to_dict() == TABLE_ROWS
    assert {name: path.name for name, path in dataset.files.items()} == {t: f"{t}.csv" for t in TABLE_ROWS}


def test_sessions_are_normalised(data: Path) -> None:
    sessions = load(data).sessions
    assert list(sessions.columns) == [
        "client_id", "date", "session_start", "exercise", "modality", "sets", "reps", "load_kg", "duration_s", "rpe", "source_row",
    ]  # fmt: skip
    assert sessions["source_row"].tolist() == list(range(2, 11))
    assert sessions["modality"].tolist() == [
        "core", "back", "flexibility", "flexibility", "back", "back", "other", "other_strength", "other",
    ]  # fmt: skip  (yoga and Jefferson curl from the studio catalog; Trail scramble by its own modality)
    assert sessions["sets"].dtype == "int64"
    assert sessions["sets"].tolist() == [3, 3, 2, 1, 5, 3, 1, 4, 1]
    assert sessions["load_kg"].tolist() == pytest.approx([0, 20 * LB_TO_KG, 0, 0, 0, 10, 0, 60.5, 0])
    assert sessions["reps"].isna().tolist() == [True, False, True, True, False, False, True, False, True]
    assert sessions["duration_s"].iloc[[0, 3]].tolist() == [30, 3600]
    assert sessions["rpe"].iloc[[0, 1, 7]].tolist() == [6, 7, 8]
    for column in ("date", "session_start"):
        assert sessions[column].dtype == "datetime64[ns]"
    assert sessions["session_start"].iloc[:4].tolist() == pd.to_datetime(
        ["2024-03-04 08:00", "2024-03-04 08:00", "2024-03-04 18:00", "2024-03-06"], format="ISO8601"
    ).tolist()
    assert (sessions["date"] == sessions["session_start"].dt.normalize()).all()
    assert sessions["exercise"].iloc[4] == "Pull-Ups (Assisted)"
    assert "phone" not in sessions.columns


def test_outcomes_are_normalised_and_item_forms_scored(data: Path) -> None:
    outcomes = load(data).outcomes
    assert list(outcomes.columns) == ["client_id", "date", "instrument", "score", "source_row"]
    expected = pd.DataFrame(
        {
            "client_id": ["c1", "c1", "c1", "c1", "c2", "c2", "c3", "c3"],
            "date": ["2024-03-04", "2024-03-04", "2024-03-11", "2024-03-11", "2024-05-09", "2024-05-09", "2024-03-02", "2024-03-02"],
            "instrument": ["nprs", "odi", "nprs", "psfs", "rmdq", "grip_kg", "sit_and_reach_cm", "odi"],
            # ODI c1: 15 of 50 = 30 %; c3: nine sections of 2 = 18 of 45 = 40 %; RMDQ c2: 2 statements ticked
            "score": [6.0, 30.0, 4.0, 5.5, 2.0, 31.5, -4.0, 40.0],
            "source_row": [2, 3, 13, 14, 15, 18, 19, 20],
        }
    )
    expected["date"] = pd.to_datetime(expected["date"]).astype("datetime64[ns]")
    pd.testing.assert_frame_equal(outcomes, expected, check_dtype=False)
    assert outcomes["date"].dtype == "datetime64[ns]"
    assert outcomes["score"].dtype == "float64"


def test_clients_and_catalog(data: Path) -> None:
    dataset = load(data)
    clients = dataset.clients
    assert list(clients.columns) == ["client_id", "program", "studio", "start_date", "age", "sex", "bmi", "source_row"]
    assert clients["start_date"].tolist()[0] == pd.Timestamp("2024-03-04")
    assert pd.isna(clients["start_date"].iloc[1])
    assert clients["age"].iloc[:2].tolist() == [41.0, 35.0]
    assert clients["bmi"].dtype == "float64"  # an extra covariate, numeric because every value is
    assert "c9" not in set(clients["client_id"])  # only seen in sessions: fine, not added
    assert dataset.catalog[["exercise", "modality"]].values.tolist() == [["Jefferson curl", "back"], ["yoga", "flexibility"]]
    assert dataset.catalog["note"].iloc[0] == "loaded spinal flexion"


def test_identifying_columns_never_reach_any_output(data: Path) -> None:
    append(data, "clients", "c4,core,north,2024-13-01,50,F,SECRET-MAIL,")
    append(data, "sessions", "c1,2024-03-05,Plank,0,,,,,,,SECRET-PHONE")
    append(data, "outcomes", "c1,2024-03-05,nprs,99,SECRET-NAME")
    dataset = load(data)
    assert len(dataset.rejected) == 3
    frames = [dataset.sessions, dataset.outcomes, dataset.clients, dataset.catalog, dataset.rejected]
    text = "".join(frame.to_csv() for frame in frames)
    for secret in ("SECRET", "ann@example.org", "Ann Example", "555-0100"):
        assert secret not in text
    for frame in frames:
        assert not {"email", "phone", "name"} & set(frame.columns)


SESSION_CASES = [
    (" ,2024-03-05,Plank,1,,,,,,,", "client_id", " ", "client_id is blank"),
    ("c1,,Plank,1,,,,,,,", "date", "", "date is blank"),
    ("c1,05/03/2024,Plank,1,,,,,,,", "date", "05/03/2024", f"date '05/03/2024' is not a date: {DATE_HINT}"),
    ("c1,2024-02-30,Plank,1,,,,,,,", "date", "2024-02-30", f"date '2024-02-30' is not a date: {DATE_HINT}"),
    ("c1,2024-03-05T25:00,Plank,1,,,,,,,", "date", "2024-03-05T25:00", f"date '2024-03-05T25:00' is not a date: {DATE_HINT}"),
    ("c1,9999-12-31,Plank,1,,,,,,,", "date", "9999-12-31", "date 9999-12-31 is outside the years 1900-2100"),
    ("c1,2024-03-05,,1,,,,,,,", "exercise", "", "exercise is blank"),
    ("c1,2024-03-05,Plank,0,,,,,,,", "sets", "0", "sets 0 is outside 1-1000"),
    ("c1,2024-03-05,Plank,1e19,,,,,,,", "sets", "1e19", f"sets 1e19 is outside 1-1000{IMPLAUSIBLE}"),
    ("c1,2024-03-05,Plank,2.5,,,,,,,", "sets", "2.5", "sets '2.5' is not a whole number 1-1000"),
    ("c1,2024-03-05,Plank,three,,,,,,,", "sets", "three", "sets 'three' is not a whole number 1-1000"),
    ("c1,2024-03-05,Plank,1,-1,,,,,,", "reps", "-1", "reps -1 is outside 0-1000"),
    ("c1,2024-03-05,Row,1,10,-5,,,,,", "load", "-5", "load -5 is outside 0-1000"),
    ('c1,2024-03-05,Row,1,10,"2,5",,,,,', "load", "2,5", "load '2,5' is not a number 0-1000"),
    ("c1,2024-03-05,Row,1,10,5,stone,,,,", "load_unit", "stone", "load_unit 'stone' is not one of kg, lb"),
    ("c1,2024-03-05,Plank,1,,,,-30,,,", "duration_s", "-30", "duration_s -30 is outside 0-86400"),
    ("c1,2024-03-05,Plank,1,,,,,11,,", "rpe", "11", "rpe 11 is outside 0-10"),
    # plausibility limits (issue 11): absurd and non-finite numbers never reach the panel
    ("c1,2024-03-05,Plank,1,1e308,,,,,,", "reps", "1e308", f"reps 1e308 is outside 0-1000{IMPLAUSIBLE}"),
    ("c1,2024-03-05,Row,1,10,1e308,,,,,", "load", "1e308", f"load 1e308 is outside 0-1000{IMPLAUSIBLE}"),
    ("c1,2024-03-05,Row,1,10,2000,lb,,,,", "load", "2000", f"load 2000 is outside 0-1000{IMPLAUSIBLE}"),
    ("c1,2024-03-05,Plank,1,,,,1e308,,,", "duration_s", "1e308", f"duration_s 1e308 is outside 0-86400{IMPLAUSIBLE}"),
    ("c1,2024-03-05,Plank,1,,,,inf,,,", "duration_s", "inf", "duration_s 'inf' is not a number 0-86400"),
    ("c1,2024-03-05,Plank,1,NaN,,,,,,", "reps", "NaN", "reps 'NaN' is not a whole number 0-1000"),
    ("c1,2024-03-05,Plank,1,,,,,-inf,,", "rpe", "-inf", "rpe '-inf' is not a number 0-10"),
    (
        "c1,2024-03-05,Plank,1,,,,,,cardio,",
        "modality",
        "cardio",
        "modality 'cardio' is not one of core, back, other_strength, flexibility, mixed, other",
    ),
    (
        "c1,2024-03-05,Zercher carry walk,1,,,,,,,",
        "exercise",
        "Zercher carry walk",
        "unknown exercise 'Zercher carry walk' - add it to catalog.csv or give a modality"
        " (it reads as 'carry' (core) and 'walk' (other); did you mean 'farmers carry'?)",
    ),
    ("c1,2024-03-01,Plank,1,,,,,,,", "date", "2024-03-01", "date 2024-03-01 is before client c1's start_date 2024-03-04"),
    # first failing rule wins: blank client_id before the bad sets
    (",2024-03-05,Plank,0,,,,,,,", "client_id", "", "client_id is blank"),
]

OUTCOME_CASES = [
    ("c1,2024-03-05, ,5,", "instrument", " ", "instrument is blank"),
    ("c1,2024-03-05,nprs,,", "score", "", "score is blank"),
    ("c1,2024-03-05,nprs,14,", "score", "14", "score 14 is outside nprs range 0-10"),
    ("c1,2024-03-05,VAS,101,", "score", "101", "score 101 is outside vas range 0-100"),
    ("c1,2024-03-05,odi,120,", "score", "120", "score 120 is outside odi range 0-100"),
    ("c1,2024-03-05,rmdq,25,", "score", "25", "score 25 is outside rmdq range 0-24"),
    ("c1,2024-03-05,psfs,-1,", "score", "-1", "score -1 is outside psfs range 0-10"),
    ("c1,2024-03-05,nprs,abc,", "score", "abc", "score 'abc' is not a number"),
    ("c1,2024-03-05,grip_kg,n/a,", "score", "n/a", "score 'n/a' is not a number"),
    ("c1,2024-03-05,grip_kg,inf,", "score", "inf", "score 'inf' is not a number"),
    ("c1,2024-03-05,grip_kg,1e308,", "score", "1e308", f"score 1e308 for custom instrument 'grip_kg' is beyond +-1,000,000{IMPLAUSIBLE}"),
    ("c1,2024-03-05,grip_kg,-2e6,", "score", "-2e6", f"score -2e6 for custom instrument 'grip_kg' is beyond +-1,000,000{IMPLAUSIBLE}"),
    ("c1,2024-03-05,odi_q3,2.5,", "score", "2.5", "score 2.5 for odi_q3 is not a whole number 0-5"),
    ("c1,2024-03-05,odi_q3,6,", "score", "6", "score 6 is outside odi_q3 range 0-5"),
    ("c1,2024-03-05,rmdq_q5,2,", "score", "2", "score 2 is outside rmdq_q5 range 0-1"),
    ("c1,2024-03-01,nprs,5,", "date", "2024-03-01", "date 2024-03-01 is before client c1's start_date 2024-03-04"),
    ("c1,2024-03-04,odi_q2,4,", "instrument", "odi_q2", "instrument 'odi_q2' is already on row 4 for this client and day"),
]

CLIENT_CASES = [
    ("c1,core,east,2024-03-04,41,F,,", "client_id", "c1", "client_id 'c1' is already on row 2"),
    (",core,east,,,,,", "client_id", "", "client_id is blank"),
    ("c5,core,east,2024/03/01,,,,", "start_date", "2024/03/01", f"start_date '2024/03/01' is not a date: {DATE_HINT}"),
    ("c5,core,east,,200,,,", "age", "200", "age 200 is outside 0-120"),
]

CATALOG_CASES = [
    (",core,", "exercise", "", "exercise is blank"),
    ("Copenhagen walk,,", "modality", "", "modality is blank"),
    (
        "Copenhagen walk,cardio,",
        "modality",
        "cardio",
        "modality 'cardio' is not one of core, back, other_strength, flexibility, mixed, other",
    ),
    (
        "Jefferson Curls,core,",
        "exercise",
        "Jefferson Curls",
        "exercise 'Jefferson Curls' is already on row 2 (names match ignoring case, spacing, hyphens and plurals)",
    ),
]


@pytest.mark.parametrize(
    ("table", "line", "column", "value", "reason"),
    [("sessions", *case) for case in SESSION_CASES]
    + [("outcomes", *case) for case in OUTCOME_CASES]
    + [("clients", *case) for case in CLIENT_CASES]
    + [("catalog", *case) for case in CATALOG_CASES],
)
def test_each_rejection_reason(data: Path, table: str, line: str, column: str, value: str, reason: str) -> None:
    (row,) = append(data, table, line)
    dataset = load(data)
    assert dataset.rejected.to_dict("records") == [{"table": table, "row": row, "column": column, "value": value, "reason": reason}]
    assert dataset.read[table] == TABLE_ROWS[table] + 1


def test_unknown_exercise_reason_with_a_modality_is_accepted(data: Path) -> None:
    append(data, "sessions", "c1,2024-03-05,Zercher carry walk,1,,,,,,core,")
    assert load(data).sessions["modality"].iloc[-1] == "core"


def test_odi_form_with_too_many_missing_sections(data: Path) -> None:
    rows = append(data, "outcomes", *[f"c2,2024-05-20,odi_q{i},3," for i in range(1, 9)])  # 8 of 10 sections
    dataset = load(data)
    ledger = dataset.rejected
    assert ledger["row"].tolist() == rows
    assert set(ledger["reason"]) == {
        "the odi form of client c2 on 2024-05-20 has 8 of 10 sections answered; at most 1 may be missing (odi_max_missing)"
    }
    assert ledger["value"].tolist() == ["3"] * 8
    relaxed = load(data, odi_max_missing=2)
    assert relaxed.rejected.empty
    form = relaxed.outcomes[relaxed.outcomes["source_row"] == rows[0]]
    assert form[["instrument", "score"]].values.tolist() == [["odi", 60.0]]
    strict = load(data, odi_max_missing=0)
    assert strict.counts().loc["outcomes", "rejected"] == 8 + 9  # c3's nine-section form fails too


@pytest.mark.parametrize("value", [-1, 10, 1.5, "1", True])
def test_odi_max_missing_must_be_a_whole_number(data: Path, value: object) -> None:
    with pytest.raises(DataError, match="odi_max_missing"):
        load(data, odi_max_missing=value)  # type: ignore[arg-type]


def test_ledger_invariant_with_every_kind_of_bad_row(data: Path) -> None:
    for table, cases in (("sessions", SESSION_CASES), ("outcomes", OUTCOME_CASES), ("clients", CLIENT_CASES), ("catalog", CATALOG_CASES)):
        append(data, table, *[case[0] for case in cases])
    before = digest(data)
    dataset = load(data)
    assert digest(data) == before
    counts = dataset.counts()
    assert (counts["accepted"] + counts["rejected"] == counts["read"]).all()
    assert counts["read"].to_dict() == {
        "sessions": TABLE_ROWS["sessions"] + len(SESSION_CASES),
        "outcomes": TABLE_ROWS["outcomes"] + len(OUTCOME_CASES),
        "clients": TABLE_ROWS["clients"] + len(CLIENT_CASES),
        "catalog": TABLE_ROWS["catalog"] + len(CATALOG_CASES),
    }
    ledger = dataset.rejected
    assert not ledger.duplicated(["table", "row"]).any()
    assert ledger["table"].tolist() == sorted(ledger["table"], key=["sessions", "outcomes", "clients", "catalog"].index)
    for table in ("sessions", "clients", "catalog"):
        accepted = set(getattr(dataset, table)["source_row"])
        assert accepted.isdisjoint(ledger.loc[ledger["table"] == table, "row"])
        assert len(accepted) == counts.loc[table, "accepted"]


def test_clients_table_is_optional_and_unknown_clients_are_fine(data: Path) -> None:
    (data / "clients.csv").unlink()
    (data / "catalog.csv").unlink()
    dataset = load(data)
    assert dataset.read == {"sessions": 9, "outcomes": 27}
    assert list(dataset.clients.columns) == ["client_id", "start_date", "source_row"]
    assert dataset.clients.empty and dataset.catalog.empty
    # without the studio catalog Jefferson curl is unknown, and yoga is mixed again
    assert dataset.rejected["reason"].tolist() == [
        "unknown exercise 'Jefferson Curl' - add it to catalog.csv or give a modality"
        " (did you mean 'Jefferson Squats', 'Reverse Curl (Barbell)', 'Finger Curls'?)"
    ]
    assert dataset.sessions.loc[dataset.sessions["exercise"] == "Yoga", "modality"].item() == "mixed"


def test_missing_required_column_stops_the_load(data: Path) -> None:
    text = (data / "sessions.csv").read_text(encoding="utf-8").replace("exercise,", "exercice,", 1)
    (data / "sessions.csv").write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match="sessions.csv lacks required column 'exercise'"):
        load(data)


def _retyped(data: Path, suffix: str) -> Path:
    """The clean dataset with every table converted to ``suffix`` (pandas' own type guesses)."""
    for csv in list(data.glob("*.csv")):
        frame = pd.read_csv(csv)
        target = csv.with_suffix(suffix)
        frame.to_parquet(target, index=False) if suffix == ".parquet" else frame.to_excel(target, index=False)
        csv.unlink()
    return data


@pytest.mark.parametrize("suffix", [".parquet", ".xlsx"])
def test_parquet_and_excel_round_trips(tmp_path: Path, data: Path, suffix: str) -> None:
    from_csv = load(data)
    other = load(_retyped(data, suffix))
    assert other.read == from_csv.read
    assert other.rejected.empty
    for table in ("sessions", "outcomes", "clients", "catalog"):
        pd.testing.assert_frame_equal(getattr(other, table), getattr(from_csv, table), check_dtype=False)


def test_rejected_values_are_verbatim_in_excel(data: Path) -> None:
    append(data, "sessions", "c1,2024-03-05,Plank, 007.50 ,,,,,,,")  # 7.5 sets: not whole
    dataset = load(_retyped(data, ".xlsx"))
    assert dataset.rejected[["column", "value"]].values.tolist() == [["sets", "7.5"]]  # Excel stores a number


def test_validate_command(data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    append(data, "outcomes", "c1,2024-03-05,nprs,14,")
    ledger_file = tmp_path / "rejected.csv"
    assert main(["validate", str(data), "--json", "--rejected", str(ledger_file)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == {
        "sessions": {"read": 9, "accepted": 9, "rejected": 0},
        "outcomes": {"read": 28, "accepted": 27, "rejected": 1},
        "clients": {"read": 3, "accepted": 3, "rejected": 0},
        "catalog": {"read": 2, "accepted": 2, "rejected": 0},
    }
    written = pd.read_csv(ledger_file, dtype=str)
    assert written.values.tolist() == [["outcomes", "29", "score", "14", "score 14 is outside nprs range 0-10"]]
    assert main(["validate", str(data)]) == 0
    out = capsys.readouterr().out
    assert "outcomes" in out and "catalog" in out and "score 14 is outside nprs range 0-10" in out


@pytest.mark.parametrize("args", [["validate", "no/such/folder"], ["validate", ".", "--rejected", "ledger.txt"]])
def test_validate_fails_with_one_line(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1


def test_validate_notes_a_fallback_encoding(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (data / "clients.csv").read_text(encoding="utf-8").replace("north", "Malmö")
    (data / "clients.csv").write_bytes(text.encode("cp1252"))
    assert main(["validate", str(data)]) == 0
    assert "note: clients.csv is not UTF-8" in capsys.readouterr().err
    with pytest.warns(UserWarning, match="Windows-1252"):
        assert load(data).clients["studio"].iloc[0] == "Malmö"


def test_accepted_sessions_satisfy_the_contract(data: Path) -> None:
    sessions = load(data).sessions
    assert sessions["modality"].isin(MODALITIES).all()
    assert (sessions["sets"] >= 1).all()
    assert ((sessions["reps"] >= 0) | sessions["reps"].isna()).all()
    assert (sessions["load_kg"] >= 0).all()
    assert np.isfinite(sessions["load_kg"]).all()


def test_header_only_tables_load_empty(tmp_path: Path) -> None:
    for table, header in (("sessions", "client_id,date,exercise"), ("outcomes", "client_id,date,instrument,score"), ("catalog", "exercise,modality")):
        (tmp_path / f"{table}.csv").write_text(header + "\n", encoding="utf-8")
    dataset = load(tmp_path)
    assert dataset.read == {"sessions": 0, "outcomes": 0, "catalog": 0}
    assert dataset.sessions.empty and dataset.outcomes.empty and dataset.rejected.empty
    assert dataset.sessions["date"].dtype == "datetime64[ns]" and dataset.sessions["sets"].dtype == "int64"


def test_a_rejected_row_does_not_make_a_numeric_extra_column_text(tmp_path) -> None:
    (tmp_path / "sessions.csv").write_text(
        "client_id,date,exercise,bmi\nc1,2024-01-01,plank,22.5\nc1,2024-01-02,Jefferson curl,x\nc1,2024-01-03,plank,\n"
    )
    (tmp_path / "outcomes.csv").write_text("client_id,date,instrument,score\nc1,2024-01-01,nprs,5\n")
    sessions = load(tmp_path).sessions
    assert sessions["bmi"].dtype == "float64"
    assert sessions["bmi"].iloc[0] == 22.5


def test_a_table_may_be_a_folder_of_parquet_parts(tmp_path: Path) -> None:
    """CONTRACT section 1: ``sessions/`` of Parquet parts loads as one table; the ledger names each part and its own row."""
    sample = Path(__file__).resolve().parents[1] / "data" / "sample"
    sessions = pd.read_csv(sample / "sessions.csv", dtype=str, keep_default_na=False)
    (tmp_path / "sessions").mkdir()
    cut = len(sessions) // 2
    sessions.iloc[:cut].to_parquet(tmp_path / "sessions" / "part-0.parquet", index=False)
    sessions.iloc[cut:].to_parquet(tmp_path / "sessions" / "part-1.parquet", index=False)
    for table in ("outcomes", "clients"):
        (tmp_path / f"{table}.csv").write_bytes((sample / f"{table}.csv").read_bytes())
    whole, parted = load(sample), load(tmp_path)
    pd.testing.assert_frame_equal(whole.counts(), parted.counts())
    pd.testing.assert_frame_equal(weekly_panel(whole), weekly_panel(parted))
    ledger = parted.rejected.set_index(["table", "reason"])
    expected = whole.rejected.set_index(["table", "reason"])["row"]
    in_second = expected > cut + 1
    assert (ledger.loc[expected.index, "row"].to_numpy() == np.where(in_second, expected - cut, expected)).all()
    files = ledger.loc[expected.index, "file"].to_numpy()
    assert set(files[(expected.index.get_level_values("table") == "sessions") & in_second]) == {"sessions/part-1.parquet"}
    assert set(files[expected.index.get_level_values("table") == "outcomes"]) == {"outcomes.csv"}
