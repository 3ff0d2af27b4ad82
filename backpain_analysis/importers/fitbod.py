"""Fitbod (fitbod.me) CSV exports.

Current header: ``Date,Exercise,Reps,Weight(kg),Duration(s),Distance(m),Incline,
Resistance,isWarmup,Note,multiplier``; the database extract Fitbod support
sends has ``date,exercise_name,Reps,weight_kg,duration_seconds,
distance_meters,Incline,Resistance,isWarmup``. Weights are always kilograms
(converted from pounds with many decimals when the user logs pounds), the
date is each set's own time with the phone's offset (``2021-01-12 08:13:50
+0000``), so sets are grouped into sessions by time (see
:func:`.sets.session_starts`). ``isWarmup`` is ``true`` or ``false``.
``Incline`` and ``Resistance`` (cardio machine settings) and ``multiplier``
(a display factor for two-dumbbell exercises; loads stay per dumbbell as
Strong and Hevy log them) are not imported.

The app's older layout (:data:`OLDER`) has one row per exercise and day with
a ``Sets`` column and no unit: ``Date,Exercise,Sets,Reps,Weight,...``; the
row keeps its number of sets, the weight unit is ``--unit`` (else kg, with a
note) unless the weight header states it (``Weight (lbs)``), and a
``Duration``/``Distance`` column is read when present.
"""

from __future__ import annotations

import pandas as pd

from backpain_analysis.importers.sets import AppRows, ExportFormat, first_column

_EXERCISES = ("exercise", "exercise_name", "exercise name")
_WEIGHTS = ("weight(kg)", "weight_kg", "weight (kg)")
_SECONDS = ("duration(s)", "duration_seconds", "duration (s)")
_DISTANCES = ("distance(m)", "distance_meters", "distance (m)")
_WARMUP = ("iswarmup", "is_warmup")
_FLAGS = {"true": "warmup", "1": "warmup", "yes": "warmup", "false": "normal", "0": "normal", "no": "normal", "": "normal"}


def _to_rows(frame: pd.DataFrame) -> AppRows:
    columns = list(frame.columns)
    exercise, weight, warmup = (first_column(columns, s) for s in (_EXERCISES, _WEIGHTS, _WARMUP))
    seconds, distance = first_column(columns, _SECONDS), first_column(columns, _DISTANCES)
    blank = pd.Series("", index=frame.index, dtype=object)
    flag = frame[warmup].str.strip().str.lower()
    known = flag.isin(list(_FLAGS))
    raw = pd.DataFrame(
        {
            "start": frame["date"],
            "exercise": frame[exercise],
            "set_type": flag.map(_FLAGS).fillna("normal"),
            "marker": frame[warmup],
            "skip": ("isWarmup " + frame[warmup].map(repr) + " is not true or false").where(~known, ""),
            "reps": frame["reps"],
            "weight": frame[weight],
            "load_unit": pd.Series("kg", index=frame.index, dtype=object),
            "seconds": frame[seconds] if seconds else blank,
            "distance": frame[distance] if distance else blank,
            "distance_unit": pd.Series("m", index=frame.index, dtype=object),
            "rpe": blank,
        },
        index=frame.index,
    )
    sources = {
        "start": "Date",
        "exercise": "Exercise",
        "set_type": "isWarmup",
        "reps": "Reps",
        "weight": "Weight(kg)",
        "seconds": "Duration(s)",
        "distance": "Distance(m)",
    }
    return AppRows(raw, sources, "Weight(kg)")


FORMAT = ExportFormat(
    name="fitbod",
    label="Fitbod",
    example="Date,Exercise,Reps,Weight(kg),Duration(s),Distance(m),Incline,Resistance,isWarmup,Note,multiplier",
    required=(("date",), _EXERCISES, ("reps",), _WEIGHTS, _WARMUP),
    to_rows=_to_rows,
    timed_sets=True,
)


_OLDER_WEIGHTS = ("weight", "weight (kg)", "weight(kg)", "weight (lbs)", "weight(lbs)", "weight (lb)", "weight(lb)")
_HEADER_UNIT = {"kg": "kg", "lbs": "lb", "lb": "lb"}


def _older_rows(frame: pd.DataFrame) -> AppRows:
    columns = list(frame.columns)
    weight = first_column(columns, _OLDER_WEIGHTS)
    unit = next((u for u in _HEADER_UNIT if weight.endswith(f"({u})")), None)
    seconds = first_column(columns, (*_SECONDS, "duration", "seconds"))
    distance = first_column(columns, (*_DISTANCES, "distance"))
    warmup = first_column(columns, _WARMUP)
    blank = pd.Series("", index=frame.index, dtype=object)
    flag = frame[warmup].str.strip().str.lower() if warmup else blank
    known = flag.isin(list(_FLAGS))
    raw = pd.DataFrame(
        {
            "start": frame["date"],
            "exercise": frame[first_column(columns, _EXERCISES)],
            "set_type": flag.map(_FLAGS).fillna("normal"),
            "marker": frame[warmup] if warmup else blank,
            "skip": ("isWarmup " + flag.map(repr) + " is not true or false").where(~known, ""),
            "reps": frame["reps"],
            "weight": frame[weight],
            "load_unit": pd.Series(_HEADER_UNIT[unit] if unit else "", index=frame.index, dtype=object),
            "seconds": frame[seconds] if seconds else blank,
            "distance": frame[distance] if distance else blank,
            "distance_unit": pd.Series("m" if distance and distance.endswith("(m)") else "", index=frame.index, dtype=object),
            "rpe": blank,
            "sets": frame["sets"],
        },
        index=frame.index,
    )
    sources = {"start": "Date", "exercise": "Exercise", "set_type": "isWarmup", "reps": "Reps", "weight": "Weight", "sets": "Sets"}
    return AppRows(raw, sources, weight if unit else None)


OLDER = ExportFormat(
    name="fitbod",
    label="Fitbod (older layout)",
    example="Date,Exercise,Sets,Reps,Weight",
    required=(("date",), _EXERCISES, ("sets",), ("reps",), _OLDER_WEIGHTS),
    to_rows=_older_rows,
)
"""Fitbod's older layout: one row per exercise with a ``Sets`` column, no unit."""
