# %% [markdown]
# # 1. Data quality: what was read, what was kept, what was measured
#
# Every row of the input files is either accepted or listed in the rejected
# ledger with a reason a person can act on. This notebook counts both, groups
# the reasons, and shows how completely sessions and outcome scores cover each
# client's weeks. Gaps matter: the models only learn from weeks in which a
# score was measured.

# %% tags=["parameters"]
data_path = "../data/sample"  # dataset folder (sessions, outcomes, optional clients and catalog)
out_dir = "../out"  # where figures/ and tables/ are written
real_ids = False  # True shows real client keys instead of pseudonyms

# %%
from IPython.display import Markdown, display

from backpain_analysis import descriptives
from backpain_analysis.figures import data_quality, save_table
from backpain_analysis.figures.style import outcome_short
from backpain_analysis.narrative import followed_sentence, literal, share_of_weeks
from backpain_analysis.notebook import notebook_inputs, show_figure

inputs = notebook_inputs(data_path, real_ids)
dataset, panel, outcomes = inputs.dataset, inputs.panel, inputs.outcomes
counts = dataset.counts()
reasons = descriptives.rejection_reasons(dataset.rejected)
coverage = descriptives.weekly_coverage(panel, outcomes)
weeks_followed = panel.groupby("client_id")["week"].max() + 1

# %%
read, rejected = int(counts["read"].sum()), int(counts["rejected"].sum())
share = 100 * rejected / read if read else 0.0
top = reasons.iloc[0] if rejected else None
lines = [
    f"**In short.** {read:,} input rows were read and {rejected:,} ({'< 0.1' if 0 < share < 0.1 else f'{share:.1f}'} %) were rejected"
    + (f"; the most common reason was *{literal(top['reason'])}* ({top['rows']:,} row{'s' if top['rows'] != 1 else ''})." if rejected else "."),
    followed_sentence(weeks_followed),
    f"Sessions were logged in {share_of_weeks(panel['sessions'] > 0)} of client-weeks.",
]
if outcomes:
    measured = ", ".join(f"{literal(outcome_short(name))} in {share_of_weeks(panel[name].notna())}" for name in outcomes)
    lines.append(f"Outcome scores were recorded in these shares of client-weeks: {measured}.")
else:
    lines.append("No outcome score was accepted, so no outcome can be analysed.")
Markdown(" ".join(lines))

# %% [markdown]
# ## Rows read, accepted and rejected
#
# `read` counts data rows in each file (blank lines are not rows); `accepted +
# rejected = read` for every table. Rejected rows take no part in any later
# step.

# %%
save_table(counts.reset_index(), "row_accounting", "Rows read, accepted and rejected per input table.", out_dir)

# %%
show_figure(
    data_quality.plot_row_accounting(counts),
    "row_accounting",
    "Input rows per table: accepted (blue) and rejected (vermillion), with the share rejected.",
    out_dir,
)

# %% [markdown]
# ## Why rows were rejected
#
# Reasons are grouped by rule: the offending value, dates and client keys are
# replaced by `…` so that, say, every out-of-range score of one instrument
# counts as one reason. The
# full ledger, row by row, is written by `backpain validate DATA --rejected FILE`.

# %%
if reasons.empty:
    display(Markdown("No row was rejected."))
else:
    display(
        save_table(
            reasons,
            "rejection_reasons",
            "Rejected rows grouped by table, column and rule, with one example each.",
            out_dir,
        )
    )
    display(
        show_figure(
            data_quality.plot_rejection_reasons(reasons),
            "rejection_reasons",
            "Rejected rows by reason (most frequent first); the value that broke the rule is shown as '…'.",
            out_dir,
        )
    )

# %% [markdown]
# ## Coverage of the client-weeks
#
# A client is *followed* from week 0 (their start date, or their first record
# without one) to the week of their last session or score. Within that span a
# week without sessions counts as zero training, not as missing; a week
# without a score is missing for that outcome.

# %%
save_table(
    coverage,
    "weekly_coverage",
    "Per week since start: clients followed, and the % of them with a session and with each outcome measured.",
    out_dir,
)

# %%
show_figure(
    data_quality.plot_weekly_coverage(coverage, outcomes),
    "weekly_coverage",
    "Top: clients still followed in each week since their start. Bottom: "
    + ("% of" if coverage["clients"].max() >= data_quality.SHARE_MIN_CLIENTS else "how many of (no week has 5 followed: counts, not %)")
    + " those clients with at least one session and with each outcome measured that week.",
    out_dir,
)

# %%
if inputs.primary is None:
    display(Markdown("No built-in pain or disability outcome was measured, so the client-by-week grid is not drawn."))
else:
    grid, n_clients = data_quality.coverage_grid(panel, inputs.primary, max_clients=60)
    sampled = "every client" if len(grid) == n_clients else f"{len(grid)} of {n_clients} clients, evenly spaced in key order"
    display(
        show_figure(
            data_quality.plot_coverage_grid(grid, inputs.primary, n_clients),
            "coverage_grid",
            f"One row per client ({sampled}), one column per week: sessions logged, {outcome_short(inputs.primary)} measured, both, "
            "or neither; white after the client's last record.",
            out_dir,
        )
    )
