"""Descriptive numbers: the assumed time of untimed strength sets in adherence, the 0-100 pain change."""

import pandas as pd

from backpain_analysis.descriptives import SECONDS_PER_UNTIMED_SET, adherence_with_assumed_sets


def sessions(rows):
    frame = pd.DataFrame(rows, columns=["client_id", "date", "modality", "sets", "duration_s"])
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


START = pd.Series(pd.to_datetime(["2024-01-01"]), index=pd.Index(["a"], name="client_id"))


def test_untimed_strength_sets_count_the_assumed_time():
    # 14 untimed core sets = 14 x 90 s = 21 min on each of 4 days: the target is met only with the assumption
    days = [f"2024-01-0{d}" for d in (1, 2, 3, 4)]
    table = adherence_with_assumed_sets(sessions([("a", d, "core", 14, None) for d in days]), START)
    assert table.to_dict("records") == [{"client_id": "a", "week": 0, "days_20min_assumed": 4, "met_most_days_assumed": True}]
    assert table.attrs["seconds_per_set"] == SECONDS_PER_UNTIMED_SET
    fewer = adherence_with_assumed_sets(sessions([("a", d, "core", 14, None) for d in days]), START, seconds_per_set=60)
    assert fewer["days_20min_assumed"].tolist() == [0], "overridable"


def test_timed_rows_keep_their_duration_and_other_untimed_rows_add_nothing():
    rows = [("a", "2024-01-08", "flexibility", 2, 600), ("a", "2024-01-08", "other", 5, None), ("a", "2024-01-09", "back", 1, None)]
    table = adherence_with_assumed_sets(sessions(rows), START)
    assert table["week"].tolist() == [1] and table["days_20min_assumed"].tolist() == [1]


def test_no_sessions_give_an_empty_table():
    assert adherence_with_assumed_sets(sessions([]), START).empty


def test_the_assumption_names_its_source():
    import backpain_analysis.descriptives as module

    assert "Med Sci Sports Exerc 2009" in open(module.__file__).read()


def test_the_adherence_figure_counts_the_assumed_minutes_and_says_so():
    from backpain_analysis.descriptives import adherence_by_week, panel_with_assumed_sets
    from backpain_analysis.figures.exposure import plot_adherence

    days = [f"2024-01-0{d}" for d in (1, 2, 3, 4)]
    assumed = adherence_with_assumed_sets(sessions([("a", d, "core", 14, None) for d in days]), START)
    panel = pd.DataFrame({"client_id": ["a", "a"], "week": [0, 1], "days_20min": [0, 0], "met_20min_most_days": [False, False]})
    timed = panel_with_assumed_sets(panel, assumed)
    assert timed["days_20min"].tolist() == [4, 0] and timed["met_20min_most_days"].tolist() == [True, False]
    assert panel["days_20min"].tolist() == [0, 0], "the panel itself is not changed"
    by_week = adherence_by_week(timed, min_clients=1)
    assert by_week["met"].tolist() == [100.0, 0.0]
    title = plot_adherence(timed, by_week).get_suptitle()
    assert f"assumed {SECONDS_PER_UNTIMED_SET:.0f} s" in title
    assert "duration only" in plot_adherence(panel, adherence_by_week(panel, min_clients=1)).get_suptitle()
