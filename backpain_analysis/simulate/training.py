"""Training: per-client draws, session rows (exercise, sets, reps, load, seconds, RPE) and weekly exposures.

Step 1 of the process (docs/simulation.md, section 2): the client's program
sets a usual weekly level of strength sets and flexibility minutes; planned
sessions are attended with the client's adherence, whole weeks are skipped,
the first weeks ramp up, some clients drop out. The realised weekly
exposures are aggregated from the rows exactly as CONTRACT section 3 defines
them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from backpain_analysis.contract import LB_TO_KG
from backpain_analysis.simulate.parameters import (
    EXERCISES,
    FIRST_START,
    PROGRAMS,
    START_SPREAD_DAYS,
    STRENGTH_ROUTINE,
    STRETCH_ROUTINE,
    ReverseCausation,
    TrainingModel,
)

_BY_NAME = {e.name: i for i, e in enumerate(EXERCISES)}
_STRENGTH = np.array([i for i, e in enumerate(EXERCISES) if e.modality in ("core", "back")])
_STRETCHES = np.array([i for i, e in enumerate(EXERCISES) if e.modality == "flexibility"])
_CLASSES = np.array([_BY_NAME["yoga"], _BY_NAME["pilates"]])
_CARDIO = np.array([_BY_NAME["walking"], _BY_NAME["cycling"]])
_OTHER_STRENGTH = np.array([_BY_NAME["squat"], _BY_NAME["leg press"]])


@dataclass
class ClientDraws:
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


def draw_clients(rng: np.random.Generator, n: int, n_weeks: int, training: TrainingModel) -> ClientDraws:
    """Program, levels, adherence, dropout, routine and logging habits of each client (section 2 of the docs)."""
    shares = np.array([training.programs[p].share for p in PROGRAMS])
    program = np.asarray(PROGRAMS)[rng.choice(len(PROGRAMS), size=n, p=shares / shares.sum())]
    level_s = np.array([training.programs[p].strength_sets for p in program])
    level_f = np.array([training.programs[p].flexibility_min for p in program])
    planned = np.array([training.programs[p].sessions for p in program]) + (rng.random(n) < training.extra_session_share)
    drops = (rng.random(n) < training.dropout_share) & (n_weeks >= 3)
    width = max(3, len(str(n)))
    return ClientDraws(
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


def draw_flares(rng: np.random.Generator, n: int, n_weeks: int, rc: ReverseCausation | None) -> np.ndarray:
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


def session_rows(
    rng: np.random.Generator, c: ClientDraws, n_weeks: int, training: TrainingModel, flare: np.ndarray, rc: ReverseCausation | None
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


def _fill_rows(rng: np.random.Generator, frame: pd.DataFrame, c: ClientDraws) -> pd.DataFrame:
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


def weekly_exposures(rows: pd.DataFrame, n: int, n_weeks: int) -> dict[str, np.ndarray]:
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
