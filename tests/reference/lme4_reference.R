# lme4 reference fits for tests/test_mixed.py and tests/test_mixed_engine.py.
#
# Run from the repository root:  Rscript tests/reference/lme4_reference.R
# Needs R with lme4 and jsonlite (Debian: r-base-core r-cran-lme4 r-cran-jsonlite).
# Reads the panels written by simulate_reference_panels.py, exports lme4's
# sleepstudy to sleepstudy.csv, and writes every fit to lme4_reference.json
# beside this script. Tests read the JSON; they never need R.
#
# Each model is fitted twice: with lme4's default optimizer (nloptwrap), as a
# user gets it, recorded under "default_fit"; and with BOBYQA at tight
# tolerances (rhoend 1e-10), the reference optimum recorded at the top level.

suppressPackageStartupMessages({
  library(lme4)
  library(jsonlite)
})

here <- "tests/reference"
write.csv(sleepstudy, file.path(here, "sleepstudy.csv"), row.names = FALSE)

read_panel <- function(name) read.csv(file.path(here, paste0(name, ".csv")))

describe <- function(fit, name, data_file, formula_text) {
  vc <- as.data.frame(VarCorr(fit))
  sds <- vc[is.na(vc$var2) & vc$grp != "Residual", ]
  cors <- vc[!is.na(vc$var2), ]
  coefs <- summary(fit)$coefficients
  reml <- isREML(fit)
  list(
    name = name,
    data = data_file,
    formula = formula_text,
    reml = reml,
    nobs = nobs(fit),
    ngroups = as.list(ngrps(fit)),
    fixef = as.list(setNames(coefs[, "Estimate"], rownames(coefs))),
    se = as.list(setNames(coefs[, "Std. Error"], rownames(coefs))),
    sd = as.list(setNames(sds$sdcor, sds$var1)),
    corr = as.list(setNames(cors$sdcor, paste(cors$var1, cors$var2, sep = ":"))),
    sigma = sigma(fit),
    theta = unname(getME(fit, "theta")),
    loglik = as.numeric(logLik(fit)),
    reml_criterion = if (reml) REMLcrit(fit) else NA,
    deviance = if (reml) NA else deviance(fit),
    singular = isSingular(fit),
    messages = as.list(c(fit@optinfo$conv$lme4$messages, fit@optinfo$warnings))
  )
}

fits <- list()
tight <- lmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-10, maxfun = 1e5))
add_fit <- function(name, data_file, formula_text, data, reml = TRUE) {
  form <- as.formula(formula_text)
  fit <- lmer(form, data = data, REML = reml, control = tight)
  default <- suppressWarnings(lmer(form, data = data, REML = reml))
  entry <- describe(fit, name, data_file, formula_text)
  entry$default_fit <- describe(default, name, data_file, formula_text)[
    c("fixef", "se", "theta", "loglik", "reml_criterion", "deviance", "messages")]
  fits[[name]] <<- entry
  invisible(fit)
}

sleep <- add_fit("sleepstudy", "sleepstudy.csv", "Reaction ~ Days + (Days | Subject)", sleepstudy)
re <- ranef(sleep, condVar = TRUE)$Subject
post_sd <- t(apply(attr(re, "postVar"), 3, function(v) sqrt(diag(v))))
fits$sleepstudy$ranef <- list(
  group = rownames(re),
  Intercept = re[["(Intercept)"]],
  Days = re$Days,
  Intercept_sd = post_sd[, 1],
  Days_sd = post_sd[, 2]
)
fits$sleepstudy$fitted_first10 <- unname(fitted(sleep)[1:10])
fits$sleepstudy$population_first10 <- unname(predict(sleep, re.form = NA)[1:10])

add_fit("slope200", "panel_slope200.csv",
        "pain ~ week + strength_within * flex_within + strength_between + flex_between + (week | client)",
        read_panel("panel_slope200"))
add_fit("intercept_arms", "panel_intercept_arms.csv",
        "y ~ dose * arm + age + (1 | group)", read_panel("panel_intercept_arms"))
add_fit("singular", "panel_singular.csv",
        "y ~ x + time + (time | group)", read_panel("panel_singular"))
three <- read_panel("panel_three_re")
add_fit("three_re", "panel_three_re.csv", "y ~ t + x1 + x2 + (t + x1 | group)", three)
add_fit("three_re_ml", "panel_three_re.csv", "y ~ t + x1 + x2 + (t + x1 | group)", three, reml = FALSE)

out <- list(
  generated_by = "tests/reference/lme4_reference.R",
  r_version = R.version.string,
  lme4_version = as.character(packageVersion("lme4")),
  fits = fits
)
write_json(out, file.path(here, "lme4_reference.json"), auto_unbox = TRUE, digits = NA, pretty = TRUE)
