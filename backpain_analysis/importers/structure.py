"""Strong exports recognised by the order and shape of their columns, not their header words.

Strong writes its header in the phone's language (``Datum``, ``Übungsname``,
``Satzreihenfolge``...), and people rename columns. The app's column order,
though, is fixed in every layout it writes:

- iOS: ``Date, Workout Name, Duration, Exercise Name, Set Order, Weight,
  Reps, Distance, Seconds, Notes, Workout Notes, RPE``;
- Android: ``Date; Workout Name; Exercise Name; Set Order; Weight; Weight
  Unit; Reps; RPE; Distance; Distance Unit; Seconds; Notes; Workout Notes;
  Workout Duration``;
- newer: ``Workout #, Date, Workout Name, Duration (sec), Exercise Name, Set
  Order, Weight (kg), Reps, RPE, Distance (meters), Seconds, Notes, Workout
  Notes``;
- oldest (2016): ``Date, Workout Name, Exercise Name, Set Order, kg, Reps,
  km, Seconds, Notes``, set numbers counting from 0.

So the columns are found by what their values look like, in that order
(:func:`strong_columns`): the date (the first or second column, nearly every
value a date); the set order (whole numbers that count 1, 2, 3, or 0, 1, 2,
within an exercise, or one letter: W, D, F); the exercise name (the text column just
before it); then, after the set order, the weight, a weight-unit column when
its values are units (Android), the reps, and the RPE, distance and seconds
in the order of the layout the first two facts select (a weight-unit column:
Android; a date in the first column: iOS, whose last column is the RPE when
its values are numbers from 0 to 10, not all blank; else the newer layout). A unit in
a translated header's brackets (``Gewicht (kg)``), or a header that is a
bare unit (``kg``, ``km``), is kept. One repeated word among the set numbers
is the rest timer, whatever its language (``Ruhezeit``).

Strong's old Android export writes no header line at all: its first line is
already a set (``2020-12-05 15:44:36;"ChestShoulderTri";"Bench Press
(Barbell)";1;35;lbs;10;...``). A first line whose first or second field is a
date and that has a whole-number field after a text field is such a row
(:func:`first_line_is_data`); it is then read as data under the names
``column 1``, ``column 2``, ... and the layout found as above.
"""

from __future__ import annotations

import re

import pandas as pd

from backpain_analysis.errors import DataError
from backpain_analysis.importers.dates import parse_datetimes
from backpain_analysis.importers.sets import parse_number

_SET_ORDER = re.compile(r"^(?:\d{1,3}|[a-z])$", re.IGNORECASE)
_LOAD_UNIT = frozenset({"kg", "kgs", "lb", "lbs"})
_BRACKET_UNIT = re.compile(r"[(\[]\s*(kg|kgs|lb|lbs|km|mi|miles|m|meters|metres)\s*[)\]]", re.IGNORECASE)
_BARE_UNIT = re.compile(r"^\s*(kg|kgs|lb|lbs|km|mi|miles|meters|metres)\s*$", re.IGNORECASE)  # Strong's oldest layout: ``kg``, ``km``
_SAMPLE = 2000
_DISTANCE_UNITS = {"km": "km", "mi": "miles", "miles": "miles", "m": "meters", "meters": "meters", "metres": "meters"}


def _filled(column: pd.Series) -> pd.Series:
    values = column.astype(str).str.strip()
    return values[values != ""]


def _is_date(column: pd.Series) -> bool:
    values = _filled(column)
    if values.empty or values.str.fullmatch(r"[\d.,]+").mean() > 0.5:
        return False
    try:
        parsed = parse_datetimes(values.tolist(), str(column.name))
    except DataError:
        return False
    return sum(v is not None for v in parsed.values) >= 0.9 * len(values)


def _is_number(column: pd.Series, comma: bool) -> bool:
    for value in _filled(column):
        try:
            parse_number(value, comma)
        except ValueError:
            return False
    return True


