"""Any other app's CSV, read through a column mapping: ``--columns date=...,exercise=...,reps=...``.

Apps such as FitNotes and JEFIT write one row per set (or per exercise with a
sets column) under their own headers. A mapping names, for each role, the
export's header (case and surrounding spaces ignored):

``date`` (required)
    The day or start time of the session.
``exercise`` (required)
    The exercise name.
``reps``, ``seconds``, ``distance`` (at least one)
    Reps; a duration in seconds or as a clock (``0:09:21``); a distance.
``weight``
    The load; its unit is a ``unit`` column's value per row, else a unit in
    the weight header's brackets (``Weight (lbs)``) or at its end
    (``weight_kg``, ``Weight lbs``), else ``--unit``, else kg.
``unit``, ``distance_unit``
    Per-row unit columns (``kgs``/``lbs``; ``km``/``mi``/``m``).
``sets``
    Sets on the row (blank = 1), for apps that log one row per exercise.
``rpe``
    Effort, 0-10.
``category``
    The app's own exercise category (FitNotes: Abs, Back, Chest, Legs,
    Cardio, ...): it places a set whose name neither the studio's catalog nor
    the built-in catalog can place (:data:`APP_CATEGORIES`), and the summary
    lists those names for review.
``set_type``
    Marks warm-ups and other set kinds: ``W``/``warmup``/``warm-up``/``true``/
    ``1``/``yes`` are warm-ups, ``D``/``drop``/``dropset`` drop sets,
    ``F``/``failure`` sets to failure; blank, ``normal``, ``regular``,
    ``working``, ``false``, ``0`` and ``no`` normal sets, in any case, with
    underscores, hyphens or spaces and a ``set`` suffix (``NORMAL_SET``,
    ``Drop Set``, ``WARMUP_SET``); anything else leaves the row out with its
    reason.
``status``
    Whether a set planned in the app was done: ``done``, ``completed``,
    ``finished``, ``true``, ``yes``, ``1`` and blank are sets done;
    ``NotStarted``, ``not started``, ``skipped``, ``planned``, ``not done``,
    ``incomplete``, ``false``, ``no`` and ``0`` are sets planned and never
    done (the ledger lists them: their planned weight is not training);
    anything else leaves the row out with its reason.

Example (a FitNotes export)::

    backpain import FitNotes_Export.csv --client-id C017 --out data/studio \\
        --columns "date=Date,exercise=Exercise,category=Category,reps=Reps,weight=Weight,unit=Weight Unit,distance=Distance,distance_unit=Distance Unit,seconds=Time"

Each row's date is its session (rows of one day are one session unless the
date carries a time).
"""

from __future__ import annotations

import re

import pandas as pd

from backpain_analysis.errors import DataError
from backpain_analysis.importers.sets import AppRows, ExportFormat, set_kind
from backpain_analysis.reading import normalize_header

ROLES: tuple[str, ...] = (
    "date", "exercise", "reps", "weight", "unit", "sets", "seconds", "distance", "distance_unit", "rpe", "set_type", "category",
    "status",
)  # fmt: skip
"""Roles a ``--columns`` mapping may name."""

_RAW = {"date": "start", "unit": "load_unit", "seconds": "seconds", "set_type": "marker"}
_DONE = frozenset({"", "done", "completed", "complete", "finished", "true", "yes", "1"})
_NOT_DONE = frozenset({"notstarted", "not started", "not_started", "skipped", "skip", "planned", "not done", "incomplete", "false", "no", "0"})
_HEADER_UNIT = re.compile(r"(?:[(\[]\s*(kgs?|lbs?)\s*[)\]]|[_\s-](kgs?|lbs?)\s*$)", re.IGNORECASE)


def parse_columns(spec: str) -> dict[str, str]:
    """``date=Date,exercise=Exercise,...`` -> ``{role: header}``.

    Raises :class:`DataError` for a malformed pair, an unknown or repeated
    role, or a mapping without ``date``, ``exercise`` and one of ``reps``,
    ``seconds``, ``distance``.
    """
    mapping: dict[str, str] = {}
    for pair in (p for p in spec.split(",") if p.strip()):
        role, equals, header = pair.partition("=")
        role = role.strip().lower()
        if not equals or not header.strip():
            raise DataError(f"--columns: {pair.strip()!r} is not ROLE=HEADER (e.g. date=Date)")
        if role not in ROLES:
            raise DataError(f"--columns: {role!r} is not one of {', '.join(ROLES)}")
        if role in mapping:
            raise DataError(f"--columns: {role!r} is given twice")
        mapping[role] = header.strip()
    missing = [r for r in ("date", "exercise") if r not in mapping]
    if missing:
        raise DataError(f"--columns must name the {missing[0]} column (e.g. --columns date=Date,exercise=Exercise,reps=Reps)")
    if not any(r in mapping for r in ("reps", "seconds", "distance")):
        raise DataError("--columns must name at least one of reps, seconds, distance: the columns that say what was done")
    return mapping


