import pandas as pd
import pytest

from backpain_analysis.pseudonyms import HIDDEN, pseudonym_map, pseudonymize, pseudonymize_ledger


def test_map_numbers_sorted_distinct_keys_and_skips_missing():
    mapping = pseudonym_map(["b", "a", None, "b", pd.NA, "c"])
    assert mapping == {"a": "C001", "b": "C002", "c": "C003"}


def test_map_is_independent_of_input_order():
    keys = [f"client {i}" for i in range(20)]
    assert pseudonym_map(keys) == pseudonym_map(reversed(keys))


def test_width_grows_past_999_clients():
    mapping = pseudonym_map(range(1000))
    assert set(map(len, mapping.values())) == {5}
    assert mapping["0"] == "C0001"


def test_keys_compared_as_text():
    assert pseudonym_map([1, "1"]) == {"1": "C001"}


def test_pseudonymize_uses_one_mapping_for_every_table():
    sessions = pd.DataFrame({"client_id": ["zoe", "adam", "zoe"], "sets": [1, 2, 3]})
    outcomes = pd.DataFrame({"client_id": ["zoe"], "score": [4.0]})
    mapping = pseudonym_map(pd.concat([sessions["client_id"], outcomes["client_id"]]))
    assert list(pseudonymize(sessions, mapping)["client_id"]) == ["C002", "C001", "C002"]
    assert list(pseudonymize(outcomes, mapping)["client_id"]) == ["C002"]
    assert list(sessions["client_id"]) == ["zoe", "adam", "zoe"]  # input untouched


def test_pseudonymize_refuses_a_key_outside_the_mapping():
    with pytest.raises(KeyError, match="no pseudonym"):
        pseudonymize(pd.DataFrame({"client_id": ["x", "y"]}), {"x": "C001"})


def test_ledger_keys_are_hidden_in_values_and_reasons():
    ledger = pd.DataFrame(
        {
            "table": ["sessions", "clients", "outcomes", "clients", "clients"],
            "row": [3, 4, 5, 6, 7],
            "column": ["date", "client_id", "instrument", "client_id", "client_id"],
            "value": ["2024-01-01", "anna", "odi_q1", "ghost", ""],
            "reason": [
                "date 2024-01-01 is before client anna's start_date 2024-02-01",
                "client_id 'anna' is already on row 2",
                "the odi form of client bob smith on 2024-01-03 has 3 of 10 sections answered",
                "client_id 'ghost' is already on row 2",
                "client_id is blank",
            ],
        }
    )
    hidden = pseudonymize_ledger(ledger, {"anna": "C001", "bob smith": "C002"})
    assert list(hidden["value"]) == ["2024-01-01", "C001", "odi_q1", HIDDEN, ""]
    assert list(hidden["reason"]) == [
        "date 2024-01-01 is before client C001's start_date 2024-02-01",
        "client_id 'C001' is already on row 2",
        "the odi form of client C002 on 2024-01-03 has 3 of 10 sections answered",
        f"client_id '{HIDDEN}' is already on row 2",
        "client_id is blank",
    ]
    assert ledger.loc[1, "value"] == "anna"  # input untouched


def test_a_loaded_dataset_is_pseudonymised_on_its_codes():
    from pathlib import Path

    from backpain_analysis.loading import load
    from backpain_analysis.panel import weekly_panel
    from backpain_analysis.pseudonyms import pseudonymize_dataset

    dataset = load(Path(__file__).resolve().parents[1] / "data" / "sample")
    hidden = pseudonymize_dataset(dataset)
    # the sessions DataFrame was never built, on either dataset: the keys were renamed on the codes
    assert dataset._sessions is None and hidden._sessions is None
    mapping = pseudonym_map(dataset.client_ids())
    assert set(hidden.session_table.columns["client_id"].used(hidden.session_table.accepted)) <= set(mapping.values())
    expected = pseudonymize(weekly_panel(dataset), mapping)
    pd.testing.assert_frame_equal(weekly_panel(hidden), expected, check_dtype=False)
    assert (hidden.sessions["client_id"] == dataset.sessions["client_id"].map(mapping)).all()
    assert set(hidden.outcomes["client_id"]) <= set(mapping.values()) and set(hidden.clients["client_id"]) <= set(mapping.values())
