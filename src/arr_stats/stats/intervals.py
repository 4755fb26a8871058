"""Standard intervals of a proportion and a mean, from statsmodels and scipy.

The package's one implementation of each: :func:`wilson_interval` for
proportions (statsmodels' ``proportion_confint(method="wilson")``),
:func:`clustered_wilson_interval` for a proportion of answers that cluster in
episodes (the same Wilson interval at the effective sample size), and
:func:`t_interval` / :func:`t_summary` for means and mean changes (scipy's
t distribution). The tests compare them with hand-worked values and with R.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.proportion import proportion_confint


def wilson_interval(successes: float, n: float, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion (statsmodels).

    ``(p̂ + z²/2n ± z·sqrt(p̂(1 − p̂)/n + z²/4n²)) / (1 + z²/n)``; NaN for an
    impossible count (n ≤ 0, successes outside 0 … n).

    Examples
    --------
    >>> lo, hi = wilson_interval(8, 10)
    >>> round(lo, 4), round(hi, 4)
    (0.4902, 0.9433)
    """
    if n <= 0 or successes < 0 or successes > n:
        return (math.nan, math.nan)
    lower, upper = proportion_confint(successes, n, alpha=1 - level, method="wilson")
    return (float(lower), float(upper))


def clustered_wilson_interval(
    shares: Sequence[float] | np.ndarray, trials_per_cluster: int, level: float = 0.95
) -> tuple[float, float]:
    """Wilson interval of a proportion whose trials come in clusters, at the effective sample size.

    Each cluster (an episode) contributes ``trials_per_cluster`` yes/no trials
    (its form's items), summarised by its share of yeses in ``shares``. The
    estimate p̂ is the mean share (= yeses / trials, every cluster having the
    same number of trials). Trials within a cluster are not independent, so
    the binomial n would overstate the information: the variance of p̂ is
    estimated from the clusters, v = s²/n (s² the sample variance of the n
    shares), and the Wilson interval (statsmodels) is taken at the effective
    sample size n_eff = p̂(1 − p̂)/v (Kish's design effect), capped at the
    number of trials n·m: a design effect below 1 is not credited (Korn &
    Graubard 1998). Where v = 0 (every share equal, e.g. all 1) n_eff = n·m.
    This is the Wilson interval with design-effect-adjusted sample size that
    Dean & Pagano (2015) recommend for clustered proportions; unlike the t
    interval of the mean share it never leaves [0, 1]. NaN when n < 2 (no
    variance between clusters can be estimated).

    References: Korn EL, Graubard BI (1998), Survey Methodology 24:193–201;
    Dean N, Pagano M (2015), J Surv Stat Methodol 3:484–503.

    Examples
    --------
    >>> # 4 episodes of 8 items: shares 1, 1, 0.75, 0.875 → p̂ = 0.90625
    >>> lo, hi = clustered_wilson_interval([1, 1, 0.75, 0.875], 8)
    >>> round(lo, 4), round(hi, 4)
    (0.727, 0.9723)
    """
    x = np.asarray(pd.to_numeric(pd.Series(shares), errors="coerce").dropna(), dtype=float)
    n = len(x)
    if n < 2 or trials_per_cluster < 1 or np.any((x < 0) | (x > 1)):
        return (math.nan, math.nan)
    p = float(np.mean(x))
    trials = float(n * trials_per_cluster)
    variance = float(np.var(x, ddof=1)) / n
    n_eff = trials if variance <= 0 else min(trials, p * (1 - p) / variance)
    lower, upper = proportion_confint(p * n_eff, n_eff, alpha=1 - level, method="wilson")
    return (float(lower), float(upper))


def t_summary(values: Sequence[float] | np.ndarray, level: float = 0.95) -> dict[str, float]:
    """n, mean, standard deviation and the t interval of the mean of ``values``.

    Missing values are ignored. The interval is mean ± t(n − 1)·sd/√n
    (the quantile from scipy's t distribution); NaN when n < 2.

    Examples
    --------
    >>> s = t_summary([1, 2, 3])
    >>> s["n"], s["mean"], s["sd"], round(s["lower"], 4), round(s["upper"], 4)
    (3, 2.0, 1.0, -0.4841, 4.4841)
    """
    x = np.asarray(pd.to_numeric(pd.Series(values), errors="coerce").dropna(), dtype=float)
    n = len(x)
    mean = float(np.mean(x)) if n else math.nan
    sd = float(np.std(x, ddof=1)) if n > 1 else math.nan
    if n > 1:  # mean ± t quantile · standard error (also when sd = 0: the interval is the mean)
        half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * sd / math.sqrt(n)
        lower, upper = mean - half, mean + half
    else:
        lower = upper = math.nan
    return {"n": n, "mean": mean, "sd": sd, "lower": float(lower), "upper": float(upper)}


def t_interval(values: Sequence[float] | np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """The t interval of the mean of ``values`` (see :func:`t_summary`).

    Examples
    --------
    >>> [round(v, 4) for v in t_interval([1, 2, 3])]
    [-0.4841, 4.4841]
    """
    summary = t_summary(values, level)
    return (summary["lower"], summary["upper"])
