"""backpain_analysis: outcomes analysis for back-pain exercise programs.

Data flows one way (docs/architecture.md)::

    files -> load (ledger) -> weekly_panel -> models (fit_lmm underneath) -> figures -> report

Everything a notebook needs is importable from here; figure functions live in
:mod:`backpain_analysis.figures`.
"""

import importlib
from typing import Any

from backpain_analysis.errors import DataError

_PUBLIC: dict[str, str] = {
    "Dataset": "backpain_analysis.dataset",
    "DoseResponseResult": "backpain_analysis.dose_response",
    "Instrument": "backpain_analysis.instruments",
    "LMMResult": "backpain_analysis.mixed",
    "PowerResult": "backpain_analysis.power",
    "PowerScenario": "backpain_analysis.power",
    "ProgramComparison": "backpain_analysis.programs",
    "ProviderComparison": "backpain_analysis.provider_comparison",
    "SimulatedStudy": "backpain_analysis.simulate",
    "Summary": "backpain_analysis.summary",
    "TippingPoint": "backpain_analysis.dropout_sensitivity",
    "VolumeModelResult": "backpain_analysis.volume_model",
    "build_report": "backpain_analysis.report",
    "builtin_catalog": "backpain_analysis.catalog",
    "builtin_instruments": "backpain_analysis.instruments",
    "check_lag": "backpain_analysis.lags",
    "classify_exercises": "backpain_analysis.catalog",
    "client_changes": "backpain_analysis.responders",
    "client_trends": "backpain_analysis.responders",
    "compare_programs": "backpain_analysis.programs",
    "compare_providers": "backpain_analysis.provider_comparison",
    "effect_modification": "backpain_analysis.effect_modification",
    "explain_exercise": "backpain_analysis.catalog",
    "fit_dose_response": "backpain_analysis.dose_response",
    "fit_lmm": "backpain_analysis.mixed",
    "fit_on_cluster": "backpain_analysis.scale.fit",
    "fit_volume_model": "backpain_analysis.volume_model",
    "import_export": "backpain_analysis.importers",
    "import_outcome_sheet": "backpain_analysis.importers.outcome_sheet",
    "instrument": "backpain_analysis.instruments",
    "lagged": "backpain_analysis.panel",
    "load": "backpain_analysis.loading",
    "load_on_cluster": "backpain_analysis.scale.panel",
    "normalize_exercise_name": "backpain_analysis.catalog",
    "notebook_inputs": "backpain_analysis.notebook",
    "observed_vs_expected": "backpain_analysis.programs",
    "outcome_instrument": "backpain_analysis.instruments",
    "place_exercises": "backpain_analysis.catalog",
    "power_curve": "backpain_analysis.power",
    "pseudonym_map": "backpain_analysis.pseudonyms",
    "pseudonymize": "backpain_analysis.pseudonyms",
    "pseudonymize_dataset": "backpain_analysis.pseudonyms",
    "read_export": "backpain_analysis.importers",
    "read_outcome_sheet": "backpain_analysis.importers.outcome_sheet",
    "replicate_estimates": "backpain_analysis.simulation_study",
    "responder_rates": "backpain_analysis.responders",
    "rubin_pool": "backpain_analysis.dropout_sensitivity",
    "score_odi": "backpain_analysis.instruments",
    "score_rmdq": "backpain_analysis.instruments",
    "sensitivity_table": "backpain_analysis.sensitivity",
    "show_figure": "backpain_analysis.notebook",
    "simulate": "backpain_analysis.simulate",
    "summarise": "backpain_analysis.summary",
    "summarise_replicates": "backpain_analysis.simulation_study",
    "time_to_improvement": "backpain_analysis.responders",
    "tipping_point": "backpain_analysis.dropout_sensitivity",
    "volume_design": "backpain_analysis.volume_model",
    "weekly_panel": "backpain_analysis.panel",
    "write_study": "backpain_analysis.simulate",
}
"""Public name -> module. Imported on first use (PEP 562), so that the command
line starts without loading matplotlib, statsmodels or the notebook machinery."""

__all__ = sorted(["DataError", *_PUBLIC])
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'backpain_analysis' has no attribute {name!r}")
    value = getattr(importlib.import_module(_PUBLIC[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
