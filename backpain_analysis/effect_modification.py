"""For whom: do the strength and flexibility effects and the program contrast differ between kinds of client?

Effect modification by baseline severity, age group, sex and studio (any
client covariate), one modifier at a time:

- **strength and flexibility**: the volume model
  (:func:`~backpain_analysis.volume_model.fit_volume_model`) with the
  modifier's indicators and their products with ``strength_sets_within`` and
  ``flexibility_min_within``::

      y_it = ... + bSW S_w + bFW F_w + sum_l (m_il + gS_l m_il S_w + gF_l m_il F_w) + ...

  ``gS_l`` is how much larger the within-client strength effect is in level
  ``l`` than in the reference level (the first in sorted order), reported per
  clinical unit (10 sets/week, 30 min/week).
- **program contrast**: the program comparison
  (:func:`~backpain_analysis.programs.compare_programs`, outcome baseline as
  the only case mix) within each level with at least
  :data:`~backpain_analysis.volume_model.MIN_CLIENTS` clients; the
  difference between a level's contrast and the reference level's, with
  ``SE = sqrt(SE_l^2 + SE_ref^2)`` (independent subgroups) and normal intervals.

Modifiers: ``baseline_severity`` (the outcome's baseline at or above the
clients' median: ``higher``, else ``lower``), ``age_group`` (``age`` under 40,
40-59, 60 and over), and any client column as it is (``sex``, ``studio``).
A modifier the data lack, or with fewer than two levels, is skipped and
named in ``attrs["skipped"]``.

Multiplicity: many interaction tests are run (modifiers x levels x
effects); ``p_value_holm`` is Holm-adjusted over the whole table and
``attrs["caution"]`` says in words how many would reach p < 0.05 by chance
alone. Subgroup findings are hypotheses for the next studio, not proof.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from statsmodels.stats.multitest import multipletests

from backpain_analysis.errors import DataError
from backpain_analysis.instruments import Instrument, outcome_instrument
from backpain_analysis.mixed import fit_lmm
from backpain_analysis.programs import compare_programs
from backpain_analysis.responders import baseline_scores
from backpain_analysis.tidy import resolve_level, tidy
from backpain_analysis.volume_model import FLEXIBILITY, MIN_CLIENTS, STRENGTH, clinical_unit, fit_volume_model

MODIFIERS: tuple[str, ...] = ("baseline_severity", "age_group", "sex", "studio")
"""The default modifiers."""

AGE_BANDS: tuple[tuple[str, float, float], ...] = (("under 40", 0, 40), ("40-59", 40, 60), ("60 and over", 60, np.inf))


def client_modifier(panel: pd.DataFrame, outcome: str, modifier: str, baseline_max_week: int = 1) -> pd.Series:
    """The modifier's level per client (index ``client_id``; missing where unknown)."""
    if modifier == "baseline_severity":
        base = baseline_scores(panel, outcome, baseline_max_week)["baseline"]
        return pd.Series(np.where(base >= base.median(), "higher", "lower"), index=base.index)
    first = panel.groupby("client_id", sort=True).first()
    if modifier == "age_group":
        if "age" not in first.columns:
            raise KeyError("age")
        age = pd.to_numeric(first["age"], errors="coerce")
        bands = pd.Series(pd.NA, index=first.index, dtype="object")
        for label, low, high in AGE_BANDS:
            bands[(age >= low) & (age < high)] = label
        return bands
    if modifier not in first.columns:
        raise KeyError(modifier)
    return first[modifier].map(lambda v: v if pd.isna(v) else str(v))


