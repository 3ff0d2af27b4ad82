"""Reading tables as strings: files, encodings, headers, row numbers, one-line errors."""

from __future__ import annotations

import codecs
from pathlib import Path

import pandas as pd
import pytest

from backpain_analysis import reading
from backpain_analysis.contract import IDENTIFYING_COLUMNS
from backpain_analysis.errors import DataError
from backpain_analysis.reading import EncodingWarning, find_tables, read_dataset, read_table

SESSIONS = "client_id,date,exercise,sets\nc1,2024-03-05,Plank,3\nc2,2024-03-06,Side plank, 2 \n"
OUTCOMES = "client_id,date,instrument,score\nc1,2024-03-05,nprs,6\n"


def write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    write(tmp_path, "sessions.csv", SESSIONS)
    write(tmp_path, "outcomes.csv", OUTCOMES)
    return tmp_path


def one_line(error: pytest.ExceptionInfo[DataError]) -> str:
    message = str(error.value)
    assert "\n" not in message and message
    return message


def test_find_tables_ignores_case_of_names(folder: Path) -> None:
    (folder / "outcomes.csv").rename(folder / "Outcomes.CSV")
    write(folder, "catalog.xlsx", b"")
    write(folder, "notes.txt", "not a table")
    assert {k: p.name for k, p in find_tables(folder).items()} == {
        "sessions": "sessions.csv",
        "outcomes": "Outcomes.CSV",
        "catalog": "catalog.xlsx",
    }


def test_two_files_for_one_table_are_named(folder: Path) -> None:
    write(folder, "sessions.parquet", b"PAR1")
    with pytest.raises(DataError) as error:
        find_tables(folder)
    assert "sessions.csv" in one_line(error) and "sessions.parquet" in one_line(error)


def test_missing_required_table(folder: Path) -> None:
    (folder / "outcomes.csv").unlink()
    with pytest.raises(DataError, match="no outcomes table") as error:
        find_tables(folder)
    one_line(error)


def test_old_excel_gets_a_hint(folder: Path) -> None:
    (folder / "outcomes.csv").rename(folder / "outcomes.xls")
    with pytest.raises(DataError, match="outcomes.xls: save it as .xlsx or .csv"):
        find_tables(folder)


def test_missing_folder_and_file_instead_of_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist") as error:
        find_tables(tmp_path / "nope")
    one_line(error)
    with pytest.raises(DataError, match="is not a folder"):
        find_tables(write(tmp_path, "sessions.csv", SESSIONS))


def test_values_arrive_verbatim_as_strings(folder: Path) -> None:
    write(folder, "sessions.csv", "client_id,date,exercise,sets,load\n007,2024-03-05, Plank ,3.50,1e2\n")
    frame = read_table("sessions", folder / "sessions.csv").frame
    assert frame.loc[2].tolist() == ["007", "2024-03-05", " Plank ", "3.50", "1e2"]


def test_headers_case_bom_and_spaces(folder: Path) -> None:
    write(folder, "sessions.csv", "\ufeff Client_ID ,DATE,  Exercise\t,Extra Col\nc1,2024-03-05,Plank,x\n")
    raw = read_table("sessions", folder / "sessions.csv")
    assert list(raw.frame.columns) == ["client_id", "date", "exercise", "extra col"]
    assert raw.encoding == "utf-8-sig"


def test_duplicate_headers_after_normalisation(folder: Path) -> None:
    write(folder, "sessions.csv", "client_id,date,exercise,Sets, sets\nc1,2024-03-05,Plank,3,3\n")
    with pytest.raises(DataError, match="two columns named 'sets' \\(columns 4 and 5\\)") as error:
        read_table("sessions", folder / "sessions.csv")
    one_line(error)


def test_missing_required_column_names_file_and_column(folder: Path) -> None:
    write(folder, "outcomes.csv", "client_id,date,instrument\nc1,2024-03-05,nprs\n")
    with pytest.raises(DataError) as error:
        read_table("outcomes", folder / "outcomes.csv")
    assert "outcomes.csv" in one_line(error) and "'score'" in one_line(error)


