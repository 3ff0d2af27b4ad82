# %% [markdown]
# # 5. Programs: which works better, for whom, and against the evidence
#
# Clients choose (or are given) a program; those in one program may have
# started with worse pain than those in another, so raw averages mislead.
# This notebook compares programs **for clients with the same baseline
# score**, shows how many clients in each program reached a clinically
# important improvement, and sets our clients' pain improvement beside the
# published effect of exercise therapy for chronic low back pain.
#
# The comparison model, for client *i* of program *p* in week *t* after the
# baseline week:
#
# ```
# score_it = b0 + g_p + (b_week + d_p) * week + b_base * (baseline_i - mean baseline)
#          + u0_i + u1_i * week + e_it
# ```
#
# `g_p` and `d_p` are the program's difference in level and in weekly slope
# from the reference program, `baseline_i` the client's first score (week 0
# or 1), `u0_i`, `u1_i` each client's own level and trend; REML. Programs are
# not randomised: adjusting for baseline removes differences in severity, not
# in motivation, age or anything else that differs between programs' clients.

# %% tags=["parameters"]
data_path = "../data/sample"  # dataset folder (sessions, outcomes, optional clients and catalog)
out_dir = "../out"  # where figures/ and tables/ are written
real_ids = False  # True shows real client keys instead of pseudonyms

# %%
from IPython.display import Markdown, display

from backpain_analysis.descriptives import improvement_on_100, without_small_intervals
from backpain_analysis.evidence import PAIN_TO_100
from backpain_analysis.figures import programs as program_figures
from backpain_analysis.figures import save_table, trajectories
from backpain_analysis.figures.style import outcome_short
from backpain_analysis.programs import compare_programs
from backpain_analysis.notebook import Attempts, notebook_inputs, show_figure
from backpain_analysis.responders import client_changes, client_trends, responder_rates
from backpain_analysis.narrative import in_short, literal, not_shown, responder_sentence, versus_evidence
from backpain_analysis.volume_model import MIN_CLIENTS
from backpain_analysis.effect_modification import effect_modification
from backpain_analysis.summary import MIN_CLIENTS_FOR_VERDICT, contrast_weeks, pain_benchmark, reference_program, summarise

inputs = notebook_inputs(data_path, real_ids)
panel, outcome = inputs.panel, inputs.primary
programs = sorted(panel["program"].dropna().astype(str).unique()) if "program" in panel else []
weeks = contrast_weeks(panel)
reference = reference_program(panel)
attempt = Attempts()
comparison = (
    attempt("program comparison", compare_programs, panel, outcome, weeks=weeks, reference=reference)
    if outcome and len(programs) >= 2
    else None
)
rates = attempt("responder rates", responder_rates, panel, outcome) if outcome else None
pain = next((name for name in PAIN_TO_100 if name in inputs.outcomes), None)
changes = attempt("pain change", client_changes, panel, pain) if pain else None
ours = improvement_on_100(changes, pain) if changes is not None and len(changes) else None

# %%
if len(programs) < 2:
    one = f"one program ({programs[0]})" if programs else "no program recorded for its clients"
    lines = ["**In short.**", literal(f"This dataset has {one}, so there is nothing to compare; the responder rate and the benchmark below describe all clients.")]
else:
    answers = summarise(panel, outcome, comparison=comparison, volume_too=False, simultaneous=False)
    lines = [in_short(answers.findings.to_dict("records"), outcome_short(outcome) if outcome else None, answers.clients, attempt.reason("program comparison"))]
if rates is not None:
    overall = rates[(rates["group"] == "all") & (rates["term"] == "mcid_absolute")].iloc[0]
    lines.append(literal(responder_sentence(overall, outcome_short(outcome))))
lines.append(versus_evidence(attempt("pain change against the published evidence", pain_benchmark, panel, inputs.outcomes)))
display(Markdown(" ".join(lines)))

# %% [markdown]
# ## Programs compared, same baseline
#
# Model-based mean score per program and week at the average baseline score,
# then every pair of programs at chosen weeks within follow-up, and the
# "observed minus expected" improvement per program: each client's
# improvement from baseline compared with the improvement predicted from
# their baseline score by a line fitted over all clients (positive = the
# program's clients did better than clients with the same starting point).

