"""Instruments: the data file, lookups, clinically important change, ODI and RMDQ item scoring."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from backpain_analysis.errors import DataError
from backpain_analysis.instruments import ITEMS, builtin_instruments, instrument, score_odi, score_rmdq


def test_builtin_table_holds_the_published_values() -> None:
    table = builtin_instruments().set_index("name")
    assert list(table.index) == ["nprs", "vas", "odi", "rmdq", "psfs", "sit_and_reach_cm"]
    # Ostelo et al. 2008: NPRS 2, VAS 15, ODI 10, RMDQ 5 points, or 30 % from baseline
    assert table.loc[["nprs", "vas", "odi", "rmdq"], "mcid_abs"].tolist() == [2, 15, 10, 5]
    assert (table.loc[["nprs", "vas", "odi", "rmdq"], "mcid_rel"] == 0.30).all()
    # Kamper et al. 2010: recovered at NPRS 0 and RMDQ <= 2
    assert table.loc[["nprs", "rmdq"], "recovered_threshold"].tolist() == [0, 2]
    assert table.loc[["nprs", "vas", "odi", "rmdq", "psfs"], ["min", "max"]].to_numpy().tolist() == [
        [0, 10],
        [0, 100],
        [0, 100],
        [0, 24],
        [0, 10],
    ]
    assert table.loc[["psfs", "sit_and_reach_cm"], "higher_is_better"].all()
    assert not table.loc[["nprs", "vas", "odi", "rmdq"], "higher_is_better"].any()
    assert np.isnan(table.loc["sit_and_reach_cm", ["min", "max", "mcid_abs"]].astype(float)).all()
    assert table["source"].str.len().gt(20).all()


def test_instrument_lookup() -> None:
    odi = instrument(" ODI ")
    assert (odi.name, odi.min, odi.max, odi.mcid_abs, odi.higher_is_better) == ("odi", 0.0, 100.0, 10.0, False)
    assert instrument("sit_and_reach_cm").mcid_abs is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        odi.max = 50  # type: ignore[misc]
    with pytest.raises(KeyError, match="built-in: nprs"):
        instrument("grip_strength")


def test_improvement_follows_direction() -> None:
    assert instrument("nprs").improvement(7, 4) == 3
    assert instrument("psfs").improvement(4, 7) == 3
    changes = instrument("odi").improvement(pd.Series([40.0, 20.0], index=["a", "b"]), pd.Series([30.0, 25.0], index=["a", "b"]))
    assert changes.to_dict() == {"a": 10.0, "b": -5.0}


def test_important_improvement_absolute_and_relative() -> None:
    nprs = instrument("nprs")
    assert nprs.is_important_improvement(6, 4) is True
    assert nprs.is_important_improvement(6, 5) is False
    baseline, follow_up = pd.Series([10.0, 3.0, 0.0]), pd.Series([7.0, 2.0, 0.0])
    assert nprs.is_important_improvement(baseline, follow_up, relative=True).tolist() == [True, True, False]
    assert instrument("psfs").is_important_improvement(3, 5) is True
    with pytest.raises(ValueError, match="relative"):
        instrument("psfs").is_important_improvement(3, 5, relative=True)
    with pytest.raises(ValueError, match="no established"):
        instrument("sit_and_reach_cm").is_important_improvement(10, 20)


def test_recovered() -> None:
    assert instrument("rmdq").is_recovered(np.array([0, 2, 3])).tolist() == [True, True, False]
    assert instrument("nprs").is_recovered(0) is True
    assert instrument("nprs").is_recovered(1) is False
    with pytest.raises(ValueError, match="recovery"):
        instrument("odi").is_recovered(5)


def _form(client: str, scores: dict[str, int], date: str = "2024-03-05") -> pd.DataFrame:
    return pd.DataFrame({"client_id": client, "date": date, "instrument": list(scores), "score": list(scores.values())})


def test_odi_scoring_complete_and_missing_sections() -> None:
    full = _form("a", {f"odi_q{i}": s for i, s in enumerate([3, 3, 2, 2, 2, 1, 1, 1, 1, 0], start=1)})  # 16 of 50
    one_missing = _form("b", {f"odi_q{i}": s for i, s in enumerate([3, 3, 2, 2, 2, 1, 1, 1, 1], start=1)})  # 16 of 45
    two_missing = _form("c", {f"odi_q{i}": 4 for i in range(1, 9)})  # 32 of 40
    scored = score_odi(pd.concat([full, one_missing, two_missing])).set_index("client_id")
    assert scored.loc["a", "score"] == pytest.approx(32.0)
    assert scored.loc["b", "score"] == pytest.approx(16 / 45 * 100)
    assert np.isnan(scored.loc["c", "score"]) and not scored.loc["c", "scorable"]
    assert scored["answered"].tolist() == [10, 9, 8]
    relaxed = score_odi(two_missing, max_missing=2)
    assert relaxed["score"].item() == pytest.approx(80.0)
    strict = score_odi(one_missing, max_missing=0)
    assert not strict["scorable"].item()


def test_odi_forms_are_per_client_and_day() -> None:
    items = pd.concat(
        [
            _form("a", {f"odi_q{i}": 1 for i in range(1, 11)}, "2024-03-05 09:00"),
            _form("a", {f"odi_q{i}": 5 for i in range(1, 11)}, "2024-03-12"),
        ]
    )
    scored = score_odi(items)
    assert scored["score"].tolist() == [20.0, 100.0]
    assert scored["date"].tolist() == [pd.Timestamp("2024-03-05"), pd.Timestamp("2024-03-12")]


def test_odi_input_errors() -> None:
    with pytest.raises(DataError, match="twice"):
        score_odi(pd.concat([_form("a", {"odi_q1": 1}), _form("a", {"odi_q1": 2})]))
    with pytest.raises(DataError, match="whole number 0-5"):
        score_odi(_form("a", {"odi_q1": 6}))
    with pytest.raises(DataError, match="not an item of odi"):
        score_odi(_form("a", {"rmdq_q1": 1}))
    with pytest.raises(ValueError, match="max_missing"):
        score_odi(_form("a", {"odi_q1": 1}), max_missing=10)


def test_rmdq_counts_ticked_statements_and_absent_items_score_zero() -> None:
    ticked = {f"rmdq_q{i}": 1 for i in (1, 4, 9)}
    unticked = {f"rmdq_q{i}": 0 for i in (2, 3)}
    scored = score_rmdq(_form("a", ticked | unticked))
    assert scored[["score", "answered", "scorable"]].iloc[0].tolist() == [3.0, 5, True]
    with pytest.raises(DataError, match="whole number 0-1"):
        score_rmdq(_form("a", {"rmdq_q1": 2}))


def test_item_names() -> None:
    assert len(ITEMS) == 34
    assert ITEMS["odi_q10"].item_max == 5
    assert ITEMS["rmdq_q24"].item_max == 1
