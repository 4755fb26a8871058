# Reference funnel limits, written by hand in base R from the published formulas.
#
# Reads (from the working directory, written by tests/test_funnel.py):
#   params.csv  target (the centre θ), observed (O of the O/E unit)
#   units.csv   numerator, denominator of each unit (the overdispersion estimate)
#   grid.csv    denominator (where the limits are computed)
#   oe.csv      p (the O/E unit's episode probabilities from the case-mix model)
# Writes r_exact.csv, r_dispersion.csv, r_adjusted.csv, r_pmf.csv, r_oe_limits.csv,
# r_oe_interval.csv.
#
# Exact binomial limits: Spiegelhalter (2005), "Funnel plots for comparing
# institutional performance", Stat Med 24:1185-1202, appendix A.1.1: r_p is
# qbinom(p, n, θ), α = (F(r_p) − p) / (F(r_p) − F(r_p − 1)), limit (r_p − α)/n;
# both that upper limit ("spiegelhalter") and the one interpolated from its own
# tail ("tail", the package's default) are written out.
# Overdispersion: FunnelPlotR (nhs-r-community) for proportions ("PR"):
# transformed_zscore, winsorisation (10 % each end, quantile type 7), phi_func,
# tau_func, calculate_limits with draw_adjusted = TRUE. FunnelPlotR is not
# installed here; its formulas are copied out below. One difference, on purpose:
# where asin(√θ) ∓ z·sd leaves [0, π/2] the limit is set to 0 or 1 directly
# (FunnelPlotR does the same by comparing neighbouring grid points).

levels <- c(0.95, 0.998)
params <- read.csv("params.csv")
units <- read.csv("units.csv")
grid <- read.csv("grid.csv")
target <- params$target[1]

# Spiegelhalter's interpolated quantile r_p − α of a count with P(0 … n) = pmf
interpolated <- function(pmf, prob) {
  cdf <- pmin(cumsum(pmf), 1)
  r <- which(cdf >= prob * (1 - 64 * .Machine$double.eps))[1] - 1 # counts start at 0
  r - (cdf[r + 1] - prob) / pmf[r + 1]
}
# Control limits of a count: lower = the interpolated (1 − L)/2 quantile; upper
# either as the paper writes it (the (1 + L)/2 quantile) or from its own tail
# (n minus the lower limit of the complement n − Y).
count_limits <- function(pmf, level, interpolation) {
  n <- length(pmf) - 1
  tail <- (1 - level) / 2
  lower <- max(interpolated(pmf, tail), 0)
  upper <- if (interpolation == "tail") n - max(interpolated(rev(pmf), tail), 0) else
    min(interpolated(pmf, 1 - tail), n)
  c(lower, upper)
}
# The paper's formula written with qbinom/pbinom, as a check on `interpolated`
paper_upper <- function(n, theta, prob) {
  rp <- qbinom(prob, n, theta)
  alpha <- (pbinom(rp, n, theta) - prob) / (pbinom(rp, n, theta) - pbinom(rp - 1, n, theta))
  pmin((rp - alpha) / n, 1)
}

exact <- do.call(rbind, lapply(c("tail", "spiegelhalter"), function(interpolation) {
  do.call(rbind, lapply(levels, function(level) {
    lim <- t(sapply(grid$denominator, function(n) {
      count_limits(dbinom(0:n, n, target), level, interpolation) / n
    }))
    data.frame(
      interpolation = interpolation, denominator = grid$denominator, level = level,
      lower = lim[, 1], upper = lim[, 2]
    )
  }))
}))
paper <- exact$interpolation == "spiegelhalter"
stopifnot(isTRUE(all.equal(
  exact$upper[paper], paper_upper(exact$denominator[paper], target, (1 + exact$level[paper]) / 2),
  tolerance = 1e-12
)))
write.csv(exact, "r_exact.csv", row.names = FALSE)

# FunnelPlotR transformed_zscore (PR), with the national value as target
target_t <- asin(sqrt(target))
y <- asin(sqrt(units$numerator / units$denominator))
s <- 1 / (2 * sqrt(units$denominator))
z <- (y - target_t) / s
# winsorisation
lz <- quantile(z, 0.1)
uz <- quantile(z, 0.9)
wz <- ifelse(z < lz, lz, ifelse(z > uz, uz, z))
# phi_func, tau_func
k <- length(wz)
phi <- sum(wz^2) / k
tau2 <- if (k * phi < k - 1) 0 else
  max(0, (k * phi - (k - 1)) / (sum(1 / s^2) - sum((1 / s^2)^2) / sum(1 / s^2)))
write.csv(
  data.frame(
    k = k, phi = phi, statistic = k * phi,
    p_value = pchisq(k * phi, k, lower.tail = FALSE), tau2 = tau2
  ),
  "r_dispersion.csv", row.names = FALSE
)

# calculate_limits, PR, draw_adjusted = TRUE
adjusted <- do.call(rbind, lapply(levels, function(level) {
  zq <- qnorm(0.5 + level / 2)
  sd <- sqrt(1 / (4 * grid$denominator) + tau2)
  data.frame(
    denominator = grid$denominator, level = level,
    lower = sin(pmax(target_t - zq * sd, 0))^2,
    upper = sin(pmin(target_t + zq * sd, pi / 2))^2
  )
}))
write.csv(adjusted, "r_adjusted.csv", row.names = FALSE)

# Observed / expected of a sum of Bernoullis: the Poisson-binomial distribution
p <- read.csv("oe.csv")$p
observed <- params$observed[1]
pb_pmf <- function(p) {
  pmf <- 1
  for (pj in p) pmf <- c(pmf * (1 - pj), 0) + c(0, pmf * pj)
  pmf
}
pmf <- pb_pmf(p)
write.csv(data.frame(count = seq_along(pmf) - 1, pmf = pmf), "r_pmf.csv", row.names = FALSE)

expected <- sum(p)
oe_limits <- t(sapply(levels, function(level) count_limits(pmf, level, "tail") / expected))
write.csv(
  data.frame(level = levels, lower = oe_limits[, 1], upper = oe_limits[, 2]),
  "r_oe_limits.csv", row.names = FALSE
)

# Exact interval: logit p_i(θ) = logit p_i + θ; P_θ(O' ≥ O) = α/2 and P_θ(O' ≤ O) = α/2
shifted <- function(theta) plogis(qlogis(p) + theta)
tail <- 0.025
n <- length(p)
at_least <- function(theta) sum(pb_pmf(shifted(theta))[(observed + 1):(n + 1)]) - tail
at_most <- function(theta) sum(pb_pmf(shifted(theta))[1:(observed + 1)]) - tail
theta_l <- uniroot(at_least, c(-60, 60), tol = 1e-13)$root
theta_u <- uniroot(at_most, c(-60, 60), tol = 1e-13)$root
write.csv(
  data.frame(
    lower = sum(shifted(theta_l)) / expected,
    upper = sum(shifted(theta_u)) / expected
  ),
  "r_oe_interval.csv", row.names = FALSE
)
