# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

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
from IPython.display import Markdown, display

from backpain_analysis.figures import save_figure, save_table, trajectories
from backpain_analysis.figures.style import outcome_short
from backpain_analysis.instruments import builtin_instruments
from backpain_analysis.report import notebook_inputs

inputs = notebook_inputs(data_path, real_ids)
panel, outcomes = inputs.panel, inputs.outcomes
means = {name: trajectories.mean_trajectory(panel, name) for name in outcomes}

# %%
lines = ["**In short.**"]
for name, mean in means.items():
    if len(mean) >= 2:
        first, last = mean.iloc[0], mean.iloc[-1]
        lines.append(
            f"Mean {outcome_short(name)} went from {first['mean']:.1f} in week {first['week']:.0f} "
            f"({first['clients']:.0f} clients measured) to {last['mean']:.1f} in week {last['week']:.0f} "
            f"({last['clients']:.0f} clients)."
        )
    else:
        lines.append(f"{outcome_short(name)} was measured in too few clients per week to describe a trajectory.")
if not outcomes:
    lines.append("No outcome was measured in this dataset.")
display(Markdown(" ".join(lines)))

# %% [markdown]
# ## The instruments
#
# Valid range, direction and the minimal clinically important change used in
# this report (a change of at least the MCID in the good direction counts as
# an important improvement).

# %%
table = builtin_instruments()
table = table[table["name"].isin(outcomes)][["name", "label", "min", "max", "higher_is_better", "unit", "mcid_abs", "mcid_rel"]]
save_table(table, "instruments", "Instruments measured in this dataset: range, direction and minimal clinically important change.", out_dir)

# %% [markdown]
# ## Trajectories
#
# Grey: individual clients (at most 40 drawn, evenly spaced in key order, so
# the picture stays readable). Colour: the mean of the clients measured in
# that week with its 95 % confidence interval (t distribution), for weeks with
# at least 3 clients measured. Because drop-outs and skipped measurements
# change who is measured, a falling mean can partly reflect who remains.

# %%
for name in outcomes:
    mean = means[name]
    if len(mean) < 2:
        display(Markdown(f"{outcome_short(name)}: fewer than two weeks with 3+ clients measured; no trajectory drawn."))
        continue
    display(save_table(mean, f"mean_{name}", f"Weekly mean {outcome_short(name)} with 95 % confidence interval.", out_dir))
    n_measured = panel.loc[panel[name].notna(), "client_id"].nunique()
    drawn = min(40, n_measured)
    sampled = f"all {n_measured} clients" if drawn == n_measured else f"{drawn} of {n_measured} clients, evenly spaced in key order"
    display(
        save_figure(
            trajectories.plot_trajectories(panel, name, mean, max_clients=40),
            f"trajectories_{name}",
            f"{outcome_short(name)} by week since start: individual clients in grey ({sampled}); the mean of the "
            "clients measured that week with its 95 % confidence band in blue.",
            out_dir,
        )
    )
