"""Funnel-plot control limits of a proportion: exact binomial, and adjusted for overdispersion.

Spiegelhalter (2005), "Funnel plots for comparing institutional performance",
*Statistics in Medicine* 24:1185–1202, and FunnelPlotR (Mainey, NHS-R
community), whose formulas for proportions ("PR") this module follows:

- :func:`funnel_limits` — exact binomial limits around the target θ with
  Spiegelhalter's interpolation between the integer quantiles, so that the
  funnel is smooth; each tail is interpolated from its own side, so that a
  unit outside a limit has a tail probability below the nominal one
  (:func:`count_limits` says why, and keeps the paper's form as an option);
- :func:`overdispersion` — the arcsine z-scores of the units, winsorised at
  10 % at each end, their mean square φ, the test of overdispersion (k·φ
  against χ²ₖ) and the additive between-unit variance τ² (DerSimonian–Laird
  moment estimator written with φ, as FunnelPlotR's ``tau_func``);
- :func:`adjusted_funnel_limits` — FunnelPlotR's overdispersion-adjusted
  limits ``sin²(asin √θ ± z·sqrt(1/(4n) + τ²))``;
- :func:`proportion_funnel_limits` — the limits a report draws: adjusted
  when the test finds overdispersion, exact otherwise, named in ``method``.

The observed / expected funnel of a binary outcome is in
:mod:`arr_stats.stats.observed_expected`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

#: The funnel's control-limit levels (two-sided): about 2 and 3 standard deviations.
FUNNEL_LEVELS: tuple[float, float] = (0.95, 0.998)
#: Share winsorised at each end of the z-scores before φ is estimated (Spiegelhalter 2005, FunnelPlotR).
WINSORISE_SHARE = 0.1
#: Overdispersion is taken as present when the χ² test of φ rejects at this level.
OVERDISPERSION_TEST_LEVEL = 0.05
#: ``method`` of limits without adjustment.
METHOD_EXACT = "exact binomial"
#: ``method`` of limits adjusted for overdispersion.
METHOD_ADJUSTED = "overdispersion-adjusted (additive, FunnelPlotR)"

#: Each tail interpolated from its own side (the default; see :func:`count_limits`).
INTERPOLATION_TAIL = "tail"
#: The upper limit as Spiegelhalter (2005) writes it.
INTERPOLATION_SPIEGELHALTER = "spiegelhalter"

LIMIT_COLUMNS = ["denominator", "level", "lower", "upper"]


def interpolated_quantile(cdf: np.ndarray, pmf: np.ndarray, prob: float) -> float:
    """Spiegelhalter's interpolated ``prob`` quantile of a count with distribution ``cdf``.

    ``r`` is the smallest count with F(r) ≥ ``prob`` (R's ``qbinom``), and
    α = (F(r) − prob) / P(r); the quantile is r − α, which moves
    continuously with ``prob`` (Spiegelhalter 2005, appendix A.1.1).

    Parameters
    ----------
    cdf, pmf
        F(0 … n) and P(0 … n) of the count.
    prob
        Probability in (0, 1).

    Examples
    --------
    >>> pmf = np.array([0.25, 0.5, 0.25])
    >>> float(interpolated_quantile(np.cumsum(pmf), pmf, 0.5))
    0.5
    """
    # R's qbinom searches with a fuzz of 64 machine epsilons, so that F(r) = prob
    # up to rounding still counts as reaching prob
    reached = cdf >= prob * (1 - 64 * np.finfo(float).eps)
    r = int(np.argmax(reached)) if reached.any() else len(cdf) - 1
    alpha = (cdf[r] - prob) / pmf[r] if pmf[r] > 0 else 0.0
    return float(r - alpha)


def count_limits(
    pmf: np.ndarray, level: float, interpolation: str = INTERPOLATION_TAIL
) -> tuple[float, float]:
    """Lower and upper control limits of a count with distribution ``pmf`` (P(0 … n)).

    ``interpolation="tail"`` (the default) gives each tail Spiegelhalter's
    interpolation from its own side: the lower limit is the interpolated
    (1 − L)/2 quantile of the count Y, the upper limit n minus that of the
    complement n − Y. A count beyond either limit then has a tail
    probability below (1 − L)/2, as an exact test would require.
    ``interpolation="spiegelhalter"`` takes the upper limit as the paper
    writes it, the interpolated (1 + L)/2 quantile r − α of Y: up to one
    count lower, so a count equal to r is outside although P(Y ≥ r) exceeds
    (1 − L)/2 — at θ = 0,92 and n = 10 a unit with 10 of 10 (probability
    0,43) would be outside the 99,8 % limit.

    Returns
    -------
    tuple of float
        Counts, the lower at least 0 and the upper at most n.

    Examples
    --------
    >>> from scipy import stats
    >>> pmf = stats.binom.pmf(range(21), 20, 0.5)
    >>> [round(v, 6) for v in count_limits(pmf, 0.95)]
    [5.116471, 14.883529]
    >>> [round(v, 6) for v in count_limits(pmf, 0.95, "spiegelhalter")]
    [5.116471, 13.883529]
    """
    pmf = np.asarray(pmf, dtype=float)
    n = len(pmf) - 1
    tail = (1 - level) / 2
    lower = max(interpolated_quantile(np.minimum(np.cumsum(pmf), 1.0), pmf, tail), 0.0)
    if interpolation == INTERPOLATION_TAIL:
        complement = pmf[::-1]
        upper = n - max(
            interpolated_quantile(np.minimum(np.cumsum(complement), 1.0), complement, tail), 0.0
        )
    elif interpolation == INTERPOLATION_SPIEGELHALTER:
        upper = min(interpolated_quantile(np.minimum(np.cumsum(pmf), 1.0), pmf, 1 - tail), n)
    else:
        raise ValueError(f"interpolation must be 'tail' or 'spiegelhalter', not {interpolation!r}")
    return (lower, upper)


def funnel_limits(
    national_value: float,
    denominators: Iterable[float],
    levels: Sequence[float] = FUNNEL_LEVELS,
    interpolation: str = INTERPOLATION_TAIL,
) -> pd.DataFrame:
    """Exact binomial funnel limits of a proportion around the national value.

    For denominator n and target θ, :func:`count_limits` of Binomial(n, θ)
    divided by n (Spiegelhalter 2005's exact limits, each tail interpolated
    from its own side unless ``interpolation="spiegelhalter"``).
    Denominators are rounded to whole episodes.

    Returns
    -------
    DataFrame
        ``denominator, level, lower, upper``, one row per denominator and level.

    Examples
    --------
    >>> f = funnel_limits(0.5, [20], levels=(0.95,))
    >>> round(float(f["lower"][0]), 6), round(float(f["upper"][0]), 6)
    (0.255824, 0.744176)
    """
    theta = float(national_value)
    rows = []
    for n in denominators:
        size = int(round(float(n)))
        pmf = stats.binom.pmf(np.arange(size + 1), size, theta) if size > 0 else None
        for level in levels:
            if pmf is None or not 0 <= theta <= 1:
                lower = upper = math.nan
            else:
                lower, upper = (c / size for c in count_limits(pmf, level, interpolation))
            rows.append({"denominator": n, "level": level, "lower": lower, "upper": upper})
    return pd.DataFrame(rows, columns=LIMIT_COLUMNS)


@dataclass(frozen=True)
class Overdispersion:
    """Overdispersion of units' proportions around a target (Spiegelhalter 2005, §6).

    Attributes
    ----------
    k
        Units (z-scores) used.
    phi
        φ = mean of the squared winsorised z-scores; 1 when the units vary
        only as chance allows.
    statistic
        k·φ, χ² with k degrees of freedom when there is no overdispersion.
    p_value
        P(χ²ₖ ≥ k·φ).
    tau2
        The additive between-unit variance on the arcsine scale (0 when
        k·φ < k − 1).
    present
        Whether the test rejects at :data:`OVERDISPERSION_TEST_LEVEL`.
    """

    k: int
    phi: float
    statistic: float
    p_value: float
    tau2: float
    present: bool


def overdispersion(
    numerators: Iterable[float],
    denominators: Iterable[float],
    target: float,
    winsorise: float = WINSORISE_SHARE,
    test_level: float = OVERDISPERSION_TEST_LEVEL,
) -> Overdispersion:
    """φ, its χ² test and τ² from the units' proportions, as FunnelPlotR estimates them.

    z = (asin √(r/n) − asin √θ) · 2√n; the z-scores below their 10th and
    above their 90th percentile (R's type-7 quantiles) are set to those
    percentiles; φ = Σ z_w² / k. Without overdispersion k·φ is about χ²ₖ.
    τ² = (k·φ − (k − 1)) / (Σ w − Σ w² / Σ w) with w = 4n, and 0 when
    k·φ < k − 1 (FunnelPlotR ``winsorisation``, ``phi_func``, ``tau_func``).

    Parameters
    ----------
    numerators, denominators
        Each unit's count and denominator (units without both, or with a
        denominator of 0, are left out).
    target
        The centre θ (the national value).
    winsorise
        Share set to the percentile at each end.
    test_level
        Level of the χ² test that decides whether overdispersion is present.

    Returns
    -------
    Overdispersion

    Examples
    --------
    >>> od = overdispersion([50, 50, 50], [100, 100, 100], 0.5)
    >>> od.phi, od.tau2, od.present
    (0.0, 0.0, False)
    """
    r = np.asarray(list(numerators), dtype=float)
    n = np.asarray(list(denominators), dtype=float)
    keep = np.isfinite(r) & np.isfinite(n) & (n > 0)
    r, n = r[keep], n[keep]
    k = len(n)
    if k == 0:
        return Overdispersion(0, math.nan, math.nan, math.nan, 0.0, False)
    s = 1 / (2 * np.sqrt(n))
    z = (np.arcsin(np.sqrt(r / n)) - math.asin(math.sqrt(target))) / s
    low, high = np.quantile(z, [winsorise, 1 - winsorise])  # numpy's default = R type 7
    z = np.clip(z, low, high)
    phi = float(np.sum(z**2) / k)
    statistic = k * phi
    p_value = float(stats.chi2.sf(statistic, k))
    w = 1 / s**2
    tau2 = 0.0
    if statistic >= k - 1 and k > 1:
        tau2 = max(0.0, float((statistic - (k - 1)) / (w.sum() - (w**2).sum() / w.sum())))
    return Overdispersion(k, phi, statistic, p_value, tau2, bool(p_value < test_level))


def adjusted_funnel_limits(
    national_value: float,
    denominators: Iterable[float],
    tau2: float,
    levels: Sequence[float] = FUNNEL_LEVELS,
) -> pd.DataFrame:
    """Overdispersion-adjusted funnel limits of a proportion (FunnelPlotR, additive τ²).

    ``sin²(asin √θ ± z·sqrt(1/(4n) + τ²))``, z the two-sided normal
    quantile of the level. Where the angle leaves [0, π/2] the limit is 0
    or 1 (FunnelPlotR truncates the same non-monotone stretch by comparing
    neighbouring points of its grid; clipping the angle gives the same
    limits without depending on a grid).

    Returns
    -------
    DataFrame
        ``denominator, level, lower, upper``.

    Examples
    --------
    >>> f = adjusted_funnel_limits(0.5, [100], tau2=0.0, levels=(0.95,))
    >>> round(float(f["lower"][0]), 4), round(float(f["upper"][0]), 4)
    (0.4026, 0.5974)
    """
    centre = math.asin(math.sqrt(float(national_value)))
    rows = []
    for n in denominators:
        for level in levels:
            z = float(stats.norm.ppf(0.5 + level / 2))
            if float(n) > 0:
                half = z * math.sqrt(1 / (4 * float(n)) + tau2)
                lower = math.sin(max(centre - half, 0.0)) ** 2
                upper = math.sin(min(centre + half, math.pi / 2)) ** 2
            else:
                lower = upper = math.nan
            rows.append({"denominator": n, "level": level, "lower": lower, "upper": upper})
    return pd.DataFrame(rows, columns=LIMIT_COLUMNS)


def proportion_funnel_limits(
    national_value: float,
    denominators: Iterable[float],
    dispersion: Overdispersion,
    levels: Sequence[float] = FUNNEL_LEVELS,
) -> pd.DataFrame:
    """The limits to draw: adjusted when overdispersion is present, exact binomial otherwise.

    Returns
    -------
    DataFrame
        ``denominator, level, lower, upper, method`` (:data:`METHOD_EXACT` or
        :data:`METHOD_ADJUSTED`).
    """
    if dispersion.present:
        limits = adjusted_funnel_limits(national_value, denominators, dispersion.tau2, levels)
        return limits.assign(method=METHOD_ADJUSTED)
    return funnel_limits(national_value, denominators, levels).assign(method=METHOD_EXACT)
