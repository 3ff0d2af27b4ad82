"""Power of ``backpain fit`` by simulation: how many clients does a study need?

For each number of clients ``N`` the studio might enrol, :func:`power_curve`
simulates ``sims`` studies like the planned one, fits exactly the model of
``backpain fit`` to each (:func:`~backpain_analysis.volume_model.fit_volume_model`,
its p-values as that command reports them), and counts how often each
within-client effect is detected at the 5 % level, two-sided. The share
detected is the power; its 95 % Monte Carlo interval is Wilson's score
interval for a binomial proportion over the ``sims`` studies.

The design-level simulator (:func:`simulate_panel`) writes client-week panels
straight from the model's variance components, without session rows or
files. For client *i* in week *t* = 0 .. W-1 (``S`` strength sets/week,
``F`` flexibility minutes/week, lag ``K``)::

    S_it = 0 with probability zero_share_S, else round(L_i * exp(v_S z_it - v_S^2 / 2))
    log L_i ~ N(log median_S, b_S^2)                      (F alike, not rounded)
    y_it = b0 + u0_i + (b_week + u1_i) t
         + bSW (S_i,t-K - Sbar_i) + bFW (F_i,t-K - Fbar_i)
         + bSF (S_i,t-K - Sbar_i)(F_i,t-K - Fbar_i) + bSB Sbar_i + bFB Fbar_i + e_it
    (u0_i, u1_i) ~ N(0, [[sd0^2, r sd0 sd1], [r sd0 sd1, sd1^2]]),  e_it ~ N(0, sigma^2)

``Sbar_i``/``Fbar_i`` are the client's means over the weeks that enter the fit,
as in ``backpain fit``. A share ``dropout_share`` of clients drop out, their
last week uniform on 1 .. W-2; each later week t >= 1 is measured with
probability ``measured_share`` (week 0 always). Scores are not rounded or
clipped: power is that of the model under its own assumptions.

Where the numbers come from (:meth:`PowerScenario.from_fit`): the effects and
variance components of the model fitted on the studio's data; the exposure
medians and spreads, the share of weeks without training, the share of weeks
measured and the dropout share from its weekly panel. Without data,
:data:`DEFAULT_SCENARIO` (NPRS, the simulator's defaults of
docs/simulation.md) is used.

Each simulated study draws its own random numbers from the seed, the number
of clients and its index (``numpy.random.SeedSequence(seed, spawn_key=(N, k))``),
so results do not depend on how studies are spread over processes or Dask
workers.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import pandas as pd
from scipy import special

from backpain_analysis.contract import FIT_TERMS
from backpain_analysis.errors import DataError
from backpain_analysis.mixed import fit_lmm
from backpain_analysis.volume_model import INTERACTION, MIN_CLIENTS, fit_volume_model

WITHIN_TERMS: tuple[str, ...] = tuple(t for t in FIT_TERMS if t.endswith("_within"))
"""The within-client terms whose power is estimated."""

PROGRAM_TERM = "program_week"
"""The program contrast: difference in weekly slope between two programs (points per week)."""

PROGRAM_LEVELS: tuple[str, str] = ("reference", "tested")
"""The simulated programs, alternating over clients (the reference sorts first, so it is the model's reference level)."""

ALPHA = 0.05
"""Two-sided level at which an effect counts as detected."""

BATCH = 25
"""Studies per task when they are spread over a Dask cluster."""

ProgressCallback = Callable[[int, int], None]
"""Called with (studies done, studies in total)."""


@dataclass(frozen=True)
class ExposurePattern:
    """How one exposure varies (units: sets/week or minutes/week).

    Attributes
    ----------
    median: median over clients of the client's usual weekly level.
    between_sd: SD over clients of the log usual level.
    within_sd: SD of the weekly log multiplier around the usual level (mean-one log-normal).
    zero_share: share of weeks with none of this exposure.
    integer: weekly values are whole numbers (sets).
    """

    median: float
    between_sd: float
    within_sd: float
    zero_share: float
    integer: bool = False


@dataclass(frozen=True)
class PowerScenario:
    """Everything a simulated study is drawn from.

    Attributes
    ----------
    outcome: the instrument's column name (the fitted model's outcome).
    effects: true fixed effects: ``Intercept`` and every ``backpain fit`` term
        (outcome units per set/week, minute/week, week).
    sd_intercept, sd_week, corr_intercept_week, residual_sd: variance components
        (outcome units; per week for the slope).
    strength, flexibility: :class:`ExposurePattern` of ``strength_sets`` and ``flexibility_min``.
    dropout_share: share of clients who stop early (last week uniform on 1 .. W-2).
    measured_share: probability that a week t >= 1 before dropout has the outcome.
    lag: exposure lag K in weeks.
    source: where the numbers come from (text).
    program_week: difference in weekly slope of the tested program from the
        reference program (outcome units per week); clients alternate between
        the two (1:1). Its power is estimated when :data:`PROGRAM_TERM` is asked for.
    """

    outcome: str
    effects: Mapping[str, float]
    sd_intercept: float
    sd_week: float
    corr_intercept_week: float
    residual_sd: float
    strength: ExposurePattern
    flexibility: ExposurePattern
    dropout_share: float
    measured_share: float
    lag: int = 1
    source: str = "defaults"
    program_week: float = 0.0

    def with_effects(self, **effects: float) -> PowerScenario:
        """The same scenario with some true effects replaced (names: ``backpain fit`` terms)."""
        unknown = sorted(set(effects) - {"Intercept", PROGRAM_TERM, *FIT_TERMS})
        if unknown:
            raise DataError(f"unknown effect {unknown[0]!r}; the terms are: {', '.join([*FIT_TERMS, PROGRAM_TERM])}")
        program = float(effects.pop(PROGRAM_TERM, self.program_week))
        return replace(self, effects={**self.effects, **{k: float(v) for k, v in effects.items()}}, program_week=program)

    def to_dict(self) -> dict:
        """JSON-ready description (the scenario a power run used)."""
        out = asdict(self)
        out["effects"] = dict(self.effects)
        return out

    @classmethod
    def from_fit(cls, panel: pd.DataFrame, outcome: str, lag: int = 1) -> PowerScenario:
        """Scenario like a studio's own study: fit ``backpain fit``'s model on its weekly panel.

        Effects and variance components are the fitted ones (REML); exposure
        patterns, measured share and dropout share are read from the panel's
        weeks up to each client's last week with the outcome (a client
        "drops out" when that last week is 2 or more weeks before the longest
        follow-up in the data).

        The program contrast (``program_week``) is not estimated from the
        data: it is 0 unless set (``with_effects(program_week=...)``).

        Raises
        ------
        DataError
            When the model cannot be fitted (absent outcome, too few clients).
        """
        fit = fit_volume_model(panel, outcome, lag)
        effects = dict(zip(fit.params["term"], fit.params["estimate"].astype(float)))
        vc = fit.lmm.variance_components.set_index("term")["estimate"]
        corr = float(vc.get("cor__Intercept.week", 0.0))
        measured = panel.dropna(subset=[outcome])
        last = measured.groupby("client_id")["week"].max()
        within = panel[panel["week"] <= panel["client_id"].map(last)]
        later = within[within["week"] >= 1]
        measured_share = float(later[outcome].notna().mean()) if len(later) else 1.0
        longest = int(last.max())
        dropout_share = float((last <= longest - 2).mean()) if longest >= 3 else 0.0
        return cls(
            outcome=outcome,
            effects=effects,
            sd_intercept=float(vc["sd__Intercept"]),
            sd_week=float(vc["sd__week"]),
            corr_intercept_week=corr if np.isfinite(corr) else 0.0,
            residual_sd=float(vc["sd__Observation"]),
            strength=_exposure_pattern(within, "strength_sets", integer=True),
            flexibility=_exposure_pattern(within, "flexibility_min", integer=False),
            dropout_share=dropout_share,
            measured_share=measured_share,
            lag=lag,
            source=f"fitted on {fit.n_clients} clients, {fit.n_obs} client-weeks",
        )


def _exposure_pattern(panel: pd.DataFrame, column: str, integer: bool) -> ExposurePattern:
    """Median and log-SDs of an exposure: client usual level over weeks with some of it, weekly spread around it."""
    values = panel[column].astype(float)
    positive = panel.assign(v=values)[values > 0]
    if positive.empty:
        return ExposurePattern(0.0, 0.0, 0.0, 1.0, integer)
    level = positive.groupby("client_id")["v"].mean()
    ratio = np.log(positive["v"] / positive["client_id"].map(level))
    between = float(np.log(level).std(ddof=1)) if len(level) > 1 else 0.0
    within = float(ratio.std(ddof=1)) if len(ratio) > 1 else 0.0
    return ExposurePattern(
        median=float(level.median()),
        between_sd=between if np.isfinite(between) else 0.0,
        within_sd=within if np.isfinite(within) else 0.0,
        zero_share=float((values <= 0).mean()),
        integer=integer,
    )


DEFAULT_SCENARIO = PowerScenario(
    outcome="nprs",
    effects={
        "Intercept": 6.2,
        "week": -0.06,
        "strength_sets_within": -0.04,
        "flexibility_min_within": -0.004,
        "strength_x_flexibility_within": -0.0004,
        "strength_sets_between": -0.02,
        "flexibility_min_between": -0.004,
    },
    sd_intercept=1.2,
    sd_week=0.06,
    corr_intercept_week=-0.3,
    residual_sd=0.9,
    strength=ExposurePattern(median=12.0, between_sd=0.6, within_sd=0.35, zero_share=0.08, integer=True),
    flexibility=ExposurePattern(median=25.0, between_sd=0.6, within_sd=0.4, zero_share=0.1),
    dropout_share=0.25,
    measured_share=0.85,
    lag=1,
    source="defaults (NPRS, docs/simulation.md)",
    program_week=-0.05,
)
"""NPRS (0-10 points) with the simulator's effects and variance components
(``backpain simulate``'s truth): strength -0.04 points per set/week within a
client, flexibility -0.004 per minute/week, interaction -0.0004; exposures
around 12 sets and 25 minutes a week; a quarter of clients drop out; 85 % of
weeks measured; the tested program improves 0.05 points a week faster."""


def _exposure(rng: np.random.Generator, pattern: ExposurePattern, n: int, weeks: int) -> np.ndarray:
    level = pattern.median * np.exp(pattern.between_sd * rng.standard_normal(n))
    v = pattern.within_sd
    weekly = level[:, None] * np.exp(v * rng.standard_normal((n, weeks)) - v * v / 2.0)
    weekly[rng.random((n, weeks)) < pattern.zero_share] = 0.0
    return np.rint(weekly) if pattern.integer else np.round(weekly, 1)


def simulate_panel(scenario: PowerScenario, n_clients: int, weeks: int, rng: np.random.Generator) -> pd.DataFrame:
    """One simulated study as a weekly panel (the module docstring's process).

    Returns
    -------
    DataFrame, one row per client-week up to the client's last week:
    ``client_id`` (int), ``week``, ``strength_sets`` (sets/week),
    ``flexibility_min`` (min/week), the outcome (NaN when not measured) and
    ``program`` (:data:`PROGRAM_LEVELS`, alternating over clients).
    """
    n, w, k = n_clients, weeks, scenario.lag
    strength = _exposure(rng, scenario.strength, n, w)
    flexibility = _exposure(rng, scenario.flexibility, n, w)
    last = np.full(n, w - 1)
    drops = rng.random(n) < scenario.dropout_share
    if w >= 3:
        last[drops] = rng.integers(1, w - 1, size=int(drops.sum()))
    t = np.arange(w)
    measured = rng.random((n, w)) < scenario.measured_share
    measured[:, 0] = True
    measured &= t[None, :] <= last[:, None]
    fits = measured & (t[None, :] >= k)
    s_lag = np.zeros((n, w))
    f_lag = np.zeros((n, w))
    s_lag[:, k:] = strength[:, : w - k]
    f_lag[:, k:] = flexibility[:, : w - k]
    count = np.maximum(fits.sum(axis=1), 1)
    s_bar = (s_lag * fits).sum(axis=1) / count
    f_bar = (f_lag * fits).sum(axis=1) / count
    sw = s_lag - s_bar[:, None]
    fw = f_lag - f_bar[:, None]
    b = scenario.effects
    sd0, sd1, r = scenario.sd_intercept, scenario.sd_week, scenario.corr_intercept_week
    z0, z1 = rng.standard_normal(n), rng.standard_normal(n)
    u0 = sd0 * z0
    u1 = sd1 * (r * z0 + math.sqrt(max(1.0 - r * r, 0.0)) * z1)
    mu = (
        b.get("Intercept", 0.0)
        + u0[:, None]
        + (b.get("week", 0.0) + u1[:, None]) * t[None, :]
        + b.get("strength_sets_within", 0.0) * sw
        + b.get("flexibility_min_within", 0.0) * fw
        + b.get(INTERACTION, 0.0) * sw * fw
        + (b.get("strength_sets_between", 0.0) * s_bar + b.get("flexibility_min_between", 0.0) * f_bar)[:, None]
    )
    compared = np.arange(n) % 2 == 1
    mu = mu + scenario.program_week * compared[:, None] * t[None, :]
    y = mu + scenario.residual_sd * rng.standard_normal((n, w))
    y[~measured] = np.nan
    keep = (t[None, :] <= last[:, None]).ravel()
    return pd.DataFrame(
        {
            "client_id": np.repeat(np.arange(n), w)[keep],
            "week": np.tile(t, n)[keep],
            "strength_sets": strength.ravel()[keep],
            "flexibility_min": flexibility.ravel()[keep],
            scenario.outcome: y.ravel()[keep],
            "program": np.repeat(np.where(compared, *PROGRAM_LEVELS[::-1]), w)[keep],
        }
    )


def study_rng(seed: int, n_clients: int, index: int) -> np.random.Generator:
    """The random stream of simulated study ``index`` with ``n_clients`` clients."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(n_clients, index)))


def simulate_p_values(
    scenario: PowerScenario, n_clients: int, weeks: int, seed: int, indices: Iterable[int], terms: Sequence[str] = WITHIN_TERMS
) -> np.ndarray:
    """p-values of ``terms`` (columns) in the studies ``indices`` (rows); NaN when a study cannot be fitted."""
    indices = list(indices)
    out = np.full((len(indices), len(terms)), np.nan)
    for row, index in enumerate(indices):
        panel = simulate_panel(scenario, n_clients, weeks, study_rng(seed, n_clients, index))
        try:
            fit = fit_volume_model(panel, scenario.outcome, scenario.lag)
            p = dict(zip(fit.params["term"], fit.params["p_value"]))
            if PROGRAM_TERM in terms:
                p[PROGRAM_TERM] = _program_p_value(fit)
        except DataError:
            continue
        out[row] = [p.get(term, np.nan) for term in terms]
    return out


def _program_p_value(fit) -> float:
    """p-value of the program x week term in the volume model with program and program x week added."""
    formula = fit.formula + " + program + program:week"
    lmm = fit_lmm(fit.design, formula, groups="client_id", re_formula="~ week", reml=True)
    params = lmm.params.set_index("term")["p_value"]
    return float(params[f"program[T.{PROGRAM_LEVELS[1]}]:week"])


def wilson_interval(successes: np.ndarray | int, trials: np.ndarray | int, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a binomial proportion (Wilson 1927), elementwise."""
    x = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    z = special.ndtri(0.5 + level / 2.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = x / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    # the interval always holds p (at 0 and 1 rounding could leave it a hair outside)
    return np.clip(np.minimum(centre - half, p), 0.0, 1.0), np.clip(np.maximum(centre + half, p), 0.0, 1.0)


@dataclass
class PowerResult:
    """Simulated power per number of clients and term.

    Attributes
    ----------
    table:
        One row per (``clients``, ``term``): ``clients``, ``weeks``, ``term``,
        ``effect`` (true effect, outcome units per set/week or minute/week),
        ``power`` (share of studies with two-sided p < ``alpha``),
        ``conf_low``, ``conf_high`` (Wilson interval at ``conf_level``),
        ``sims`` (studies simulated), ``failed`` (studies that could not be
        fitted; counted as not detected).
    scenario:
        The :class:`PowerScenario` simulated.
    alpha, conf_level, seed:
        Test level, Monte Carlo interval level, seed.
    """

    table: pd.DataFrame
    scenario: PowerScenario
    alpha: float
    seed: int
    conf_level: float = 0.95
    p_values: dict[int, np.ndarray] = field(default_factory=dict, repr=False)

    def to_records(self) -> list[dict]:
        """The list ``backpain power --json`` prints."""
        keys = ["clients", "weeks", "term", "effect", "power", "conf_low", "conf_high", "sims"]
        records = self.table[keys].to_dict("records")
        return [{k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()} for r in records]

    def clients_needed(self, target: float = 0.8) -> pd.DataFrame:
        """Smallest simulated number of clients whose power reaches ``target``, per term (NaN if none)."""
        rows = []
        for term, part in self.table.groupby("term", sort=False):
            reached = part[part["power"] >= target]
            rows.append({"term": term, "target": target, "clients": reached["clients"].min() if len(reached) else np.nan})
        return pd.DataFrame(rows)


def _run_local(tasks: list[tuple[int, list[int]]], run: Callable, progress: ProgressCallback | None, total: int) -> list:
    done = 0
    results = []
    for n_clients, indices in tasks:
        results.append(run(n_clients, indices))
        done += len(indices)
        if progress is not None:
            progress(done, total)
    return results


def _run_dask(tasks: list[tuple[int, list[int]]], run: Callable, progress: ProgressCallback | None, total: int, scheduler) -> list:
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:  # pragma: no cover - dask is a declared dependency
        raise DataError("--scheduler needs dask[distributed]: pip install 'dask[distributed]'") from None
    own_cluster = None
    if isinstance(scheduler, Client):
        client = scheduler
    elif scheduler == "local":
        own_cluster = LocalCluster(processes=True, threads_per_worker=1, dashboard_address=None)
        client = Client(own_cluster)
    else:
        try:
            client = Client(str(scheduler), timeout="10s")
        except (OSError, TimeoutError, ValueError) as error:
            raise DataError(f"cannot reach the Dask scheduler at {scheduler}: {error}") from None
    try:
        futures = [client.submit(run, n, idx, pure=False) for n, idx in tasks]
        position = {f.key: i for i, f in enumerate(futures)}
        results: list = [None] * len(futures)
        done = 0
        for future in as_completed(futures):
            i = position[future.key]
            results[i] = future.result()
            done += len(tasks[i][1])
            if progress is not None:
                progress(done, total)
        return results
    finally:
        if own_cluster is not None:
            client.close()
            own_cluster.close()
        elif not isinstance(scheduler, Client):
            client.close()


def power_curve(
    clients: Sequence[int],
    weeks: int,
    sims: int,
    seed: int,
    scenario: PowerScenario = DEFAULT_SCENARIO,
    *,
    terms: Sequence[str] = WITHIN_TERMS,
    alpha: float = ALPHA,
    conf_level: float = 0.95,
    scheduler=None,
    progress: ProgressCallback | None = None,
) -> PowerResult:
    """Power of ``backpain fit`` to detect each within-client effect, per number of clients.

    Parameters
    ----------
    clients:
        Numbers of clients to simulate (each at least 5).
    weeks:
        Weeks of follow-up W per client (at least ``scenario.lag + 2``).
    sims:
        Simulated studies per number of clients.
    seed:
        Seed; study k with N clients always gets the same random numbers.
    scenario:
        What studies are drawn from (:data:`DEFAULT_SCENARIO`, or
        :meth:`PowerScenario.from_fit`; :meth:`PowerScenario.with_effects` to change effects).
    terms:
        Fit terms whose power is reported (default: the within-client ones);
        :data:`PROGRAM_TERM` adds the program contrast, tested in the volume
        model with ``program`` and ``program:week`` added (half the clients per program).
    alpha:
        Two-sided test level.
    conf_level:
        Level of the Monte Carlo (Wilson) interval of each power.
    scheduler:
        ``None`` runs here; ``"local"`` starts a Dask ``LocalCluster`` on this
        machine; any other string is a Dask scheduler address; a
        ``dask.distributed.Client`` is used as given. Results are identical.
    progress:
        Called as ``progress(done, total)`` after each batch of studies.

    Returns
    -------
    PowerResult
    """
    clients = [int(c) for c in clients]
    if not clients:
        raise DataError("give at least one number of clients")
    if min(clients) < MIN_CLIENTS:
        raise DataError(f"every number of clients must be at least {MIN_CLIENTS} (the model's minimum), got {min(clients)}")
    if weeks < scenario.lag + 2:
        raise DataError(f"--weeks must be at least {scenario.lag + 2} for a lag of {scenario.lag} week(s), got {weeks}")
    if sims < 1:
        raise DataError(f"--sims must be at least 1, got {sims}")
    unknown = [t for t in terms if t not in (*FIT_TERMS, PROGRAM_TERM)]
    if unknown:
        raise DataError(f"unknown term {unknown[0]!r}; the terms are: {', '.join([*FIT_TERMS, PROGRAM_TERM])}")
    tasks = [(n, list(range(start, min(start + BATCH, sims)))) for n in clients for start in range(0, sims, BATCH)]
    run = _Runner(scenario, weeks, seed, tuple(terms))
    total = len(clients) * sims
    if scheduler is None:
        results = _run_local(tasks, run, progress, total)
    else:
        results = _run_dask(tasks, run, progress, total, scheduler)
    p_values = {n: np.vstack([r for (m, _), r in zip(tasks, results) if m == n]) for n in clients}
    rows = []
    for n in clients:
        p = p_values[n]
        detected = (np.nan_to_num(p, nan=1.0) < alpha).sum(axis=0)
        failed = int(np.isnan(p).any(axis=1).sum())
        low, high = wilson_interval(detected, sims, conf_level)
        for j, term in enumerate(terms):
            rows.append(
                {
                    "clients": n,
                    "weeks": int(weeks),
                    "term": term,
                    "effect": float(scenario.program_week if term == PROGRAM_TERM else scenario.effects.get(term, 0.0)),
                    "power": detected[j] / sims,
                    "conf_low": float(low[j]),
                    "conf_high": float(high[j]),
                    "sims": int(sims),
                    "failed": failed,
                }
            )
    return PowerResult(pd.DataFrame(rows), scenario, alpha, seed, conf_level, p_values)


@dataclass(frozen=True)
class _Runner:
    """A picklable task: p-values of a batch of studies (sent to Dask workers)."""

    scenario: PowerScenario
    weeks: int
    seed: int
    terms: tuple[str, ...]

    def __call__(self, n_clients: int, indices: list[int]) -> np.ndarray:
        return simulate_p_values(self.scenario, n_clients, self.weeks, self.seed, indices, self.terms)


def stderr_progress(stream=None, every: float = 2.0) -> ProgressCallback:
    """A progress callback writing ``power: done/total studies (pct), elapsed`` at most every ``every`` seconds."""
    import sys

    out = stream if stream is not None else sys.stderr
    start = time.monotonic()
    last = [start]

    def report(done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - last[0] < every:
            return
        last[0] = now
        print(f"power: {done}/{total} simulated studies ({done / total:.0%}), {now - start:.0f} s", file=out, flush=True)

    return report
