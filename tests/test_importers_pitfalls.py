"""Import pitfalls a new user meets (issue 13 item 4) and the import rows of issue 11: one export under a
second client id, an NRPS column, ambiguous numeric dates, contact columns in an outcome sheet, and
concurrent imports into one folder."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pandas as pd
import pytest

from backpain_analysis.cli import main
from backpain_analysis.errors import DataError
from backpain_analysis.importers import import_export, read_export
from backpain_analysis.importers.outcome_sheet import import_outcome_sheet, read_outcome_sheet

DATA = Path(__file__).parent / "data" / "imports"


def test_second_client_id_is_refused_on_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    export = str(DATA / "hevy_us_locale.csv")
    assert main(["import", export, "--client-id", "A", "--out", str(tmp_path)]) == 0
    capsys.readouterr()
    assert main(["import", export, "--client-id", "B", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "already imported for client 'A'" in err and "--allow-duplicate" in err
    assert main(["import", export, "--client-id", "B", "--out", str(tmp_path), "--allow-duplicate"]) == 0
    assert "warning: hevy_us_locale.csv was already imported for client 'A'" in capsys.readouterr().out


def _sheet(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "visits.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_misspelt_instrument_suggests_the_built_in(tmp_path: Path) -> None:
    sheet = read_outcome_sheet(_sheet(tmp_path, "client,date,NRPS,Oswestery,Grip (kg)\nc1,2024-03-05,6,30,41\n"))
    assert sheet.instruments == {"nrps": "nrps", "oswestery": "oswestery", "grip (kg)": "grip_kg"}  # headers read lower-cased
    assert "column 'nrps' is read as a custom instrument 'nrps'; did you mean 'nprs'? Rename the column to NPRS" in sheet.notes[0]
    assert "did you mean 'odi'?" in sheet.notes[1] and len(sheet.notes) == 2  # grip strength is no misspelling


AMBIGUOUS = (
    "title,start_time,end_time,description,exercise_title,superset_id,exercise_notes,set_index,set_type,weight_kg,reps,distance_km,"
    "duration_seconds,rpe\n"
    "Legs,04/08/2026 16:50,04/08/2026 17:40,,Squat (Barbell),,,0,normal,80,5,,,\n"
    "Legs,05/08/2026 16:50,05/08/2026 17:40,,Squat (Barbell),,,0,normal,80,5,,,\n"
)


def test_day_first_or_month_first_is_the_users_choice(tmp_path: Path) -> None:
    export = tmp_path / "hevy.csv"
    export.write_text(AMBIGUOUS, encoding="utf-8")
    guessed = read_export(export)
    assert guessed.built.sets["date"].tolist() == ["2026-08-04 16:50:00", "2026-08-05 16:50:00"]
    assert any("read day-first" in note for note in guessed.built.notes)
    monthfirst = read_export(export, dayfirst=False)
    assert monthfirst.built.sets["date"].tolist() == ["2026-04-08 16:50:00", "2026-05-08 16:50:00"]
    assert not any("day-first" in note for note in monthfirst.built.notes)
    assert read_export(export, dayfirst=True).built.sets["date"].tolist() == guessed.built.sets["date"].tolist()
    sheet = _sheet(tmp_path, "client,date,NPRS\nc1,04/08/2026,6\nc1,13/08/2026,5\n")
    assert read_outcome_sheet(sheet, dayfirst=False).outcomes["date"].tolist() == ["2026-04-08"]  # 13/08 is no month-first date
    assert read_outcome_sheet(sheet, dayfirst=False).ledger["reason"].tolist() == ["unparseable date '13/08/2026'"]


def test_dayfirst_and_monthfirst_exclude_each_other(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["import", "x.csv", "--client-id", "a", "--out", "d", "--dayfirst", "--monthfirst"])
    assert "not allowed with argument" in capsys.readouterr().err


CONTACTS = (
    "Client,Date,First Name,Mobile,Phone Number,Tel,Zip,E-Mail,Email Address,Date of Birth,Address,NPRS,Grip strength\n"
    "c1,2024-03-05,Ana,0712345678,+44 20 7946 0958,555-0101,90210,ana@example.org,ana@example.org,1980-01-01,1 Main St,6,41\n"
    "c2,2024-03-05,Ben,0798765432,+44 20 7946 0000,555-0102,90211,ben@example.org,ben@example.org,1975-05-05,2 Main St,4,38\n"
)


def test_contact_columns_are_never_instruments(tmp_path: Path) -> None:
    """Issue 11: Mobile, Phone Number, Tel and Zip became instruments."""
    sheet = read_outcome_sheet(_sheet(tmp_path, CONTACTS), client_column="Client")
    assert set(sheet.instruments.values()) == {"nprs", "grip_strength"}
    identifying = {h for h, why in sheet.ignored.items() if why == "identifies a person"}
    assert {"mobile", "phone number", "tel", "zip"} <= {h.lower() for h in identifying}
    result = import_outcome_sheet(_sheet(tmp_path, CONTACTS), tmp_path / "d", client_column="Client")
    written = (tmp_path / "d" / "outcomes.csv").read_text(encoding="utf-8")
    assert "example.org" not in written and "0712345678" not in written and "90210" not in written
    assert len(result.sheet.outcomes) == 4


@pytest.mark.parametrize("column", ["E-Mail", "Mobile", "Zip", "Email Address", "First Name"])
def test_a_contact_column_is_never_the_client_key(tmp_path: Path, column: str) -> None:
    with pytest.raises(DataError, match=f"column '{column}' of visits.csv identifies a person"):
        read_outcome_sheet(_sheet(tmp_path, CONTACTS), client_column=column)


def test_e_mail_values_are_refused_as_the_client_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sheet = _sheet(tmp_path, "Client key,Date,NPRS\nana@example.org,2024-03-05,6\nben@example.org,2024-03-05,4\n")
    code = main(["import-outcomes", str(sheet), "--out", str(tmp_path / "d"), "--client-column", "Client key"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "holds e-mail addresses, which identify a person" in err
    assert not (tmp_path / "d").exists()


# --- Concurrency: 10 parallel imports of different clients into one folder, 20 rounds -----------------

CLIENTS = 10
ROUNDS = 20


def _import_one(args: tuple[str, str]) -> int:
    folder, client = args
    return import_export(DATA / "hevy_one_set.csv", client, folder, allow_duplicate=True).sets_imported


@pytest.mark.slow
def test_parallel_imports_into_one_folder_keep_every_row(tmp_path: Path) -> None:
    """Issue 11: two imports at once lost a client's rows; the file lock serialises them.

    Ten processes import ten clients into one folder at once, twenty times over
    (a one-set export keeps each import short; the lock makes them take turns).
    Without the lock rows vanish in most rounds.
    """
    context = multiprocessing.get_context("fork")
    with context.Pool(CLIENTS) as pool:
        for round_ in range(ROUNDS):
            folder = tmp_path / f"round{round_}"
            counts = pool.map(_import_one, [(str(folder), f"c{i}") for i in range(CLIENTS)], chunksize=1)
            sessions = pd.read_csv(folder / "sessions.csv", dtype=str, keep_default_na=False)
            assert sessions["client_id"].value_counts().to_dict() == {f"c{i}": counts[i] for i in range(CLIENTS)}, round_


def test_a_distance_over_100_km_in_one_set_is_ledgered(tmp_path: Path) -> None:
    """A number typed into the wrong column: 150 km in one set goes to the ledger; 42 km (a marathon) is kept."""
    path = tmp_path / "log.csv"
    path.write_text("date,exercise,distance,unit\n2024-01-02,Run,150,km\n2024-01-03,Run,42,km\n2024-01-04,Run,70,mi\n", encoding="utf-8")
    result = import_export(path, "c1", tmp_path / "out", columns="date=date,exercise=exercise,distance=distance,distance_unit=unit")
    ledger = pd.read_csv(tmp_path / "out" / "import_ledger.csv", dtype=str, keep_default_na=False)
    assert ledger["row"].tolist() == ["2", "4"] and ledger["reason"].str.contains("in one set is more than 100 km").all()
    assert result.sets_imported == 1
