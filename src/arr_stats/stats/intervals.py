"""Standard intervals of a proportion and a mean, from statsmodels and scipy.

The package's one implementation of each: :func:`wilson_interval` for
proportions (statsmodels' ``proportion_confint(method="wilson")``) and
:func:`t_interval` / :func:`t_summary` for means and mean changes (scipy's
t distribution). The tests compare both with hand-worked values and with R.
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
