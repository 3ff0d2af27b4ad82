"""Program comparison: is one program better than another for comparable clients?

Programs in a studio are not randomised, so every view adjusts for **case
mix**: what the data knew about each client at baseline. By default
(``case_mix="auto"``) that is every baseline the data has: the client's
first score (week ``baseline_max_week`` or earlier) on each instrument the
panel holds, and every client covariate of the clients table (age, sex,
chronicity or any declared column, studio, coach). Numeric covariates enter
linearly (centred; a missing value is set to the mean and flagged by a
``<name>_missing`` indicator), text ones as indicators (missing =
``unknown``); covariates constant over clients or collinear with earlier ones
are dropped, and at most ``n_clients / 5`` case-mix columns are kept (outcome
baseline first, then the other instruments, then the covariates in the
clients table's order) so that a small studio is not over-fitted. The kept
and dropped columns are listed in ``case_mix`` and ``notes``.

Views, all on one instrument:

1. **Mixed model** of the outcome after baseline on program, week and their
   interaction, adjusted for the case mix, random intercept and slope for
   week per client, REML::

       y_it = b0 + g_p + (b_week + d_p + h b_i) week + c' x_i + u0_i + u1_i week + e_it,

   ``g``/``d`` zero for the reference program, ``b_i`` the client's centred
   baseline score (so that more and less severe clients may follow different
   courses: regression to the mean and severity-dependent recovery are not
   mistaken for a program effect when programs serve clients of different
   severity). The contrast between
   programs a and b at week w is ``(g_a - g_b) + (d_a - d_b) w``. Contrasts
   are made only at weeks every program reaches (the **last week reached**:
   for each program the week that at least two of its clients reach, the
   smallest over programs); a requested week beyond it is dropped, never
   extrapolated. Intervals are t with between-client degrees of freedom
   (clients minus client-level fixed terms; nlme's rule) until the engine's
   Satterthwaite contrast replaces them. p-values are given raw and Holm-adjusted over the family of
   every contrast in the table (named in ``contrasts.attrs["family"]``).
2. **Doubly robust** contrast (``doubly_robust=True``), at the last week
   reached: augmented inverse-probability weighting (AIPW; Robins, Rotnitzky
   & Zhao 1994; Glynn & Quinn 2010) of each client's last score in the two
   weeks up to it, with a least-squares outcome model (program + case mix)
   and a multinomial-logit propensity model (statsmodels) of program on the
   case mix. Consistent when either model is right; jackknife standard
   errors over clients (both models refitted without each client) with t
   intervals on ``n - 1`` df. Refused, with a sentence in ``notes``, when
   the smaller program has fewer than :data:`DOUBLY_ROBUST_MIN_CLIENTS`
   clients measured near that week or a propensity fit (or a leave-one-out
   refit) separates the programs, leaving no finite standard error. Clients not measured
   near that week are left out (their dropout is assumed ignorable given
   the case mix).
3. **Overlap** (always, when the propensity model can be fitted): each
   client's estimated probability of every program given the case mix, by
   program, with a plain-words ``warning`` when programs serve different
   clients (more than 10 % of clients have an estimated probability below
   0.05 of some program: almost no client like them is in it, cf. Crump et
   al. 2009), where every adjusted comparison extrapolates.
4. **Observed against expected** (risk adjustment over each client's own
   follow-up): the mixed model without program terms predicts each
   client's mean score over the weeks the client was actually measured from
   their case mix alone (``X beta``, no random effects), calibrated so that
   over all clients observed = expected (indirect standardisation against
   the whole studio: outcome-related dropout, which makes every client's
   observed weeks a little worse than the model's mean course, then shifts
   no program); a program's
   estimate is the mean over its clients of (observed - expected) mean
   score, signed so that positive = better than expected, with a
   model-based standard error that counts the expectation's own estimation
   on the same clients (the between-client spread alone overstates it:
   99 % coverage) and a normal interval.
   Clients who
   leave early are compared with what the case mix predicts for the weeks
   they stayed, not with end-of-program expectations.
5. **Responder rates by program** (:func:`~backpain_analysis.responders.responder_rates`).

Adjustment removes differences in what was measured at baseline only, not in
motivation or anything else that differs between programs' clients.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import pandas as pd
import patsy
import statsmodels.api as sm
from statsmodels.stats.multitest import multipletests

from backpain_analysis.errors import DataError
from backpain_analysis.instruments import Instrument, builtin_instruments, outcome_instrument
from backpain_analysis.mixed import LMMResult, fit_lmm
from backpain_analysis.responders import baseline_scores, responder_rates
from backpain_analysis.tidy import FittedCounts, lmm_contrast, resolve_level, tidy
from backpain_analysis.volume_model import check_min_clients

REFERENCE_NAMES: tuple[str, ...] = ("usual", "usual care", "control", "waitlist")
"""Program names taken as the reference (any case), as CONTRACT section 4 says; else the largest program."""

OVERLAP_FLOOR = 0.05
"""A client whose estimated probability of some program is below this has no comparable clients there."""
OVERLAP_SHARE = 0.10
"""Share of such clients above which programs are said to serve different clients."""

DOUBLY_ROBUST_MIN_CLIENTS = 10
"""Fewest clients per program, measured near the last week reached, for the doubly robust contrast.

