# Cause-specific Cox reference (R survival's coxph, Efron ties) for tests/test_r_reference.py.
# Input  cox.csv: duration, observed (0/1), person_id, stratum (empty: no strata) and one
#        numeric column per model term (the dummy coding is the tested code's design).
# Output cox.csv -> coef.csv: term, coef, se (model-based), se_robust and p_robust
#        (coxph(..., cluster = person_id): the sandwich with score residuals summed per person).
suppressPackageStartupMessages(library(survival))
d <- read.csv("cox.csv", check.names = FALSE, colClasses = c(person_id = "character",
                                                             stratum = "character"))
terms <- setdiff(names(d), c("duration", "observed", "person_id", "stratum"))
x <- as.matrix(d[, terms, drop = FALSE])
stratified <- any(!is.na(d$stratum) & d$stratum != "")
control <- coxph.control(eps = 1e-12, toler.chol = 1e-15, iter.max = 100)
if (stratified) {
  naive <- coxph(Surv(duration, observed) ~ x + strata(stratum), data = d, ties = "efron",
                 control = control)
  robust <- coxph(Surv(duration, observed) ~ x + strata(stratum), data = d, ties = "efron",
                  cluster = person_id, control = control)
} else {
  naive <- coxph(Surv(duration, observed) ~ x, data = d, ties = "efron", control = control)
  robust <- coxph(Surv(duration, observed) ~ x, data = d, ties = "efron",
                  cluster = person_id, control = control)
}
z <- coef(robust) / sqrt(diag(vcov(robust)))
write.csv(data.frame(term = terms, coef = unname(coef(naive)),
                     se = unname(sqrt(diag(vcov(naive)))),
                     se_robust = unname(sqrt(diag(vcov(robust)))),
                     p_robust = unname(2 * pnorm(-abs(z)))),
          "coef.csv", row.names = FALSE)
