"""Hevy (hevy.com) CSV exports.

Header: ``title,start_time,end_time,description,exercise_title,superset_id,
exercise_notes,set_index,set_type,weight_kg,reps,distance_km,
duration_seconds,rpe``; exports in imperial units have ``weight_lbs`` (or
``weight_lb``) and ``distance_miles`` instead. ``start_time`` is the
workout's start in the phone's locale (``8 Apr 2026, 16:50`` in English;
other languages translate the month; see :mod:`.dates`). ``set_type`` is
``normal``, ``warmup``, ``dropset`` or ``failure``; ``duration_seconds``
holds timed sets and cardio.
"""

from __future__ import annotations

import pandas as pd

from backpain_analysis.importers.sets import AppRows, ExportFormat, first_column, set_kind

_WEIGHTS = {"weight_kg": "kg", "weight_lbs": "lb", "weight_lb": "lb"}
_DISTANCES = {"distance_km": "km", "distance_miles": "mi", "distance_mi": "mi", "distance_meters": "m", "distance_m": "m"}


def _to_rows(frame: pd.DataFrame) -> AppRows:
    columns = list(frame.columns)
    weight = first_column(columns, tuple(_WEIGHTS))
    distance = first_column(columns, tuple(_DISTANCES))
    blank = pd.Series("", index=frame.index, dtype=object)
    kinds = frame["set_type"].map(set_kind)
    known = kinds.notna()
    raw = pd.DataFrame(
        {
            "start": frame["start_time"],
            "exercise": frame["exercise_title"],
            "set_type": kinds.fillna("normal"),
            "marker": frame["set_type"],
            "skip": ("set_type " + frame["set_type"].map(repr) + " is not normal, warmup, dropset or failure").where(~known, ""),
            "reps": frame["reps"],
            "weight": frame[weight],
            "load_unit": pd.Series(_WEIGHTS[weight], index=frame.index, dtype=object),
            "seconds": frame["duration_seconds"] if "duration_seconds" in columns else blank,
            "distance": frame[distance] if distance else blank,
            "distance_unit": pd.Series(_DISTANCES[distance] if distance else "", index=frame.index, dtype=object),
            "rpe": frame["rpe"] if "rpe" in columns else blank,
        },
        index=frame.index,
    )
    sources = {
        "start": "start_time",
        "exercise": "exercise_title",
        "set_type": "set_type",
        "reps": "reps",
        "weight": weight,
        "seconds": "duration_seconds",
        "distance": distance or "distance",
        "rpe": "rpe",
    }
    return AppRows(raw, sources, weight)


FORMAT = ExportFormat(
    name="hevy",
    label="Hevy",
    example=(
        "title,start_time,end_time,description,exercise_title,superset_id,exercise_notes,"
        "set_index,set_type,weight_kg,reps,distance_km,duration_seconds,rpe"
    ),
    required=(("start_time",), ("exercise_title",), ("set_type",), ("reps",), tuple(_WEIGHTS)),
    to_rows=_to_rows,
)
