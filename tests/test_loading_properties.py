"""Property tests: random malformed rows never crash the loader and are all accounted for."""

from __future__ import annotations

import csv
import hashlib
import tempfile
from datetime import date, datetime
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backpain_analysis.contract import MODALITIES
from backpain_analysis.errors import DataError
from backpain_analysis.instruments import ITEMS
from backpain_analysis.loading import load

SESSIONS = ["client_id", "date", "exercise", "sets", "reps", "load", "load_unit", "duration_s", "rpe", "modality", "email"]
OUTCOMES = ["client_id", "date", "instrument", "score", "name"]
CLIENTS = ["client_id", "start_date", "age", "phone"]
SECRET = "zz-secret-zz"

blank = st.sampled_from(["", " ", "\t"])
junk = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=10)
numbers = st.one_of(
    st.integers(-3, 30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["1e3", "1e19", "2,5", "3.0", " 4 ", "NaN", "-0", "0x10", "1_000"]),
)
dates = st.one_of(
    st.dates(min_value=date(2023, 1, 1), max_value=date(2025, 12, 31)).map(str),
    st.datetimes(min_value=datetime(2023, 1, 1), max_value=datetime(2025, 12, 31)).map(lambda d: d.isoformat(sep=" ", timespec="minutes")),
    st.sampled_from(["05/03/2024", "2024-02-30", "2024-3-5", "2024-03-05T10:00Z", "2024-03-05T10:00:00.5", "yesterday", "9999-12-31"]),
)
clients = st.sampled_from(["c1", "c2", " c3 ", "C1"])
exercises = st.sampled_from(["plank", "Side Planks", "Pull-Up (Band)", "Row (Machine)", "Jefferson curl", "hamstring stretch", "yoga"])
instruments = st.sampled_from(["nprs", "VAS", "odi", "rmdq", "psfs", "sit_and_reach_cm", "grip_kg", *ITEMS])


def cell(*good: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(*good, *good, blank, junk)


session_rows = st.lists(
    st.tuples(
        cell(clients),
        cell(dates),
        cell(exercises),
        cell(numbers),
        cell(numbers),
        cell(numbers),
        cell(st.sampled_from(["kg", "LB", "lbs"])),
        cell(numbers),
        cell(numbers),
        cell(st.sampled_from(MODALITIES)),
        junk.map(lambda text: SECRET + text),
    ),
    max_size=25,
)
outcome_rows = st.lists(
    st.tuples(cell(clients), cell(dates), cell(instruments), cell(numbers, st.integers(0, 5).map(str)), junk.map(lambda t: SECRET + t)),
    max_size=40,
)
client_rows = st.lists(st.tuples(cell(clients), cell(dates), cell(numbers), junk.map(lambda t: SECRET + t)), max_size=6)


def write_csv(path: Path, header: list[str], rows: list[tuple[str, ...]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([header, *rows])


def expected_rows(rows: list[tuple[str, ...]]) -> dict[int, tuple[str, ...]]:
    """Spreadsheet row -> cells, for the rows that are not entirely empty."""
    return {i + 2: row for i, row in enumerate(rows) if any(cell != "" for cell in row)}


def check_dataset(folder: Path, tables: dict[str, tuple[list[str], list[tuple[str, ...]]]]) -> None:
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}
    try:
        dataset = load(folder)
    except DataError as error:
        assert "\n" not in str(error)
        return
    finally:
        assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()} == before
    counts = dataset.counts()
    assert (counts["accepted"] + counts["rejected"] == counts["read"]).all()
    ledger = dataset.rejected
    assert not ledger.duplicated(["table", "row"]).any()
    for table, (header, rows) in tables.items():
        present = expected_rows(rows)
        assert dataset.read[table] == len(present)
        mine = ledger[ledger["table"] == table]
        assert set(mine["row"]) <= set(present)
        for row, column, value in mine[["row", "column", "value"]].itertuples(index=False):
            assert value == present[row][header.index(column)] if column in header else value == ""
    assert (ledger["reason"].str.len() > 5).all()
    unknown = ledger[ledger["reason"].str.contains("catalog.csv")]
    assert unknown["reason"].str.startswith("unknown exercise").all()
    sessions = dataset.sessions
    assert sessions["modality"].isin(MODALITIES).all()
    assert (sessions["sets"] >= 1).all() and (sessions["load_kg"] >= 0).all()
    assert sessions["date"].notna().all() and dataset.outcomes["score"].notna().all()
    outputs = [dataset.sessions, dataset.outcomes, dataset.clients, dataset.catalog, ledger]
    assert not any(SECRET in frame.to_csv() for frame in outputs)


@given(sessions=session_rows, outcomes=outcome_rows, clients_=client_rows)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_random_malformed_rows_are_accounted_for(sessions, outcomes, clients_) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        tables = {"sessions": (SESSIONS, sessions), "outcomes": (OUTCOMES, outcomes), "clients": (CLIENTS, clients_)}
        for name, (header, rows) in tables.items():
            write_csv(folder / f"{name}.csv", header, rows)
        check_dataset(folder, tables)


@given(sessions=session_rows, outcomes=outcome_rows)
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_parquet_gives_the_same_ledger_as_csv(sessions, outcomes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        as_csv, as_parquet = Path(tmp) / "csv", Path(tmp) / "parquet"
        as_csv.mkdir()
        as_parquet.mkdir()
        for name, header, rows in (("sessions", SESSIONS, sessions), ("outcomes", OUTCOMES, outcomes)):
            write_csv(as_csv / f"{name}.csv", header, rows)
            pd.DataFrame(rows, columns=header, dtype=object).to_parquet(as_parquet / f"{name}.parquet", index=False)
        try:
            expected = load(as_csv)
        except DataError:
            return
        got = load(as_parquet)
        pd.testing.assert_frame_equal(got.rejected, expected.rejected)
        pd.testing.assert_frame_equal(got.sessions, expected.sessions)
        pd.testing.assert_frame_equal(got.outcomes, expected.outcomes)
