"""Descriptive numbers the report shows beside its models: means with intervals, nothing fitted.

Figures draw these; they never compute them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from backpain_analysis.evidence import PAIN_TO_100


def improvement_on_100(changes: pd.DataFrame, outcome: str, by: str = "program", level: float = 0.95) -> pd.DataFrame:
    """Mean pain improvement from baseline, on a 0-100 scale, overall and by group.

    Parameters
    ----------
    changes:
        :func:`backpain_analysis.responders.client_changes` of a pain
        instrument (``improvement`` per client, positive = better).
    outcome:
        ``nprs`` or ``vas`` (:data:`~backpain_analysis.evidence.PAIN_TO_100`).
    by:
        Group column in ``changes`` (rows per group when present).
    level:
        Confidence level of the t interval.

    Returns
    -------
    DataFrame: ``group`` (``"all"`` then each group), ``n_clients``,
    ``estimate`` (mean improvement, points on 0-100), ``std_error``,
    ``conf_low``, ``conf_high`` (t interval on ``n_clients - 1`` df; NaN
    with fewer than 2 clients).
    """
    factor = PAIN_TO_100[outcome]
    groups = [("all", changes)]
    if by in changes.columns:
        groups += [(str(g), rows) for g, rows in changes[changes[by].notna()].groupby(by, sort=True)]
    out = []
    for label, rows in groups:
        values = factor * rows["improvement"].to_numpy(float)
        n = len(values)
        mean = float(values.mean()) if n else np.nan
        se = float(values.std(ddof=1) / np.sqrt(n)) if n > 1 else np.nan
        half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * se if n > 1 else np.nan
        out.append({"group": label, "n_clients": n, "estimate": mean, "std_error": se, "conf_low": mean - half, "conf_high": mean + half})
    return pd.DataFrame(out)
