# %% [markdown]
# # Summary
#
# The studio's questions, answered on the main outcome in one screen. Each
# line gives the verdict, the estimated effect per clinically sensible unit
# (10 more core and back sets a week, 30 more flexibility minutes a week) with
# its confidence interval, signed so that positive means better, whether it
# reaches the change clients notice (the MCID), and how many clients it rests
# on. The sections after this one show the evidence behind each line.
# A verdict is **better** or **worse** only when the whole interval lies on
# one side of no effect; **inconclusive** when it includes no effect; **too
# few data** when this dataset cannot answer. Because several questions are
# asked at once, the intervals here are *simultaneous* 95 % intervals: with
# k questions answered, each is a 1 - 0.05/k interval (Bonferroni), so that
# when nothing works about 95 % of studios see no better or worse at all. The
# sections below answer each question on its own with ordinary 95 %
# intervals, which are narrower. These are associations in observational
# data, not the results of a trial.

# %% tags=["parameters"]
data_path = "../data/sample"  # dataset folder (sessions, outcomes, optional clients and catalog)
out_dir = "../out"  # where figures/, tables/ and summary.json are written
real_ids = False  # True shows real client keys instead of pseudonyms

# %%
from IPython.display import Markdown, display

from backpain_analysis.figures import save_table
from backpain_analysis.narrative import for_whom, summary_lines, versus_evidence
from backpain_analysis.notebook import Attempts, notebook_inputs
from backpain_analysis.effect_modification import effect_modification
from backpain_analysis.responders import client_trends
from backpain_analysis.summary import MIN_CLIENTS_FOR_VERDICT, contrast_weeks, pain_benchmark, summarise

inputs = notebook_inputs(data_path, real_ids)
attempt = Attempts()
summary = summarise(inputs.panel, inputs.primary)
summary.write(out_dir)
benchmark = attempt("pain change against the published evidence", pain_benchmark, inputs.panel, inputs.outcomes)
# Subgroups and per-client change only where verdicts are given at all (MIN_CLIENTS_FOR_VERDICT clients).
enough = inputs.primary is not None and summary.clients >= MIN_CLIENTS_FOR_VERDICT
modification = attempt("effect modification (for whom)", effect_modification, inputs.panel, inputs.primary) if enough else None
endpoint = max(contrast_weeks(inputs.panel))
trends = attempt("each client's change", client_trends, inputs.panel, inputs.primary, endpoint) if enough else None

# %%
display(Markdown(summary_lines(summary.to_dict(), summary.family_size, summary.level)))

# %%
display(Markdown(for_whom(summary.findings, modification, trends) + "\n\n" + versus_evidence(benchmark)))

# %%
if len(summary.findings):
    display(
        save_table(
            summary.findings.drop(columns=["sentence"]),
            "summary_findings",
            "The summary's findings (summary.json): improvement per unit, positive = better, with its standard error, "
            + (
                f"df and simultaneous 95 % interval over the {summary.family_size} findings answered (each at "
                f"{100 * summary.level:.4g} %), "
                if summary.family_size > 1
                else "df and 95 % interval, "
            )
            + "the clients each rests on, and why a question cannot be answered.",
            out_dir,
        )
    )
if attempt.problems or attempt.warnings:
    display(Markdown(attempt.notes()))