# %%
per_program = comparison.design.drop_duplicates("client_id")["program"].astype(str).value_counts() if comparison else None
if comparison is None:
    display(Markdown("Programs are not compared: " + ("fewer than two programs in this dataset." if len(programs) < 2 else "see the note at the end.")))
elif per_program.min() < MIN_CLIENTS:
    counts = ", ".join(f"{name}: {n}" for name, n in per_program.sort_index().items())
    display(Markdown(not_shown("Program comparison", f"every program needs at least {MIN_CLIENTS} clients with a baseline and a later score for its interval to mean anything; this dataset has {counts}.")))
else:
    display(
        save_table(
            comparison.params,
            "program_model_params",
            f"Program model of {outcome_short(outcome)}: fixed effects (REML, 95 % CI).",
            out_dir,
        )
    )
    display(
        show_figure(
            program_figures.plot_program_trajectories(comparison.trajectories, outcome),
            "program_trajectories",
            f"Model-based mean {outcome_short(outcome)} per program and week for clients with the average baseline score, "
            "with 95 % confidence bands.",
            out_dir,
        )
    )
    display(
        save_table(
            comparison.contrasts,
            "program_contrasts",
            f"Pairwise program differences in mean {outcome_short(outcome)} at weeks {', '.join(map(str, weeks))} (same baseline; 95 % CI).",
            out_dir,
        )
    )
    display(
        show_figure(
            program_figures.plot_program_contrasts(comparison.contrasts, outcome),
            "program_contrasts",
            f"Difference between programs in mean {outcome_short(outcome)} at weeks {', '.join(map(str, weeks))} for clients "
            "with the same baseline, signed so that positive means the first-named program's clients are better (95 % CI).",
            out_dir,
        )
    )
    display(
        save_table(
            comparison.observed_expected,
            "program_observed_expected",
            f"Observed minus baseline-expected improvement in {outcome_short(outcome)} per program (t 95 % CI).",
            out_dir,
        )
    )

# %% [markdown]
# ## Responders by program
#
# The share of clients whose improvement from baseline to their last
# measurement reached the absolute MCID (definitions in notebook 3), with
# Wilson 95 % confidence intervals. Small programs give wide intervals.

# %%
if rates is None:
    display(Markdown("No responder rates: no built-in instrument with an MCID has baseline and follow-up scores."))
else:
    absolute = rates[rates["term"] == "mcid_absolute"].reset_index(drop=True)
    display(
        save_table(
            without_small_intervals(absolute, MIN_CLIENTS),
            "responders_by_program",
            f"Clients with a clinically important improvement in {outcome_short(outcome)} ({absolute['threshold'].iloc[0]}), overall and by program.",
            out_dir,
        )
    )
    enough = absolute[absolute["n_clients"] >= MIN_CLIENTS].reset_index(drop=True)
    labels = ["all clients" if g == "all" else g for g in enough["group"]]
    too_few = (
        "one program only, so its share is the overall one (figure in section 3, Responders)"
        if len(programs) < 2
        else f"no group has {MIN_CLIENTS} or more clients with a baseline and a later score (counts in the table)"
    )
    display(
        show_figure(
            trajectories.plot_responder_rates(enough, labels, f"Clinically important improvement in {outcome_short(outcome)}, by program")
            if len(programs) >= 2 and len(enough)
            else too_few,
            "responders_by_program",
            f"Share of clients whose {outcome_short(outcome)} improved by at least the MCID ({absolute['threshold'].iloc[0]}) "
            "from baseline to their last measurement, overall and per program (groups of "
            f"{MIN_CLIENTS}+ clients), with Wilson 95 % confidence intervals.",
            out_dir,
            "Responders by program",
        )
    )

# %% [markdown]
# ## For whom: subgroups and each client's own change
#
# Does the strength effect, the flexibility effect or a program's advantage
# differ by baseline severity (above or below the median first score), age
# group, sex or studio? Each row below is the difference in that effect
# between a subgroup and the reference subgroup, from the volume model (or
# the program model) with an interaction term, positive = the effect is more
# beneficial in that subgroup. Many comparisons are made, so some will look
# different by chance: read the Holm-adjusted p-value, and treat a difference
# as a question for the next studio rather than a finding.
#
# The figure shows how each client's own score changed by the contrast week,
# estimated from the mixed model of notebook 3 (`y_it = b0 + b1 week + u0_i +
# u1_i week + e_it`): each client's trend is pulled towards the average in
# proportion to how little their own scores tell, so a client is not called
# a responder on one lucky score.

