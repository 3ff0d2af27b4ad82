"""Issue 11, the loading rows: hostile and unlucky inputs never lose a row, run a formula, identify a person or crash.

One test per row of the issue's table that loading owns (each fails on the
code before the fix), plus a property test over hostile alphabets.
"""

from __future__ import annotations

import errno
import io
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backpain_analysis import cli
from backpain_analysis.cli import main
from backpain_analysis.errors import DataError
from backpain_analysis.loading import load
from backpain_analysis.panel import weekly_panel
from backpain_analysis.reading import read_table

SESSIONS = "client_id,date,exercise,sets,reps,load,load_unit,duration_s\n"
OUTCOMES = "client_id,date,instrument,score\n"


def _dataset(folder: Path, sessions: list[str], outcomes: list[str], clients: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sessions.csv").write_text(SESSIONS + "".join(f"{r}\n" for r in sessions), encoding="utf-8")
    (folder / "outcomes.csv").write_text(OUTCOMES + "".join(f"{r}\n" for r in outcomes), encoding="utf-8")
    if clients is not None:
        (folder / "clients.csv").write_text(clients, encoding="utf-8")
    return folder


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return _dataset(
        tmp_path / "data",
        ["a,2024-03-04,plank,3,,,,30", "a,2024-03-12,row,3,10,20,kg,", "b,2024-03-05,plank,2,,,,45"],
        ["a,2024-03-04,nprs,6", "a,2024-03-12,nprs,4", "b,2024-03-05,nprs,5"],
    )


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


# Row "columns First Name, Date of Birth, Phone Number, E-Mail, Email Address, mobile, notes, coach comments".


def test_identifying_and_free_text_columns_never_reach_the_panel(data: Path, tmp_path: Path, capsys) -> None:
    header = "client_id,First Name,Date of Birth,Phone Number,E-Mail,Email Address,mobile,tel,zip,Street,notes,Coach Comments,program,coach,sex,age,member_no"
    rows = [
        f"{c},Ann{c},1970-01-0{i},555-010{i},{c}@mail.example,{c}@x.example,0170{i},0301{i},1011{i},Main St {i},sore knee {c},{c} was tired,"
        f"strength,Kim,F,{40 + i},M-{i}"
        for i, c in enumerate(["a", "b"], start=1)
    ]
    (data / "clients.csv").write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    out = tmp_path / "panel.csv"
    status, _, err = _run(capsys, "panel", str(data), "--out", str(out))
    assert status == 0, err
    panel = pd.read_csv(out, dtype=str)
    assert {"program", "coach", "sex", "age"} <= set(panel.columns)
    text = out.read_text(encoding="utf-8").lower()
    for secret in ("ann", "555-", "mail.example", "x.example", "0170", "0301", "1011", "main st", "sore knee", "was tired", "1970-"):
        assert secret not in text, secret
    dataset = load(data)
    assert not {"first name", "date of birth", "phone number", "e-mail", "email address", "mobile", "tel", "zip", "street", "notes",
                "coach comments"} & set(dataset.clients.columns)


def test_a_text_column_with_a_value_per_client_is_not_a_covariate(tmp_path: Path) -> None:
    clients = "client_id,program,membership\n" + "".join(f"c{i},{'ab'[i % 2]},MEM-{i:04d}\n" for i in range(60))
    sessions = [f"c{i},2024-03-04,plank,1,,,,30" for i in range(60)]
    panel = weekly_panel(load(_dataset(tmp_path / "d", sessions, ["c0,2024-03-04,nprs,5"], clients)))
    assert "program" in panel.columns and "membership" not in panel.columns


# Row "1e308 in reps, load or duration: inf in the panel".


@pytest.mark.parametrize(
    ("row", "column"),
    [
        ("a,2024-03-05,row,3,1e308,20,kg,", "reps"),
        ("a,2024-03-05,row,3,10,1e308,kg,", "load"),
        ("a,2024-03-05,plank,3,,,,1e308", "duration_s"),
        ("a,2024-03-05,plank,3,,,,inf", "duration_s"),
        ("a,2024-03-05,row,1000,1000,999,kg,", None),  # the largest plausible row: finite sums
    ],
)
def test_absurd_numbers_are_rejected_and_the_panel_stays_finite(data: Path, row: str, column: str | None) -> None:
    with (data / "sessions.csv").open("a", encoding="utf-8") as file:
        file.write(row + "\n")
    dataset = load(data)
    counts = dataset.counts()
    assert (counts["accepted"] + counts["rejected"] == counts["read"]).all()
    if column is None:
        assert dataset.rejected.empty
    else:
        (reason,) = dataset.rejected["reason"]
        assert dataset.rejected["column"].tolist() == [column] and ("outside" in reason or "not a number" in reason)
    numbers = weekly_panel(dataset).select_dtypes("number")
    assert np.isfinite(numbers.fillna(0).to_numpy()).all()


# Row "values =HYPERLINK(...), +cmd, @SUM(...) written unchanged into the ledger, panel".


def test_formula_cells_are_neutralised_in_the_ledger_and_the_panel(tmp_path: Path, capsys) -> None:
    data = _dataset(
        tmp_path / "data",
        ['a,2024-03-04,"=HYPERLINK(""http://x"",""y"")",1,,,,', "a,2024-03-04,plank,-3,,,,30", "a,2024-03-04,plank,2,,,,30"],
        ["a,2024-03-04,nprs,5", "a,2024-03-04,@SUM(A1),3"],
        "client_id,program\na,+cmd|' /C calc'!A0\n",
    )
    ledger, panel = tmp_path / "rejected.csv", tmp_path / "panel.csv"
    assert _run(capsys, "validate", str(data), "--rejected", str(ledger))[0] == 0
    assert _run(capsys, "panel", str(data), "--out", str(panel))[0] == 0
    rejected = pd.read_csv(ledger, dtype=str, keep_default_na=False)
    assert rejected["value"].tolist() == ['\'=HYPERLINK("http://x","y")', "-3"]  # a number stays a number
    written = pd.read_csv(panel, dtype=str, keep_default_na=False)
    assert written["program"].tolist() == ["'+cmd|' /C calc'!A0"]
    assert "'@sum(a1)" in written.columns  # a custom instrument's name is a header
    for frame in (rejected, written):
        cells = [*frame.columns, *frame.to_numpy().ravel()]
        assert not [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r") or (c[:1] == "-" and not c.lstrip("-").replace(".", "").isdigit())]


# Row "a 1.6 KB xlsx whose only extra cell is XFD1048576; a 4.6 MB xlsx expanding to 1.2 GB of XML".

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
    '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    "</Relationships>"
)


def _cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def _xlsx(path: Path, sheet_rows: str, padding: int = 0) -> Path:
    """A minimal workbook; ``padding`` bytes of blanks in its sheet XML (they compress to almost nothing)."""
    sheet = (
        '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{sheet_rows}</sheetData>{' ' * padding}</worksheet>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, text in (("[Content_Types].xml", _CONTENT_TYPES), ("_rels/.rels", _RELS), ("xl/workbook.xml", _WORKBOOK),
                           ("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS), ("xl/worksheets/sheet1.xml", sheet)):
            archive.writestr(name, text)
    return path


HEADER_ROW = '<row r="1">' + _cell("A1", "client_id") + _cell("B1", "date") + _cell("C1", "exercise") + "</row>"
DATA_ROW = '<row r="2">' + _cell("A2", "a") + _cell("B2", "2024-03-04") + _cell("C2", "plank") + "</row>"


def test_a_small_workbook_is_read(tmp_path: Path) -> None:
    raw = read_table("sessions", _xlsx(tmp_path / "sessions.xlsx", HEADER_ROW + DATA_ROW))
    assert raw.frame.to_numpy().tolist() == [["a", "2024-03-04", "plank"]]


def test_an_xlsx_whose_only_extra_cell_is_xfd1048576_is_refused_before_reading(tmp_path: Path, capsys) -> None:
    far = '<row r="1048576">' + _cell("XFD1048576", "x") + "</row>"
    (tmp_path / "data").mkdir()
    path = _xlsx(tmp_path / "data" / "sessions.xlsx", HEADER_ROW + DATA_ROW + far)
    assert path.stat().st_size < 2000
    (tmp_path / "data" / "outcomes.csv").write_text(OUTCOMES + "a,2024-03-04,nprs,5\n", encoding="utf-8")
    status, _, err = _run(capsys, "validate", str(tmp_path / "data"))
    assert status == 2 and len(err.strip().splitlines()) == 1
    assert "sessions.xlsx" in err and "1,048,576 rows x 16,384 columns" in err and "up to 1,000 columns" in err


def test_a_zip_bomb_like_workbook_is_refused_before_reading(tmp_path: Path) -> None:
    path = _xlsx(tmp_path / "sessions.xlsx", HEADER_ROW + DATA_ROW, padding=20 * 2**20)
    assert path.stat().st_size < 100_000
    with pytest.raises(DataError, match=r"sessions\.xlsx expands to 20 MB .* compression"):
        read_table("sessions", path)


def test_absurdly_wide_csv_and_parquet_are_refused(tmp_path: Path) -> None:
    wide = ["client_id", "date", "exercise", *[f"x{i}" for i in range(1200)]]
    (tmp_path / "sessions.csv").write_text(",".join(wide) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match="1,203 columns; a table may have at most 1,000"):
        read_table("sessions", tmp_path / "sessions.csv")
    pd.DataFrame({name: ["1"] for name in wide}).to_parquet(tmp_path / "sessions.parquet")
    with pytest.raises(DataError, match="1,203 columns"):
        read_table("sessions", tmp_path / "sessions.parquet")


# Row "unreadable input, read-only output, full disk, panel --out an existing folder, Ctrl-C: Python tracebacks".


def test_unreadable_input_is_one_line_and_status_2(data: Path, capsys, monkeypatch) -> None:
    def refuse(self: Path, *args, **kwargs) -> bytes:
        raise PermissionError(errno.EACCES, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", refuse)
    monkeypatch.setattr(Path, "open", refuse)  # large CSV files are read a block at a time
    status, _, err = _run(capsys, "validate", str(data))
    assert status == 2 and err.strip() == "backpain validate: cannot read sessions.csv: Permission denied"


@pytest.mark.parametrize(
    ("code", "message"),
    [(errno.ENOSPC, "No space left on device"), (errno.EROFS, "Read-only file system"), (errno.EACCES, "Permission denied")],
)
def test_a_failing_output_is_one_line_and_status_1(data: Path, tmp_path: Path, capsys, monkeypatch, code: int, message: str) -> None:
    def fail(*args, **kwargs):
        raise OSError(code, message, "panel.csv")

    monkeypatch.setattr(pd.DataFrame, "to_csv", fail)
    status, _, err = _run(capsys, "panel", str(data), "--out", str(tmp_path / "panel.csv"))
    assert status == 1 and err.strip() == f"backpain panel: {message}: panel.csv"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".panel.csv")]  # no half-written file left


@pytest.mark.parametrize("target", ["folder", "missing/panel.csv"])
def test_panel_out_an_existing_folder_or_a_missing_folder_is_status_2(data: Path, tmp_path: Path, capsys, target: str) -> None:
    (tmp_path / "folder.csv").mkdir()
    out = tmp_path / ("folder.csv" if target == "folder" else target)
    status, _, err = _run(capsys, "panel", str(data), "--out", str(out))
    assert status == 2 and len(err.strip().splitlines()) == 1
    assert ("is a folder" in err) if target == "folder" else ("does not exist" in err)


@pytest.mark.parametrize("command", ["validate", "panel", "simulate", "fit", "report", "import", "import-outcomes"])
def test_ctrl_c_ends_quietly_with_status_130(data: Path, tmp_path: Path, capsys, monkeypatch, command: str) -> None:
    def interrupted(args):
        raise KeyboardInterrupt

    argv = {
        "validate": [str(data)],
        "panel": [str(data), "--out", str(tmp_path / "p.csv")],
        "simulate": ["--clients", "2", "--weeks", "2", "--seed", "1", "--out", str(tmp_path / "s")],
        "fit": [str(data), "--outcome", "nprs"],
        "report": [str(data), "--out", str(tmp_path / "r")],
        "import": [str(tmp_path / "x.csv"), "--client-id", "a", "--out", str(tmp_path / "i")],
        "import-outcomes": [str(tmp_path / "x.csv"), "--out", str(tmp_path / "i")],
    }[command]
    parser = cli._parser()
    monkeypatch.setattr(cli, "_parser", lambda: parser)
    parser._subparsers._group_actions[0].choices[command].set_defaults(handler=interrupted)
    status, out, err = _run(capsys, command, *argv)
    assert status == 130 and err.strip() == "backpain: interrupted" and "Traceback" not in out + err


# Property: names and values from hostile alphabets, through load -> panel.

HOSTILE = st.one_of(
    st.sampled_from(
        [
            "<img src=x onerror=alert(1)>", "[click](javascript:alert(1))", "$\\unicode{x}$", "\\begin{document}", "**bold** _x_ `code`",
            "\u202eevil\u202c", "\u200f\u200e", "=HYPERLINK(\"x\")", "+cmd", "@SUM(A1)", "-2+3", "\r\n", "\t", "\x00", "\x1b[31m",
            "a" * 5000, "\"quoted, with comma\"", "é\u0301", "😀", "nprs", "plank", "1e308", "-1e308", "inf", "NaN",
        ]
    ),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=30),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    names=st.lists(HOSTILE, min_size=1, max_size=3),
    values=st.lists(st.tuples(HOSTILE, HOSTILE, HOSTILE), min_size=1, max_size=6),
)
def test_hostile_names_and_values_never_crash_and_every_row_is_accounted_for(names: list[str], values: list[tuple[str, str, str]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        extra = [f"x{i}_{name}" for i, name in enumerate(names)]
        sessions = pd.DataFrame(
            {
                "client_id": [v[0] or "k" for v in values],
                "date": "2024-03-04",
                "exercise": [v[1] for v in values],
                "sets": [v[2] for v in values],
                "modality": "core",
                **{name: [v[2] for v in values] for name in extra},
            }
        )
        outcomes = pd.DataFrame({"client_id": [v[0] for v in values], "date": "2024-03-05", "instrument": [v[1] for v in values], "score": [v[2] for v in values]})
        clients = pd.DataFrame({"client_id": [v[0] for v in values], "program": [v[1] for v in values], **{name: [v[2] for v in values] for name in extra}})
        for name, frame in (("sessions", sessions), ("outcomes", outcomes), ("clients", clients)):
            buffer = io.StringIO()
            frame.to_csv(buffer, index=False)
            (root / f"{name}.csv").write_bytes(buffer.getvalue().encode("utf-8", "surrogatepass"))
        try:
            dataset = load(root)
        except DataError as error:  # a file the reader refuses (NUL bytes, duplicate headers): one line, never a crash
            assert "\n" not in str(error)
            return
        counts = dataset.counts()
        assert (counts["accepted"] + counts["rejected"] == counts["read"]).all()
        panel = weekly_panel(dataset)
        assert np.isfinite(panel.select_dtypes("number").fillna(0).to_numpy()).all()
        assert len(panel) == 0 or panel["client_id"].notna().all()


def test_validate_prints_control_characters_as_escapes(data: Path, capsys) -> None:
    with (data / "sessions.csv").open("a", encoding="utf-8") as file:
        file.write("a,2024-03-05,\x1b[2J\x1b[31mevil\u202e,1,,,,\n")
    status, out, _ = _run(capsys, "validate", str(data))
    assert status == 0 and "\x1b" not in out and "\u202e" not in out
    assert "unknown exercise '\\x1b[2J\\x1b[31mevil\\u202e'" in out
