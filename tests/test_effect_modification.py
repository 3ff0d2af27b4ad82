"""For whom: effect modification by client characteristics (a true difference by sex is recovered)."""

from __future__ import annotations

import pytest

from backpain_analysis.effect_modification import effect_modification



def test_true_modification_by_sex_is_recovered_and_the_table_cautions(studio_twists) -> None:
    # female clients gain an extra -0.04 NPRS per set: men's strength effect is 0.4 per 10 sets less beneficial
    panel, _ = studio_twists.program_studio(150, 12, seed=2, strength_within=-0.03, female_extra=-0.04)
    table = effect_modification(panel, "nprs", modifiers=("sex", "age_group", "coach"), programs=False)
    assert table.attrs["skipped"] == ["coach: not in the data"]
    row = table[(table["modifier"] == "sex") & (table["effect"] == "strength_sets_within")].iloc[0]
    assert (row["level"], row["versus"], row["per"]) == ("male", "female", "10 sets/week")
    assert abs(row["estimate"] - 0.4) < 3 * row["std_error"]
    assert row["improvement"] == pytest.approx(-row["estimate"])  # lower NPRS is better
    assert set(table["modifier"]) == {"sex", "age_group"}
    assert (table["p_value_holm"] >= table["p_value"]).all()
    assert "by chance" in table.attrs["caution"] and str(len(table)) in table.attrs["caution"]
