# Reference fit of the case-mix model (arr_stats.indicators.casemix) with R's glm.
#
# Reads casemix.csv from the working directory: y (0/1), the categorical
# covariates age_group, sex, diagnosis_group, rehab_mode (missing already
# coded as its own level) and hrb_days_pre_12m. Each categorical covariate
# gets R's treatment contrasts with the reference level arr_stats uses: the
# first level in code-point order (C-locale radix sort). Writes
# glm_coefficients.csv: term (named as arr_stats names it: "const",
# "<variable>_<level>", "hrb_days_pre_12m"), estimate, std_error, and
# glm_fit.csv: converged, deviance, iterations.
d <- read.csv("casemix.csv", stringsAsFactors = FALSE, encoding = "UTF-8",
              colClasses = c(age_group = "character", sex = "character",
                             diagnosis_group = "character", rehab_mode = "character"))
categorical <- c("age_group", "sex", "diagnosis_group", "rehab_mode")
for (v in categorical) {
  d[[v]] <- factor(d[[v]], levels = sort(unique(d[[v]]), method = "radix"))
}
fit <- glm(y ~ age_group + sex + diagnosis_group + hrb_days_pre_12m + rehab_mode,
           family = binomial(), data = d,
           control = glm.control(epsilon = 1e-12, maxit = 100))
s <- summary(fit)$coefficients
term <- rownames(s)
term[term == "(Intercept)"] <- "const"
for (v in categorical) {
  hit <- startsWith(term, v)
  term[hit] <- paste0(v, "_", substring(term[hit], nchar(v) + 1))
}
write.csv(data.frame(term = term, estimate = s[, "Estimate"], std_error = s[, "Std. Error"]),
          "glm_coefficients.csv", row.names = FALSE, fileEncoding = "UTF-8")
write.csv(data.frame(converged = fit$converged, deviance = fit$deviance, iterations = fit$iter),
          "glm_fit.csv", row.names = FALSE)
