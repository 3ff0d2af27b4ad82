"""Published evidence our clients are set beside: a data-backed leaf (``data/evidence.csv``).

Each row is one published effect with its source: ``name``, ``outcome``,
``scale``, ``estimate`` (improvement, positive = better, in the scale's
points), ``conf_low``, ``conf_high`` (95 % CI), ``trials``, ``label`` (for
figures) and ``source`` (the full citation and what was extracted).
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

PAIN_TO_100: dict[str, float] = {"nprs": 10.0, "vas": 1.0}
"""Factor taking a pain instrument onto a 0-100 scale (NPRS 0-10 x 10; VAS is in mm, 0-100)."""

_FILE = Path(__file__).parent / "data" / "evidence.csv"


@cache
def _rows() -> dict[str, dict[str, object]]:
    with open(_FILE, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    numbers = ("estimate", "conf_low", "conf_high")
    return {r["name"]: {**r, **{k: float(r[k]) for k in numbers}, "trials": int(r["trials"])} for r in rows}


def published_effect(name: str = "hayden_2021") -> dict[str, object]:
    """One row of ``data/evidence.csv`` as a dict (numbers as numbers); KeyError naming the known ones."""
    rows = _rows()
    if name not in rows:
        raise KeyError(f"no published effect {name!r}; known: {', '.join(rows)}")
    return dict(rows[name])


HAYDEN_2021: dict[str, object] = published_effect("hayden_2021")
"""The Cochrane benchmark: improvement in pain (0-100 points) of exercise over no treatment, usual care or placebo."""
