"""Standard intervals of a proportion and a mean, from statsmodels and scipy.

The package's one implementation of each: :func:`wilson_interval` for
proportions (statsmodels' ``proportion_confint(method="wilson")``);
:func:`grouped_wilson_interval` for a proportion of episodes when one person
may have several (the same Wilson interval at the effective sample size of the
variance grouped by person); :func:`clustered_wilson_interval` for a
proportion of answers that cluster in episodes (and episodes in persons);
:func:`t_interval` / :func:`t_summary` for means and mean changes (scipy's
t distribution), with a standard error grouped by person on request.
:func:`grouped_mean_variance` is the cluster-robust variance of a mean they
share. The tests compare them with hand-worked values and with R.
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


def _codes(cluster: Sequence[object] | np.ndarray | None, n: int) -> np.ndarray:
    """Integer codes 0 … G − 1 of ``cluster`` (one per value), or 0 … n − 1 when ``None``."""
    if cluster is None:
        return np.arange(n, dtype=np.int64)
    values = pd.Series(np.asarray(cluster, dtype=object))
    if len(values) != n:
        raise ValueError(f"cluster has {len(values)} values for {n} observations")
    if values.isna().any():
        raise ValueError("cluster has missing values; a grouped variance needs every row's")
    codes, _ = pd.factorize(values.astype(str), sort=True)
    return codes.astype(np.int64)


def grouped_mean_variance(
    values: Sequence[float] | np.ndarray,
    cluster: Sequence[object] | np.ndarray | None = None,
    small_sample: bool = True,
) -> tuple[float, int]:
    """Cluster-robust variance of the mean of ``values``, and the number of clusters.

    v = c · Σ_g (Σ_{i ∈ g} (x_i − x̄))² / n², the residuals of the mean summed
    within each cluster g before squaring: the sandwich variance of the
    intercept of ``lm(x ~ 1)`` with ``cluster`` (Liang & Zeger 1986), as R's
    ``sandwich::vcovCL(type = "HC0", cadjust = FALSE)`` gives it. With
    ``small_sample`` c = G/(G − 1) (G clusters; ``vcovCL``'s default
    ``cadjust``, Stata's ``mean …, vce(cluster)``), so that with one value per
    cluster v is the usual s²/n; without it c = 1, and with one value per
    cluster v = Σ (x_i − x̄)²/n², for 0/1 values the binomial p̂(1 − p̂)/n.
    ``cluster=None``: every value its own cluster.

    Parameters
    ----------
    values
        The observations (no missing values).
    cluster
        The cluster of each observation (e.g. its ``person_id``), or ``None``.
    small_sample
        Multiply by G/(G − 1).

    Returns
    -------
    tuple
        ``(variance, clusters)``; the variance is NaN when there are no
        values, or fewer than 2 clusters with ``small_sample``.

    Examples
    --------
    >>> # persons a (1, 1), b (0), c (1): residuals 0.25, 0.25 | −0.75 | 0.25
    >>> v, g = grouped_mean_variance([1, 1, 0, 1], ["a", "a", "b", "c"], small_sample=False)
    >>> round(v * 16, 6), g  # (0.5² + 0.75² + 0.25²) = 0.875
    (0.875, 3)
    """
    x = np.asarray(values, dtype=float)
    n = len(x)
    codes = _codes(cluster, n)
    groups = int(codes.max()) + 1 if n else 0
    if n == 0 or (small_sample and groups < 2):
        return (math.nan, groups)
    summed = np.bincount(codes, weights=x - x.mean(), minlength=groups)
    variance = float(np.sum(summed**2)) / n**2
    if small_sample:
        variance *= groups / (groups - 1)
    return (variance, groups)


def _wilson_at_effective_size(
    p: float, variance: float, cap: float, level: float
) -> tuple[float, float]:
    """Wilson at n_eff = p̂(1 − p̂)/variance, at most ``cap`` (= ``cap`` where variance is 0)."""
    n_eff = cap if variance <= 0 else min(cap, p * (1 - p) / variance)
    lower, upper = proportion_confint(p * n_eff, n_eff, alpha=1 - level, method="wilson")
    return (float(lower), float(upper))


def grouped_wilson_interval(
    outcomes: Sequence[float] | np.ndarray,
    cluster: Sequence[object] | np.ndarray | None = None,
    level: float = 0.95,
) -> tuple[float, float]:
    """Wilson interval of a proportion of episodes, at the effective sample size by person.

    The episodes' 0/1 ``outcomes`` give p̂ = their mean. Two episodes of one
    person are not independent, so the variance of p̂ is the cluster-robust
    one, v = Σ_persons (Σ_{i ∈ person} (y_i − p̂))² / n²
    (:func:`grouped_mean_variance` without the small-sample factor: what R's
    ``glm(y ~ 1)`` or ``lm(y ~ 1)`` with a sandwich grouped by person gives
    with ``type = "HC0"``), and the Wilson interval (statsmodels) is taken at
    the effective sample size n_eff = p̂(1 − p̂)/v = n / deff, Kish's design
    effect deff = v / (p̂(1 − p̂)/n). n_eff is capped at n: a design effect
    below 1 (a person's episodes negatively correlated, by chance) is not
    credited (Korn & Graubard 1998); where v = 0 (p̂ = 0 or 1) n_eff = n.
    When every person has one episode v = p̂(1 − p̂)/n and the interval is
    :func:`wilson_interval`; ``cluster=None`` gives that interval directly.
    Like every Wilson interval it stays in [0, 1].

    References: Korn EL, Graubard BI (1998), Survey Methodology 24:193–201;
    Dean N, Pagano M (2015), J Surv Stat Methodol 3:484–503.

    Parameters
    ----------
    outcomes
        0/1 per episode (no missing values).
    cluster
        The person of each episode, or ``None`` (episodes independent).
    level
        Confidence level.

    Returns
    -------
    tuple of float
        ``(lower, upper)``; NaN without episodes or with a value not 0/1.

    Examples
    --------
    >>> # persons a (1, 1), b (0), c (1): p̂ = 0.75, v = 0.875/16, n_eff = 3.43
    >>> lo, hi = grouped_wilson_interval([1, 1, 0, 1], ["a", "a", "b", "c"])
    >>> round(lo, 4), round(hi, 4)
    (0.2765, 0.9593)
    """
    y = np.asarray(outcomes, dtype=float)
    n = len(y)
    if n == 0 or np.any((y != 0) & (y != 1)):
        return (math.nan, math.nan)
    if cluster is None:
        return wilson_interval(float(y.sum()), n, level)
    variance, _ = grouped_mean_variance(y, cluster, small_sample=False)
    return _wilson_at_effective_size(float(y.mean()), variance, float(n), level)


def clustered_wilson_interval(
    shares: Sequence[float] | np.ndarray,
    trials_per_cluster: int,
    level: float = 0.95,
    cluster: Sequence[object] | np.ndarray | None = None,
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
    values = pd.to_numeric(pd.Series(np.asarray(shares, dtype=object)), errors="coerce")
    keep = values.notna().to_numpy()
    x = values[keep].to_numpy(dtype=float)
    n = len(x)
    if n < 2 or trials_per_cluster < 1 or np.any((x < 0) | (x > 1)):
        return (math.nan, math.nan)
    if cluster is None:
        variance = float(np.var(x, ddof=1)) / n
    else:
        variance, _ = grouped_mean_variance(x, np.asarray(cluster, dtype=object)[keep])
        if math.isnan(variance):
            return (math.nan, math.nan)
    return _wilson_at_effective_size(
        float(np.mean(x)), variance, float(n * trials_per_cluster), level
    )


def t_summary(
    values: Sequence[float] | np.ndarray,
    level: float = 0.95,
    cluster: Sequence[object] | np.ndarray | None = None,
) -> dict[str, float]:
    """n, mean, standard deviation and the t interval of the mean of ``values``.

    Missing values are ignored. The interval is mean ± t(n − 1)·sd/√n
    (the quantile from scipy's t distribution); NaN when n < 2.

    With ``cluster`` (the person of each value) the standard error is grouped
    by person: se² = :func:`grouped_mean_variance` (G/(G − 1) · Σ_g (Σ_{i ∈ g}
    (x_i − x̄))² / n², G persons), and the quantile is t(G − 1), the
    degrees of freedom of a cluster-robust mean (Stata's ``mean …,
    vce(cluster)``; Cameron & Miller 2015, J Hum Resour 50:317–372, section
    VI). With one value per person it is the interval above. NaN when
    G < 2. ``sd`` stays the standard deviation of the values.

    Examples
    --------
    >>> s = t_summary([1, 2, 3])
    >>> s["n"], s["mean"], s["sd"], round(s["lower"], 4), round(s["upper"], 4)
    (3, 2.0, 1.0, -0.4841, 4.4841)
    """
    numbers = pd.to_numeric(pd.Series(np.asarray(values, dtype=object)), errors="coerce")
    keep = numbers.notna().to_numpy()
    x = numbers[keep].to_numpy(dtype=float)
    n = len(x)
    mean = float(np.mean(x)) if n else math.nan
    sd = float(np.std(x, ddof=1)) if n > 1 else math.nan
    if cluster is not None and n:
        variance, groups = grouped_mean_variance(x, np.asarray(cluster, dtype=object)[keep])
        se, df = math.sqrt(variance) if groups > 1 else math.nan, groups - 1
    else:
        se, df = (sd / math.sqrt(n), n - 1) if n > 1 else (math.nan, 0)
    if df >= 1:  # mean ± t quantile · standard error (also when se = 0: the interval is the mean)
        half = float(stats.t.ppf(0.5 + level / 2, df)) * se
        lower, upper = mean - half, mean + half
    else:
        lower = upper = math.nan
    return {"n": n, "mean": mean, "sd": sd, "lower": float(lower), "upper": float(upper)}


def t_interval(
    values: Sequence[float] | np.ndarray,
    level: float = 0.95,
    cluster: Sequence[object] | np.ndarray | None = None,
) -> tuple[float, float]:
    """The t interval of the mean of ``values``, grouped by ``cluster`` if given (:func:`t_summary`).

    Examples
    --------
    >>> [round(v, 4) for v in t_interval([1, 2, 3])]
    [-0.4841, 4.4841]
    """
    summary = t_summary(values, level, cluster)
    return (summary["lower"], summary["upper"])