def effect_modification(
    panel: pd.DataFrame,
    outcome: str | Instrument = "nprs",
    *,
    modifiers: Sequence[str] = MODIFIERS,
    programs: bool = True,
    lag: int = 1,
    level: float = 0.95,
    engine: str = "auto",
) -> pd.DataFrame:
    """Effect modification of the strength, flexibility and program effects (module docstring).

    Returns
    -------
    DataFrame, one row per modifier, level (other than the reference) and
    effect: ``modifier``, ``level``, ``versus`` (reference level),
    ``effect`` (``strength_sets_within``, ``flexibility_min_within`` or
    ``program: <a> - <b>``), ``per`` (clinical unit or week of the
    contrast), ``term``, ``estimate`` (difference in the effect, level minus
    reference, raw outcome units), ``std_error``, ``statistic``, ``df``,
    ``p_value``, ``conf_low``, ``conf_high``, ``p_value_holm``,
    ``n_clients`` (clients of the level), ``improvement``,
    ``improvement_low``, ``improvement_high`` (positive = the effect is more
    beneficial in that level). ``attrs``: ``level``, ``instrument``,
    ``direction``, ``caution``, ``skipped``.
    """
    level = resolve_level(level, None)
    spec = outcome_instrument(outcome)
    outcome = spec.name
    rows: list[pd.DataFrame] = []
    skipped: list[str] = []
    for modifier in modifiers:
        try:
            groups = client_modifier(panel, outcome, modifier)
        except KeyError:
            skipped.append(f"{modifier}: not in the data")
            continue
        levels = sorted(groups.dropna().unique())
        if len(levels) < 2:
            skipped.append(f"{modifier}: fewer than two levels")
            continue
        counts = groups.value_counts()
        reference = levels[0]
        tagged = panel.assign(_modifier=panel["client_id"].map(groups)).dropna(subset=["_modifier"])
        indicators = {lv: f"_m{i}" for i, lv in enumerate(levels[1:], start=1)}
        for lv, name in indicators.items():
            tagged[name] = (tagged["_modifier"] == lv).astype(float)
        try:
            fit = fit_volume_model(tagged, spec, lag, covariates=list(indicators.values()), engine=engine, level=level)
        except DataError as error:
            skipped.append(f"{modifier}: {error}")
            continue
        design = fit.design
        terms = []
        for lv, name in indicators.items():
            for exposure in (STRENGTH, FLEXIBILITY):
                design[f"{name}_x_{exposure}"] = design[name] * design[f"{exposure}_within"]
                terms.append((lv, exposure, f"{name}_x_{exposure}"))
        formula = fit.formula + " + " + " + ".join(t[2] for t in terms)
        lmm = fit_lmm(design, formula, groups="client_id", re_formula="~ week", engine=engine, level=level)
        params = lmm.params.set_index("term")
        for lv, exposure, name in terms:
            step, unit = clinical_unit(f"{exposure}_within")
            row = params.loc[name]
            frame = pd.DataFrame([{"modifier": modifier, "level": lv, "versus": reference, "effect": f"{exposure}_within", "per": unit, "term": name, "n_clients": int(counts[lv])}])
            rows.append(tidy(frame, [step * row["estimate"]], [step * row["std_error"]], level=level))
        if programs and "program" in panel.columns:
            contrasts = {}
            for lv in levels:
                members = groups.index[groups == lv]
                if len(members) < MIN_CLIENTS:
                    continue
                try:
                    result = compare_programs(panel[panel["client_id"].isin(members)], spec, case_mix=None, level=level, engine=engine)
                except DataError:
                    continue
                contrasts[lv] = result.contrasts.set_index("term")
            if reference in contrasts:
                for lv, table in contrasts.items():
                    if lv == reference:
                        continue
                    shared = table.index.intersection(contrasts[reference].index)
                    for term in shared:
                        a, b = table.loc[term], contrasts[reference].loc[term]
                        week = min(int(a["week"]), int(b["week"]))
                        frame = pd.DataFrame([{"modifier": modifier, "level": lv, "versus": reference, "effect": f"program: {term}", "per": f"week {week}", "term": f"program[{term}] x {modifier}[{lv}]", "n_clients": int(counts[lv])}])
                        rows.append(tidy(frame, [a["estimate"] - b["estimate"]], [np.hypot(a["std_error"], b["std_error"])], level=level))
    columns = ["modifier", "level", "versus", "effect", "per", "term", "estimate", "std_error", "statistic", "df", "p_value", "conf_low", "conf_high", "n_clients"]
    table = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=columns)
    table = table[columns]
    table["p_value_holm"] = multipletests(table["p_value"].to_numpy(float), method="holm")[1] if len(table) else []
    table = spec.with_improvement(table)
    n = len(table)
    table.attrs.update(
        level=level,
        skipped=skipped,
        caution=(
            f"{n} subgroup comparisons were made: even with no real difference about {0.05 * n:.1f} of them would reach "
            "p < 0.05 by chance. Read p_value_holm (Holm-adjusted over the whole table) and treat any subgroup "
            "difference as a question for the next studio, not as proof."
        ),
    )
    return table
