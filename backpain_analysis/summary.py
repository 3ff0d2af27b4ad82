"""The studio's questions answered in one object: ``summary.json`` (CONTRACT section 4).

:func:`summarise` fits the volume model and the program comparison on the
primary outcome and returns a :class:`Summary`; ``Summary.to_dict()`` is the
content of ``summary.json``, the contract's keys and nothing else::

    {"outcome": "nprs", "clients": 150, "findings": [
        {"question": "strength", "term": "strength_sets_within", "verdict": "better",
         "estimate": 0.41, "conf_low": 0.22, "conf_high": 0.60, "unit": "10 sets/week",
         "clinically_important": false, "sentence": "..."}, ...]}

Questions: ``strength`` (``strength_sets_within`` per 10 sets/week),
``flexibility`` (``flexibility_min_within`` per 30 min/week), ``together``
(``strength_x_flexibility_within`` per 10 sets/week x 30 min/week), and one
``program`` finding per program against the reference program (the one
named ``usual``, ``usual care``, ``control`` or ``waitlist`` in any case, else
the program with the most clients; ties broken by name): the difference in
mean score at the same baseline at the latest of weeks 4, 8, 12 reached by
three quarters of clients (:func:`contrast_weeks`), from
:func:`~backpain_analysis.programs.compare_programs`.

Estimates and intervals are signed so that positive means better for the
instrument's direction. The intervals are *simultaneous* 95 % intervals over
the family of findings that can be answered (:data:`FAMILY_LEVEL`): with
``k`` of them, each interval is at level ``1 - 0.05 / k`` (Bonferroni,
:func:`interval_level`; the same t quantile and Satterthwaite df as the
model's own intervals, only a different level), so that when nothing works
the chance that *any* finding says ``better`` or ``worse`` is nominally at
most 5 % (measured 5.8 % over 400 small simulated studios, whose
Satterthwaite intervals are slightly narrow: scripts/summary_null_study.py). The per-analysis tables of the
report keep their ordinary 95 % intervals, which are narrower. How the
intervals were made (``level``, ``family_level``, ``family_size``:
:meth:`Summary.intervals`) is not a key of ``summary.json``, whose keys the
contract lists: each finding's sentence says it in words, and
:meth:`Summary.write` records it for the report's ``manifest.json``, whose
``summary`` entry carries it beside the file's checksum.
Verdicts (:func:`~backpain_analysis.narrative.verdict`) read the
simultaneous interval; ``too_few_data`` (estimate and interval null) when the
model cannot be fitted on the data (fewer than
:data:`~backpain_analysis.volume_model.MIN_CLIENTS` clients with two usable
weeks), when fewer than :data:`MIN_CLIENTS_FOR_VERDICT` clients enter it, or
when a program, or the reference, has fewer than ``MIN_CLIENTS`` clients in
the comparison, or when no standard error could be computed for the estimate. ``clinically_important`` says whether the estimate's size reaches
the instrument's absolute MCID (null without one, or without an estimate).
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from backpain_analysis.errors import DataError
from backpain_analysis.figures.export import register
from backpain_analysis.figures.style import known_instrument
from backpain_analysis.narrative import finding_sentence, reaches_mcid, verdict
from backpain_analysis.programs import ProgramComparison, compare_programs
from backpain_analysis.tidy import tidy
from backpain_analysis.volume_model import MIN_CLIENTS, VolumeModelResult, fit_volume_model

FAMILY_LEVEL = 0.95
"""Confidence that all of the summary's intervals hold at once (family-wise)."""

MIN_CLIENTS_FOR_VERDICT = 10
"""Fewest clients a verdict may rest on. Below it a finding is ``too_few_data``
even when the model could be fitted (it needs only
:data:`~backpain_analysis.volume_model.MIN_CLIENTS`): with so few clients the
random-effect variances, and with them the intervals, are poorly determined,
Wald-type intervals are too narrow (McNeish & Stapleton 2016, Educ Psychol Rev
28:295-314, review of mixed models with few clusters), and nothing general
follows. For a program finding the bar applies to the program and the
reference together, each needing at least ``MIN_CLIENTS``."""

REFERENCE_NAMES: tuple[str, ...] = ("usual", "usual care", "control", "waitlist")
"""Program names taken as the reference, compared case-insensitively."""

VOLUME_QUESTIONS: dict[str, str] = {
    "strength": "strength_sets_within",
    "flexibility": "flexibility_min_within",
    "together": "strength_x_flexibility_within",
}
"""Question -> term of the volume model."""