def test_identifying_columns_are_dropped(folder: Path) -> None:
    header = ",".join(["client_id", "date", "exercise", *[c.upper() for c in sorted(IDENTIFYING_COLUMNS)]])
    row = ",".join(["c1", "2024-03-05", "Plank", *["secret"] * len(IDENTIFYING_COLUMNS)])
    write(folder, "sessions.csv", f"{header}\n{row}\n")
    raw = read_table("sessions", folder / "sessions.csv")
    assert list(raw.frame.columns) == ["client_id", "date", "exercise"]
    assert set(raw.dropped) == set(IDENTIFYING_COLUMNS)
    assert not raw.frame.isin(["secret"]).any().any()


def test_row_numbers_are_spreadsheet_rows(folder: Path) -> None:
    text = 'client_id,date,exercise,note\nc1,2024-03-05,Plank,"two\nlines"\n\n,,,\nc2,2024-03-06,Bird dog,\n   ,,,\n'
    write(folder, "sessions.csv", text)
    raw = read_table("sessions", folder / "sessions.csv")
    # record 2 spans two lines; records 3 and 4 are empty; record 6 has spaces only (data)
    assert raw.frame.index.tolist() == [2, 5, 6]
    assert raw.frame.loc[2, "note"] == "two\nlines"
    assert raw.rows == 3


def test_header_only_table_has_no_rows(folder: Path) -> None:
    write(folder, "sessions.csv", "client_id,date,exercise\n")
    assert read_table("sessions", folder / "sessions.csv").rows == 0


@pytest.mark.parametrize("bom", [codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE])
def test_utf16_with_bom(folder: Path, bom: bytes) -> None:
    codec = "utf-16-le" if bom == codecs.BOM_UTF16_LE else "utf-16-be"
    write(folder, "sessions.csv", bom + "client_id,date,exercise\nCéline,2024-03-05,Cat–cow\n".encode(codec))
    raw = read_table("sessions", folder / "sessions.csv")
    assert raw.frame.loc[2].tolist() == ["Céline", "2024-03-05", "Cat–cow"]
    assert raw.encoding == "utf-16"


def test_cp1252_is_decoded_with_a_warning(folder: Path) -> None:
    write(folder, "sessions.csv", "client_id,date,exercise,note\nZoë,2024-03-05,Child’s pose,5 €\n".encode("cp1252"))
    with pytest.warns(EncodingWarning, match="sessions.csv is not UTF-8"):
        raw = read_table("sessions", folder / "sessions.csv")
    assert raw.frame.loc[2].tolist() == ["Zoë", "2024-03-05", "Child’s pose", "5 €"]
    assert raw.encoding == "cp1252"


def test_undecodable_text_is_refused(folder: Path) -> None:
    write(folder, "sessions.csv", b"client_id,date,exercise\nc1,2024-03-05,Pl\x81ank\n")
    with pytest.raises(DataError, match="neither UTF-8 nor Windows-1252.*save it as 'CSV UTF-8'") as error:
        read_table("sessions", folder / "sessions.csv")
    one_line(error)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"\xef\xbb\xbf\r\n", "is empty"),
        (bytes(range(256)) * 4, "not a text file"),
        (b"PK\x03\x04rest of a zip", "rename it to sessions.xlsx"),
        (b"PAR1rest of parquet", "rename it to sessions.parquet"),
        (b"client_id,date,exercise\nc1,2024-03-05,Plank,extra,fields\n", "line 2 has 5 fields but the header has 3"),
    ],
)
def test_unreadable_csv_files_give_one_line(folder: Path, content: bytes, message: str) -> None:
    write(folder, "sessions.csv", content)
    with pytest.raises(DataError, match=message) as error:
        read_table("sessions", folder / "sessions.csv")
    assert "sessions.csv" in one_line(error)


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_semicolon_and_tab_delimiters(folder: Path, delimiter: str) -> None:
    write(folder, "sessions.csv", SESSIONS.replace(",", delimiter))
    frame = read_table("sessions", folder / "sessions.csv").frame
    assert frame.loc[3].tolist() == ["c2", "2024-03-06", "Side plank", " 2 "]


