"""The fast profiled-deviance engine against dense linear algebra and statsmodels' likelihood."""

from __future__ import annotations

import numpy as np
import pytest

from backpain_analysis import mixed_engine as me


def _random_problem(rng: np.random.Generator, groups: int, q: int, p: int = 3, unsorted: bool = True):
    sizes = rng.integers(2, 9, groups)
    codes = np.repeat(np.arange(groups), sizes)
    if unsorted:
        codes = rng.permutation(codes)
    n = codes.size
    x = np.column_stack([np.ones(n), rng.normal(size=(n, p - 1))])
    z = np.column_stack([np.ones(n), rng.normal(size=(n, q - 1))])
    b = rng.normal(size=(groups, q))
    y = x @ rng.normal(size=p) + np.einsum("ij,ij->i", z, b[codes]) + rng.normal(size=n)
    return x, z, y, codes


def _random_theta(rng: np.random.Generator, q: int) -> np.ndarray:
    theta = rng.normal(0.0, 0.7, me.n_theta(q))
    diag = me.identity_theta(q) == 1.0
    theta[diag] = np.abs(theta[diag]) + 0.1
    return theta


def _problem_deviance(seed: int, groups: int, q: int, reml: bool = True):
    """A random problem and its profiled deviance."""
    rng = np.random.default_rng(seed)
    x, z, y, codes = _random_problem(rng, groups=groups, q=q)
    return rng, (x, z, y, codes), me.ProfiledDeviance(me.sufficient_statistics(x, z, y, codes, groups), reml=reml)


def _dense_deviance(x, z, y, codes, theta, reml: bool) -> float:
    """-2 log L straight from the marginal model y ~ N(X beta, sigma^2 (I + Z Lambda Lambda' Z'))."""
    n, p = x.shape
    q = z.shape[1]
    groups = codes.max() + 1
    lam = me.lambda_from_theta(theta, q)
    big_z = np.zeros((n, groups * q))
    for i in range(n):
        big_z[i, codes[i] * q : (codes[i] + 1) * q] = z[i] @ lam
    v = np.eye(n) + big_z @ big_z.T
    v_inv = np.linalg.inv(v)
    xtvx = x.T @ v_inv @ x
    beta = np.linalg.solve(xtvx, x.T @ v_inv @ y)
    resid = y - x @ beta
    r2 = resid @ v_inv @ resid
    dof = n - p if reml else n
    value = np.linalg.slogdet(v)[1] + dof * (1 + np.log(2 * np.pi * r2 / dof))
    return value + (np.linalg.slogdet(xtvx)[1] if reml else 0.0)


def test_sufficient_statistics_match_per_group_sums():
    rng = np.random.default_rng(0)
    x, z, y, codes = _random_problem(rng, groups=7, q=2)
    stats = me.sufficient_statistics(x, z, y, codes, 7)
    w = np.column_stack([x, y])
    for g in range(7):
        rows = codes == g
        np.testing.assert_allclose(stats.ztz[:, :, g], z[rows].T @ z[rows])
        np.testing.assert_allclose(stats.ztw[:, :, g], z[rows].T @ w[rows])
    np.testing.assert_allclose(stats.wtw, w.T @ w)
    assert (stats.n_obs, stats.n_fixed, stats.n_random, stats.n_groups) == (len(y), 3, 2, 7)


@pytest.mark.parametrize("order", ["sorted", "shuffled"])
def test_column_statistics_with_intercepts_as_none_equal_the_matrices(order):
    """``None`` stands for a column of ones: the statistics equal those of the dense matrices, sorted rows or not."""
    rng = np.random.default_rng(3)
    codes = np.repeat(np.arange(9), rng.integers(2, 6, 9))
    if order == "shuffled":
        codes = rng.permutation(codes)
    n = len(codes)
    week, dose, y = rng.normal(size=n), rng.normal(size=n), rng.normal(size=n)
    x = np.column_stack([np.ones(n), week, dose, week * dose])
    z = np.column_stack([np.ones(n), week])
    dense = me.sufficient_statistics(x, z, y, codes, 9)
    columns = me.column_statistics((None, week, dose, week * dose), (None, week), y, codes, 9)
    for name in ("ztz", "ztw", "wtw"):
        np.testing.assert_allclose(getattr(columns, name), getattr(dense, name), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dense.ztz[0, 0], np.bincount(codes))


