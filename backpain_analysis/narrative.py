"""Words from results: verdicts, the sentences of ``summary.json`` and the notebooks' "In short" paragraphs.

Every sentence a report shows about an effect is written here, from numbers a
result already holds, so that each branch (no data, model failed, better,
worse, inconclusive, too few clients) is unit tested instead of living as
untested branching inside a notebook.

Sentences are plain text, since text a user typed (program, studio,
instrument names) reaches them; :func:`literal` makes a sentence inert before
it is placed in Markdown (``in_short`` does so itself):
HTML is escaped and Markdown and LaTeX punctuation is backslash-escaped, so
``<img src=x onerror=...>``, ``[click](javascript:...)`` and ``$\\unicode{x}$``
are shown as typed.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping

VERDICTS: tuple[str, ...] = ("better", "worse", "inconclusive", "too_few_data")
"""The verdicts of a finding (CONTRACT section 4)."""

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|$~])")


def literal(text: object) -> str:
    """``text`` as inert Markdown: HTML-escaped, Markdown/LaTeX punctuation backslash-escaped, one line."""
    flat = " ".join(str(text).split())
    return html.escape(_MARKDOWN_SPECIAL.sub(r"\\\1", flat), quote=False)


def verdict(conf_low: float | None, conf_high: float | None) -> str:
    """The verdict of an interval of improvement (positive = better).

    ``better`` when the whole interval lies above 0, ``worse`` when below,
    ``inconclusive`` when it includes 0, ``too_few_data`` when there is no
    interval (missing or not finite).
    """
    if conf_low is None or conf_high is None or not (math.isfinite(conf_low) and math.isfinite(conf_high)):
        return "too_few_data"
    if conf_low > 0:
        return "better"
    if conf_high < 0:
        return "worse"
    return "inconclusive"


def reaches_mcid(estimate: float | None, mcid: float | None) -> bool | None:
    """Whether the size of ``estimate`` reaches the MCID (None when either is unknown)."""
    if estimate is None or mcid is None or not (math.isfinite(estimate) and math.isfinite(mcid)):
        return None
    return abs(estimate) >= mcid - 1e-12


_QUESTION_WORDS: dict[str, str] = {
    "strength": "In the week after a client did {unit} more core and back strength work than usual",
    "flexibility": "In the week after a client did {unit} more flexibility work than usual",
    "together": "When extra strength and extra flexibility work came in the same week ({unit})",
}


def finding_sentence(
    finding: Mapping[str, object],
    outcome: str,
    n_clients: int,
    mcid: float | None,
    reason: str = "",
    points: str = "points",
    family_size: int | None = None,
) -> str:
    """The one-sentence answer of a finding (a dict with the summary.json keys), as plain text.

    ``outcome`` is the instrument's display name, ``n_clients`` how many
    clients the estimate rests on, ``mcid`` the instrument's MCID (None if it
    has none), ``reason`` why the dataset cannot answer (``too_few_data``),
    ``points`` the word for one unit of the instrument, ``family_size`` the
    number of questions whose intervals hold together (simultaneous 95 %
    intervals, said in the sentence; None for an interval of its own). Pass
    the result through :func:`literal` before placing it in Markdown.
    """
    question, unit, verdict_ = str(finding["question"]), str(finding["unit"]), str(finding["verdict"])
    what = _subject(finding)
    if verdict_ == "too_few_data":
        return f"{what}: this dataset cannot tell ({reason or 'too few data'})."
    estimate, low, high = (float(finding[k]) for k in ("estimate", "conf_low", "conf_high"))  # type: ignore[arg-type]
    size = f"{abs(estimate):.2f} {points} {'better' if estimate >= 0 else 'worse'}"
    adjusted = f" adjusted for the {family_size} questions asked together" if family_size else ""
    interval = f"95 % CI {signed(low)} to {signed(high)}{adjusted}, positive = better; {n_clients} clients"
    if question in _QUESTION_WORDS:
        lead = _QUESTION_WORDS[question].format(unit=unit) + f", {outcome} was {size} ({interval})"
    else:
        lead = f"{what}: {outcome} {size} ({unit}; {interval})"
    meaning = {
        "better": "a clear improvement",
        "worse": "a clear harm",
        "inconclusive": "the data cannot tell this apart from no effect",
    }[verdict_]
    scale = ""
    if mcid is not None and verdict_ != "inconclusive":
        reached = reaches_mcid(estimate, mcid)
        scale = f", {'reaching' if reached else 'below'} the {mcid:g}-{points.rstrip('s')} change clients notice (MCID)"
    return f"{lead}: {meaning}{scale}."


def signed(bound: float) -> str:
    """An interval bound with its sign and 2 decimals; one significant digit when that would show a nonzero bound as 0.00.

    So a bound of 0.0049 that makes a verdict ``better`` reads ``+0.005``, not ``+0.00`` (in fixed
    point: ``+0.00001``, never ``+1e-05``).
    """
    if bound != 0 and round(bound, 2) == 0:
        one_digit = float(f"{bound:.1g}")
        digits = -math.floor(math.log10(abs(one_digit)))  # fixed point, never 1e-05 in a sentence
        return f"{one_digit:+.{digits}f}"
    return f"{bound:+.2f}"


def _subject(finding: Mapping[str, object]) -> str:
    question = str(finding["question"])
    if question == "program":
        program, _, reference = str(finding["term"]).partition(" vs ")
        return f"Program {program} against {reference}"
    return {"strength": "Strength work", "flexibility": "Flexibility work", "together": "Strength and flexibility together"}[
        question
    ]


def few_clients_caution(n_clients: int) -> str:
    """A sentence for a dataset too small for anything general, or '' when it is large enough (>= 20 clients)."""
    if n_clients >= 20:
        return ""
    return (
        f"With {n_clients} client{'s' if n_clients != 1 else ''}, nothing general follows from this dataset: "
        "the numbers describe these clients only, and intervals are wide or cannot be computed."
    )


def in_short(findings: list[Mapping[str, object]], outcome: str | None, n_clients: int, problem: str = "") -> str:
    """The "In short" paragraph of a section from its findings (Markdown).

    Branches: no instrument measured (``outcome`` None); the model failed
    (``problem`` given, no findings); otherwise one sentence per finding
    (each with its own 95 % interval, as the section's tables: a sentence
    says where these differ from the Summary's simultaneous intervals), then
    the few-clients caution when it applies.
    """
    lead = "**In short.**"
    if outcome is None:
        return f"{lead} No pain or disability instrument was measured, so there is no effect to estimate."
    if not findings:
        why = problem or "the model could not be fitted"
        return f"{lead} " + literal(f"The model of {outcome} could not be estimated: {why}.")
    sentences = [literal(f["sentence"]) for f in findings]
    if any(f.get("verdict") != "too_few_data" for f in findings):
        sentences.append(literal(SECTION_INTERVALS))
    caution = few_clients_caution(n_clients)
    return " ".join([lead, *sentences, *([literal(caution)] if caution else [])])


SECTION_INTERVALS = (
    "These intervals answer each question on its own (95 %, as in the tables below); the Summary at the top "
    "asks all its questions together and, when it answers more than one, widens its intervals so that they hold "
    "at once (simultaneous intervals), so its verdicts can be more cautious."
)
"""Said where a section's own 95 % intervals meet the Summary's simultaneous ones."""


_VERDICT_WORDS: dict[str, str] = {
    "better": "better",
    "worse": "worse",
    "inconclusive": "not clear",
    "too_few_data": "too few data",
}
_QUESTION_TITLES: dict[str, str] = {
    "strength": "More strength work",
    "flexibility": "More flexibility work",
    "together": "Both together",
}


def summary_lines(summary: Mapping[str, object], family_size: int = 0, level: float = 0.95) -> str:
    """The summary section's Markdown from the content of ``summary.json``: one bullet per finding.

    ``family_size`` and ``level`` (:meth:`Summary.intervals
    <backpain_analysis.summary.Summary.intervals>`) add the note on
    simultaneous intervals (:func:`intervals_note`) when ``family_size`` > 1.
    Each sentence already names its clients.
    """
    outcome, clients = summary.get("outcome"), int(summary.get("clients", 0))  # type: ignore[arg-type]
    findings = list(summary.get("findings", []))  # type: ignore[arg-type]
    if outcome is None:
        head = f"**{clients} clients; no pain or disability instrument was measured**, so no question can be answered."
    else:
        head = f"**Main outcome: {literal(str(outcome).upper())}; {clients} clients in the dataset.**"
    lines = [head, ""]
    for f in findings:
        title = _QUESTION_TITLES.get(str(f["question"]), f"Program {f['term']}")
        lines.append(f"- **{literal(title)}: {_VERDICT_WORDS[str(f['verdict'])]}.** {literal(f['sentence'])}")
    reading = intervals_note(family_size, level)
    if reading:
        lines += ["", literal(reading)]
    caution = few_clients_caution(clients)
    if caution:
        lines += ["", literal(caution)]
    return "\n".join(lines)


def intervals_note(family_size: int, level: float) -> str:
    """How to read the summary's simultaneous intervals, and why the sections' tables differ ('' for one interval or none)."""
    if family_size < 2:
        return ""
    return (
        f"Reading the intervals: these {family_size} questions are asked together, so each interval is widened "
        f"to a {100 * level:.4g} % interval (Bonferroni) and all {family_size} hold at once with 95 % confidence; "
        "when nothing works, the chance that any line above says better or worse is meant to be at most 5 % "
        "(about 6 % was measured in small simulated studios, whose intervals are slightly narrow). The tables and "
        "\"In short\" paragraphs in the sections below answer each question on its own, with ordinary, narrower "
        "95 % intervals, so a section can call clear what this summary calls not clear."
    )


def for_whom(findings, modification=None, trends=None) -> str:  # noqa: ANN001  (DataFrames; narrative stays free of pandas)
    """Two sentences on "for whom": subgroups (effect modification) and how clients' own changes spread.

    ``findings`` is :attr:`Summary.findings <backpain_analysis.summary.Summary>`;
    ``modification`` :func:`~backpain_analysis.effect_modification.effect_modification`'s
    table (None when not estimated); ``trends``
    :func:`~backpain_analysis.responders.client_trends`'s table (None when not estimated).
    """
    programs = [f for f in findings.to_dict("records") if f["question"] == "program"] if len(findings) else []
    compared = any(f["verdict"] != "too_few_data" for f in programs)
    if modification is None or not len(modification):
        first = (
            "For whom: the program lines above compare clients with the same baseline score"
            if compared
            else "For whom: this dataset cannot compare programs (one program, no program recorded, or too few clients per program)"
        )
        first += (
            "; whether the effects differ by baseline severity, age, sex or studio is not estimated (too few clients, "
            "or no such columns), so no claim is made about subgroups."
        )
    else:
        modifiers = ", ".join(dict.fromkeys(str(m).replace("_", " ") for m in modification["modifier"]))
        stand_out = modification[modification["p_value_holm"] < 0.05]
        if len(stand_out):
            row = stand_out.sort_values("p_value_holm").iloc[0]
            better = "more" if row["improvement"] > 0 else "less"
            first = (
                f"For whom: of {len(modification)} subgroup comparisons ({modifiers}), {len(stand_out)} stood out after "
                f"allowing for them all (Holm); the clearest: {row['effect']} helped {better} for {row['modifier']} "
                f"{row['level']} than {row['versus']} ({row['n_clients']} clients). Treat it as a question for the next studio, not as proof."
            )
        else:
            first = (
                f"For whom: none of {len(modification)} subgroup comparisons ({modifiers}) stood out after allowing "
                "for them all (Holm), so the effects above are best read as applying to these clients alike."
            )
    if trends is None or not len(trends) or not math.isfinite(trends.attrs.get("share_likely_important", math.nan)):
        second = "How much each client's own score changed is not estimated here."
    else:
        share = trends.attrs["share_likely_important"]
        low, high = trends.attrs.get("share_conf_low", math.nan), trends.attrs.get("share_conf_high", math.nan)
        interval = f" (95 % interval {100 * low:.0f} to {100 * high:.0f} %)" if math.isfinite(low) and math.isfinite(high) else ""
        second = (
            f"Of the {len(trends)} clients, about {100 * share:.0f} %{interval} are likely to have improved by the MCID "
            f"by week {trends.attrs['endpoint']}, judged from each client's shrunken trend rather than one noisy score."
        )
    return literal(f"{first} {second}")


def versus_evidence(benchmark) -> str:  # noqa: ANN001  (a one-row-per-group DataFrame or None)
    """Two sentences setting the clients' mean pain change beside the published effect of exercise.

    ``benchmark`` is :func:`backpain_analysis.summary.pain_benchmark`'s table
    (its ``attrs`` hold ``outcome`` and ``published``), or None when no pain
    scale was measured.
    """
    if benchmark is None or not len(benchmark):
        return literal("Against the published evidence: no pain scale (NPRS or VAS) with baseline and follow-up scores was measured, so there is no comparison.")
    everyone = benchmark.iloc[0]
    published = benchmark.attrs["published"]
    n = int(everyone["n_clients"])
    evidence = (
        f"trials found that exercise improves pain by {published['estimate']:.1f} points on 0-100 "
        f"(95 % CI {published['conf_low']:.1f} to {published['conf_high']:.1f}; {published['trials']} trials) more than no "
        "treatment, usual care or placebo "
        "(Hayden et al. 2021, Cochrane)"
    )
    if n < 5 or not math.isfinite(float(everyone["conf_low"])):
        first = f"Against the published evidence: {n} client(s) have a pain score at baseline and later, too few to compare with the {evidence}."
        return literal(first)
    ours = float(everyone["estimate"])
    first = (
        f"Against the published evidence: our clients' pain ({str(benchmark.attrs['outcome']).upper()}, rescaled to 0-100) improved "
        f"by a mean of {ours:.1f} points (95 % CI {float(everyone['conf_low']):.1f} to {float(everyone['conf_high']):.1f}; {n} clients) "
        f"from baseline to their last score; {evidence}."
    )
    if ours < float(published["estimate"]):
        second = (
            "Ours is smaller, which is a warning sign: an uncontrolled before-after change also contains natural recovery "
            "and regression to the mean, so it overstates what the programs add."
        )
    else:
        second = (
            "Ours is as large or larger, which is not proof of a larger effect: an uncontrolled before-after change also "
            "contains natural recovery and regression to the mean."
        )
    return literal(f"{first} {second}")


def responder_sentence(row: Mapping[str, object], outcome: str) -> str:
    """The share of clients reaching the MCID, always with its count and interval (plain text).

    ``row`` is one row of :func:`backpain_analysis.responders.responder_rates`.
    With fewer than 5 clients no percentage is given, only the count.
    """
    n, k = int(row["n_clients"]), int(row["n_responders"])  # type: ignore[arg-type]
    rule = f"by at least the minimal clinically important change ({row['threshold']})"
    if n < 5:
        return f"{k} of {n} client{'s' if n != 1 else ''} improved {outcome} {rule}; too few clients for a percentage to mean anything."
    share, low, high = (100 * float(row[k_]) for k_ in ("estimate", "conf_low", "conf_high"))  # type: ignore[arg-type]
    return (
        f"{share:.0f} % of clients ({k} of {n}; 95 % CI {low:.0f} to {high:.0f} %) improved {outcome} {rule} "
        "from baseline to their last measurement."
    )


def not_shown(what: str, missing: str) -> str:
    """The sentence that replaces a figure or table with too little data (Markdown, text escaped; ends with a full stop)."""
    missing = missing.rstrip()
    return f"**{literal(what)} not shown:** {literal(missing if missing.endswith('.') else missing + '.')}"


def too_few_per_week(n_clients: int, needed: int = 5) -> str:
    """Why a week-by-week distribution is not drawn: no week had ``needed`` clients."""
    return (
        f"no week has {needed} or more clients followed (this dataset has {n_clients} client{'s' if n_clients != 1 else ''}), "
        f"and a median or quartiles of fewer than {needed} clients would describe individuals, not a group; "
        "every client-week is in the weekly panel (backpain panel DATA --out panel.csv)."
    )


def share_of_weeks(flags) -> str:  # noqa: ANN001  (a boolean Series over client-weeks)
    """A share of client-weeks in words: a percentage with its count, never a bare "100 %"."""
    n, k = len(flags), int(flags.sum())
    if n == 0:
        return "none (no client-weeks)"
    if k == n:
        return f"all {n}"
    return f"{100 * k / n:.0f} % ({k:,} of {n:,})"


def trajectory_sentence(outcome: str, weeks: list[Mapping[str, object]]) -> str:
    """How a weekly mean moved, from its first to its last described week (plain text).

    ``weeks`` are rows of :func:`backpain_analysis.descriptives.mean_trajectory`
    (``week``, ``clients``, ``mean``), in week order.
    """
    if len(weeks) < 2:
        return f"{outcome} was measured in too few clients per week (3 needed) to describe a trajectory."
    first, last = weeks[0], weeks[-1]
    return (
        f"Mean {outcome} went from {float(first['mean']):.1f} in week {int(first['week'])} ({int(first['clients'])} clients "
        f"measured) to {float(last['mean']):.1f} in week {int(last['week'])} ({int(last['clients'])} clients)."
    )


def followed_sentence(weeks_followed) -> str:  # noqa: ANN001  (a Series: weeks followed per client)
    """How long clients were followed (plain text); says so when no client has an accepted record."""
    n = len(weeks_followed)
    if n == 0:
        return "No client has an accepted session or score, so nothing can be analysed."
    return (
        f"{n:,} client{'s were' if n != 1 else ' was'} followed for a median of {float(weeks_followed.median()):.0f} weeks "
        f"(range {int(weeks_followed.min())}-{int(weeks_followed.max())})."
    )