def _is_set_order(column: pd.Series) -> bool:
    values = _filled(column)
    words = values[~values.str.fullmatch(_SET_ORDER)].unique()
    if len(words) == 1:  # one repeated word among the set numbers: the rest timer ("Rest Timer", "Ruhezeit")
        values = values[values != words[0]]
    if values.empty or values.str.fullmatch(_SET_ORDER).mean() < 0.8:
        return False
    numbers = pd.to_numeric(column.astype(str).str.strip(), errors="coerce").dropna()  # W, D, F, rest timers aside
    steps = numbers.diff().eq(1) | numbers.isin([0, 1])  # Strong's oldest layout counts from 0
    return bool(not numbers.empty and (numbers.gt(1).any() or numbers.eq(1).all()) and steps.mean() >= 0.8)


def _is_rpe(column: pd.Series, comma: bool) -> bool:
    """Numbers from 0 to 10, at least one (a column blank in the sample may be notes written later)."""
    values = _filled(column)
    if values.empty or not _is_number(column, comma):
        return False
    return all(0 <= parse_number(v, comma) <= 10 for v in values)


def _is_load_unit(column: pd.Series) -> bool:
    values = _filled(column).str.lower()
    return not values.empty and values.isin(list(_LOAD_UNIT)).all()


def _unit_name(header: str, base: str) -> str:
    found = _BRACKET_UNIT.search(header) or _BARE_UNIT.match(header)
    if not found:
        return base
    unit = found.group(1).lower()
    if base == "weight":
        return "weight (kg)" if unit.startswith("kg") else "weight (lbs)" if unit.startswith("lb") else base
    return f"distance ({_DISTANCE_UNITS[unit]})" if unit in _DISTANCE_UNITS else base


def first_line_is_data(fields: list[str]) -> bool:
    """Whether a CSV file's first line (``fields``) is a data row, not a header: a date in its first or second field."""
    for value in fields[:2]:
        value = value.strip()
        if not value or re.fullmatch(r"[\d.,]+", value):
            continue
        try:
            parsed = parse_datetimes([value], "first line")
        except DataError:
            continue
        if parsed.values[0] is not None:
            return True
    return False


def strong_columns(frame: pd.DataFrame, comma: bool) -> dict[str, str] | None:
    """The export's columns renamed to Strong's English ones, or ``None`` when its structure is not Strong's.

    Parameters
    ----------
    frame:
        The export as read (text cells, any header words).
    comma:
        Numbers may use a decimal comma.

    Returns
    -------
    dict or None
        Original column -> the lower-case English name :mod:`.strong` reads
        (``date``, ``exercise name``, ``set order``, ``weight``/``weight (kg)``,
        ``weight unit``, ``reps``, ``rpe``, ``distance``, ``seconds``).
    """
    sample = frame.head(_SAMPLE)
    columns = list(sample.columns)
    date_at = next((i for i in range(min(2, len(columns))) if _is_date(sample[columns[i]])), None)
    if date_at is None:
        return None
    set_at = next((i for i in range(date_at + 2, len(columns)) if _is_set_order(sample[columns[i]])), None)
    if set_at is None or set_at + 2 >= len(columns):
        return None
    exercise = columns[set_at - 1]
    if _is_number(sample[exercise], comma) or _is_date(sample[exercise]):
        return None
    after = columns[set_at + 1 :]
    roles = {columns[date_at]: "date", exercise: "exercise name", columns[set_at]: "set order", after[0]: _unit_name(after[0], "weight")}
    android = len(after) > 2 and _is_load_unit(sample[after[1]])
    position = 1
    if android:
        roles[after[1]] = "weight unit"
        position = 2
    roles[after[position]] = "reps"
    rest = after[position + 1 :]
    if android:
        order = ("rpe", "distance", "distance unit", "seconds")
    elif date_at == 0:
        order = ("distance", "seconds")
    else:
        order = ("rpe", "distance", "seconds")
    roles.update({column: _unit_name(column, role) if role == "distance" else role for column, role in zip(rest, order, strict=False)})
    if not android and date_at == 0 and columns[-1] not in roles and _is_rpe(sample[columns[-1]], comma):
        roles[columns[-1]] = "rpe"  # iOS writes the RPE last, after the notes (or after the seconds)
    numeric = [c for c, role in roles.items() if role.split(" (")[0] in ("weight", "reps", "rpe", "distance", "seconds")]
    if not all(_is_number(sample[c], comma) for c in numeric):
        return None
    return roles
