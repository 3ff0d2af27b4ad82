"""Linear mixed models on any long DataFrame: ``fit_lmm`` and its result, ``LMMResult``.

One grouping factor, Gaussian outcome, random intercept and/or slopes per
group (``re_formula``), REML or ML. Two engines find the covariance
parameters; everything reported is then computed the same way from them:

- ``"fast"`` (the default through ``"auto"``): the profiled deviance of
  :mod:`backpain_analysis.mixed_engine`, lme4's approach, over all groups at once.
- ``"statsmodels"``: statsmodels ``MixedLM`` run with L-BFGS, then, while the
  optimum check fails, Nelder-Mead and Powell started from the best point,
  keeping the best criterion (statsmodels' default chain, or L-BFGS alone,
  can stop short of the optimum).

Given the covariance parameters ``theta`` (lme4's relative Cholesky factor),
the fixed effects are the generalised least-squares estimate and their
covariance is ``sigma^2 (X' V^{-1} X)^{-1}`` at ``theta``, as in lme4.
Statistics, p-values and intervals use Student's t with denominator degrees
of freedom per term or contrast (``ddf``): Satterthwaite's as R's lmerTest
computes them (the default), Kenward-Roger's as R's pbkrtest (adjusted
standard errors and df), or none (``"z"``: Wald z, normal reference, as
statsmodels). Log-likelihoods, AIC and BIC follow lme4: for a REML fit they use
the REML log-likelihood, with ``p + len(theta) + 1`` parameters, and BIC uses
the number of rows.

Knows nothing of the data's meaning (architecture: engine layer).
"""

from __future__ import annotations

import ast
import functools
import html
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import patsy
import patsy.builtins
from scipy import linalg, special

from backpain_analysis import mixed_engine as me
from backpain_analysis.errors import DataError

DDF_METHODS = me.DDF_METHODS
"""Accepted values of ``fit_lmm(ddf=...)`` and ``LMMResult.contrast(ddf=...)``."""

_DDF_LABELS = {"satterthwaite": "Satterthwaite t", "kenward-roger": "Kenward-Roger t", "z": "Wald z"}

TIDY_COLUMNS = ["term", "estimate", "std_error", "statistic", "df", "p_value", "conf_low", "conf_high"]
"""Columns of ``LMMResult.params`` and of :meth:`LMMResult.contrast`, in order."""

ENGINES = ("auto", "fast", "statsmodels")
"""Accepted values of ``fit_lmm(engine=...)``; ``auto`` always uses ``fast``,
which supports every structure ``fit_lmm`` accepts."""

_FORMULA_FUNCTIONS = {"np": np, "numpy": np}
"""Modules a formula may use, besides patsy's own names (``C``, ``I``, ``Q``, ``Sum``, ``center``, ...)."""

_FORMULA_NAMES = frozenset(_FORMULA_FUNCTIONS) | frozenset(patsy.builtins.__all__) | {"True", "False", "None"}
"""Names in a formula that are not columns."""


_NO_NA_CHECK = patsy.NAAction(NA_types=[])


_Columns = tuple[np.ndarray | None, ...]
"""A matrix by its columns, each ``(n,)`` float; ``None`` is a column of ones (an intercept)."""


@dataclass(frozen=True)
class _Design:
    """The numeric model: its columns plus what ``predict`` needs to rebuild them.

    The fixed- and random-effects matrices are kept as columns (views of the
    caller's data where a column enters as it is, ``None`` for an intercept):
    the engine needs only their cross-products, so a fit never writes the
    ``n x p`` matrix; :attr:`x` and :attr:`z` build it on first use
    (``predict``, the statsmodels engine, a collinearity diagnosis).
    """

    y: np.ndarray
    x_columns: _Columns
    z_columns: _Columns
    codes: np.ndarray
    levels: pd.Index
    x_info: patsy.DesignInfo
    z_info: patsy.DesignInfo
    index: pd.Index
    n_dropped: int
    dropped_by_column: dict[str, int]

    @property
    def fixed_names(self) -> list[str]:
        return list(self.x_info.column_names)

    @property
    def random_names(self) -> list[str]:
        return list(self.z_info.column_names)

    @functools.cached_property
    def x(self) -> np.ndarray:
        """``(n, p)`` fixed-effects matrix."""
        return _dense(self.x_columns, len(self.y))

    @functools.cached_property
    def z(self) -> np.ndarray:
        """``(n, q)`` random-effects matrix."""
        return _dense(self.z_columns, len(self.y))

    def statistics(self) -> me.SufficientStatistics:
        """The engine's per-group cross-products, from the columns."""
        return me.column_statistics(self.x_columns, self.z_columns, self.y, self.codes, len(self.levels))


def _dense(columns: _Columns, n: int) -> np.ndarray:
    matrix = np.empty((n, len(columns)), order="F")
    for j, column in enumerate(columns):
        matrix[:, j] = 1.0 if column is None else column
    return matrix


def _formula_names(code: str) -> set[str]:
    """Names one formula factor reads: bare names and ``Q("...")`` strings, not called functions or modules."""
    tree = ast.parse(code.strip(), mode="eval")
    skip: set[int] = set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            skip.add(id(node.func))
            if node.func.id == "Q" and node.args and isinstance(node.args[0], ast.Constant):
                names.add(str(node.args[0].value))
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            skip.add(id(node.value))
    names.update(node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and id(node) not in skip)
    return names


