"""Simulated studio data with a known truth (the data-generating process).

Everything the simulator assumes is here, in the dataclasses and constants
below; ``docs/simulation.md`` writes the same process out in formulas with
units. In short, for client *i* in week *t* (weeks counted from the client's
``start_date``, week 0 = days 0-6):

1. Training. The client's program sets a usual weekly level of strength sets
   and flexibility minutes (log-normal between clients); each planned
   session is attended with the client's adherence, whole weeks are skipped,
   the first weeks ramp up ("start gently"), some clients drop out. Session
   rows (exercise, sets, reps, load, seconds, RPE) are drawn around that
   level, and the realised weekly exposures ``S_it`` (core + back sets) and
   ``F_it`` (sets x duration_s / 60 over flexibility rows) are computed from
   those rows exactly as CONTRACT section 3 defines them.
2. Outcomes, for each instrument *y* (NPRS, ODI, PSFS), exposure lag 1::

       mu_it = b0 + u0_i + (b_week + d_program + u1_i) * t
             + bSW * (S_i,t-1 - Sbar_i) + bFW * (F_i,t-1 - Fbar_i)
             + bSF * (S_i,t-1 - Sbar_i) * (F_i,t-1 - Fbar_i)
             + bSB * Sbar_i + bFB * Fbar_i
       y_it  = round(clip(mu_it + e_it [+ flare_it]))

   ``Sbar_i``/``Fbar_i`` are the client's means over the weeks that enter the
   fit of that instrument (weeks t >= 1 with the instrument measured), so the
   coefficients are exactly the ``backpain fit`` terms. Week 0 has no
   exposure before it: its within terms are 0.

Options: ``reverse_causation`` (a persistent pain flare cuts the next week's
training), ``dose_response="saturating"`` (the within-client strength effect
plateaus), program advantage (per-program weekly slope), and planted bad rows.
``truth`` records every parameter, per-client true changes and responder
probabilities, and the planted bad rows.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import norm

from backpain_analysis.contract import FIT_TERMS, LB_TO_KG
from backpain_analysis.errors import DataError
from backpain_analysis.instruments import ITEM_FORMS, instrument
from backpain_analysis.writing import write_table

PROGRAMS: tuple[str, ...] = ("usual", "stretching_only", "strength_mobility")
"""Programs; the first is the reference for program effects."""

STUDIOS: tuple[str, ...] = ("north", "south", "riverside")
FIRST_START = np.datetime64("2024-01-08", "D")
"""The earliest client start date; starts are spread over the next 120 days."""
START_SPREAD_DAYS = 120


@dataclass(frozen=True)
class Exercise:
    """An exercise the simulator logs, with how its rows are filled in.

    ``kind``: ``hold`` (seconds per set, no reps), ``reps`` (body weight),
    ``loaded`` (reps and an external load, base ``load_kg`` for an average
    client), ``stretch`` (seconds per set), ``class`` (one row, sets = 1,
    duration = the whole class), ``cardio`` (one row, sets = 1, minutes).
    """

    name: str
    modality: str
    kind: str
    reps: tuple[int, int] = (8, 15)
    load_kg: float = 0.0


EXERCISES: tuple[Exercise, ...] = (
    Exercise("plank", "core", "hold"),
    Exercise("side plank", "core", "hold"),
    Exercise("glute bridge", "core", "reps"),
    Exercise("bird dog", "core", "reps"),
    Exercise("dead bug", "core", "reps"),
    Exercise("crunch", "core", "reps", (10, 20)),
    Exercise("seated cable row", "back", "loaded", (8, 12), 35.0),
    Exercise("pull-up", "back", "reps", (3, 10)),
    Exercise("lat pulldown", "back", "loaded", (8, 12), 40.0),
    Exercise("back extension", "back", "reps", (10, 15)),
    Exercise("superman", "back", "reps", (8, 12)),
    Exercise("deadlift", "back", "loaded", (5, 8), 60.0),
    Exercise("hamstring stretch", "flexibility", "stretch"),
    Exercise("hip flexor stretch", "flexibility", "stretch"),
    Exercise("piriformis stretch", "flexibility", "stretch"),
    Exercise("child's pose", "flexibility", "stretch"),
    Exercise("cat-cow", "flexibility", "stretch"),
    Exercise("knee-to-chest stretch", "flexibility", "stretch"),
    Exercise("yoga", "mixed", "class"),
    Exercise("pilates", "mixed", "class"),
    Exercise("walking", "other", "cardio"),
    Exercise("cycling", "other", "cardio"),
    Exercise("squat", "other_strength", "loaded", (8, 12), 40.0),
    Exercise("leg press", "other_strength", "loaded", (10, 12), 80.0),
)
"""Every exercise name the simulator writes (all in the built-in catalog)."""

_BY_NAME = {e.name: i for i, e in enumerate(EXERCISES)}
_STRENGTH = np.array([i for i, e in enumerate(EXERCISES) if e.modality in ("core", "back")])
_STRETCHES = np.array([i for i, e in enumerate(EXERCISES) if e.modality == "flexibility"])
_CLASSES = np.array([_BY_NAME["yoga"], _BY_NAME["pilates"]])
_CARDIO = np.array([_BY_NAME["walking"], _BY_NAME["cycling"]])
_OTHER_STRENGTH = np.array([_BY_NAME["squat"], _BY_NAME["leg press"]])
STRENGTH_ROUTINE = 5
"""Strength exercises in a client's routine (drawn from the 12 core and back ones)."""
STRETCH_ROUTINE = 4
"""Stretches in a client's routine (drawn from the 6 flexibility ones)."""


@dataclass(frozen=True)
class ProgramTraining:
    """What a program asks of its clients, per week.

    Attributes
    ----------
    share: allocation probability.
    strength_sets: median usual core + back sets/week.
    flexibility_min: median usual flexibility minutes/week.
    sessions: planned training sessions/week.
    """

    share: float
    strength_sets: float
    flexibility_min: float
    sessions: int


@dataclass(frozen=True)
class TrainingModel:
    """How realised training varies around the program's level.

    Attributes
    ----------
    programs: program -> :class:`ProgramTraining`.
    between_sd: SD of the client's log usual level (strength and flexibility, independent).
    adherence_beta: Beta(a, b) of the probability to attend a planned session (mean a / (a + b)).
    extra_session_share: share of clients who plan one session/week more than the program.
    skip_week_prob: probability of a whole week without training (classes included).
    dropout_share: share of clients who drop out; their last week is uniform on 1 .. W-2.
    ramp: volume multiplier of weeks 0, 1, ... ("start gently"); 1 afterwards.
    vigor_sd: SD of the weekly log multiplier of planned volume (mean-one log-normal).
    stretch_session_prob: probability that an attended session includes stretching.
    other_strength_prob: probability that a session with strength work adds squat or leg press.
    cardio_prob: probability that an attended session adds walking or cycling.
    class_share: share of clients who take one yoga or pilates class a week (attended with their adherence).
    lb_share, time_share, rpe_share: shares of clients who log loads in lb, log a time
        of day, log RPE.
    """

    programs: Mapping[str, ProgramTraining] = field(
        default_factory=lambda: {
            "usual": ProgramTraining(0.3, 10.0, 15.0, 2),
            "stretching_only": ProgramTraining(0.3, 4.0, 50.0, 3),
            "strength_mobility": ProgramTraining(0.4, 24.0, 30.0, 3),
        }
    )
    between_sd: float = 0.35
    adherence_beta: tuple[float, float] = (8.5, 1.5)
    extra_session_share: float = 0.3
    skip_week_prob: float = 0.06
    dropout_share: float = 0.25
    ramp: tuple[float, ...] = (0.5, 0.75)
    vigor_sd: float = 0.25
    stretch_session_prob: float = 0.9
    other_strength_prob: float = 0.4
    cardio_prob: float = 0.25
    class_share: float = 0.3
    lb_share: float = 0.2
    time_share: float = 0.5
    rpe_share: float = 0.4


