"""Simulated studios with the twists the analyses must survive (a helper of the simulation studies).

``backpain_analysis.simulate`` simulates whole datasets; these studies need
two things it does not plant, so they are generated here, directly as a
weekly panel, with the truth alongside:

- **confounding by indication**: more severe clients (higher baseline pain)
  are more likely to be sent to the ``intensive`` program, and severity also
  changes the course (severe clients improve faster: regression to the
  mean), so a comparison not adjusted for the measured baseline is biased;
- **informative dropout**: a client who is not improving is more likely to
  leave after any week (missing at random given the observed scores), or
  one program's clients all leave early (``early_leavers``).

Model (NPRS-like, Gaussian, lower is better), client i, week t = 0..W-1::

    s_i ~ N(0, 1)                          severity (measured through the baseline score)
    P(intensive) = expit(confounding * s_i)
    y_it = 6 + s_i + u0_i + (-0.15 - 0.05 s_i + u1_i + effect * intensive_i) t + e_it
    u0 ~ N(0, 0.8^2), u1 ~ N(0, 0.06^2), e ~ N(0, 0.8^2)
    strength_sets_it = 10 + 4 z_i + v_it (>= 0),  y gains beta_S * (S_i,t-1 - mean_i S) when given

Only the standard library of the project (numpy, pandas) is used; nothing here
is imported by the package.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MCID = 2.0
SD_U0, SD_U1, SD_E = 0.8, 0.06, 0.8
BASE_SLOPE, SEVERITY_SLOPE = -0.15, -0.05


def _expit(x):
    return 1.0 / (1.0 + np.exp(-x))


def program_studio(
    n_clients: int,
    n_weeks: int = 12,
    seed: int = 0,
    *,
    effect: float = 0.0,
    confounding: float = 1.5,
    informative_dropout: bool = True,
    early_leavers: str | None = None,
    strength_within: float = 0.0,
    course: float = BASE_SLOPE,
    severity_course: float = SEVERITY_SLOPE,
    slope_sd: float = SD_U1,
    female_extra: float = 0.0,
    indication: str = "severity",
) -> tuple[pd.DataFrame, dict]:
    """A weekly panel (client_id, week, program, age, sex, studio, nprs, strength_sets, flexibility_min) and its truth.

    ``course``, ``severity_course`` and ``slope_sd`` set the natural course
    (0, 0, 0: nobody truly changes); ``female_extra`` is added to the
    within-client strength effect of female clients (effect modification by sex).
    ``indication``: what the program choice depends on, ``"severity"`` (the
    latent ``s``, seen in the data only through one noisy baseline score, so
    some confounding stays unmeasured) or ``"baseline_score"`` (the measured
    week-0 score, standardised: ``P(intensive) = expit(confounding (y_i0 - 6)
    / sd(y_0))``, confounding by indication with the indication measured). ``truth``: ``contrast`` (intensive - usual, NPRS, at any week w it is
    ``effect * w``), ``true_change`` per client (noise-free change from week 0
    to the last week, NPRS), ``true_responder_share`` (share of clients whose
    noise-free improvement at the last week reaches the MCID of 2 points).
    """
    rng = np.random.default_rng(seed)
    n, weeks = int(n_clients), np.arange(n_weeks)
    severity = rng.standard_normal(n)
    assignment = rng.random(n)
    intensive = assignment < _expit(confounding * severity)
    u0 = SD_U0 * rng.standard_normal(n)
    u1 = slope_sd * rng.standard_normal(n)
    slope = course + severity_course * severity + u1
    level = 6.0 + severity + u0
    z = rng.standard_normal(n)
    female = rng.random(n) < 0.6
    sets = np.clip(10 + 4 * z[:, None] + 3 * rng.standard_normal((n, n_weeks)), 0, None).round()
    flex = np.clip(30 + 10 * rng.standard_normal((n, n_weeks)), 0, None).round()
    lagged = np.column_stack([sets[:, :1], sets[:, :-1]])
    mean_sets = lagged.mean(axis=1, keepdims=True)
    within_effect = strength_within + female_extra * female
    y = level[:, None] + slope[:, None] * weeks[None, :] + within_effect[:, None] * (lagged - mean_sets) + SD_E * rng.standard_normal((n, n_weeks))
    if indication == "baseline_score":
        intensive = assignment < _expit(confounding * (y[:, 0] - 6.0) / np.sqrt(1.0 + SD_U0**2 + SD_E**2))
    elif indication != "severity":
        raise ValueError(f"indication must be 'severity' or 'baseline_score', not {indication!r}")
    slope = slope + effect * intensive
    y = y + effect * intensive[:, None] * weeks[None, :]
    last = np.full(n, n_weeks - 1)
    for i in range(n):
        if early_leavers is not None and (("intensive" if intensive[i] else "usual") == early_leavers):
            last[i] = min(last[i], 4)
        if informative_dropout:
            for t in range(2, n_weeks - 1):
                if rng.random() < _expit(-3.0 + 1.2 * (y[i, t] - y[i, 0])):
                    last[i] = min(last[i], t)
                    break
    rows = []
    ages = rng.normal(45, 12, n).round()
    sexes = np.where(female, "female", "male")
    studios = np.where(rng.random(n) < 0.5, "north", "south")
    for i in range(n):
        for t in range(last[i] + 1):
            rows.append(
                (f"c{i:03d}", t, "intensive" if intensive[i] else "usual", ages[i], sexes[i], studios[i], y[i, t], sets[i, t], flex[i, t])
            )
    panel = pd.DataFrame(rows, columns=["client_id", "week", "program", "age", "sex", "studio", "nprs", "strength_sets", "flexibility_min"])
    true_change = slope * (n_weeks - 1)
    truth = {
        "contrast_per_week": effect,
        "true_change": dict(zip([f"c{i:03d}" for i in range(n)], true_change, strict=True)),
        "true_responder_share": float(np.mean(-true_change >= MCID)),
        "dropout_share": float(np.mean(last < n_weeks - 1)),
        "strength_sets_within": strength_within,
    }
    return panel, truth
