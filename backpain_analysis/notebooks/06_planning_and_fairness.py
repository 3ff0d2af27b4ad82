# %% [markdown]
# # 6. Planning a study, comparing coaches fairly, and what dropout could hide
#
# Three questions beyond "does strength training help?":
#
# 1. **How many clients would a study need** to detect the within-client
#    effects of notebook 4 reliably? We simulate many studies like this one
#    (its fitted effects, variance, training patterns and dropout) and count
#    how often `backpain fit` detects each effect at the 5 % level: the power.
# 2. **Which coach or studio does better, fairly?** Each client's improvement
#    is compared with what a case-mix model (baseline score, weeks followed,
#    age, sex) expects for a client like them; a funnel plot shows which
#    differences are beyond chance. Raw averages reward whoever has the
#    easiest clients.
# 3. **What if clients who stopped reporting were doing worse?** We fill in
#    their unreported weeks by multiple imputation, make them worse by delta
#    points, and find the delta at which the strength conclusion would no
#    longer hold (a tipping point).
#
# Methods, assumptions and references: `docs/planning.md`.

# %% tags=["parameters"]
data_path = "../data/sample"  # dataset folder (sessions, outcomes, optional clients and catalog)
out_dir = "../out"  # where figures/ and tables/ are written
real_ids = False  # True shows real client keys instead of pseudonyms

# %%
import numpy as np
from IPython.display import Markdown, display

from backpain_analysis.dropout_sensitivity import tipping_point
from backpain_analysis.figures import save_table
from backpain_analysis.figures import planning as planning_figures
from backpain_analysis.figures.style import outcome_short, outcome_unit
from backpain_analysis.power import PowerScenario, power_curve
from backpain_analysis.provider_comparison import PROVIDERS, compare_providers
from backpain_analysis.notebook import Attempts, notebook_inputs, show_figure

POWER_SIMS = 20  # studies per size here; `backpain power --sims 1000` for precise numbers
IMPUTATIONS = 4
DELTAS = (0.0, 1.0, 2.0, 4.0)

inputs = notebook_inputs(data_path, real_ids)
panel, outcome = inputs.panel, inputs.primary
attempt = Attempts()
scenario = attempt("power scenario", PowerScenario.from_fit, panel, outcome) if outcome else None
n_clients = int(panel["client_id"].nunique())
followed = panel.groupby("client_id")["week"].max() + 1
weeks = int(np.clip(followed.median(), 4, 26)) if len(followed) else 12  # simulated study length
sizes = sorted({max(10, 10 * round(n_clients * f / 10)) for f in (0.5, 1.0, 2.0)})
power = attempt("power", power_curve, sizes, weeks, POWER_SIMS, 1, scenario) if scenario is not None else None
providers = [by for by in PROVIDERS if by in panel.columns and panel[by].dropna().nunique() >= 2]
comparisons = {by: attempt(f"{by} comparison", compare_providers, panel, outcome, by) for by in providers} if outcome else {}
comparisons = {by: c for by, c in comparisons.items() if c is not None}
tipping = attempt("tipping point", tipping_point, panel, outcome, deltas=DELTAS, m=IMPUTATIONS, seed=1) if outcome else None

# %%
lines = ["**In short.**"]
if outcome is None:
    lines.append("No pain or disability instrument was measured, so none of these questions can be answered.")
if power is not None:
    needed = power.clients_needed(0.8).set_index("term")["clients"]
    strength = needed.get("strength_sets_within", np.nan)
    lines.append(
        f"With effects like this dataset's, a {weeks}-week study detects the within-client strength effect with 80 % power "
        + (
            f"already at {sizes[0]} clients, the smallest size simulated."
            if strength == sizes[0]
            else f"from about {int(strength)} clients (sizes simulated: {', '.join(map(str, sizes))})."
            if np.isfinite(strength)
            else f"at none of the sizes simulated ({', '.join(map(str, sizes))} clients)."
        )
    )
for by, comparison in comparisons.items():
    lines.append(comparison.sentence())
if not providers:
    lines.append("The clients table has no coach or studio with two or more values, so no providers are compared.")
if tipping is not None:
    lines.append(tipping.sentence())
display(Markdown(" ".join(lines)))

# %% [markdown]
# ## How many clients? Power by simulation
#
# Each simulated study copies this dataset's fitted model: its effects per
# set and per minute, the spread between clients and from week to week, how
# much clients train, how many weeks have a score and how many clients stop
# early. The line is the share of studies in which `backpain fit` found the
# effect (p < 0.05, two-sided); the band is the 95 % Monte Carlo interval,
# wide here because only a few studies per size are simulated (run
# `backpain power --from DATA --outcome ... --sims 1000` for precise numbers).
# An effect of about zero is detected about 5 % of the time whatever the size.

