"""Program comparison: is one program better than another for comparable clients?

Three views, all on one instrument:

1. **Mixed model** of the outcome after baseline on program, week and their
   interaction, adjusted for the baseline score (ANCOVA in a longitudinal
   model), random intercept and slope for week per client, REML::

       y_it = b0 + g_p + (b_week + d_p) * week + b_base * (y_i0 - mean y0)
            + u0_i + u1_i * week + e_it,

   with ``g``/``d`` zero for the reference program. The contrast between
   programs a and b at week w is ``(g_a - g_b) + (d_a - d_b) w``, estimated
   as ``L beta`` with standard error ``sqrt(L V L')`` from the fixed-effect
   covariance ``V``; normal-theory intervals and tests. Baseline as in
   :mod:`backpain_analysis.responders` (first measured week, week 0 or 1);
   rows after the baseline week enter, for clients with a known program.
2. **Responder rates by program** (:func:`~backpain_analysis.responders.responder_rates`).
3. **Observed against expected improvement** (risk adjustment, as clinical
   outcome registries do it): a least-squares line of each client's
   improvement (baseline to last measurement, positive = better) on the
   baseline score over all clients, then per program the mean of
   observed - expected. With ``r = (I - H) y`` the residuals and ``a`` the
   program's averaging vector, ``Var(a'r) = sigma^2 (1/n_p - xbar_p' (X'X)^-1
   xbar_p)`` (homoscedastic errors); t intervals on ``n - 2`` df. A positive
   value means the program's clients improved more than clients with the
   same baseline did on average across programs.

Program allocation in a studio is not randomised: the adjustment removes
differences in baseline severity only, not in motivation or anything else
that differs between programs' clients.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd
from scipy.stats import norm, t

from backpain_analysis.errors import DataError
from backpain_analysis.mixed import LMMResult, fit_lmm
from backpain_analysis.responders import baseline_scores, client_changes, responder_rates


@dataclass
class ProgramComparison:
    """A program comparison on one instrument.

    Attributes
    ----------
    params:
        Tidy fixed effects of the mixed model (``term``, ``estimate``,
        ``std_error``, ``statistic``, ``p_value``, ``conf_low``,
        ``conf_high``); program terms are named ``program[<name>]`` (level
        against the reference at week 0) and ``program[<name>]:week``
        (difference in weekly slope), plus ``Intercept``, ``week`` and
        ``baseline_score`` (per point of baseline, centred).
    contrasts:
        One row per pair of programs and chosen week: ``week``, ``program``,
        ``versus``, ``term`` (``"<program> - <versus>"``), ``estimate``
        (difference in mean outcome at that week for clients with the same
        baseline, instrument units; negative favours ``program`` when lower
        is better), ``std_error``, ``statistic`` (z), ``p_value``,
        ``conf_low``, ``conf_high``.
    trajectories:
        Model-based mean per program and week (at the mean baseline):
        ``program``, ``week``, ``estimate``, ``std_error``, ``conf_low``,
        ``conf_high`` (instrument units).
    responder_rates:
        :func:`~backpain_analysis.responders.responder_rates` by program.
    observed_expected:
        One row per program: ``program``, ``n_clients``, ``observed``
        (mean improvement, positive = better), ``expected`` (mean of the
        baseline-predicted improvement), ``estimate`` (observed - expected),
        ``std_error``, ``statistic`` (t), ``p_value``, ``conf_low``,
        ``conf_high``.
    """

    outcome: str
    reference: str
    conf_level: float
    params: pd.DataFrame
    contrasts: pd.DataFrame
    trajectories: pd.DataFrame
    responder_rates: pd.DataFrame
    observed_expected: pd.DataFrame
    lmm: LMMResult
    design: pd.DataFrame


def _tidy(frame: pd.DataFrame, estimate: np.ndarray, se: np.ndarray, z: float) -> pd.DataFrame:
    """Add the normal-theory ``estimate`` ... ``conf_high`` columns to ``frame``."""
    statistic = estimate / se
    return frame.assign(
        estimate=estimate,
        std_error=se,
        statistic=statistic,
        p_value=2 * norm.sf(np.abs(statistic)),
        conf_low=estimate - z * se,
        conf_high=estimate + z * se,
    )


def program_design(panel: pd.DataFrame, outcome: str, programs: Sequence[str], by: str, baseline_max_week: int) -> pd.DataFrame:
    """Rows after each client's baseline week with ``baseline_score`` (centred) and program indicators.

    Indicator ``_p<j>`` is 1 for clients of ``programs[j]`` (j >= 1; j = 0 is
    the reference) and ``_p<j>_week`` is it times ``week``.
    """
    base = baseline_scores(panel, outcome, baseline_max_week)
    rows = panel[panel["client_id"].isin(base.index) & panel[outcome].notna() & panel[by].isin(programs)]
    rows = rows[rows["week"] > rows["client_id"].map(base["baseline_week"])]
    design = rows[["client_id", "week", by, outcome]].reset_index(drop=True)
    baseline = design["client_id"].map(base["baseline"])
    design["baseline_score"] = baseline - base.loc[design["client_id"].unique(), "baseline"].mean()
    for j, program in enumerate(programs[1:], start=1):
        design[f"_p{j}"] = (design[by] == program).astype(float)
        design[f"_p{j}_week"] = design[f"_p{j}"] * design["week"]
    return design


def observed_vs_expected(
    panel: pd.DataFrame,
    outcome: str,
    *,
    by: str = "program",
    baseline_max_week: int = 1,
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Each program's observed minus baseline-expected mean improvement (module docstring, view 3).

    Returns the ``observed_expected`` frame described in :class:`ProgramComparison`.
    """
    changes = client_changes(panel, outcome, baseline_max_week=baseline_max_week, by=by)
    changes = changes[changes[by].notna()] if by in changes.columns else changes.iloc[0:0]
    if len(changes) < 3:
        raise DataError(f"observed vs expected needs at least 3 clients with a {by}, a baseline and a later {outcome} score")
    x = np.column_stack([np.ones(len(changes)), changes["baseline"].to_numpy(float)])
    y = changes["improvement"].to_numpy(float)
    xtx_inv = np.linalg.inv(x.T @ x)
    fitted = x @ (xtx_inv @ (x.T @ y))
    residual = y - fitted
    df = len(y) - 2
    sigma2 = float(residual @ residual) / df
    q = float(t.ppf(0.5 + conf_level / 2, df))
    rows = []
    for program, members in changes.assign(_expected=fitted, _residual=residual).groupby(by, sort=True):
        position = changes.index.get_indexer(members.index)
        x_bar = x[position].mean(axis=0)
        n = len(members)
        se = float(np.sqrt(max(sigma2 * (1.0 / n - x_bar @ xtx_inv @ x_bar), 0.0)))
        estimate = float(members["_residual"].mean())
        statistic = estimate / se if se > 0 else np.nan
        rows.append(
            {
                "program": str(program),
                "n_clients": n,
                "observed": float(members["improvement"].mean()),
                "expected": float(members["_expected"].mean()),
                "estimate": estimate,
                "std_error": se,
                "statistic": statistic,
                "p_value": float(2 * t.sf(abs(statistic), df)) if se > 0 else np.nan,
                "conf_low": estimate - q * se,
                "conf_high": estimate + q * se,
            }
        )
    out = pd.DataFrame(rows)
    out.attrs.update(conf_level=conf_level, outcome=outcome, df=df, model="improvement ~ baseline (least squares, all clients)")
    return out


