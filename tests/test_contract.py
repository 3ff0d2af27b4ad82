"""Acceptance test of ../shared/CONTRACT.md through the public surfaces only.

Every check goes through the ``backpain`` command (``cli.main([...])``, once
the installed console script) or ``import backpain_analysis as bp``. Each test
names the contract section it checks. Expected values are worked out by hand
from a tiny dataset written here (``TINY``), whose rows are chosen so that
every definition of section 3 changes at least one number.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

import backpain_analysis as bp
from backpain_analysis.cli import main

ROOT = Path(__file__).resolve().parents[1]
IMPORTS = Path(__file__).parent / "data" / "imports"
LB = 0.45359237

# Names below are copied from CONTRACT.md on purpose, not imported from backpain_analysis.contract:
# a change in the code must not change what this test checks.
TIDY = ["term", "estimate", "std_error", "statistic", "df", "p_value", "conf_low", "conf_high"]
FIT_TERMS = [
    "week",
    "strength_sets_within",
    "flexibility_min_within",
    "strength_x_flexibility_within",
    "strength_sets_between",
    "flexibility_min_between",
]
EXPOSURES = [
    "core_sets", "back_sets", "other_strength_sets", "strength_sets", "volume_load_kg",
    "flexibility_min", "mixed_min", "sessions", "active_days",
]  # fmt: skip
LEDGER = ["table", "row", "column", "value", "reason"]
IDENTIFYING = ["name", "first_name", "last_name", "email", "phone", "address", "dob", "date_of_birth"]
SECRETS = ["Zelda Quux", "zelda.quux@example.invalid", "555-0199", "1984-04-04", "Quux"]
"""Values of identifying columns in TINY: none may appear in any output."""

# --------------------------------------------------------------------------- the tiny dataset
# Headers are deliberately case-mangled and space-padded; each table has an extra column.
# Spreadsheet row numbers (header = 1) are given in the comments.

SESSIONS_HEADER = [" Client_ID", "DATE ", "Exercise", " SETS", "Reps", "Load", "LOAD_UNIT", "Duration_S", "rpe", "Modality", "coach_note"]
SESSIONS = [
    ["c1", "2024-01-01 08:00", "plank", "3", "10", "", "", "", "", "", "easy"],  # 2 core, body weight
    ["c1", "2024-01-01 08:00", "Bent-Over Rows", "2", "8", "20", "lb", "", "7", "", ""],  # 3 back, lb
    ["c1", "2024-01-01 18:30", "hamstring stretch", "2", "", "", "", "45", "", "", ""],  # 4 second session that day
    ["c1", "2024-01-03", "yoga", "1", "", "", "", "3600", "", "", ""],  # 5 mixed, a whole class
    ["c1", "2024-01-03", "squat", "3", "5", "100", "kg", "", "", "", ""],  # 6 other_strength: not in volume
    ["c1", "2024-01-03", "walking", "1", "", "", "", "1800", "", "", ""],  # 7 other
    ["c1", "2024-01-07", "Cat-Cows", "1", "", "", "", "120", "", "", ""],  # 8 day 6: still week 0
    ["c1", "2024-01-15", "Dead-Bugs", "2", "10", "0", "kg", "", "", "", ""],  # 9 week 2, load 0 = body weight
    ["c1", "2024-01-15", "back extension", "3", "12", "10", "kg", "", "", "", ""],  # 10
    ["c1", "2024-01-15", "Jefferson curl", "2", "5", "15", "kg", "", "", "back", ""],  # 11 modality given
    ["c1", "2024-01-15", "superman", "", "10", "", "", "", "", "", ""],  # 12 sets blank = 1
    ["c1", "2024-01-15", "Turkish get-ups", "1", "5", "16", "kg", "", "", "", ""],  # 13 studio catalog: core
    ["c1", "2024-01-15", "reformer footwork", "1", "", "", "", "600", "", "", ""],  # 14 studio catalog adds: mixed
    ["c1", "2024-01-15", "Jefferson curl", "2", "5", "15", "kg", "", "", "", ""],  # 15 rejected: unknown exercise
    ["c1", "2023-12-30", "plank", "1", "", "", "", "", "", "", ""],  # 16 rejected: before start_date
    ["c2", "2024-02-06 07:15", "plank", "2", "10", "", "", "", "", "", ""],  # 17 c2 is not in clients
    ["c2", "2024-02-20", "side planks", "2", "", "", "", "30", "", "", ""],  # 18 c2 week 2
    ["c1", "2024-01-16", "plank", "1", "", "", "", "", "12", "", ""],  # 19 rejected: rpe 12
    ["c3", "2024-03-12", "plank", "1", "", "", "", "", "", "", ""],  # 20 c3 started 2024-03-04: day 8, week 1
]
OUTCOMES_HEADER = ["CLIENT_ID ", " Date", "Instrument", "Score", "rater", "Name"]
ODI_ITEMS = [1, 2, 3, 4, 5, 0, 1, 2, 3]  # odi_q10 missing: 21 / (5 x 9) x 100
RMDQ_ITEMS = [1, 1, 1, 1, 1, 0, 0, 0, 0, 0]  # rmdq_q11..q24 missing: 5 ticked
OUTCOMES = (
    [
        ["c1", "2024-01-01", "nprs", "6", "A", "Zelda Quux"],  # 2
        ["c1", "2024-01-05", "nprs", "4", "A", "Zelda Quux"],  # 3 week-0 mean 5
        ["c1", "2024-01-02", "odi", "40", "A", ""],  # 4
        ["c1", "2024-01-08", "nprs", "3", "B", ""],  # 5 day 7: week 1
        ["c1", "2024-01-16", "psfs", "7", "B", ""],  # 6
        ["c1", "2024-01-16", "grip_kg", "30", "B", ""],  # 7 custom instrument
    ]
    + [["c1", "2024-01-17", f"odi_q{i}", str(v), "B", ""] for i, v in enumerate(ODI_ITEMS, 1)]  # 8-16
    + [["c1", "2024-01-17", f"rmdq_q{i}", str(v), "B", ""] for i, v in enumerate(RMDQ_ITEMS, 1)]  # 17-26
    + [
        ["c1", "2023-12-31", "nprs", "5", "A", ""],  # 27 rejected: before start_date
        ["c1", "2024-01-09", "nprs", "14", "A", ""],  # 28 rejected: outside 0-10
        ["c2", "2024-02-05", "nprs", "5", "C", ""],  # 29 c2's first record: its week 0 starts here
        ["c2", "2024-02-07", "vas", "55", "C", ""],  # 30
        ["c2", "2024-02-08", "rmdq", "24", "C", ""],  # 31
        ["c2", "2024-02-08", "sit_and_reach_cm", "-4.5", "C", ""],  # 32
        ["c3", "2024-03-13", "nprs", "2", "C", ""],  # 33
    ]
)
CLIENTS_HEADER = ["Client_ID", "Name", " EMAIL ", "phone", "dob", "program", "start_date", "age", "sex", "referral"]
CLIENTS = [
    ["c1", "Zelda Quux", "zelda.quux@example.invalid", "555-0199", "1984-04-04", "core_focus", "2024-01-01", "40", "F", "gp"],  # 2
    ["c4", "", "", "", "", "usual", "2024-01-01", "200", "M", "self"],  # 3 rejected: age
    ["c3", "", "", "", "", "usual", "2024-03-04", "51", "M", ""],  # 4 start_date before the first record
]
CATALOG_HEADER = ["Exercise ", "MODALITY"]
CATALOG = [["Turkish get-up", "core"], ["reformer footwork", "mixed"]]
TINY = {
    "sessions": (SESSIONS_HEADER, SESSIONS),
    "outcomes": (OUTCOMES_HEADER, OUTCOMES),
    "clients": (CLIENTS_HEADER, CLIENTS),
    "catalog": (CATALOG_HEADER, CATALOG),
}
REJECTED = {  # (table, row) -> (column, start of reason or a word it contains)
    ("sessions", 15): "exercise",
    ("sessions", 16): "date",
    ("sessions", 19): "rpe",
    ("outcomes", 27): "date",
    ("outcomes", 28): "score",
    ("clients", 3): "age",
}
NAN = np.nan
# client, week -> exposures in EXPOSURES order, then instruments
EXPECTED_PANEL = {
    ("c1", 0): [3, 2, 3, 5, 2 * 8 * 20 * LB, (2 * 45 + 120) / 60, 60.0, 4, 3],
    ("c1", 1): [0, 0, 0, 0, 0.0, 0.0, 0.0, 0, 0],
    ("c1", 2): [3, 6, 0, 9, 3 * 12 * 10 + 2 * 5 * 15 + 5 * 16, 0.0, 10.0, 1, 1],
    ("c2", 0): [2, 0, 0, 2, 0.0, 0.0, 0.0, 1, 1],
    ("c2", 1): [0, 0, 0, 0, 0.0, 0.0, 0.0, 0, 0],
    ("c2", 2): [2, 0, 0, 2, 0.0, 0.0, 0.0, 1, 1],
    ("c3", 0): [0, 0, 0, 0, 0.0, 0.0, 0.0, 0, 0],
    ("c3", 1): [1, 0, 0, 1, 0.0, 0.0, 0.0, 1, 1],
}
EXPECTED_OUTCOMES = {  # client, week -> instrument -> weekly mean (absent = missing)
    ("c1", 0): {"nprs": 5.0, "odi": 40.0},
    ("c1", 1): {"nprs": 3.0},
    ("c1", 2): {"psfs": 7.0, "grip_kg": 30.0, "odi": 100 * sum(ODI_ITEMS) / (5 * 9), "rmdq": float(sum(RMDQ_ITEMS))},
    ("c2", 0): {"nprs": 5.0, "vas": 55.0, "rmdq": 24.0, "sit_and_reach_cm": -4.5},
    ("c2", 1): {},
    ("c2", 2): {},
    ("c3", 0): {},
    ("c3", 1): {"nprs": 2.0},
}
INSTRUMENTS = ["nprs", "odi", "psfs", "grip_kg", "rmdq", "vas", "sit_and_reach_cm"]


def write_table(folder: Path, name: str, header: list[str], rows: list[list[str]], fmt: str) -> Path:
    """Write one table as text cells in ``fmt`` (csv, parquet, xlsx)."""
    path = folder / f"{name}.{fmt}"
    if fmt == "csv":
        with path.open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows([header, *rows])
    else:
        frame = pd.DataFrame(rows, columns=header, dtype=object)
        if fmt == "parquet":
            frame.to_parquet(path, index=False)
        else:
            frame.to_excel(path, index=False, sheet_name="first")
    return path


def write_dataset(folder: Path, formats: dict[str, str], tables: dict = TINY) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, (header, rows) in tables.items():
        write_table(folder, name, header, rows, formats.get(name, "csv"))
    return folder


def digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def run(capsys: pytest.CaptureFixture, *argv: object) -> tuple[int, str, str]:
    """``backpain ARGV`` in-process: exit status, stdout, stderr. Any uncaught exception fails the test."""
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def assert_one_line_error(status: int, err: str, *words: str) -> None:
    assert status == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for word in words:
        assert word in lines[0], (word, lines[0])


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_dataset(tmp_path_factory.mktemp("tiny") / "data", {})


@pytest.fixture(scope="module")
def tiny_loaded(tiny: Path):
    return bp.load(tiny)


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One simulated study shared by the section 4 and 5 checks."""
    out = tmp_path_factory.mktemp("sim") / "study"
    assert main(["simulate", "--clients", "30", "--weeks", "8", "--seed", "11", "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def sim_panel(sim: Path) -> pd.DataFrame:
    return bp.weekly_panel(bp.load(sim))


# --------------------------------------------------------------------------- section 1: a dataset


@pytest.mark.parametrize(
    "formats",
    [
        {t: "parquet" for t in TINY},
        {t: "xlsx" for t in TINY},
        {"sessions": "parquet", "outcomes": "xlsx", "clients": "csv", "catalog": "xlsx"},
    ],
    ids=["parquet", "xlsx", "mixed"],
)
def test_1_tables_may_be_csv_parquet_or_xlsx(tmp_path: Path, formats: dict[str, str], tiny_loaded) -> None:
    """Section 1: each table as NAME.csv, NAME.parquet or NAME.xlsx reads the same."""
    dataset = bp.load(write_dataset(tmp_path / "data", formats))
    assert dataset.rejected.to_dict("list") == tiny_loaded.rejected.to_dict("list")
    for table in ("sessions", "outcomes", "clients"):
        expected = getattr(tiny_loaded, table)
        pd.testing.assert_frame_equal(getattr(dataset, table), expected, check_dtype=False, check_categorical=False)
    pd.testing.assert_frame_equal(bp.weekly_panel(dataset), bp.weekly_panel(tiny_loaded), check_dtype=False)


def test_1_headers_case_and_spaces_ignored_and_extra_columns_kept(tiny_loaded) -> None:
    """Section 1: names matched case-insensitively, surrounding spaces ignored; extra columns kept."""
    sessions, outcomes, clients = tiny_loaded.sessions, tiny_loaded.outcomes, tiny_loaded.clients
    for frame, column in ((sessions, "client_id"), (sessions, "date"), (sessions, "exercise"), (outcomes, "score")):
        assert column in frame.columns
    assert sessions.loc[sessions["exercise"] == "plank", "coach_note"].iloc[0] == "easy"
    assert set(outcomes["rater"].dropna()) == {"A", "B", "C"}
    assert clients.set_index("client_id").loc["c1", "referral"] == "gp"
    assert clients.set_index("client_id").loc["c1", "program"] == "core_focus"


def test_1_sessions_columns_defaults_units_and_modality_override(tiny_loaded) -> None:
    """Section 1, sessions: sets default 1, blank/0 load = body weight, lb converted, modality overrides."""
    s = tiny_loaded.sessions.set_index("source_row")
    assert s.loc[12, "sets"] == 1
    assert s.loc[3, "load_kg"] == pytest.approx(20 * LB)
    assert s.loc[2, "load_kg"] == 0 and s.loc[9, "load_kg"] == 0
    assert s.loc[11, "modality"] == "back"  # Jefferson curl with modality given


def test_1_catalog_matching_and_studio_catalog(tiny_loaded, tmp_path: Path) -> None:
    """Section 1: names matched ignoring case, spaces, hyphens, plurals; catalog adds to and overrides the built-in one."""
    modality = tiny_loaded.sessions.set_index("source_row")["modality"]
    assert modality[3] == "back"  # Bent-Over Rows
    assert modality[8] == "flexibility"  # Cat-Cows
    assert modality[9] == "core"  # Dead-Bugs
    assert modality[18] == "core"  # side planks
    assert modality[13] == "core"  # Turkish get-ups: studio catalog says core
    assert modality[14] == "mixed"  # reformer footwork: only the studio catalog knows it
    without = bp.load(write_dataset(tmp_path / "d", {}, {k: v for k, v in TINY.items() if k != "catalog"}))
    reasons = without.rejected.set_index(["table", "row"])["reason"]
    assert reasons[("sessions", 14)].startswith("unknown exercise")  # reformer footwork
    assert without.sessions.set_index("source_row").loc[13, "modality"] == "other_strength"  # built-in Turkish get-up


CONTRACT_EXAMPLES = {
    "core": ["plank", "bridge", "crunch", "dead bug", "bird dog", "side plank", "  PLANKS ", "Side-Planks"],
    "back": ["row", "pull-up", "lat pulldown", "back extension", "deadlift", "superman", "Lat Pull Down", "Pull Ups"],
    "other_strength": ["squat", "leg press", "bench press", "bicep curl"],
    "flexibility": [
        "hamstring stretch", "hip flexor stretch", "piriformis stretch", "child's pose", "cat-cow", "knee-to-chest",
        "Childs Pose", "Knee To Chest",
    ],
    "mixed": ["yoga", "pilates"],
    "other": ["walking", "cycling", "swimming"],
}  # fmt: skip


def test_1_modality_examples_of_the_contract(tmp_path: Path) -> None:
    """Section 1: the exercises the contract names under each modality are placed there by the built-in catalog."""
    rows = [["k", "2024-03-01", name, "1", "", "", "", "60", "", ""] for names in CONTRACT_EXAMPLES.values() for name in names]
    header = ["client_id", "date", "exercise", "sets", "reps", "load", "load_unit", "duration_s", "rpe", "modality"]
    folder = write_dataset(tmp_path / "d", {}, {"sessions": (header, rows), "outcomes": (OUTCOMES_HEADER[:4], [["k", "2024-03-01", "nprs", "3"]])})
    dataset = bp.load(folder)
    assert dataset.rejected.empty, dataset.rejected.to_string()
    got = dict(zip(dataset.sessions["exercise"], dataset.sessions["modality"], strict=True))
    expected = {name.strip(): m for m, names in CONTRACT_EXAMPLES.items() for name in names}
    assert got == expected


INSTRUMENT_CASES = [  # instrument, score, accepted
    ("nprs", "0", True), ("nprs", "10", True), ("nprs", "10.5", False), ("nprs", "-1", False),
    ("vas", "100", True), ("vas", "101", False),
    ("odi", "100", True), ("odi", "100.5", False),
    ("rmdq", "24", True), ("rmdq", "25", False),
    ("psfs", "10", True), ("psfs", "11", False),
    ("sit_and_reach_cm", "-20", True), ("sit_and_reach_cm", "60", True),
    ("odi_q1", "6", False), ("rmdq_q1", "2", False),
    ("my_custom_scale", "1234", True),
]  # fmt: skip


def test_1_instrument_ranges_items_and_custom(tmp_path: Path) -> None:
    """Section 1, outcomes: built-in ranges, item ranges, any other name kept as a custom outcome."""
    rows = [["k", f"2024-03-{i + 1:02d}", name, score] for i, (name, score, _) in enumerate(INSTRUMENT_CASES)]
    sessions = (["client_id", "date", "exercise"], [["k", "2024-03-01", "plank"]])
    dataset = bp.load(write_dataset(tmp_path / "d", {}, {"sessions": sessions, "outcomes": (OUTCOMES_HEADER[:4], rows)}))
    rejected_rows = set(dataset.rejected["row"])
    for i, (name, score, accepted) in enumerate(INSTRUMENT_CASES):
        assert (i + 2 not in rejected_rows) == accepted, (name, score)
    reasons = dataset.rejected.set_index("row")["reason"]
    assert all(name in reasons[i + 2] for i, (name, _, ok) in enumerate(INSTRUMENT_CASES) if not ok and not name.endswith("q1"))
    custom = dataset.outcomes[dataset.outcomes["instrument"] == "my_custom_scale"]
    assert custom["score"].tolist() == [1234.0]


def test_1_item_forms_scored_with_missing_items(tiny_loaded) -> None:
    """Section 1: odi_q* and rmdq_q* rows are scored into odi and rmdq, missing items included."""
    outcomes = tiny_loaded.outcomes
    day = outcomes[(outcomes["client_id"] == "c1") & (outcomes["date"] == pd.Timestamp("2024-01-17"))]
    scores = dict(zip(day["instrument"], day["score"], strict=True))
    assert scores == {"odi": pytest.approx(100 * 21 / 45), "rmdq": 5.0}
    assert not outcomes["instrument"].str.contains("_q").any()


def test_1_identifying_columns_never_carried(tiny: Path, tiny_loaded, tmp_path: Path, capsys) -> None:
    """Section 1, clients: name, email, phone, dob ... appear in no output (frames, ledger, panel, validate)."""
    for table in ("sessions", "outcomes", "clients", "rejected"):
        frame = getattr(tiny_loaded, table)
        assert not set(frame.columns) & set(IDENTIFYING), table
        text = frame.astype(str).to_csv()
        assert not [s for s in SECRETS if s in text], table
    panel_csv, panel_parquet, ledger = tmp_path / "p.csv", tmp_path / "p.parquet", tmp_path / "ledger.csv"
    outputs = []
    for argv in (["validate", tiny, "--rejected", ledger], ["validate", tiny, "--json"], ["panel", tiny, "--out", panel_csv],
                 ["panel", tiny, "--out", panel_parquet]):  # fmt: skip
        status, out, err = run(capsys, *argv)
        assert status == 0
        outputs.append(out + err)
    outputs.append(ledger.read_text(encoding="utf-8"))
    outputs.append(panel_csv.read_text(encoding="utf-8"))
    outputs.append(pd.read_parquet(panel_parquet).to_csv())
    outputs.append(" ".join(pd.read_parquet(panel_parquet).columns) + " " + panel_csv.read_text().splitlines()[0])
    for text in outputs:
        assert not [s for s in SECRETS if s in text]
    for header in (pd.read_csv(panel_csv).columns, pd.read_csv(ledger).columns):
        assert not set(header) & set(IDENTIFYING)


def test_1_simulated_identifiers_absent_from_fit_json(sim: Path, capsys) -> None:
    """Section 1: the simulated clients.csv has name and email; fit --json shows neither."""
    clients = pd.read_csv(sim / "clients.csv", dtype=str)
    secrets = [v for c in ("name", "email") if c in clients for v in clients[c].head(5)]
    status, out, _ = run(capsys, "fit", sim, "--outcome", "nprs", "--json")
    assert status == 0
    assert not [s for s in secrets if s in out]


# --------------------------------------------------------------------------- section 2: loading


def test_2_loading_never_changes_the_input(tiny: Path, tmp_path: Path, capsys) -> None:
    """Section 2: loading, validating and building the panel only read the files."""
    before = digests(tiny)
    bp.load(tiny)
    assert run(capsys, "validate", tiny, "--rejected", tmp_path / "r.csv")[0] == 0
    assert run(capsys, "panel", tiny, "--out", tmp_path / "p.csv")[0] == 0
    assert digests(tiny) == before


def test_2_every_row_accounted_for_with_spreadsheet_row_numbers(tiny_loaded) -> None:
    """Section 2: accepted + rejected = read; ledger rows are spreadsheet rows (header = 1) with column, value, reason."""
    ledger = tiny_loaded.rejected
    assert list(ledger.columns) == LEDGER
    got = {(t, int(r)): c for t, r, c in zip(ledger["table"], ledger["row"], ledger["column"], strict=True)}
    assert got == REJECTED
    for table, frame in (("sessions", tiny_loaded.sessions), ("clients", tiny_loaded.clients)):
        assert len(frame) + int((ledger["table"] == table).sum()) == len(TINY[table][1]), table
    assert all(isinstance(r, str) and r.strip() for r in ledger["reason"])
    by_row = ledger.set_index(["table", "row"])
    assert by_row.loc[("outcomes", 28), "value"] == "14"
    assert by_row.loc[("clients", 3), "value"] == "200"
    reason = by_row.loc[("outcomes", 28), "reason"]
    assert "14" in reason and "nprs" in reason and "0-10" in reason


def test_2_unknown_exercise_reason_prefix(tiny_loaded) -> None:
    """Section 2: a name the catalog cannot place gets a reason beginning 'unknown exercise'."""
    row = tiny_loaded.rejected.set_index(["table", "row"]).loc[("sessions", 15)]
    assert row["reason"].startswith("unknown exercise")
    assert "Jefferson curl" in row["reason"] and row["value"] == "Jefferson curl"


def test_2_rows_before_start_date_rejected(tiny_loaded) -> None:
    """Section 2: a row dated before its client's start_date is rejected with that reason."""
    by_row = tiny_loaded.rejected.set_index(["table", "row"])
    for key in (("sessions", 16), ("outcomes", 27)):
        assert "start_date" in by_row.loc[key, "reason"]


def test_2_client_absent_from_clients_is_fine(tiny_loaded) -> None:
    """Section 2: c2 is in sessions and outcomes but not in clients: its rows are accepted."""
    assert (tiny_loaded.sessions["client_id"] == "c2").sum() == 2
    assert (tiny_loaded.outcomes["client_id"] == "c2").sum() == 4
    assert not tiny_loaded.rejected["value"].eq("c2").any()


def test_2_validate_json_lists_every_table_including_catalog(tiny: Path, sim: Path, capsys) -> None:
    """Sections 2 and 4: validate --json maps each table present to {read, accepted, rejected}."""
    status, out, _ = run(capsys, "validate", tiny, "--json")
    assert status == 0
    report = json.loads(out)
    assert set(report) == {"sessions", "outcomes", "clients", "catalog"}
    for table, counts in report.items():
        assert set(counts) == {"read", "accepted", "rejected"}
        assert all(isinstance(v, int) for v in counts.values())
        assert counts["read"] == len(TINY[table][1])
        assert counts["rejected"] == sum(1 for t, _ in REJECTED if t == table)
        assert counts["accepted"] + counts["rejected"] == counts["read"]
    status, out, _ = run(capsys, "validate", sim, "--json")
    assert status == 0 and set(json.loads(out)) == {"sessions", "outcomes", "clients"}


def test_2_validate_text_and_ledger_file(tiny: Path, tmp_path: Path, capsys) -> None:
    """Section 4, validate: prints read, accepted, rejected per table; --rejected FILE holds the ledger."""
    ledger_file = tmp_path / "rejected.csv"
    status, out, _ = run(capsys, "validate", tiny, "--rejected", ledger_file)
    assert status == 0
    for table in TINY:
        assert table in out
    assert "read" in out and "accepted" in out and "rejected" in out
    ledger = pd.read_csv(ledger_file, dtype={"value": str})
    assert list(ledger.columns) == LEDGER
    assert {(t, int(r)) for t, r in zip(ledger["table"], ledger["row"], strict=True)} == set(REJECTED)
    assert ledger.set_index("row").loc[15, "reason"].startswith("unknown exercise")


@pytest.mark.parametrize(
    ("table", "drop", "words"),
    [
        ("outcomes", None, ["outcomes"]),
        ("sessions", None, ["sessions"]),
        ("sessions", " Client_ID", ["sessions.csv", "client_id"]),
        ("sessions", "DATE ", ["sessions.csv", "date"]),
        ("sessions", "Exercise", ["sessions.csv", "exercise"]),
        ("outcomes", "CLIENT_ID ", ["outcomes.csv", "client_id"]),
        ("outcomes", " Date", ["outcomes.csv", "date"]),
        ("outcomes", "Instrument", ["outcomes.csv", "instrument"]),
        ("outcomes", "Score", ["outcomes.csv", "score"]),
        ("clients", "Client_ID", ["clients.csv", "client_id"]),
    ],
)
def test_2_missing_table_or_column_is_one_line_exit_2(tmp_path: Path, capsys, table: str, drop: str | None, words: list[str]) -> None:
    """Sections 2 and 4: a missing required table or column: one line naming file and column, exit 2, no traceback."""
    tables = dict(TINY)
    if drop is None:
        del tables[table]
    else:
        header, rows = tables[table]
        keep = [i for i, h in enumerate(header) if h != drop]
        tables[table] = ([header[i] for i in keep], [[r[i] for i in keep] for r in rows])
    folder = write_dataset(tmp_path / "d", {}, tables)
    status, out, err = run(capsys, "validate", folder)
    assert_one_line_error(status, err, *words)
    with pytest.raises(bp.DataError):
        bp.load(folder)


def test_2_missing_folder_is_one_line_exit_2(tmp_path: Path, capsys) -> None:
    status, _, err = run(capsys, "validate", tmp_path / "nowhere")
    assert_one_line_error(status, err, "nowhere")


# --------------------------------------------------------------------------- section 3: the weekly panel


def test_3_panel_definitions_on_hand_made_data(tiny_loaded) -> None:
    """Section 3: keys, weeks from start (or first record), each exposure's definition, zero weeks, weekly means."""
    panel = bp.weekly_panel(tiny_loaded)
    assert not panel.duplicated(["client_id", "week"]).any()
    for column in ["client_id", "week", *EXPOSURES, *INSTRUMENTS]:
        assert column in panel.columns, column
    keyed = panel.set_index(["client_id", "week"])
    assert set(EXPECTED_PANEL) <= set(keyed.index)
    for key, values in EXPECTED_PANEL.items():
        got = keyed.loc[key, EXPOSURES].astype(float).to_numpy()
        np.testing.assert_allclose(got, np.asarray(values, dtype=float), rtol=1e-9, err_msg=str(key))
        for name in INSTRUMENTS:
            expected = EXPECTED_OUTCOMES[key].get(name, NAN)
            value = float(keyed.loc[key, name])
            assert (np.isnan(value) and np.isnan(expected)) or value == pytest.approx(expected), (key, name, value)
    assert keyed[EXPOSURES].notna().all().all()


def test_3_panel_command_csv_and_parquet(tiny: Path, tiny_loaded, tmp_path: Path, capsys) -> None:
    """Section 4, panel: writes the section 3 panel as .csv or .parquet by suffix, keyed by client_id and week."""
    expected = bp.weekly_panel(tiny_loaded).set_index(["client_id", "week"]).sort_index()
    for suffix, reader in ((".csv", pd.read_csv), (".parquet", pd.read_parquet)):
        out = tmp_path / f"panel{suffix}"
        status, _, _ = run(capsys, "panel", tiny, "--out", out)
        assert status == 0
        written = reader(out)
        for column in ["client_id", "week", *EXPOSURES, *INSTRUMENTS]:
            assert column in written.columns, (suffix, column)
        written = written.assign(client_id=written["client_id"].astype(str)).set_index(["client_id", "week"]).sort_index()
        assert list(written.index) == list(expected.index)
        np.testing.assert_allclose(
            written[EXPOSURES + INSTRUMENTS].to_numpy(float), expected[EXPOSURES + INSTRUMENTS].to_numpy(float), rtol=1e-12
        )
    status, _, err = run(capsys, "panel", tiny, "--out", tmp_path / "panel.txt")
    assert_one_line_error(status, err, "panel.txt")


# --------------------------------------------------------------------------- section 4: commands


def test_4_console_script_is_installed(tmp_path: Path) -> None:
    """Section 4: the package installs a 'backpain' command; data/sample is a valid dataset."""
    script = Path(sys.executable).with_name("backpain")
    command = [str(script)] if script.exists() else [sys.executable, "-c", "import sys; from backpain_analysis.cli import main; sys.exit(main())"]
    done = subprocess.run([*command, "validate", str(ROOT / "data" / "sample"), "--json"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert {"sessions", "outcomes"} <= set(json.loads(done.stdout))
    assert script.exists(), "console script 'backpain' not installed next to the interpreter"


def test_4_simulate_writes_a_contract_dataset_and_truth(sim: Path, capsys) -> None:
    """Section 4, simulate: a dataset in the contract's format plus truth.json with the effects used."""
    assert {"sessions.csv", "outcomes.csv", "truth.json"} <= {p.name for p in sim.iterdir()}
    status, out, err = run(capsys, "validate", sim, "--json")
    assert status == 0, err
    panel = bp.weekly_panel(bp.load(sim))
    assert panel["client_id"].nunique() == 30 and panel["week"].max() <= 8  # --clients 30 --weeks 8
    truth = json.loads((sim / "truth.json").read_text(encoding="utf-8"))

    def effect_tables(node: object) -> list[dict]:
        if isinstance(node, dict):
            found = [node] if set(FIT_TERMS) <= set(node) else []
            return found + [t for v in node.values() for t in effect_tables(v)]
        if isinstance(node, list):
            return [t for v in node for t in effect_tables(v)]
        return []

    tables = effect_tables(truth)
    assert tables, "truth.json names no effects for the fit terms"
    assert all(isinstance(t[term], (int, float)) for t in tables for term in FIT_TERMS)


def contract_design(panel: pd.DataFrame, outcome: str, lag: int) -> pd.DataFrame:
    """The rows and terms of section 4's fit, built from the panel by the contract's words only."""
    exposures = panel[["client_id", "week", "strength_sets", "flexibility_min"]].assign(week=lambda f: f["week"] + lag)
    rows = panel[["client_id", "week", outcome]].merge(exposures, on=["client_id", "week"]).dropna(subset=[outcome])
    for name, column in (("strength_sets", "strength_sets"), ("flexibility_min", "flexibility_min")):
        mean = rows.groupby("client_id")[column].transform("mean")
        rows[f"{name}_between"] = mean
        rows[f"{name}_within"] = rows[column] - mean
    rows["strength_x_flexibility_within"] = rows["strength_sets_within"] * rows["flexibility_min_within"]
    return rows


@pytest.mark.parametrize("lag", [None, 2])
def test_4_fit_json(sim: Path, sim_panel: pd.DataFrame, capsys, lag: int | None) -> None:
    """Section 4, fit --json: effects {term, estimate, std_error, conf_low, conf_high, p_value}, the six terms and
    Intercept, within/between as defined, exposures of week t-K (K = 1 unless --lag), random week slope, REML, 95 %."""
    argv = ["fit", sim, "--outcome", "nprs", "--json"] + (["--lag", str(lag)] if lag is not None else [])
    status, out, err = run(capsys, *argv)
    assert status == 0, err
    result = json.loads(out)
    effects = result["effects"]
    assert isinstance(effects, list)
    for effect in effects:
        assert set(effect) == {"term", "estimate", "std_error", "df", "conf_low", "conf_high", "p_value"}
    terms = [e["term"] for e in effects]
    assert sorted(terms) == sorted(["Intercept", *FIT_TERMS])
    by_term = {e["term"]: e for e in effects}
    for e in effects:
        assert e["df"] > 0  # Satterthwaite's by default: the interval and p-value use t(df)
        t = scipy_stats.t.ppf(0.975, e["df"])
        assert e["conf_high"] - e["conf_low"] == pytest.approx(2 * t * e["std_error"], rel=1e-6)
        assert e["p_value"] == pytest.approx(2 * scipy_stats.t.sf(abs(e["estimate"] / e["std_error"]), e["df"]), rel=1e-6)
        assert e["conf_low"] < e["estimate"] < e["conf_high"]
        assert 0.0 <= e["p_value"] <= 1.0
    design = contract_design(sim_panel, "nprs", 1 if lag is None else lag)
    reference = bp.fit_lmm(design, "nprs ~ " + " + ".join(FIT_TERMS), "client_id", "~ week", True).params.set_index("term")
    for term in ["Intercept", *FIT_TERMS]:
        se = reference.loc[term, "std_error"]
        assert by_term[term]["estimate"] == pytest.approx(reference.loc[term, "estimate"], abs=1e-3 * se), term
        assert by_term[term]["std_error"] == pytest.approx(se, rel=1e-3), term


@pytest.mark.parametrize("ddf", ["kenward-roger", "z"])
def test_4_fit_ddf(sim: Path, capsys, ddf: str) -> None:
    """Section 4, fit --ddf: Kenward-Roger df (t intervals) or Wald z (df null, normal intervals)."""
    status, out, err = run(capsys, "fit", sim, "--outcome", "nprs", "--json", "--ddf", ddf)
    assert status == 0, err
    effects = json.loads(out)["effects"]
    assert sorted(e["term"] for e in effects) == sorted(["Intercept", *FIT_TERMS])
    for e in effects:
        if ddf == "z":
            assert e["df"] is None
            crit = scipy_stats.norm.ppf(0.975)
        else:
            assert e["df"] > 0
            crit = scipy_stats.t.ppf(0.975, e["df"])
        assert e["conf_high"] - e["conf_low"] == pytest.approx(2 * crit * e["std_error"], rel=1e-6)


def test_4_fit_lag_changes_the_rows(sim: Path, capsys) -> None:
    """Section 4: --lag K is honoured (a longer lag leaves fewer weeks and other estimates)."""
    fits = {}
    for lag in ("1", "3"):
        status, out, _ = run(capsys, "fit", sim, "--outcome", "nprs", "--lag", lag, "--json")
        assert status == 0
        fits[lag] = {e["term"]: e["estimate"] for e in json.loads(out)["effects"]}
    assert fits["1"]["strength_sets_within"] != pytest.approx(fits["3"]["strength_sets_within"], rel=1e-6)


def test_4_fit_unknown_outcome_is_one_line(sim: Path, capsys) -> None:
    status, _, err = run(capsys, "fit", sim, "--outcome", "no_such_scale", "--json")
    assert_one_line_error(status, err, "no_such_scale")


def test_4_power_json_from_data(sim: Path, capsys) -> None:
    status, out, _ = run(
        capsys, "power", "--clients", "10,20", "--weeks", "6", "--sims", "3", "--seed", "1",
        "--from", sim, "--outcome", "nprs", "--effect", "strength_sets_within=-0.05", "--json",
    )
    assert status == 0
    records = json.loads(out)
    assert [(r["clients"], r["term"]) for r in records] == [
        (n, t) for n in (10, 20) for t in ("strength_sets_within", "flexibility_min_within", "strength_x_flexibility_within")
    ]
    assert all(set(r) == {"clients", "weeks", "term", "effect", "power", "conf_low", "conf_high", "sims"} for r in records)
    assert all(r["weeks"] == 6 and r["sims"] == 3 and 0 <= r["conf_low"] <= r["power"] <= r["conf_high"] <= 1 for r in records)
    assert records[0]["effect"] == -0.05


def export_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


HAND_HEADER = ["client_id", "date", "exercise", "sets", "reps", "load", "load_unit", "duration_s", "rpe", "modality"]
HAND_TYPED = ["zz9", "2024-03-01", "plank", "3", "", "", "", "45", "6", ""]


def import_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "studio"
    folder.mkdir()
    write_table(folder, "sessions", HAND_HEADER, [HAND_TYPED], "csv")
    return folder


def hand_typed_row_intact(folder: Path) -> bool:
    """The other client's row keeps every cell (columns an import adds are blank for it)."""
    table = pd.read_csv(folder / "sessions.csv", dtype=str, keep_default_na=False)
    row = table[table["client_id"] == "zz9"]
    extra = [c for c in table.columns if c not in HAND_HEADER]
    return len(row) == 1 and row[HAND_HEADER].iloc[0].tolist() == HAND_TYPED and (row[extra] == "").all(axis=None)


def test_4_import_strong_one_row_per_set_ledger_and_idempotence(tmp_path: Path, capsys) -> None:
    """Section 4, import: each export row one set; warm-ups listed with reason; same file twice changes nothing;
    other clients' rows untouched."""
    export = IMPORTS / "strong_wdf.csv"
    rows = export_rows(export)
    warmups = sum(r["Set Order"].strip().upper() == "W" for r in rows)
    assert warmups > 0
    folder = import_folder(tmp_path)
    before = export.read_bytes()
    status, _, err = run(capsys, "import", export, "--client-id", "c7", "--out", folder)
    assert status == 0, err
    assert export.read_bytes() == before
    sessions = pd.read_csv(folder / "sessions.csv", dtype=str, keep_default_na=False)
    ledger = pd.read_csv(folder / "import_ledger.csv", dtype=str, keep_default_na=False)
    assert "reason" in ledger.columns
    mine = sessions[sessions["client_id"] == "c7"]
    assert len(mine) + len(ledger) == len(rows)
    assert (mine["sets"] == "1").all()
    assert ledger["reason"].str.contains("warm", case=False).sum() == warmups
    assert hand_typed_row_intact(folder)
    snapshot = digests(folder)
    assert run(capsys, "import", export, "--client-id", "c7", "--out", folder)[0] == 0
    assert digests(folder) == snapshot
    hevy = IMPORTS / "hevy_us_locale.csv"
    assert run(capsys, "import", hevy, "--client-id", "c8", "--out", folder)[0] == 0
    after = pd.read_csv(folder / "sessions.csv", dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(
        after[after["client_id"].isin(["c7", "zz9"])][list(sessions.columns)].reset_index(drop=True), sessions.reset_index(drop=True)
    )
    assert (after["client_id"] == "c8").any()
    assert hand_typed_row_intact(folder)


def test_4_imported_rows_load_as_contract_sessions(tmp_path: Path, capsys) -> None:
    """Section 4, import: the rows written are contract sessions rows the loader reads (one set each)."""
    folder = tmp_path / "studio"
    for export, client in (("strong_wdf.csv", "a1"), ("hevy_us_locale.csv", "a2"), ("fitbod.csv", "a3")):
        assert run(capsys, "import", IMPORTS / export, "--client-id", client, "--out", folder)[0] == 0
    (folder / "outcomes.csv").write_text("client_id,date,instrument,score\na1,2023-11-02,nprs,4\n")
    dataset = bp.load(folder)
    sessions_rejected = dataset.rejected[dataset.rejected["table"] == "sessions"]
    assert sessions_rejected["reason"].str.startswith("unknown exercise").all(), sessions_rejected.to_string()
    assert len(dataset.sessions) + len(sessions_rejected) == dataset.read["sessions"]
    assert (dataset.sessions["sets"] == 1).all()
    assert set(dataset.sessions["client_id"]) == {"a1", "a2", "a3"}


def test_4_import_options(tmp_path: Path, capsys) -> None:
    """Section 4, import: --include-warmups, --unit lb and --format."""
    export = IMPORTS / "strong_wdf.csv"
    rows = export_rows(export)
    plain, warm, pounds = tmp_path / "plain", tmp_path / "warm", tmp_path / "lb"
    assert run(capsys, "import", export, "--client-id", "c1", "--out", plain, "--format", "strong")[0] == 0
    assert run(capsys, "import", export, "--client-id", "c1", "--out", warm, "--include-warmups")[0] == 0
    assert run(capsys, "import", export, "--client-id", "c1", "--out", pounds, "--unit", "lb")[0] == 0
    n_plain = len(pd.read_csv(plain / "sessions.csv"))
    n_warm = len(pd.read_csv(warm / "sessions.csv"))
    warmups = sum(r["Set Order"].strip().upper() == "W" for r in rows)
    assert n_warm == n_plain + warmups
    warm_ledger = warm / "import_ledger.csv"
    assert not warm_ledger.exists() or not pd.read_csv(warm_ledger, dtype=str)["reason"].str.contains("warm", case=False).any()
    lb = pd.read_csv(pounds / "sessions.csv", dtype=str, keep_default_na=False)
    loaded = lb[lb["load"] != ""]
    assert len(loaded) and (loaded["load_unit"] == "lb").all()
    status, _, err = run(capsys, "import", export, "--client-id", "c1", "--out", tmp_path / "x", "--format", "hevy")
    assert_one_line_error(status, err, export.name)


# --------------------------------------------------------------------------- section 5: Python API


def test_5_load_and_weekly_panel(tiny: Path) -> None:
    """Section 5: bp.load(path) has sessions, outcomes, clients, rejected DataFrames; bp.weekly_panel returns one."""
    dataset = bp.load(tiny)
    for name in ("sessions", "outcomes", "clients", "rejected"):
        assert isinstance(getattr(dataset, name), pd.DataFrame), name
    panel = bp.weekly_panel(dataset)
    assert isinstance(panel, pd.DataFrame) and {"client_id", "week"} <= set(panel.columns)


def test_5_fit_lmm_on_any_long_frame() -> None:
    """Section 5: fit_lmm(data, formula, groups, re_formula=None, reml=True) -> tidy .params, variance components,
    convergence status; any outcome and time variable."""
    data = pd.read_csv(Path(__file__).parent / "reference" / "sleepstudy.csv", dtype={"Subject": str})
    for kwargs in ({}, {"re_formula": "~ Days"}, {"re_formula": "~ Days", "reml": False}):
        result = bp.fit_lmm(data, "Reaction ~ Days", "Subject", **kwargs)
        params = result.params
        assert isinstance(params, pd.DataFrame)
        assert sorted(params.columns) == sorted(TIDY)
        assert list(params["term"]) == ["Intercept", "Days"]
        assert np.allclose(params["statistic"], params["estimate"] / params["std_error"])
        assert ((params["conf_low"] < params["estimate"]) & (params["estimate"] < params["conf_high"])).all()
        assert isinstance(result.variance_components, pd.DataFrame) and len(result.variance_components)
        assert result.converged
    positional = bp.fit_lmm(data, "Reaction ~ Days", "Subject", "~ Days", True)
    assert positional.params["estimate"].tolist() == pytest.approx(
        bp.fit_lmm(data, "Reaction ~ Days", groups="Subject", re_formula="~ Days", reml=True).params["estimate"].tolist()
    )


def test_5_volume_model_params(sim_panel: pd.DataFrame) -> None:
    """Section 5: the fitted volume model behind 'backpain fit' has the same tidy .params."""
    result = bp.fit_volume_model(sim_panel, "nprs", 1)
    assert sorted(result.params.columns) == sorted(TIDY)
    assert sorted(result.params["term"]) == sorted(["Intercept", *FIT_TERMS])
    assert not [c for c in result.params.columns if any(ch.isdigit() for ch in c)]


def test_5_sample_dataset_loads_cleanly(tmp_path: Path) -> None:
    """Section 4: the project ships a valid dataset in data/sample/."""
    sample = tmp_path / "sample"
    shutil.copytree(ROOT / "data" / "sample", sample)
    dataset = bp.load(sample)
    assert len(dataset.sessions) and len(dataset.outcomes)
    assert digests(sample) == digests(ROOT / "data" / "sample")
