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
