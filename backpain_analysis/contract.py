"""The data contract (shared/CONTRACT.md) as constants: tables, columns, modalities.

A leaf module: it imports nothing from the package (two small matchers for column names included).
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
    {
        "name", "first_name", "last_name", "full_name", "surname", "given_name", "family_name", "middle_name",
        "client_name", "patient_name", "member_name", "nickname",
        "email", "e-mail", "email_address", "mail",
        "phone", "phone_number", "telephone", "tel", "mobile", "mobile_number", "mobile_phone", "cell", "cell_phone",
        "address", "street", "street_address", "city_address", "zip", "zip_code", "postcode", "postal_code",
        "dob", "date_of_birth", "birth_date", "birthdate", "birthday",
        "ssn", "social_security_number", "national_id", "passport", "insurance_number", "ip_address",
    }
)
"""Columns that identify a person, as the contract lists them and the like: dropped as a file is read, in every table.

Matched by :func:`column_key` (case, spaces, hyphens, underscores and dots
ignored), and any name containing ``email``, ``phone``, ``address``,
``birth`` or ``postcode`` is identifying too (:func:`is_identifying`).
"""

FREE_TEXT_COLUMNS: frozenset[str] = frozenset(
    {"notes", "note", "comments", "comment", "remarks", "remark", "free_text", "description", "history", "diagnosis"}
)
"""Free-text columns about a person: never carried from the ``clients`` table (names ending in one of these count too)."""

_IDENTIFYING_PARTS: tuple[str, ...] = ("email", "phone", "address", "birth", "postcode")
_FREE_TEXT_ENDINGS: tuple[str, ...] = ("notes", "note", "comments", "comment", "remarks", "remark")


def column_key(name: str) -> str:
    """A column name as identifying columns are matched: lower case, without spaces, hyphens, underscores or dots."""
    return "".join(ch for ch in str(name).lower() if not (ch.isspace() or ch in "-_."))


_IDENTIFYING_KEYS = frozenset(column_key(name) for name in IDENTIFYING_COLUMNS)
_FREE_TEXT_KEYS = frozenset(column_key(name) for name in FREE_TEXT_COLUMNS)


def is_identifying(name: str) -> bool:
    """Does a column named ``name`` identify a person (``First Name``, ``E-Mail``, ``Phone Number``, ``zip``, ...)?"""
    key = column_key(name)
    return key in _IDENTIFYING_KEYS or any(part in key for part in _IDENTIFYING_PARTS)


def is_free_text(name: str) -> bool:
    """Is a column named ``name`` free text about a person (``notes``, ``Coach comments``, ...)?"""
    key = column_key(name)
    return key in _FREE_TEXT_KEYS or key.endswith(_FREE_TEXT_ENDINGS)

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
