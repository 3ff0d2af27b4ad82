"""Write the simulated panels that lme4_reference.R fits (run once; outputs are committed).

Usage: ``python tests/reference/simulate_reference_panels.py`` (from the repository root).

Each panel is a long table, one row per group and occasion, with fixed seeds:

- ``panel_slope200.csv``: 200 clients x 16 weeks, a weekly pain-like score on
  within-client deviations of two exposures, their product, client means and
  a time trend; random intercept and slope for week (the contract's model
  shape at a small studio's size).
- ``panel_intercept_arms.csv``: 60 groups with 4-12 rows each, a dose x
  three-level arm interaction and a group-level covariate; random intercept.
- ``panel_singular.csv``: 30 groups x 6 rows whose true random-slope SD is 0
  and intercept SD small, so the REML fit sits on (or next to) the boundary.
- ``panel_three_re.csv``: 120 groups with 3-15 rows at irregular times, about
  5 % of ``x1`` missing; random intercept and slopes for ``t`` and ``x1``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent


def slope200(rng: np.random.Generator) -> pd.DataFrame:
    clients, weeks = 200, 16
    client = np.repeat(np.arange(clients), weeks)
    week = np.tile(np.arange(weeks), clients)
    habit = rng.gamma(2.0, 3.0, clients)
    strength = rng.poisson(habit[client]).astype(float)
    flex = np.round(rng.gamma(2.0, 10.0, clients)[client] * rng.uniform(0.3, 1.7, client.size), 1)
    frame = pd.DataFrame({"client": client, "week": week, "strength": strength, "flex": flex})
    means = frame.groupby("client")[["strength", "flex"]].transform("mean")
    frame["strength_within"] = frame["strength"] - means["strength"]
    frame["flex_within"] = frame["flex"] - means["flex"]
    frame["strength_between"] = means["strength"]
    frame["flex_between"] = means["flex"]
    b0 = rng.normal(0.0, 1.3, clients)
    b1 = 0.6 * 0.06 / 1.3 * b0 + rng.normal(0.0, 0.06 * np.sqrt(1 - 0.36), clients)
    frame["pain"] = (
        6.0
        - 0.08 * week
        - 0.05 * frame["strength_within"]
        - 0.01 * frame["flex_within"]
        - 0.002 * frame["strength_within"] * frame["flex_within"]
        - 0.04 * frame["strength_between"]
        - 0.01 * frame["flex_between"]
        + b0[client]
        + b1[client] * week
        + rng.normal(0.0, 1.0, client.size)
    ).round(3)
    return frame.drop(columns=["strength", "flex"]).round(6)


def intercept_arms(rng: np.random.Generator) -> pd.DataFrame:
    groups = 60
    sizes = rng.integers(4, 13, groups)
    group = np.repeat(np.arange(groups), sizes)
    arm = np.array(["a", "b", "c"])[np.arange(groups) % 3][group]
    age = rng.normal(45.0, 12.0, groups).round(0)[group]
    dose = rng.uniform(0.0, 10.0, group.size).round(2)
    effect = {"a": 0.0, "b": 1.5, "c": -1.0}
    slope = {"a": 0.3, "b": 0.5, "c": 0.3}
    y = (
        10.0
        + np.vectorize(effect.get)(arm)
        + np.vectorize(slope.get)(arm) * dose
        + 0.05 * age
        + rng.normal(0.0, 2.0, groups)[group]
        + rng.normal(0.0, 1.5, group.size)
    )
    return pd.DataFrame({"group": group, "arm": arm, "age": age, "dose": dose, "y": y.round(3)})


def singular(rng: np.random.Generator) -> pd.DataFrame:
    groups, rows = 30, 6
    group = np.repeat(np.arange(groups), rows)
    time = np.tile(np.arange(rows), groups).astype(float)
    x = rng.normal(0.0, 1.0, group.size).round(3)
    y = 2.0 + 0.5 * x - 0.2 * time + rng.normal(0.0, 0.15, groups)[group] + rng.normal(0.0, 1.0, group.size)
    return pd.DataFrame({"group": group, "time": time, "x": x, "y": y.round(3)})


def three_re(rng: np.random.Generator) -> pd.DataFrame:
    groups = 120
    sizes = rng.integers(3, 16, groups)
    group = np.repeat(np.arange(groups), sizes)
    t = np.concatenate([np.sort(rng.uniform(0.0, 12.0, k)) for k in sizes]).round(2)
    x1 = rng.normal(0.0, 1.0, group.size).round(3)
    x2 = rng.binomial(1, 0.4, groups)[group]
    chol = np.array([[1.5, 0.0, 0.0], [0.05, 0.15, 0.0], [-0.3, 0.0, 0.4]])
    b = rng.normal(size=(groups, 3)) @ chol.T
    y = 20.0 + 0.3 * t + 1.0 * x1 - 0.8 * x2 + b[group, 0] + b[group, 1] * t + b[group, 2] * x1
    y = y + rng.normal(0.0, 1.0, group.size)
    frame = pd.DataFrame({"group": group, "t": t, "x1": x1, "x2": x2, "y": y.round(3)})
    frame.loc[rng.random(group.size) < 0.05, "x1"] = np.nan
    return frame


def main() -> None:
    makers = {
        "panel_slope200": (slope200, 20240302),
        "panel_intercept_arms": (intercept_arms, 7),
        "panel_singular": (singular, 11),
        "panel_three_re": (three_re, 3),
    }
    for name, (make, seed) in makers.items():
        make(np.random.default_rng(seed)).to_csv(HERE / f"{name}.csv", index=False)


if __name__ == "__main__":
    main()
