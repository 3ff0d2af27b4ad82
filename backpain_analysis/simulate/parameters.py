"""What the simulator assumes: programs, exercises, training and outcome models, reverse causation.

Every number of the data-generating process lives here, in the dataclasses
and constants below; ``docs/simulation.md`` writes the process out in
formulas with units.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from backpain_analysis.contract import FIT_TERMS

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
