# %% [markdown]
# # 2. Training exposure: how much, of what, and how it built up
#
# The programs ask clients to "start slowly" and work towards 20-30 minutes of
# exercise on most days, mixing strength work for the core and back with
# flexibility work and yoga or pilates. This notebook describes what clients
# actually logged, week by week: volume by modality, adherence to the daily
# target, how fast training ramped up, and the acute and chronic load.
#
# Units, per client and week (CONTRACT section 3):
#
# - **strength sets**: sets of core and of back exercises (`strength_sets` =
#   core + back); other strength work (squats, presses) is shown separately;
# - **volume load**: sets x reps x load in kg over core and back exercises
#   (body-weight work adds 0 kg);
# - **flexibility minutes** and **yoga/pilates minutes**: sets x seconds per
#   set / 60;
# - **training minutes**: the same over every row with a duration; rows
#   without a duration (most strength sets) add no minutes.

# %% tags=["parameters"]
data_path = "../data/sample"  # dataset folder (sessions, outcomes, optional clients and catalog)
out_dir = "../out"  # where figures/ and tables/ are written
real_ids = False  # True shows real client keys instead of pseudonyms

# %%
from IPython.display import Markdown, display

from backpain_analysis import descriptives
from backpain_analysis.figures import exposure, save_table
from backpain_analysis.descriptives import SECONDS_PER_UNTIMED_SET, adherence_with_assumed_sets
from backpain_analysis.panel import MOST_DAYS, client_start_dates
from backpain_analysis.narrative import share_of_weeks, too_few_per_week
from backpain_analysis.notebook import notebook_inputs, show_figure

inputs = notebook_inputs(data_path, real_ids)
panel = inputs.panel
weekly_columns = [column for _, columns, _ in exposure.WEEKLY_PANELS for column in columns]
weekly = descriptives.weekly_quantiles(panel, weekly_columns)
load_summary = descriptives.weekly_quantiles(
    panel, ["strength_acute", "strength_chronic", "flexibility_acute", "flexibility_chronic"]
)
ratio = descriptives.acute_chronic_ratio(panel, "strength", from_week=4)
ratio_shares = descriptives.ratio_shares(ratio)
n_clients = int(panel["client_id"].nunique())
seconds_per_set = SECONDS_PER_UNTIMED_SET  # assumed time of a strength set logged without a duration (work + rest)
assumed = adherence_with_assumed_sets(inputs.dataset.sessions, client_start_dates(inputs.dataset), seconds_per_set)
timed = descriptives.panel_with_assumed_sets(panel, assumed)  # adherence counting untimed strength sets, as stated
adherence = descriptives.adherence_by_week(timed)


# %%
client_share_met = timed.groupby("client_id")["met_20min_most_days"].mean()
lines = [] if len(panel) == 0 else [
    f"**In short.** In a typical client-week clients logged a median of {panel['strength_sets'].median():.0f} "
    f"core and back sets and {panel['flexibility_min'].median():.0f} minutes of flexibility work; "
    f"{share_of_weeks(panel['mixed_min'] > 0)} client-weeks included yoga or pilates.",
    f"The target of 20+ minutes on {MOST_DAYS} or more days was met in {share_of_weeks(timed['met_20min_most_days'])} "
    f"client-weeks, counting each strength set logged without a duration as an assumed {seconds_per_set:.0f} seconds "
    "of work and rest (ACSM 2009; change `seconds_per_set` to test another value), and in "
    f"{share_of_weeks(panel['met_20min_most_days'])} client-weeks counting only exercises logged with a duration (a "
    f"lower bound); {share_of_weeks(client_share_met >= 0.5)} clients met it in at least half of their weeks.",
]
if not lines:
    lines = ["**In short.** No training was logged in this dataset, so there is no exposure to describe."]
ramp = panel.groupby("week")["strength_sets"].agg(["median", "size"])
if ramp["size"].reindex([0, 3]).ge(5).all():
    lines.append(
        f"Over the first weeks the median of core and back sets went from {ramp.loc[0, 'median']:.0f} in week 0 "
        f"to {ramp.loc[3, 'median']:.0f} in week 3."
    )
if ratio.notna().any():
    lines.append(
        f"From week 4 on, the strength acute:chronic load ratio was above 1.3 (a jump in training) in "
        f"{ratio_shares['above']:.0f} % of client-weeks."
    )
display(Markdown(" ".join(lines)))

