"""Verdicts, finding sentences and "In short" paragraphs: one test per branch."""

import math

import pytest

from backpain_analysis.narrative import finding_sentence, few_clients_caution, in_short, literal, reaches_mcid, verdict


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (0.1, 0.9, "better"),
        (-0.9, -0.1, "worse"),
        (-0.2, 0.3, "inconclusive"),
        (0.0, 0.5, "inconclusive"),
        (None, None, "too_few_data"),
        (math.nan, 1.0, "too_few_data"),
    ],
)
def test_verdict_reads_the_interval_of_improvement(low, high, expected):
    assert verdict(low, high) == expected


def test_mcid_is_reached_by_the_size_of_the_estimate():
    assert reaches_mcid(2.0, 2.0) is True
    assert reaches_mcid(-2.5, 2.0) is True
    assert reaches_mcid(1.9, 2.0) is False
    assert reaches_mcid(1.0, None) is None


def finding(question="strength", verdict_="better", estimate=0.4, low=0.2, high=0.6, term="strength_sets_within"):
    return {"question": question, "term": term, "verdict": verdict_, "estimate": estimate, "conf_low": low, "conf_high": high, "unit": "10 sets/week"}


def test_better_sentence_gives_size_interval_clients_and_mcid():
    text = finding_sentence(finding(), "NPRS", 42, 2.0)
    assert "0.40 points better" in text and "+0.20 to +0.60" in text and "42 clients" in text
    assert "a clear improvement" in text and "below the 2-point change" in text


def test_simultaneous_interval_is_said_in_the_sentence_and_explained_below_the_lines():
    from backpain_analysis.narrative import intervals_note, summary_lines

    text = finding_sentence(finding(), "NPRS", 42, 2.0, family_size=5)
    assert "95 % CI +0.20 to +0.60 adjusted for the 5 questions asked together" in text
    assert "adjusted" not in finding_sentence(finding(), "NPRS", 42, 2.0)
    note = intervals_note(5, 0.99)
    assert "99 % interval (Bonferroni)" in note and "all 5 hold at once with 95 % confidence" in note
    assert "ordinary, narrower 95 % intervals" in note
    assert intervals_note(1, 0.95) == "" and intervals_note(0, 0.95) == ""
    assert "98.75 %" in intervals_note(4, 0.9875)
    content = {"outcome": "nprs", "clients": 40, "findings": [dict(finding(), sentence=text)]}
    assert "Reading the intervals: these 5 questions" in summary_lines(content, family_size=5, level=0.99)
    assert "Reading the intervals" not in summary_lines(content)


def test_in_short_says_its_intervals_are_the_sections_own():
    from backpain_analysis.narrative import SECTION_INTERVALS

    said = in_short([{"sentence": "A.", "verdict": "better"}], "NPRS", 150)
    assert literal(SECTION_INTERVALS) in said
    assert literal(SECTION_INTERVALS) not in in_short([{"sentence": "A.", "verdict": "too_few_data"}], "NPRS", 150)


def test_a_bound_near_zero_keeps_its_sign_and_a_digit():
    from backpain_analysis.narrative import signed

    assert (signed(0.0049), signed(-0.0004), signed(0.0), signed(0.32), signed(-1.254)) == ("+0.005", "-0.0004", "+0.00", "+0.32", "-1.25")
    assert (signed(1e-5), signed(-2.3e-6), signed(0.00096)) == ("+0.00001", "-0.000002", "+0.001"), "fixed point, not 1e-05"
    assert "+0.005 to +0.32" in finding_sentence(finding(estimate=0.16, low=0.0049, high=0.32), "NPRS", 150, 2.0)


def test_worse_sentence_says_harm():
    text = finding_sentence(finding(verdict_="worse", estimate=-2.4, low=-3.0, high=-1.8), "NPRS", 30, 2.0)
    assert "2.40 points worse" in text and "a clear harm" in text and "reaching the 2-point change" in text


def test_inconclusive_sentence_says_no_effect_cannot_be_excluded():
    text = finding_sentence(finding(verdict_="inconclusive", estimate=0.1, low=-0.2, high=0.4), "ODI", 12, 10.0)
    assert "cannot tell this apart from no effect" in text and "MCID" not in text


def test_too_few_data_sentence_gives_the_reason_and_no_number():
    text = finding_sentence(finding(verdict_="too_few_data", estimate=None, low=None, high=None), "NPRS", 0, 2.0, "3 clients, 5 needed")
    assert "cannot tell" in text and "3 clients, 5 needed" in text and "CI" not in text


def test_program_sentence_names_both_programs():
    text = finding_sentence(finding(question="program", term="strong vs usual", verdict_="inconclusive", estimate=0.3, low=-0.1, high=0.7), "NPRS", 40, 2.0)
    assert text.startswith("Program strong against usual")


def test_in_short_without_instrument_model_failure_and_findings():
    assert "No pain or disability instrument" in in_short([], None, 10)
    failed = in_short([], "NPRS", 3, "too few clients to fit nprs")
    assert "could not be estimated" in failed and "too few clients" in failed
    text = in_short([{"sentence": "A <b>sentence</b>."}], "NPRS", 8)
    assert "&lt;b&gt;" in text and "<b>" not in text
    assert "nothing general follows" in text and "8 clients" in text
    assert "nothing general" not in in_short([{"sentence": "A."}], "NPRS", 150)


def test_few_clients_caution_only_for_small_datasets():
    assert "1 client," in few_clients_caution(1)
    assert few_clients_caution(20) == ""


