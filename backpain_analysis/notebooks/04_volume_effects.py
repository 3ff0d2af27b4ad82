# %% [markdown]
# # 4. Does more training go with less pain?
#
# Clients who train more may differ from those who train less in many ways
# (motivation, severity, fitness), so comparing clients with each other says
# little about what training does. This notebook asks a sharper question: is a
# client better in the weeks after they trained *more than they usually do*?
# Each client is compared with themselves, which removes every stable
# difference between clients. The between-client comparison is shown beside
# it, for contrast.
#
# The model, for client *i* in week *t*, with last week's training (lag 1):
#
# ```
# score_it = b0 + b1 * week
#          + bSW * (S_i,t-1 - mean S_i) + bFW * (F_i,t-1 - mean F_i)      within client
#          + bSF * (S_i,t-1 - mean S_i) * (F_i,t-1 - mean F_i)            interaction
#          + bSB * mean S_i + bFB * mean F_i                              between clients
#          + u0_i + u1_i * week + e_it
# ```
#
# `S` is core + back strength sets per week, `F` flexibility minutes per week,
# `mean S_i` the client's average over the weeks in the fit; `u0_i`, `u1_i`
# are each client's own starting level and trend (random intercept and slope),
# `e_it` the week-to-week noise; fitted by REML. Effects are shown per 10 sets
# or 30 minutes a week and signed so that positive means better.
#
# Assumptions: the effect is linear over the observed range (the dose-response
# section relaxes this), outcomes are missing at random given what was
# observed, and nothing that changes from week to week drives both training
# and pain (a flare that cuts training would bias a same-week model; the lag
# and the sensitivity analyses probe this). These are associations in
# observational data, not the results of a trial.

# %% tags=["parameters"]
data_path = "../data/sample"  # dataset folder (sessions, outcomes, optional clients and catalog)
out_dir = "../out"  # where figures/ and tables/ are written
real_ids = False  # True shows real client keys instead of pseudonyms

# %%
import pandas as pd
from IPython.display import Markdown, display

from backpain_analysis.dose_response import fit_dose_response
from backpain_analysis.figures import effects, save_table
from backpain_analysis.figures.style import outcome_short
from backpain_analysis.narrative import in_short, literal
from backpain_analysis.notebook import Attempts, notebook_inputs, show_figure
from backpain_analysis.sensitivity import sensitivity_table
from backpain_analysis.summary import summarise
from backpain_analysis.volume_model import fit_volume_model

inputs = notebook_inputs(data_path, real_ids)
panel, outcome = inputs.panel, inputs.primary
attempt = Attempts()
model = attempt("volume model", fit_volume_model, panel, outcome) if outcome else None
dose = attempt("dose-response", fit_dose_response, panel, outcome) if model else None
sensitivity = attempt("sensitivity analyses", sensitivity_table, panel, outcome) if model else None
no_model = attempt.reason("volume model") or ("no pain or disability instrument was measured" if outcome is None else "the model could not be fitted")

# %%
answers = summarise(panel, outcome, model=model, programs_too=False, simultaneous=False)
findings = answers.findings.to_dict("records")
display(Markdown(in_short(findings, outcome_short(outcome) if outcome else None, answers.clients, attempt.reason("volume model"))))
if model is not None and not model.converged:
    display(Markdown("Caution: the model fit did not converge; treat its numbers as provisional."))

# %% [markdown]
# ## Within- and between-client effects
#
# Within-client effects (blue) compare a client's weeks with each other;
# between-client effects (orange) compare clients with different average
# training and carry all differences between those clients. When the two
# disagree, the within-client estimate is the one to trust for "what happens
# if this client trains more".

# %%
if model is not None:
    display(
        save_table(
            model.params,
            "volume_model_params",
            f"Volume model of {outcome_short(outcome)}: fixed effects per set/week, per min/week and per week (REML, 95 % CI).",
            out_dir,
        )
    )
show_figure(
    effects.plot_forest(model.clinical_effects(), outcome) if model is not None else no_model,
    "volume_effects_forest",
    f"Improvement in {outcome_short(outcome)} per 10 core + back sets and per 30 flexibility minutes a week, "
    "within clients (a week above the client's usual) and between clients (clients who train more), "
    "with 95 % confidence intervals; dashed: the minimal clinically important change.",
    out_dir,
    "Within- and between-client effects",
)

