"""Funnel-plot control limits: proportions around a centre, observed/expected ratios around 1."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import pandas as pd
from scipy import stats


def funnel_limits(
    national_value: float,
    denominators: Iterable[float],
    levels: Sequence[float] = (0.95, 0.998),
) -> pd.DataFrame:
    """Funnel-plot control limits of a proportion around the national value.

    Normal approximation to the binomial: ``p ± z·sqrt(p(1 − p)/n)``, clipped
    to [0, 1], with z the two-sided quantile of each level.

    Returns
    -------
    DataFrame
        ``denominator, level, lower, upper``, one row per denominator and level.

    Examples
    --------
    >>> f = funnel_limits(0.5, [100], levels=(0.95,))
    >>> round(float(f["lower"][0]), 4), round(float(f["upper"][0]), 4)
    (0.402, 0.598)
    """
    rows = []
    p = float(national_value)
    for n in denominators:
        for level in levels:
            z = float(stats.norm.ppf(0.5 + level / 2))
            half = z * math.sqrt(p * (1 - p) / n) if n > 0 else math.nan
            rows.append(
                {
                    "denominator": n,
                    "level": level,
                    "lower": max(0.0, p - half),
                    "upper": min(1.0, p + half),
                }
            )
    return pd.DataFrame(rows, columns=["denominator", "level", "lower", "upper"])


def oe_funnel_limits(
    expected: Iterable[float], levels: Sequence[float] = (0.95, 0.998)
) -> pd.DataFrame:
    """Funnel-plot control limits of an observed / expected ratio around 1.

    With E treated as fixed and O as Poisson with mean E under "no
    difference", the ratio O / E has variance 1 / E; the limits are the
    normal approximation ``1 ± z / sqrt(E)`` (Spiegelhalter 2005, funnel
    plots for indirectly standardised ratios), the lower clipped at 0.

    Returns
    -------
    DataFrame
        ``expected, level, lower, upper``, one row per expected count and level.

    Examples
    --------
    >>> f = oe_funnel_limits([100], levels=(0.95,))
    >>> round(float(f["lower"][0]), 4), round(float(f["upper"][0]), 4)
    (0.804, 1.196)
    """
    rows = []
    for e in expected:
        for level in levels:
            z = float(stats.norm.ppf(0.5 + level / 2))
            half = z / math.sqrt(e) if e > 0 else math.nan
            rows.append(
                {"expected": e, "level": level, "lower": max(0.0, 1 - half), "upper": 1 + half}
            )
    return pd.DataFrame(rows, columns=["expected", "level", "lower", "upper"])
