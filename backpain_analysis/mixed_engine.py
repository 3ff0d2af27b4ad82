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
deviance and its exact gradient then costs ``O(G q^2 (p + 1))`` with the
small per-group Cholesky factors computed for all ``G`` groups at once
(numpy loops over the ``q`` dimension only, the group axis is vectorised and
contiguous; sums over groups are BLAS products). With ``L_i L_i' = Lambda' Z_i'Z_i
Lambda + I`` and ``S = [X y]'[X y] - sum_i A_i' (L_i L_i')^{-1} A_i``,
``A_i = Lambda' Z_i'[X_i y_i]``, the Cholesky factor of ``S`` holds ``R_X``
(its leading ``p x p`` block) and the penalised residual sum of squares ``r^2``
(its last diagonal entry squared). Then, on lme4's ``-2 log L`` scale::

    REML: log|L|^2 + log|R_X|^2 + (n - p) (1 + log(2 pi r^2 / (n - p)))
    ML:   log|L|^2 + n (1 + log(2 pi r^2 / n))

This module knows nothing of the data's meaning: it takes numeric arrays.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import linalg, optimize
from threadpoolctl import ThreadpoolController

SINGULAR_TOL = 1e-4
"""A diagonal ``theta`` below this is a singular fit (lme4's ``isSingular`` default)."""

NEWTON_STEP_TOL = 2e-3
"""Converged when every component of the Newton step ``H^{-1} g`` in ``theta`` is below this (lme4's check)."""

DECREMENT_TOL = 1e-6
"""The fast engine's absolute tolerance: a full Newton step would lower the deviance by less than this (deviance units)."""

POLISH_TOL = 1e-10
""":func:`newton_polish` stops once a Newton step would lower the deviance by less than this (deviance units)."""

NEWTON_STEPS = 20
"""Most Newton steps :func:`newton_polish` takes."""


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
    """Per-group cross-products of ``Z`` with ``[Z X y]`` and ``[X y]'[X y]``, from the matrices (:func:`column_statistics`).

    Parameters
    ----------
    x, z, y:
        Fixed-effects design ``(n, p)``, random-effects design ``(n, q)``, outcome ``(n,)``.
    group_codes:
        Integer group of each row, ``0 .. n_groups - 1`` (any order; rows need not be sorted).
    n_groups:
        Number of groups ``G``; every code must occur at least once.
    """
    x, z = np.asfortranarray(x, dtype=float), np.asfortranarray(z, dtype=float)
    return column_statistics(
        tuple(x[:, j] for j in range(x.shape[1])), tuple(z[:, j] for j in range(z.shape[1])), y, group_codes, n_groups
    )


def column_statistics(
    x_columns: Sequence[np.ndarray | None],
    z_columns: Sequence[np.ndarray | None],
    y: np.ndarray,
    group_codes: np.ndarray,
    n_groups: int,
) -> SufficientStatistics:
    """:func:`sufficient_statistics` from the designs' columns; ``None`` is a column of ones (an intercept).

    No ``n x p`` matrix is formed. Each product of a random-effects column
    with a column of ``[Z X y]`` is summed per group, by ``np.add.reduceat``
    over the group boundaries when the rows are sorted by group (the usual
    panel order), else by a weighted ``np.bincount``; a product with ``None``
    is the other column itself, and ``None`` by ``None`` counts the rows.
    ``[X y]'[X y]`` is one dot product per pair of columns (column sums for
    ``None``). Only one row-length buffer is allocated.
    """
    y = np.asarray(y, dtype=float)
    n, q, p = len(y), len(z_columns), len(x_columns)
    columns = [None if c is None else np.asarray(c, dtype=float) for c in (*z_columns, *x_columns)] + [y]
    codes = np.asarray(group_codes)
    counts = np.bincount(codes, minlength=n_groups)
    ordered = bool(counts.all() and np.all(codes[1:] >= codes[:-1]))  # reduceat needs every group non-empty
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    ztz = np.empty((q, q, n_groups))
    ztw = np.empty((q, p + 1, n_groups))
    product = np.empty(n) if any(c is not None for c in columns[:q]) else None
    for a in range(q):
        for c in range(a, q + p + 1):
            left, right = columns[a], columns[c]
            if left is None and right is None:
                sums = counts.astype(float)
            else:
                values = right if left is None else left if right is None else np.multiply(left, right, out=product)
                sums = np.add.reduceat(values, starts) if ordered else np.bincount(codes, weights=values, minlength=n_groups)
            if c < q:
                ztz[a, c] = ztz[c, a] = sums
            else:
                ztw[a, c - q] = sums
    w = columns[q:]
    wtw = np.empty((p + 1, p + 1))
    for i in range(p + 1):
        for j in range(i, p + 1):
            left, right = w[i], w[j]
            if left is None and right is None:
                wtw[i, j] = n
            elif left is None or right is None:
                wtw[i, j] = (right if left is None else left).sum()
            else:
                wtw[i, j] = np.dot(left, right)
            wtw[j, i] = wtw[i, j]
    return SufficientStatistics(ztz=ztz, ztw=ztw, wtw=wtw, n_obs=n, n_fixed=p, n_random=q, n_groups=n_groups)


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
        pivot = m[j, j].copy()
        for k in range(j):
            pivot -= chol[j, k] * chol[j, k]
        chol[j, j] = np.sqrt(pivot)
        for i in range(j + 1, q):
            entry = m[i, j].copy()
            for k in range(j):
                entry -= chol[i, k] * chol[j, k]
            chol[i, j] = entry / chol[j, j]
    return chol


def _batched_forward_solve(chol: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve ``L_i B_i = A_i`` for all groups; ``chol (q, q, G)``, ``rhs (q, k, G)`` or ``(q, G)``."""
    out = np.empty(rhs.shape)
    for i in range(chol.shape[0]):
        acc = np.array(rhs[i])
        for j in range(i):
            acc -= chol[i, j] * out[j]
        np.divide(acc, chol[i, i], out=out[i])
    return out


def _batched_backward_solve(chol: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve ``L_i' B_i = A_i`` for all groups; ``chol (q, q, G)``, ``rhs (q, k, G)`` or ``(q, G)``."""
    q = chol.shape[0]
    out = np.empty(rhs.shape)
    for i in range(q - 1, -1, -1):
        acc = np.array(rhs[i])
        for j in range(i + 1, q):
            acc -= chol[j, i] * out[j]
        np.divide(acc, chol[i, i], out=out[i])
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


def _group_matmul(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """``left_i @ right_i`` for every group: ``left (a, b, G)``, ``right (b, k, G)`` or ``(b, G)`` -> ``(a, k, G)`` or ``(a, G)``.

    One ``einsum`` over the contiguous group axis (stacked ``matmul`` would
    call BLAS once per group).
    """
    return np.einsum("ijg,jkg->ikg" if right.ndim == 3 else "ijg,jg->ig", left, right)


def _gram(batch: np.ndarray) -> np.ndarray:
    """``batch_i' batch_i`` for every group: ``batch (a, b, G)`` -> ``(b, b, G)``."""
    b = batch.shape[1]
    out = np.empty((b, b, batch.shape[2]))
    for i in range(b):
        for j in range(i, b):
            out[i, j] = out[j, i] = np.einsum("ag,ag->g", batch[:, i], batch[:, j])
    return out


def _slab_cross(batch: np.ndarray) -> np.ndarray:
    """``sum_i batch_i[a, c] batch_i[b, d]`` over groups: ``batch (q, k, G)`` -> ``(q, k, q, k)``.

    One BLAS product with the long group axis as its inner dimension (a
    ``k x k`` matrix times a ``k x G`` slab, the other way round, is several
    times slower in OpenBLAS).
    """
    q, k, g = batch.shape
    flat = batch.reshape(q * k, g)
    return (flat @ flat.T).reshape(q, k, q, k)


@dataclass(frozen=True)
class _Factorisation:
    """Everything one evaluation computes at ``theta`` (see the module docstring); group axis last.

    ``chol`` ``(q, q, G)``: ``L_i``; ``chol_inv_lam_t`` ``(q, q, G)``: ``P_i = L_i^{-1} Lambda'``;
    ``solved`` ``(q, p + 1, G)``: ``P_i Z_i'[X_i y_i]``.
    """

    lam: np.ndarray
    chol: np.ndarray
    chol_inv_lam_t: np.ndarray
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
    adds the exact gradient; :meth:`solution` returns everything else. Each
    evaluation works on the per-group statistics only: ``O(G q^2 (p + 1))``
    vector operations over the group axis plus a few ``(p + 1) x G`` BLAS
    products, nothing of size ``n``.

    The gradient. The deviance depends on ``theta`` through ``D = Lambda Lambda'``;
    with ``V_i = I + Z_i D Z_i'`` (group ``i``'s relative marginal covariance),
    ``F_i = Z_i'V_i^{-1}Z_i``, ``B_i = Z_i'V_i^{-1}X_i``, ``rho_i = Z_i'V_i^{-1}(y_i - X_i beta)``
    and ``A = X'V^{-1}X = R_X'R_X``, its derivative with respect to the symmetric ``D`` is::

        G_D = sum_i F_i - sum_i B_i A^{-1} B_i' [REML only] - dof / r^2 sum_i rho_i rho_i'

    (``d log|V_i| = tr(F_i dD)``, ``d log|A| = -tr(sum_i B_i A^{-1} B_i' dD)``,
    ``d r^2 = -sum_i rho_i' dD rho_i`` by the envelope theorem), so
    ``d/d Lambda = 2 G_D Lambda``, read at ``theta``'s positions.
    Per group, ``Z_i'V_i^{-1} = R_i Z_i'`` with ``R_i = I - N_i K_i``,
    ``K_i = Lambda M_i^{-1} Lambda' = P_i'P_i``, ``N_i = Z_i'Z_i``, so
    ``[B_i rho_i]`` = ``R_i Z_i'[X_i y_i] [I -beta; 0 1]`` and ``F_i = R_i N_i``;
    both sums over groups are ``(p + 1) x (p + 1)`` BLAS products.
    """

    def __init__(self, stats: SufficientStatistics, reml: bool = True) -> None:
        self.stats = stats
        self.reml = reml
        self.n_evaluations = 0
        self._last: tuple[np.ndarray, float, np.ndarray] | None = None
        self._last_factor: tuple[np.ndarray, _Factorisation] | None = None

    def _factor(self, theta: np.ndarray) -> _Factorisation:
        """The factorisation at ``theta``; the last one is kept (the result, the df and the check reuse it)."""
        theta = np.asarray(theta, dtype=float)
        if self._last_factor is None or not np.array_equal(self._last_factor[0], theta):
            self._last_factor = (theta.copy(), self._factorise(theta))
        return self._last_factor[1]

    def _factorise(self, theta: np.ndarray) -> _Factorisation:
        s = self.stats
        q, p = s.n_random, s.n_fixed
        lam = lambda_from_theta(theta, q)
        lam_t_ztz = _left_multiply(lam.T, s.ztz)
        m = _left_multiply(lam.T, lam_t_ztz.transpose(1, 0, 2))  # Lambda' N_i Lambda (symmetric)
        for j in range(q):
            m[j, j] += 1.0
        chol = _batched_cholesky(m)
        chol_inv_lam_t = _batched_forward_solve(chol, np.broadcast_to(lam.T[:, :, None], (q, q, s.n_groups)))
        solved = _group_matmul(chol_inv_lam_t, s.ztw)
        schur = s.wtw.copy()
        for block in solved:
            schur -= block @ block.T
        schur_chol = np.linalg.cholesky(schur)
        r_x_inv = linalg.solve_triangular(schur_chol[:p, :p], np.eye(p), lower=True)
        return _Factorisation(
            lam=lam,
            chol=chol,
            chol_inv_lam_t=chol_inv_lam_t,
            solved=solved,
            schur_chol=schur_chol,
            log_det_l=2.0 * float(np.log(np.prod([chol[j, j] for j in range(q)], axis=0)).sum()),  # diagonal >= 1
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
        if self._last is not None and np.array_equal(self._last[0], theta):
            return self._last[1]
        self.n_evaluations += 1
        try:
            return self._deviance(self._factor(theta))
        except np.linalg.LinAlgError:
            return np.inf

    def _projected(self, f: _Factorisation) -> tuple[np.ndarray, np.ndarray]:
        """``R_i = I - N_i K_i`` ``(q, q, G)`` and ``R_i Z_i'[X_i y_i]`` ``(q, p + 1, G)`` at a factorisation."""
        s = self.stats
        q = s.n_random
        residual_maker = -_group_matmul(s.ztz, _gram(f.chol_inv_lam_t))
        residual_maker[np.arange(q), np.arange(q)] += 1.0
        return residual_maker, _group_matmul(residual_maker, s.ztw)

    def value_and_gradient(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """The deviance and its exact gradient with respect to ``theta`` (the last point's are remembered)."""
        theta = np.asarray(theta, dtype=float)
        if self._last is not None and np.array_equal(self._last[0], theta):
            return self._last[1], self._last[2].copy()
        value, grad = self._value_and_gradient(theta)
        self._last = (theta.copy(), value, grad.copy())
        return value, grad

    def _value_and_gradient(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
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
        residual_maker, projected = self._projected(f)
        # sum_i F_i = sum_i R_i N_i, minus sum_i [B_i rho_i] weight [B_i rho_i]' from one cross-product over groups.
        grad_d = np.einsum("acg,cbg->ab", residual_maker, s.ztz)
        grad_d -= np.einsum("cd,acbd->ab", weight, _slab_cross(projected))
        grad_d = (grad_d + grad_d.T) / 2.0
        rows, cols = lower_positions(q)
        return self._deviance(f), (2.0 * grad_d @ f.lam)[rows, cols]

    def solution(self, theta: np.ndarray) -> ProfiledSolution:
        """Fixed effects, their covariance, the scale and the conditional modes at ``theta``."""
        theta = np.asarray(theta, dtype=float)
        f = self._factor(theta)
        sigma2 = f.pwrss / self._dof()
        # Spherical modes: L_i' u_i = L_i^{-1} A_i [-beta; 1]; then b_i = Lambda u_i.
        modes = _batched_backward_solve(f.chol, np.einsum("ikg,k->ig", f.solved, np.append(-f.beta, 1.0)))
        return ProfiledSolution(
            theta=theta,
            deviance=self._deviance(f),
            beta=f.beta,
            cov_beta=sigma2 * (f.r_x_inv.T @ f.r_x_inv),
            sigma2=float(sigma2),
            relative_cov=f.lam @ f.lam.T,
            random_effects=(f.lam @ modes).T,
            # Var(b_i | y) = sigma^2 Lambda M_i^{-1} Lambda' = sigma^2 P_i'P_i.
            random_effects_se=np.sqrt(sigma2 * np.einsum("ikg,ikg->gk", f.chol_inv_lam_t, f.chol_inv_lam_t)),
        )


@dataclass(frozen=True)
class OptimumCheck:
    """First- and second-order check of a candidate ``theta``.

    Attributes
    ----------
    gradient:
        Exact gradient of the deviance.
    newton_step:
        ``H^+ g``, the Newton step with a central-difference Hessian ``H`` of
        the exact gradient (pseudo-inverse: directions along which the
        deviance is flat, as on a singular fit, contribute nothing); NaN when
        ``H`` has a clearly negative eigenvalue (a saddle point).
    decrement:
        ``g' H^+ g / 2``: how much a full Newton step would lower the
        deviance, in deviance units (an absolute measure of the distance to
        the minimum; NaN at a saddle).
    converged:
        Every ``|newton_step|`` below :data:`NEWTON_STEP_TOL` (lme4's relative
        gradient check). The fast engine also asks ``decrement`` to be below
        :data:`DECREMENT_TOL` (:func:`minimize_deviance`).
    hessian:
        The symmetrised central-difference Hessian ``H`` of the deviance in ``theta``.
    """

    gradient: np.ndarray
    newton_step: np.ndarray
    decrement: float
    converged: bool
    hessian: np.ndarray


def deviance_hessian(deviance: ProfiledDeviance, theta: np.ndarray) -> np.ndarray:
    """Symmetrised central differences of the exact gradient, steps ``1e-4 max(1, |theta|)`` (``2 len(theta)`` evaluations)."""
    theta = np.asarray(theta, dtype=float)
    h = 1e-4 * np.maximum(1.0, np.abs(theta))
    hess = np.empty((len(theta), len(theta)))
    for j in range(len(theta)):
        e = np.zeros_like(theta)
        e[j] = h[j]
        hess[:, j] = (deviance.value_and_gradient(theta + e)[1] - deviance.value_and_gradient(theta - e)[1]) / (2 * h[j])
    return (hess + hess.T) / 2.0


def check_optimum(
    deviance: ProfiledDeviance, theta: np.ndarray, gradient: np.ndarray | None = None, hessian: np.ndarray | None = None
) -> OptimumCheck:
    """Exact gradient, central-difference Hessian (of the exact gradient) and Newton step at ``theta``.

    No bounds are needed: the deviance depends on ``Lambda Lambda'`` only, so
    a boundary estimate (a zero diagonal ``theta``) is an interior point of
    the unconstrained problem. ``gradient`` (the exact one at ``theta``) and
    ``hessian`` may be passed when already known (:func:`newton_polish`
    reuses a Hessian across steps too small to change it).
    """
    theta = np.asarray(theta, dtype=float)
    grad = deviance.value_and_gradient(theta)[1] if gradient is None else np.asarray(gradient, dtype=float)
    hess = deviance_hessian(deviance, theta) if hessian is None else hessian
    eigval, eigvec = np.linalg.eigh(hess)
    scale = max(float(np.abs(eigval).max()), 1e-300)
    if eigval.min() < -1e-6 * scale:
        step = np.full_like(theta, np.nan)
    else:
        keep = eigval > 1e-9 * scale
        step = eigvec[:, keep] @ ((eigvec[:, keep].T @ grad) / eigval[keep])
    return OptimumCheck(
        gradient=grad,
        newton_step=step,
        decrement=float(grad @ step) / 2.0,
        converged=bool(np.all(np.abs(step) < NEWTON_STEP_TOL)),
        hessian=hess,
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


def newton_polish(
    deviance: ProfiledDeviance, theta: np.ndarray, check: OptimumCheck | None = None, max_steps: int = NEWTON_STEPS
) -> tuple[np.ndarray, OptimumCheck]:
    """``theta`` moved to the deviance's minimum by Newton steps; the point and its :class:`OptimumCheck`.

    Each step is the check's ``H^+ g`` (exact gradient, central-difference
    Hessian), halved until it lowers the deviance (or, within the
    deviance's rounding of ``1e-11`` relative, shrinks the gradient), until
    the Newton decrement is below :data:`POLISH_TOL` deviance units. A
    Hessian is recomputed only after a step larger than ``1e-6 max(1, |theta|)``
    (a smaller one cannot change it beyond its own differencing error).
    Quadratic convergence: from the quasi-Newton optimiser's end point one
    or two steps. A saddle point or a point where no step helps is returned
    as it is.
    """
    theta = np.asarray(theta, dtype=float)
    value, grad = deviance.value_and_gradient(theta) if check is None else (deviance(theta), check.gradient)
    check = check or check_optimum(deviance, theta, grad)
    for _ in range(max_steps):
        step = check.newton_step
        if not (np.all(np.isfinite(step)) and check.decrement > POLISH_TOL):
            break
        noise = 1e-11 * max(1.0, abs(value))
        for _ in range(12):
            trial = theta - step
            trial_value, trial_grad = deviance.value_and_gradient(trial)
            if trial_value < value - noise or (
                trial_value <= value + noise and np.abs(trial_grad).max() < np.abs(check.gradient).max()
            ):
                break
            step = step / 2.0
        else:
            break
        small = np.all(np.abs(step) <= 1e-6 * np.maximum(1.0, np.abs(theta)))
        theta, value = trial, trial_value
        check = check_optimum(deviance, theta, trial_grad, check.hessian if small else None)
    return theta, check


@dataclass(frozen=True)
class Optimum:
    """Result of :func:`minimize_deviance`.

    Attributes
    ----------
    theta, deviance:
        The best point found (canonical: diagonal of ``Lambda`` >= 0) and its deviance.
    optimizer:
        The optimisers run, in order, e.g. ``"BFGS, Newton"`` or ``"BFGS, Newton, Nelder-Mead, BFGS, Newton"``.
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


_BLAS_POOLS = ThreadpoolController()
"""The BLAS libraries loaded (numpy's and scipy's OpenBLAS, both imported above).

Found when this module is imported, once per process (threadpoolctl reads
every loaded shared library's path: about 15 ms here), so that a fit does
not pay it; as R loads its BLAS with the session, not in ``lmer``.
"""


def one_blas_thread() -> contextlib.AbstractContextManager:
    """A context in which BLAS runs on one thread (threadpoolctl).

    The engine's matrix products are small (``(p + 1) x G`` at most): a BLAS
    thread pool costs more than it saves, and on a busy machine its waiting
    threads (numpy's and scipy's are two pools) made a fit several times slower.
    """
    return _BLAS_POOLS.limit(limits=1, user_api="blas")


def moment_theta(stats: SufficientStatistics) -> np.ndarray:
    """A starting ``theta`` from moments: per-group least-squares random effects around the pooled fit.

    With ``beta_0`` the pooled least-squares fit, per group
    ``b_i = N_i^{-1} Z_i'(y_i - X_i beta_0)`` (groups with a singular
    ``N_i = Z_i'Z_i`` left out); ``sigma^2`` from the within-group residual
    sum of squares, and ``D = cov(b_i) - sigma^2 mean(N_i^{-1})`` with its
    eigenvalues raised to at least 1 % of the largest (a start on a zero
    diagonal is a stationary point). Returns ``Lambda = I``'s ``theta`` when
    these moments do not exist. A start only: :func:`minimize_deviance` keeps
    whichever of this and ``Lambda = I`` has the lower deviance.
    """
    q, p = stats.n_random, stats.n_fixed
    fallback = identity_theta(q)
    try:
        beta0 = np.linalg.solve(stats.wtw[:p, :p], stats.wtw[:p, p])
    except np.linalg.LinAlgError:
        return fallback
    v = np.append(-beta0, 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        chol = _batched_cholesky(stats.ztz)
        pivots = np.diagonal(chol, axis1=0, axis2=1).T ** 2  # (q, G)
        usable = np.all(pivots > 1e-8 * np.diagonal(stats.ztz, axis1=0, axis2=1).T, axis=0)
    if usable.sum() < q + 2:
        return fallback
    chol = chol[:, :, usable]
    resid = np.tensordot(v, stats.ztw[:, :, usable], axes=(0, 1))  # (q, G): Z_i'(y_i - X_i beta0)
    b = _batched_backward_solve(chol, _batched_forward_solve(chol, resid))
    mean_inverse = _gram(_batched_forward_solve(chol, np.broadcast_to(np.eye(q)[:, :, None], chol.shape))).mean(axis=2)
    dof = stats.n_obs - p - q * int(usable.sum())
    sigma2 = (v @ stats.wtw @ v - np.sum(b * resid)) / dof if dof > 0 else np.nan
    if not (np.isfinite(sigma2) and sigma2 > 0):
        return fallback
    d = (np.cov(b).reshape(q, q) - sigma2 * mean_inverse) / sigma2
    eigval, eigvec = np.linalg.eigh((d + d.T) / 2.0)
    if not np.all(np.isfinite(eigval)) or eigval.max() <= 0:
        return fallback
    eigval = np.maximum(eigval, 1e-2 * eigval.max())
    return theta_from_covariance((eigvec * eigval) @ eigvec.T)


def minimize_deviance(deviance: ProfiledDeviance, start: np.ndarray | None = None) -> Optimum:
    """Minimise the profiled deviance over ``theta``.

    1. Start: ``start``, else whichever of ``Lambda = I`` (lme4's start) and
       :func:`moment_theta` has the lower deviance.
    2. Quasi-Newton BFGS with the exact gradient, stopped at an absolute
       gradient ``1e-6 n`` (``n`` rows: the deviance and its gradient grow
       with ``n``; beyond this a line search on the deviance meets its
       rounding and wastes evaluations).
    3. :func:`newton_polish` to a Newton decrement below :data:`POLISH_TOL`
       deviance units.
    4. The final check (:func:`check_optimum`): lme4's Newton-step rule and
       a decrement below :data:`DECREMENT_TOL` (absolute: a relative
       tolerance stopped 1.45 deviance units short at a million clients).
       When it fails, Nelder-Mead restarts from the point, then BFGS and
       Newton once more, keeping the lowest deviance.

    The search runs unconstrained because the deviance is invariant to the
    sign of each column of ``Lambda``; this avoids the false stationary
    point a bounded search meets when a step lands a diagonal entry on zero.
    The answer is made canonical (diagonal >= 0) and diagonal entries below
    :data:`SINGULAR_TOL` are set to exactly 0 when that does not raise the
    deviance by more than ``1e-8`` (near a zero diagonal the deviance is flat
    in it, so neither BFGS nor the Newton polish lands on the boundary
    itself). BLAS runs on one thread throughout (:func:`one_blas_thread`).
    """
    with one_blas_thread():
        return _minimize(deviance, start)


def _minimize(deviance: ProfiledDeviance, start: np.ndarray | None) -> Optimum:
    q = deviance.stats.n_random
    if start is not None:
        x0 = np.asarray(start, dtype=float)
    else:
        x0 = min((identity_theta(q), moment_theta(deviance.stats)), key=deviance)
    bfgs = {"jac": True, "options": {"gtol": 1e-6 * deviance.stats.n_obs, "maxiter": 1000}}
    inverse = _start_inverse_hessian(deviance, x0)
    first = {"jac": True, "options": {**bfgs["options"], "hess_inv0": inverse}} if inverse is not None else bfgs
    best = optimize.minimize(deviance.value_and_gradient, x0, method="BFGS", **first)
    theta, check = newton_polish(deviance, best.x, check_optimum(deviance, best.x, best.jac))
    value = deviance(theta)
    used = ["BFGS", "Newton"]
    if not _final_check(check):
        trial = optimize.minimize(
            deviance, theta, method="Nelder-Mead",
            options={"xatol": 1e-7, "fatol": 1e-9, "maxiter": 2000 * len(x0), "adaptive": True},
        )
        trial = optimize.minimize(deviance.value_and_gradient, trial.x, method="BFGS", **bfgs)
        trial_theta, trial_check = newton_polish(deviance, trial.x)
        used += ["Nelder-Mead", "BFGS", "Newton"]
        trial_value = deviance(trial_theta)
        if trial_value <= value:
            theta, check, value = trial_theta, trial_check, trial_value
    canonical = canonical_theta(theta, q)
    # A column's sign flip negates its theta entries: gradient, step and Hessian follow exactly.
    sign = np.where(canonical == theta, 1.0, -1.0)
    check = OptimumCheck(check.gradient * sign, check.newton_step * sign, check.decrement, check.converged,
                         check.hessian * np.outer(sign, sign))
    diag = np.flatnonzero(identity_theta(q))
    snapped = canonical.copy()
    for j in diag[np.abs(canonical[diag]) < SINGULAR_TOL]:
        trial = snapped.copy()
        trial[j] = 0.0
        trial_value = deviance(trial)
        if trial_value <= value + 1e-8:
            snapped, value = trial, min(value, trial_value)
    if not np.array_equal(snapped, canonical):
        check = check_optimum(deviance, snapped)
    return Optimum(theta=snapped, deviance=value, optimizer=", ".join(used), check=check, n_evaluations=deviance.n_evaluations)


def _start_inverse_hessian(deviance: ProfiledDeviance, theta: np.ndarray) -> np.ndarray | None:
    """BFGS's starting inverse Hessian: forward differences of the exact gradient at the start (``len(theta) + 1`` evaluations).

    With the identity (scipy's default) the first steps are off in scale by
    the deviance's size (gradients of ``1e4``-``1e5`` at 20,000 groups) and
    the line searches spend most of the evaluations; with this curvature
    the first step is close to Newton's. Eigenvalues are raised to at least
    ``1e-6`` of the largest so the matrix is positive definite; None when the
    differences are not finite (BFGS then starts from the identity).
    """
    value, grad = deviance.value_and_gradient(theta)
    h = 1e-4 * np.maximum(1.0, np.abs(theta))
    hess = np.empty((len(theta), len(theta)))
    for j in range(len(theta)):
        step = np.zeros_like(theta)
        step[j] = h[j]
        hess[:, j] = (deviance.value_and_gradient(theta + step)[1] - grad) / h[j]
    eigval, eigvec = np.linalg.eigh((hess + hess.T) / 2.0)
    if not (np.isfinite(value) and np.all(np.isfinite(eigval))) or eigval.max() <= 0:
        return None
    eigval = np.maximum(eigval, 1e-6 * eigval.max())
    inverse = (eigvec / eigval) @ eigvec.T
    return (inverse + inverse.T) / 2.0  # exactly symmetric, as scipy checks


def _final_check(check: OptimumCheck) -> bool:
    """lme4's Newton-step rule and an absolute Newton decrement below :data:`DECREMENT_TOL`."""
    return check.converged and check.decrement <= DECREMENT_TOL


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


def _group_blocks(stats: SufficientStatistics, theta: np.ndarray, beta: np.ndarray) -> _GroupBlocks:
    """The blocks at ``theta`` and ``beta``, from the deviance's own factorisation (group axis moved first)."""
    p = stats.n_fixed
    deviance = ProfiledDeviance(stats)
    f = deviance._factor(theta)
    residual_maker, projected = deviance._projected(f)

    def first(batch: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(np.moveaxis(batch, -1, 0))

    return _GroupBlocks(
        n=first(stats.ztz),
        k=first(_gram(f.chol_inv_lam_t)),
        r=first(residual_maker),
        zx=first(stats.ztw[:, :p]),
        b=first(projected[:, :p]),
        rho=np.tensordot(np.append(-beta, 1.0), projected, axes=(0, 1)).T,
    )


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
    return _pwrss_gradient(_group_blocks(stats, theta, beta).rho, lam)


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
    _, projected = deviance._projected(deviance._factor(theta))  # R_i Z_i'[X_i y_i], group axis last
    rho = np.tensordot(np.append(-sol.beta, 1.0), projected, axes=(0, 1)).T
    d_ts = -2.0 * _pwrss_gradient(rho, lam) / sigma**3
    d_ss = 4.0 * dof / sol.sigma2
    k = len(theta) + 1
    full = np.empty((k, k))
    full[:-1, :-1] = hessian + np.outer(d_ts, d_ts) / d_ss
    full[:-1, -1] = full[-1, :-1] = d_ts
    full[-1, -1] = d_ss
    eigval, eigvec = np.linalg.eigh(full)
    keep = eigval > 1e-8
    vcov_varpar = 2.0 * (eigvec[:, keep] / eigval[keep]) @ eigvec[:, keep].T
    b = projected[:, :p].reshape(q * p, -1)  # B_i = Z_i'V_i^{-1}X_i, row (a, k), one column per group
    btb = (b @ b.T).reshape(q, p, q, p)
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
    blocks = _group_blocks(s, theta, sol.beta)
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
