# Reference numbers for tests/test_cox_zph.py: R's cox.zph (survival >= 3.0).
#
# Reads, in the working directory:
#   data.csv     time, status (1 = event), optionally stratum and weight (case weights),
#                and the covariates; a factor covariate is coded 0, 1, ..., k - 1
#                (0 = reference level)
#   model.csv    variable, type ("factor" or "numeric"), nlevels: the covariates in
#                model order
#   settings.csv key, value: ties ("efron" or "breslow"), transforms ("km|rank|...")
# Writes:
#   coef.csv     name, coef: coxph's coefficients
#   zph.csv      terms (TRUE = R's default, a test per variable; FALSE = per column),
#                transform, term, chisq, df, p: cox.zph's table, GLOBAL row included
library(survival)

data <- read.csv("data.csv", check.names = FALSE)
model <- read.csv("model.csv", stringsAsFactors = FALSE)
settings <- read.csv("settings.csv", stringsAsFactors = FALSE)
setting <- function(key) settings$value[settings$key == key]

for (i in seq_len(nrow(model))) {
  if (model$type[i] == "factor") {
    v <- model$variable[i]
    data[[v]] <- factor(data[[v]], levels = seq_len(model$nlevels[i]) - 1L)
  }
}
rhs <- paste0("`", model$variable, "`", collapse = " + ")
if ("stratum" %in% names(data)) rhs <- paste(rhs, "+ strata(stratum)")
if (!("weight" %in% names(data))) data$weight <- 1
fit <- coxph(as.formula(paste("Surv(time, status) ~", rhs)), data = data, weights = weight,
             ties = setting("ties"), control = coxph.control(eps = 1e-10, iter.max = 100))

write.csv(data.frame(name = names(coef(fit)), coef = unname(coef(fit))),
          "coef.csv", row.names = FALSE)

out <- NULL
for (transform in strsplit(setting("transforms"), "|", fixed = TRUE)[[1]]) {
  for (terms in c(TRUE, FALSE)) {
    tbl <- cox.zph(fit, transform = transform, terms = terms)$table
    out <- rbind(out, data.frame(terms = terms, transform = transform,
                                 term = rownames(tbl), chisq = tbl[, "chisq"],
                                 df = tbl[, "df"], p = tbl[, "p"]))
  }
}
write.csv(out, "zph.csv", row.names = FALSE)