@dataclass(frozen=True)
class OutcomeModel:
    """The model of one instrument (units: the instrument's, per set/week and per min/week).

    Effects are named exactly like the ``backpain fit`` terms. ``program_week``
    adds to the weekly slope of that program's clients (the reference
    program has none). Scores are ``mu + e`` (+ ``flare_loading`` x flare
    under reverse causation), clipped to the instrument's range and rounded
    to ``step``. Measured at weeks 0, ``every``, 2 x ``every``, ...: week 0
    always, later weeks with probability ``measured_share``, for a share
    ``client_share`` of clients. ``saturation_emax`` is the plateau of the
    strength effect under ``dose_response="saturating"``.
    """

    intercept: float
    week: float
    strength_sets_within: float
    flexibility_min_within: float
    strength_x_flexibility_within: float
    strength_sets_between: float
    flexibility_min_between: float
    sd_intercept: float
    sd_week: float
    corr_intercept_week: float
    residual_sd: float
    program_week: Mapping[str, float]
    flare_loading: float
    saturation_emax: float
    step: float
    every: int
    measured_share: float
    client_share: float = 1.0


OUTCOME_MODELS: dict[str, OutcomeModel] = {
    "nprs": OutcomeModel(
        intercept=6.2, week=-0.06,
        strength_sets_within=-0.04, flexibility_min_within=-0.004, strength_x_flexibility_within=-0.0004,
        strength_sets_between=-0.02, flexibility_min_between=-0.004,
        sd_intercept=1.2, sd_week=0.06, corr_intercept_week=-0.3, residual_sd=0.9,
        program_week={"strength_mobility": -0.05},
        flare_loading=1.0, saturation_emax=-1.5, step=1.0, every=1, measured_share=0.85,
    ),
    "odi": OutcomeModel(
        intercept=40.0, week=-0.3,
        strength_sets_within=-0.25, flexibility_min_within=-0.02, strength_x_flexibility_within=-0.002,
        strength_sets_between=-0.15, flexibility_min_between=-0.03,
        sd_intercept=10.0, sd_week=0.3, corr_intercept_week=-0.3, residual_sd=5.0,
        program_week={"strength_mobility": -0.25},
        flare_loading=5.0, saturation_emax=-9.0, step=2.0, every=4, measured_share=0.9,
    ),
    "psfs": OutcomeModel(
        intercept=4.0, week=0.06,
        strength_sets_within=0.02, flexibility_min_within=0.002, strength_x_flexibility_within=0.0002,
        strength_sets_between=0.01, flexibility_min_between=0.002,
        sd_intercept=1.2, sd_week=0.04, corr_intercept_week=-0.2, residual_sd=0.8,
        program_week={"strength_mobility": 0.03},
        flare_loading=-0.5, saturation_emax=0.8, step=0.1, every=6, measured_share=0.9, client_share=0.4,
    ),
}
"""Default truth per instrument: in the literature's direction (strength clearly
helps within a client, flexibility alone little, a small positive synergy)."""

EFFECT_TERMS: tuple[str, ...] = FIT_TERMS
"""The fixed terms of ``backpain fit`` (besides ``Intercept``), as in truth.json."""

ODI_ITEM_FORM_SHARE = 0.3
"""Share of ODI measurements written as ten item rows ``odi_q1..odi_q10`` (all answered)."""
SATURATION_SETS = 8.0
"""k of the saturating strength curve, sets/week: emax x (1 - exp(-S / k))."""


@dataclass(frozen=True)
class ReverseCausation:
    """Pain flares that cut the next week's training (``reverse_causation=True``).

    ``flare_it = rho * flare_i,t-1 + sd * sqrt(1 - rho^2) * z`` (stationary,
    SD ``sd`` NPRS points, started from its stationary law), added to every
    instrument times its ``flare_loading``; week t's planned volume is
    multiplied by ``exp(-cut * max(flare_i,t-1, 0))``.
    """

    rho: float = 0.6
    sd: float = 1.0
    cut: float = 1.0


BAD_ROW_KINDS: tuple[tuple[str, str, str], ...] = (
    ("sessions", "unknown_exercise", "exercise"),
    ("sessions", "bad_date", "date"),
    ("sessions", "negative", "reps"),
    ("sessions", "before_start", "date"),
    ("outcomes", "out_of_range", "score"),
    ("outcomes", "non_numeric", "score"),
)
"""Planted bad rows: (table, kind, column). Each is an extra row, so the
accepted rows, and the truth, are those of the clean simulation."""


@dataclass
class SimulatedStudy:
    """A simulated dataset with its truth.

    Attributes
    ----------
    sessions, outcomes, clients:
        The contract tables exactly as :func:`write_study` writes them (dates
        as text; planted bad rows included, so ``outcomes.score`` is of object
        dtype when a non-numeric score was planted).
    weekly:
        The realised client-week panel behind the outcomes, weeks 0 to the
        client's last record: ``client_id``, ``week``, ``program``,
        ``core_sets``, ``back_sets``, ``other_strength_sets``,
        ``strength_sets`` (sets/week), ``volume_load_kg`` (kg/week),
        ``flexibility_min``, ``mixed_min`` (min/week), ``sessions``,
        ``active_days``; per instrument the observed score (NaN when not
        measured) and ``<instrument>_expected`` (noise-free mean ``mu``);
        ``flare`` under reverse causation.
    truth:
        JSON-ready dict of every parameter (see docs/simulation.md).
    """

    sessions: pd.DataFrame
    outcomes: pd.DataFrame
    clients: pd.DataFrame
    weekly: pd.DataFrame
    truth: dict


@dataclass
class _Clients:
    """Per-client draws (arrays of length n)."""

    ids: np.ndarray
    program: np.ndarray
    start: np.ndarray
    strength_level: np.ndarray
    flexibility_level: np.ndarray
    adherence: np.ndarray
    planned: np.ndarray
    n_weeks_in: np.ndarray
    strength_routine: np.ndarray
    stretch_routine: np.ndarray
    class_exercise: np.ndarray
    class_minutes: np.ndarray
    cardio_exercise: np.ndarray
    other_strength_exercise: np.ndarray
    strength_factor: np.ndarray
    uses_lb: np.ndarray
    logs_time: np.ndarray
    hour: np.ndarray
    logs_rpe: np.ndarray


