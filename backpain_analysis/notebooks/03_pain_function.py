# %% [markdown]
# # 3. Pain and function over time
#
# How did clients' pain and function scores change while they trained? For
# each instrument measured: every client's trajectory and the weekly mean; the
# share of clients whose improvement reached the minimal clinically important
# change (MCID); and how many weeks it took until the first such improvement.
#
# These are descriptions of the clients who were measured, not effects of the
# training: scores also improve through natural recovery and regression to the
# mean (clients often join when pain is at its worst). Notebook 4 separates
# the part of the change that follows training volume.

# %% tags=["parameters"]
data_path = "../data/sample"  # dataset folder (sessions, outcomes, optional clients and catalog)
out_dir = "../out"  # where figures/ and tables/ are written
real_ids = False  # True shows real client keys instead of pseudonyms

# %%
import pandas as pd
from IPython.display import Markdown, display

from backpain_analysis import responders
from backpain_analysis import descriptives
from backpain_analysis.descriptives import without_small_intervals
from backpain_analysis.figures import save_table, trajectories
from backpain_analysis.figures.style import outcome_short
from backpain_analysis.instruments import builtin_instruments, instrument
from backpain_analysis.narrative import literal, not_shown, responder_sentence, trajectory_sentence
from backpain_analysis.volume_model import MIN_CLIENTS
from backpain_analysis.notebook import Attempts, notebook_inputs, show_figure

inputs = notebook_inputs(data_path, real_ids)
panel, outcomes = inputs.panel, inputs.outcomes
means = {name: descriptives.mean_trajectory(panel, name) for name in outcomes}
with_mcid = [name for name in outcomes if name in set(builtin_instruments()["name"]) and instrument(name).mcid_abs is not None]
attempt = Attempts()
rates, times, unweighted = [], {}, {}
for name in with_mcid:
    rate = attempt(f"responders on {outcome_short(name)}", responders.responder_rates, panel, name, by=None)
    time = attempt(f"time to improvement on {outcome_short(name)}", responders.time_to_improvement, panel, name, by=None)
    if time is not None and "refusal" in time.notes:  # no dropout model: the plain curve, said so below
        unweighted[name] = time.notes["dropout_model"].refusal
        time = attempt(f"time to improvement on {outcome_short(name)}", responders.time_to_improvement, panel, name, by=None, censoring="independent")
    if rate is not None:
        rates.append(rate.assign(outcome=name))
    if time is not None:
        times[name] = time
rates = pd.concat(rates, ignore_index=True) if rates else pd.DataFrame()

# %%
lines = ["**In short.**"]
for name, mean in means.items():
    lines.append(trajectory_sentence(outcome_short(name), mean.to_dict("records")))
if not outcomes:
    lines.append("No outcome was measured in this dataset.")
for row in rates[rates["term"] == "mcid_absolute"].to_dict("records") if len(rates) else []:
    lines.append(responder_sentence(row, outcome_short(row["outcome"])))
display(Markdown(" ".join([lines[0], *(literal(line) for line in lines[1:])])))

# %% [markdown]
# ## The instruments
#
# Valid range, direction and the minimal clinically important change used in
# this report (a change of at least the MCID in the good direction counts as
# an important improvement).

# %%
table = builtin_instruments()
table = table[table["name"].isin(outcomes)][["name", "label", "min", "max", "higher_is_better", "unit", "mcid_abs", "mcid_rel"]]
save_table(
    table,
    "instruments",
    "Instruments measured in this dataset: range, direction and minimal clinically important change.",
    out_dir,
)

# %% [markdown]
# ## Trajectories
#
# Grey: individual clients (at most 40 drawn, evenly spaced in key order, so
# the picture stays readable). Colour: the mean of the clients measured in
# that week, for weeks with at least 3 clients measured, and its 95 %
# confidence interval (t distribution) for weeks with at least 5 (an interval
# from 3 or 4 clients would mean little). Because drop-outs and skipped measurements
# change who is measured, a falling mean can partly reflect who remains.

# %%
for name in outcomes:
    mean = means[name]
    if len(mean) < 2:
        display(Markdown(f"{literal(outcome_short(name))}: fewer than two weeks with 3+ clients measured; no trajectory drawn."))
        continue
    display(
        save_table(
            mean,
            f"mean_{name}",
            f"Weekly mean {outcome_short(name)} (weeks with 3+ clients measured) with its 95 % confidence interval "
            "(weeks with 5+).",
            out_dir,
        )
    )
    n_measured = panel.loc[panel[name].notna(), "client_id"].nunique()
    drawn = min(40, n_measured)
    sampled = f"all {n_measured} clients" if drawn == n_measured else f"{drawn} of {n_measured} clients, evenly spaced in key order"
    display(
        show_figure(
            trajectories.plot_trajectories(panel, name, mean, max_clients=40),
            f"trajectories_{name}",
            f"{outcome_short(name)} by week since start: individual clients in grey ({sampled}); the mean of the "
            "clients measured that week in blue, with its 95 % confidence band where 5 or more were measured.",
            out_dir,
        )
    )

