import pandas as pd
import pytest

from backpain_analysis.pseudonyms import pseudonym_map, pseudonymize


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