FINDING_KEYS: tuple[str, ...] = (
    "question",
    "term",
    "verdict",
    "estimate",
    "conf_low",
    "conf_high",
    "unit",
    "clinically_important",
    "sentence",
)
"""The keys of each finding in ``summary.json``, in order."""

SUMMARY_FILE = "summary.json"

INTERVAL_KEYS: tuple[str, ...] = ("level", "family_level", "family_size")
"""What :meth:`Summary.intervals` returns, in order (the manifest's ``summary`` entry carries them)."""


@dataclass
class Summary:
    """The answers for one outcome.

    Attributes
    ----------
    outcome: the primary instrument (None when the dataset measured none).
    clients: clients in the panel.
    findings: one row per finding: the :data:`FINDING_KEYS` columns plus
        ``n_clients`` (clients the estimate rests on), ``reason`` (why the
        dataset cannot answer, for ``too_few_data``; else ''), and
        ``std_error`` and ``df`` of the estimate (NaN for ``too_few_data``).
    family_size: findings with an estimate (``k``), judged together (1 when
        the intervals are not simultaneous).
    level: the level of each interval, ``1 - (1 - family_level) / k``
        (``family_level`` when ``k`` <= 1, or when not ``simultaneous``).
    family_level: the confidence that all ``k`` intervals hold at once
        (:data:`FAMILY_LEVEL`; for ``simultaneous=False`` the level of each alone).

    ``to_dict`` holds the contract's keys only; ``intervals`` the last three.
    """

    outcome: str | None
    clients: int
    findings: pd.DataFrame = field(default_factory=pd.DataFrame)
    family_size: int = 0
    level: float = FAMILY_LEVEL
    family_level: float = FAMILY_LEVEL

    def to_dict(self) -> dict[str, object]:
        """The content of ``summary.json``."""

        def plain(value: object) -> object:
            if isinstance(value, (bool, np.bool_)):
                return bool(value)
            if isinstance(value, (float, np.floating)):
                return float(value) if np.isfinite(value) else None
            return None if value is None or value is pd.NA else value

        rows = self.findings[list(FINDING_KEYS)].astype(object).to_dict("records") if len(self.findings) else []
        return {
            "outcome": self.outcome,
            "clients": int(self.clients),
            "findings": [{k: plain(row[k]) for k in FINDING_KEYS} for row in rows],
        }

    def intervals(self) -> dict[str, float | int]:
        """How the findings' intervals were made: ``{"level", "family_level", "family_size"}`` (see the attributes)."""
        return {"level": float(self.level), "family_level": float(self.family_level), "family_size": int(self.family_size)}

    def write(self, out_dir: str | Path) -> Path:
        """Write ``out_dir/summary.json`` (2-space indent) and return its path.

        Also registers the file with its :meth:`intervals` in
        ``out_dir/registry.jsonl`` (:func:`~backpain_analysis.figures.export.register`),
        from which the report's ``manifest.json`` takes them.
        """
        path = Path(out_dir) / SUMMARY_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2, allow_nan=False) + "\n", encoding="utf-8")
        caption = "The studio's questions answered (CONTRACT section 4)."
        register(path.parent, "summary", "summary", caption, [SUMMARY_FILE], **self.intervals())
        return path


def reference_program(panel: pd.DataFrame, by: str = "program") -> str | None:
    """The reference program: a :data:`REFERENCE_NAMES` name if present, else the one with most clients."""
    if by not in panel.columns:
        return None
    per_client = panel.drop_duplicates("client_id")[by].dropna().astype(str)
    if per_client.empty:
        return None
    for name in sorted(per_client.unique()):
        if " ".join(name.lower().split()) in REFERENCE_NAMES:
            return name
    counts = per_client.value_counts()
    return sorted(counts[counts == counts.max()].index)[0]


def contrast_weeks(panel: pd.DataFrame) -> list[int]:
    """Weeks at which programs are contrasted: those of 4, 8, 12 reached by 3/4 of clients, else the median last week."""
    last = panel.groupby("client_id")["week"].max()
    if last.empty:
        return [0]
    return [w for w in (4, 8, 12) if w <= last.quantile(0.75)] or [int(last.median())]


def outcome_name(outcome: str) -> str:
    """How sentences name an instrument: a built-in one in capitals (``NPRS``), a custom one as given."""
    return outcome.upper() if known_instrument(outcome) is not None and "_" not in outcome else outcome


