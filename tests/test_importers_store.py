"""Writing imports into a dataset folder: other rows untouched, idempotent, newer exports replace sessions."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from backpain_analysis.errors import DataError
from backpain_analysis.importers import import_export

DATA = Path(__file__).parent / "data" / "imports"
HAND_TYPED = (
    "Client_ID , Date,Exercise,Sets,Reps,Coach\n"
    "x1,2024-03-01,plank,3,,Ana\n"
    "x2,2024-03-02,\"row, seated\",3,10,Ben\n"
)


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def test_hand_typed_rows_and_columns_are_kept(tmp_path: Path) -> None:
    (tmp_path / "sessions.csv").write_text(HAND_TYPED, encoding="utf-8")
    before = _read(tmp_path / "sessions.csv")
    result = import_export(DATA / "strong_wdf.csv", "c1", tmp_path)
    after = _read(tmp_path / "sessions.csv")
    assert list(after.columns[: len(before.columns)]) == list(before.columns)  # spelling and order kept
    assert "import_row" in after.columns and "client_id" not in after.columns  # matched to 'Client_ID '
    pd.testing.assert_frame_equal(after.iloc[:2][list(before.columns)], before)
    assert (after.iloc[:2]["import_row"] == "").all()
    assert (after.iloc[2:]["Client_ID "] == "c1").all() and len(after) == 2 + result.sets_imported


def test_second_client_and_reimport_leave_everything_else_byte_identical(tmp_path: Path) -> None:
    (tmp_path / "sessions.csv").write_text(HAND_TYPED, encoding="utf-8")
    import_export(DATA / "strong_wdf.csv", "c1", tmp_path)
    import_export(DATA / "hevy_lb_daymonth.csv", "c2", tmp_path)
    snapshot = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    import_export(DATA / "strong_wdf.csv", "c1", tmp_path)
    import_export(DATA / "hevy_lb_daymonth.csv", "c2", tmp_path)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == snapshot


def test_same_file_for_another_client_is_refused_unless_allowed(tmp_path: Path) -> None:
    """Issue 13 pitfall: one export under a second client id would count every set twice."""
    first = import_export(DATA / "fitbod.csv", "c1", tmp_path)
    before = (tmp_path / "sessions.csv").read_bytes()
    with pytest.raises(DataError, match=r"fitbod.csv was already imported for client 'c1' \(\d+ sets\).*--allow-duplicate"):
        import_export(DATA / "fitbod.csv", "c2", tmp_path)
    assert (tmp_path / "sessions.csv").read_bytes() == before
    again = import_export(DATA / "fitbod.csv", "c2", tmp_path, allow_duplicate=True)
    assert any(line.startswith("warning: fitbod.csv was already imported for client 'c1'") for line in again.summary())
    sessions = _read(tmp_path / "sessions.csv")
    assert sessions["client_id"].value_counts().to_dict() == {"c1": first.sets_imported, "c2": first.sets_imported}
    after = (tmp_path / "sessions.csv").read_bytes()
    import_export(DATA / "fitbod.csv", "c1", tmp_path)  # a re-import for a client who has it: no refusal, no change
    assert (tmp_path / "sessions.csv").read_bytes() == after


def test_undated_ledger_rows_of_client_a_survive_an_import_for_client_b(tmp_path: Path) -> None:
    """Issue 11: importing the same export for A then B deleted A's undated ledger row (an unparseable date)."""
    import_export(DATA / "strong_wdf.csv", "A", tmp_path, unit="lb")
    import_export(DATA / "strong_wdf.csv", "B", tmp_path, unit="lb", allow_duplicate=True)
    ledger = _read(tmp_path / "import_ledger.csv")
    undated = ledger[ledger["reason"].str.startswith("unparseable date")]
    assert sorted(undated["client_id"]) == ["A", "B"]
    import_export(DATA / "strong_wdf.csv", "B", tmp_path, unit="lb", allow_duplicate=True)
    assert _read(tmp_path / "import_ledger.csv").equals(ledger)  # B's re-import still replaces only B's rows


def test_newer_export_replaces_its_sessions_and_keeps_the_others(tmp_path: Path) -> None:
    lines = (DATA / "hevy_us_locale.csv").read_text(encoding="utf-8").splitlines()
    header, legs, core = lines[0], lines[1:4], lines[4:]
    older = tmp_path / "older.csv"
    older.write_text("\n".join([header, *legs, *core]) + "\n", encoding="utf-8")
    newer = tmp_path / "newer.csv"  # the legs workout edited (80 -> 85 kg), the core workout absent
    newer.write_text("\n".join([header, *(line.replace(",80,", ",85,") for line in legs)]) + "\n", encoding="utf-8")
    out = tmp_path / "data"
    import_export(older, "c1", out)
    result = import_export(newer, "c1", out)
    sessions = _read(out / "sessions.csv")
    assert result.replaced_sets == 2 and result.replaced_ledger == 1
    legs_rows = sessions[sessions["date"] == "2026-04-08 16:50:00"]
    assert legs_rows["load"].tolist() == ["85", ""] and set(legs_rows["import_file"]) == {"newer.csv"}
    assert sessions.loc[sessions["date"] == "2026-04-10 07:05:00", "import_file"].tolist() == ["older.csv"]
    ledger = _read(out / "import_ledger.csv")
    assert ledger["file"].tolist() == ["newer.csv"]


def test_including_warmups_later_moves_them_from_ledger_to_sessions(tmp_path: Path) -> None:
    import_export(DATA / "hevy_lb_daymonth.csv", "c1", tmp_path)
    result = import_export(DATA / "hevy_lb_daymonth.csv", "c1", tmp_path, include_warmups=True)
    sessions, ledger = _read(tmp_path / "sessions.csv"), _read(tmp_path / "import_ledger.csv")
    assert (sessions["set_type"] == "warmup").sum() == 1
    assert ledger["reason"].str.contains("warm-up").sum() == 0
    assert len(sessions) + len(ledger) == result.export.rows_read


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("sessions.parquet", None, "an import adds to sessions.csv only"),
        ("sessions.csv", "client_id;date;exercise\nx;2024-01-01;plank\n", "not comma-separated"),
        ("sessions.csv", "who,when\nx,2024-01-01\n", "lacks column 'client_id'"),
    ],
)
def test_tables_an_import_cannot_add_to(tmp_path: Path, name: str, content: str | None, expected: str) -> None:
    path = tmp_path / name
    if content is None:
        pd.DataFrame({"client_id": ["x"], "date": ["2024-01-01"], "exercise": ["plank"]}).to_parquet(path)
    else:
        path.write_text(content, encoding="utf-8")
    before = path.read_bytes()
    with pytest.raises(DataError, match=expected):
        import_export(DATA / "strong_wdf.csv", "c1", tmp_path)
    assert path.read_bytes() == before


def test_blank_client_id_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="--client-id is blank"):
        import_export(DATA / "strong_wdf.csv", "  ", tmp_path)
