"""Importers: workout-app exports and studio outcome sheets -> contract tables.

- :func:`import_export` / :func:`read_export`: one client's Strong, Hevy or
  Fitbod export -> ``sessions.csv`` rows (:mod:`.apps`, the formats in
  :mod:`.strong`, :mod:`.hevy`, :mod:`.fitbod`, shared rules in :mod:`.sets`).
- :func:`import_outcome_sheet` / :func:`read_outcome_sheet`: a studio's
  visit-per-row spreadsheet -> ``outcomes.csv`` rows (:mod:`.outcome_sheet`).

Both write idempotently and atomically (:mod:`.store`) and list what they
did not import in ``import_ledger.csv``.
"""

from backpain_analysis.importers.apps import FORMATS, AppExport, ImportResult, detect_format, import_export, read_export

__all__ = ["FORMATS", "AppExport", "ImportResult", "detect_format", "import_export", "read_export"]
