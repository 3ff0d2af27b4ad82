"""Tidy result tables: the column names, and the one linear-contrast helper of the model layer.

Every estimate table uses broom's names (CONTRACT section 5):
:data:`TIDY_COLUMNS`, plus ``df`` when intervals come from Student's t. The
confidence level lives in metadata (``attrs["level"]``), never in a column name.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy.stats import norm, t

TIDY_COLUMNS: tuple[str, ...] = ("term", "estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high")
"""The seven tidy columns, in order (``df`` goes after ``statistic`` when present)."""


def check_level(level: float) -> float:
    """A confidence level strictly between 0 and 1, or ``ValueError`` naming ``level``."""
    if not 0.0 < float(level) < 1.0:
        raise ValueError(f"level must be between 0 and 1 (e.g. 0.95), not {level}")
    return float(level)


def tidy(frame: pd.DataFrame, estimate, std_error, *, df=None, level: float = 0.95) -> pd.DataFrame:
    """``frame`` with ``estimate``, ``std_error``, ``statistic``, ``df``, ``p_value``, ``conf_low``, ``conf_high``.

    With ``df`` (a number or one per row; NaN or ``None`` = normal) the
    statistic is t on ``df`` degrees of freedom, else z; two-sided p-values,
    intervals at ``level``.
    """
    estimate = np.asarray(estimate, dtype=float)
    std_error = np.asarray(std_error, dtype=float)
    dof = np.full(estimate.shape, np.nan) if df is None else np.broadcast_to(np.asarray(df, dtype=float), estimate.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        statistic = estimate / std_error
    use_t = np.isfinite(dof)
    safe = np.where(use_t, dof, 1.0)
    p = np.where(use_t, 2 * t.sf(np.abs(statistic), safe), 2 * norm.sf(np.abs(statistic)))
    q = np.where(use_t, t.ppf(0.5 + level / 2, safe), norm.ppf(0.5 + level / 2))
    return frame.assign(
        estimate=estimate,
        std_error=std_error,
        statistic=statistic,
        df=dof,
        p_value=p,
        conf_low=estimate - q * std_error,
        conf_high=estimate + q * std_error,
    )


def lmm_contrast(lmm, matrix: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Linear combinations ``L beta`` of a mixed model's fixed effects, as tidy rows.

    The model layer's one way to a contrast: :meth:`LMMResult.contrast
    <backpain_analysis.mixed.LMMResult.contrast>` with the fit's denominator
    df (Satterthwaite unless the fit asked otherwise), indexed like ``matrix``.

    Parameters
    ----------
    lmm:
        A fitted :class:`~backpain_analysis.mixed.LMMResult`.
    matrix:
        One row per contrast, columns named by fixed-effect terms (absent terms
        count 0); the index is kept.

    Returns
    -------
    DataFrame indexed like ``matrix`` with ``estimate``, ``std_error``,
    ``statistic``, ``df``, ``p_value``, ``conf_low``, ``conf_high``.
    """
    unknown = sorted(set(matrix.columns) - set(lmm.params["term"]))
    if unknown:
        raise ValueError(f"contrast names terms the model does not have: {', '.join(unknown)}")
    out = lmm.contrast(matrix.reset_index(drop=True), level).drop(columns="term")
    out.index = matrix.index
    return out


def resolve_level(level: float, conf_level: float | None) -> float:
    """The confidence level from ``level``, or from the deprecated ``conf_level`` keyword (with a warning)."""
    if conf_level is not None:
        warnings.warn("conf_level is deprecated (kept for one release): use level", DeprecationWarning, stacklevel=3)
        level = conf_level
    return check_level(level)


class FittedCounts:
    """Mixin of the model results: ``n_obs`` and ``n_clients`` from ``self.design``, ``conf_level`` alias of ``self.level``."""

    @property
    def conf_level(self) -> float:
        """Deprecated alias of ``level`` (kept for one release)."""
        return self.level

    @property
    def n_obs(self) -> int:
        return len(self.design)

    @property
    def n_clients(self) -> int:
        return int(self.design["client_id"].nunique())