def _used_columns(data: pd.DataFrame, formulas: list[str], groups: str) -> tuple[list[str], str]:
    """Columns the model uses (``groups`` last) and the outcome's column; DataError for absent ones."""
    columns = [str(c) for c in data.columns]
    used: list[str] = []
    outcome = ""
    for formula in formulas:
        try:
            desc = patsy.ModelDesc.from_formula(formula)
        except patsy.PatsyError as error:
            raise DataError(f"cannot read formula {formula!r}: {str(error).splitlines()[0]}") from None
        for side, terms in (("lhs", desc.lhs_termlist), ("rhs", desc.rhs_termlist)):
            for term in terms:
                for factor in term.factors:
                    try:
                        names = _formula_names(factor.code)
                    except SyntaxError:
                        raise DataError(f"cannot read term {factor.code!r} of formula {formula!r}") from None
                    for name in sorted(names):
                        if name in columns:
                            used.append(name)
                        elif name not in _FORMULA_NAMES:
                            raise DataError(_absent(name, columns, formula))
                    if side == "lhs":
                        outcome = factor.code
    if groups not in columns:
        raise DataError(_absent(groups, columns, "groups"))
    return list(dict.fromkeys(used + [groups])), outcome


def _absent(name: str, columns: list[str], where: str) -> str:
    near = [c for c in columns if c.lower() == name.lower()]
    hint = f" (did you mean {near[0]!r}?)" if near else f"; columns are: {', '.join(columns[:12])}"
    return f"{where!r} names column {name!r}, which is not in the data{hint}"


def _build_design(data: pd.DataFrame, formula: str, groups: str, re_formula: str | None) -> _Design:
    """Drop incomplete rows, evaluate both formulas with patsy, check the model can be fitted."""
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"data must be a pandas DataFrame, not {type(data).__name__}")
    if "~" not in formula or not formula.split("~")[0].strip():
        raise DataError(f"formula {formula!r} needs an outcome: write it as 'outcome ~ terms'")
    re_formula = re_formula if re_formula is not None else "~ 1"
    if not re_formula.strip().startswith("~"):
        re_formula = "~ " + re_formula
    used, outcome = _used_columns(data, [formula, re_formula], groups)
    if outcome in data.columns and not (
        pd.api.types.is_numeric_dtype(data[outcome]) and not pd.api.types.is_bool_dtype(data[outcome])
    ):
        raise DataError(f"outcome {outcome!r} is not numeric (dtype {data[outcome].dtype}); convert it with pd.to_numeric")
    # Columns by name share the caller's memory (copy-on-write); data[used] would copy every column.
    frame = (
        pd.DataFrame({c: data[c] for c in used}, copy=False) if data.columns.is_unique and not isinstance(data.columns, pd.MultiIndex)
        else data[used]
    )
    complete, dropped_by_column = _complete_rows(frame)
    if complete is not None:
        frame = frame.loc[complete]
    if frame.empty:
        raise DataError(f"no complete rows: every row misses a value in one of {', '.join(used)}")
    env = patsy.EvalEnvironment([_FORMULA_FUNCTIONS])
    try:
        with np.errstate(invalid="ignore", divide="ignore"):
            # Rows are complete already; values a transformation makes missing are caught by _check_estimable.
            built = _plain_numeric_design(frame, formula, re_formula, env) or _patsy_design(frame, formula, re_formula, env)
    except patsy.PatsyError as error:
        raise DataError(f"cannot build the model from {formula!r} / {re_formula!r}: {str(error).splitlines()[0]}") from None
    (_, y), (x_info, x), (z_info, z) = built
    if len(y) != 1:
        raise DataError(f"outcome {outcome!r} is not numeric; convert it with pd.to_numeric")
    if not z:
        raise DataError(f"re_formula {re_formula!r} has no random effect; use '~ 1' for a random intercept")
    codes, levels = _group_codes(frame[groups])
    design = _Design(
        y=np.ones(len(frame)) if y[0] is None else y[0],
        x_columns=x,
        z_columns=z,
        codes=codes,
        levels=levels,
        x_info=x_info,
        z_info=z_info,
        index=frame.index,
        n_dropped=0 if complete is None else int((~complete).sum()),
        dropped_by_column=dropped_by_column,
    )
    _check_shape(design, groups)
    return design


def _complete_rows(frame: pd.DataFrame) -> tuple[np.ndarray | None, dict[str, int]]:
    """Mask of rows with no missing value (None when all are complete) and the missing count per column."""
    if not any(frame[c].hasnans for c in frame.columns):
        return None, {}
    missing = frame.isna()
    return ~missing.any(axis=1).to_numpy(), {c: int(n) for c, n in missing.sum().items() if n}


