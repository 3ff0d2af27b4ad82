"""Issue 10: one owner of direction, one lag check, outcome names normalised in the library."""

from __future__ import annotations

import numpy as np
import pytest

from backpain_analysis.dose_response import fit_dose_response
from backpain_analysis.errors import DataError
from backpain_analysis.figures.style import improvement_sign
from backpain_analysis.instruments import CUSTOM_HIGHER_IS_BETTER, instrument, outcome_instrument
from backpain_analysis.panel import lagged
from backpain_analysis.programs import compare_programs
from backpain_analysis.responders import client_changes
from backpain_analysis.sensitivity import sensitivity_table
from backpain_analysis.simulate import simulate
from backpain_analysis.volume_model import fit_volume_model, volume_design


@pytest.fixture(scope="module")
def panel():
    weekly = simulate(60, 10, seed=21, bad_rows=False).weekly
    return weekly.assign(grip=weekly["nprs"])  # a custom outcome: the same numbers under a name nobody built in


def test_custom_outcome_default_and_declaration() -> None:
    default = outcome_instrument(" Grip ")
    assert (default.name, default.higher_is_better, default.builtin, default.declared) == ("grip", CUSTOM_HIGHER_IS_BETTER, False, False)
    assert default.direction == "lower is better (default for a custom outcome)"
    declared = instrument("Grip", higher_is_better=True, mcid_abs=3)
    assert (declared.name, declared.sign, declared.mcid_abs, declared.direction) == ("grip", 1.0, 3.0, "higher is better")
    assert outcome_instrument(declared) is declared
    assert outcome_instrument("PSFS").sign == 1.0 and outcome_instrument("nprs").sign == -1.0
    with pytest.raises(ValueError, match="contradicts"):
        instrument("nprs", higher_is_better=True)
    # the figures' fallback for an undeclared custom outcome agrees with the library's default
    assert improvement_sign("grip") == default.sign


@pytest.mark.parametrize("declared", [False, True])
def test_custom_outcome_direction_agrees_everywhere(panel, declared: bool) -> None:
    """Every result that presents benefit signs it with the instrument's direction (fails on the old
    code, where the volume model took a custom outcome as higher-is-better and the others refused)."""
    outcome = instrument("grip", higher_is_better=True, mcid_abs=2) if declared else "grip"
    sign = 1.0 if declared else -1.0
    tables = {
        "volume": fit_volume_model(panel, outcome).clinical_effects(),
        "dose": fit_dose_response(panel, outcome, n_draws=200).curves,
        "programs": compare_programs(panel, outcome, case_mix=None).contrasts,
        "sensitivity": sensitivity_table(panel, outcome, lags=()),
    }
    for name, table in tables.items():
        np.testing.assert_allclose(table["improvement"], sign * table["estimate"], err_msg=name)
        assert (table["improvement_low"] <= table["improvement"] + 1e-12).all(), name
        assert (table["improvement"] <= table["improvement_high"] + 1e-12).all(), name
        assert table.attrs["instrument"] == "grip", name
        assert table.attrs["direction"].startswith("higher" if declared else "lower"), name
    if declared:
        changes = client_changes(panel, outcome)
        np.testing.assert_allclose(changes["improvement"], changes["change"])
    else:
        with pytest.raises(DataError, match="has no minimal important change"):
            client_changes(panel, outcome)


def test_outcome_names_are_normalised_in_the_library(panel) -> None:
    upper = fit_volume_model(panel, "NPRS")
    lower = fit_volume_model(panel, "nprs")
    assert upper.outcome == "nprs" and upper.instrument.name == "nprs"
    np.testing.assert_allclose(upper.params["estimate"], lower.params["estimate"])


@pytest.mark.parametrize(
    "call",
    [
        lambda p: volume_design(p, "nprs", -1),
        lambda p: fit_volume_model(p, "nprs", lag=-1),
        lambda p: lagged(p, ["strength_sets"], lag=-1),
        lambda p: fit_dose_response(p, "nprs", lag=-1),
        lambda p: sensitivity_table(p, "nprs", lags=(0, -1)),
    ],
    ids=["volume_design", "fit_volume_model", "lagged", "fit_dose_response", "sensitivity_table"],
)
def test_negative_lag_refused_everywhere_with_one_message(panel, call) -> None:
    with pytest.raises(DataError, match=r"^(lag|lags) must be a whole number of weeks, 0 or more \(a negative lag would relate outcomes to later training\), not -1$") as caught:
        call(panel)
    assert isinstance(caught.value, ValueError)
    assert "--" not in str(caught.value)