@pytest.mark.parametrize("q", [1, 2, 3])
@pytest.mark.parametrize("reml", [True, False])
def test_profiled_deviance_equals_dense_marginal_likelihood(q, reml):
    rng, problem, deviance = _problem_deviance(10 + q, groups=12, q=q, reml=reml)
    for _ in range(3):
        theta = _random_theta(rng, q)
        assert deviance(theta) == pytest.approx(_dense_deviance(*problem, theta, reml), rel=1e-10)


@pytest.mark.parametrize("q", [1, 2, 3])
@pytest.mark.parametrize("reml", [True, False])
def test_exact_gradient_matches_central_differences(q, reml):
    rng, _, deviance = _problem_deviance(20 + q, groups=15, q=q, reml=reml)
    theta = _random_theta(rng, q)
    value, grad = deviance.value_and_gradient(theta)
    assert value == pytest.approx(deviance(theta), rel=1e-12)
    h = 1e-6
    numeric = [(deviance(theta + h * e) - deviance(theta - h * e)) / (2 * h) for e in np.eye(len(theta))]
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-6)


def test_deviance_depends_on_lambda_lambda_transpose_only():
    rng, _, deviance = _problem_deviance(3, groups=10, q=3)
    theta = _random_theta(rng, 3)
    lam = me.lambda_from_theta(theta, 3)
    flipped = lam * np.array([1.0, -1.0, -1.0])
    cols, rows = np.triu_indices(3)
    assert deviance(flipped[rows, cols]) == pytest.approx(deviance(theta), rel=1e-12)
    np.testing.assert_allclose(me.canonical_theta(flipped[rows, cols], 3), theta)


def test_theta_from_covariance_round_trip_and_singular_matrix():
    rng = np.random.default_rng(4)
    theta = _random_theta(rng, 3)
    lam = me.lambda_from_theta(theta, 3)
    np.testing.assert_allclose(me.theta_from_covariance(lam @ lam.T), theta, atol=1e-12)
    singular = np.array([[4.0, 2.0], [2.0, 1.0]])  # correlation 1: second column of Lambda is 0
    back = me.lambda_from_theta(me.theta_from_covariance(singular), 2)
    np.testing.assert_allclose(back @ back.T, singular, atol=1e-12)
    assert back[1, 1] == 0.0


