"""Strong (strong.app) CSV exports.

Known variants, all read by name (lower-cased headers):

- iOS, comma-separated: ``Date,Workout Name,Duration,Exercise Name,Set Order,
  Weight,Reps,Distance,Seconds,Notes,Workout Notes,RPE``; weights in the app's
  unit, which the file does not state (``--unit``, else kg);
- Android, often semicolon-separated with decimal commas, with per-row units:
  ``Date;Workout Name;Exercise Name;Set Order;Weight;Weight Unit;Reps;RPE;
  Distance;Distance Unit;Seconds;Notes;Workout Notes;Workout Duration``;
- newer exports with the unit in the header and rest-timer rows:
  ``Workout #,Date,Workout Name,Duration (sec),Exercise Name,Set Order,
  Weight (kg),Reps,RPE,Distance (meters),Seconds,Notes,Workout Notes``
  (``Weight (lbs)``, ``Distance (miles)``, ``Distance (km)`` likewise);
- the oldest (2016) layout, sets counted from 0 and bare units as headers:
  ``Date,Workout Name,Exercise Name,Set Order,kg,Reps,km,Seconds,Notes``
  (read through :mod:`.structure`).

``Date`` is the workout's start (every set of a workout shares it).
``Set Order`` is the set's number, or ``W`` (warm-up), ``D`` (drop set),
``F`` (set to failure); a ``Rest Timer`` row (in any language: a word with
seconds and no reps or weight) is a rest, not a set.
``Seconds`` holds a timed set (plank) or a cardio duration, ``Distance`` the
cardio distance.
"""

from __future__ import annotations

import re

import pandas as pd

from backpain_analysis.importers.sets import AppRows, ExportFormat, first_column

_WEIGHTS = ("weight", "weight (kg)", "weight (kgs)", "weight (lbs)", "weight (lb)")
_DISTANCES = ("distance", "distance (km)", "distance (meters)", "distance (m)", "distance (miles)", "distance (mi)")
_LETTERS = {"w": "warmup", "d": "drop", "f": "failure"}
_HEADER_UNIT = re.compile(r"\((\w+)\)$")
_WORD = re.compile(r"[^\W\d_]{2,}(?:[\s-][^\W\d_]+)*")  # letters only, two or more: a word such as "Ruhezeit"


def _blank_or_zero(value: str) -> bool:
    return value.strip() in ("", "0", "0.0", "0,0")


def _set_type(marker: str, reps: str, weight: str, seconds: str) -> tuple[str, str]:
    """``(set_type, skip reason)`` of a ``Set Order`` cell and its row's reps, weight and seconds.

    A rest timer is recognised by its shape, not its words, since Strong
    translates them (``Rest Timer``, ``Ruhezeit``): a set order of several
    letters on a row with seconds and no reps or weight.
    """
    text = marker.strip().lower()
    if text == "" or text.isdigit():
        return "normal", ""
    if text in _LETTERS:
        return _LETTERS[text], ""
    if text == "rest timer" or (
        _WORD.fullmatch(text) and _blank_or_zero(reps) and _blank_or_zero(weight) and not _blank_or_zero(seconds)
    ):
        return "normal", "rest timer row, not a set"
    return "normal", f"set order {marker!r} is not a set number, W, D or F"


def _to_rows(frame: pd.DataFrame) -> AppRows:
    columns = list(frame.columns)
    weight = first_column(columns, _WEIGHTS)
    distance = first_column(columns, _DISTANCES)
    blank = pd.Series("", index=frame.index, dtype=object)

    def column(name: str | None) -> pd.Series:
        return frame[name].astype(str) if name else blank

    def header_unit(name: str | None, per_row: str) -> tuple[pd.Series, str | None]:
        if per_row in columns:
            return frame[per_row].astype(str), per_row
        found = _HEADER_UNIT.search(name or "")
        return (pd.Series(found.group(1), index=frame.index, dtype=object), name) if found else (blank, None)

    load_unit, stated = header_unit(weight, "weight unit")
    distance_unit, _ = header_unit(distance, "distance unit")
    seconds = column(first_column(columns, ("seconds",)))
    kinds = pd.Series(
        [_set_type(*cells) for cells in zip(frame["set order"].astype(str), column("reps"), column(weight), seconds, strict=True)],
        index=frame.index,
        dtype=object,
    )
    raw = pd.DataFrame(
        {
            "start": frame["date"].astype(str),
            "exercise": frame["exercise name"].astype(str),
            "set_type": kinds.str[0],
            "marker": frame["set order"].astype(str),
            "skip": kinds.str[1],
            "reps": column("reps"),
            "weight": column(weight),
            "load_unit": load_unit,
            "seconds": seconds,
            "distance": column(distance),
            "distance_unit": distance_unit,
            "rpe": column(first_column(columns, ("rpe",))),
        },
        index=frame.index,
    )
    sources = {
        "start": "Date",
        "exercise": "Exercise Name",
        "set_type": "Set Order",
        "reps": "Reps",
        "weight": "Weight",
        "load_unit": "Weight Unit",
        "seconds": "Seconds",
        "distance": "Distance",
        "rpe": "RPE",
    }
    return AppRows(raw, sources, stated)


FORMAT = ExportFormat(
    name="strong",
    label="Strong",
    example="Date,Workout Name,Duration,Exercise Name,Set Order,Weight,Reps,Distance,Seconds,Notes,Workout Notes,RPE",
    required=(("date",), ("exercise name",), ("set order",), ("reps",), _WEIGHTS),
    to_rows=_to_rows,
)