def _draw_clients(rng: np.random.Generator, n: int, n_weeks: int, training: TrainingModel) -> _Clients:
    """Program, levels, adherence, dropout, routine and logging habits of each client (section 2 of the docs)."""
    shares = np.array([training.programs[p].share for p in PROGRAMS])
    program = np.asarray(PROGRAMS)[rng.choice(len(PROGRAMS), size=n, p=shares / shares.sum())]
    level_s = np.array([training.programs[p].strength_sets for p in program])
    level_f = np.array([training.programs[p].flexibility_min for p in program])
    planned = np.array([training.programs[p].sessions for p in program]) + (rng.random(n) < training.extra_session_share)
    drops = (rng.random(n) < training.dropout_share) & (n_weeks >= 3)
    width = max(3, len(str(n)))
    return _Clients(
        ids=np.array([f"C{k:0{width}d}" for k in range(1, n + 1)]),
        program=program,
        start=FIRST_START + rng.integers(0, START_SPREAD_DAYS, n).astype("timedelta64[D]"),
        strength_level=level_s * np.exp(training.between_sd * rng.standard_normal(n)),
        flexibility_level=level_f * np.exp(training.between_sd * rng.standard_normal(n)),
        adherence=rng.beta(*training.adherence_beta, size=n),
        planned=planned.astype(int),
        n_weeks_in=np.where(drops, rng.integers(2, max(n_weeks, 3), n), n_weeks),
        strength_routine=np.argsort(rng.random((n, len(_STRENGTH))), axis=1)[:, :STRENGTH_ROUTINE],
        stretch_routine=np.argsort(rng.random((n, len(_STRETCHES))), axis=1)[:, :STRETCH_ROUTINE],
        class_exercise=np.where(rng.random(n) < training.class_share, rng.choice(_CLASSES, n), -1),
        class_minutes=rng.choice([45, 60], n),
        cardio_exercise=rng.choice(_CARDIO, n),
        other_strength_exercise=rng.choice(_OTHER_STRENGTH, n),
        strength_factor=np.exp(0.3 * rng.standard_normal(n)),
        uses_lb=rng.random(n) < training.lb_share,
        logs_time=rng.random(n) < training.time_share,
        hour=rng.choice([7, 8, 12, 17, 18], n),
        logs_rpe=rng.random(n) < training.rpe_share,
    )


def _flares(rng: np.random.Generator, n: int, n_weeks: int, rc: ReverseCausation | None) -> np.ndarray:
    """AR(1) flare per client-week (zeros without reverse causation)."""
    flare = np.zeros((n, n_weeks))
    if rc is None:
        return flare
    z = rng.standard_normal((n, n_weeks))
    flare[:, 0] = rc.sd * z[:, 0]
    for t in range(1, n_weeks):
        flare[:, t] = rc.rho * flare[:, t - 1] + rc.sd * math.sqrt(1.0 - rc.rho**2) * z[:, t]
    return flare


def _split(rng: np.random.Generator, totals: np.ndarray, parts: np.ndarray, width: int) -> np.ndarray:
    """Split each ``totals[k]`` into ``parts[k]`` positive integers (random, uniform extras).

    Returns an (len(totals), width) int array; columns >= parts[k] are 0.
    """
    out = (np.arange(width) < parts[:, None]).astype(int)
    extra = totals - parts
    owner = np.repeat(np.arange(len(totals)), extra)
    slot = np.floor(rng.random(len(owner)) * parts[owner]).astype(int)
    np.add.at(out, (owner, slot), 1)
    return out


def _session_rows(
    rng: np.random.Generator, c: _Clients, n_weeks: int, training: TrainingModel, flare: np.ndarray, rc: ReverseCausation | None
) -> pd.DataFrame:
    """Every exercise row, with client index ``i``, ``week``, ``day`` (0-based from start), ``minute``."""
    n = len(c.ids)
    weeks = np.arange(n_weeks)
    active = weeks[None, :] < c.n_weeks_in[:, None]
    trains = active & (rng.random((n, n_weeks)) >= training.skip_week_prob)
    ramp = np.ones(n_weeks)
    ramp[: min(len(training.ramp), n_weeks)] = training.ramp[:n_weeks]
    vigor = np.exp(training.vigor_sd * rng.standard_normal((n, n_weeks)) - training.vigor_sd**2 / 2)
    multiplier = ramp[None, :] * vigor
    if rc is not None:
        multiplier[:, 1:] *= np.exp(-rc.cut * np.maximum(flare[:, :-1], 0.0))

    # Planned session days: the first `planned` of a random order of the week's 7 days.
    order = np.argsort(rng.random((n, n_weeks, 7)), axis=2)
    attend = rng.random((n, n_weeks, 7)) < c.adherence[:, None, None]
    slot_ok = np.arange(7)[None, None, :] < c.planned[:, None, None]
    i, t, j = np.nonzero(attend & slot_ok & trains[:, :, None])
    day = 7 * t + order[i, t, j]
    minute = np.where(c.logs_time[i], 60 * c.hour[i] + 15 * rng.integers(0, 4, len(i)), -1)
    m = multiplier[i, t] / c.planned[i]
    n_sess = len(i)

    rows: list[dict[str, np.ndarray]] = []

    def add(sess: np.ndarray, exercise: np.ndarray, sets: np.ndarray, position: int, **values: np.ndarray) -> None:
        rows.append({"session": sess, "exercise": exercise, "sets": sets, "position": np.full(len(sess), position), **values})

    # Strength (core + back): Poisson total sets per session split over up to 5 routine exercises.
    total = rng.poisson(c.strength_level[i] * m)
    n_ex = np.minimum(np.ceil(total / 3).astype(int), STRENGTH_ROUTINE)
    sets = _split(rng, total, n_ex, STRENGTH_ROUTINE)
    perm = np.argsort(rng.random((n_sess, STRENGTH_ROUTINE)), axis=1)
    s_idx, s_pos = np.nonzero(sets)
    routine = c.strength_routine[i[s_idx], perm[s_idx, s_pos]]
    add(s_idx, _STRENGTH[routine], sets[s_idx, s_pos], 0, pos2=s_pos)

    # Other strength after the strength block, sometimes.
    o_idx = np.flatnonzero((total > 0) & (rng.random(n_sess) < training.other_strength_prob))
    add(o_idx, c.other_strength_exercise[i[o_idx]], rng.integers(2, 4, len(o_idx)), 1, pos2=np.zeros(len(o_idx), int))

    # Stretching: target seconds per session over 1-4 routine stretches, 1-4 sets of ~60 s each.
    seconds = c.flexibility_level[i] * m * 60.0
    stretch = (rng.random(n_sess) < training.stretch_session_prob) & (seconds > 0)
    n_st = np.where(stretch, np.clip(np.round(seconds / 180.0), 1, STRETCH_ROUTINE), 0).astype(int)
    on = np.arange(STRETCH_ROUTINE)[None, :] < n_st[:, None]
    per_stretch = seconds[:, None] / np.maximum(n_st, 1)[:, None] * np.exp(0.25 * rng.standard_normal((n_sess, STRETCH_ROUTINE)) - 0.03125)
    st_sets = np.where(on, np.clip(np.round(per_stretch / 60.0), 1, 4), 0).astype(int)
    perm = np.argsort(rng.random((n_sess, STRETCH_ROUTINE)), axis=1)
    f_idx, f_pos = np.nonzero(st_sets)
    add(
        f_idx,
        _STRETCHES[c.stretch_routine[i[f_idx], perm[f_idx, f_pos]]],
        st_sets[f_idx, f_pos],
        2,
        pos2=f_pos,
        duration_s=np.clip(5 * np.round(per_stretch[f_idx, f_pos] / st_sets[f_idx, f_pos] / 5), 15, 180),
    )

    # Walking or cycling at the end of some sessions.
    w_idx = np.flatnonzero(rng.random(n_sess) < training.cardio_prob)
    add(
        w_idx, c.cardio_exercise[i[w_idx]], np.ones(len(w_idx), int), 3,
        pos2=np.zeros(len(w_idx), int), duration_s=60.0 * rng.integers(15, 46, len(w_idx)),
    )

    frame = pd.concat([pd.DataFrame(r) for r in rows], ignore_index=True)
    s = frame["session"].to_numpy()
    frame["i"], frame["week"], frame["day"], frame["minute"] = i[s], t[s], day[s], minute[s]
    frame = frame.drop(columns="session")

    # One yoga or pilates class a week for class takers, on a random day, in the evening.
    ci, ct = np.nonzero(trains & (c.class_exercise[:, None] >= 0) & (rng.random((n, n_weeks)) < c.adherence[:, None]))
    classes = pd.DataFrame(
        {
            "exercise": c.class_exercise[ci], "sets": 1, "position": 4, "pos2": 0,
            "duration_s": 60.0 * c.class_minutes[ci], "i": ci, "week": ct,
            "day": 7 * ct + rng.integers(0, 7, len(ci)), "minute": np.where(c.logs_time[ci], 19 * 60, -1),
        }
    )
    frame = pd.concat([frame, classes], ignore_index=True)
    return _fill_rows(rng, frame, c)


