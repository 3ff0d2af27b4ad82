"""Reading tables as strings: files, encodings, headers, row numbers, one-line errors."""

from __future__ import annotations

import codecs
import warnings
from pathlib import Path

import numpy as np
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


def test_find_tables_may_find_table_folders(folder: Path) -> None:
    (folder / "sessions.csv").unlink()
    (folder / "sessions").mkdir()
    with pytest.raises(DataError, match=r"no sessions table \(expected sessions.csv, sessions.parquet or sessions.xlsx\)"):
        find_tables(folder)
    assert find_tables(folder, folders=True) == {"sessions": folder / "sessions", "outcomes": folder / "outcomes.csv"}
    write(folder, "sessions.csv", SESSIONS)
    with pytest.raises(DataError, match=r"table sessions is both a file \(sessions.csv\) and a folder \(sessions/\)"):
        find_tables(folder, folders=True)
    assert find_tables(folder)["sessions"] == folder / "sessions.csv"  # without folders=True a folder is not a table
    (folder / "sessions.csv").unlink()
    (folder / "sessions").rmdir()
    with pytest.raises(DataError, match=r"expected sessions.csv, sessions.parquet, sessions.xlsx or a folder sessions/ of Parquet files"):
        find_tables(folder, folders=True)


def test_required_columns_may_be_left_unchecked(folder: Path) -> None:
    write(folder, "sessions.csv", "date,exercise,e-mail\n2024-03-05,Plank,a@example.org\n")
    with pytest.raises(DataError, match="lacks required column 'client_id'"):
        read_table("sessions", folder / "sessions.csv")
    raw = read_table("sessions", folder / "sessions.csv", required=False)
    assert list(raw.frame.columns) == ["date", "exercise"] and raw.dropped == ("e-mail",)


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


@pytest.mark.parametrize("data", [b"a,b\n\n1,2\n", b"a,b\r\n\r\n1,2\r\n", b"a,b\n1,2\n\n\n", b"a,b\r\r1,2"])
def test_fast_parser_keeps_empty_lines_as_rows_like_pandas(tmp_path: Path, data: bytes) -> None:
    fast = reading._grid_with_pyarrow(data, "utf-8-sig", ",", 2)
    exact = reading._grid_with_pandas(tmp_path / "sessions.csv", data, "utf-8-sig", ",")
    assert fast is not None
    pd.testing.assert_frame_equal(fast.astype(str), exact.astype(str))


def test_fast_parser_leaves_ragged_rows_to_pandas() -> None:
    assert reading._grid_with_pyarrow(b"a,b\n1,2,3\n", "utf-8-sig", ",", 2) is None
    assert reading._grid_with_pyarrow(b"a,b\n1\n", "utf-8-sig", ",", 2) is None


def test_blank_lines_keep_the_row_numbers_of_later_rows(folder: Path) -> None:
    write(folder, "sessions.csv", "client_id,date,exercise\nc1,2024-03-05,Plank\n\n,,\nc2,2024-03-06,Bird dog\n\n")
    frame = read_table("sessions", folder / "sessions.csv").frame
    assert frame.index.tolist() == [2, 5] and frame.loc[5, "client_id"] == "c2"


@pytest.mark.parametrize("block", [1, 8, 64])
def test_large_files_are_streamed_block_by_block_with_the_same_result(folder: Path, monkeypatch: pytest.MonkeyPatch, block: int) -> None:
    text = 'client_id,date,exercise,note\r\nc1,2024-03-05,"Row, seated","said ""ok""\r\nthen left"\r\n é ,2024-03-06 , Plank ,  \r\n\r\nc3,,,Céline\n'
    write(folder, "sessions.csv", "\ufeff" + text)
    whole = read_table("sessions", folder / "sessions.csv").frame
    monkeypatch.setattr(reading, "CSV_BLOCK_BYTES", block)  # a row longer than a block goes to pandas' parser
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a character split between blocks is still UTF-8
        streamed = read_table("sessions", folder / "sessions.csv").frame
    pd.testing.assert_frame_equal(streamed, whole)
    assert whole.loc[5].tolist() == ["c3", "", "", "Céline"]


def test_streamed_encoding_checks_match_the_whole_file_ones(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reading, "CSV_BLOCK_BYTES", 8)
    test_cp1252_is_decoded_with_a_warning(folder)
    test_undecodable_text_is_refused(folder)
    for content, message in [(b"client_id,date,exercise\nc1,2024\x00", "not a text file"), (b"PAR1" + b"x" * 20, "rename it to sessions.parquet")]:
        write(folder, "sessions.csv", content)
        with pytest.raises(DataError, match=message):
            read_table("sessions", folder / "sessions.csv")


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


SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
BAD_SESSIONS = [  # one per row rule, and a quoted value holding the delimiter and a line break
    "C001,2024-03-01,plank,0,,,,30,",
    "C002,2024-03-01,bird dog,2,10,,,,12",
    ",2024-03-01,plank,2,,,,30,",
    "C003,not a date,plank,2,,,,30,",
    "C004,2024-03-01,unicycling,2,,,,30,",
    'C005,2024-03-01,"dead bug, slow\nversion",2,8,,,,',
    "C006,2024-03-01,goblet squat,3,8,5,stone,,",
    "C007,2023-01-01,plank,2,,,,30,",
]


@pytest.mark.parametrize("quoted", [True, False])
def test_streamed_csv_gives_the_same_ledger_and_panel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, quoted: bool) -> None:
    """Tiny blocks (rows, rejected ones too, straddle their boundaries), and a text without quotes cut into
    parts parsed at once, give what one block and pandas' whole-file parser give."""
    from backpain_analysis.loading import load
    from backpain_analysis.panel import weekly_panel

    folder = tmp_path / "data"
    folder.mkdir()
    for table in ("clients", "outcomes"):
        (folder / f"{table}.csv").write_bytes((SAMPLE / f"{table}.csv").read_bytes())
    lines = (SAMPLE / "sessions.csv").read_text(encoding="utf-8").splitlines()[:3001]
    bad_rows = BAD_SESSIONS if quoted else [line.replace('"dead bug, slow\nversion"', "dead bug") for line in BAD_SESSIONS]
    for i, bad in enumerate(bad_rows):  # spread through the file, and an empty line
        lines.insert(150 + 350 * i, bad)
    lines.insert(1000, "")
    text = "\n".join(lines) + "\n"
    assert ('"' in text) == quoted
    (folder / "sessions.csv").write_text(text, encoding="utf-8")
    spans = [(text.index(bad), text.index(bad) + len(bad)) for bad in bad_rows]
    block = next(size for size in range(200, 400) if any(start // size != end // size for start, end in spans))  # a bad row straddles
    assert len(text) > 100 * block

    def loaded(**settings: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        with monkeypatch.context() as patch:
            for name, value in settings.items():
                patch.setattr(reading, name, value)
            dataset = load(folder)
        return dataset.rejected, dataset.sessions, weekly_panel(dataset)

    parts, grids = [], []
    cuts, streamed = reading._cuts, reading._grid_with_pyarrow
    monkeypatch.setattr(reading, "_cuts", lambda *args: parts.append(len(cuts(*args)) - 1) or cuts(*args))
    monkeypatch.setattr(reading, "_grid_with_pyarrow", lambda *args: grids.append(streamed(*args)) or grids[-1])
    one_block = loaded(CSV_THREADS=1)
    in_blocks = loaded(CSV_BLOCK_BYTES=block, CSV_THREADS=3)
    assert all(grid is not None for grid in grids)  # pyarrow streamed every table: no fallback
    assert parts[:3] == [1, 1, 1] and parts[3] == (1 if quoted else 3)  # sessions is read first
    monkeypatch.setattr(reading, "_grid_with_pyarrow", lambda *args: None)
    whole = loaded()
    ledger = one_block[0]
    reasons = ledger.loc[ledger["table"] == "sessions", "reason"].tolist()
    expected = ["sets 0", "rpe 12", "client_id is blank", "is not a date", "'unicycling'", "'stone'", "before client C007"]
    assert len(reasons) == len(expected) and all(e in r for e, r in zip(expected, reasons, strict=True))
    if quoted:
        assert "dead bug, slow\nversion" in set(one_block[1]["exercise"])  # a known name, its line break kept
    for other in (in_blocks, whole):
        for mine, theirs in zip(one_block, other, strict=True):
            pd.testing.assert_frame_equal(mine, theirs)


def test_parquet_dictionary_columns_with_missing_cells_in_sliced_chunks() -> None:
    # the indices are read from Arrow's buffers: a chunk that starts inside its buffer (offset) and missing cells must give
    # exactly the cells' text, missing as ""
    import pyarrow as pa

    whole = pa.array(["b", None, "a", "b", None, "c", "a"]).dictionary_encode()
    column = pa.chunked_array([whole.slice(1, 3), whole.slice(4, 3)])
    encoded = reading._encoded(column)
    assert list(encoded.astype(str)) == ["", "a", "b", "", "c", "a"]
    numbers = reading._encoded(pa.chunked_array([pa.array([3, None, 3, 7], type=pa.int16()).slice(1)]))
    assert list(numbers.astype(str)) == ["", "3", "7"]


def test_nonblank_rows_are_those_with_any_non_empty_cell() -> None:
    # the rows blank in the first column are narrowed column by column: the same rows as comparing every cell
    rng = np.random.default_rng(7)
    texts = np.array(["", "a", "b"], dtype=object)
    columns = [pd.Categorical(texts[rng.choice(3, size=2000, p=[0.7, 0.2, 0.1])]) for _ in range(4)]
    expected = ~np.logical_and.reduce([np.asarray(c) == "" for c in columns])
    assert 0 < (~expected).sum() < 2000  # some rows are wholly blank, not all
    np.testing.assert_array_equal(reading._nonblank(columns), expected)
    no_blank = [pd.Categorical(["a", "b"]), pd.Categorical(["", ""])]
    assert reading._nonblank(no_blank).all()  # a column without an empty cell: every row is data


def _hashed_cell_by_cell(column: object, monkeypatch: pytest.MonkeyPatch) -> pd.Categorical:
    with monkeypatch.context() as patch:
        patch.setattr(reading, "_runs", lambda column: None)
        return reading._encoded(column)


def test_parquet_columns_in_runs_are_encoded_as_when_every_cell_is_hashed(monkeypatch: pytest.MonkeyPatch) -> None:
    # a column whose cells come in runs has only each run's first cell hashed: the codes and texts must be exactly those
    # of hashing every cell, with missing cells, NaN, 0.0 beside -0.0, several chunks and chunks cut inside their buffers
    import pyarrow as pa

    rng = np.random.default_rng(3)
    lengths = rng.integers(1, 9, size=400)
    runs = {
        "int64 with missing": pa.array(np.repeat(rng.integers(0, 50, size=400), lengths), mask=np.repeat(rng.random(400) < 0.1, lengths)),
        "float with NaN and zeros": pa.array(np.repeat(rng.choice([0.0, -0.0, np.nan, 2.5, 1e300], size=400), lengths)),
        "date-times with missing": pa.array(
            np.repeat(np.datetime64("2024-01-01T08:00") + rng.integers(0, 10**6, size=400).astype("timedelta64[m]"), lengths).astype("datetime64[ms]"),
            mask=np.repeat(rng.random(400) < 0.05, lengths),
        ),
        "int8": pa.array(np.repeat(rng.integers(-5, 5, size=400), lengths).astype(np.int8)),
    }
    for name, whole in runs.items():
        n = len(whole)
        column = pa.chunked_array([whole.slice(0, 0), whole.slice(1, n // 3), whole.slice(n // 3 + 1, n // 3), whole.slice(2 * (n // 3) + 1)])
        assert reading._runs(column) is not None, name  # the run-by-run path is the one tested
        mine, theirs = reading._encoded(column), _hashed_cell_by_cell(column, monkeypatch)
        assert list(mine.categories) == list(theirs.categories), name
        np.testing.assert_array_equal(mine.codes, theirs.codes, err_msg=name)
        if name == "int64 with missing":
            assert list(mine.astype(str)) == ["" if v is None else str(v) for v in column.to_pylist()]
    shuffled = pa.chunked_array([pa.array(rng.permutation(10_000))])
    assert reading._runs(shuffled) is None  # cells that do not come in runs are hashed one by one


def test_chunks_of_one_dictionary_are_not_unified_and_others_are(monkeypatch: pytest.MonkeyPatch) -> None:
    # Arrow's encoder gives every chunk the same dictionary (unifying it again took seconds); row groups of a Parquet
    # file each bring their own, which must be unified
    import pyarrow as pa
    import pyarrow.compute as pc

    own = pc.dictionary_encode(pa.chunked_array([pa.array([5, 6]), pa.array([6, 7, None])]))
    assert reading._one_dictionary(own)
    groups = pa.chunked_array([pa.array(["b", "a"]).dictionary_encode(), pa.array(["c", "b"]).dictionary_encode()])
    assert not reading._one_dictionary(groups)
    assert list(reading._encoded(groups).astype(str)) == ["b", "a", "c", "b"]
    half = [pa.array(np.array(v, dtype=np.float16)).dictionary_encode() for v in ([1.0, 2.5], [2.5, 3.0])]
    assert list(reading._encoded(pa.chunked_array(half)).astype(str)) == ["1.0", "2.5", "2.5", "3.0"]  # not their raw bits
    nothing = pa.chunked_array([], type=pa.int64())  # an empty table's column has no chunk at all
    bufferless = pa.Array.from_buffers(pa.int64(), 0, [None, None])  # an empty chunk may come without a value buffer
    with_empty = pa.chunked_array([pa.array([1, 1, 1, 2]), bufferless, pa.array([2, 2])])
    assert reading._runs(with_empty) is not None and list(reading._encoded(with_empty).astype(str)) == ["1", "1", "1", "2", "2", "2"]
    assert reading._one_dictionary(pc.dictionary_encode(nothing)) and len(reading._encoded(nothing)) == 0
    assert list(_hashed_cell_by_cell(pa.chunked_array([pa.array([5, 6]), pa.array([6, 7, None])]), monkeypatch).astype(str)) == ["5", "6", "6", "7", ""]