# %% [markdown]
# ## Responders
#
# For each client: the **baseline** is the first measured week if it is week
# 0 or 1 (clients first measured later are left out), the **follow-up** the
# last measured week after it, and the **improvement** the change in the good
# direction (baseline - follow-up for pain and disability, the reverse for
# function scales), in the instrument's units. A client is a responder when
# the improvement reaches the absolute MCID, or 30 % of the baseline score
# (Ostelo et al. 2008), or when the follow-up score reaches the recovery
# cut-off (Kamper et al. 2010), wherever the instrument defines one. Rates
# come with Wilson 95 % confidence intervals.

# %%
if rates.empty:
    display(Markdown("No instrument with an established minimal important change has a baseline and a follow-up score."))
else:
    display(
        save_table(
            without_small_intervals(rates[["outcome", "term", "threshold", "n_clients", "n_responders", "estimate", "conf_low", "conf_high"]], MIN_CLIENTS),
            "responder_rates",
            "Share of clients meeting each responder criterion (estimate and Wilson 95 % CI as proportions).",
            out_dir,
        )
    )
    enough = rates[rates["n_clients"] >= MIN_CLIENTS].reset_index(drop=True)
    labels = [f"{outcome_short(o)}: {t}" for o, t in zip(enough["outcome"], enough["threshold"], strict=True)]
    display(
        show_figure(
            trajectories.plot_responder_rates(enough, labels, "Clients with a clinically important improvement")
            if len(enough)
            else f"{int(rates['n_clients'].max())} client(s) have a baseline and a later score; a share needs at least "
            f"{MIN_CLIENTS} to mean anything (the counts are in the table)",
            "responder_rates",
            "Share of clients meeting each responder criterion from baseline (week 0 or 1) to their last "
            f"measurement, with Wilson 95 % confidence intervals and counts (criteria with {MIN_CLIENTS}+ clients).",
            out_dir,
            "Responder shares",
        )
    )
if attempt.problems:
    display(Markdown(attempt.notes()))

# %% [markdown]
# ## Time to the first clinically important improvement
#
# Kaplan-Meier estimate of the share of clients whose score has improved by
# at least the absolute MCID at some measured week after baseline, confirmed
# by their next measurement (one lucky score does not count). A client who
# stops being measured before improving is *censored*: counted as not yet
# improved until then and not after. Clients who are not improving tend to
# leave, so the clients still measured late are a selected group; each one
# is weighted by the inverse of the estimated chance of still being measured
# (from a model of leaving given the change so far, the baseline score and
# the weeks since baseline). That is valid when leaving depends only on the
# scores we saw (*missing at random given the observed scores*), not on
# scores nobody measured. Where too few clients left to fit that model, the
# notebook says so and shows the plain curve, which assumes leaving is
# unrelated to the chance of improving. Times are weeks since the baseline
# week and only as fine as the measurement schedule (an instrument measured
# every 4 weeks can only show steps every 4 weeks).

# %%
at_start = max((int(t.clients["time"].notna().sum()) for t in times.values()), default=0)
if not times:
    display(Markdown("No instrument with an absolute MCID has a baseline and a later score; nothing to show."))
elif at_start < MIN_CLIENTS:
    display(Markdown(not_shown("Time to improvement", f"{at_start} client(s) have a baseline and a later score; a Kaplan-Meier curve and its median need at least {MIN_CLIENTS}.")))
else:
    for name, reason in unweighted.items():
        display(Markdown(literal(f"{outcome_short(name)}: no correction for clients who left ({reason}); its curve assumes leaving is unrelated to improving.")))
    curves = pd.concat([t.curves.assign(group=outcome_short(name)) for name, t in times.items()], ignore_index=True)
    ends = {outcome_short(name): float(t.clients["time"].max()) for name, t in times.items()}
    medians = pd.concat([t.medians.assign(group=outcome_short(name)) for name, t in times.items()], ignore_index=True)
    display(
        save_table(
            medians.rename(columns={"group": "outcome"}),
            "time_to_improvement_medians",
            "Median weeks from baseline to the first confirmed clinically important improvement (weighted Kaplan-Meier, 95 % CI; "
            "empty where fewer than half the clients improved during follow-up).",
            out_dir,
        )
    )
    display(
        show_figure(
            trajectories.plot_time_to_improvement(curves, ends, "Time to the first clinically important improvement"),
            "time_to_improvement",
            "Cumulative % of clients with a first improvement of at least the absolute MCID, by weeks since "
            "baseline, confirmed at the next measurement (Kaplan-Meier weighted for clients who left, with "
            "pointwise 95 % bands; see the text for any outcome shown unweighted). "
            "Each curve stops where fewer than 5 clients remain at risk.",
            out_dir,
        )
    )