def mapped_format(mapping: dict[str, str]) -> ExportFormat:
    """The export format a ``--columns`` mapping describes (name ``columns``)."""
    wanted = {role: normalize_header(header) for role, header in mapping.items()}

    def to_rows(frame: pd.DataFrame) -> AppRows:
        blank = pd.Series("", index=frame.index, dtype=object)
        raw = pd.DataFrame({_RAW.get(role, role): frame[column].astype(str) for role, column in wanted.items()}, index=frame.index)
        marker = raw["marker"] if "marker" in raw else blank
        kinds = marker.map(set_kind)
        raw["set_type"] = kinds.fillna("normal")
        raw["marker"] = marker
        raw["skip"] = ("set type " + marker.map(repr) + " is not normal, warm-up, drop or failure").where(kinds.isna(), "")
        if "status" in raw:
            reasons = _status_reasons(raw["status"], mapping["status"])
            by_status = (raw["skip"] == "") & (reasons != "")
            raw["skip"] = raw["skip"].mask(by_status, reasons)
            raw["skip_column"] = pd.Series("", index=raw.index).mask(by_status, mapping["status"])
            raw["skip_value"] = raw["status"].str.strip().where(by_status, "")
        stated = None
        if "load_unit" not in raw:
            found = _HEADER_UNIT.search(mapping.get("weight", ""))
            raw["load_unit"] = (found.group(1) or found.group(2)) if found else ""
            stated = mapping["weight"] if found else None
        else:
            stated = mapping["unit"]
        sources = {_RAW.get(role, role): header for role, header in mapping.items()}
        sources["load_unit"] = mapping.get("unit", mapping.get("weight", "weight"))
        sources["set_type"] = mapping.get("set_type", "")
        return AppRows(raw, sources, stated)

    required = tuple((column,) for column in wanted.values())
    example = ",".join(f"{role}={header}" for role, header in mapping.items())
    return ExportFormat(name="columns", label="mapped CSV", example=example, required=required, to_rows=to_rows)


def _status_reasons(status: pd.Series, header: str) -> pd.Series:
    """The ledger reason of each row's status (``""`` for a set done)."""
    word = status.str.strip().str.casefold()
    planned = f"planned set not done ({header} " + status.str.strip().map(repr) + "): not training"
    unknown = f"{header} " + status.map(repr) + " is not a done or a not-done status"
    return pd.Series("", index=status.index).mask(word.isin(_NOT_DONE), planned).mask(~word.isin(_DONE | _NOT_DONE), unknown)


def fitnotes_mapping(columns: list[str]) -> dict[str, str] | None:
    """The ``--columns`` mapping of a FitNotes spreadsheet export, from its (lower-cased) header, else ``None``.

    FitNotes (Android) writes ``Date,Exercise,Category,Weight (kgs),Reps,Distance,Distance Unit,Time[,Comment]``
    (or ``Weight (lbs)``, or ``Weight,Weight Unit``); its ``Category`` column (Chest, Back, Abs, ...)
    tells it apart from the other apps' headers. The mapping is the one documented for FitNotes.
    """
    present = set(columns)
    if not {"date", "exercise", "category", "reps"} <= present:
        return None
    mapping = {"date": "date", "exercise": "exercise", "reps": "reps", "category": "category"}
    weight = next((c for c in columns if c.startswith("weight") and c != "weight unit"), None)
    optional = {"weight": weight, "unit": "weight unit", "distance": "distance", "distance_unit": "distance unit", "seconds": "time"}
    mapping.update({role: header for role, header in optional.items() if header in present})
    return mapping


APP_CATEGORIES: dict[str, str] = {
    "abs": "core",
    "core": "core",
    "back": "back",
    "chest": "other_strength",
    "shoulders": "other_strength",
    "biceps": "other_strength",
    "triceps": "other_strength",
    "forearms": "other_strength",
    "legs": "other_strength",
    "glutes": "other_strength",
    "calves": "other_strength",
    "cardio": "other",
    "stretching": "flexibility",
    "flexibility": "flexibility",
    "mobility": "flexibility",
}
"""An app's exercise category (lower case; FitNotes' built-in categories and common custom ones) -> modality.

Used only for a name that neither the studio's catalog nor the built-in catalog places: the app's
own grouping is coarser than the catalog (FitNotes files face pulls under Shoulders and glute bridges
under Legs, where the catalog says back and core), so it never overrides a placement. A category not
listed here places nothing."""


def category_modalities(categories: pd.Series) -> pd.Series:
    """The modality each app category gives (:data:`APP_CATEGORIES`), ``""`` where it gives none."""
    return categories.astype(str).str.strip().str.lower().map(APP_CATEGORIES).fillna("")
