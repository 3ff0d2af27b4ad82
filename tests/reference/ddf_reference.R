# Denominator degrees of freedom references for tests/test_mixed_ddf.py:
# lmerTest's Satterthwaite df and pbkrtest's Kenward-Roger df and adjusted
# standard errors, per fixed effect and for one linear contrast per fit.
#
# Run from the repository root:  Rscript tests/reference/ddf_reference.R
# Needs R with lme4, lmerTest, pbkrtest and jsonlite (Debian: r-base-core
# r-cran-lme4 r-cran-lmertest r-cran-pbkrtest). Writes ddf_reference.json beside
# this script; tests read the JSON and never need R.
#
# Every model is fitted at lme4's tight optimum (BOBYQA, rhoend 1e-10), as in
# lme4_reference.R, so that the references do not carry an optimiser's
# stopping error. Per fixed effect:
#   satterthwaite: summary(fit, ddf = "Satterthwaite")  (lmerTest; estimate, SE, df, t, p)
#   kenward_roger: summary(fit, ddf = "Kenward-Roger")  (lmerTest calling pbkrtest::vcovAdj
#                  and pbkrtest::Lb_ddf: adjusted SE, df, t, p)
# and for the contrast L:
#   contest1D(fit, L, ddf = "Satterthwaite") and contest1D(fit, L, ddf = "Kenward-Roger"),
#   plus pbkrtest::KRmodcomp(fit, t(L)) (its F test's ddf and p-value) as a cross-check.

suppressPackageStartupMessages({
  library(lme4)
  library(lmerTest)
  library(pbkrtest)
  library(jsonlite)
})

here <- "tests/reference"
tight <- lmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-10, maxfun = 1e5))

volume_formula <- function(outcome) {
  paste(outcome, "~ week + strength_sets_within + flexibility_min_within +",
        "strength_x_flexibility_within + strength_sets_between + flexibility_min_between + (week | client_id)")
}

table_of <- function(coefs) {
  list(
    terms = rownames(coefs),
    estimate = unname(coefs[, "Estimate"]),
    std_error = unname(coefs[, "Std. Error"]),
    df = unname(coefs[, "df"]),
    statistic = unname(coefs[, "t value"]),
    p_value = unname(coefs[, "Pr(>|t|)"])
  )
}

contrast_of <- function(test) {
  list(
    estimate = test$Estimate,
    std_error = test[["Std. Error"]],
    df = test$df,
    statistic = test[["t value"]],
    p_value = test[["Pr(>|t|)"]]
  )
}

fits <- list()
add_fit <- function(name, data_file, formula_text, data, contrast) {
  fit <- lmerTest::lmer(as.formula(formula_text), data = data, REML = TRUE, control = tight)
  terms <- names(fixef(fit))
  L <- setNames(numeric(length(terms)), terms)
  L[names(contrast)] <- unlist(contrast)
  kr <- KRmodcomp(fit, matrix(L, nrow = 1))
  fits[[name]] <<- list(
    data = data_file,
    formula = formula_text,
    nobs = nobs(fit),
    ngroups = as.list(ngrps(fit)),
    reml_criterion = REMLcrit(fit),
    theta = unname(getME(fit, "theta")),
    singular = isSingular(fit),
    satterthwaite = table_of(summary(fit, ddf = "Satterthwaite")$coefficients),
    kenward_roger = table_of(summary(fit, ddf = "Kenward-Roger")$coefficients),
    contrast = list(
      weights = as.list(contrast),
      satterthwaite = contrast_of(contest1D(fit, L, ddf = "Satterthwaite")),
      kenward_roger = contrast_of(contest1D(fit, L, ddf = "Kenward-Roger")),
      krmodcomp = list(ddf = kr$test["Ftest", "ddf"], p_value = kr$test["Ftest", "p.value"],
                       F_scaling = kr$test["Ftest", "F.scaling"])
    )
  )
}

add_fit("sleepstudy", "sleepstudy.csv", "Reaction ~ Days + (Days | Subject)",
        read.csv(file.path(here, "sleepstudy.csv")), list("(Intercept)" = 1, Days = 5))
for (name in c("nprs_150x16", "odi_150x16")) {
  path <- file.path(here, "volume_model", paste0("design_", name, ".csv"))
  outcome <- readLines(sub("\\.csv$", ".outcome", path))[1]
  add_fit(name, file.path("volume_model", basename(path)), volume_formula(outcome), read.csv(path),
          list(strength_sets_between = 1, strength_sets_within = -1))
}
add_fit("intercept_arms", "panel_intercept_arms.csv", "y ~ dose * arm + age + (1 | group)",
        read.csv(file.path(here, "panel_intercept_arms.csv")), list(armb = 1, armc = -1))
# A boundary fit (slope SD 0, correlation -1): the Hessian has a zero eigenvalue (pseudo-inverse).
add_fit("singular", "panel_singular.csv", "y ~ x + time + (time | group)",
        read.csv(file.path(here, "panel_singular.csv")), list(x = 1, time = 1))

out <- list(
  generated_by = "tests/reference/ddf_reference.R",
  r_version = R.version.string,
  lme4_version = as.character(packageVersion("lme4")),
  lmerTest_version = as.character(packageVersion("lmerTest")),
  pbkrtest_version = as.character(packageVersion("pbkrtest")),
  fits = fits
)
write_json(out, file.path(here, "ddf_reference.json"), auto_unbox = TRUE, digits = NA, pretty = TRUE)
