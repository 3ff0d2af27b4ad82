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

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|$~>])")


def literal(text: object) -> str:
    """``text`` as inert Markdown: HTML-escaped, Markdown/LaTeX punctuation backslash-escaped, one line."""
    flat = " ".join(str(text).split())
    return _MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(flat, quote=True))


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
    finding: Mapping[str, object], outcome: str, n_clients: int, mcid: float | None, reason: str = "", points: str = "points"
) -> str:
    """The one-sentence answer of a finding (a dict with the summary.json keys), as plain text.

    ``outcome`` is the instrument's display name, ``n_clients`` how many
    clients the estimate rests on, ``mcid`` the instrument's MCID (None if it
    has none), ``reason`` why the dataset cannot answer (``too_few_data``),
    ``points`` the word for one unit of the instrument. Pass the result
    through :func:`literal` before placing it in Markdown.
    """
    question, unit, verdict_ = str(finding["question"]), str(finding["unit"]), str(finding["verdict"])
    what = _subject(finding)
    if verdict_ == "too_few_data":
        return f"{what}: this dataset cannot tell ({reason or 'too few data'})."
    estimate, low, high = (float(finding[k]) for k in ("estimate", "conf_low", "conf_high"))  # type: ignore[arg-type]
    size = f"{abs(estimate):.2f} {points} {'better' if estimate >= 0 else 'worse'}"
    interval = f"95 % CI {low:+.2f} to {high:+.2f}, positive = better; {n_clients} clients"
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
    (``problem`` given, no findings); otherwise one sentence per finding,
    then the few-clients caution when it applies.
    """
    lead = "**In short.**"
    if outcome is None:
        return f"{lead} No pain or disability instrument was measured, so there is no effect to estimate."
    if not findings:
        why = problem or "the model could not be fitted"
        return f"{lead} " + literal(f"The model of {outcome} could not be estimated: {why}.")
    sentences = [literal(f["sentence"]) for f in findings]
    caution = few_clients_caution(n_clients)
    return " ".join([lead, *sentences, *([literal(caution)] if caution else [])])