Measured on simulated studios (scripts/small_studio_study.py, confounding by
indication and informative dropout, docs/analyses.md): with fewer than 10
clients in the smallest program the propensity model separated (no contrast)
in 30-50 % of studios and the intervals that could be computed covered
92.8-95.2 %; with 10-19, 95-97 %. Below it the contrast is refused with a
sentence in ``notes``; the mixed-model contrast is the one to read.
"""

CLIENT_PER_COLUMN = 5
"""At most one case-mix column per this many clients."""


@dataclass
class ProgramComparison(FittedCounts):
    """A program comparison on one instrument.

    Attributes
    ----------
    params:
        Tidy fixed effects of the mixed model (``term``, ``estimate``,
        ``std_error``, ``statistic``, ``p_value``, ``conf_low``,
        ``conf_high``; raw sign, outcome units): ``program[<name>]`` (level
        against the reference at week 0), ``program[<name>]:week``
        (difference in weekly slope), ``Intercept``, ``week``,
        ``baseline_score`` (per point of the outcome's baseline, centred)
        and one term per other case-mix column.
    contrasts:
        One row per pair of programs and week: ``week``, ``program``,
        ``versus``, ``term`` (``"<program> - <versus>"``), ``estimate``
        (difference in mean outcome at that week for clients with the same
        case mix, raw: positive = higher score), ``std_error``,
        ``statistic``, ``df``, ``p_value``, ``conf_low``, ``conf_high``,
        ``p_value_holm`` (Holm-adjusted over the table), ``improvement``,
        ``improvement_low``, ``improvement_high`` (the same signed so that
        positive = ``program``'s clients are better). ``attrs``: ``family``,
        ``last_week``, ``weeks_dropped``, ``instrument``, ``direction``.
    trajectories:
        Model-based mean per program and week up to the last week reached
        (at the mean case mix): ``program``, ``week``, ``estimate``,
        ``std_error``, ``conf_low``, ``conf_high`` (instrument units).
    responder_rates:
        :func:`~backpain_analysis.responders.responder_rates` by program.
    observed_expected:
        :func:`observed_vs_expected`.
    overlap:
        One row per program of the client and program of the propensity:
        ``program``, ``propensity_of``, ``n_clients``, ``min``, ``q25``,
        ``median``, ``q75``, ``max``; ``attrs["share_outside"]`` (share of
        clients with a probability below :data:`OVERLAP_FLOOR` of some program),
        ``attrs["warning"]`` (``""`` when programs overlap). Empty when the
        propensity model could not be fitted (``notes`` says why).
    doubly_robust:
        AIPW contrasts (same columns as ``contrasts``) when asked, else ``None``;
        also ``None`` when refused (``notes`` says why). ``attrs["smallest_program_clients"]``.
    case_mix:
        The case-mix columns used, in order.
    level:
        Confidence level (``conf_level``: deprecated alias).
    notes:
        Plain-words notes (dropped covariates, weeks, model failures).
    """

    outcome: str
    reference: str
    level: float
    params: pd.DataFrame
    contrasts: pd.DataFrame
    trajectories: pd.DataFrame
    responder_rates: pd.DataFrame
    observed_expected: pd.DataFrame
    lmm: LMMResult
    design: pd.DataFrame
    instrument: Instrument
    overlap: pd.DataFrame
    doubly_robust: pd.DataFrame | None = None
    case_mix: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> pd.DataFrame:
        """``contrasts`` indexed by week and term, for display (a method returning a DataFrame)."""
        return self.contrasts.set_index(["week", "term"])


def default_reference(programs: Sequence[str], sizes: pd.Series) -> str:
    """The reference program: one named as in :data:`REFERENCE_NAMES`, else the one with most clients (ties: first by name)."""
    for program in sorted(programs):
        if program.strip().lower() in REFERENCE_NAMES:
            return program
    return str(sizes.reindex(programs).fillna(0).sort_index(kind="stable").idxmax())


def _client_covariates(panel: pd.DataFrame, exclude: set[str]) -> list[str]:
    """Columns constant within every client (the clients table's covariates), minus ``exclude`` and dates."""
    candidates = [
        c for c in panel.columns if c not in exclude and not pd.api.types.is_datetime64_any_dtype(panel[c]) and not c.endswith("_lag")
    ]
    if not candidates:
        return []
    varying = panel.groupby("client_id", sort=False)[candidates].nunique(dropna=False).max()
    return [c for c in candidates if varying[c] <= 1]


def case_mix_table(
    panel: pd.DataFrame,
    outcome: str,
    clients: pd.Index,
    *,
    by: str = "program",
    case_mix: str | Sequence[str] | None = "auto",
    baseline_max_week: int = 1,
) -> tuple[pd.DataFrame, list[str]]:
    """One row per client (``clients``) of centred case-mix columns, and notes on what was dropped.

    The first column is always ``baseline_score`` (the outcome's baseline).
    ``case_mix``: ``"auto"`` (module docstring), ``None`` (the outcome's
    baseline only) or a list of instrument names (their baselines) and
    client covariates.
    """
    notes: list[str] = []
    instruments = [name for name in builtin_instruments()["name"] if name in panel.columns and name != outcome]
    if case_mix is None:
        wanted: list[str] = []
    elif isinstance(case_mix, str):
        if case_mix != "auto":
            raise ValueError(f"case_mix must be 'auto', None or a list of columns, not {case_mix!r}")
        exposure_like = set(instruments) | {outcome, by, "client_id", "week"}
        wanted = instruments + _client_covariates(panel, exposure_like)
    else:
        wanted = list(case_mix)
        absent = [c for c in wanted if c not in panel.columns]
        if absent:
            raise DataError(f"case_mix column {absent[0]!r} is not in the panel (neither an instrument nor a client covariate)")
    columns: dict[str, pd.Series] = {"baseline_score": baseline_scores(panel, outcome, baseline_max_week)["baseline"].reindex(clients)}
    first = panel.groupby("client_id", sort=False).first()
    for name in wanted:
        if name in instruments or (name in builtin_instruments()["name"].tolist()):
            values = baseline_scores(panel, name, baseline_max_week)["baseline"].reindex(clients)
            label = f"baseline_{name}"
        else:
            values = first[name].reindex(clients)
            label = name
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            values = values.astype(float)
            if values.isna().all():
                notes.append(f"{label}: no client has a value, left out")
                continue
            if values.isna().any():
                columns[f"{label}_missing"] = values.isna().astype(float)
            columns[label] = values.fillna(values.mean())
        else:
            text = values.map(lambda v: "unknown" if pd.isna(v) else str(v))
            for level in sorted(text.unique())[1:]:
                columns[f"{label}[{level}]"] = (text == level).astype(float)
    table = pd.DataFrame(columns, index=clients)
    kept: list[str] = []
    limit = max(1, len(clients) // CLIENT_PER_COLUMN)
    for name in table.columns:
        candidate = table[kept + [name]] - table[kept + [name]].mean()
        if table[name].nunique() <= 1:
            continue
        if np.linalg.matrix_rank(candidate.to_numpy()) < len(kept) + 1:
            notes.append(f"{name}: collinear with earlier case-mix columns, left out")
            continue
        if len(kept) >= limit:
            notes.append(f"{name}: left out (at most one case-mix column per {CLIENT_PER_COLUMN} clients)")
            continue
        kept.append(name)
    if "baseline_score" not in kept:
        kept.insert(0, "baseline_score")
    return table[kept] - table[kept].mean(), notes


def _after_baseline(
    panel: pd.DataFrame, outcome: str, by: str, case_mix, baseline_max_week: int, what: str
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Rows after each client's baseline week with the case mix as columns ``_x0``, ``_x1``, ...

    Returns the rows (``client_id``, ``week``, ``by``, the outcome, ``_x<j>``), the
    client-level case-mix table (index = clients, in row order) and notes.
    """
    base = baseline_scores(panel, outcome, baseline_max_week)
    rows = panel[panel["client_id"].isin(base.index) & panel[outcome].notna()]
    rows = rows[rows["week"] > rows["client_id"].map(base["baseline_week"])][["client_id", "week", by, outcome]].reset_index(drop=True)
    clients = pd.Index(rows["client_id"].unique())
    check_min_clients(len(clients), f"{what} on {outcome} (clients with a {by}, a baseline and later scores)")
    mix, notes = case_mix_table(panel, outcome, clients, by=by, case_mix=case_mix, baseline_max_week=baseline_max_week)
    for j, column in enumerate(mix.columns):
        rows[f"_x{j}"] = rows["client_id"].map(mix[column]).to_numpy(float)
    return rows, mix, notes


def _propensity(case_mix: pd.DataFrame, program: pd.Series, programs: Sequence[str], strict: bool = True) -> pd.DataFrame:
    """Estimated P(program | case mix) per client (columns = programs), by multinomial logit.

    ``strict``: a statsmodels warning (non-convergence, separation) is an
    error; the jackknife refits run with ``strict=False`` (their
    propensities are clipped at 0.01 anyway).
    """
    codes = pd.Categorical(program, categories=programs).codes
    x = sm.add_constant(case_mix.to_numpy(float), has_constant="add")
    with warnings.catch_warnings():
        warnings.simplefilter("error" if strict else "ignore")
        fit = sm.MNLogit(codes, x).fit(disp=False, maxiter=200)
    return pd.DataFrame(np.asarray(fit.predict(x)), index=case_mix.index, columns=list(programs))


def overlap_table(propensity: pd.DataFrame, program: pd.Series) -> pd.DataFrame:
    """Distribution of each program's propensity among each program's clients, with the plain-words warning."""
    rows = []
    outside = (propensity < OVERLAP_FLOOR).any(axis=1)
    for target in propensity.columns:
        for own, values in propensity[target].groupby(program, sort=True):
            q = values.quantile([0, 0.25, 0.5, 0.75, 1]).to_numpy()
            rows.append({"program": own, "propensity_of": target, "n_clients": len(values), "min": q[0], "q25": q[1], "median": q[2], "q75": q[3], "max": q[4]})
    table = pd.DataFrame(rows)
    share = float(outside.mean())
    table.attrs["share_outside"] = share
    table.attrs["warning"] = (
        f"The programs serve different clients: {100 * share:.0f} % of clients have a case mix (baseline scores and "
        f"covariates) almost never seen in some other program (estimated chance below {OVERLAP_FLOOR:.0%}), so the "
        "adjusted comparisons rest on extrapolation for them."
        if share > OVERLAP_SHARE
        else ""
    )
    return table


def _aipw_estimates(y: np.ndarray, program: pd.Series, case_mix: pd.DataFrame, programs: Sequence[str], pairs, strict: bool = True) -> np.ndarray:
    """AIPW contrast estimates (one per pair) with both nuisance models fitted on these clients."""
    propensity = _propensity(case_mix, program, programs, strict)
    dummies = pd.get_dummies(program, dtype=float).reindex(columns=list(programs[1:]), fill_value=0.0)
    x = np.column_stack([np.ones(len(y)), dummies.to_numpy(), case_mix.to_numpy(float)])
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    score = {}
    for j, name in enumerate(programs):
        counterfactual = np.column_stack([np.ones(len(y)), np.eye(len(programs))[np.full(len(y), j)][:, 1:], case_mix.to_numpy(float)])
        mu = counterfactual @ coef
        treated = (program == name).to_numpy(float)
        e = np.clip(propensity[name].to_numpy(float), 0.01, 1.0)
        score[name] = mu + treated * (y - mu) / e
    return np.array([np.mean(score[a] - score[b]) for a, b in pairs])


def _aipw(y: pd.Series, program: pd.Series, case_mix: pd.DataFrame, programs: Sequence[str], pairs, level: float) -> pd.DataFrame:
    """AIPW contrasts of client-level ``y`` between program pairs (module docstring, view 2).

    Standard errors by the jackknife over clients, refitting both nuisance
    models without each client in turn (the influence-function SE, which
    treats them as known, covered 78-83 % at 15-40 clients); t on n - 1 df.
    """
    values = y.to_numpy(float)
    estimates = _aipw_estimates(values, program, case_mix, programs, pairs)
    n = len(values)
    leave_out = np.array(
        [
            _aipw_estimates(np.delete(values, i), program.drop(program.index[i]), case_mix.drop(case_mix.index[i]), programs, pairs, strict=False)
            for i in range(n)
        ]
    )
    if not (np.isfinite(leave_out).all() and np.isfinite(estimates).all()):
        # a leave-one-out propensity fit separated: no standard error, so no estimate (said in words by the caller)
        raise np.linalg.LinAlgError("a leave-one-out propensity fit gave no finite estimate")
    ses = np.sqrt((n - 1) / n * ((leave_out - leave_out.mean(axis=0)) ** 2).sum(axis=0))
    rows = [{"program": a, "versus": b, "term": f"{a} - {b}"} for a, b in pairs]
    return tidy(pd.DataFrame(rows), estimates, ses, df=n - 1, level=level)


def _last_week_reached(design: pd.DataFrame, by: str) -> int:
    """The last week every program reaches: per program the week at least two of its clients reach; the smallest."""
    reach = design.groupby([by, "client_id"])["week"].max()
    per_program = reach.groupby(level=0).apply(lambda w: np.sort(w.to_numpy())[-2] if len(w) >= 2 else w.max())
    return int(per_program.min())


def _holm(table: pd.DataFrame, family: str) -> pd.DataFrame:
    adjusted = multipletests(table["p_value"].to_numpy(float), method="holm")[1] if len(table) else []
    out = table.assign(p_value_holm=adjusted)
    out.attrs.update(table.attrs, family=family)
    return out


def compare_programs(
    panel: pd.DataFrame,
    outcome: str | Instrument = "nprs",
    *,
    weeks: Sequence[int] | None = None,
    reference: str | None = None,
    by: str = "program",
    case_mix: str | Sequence[str] | None = "auto",
    doubly_robust: bool = False,
    with_responders: bool = True,
    baseline_max_week: int = 1,
    level: float = 0.95,
    engine: str = "auto",
    conf_level: float | None = None,
) -> ProgramComparison:
    """Compare programs on one instrument (the views of the module docstring).

    Parameters
    ----------
    panel:
        The weekly panel, with a program column.
    outcome:
        Instrument name (any case) or :class:`~backpain_analysis.instruments.Instrument`.
    weeks:
        Weeks at which programs are contrasted; default: the last week every
        program reaches. Weeks beyond it are dropped (``notes`` says so).
    reference:
        Reference program; default :func:`default_reference`.
    by:
        The client covariate holding the program.
    case_mix:
        ``"auto"`` (every baseline the data has), ``None`` (the outcome's
        baseline only) or a list of instruments and client covariates.
    doubly_robust:
        Add the AIPW contrasts (``ProgramComparison.doubly_robust``).
    with_responders:
        Compute ``responder_rates`` (False: an empty frame; simulation studies skip it).
    baseline_max_week:
        Latest week a first measurement counts as baseline.
    level:
        Level of every interval (``conf_level``: deprecated alias).
    engine:
        Passed to :func:`~backpain_analysis.mixed.fit_lmm`.
    """
    level = resolve_level(level, conf_level)
    spec = outcome_instrument(outcome)
    outcome = spec.name
    if by not in panel.columns:
        raise DataError(f"no '{by}' column: give each client a {by} in clients.csv to compare programs")
    if outcome not in panel.columns:
        raise DataError(f"no outcome '{outcome}' in this dataset")
    panel = panel.assign(**{by: panel[by].map(lambda value: value if pd.isna(value) else str(value))})
    programs = sorted(panel[by].dropna().unique())
    if len(programs) < 2:
        raise DataError(f"only {len(programs)} {by} in the data: at least 2 are needed to compare")
    sizes = panel.groupby(by)["client_id"].nunique()
    reference = default_reference(programs, sizes) if reference is None else reference
    if reference not in programs:
        raise DataError(f"reference {by} '{reference}' is not in the data ({', '.join(programs)})")
    programs = [reference] + [p for p in programs if p != reference]
    design, mix, notes = _after_baseline(panel[panel[by].isin(programs)], outcome, by, case_mix, baseline_max_week, "comparing programs")
    clients = pd.Index(mix.index)
    names = {column: f"_x{i}" for i, column in enumerate(mix.columns)}
    for j in range(1, len(programs)):
        design[f"_p{j}"] = (design[by] == programs[j]).astype(float)
        design[f"_p{j}_week"] = design[f"_p{j}"] * design["week"]
    indicators = [f"_p{j}" for j in range(1, len(programs))]
    slopes = [f"{name}_week" for name in indicators]
    formula = f"{outcome} ~ week + " + " + ".join([*names.values(), "_x0:week", *indicators, *slopes])
    lmm = fit_lmm(design, formula, groups="client_id", re_formula="~ week", reml=True, engine=engine, level=level)
    labels = {"Intercept": "Intercept", "week": "week", "_x0:week": "baseline_score:week", **{v: k for k, v in names.items()}}
    for j, program in enumerate(programs[1:], start=1):
        labels[f"_p{j}"] = f"program[{program}]"
        labels[f"_p{j}_week"] = f"program[{program}]:week"
    params = lmm.params.assign(term=lmm.params["term"].map(labels))
    params.attrs.update(sign_convention="raw: outcome units, positive = higher score", direction=spec.direction, instrument=spec.name)

    last_week = _last_week_reached(design, by)
    asked = [last_week] if weeks is None else [int(w) for w in weeks]
    kept_weeks = [w for w in asked if w <= last_week]
    dropped = [w for w in asked if w > last_week]
    if dropped:
        notes.append(f"weeks {', '.join(map(str, dropped))} are beyond week {last_week}, the last week every {by} reaches: not compared")
    kept_weeks = kept_weeks or [last_week]

    def mean_row(program: str, week: float) -> dict[str, float]:
        """L for the model mean of ``program`` at ``week`` and the mean case mix."""
        values = {"Intercept": 1.0, "week": float(week)}
        j = programs.index(program)
        if j > 0:
            values.update({f"_p{j}": 1.0, f"_p{j}_week": float(week)})
        return values

    def difference(a: str, b: str, week: float) -> dict[str, float]:
        left, right = mean_row(a, week), mean_row(b, week)
        return {k: left.get(k, 0.0) - right.get(k, 0.0) for k in set(left) | set(right)}

    pairs = [(a, b) for b, a in combinations(programs, 2)]
    keys = pd.DataFrame([{"week": w, "program": a, "versus": b, "term": f"{a} - {b}"} for w in kept_weeks for a, b in pairs])
    matrix = pd.DataFrame([difference(a, b, w) for w in kept_weeks for a, b in pairs]).fillna(0.0)
    contrasts = pd.concat([keys, lmm_contrast(lmm, matrix, level)], axis=1)
    family = f"all {len(contrasts)} pairwise {by} contrasts of {outcome} at week(s) {', '.join(map(str, kept_weeks))}"
    contrasts = spec.with_improvement(_holm(contrasts, family))
    contrasts.attrs.update(family=family, last_week=last_week, weeks_dropped=dropped, level=level)
    grid_weeks = [int(w) for w in np.sort(design["week"].unique()) if w <= last_week]
    grid = pd.DataFrame([{"program": p, "week": w} for p in programs for w in grid_weeks])
    means = pd.DataFrame([mean_row(p, w) for p in programs for w in grid_weeks]).fillna(0.0)
    trajectories = pd.concat([grid, lmm_contrast(lmm, means, level)], axis=1)
    trajectories = trajectories.drop(columns=["statistic", "df", "p_value"])

    program = panel.groupby("client_id")[by].first().reindex(clients)
    overlap = pd.DataFrame(columns=["program", "propensity_of", "n_clients", "min", "q25", "median", "q75", "max"])
    propensity = None
    try:
        propensity = _propensity(mix, program, programs)
        overlap = overlap_table(propensity, program)
        if overlap.attrs["warning"]:
            notes.append(overlap.attrs["warning"])
    except Exception as error:  # noqa: BLE001 - statsmodels raises many kinds on separation; reported in words
        notes.append(f"the propensity model (program on case mix) could not be fitted ({type(error).__name__}), so overlap is not assessed")
    robust = None
    if doubly_robust:
        if propensity is None:
            notes.append("no doubly robust contrast: the propensity model could not be fitted")
        else:
            near = design[design["week"].between(last_week - 1, last_week)].sort_values("week").groupby("client_id").tail(1).set_index("client_id")
            near = near.reindex(clients).dropna(subset=[outcome])
            per_program = program[near.index].value_counts().reindex(programs, fill_value=0)
            if per_program.min() < DOUBLY_ROBUST_MIN_CLIENTS:
                notes.append(
                    f"no doubly robust contrast: only {per_program.min()} clients of {per_program.idxmin()} were measured near "
                    f"week {last_week}; with fewer than {DOUBLY_ROBUST_MIN_CLIENTS} clients per {by} it often cannot be estimated "
                    "(the propensity model separates the programs) and its intervals are borderline (simulated coverage down to "
                    "93 %); read the mixed-model contrast"
                )
            else:
                try:
                    robust = _aipw(near[outcome], program[near.index], mix.loc[near.index], programs, pairs, level).assign(week=last_week)
                    robust.attrs["smallest_program_clients"] = int(per_program.min())
                except Exception as error:  # noqa: BLE001 - a leave-one-out propensity fit can separate; said in words
                    notes.append(
                        "no doubly robust contrast: the propensity model refitted without one client could not be fitted "
                        f"(the case mix almost separates the programs; {type(error).__name__}), so it has no standard error"
                    )
        if robust is not None:
            robust = robust[["week", "program", "versus", "term", *[c for c in robust.columns if c not in ("week", "program", "versus", "term")]]]
            robust = spec.with_improvement(_holm(robust, f"all {len(robust)} pairwise AIPW {by} contrasts of {outcome} at week {last_week}"))
    rates = pd.DataFrame()
    if with_responders and spec.mcid_abs is not None:
        rates = responder_rates(panel, spec, baseline_max_week=baseline_max_week, by=by, level=level)
    return ProgramComparison(
        outcome=outcome,
        reference=reference,
        level=level,
        params=params,
        contrasts=contrasts,
        trajectories=trajectories,
        responder_rates=rates,
        observed_expected=observed_vs_expected(
            panel, spec, by=by, case_mix=case_mix, baseline_max_week=baseline_max_week, level=level, engine=engine
        ),
        lmm=lmm,
        design=design,
        instrument=spec,
        overlap=overlap,
        doubly_robust=robust,
        case_mix=list(mix.columns),
        notes=notes,
    )


def _observed_expected_variances(rows: pd.DataFrame, fit: LMMResult, formula: str, program: pd.Series) -> dict[str, float]:
    """Model-based variance of each program's calibrated observed - expected, the expectation fitted on the same clients.

    A program's estimate is ``sum_j w_j r_j`` with ``r_j`` client j's mean
    residual ``mean(y_j - X_j beta_hat)`` and ``w_j = 1{j in p} / n_p - 1 / n``
    (the program's mean residual minus all clients' mean: calibrated so that
    over all clients observed = expected). The GLS expectation is a
    projection of the observed scores, so with ``V_j`` client j's marginal
    covariance under the case-mix model (random intercept and slope plus
    residual), ``m_j`` its number of scores and ``z_p = sum_j w_j mean(X_j)``,

        Var(O - E)_p = sum_j w_j^2 1'V_j 1 / m_j^2  -  z_p' Cov(beta) z_p.

    The between-client spread of (observed - expected) alone ignores that
    the expectation was fitted to these very clients and overstates the SE
    (by about ``1 / sqrt(1 - n_p / n)``: 99 % coverage of 95 % intervals).
    """
    cov_re = fit.cov_re().to_numpy(float)
    names = list(fit.cov_params().index)
    x = patsy.dmatrix(formula.split("~", 1)[1], rows, return_type="dataframe")[names].to_numpy(float)
    z = np.column_stack([np.ones(len(rows)), rows["week"].to_numpy(float)])
    codes, clients = pd.factorize(rows["client_id"])
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(clients) + 1))
    gls = np.zeros((x.shape[1], x.shape[1]))
    mean_row = np.empty((len(clients), x.shape[1]))
    own = np.empty(len(clients))
    for j in range(len(clients)):
        idx = order[bounds[j] : bounds[j + 1]]
        v = z[idx] @ cov_re @ z[idx].T + fit.scale * np.eye(len(idx))
        gls += x[idx].T @ np.linalg.solve(v, x[idx])
        mean_row[j] = x[idx].mean(axis=0)
        own[j] = v.sum() / len(idx) ** 2
    cov_beta = np.linalg.inv(gls)
    member_of = program.reindex(clients).to_numpy()
    out = {}
    for name in np.unique(member_of):
        weights = (member_of == name) / np.sum(member_of == name) - 1.0 / len(clients)
        z_p = weights @ mean_row
        out[str(name)] = max(float(weights**2 @ own - z_p @ cov_beta @ z_p), 0.0)
    return out


def observed_vs_expected(
    panel: pd.DataFrame,
    outcome: str | Instrument,
    *,
    by: str = "program",
    case_mix: str | Sequence[str] | None = "auto",
    baseline_max_week: int = 1,
    level: float = 0.95,
    engine: str = "auto",
    conf_level: float | None = None,
) -> pd.DataFrame:
    """Each program's observed minus case-mix-expected mean score over its clients' own follow-up (module docstring, view 4).

    Returns
    -------
    DataFrame, one row per program: ``program``, ``n_clients``,
    ``observed`` (mean over clients of their mean score after baseline,
    instrument units), ``expected`` (mean of the case-mix model's
    prediction for the same client-weeks, calibrated: shifted by all
    clients' mean of observed - predicted, so that over the whole studio
    observed = expected), ``estimate`` (``observed -
    expected`` signed so that positive = better than expected),
    ``std_error`` (model-based, counting that the expectation is fitted to
    these same clients: :func:`_observed_expected_variances`),
    ``statistic`` (z), ``df`` (NaN: normal intervals), ``p_value``,
    ``conf_low``, ``conf_high``, ``improvement``, ``improvement_low``,
    ``improvement_high`` (equal to ``estimate`` and its interval: already
    signed). ``attrs``: ``level``, ``outcome``, ``model``, ``direction``.
    """
    level = resolve_level(level, conf_level)
    spec = outcome_instrument(outcome)
    outcome = spec.name
    if by not in panel.columns:
        raise DataError(f"no '{by}' column: give each client a {by} in clients.csv to compare programs")
    rows, mix, _ = _after_baseline(panel[panel[by].notna()], outcome, by, case_mix, baseline_max_week, "observed vs expected")
    names = {column: f"_x{i}" for i, column in enumerate(mix.columns)}
    formula = f"{outcome} ~ week + _x0:week + " + " + ".join(names.values())
    fit = fit_lmm(rows, formula, groups="client_id", re_formula="~ week", reml=True, engine=engine)
    rows["_expected"] = fit.predict(rows, include_random=False).to_numpy(float)
    per_client = rows.groupby("client_id", sort=False).agg(program=(by, "first"), observed=(outcome, "mean"), expected=("_expected", "mean"))
    per_client["program"] = per_client["program"].astype(str)
    # calibrated (indirect standardisation against the whole studio): over all clients observed = expected
    per_client["expected"] += float((per_client["observed"] - per_client["expected"]).mean())
    per_client["signed"] = spec.sign * (per_client["observed"] - per_client["expected"])
    variances = _observed_expected_variances(rows, fit, formula, per_client["program"])
    out_rows, estimates, ses = [], [], []
    for program, members in per_client.groupby("program", sort=True):
        out_rows.append({"program": program, "n_clients": len(members), "observed": members["observed"].mean(), "expected": members["expected"].mean()})
        estimates.append(members["signed"].mean())
        ses.append(float(np.sqrt(variances[program])))
    # normal intervals: the SE is model-based, from REML variance components that pool every score (t on the
    # between-client residual df covered 97-98 % at 15-25 clients in the simulated studios, normal 95-96 %)
    out = tidy(pd.DataFrame(out_rows), estimates, ses, df=None, level=level)
    out = out.assign(improvement=out["estimate"], improvement_low=out["conf_low"], improvement_high=out["conf_high"])
    out.attrs.update(
        level=level,
        conf_level=level,
        outcome=outcome,
        instrument=spec.name,
        direction=spec.direction,
        sign_convention="estimate and improvement*: positive = better than the case mix predicts",
        model=f"{outcome} ~ week + case mix ({', '.join(mix.columns)}), random intercept and slope; expected over each client's own measured weeks",
    )
    return out
