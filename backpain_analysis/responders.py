"""Responders: who improved by an amount they would notice, and how fast.

Change from baseline is taken per client on one instrument of the weekly
panel (weekly mean scores):

- **baseline**: the client's first measured week, if it is week 0 or 1
  (``baseline_max_week``); clients first measured later have no baseline
  and are left out (counted in ``attrs["excluded"]``). One measurement, not
  an average, because the minimal important change was defined against a
  single baseline score (Ostelo et al. 2008).
- **follow-up** (the primary definition states it): the last measurement in
  a stated ``window`` of weeks (e.g. ``(10, 12)``), the measurement in one
  stated week (``at_week``), or, when neither is given, the client's last
  measured week after baseline. Clients with no measurement there are
  dropouts for this definition: their share is reported
  (``dropout_share``). At a stated endpoint the rate is inverse probability
  of censoring weighted (:mod:`backpain_analysis.ipcw`), which assumes
  clients are **missing at random given their observed scores** (whether a
  client leaves after a week depends on their change from baseline that
  week, their baseline score and the weeks since baseline, e.g. clients
  who are not improving leave); the complete-case rate, which assumes dropouts would have
  responded like the clients measured, is kept in labelled columns.
- **improvement**: ``baseline - follow-up`` for scales where lower is better
  (pain, disability), ``follow-up - baseline`` for PSFS and other
  higher-is-better scales; positive is better, in the instrument's units.

Three criteria, each only where the instrument defines it
(:mod:`backpain_analysis.instruments`): ``mcid_absolute`` (improvement >= the
absolute MCID: NPRS 2, VAS 15, ODI 10, RMDQ 5, PSFS 2), ``mcid_relative``
(improvement >= 30 % of a positive baseline, Ostelo et al. 2008) and
``recovered`` (follow-up score at or on the good side of the recovery
cut-off: NPRS 0, RMDQ <= 2, Kamper et al. 2010).

Rates come with Wilson score intervals (Wilson 1927; Newcombe 1998, Stat Med
17:857), which keep their coverage near 0 % and 100 % and in small programs.
Time to the first clinically important improvement is estimated by
Kaplan-Meier with the end of a client's measurements (dropout or end of
follow-up) as censoring, by default inverse probability of censoring
weighted under the same assumption (plain Kaplan-Meier kept in ``km_*``
columns); a client's improvement is dated to the week it was first measured
and, by default, counts only when the next measurement confirms it
(sustained improvement), because one noisy score beats a noisy baseline by
the MCID often by chance; :class:`TimeToImprovement` says how often noise
alone would do so given the data's measurement error.

Who responds, with uncertainty: :func:`client_trends` gives each client's
change to an endpoint from the mixed model (fixed slope + the client's
BLUP), shrunken towards the average, with a conditional interval and the
probability that the improvement reaches the MCID.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import norm
from statsmodels.duration.survfunc import SurvfuncRight, survdiff
from statsmodels.stats.proportion import proportion_confint

from backpain_analysis import ipcw
from backpain_analysis.errors import DataError
from backpain_analysis.instruments import Instrument
from backpain_analysis.instruments import outcome_instrument as _resolve
from backpain_analysis.mixed import LMMResult, fit_lmm
from backpain_analysis.tidy import resolve_level

CRITERIA: tuple[str, ...] = ("mcid_absolute", "mcid_relative", "recovered")
"""Responder criteria, in the order tables list them."""

OVERALL: str = "all"
"""``group`` label of the rows that pool every client."""


def outcome_instrument(outcome: str | Instrument) -> Instrument:
    """The outcome's instrument (:func:`backpain_analysis.instruments.outcome_instrument`), which must define an MCID."""
    spec = _resolve(outcome)
    if not _criteria(spec):
        raise DataError(
            f"'{spec.name}' has no minimal important change (it is not a built-in instrument with one): "
            f"declare one with instrument({spec.name!r}, higher_is_better=..., mcid_abs=...) and pass it as outcome"
        )
    return spec


def _criteria(spec: Instrument) -> list[str]:
    available = {
        "mcid_absolute": spec.mcid_abs is not None,
        "mcid_relative": spec.mcid_rel is not None,
        "recovered": spec.recovered_threshold is not None,
    }
    return [c for c in CRITERIA if available[c]]


def baseline_scores(panel: pd.DataFrame, outcome: str, baseline_max_week: int = 1) -> pd.DataFrame:
    """Each client's baseline: the first measured week, when it is week ``baseline_max_week`` or earlier.

    Returns
    -------
    DataFrame indexed by ``client_id`` with ``baseline_week`` (int) and
    ``baseline`` (weekly mean score, instrument units), one row per client
    that has a baseline.
    """
    if outcome not in panel.columns:
        raise DataError(f"no outcome '{outcome}' in this dataset")
    measured = panel.loc[panel[outcome].notna(), ["client_id", "week", outcome]]
    first = measured.sort_values(["client_id", "week"]).groupby("client_id", sort=True).head(1)
    first = first[first["week"] <= baseline_max_week]
    return first.set_index("client_id").rename(columns={"week": "baseline_week", outcome: "baseline"})


