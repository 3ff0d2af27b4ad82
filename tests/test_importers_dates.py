"""Date, number and session rules shared by the importers."""

from __future__ import annotations

from datetime import datetime

import pytest

from backpain_analysis.errors import DataError
from backpain_analysis.importers.dates import format_datetime, parse_datetimes
from backpain_analysis.importers.sets import number_text, parse_number, session_starts


@pytest.mark.parametrize(
    ("text", "expected", "has_time"),
    [
        ("2021-09-02 18:54:45", datetime(2021, 9, 2, 18, 54, 45), True),
        ("2024-03-05", datetime(2024, 3, 5), False),
        ("2024/03/05 07:00", datetime(2024, 3, 5, 7, 0), True),
        ("2021-01-12 08:13:50 +0000", datetime(2021, 1, 12, 8, 13, 50), True),
        ("2024-03-05T18:30:00Z", datetime(2024, 3, 5, 18, 30), True),
        ("2024-03-05T18:30:00.250+01:00", datetime(2024, 3, 5, 18, 30), True),
        ("2023-01-05 6:51:52\u202fPM", datetime(2023, 1, 5, 18, 51, 52), True),
        ("2023-01-05 12:10:00 AM", datetime(2023, 1, 5, 0, 10), True),
        ("8 Apr 2026, 16:50", datetime(2026, 4, 8, 16, 50), True),
        ("Apr 8, 2026, 4:50 PM", datetime(2026, 4, 8, 16, 50), True),
        ("8 de abr. de 2026, 16:50", datetime(2026, 4, 8, 16, 50), True),
        ("8. Apr. 2026 16:50", datetime(2026, 4, 8, 16, 50), True),
        ("17 déc. 2025 07:00", datetime(2025, 12, 17, 7, 0), True),
        ("3 März 2025", datetime(2025, 3, 3), False),
        ("12 mei 2025", datetime(2025, 5, 12), False),
        ("8th April 2026 at 9:05 am", datetime(2026, 4, 8, 9, 5), True),
    ],
)
def test_accepted_forms(text: str, expected: datetime, has_time: bool) -> None:
    parsed = parse_datetimes([text], "date")
    assert parsed.values == [expected] and parsed.has_time == [has_time]


@pytest.mark.parametrize("text", ["", "x", "yesterday", "31 Feb 2024", "2024-03-05 25:00", "16:50", "2024-13-01", "8 Foo 2026", "Tue 8 Apr 2026"])
def test_not_dates(text: str) -> None:
    assert parse_datetimes([text], "date").values == [None]


def test_day_month_order_settled_by_the_column() -> None:
    day_first = parse_datetimes(["08/04/2026 16:50", "13/04/2026"], "start_time")
    assert day_first.values[0] == datetime(2026, 4, 8, 16, 50) and day_first.note is None
    month_first = parse_datetimes(["08/04/2026", "04/13/2026"], "start_time")
    assert month_first.values[0] == datetime(2026, 8, 4) and month_first.note is None


@pytest.mark.parametrize(
    ("texts", "expected", "note"),
    [
        (["08/04/2026"], datetime(2026, 4, 8), "day-first"),
        (["08.04.2026"], datetime(2026, 4, 8), "dotted dates are day-first"),
        (["08/04/2026 4:50 PM"], datetime(2026, 8, 4, 16, 50), "month-first"),
        (["4/8/26"], datetime(2026, 8, 4), "day-first"),
    ],
)
def test_unsettled_order_is_assumed_and_said(texts: list[str], expected: datetime, note: str) -> None:
    parsed = parse_datetimes(texts, "d")
    assert parsed.values[0] == expected and note in parsed.note


def test_mixed_orders_are_an_error() -> None:
    with pytest.raises(DataError, match="mix day-first and month-first.*'13/04/2026'.*'04/13/2026'"):
        parse_datetimes(["13/04/2026", "04/13/2026"], "start_time")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("9 Nis 2026, 15:26", datetime(2026, 4, 9, 15, 26)),  # Hevy in Turkish (Nisan)
        ("1 Mar 2026, 10:24", datetime(2026, 3, 1, 10, 24)),  # Turkish Mart, English March
        ("14 Şub 2026", datetime(2026, 2, 14)),  # Turkish Şubat
        ("11 abr 2026", datetime(2026, 4, 11)),  # Spanish abril
        ("17 may 2024, 15:05", datetime(2024, 5, 17, 15, 5)),  # Hevy in Spanish
        ("3 sept. 2025", datetime(2025, 9, 3)),
        ("8. Okt. 2025 18:00", datetime(2025, 10, 8, 18, 0)),  # German
        ("3 Mrz 2025", None),  # German slang abbreviation, in no CLDR locale: not a date
        ("12 févr. 2026", datetime(2026, 2, 12)),  # French
        ("2 juillet 2025", datetime(2025, 7, 2)),
        ("3 kwietnia 2026, 07:15", datetime(2026, 4, 3, 7, 15)),  # Polish, genitive
        ("5 paź 2025", datetime(2025, 10, 5)),  # Polish abbreviation of października
    ],
)
def test_month_names_of_any_language_from_cldr(text: str, expected: datetime | None) -> None:
    """Issue 13: Hevy writes the phone's language (``9 Nis 2026``); Babel's CLDR data names every locale's months."""
    assert parse_datetimes([text], "start_time").values == [expected]


