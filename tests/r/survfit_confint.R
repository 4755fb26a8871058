# Reference pointwise intervals: R survival's survfit_confint (the function
# survfit uses), called as survfit does for a probability whose standard error
# is of the probability itself (logse = FALSE), upper limit capped (ulimit).
#
# Reads ci_input.csv (p, se; "NA" for a missing se) from the working directory
# and writes ci_<type>.csv (lower, upper; NA where R gives none) for the types
# log, log-log and plain, at the level given in ci_level.csv.
library(survival)
d <- read.csv("ci_input.csv")
level <- read.csv("ci_level.csv")$level
for (type in c("log", "log-log", "plain")) {
  ci <- survival:::survfit_confint(d$p, d$se, logse = FALSE, conf.type = type,
                                   conf.int = level)
  write.csv(data.frame(lower = ci$lower, upper = ci$upper),
            paste0("ci_", type, ".csv"), row.names = FALSE)
}
cat(as.character(packageVersion("survival")), file = "survival_version.txt")
