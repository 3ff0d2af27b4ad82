"""Atomic table writing."""

from __future__ import annotations

import os
import stat

import pandas as pd
import pytest

from backpain_analysis.errors import DataError
from backpain_analysis.writing import write_table


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_round_trip_and_permissions(tmp_path, suffix) -> None:
    frame = pd.DataFrame({"client_id": ["a", "b"], "week": [0, 1]})
    old = os.umask(0o022)
    try:
        path = write_table(frame, tmp_path / f"t{suffix}")
    finally:
        os.umask(old)
    back = pd.read_csv(path) if suffix == ".csv" else pd.read_parquet(path)
    assert back.to_dict("list") == frame.to_dict("list")
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left


def test_refusals_are_one_line(tmp_path) -> None:
    with pytest.raises(DataError, match=r"\.csv or \.parquet"):
        write_table(pd.DataFrame(), tmp_path / "t.xlsx")
    with pytest.raises(DataError, match="does not exist"):
        write_table(pd.DataFrame(), tmp_path / "missing" / "t.csv")


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("-3", "-3"),
        ("+1.5e3", "+1.5e3"),
        ("plain", "plain"),
        ("'=already", "'=already"),
    ],
)
def test_csv_text_cells_cannot_run_as_formulas(tmp_path, cell: str, written: str) -> None:
    frame = pd.DataFrame({"text": [cell], "number": [-3], "=name": pd.Categorical([cell])})
    path = write_table(frame, tmp_path / "t.csv")
    back = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert back["text"].tolist() == [written] and back["'=name"].tolist() == [written] and back["number"].tolist() == ["-3"]
    assert frame["text"].tolist() == [cell]  # the caller's frame is untouched
    verbatim = pd.read_csv(write_table(frame, tmp_path / "v.csv", neutralize=False), dtype=str, keep_default_na=False)
    assert verbatim["text"].tolist() == [cell]
    parquet = pd.read_parquet(write_table(frame, tmp_path / "t.parquet"))
    assert parquet["text"].tolist() == [cell]


def test_a_folder_at_the_path_is_refused_in_one_line(tmp_path) -> None:
    (tmp_path / "out.csv").mkdir()
    with pytest.raises(DataError, match="it is a folder"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "out.csv")