def compare_programs(
    panel: pd.DataFrame,
    outcome: str = "nprs",
    *,
    weeks: Sequence[int] = (4, 8, 12),
    reference: str | None = None,
    by: str = "program",
    baseline_max_week: int = 1,
    conf_level: float = 0.95,
    engine: str = "auto",
) -> ProgramComparison:
    """Compare programs on one instrument (the three views of the module docstring).

    Parameters
    ----------
    panel:
        The weekly panel, with a program column.
    outcome:
        A built-in instrument column.
    weeks:
        Weeks at which programs are contrasted.
    reference:
        Reference program of the model terms; default: the first in sorted order.
    by:
        The client covariate holding the program.
    baseline_max_week:
        Latest week a first measurement counts as baseline.
    conf_level:
        Level of every interval.
    engine:
        Passed to :func:`~backpain_analysis.mixed.fit_lmm`.

    Returns
    -------
    :class:`ProgramComparison`
    """
    if by not in panel.columns:
        raise DataError(f"no '{by}' column: give each client a {by} in clients.csv to compare programs")
    panel = panel.assign(**{by: panel[by].map(lambda value: value if pd.isna(value) else str(value))})
    programs = sorted(panel[by].dropna().unique())
    if len(programs) < 2:
        raise DataError(f"only {len(programs)} {by} in the data: at least 2 are needed to compare")
    if reference is None:
        reference = programs[0]
    if reference not in programs:
        raise DataError(f"reference {by} '{reference}' is not in the data ({', '.join(programs)})")
    programs = [reference] + [p for p in programs if p != reference]
    design = program_design(panel, outcome, programs, by, baseline_max_week)
    if design["client_id"].nunique() < 5:
        raise DataError(f"too few clients with a baseline and later {outcome} scores to compare programs (5 needed)")
    indicators = [f"_p{j}" for j in range(1, len(programs))]
    slopes = [f"{name}_week" for name in indicators]
    formula = f"{outcome} ~ week + baseline_score + " + " + ".join(indicators + slopes)
    lmm = fit_lmm(design, formula, groups="client_id", re_formula="~ week", reml=True, engine=engine, conf_level=conf_level)
    labels = {"Intercept": "Intercept", "week": "week", "baseline_score": "baseline_score"}
    for j, program in enumerate(programs[1:], start=1):
        labels[f"_p{j}"] = f"program[{program}]"
        labels[f"_p{j}_week"] = f"program[{program}]:week"
    names = list(lmm.params["term"])
    beta = lmm.params["estimate"].to_numpy()
    cov = lmm.cov_params().loc[names, names].to_numpy()
    params = lmm.params.assign(term=lmm.params["term"].map(labels))
    z = float(norm.ppf(0.5 + conf_level / 2))

    def row_vector(program: str, week: float) -> np.ndarray:
        """L for the model mean of ``program`` at ``week`` and the mean baseline."""
        values = {"Intercept": 1.0, "week": float(week)}
        j = programs.index(program)
        if j > 0:
            values[f"_p{j}"] = 1.0
            values[f"_p{j}_week"] = float(week)
        return np.array([values.get(name, 0.0) for name in names])

    def evaluate(frame: pd.DataFrame, matrix: np.ndarray) -> pd.DataFrame:
        se = np.sqrt(np.einsum("ij,jk,ik->i", matrix, cov, matrix))
        return _tidy(frame, matrix @ beta, se, z)

    pairs = [(a, b) for b, a in combinations(programs, 2)]
    keys = pd.DataFrame([{"week": w, "program": a, "versus": b, "term": f"{a} - {b}"} for w in weeks for a, b in pairs])
    contrast_rows = np.array([row_vector(a, w) - row_vector(b, w) for w in weeks for a, b in pairs])
    all_weeks = np.sort(design["week"].unique())
    grid = pd.DataFrame([{"program": p, "week": int(w)} for p in programs for w in all_weeks])
    trajectory_rows = np.array([row_vector(p, w) for p in programs for w in all_weeks])
    rates = responder_rates(panel, outcome, baseline_max_week=baseline_max_week, by=by, conf_level=conf_level)
    return ProgramComparison(
        outcome=outcome,
        reference=reference,
        conf_level=conf_level,
        params=params,
        contrasts=evaluate(keys, contrast_rows),
        trajectories=evaluate(grid, trajectory_rows).drop(columns=["statistic", "p_value"]),
        responder_rates=rates,
        observed_expected=observed_vs_expected(panel, outcome, by=by, baseline_max_week=baseline_max_week, conf_level=conf_level),
        lmm=lmm,
        design=design,
    )
