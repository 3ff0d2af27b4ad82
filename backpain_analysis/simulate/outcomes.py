"""Outcomes: the noise-free mean of each instrument per client-week, observed scores and outcome rows.

Step 2 of the process (docs/simulation.md, section 3), exposure lag 1::

    mu_it = b0 + u0_i + (b_week + d_program + u1_i) * t
          + bSW * (S_i,t-1 - Sbar_i) + bFW * (F_i,t-1 - Fbar_i)
          + bSF * (S_i,t-1 - Sbar_i) * (F_i,t-1 - Fbar_i)
          + bSB * Sbar_i + bFB * Fbar_i
    y_it  = round(clip(mu_it + e_it [+ flare_it]))

``Sbar_i``/``Fbar_i`` are the client's means over the weeks that enter the
fit of that instrument (weeks t >= 1 with the instrument measured), so the
coefficients are exactly the ``backpain fit`` terms.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from backpain_analysis.instruments import ITEM_FORMS
from backpain_analysis.simulate.files import date_text
from backpain_analysis.simulate.parameters import ODI_ITEM_FORM_SHARE, SATURATION_SETS, OutcomeModel
from backpain_analysis.simulate.training import ClientDraws

def _client_mean(values: np.ndarray, mask: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Row means of ``values`` over ``mask``; ``fallback`` for rows with no True."""
    count = mask.sum(axis=1)
    return np.where(count > 0, (values * mask).sum(axis=1) / np.maximum(count, 1), fallback)


def mean_scores(
    model: OutcomeModel, c: ClientDraws, s_lag: np.ndarray, f_lag: np.ndarray, fit: np.ndarray,
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


def observe(value: np.ndarray, low: float, high: float, step: float) -> np.ndarray:
    """Clip to the instrument range and round to the scale's step."""
    return np.round(np.round(np.clip(value, low, high) / step) * step, 10)


def outcome_rows(
    rng: np.random.Generator, c: ClientDraws, scores: dict[str, np.ndarray], measured: dict[str, np.ndarray]
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
            "date": date_text(c.start[outcomes["i"].to_numpy()], outcomes["day"].to_numpy()),
            "instrument": outcomes["instrument"].to_numpy(),
            "score": outcomes["score"].to_numpy(dtype=float),
        }
    )