def interval_level(k: int, family_level: float = FAMILY_LEVEL) -> float:
    """The level of each of ``k`` intervals that hold together with ``family_level`` (Bonferroni).

    ``interval_level(5) == 0.99``; one or no interval: ``family_level`` itself.
    """
    return 1.0 - (1.0 - family_level) / max(k, 1)


def _row(question: str, term: str, unit: str, effect: tuple[float, float, float] | None, n_clients: int, reason: str = "") -> dict:
    """One finding; ``effect`` is (improvement, its standard error, df), or None for ``too_few_data``."""
    estimate, std_error, df = effect if effect is not None else (np.nan, np.nan, np.nan)
    return {
        "question": question,
        "term": term,
        "estimate": estimate,
        "std_error": std_error,
        "df": df,
        "unit": unit,
        "n_clients": n_clients,
        "reason": reason,
    }


def _without_unanswerable(findings: pd.DataFrame) -> pd.DataFrame:
    """``findings`` with an estimate that has no standard error blanked, its reason said (``too_few_data``)."""
    out = findings.copy()
    unanswerable = out["estimate"].notna() & out["std_error"].isna()
    out.loc[unanswerable, "reason"] = "no standard error could be computed for this estimate"
    out.loc[unanswerable, ["estimate", "df"]] = np.nan
    return out


def _judge(findings: pd.DataFrame, level: float) -> pd.DataFrame:
    """``findings`` with intervals at ``level`` (t on each row's df, normal without) and their verdicts."""
    answered = findings["estimate"].notna()
    intervals = tidy(findings[["term"]], findings["estimate"], findings["std_error"], df=findings["df"], level=level)
    out = findings.assign(
        conf_low=intervals["conf_low"].where(answered),
        conf_high=intervals["conf_high"].where(answered),
    )
    out["verdict"] = [verdict(lo, hi) if ok else "too_few_data" for lo, hi, ok in zip(out["conf_low"], out["conf_high"], answered)]
    return out


def _volume_rows(model: VolumeModelResult | None, reason: str) -> list[dict]:
    from backpain_analysis.volume_model import CLINICAL_UNITS, FLEXIBILITY, STRENGTH, clinical_unit

    units = {
        "strength": CLINICAL_UNITS[STRENGTH][1],
        "flexibility": CLINICAL_UNITS[FLEXIBILITY][1],
        "together": f"{CLINICAL_UNITS[STRENGTH][1]} x {CLINICAL_UNITS[FLEXIBILITY][1]}",
    }
    if model is None:
        return [_row(q, t, units[q], None, 0, reason) for q, t in VOLUME_QUESTIONS.items()]
    if model.n_clients < MIN_CLIENTS_FOR_VERDICT:
        why = f"{model.n_clients} clients enter the model, at least {MIN_CLIENTS_FOR_VERDICT} are needed for a verdict"
        return [_row(q, t, units[q], None, model.n_clients, why) for q, t in VOLUME_QUESTIONS.items()]
    effects = model.clinical_effects().set_index("term")
    params = model.params.set_index("term")
    rows = []
    for question, term in VOLUME_QUESTIONS.items():
        e, p = effects.loc[term], params.loc[term]
        step, _ = clinical_unit(term)  # type: ignore[misc]
        rows.append(_row(question, term, str(e["per"]), (e["improvement"], step * p["std_error"], p["df"]), model.n_clients))
    return rows


def _program_rows(
    comparison: ProgramComparison | None, programs: list[str], reference: str | None, outcome: str, reason: str
) -> list[dict]:
    if reference is None:
        return []
    others = [p for p in programs if p != reference]
    if comparison is None:
        return [_row("program", f"{p} vs {reference}", f"{outcome} at the same baseline", None, 0, reason) for p in others]
    contrasts = comparison.contrasts
    week = int(contrasts["week"].max())
    clients = comparison.design.drop_duplicates("client_id")["program"].astype(str).value_counts()
    unit = f"difference at week {week} for the same baseline score"
    rows = []
    for program in others:
        term = f"{program} vs {reference}"
        n = int(clients.get(program, 0) + clients.get(reference, 0))
        small = [p for p in (program, reference) if clients.get(p, 0) < MIN_CLIENTS]
        if small or n < MIN_CLIENTS_FOR_VERDICT:
            counts = [(p, int(clients.get(p, 0))) for p in small]
            why = ", ".join(f"{p} has {k} client{'' if k == 1 else 's'}" for p, k in counts) or f"the two have {n} clients"
            need = f"{MIN_CLIENTS} each and {MIN_CLIENTS_FOR_VERDICT} together are needed"
            rows.append(_row("program", term, unit, None, n, f"{why} with a baseline and a later score; {need}"))
            continue
        c = contrasts[(contrasts["week"] == week) & (contrasts["program"] == program) & (contrasts["versus"] == reference)].iloc[0]
        rows.append(_row("program", term, unit, (c["improvement"], c["std_error"], c["df"]), n))
    return rows


