"""Derive backpain_analysis/data/catalog_reference.csv from the public-domain free-exercise-db.

Source: github.com/yuhonas/free-exercise-db (The Unlicense, public domain),
``dist/exercises.json`` at commit acd61f751fe15d618862ee3084f27e839222a28f,
as kept in ``free-exercise-db.csv`` (name, category, equipment, force,
mechanic, level, primary and secondary muscles).

Each name's modality, first rule that applies:

1. category ``stretching`` -> flexibility; ``cardio`` -> other;
2. the project's own rules read the name (built-in catalog entries, movement
   rules, back-pain rules: :func:`backpain_analysis.catalog.explain_exercise`
   without this file) -> their modality, so the back-pain literature wins over
   the muscles (a barbell glute bridge is core, a good morning back);
3. the primary muscles: abdominals -> core; lats, middle back, lower back ->
   back; anything else -> other_strength.

Usage: python scripts/derive_catalog_reference.py PATH/free-exercise-db.csv
(writes the package data file; tests/test_catalog_reference.py checks it is
what this script gives).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from backpain_analysis import catalog

SOURCE = "free-exercise-db (Unlicense) yuhonas/free-exercise-db@acd61f7"
CACHES = (catalog._phrases, catalog._vocabulary, catalog._builtin_placement, catalog._known_names)
BACK_MUSCLES = frozenset({"lats", "middle back", "lower back"})


def derive(reference: pd.DataFrame) -> pd.DataFrame:
    """Rows of catalog_reference.csv (exercise, modality, source, note) for the database's rows."""
    saved = catalog.REFERENCE_FILE
    catalog.REFERENCE_FILE = "absent while deriving.csv"
    for cached in CACHES:
        cached.cache_clear()
    try:
        rows = [_row(r) for r in reference.fillna("").itertuples(index=False)]
    finally:
        catalog.REFERENCE_FILE = saved
        for cached in CACHES:
            cached.cache_clear()
    return pd.DataFrame(rows, columns=list(catalog.CATALOG_COLUMNS))


def _by_muscles(primary: str) -> str:
    muscles = {m.strip() for m in primary.split(";") if m.strip()}
    if "abdominals" in muscles:
        return "core"
    return "back" if muscles & BACK_MUSCLES else "other_strength"


def _row(row: tuple) -> tuple[str, str, str, str]:
    name, category, primary = row.name, row.category, row.primary_muscles
    if category in ("stretching", "cardio"):
        modality = "flexibility" if category == "stretching" else "other"
        return name, modality, SOURCE, f"category {category}"
    muscles = _by_muscles(primary)
    placed = catalog.explain_exercise(name)
    if placed.modality is not None:
        differs = f"; muscles ({primary}) would say {muscles}" if placed.modality != muscles else ""
        return name, placed.modality, SOURCE, f"project rule: {placed.rule}{differs}"
    return name, muscles, SOURCE, f"primary muscles: {primary}"


def main(path: str) -> None:
    out = Path(catalog.__file__).parent / "data" / catalog.REFERENCE_FILE
    derived = derive(pd.read_csv(path, dtype=str, keep_default_na=False))
    derived.to_csv(out, index=False, lineterminator="\n")
    print(f"{len(derived)} names written to {out}; placed by project rules: {derived['note'].str.startswith('project rule').sum()}")


if __name__ == "__main__":
    main(sys.argv[1])
