"""A simulated study: :func:`simulate` runs the process and returns the tables with their truth."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace

import numpy as np
import pandas as pd

from backpain_analysis.errors import DataError
from backpain_analysis.instruments import instrument
from backpain_analysis.simulate.bad_rows import plant_bad_rows
from backpain_analysis.simulate.files import date_text
from backpain_analysis.simulate.outcomes import mean_scores, observe, outcome_rows
from backpain_analysis.simulate.parameters import OUTCOME_MODELS, PROGRAMS, STUDIOS, OutcomeModel, ReverseCausation, TrainingModel
from backpain_analysis.simulate.training import draw_clients, draw_flares, session_rows, weekly_exposures
from backpain_analysis.simulate.truth import client_truth, instrument_truth, jsonable, package_version, responder_truth, weekly_frame

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

    c = draw_clients(rng, n, n_weeks, train)
    flare = draw_flares(rng, n, n_weeks, rc)
    rows = session_rows(rng, c, n_weeks, train, flare, rc)
    exposures = weekly_exposures(rows, n, n_weeks)
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
        mu, means = mean_scores(model, c, s_lag, f_lag, fit, u, dose_response, active)
        raw = mu + model.residual_sd * rng.standard_normal((n, n_weeks)) + model.flare_loading * flare
        scores[name] = np.where(measured[name], observe(raw, info.min, info.max, model.step), np.nan)
        expected[name] = mu
        noise_sd = math.hypot(model.residual_sd, model.flare_loading * rc.sd) if rc else model.residual_sd
        responders, client_changes = responder_truth(name, mu, scores[name], measured[name], noise_sd, model.step)
        outside = (raw < info.min) | (raw > info.max)
        per_instrument[name] = instrument_truth(name, model, c, fit, means, u, dose_response, responders, outside, measured[name], mu, active)
        per_client[name] = (u, means, client_changes)

    outcomes = outcome_rows(rng, c, scores, measured)
    sessions = pd.DataFrame(
        {
            "client_id": c.ids[rows["i"].to_numpy()],
            "date": date_text(c.start[rows["i"].to_numpy()], rows["day"].to_numpy(), rows["minute"].to_numpy()),
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
        sessions, outcomes, ledger = plant_bad_rows(rng, sessions, outcomes, c)

    weekly = weekly_frame(c, exposures, scores, expected, flare if rc else None, rows, measured)
    truth = {
        "generator": "backpain_analysis.simulate",
        "package_version": package_version(),
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
        "clients": client_truth(c, per_client),
        "bad_rows": ledger,
        "rows": {"sessions": len(sessions), "outcomes": len(outcomes), "clients": len(clients)},
    }
    return SimulatedStudy(sessions=sessions, outcomes=outcomes, clients=clients, weekly=weekly, truth=jsonable(truth))


def _with_overrides(models: Mapping[str, OutcomeModel], overrides: Mapping[str, Mapping[str, object]]) -> dict[str, OutcomeModel]:
    unknown = set(overrides) - set(models)
    if unknown:
        raise DataError(f"outcome_models: no simulated instrument {sorted(unknown)[0]!r}; simulated: {', '.join(models)}")
    return {name: replace(model, **dict(overrides.get(name, {}))) for name, model in models.items()}