def _fill_rows(rng: np.random.Generator, frame: pd.DataFrame, c: _Clients) -> pd.DataFrame:
    """Reps, loads (kg or lb), hold seconds and RPE by exercise kind; sorted in logging order."""
    frame = frame.sort_values(["i", "day", "minute", "position", "pos2"], kind="stable", ignore_index=True)
    n_rows = len(frame)
    ex = frame["exercise"].to_numpy()
    kind = np.array([e.kind for e in EXERCISES])[ex]
    lo = np.array([e.reps[0] for e in EXERCISES])[ex]
    hi = np.array([e.reps[1] for e in EXERCISES])[ex]
    i = frame["i"].to_numpy()
    has_reps = np.isin(kind, ["reps", "loaded"])
    reps = np.where(has_reps, lo + np.floor(rng.random(n_rows) * (hi - lo + 1)), np.nan)
    base = np.array([e.load_kg for e in EXERCISES])[ex]
    load_kg = base * c.strength_factor[i] * (1.0 + 0.015 * frame["week"].to_numpy())
    lb = c.uses_lb[i]
    loaded = kind == "loaded"
    load = np.where(lb, 5.0 * np.round(load_kg / LB_TO_KG / 5.0), 2.5 * np.round(load_kg / 2.5))
    hold = np.where(kind == "hold", rng.choice([20.0, 30.0, 45.0, 60.0], n_rows), np.nan)
    duration = frame["duration_s"].to_numpy(dtype=float) if "duration_s" in frame else np.full(n_rows, np.nan)
    rated = c.logs_rpe[i] & np.isin(kind, ["hold", "reps", "loaded"])
    out = pd.DataFrame(
        {
            "i": i,
            "week": frame["week"].to_numpy(),
            "day": frame["day"].to_numpy(),
            "minute": frame["minute"].to_numpy(),
            "exercise": np.array([e.name for e in EXERCISES])[ex],
            "modality": np.array([e.modality for e in EXERCISES])[ex],
            "sets": frame["sets"].to_numpy(dtype="int64"),
            "reps": reps,
            "load": np.where(loaded, load, np.nan),
            "load_unit": np.where(loaded, np.where(lb, "lb", "kg"), ""),
            "duration_s": np.where(np.isnan(hold), duration, hold),
            "rpe": np.where(rated, rng.integers(5, 10, n_rows), np.nan),
        }
    )
    out["load_kg"] = np.where(out["load_unit"] == "lb", out["load"] * LB_TO_KG, out["load"])
    return out