def _group_codes(column: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """``pd.factorize(column, sort=True)``'s codes (as ``intp``) and levels, in one pass when rows come in sorted runs.

    A panel lists each group's rows together in sorted order: then the
    groups start where a value differs from the one before, and when those
    first values strictly increase the codes are a running count of the
    starts (no hashing, no sort). Any other order, or values that cannot be
    compared, go through ``pd.factorize``.
    """
    values = column.array
    try:
        if len(values) > 1:
            starts = np.flatnonzero(np.asarray(values[1:] != values[:-1], dtype=bool)) + 1
            levels = values.take(np.concatenate([[0], starts]))
            if np.all(np.asarray(levels[1:] > levels[:-1], dtype=bool)):
                codes = np.zeros(len(values), dtype=np.intp)
                codes[starts] = 1
                return np.cumsum(codes, out=codes), pd.Index(levels, dtype=values.dtype)
    except (TypeError, ValueError):
        pass
    try:
        codes, levels = pd.factorize(column, sort=True)
    except TypeError:
        codes, levels = pd.factorize(column)
    return codes.astype(np.intp), pd.Index(levels)


_Built = tuple[tuple[patsy.DesignInfo, _Columns], ...]
"""Outcome, fixed- and random-effects designs: each its ``DesignInfo`` and its columns."""


def _patsy_design(frame: pd.DataFrame, formula: str, re_formula: str, env: patsy.EvalEnvironment) -> _Built:
    """Outcome, fixed- and random-effects columns built by patsy (any formula)."""
    y, x = patsy.dmatrices(formula, frame, eval_env=env, NA_action=_NO_NA_CHECK)
    matrices = (y, x, patsy.dmatrix(re_formula, frame, eval_env=env, NA_action=_NO_NA_CHECK))
    built = []
    for matrix in matrices:
        values = np.asfortranarray(matrix, dtype=float)
        built.append((matrix.design_info, tuple(values[:, j] for j in range(values.shape[1]))))
    return tuple(built)


def _plain_numeric_design(frame: pd.DataFrame, formula: str, re_formula: str, env: patsy.EvalEnvironment) -> _Built | None:
    """The same designs as :func:`_patsy_design` without patsy's per-row work, or None.

    Applies when every factor of both formulas is a numeric (not boolean)
    column named as it is (``y ~ a + b + a:b``, no ``C()``, ``np.log()``,
    ``I()``, ``Q()``): patsy then only multiplies columns. patsy builds the
    designs (column names, order, the ``DesignInfo`` that ``predict``
    reuses) from the first two rows, in one call and without their matrices;
    a term of one column is that column of the frame (no copy), a product of
    columns is formed once, the intercept is ``None`` (ones).
    """
    try:  # A formula the first rows cannot build (a reference level they lack) goes the whole way through patsy.
        fixed, random = patsy.ModelDesc.from_formula(formula), patsy.ModelDesc.from_formula(re_formula)
        head = frame.iloc[:2]
        infos = patsy.design_matrix_builders(
            [fixed.lhs_termlist, fixed.rhs_termlist, random.rhs_termlist], lambda: iter([head]), env, _NO_NA_CHECK
        )
    except patsy.PatsyError:
        return None
    for info in infos:
        for factor, factor_info in info.factor_infos.items():
            column = getattr(factor, "code", None)
            if not (
                factor_info.type == "numerical"
                and factor_info.num_columns == 1
                and column in frame.columns
                and pd.api.types.is_numeric_dtype(frame[column])
                and not pd.api.types.is_bool_dtype(frame[column])
            ):
                return None
    values: dict[str, np.ndarray] = {}
    built = []
    for info in infos:
        columns: list[np.ndarray | None] = [None] * len(info.column_names)
        for term, where in info.term_slices.items():
            factors = []
            for factor in term.factors:
                if factor.code not in values:
                    values[factor.code] = frame[factor.code].to_numpy(dtype=float)
                factors.append(values[factor.code])
            columns[where.start] = factors[0] if len(factors) == 1 else np.multiply.reduce(factors) if factors else None
        built.append((info, tuple(columns)))
    return tuple(built)


def _check_shape(design: _Design, groups: str) -> None:
    """DataError when there are too few rows or groups for the model."""
    n, p = len(design.y), len(design.x_columns)
    q, g = len(design.z_columns), len(design.levels)
    if p == 0:
        raise DataError("the formula has no fixed effects; write 'outcome ~ 1' for an intercept only")
    if n <= p:
        raise DataError(f"{n} complete rows for {p} fixed-effect columns: need more rows than columns")
    if g < q + 1 or n <= q * g:
        raise DataError(
            f"{g} groups of {groups!r} and {n} complete rows cannot support {q} random effect(s) per group "
            f"(need at least {q + 1} groups and more than {q} rows per group on average)"
        )


def _check_estimable(design: _Design, stats: me.SufficientStatistics) -> None:
    """DataError when the fixed effects cannot be estimated: missing or infinite values, collinear columns.

    Decided from the statistics' ``[X y]'[X y]`` (no pass over the rows)
    unless a column is nearly collinear: then the pivoted QR of ``X`` names the culprits.
    """
    p = len(design.x_columns)
    if not np.all(np.isfinite(stats.wtw)):
        if not all(np.all(np.isfinite(c)) for c in (*design.x_columns, design.y) if c is not None):
            raise DataError(
                "the model's columns hold missing or infinite values (check transformations such as np.log of 0 or of a negative number)"
            )
        raise DataError("the model's columns hold values too large to square (beyond 1e150): rescale them")
    # Fast path: the unit-diagonal cross-product is clearly positive definite (no column within
    # R^2 > 1 - 1e-8 of the others). Otherwise the pivoted QR of X decides, and names the culprits.
    xtx = stats.wtw[:p, :p]
    scale = np.sqrt(np.diag(xtx))
    if np.all(scale > 0) and np.linalg.eigvalsh(xtx / np.outer(scale, scale))[0] > 1e-8:
        return
    n = len(design.y)
    r, pivots = linalg.qr(design.x, mode="r", pivoting=True)
    diag = np.abs(np.diag(r))
    rank = int((diag > diag.max() * max(n, p) * np.finfo(float).eps).sum())
    if rank < p:
        names = ", ".join(repr(design.fixed_names[j]) for j in pivots[rank:])
        raise DataError(f"fixed-effect columns are collinear: {names} duplicate other terms; drop them from the formula")


def _fast_theta(deviance: me.ProfiledDeviance) -> tuple[np.ndarray, str, list[str], me.OptimumCheck]:
    optimum = me.minimize_deviance(deviance)
    return optimum.theta, f"fast: {optimum.optimizer}", [], optimum.check


def _statsmodels_theta(design: _Design, deviance: me.ProfiledDeviance, reml: bool) -> tuple[np.ndarray, str, list[str], None]:
    """statsmodels MixedLM: L-BFGS, then Nelder-Mead and Powell from the best point, until the optimum check passes.

    Each attempt's covariance is converted to ``theta`` and scored with the
    same profiled deviance, so attempts compare on one scale; the best is kept.
    """
    from statsmodels.regression.mixed_linear_model import MixedLM

    model = MixedLM(design.y, design.x, groups=design.codes, exog_re=design.z)
    best: tuple[float, np.ndarray, object, str, list[str]] | None = None
    trace: list[str] = []
    for method in ("lbfgs", "nm", "powell"):
        options: dict[str, object] = {} if method == "lbfgs" else {"maxiter": 2000 * me.n_theta(len(design.z_columns))}
        if best is not None:
            options["start_params"] = best[2].params_object
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                result = model.fit(reml=reml, method=method, **options)
            except (np.linalg.LinAlgError, ValueError) as error:
                trace.append(f"{method} failed ({error})")
                continue
        if not (np.isfinite(result.scale) and result.scale > 0):
            trace.append(f"{method} failed (residual variance {result.scale})")
            continue
        theta = me.theta_from_covariance(np.asarray(result.cov_re) / result.scale)
        value = deviance(theta)
        trace.append(f"{method} {value:.4f}")
        if best is None or value < best[0]:
            notes = list(dict.fromkeys(f"statsmodels {method}: {w.message}" for w in caught))
            if not result.converged:
                notes.append(f"statsmodels {method} reported no convergence")
            best = (value, theta, result, method, notes)
            if me.check_optimum(deviance, theta).converged:
                break
    if best is None:
        raise DataError(f"statsmodels MixedLM could not fit this model: {'; '.join(trace)}")
    return best[1], f"statsmodels: {', '.join(trace)} (-2 log L); kept {best[3]}", best[4], None


def fit_lmm(
    data: pd.DataFrame,
    formula: str,
    groups: str,
    re_formula: str | None = None,
    reml: bool = True,
    *,
    engine: str = "auto",
    ddf: str = "satterthwaite",
    level: float = 0.95,
    conf_level: float | None = None,
) -> LMMResult:
    """Fit a linear mixed model with one grouping factor.

    Parameters
    ----------
    data:
        Long table, one row per observation. Rows with a missing value in any
        column the model uses (outcome, terms, ``groups``) are dropped and
        counted (``LMMResult.n_dropped``).
    formula:
        patsy formula of the fixed part, e.g. ``"y ~ x1 * x2 + week"``
        (``C(col)`` for a categorical, ``np.log(x)``, ``I(x ** 2)``, ``Q("odd name")``).
    groups:
        Column identifying the group (client, subject) of each row.
    re_formula:
        Random effects per group, like statsmodels: ``None`` or ``"~ 1"`` a random
        intercept; ``"~ week"`` intercept and slope for ``week`` (correlated);
        ``"~ 0 + week"`` slope only.
    reml:
        Restricted maximum likelihood (default) or maximum likelihood.
    engine:
        ``"auto"`` (= ``"fast"``), ``"fast"`` or ``"statsmodels"`` (see the module docstring).
    ddf:
        Denominator degrees of freedom of ``params`` (and the default of
        :meth:`LMMResult.contrast`): ``"satterthwaite"`` (lmerTest's),
        ``"kenward-roger"`` (pbkrtest's adjusted covariance and df; REML fits
        only) or ``"z"`` (Wald z, ``df`` NaN).
    level:
        Confidence level of the intervals in ``params``, in (0, 1).
    conf_level:
        Deprecated name of ``level`` (kept for one release).

    Returns
    -------
    LMMResult

    Raises
    ------
    DataError
        A formula names a column the data does not have, the outcome is not
        numeric, the fixed effects are collinear, or there are too few groups
        or rows for the random-effects structure (at least ``q + 1`` groups and
        more than ``q`` rows per group on average for ``q`` random effects);
        an unknown ``engine`` or ``ddf``, a ``level`` outside (0, 1),
        Kenward-Roger with ``reml=False``.
    """
    if engine not in ENGINES:
        raise DataError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    if conf_level is not None:
        warnings.warn("fit_lmm(conf_level=...) is deprecated: use level=...", DeprecationWarning, stacklevel=2)
        level = conf_level
    _check_level(level)
    _check_ddf(ddf, reml)
    with me.one_blas_thread():
        design = _build_design(data, formula, groups, re_formula)
        sufficient = design.statistics()
        _check_estimable(design, sufficient)
        deviance = me.ProfiledDeviance(sufficient, reml=reml)
        if engine == "statsmodels":
            theta, optimizer, messages, check = _statsmodels_theta(design, deviance, reml)
        else:
            theta, optimizer, messages, check = _fast_theta(deviance)
        return LMMResult._from_theta(
            design=design,
            deviance=deviance,
            theta=theta,
            spec=_Spec(formula, groups, re_formula if re_formula is not None else "~ 1", reml, engine, ddf, level),
            optimizer=optimizer,
            engine_messages=messages,
            check=check,
        )


def _check_level(level: float) -> None:
    if not (isinstance(level, (int, float, np.floating)) and 0.0 < level < 1.0):
        raise DataError(f"level must be a number between 0 and 1 (0.95 for 95 % intervals), not {level!r}")


def _check_ddf(ddf: str, reml: bool) -> None:
    if ddf not in DDF_METHODS:
        raise DataError(f"ddf must be one of {', '.join(DDF_METHODS)}, not {ddf!r}")
    if ddf == "kenward-roger" and not reml:
        raise DataError("ddf='kenward-roger' needs a REML fit (reml=True), as in pbkrtest")


@dataclass(frozen=True)
class _Spec:
    formula: str
    groups: str
    re_formula: str
    reml: bool
    engine: str
    ddf: str
    level: float


@dataclass(eq=False, repr=False)
class LMMResult:
    """A fitted linear mixed model.

    Attributes
    ----------
    params:
        Fixed effects, one row per term, columns :data:`TIDY_COLUMNS`:
        ``term`` (patsy's column name, the intercept is ``Intercept``),
        ``estimate``, ``std_error`` (Kenward-Roger: adjusted), ``statistic``
        (``estimate / std_error``, t or z), ``df`` (denominator degrees of
        freedom, NaN for z), ``p_value`` (two-sided), ``conf_low``,
        ``conf_high`` (interval at ``level``). Units: outcome units per unit
        of the term. ``params.attrs`` holds ``level`` and ``ddf``.
    level:
        Confidence level of the intervals in ``params`` (``conf_level`` is a deprecated alias).
    ddf:
        How ``df`` was computed: ``"satterthwaite"``, ``"kenward-roger"`` or ``"z"``.
    variance_components:
        ``group`` (the grouping column, or ``Residual``), ``term`` (broom.mixed
        style: ``sd__Intercept``, ``cor__Intercept.week``, ``sd__Observation``),
        ``kind`` (``sd`` or ``cor``), ``var1``, ``var2`` (random-effect
        terms; ``var2`` only for correlations), ``estimate`` (SD in outcome
        units per unit of ``var1``; correlation unitless, NaN when an SD is 0).
    random_effects:
        Conditional modes (BLUPs) per group: ``level`` (the group's value),
        ``term``, ``estimate`` (deviation from the fixed effect), ``std_error``
        (conditional SD given the estimated parameters, lme4's ``condVar``).
    converged:
        The optimum check passed: every component of the Newton step
        ``H^{-1} g`` of the deviance in ``theta`` is below 0.002 (lme4's rule).
    boundary:
        Some random-effect SD is exactly 0 (a diagonal ``theta`` is 0): the
        estimate lies on the boundary of the parameter space.
    singular:
        The random-effects covariance is singular or nearly so (a diagonal
        ``theta`` below 1e-4, lme4's ``isSingular``); correlations of +-1 and
        zero SDs are of this kind. Simplify ``re_formula``.
    optimizer:
        The engine and optimisers run (for statsmodels, each attempt's ``-2 log L``).
    gradient_norm:
        Euclidean norm of the gradient of ``-2 log L`` with respect to ``theta`` at the estimate.
    messages:
        Problems and notes as text (non-convergence, singular fit, dropped rows, statsmodels warnings).
    loglik:
        Log-likelihood at the estimate (REML log-likelihood for a REML fit).
    reml_criterion:
        ``-2 loglik`` for a REML fit, lme4's "REML criterion"; NaN for an ML fit.
    aic, bic:
        ``-2 loglik + 2 k`` and ``-2 loglik + log(nobs) k``, ``k = p + len(theta) + 1``.
    nobs, ngroups, n_dropped:
        Rows used, groups, rows dropped for missing values.
    theta:
        lme4's covariance parameters (relative Cholesky factor, column-major).
    scale:
        Residual variance ``sigma^2``.
    """

    params: pd.DataFrame
    level: float
    ddf: str
    variance_components: pd.DataFrame
    random_effects: pd.DataFrame
    converged: bool
    boundary: bool
    singular: bool
    optimizer: str
    gradient_norm: float
    messages: list[str]
    loglik: float
    reml_criterion: float
    aic: float
    bic: float
    nobs: int
    ngroups: int
    n_dropped: int
    theta: np.ndarray
    scale: float
    formula: str
    groups: str
    re_formula: str
    reml: bool
    engine: str
    _beta: np.ndarray
    _cov_beta: np.ndarray
    _cov_re: np.ndarray
    _blups: np.ndarray
    _design: _Design
    _deviance: me.ProfiledDeviance
    _check: me.OptimumCheck
    _bases: dict[str, me.ContrastBasis] = field(default_factory=dict)

    @classmethod
    def _from_theta(
        cls,
        design: _Design,
        deviance: me.ProfiledDeviance,
        theta: np.ndarray,
        spec: _Spec,
        optimizer: str,
        engine_messages: list[str],
        check: me.OptimumCheck | None = None,
    ) -> LMMResult:
        sol = deviance.solution(theta)
        if check is None:
            check = me.check_optimum(deviance, theta)
        q = len(design.z_columns)
        diag_theta = np.abs(np.asarray(theta)[me.identity_theta(q) == 1.0])
        n, p = len(design.y), len(design.x_columns)
        k = p + len(theta) + 1
        messages = _status_messages(design, spec, check, diag_theta) + engine_messages
        result = cls(
            params=pd.DataFrame(columns=TIDY_COLUMNS),
            level=spec.level,
            ddf=spec.ddf,
            variance_components=_variance_components(design.random_names, spec.groups, sol.sigma2 * sol.relative_cov, sol.sigma2),
            random_effects=_random_effects(design, sol),
            converged=check.converged,
            boundary=bool(np.any(diag_theta == 0.0)),
            singular=bool(np.any(diag_theta < me.SINGULAR_TOL)),
            optimizer=optimizer,
            gradient_norm=float(np.linalg.norm(check.gradient)),
            messages=messages,
            loglik=-sol.deviance / 2.0,
            reml_criterion=sol.deviance if spec.reml else float("nan"),
            aic=sol.deviance + 2.0 * k,
            bic=sol.deviance + np.log(n) * k,
            nobs=n,
            ngroups=len(design.levels),
            n_dropped=design.n_dropped,
            theta=np.asarray(theta, dtype=float),
            scale=sol.sigma2,
            formula=spec.formula,
            groups=spec.groups,
            re_formula=spec.re_formula,
            reml=spec.reml,
            engine=spec.engine,
            _beta=sol.beta,
            _cov_beta=sol.cov_beta,
            _cov_re=sol.sigma2 * sol.relative_cov,
            _blups=sol.random_effects,
            _design=design,
            _deviance=deviance,
            _check=check,
        )
        result.params = result.contrast(np.eye(p), names=design.fixed_names)
        return result

    @property
    def conf_level(self) -> float:
        """Deprecated alias of :attr:`level`."""
        return self.level

    def _basis(self, ddf: str) -> me.ContrastBasis:
        """The standard-error and df ingredients for ``ddf``, computed once per result."""
        if ddf not in self._bases:
            _check_ddf(ddf, self.reml)
            basis = me.wald_basis(self._cov_beta)
            try:
                if ddf == "satterthwaite":
                    basis = me.satterthwaite_basis(self._deviance, self.theta, self._check.hessian)
                elif ddf == "kenward-roger":
                    basis = me.kenward_roger_basis(self._deviance, self.theta)
            except (np.linalg.LinAlgError, ValueError) as error:
                self.messages.append(f"{ddf} degrees of freedom could not be computed ({error}): df NaN, normal reference")
            self._bases[ddf] = basis
        return self._bases[ddf]

    def contrast(
        self,
        weights: Mapping[str, float] | pd.Series | pd.DataFrame | np.ndarray | list,
        level: float | None = None,
        *,
        ddf: str | None = None,
        null: float | np.ndarray = 0.0,
        names: list[str] | None = None,
    ) -> pd.DataFrame:
        """Linear contrasts ``c = L beta`` of the fixed effects as a tidy table (lmerTest's ``contest1D`` per row).

        Parameters
        ----------
        weights:
            ``L``, the fixed-effect weights of one or more contrasts:
            a dict or Series ``{term: weight}`` (absent terms weigh 0) for one
            contrast; a 1-D array of length ``p`` in the order of
            ``params["term"]``; a 2-D ``(m, p)`` array, one contrast per row; or
            a DataFrame whose columns are terms (absent terms weigh 0), one
            contrast per row, named by its index unless ``names`` is given.
        level:
            Confidence level of the intervals; default the fit's ``level``.
        ddf:
            ``"satterthwaite"``, ``"kenward-roger"`` or ``"z"``; default the fit's ``ddf``.
        null:
            Value of ``c`` under the null hypothesis (scalar or one per contrast) for ``statistic`` and ``p_value``.
        names:
            Labels for the ``term`` column; default the DataFrame's index or a
            formula of the weights such as ``"a - b"`` or ``"0.5*a + 0.5*b"``.

        Returns
        -------
        DataFrame, one row per contrast, columns :data:`TIDY_COLUMNS`:
        ``term`` (the label); ``estimate`` (``L beta``, outcome units);
        ``std_error`` (``sqrt(L' cov L)``, Kenward-Roger's adjusted ``cov``
        for that method); ``statistic`` (``(estimate - null) / std_error``);
        ``df`` (the contrast's own Satterthwaite or Kenward-Roger
        denominator df, NaN for z); ``p_value`` (two-sided, Student's t with
        ``df``, normal for z); ``conf_low``, ``conf_high`` (``estimate -+
        t_{(1+level)/2, df} std_error``). ``attrs``: ``level``, ``ddf``, ``null``.

        Raises
        ------
        DataError
            A term not in the model, a wrong number of weights, non-finite or
            all-zero weights, a bad ``level`` or ``ddf``.
        """
        level = self.level if level is None else level
        ddf = self.ddf if ddf is None else ddf
        _check_level(level)
        matrix, labels = self._contrast_matrix(weights, names)
        estimate = matrix @ self._beta
        se, df = self._basis(ddf).std_error_and_df(matrix)
        null_values = np.broadcast_to(np.asarray(null, dtype=float), estimate.shape)
        with np.errstate(divide="ignore", invalid="ignore"):
            statistic = (estimate - null_values) / se
        t_df = np.where(np.isnan(df), np.inf, df)
        # Student's t quantile and tail (scipy.stats.t's own functions; importing scipy.stats takes ~1 s).
        crit = special.stdtrit(t_df, 0.5 + level / 2.0)
        table = pd.DataFrame(
            {
                "term": labels,
                "estimate": estimate,
                "std_error": se,
                "statistic": statistic,
                "df": df,
                "p_value": 2.0 * special.stdtr(t_df, -np.abs(statistic)),
                "conf_low": estimate - crit * se,
                "conf_high": estimate + crit * se,
            },
            columns=TIDY_COLUMNS,
        )
        table.attrs = {"level": float(level), "ddf": ddf, "null": null}
        return table

    def _contrast_matrix(self, weights: object, names: list[str] | None) -> tuple[np.ndarray, list[str]]:
        terms = self._design.fixed_names
        index_names: list[str] | None = None
        if isinstance(weights, pd.DataFrame):
            _check_terms(weights.columns, terms)
            matrix = weights.reindex(columns=terms, fill_value=0.0).to_numpy(dtype=float)
            if not isinstance(weights.index, pd.RangeIndex):
                index_names = [str(i) for i in weights.index]
        elif isinstance(weights, (Mapping, pd.Series)):
            weights = pd.Series(weights, dtype=float)
            _check_terms(weights.index, terms)
            matrix = weights.reindex(terms, fill_value=0.0).to_numpy()[None, :]
        else:
            matrix = np.atleast_2d(np.asarray(weights, dtype=float))
            if matrix.ndim != 2 or matrix.shape[1] != len(terms):
                raise DataError(
                    f"contrast weights need {len(terms)} columns, one per fixed effect ({', '.join(terms)}); "
                    f"got shape {np.shape(weights)}"
                )
        if not np.all(np.isfinite(matrix)):
            raise DataError("contrast weights must be finite numbers")
        if np.any(~matrix.any(axis=1)):
            raise DataError("a contrast has all weights 0: it estimates nothing")
        if names is None:
            names = index_names or [_describe_contrast(row, terms) for row in matrix]
        if len(names) != len(matrix):
            raise DataError(f"{len(names)} names for {len(matrix)} contrasts")
        return matrix, list(names)

    def cov_params(self) -> pd.DataFrame:
        """Covariance matrix of the fixed effects (rows and columns named by term)."""
        names = self._design.fixed_names
        return pd.DataFrame(self._cov_beta, index=names, columns=names)

    def cov_re(self) -> pd.DataFrame:
        """Covariance matrix of the random effects, in outcome units (rows and columns named by term)."""
        names = self._design.random_names
        return pd.DataFrame(self._cov_re, index=names, columns=names)

    def predict(self, newdata: pd.DataFrame | None = None, include_random: bool = True) -> pd.Series:
        """Predicted outcome, in outcome units.

        Parameters
        ----------
        newdata:
            Rows to predict; ``None`` predicts the rows used in the fit (index
            of ``data``). Needs the formula's columns, and ``groups`` when
            ``include_random``. A row with a missing value gets NaN.
        include_random:
            Add the group's conditional modes (a group not seen in the fit
            gets the population prediction, random effects 0); ``False`` gives
            the population-level prediction ``X beta``.
        """
        design = self._design
        beta = self.params["estimate"].to_numpy()
        if newdata is None:
            x, z, codes, index = design.x, design.z, design.codes, design.index
        else:
            x, z, codes, index = self._new_design(newdata, include_random)
        fitted = x @ beta
        if include_random:
            blups = np.vstack([self._blups, np.zeros((1, z.shape[1]))])
            fitted = fitted + np.einsum("ij,ij->i", z, blups[codes])
        return pd.Series(fitted, index=index, name="predicted")

    def _new_design(self, newdata: pd.DataFrame, include_random: bool) -> tuple[np.ndarray, ...]:
        design = self._design
        try:
            (x,) = patsy.build_design_matrices([design.x_info], newdata, NA_action=_NO_NA_CHECK)
            (z,) = patsy.build_design_matrices([design.z_info], newdata, NA_action=_NO_NA_CHECK)
        except (patsy.PatsyError, KeyError, NameError) as error:
            raise DataError(f"cannot build the model's columns from newdata: {str(error).splitlines()[0]}") from None
        codes = np.full(len(newdata), len(design.levels))
        if include_random:
            if self.groups not in newdata.columns:
                raise DataError(f"newdata has no {self.groups!r} column: needed for include_random=True")
            found = design.levels.get_indexer(newdata[self.groups])
            codes = np.where(found >= 0, found, len(design.levels))
        return np.asarray(x, dtype=float), np.asarray(z, dtype=float), codes, newdata.index

    def summary(self) -> str:
        """lme4-like text: fit criteria, random effects, fixed effects, status and messages."""
        crit = f"REML criterion {self.reml_criterion:.4f}" if self.reml else f"deviance {-2 * self.loglik:.4f}"
        lines = [
            f"Linear mixed model fit by {'REML' if self.reml else 'maximum likelihood'} ({self.optimizer})",
            f"Formula: {self.formula}   random: {self.re_formula} | {self.groups}",
            f"{crit}   log-likelihood {self.loglik:.4f}   AIC {self.aic:.2f}   BIC {self.bic:.2f}",
            f"Observations: {self.nobs} ({self.n_dropped} dropped for missing values)   groups ({self.groups}): {self.ngroups}",
            "",
            "Random effects:",
            self._random_table().to_string(index=False),
            "",
            f"Fixed effects ({_DDF_LABELS[self.ddf]}, {self.level:.0%} intervals):",
            self.params.to_string(index=False, float_format=lambda v: f"{v:.6g}"),
            "",
            f"Status: {self._status()}",
        ]
        lines += [f"Note: {m}" for m in self.messages]
        return "\n".join(lines)

    def _status(self) -> str:
        state = "converged" if self.converged else "NOT CONVERGED"
        shape = "boundary (singular) fit" if self.boundary else "singular fit" if self.singular else "not singular"
        return f"{state} (|gradient| {self.gradient_norm:.2g}); {shape}"

    def _random_table(self) -> pd.DataFrame:
        """Random effects the way lme4 prints them: one row per SD, correlations beside."""
        vc = self.variance_components
        sds = vc[vc["kind"] == "sd"]
        cors = vc[vc["kind"] == "cor"]
        rows = []
        for row in sds.itertuples(index=False):
            corr = cors[cors["var2"] == row.var1]
            rows.append(
                {
                    "group": row.group,
                    "term": row.var1 if row.group != "Residual" else "",
                    "variance": row.estimate**2,
                    "sd": row.estimate,
                    "corr": " ".join(f"{c:.2f}" for c in corr["estimate"]),
                }
            )
        return pd.DataFrame(rows)

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        return (
            f"<LMMResult {'REML' if self.reml else 'ML'} {self.formula!r} | {self.groups}: {self.nobs} rows, "
            f"{self.ngroups} groups, loglik {self.loglik:.4f}, {self._status()}>"
        )

    def _repr_html_(self) -> str:
        head = (
            f"<p><b>Linear mixed model</b> ({'REML' if self.reml else 'ML'}, {html.escape(self.optimizer)})<br>"
            f"{html.escape(self.formula)}; random {html.escape(self.re_formula)} | {html.escape(self.groups)}<br>"
            f"{self.nobs} rows ({self.n_dropped} dropped), {self.ngroups} groups; "
            f"log-likelihood {self.loglik:.3f}; {html.escape(self._status())}</p>"
        )
        notes = "".join(f"<li>{html.escape(m)}</li>" for m in self.messages)
        return (
            head
            + f"<p>Fixed effects ({_DDF_LABELS[self.ddf]}, {self.level:.0%} intervals)</p>"
            + self.params.to_html(index=False, float_format=lambda v: f"{v:.4g}")
            + "<p>Random effects</p>"
            + self._random_table().to_html(index=False, float_format=lambda v: f"{v:.4g}")
            + (f"<ul>{notes}</ul>" if notes else "")
        )


def _check_terms(given: pd.Index, terms: list[str]) -> None:
    unknown = [str(t) for t in given if t not in terms]
    if unknown:
        raise DataError(f"contrast names {', '.join(map(repr, unknown))}, not a fixed effect; terms are: {', '.join(terms)}")


def _describe_contrast(row: np.ndarray, terms: list[str]) -> str:
    """``"a - b"``, ``"0.5*a + 0.5*b"``: the contrast as a formula of the terms."""
    parts = []
    for weight, term in zip(row, terms):
        if weight == 0:
            continue
        sign = "-" if weight < 0 else "+"
        size = abs(weight)
        parts.append(f"{sign} {term}" if size == 1 else f"{sign} {size:g}*{term}")
    text = " ".join(parts)
    return text[2:] if text.startswith("+ ") else "-" + text[2:]


def _variance_components(names: list[str], groups: str, cov_re: np.ndarray, sigma2: float) -> pd.DataFrame:
    sd = np.sqrt(np.diag(cov_re))
    rows = [{"group": groups, "term": f"sd__{a}", "kind": "sd", "var1": a, "var2": None, "estimate": s} for a, s in zip(names, sd)]
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = cov_re / np.outer(sd, sd)
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            value = float(np.clip(corr[i, j], -1.0, 1.0)) if sd[i] > 0 and sd[j] > 0 else float("nan")
            rows.append(
                {"group": groups, "term": f"cor__{names[i]}.{names[j]}", "kind": "cor", "var1": names[i], "var2": names[j], "estimate": value}
            )
    rows.append({"group": "Residual", "term": "sd__Observation", "kind": "sd", "var1": "Observation", "var2": None, "estimate": np.sqrt(sigma2)})
    return pd.DataFrame(rows)


def _random_effects(design: _Design, sol: me.ProfiledSolution) -> pd.DataFrame:
    g, q = sol.random_effects.shape
    return pd.DataFrame(
        {
            "level": design.levels.repeat(q),  # the grouping column's own dtype, built without a per-value conversion
            "term": pd.Index(design.random_names).take(np.tile(np.arange(q), g)),
            "estimate": sol.random_effects.ravel(),
            "std_error": sol.random_effects_se.ravel(),
        }
    )


def _status_messages(design: _Design, spec: _Spec, check: me.OptimumCheck, diag_theta: np.ndarray) -> list[str]:
    messages = []
    if design.n_dropped:
        detail = ", ".join(f"{c} ({n})" for c, n in design.dropped_by_column.items())
        messages.append(f"dropped {design.n_dropped} rows with missing values in: {detail}")
    if not np.all(np.isfinite(check.newton_step)):
        messages.append("not converged: the deviance's Hessian at the estimate is not positive definite (a saddle point)")
    elif not check.converged:
        messages.append(
            f"not converged: Newton step max |H^-1 g| = {np.abs(check.newton_step).max():.2g} in theta "
            f"(tolerance {me.NEWTON_STEP_TOL}); estimates may be off the optimum"
        )
    small = [name for name, t in zip(design.random_names, diag_theta) if t < me.SINGULAR_TOL]
    if small:
        messages.append(
            f"singular fit: the random-effects covariance of {spec.groups!r} is (nearly) singular at "
            f"{', '.join(small)} (an SD of 0 or a correlation of +-1); consider a simpler re_formula"
        )
    return messages
