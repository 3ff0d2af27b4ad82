"""The data contract (shared/CONTRACT.md) as constants: tables, columns, modalities.

A leaf module: it imports nothing from the package.
"""

from __future__ import annotations

MODALITIES: tuple[str, ...] = ("core", "back", "other_strength", "flexibility", "mixed", "other")
"""Exercise modalities. ``core`` and ``back`` are strength; ``mixed`` is yoga/pilates."""

STRENGTH_MODALITIES: tuple[str, ...] = ("core", "back")
"""Modalities counted in ``strength_sets`` and ``volume_load_kg``."""

TABLES: dict[str, bool] = {"sessions": True, "outcomes": True, "clients": False, "catalog": False}
"""Table name -> required."""

REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "sessions": ("client_id", "date", "exercise"),
    "outcomes": ("client_id", "date", "instrument", "score"),
    "clients": ("client_id",),
    "catalog": ("exercise", "modality"),
}

OPTIONAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "sessions": ("sets", "reps", "load", "load_unit", "duration_s", "rpe", "modality"),
    "outcomes": (),
    "clients": ("program", "studio", "start_date", "age", "sex"),
    "catalog": (),
}

IDENTIFYING_COLUMNS: frozenset[str] = frozenset(
    {"name", "first_name", "last_name", "email", "phone", "address", "dob", "date_of_birth"}
)
"""Columns that identify a person: dropped at load, never seen again."""

LB_TO_KG: float = 0.45359237
"""Exact international avoirdupois pound, in kilograms."""

FIT_TERMS: tuple[str, ...] = (
    "week",
    "strength_sets_within",
    "flexibility_min_within",
    "strength_x_flexibility_within",
    "strength_sets_between",
    "flexibility_min_between",
)
"""The fixed terms of ``backpain fit`` besides ``Intercept``, in order (CONTRACT section 4)."""

LEDGER_COLUMNS: tuple[str, ...] = ("table", "row", "column", "value", "reason")
"""Columns of the rejected ledger. ``row`` is the spreadsheet row (header = 1)."""
