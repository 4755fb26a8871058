# Work-ability mixed model reference (nlme::lme, REML) for tests/test_r_reference.py.
# Input  wa.csv: episode_id, point (T0 … T3), work_ability.
# Output lme.csv: term (Intercept, point[T1] …, var(episode), var(residual)), estimate, std_error.
suppressPackageStartupMessages(library(nlme))
d <- read.csv("wa.csv", stringsAsFactors = FALSE)
d$point <- factor(d$point, levels = sort(unique(d$point)))
fit <- lme(work_ability ~ point, random = ~ 1 | episode_id, data = d, method = "REML",
           control = lmeControl(tolerance = 1e-12, msTol = 1e-14, niterEM = 100,
                                msMaxIter = 200, maxIter = 200))
fixed <- summary(fit)$tTable
terms <- sub("^point(.*)$", "point[\\1]", rownames(fixed))
terms[terms == "(Intercept)"] <- "Intercept"
components <- c(as.numeric(getVarCov(fit)), fit$sigma^2)  # VarCorr() rounds: its values are text
write.csv(data.frame(term = c(terms, "var(episode)", "var(residual)"),
                     estimate = c(fixed[, "Value"], components),
                     std_error = c(fixed[, "Std.Error"], NA, NA)),
          "lme.csv", row.names = FALSE)