@pytest.mark.parametrize(
    "text", ["<img src=x onerror=alert(1)>", "[click](javascript:alert(1))", r"$\unicode{x}$", "a\nb `c` *d* _e_"]
)
def test_literal_leaves_no_markup(text):
    out = literal(text)
    assert "<" not in out and "\n" not in out
    for mark in "[]()$`*_":
        assert all(out[i - 1] == "\\" for i, ch in enumerate(out) if ch == mark)


def test_share_of_weeks_never_says_a_bare_100_percent():
    import pandas as pd

    from backpain_analysis.narrative import share_of_weeks

    assert share_of_weeks(pd.Series([True, True])) == "all 2"
    assert share_of_weeks(pd.Series([True, False, False, False])) == "25 % (1 of 4)"
    assert share_of_weeks(pd.Series([], dtype=bool)) == "none (no client-weeks)"


def test_responder_sentence_gives_counts_and_no_percentage_below_5_clients():
    from backpain_analysis.narrative import responder_sentence

    row = {"n_clients": 2, "n_responders": 2, "threshold": "improvement >= 2 points", "estimate": 1.0, "conf_low": 0.34, "conf_high": 1.0}
    assert "%" not in responder_sentence(row, "NPRS").replace("30 %", "") and "2 of 2 clients" in responder_sentence(row, "NPRS")
    row.update(n_clients=40, n_responders=20, estimate=0.5, conf_low=0.35, conf_high=0.65)
    assert "50 % of clients (20 of 40; 95 % CI 35 to 65 %)" in responder_sentence(row, "NPRS")


def test_versus_evidence_branches():
    import pandas as pd

    from backpain_analysis.evidence import HAYDEN_2021
    from backpain_analysis.narrative import versus_evidence

    assert "no pain scale" in versus_evidence(None)
    table = pd.DataFrame([{"group": "all", "n_clients": 40, "estimate": 9.0, "conf_low": 6.0, "conf_high": 12.0}])
    table.attrs.update(outcome="nprs", published=dict(HAYDEN_2021))
    smaller = versus_evidence(table)
    assert "40 clients" in smaller and "35 trials" in smaller and "warning sign" in smaller
    table.loc[0, ["estimate", "conf_low", "conf_high"]] = [20.0, 15.0, 25.0]
    assert "not proof of a larger effect" in versus_evidence(table)
    table.loc[0, "n_clients"] = 3
    assert "too few to compare" in versus_evidence(table)


def test_trajectory_sentence():
    from backpain_analysis.narrative import trajectory_sentence

    rows = [{"week": 0, "clients": 30, "mean": 6.0}, {"week": 12, "clients": 18, "mean": 4.25}]
    assert trajectory_sentence("NPRS", rows) == "Mean NPRS went from 6.0 in week 0 (30 clients measured) to 4.2 in week 12 (18 clients)."
    assert "too few clients" in trajectory_sentence("ODI", rows[:1])


def test_followed_sentence_with_and_without_clients():
    import pandas as pd

    from backpain_analysis.narrative import followed_sentence

    assert followed_sentence(pd.Series([4, 10, 12])) == "3 clients were followed for a median of 10 weeks (range 4-12)."
    assert "nothing can be analysed" in followed_sentence(pd.Series([], dtype=int))


def _findings(verdicts):
    import pandas as pd

    return pd.DataFrame([finding("program", v, term=f"p{i} vs usual") for i, v in enumerate(verdicts)])


def _modification(p_holm, improvement=0.5):
    import pandas as pd

    return pd.DataFrame(
        {
            "modifier": ["sex", "age_group"],
            "level": ["M", "under 40"],
            "versus": ["F", "40-59"],
            "effect": ["strength_sets_within", "flexibility_min_within"],
            "improvement": [improvement, 0.1],
            "p_value_holm": [p_holm, 0.9],
            "n_clients": [30, 12],
        }
    )


def _trends(share, low=0.3, high=0.6):
    import pandas as pd

    frame = pd.DataFrame({"client_id": [f"C{i}" for i in range(40)]})
    frame.attrs.update(share_likely_important=share, share_conf_low=low, share_conf_high=high, endpoint=12)
    return frame


def test_for_whom_without_subgroup_estimates_says_no_claim_is_made():
    from backpain_analysis.narrative import for_whom

    text = for_whom(_findings(["better"])).replace("\\", "")
    assert "same baseline score" in text and "no claim is made about subgroups" in text
    assert "not estimated here" in text
    assert "cannot compare programs" in for_whom(_findings(["too_few_data"]))


def test_for_whom_names_a_subgroup_that_stands_out_after_holm_and_cautions():
    from backpain_analysis.narrative import for_whom

    text = for_whom(_findings(["better"]), _modification(0.01), _trends(0.45)).replace("\\", "")  # unescape Markdown
    assert "1 stood out" in text and "helped more for sex M than F" in text and "not as proof" in text
    assert "about 45 % (95 % interval 30 to 60 %)" in text and "week 12" in text
    assert "helped less" in for_whom(_findings(["better"]), _modification(0.01, improvement=-0.4))


def test_for_whom_with_nothing_standing_out_reads_the_effects_as_common():
    from backpain_analysis.narrative import for_whom

    text = for_whom(_findings(["inconclusive"]), _modification(0.2), _trends(float("nan")))
    assert "none of 2 subgroup comparisons (sex, age group) stood out" in text.replace("\\", "")
    assert "not estimated here" in text