def test_a_month_name_meaning_different_months_is_refused_with_a_reason() -> None:
    """``listopad`` is November in Polish and Czech but October in Croatian; ``Kas`` November in Turkish, May in Taita."""
    alone = parse_datetimes(["3 listopad 2026"], "start_time")
    assert alone.values == [None]
    assert alone.problems[0].startswith("the month name 'listopad' means different months in different languages (October in Croatian")
    assert "November in Polish" in alone.problems[0] and alone.problems[0].endswith("export the dates with numbers or in another language")
    # the column's other month names settle the language: 'nis' is Turkish only, 'sty' (styczeń) Polish only
    assert parse_datetimes(["5 Kas 2025", "9 Nis 2026"], "d").values == [datetime(2025, 11, 5), datetime(2026, 4, 9)]
    assert parse_datetimes(["3 listopad 2026", "4 sty 2027"], "d").values == [datetime(2026, 11, 3), datetime(2027, 1, 4)]
    assert parse_datetimes(["5 Kas 2025"], "d").values == [None]


def test_an_ambiguous_month_reaches_the_ledger_with_its_reason(tmp_path) -> None:
    from backpain_analysis.importers import import_export

    export = tmp_path / "hevy.csv"
    header = "title,start_time,end_time,description,exercise_title,superset_id,exercise_notes,set_index,set_type,weight_kg,reps,distance_km,duration_seconds,rpe"
    export.write_text(
        header + '\n"Legs","3 listopad 2026, 10:00","3 listopad 2026, 11:00","","Squat (Barbell)",,"",0,"normal",60,5,,,\n', encoding="utf-8"
    )
    result = import_export(export, "c1", tmp_path / "out")
    reason = result.export.built.ledger["reason"].iloc[0]
    assert reason.startswith("unparseable date '3 listopad 2026, 10:00': the month name 'listopad' means different months")


def test_format_keeps_time_only_when_given() -> None:
    assert format_datetime(datetime(2024, 3, 5, 7, 0), True) == "2024-03-05 07:00:00"
    assert format_datetime(datetime(2024, 3, 5), False) == "2024-03-05"


@pytest.mark.parametrize(
    ("text", "comma", "expected"),
    [
        ("80", False, 80.0),
        (" 22.6796 ", False, 22.6796),
        ("", False, None),
        ("80,5", True, 80.5),
        ("1.234,5", True, 1234.5),
        ("-5", False, -5.0),
        ("NA", False, None),  # missing-value markers as R and pandas write them: blank, never a float NaN
        ("nan", False, None),
        ("n/a", True, None),
        ("-", False, None),
    ],
)
def test_numbers(text: str, comma: bool, expected: float | None) -> None:
    assert parse_number(text, comma) == expected


@pytest.mark.parametrize(("text", "comma"), [("80,5", False), ("abc", False), ("inf", False), ("1,2,3", True), ("--5", False)])
def test_not_numbers(text: str, comma: bool) -> None:
    with pytest.raises(ValueError):
        parse_number(text, comma)


def test_number_text() -> None:
    assert [number_text(v) for v in (80.0, 22.679618, 0.5, None)] == ["80", "22.679618", "0.5", ""]


def test_sessions_split_by_day_and_gap() -> None:
    t = [
        datetime(2024, 3, 5, 10, 0),
        datetime(2024, 3, 5, 11, 30),  # 90 min later: same session
        datetime(2024, 3, 5, 18, 0),  # 6.5 h later: new session
        None,
        datetime(2024, 3, 5, 9, 55),  # earlier in file order, first in time
        datetime(2024, 3, 6, 0, 10),  # next day
    ]
    first, evening, next_day = datetime(2024, 3, 5, 9, 55), datetime(2024, 3, 5, 18, 0), datetime(2024, 3, 6, 0, 10)
    assert session_starts(t) == [first, first, evening, None, first, next_day]