# %% [markdown]
# ## Strength and flexibility together
#
# The interaction term asks whether strength work helps more in weeks with
# more flexibility work too. The map shows the model's predicted improvement
# the following week for every combination of "sets above usual" and
# "flexibility minutes above usual" within the range most weeks fall in (5th
# to 95th percentile); each dot is one observed client-week.

# %%
show_figure(
    effects.plot_interaction_surface(effects.interaction_surface(model.params, model.design, outcome), model.design, outcome)
    if model is not None
    else no_model,
    "strength_flexibility_surface",
    f"Predicted improvement in {outcome_short(outcome)} the week after, against a usual week, by how many core "
    "+ back sets and flexibility minutes above the client's own average were done (positive = better; bold "
    "line: no change). Dots: observed client-weeks (at most 1,500 drawn, evenly spaced).",
    out_dir,
    "Strength x flexibility map",
)

# %% [markdown]
# ## Dose-response: does more keep helping?
#
# Here last week's dose enters through a restricted cubic spline with 4 knots
# (Harrell 2015), still within client, so the curve can bend. It shows the
# predicted score after a week of the given dose against a week of none, for
# the same client with the other exposure at its usual level. A plateau is
# reported only when the data show both a benefit and a flattening beyond
# doubt.

# %%
if dose is not None:
    display(Markdown("\n".join(f"- **{effects.EXPOSURE_NAMES.get(row.exposure, row.exposure)}**: {literal(row.message)}." for row in dose.flattening.itertuples())))
    display(
        save_table(
            dose.curves,
            "dose_response_curves",
            f"Dose-response curves for {outcome_short(outcome)} (change against dose 0, pointwise 95 % CI).",
            out_dir,
        )
    )
show_figure(
    effects.plot_dose_response(dose.curves, dose.flattening, outcome) if dose is not None else attempt.reason("dose-response") or no_model,
    "dose_response",
    f"Improvement in {outcome_short(outcome)} after a week of the given core + back sets (left) or flexibility "
    "minutes (right) compared with a week of none, same client (restricted cubic spline, 4 knots, pointwise "
    "95 % bands, doses up to the 95th percentile observed).",
    out_dir,
    "Dose-response curves",
)

# %% [markdown]
# ## Sensitivity: does the answer depend on how we ask?
#
# The within-client effects re-estimated by generalised estimating equations
# (robust standard errors, two working correlations), with other lags (lag 0
# mixes in reverse causation: a painful week cuts that week's training), with
# exposures detrended per client (so that ramping up while recovering does not
# count), and on clients followed to the end only. Agreement with the main
# model (red) makes the result less fragile; lags 2 and 3 estimate a delayed
# effect, a different quantity.

# %%
if sensitivity is not None:
    display(
        save_table(
            sensitivity,
            "sensitivity",
            f"Within-client effects on {outcome_short(outcome)} under each analysis (per set/week, min/week, set x min; 95 % CI).",
            out_dir,
        )
    )
show_figure(
    effects.plot_sensitivity(sensitivity, outcome) if sensitivity is not None else attempt.reason("sensitivity analyses") or no_model,
    "sensitivity",
    f"Within-client effects on {outcome_short(outcome)} (improvement per 10 sets/week, per 30 min/week, and "
    "for the interaction) under each analysis, with 95 % confidence intervals; the main model in red.",
    out_dir,
    "Sensitivity analyses",
)

# %% [markdown]
# ## Other outcomes
#
# The same model on every other measured instrument with enough data (within
# terms only; positive = better).

# %%
others = []
for name in inputs.outcomes:
    if name == outcome:
        continue
    fitted = attempt(f"volume model of {outcome_short(name)}", fit_volume_model, panel, name)
    if fitted is not None:
        table = fitted.clinical_effects()
        others.append(table[table["term"].str.endswith("_within")].assign(outcome=name, n_clients=fitted.n_clients))
if others:
    columns = ["outcome", "term", "per", "improvement", "improvement_low", "improvement_high", "mcid", "n_clients"]
    display(
        save_table(
            pd.concat(others, ignore_index=True)[columns],
            "volume_effects_other_outcomes",
            "Within-client effects on the other instruments (improvement per unit, 95 % CI).",
            out_dir,
        )
    )
else:
    display(Markdown("No other instrument has enough data for the volume model."))
if attempt.problems:
    display(Markdown(attempt.notes()))
