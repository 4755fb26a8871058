# Case-mix logistic model reference (R glm, binomial, logit) for tests/test_r_reference.py.
# Input  glm.csv: y (0/1), age_group, sex, diagnosis_group, rehab_mode (text; "NA" = missing,
#        coded as its own category "ukjent" as the package does), hrb_days_pre_12m (numeric);
#        references.csv: variable, reference (the level without a term of its own).
# Output glm_coef.csv: term (const, <variable>_<level>, hrb_days_pre_12m), estimate, std_error.
# The design is built here from the raw columns: one 0/1 column per level present other than
# the reference, named as the package names them.
d <- read.csv("glm.csv", stringsAsFactors = FALSE, na.strings = "NA")
references <- read.csv("references.csv", stringsAsFactors = FALSE)
x <- data.frame(const = rep(1, nrow(d)))
for (i in seq_len(nrow(references))) {
  variable <- references$variable[i]
  values <- ifelse(is.na(d[[variable]]), "ukjent", d[[variable]])
  for (level in setdiff(unique(values), references$reference[i])) {
    x[[paste0(variable, "_", level)]] <- as.numeric(values == level)
  }
}
x$hrb_days_pre_12m <- d$hrb_days_pre_12m
x <- as.matrix(x)
fit <- glm(d$y ~ 0 + x, family = binomial(), control = glm.control(epsilon = 1e-14, maxit = 100))
write.csv(data.frame(term = colnames(x), estimate = unname(coef(fit)),
                     std_error = unname(sqrt(diag(vcov(fit))))),
          "glm_coef.csv", row.names = FALSE)
