# Intervals of a proportion, a share of items and a mean, grouped by person, for
# tests/test_r_reference.py. sandwich and survey are not installed: the cluster-robust
# variance of the mean is written out as the sandwich of lm(y ~ 1) with the score
# contributions X * residual summed per person (what sandwich::vcovCL gives).
# Input  grouped.csv: set, kind (proportion | share | mean), y, person, trials (items per episode).
# Output grouped.csv -> grouped_out.csv: set, estimate, se, clusters, n_eff, lower, upper
#        (episodes independent: se_iid, lower_iid, upper_iid).
d <- read.csv("grouped.csv", stringsAsFactors = FALSE, colClasses = c(person = "character"))
z <- qnorm(0.975)
wilson <- function(p, n) {  # Wilson (1927) score interval at a (possibly fractional) n
  centre <- (p + z^2 / (2 * n)) / (1 + z^2 / n)
  half <- z * sqrt(p * (1 - p) / n + z^2 / (4 * n^2)) / (1 + z^2 / n)
  c(centre - half, centre + half)
}
sandwich_var <- function(y, cluster, adjust) {
  fit <- lm(y ~ 1)
  X <- model.matrix(fit)
  bread <- solve(crossprod(X))
  U <- rowsum(X * residuals(fit), cluster)  # score contributions summed per cluster
  G <- nrow(U)
  v <- bread %*% crossprod(U) %*% bread
  if (adjust) v <- v * G / (G - 1)
  list(var = as.numeric(v), clusters = G, mean = unname(coef(fit)))
}
rows <- list()
for (s in unique(d$set)) {
  x <- d[d$set == s, ]
  n <- nrow(x)
  kind <- x$kind[1]
  if (kind == "proportion") {  # HC0: with one episode per person it is p(1 - p)/n
    g <- sandwich_var(x$y, x$person, adjust = FALSE)
    p <- g$mean
    n_eff <- if (g$var > 0) min(n, p * (1 - p) / g$var) else n
    ci <- wilson(p, n_eff)
    iid <- wilson(p, n)
    se_iid <- sqrt(p * (1 - p) / n)
  } else if (kind == "share") {  # G/(G - 1): with one episode per person it is s^2/n
    g <- sandwich_var(x$y, x$person, adjust = TRUE)
    p <- g$mean
    cap <- n * x$trials[1]
    n_eff <- if (g$var > 0) min(cap, p * (1 - p) / g$var) else cap
    ci <- wilson(p, n_eff)
    v_iid <- var(x$y) / n
    iid <- wilson(p, if (v_iid > 0) min(cap, p * (1 - p) / v_iid) else cap)
    se_iid <- sqrt(v_iid)
  } else {  # mean: cluster-robust se, t on G - 1 degrees of freedom
    g <- sandwich_var(x$y, x$person, adjust = TRUE)
    n_eff <- NA
    ci <- g$mean + c(-1, 1) * qt(0.975, g$clusters - 1) * sqrt(g$var)
    tt <- t.test(x$y)
    iid <- as.numeric(tt$conf.int)
    se_iid <- sd(x$y) / sqrt(n)
  }
  rows[[s]] <- data.frame(set = s, estimate = g$mean, se = sqrt(g$var), clusters = g$clusters,
                          n_eff = n_eff, lower = ci[1], upper = ci[2], se_iid = se_iid,
                          lower_iid = iid[1], upper_iid = iid[2])
}
write.csv(do.call(rbind, rows), "grouped_out.csv", row.names = FALSE)
