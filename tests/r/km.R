# Kaplan–Meier reference (R survival's survfit) for tests/test_r_reference.py.
# Input  surv.csv: episode_id, person_id, group, time, status (1 = the event, 0 = censored).
# Output km.csv: one row per group ("all" and each group) and distinct time:
#   n_risk, n_event, surv, se (of S), lower, upper   -- episodes independent (Greenwood, log interval)
#   se_cluster, lower_cluster, upper_cluster          -- survfit(id = episode_id, cluster = person_id)
suppressPackageStartupMessages(library(survival))
d <- read.csv("surv.csv", colClasses = c(episode_id = "character", person_id = "character",
                                         group = "character"))
one <- function(rows, label) {
  naive <- survfit(Surv(time, status) ~ 1, data = rows)
  clustered <- survfit(Surv(time, status) ~ 1, data = rows, id = episode_id, cluster = person_id)
  stopifnot(all.equal(naive$surv, clustered$surv))
  data.frame(
    group = label, time = naive$time, n_risk = naive$n.risk, n_event = naive$n.event,
    surv = naive$surv,
    se = naive$std.err * naive$surv,  # fit$std.err is se(log S)
    lower = naive$lower, upper = naive$upper,
    se_cluster = clustered$std.err,  # the robust std.err of survfitKM is se(S) itself
    lower_cluster = clustered$lower, upper_cluster = clustered$upper
  )
}
out <- one(d, "all")
for (g in sort(unique(d$group))) out <- rbind(out, one(d[d$group == g, ], g))
write.csv(out, "km.csv", row.names = FALSE)