# %%
if power is None:
    display(Markdown("Power is not simulated: see the note at the end."))
else:
    display(
        save_table(
            power.table,
            "power_by_clients",
            f"Simulated power of the volume model of {outcome_short(outcome)} per number of clients ({weeks} weeks, "
            f"{POWER_SIMS} studies per size, Wilson 95 % Monte Carlo intervals).",
            out_dir,
        )
    )
    display(
        show_figure(
            planning_figures.plot_power_curve(power),
            "power_curve",
            f"Share of {POWER_SIMS} simulated {weeks}-week studies per size in which each within-client effect on "
            f"{outcome_short(outcome)} was detected at the 5 % level, with 95 % Monte Carlo bands; dashed line 80 %, "
            "dotted line 5 %.",
            out_dir,
        )
    )

# %% [markdown]
# ## Coaches and studios, adjusted for case mix
#
# For each client: the improvement from baseline to the last score (positive
# = better) and the improvement expected for a client with the same baseline,
# weeks of follow-up, age and sex, from a model fitted over all clients
# without the coach or studio. A coach's *observed minus expected* is the
# mean of their clients' differences. The funnel's lines are where a coach
# would fall by chance 95 % and 99.8 % of the time given their number of
# clients, widened when coaches differ more than chance allows
# (Spiegelhalter 2005); coaches outside the 95 % lines are flagged, but never
# a coach with fewer than 5 clients. The *shrunken* estimate pulls each coach
# towards the chain in proportion to how little their own clients tell us.

# %%
if not comparisons:
    display(Markdown("No coach or studio comparison: " + ("no coach or studio column with two or more values." if not providers else "see the note at the end.")))
for by, comparison in comparisons.items():
    display(
        save_table(
            comparison.table,
            f"{by}_observed_expected",
            f"Per {by}: raw mean improvement in {outcome_short(outcome)}, case-mix expected, observed minus expected "
            f"(t 95 % CI), funnel limits, shrunken estimate and flag.",
            out_dir,
        )
    )
    display(
        show_figure(
            planning_figures.plot_funnel(comparison),
            f"{by}_funnel",
            f"Observed minus case-mix-expected improvement in {outcome_short(outcome)} ({outcome_unit(outcome)}, positive = "
            f"better) per {by} against its number of clients, with 95 % and 99.8 % control limits adjusted for overdispersion.",
            out_dir,
        )
    )
    display(
        show_figure(
            planning_figures.plot_raw_vs_adjusted(comparison),
            f"{by}_raw_vs_adjusted",
            f"Per {by}: raw mean improvement (relative to the chain), case-mix-adjusted observed minus expected with "
            f"95 % CI (hollow, without an interval, for a {by} with fewer than {comparison.min_clients} clients), and the "
            "shrunken estimate.",
            out_dir,
        )
    )

# %% [markdown]
# ## What dropout could hide: the tipping point
#
# `backpain fit` uses the weeks with a score. A client who stops reporting but
# is still in the panel leaves weeks without one; if those weeks were worse
# than the client's own trend predicts, the analysis would look too good. We
# fill each unreported week in from the fitted model (several times, with the
# model's uncertainty), make the weeks after a client's last report worse by
# delta points, refit, and pool the results (Rubin's rules). Where the 95 %
# interval of the strength effect first reaches zero is the tipping point: a
# large delta means the conclusion is robust to dropout; a small one means it
# rests on assuming those clients were doing as well as their history suggested.

# %%
if tipping is None:
    display(Markdown("No tipping-point analysis: see the note at the end."))
else:
    display(
        save_table(
            tipping.table,
            "tipping_point",
            f"Strength effect on {outcome_short(outcome)} under delta-adjusted multiple imputation ({IMPUTATIONS} "
            "imputations per delta, Rubin's rules, 95 % CI).",
            out_dir,
        )
    )
    display(
        show_figure(
            planning_figures.plot_tipping_point(tipping),
            "tipping_point",
            f"Pooled within-client strength effect on {outcome_short(outcome)} (per set/week) with its 95 % interval when "
            f"the unreported weeks of clients who stopped reporting are assumed delta {outcome_unit(outcome)} worse than "
            "missing at random predicts.",
            out_dir,
        )
    )
if attempt.problems:
    display(Markdown(attempt.notes()))
