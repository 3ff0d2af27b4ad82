"""Risk-adjusted comparison of coaches or studios: observed vs expected improvement, shrunken, on a funnel.

Raw averages reward the coach with the easiest clients. Here each client's
improvement (baseline to last measured week, signed so that positive is
better, :func:`~backpain_analysis.responders.client_changes`) is compared with
what a **case-mix model** expects for a client like them, whoever coached
them::

    improvement_i = a + b * baseline_i + c * followup_weeks_i + d' covariates_i + e_i,   e_i ~ N(0, s^2)

fitted by least squares over all clients, the provider left out
(covariates: ``age``, ``sex`` and any others asked for; a numeric covariate
with gaps gets the mean plus a missing indicator, a categorical one a
``missing`` level, so no client is dropped for a blank). For provider *j*
with ``n_j`` clients:

- ``estimate`` = mean of observed minus expected (O - E, outcome points,
  positive = better than expected), its standard error
  ``s sqrt(1/n_j - xbar_j' (X'X)^-1 xbar_j)`` (the case-mix fit's own
  uncertainty included) and a t interval;
- a **funnel plot** of O - E against ``n_j`` with control limits
  ``0 +- z sqrt(s^2 / n_j + tau^2)`` at 95 % and 99.8 % (FunnelPlotR's
  conventions): overdispersion is judged on z-scores ``z_j = (O-E)_j / (s / sqrt(n_j))``
  winsorised at the 10th and 90th percentiles (Spiegelhalter 2005):
  ``phi = mean(z_w^2)``; the additive (random-effects) ``tau^2 =
  max(0, (k phi - (k - 1)) / (sum w - sum w^2 / sum w))``, ``w = n_j / s^2``,
  or, with ``overdispersion="multiplicative"``, limits ``+- z sqrt(phi s^2 / n_j)``
  when ``phi > 1``;
- a **flag** (``better`` / ``worse``) only when O - E lies outside the 95 %
  limits *and* the provider has at least ``min_clients`` clients; otherwise
  ``as_expected`` or ``too_few_clients``. Small providers have wide limits
  and are never flagged on noise;
- **shrunken** (empirical Bayes) estimates ``B_j (O-E)_j`` with
  ``B_j = tau^2 / (tau^2 + s^2 / n_j)`` and interval ``+- z sqrt(B_j s^2 / n_j)``:
  a provider with few clients is pulled towards "as expected". With
  ``tau^2 = 0`` the data show no differences beyond chance and every
  shrunken estimate is 0.

Assumptions: the case-mix covariates capture why clients differ in expected
improvement (anything else that differs between providers' clients is
attributed to the provider); improvements are independent between clients;
a provider's clients are comparable to the chain's. Not randomised: this is
audit, not proof.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import patsy
from scipy import stats

from backpain_analysis.errors import DataError
from backpain_analysis.responders import client_changes

PROVIDERS: tuple[str, ...] = ("coach", "studio")
"""Client columns a comparison can be made over."""

DEFAULT_COVARIATES: tuple[str, ...] = ("age", "sex")
"""Case-mix covariates used when present (besides baseline score and weeks of follow-up)."""

MIN_CLIENTS_TO_FLAG = 5
"""A provider with fewer clients is shown but never flagged."""

LIMITS: tuple[float, float] = (0.95, 0.998)
"""Funnel control-limit levels (FunnelPlotR's defaults)."""

WINSOR = 0.1
"""Share trimmed at each end before judging overdispersion (FunnelPlotR's ``trim_by``)."""


@dataclass
class ProviderComparison:
    """Coaches (or studios) compared on risk-adjusted improvement.

    Attributes
    ----------
    table:
        One row per provider: ``provider`` (its name), ``n_clients``;
        ``observed`` (raw mean improvement, points, positive = better),
        ``expected`` (mean of the case-mix expectations of its clients);
        ``estimate`` (observed - expected), ``std_error``, ``statistic``,
        ``p_value``, ``conf_low``, ``conf_high`` (t interval at ``conf_level``);
        ``z`` (funnel z-score ``estimate / (s / sqrt(n))``); ``limit_low``,
        ``limit_high`` (95 % funnel limits, overdispersion-adjusted);
        ``shrunken``, ``shrunken_low``, ``shrunken_high`` (empirical Bayes);
        ``raw_rank``, ``adjusted_rank`` (1 = best); ``flag`` (``better``,
        ``worse``, ``as_expected``, ``too_few_clients``).
    clients:
        One row per client: ``client_id``, the provider column, ``baseline``,
        ``followup_weeks``, ``improvement``, ``expected``, ``observed_minus_expected``.
    by, outcome:
        Provider column and instrument.
    residual_sd:
        ``s``, the case-mix model's residual SD (points).
    phi, tau2:
        Overdispersion ratio of the winsorised z-scores and the additive
        between-provider variance (points^2; 0 when none is detected).
    overdispersion:
        ``"additive"`` or ``"multiplicative"``.
    covariates:
        Case-mix terms besides baseline and follow-up weeks.
    excluded:
        Clients left out, with why (no provider, no baseline or follow-up).
    """

    table: pd.DataFrame
    clients: pd.DataFrame
    by: str
    outcome: str
    residual_sd: float
    phi: float
    tau2: float
    overdispersion: str
    covariates: list[str]
    conf_level: float
    min_clients: int
    excluded: dict[str, int] = field(default_factory=dict)

    def limits(self, n: np.ndarray | Sequence[float], level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        """Funnel control limits of O - E for providers of ``n`` clients (points)."""
        n = np.asarray(n, dtype=float)
        z = stats.norm.ppf(0.5 + level / 2.0)
        half = z * self._funnel_sd(n)
        return -half, half

    def _funnel_sd(self, n: np.ndarray) -> np.ndarray:
        base = self.residual_sd**2 / n
        if self.overdispersion == "multiplicative":
            return np.sqrt(base * max(self.phi, 1.0))
        return np.sqrt(base + self.tau2)

    def side_by_side(self) -> pd.DataFrame:
        """Raw and adjusted results beside each other, best adjusted first."""
        cols = ["provider", "n_clients", "observed", "raw_rank", "expected", "estimate", "conf_low", "conf_high", "shrunken", "adjusted_rank", "flag"]
        return self.table[cols].sort_values("adjusted_rank").reset_index(drop=True)

    def sentence(self) -> str:
        """The result in plain words."""
        who = self.by
        flagged = self.table[self.table["flag"].isin(["better", "worse"])]
        small = int((self.table["flag"] == "too_few_clients").sum())
        if flagged.empty:
            text = (
                f"No {who} stands out: after adjusting for clients' baseline {self.outcome.upper()} and "
                f"case mix, every {who} with {self.min_clients}+ clients is within the 95 % funnel limits."
            )
        else:
            parts = [
                f"{r.provider} ({'better' if r.flag == 'better' else 'worse'} than expected by "
                f"{abs(r.estimate):.2f} points, {r.n_clients} clients)"
                for r in flagged.itertuples()
            ]
            text = f"Outside the 95 % funnel limits after case-mix adjustment: {'; '.join(parts)}."
        if small:
            text += f" {small} {who}(s) with fewer than {self.min_clients} clients are shown but not judged."
        return text


def _case_mix_frame(changes: pd.DataFrame, covariates: Sequence[str]) -> tuple[pd.DataFrame, list[str]]:
    """Covariates ready for the case-mix formula: gaps filled with a missing indicator or level."""
    frame = changes[["baseline", "followup_weeks"]].astype(float).copy()
    terms = ["baseline", "followup_weeks"]
    for name in covariates:
        values = changes[name]
        safe = f"cov_{len(terms)}"
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            values = values.astype(float)
            if values.notna().sum() < 3 or values.std() == 0:
                continue
            missing = values.isna()
            frame[safe] = values.fillna(values.mean())
            terms.append(safe)
            if missing.any():
                frame[f"{safe}_missing"] = missing.astype(float)
                terms.append(f"{safe}_missing")
        else:
            values = values.astype("string").fillna("missing")
            if values.nunique() < 2:
                continue
            frame[safe] = values.astype(str)
            terms.append(f"C({safe})")
    return frame, terms


def compare_providers(
    panel: pd.DataFrame,
    outcome: str = "nprs",
    by: str = "coach",
    *,
    covariates: Sequence[str] | None = None,
    overdispersion: str = "additive",
    min_clients: int = MIN_CLIENTS_TO_FLAG,
    conf_level: float = 0.95,
    baseline_max_week: int = 1,
) -> ProviderComparison:
    """Compare coaches or studios on observed vs case-mix-expected improvement (module docstring).

    Parameters
    ----------
    panel:
        The weekly panel with the provider column (from the clients table).
    outcome:
        A built-in instrument (``nprs``, ``odi``, ...).
    by:
        The provider column, ``coach`` or ``studio`` (any client column works).
    covariates:
        Case-mix covariates besides baseline and weeks of follow-up; default
        those of :data:`DEFAULT_COVARIATES` the panel has. Never the provider.
    overdispersion:
        ``"additive"`` (random effects, default) or ``"multiplicative"``.
    min_clients:
        Providers with fewer clients are never flagged.
    conf_level:
        Level of the O - E and shrunken intervals.
    baseline_max_week:
        Latest week a first score still counts as baseline.

    Raises
    ------
    DataError
        When the panel has no ``by`` column, fewer than 2 providers have
        clients with a baseline and a follow-up, or too few clients to fit the case-mix model.
    """
    if by not in panel.columns:
        raise DataError(f"no {by!r} column in the clients table, so {by}s cannot be compared")
    if overdispersion not in ("additive", "multiplicative"):
        raise DataError(f"overdispersion must be 'additive' or 'multiplicative', not {overdispersion!r}")
    covariates = [c for c in (DEFAULT_COVARIATES if covariates is None else covariates) if c in panel.columns and c != by]
    changes = client_changes(panel, outcome, baseline_max_week=baseline_max_week, by=by)
    n_changes = len(changes)
    if covariates:
        extra = panel.groupby("client_id", sort=False)[covariates].first()
        changes = changes.join(extra, on="client_id")
    changes = changes[changes[by].notna()].reset_index(drop=True)
    excluded = {
        "without a baseline and a later score": int(changes.attrs.get("excluded", 0) or 0),
        f"without a {by}": n_changes - len(changes),
    }
    changes[by] = changes[by].astype(str)
    changes["followup_weeks"] = changes["followup_week"] - changes["baseline_week"]
    if changes[by].nunique() < 2:
        raise DataError(f"comparing {by}s needs at least 2 {by}s with clients measured at baseline and later")
    frame, terms = _case_mix_frame(changes, covariates)
    frame["improvement"] = changes["improvement"].astype(float)
    x = patsy.dmatrix(" + ".join(terms), frame, return_type="dataframe")
    n, p = x.shape
    if n <= p + 2:
        raise DataError(f"{n} clients are too few for a case-mix model with {p} terms")
    xm = x.to_numpy(float)
    y = frame["improvement"].to_numpy(float)
    beta, *_ = np.linalg.lstsq(xm, y, rcond=None)
    expected = xm @ beta
    residual = y - expected
    df = n - np.linalg.matrix_rank(xm)
    sigma2 = float(residual @ residual / df)
    xtx_inv = np.linalg.pinv(xm.T @ xm)
    q = float(stats.t.ppf(0.5 + conf_level / 2.0, df))
    clients = changes[["client_id", by, "baseline", "followup_weeks", "improvement"]].assign(
        expected=expected, observed_minus_expected=residual
    )
    rows = []
    for provider, members in clients.groupby(by, sort=True):
        idx = members.index.to_numpy()
        size = len(idx)
        xbar = xm[idx].mean(axis=0)
        se = float(np.sqrt(max(sigma2 * (1.0 / size - xbar @ xtx_inv @ xbar), 1e-12)))
        est = float(residual[idx].mean())
        rows.append(
            {
                "provider": provider,
                "n_clients": size,
                "observed": float(y[idx].mean()),
                "expected": float(expected[idx].mean()),
                "estimate": est,
                "std_error": se,
                "statistic": est / se,
                "p_value": float(2 * stats.t.sf(abs(est / se), df)),
                "conf_low": est - q * se,
                "conf_high": est + q * se,
                "z": est / np.sqrt(sigma2 / size),
            }
        )
    table = pd.DataFrame(rows)
    phi, tau2 = _overdispersion(table["z"].to_numpy(float), table["n_clients"].to_numpy(float), sigma2)
    result = ProviderComparison(
        table, clients, by, outcome, float(np.sqrt(sigma2)), phi, tau2, overdispersion, list(covariates), conf_level, min_clients, excluded
    )
    n_j = table["n_clients"].to_numpy(float)
    low, high = result.limits(n_j, LIMITS[0])
    within_var = sigma2 / n_j
    shrink = tau2 / (tau2 + within_var) if tau2 > 0 else np.zeros_like(n_j)
    shrunken_sd = np.sqrt(shrink * within_var)
    zq = stats.norm.ppf(0.5 + conf_level / 2.0)
    table["limit_low"], table["limit_high"] = low, high
    table["shrunken"] = shrink * table["estimate"]
    table["shrunken_low"] = table["shrunken"] - zq * shrunken_sd
    table["shrunken_high"] = table["shrunken"] + zq * shrunken_sd
    table["raw_rank"] = table["observed"].rank(ascending=False, method="min").astype(int)
    table["adjusted_rank"] = table["estimate"].rank(ascending=False, method="min").astype(int)
    flag = np.where(table["estimate"] > high, "better", np.where(table["estimate"] < low, "worse", "as_expected"))
    table["flag"] = np.where(table["n_clients"] < min_clients, "too_few_clients", flag)
    return result


def _overdispersion(z: np.ndarray, n: np.ndarray, sigma2: float) -> tuple[float, float]:
    """Spiegelhalter (2005) on winsorised z-scores: ``phi`` and the additive ``tau^2`` (DerSimonian-Laird form)."""
    k = len(z)
    low, high = np.quantile(z, [WINSOR, 1.0 - WINSOR])
    zw = np.clip(z, low, high)
    phi = float(np.mean(zw**2))
    w = n / sigma2
    denominator = w.sum() - (w**2).sum() / w.sum()
    tau2 = max(0.0, (k * phi - (k - 1)) / denominator) if denominator > 0 else 0.0
    return phi, float(tau2)


def simulate_chain(
    n_coaches: int = 8,
    clients_per_coach: int = 15,
    *,
    better_coach: float = 0.0,
    severe_coach: bool = False,
    seed: int = 0,
) -> pd.DataFrame:
    """A chain's baseline and week-12 NPRS per client, with a known coach effect (for checks).

    Client *i*: baseline ~ N(6, 1.2^2) clipped to 3-10 (coach ``C1`` gets
    N(8, 0.8^2) when ``severe_coach``), age ~ N(45, 12^2), sex 50/50;
    improvement = 1.5 + 0.4 (baseline - 6) - 0.02 (age - 45) + 0.3 [female]
    + ``better_coach`` [coach ``C1``] + N(0, 1.5^2) NPRS points; week-12 score =
    baseline - improvement, rounded to 0.1 and clipped to 0-10. Client sizes
    per coach vary (a share of coaches, ``C7`` and later, get a third of the clients).

    Returns
    -------
    Panel-like DataFrame: ``client_id``, ``week`` (0 and 12), ``nprs``,
    ``coach``, ``age``, ``sex``.
    """
    rng = np.random.default_rng(seed)
    sizes = [clients_per_coach if j < 6 else max(2, clients_per_coach // 3) for j in range(n_coaches)]
    coach = np.repeat([f"C{j + 1}" for j in range(n_coaches)], sizes)
    n = len(coach)
    baseline = rng.normal(6.0, 1.2, n)
    first = coach == "C1"
    if severe_coach:
        baseline[first] = rng.normal(8.0, 0.8, int(first.sum()))
    baseline = np.clip(np.round(baseline, 1), 3.0, 10.0)
    age = rng.normal(45.0, 12.0, n).round()
    female = rng.random(n) < 0.5
    improvement = 1.5 + 0.4 * (baseline - 6.0) - 0.02 * (age - 45.0) + 0.3 * female + better_coach * first + rng.normal(0.0, 1.5, n)
    followup = np.clip(np.round(baseline - improvement, 1), 0.0, 10.0)
    ids = [f"P{i:04d}" for i in range(n)]
    clients = pd.DataFrame({"client_id": ids, "coach": coach, "age": age, "sex": np.where(female, "F", "M")})
    weeks = pd.DataFrame(
        {"client_id": ids * 2, "week": [0] * n + [12] * n, "nprs": np.concatenate([baseline, followup])}
    )
    return weeks.merge(clients, on="client_id").sort_values(["client_id", "week"]).reset_index(drop=True)