def client_changes(
    panel: pd.DataFrame,
    outcome: str | Instrument,
    *,
    at_week: int | None = None,
    window: tuple[int, int] | None = None,
    baseline_max_week: int = 1,
    by: str = "program",
) -> pd.DataFrame:
    """Change from baseline per client and whether it meets each responder criterion.

    Parameters
    ----------
    panel:
        The weekly panel.
    outcome:
        An instrument with an MCID: a built-in name in any case (``nprs``,
        ``vas``, ``odi``, ``rmdq``, ``psfs``) or an
        :class:`~backpain_analysis.instruments.Instrument` declaring one.
    at_week:
        Follow-up week (the endpoint); clients not measured that week are left out.
    window:
        ``(first, last)`` weeks: follow-up is the client's last measurement
        in that window (the primary definition: a stated endpoint window);
        clients not measured in it are left out. ``None`` with ``at_week``
        ``None``: each client's last measured week after baseline.
    baseline_max_week:
        Latest week a first measurement still counts as baseline (default 1).
    by:
        Client covariate to carry along for grouping (kept when present).

    Returns
    -------
    DataFrame, one row per client with a baseline and a follow-up:
    ``client_id``; ``<by>`` when the panel has it; ``baseline_week``,
    ``baseline``, ``followup_week``, ``followup`` (weeks, scores);
    ``change`` (followup - baseline, instrument units); ``improvement``
    (the change signed so that positive is better); one boolean column per
    criterion the instrument defines (``mcid_absolute``, ``mcid_relative``,
    ``recovered``). ``attrs`` holds ``outcome``, ``instrument``,
    ``direction``, ``criteria``, ``baseline``, ``followup`` (the definition in
    words), ``excluded`` (clients measured but without a baseline or a
    follow-up), ``dropout_share`` (share of clients with a baseline but no
    follow-up measurement as defined) and ``missing_assumption``.
    """
    spec = outcome_instrument(outcome)
    outcome = spec.name
    if at_week is not None and window is not None:
        raise ValueError("give at_week or window, not both")
    base = baseline_scores(panel, outcome, baseline_max_week)
    measured = panel.loc[panel[outcome].notna()]
    later = measured[measured["week"] > measured["client_id"].map(base["baseline_week"])]
    if at_week is not None:
        later = later[later["week"] == at_week]
    if window is not None:
        first, last = (int(w) for w in window)
        if first > last:
            raise ValueError(f"window must be (first, last) weeks with first <= last, not {window}")
        later = later[later["week"].between(first, last)]
    follow = later.sort_values(["client_id", "week"]).groupby("client_id", sort=True).tail(1).set_index("client_id")
    out = base.join(follow[["week", outcome]].rename(columns={"week": "followup_week", outcome: "followup"}), how="inner")
    if by in panel.columns:
        out[by] = panel.groupby("client_id", sort=False)[by].first().reindex(out.index)
    out["change"] = out["followup"] - out["baseline"]
    out["improvement"] = spec.improvement(out["baseline"], out["followup"])
    criteria = _criteria(spec)
    for criterion in criteria:
        if criterion == "recovered":
            out[criterion] = spec.is_recovered(out["followup"]).astype(bool)
        else:
            relative = criterion == "mcid_relative"
            out[criterion] = spec.is_important_improvement(out["baseline"], out["followup"], relative=relative).astype(bool)
    out = out.reset_index()
    leading = ["client_id", *([by] if by in out.columns else [])]
    out = out[leading + [c for c in out.columns if c not in leading]]
    n_measured = int(measured["client_id"].nunique())
    if window is not None:
        followup = f"last measurement in weeks {window[0]}-{window[1]}"
    else:
        followup = "last measured week after baseline" if at_week is None else f"week {at_week}"
    out.attrs.update(
        outcome=outcome,
        instrument=spec.name,
        direction=spec.direction,
        criteria=criteria,
        baseline=f"first measured week, if week {baseline_max_week} or earlier",
        followup=followup,
        excluded={"no_baseline": n_measured - len(base), "no_followup": len(base) - len(out)},
        dropout_share=(len(base) - len(out)) / len(base) if len(base) else np.nan,
        missing_assumption="clients without a follow-up measurement are left out: rates assume they would respond like those measured (missing at random)",
    )
    return out


def _groups(frame: pd.DataFrame, by: str | None) -> list[tuple[str, pd.DataFrame]]:
    """(label, rows) for all clients, then for each non-missing value of ``by`` in sorted order."""
    groups = [(OVERALL, frame)]
    if by is not None and by in frame.columns:
        known = frame[frame[by].notna()]
        groups += [(str(value), rows) for value, rows in known.groupby(by, sort=True)]
    return groups


