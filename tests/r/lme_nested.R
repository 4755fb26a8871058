# Work-ability mixed model with episodes nested in persons, for tests/test_r_reference.py.
# Input  wa.csv: person_id, episode_id, point (T0 … T3), work_ability.
# Model  work_ability ~ point, random intercepts per person and per episode within person:
#        nlme::lme(random = ~ 1 | person_id/episode_id), REML.
# On the demo data lme's optimiser (nlminb) stops about 2e-4 short in the variance
# components (tighter controls end in "singular convergence"), so the reference is the
# REML optimum found here by optim on the same likelihood, written out by hand:
#   V_person = s2 (I + ge B + gp J), B the episodes' blocks of ones, J all ones;
#   A = I + ge B has A^-1 = I - ge/(1 + ge n_e) 1 1' within episode e, and
#   V/s2 = A + gp 1 1' by Sherman-Morrison; log|V/s2| = sum log(1 + ge n_e) + log(1 + gp 1'A^-1 1).
#   profiled over s2 (REML): ll = -((N - k)(log(2 pi s2) + 1) + log|V/s2| + log|X' (V/s2)^-1 X|)/2.
# That the hand likelihood is lme's is checked: at lme's estimates the two agree (ll_at_lme).
# Output lme_nested.csv: term (Intercept, point[T1] …, var(person), var(episode), var(residual),
#        loglik, ll_at_lme), estimate, std_error, lme (lme's own estimate; its loglik at loglik).
suppressPackageStartupMessages(library(nlme))
d <- read.csv("wa.csv", stringsAsFactors = FALSE, colClasses = c(person_id = "character",
              episode_id = "character"))
d$point <- factor(d$point, levels = sort(unique(d$point)))
fit <- lme(work_ability ~ point, random = ~ 1 | person_id/episode_id, data = d, method = "REML",
           control = lmeControl(tolerance = 1e-12, msTol = 1e-14, niterEM = 100,
                                msMaxIter = 200, maxIter = 200))
X <- model.matrix(~ point, d)
y <- d$work_ability
N <- nrow(X); k <- ncol(X)
episode <- paste(d$person_id, d$episode_id)
person_of_episode <- tapply(d$person_id, episode, function(v) v[1])
ne <- as.numeric(table(episode)[rownames(rowsum(y, episode))])
Sx <- rowsum(X, episode); Sy <- rowsum(y, episode)
pe <- person_of_episode[rownames(Sx)]
XX <- crossprod(X); Xy <- crossprod(X, y); yy <- sum(y^2)
parts <- function(gp, ge) {
  w <- 1 / (1 + ge * ne)
  XAX <- XX - crossprod(Sx, (ge * w) * Sx)
  XAy <- Xy - crossprod(Sx, (ge * w) * Sy)
  yAy <- yy - sum(ge * w * Sy^2)
  a <- rowsum(w * Sx, pe); b <- rowsum(w * Sy, pe); cc <- as.numeric(rowsum(w * ne, pe))
  f <- gp / (1 + gp * cc)
  XVX <- XAX - crossprod(a, f * a)
  XVy <- XAy - crossprod(a, f * b)
  yVy <- yAy - sum(f * b^2)
  beta <- solve(XVX, XVy)
  s2 <- as.numeric(yVy - crossprod(beta, XVy)) / (N - k)
  logdet <- sum(log(1 + ge * ne)) + sum(log(1 + gp * cc))
  ll <- -0.5 * ((N - k) * (log(2 * pi * s2) + 1) + logdet +
                as.numeric(determinant(XVX)$modulus))
  list(ll = ll, beta = as.numeric(beta), s2 = s2, se = sqrt(diag(s2 * solve(XVX))))
}
lme_var <- coef(fit$modelStruct$reStruct, unconstrained = FALSE) * fit$sigma^2
lme_person <- lme_var[["person_id.var((Intercept))"]]
lme_episode <- lme_var[["episode_id.var((Intercept))"]]
lme_s2 <- fit$sigma^2
at_lme <- parts(lme_person / lme_s2, lme_episode / lme_s2)
opt <- optim(log(c(lme_person, lme_episode) / lme_s2),
             function(g) -parts(exp(g[1]), exp(g[2]))$ll,
             method = "BFGS", control = list(reltol = 1e-16, maxit = 1000))
g <- exp(opt$par)
best <- parts(g[1], g[2])
fixed <- summary(fit)$tTable
terms <- sub("^point(.*)$", "point[\\1]", colnames(X))
terms[terms == "(Intercept)"] <- "Intercept"
write.csv(data.frame(
  term = c(terms, "var(person)", "var(episode)", "var(residual)", "loglik", "ll_at_lme"),
  estimate = c(best$beta, g * best$s2, best$s2, best$ll, at_lme$ll),
  std_error = c(best$se, NA, NA, NA, NA, NA),
  lme = c(fixed[, "Value"], lme_person, lme_episode, lme_s2, as.numeric(logLik(fit)), NA)),
  "lme_nested.csv", row.names = FALSE)
