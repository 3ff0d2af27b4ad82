"""Fast profiled REML/ML for a Gaussian linear mixed model with one grouping factor.

The model, for group ``i`` with ``n_i`` rows::

    y_i = X_i beta + Z_i b_i + e_i,   b_i ~ N(0, sigma^2 Lambda Lambda'),   e_i ~ N(0, sigma^2 I)

where ``Lambda`` is the ``q x q`` lower-triangular relative covariance factor
whose entries, read column by column, are ``theta`` (lme4's parameterisation;
estimates are reported with the diagonal >= 0). ``beta`` and ``sigma`` are profiled out
exactly, so the optimiser only sees ``theta`` (Bates et al. 2015, J Stat Softw
67(1), section 3; the same approach as MixedModels.jl).

Per-group sufficient statistics ``Z_i'Z_i`` and ``Z_i'[X_i y_i]`` plus the
total ``[X y]'[X y]`` are computed once. One evaluation of the profiled
deviance then costs ``O(G q^2 (p + 1))`` with the small per-group Cholesky
factors computed for all ``G`` groups at once (numpy loops over the ``q``
dimension only, the group axis is vectorised). With ``L_i L_i' = Lambda' Z_i'Z_i
Lambda + I`` and ``S = [X y]'[X y] - sum_i A_i' (L_i L_i')^{-1} A_i``,
``A_i = Lambda' Z_i'[X_i y_i]``, the Cholesky factor of ``S`` holds ``R_X``
(its leading ``p x p`` block) and the penalised residual sum of squares ``r^2``
(its last diagonal entry squared). Then, on lme4's ``-2 log L`` scale::

    REML: log|L|^2 + log|R_X|^2 + (n - p) (1 + log(2 pi r^2 / (n - p)))
    ML:   log|L|^2 + n (1 + log(2 pi r^2 / n))

This module knows nothing of the data's meaning: it takes numeric arrays.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from scipy import optimize

SINGULAR_TOL = 1e-4
"""A diagonal ``theta`` below this is a singular fit (lme4's ``isSingular`` default)."""

NEWTON_STEP_TOL = 2e-3
"""Converged when every component of the Newton step ``H^{-1} g`` in ``theta`` is below this (lme4's check)."""


@dataclass(frozen=True)
class SufficientStatistics:
    """Everything the profiled deviance needs, computed once from the data.

    Attributes
    ----------
    ztz:
        ``(q, q, G)``: ``Z_i'Z_i`` per group, group axis last.
    ztw:
        ``(q, p + 1, G)``: ``Z_i'[X_i y_i]`` per group.
    wtw:
        ``(p + 1, p + 1)``: ``[X y]'[X y]`` over all rows.
    n_obs, n_fixed, n_random, n_groups:
        ``n``, ``p``, ``q``, ``G``.
    """

    ztz: np.ndarray
    ztw: np.ndarray
    wtw: np.ndarray
    n_obs: int
    n_fixed: int
    n_random: int
    n_groups: int


def sufficient_statistics(
    x: np.ndarray, z: np.ndarray, y: np.ndarray, group_codes: np.ndarray, n_groups: int
) -> SufficientStatistics:
    """Per-group cross-products of ``Z`` with ``[X y]``, one weighted ``bincount`` per entry.

    Parameters
    ----------
    x, z, y:
        Fixed-effects design ``(n, p)``, random-effects design ``(n, q)``, outcome ``(n,)``.
    group_codes:
        Integer group of each row, ``0 .. n_groups - 1`` (any order; rows need not be sorted).
    n_groups:
        Number of groups ``G``; every code must occur at least once.
    """
    w = np.column_stack([x, y]).astype(float)
    z = np.asarray(z, dtype=float)
    q, k = z.shape[1], w.shape[1]
    ztz = np.empty((q, q, n_groups))
    ztw = np.empty((q, k, n_groups))
    for a in range(q):
        for b in range(a, q):
            ztz[a, b] = ztz[b, a] = np.bincount(group_codes, weights=z[:, a] * z[:, b], minlength=n_groups)
        for c in range(k):
            ztw[a, c] = np.bincount(group_codes, weights=z[:, a] * w[:, c], minlength=n_groups)
    return SufficientStatistics(
        ztz=ztz, ztw=ztw, wtw=w.T @ w, n_obs=len(y), n_fixed=x.shape[1], n_random=q, n_groups=n_groups
    )


@functools.lru_cache(maxsize=None)
def lower_positions(q: int) -> tuple[np.ndarray, np.ndarray]:
    """``(rows, cols)`` of ``Lambda``'s lower triangle in ``theta``'s order (lme4's column-major order); read only."""
    cols, rows = np.triu_indices(q)
    rows.flags.writeable = cols.flags.writeable = False
    return rows, cols


def n_theta(q: int) -> int:
    """Number of covariance parameters for ``q`` random effects: ``q (q + 1) / 2``."""
    return q * (q + 1) // 2


def lambda_from_theta(theta: np.ndarray, q: int) -> np.ndarray:
    """Lower-triangular ``Lambda`` filled column by column from ``theta`` (lme4's order)."""
    lam = np.zeros((q, q))
    rows, cols = lower_positions(q)
    lam[rows, cols] = theta
    return lam


def theta_from_covariance(relative_cov: np.ndarray) -> np.ndarray:
    """``theta`` with ``Lambda Lambda' = relative_cov`` for a positive semi-definite matrix.

    A Cholesky factorisation that tolerates zero pivots (a singular covariance
    gives a zero column), with negative diagonal entries flipped to keep
    ``theta``'s diagonal non-negative.
    """
    c = np.asarray(relative_cov, dtype=float)
    q = c.shape[0]
    lam = np.zeros((q, q))
    for j in range(q):
        pivot = c[j, j] - lam[j, :j] @ lam[j, :j]
        if pivot <= 1e-12 * max(1.0, c[j, j]):
            continue
        lam[j, j] = np.sqrt(pivot)
        lam[j + 1 :, j] = (c[j + 1 :, j] - lam[j + 1 :, :j] @ lam[j, :j]) / lam[j, j]
    rows, cols = lower_positions(q)
    return lam[rows, cols]


def _batched_cholesky(m: np.ndarray) -> np.ndarray:
    """Lower Cholesky factors of ``G`` symmetric positive definite ``q x q`` matrices ``(q, q, G)``."""
    q = m.shape[0]
    chol = np.zeros_like(m)
    for j in range(q):
        chol[j, j] = np.sqrt(m[j, j] - np.einsum("kg,kg->g", chol[j, :j], chol[j, :j]))
        for i in range(j + 1, q):
            chol[i, j] = (m[i, j] - np.einsum("kg,kg->g", chol[i, :j], chol[j, :j])) / chol[j, j]
    return chol


def _batched_forward_solve(chol: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve ``L_i B_i = A_i`` for all groups; ``chol (q, q, G)``, ``rhs (q, k, G)``."""
    out = np.empty_like(rhs)
    for i in range(chol.shape[0]):
        out[i] = (rhs[i] - np.einsum("jg,jkg->kg", chol[i, :i], out[:i])) / chol[i, i]
    return out


def _batched_backward_solve(chol: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve ``L_i' B_i = A_i`` for all groups; ``chol (q, q, G)``, ``rhs (q, k, G)``."""
    out = np.empty_like(rhs)
    for i in range(chol.shape[0] - 1, -1, -1):
        out[i] = (rhs[i] - np.einsum("jg,jkg->kg", chol[i + 1 :, i], out[i + 1 :])) / chol[i, i]
    return out


def _left_multiply(small: np.ndarray, batch: np.ndarray) -> np.ndarray:
    """``small @ batch_i`` for every group: ``small (a, q)``, ``batch (q, k, G)`` -> ``(a, k, G)``.

    Written as ``a q`` vector updates: ``small`` is tiny, and BLAS threads
    would cost more than the work.
    """
    out = np.zeros((small.shape[0],) + batch.shape[1:])
    for i, row in enumerate(small):
        for j in np.flatnonzero(row):
            out[i] += row[j] * batch[j]
    return out


@dataclass(frozen=True)
class _Factorisation:
    """Everything one evaluation computes at ``theta`` (see the module docstring)."""

    lam: np.ndarray
    chol: np.ndarray
    solved: np.ndarray
    schur_chol: np.ndarray
    log_det_l: float
    beta: np.ndarray
    r_x_inv: np.ndarray
    pwrss: float


@dataclass(frozen=True)
class ProfiledSolution:
    """The model at one ``theta``: the profiled fixed effects, scale and random effects.

    Attributes
    ----------
    theta:
        Covariance parameters.
    deviance:
        ``-2 log L`` (REML or ML as requested), lme4's scale.
    beta:
        ``(p,)`` fixed effects (generalised least squares at ``theta``).
    cov_beta:
        ``(p, p)`` ``sigma^2 (R_X' R_X)^{-1}``, the covariance of ``beta`` given ``theta``.
    sigma2:
        Residual variance: ``r^2 / (n - p)`` for REML, ``r^2 / n`` for ML.
    relative_cov:
        ``(q, q)`` ``Lambda Lambda'``; the random-effects covariance is ``sigma2`` times it.
    random_effects:
        ``(G, q)`` conditional modes ``b_i``, in the units of the outcome per unit of each ``Z`` column.
    random_effects_se:
        ``(G, q)`` conditional standard deviations of ``b_i`` given ``theta`` and ``beta`` (lme4's ``condVar``).
    """

    theta: np.ndarray
    deviance: float
    beta: np.ndarray
    cov_beta: np.ndarray
    sigma2: float
    relative_cov: np.ndarray
    random_effects: np.ndarray
    random_effects_se: np.ndarray


class ProfiledDeviance:
    """The profiled deviance ``-2 log L(theta)`` of one data set, REML or ML.

    Calling the object with ``theta`` returns the deviance (``inf`` where the
    fixed-effects system is not positive definite); :meth:`value_and_gradient`
    adds the exact gradient; :meth:`solution` returns everything else.

    The gradient: with ``T_i = M_i^{-1} Lambda'``, ``M_i = L_i L_i'``,
    ``U_i = T_i Z_i'Z_i``, ``Q_i = Z_i'W_i K W_i'Z_i`` and ``V_i = T_i Q_i``,
    where ``K`` is ``(R_X'R_X)^{-1}`` (REML only, zero-padded) plus
    ``dof / r^2 v v'``, ``v = [-beta; 1]``, ``dof = n - p`` (REML) or ``n``
    (ML), the derivative with respect to the ``theta`` at ``Lambda[r, c]`` is
    ``2 sum_i (U_i - V_i + V_i Lambda U_i)[c, r]``.
    """

    def __init__(self, stats: SufficientStatistics, reml: bool = True) -> None:
        self.stats = stats
        self.reml = reml
        self.n_evaluations = 0

    def _factor(self, theta: np.ndarray) -> _Factorisation:
        s = self.stats
        q, p = s.n_random, s.n_fixed
        lam = lambda_from_theta(np.asarray(theta, dtype=float), q)
        lam_t_ztz = _left_multiply(lam.T, s.ztz)
        m = np.einsum("ibg,bj->ijg", lam_t_ztz, lam)
        m[np.arange(q), np.arange(q)] += 1.0
        chol = _batched_cholesky(m)
        solved = _batched_forward_solve(chol, _left_multiply(lam.T, s.ztw))
        schur = s.wtw - np.einsum("ikg,ilg->kl", solved, solved)
        schur_chol = np.linalg.cholesky(schur)
        r_x_inv = np.linalg.inv(schur_chol[:p, :p])
        return _Factorisation(
            lam=lam,
            chol=chol,
            solved=solved,
            schur_chol=schur_chol,
            log_det_l=2.0 * float(np.log(np.diagonal(chol, axis1=0, axis2=1)).sum()),
            beta=r_x_inv.T @ schur_chol[p, :p],
            r_x_inv=r_x_inv,
            pwrss=float(schur_chol[p, p] ** 2),
        )

    def _dof(self) -> int:
        return self.stats.n_obs - self.stats.n_fixed if self.reml else self.stats.n_obs

    def _deviance(self, f: _Factorisation) -> float:
        dof = self._dof()
        value = f.log_det_l + dof * (1.0 + np.log(2.0 * np.pi * f.pwrss / dof))
        if self.reml:
            value += 2.0 * float(np.log(np.diagonal(f.schur_chol)[: self.stats.n_fixed]).sum())
        return float(value) if np.isfinite(value) else np.inf

    def __call__(self, theta: np.ndarray) -> float:
        self.n_evaluations += 1
        try:
            return self._deviance(self._factor(theta))
        except np.linalg.LinAlgError:
            return np.inf

    def value_and_gradient(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """The deviance and its exact gradient with respect to ``theta``."""
        self.n_evaluations += 1
        s = self.stats
        q, p = s.n_random, s.n_fixed
        try:
            f = self._factor(theta)
        except np.linalg.LinAlgError:
            return np.inf, np.zeros(len(theta))
        v = np.append(-f.beta, 1.0)
        weight = (self._dof() / f.pwrss) * np.outer(v, v)
        if self.reml:
            weight[:p, :p] += f.r_x_inv.T @ f.r_x_inv
        t = _batched_backward_solve(f.chol, _batched_forward_solve(f.chol, np.repeat(f.lam.T[:, :, None], s.n_groups, 2)))
        u = np.einsum("abg,bcg->acg", t, s.ztz)
        ztw_weight = np.einsum("akg,kl->alg", s.ztw, weight)
        v_mat = np.einsum("abg,bcg->acg", t, np.einsum("alg,blg->abg", ztw_weight, s.ztw))
        gamma = 2.0 * (u.sum(axis=2) - v_mat.sum(axis=2) + np.einsum("abg,bc,cdg->ad", v_mat, f.lam, u))
        rows, cols = lower_positions(q)
        return self._deviance(f), gamma[cols, rows]

    def solution(self, theta: np.ndarray) -> ProfiledSolution:
        """Fixed effects, their covariance, the scale and the conditional modes at ``theta``."""
        s = self.stats
        p = s.n_fixed
        theta = np.asarray(theta, dtype=float)
        f = self._factor(theta)
        sigma2 = f.pwrss / self._dof()
        # Spherical modes: L_i' u_i = L_i^{-1} A_i [-beta; 1]; then b_i = Lambda u_i.
        rhs = np.einsum("ikg,k->ig", f.solved, np.append(-f.beta, 1.0))
        modes = _batched_backward_solve(f.chol, rhs[:, None, :])[:, 0, :]
        # Var(b_i | y) = sigma^2 Lambda (L_i L_i')^{-1} Lambda'; its diagonal via L_i^{-1} Lambda'.
        chol_inv_lam_t = _batched_forward_solve(f.chol, np.repeat(f.lam.T[:, :, None], s.n_groups, axis=2))
        return ProfiledSolution(
            theta=theta,
            deviance=self._deviance(f),
            beta=f.beta,
            cov_beta=sigma2 * (f.r_x_inv.T @ f.r_x_inv),
            sigma2=float(sigma2),
            relative_cov=f.lam @ f.lam.T,
            random_effects=(f.lam @ modes).T,
            random_effects_se=np.sqrt(sigma2 * np.einsum("ikg,ikg->gk", chol_inv_lam_t, chol_inv_lam_t)),
        )


@dataclass(frozen=True)
class OptimumCheck:
    """First- and second-order check of a candidate ``theta``.

    Attributes
    ----------
    gradient:
        Central-difference gradient of the deviance.
    newton_step:
        ``H^+ g``, the Newton step with a central-difference Hessian ``H``
        (pseudo-inverse: directions along which the deviance is flat, as on a
        singular fit, contribute nothing); NaN when ``H`` has a clearly
        negative eigenvalue (a saddle point).
    converged:
        Every ``|newton_step|`` below :data:`NEWTON_STEP_TOL` (lme4's relative
        gradient check).
    hessian:
        The symmetrised central-difference Hessian ``H`` of the deviance in ``theta``.
    """

    gradient: np.ndarray
    newton_step: np.ndarray
    converged: bool
    hessian: np.ndarray


def check_optimum(deviance: ProfiledDeviance, theta: np.ndarray) -> OptimumCheck:
    """Exact gradient, central-difference Hessian (of the exact gradient) and Newton step at ``theta``.

    No bounds are needed: the deviance depends on ``Lambda Lambda'`` only, so
    a boundary estimate (a zero diagonal ``theta``) is an interior point of
    the unconstrained problem. Hessian steps are ``1e-4 max(1, |theta|)``.
    """
    theta = np.asarray(theta, dtype=float)
    grad = deviance.value_and_gradient(theta)[1]
    h = 1e-4 * np.maximum(1.0, np.abs(theta))
    hess = np.empty((len(theta), len(theta)))
    for j in range(len(theta)):
        e = np.zeros_like(theta)
        e[j] = h[j]
        hess[:, j] = (deviance.value_and_gradient(theta + e)[1] - deviance.value_and_gradient(theta - e)[1]) / (2 * h[j])
    hess = (hess + hess.T) / 2.0
    eigval, eigvec = np.linalg.eigh(hess)
    scale = max(float(np.abs(eigval).max()), 1e-300)
    if eigval.min() < -1e-6 * scale:
        step = np.full_like(theta, np.nan)
    else:
        keep = eigval > 1e-9 * scale
        step = eigvec[:, keep] @ ((eigvec[:, keep].T @ grad) / eigval[keep])
    return OptimumCheck(
        gradient=grad, newton_step=step, converged=bool(np.all(np.abs(step) < NEWTON_STEP_TOL)), hessian=hess
    )


def canonical_theta(theta: np.ndarray, q: int) -> np.ndarray:
    """The same ``Lambda Lambda'`` with every diagonal entry of ``Lambda`` made non-negative.

    Flipping the sign of a column of ``Lambda`` leaves ``Lambda Lambda'`` and
    therefore the deviance unchanged.
    """
    lam = lambda_from_theta(theta, q)
    lam = lam * np.where(np.diag(lam) < 0, -1.0, 1.0)
    rows, cols = lower_positions(q)
    return lam[rows, cols]


@dataclass(frozen=True)
class Optimum:
    """Result of :func:`minimize_deviance`.

    Attributes
    ----------
    theta, deviance:
        The best point found (canonical: diagonal of ``Lambda`` >= 0) and its deviance.
    optimizer:
        The optimisers run, in order, e.g. ``"BFGS"`` or ``"BFGS, Nelder-Mead, BFGS"``.
    check:
        :class:`OptimumCheck` at ``theta``.
    n_evaluations:
        Deviance evaluations, checks included.
    """

    theta: np.ndarray
    deviance: float
    optimizer: str
    check: OptimumCheck
    n_evaluations: int


def minimize_deviance(deviance: ProfiledDeviance, start: np.ndarray | None = None) -> Optimum:
    """Minimise the profiled deviance over ``theta``.

    Quasi-Newton BFGS with the exact gradient from ``start`` (default
    ``Lambda = I``, lme4's start). The search runs unconstrained because the
    deviance is invariant to the sign of each column of ``Lambda``; this
    avoids the false stationary point a bounded search meets when a step
    lands a diagonal entry on zero. (scipy's BFGS, unlike its L-BFGS-B, runs
    on numpy alone, which matters on a busy machine: two BLAS thread pools
    interleaved slow each other down.) When the result fails
    :func:`check_optimum`, Nelder-Mead restarts from it, then BFGS once more,
    keeping the lowest deviance. The answer is made canonical
    (diagonal >= 0) and diagonal entries below ``1e-6`` are set to exactly 0
    when that does not raise the deviance by more than ``1e-8``.
    """
    q = deviance.stats.n_random
    x0 = np.asarray(start, dtype=float) if start is not None else identity_theta(q)
    runs = {
        "BFGS": {"jac": True, "options": {"gtol": 1e-6, "maxiter": 1000}},
        "Nelder-Mead": {"options": {"xatol": 1e-7, "fatol": 1e-9, "maxiter": 2000 * len(x0), "adaptive": True}},
    }
    objective = {"BFGS": deviance.value_and_gradient, "Nelder-Mead": deviance}
    best = optimize.minimize(objective["BFGS"], x0, method="BFGS", **runs["BFGS"])
    used = ["BFGS"]
    check = check_optimum(deviance, best.x)
    if not check.converged:
        for method in ("Nelder-Mead", "BFGS"):
            trial = optimize.minimize(objective[method], best.x, method=method, **runs[method])
            used.append(method)
            if trial.fun <= best.fun:
                best = trial
    theta = canonical_theta(best.x, q)
    value = float(best.fun)
    diag = np.flatnonzero(identity_theta(q))
    for j in diag[np.abs(theta[diag]) < 1e-6]:
        snapped = theta.copy()
        snapped[j] = 0.0
        snapped_value = deviance(snapped)
        if snapped_value <= value + 1e-8:
            theta, value = snapped, min(value, snapped_value)
    if len(used) > 1 or not np.array_equal(theta, best.x):
        check = check_optimum(deviance, theta)
    return Optimum(theta=theta, deviance=value, optimizer=", ".join(used), check=check, n_evaluations=deviance.n_evaluations)


def identity_theta(q: int) -> np.ndarray:
    """``theta`` for ``Lambda = I``: 1 on the diagonal, 0 elsewhere, lme4's order."""
    rows, cols = lower_positions(q)
    return np.where(rows == cols, 1.0, 0.0)


DDF_METHODS = ("satterthwaite", "kenward-roger", "z")
"""Denominator degrees of freedom: Satterthwaite (lmerTest), Kenward-Roger (pbkrtest), none (Wald z)."""


@dataclass(frozen=True)
class ContrastBasis:
    """What the standard error and denominator df of any contrast ``c = L beta`` need.

    For a row ``L``: ``Var(c) = L' cov_beta L`` (the standard error's square)
    and, unless ``method`` is ``"z"``,
    ``df = 2 (L' cov_beta_df L)^2 / (g' vcov_varpar g)``, ``g_k = L' jacobian[k] L``.
    That is Satterthwaite's formula (lmerTest's ``contest1D``); with
    Kenward-Roger's ingredients (the derivatives of ``cov(beta)`` with respect
    to the linear variance parameters and the inverse expected information) it
    equals pbkrtest's ``Lb_ddf`` for one row, whose ``2 / A2`` is the same
    expression.

    Attributes
    ----------
    method:
        One of :data:`DDF_METHODS`.
    cov_beta:
        ``(p, p)`` covariance of ``beta`` used for standard errors (Kenward-Roger's adjusted ``Phi_A``).
    cov_beta_df:
        ``(p, p)`` the unadjusted covariance whose variability the df describe.
    jacobian:
        ``(k, p, p)`` derivative of ``cov_beta_df`` with respect to each variance parameter.
    vcov_varpar:
        ``(k, k)`` asymptotic covariance of the variance parameters.
    """

    method: str
    cov_beta: np.ndarray
    cov_beta_df: np.ndarray
    jacobian: np.ndarray
    vcov_varpar: np.ndarray

    def std_error_and_df(self, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Standard errors and denominator df of the contrasts in the rows of ``weights`` ``(m, p)``."""
        weights = np.atleast_2d(np.asarray(weights, dtype=float))
        se = np.sqrt(np.einsum("mp,pq,mq->m", weights, self.cov_beta, weights))
        if self.method == "z":
            return se, np.full(len(weights), np.nan)
        var = np.einsum("mp,pq,mq->m", weights, self.cov_beta_df, weights)
        grad = np.einsum("mp,kpq,mq->mk", weights, self.jacobian, weights)
        denom = np.einsum("mk,kl,ml->m", grad, self.vcov_varpar, grad)
        with np.errstate(divide="ignore", invalid="ignore"):
            df = np.where(denom > 0, 2.0 * var**2 / denom, np.inf)
        return se, df


def wald_basis(cov_beta: np.ndarray) -> ContrastBasis:
    """Wald z: no degrees of freedom."""
    k = np.zeros((0, 0))
    return ContrastBasis("z", cov_beta, cov_beta, np.zeros((0,) + cov_beta.shape), k)


@dataclass(frozen=True)
class _GroupBlocks:
    """Per-group ``q x q`` and ``q x p`` pieces of ``V_i^{-1} = I - Z_i K_i Z_i'`` (group axis first).

    ``V_i = I + Z_i Lambda Lambda' Z_i'`` is group ``i``'s relative marginal
    covariance; ``K_i = Lambda M_i^{-1} Lambda'`` with ``M_i = I + Lambda' N_i Lambda``,
    ``N_i = Z_i'Z_i``. Then ``Z_i'V_i^{-1} = R_i Z_i'`` with ``R_i = I - N_i K_i``,
    so ``B_i = Z_i'V_i^{-1}X_i = R_i Z_i'X_i`` and ``F_i = Z_i'V_i^{-1}Z_i = R_i N_i``.
    """

    n: np.ndarray
    k: np.ndarray
    r: np.ndarray
    zx: np.ndarray
    b: np.ndarray
    rho: np.ndarray


def _group_blocks(stats: SufficientStatistics, lam: np.ndarray, beta: np.ndarray) -> _GroupBlocks:
    q, p = stats.n_random, stats.n_fixed
    n = np.ascontiguousarray(stats.ztz.transpose(2, 0, 1))
    zw = np.ascontiguousarray(stats.ztw.transpose(2, 0, 1))
    m = np.eye(q) + lam.T @ n @ lam
    k = lam @ np.linalg.solve(m, np.broadcast_to(lam.T, m.shape))
    r = np.eye(q) - n @ k
    rw = r @ zw
    return _GroupBlocks(n=n, k=k, r=r, zx=zw[:, :, :p], b=rw[:, :, :p], rho=rw @ np.append(-beta, 1.0))


def _cross(left: np.ndarray, middle: np.ndarray | None, right: np.ndarray) -> np.ndarray:
    """``sum_i left_i' middle_i right_i`` over groups: ``left, right (G, q, p)``, ``middle (G, q, q)`` or ``(q, q)``."""
    if middle is not None:
        right = middle @ right
    g, q, p = left.shape
    return left.reshape(g * q, p).T @ right.reshape(g * q, right.shape[2])


def _theta_positions(q: int) -> list[tuple[int, int]]:
    """``(row, column)`` of ``Lambda`` for each ``theta``, lme4's column-major order."""
    rows, cols = lower_positions(q)
    return list(zip(rows.tolist(), cols.tolist()))


def pwrss_gradient(stats: SufficientStatistics, theta: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """Gradient of the penalised residual sum of squares ``r^2(theta)`` (envelope theorem).

    ``r^2 = min_{beta, u} |y - X beta - Z Lambda u|^2 + |u|^2``, so
    ``d r^2 / d Lambda[r, c] = -2 sum_i rho_i[r] u_i[c]`` with ``rho_i = Z_i'(y_i - X_i beta - Z_i Lambda u_i)
    = Z_i'V_i^{-1}(y_i - X_i beta)`` and ``u_i = Lambda' rho_i``.
    """
    lam = lambda_from_theta(np.asarray(theta, dtype=float), stats.n_random)
    return _pwrss_gradient(_group_blocks(stats, lam, beta).rho, lam)


def _pwrss_gradient(rho: np.ndarray, lam: np.ndarray) -> np.ndarray:
    outer = rho.T @ (rho @ lam)
    rows, cols = lower_positions(lam.shape[0])
    return -2.0 * outer[rows, cols]


def satterthwaite_basis(deviance: ProfiledDeviance, theta: np.ndarray, hessian: np.ndarray) -> ContrastBasis:
    """lmerTest's Satterthwaite ingredients, in its ``(theta, sigma)`` parameterisation, analytically.

    lmerTest differentiates the (unprofiled) deviance
    ``D(theta, sigma) = log|L|^2 [+ log|R_X|^2] + r^2(theta) / sigma^2 + dof log(2 pi sigma^2)``
    twice numerically and takes ``vcov_varpar = 2 H^+`` (eigenvalues above
    1e-8); and ``cov(beta) = sigma^2 (R_X'R_X)^{-1}`` once. Here, with
    ``hessian`` the Hessian of the profiled deviance ``d(theta) = min_sigma D``
    (computed by :func:`check_optimum`), the identity
    ``d'' = D_tt - D_ts D_st / D_ss`` gives ``D_tt``; at the optimum
    ``D_ss = 4 dof / sigma^2`` and ``D_ts = -2 (d r^2 / d theta) / sigma^3``
    (:func:`pwrss_gradient`). The Jacobian of ``cov(beta)`` is exact:
    ``d cov / d theta_j = cov (sum_i B_i' D_j B_i) cov / sigma^2``,
    ``D_j = d(Lambda Lambda') / d theta_j``, ``B_i = Z_i'V_i^{-1}X_i``; ``d cov / d sigma = 2 cov / sigma``.
    """
    s = deviance.stats
    q, p = s.n_random, s.n_fixed
    theta = np.asarray(theta, dtype=float)
    sol = deviance.solution(theta)
    sigma = np.sqrt(sol.sigma2)
    dof = deviance._dof()
    lam = lambda_from_theta(theta, q)
    blocks = _group_blocks(s, lam, sol.beta)
    d_ts = -2.0 * _pwrss_gradient(blocks.rho, lam) / sigma**3
    d_ss = 4.0 * dof / sol.sigma2
    k = len(theta) + 1
    full = np.empty((k, k))
    full[:-1, :-1] = hessian + np.outer(d_ts, d_ts) / d_ss
    full[:-1, -1] = full[-1, :-1] = d_ts
    full[-1, -1] = d_ss
    eigval, eigvec = np.linalg.eigh(full)
    keep = eigval > 1e-8
    vcov_varpar = 2.0 * (eigvec[:, keep] / eigval[keep]) @ eigvec[:, keep].T
    b = blocks.b
    g = b.shape[0]
    btb = (b.reshape(g, q * p).T @ b.reshape(g, q * p)).reshape(q, p, q, p)
    cov = sol.cov_beta
    jacobian = np.empty((k, p, p))
    for j, (r, c) in enumerate(_theta_positions(q)):
        # sum_i B_i' (e_r lam_c' + lam_c e_r') B_i
        half = np.einsum("a,paq->pq", lam[:, c], btb[r])
        jacobian[j] = cov @ (half + half.T) @ cov / sol.sigma2
    jacobian[-1] = 2.0 * cov / sigma
    return ContrastBasis("satterthwaite", cov, cov, jacobian, vcov_varpar)


def kenward_roger_basis(deviance: ProfiledDeviance, theta: np.ndarray) -> ContrastBasis:
    """pbkrtest's Kenward-Roger adjusted covariance and df ingredients (``vcovAdj``, ``Lb_ddf``).

    Variance parameters ``gamma``: the entries of the random-effects
    covariance ``sigma^2 Lambda Lambda'`` (lower triangle) and ``sigma^2``, so
    that ``Sigma = sum_r gamma_r G_r`` with ``G_r = Z E_r Z'`` (``E_r`` the
    symmetric unit pattern of the entry) and ``G = I`` for ``sigma^2``. With
    ``Phi = cov(beta)``, ``P_r = -X'S^-1 G_r S^-1 X``,
    ``Q_rs = X'S^-1 G_r S^-1 G_s S^-1 X``, the expected information
    ``I_rs = (tr(S^-1 G_r S^-1 G_s) - 2 tr(Phi Q_rs) + tr(Phi P_r Phi P_s)) / 2``,
    ``W = I^{-1}``, ``U = sum_rs W_rs (Q_rs - P_r Phi P_s)``:
    ``Phi_A = Phi + 2 Phi U Phi`` (Kenward & Roger 1997, without the second
    derivative terms, zero for a covariance linear in ``gamma``). Every sum
    over rows reduces to per-group ``q x q`` and ``q x p`` blocks
    (:class:`_GroupBlocks`), so no ``n x n`` matrix is formed.
    """
    s = deviance.stats
    q, p = s.n_random, s.n_fixed
    if not deviance.reml:
        raise ValueError("Kenward-Roger needs a REML fit")
    theta = np.asarray(theta, dtype=float)
    sol = deviance.solution(theta)
    s2 = sol.sigma2
    blocks = _group_blocks(s, lambda_from_theta(theta, q), sol.beta)
    n, k, r, b = blocks.n, blocks.k, blocks.r, blocks.b
    f = r @ n
    a = s.wtw[:p, :p] - _cross(blocks.zx, k, blocks.zx)
    xv2x = a - _cross(b, k, blocks.zx)
    xv3x = xv2x - _cross(b, k, b)
    patterns = []
    for i, j in _theta_positions(q):
        e = np.zeros((q, q))
        e[i, j] = e[j, i] = 1.0
        patterns.append(e)
    m = len(patterns) + 1
    phi = sol.cov_beta
    pp = [-_cross(b, e, b) / s2**2 for e in patterns] + [-((xv2x + xv2x.T) / 2.0) / s2**2]
    qq = np.empty((m, m, p, p))
    trace = np.empty((m, m))
    kn = k @ n
    for i, ei in enumerate(patterns):
        for j, ej in enumerate(patterns):
            middle = ei @ f @ ej
            qq[i, j] = _cross(b, middle, b) / s2**3
            trace[i, j] = np.einsum("gab,gba->", middle, f) / s2**2
        qq[i, -1] = _cross(b, ei @ r, b) / s2**3
        qq[-1, i] = qq[i, -1].T
        trace[i, -1] = trace[-1, i] = np.einsum("ab,gba->", ei, r @ f) / s2**2
    qq[-1, -1] = ((xv3x + xv3x.T) / 2.0) / s2**3
    trace[-1, -1] = (s.n_obs - 2.0 * np.einsum("gaa->", kn) + np.einsum("gab,gba->", kn, kn)) / s2**2
    info2 = np.empty((m, m))
    for i in range(m):
        for j in range(m):
            info2[i, j] = trace[i, j] - 2.0 * np.sum(phi * qq[i, j]) + np.sum((phi @ pp[i]) * (pp[j] @ phi))
    info2 = (info2 + info2.T) / 2.0
    w = 2.0 * (np.linalg.inv(info2) if np.abs(np.linalg.eigvalsh(info2)).min() > 1e-10 else np.linalg.pinv(info2))
    uu = sum(w[i, j] * (qq[i, j] - pp[i] @ phi @ pp[j]) for i in range(m) for j in range(m))
    phi_a = phi + 2.0 * phi @ uu @ phi
    jacobian = np.stack([-phi @ pr @ phi for pr in pp])
    return ContrastBasis("kenward-roger", (phi_a + phi_a.T) / 2.0, phi, jacobian, w)