def _weekly_exposures(rows: pd.DataFrame, n: int, n_weeks: int) -> dict[str, np.ndarray]:
    """CONTRACT section 3 exposures as (n, n_weeks) arrays, aggregated from the rows."""
    cell = rows["i"].to_numpy() * n_weeks + rows["week"].to_numpy()
    sets = rows["sets"].to_numpy(dtype=float)
    minutes = np.nan_to_num(sets * rows["duration_s"].to_numpy() / 60.0)
    modality = rows["modality"].to_numpy()

    def total(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return np.bincount(cell[mask], weights=values[mask], minlength=n * n_weeks).reshape(n, n_weeks)

    out = {f"{m}_sets": total(sets, modality == m) for m in ("core", "back", "other_strength")}
    out["strength_sets"] = out["core_sets"] + out["back_sets"]
    strength = np.isin(modality, ["core", "back"])
    volume = np.nan_to_num(sets * rows["reps"].to_numpy() * rows["load_kg"].to_numpy())
    out["volume_load_kg"] = total(volume, strength)
    out["flexibility_min"] = total(minutes, modality == "flexibility")
    out["mixed_min"] = total(minutes, modality == "mixed")
    keys = pd.DataFrame({"cell": cell, "day": rows["day"].to_numpy(), "minute": rows["minute"].to_numpy()})
    for column, subset in (("sessions", ["cell", "day", "minute"]), ("active_days", ["cell", "day"])):
        distinct = keys.drop_duplicates(subset)["cell"].to_numpy()
        out[column] = np.bincount(distinct, minlength=n * n_weeks).reshape(n, n_weeks).astype(float)
    return out


def _client_mean(values: np.ndarray, mask: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Row means of ``values`` over ``mask``; ``fallback`` for rows with no True."""
    count = mask.sum(axis=1)
    return np.where(count > 0, (values * mask).sum(axis=1) / np.maximum(count, 1), fallback)


def _mu(
    model: OutcomeModel, c: _Clients, s_lag: np.ndarray, f_lag: np.ndarray, fit: np.ndarray,
    u: np.ndarray, dose_response: str, active: np.ndarray,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Noise-free mean of one instrument per client-week, and the client means used."""
    n, n_weeks = s_lag.shape
    weeks = np.arange(n_weeks)
    has_lag = weeks[None, :] >= 1
    own = active & has_lag
    s_all = _client_mean(s_lag, own, np.zeros(n))
    f_all = _client_mean(f_lag, own, np.zeros(n))
    s_bar = _client_mean(s_lag, fit, s_all)
    f_bar = _client_mean(f_lag, fit, f_all)
    ds = np.where(has_lag, s_lag - s_bar[:, None], 0.0)
    df = np.where(has_lag, f_lag - f_bar[:, None], 0.0)
    if dose_response == "saturating":
        curve = 1.0 - np.exp(-s_lag / SATURATION_SETS)
        curve_bar = _client_mean(curve, fit, _client_mean(curve, own, np.zeros(n)))
        strength = model.saturation_emax * np.where(has_lag, curve - curve_bar[:, None], 0.0)
    else:
        strength = model.strength_sets_within * ds
    slope = model.week + np.array([model.program_week.get(p, 0.0) for p in c.program]) + u[:, 1]
    rest = model.flexibility_min_within * df + model.strength_x_flexibility_within * ds * df
    mu = (
        model.intercept + u[:, :1] + slope[:, None] * weeks[None, :] + strength + rest
        + (model.strength_sets_between * s_bar + model.flexibility_min_between * f_bar)[:, None]
    )
    parts = {"within_strength": strength, "within_rest": rest, "ds": ds, "df": df}
    return mu, {"strength_sets_mean": s_bar, "flexibility_min_mean": f_bar, **parts}


def _observe(value: np.ndarray, low: float, high: float, step: float) -> np.ndarray:
    """Clip to the instrument range and round to the scale's step."""
    return np.round(np.round(np.clip(value, low, high) / step) * step, 10)


def _score_distribution(mu: np.ndarray, sd: float, low: float, high: float, step: float) -> np.ndarray:
    """P(observed score = each grid value) for N(mu, sd) clipped and rounded; shape (len(mu), grid)."""
    grid = np.arange(round((high - low) / step) + 1) * step + low
    edges = np.concatenate([[-np.inf], grid[:-1] + step / 2, [np.inf]])
    cdf = norm.cdf((edges[None, :] - mu[:, None]) / sd)
    return np.diff(cdf, axis=1)


def _responders(name: str, mu: np.ndarray, observed: np.ndarray, measured: np.ndarray, sd: float, step: float) -> tuple[dict, list[dict]]:
    """True and expected responder shares (baseline week 0 vs the last measured week)."""
    info = instrument(name)
    sign = 1.0 if info.higher_is_better else -1.0
    later = measured & (np.arange(mu.shape[1])[None, :] >= 1)
    with_follow_up = later.any(axis=1) & measured[:, 0]
    last = np.where(with_follow_up, mu.shape[1] - 1 - np.argmax(later[:, ::-1], axis=1), 0)
    rows = np.arange(len(mu))
    mu0, mu_last = mu[:, 0], mu[rows, last]
    improvement = sign * (mu_last - mu0)
    grid = np.arange(round((info.max - info.min) / step) + 1) * step + info.min
    p0 = _score_distribution(mu0, sd, info.min, info.max, step)
    p1 = _score_distribution(mu_last, sd, info.min, info.max, step)
    gain = sign * (grid[None, :] - grid[:, None])  # [baseline value, last value]
    p_responder = np.einsum("ka,kb,ab->k", p0, p1, (gain >= info.mcid_abs - 1e-9).astype(float))
    observed_gain = sign * (observed[rows, last] - observed[:, 0])
    k = with_follow_up
    summary = {
        "mcid": info.mcid_abs,
        "baseline_week": 0,
        "clients_with_follow_up": int(k.sum()),
        "share_true_improvement_ge_mcid": float(np.mean(improvement[k] >= info.mcid_abs - 1e-9)) if k.any() else None,
        "expected_share_observed_ge_mcid": float(np.mean(p_responder[k])) if k.any() else None,
        "observed_share_ge_mcid": float(np.mean(observed_gain[k] >= info.mcid_abs - 1e-9)) if k.any() else None,
    }
    if info.recovered_threshold is not None:
        recovered = p1[:, grid <= info.recovered_threshold + 1e-9].sum(axis=1)
        summary["expected_share_recovered_at_last"] = float(np.mean(recovered[k])) if k.any() else None
    per_client = [
        {
            "last_week": int(last[r]),
            "expected_baseline": float(mu0[r]),
            "expected_last": float(mu_last[r]),
            "true_improvement": float(improvement[r]),
            "p_observed_improvement_ge_mcid": float(p_responder[r]),
        }
        if k[r]
        else None
        for r in rows
    ]
    return summary, per_client


def _date_text(start: np.ndarray, day: np.ndarray, minute: np.ndarray | None = None) -> np.ndarray:
    """``YYYY-MM-DD`` of ``start + day``, with `` HH:MM`` where ``minute`` (of the day) is >= 0."""
    dates = np.datetime_as_string(start + day.astype("timedelta64[D]"), unit="D")
    if minute is None:
        return dates
    return np.array([f"{d} {m // 60:02d}:{m % 60:02d}" if m >= 0 else d for d, m in zip(dates, minute.tolist(), strict=True)], dtype=object)


def _outcome_rows(
    rng: np.random.Generator, c: _Clients, scores: dict[str, np.ndarray], measured: dict[str, np.ndarray]
) -> pd.DataFrame:
    """Outcome rows: one visit day per client-week shared by the instruments; some ODI as items."""
    n, n_weeks = next(iter(scores.values())).shape
    visit = 7 * np.arange(n_weeks)[None, :] + np.where(np.arange(n_weeks)[None, :] == 0, 0, rng.integers(0, 7, (n, n_weeks)))
    parts = []
    for rank, (name, score) in enumerate(scores.items()):
        i, t = np.nonzero(measured[name])
        parts.append(pd.DataFrame({"i": i, "day": visit[i, t], "rank": rank, "item": 0, "instrument": name, "score": score[i, t]}))
    outcomes = pd.concat(parts, ignore_index=True)
    form = ITEM_FORMS["odi"]
    as_items = (outcomes["instrument"] == "odi").to_numpy() & (rng.random(len(outcomes)) < ODI_ITEM_FORM_SHARE)
    item_rows = []
    for k in np.flatnonzero(as_items):
        raw = int(round(outcomes.at[k, "score"] * form.n_items * form.item_max / 100.0))
        slots = rng.permutation(form.n_items * form.item_max)[:raw]
        items = np.bincount(slots // form.item_max, minlength=form.n_items)
        item_rows.append(
            pd.DataFrame(
                {
                    "i": outcomes.at[k, "i"], "day": outcomes.at[k, "day"], "rank": outcomes.at[k, "rank"],
                    "item": np.arange(1, form.n_items + 1), "instrument": list(form.items), "score": items.astype(float),
                }
            )
        )
    outcomes = pd.concat([outcomes[~as_items], *item_rows], ignore_index=True)
    outcomes = outcomes.sort_values(["i", "day", "rank", "item"], ignore_index=True)
    return pd.DataFrame(
        {
            "client_id": c.ids[outcomes["i"].to_numpy()],
            "date": _date_text(c.start[outcomes["i"].to_numpy()], outcomes["day"].to_numpy()),
            "instrument": outcomes["instrument"].to_numpy(),
            "score": outcomes["score"].to_numpy(dtype=float),
        }
    )


def _plant_bad_rows(
    rng: np.random.Generator, sessions: pd.DataFrame, outcomes: pd.DataFrame, c: _Clients
) -> tuple[pd.DataFrame, pd.DataFrame, list[dict]]:
    """Insert one extra row of each kind in BAD_ROW_KINDS, each right after a random row of its table.

    The extra row copies that row (same client) and then breaks one thing.
    Returns the new tables and the ledger ``table, row, column, value, kind``
    (``row``: spreadsheet row, header = 1).
    """
    tables = {"sessions": sessions, "outcomes": outcomes}
    planted: dict[str, list[tuple[int, str, str, dict]]] = {"sessions": [], "outcomes": []}
    for table, kind, column in BAD_ROW_KINDS:
        if tables[table].empty:
            continue
        at = int(rng.integers(0, len(tables[table])))
        row = tables[table].iloc[at].to_dict()
        if kind == "unknown_exercise":
            row.update(exercise="Jefferson curl", sets=3, reps=8, load=20.0, load_unit="kg", duration_s=pd.NA)
        elif kind == "bad_date":
            row["date"] = "2024-02-30"
        elif kind == "negative":
            row.update(exercise="bird dog", sets=3, reps=-10, load=np.nan, load_unit="", duration_s=pd.NA)
        elif kind == "before_start":
            start = c.start[np.flatnonzero(c.ids == row["client_id"])[0]]
            row["date"] = str(start - np.timedelta64(3, "D"))
        elif kind == "out_of_range":
            row.update(instrument="nprs", score=14.0)
        else:
            row.update(instrument="nprs", score="mild")
        planted[table].append((at, kind, column, row))
    ledger = []
    for table, items in planted.items():
        frame = tables[table]
        position = np.concatenate([np.arange(len(frame)) + 0.0, [at + 0.5 for at, *_ in items]])
        order = np.argsort(position, kind="stable")
        combined = pd.concat([frame.astype(object), pd.DataFrame([r for *_, r in items], dtype=object)], ignore_index=True)
        tables[table] = combined.iloc[order].reset_index(drop=True)
        rank = np.argsort(order)[len(frame):]
        for (_, kind, column, row), index in zip(items, rank, strict=True):
            ledger.append({"table": table, "row": int(index) + 2, "column": column, "value": _csv_value(row[column]), "kind": kind})
    return tables["sessions"], tables["outcomes"], sorted(ledger, key=lambda r: (r["table"], r["row"]))


def _package_version() -> str:
    import backpain_analysis

    return backpain_analysis.__version__


def _jsonable(value, digits: int | None = None):
    """Plain Python types for json (numpy scalars and arrays, tuples, mappings).

    Non-finite floats become None; with ``digits``, floats keep that many
    significant digits.
    """
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v, digits) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_jsonable(v, digits) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return float(f"{value:.{digits}g}") if digits else value
    return value


def simulate(
    n_clients: int,
    n_weeks: int,
    seed: int,
    *,
    reverse_causation: bool | Mapping[str, float] = False,
    dose_response: str = "linear",
    bad_rows: bool = True,
    program_advantage: bool = False,
    outcome_models: Mapping[str, Mapping[str, object]] | None = None,
    training: Mapping[str, object] | None = None,
) -> SimulatedStudy:
    """Simulate a studio dataset with known effects (docs/simulation.md).

    Parameters
    ----------
    n_clients, n_weeks:
        Clients (>= 1) and weeks of follow-up per client (>= 2).
    seed:
        Seed of the one ``numpy.random.Generator`` behind every draw: the same
        arguments give identical tables and truth.
    reverse_causation:
        ``True`` adds an AR(1) pain flare (:class:`ReverseCausation`) that
        cuts the next week's training, so same-week models are biased; a
        mapping does the same with some of its fields changed, e.g.
        ``{"rho": 0.8}``.
    dose_response:
        ``"linear"`` or ``"saturating"``: the within-client strength effect
        is ``emax * (1 - exp(-S_t-1 / k)) - client mean``, ``k`` =
        :data:`SATURATION_SETS` sets/week, ``emax`` per instrument.
    program_advantage:
        Give ``strength_mobility`` clients the steeper weekly slope in
        :attr:`OutcomeModel.program_week` (off: every program has the same
        slope, and the plain ``backpain fit`` model is exactly the truth).
    bad_rows:
        Plant one extra row of each kind in :data:`BAD_ROW_KINDS` (listed in
        ``truth["bad_rows"]`` with its spreadsheet row number).
    outcome_models:
        Overrides per instrument of :class:`OutcomeModel` fields, e.g.
        ``{"nprs": {"strength_sets_within": 0.0, "program_week": {}}}``.
    training:
        Overrides of :class:`TrainingModel` fields, e.g. ``{"dropout_share": 0}``.

    Returns
    -------
    SimulatedStudy
        The contract tables, the realised weekly panel and ``truth``.
    """
    if int(n_clients) < 1 or int(n_weeks) < 2:
        raise DataError(f"simulate needs at least 1 client and 2 weeks, got {n_clients} clients and {n_weeks} weeks")
    if int(seed) < 0:
        raise DataError(f"seed must be a whole number >= 0, got {seed}")
    if dose_response not in ("linear", "saturating"):
        raise DataError(f"dose_response must be 'linear' or 'saturating', got {dose_response!r}")
    n, n_weeks = int(n_clients), int(n_weeks)
    base = OUTCOME_MODELS if program_advantage else {k: replace(m, program_week={}) for k, m in OUTCOME_MODELS.items()}
    models = _with_overrides(base, outcome_models or {})
    train = replace(TrainingModel(), **dict(training or {}))
    if isinstance(reverse_causation, Mapping):
        rc = replace(ReverseCausation(), **dict(reverse_causation))
    else:
        rc = ReverseCausation() if reverse_causation else None
    rng = np.random.default_rng(seed)

    c = _draw_clients(rng, n, n_weeks, train)
    flare = _flares(rng, n, n_weeks, rc)
    rows = _session_rows(rng, c, n_weeks, train, flare, rc)
    exposures = _weekly_exposures(rows, n, n_weeks)
    weeks = np.arange(n_weeks)
    active = weeks[None, :] < c.n_weeks_in[:, None]
    s_lag = np.concatenate([np.zeros((n, 1)), exposures["strength_sets"][:, :-1]], axis=1)
    f_lag = np.concatenate([np.zeros((n, 1)), exposures["flexibility_min"][:, :-1]], axis=1)

    scores, measured, expected, per_instrument, per_client = {}, {}, {}, {}, {}
    for name, model in models.items():
        info = instrument(name)
        z = rng.standard_normal((n, 2))
        rho = model.corr_intercept_week
        u = np.column_stack([model.sd_intercept * z[:, 0], model.sd_week * (rho * z[:, 0] + math.sqrt(1 - rho**2) * z[:, 1])])
        takes = rng.random(n) < model.client_share
        schedule = (weeks % model.every == 0)[None, :] & active & takes[:, None]
        measured[name] = schedule & ((weeks == 0)[None, :] | (rng.random((n, n_weeks)) < model.measured_share))
        fit = measured[name] & (weeks >= 1)[None, :]
        mu, means = _mu(model, c, s_lag, f_lag, fit, u, dose_response, active)
        raw = mu + model.residual_sd * rng.standard_normal((n, n_weeks)) + model.flare_loading * flare
        scores[name] = np.where(measured[name], _observe(raw, info.min, info.max, model.step), np.nan)
        expected[name] = mu
        noise_sd = math.hypot(model.residual_sd, model.flare_loading * rc.sd) if rc else model.residual_sd
        responders, client_changes = _responders(name, mu, scores[name], measured[name], noise_sd, model.step)
        outside = (raw < info.min) | (raw > info.max)
        per_instrument[name] = _instrument_truth(name, model, c, fit, means, u, dose_response, responders, outside, measured[name], mu, active)
        per_client[name] = (u, means, client_changes)

    outcomes = _outcome_rows(rng, c, scores, measured)
    sessions = pd.DataFrame(
        {
            "client_id": c.ids[rows["i"].to_numpy()],
            "date": _date_text(c.start[rows["i"].to_numpy()], rows["day"].to_numpy(), rows["minute"].to_numpy()),
            "exercise": rows["exercise"].to_numpy(),
            "sets": rows["sets"].to_numpy(),
            "reps": pd.array(rows["reps"].to_numpy(), dtype="Int64"),
            "load": rows["load"].to_numpy(),
            "load_unit": rows["load_unit"].to_numpy(),
            "duration_s": pd.array(rows["duration_s"].to_numpy(), dtype="Int64"),
            "rpe": pd.array(rows["rpe"].to_numpy(), dtype="Int64"),
        }
    )
    clients = pd.DataFrame(
        {
            "client_id": c.ids,
            "name": [f"Client {k[1:]}" for k in c.ids],
            "email": [f"client{k[1:]}@example.invalid" for k in c.ids],
            "program": c.program,
            "studio": np.asarray(STUDIOS)[rng.integers(0, len(STUDIOS), n)],
            "start_date": np.datetime_as_string(c.start, unit="D"),
            "age": np.clip(np.round(rng.normal(47.0, 12.0, n)), 18, 85).astype(int),
            "sex": np.where(rng.random(n) < 0.58, "F", "M"),
        }
    )
    ledger: list[dict] = []
    if bad_rows:
        sessions, outcomes, ledger = _plant_bad_rows(rng, sessions, outcomes, c)

    weekly = _weekly_frame(c, exposures, scores, expected, flare if rc else None, rows, measured)
    truth = {
        "generator": "backpain_analysis.simulate",
        "package_version": _package_version(),
        "seed": seed,
        "n_clients": n,
        "n_weeks": n_weeks,
        "options": {
            "reverse_causation": rc is not None,
            "dose_response": dose_response,
            "bad_rows": bad_rows,
            "program_advantage": program_advantage,
            "lag": 1,
            "outcome_models": outcome_models or {},
            "training": training or {},
        },
        "instruments": per_instrument,
        "training": asdict(train),
        "reverse_causation": asdict(rc) if rc else None,
        "programs": {
            "reference": PROGRAMS[0],
            "allocation": {p: int(np.sum(c.program == p)) for p in PROGRAMS},
        },
        "clients": _client_truth(c, per_client),
        "bad_rows": ledger,
        "rows": {"sessions": len(sessions), "outcomes": len(outcomes), "clients": len(clients)},
    }
    return SimulatedStudy(sessions=sessions, outcomes=outcomes, clients=clients, weekly=weekly, truth=_jsonable(truth))


def _with_overrides(models: Mapping[str, OutcomeModel], overrides: Mapping[str, Mapping[str, object]]) -> dict[str, OutcomeModel]:
    unknown = set(overrides) - set(models)
    if unknown:
        raise DataError(f"outcome_models: no simulated instrument {sorted(unknown)[0]!r}; simulated: {', '.join(models)}")
    return {name: replace(model, **dict(overrides.get(name, {}))) for name, model in models.items()}


def _instrument_truth(
    name: str, model: OutcomeModel, c: _Clients, fit: np.ndarray, means: dict[str, np.ndarray], u: np.ndarray,
    dose_response: str, responders: dict, outside: np.ndarray, measured: np.ndarray, mu: np.ndarray, active: np.ndarray,
) -> dict:
    """The truth.json entry of one instrument."""
    info = instrument(name)
    program_week = {p: float(model.program_week.get(p, 0.0)) for p in PROGRAMS}
    sample_share = {p: float(np.mean(c.program == p)) for p in PROGRAMS}
    average_program_slope = sum(sample_share[p] * program_week[p] for p in PROGRAMS)
    slopes = np.array([program_week[p] for p in c.program])
    effects = {"Intercept": model.intercept, "week": model.week + average_program_slope}
    effects.update({term: getattr(model, term) for term in EFFECT_TERMS[1:]})
    dose = {"shape": dose_response}
    if dose_response == "saturating":
        projection = _linear_projection(means, fit)
        effects.update(projection)
        dose.update(
            {
                "formula": "emax * (1 - exp(-S / k)) minus its client mean over the fit weeks",
                "emax": model.saturation_emax,
                "k_sets_per_week": SATURATION_SETS,
                "dose_at_90_percent_of_plateau": SATURATION_SETS * math.log(10.0),
                "linear_projection_within": projection,
            }
        )
    weeks = np.arange(mu.shape[1])
    return {
        "unit": info.unit,
        "higher_is_better": info.higher_is_better,
        "range": [info.min, info.max],
        "step": model.step,
        "effects": effects,
        "week_by_program": {p: model.week + program_week[p] for p in PROGRAMS},
        "random_effects": {
            "sd_intercept": model.sd_intercept,
            "sd_week": model.sd_week,
            "corr_intercept_week": model.corr_intercept_week,
            "sd_week_without_program_terms": math.sqrt(model.sd_week**2 + float(np.var(slopes))),
        },
        "residual_sd": model.residual_sd,
        "flare_loading": model.flare_loading,
        "dose_response": dose,
        "schedule": {"every_weeks": model.every, "measured_share": model.measured_share, "client_share": model.client_share},
        "observations": int(measured.sum()),
        "fit_observations": int(fit.sum()),
        "clipped_share": float(outside[measured].mean()) if measured.any() else 0.0,
        "responders": responders,
        "programs": _program_truth(c, mu - u[:, :1] - u[:, 1:] * weeks[None, :], active, program_week, model.every),
    }


def _program_truth(c: _Clients, fixed: np.ndarray, active: np.ndarray, program_week: dict[str, float], every: int) -> dict:
    """Program effects on the weekly slope: direct (the parameter) and total (including training).

    ``fixed_change_by_week``: per program, the mean over its clients still in
    the study of the noise-free change from week 0 without random effects.
    ``total_week_vs_reference``: least-squares slope over the instrument's
    scheduled weeks (0, every, 2 x every, ...) of that curve minus the
    reference program's: the program x week contrast of a model without
    exposure terms. It differs from the direct effect by the part carried by
    the programs' different training (the ramp-up weeks).
    """
    weeks = np.arange(fixed.shape[1])
    change = fixed - fixed[:, :1]
    curves: dict[str, np.ndarray] = {}
    for p in PROGRAMS:
        members = (c.program == p)[:, None] & active
        count = members.sum(axis=0)
        curves[p] = np.where(count > 0, (change * members).sum(axis=0) / np.maximum(count, 1), np.nan)
    scheduled = weeks % every == 0
    total: dict[str, float | None] = {}
    for p in PROGRAMS:
        ok = scheduled & np.isfinite(curves[p] - curves[PROGRAMS[0]])
        total[p] = float(np.polyfit(weeks[ok], (curves[p] - curves[PROGRAMS[0]])[ok], 1)[0]) if ok.sum() >= 2 else None
    return {
        "direct_week_vs_reference": program_week,
        "total_week_vs_reference": total,
        "fixed_change_by_week": {p: [None if math.isnan(v) else float(v) for v in curve] for p, curve in curves.items()},
    }


def _detrend(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Residuals of each client's own least-squares line on week over ``mask`` (0 elsewhere)."""
    t = np.broadcast_to(np.arange(values.shape[1], dtype=float), values.shape)
    w = mask.astype(float)
    count = np.maximum(w.sum(axis=1, keepdims=True), 1.0)
    t_c = t - (w * t).sum(axis=1, keepdims=True) / count
    x_c = values - (w * values).sum(axis=1, keepdims=True) / count
    stt = (w * t_c * t_c).sum(axis=1, keepdims=True)
    slope = np.divide((w * t_c * x_c).sum(axis=1, keepdims=True), stt, out=np.zeros_like(stt), where=stt > 0)
    return w * (x_c - slope * t_c)


def _linear_projection(means: dict[str, np.ndarray], fit: np.ndarray) -> dict[str, float]:
    """What the linear within terms converge to when the strength effect saturates.

    The whole true within-client part (saturating strength curve, linear
    flexibility, interaction) is projected on the three linear within terms,
    after removing each client's own intercept and week slope (the random
    effects' role), over the fit weeks.
    """
    ds, df = means["ds"], means["df"]
    target = means["within_strength"] + means["within_rest"]
    design = np.stack([_detrend(x, fit)[fit] for x in (ds, df, ds * df)], axis=1)
    coef = np.linalg.lstsq(design, _detrend(target, fit)[fit], rcond=None)[0] if fit.any() else [math.nan] * 3
    return dict(zip(EFFECT_TERMS[1:4], (float(v) for v in coef), strict=True))


def _client_truth(c: _Clients, per_client: dict) -> list[dict]:
    """Per client: program, usual levels, adherence, dropout, and per instrument its random effects and means."""
    out = []
    for r, client_id in enumerate(c.ids):
        entry = {
            "client_id": client_id,
            "program": c.program[r],
            "usual_strength_sets": float(c.strength_level[r]),
            "usual_flexibility_min": float(c.flexibility_level[r]),
            "adherence": float(c.adherence[r]),
            "weeks_in_study": int(c.n_weeks_in[r]),
        }
        for name, (u, means, changes) in per_client.items():
            entry[name] = {
                "u_intercept": float(u[r, 0]),
                "u_week": float(u[r, 1]),
                "strength_sets_mean": float(means["strength_sets_mean"][r]),
                "flexibility_min_mean": float(means["flexibility_min_mean"][r]),
                "change": changes[r],
            }
        out.append(_jsonable(entry, digits=6))
    return out


def _weekly_frame(
    c: _Clients, exposures: dict[str, np.ndarray], scores: dict[str, np.ndarray], expected: dict[str, np.ndarray],
    flare: np.ndarray | None, rows: pd.DataFrame, measured: dict[str, np.ndarray],
) -> pd.DataFrame:
    """Client-weeks 0 .. last record (session or outcome), as the contract's panel has them."""
    n, n_weeks = exposures["strength_sets"].shape
    any_record = np.zeros((n, n_weeks), dtype=bool)
    any_record[rows["i"].to_numpy(), rows["week"].to_numpy()] = True
    for mask in measured.values():
        any_record |= mask
    last = n_weeks - 1 - np.argmax(any_record[:, ::-1], axis=1)
    keep = np.arange(n_weeks)[None, :] <= last[:, None]
    i, t = np.nonzero(keep)
    frame = {"client_id": c.ids[i], "week": t, "program": c.program[i]}
    for column, values in exposures.items():
        is_count = column.endswith("_sets") or column in ("sessions", "active_days")
        frame[column] = values[i, t].astype("int64") if is_count else values[i, t]
    for name in scores:
        frame[name] = scores[name][i, t]
    for name in expected:
        frame[f"{name}_expected"] = expected[name][i, t]
    if flare is not None:
        frame["flare"] = flare[i, t]
    return pd.DataFrame(frame)


def _csv_value(value) -> str:
    """A cell as a person would type it: 40 not 40.0, blank for missing."""
    if value is None or value is pd.NA or (isinstance(value, (float, np.floating)) and math.isnan(value)):
        return ""
    if isinstance(value, (float, np.floating)):
        return format(float(value), ".10g")
    return str(value)


def _csv_text(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({column: [_csv_value(v) for v in frame[column].tolist()] for column in frame.columns})


def _json_text(value, indent: str = "") -> str:
    """JSON with objects indented, lists of numbers on one line, list items one per line."""
    inner = indent + " "
    if isinstance(value, dict) and value:
        items = [f"{inner}{json.dumps(k)}: {_json_text(v, inner)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
        return "[\n" + ",\n".join(inner + json.dumps(v) for v in value) + "\n" + indent + "]"
    return json.dumps(value)


def write_study(study: SimulatedStudy, out_dir: str | Path) -> dict[str, Path]:
    """Write ``sessions.csv``, ``outcomes.csv``, ``clients.csv`` and ``truth.json`` to ``out_dir``.

    The folder is created if needed; these four files are replaced, nothing
    else in it is touched. Returns table name -> path written.
    """
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DataError(f"cannot create output folder {out}: {error.strerror}") from error
    paths = {}
    for name in ("sessions", "outcomes", "clients"):
        paths[name] = write_table(_csv_text(getattr(study, name)), out / f"{name}.csv")
    paths["truth"] = out / "truth.json"
    paths["truth"].write_text(_json_text(study.truth) + "\n", encoding="utf-8")
    return paths