def wilson_interval(successes: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion (statsmodels' ``proportion_confint``)."""
    low, high = proportion_confint(successes, n, alpha=1 - level, method="wilson")
    # Exactly 0 (1) when no (every) client responds; the library leaves rounding error there.
    return (0.0 if successes == 0 else float(low)), (1.0 if successes == n else float(high))


def responder_rates(
    panel: pd.DataFrame,
    outcome: str | Instrument,
    *,
    at_week: int | None = None,
    window: tuple[int, int] | None = None,
    baseline_max_week: int = 1,
    by: str | None = "program",
    level: float = 0.95,
    conf_level: float | None = None,
    missing: str = "ipcw",
) -> pd.DataFrame:
    """Share of clients meeting each responder criterion, overall and by group, with Wilson intervals.

    Parameters are those of :func:`client_changes`; ``by=None`` gives the
    overall rows only. Clients with a missing ``by`` value count in the
    overall rows only. ``missing``: how clients with a baseline but no
    measurement at a stated endpoint (``window`` or ``at_week``) are handled:

    - ``"ipcw"`` (default): inverse probability of censoring weighting
      (:mod:`backpain_analysis.ipcw`), valid when clients are **missing at
      random given their observed scores** (whether a client leaves after a
      week depends on their change from baseline that week, their baseline
      score and the weeks since baseline), e.g. when clients who are not
      improving leave. A
      pooled logistic model of leaving over the weeks before the endpoint
      gives each measured client the weight ``1 / P(still measured at the
      endpoint | their scores)`` (rescaled to mean 1, truncated at 10); the
      rate is the weighted share, its Wilson interval uses Kish's effective
      number of clients (``n_effective``; the uncertainty of the fitted
      weights is ignored). Refused in words (``attrs["notes"]``, the estimate
      NaN) when fewer than 5 clients left or the model separates.
    - ``"complete_case"``: the share among the clients measured, which
      assumes the dropouts would have responded like them (missing
      completely at random).

    Without a stated endpoint follow-up is each client's last measurement,
    nobody is missing and the rate is the plain share.

    Returns
    -------
    DataFrame, one row per group and criterion: ``group`` (``"all"``, then
    each value of ``by``); ``term`` (criterion: ``mcid_absolute``,
    ``mcid_relative``, ``recovered``); ``threshold`` (the rule in words);
    ``n_clients``; ``n_responders``; ``estimate`` (proportion, 0-1);
    ``std_error`` (half the Wilson interval's width over the normal quantile,
    so that it agrees with the interval); ``conf_low``, ``conf_high``
    (Wilson score interval); ``method`` (``"ipcw"`` or ``"complete case"``);
    ``n_effective`` (Kish effective number of clients behind the weighted
    rate; ``n_clients`` for a complete-case rate); ``complete_case_estimate``,
    ``complete_case_conf_low``, ``complete_case_conf_high`` (the unweighted
    share among the clients measured and its Wilson interval, which assumes
    dropouts would respond like them: kept for comparison);
    ``n_dropouts`` (clients of the group with a baseline but no follow-up as
    defined) and ``dropout_share``; ``noise_share`` (the share expected to
    meet the criterion from measurement error alone with no true change, for
    the clients the estimate describes: every client of the group with a
    baseline for a weighted rate, those measured otherwise; measurement
    error = the residual SD of a mixed model of the outcome on week,
    ``attrs["noise_sd"]``): a rate whose interval holds ``noise_share`` is
    no evidence that anyone truly improved. ``attrs``: ``level``
    (``conf_level`` kept for one release), ``method``, ``outcome``,
    ``notes`` (sentences: the missing-data assumption, or why no weighted
    rate is given), ``dropout_model`` (the :class:`~backpain_analysis.ipcw.DropoutModel`
    or ``None``), ``n_truncated`` (weights truncated) and those of
    :func:`client_changes` (``missing_assumption`` updated).
    """
    if missing not in ("ipcw", "complete_case"):
        raise ValueError(f"missing must be 'ipcw' or 'complete_case', not {missing!r}")
    level = resolve_level(level, conf_level)
    conf_level = level
    changes = client_changes(panel, outcome, at_week=at_week, window=window, baseline_max_week=baseline_max_week, by=by or "program")
    spec = outcome_instrument(outcome)
    outcome = spec.name
    base = baseline_scores(panel, outcome, baseline_max_week)
    if by is not None and by in panel.columns:
        base[by] = panel.groupby("client_id", sort=False)[by].first().reindex(base.index)
    base["dropped"] = ~base.index.isin(changes["client_id"])
    if changes.empty:
        raise DataError(f"no client has a baseline (week {baseline_max_week} or earlier) and a later {outcome} score")
    unit = "percentage points" if spec.unit == "%" else spec.unit
    rules = {
        "mcid_absolute": f"improvement >= {spec.mcid_abs:g} {unit}" if spec.mcid_abs is not None else "",
        "mcid_relative": f"improvement >= {100 * spec.mcid_rel:g} % of baseline" if spec.mcid_rel is not None else "",
        "recovered": (
            f"score {'>=' if spec.higher_is_better else '<='} {spec.recovered_threshold:g} at follow-up"
            if spec.recovered_threshold is not None
            else ""
        ),
    }
    rows = []
    z = float(norm.ppf(0.5 + level / 2))
    dropouts = dict(_groups(base, by))
    endpoint = window[0] if window is not None else at_week
    weights, model, n_truncated, notes = _endpoint_weights(panel, spec, base, changes, endpoint, missing)
    weighted = model is not None and model.n_leavers > 0
    noise_sd = _noise_sd(panel, outcome)
    noise = {
        criterion: _noise_crossing(panel, spec, criterion, base, pd.Series(1, index=base.index), seed=0, per_client=True, sd=noise_sd)[1]
        for criterion in changes.attrs["criteria"]
    }
    for label, group in _groups(changes, by):
        n = len(group)
        dropped = int(dropouts[label]["dropped"].sum()) if label in dropouts else 0
        w = weights.reindex(group["client_id"]).to_numpy(float)
        if weighted and model.fitted:
            w, truncated = ipcw.stabilise(w)
            n_truncated += truncated if label == OVERALL else 0
        n_eff = ipcw.kish_effective_n(w) if np.all(np.isfinite(w)) else np.nan
        described = dropouts[label].index if weighted and label in dropouts else group["client_id"]
        for criterion in changes.attrs["criteria"]:
            met = group[criterion].to_numpy(bool)
            k = int(met.sum())
            cc_low, cc_high = wilson_interval(k, n, level)
            if weighted:
                p = float(np.sum(w * met) / np.sum(w)) if np.isfinite(n_eff) else np.nan
                low, high = _weighted_wilson(p, n_eff, level)
            else:
                p, low, high = k / n, cc_low, cc_high
            rows.append(
                {
                    "group": label,
                    "term": criterion,
                    "threshold": rules[criterion],
                    "n_clients": n,
                    "n_responders": k,
                    "estimate": p,
                    "std_error": (high - low) / (2 * z),
                    "conf_low": low,
                    "conf_high": high,
                    "method": "ipcw" if weighted else "complete case",
                    "n_effective": n_eff if weighted else float(n),
                    "complete_case_estimate": k / n,
                    "complete_case_conf_low": cc_low,
                    "complete_case_conf_high": cc_high,
                    "n_dropouts": dropped,
                    "dropout_share": dropped / (n + dropped),
                    "noise_share": float(noise[criterion].reindex(described).mean()),
                }
            )
    rates = pd.DataFrame(rows)
    assumption = ipcw.ASSUMPTION if weighted else changes.attrs["missing_assumption"]
    rates.attrs.update(
        changes.attrs,
        level=level,
        conf_level=level,
        method="inverse probability of censoring weighted share, Wilson interval with Kish's effective n" if weighted else "Wilson score interval",
        noise_sd=noise_sd,
        notes=notes,
        dropout_model=model,
        n_truncated=n_truncated,
        missing_assumption=assumption,
    )
    return rates


def _weighted_wilson(p: float, n_effective: float, level: float) -> tuple[float, float]:
    """Wilson interval of a weighted proportion with Kish's effective n (NaN when either is missing)."""
    if not (np.isfinite(p) and np.isfinite(n_effective) and n_effective > 0):
        return np.nan, np.nan
    low, high = proportion_confint(p * n_effective, n_effective, alpha=1 - level, method="wilson")
    return (0.0 if p <= 0 else float(low)), (1.0 if p >= 1 else float(high))


def _endpoint_weights(
    panel: pd.DataFrame, spec: Instrument, base: pd.DataFrame, changes: pd.DataFrame, endpoint: int | None, missing: str
) -> tuple[pd.Series, ipcw.DropoutModel | None, int, list[str]]:
    """(raw IPCW weight per measured client, dropout model or None, 0, notes) for the endpoint starting at week ``endpoint``.

    At risk of leaving: every measured week from baseline up to the week
    before the endpoint; a client left after their last such week when they
    have no measurement at the endpoint. A measured client's weight is
    ``1 / prod (1 - hazard)`` over their weeks at risk (1 without any).
    """
    ones = pd.Series(1.0, index=changes["client_id"].to_numpy())
    if endpoint is None:
        return ones, None, 0, ["follow-up is each client's last measurement after baseline, so nobody is missing at it"]
    if missing == "complete_case":
        return ones, None, 0, [changes.attrs["missing_assumption"]]
    outcome = spec.name
    rows = panel.loc[panel[outcome].notna() & panel["client_id"].isin(base.index), ["client_id", "week", outcome]]
    rows = rows[(rows["week"] >= rows["client_id"].map(base["baseline_week"])) & (rows["week"] < endpoint)].sort_values(["client_id", "week"])
    baseline = rows["client_id"].map(base["baseline"])
    measured = rows["client_id"].isin(changes["client_id"])
    history = pd.DataFrame(
        {
            "client_id": rows["client_id"].to_numpy(),
            "week": rows["week"].to_numpy(),
            "since": (rows["week"] - rows["client_id"].map(base["baseline_week"])).to_numpy(float),
            "improvement": np.asarray(spec.improvement(baseline, rows[outcome]), dtype=float),
            "baseline": baseline.to_numpy(float),
            "left": (~rows["client_id"].duplicated(keep="last") & ~measured).to_numpy(),
        }
    )
    model = ipcw.fit_dropout_model(history, f"left before week {endpoint}")
    if model.refusal is not None:
        return pd.Series(np.nan, index=ones.index), model, 0, [model.refusal + "; the complete-case share is in the complete_case_* columns"]
    if model.n_leavers == 0:
        return ones, model, 0, [f"no client left before week {endpoint}: no weighting needed"]
    raw = ipcw.inverse_probability_weights(model)
    last = raw.groupby(model.rows["client_id"].to_numpy(), sort=False).last()
    return last.reindex(ones.index).fillna(1.0), model, 0, [ipcw.ASSUMPTION]


@dataclass
class TimeToImprovement:
    """Kaplan-Meier estimate of the time to the first clinically important improvement.

    Attributes
    ----------
    curves:
        One row per group and time (weeks since baseline; a row at time 0,
        then one per week with an event): ``group``, ``time``,
        ``n_at_risk``, ``n_events`` (counts of clients), ``estimate``
        (cumulative share improved by that week, ``1 - S(t)``; inverse
        probability of censoring weighted by default, NaN when the dropout
        model was refused), ``std_error`` (Xie & Liu's weighted Greenwood;
        Greenwood for ``censoring="independent"``), ``conf_low``,
        ``conf_high`` (pointwise, log-log transform of S); with
        ``censoring="ipcw"`` also ``km_estimate``, ``km_std_error``,
        ``km_conf_low``, ``km_conf_high``: the plain Kaplan-Meier, which
        assumes censoring unrelated to improving. A step function: hold
        each value until the next time.
    medians:
        One row per group: ``group``, ``n_clients``, ``n_events``,
        ``estimate`` (median weeks to improvement), ``conf_low``,
        ``conf_high`` (from the pointwise log-log band, as R's survfit;
        Brookmeyer-Crowley via statsmodels for ``censoring="independent"``);
        NaN where the curve never reaches 50 % within follow-up (or the
        limit is not reached).
    logrank:
        Log-rank test of equal curves across groups: one row with ``term``
        (``"logrank"``), ``statistic`` (chi-square), ``df``, ``p_value``;
        empty with fewer than two groups.
    clients:
        Per client: ``client_id``, group column, ``time`` (weeks since
        baseline), ``event`` (1 improved, 0 censored).
    notes:
        ``time``, ``censoring``, ``event`` (the rule in words), ``noise_sd``
        (the measurement error used: the residual SD of a mixed model of the
        outcome on week with random intercept and slope, instrument units),
        ``noise_event_share`` (share of these clients, with their own
        measurement schedules, who would have an event from measurement
        error alone, with no true change, under the rule used) and
        ``noise_event_share_unconfirmed`` (the same for a single
        unconfirmed score), ``noise_curve_end`` (the end of the curve that
        measurement error alone gives on these clients' schedules and
        censoring: the reference for the curve, which estimates the share
        over the whole follow-up), ``missing_assumption`` (in words),
        ``dropout_model`` (the :class:`~backpain_analysis.ipcw.DropoutModel`,
        with ``censoring="ipcw"``) and ``refusal`` (a sentence, only when the
        dropout model was refused).
    """

    outcome: str
    criterion: str
    level: float
    curves: pd.DataFrame
    medians: pd.DataFrame
    logrank: pd.DataFrame
    clients: pd.DataFrame
    notes: dict = field(default_factory=dict)

    @property
    def conf_level(self) -> float:
        """Deprecated alias of :attr:`level` (kept for one release)."""
        return self.level

    def summary(self) -> pd.DataFrame:
        """``medians`` indexed by group, for display (a method returning a DataFrame)."""
        return self.medians.set_index("group")


def _loglog_band(surv: np.ndarray, se: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise interval for S(t) on the log(-log S) scale (Kalbfleisch & Prentice; R's ``conf.type="log-log"``)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        half = z * se / np.abs(surv * np.log(surv))
        low = surv ** np.exp(half)
        high = surv ** np.exp(-half)
    defined = (surv > 0) & (surv < 1)
    return np.where(defined, low, surv), np.where(defined, high, surv)


def _kaplan_meier(label: str, rows: pd.DataFrame, z: float, alpha: float) -> tuple[pd.DataFrame, dict]:
    time = rows["time"].to_numpy(float)
    event = rows["event"].to_numpy(int)
    start = {"group": label, "time": 0.0, "n_at_risk": len(rows), "n_events": 0, "estimate": 0.0, "std_error": 0.0, "conf_low": 0.0, "conf_high": 0.0}
    median = {"group": label, "n_clients": len(rows), "n_events": int(event.sum()), "estimate": np.nan, "conf_low": np.nan, "conf_high": np.nan}
    if event.sum() == 0:
        return pd.DataFrame([start]), median
    fit = SurvfuncRight(time, event)
    surv, se = fit.surv_prob, fit.surv_prob_se
    low, high = _loglog_band(surv, se, z)
    curve = pd.DataFrame(
        {
            "group": label,
            "time": fit.surv_times.astype(float),
            "n_at_risk": fit.n_risk.astype(int),
            "n_events": fit.n_events.astype(int),
            "estimate": 1 - surv,
            "std_error": se,
            "conf_low": 1 - high,
            "conf_high": 1 - low,
        }
    )
    if surv.min() <= 0.5:
        median["estimate"] = float(fit.quantile(0.5))
        with np.errstate(divide="ignore", invalid="ignore"):
            limits = fit.quantile_ci(0.5, alpha=alpha, method="cloglog")
        median["conf_low"], median["conf_high"] = (float(v) if np.isfinite(v) else np.nan for v in limits)
    return pd.concat([pd.DataFrame([start]), curve], ignore_index=True), median


def time_to_improvement(
    panel: pd.DataFrame,
    outcome: str | Instrument,
    *,
    criterion: str = "mcid_absolute",
    baseline_max_week: int = 1,
    by: str | None = "program",
    confirm: bool = True,
    censoring: str = "ipcw",
    level: float = 0.95,
    conf_level: float | None = None,
    seed: int = 0,
) -> TimeToImprovement:
    """Kaplan-Meier time from baseline to the first sustained week meeting a responder criterion.

    Event: the first measured week after baseline whose score meets
    ``criterion`` against the client's baseline (``mcid_absolute`` or
    ``mcid_relative``; ``recovered``: the score reaches the recovery
    cut-off) and, with ``confirm`` (default), whose next measurement meets
    it too (sustained improvement). Censoring: the client's last measured
    week, or with ``confirm`` the last week whose improvement could still be
    confirmed (the one before the last measurement). Time in weeks since the
    baseline week.

    ``censoring``: ``"ipcw"`` (default) weights each client at risk by the
    inverse probability of still being measured, from a pooled logistic
    model of leaving after a measured week given the change from baseline
    that week, the baseline score and the weeks since baseline
    (:mod:`backpain_analysis.ipcw`): valid
    when clients are **missing at random given their observed scores**
    (e.g. clients who are not improving leave), with weights rescaled to
    mean 1 in each risk set and truncated at 10, and Xie & Liu's (2005)
    variance. Refused in words (``notes["refusal"]``, estimates NaN; the
    unweighted curve stays in the ``km_*`` columns) when fewer than 5
    clients left before the last week or the model separates.
    ``"independent"``: plain Kaplan-Meier, censoring assumed unrelated to
    the chance of improving (non-informative).

    Parameters
    ----------
    panel, outcome, baseline_max_week:
        As in :func:`client_changes`.
    criterion:
        One of :data:`CRITERIA` that the instrument defines.
    by:
        Client covariate giving the groups (``None``: overall only).
    confirm:
        Require the next measurement to confirm the improvement.
    censoring:
        ``"ipcw"`` or ``"independent"`` (above).
    level:
        Level of the pointwise and median intervals (``conf_level``: deprecated alias).
    seed:
        Seed of the simulation behind ``notes["noise_event_share"]``.

    Returns
    -------
    :class:`TimeToImprovement`
    """
    level = resolve_level(level, conf_level)
    conf_level = level
    if censoring not in ("ipcw", "independent"):
        raise ValueError(f"censoring must be 'ipcw' or 'independent', not {censoring!r}")
    spec = outcome_instrument(outcome)
    outcome = spec.name
    if criterion not in _criteria(spec):
        raise DataError(f"{outcome} has no '{criterion}' criterion; choose one of {', '.join(_criteria(spec))}")
    base = baseline_scores(panel, outcome, baseline_max_week)
    rows = panel.loc[panel[outcome].notna() & panel["client_id"].isin(base.index), ["client_id", "week", outcome]]
    rows = rows[rows["week"] > rows["client_id"].map(base["baseline_week"])]
    if rows.empty:
        raise DataError(f"no client has a baseline (week {baseline_max_week} or earlier) and a later {outcome} score")
    baseline = rows["client_id"].map(base["baseline"])
    if criterion == "recovered":
        met = spec.is_recovered(rows[outcome])
    else:
        met = spec.is_important_improvement(baseline, rows[outcome], relative=criterion == "mcid_relative")
    rows = rows.assign(
        met=np.asarray(met, dtype=bool),
        since=rows["week"] - rows["client_id"].map(base["baseline_week"]),
        improvement=np.asarray(spec.improvement(baseline, rows[outcome]), dtype=float),
        baseline=baseline,
    )
    rows = rows.sort_values(["client_id", "week"])
    if confirm:
        following = rows.groupby("client_id", sort=False)["met"].shift(-1).astype("boolean").fillna(False).astype(bool)
        rows = rows.assign(met=rows["met"] & following.to_numpy())
    per_client = rows.groupby("client_id", sort=True)
    first_event = rows[rows["met"]].groupby("client_id")["since"].min()
    last_seen = per_client["since"].max()
    # with confirmation, an improvement in the last measured week cannot be seen: censor at the week before it
    censored_at = per_client["since"].agg(lambda since: since.iloc[-2] if len(since) > 1 else 0) if confirm else last_seen
    clients = pd.DataFrame({"time": first_event.reindex(last_seen.index).fillna(censored_at), "event": last_seen.index.isin(first_event.index).astype(int)})
    group_column = by if by is not None and by in panel.columns else None
    if group_column is not None:
        clients[group_column] = panel.groupby("client_id")[group_column].first().reindex(clients.index)
    weights_at, model = (None, None)
    if censoring == "ipcw":
        weights_at, model = _censoring_weights(rows, int(panel.loc[panel[outcome].notna(), "week"].max()), confirm, clients.index)
    clients = clients.reset_index()
    z = float(norm.ppf(0.5 + level / 2))
    curves, medians = [], []
    for label, group in _groups(clients, group_column):
        curve, median = _kaplan_meier(label, group, z, 1 - level)
        if censoring == "ipcw":
            curve, median = _weighted_curve(curve, median, group, weights_at, z, model is not None and model.fitted)
        curves.append(curve)
        medians.append(median)
    logrank = pd.DataFrame(columns=["term", "statistic", "df", "p_value"])
    if group_column is not None:
        known = clients[clients[group_column].notna()]
        n_groups = known[group_column].nunique()
        if n_groups >= 2 and known["event"].sum() > 0:
            chi2, p = survdiff(known["time"].to_numpy(float), known["event"].to_numpy(int), known[group_column].astype(str).to_numpy())
            logrank = pd.DataFrame([{"term": "logrank", "statistic": float(chi2), "df": n_groups - 1, "p_value": float(p)}])
    noise_sd, unconfirmed, confirmed = _noise_crossing(panel, spec, criterion, base, per_client.size(), seed)
    noise_curve = _noise_curve_end(rows, spec, criterion, base, noise_sd, confirm, seed)
    rule = "a score meeting the criterion, confirmed by the next measurement" if confirm else "the first score meeting the criterion"
    notes = {
        "time": "weeks since the baseline week",
        "censoring": "last week an improvement could still be confirmed (the one before the last measurement)" if confirm else "last measured week",
        "event": rule,
        "noise_sd": noise_sd,
        "noise_event_share": confirmed if confirm else unconfirmed,
        "noise_event_share_unconfirmed": unconfirmed,
        "noise_curve_end": noise_curve,
    }
    if censoring == "ipcw":
        if model.refusal is not None:
            notes["refusal"] = model.refusal + "; the Kaplan-Meier curve that assumes non-informative censoring is in the km_* columns"
            notes["missing_assumption"] = "no correction for informative dropout: " + model.refusal
        elif model.n_leavers == 0:
            notes["missing_assumption"] = "no client left before the last week: no weighting needed"
        else:
            notes["missing_assumption"] = ipcw.ASSUMPTION
        notes["dropout_model"] = model
    else:
        notes["missing_assumption"] = "censoring assumed non-informative (unrelated to the chance of improving soon)"
    return TimeToImprovement(
        outcome=outcome,
        criterion=criterion,
        level=level,
        curves=pd.concat(curves, ignore_index=True),
        medians=pd.DataFrame(medians),
        logrank=logrank,
        clients=clients,
        notes=notes,
    )


def _censoring_weights(rows: pd.DataFrame, last_week: int, confirm: bool, clients: pd.Index) -> tuple[dict, ipcw.DropoutModel]:
    """Per client: (times since baseline, cumulative raw IPCW weight after each), and the dropout model.

    At risk of leaving: every follow-up week before ``last_week`` (the last
    week anybody was measured); a client left after their last measured
    week when it is before ``last_week``.
    """
    history = rows.loc[rows["week"] < last_week, ["client_id", "week", "since", "improvement", "baseline"]].copy()
    history["left"] = (~history["client_id"].duplicated(keep="last")) & history["client_id"].map(rows.groupby("client_id")["week"].max()).lt(last_week)
    model = ipcw.fit_dropout_model(history.reset_index(drop=True), f"stopped being measured before week {last_week}")
    raw = ipcw.inverse_probability_weights(model)
    steps = {}
    for client, members in model.rows.groupby("client_id", sort=False).indices.items():
        steps[client] = (model.rows["since"].to_numpy(float)[members], raw.to_numpy(float)[members], confirm)
    return {client: steps.get(client) for client in clients}, model


def _weights_at(steps: tuple | None, times: np.ndarray) -> np.ndarray:
    """A client's raw weight when at risk at each of ``times`` (1 before any week at risk of leaving)."""
    if steps is None:
        return np.ones(len(times))
    since, cumulative, confirm = steps
    position = np.searchsorted(since, times, side="right" if confirm else "left") - 1
    return np.where(position >= 0, cumulative[np.clip(position, 0, None)], 1.0)


def _weighted_curve(curve: pd.DataFrame, median: dict, rows: pd.DataFrame, weights_at: dict, z: float, fitted: bool) -> tuple[pd.DataFrame, dict]:
    """The IPCW curve and median of one group, the plain Kaplan-Meier kept in ``km_*`` columns (NaN estimates when refused)."""
    curve = curve.rename(columns={"estimate": "km_estimate", "std_error": "km_std_error", "conf_low": "km_conf_low", "conf_high": "km_conf_high"})
    times = curve["time"].to_numpy(float)[1:]
    median = dict(median, estimate=np.nan, conf_low=np.nan, conf_high=np.nan)
    estimate = np.zeros(len(curve))
    std_error, low, high = estimate.copy(), estimate.copy(), estimate.copy()
    if not fitted:
        estimate[1:] = std_error[1:] = low[1:] = high[1:] = np.nan
    elif len(times):
        time, event = rows["time"].to_numpy(float), rows["event"].to_numpy(int)
        raw = np.vstack([_weights_at(weights_at[c], times) for c in rows["client_id"]])
        at_risk = time[:, None] >= times[None, :]
        scaled = np.empty_like(raw)
        for j in range(len(times)):  # rescale to mean 1 and truncate within each risk set
            scaled[at_risk[:, j], j], _ = ipcw.stabilise(raw[at_risk[:, j], j])
        scaled[~at_risk] = 0.0
        km = ipcw.weighted_kaplan_meier(time, event, scaled, times)
        band_low, band_high = _loglog_band(km["survival"].to_numpy(), km["std_error"].to_numpy(), z)
        estimate[1:], std_error[1:] = 1 - km["survival"].to_numpy(), km["std_error"].to_numpy()
        low[1:], high[1:] = 1 - band_high, 1 - band_low
        median.update(_median_from_band(curve["time"].to_numpy(float), estimate, low, high))
    curve = curve.assign(estimate=estimate, std_error=std_error, conf_low=low, conf_high=high)
    first = ["group", "time", "n_at_risk", "n_events", "estimate", "std_error", "conf_low", "conf_high"]
    return curve[first + [c for c in curve.columns if c not in first]], median


def _median_from_band(time: np.ndarray, estimate: np.ndarray, low: np.ndarray, high: np.ndarray) -> dict:
    """Median time (first time the cumulative share reaches 0.5) and its limits from the pointwise band (as R's survfit)."""

    def first(values: np.ndarray) -> float:
        reached = np.flatnonzero(values >= 0.5 - 1e-12)
        return float(time[reached[0]]) if len(reached) else np.nan

    return {"estimate": first(estimate), "conf_low": first(high), "conf_high": first(low)}


def _noise_sd(panel: pd.DataFrame, outcome: str) -> float:
    """Residual SD of ``outcome ~ week`` with random intercept and slope per client (NaN when it cannot be fitted)."""
    rows = panel.loc[panel[outcome].notna(), ["client_id", "week", outcome]]
    try:
        fit = fit_lmm(rows, f"{outcome} ~ week", groups="client_id", re_formula="~ week")
    except (DataError, ValueError, np.linalg.LinAlgError):
        return float("nan")
    return float(np.sqrt(fit.scale))


def _noise_crossing(
    panel: pd.DataFrame,
    spec: Instrument,
    criterion: str,
    base: pd.DataFrame,
    n_followups: pd.Series,
    seed: int,
    draws: int = 200,
    per_client: bool = False,
    sd: float | None = None,
):
    """(noise SD, share of clients with an unconfirmed / a confirmed event from noise alone).

    With ``per_client``: (noise SD, per-client probability of an unconfirmed
    event as a Series indexed like ``n_followups``). ``sd``: the noise SD
    when already known (else :func:`_noise_sd`).

    Each client keeps their baseline score as the true level and their own
    number of follow-up measurements; every measurement (baseline included)
    gets independent N(0, noise SD^2) error and no true change. Recovery
    criteria are judged on the same simulated scores.
    """
    sd = _noise_sd(panel, spec.name) if sd is None else sd
    if not np.isfinite(sd) or n_followups.empty:
        return (sd, pd.Series(np.nan, index=n_followups.index)) if per_client else (sd, float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    truth = base["baseline"].reindex(n_followups.index).to_numpy(float)
    k_max = int(n_followups.max())
    counts = n_followups.to_numpy()
    met = _noise_met(spec, criterion, truth, sd, k_max, draws, rng)
    met &= np.arange(k_max)[None, None, :] < counts[None, :, None]
    if per_client:
        return sd, pd.Series(met.any(axis=2).mean(axis=0), index=n_followups.index)
    confirmed = met[:, :, :-1] & met[:, :, 1:] if k_max > 1 else np.zeros_like(met[:, :, :0])
    return sd, float(met.any(axis=2).mean()), float(confirmed.any(axis=2).mean())


def _noise_met(spec: Instrument, criterion: str, truth: np.ndarray, sd: float, k_max: int, draws: int, rng: np.random.Generator) -> np.ndarray:
    """Whether each of ``k_max`` noise-only follow-up scores meets ``criterion`` (draws x clients x k_max).

    True levels ``truth`` (each client's baseline score); the baseline and
    every follow-up score get independent N(0, ``sd``^2) error.
    """
    baseline = truth[None, :] + sd * rng.standard_normal((draws, len(truth)))
    scores = truth[None, :, None] + sd * rng.standard_normal((draws, len(truth), k_max))
    if criterion == "recovered":
        return np.asarray(spec.is_recovered(scores.ravel())).reshape(scores.shape)
    b = np.broadcast_to(baseline[:, :, None], scores.shape).ravel()
    return np.asarray(spec.is_important_improvement(b, scores.ravel(), relative=criterion == "mcid_relative")).reshape(scores.shape)


def _noise_curve_end(
    rows: pd.DataFrame, spec: Instrument, criterion: str, base: pd.DataFrame, sd: float, confirm: bool, seed: int, draws: int = 200
) -> float:
    """What the Kaplan-Meier curve would show at its end from measurement error alone, on these clients' schedules.

    Each client keeps their baseline score as the true level, their own
    measured weeks and their own censoring; every score gets independent
    N(0, ``sd``^2) error and no true change; events and censoring follow
    :func:`time_to_improvement`'s rule. Censoring is unrelated to the
    simulated noise, so the plain Kaplan-Meier of each draw estimates the
    noise-alone cumulative share over the whole follow-up (the quantity the
    curve estimates; ``noise_event_share`` instead counts events within each
    client's own, possibly shortened, follow-up). Mean over ``draws``.
    """
    if not np.isfinite(sd) or rows.empty:
        return float("nan")
    rng = np.random.default_rng(seed)
    clients = rows.groupby("client_id", sort=True)["since"].agg(list)
    counts = clients.map(len).to_numpy()
    k_max = int(counts.max())
    since = np.full((len(clients), k_max), np.inf)
    for i, weeks in enumerate(clients):
        since[i, : len(weeks)] = weeks
    truth = base["baseline"].reindex(clients.index).to_numpy(float)
    valid = np.arange(k_max)[None, :] < counts[:, None]
    last_time = np.where(confirm & (counts > 1), since[np.arange(len(counts)), np.maximum(counts - 2, 0)], 0.0) if confirm else since[np.arange(len(counts)), counts - 1]
    met = _noise_met(spec, criterion, truth, sd, k_max, draws, rng)
    met &= valid[None, :, :]
    if confirm:
        met = met & np.concatenate([met[:, :, 1:], np.zeros(met.shape[:2] + (1,), dtype=bool)], axis=2)
    event = met.any(axis=2)
    time = np.where(event, np.take_along_axis(np.broadcast_to(since, met.shape), met.argmax(axis=2)[:, :, None], axis=2)[:, :, 0], last_time[None, :])
    grid = np.unique(since[np.isfinite(since)])
    at_risk = (time[:, :, None] >= grid[None, None, :]).sum(axis=1)
    events = ((time[:, :, None] == grid[None, None, :]) & event[:, :, None]).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        hazard = np.where(at_risk > 0, events / at_risk, 0.0)
    return float(np.mean(1.0 - np.prod(1.0 - hazard, axis=1)))


def _prediction_errors(rows: pd.DataFrame, fit: LMMResult, clients: pd.Index) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Prediction-error structure of ``y ~ week`` with random intercept and slope (Henderson's equations).

    Returns ``Cov(b_hat)`` (2 x 2), ``B_i = G Z_i' V_i^-1 X_i`` per client
    (n x 2 x 2: how the error of the fixed effects moves each client's
    BLUP) and ``G - G Z_i' V_i^-1 Z_i G`` per client (n x 2 x 2: the error
    of the BLUP given the fixed effects), for ``clients`` in that order.
    Works with a singular ``G`` (a random-effect SD of 0).
    """
    cov_re = fit.cov_re().loc[["Intercept", "week"], ["Intercept", "week"]].to_numpy(float)
    design = np.column_stack([np.ones(len(rows)), rows["week"].to_numpy(float)])
    codes = clients.get_indexer(rows["client_id"])
    shrink = np.empty((len(clients), 2, 2))
    cov_own = np.empty((len(clients), 2, 2))
    information = np.zeros((2, 2))
    members = pd.Series(np.arange(len(rows))).groupby(codes).indices
    for j in range(len(clients)):
        x = design[members[j]]
        v = x @ cov_re @ x.T + fit.scale * np.eye(len(x))
        v_inv_x = np.linalg.solve(v, x)
        information += x.T @ v_inv_x
        shrink[j] = cov_re @ x.T @ v_inv_x
        cov_own[j] = cov_re - shrink[j] @ cov_re
    return np.linalg.inv(information), shrink, cov_own


def client_trends(
    panel: pd.DataFrame,
    outcome: str | Instrument,
    endpoint: int,
    *,
    level: float = 0.95,
    engine: str = "auto",
    n_draws: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """Each client's change to week ``endpoint`` from the mixed model: a shrunken estimate with its uncertainty.

    Model: ``y_it = b0 + b1 week + u0_i + u1_i week + e_it`` (REML). A
    client's change from week 0 to ``endpoint`` is ``(b1 + u1_i) endpoint``
    with ``u1_i`` the client's BLUP. Its uncertainty is the prediction error
    of ``b1 + u1_i`` from Henderson's mixed-model equations (given the
    estimated variance components, whose own uncertainty is ignored): the
    BLUP is shrunk towards the estimated ``b1``, so its error moves against
    the error of ``b1`` (``u_i - u_i_hat = (E[u_i | y] - u_i) - B_i (b_hat -
    b)``, ``B_i = G Z_i' V_i^-1 X_i``), and a client with many scores has
    little of the fixed slope's uncertainty left in their own change (adding
    ``Var(b1)`` to lme4's ``condVar`` instead made the share interval cover
    97-98.6 %). Clients with few or noisy scores are pulled towards the
    average change, so "who responds" is not decided by one noisy score.

    Returns
    -------
    DataFrame, one row per client: ``client_id``, ``n_scores``, ``estimate``
    (change to ``endpoint``, instrument units), ``std_error`` (prediction
    error SD), ``conf_low``, ``conf_high`` (normal), ``improvement``,
    ``improvement_low``, ``improvement_high`` (signed, positive = better),
    ``prob_important`` (probability that the improvement reaches the
    absolute MCID, normal approximation; NaN without one). ``attrs``:
    ``instrument``, ``direction``, ``level``, ``endpoint``,
    ``share_likely_important`` (mean of ``prob_important``: the expected
    share of clients improving by the MCID) and ``share_conf_low``,
    ``share_conf_high``: an interval for the share of these clients whose
    true change reaches the MCID, from ``n_draws`` joint draws of the
    prediction errors of the fixed effects and of every client's random
    effects (correlated through the fixed effects as above).
    """
    level = resolve_level(level, None)
    spec = _resolve(outcome)
    rows = panel.loc[panel[spec.name].notna(), ["client_id", "week", spec.name]]
    fit = fit_lmm(rows, f"{spec.name} ~ week", groups="client_id", re_formula="~ week", engine=engine)
    slope = fit.params.set_index("term").loc["week"]
    blup = fit.random_effects.pivot(index="level", columns="term", values="estimate")[["Intercept", "week"]]
    cov_fixed, shrink, cov_own = _prediction_errors(rows, fit, blup.index)
    own_error = cov_own[:, 1, 1] + np.einsum("ij,jk,ik->i", np.eye(2)[1] - shrink[:, 1, :], cov_fixed, np.eye(2)[1] - shrink[:, 1, :])
    estimate = (slope["estimate"] + blup["week"]) * endpoint
    se = np.sqrt(own_error) * abs(endpoint)
    z = float(norm.ppf(0.5 + level / 2))
    table = pd.DataFrame(
        {
            "client_id": blup.index.to_numpy(),
            "n_scores": rows.groupby("client_id").size().reindex(blup.index).to_numpy(),
            "estimate": estimate.to_numpy(float),
            "std_error": se,
        }
    )
    table = spec.with_improvement(table.assign(conf_low=table["estimate"] - z * table["std_error"], conf_high=table["estimate"] + z * table["std_error"]))
    if spec.mcid_abs is not None:
        with np.errstate(divide="ignore", invalid="ignore"):
            table["prob_important"] = norm.sf((spec.mcid_abs - table["improvement"]) / table["std_error"])
        table.loc[table["std_error"] <= 0, "prob_important"] = (table["improvement"] >= spec.mcid_abs - 1e-12).astype(float)
    else:
        table["prob_important"] = np.nan
    low = high = np.nan
    if spec.mcid_abs is not None:
        rng = np.random.default_rng(seed)
        fixed_error = rng.multivariate_normal(np.zeros(2), cov_fixed, size=n_draws, method="eigh")
        own_chol = np.sqrt(np.clip(cov_own[:, 1, 1], 0.0, None))
        own_error = -(fixed_error @ shrink[:, 1, :].T) + own_chol[None, :] * rng.standard_normal((n_draws, len(blup)))
        true_slope = slope["estimate"] + blup["week"].to_numpy(float)[None, :] + fixed_error[:, [1]] + own_error
        shares = (spec.sign * true_slope * endpoint >= spec.mcid_abs - 1e-12).mean(axis=1)
        low, high = (float(v) for v in np.quantile(shares, [(1 - level) / 2, (1 + level) / 2]))
    table.attrs.update(
        level=level,
        endpoint=endpoint,
        share_likely_important=float(table["prob_important"].mean()),
        share_conf_low=low,
        share_conf_high=high,
    )
    return table