# %% [markdown]
# ## Weekly volume by modality
#
# Lines are the median over the clients followed that week, bands the
# interquartile range (the middle half of clients). Weeks with fewer than 5
# clients are left out. The tail of the curves rests on fewer clients: see the
# coverage figure of notebook 1.

# %%
if len(weekly):
    display(
        save_table(
            weekly,
            "weekly_exposure",
            "Weekly exposure per client: mean, quartiles and median per week since start.",
            out_dir,
        )
    )

# %%
show_figure(
    exposure.plot_weekly_exposure(weekly) if len(weekly) else too_few_per_week(n_clients),
    "weekly_exposure",
    "Weekly training per client by modality: median (line) and interquartile range (band) over the clients "
    "followed that week (weeks with 5+ clients).",
    out_dir,
    "Weekly training by modality",
)

# %% [markdown]
# ## Adherence to "20-30 minutes on most days"
#
# A day counts when the client trained at least 20 minutes; a week meets the
# target with at least 4 such days (more than half of 7). Exercises logged
# with a duration count that duration; a strength set logged without one
# (most are: apps record sets, reps and weight) counts an assumed 90 seconds
# of work and rest (`descriptives.SECONDS_PER_UNTIMED_SET`, from the rest
# intervals the American College of Sports Medicine recommends, 2009), the
# same minutes as the headline above. The weekly panel's own
# `met_20min_most_days` counts logged durations only.

# %%
if len(adherence):
    display(
        save_table(
            adherence,
            "adherence",
            f"Per week: clients followed, % meeting 20+ min on {MOST_DAYS}+ days, mean days with 20+ min (untimed "
            f"strength sets at an assumed {seconds_per_set:.0f} s each).",
            out_dir,
        )
    )

# %%
show_figure(
    exposure.plot_adherence(timed, adherence, MOST_DAYS) if len(adherence) else too_few_per_week(n_clients),
    "adherence",
    f"Left: % of followed clients with 20+ training minutes on {MOST_DAYS} or more days, per week. Right: days "
    "with 20+ minutes per client-week (all weeks pooled); blue bars meet the target. Each strength set logged "
    f"without a duration counts an assumed {seconds_per_set:.0f} seconds.",
    out_dir,
    "Adherence by week",
)

# %% [markdown]
# ## Ramp-up over the first weeks
#
# "Start slowly" shows as low volumes in week 0 that rise over the next weeks.

# %%
show_figure(
    exposure.plot_ramp_up(panel, weeks=8)
    if n_clients >= 5
    else f"a box plot needs at least 5 clients per week; this dataset has {n_clients}",
    "ramp_up",
    "Weekly training minutes (left) and core + back sets (right) in the first weeks: boxes span the "
    "interquartile range with the median; whiskers reach 1.5 times the IQR (outliers not drawn).",
    out_dir,
    "Ramp-up box plots",
)

# %% [markdown]
# ## Acute and chronic load
#
# Daily training (core + back sets; flexibility minutes) is smoothed with
# exponentially weighted moving averages (Williams et al. 2017):
#
# ```
# load_d = lambda * x_d + (1 - lambda) * load_(d-1),   lambda = 2 / (N + 1)
# acute: N = 7 days        chronic: N = 28 days
# ```
#
# both read at the last day of each week, in sets per day or minutes per day.
# An acute load well above the chronic one marks a sudden increase. Both start
# from zero at day 0, so the chronic load needs about four weeks to settle and
# early ratios are inflated: the ratio is summarised from week 4 on only. The
# 0.8-1.3 band often quoted as safe (Gabbett 2016) is used descriptively; it
# is not a validated threshold for back pain.

# %%
show_figure(
    exposure.plot_acute_chronic(load_summary) if len(load_summary) else too_few_per_week(n_clients),
    "acute_chronic_load",
    "Acute (7-day) and chronic (28-day) exponentially weighted daily load: median (line) and interquartile "
    "range (band) over clients, for core + back sets per day and flexibility minutes per day.",
    out_dir,
    "Acute and chronic load",
)

# %%
if ratio.notna().any():
    display(
        Markdown(
            f"Strength acute:chronic ratio from week 4 on ({ratio.notna().sum():,} client-weeks with training): "
            f"below 0.8 in {ratio_shares['below']:.0f} %, 0.8-1.3 in {ratio_shares['within']:.0f} %, "
            f"above 1.3 in {ratio_shares['above']:.0f} %."
        )
    )
else:
    display(Markdown("No client trained in week 4 or later, so no acute:chronic ratio is reported."))
