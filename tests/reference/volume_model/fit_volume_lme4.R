# lme4 reference fits of the volume model (CONTRACT section 4, `backpain fit`).
#
# Each design_*.csv beside this script is `volume_design(weekly_panel(load(DIR)), outcome, lag)`
# written by make_designs.py from a simulated study. This script fits the model
#   y ~ week + strength_sets_within + flexibility_min_within + strength_x_flexibility_within
#       + strength_sets_between + flexibility_min_between + (week | client_id), REML
# and writes lme4_<name>.json with fixed effects, their SEs, the random-effect SDs and
# correlation, the residual SD and the REML criterion (-2 REML log-likelihood).
#
# Run from this folder: Rscript fit_volume_lme4.R   (R 4.x, lme4 >= 1.1-31, jsonlite; Debian: r-base-core r-cran-lme4 r-cran-jsonlite)
suppressPackageStartupMessages({library(lme4); library(jsonlite)})
here <- "."
for (path in Sys.glob(file.path(here, "design_*.csv"))) {
  name <- sub("^design_(.*)\\.csv$", "\\1", basename(path))
  d <- read.csv(path)
  outcome <- readLines(sub("\\.csv$", ".outcome", path))[1]
  f <- as.formula(paste(outcome, "~ week + strength_sets_within + flexibility_min_within +",
                        "strength_x_flexibility_within + strength_sets_between +",
                        "flexibility_min_between + (week | client_id)"))
  m <- lmer(f, data = d, REML = TRUE,
            control = lmerControl(optimizer = "bobyqa", optCtrl = list(maxfun = 1e5)))
  vc <- as.data.frame(VarCorr(m))
  fe <- summary(m)$coefficients
  out <- list(
    source = sprintf("lme4 %s, %s, lmer(REML=TRUE, bobyqa)", packageVersion("lme4"), R.version.string),
    outcome = outcome,
    nobs = nobs(m),
    ngroups = length(unique(d$client_id)),
    terms = rownames(fe),
    estimate = unname(fe[, "Estimate"]),
    std_error = unname(fe[, "Std. Error"]),
    sd_intercept = vc$sdcor[vc$var1 == "(Intercept)" & is.na(vc$var2) & vc$grp == "client_id"],
    sd_week = vc$sdcor[vc$var1 == "week" & is.na(vc$var2) & vc$grp == "client_id"],
    corr = vc$sdcor[!is.na(vc$var2)],
    sd_residual = vc$sdcor[vc$grp == "Residual"],
    reml_criterion = unname(REMLcrit(m)),
    singular = isSingular(m)
  )
  write_json(out, file.path(here, paste0("lme4_", name, ".json")), auto_unbox = TRUE, digits = NA, pretty = TRUE)
}