def test_solution_matches_generalised_least_squares_and_blups():
    rng = np.random.default_rng(5)
    x, z, y, codes = _random_problem(rng, groups=9, q=2, unsorted=False)
    deviance = me.ProfiledDeviance(me.sufficient_statistics(x, z, y, codes, 9))
    theta = _random_theta(rng, 2)
    sol = deviance.solution(theta)
    lam = me.lambda_from_theta(theta, 2)
    n = len(y)
    big_z = np.zeros((n, 18))
    for i in range(n):
        big_z[i, codes[i] * 2 : codes[i] * 2 + 2] = z[i]
    cov_b = np.kron(np.eye(9), lam @ lam.T)
    v = np.eye(n) + big_z @ cov_b @ big_z.T
    v_inv = np.linalg.inv(v)
    beta = np.linalg.solve(x.T @ v_inv @ x, x.T @ v_inv @ y)
    np.testing.assert_allclose(sol.beta, beta, rtol=1e-9)
    np.testing.assert_allclose(sol.cov_beta, sol.sigma2 * np.linalg.inv(x.T @ v_inv @ x), rtol=1e-9)
    blups = cov_b @ big_z.T @ v_inv @ (y - x @ beta)
    np.testing.assert_allclose(sol.random_effects.ravel(), blups, rtol=1e-8, atol=1e-10)
    post = sol.sigma2 * (cov_b - cov_b @ big_z.T @ np.linalg.inv(v) @ big_z @ cov_b)
    np.testing.assert_allclose(sol.random_effects_se.ravel() ** 2, np.diag(post), rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("seed", range(6))
def test_minimize_deviance_beats_a_dense_grid_refinement(seed):
    """The optimum passes its own check and no nearby point has a lower deviance."""
    q = 1 + seed % 3
    rng, _, deviance = _problem_deviance(100 + seed, groups=25, q=q, reml=bool(seed % 2))
    optimum = me.minimize_deviance(deviance)
    assert optimum.check.converged
    assert np.all(optimum.theta[me.identity_theta(q) == 1.0] >= 0.0)
    assert optimum.deviance == pytest.approx(deviance(optimum.theta), abs=1e-9)
    for direction in rng.normal(size=(20, len(optimum.theta))):
        assert deviance(optimum.theta + 1e-3 * direction) >= optimum.deviance - 1e-9


def test_check_optimum_rejects_a_point_away_from_the_optimum():
    _, _, deviance = _problem_deviance(6, groups=30, q=2)
    optimum = me.minimize_deviance(deviance)
    away = me.check_optimum(deviance, optimum.theta + np.array([0.3, 0.2, -0.2]))
    assert not away.converged
    assert np.linalg.norm(away.gradient) > np.linalg.norm(optimum.check.gradient)


def test_boundary_optimum_is_exactly_zero_and_converged():
    """Errors that sum to zero in every group: the random-intercept SD is estimated as exactly 0."""
    rng = np.random.default_rng(7)
    codes = np.repeat(np.arange(20), 6)
    x = np.column_stack([np.ones(120), rng.normal(size=120)])
    noise = rng.normal(size=120)
    y = x @ [1.0, 2.0] + noise - np.bincount(codes, weights=noise)[codes] / 6
    deviance = me.ProfiledDeviance(me.sufficient_statistics(x, x[:, :1], y, codes, 20))
    optimum = me.minimize_deviance(deviance)
    assert optimum.theta[0] == 0.0
    assert optimum.check.converged


@pytest.mark.parametrize("seed", range(4))
def test_deviance_equals_statsmodels_log_likelihood_at_its_estimate(seed):
    """An independent implementation of the same likelihood: statsmodels' llf at its own estimate."""
    import warnings

    from statsmodels.regression.mixed_linear_model import MixedLM

    rng = np.random.default_rng(200 + seed)
    q = 1 + seed % 2
    reml = seed < 2
    x, z, y, codes = _random_problem(rng, groups=20, q=q)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = MixedLM(y, x, groups=codes, exog_re=z).fit(reml=reml)
    theta = me.theta_from_covariance(np.asarray(fit.cov_re) / fit.scale)
    deviance = me.ProfiledDeviance(me.sufficient_statistics(x, z, y, codes, 20), reml=reml)
    assert deviance(theta) == pytest.approx(-2.0 * fit.llf, rel=1e-9)


def _dense_marginal(x, z, codes, theta, sigma):
    """The block-diagonal random-effects design and ``Sigma = sigma^2 (I + Z Lambda Lambda' Z')``."""
    n, q = z.shape
    groups = codes.max() + 1
    lam = me.lambda_from_theta(theta, q)
    big_z = np.zeros((n, groups * q))
    for i in range(n):
        big_z[i, codes[i] * q : (codes[i] + 1) * q] = z[i]
    return big_z, sigma**2 * (np.eye(n) + big_z @ np.kron(np.eye(groups), lam @ lam.T) @ big_z.T)


def _dense_deviance_vp(x, z, y, codes, varpar, reml=True):
    """lmerTest's devfun_vp: -2 log L at (theta, sigma), sigma not profiled, from dense matrices."""
    _, sigma_mat = _dense_marginal(x, z, codes, varpar[:-1], varpar[-1])
    inv = np.linalg.inv(sigma_mat)
    xtvx = x.T @ inv @ x
    resid = y - x @ np.linalg.solve(xtvx, x.T @ inv @ y)
    n, p = x.shape
    value = np.linalg.slogdet(sigma_mat)[1] + resid @ inv @ resid + n * np.log(2 * np.pi)
    return value + (np.linalg.slogdet(xtvx)[1] - p * np.log(2 * np.pi) if reml else 0.0)


@pytest.mark.parametrize("q", [1, 2, 3])
@pytest.mark.parametrize("reml", [True, False])
def test_satterthwaite_ingredients_equal_lmertest_numerical_derivatives(q, reml):
    """vcov_varpar = 2 H^-1 of devfun_vp and the Jacobian of cov(beta) in (theta, sigma), as lmerTest computes them
    (there with numDeriv), against finite differences of dense matrices."""
    rng = np.random.default_rng(40 + q)
    x, z, y, codes = _random_problem(rng, groups=12, q=q)
    deviance = me.ProfiledDeviance(me.sufficient_statistics(x, z, y, codes, 12), reml=reml)
    optimum = me.minimize_deviance(deviance)
    sol = deviance.solution(optimum.theta)
    varpar = np.append(optimum.theta, np.sqrt(sol.sigma2))
    k, h = len(varpar), 1e-4
    hess = np.empty((k, k))
    steps = np.eye(k) * h
    for i in range(k):
        for j in range(k):
            corners = [_dense_deviance_vp(x, z, y, codes, varpar + a * steps[i] + b * steps[j], reml) for a, b in
                       ((1, 1), (1, -1), (-1, 1), (-1, -1))]
            hess[i, j] = (corners[0] - corners[1] - corners[2] + corners[3]) / (4 * h * h)

    def cov_beta(v):
        _, sigma_mat = _dense_marginal(x, z, codes, v[:-1], v[-1])
        return np.linalg.inv(x.T @ np.linalg.solve(sigma_mat, x))

    jac = np.stack([(cov_beta(varpar + 1e-6 * e) - cov_beta(varpar - 1e-6 * e)) / 2e-6 for e in np.eye(k)])
    basis = me.satterthwaite_basis(deviance, optimum.theta, optimum.check.hessian)
    np.testing.assert_allclose(basis.vcov_varpar, 2 * np.linalg.inv(hess), rtol=1e-5, atol=1e-9 * np.abs(hess).max())
    np.testing.assert_allclose(basis.jacobian, jac, rtol=1e-6, atol=1e-9 * np.abs(jac).max())
    np.testing.assert_allclose(basis.cov_beta, sol.cov_beta)


@pytest.mark.parametrize("q", [1, 2, 3])
def test_pwrss_gradient_matches_central_differences(q):
    rng, _, deviance = _problem_deviance(60 + q, groups=15, q=q)
    theta = _random_theta(rng, q)
    beta = deviance.solution(theta).beta
    grad = me.pwrss_gradient(deviance.stats, theta, beta)
    h = 1e-6

    def pwrss(t):
        sol = deviance.solution(t)
        return sol.sigma2 * deviance._dof()

    numeric = [(pwrss(theta + h * e) - pwrss(theta - h * e)) / (2 * h) for e in np.eye(len(theta))]
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("q", [1, 2, 3])
def test_kenward_roger_equals_pbkrtest_algorithm_on_dense_matrices(q):
    """pbkrtest's vcovAdj_internal written out with n x n matrices (G_r = Z E_r Z', Sigma^-1, P, Q, IE2, W, U)."""
    rng = np.random.default_rng(80 + q)
    x, z, y, codes = _random_problem(rng, groups=10, q=q)
    deviance = me.ProfiledDeviance(me.sufficient_statistics(x, z, y, codes, 10))
    theta = me.minimize_deviance(deviance).theta
    sol = deviance.solution(theta)
    big_z, sigma_mat = _dense_marginal(x, z, codes, theta, np.sqrt(sol.sigma2))
    inv = np.linalg.inv(sigma_mat)
    gs = []
    cols, rows = np.triu_indices(q)
    for a, b in zip(rows, cols):
        e = np.zeros((q, q))
        e[a, b] = e[b, a] = 1.0
        gs.append(big_z @ np.kron(np.eye(10), e) @ big_z.T)
    gs.append(np.eye(len(y)))
    phi = sol.cov_beta
    pp = [-(x.T @ inv @ g @ inv @ x) for g in gs]
    qq = [[x.T @ inv @ g @ inv @ h @ inv @ x for h in gs] for g in gs]
    m = len(gs)
    ie2 = np.array([[np.trace(inv @ gs[i] @ inv @ gs[j]) - 2 * np.sum(phi * qq[i][j])
                     + np.sum((phi @ pp[i]) * (pp[j] @ phi)) for j in range(m)] for i in range(m)])
    w = 2 * np.linalg.inv(ie2)
    uu = sum(w[i, j] * (qq[i][j] - pp[i] @ phi @ pp[j]) for i in range(m) for j in range(m))
    basis = me.kenward_roger_basis(deviance, theta)
    np.testing.assert_allclose(basis.cov_beta, phi + 2 * phi @ uu @ phi, rtol=1e-9)
    np.testing.assert_allclose(basis.vcov_varpar, w, rtol=1e-8)
    # One contrast: pbkrtest's Lb_ddf (q = 1) is 2 / A2 with A2 = sum_ij W_ij tr(Theta Phi P_i Phi) tr(...).
    contrast = rng.normal(size=x.shape[1])
    theta_mat = np.outer(contrast, contrast) / (contrast @ phi @ contrast)
    traces = np.array([np.trace(theta_mat @ phi @ p @ phi) for p in pp])
    se, df = basis.std_error_and_df(contrast)
    assert df[0] == pytest.approx(2.0 / (traces @ w @ traces), rel=1e-9)
    assert se[0] == pytest.approx(np.sqrt(contrast @ basis.cov_beta @ contrast), rel=1e-12)


@pytest.mark.parametrize("q", [1, 2, 3])
def test_exact_gradient_matches_central_differences_near_the_optimum(q):
    """Near the minimum the gradient is a small difference of large sums: still equal to a numerical one.

    400 groups of 1-8 rows (for q = 2, 3 many ``Z_i'Z_i`` are singular), rows sorted by group.
    """
    rng = np.random.default_rng(400 + q)
    x, z, y, codes = _random_problem(rng, groups=400, q=q, p=5, unsorted=False)
    deviance = me.ProfiledDeviance(me.sufficient_statistics(x, z, y, codes, 400))
    optimum = me.minimize_deviance(deviance)
    for theta in (optimum.theta + 1e-3 * rng.normal(size=len(optimum.theta)), optimum.theta + 0.1):
        grad = deviance.value_and_gradient(theta)[1]
        h = 1e-5
        numeric = [(deviance(theta + h * e) - deviance(theta - h * e)) / (2 * h) for e in np.eye(len(theta))]
        np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("q", [1, 2, 3])
def test_optimum_meets_the_absolute_tolerances_and_the_polish_returns_to_it(q):
    """The check's Newton decrement (deviance units) is below DECREMENT_TOL; a point moved off the
    minimum, or a start far from it, comes back to the same theta. (A point 1e-3 off can pass lme4's
    relative step rule while lying 1e-4 to 1e-3 deviance units above the minimum: the absolute tolerance
    is what catches it.)"""
    rng, _, deviance = _problem_deviance(300 + q, groups=300, q=q)
    optimum = me.minimize_deviance(deviance)
    check = optimum.check
    assert check.converged and 0.0 <= check.decrement <= me.DECREMENT_TOL
    assert check.decrement == pytest.approx(check.gradient @ check.newton_step / 2.0, rel=1e-12, abs=1e-300)
    shifted = optimum.theta + 1e-3 * np.abs(rng.normal(size=len(optimum.theta)))
    assert me.check_optimum(deviance, shifted).decrement > 100 * me.DECREMENT_TOL
    polished, polished_check = me.newton_polish(deviance, shifted)
    assert polished_check.decrement <= me.POLISH_TOL
    np.testing.assert_allclose(polished, optimum.theta, atol=1e-7)
    far = me.minimize_deviance(deviance, start=5.0 * me.identity_theta(q))
    np.testing.assert_allclose(far.theta, optimum.theta, atol=1e-6)
    assert far.deviance == pytest.approx(optimum.deviance, abs=1e-8)


def test_moment_start_is_near_the_truth_and_falls_back_without_moments():
    rng = np.random.default_rng(9)
    groups, per = 500, 10
    codes = np.repeat(np.arange(groups), per)
    time_ = np.tile(np.arange(per, dtype=float), groups)
    x = np.column_stack([np.ones(codes.size), time_, rng.normal(size=codes.size)])
    z = x[:, :2]
    lam = np.array([[1.2, 0.0], [0.05, 0.15]])
    b = rng.normal(size=(groups, 2)) @ lam.T
    y = x @ [2.0, -0.1, 0.5] + np.einsum("ij,ij->i", z, b[codes]) + rng.normal(size=codes.size)
    stats = me.sufficient_statistics(x, z, y, codes, groups)
    start = me.lambda_from_theta(me.moment_theta(stats), 2)
    np.testing.assert_allclose(start @ start.T, lam @ lam.T, atol=0.2 * np.abs(lam @ lam.T).max())
    one_row = me.sufficient_statistics(x[::per], z[::per], y[::per], np.arange(groups), groups)
    np.testing.assert_array_equal(me.moment_theta(one_row), me.identity_theta(2))


def test_statistics_summed_in_client_ranges_reach_the_single_machine_estimates():
    """scale/fit.py's path (per-client statistics of client ranges, stacked) and fit_volume_model stop at the
    same minimum of the criterion: estimates equal to 1e-8 (both end with the engine's Newton polish)."""
    from pathlib import Path

    import backpain_analysis as bp
    from backpain_analysis.scale.fit import ClientStatistics, range_statistics

    panel = bp.weekly_panel(bp.load(Path(__file__).resolve().parents[1] / "data" / "sample"))
    reference = bp.fit_volume_model(panel, "nprs", 1)
    ids = np.sort(panel["client_id"].unique())
    parts = [range_statistics(panel[panel["client_id"].isin(part)], "nprs", 1) for part in np.array_split(ids, 3)]
    deviance = me.ProfiledDeviance(ClientStatistics.stack(parts).engine_statistics())
    optimum = me.minimize_deviance(deviance)
    np.testing.assert_allclose(deviance.solution(optimum.theta).beta, reference.params["estimate"], rtol=0, atol=1e-8)
    assert optimum.check.decrement <= me.DECREMENT_TOL
