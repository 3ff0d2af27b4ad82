"""Write the simulated designs that fit_volume_lme4.R fits (run once; outputs committed).

    ../../../.venv/bin/python make_designs.py && Rscript fit_volume_lme4.R

Each design is ``volume_design(weekly_panel(load(study)), outcome, lag=1)`` of
a study written by ``backpain simulate`` and loaded back, so the reference
covers the whole path from contract files to the design.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from backpain_analysis.loading import load
from backpain_analysis.panel import weekly_panel
from backpain_analysis.simulate import simulate, write_study
from backpain_analysis.volume_model import CORE_TERMS, volume_design

HERE = Path(__file__).parent
DESIGNS = {
    # name: (clients, weeks, seed, outcome, simulate options)
    "nprs_150x16": (150, 16, 7, "nprs", {}),
    "odi_150x16": (150, 16, 8, "odi", {}),
    "nprs_200x16_reverse": (200, 16, 9, "nprs", {"reverse_causation": True}),
}


def main() -> None:
    for name, (clients, weeks, seed, outcome, options) in DESIGNS.items():
        study = simulate(clients, weeks, seed, **options)
        with tempfile.TemporaryDirectory() as tmp:
            write_study(study, tmp)
            design = volume_design(weekly_panel(load(tmp)), outcome, lag=1)
        design[["client_id", outcome, *CORE_TERMS]].to_csv(HERE / f"design_{name}.csv", index=False)
        (HERE / f"design_{name}.outcome").write_text(outcome + "\n")


if __name__ == "__main__":
    main()