def summarise(
    panel: pd.DataFrame,
    outcome: str | None,
    *,
    model: VolumeModelResult | None = None,
    comparison: ProgramComparison | None = None,
    programs_too: bool = True,
    volume_too: bool = True,
    simultaneous: bool = True,
) -> Summary:
    """Answer the studio's questions on ``outcome`` (see the module docstring).

    ``model`` and ``comparison`` may be passed when already fitted (on the
    same panel and outcome, the comparison with :func:`reference_program`
    and :func:`contrast_weeks`); otherwise they are fitted here, and a
    :class:`~backpain_analysis.errors.DataError` from either becomes
    ``too_few_data`` with its message as the reason. ``programs_too=False``
    answers the volume questions only, ``volume_too=False`` the program ones only
    (the family is then those findings alone). ``simultaneous=False`` gives
    each finding its own 95 % interval, as the per-analysis tables do (the
    sections' "In short" paragraphs). Warnings raised by the fits are not
    shown: a non-converged fit is still reported by its interval.
    """
    clients = int(panel["client_id"].nunique()) if "client_id" in panel else 0
    programs = sorted(panel["program"].dropna().astype(str).unique()) if "program" in panel else []
    reference = reference_program(panel) if len(programs) >= 2 and programs_too else None
    volume_reason = program_reason = "no pain or disability instrument was measured"
    if outcome is not None:
        volume_reason = program_reason = ""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if model is None and volume_too:
                try:
                    model = fit_volume_model(panel, outcome)
                except DataError as error:
                    volume_reason = str(error)
            if comparison is None and reference is not None:
                try:
                    comparison = compare_programs(panel, outcome, weeks=contrast_weeks(panel), reference=reference)
                except DataError as error:
                    program_reason = str(error)
    rows = (_volume_rows(model, volume_reason) if volume_too else []) + _program_rows(comparison, programs, reference, outcome or "", program_reason)
    findings = pd.DataFrame(rows, columns=["question", "term", "estimate", "std_error", "df", "unit", "n_clients", "reason"])
    findings = _without_unanswerable(findings)
    k = int(findings["estimate"].notna().sum())
    level = interval_level(k) if simultaneous else FAMILY_LEVEL
    findings = _judge(findings, level)
    family = k if simultaneous and k > 1 else None
    info = known_instrument(outcome)
    mcid = info.mcid_abs if info is not None else None
    name = outcome_name(outcome or "")
    points = "points" if info is None or info.unit in ("%", "points") else info.unit
    findings["clinically_important"] = [
        reaches_mcid(e, mcid) if v != "too_few_data" else None for e, v in zip(findings["estimate"], findings["verdict"])
    ]
    findings["sentence"] = [
        finding_sentence(row, name, int(row["n_clients"]), mcid, row["reason"], points, family)
        for row in findings.to_dict("records")
    ]
    columns = [*FINDING_KEYS, "n_clients", "reason", "std_error", "df"]
    return Summary(outcome, clients, findings[columns], family_size=k if simultaneous else 1, level=level, family_level=FAMILY_LEVEL)


def pain_benchmark(panel: pd.DataFrame, outcomes: list[str]) -> pd.DataFrame:
    """Mean pain improvement (0-100 scale) overall and per program, with the published effect in ``attrs``.

    The pain scale is the first of NPRS and VAS in ``outcomes``; rows as
    :func:`backpain_analysis.descriptives.improvement_on_100`; ``attrs``:
    ``outcome`` and ``published`` (:data:`backpain_analysis.evidence.HAYDEN_2021`).
    Raises :class:`DataError` when no pain scale was measured or no client has
    a baseline and a later score.
    """
    from backpain_analysis.descriptives import improvement_on_100
    from backpain_analysis.evidence import HAYDEN_2021, PAIN_TO_100
    from backpain_analysis.responders import client_changes

    pain = next((name for name in PAIN_TO_100 if name in outcomes), None)
    if pain is None:
        raise DataError("no pain scale (NPRS or VAS) was measured")
    changes = client_changes(panel, pain)
    if changes.empty:
        raise DataError(f"no client has a baseline and a later {pain} score")
    table = improvement_on_100(changes, pain)
    table.attrs.update(outcome=pain, published=dict(HAYDEN_2021))
    return table