# %%
subgroups_possible = outcome is not None and panel["client_id"].nunique() >= MIN_CLIENTS_FOR_VERDICT
modification = attempt("effect modification", effect_modification, panel, outcome) if subgroups_possible else None
trends = attempt("each client's change", client_trends, panel, outcome, max(weeks)) if subgroups_possible else None
if modification is None or not len(modification):
    display(Markdown(not_shown("Subgroups", f"fewer than {MIN_CLIENTS_FOR_VERDICT} clients, or no baseline severity, age, sex or studio with two groups.")))
else:
    display(
        save_table(
            modification,
            "effect_modification",
            f"Difference in each effect on {outcome_short(outcome)} between a subgroup and its reference (positive = more "
            "beneficial in the subgroup; 95 % CI; p_value_holm adjusted over the whole table).",
            out_dir,
        )
    )
    display(Markdown(literal(modification.attrs["caution"])))
display(
    show_figure(
        trajectories.plot_client_changes(trends, outcome)
        if trends is not None and len(trends)
        else f"fewer than {MIN_CLIENTS_FOR_VERDICT} clients with scores, or the model could not be fitted",
        "client_changes",
        f"Each client's estimated improvement in {outcome_short(outcome)} by week {max(weeks)} (shrunken "
        "mixed-model estimate with its 95 % interval), sorted; the dashed line is the MCID.",
        out_dir,
        "Each client's change",
    )
)

# %% [markdown]
# ## Our clients and the published evidence
#
# The Cochrane review of exercise therapy for chronic low back pain (Hayden et
# al. 2021, 249 trials) found that exercise improves pain by about 15 points
# on a 0-100 scale compared with no treatment, usual care or placebo (mean
# difference -15.2, 95 % CI -18.3 to -12.2; 35 trials at the earliest
# follow-up). Our number is each client's pain change from baseline to their
# last measurement (NPRS x 10, or VAS in mm), averaged.
#
# **They are not the same kind of number.** The benchmark is a difference
# between randomised groups: it removes natural recovery, regression to the
# mean and placebo effects, which also make untreated people improve. Our
# change has no comparison group and contains all of them, so it
# *over*states what the programs add; a change smaller than 15 points is
# therefore a warning sign, while a larger one is not proof of a larger
# effect. Our clients also differ from trial participants (not all have
# chronic pain, follow-up is shorter or longer, drop-outs are not followed).

# %%
if ours is None:
    display(Markdown("No pain scale (NPRS or VAS) with baseline and follow-up scores was measured, so there is no benchmark comparison."))
else:
    display(
        save_table(
            without_small_intervals(ours, MIN_CLIENTS),
            "benchmark_pain_change",
            f"Mean {outcome_short(pain)} improvement from baseline on a 0-100 scale, overall and by program (t 95 % CI).",
            out_dir,
        )
    )
    ours_enough = ours[ours["n_clients"] >= MIN_CLIENTS].reset_index(drop=True)
    if len(ours) == 2:  # one program: its row repeats "all"
        ours_enough = ours_enough[ours_enough["group"] == "all"].reset_index(drop=True)
    display(
        show_figure(
            program_figures.plot_benchmark(ours_enough, pain)
            if len(ours_enough)
            else f"{int(ours['n_clients'].iloc[0])} client(s) have a pain score at baseline and later; a mean with an "
            f"interval needs at least {MIN_CLIENTS}",
            "benchmark_hayden_2021",
            f"Mean pain improvement from baseline to last measurement ({outcome_short(pain)} rescaled to 0-100; overall in "
            "red, per program in blue; t 95 % CI) beside the effect of exercise over no treatment, usual care or placebo "
            "in Hayden et al. 2021 (grey, band: its 95 % CI). Ours is an uncontrolled before-after change.",
            out_dir,
            "Comparison with the published effect",
        )
    )
if attempt.problems:
    display(Markdown(attempt.notes()))
