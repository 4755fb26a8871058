# Aalen–Johansen reference (R survival's multi-state survfit) for tests/test_r_reference.py.
# Input  surv.csv: episode_id, person_id, group, time, event (0 censored, 1, 2, 3 competing types).
# Output aj.csv: one row per group ("all" and each group), distinct time and event type (state):
#   pstate, se, lower, upper                     -- id = episode_id: episodes independent (IJ)
#   se_cluster, lower_cluster, upper_cluster     -- the IJ grouped by person
# survfit(..., id = episode_id, cluster = person_id) should give the grouped IJ, but survival
# 3.5-3's survfitCI passes `id`, not `cluster`, to its worker for multi-state curves, so the
# cluster argument has no effect there. The grouped IJ is therefore computed from R's own
# per-episode influence (influence = TRUE), summed within a person (rowsum) before squaring:
# what the cluster argument does (and does for Kaplan–Meier curves, see km.R).
suppressPackageStartupMessages(library(survival))
d <- read.csv("surv.csv", colClasses = c(episode_id = "character", person_id = "character",
                                         group = "character"))
confint_log <- function(p, se) survival:::survfit_confint(p, se, logse = FALSE,
                                                           conf.type = "log", conf.int = 0.95)
one <- function(rows, label) {
  rows$state <- factor(rows$event, levels = 0:3)
  fit <- survfit(Surv(time, state) ~ 1, data = rows, id = episode_id, influence = TRUE)
  person <- rows$person_id[match(dimnames(fit$influence.pstate)[[1]], rows$episode_id)]
  out <- NULL
  for (k in 1:3) {
    column <- match(as.character(k), fit$states)
    if (is.na(column)) next
    influence <- fit$influence.pstate[, -1, column, drop = FALSE]  # first column: time 0
    grouped <- rowsum(matrix(influence, nrow = dim(influence)[1]), person)
    se_cluster <- sqrt(colSums(grouped^2))
    ci <- confint_log(fit$pstate[, column], se_cluster)
    out <- rbind(out, data.frame(
      group = label, event = k, time = fit$time, pstate = fit$pstate[, column],
      se = fit$std.err[, column], lower = fit$lower[, column], upper = fit$upper[, column],
      se_cluster = se_cluster, lower_cluster = ci$lower, upper_cluster = ci$upper
    ))
  }
  out
}
out <- one(d, "all")
for (g in sort(unique(d$group))) out <- rbind(out, one(d[d$group == g, ], g))
write.csv(out, "aj.csv", row.names = FALSE)
