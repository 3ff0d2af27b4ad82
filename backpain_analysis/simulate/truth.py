"""The truth of a simulated study: effects per instrument, program effects, responders, per-client values.

Everything here is computed from the draws, never from the written files,
and becomes ``truth.json`` (docs/simulation.md lists every key).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy.stats import norm

from backpain_analysis.instruments import instrument
from backpain_analysis.simulate.parameters import EFFECT_TERMS, PROGRAMS, SATURATION_SETS, OutcomeModel
from backpain_analysis.simulate.training import ClientDraws

def _score_distribution(mu: np.ndarray, sd: float, low: float, high: float, step: float) -> np.ndarray:
    """P(observed score = each grid value) for N(mu, sd) clipped and rounded; shape (len(mu), grid)."""
    grid = np.arange(round((high - low) / step) + 1) * step + low
    edges = np.concatenate([[-np.inf], grid[:-1] + step / 2, [np.inf]])
    cdf = norm.cdf((edges[None, :] - mu[:, None]) / sd)
    return np.diff(cdf, axis=1)


def responder_truth(name: str, mu: np.ndarray, observed: np.ndarray, measured: np.ndarray, sd: float, step: float) -> tuple[dict, list[dict]]:
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


def instrument_truth(
    name: str, model: OutcomeModel, c: ClientDraws, fit: np.ndarray, means: dict[str, np.ndarray], u: np.ndarray,
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


def _program_truth(c: ClientDraws, fixed: np.ndarray, active: np.ndarray, program_week: dict[str, float], every: int) -> dict:
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


def client_truth(c: ClientDraws, per_client: dict) -> list[dict]:
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
        out.append(jsonable(entry, digits=6))
    return out


def weekly_frame(
    c: ClientDraws, exposures: dict[str, np.ndarray], scores: dict[str, np.ndarray], expected: dict[str, np.ndarray],
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


def package_version() -> str:
    import backpain_analysis

    return backpain_analysis.__version__


def jsonable(value, digits: int | None = None):
    """Plain Python types for json (numpy scalars and arrays, tuples, mappings).

    Non-finite floats become None; with ``digits``, floats keep that many
    significant digits.
    """
    if isinstance(value, Mapping):
        return {str(k): jsonable(v, digits) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [jsonable(v, digits) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return float(f"{value:.{digits}g}") if digits else value
    return value