def test_parquet_and_excel_read_as_strings(folder: Path) -> None:
    typed = pd.DataFrame(
        {
            "Client_ID": ["c1", "c2"],
            "date": pd.to_datetime(["2024-03-05", "2024-03-06 18:30"], format="ISO8601"),
            "exercise": ["Plank", None],
            "sets": [3, 2],
            "load": [2.5, None],
        }
    )
    typed.to_parquet(folder / "sessions.parquet", index=False)
    typed.to_excel(folder / "outcomes.xlsx", index=False)  # any table: only reading is tested here
    from_parquet = read_table("sessions", folder / "sessions.parquet").frame
    assert from_parquet.loc[2].tolist() == ["c1", "2024-03-05 00:00:00", "Plank", "3", "2.5"]
    assert from_parquet.loc[3].tolist() == ["c2", "2024-03-06 18:30:00", "", "2", ""]
    from_excel = read_table("sessions", folder / "outcomes.xlsx").frame
    assert from_excel.loc[2].tolist() == ["c1", "2024-03-05 00:00:00", "Plank", "3", "2.5"]
    assert from_excel.loc[3].tolist() == ["c2", "2024-03-06 18:30:00", "", "2", ""]


@pytest.mark.parametrize("name", ["sessions.xlsx", "sessions.parquet"])
def test_damaged_binary_tables(folder: Path, name: str) -> None:
    (folder / "sessions.csv").unlink()
    write(folder, name, b"garbage" * 10)
    with pytest.raises(DataError, match=f"{name} could not be read") as error:
        read_dataset(folder)
    one_line(error)


def test_read_dataset_reads_every_table(folder: Path) -> None:
    write(folder, "clients.csv", "client_id,name,program\nc1,Ann Example,core\n")
    tables = read_dataset(folder)
    assert {name: t.rows for name, t in tables.items()} == {"sessions": 2, "outcomes": 1, "clients": 1}
    assert tables["clients"].dropped == ("name",)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp1252"])
def test_fast_and_exact_csv_parsers_agree(tmp_path: Path, encoding: str) -> None:
    text = '\ufeffclient_id,date,exercise,note\r\nc1,2024-03-05,"Row, seated","said ""ok""\r\nthen left"\r\n é ,2024-03-06 , Plank ,  \r\nc3,,,last line'
    if encoding == "cp1252":
        text = text.lstrip("\ufeff")
    data = text.encode("utf-8" if encoding == "utf-8-sig" else encoding)
    fast = reading._grid_with_pyarrow(data, encoding, ",", 4)
    exact = reading._grid_with_pandas(tmp_path / "sessions.csv", data, encoding, ",")
    assert fast is not None
    pd.testing.assert_frame_equal(fast.astype(str), exact.astype(str))
    assert exact.iloc[1].tolist() == ["c1", "2024-03-05", "Row, seated", 'said "ok"\r\nthen left']


def test_fast_parser_leaves_empty_lines_and_ragged_rows_to_pandas() -> None:
    assert reading._grid_with_pyarrow(b"a,b\n\n1,2\n", "utf-8-sig", ",", 2) is None
    assert reading._grid_with_pyarrow(b"a,b\n1,2,3\n", "utf-8-sig", ",", 2) is None
    assert reading._grid_with_pyarrow(b"a,b\n1\n", "utf-8-sig", ",", 2) is None


def test_a_row_holding_only_an_identifying_value_is_still_a_row(folder: Path) -> None:
    write(folder, "sessions.csv", "client_id,date,exercise,email\n,,,someone@example.org\n")
    raw = read_table("sessions", folder / "sessions.csv")
    assert raw.rows == 1
    assert raw.frame.loc[2].tolist() == ["", "", ""]


def test_parquet_with_nested_values_is_refused(folder: Path) -> None:
    pd.DataFrame({"client_id": ["c1"], "date": ["2024-03-05"], "exercise": [["Plank", "Row"]]}).to_parquet(folder / "s.parquet")
    with pytest.raises(DataError, match="column of lists or records") as error:
        read_table("sessions", folder / "s.parquet")
    one_line(error)
