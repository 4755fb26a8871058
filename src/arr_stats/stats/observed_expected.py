"""Observed / expected of a binary outcome: the exact distribution of a sum of Bernoullis.

With a national case-mix model giving each episode its probability pᵢ, the
observed count O = Σ yᵢ of a unit that is "as expected" is a sum of
independent Bernoulli(pᵢ): Poisson-binomial, mean E = Σ pᵢ and variance
Σ pᵢ(1 − pᵢ) — smaller than the Poisson variance E that a count of rare
events would have. Everything here treats the pᵢ as known (E fixed), as
funnel plots of standardised ratios do (Spiegelhalter 2005).

- :func:`poisson_binomial_pmf` — P(O = 0 … n), exactly, by the recursion
  that adds one Bernoulli at a time;
- :func:`oe_control_limits` — a unit's funnel limits of O/E (Spiegelhalter's
  interpolated quantiles of O, each tail from its own side, divided by E);
- :func:`oe_interval` — the exact interval of O/E, inverting the two
  one-sided exact tests in the family logit pᵢ(θ) = logit pᵢ + θ;
- :func:`oe_funnel_limits` — the funnel lines: the control limits of units
  with the national case mix at a range of sizes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy import optimize, special

from arr_stats.stats.funnel import FUNNEL_LEVELS, INTERPOLATION_TAIL, count_limits

#: Probabilities are kept this far from 0 and 1 before the logit is taken.
_EDGE = 1e-12


def poisson_binomial_pmf(probabilities: Iterable[float]) -> np.ndarray:
    """P(O = 0 … n) of O = Σ Bernoulli(pᵢ), independent.

    Adds one Bernoulli at a time, P_j(k) = P_{j−1}(k)(1 − p_j) +
    P_{j−1}(k − 1)p_j: every term is non-negative, so the result is exact to
    rounding (no cancellation, unlike the Fourier form).

    Examples
    --------
    >>> poisson_binomial_pmf([0.2, 0.5]).round(6).tolist()
    [0.4, 0.5, 0.1]
    """
    p = np.asarray(list(probabilities), dtype=float)
    pmf = np.zeros(len(p) + 1)
    pmf[0] = 1.0
    for j, pj in enumerate(p):
        pmf[1 : j + 2] = pmf[1 : j + 2] * (1 - pj) + pmf[: j + 1] * pj
        pmf[0] *= 1 - pj
    return pmf


def oe_control_limits(
    probabilities: Iterable[float],
    levels: Sequence[float] = FUNNEL_LEVELS,
    interpolation: str = INTERPOLATION_TAIL,
) -> pd.DataFrame:
    """A unit's funnel limits of O/E when its episodes are as the model expects.

    The control limits of the Poisson-binomial count O
    (:func:`arr_stats.stats.funnel.count_limits`: Spiegelhalter's
    interpolated quantiles, each tail from its own side) divided by
    E = Σ pᵢ.

    Returns
    -------
    DataFrame
        ``expected, level, lower, upper``.

    Examples
    --------
    >>> f = oe_control_limits([0.5] * 20, levels=(0.95,))
    >>> round(float(f["lower"][0]), 6), round(float(f["upper"][0]), 6)
    (0.511647, 1.488353)
    """
    p = np.asarray(list(probabilities), dtype=float)
    expected = float(p.sum())
    pmf = poisson_binomial_pmf(p)
    rows = []
    for level in levels:
        lower = upper = math.nan
        if expected > 0:
            lower, upper = (c / expected for c in count_limits(pmf, level, interpolation))
        rows.append({"expected": expected, "level": level, "lower": lower, "upper": upper})
    return pd.DataFrame(rows, columns=["expected", "level", "lower", "upper"])


def _shifted(logits: np.ndarray, theta: float) -> np.ndarray:
    return special.expit(logits + theta)


def oe_interval(
    observed: float, probabilities: Iterable[float], level: float = 0.95
) -> tuple[float, float]:
    """Exact interval of O/E for a sum of Bernoullis.

    The unit's episodes are taken to follow the national model shifted by one
    log odds ratio θ: pᵢ(θ) = expit(logit pᵢ + θ). The limits θ_L, θ_U solve
    P_θ(O' ≥ O) = α/2 and P_θ(O' ≤ O) = α/2 under the Poisson-binomial
    distribution (the Clopper–Pearson construction), and the interval of the
    ratio is [Σ pᵢ(θ_L), Σ pᵢ(θ_U)] / E — the expected count of the shifted
    model over the national one, the quantity O/E estimates. The lower limit
    is 0 when O = 0 and the upper n / E when O = n (every episode an event).
    With all pᵢ equal to p it is the Clopper–Pearson interval of O/n
    divided by p.

    Returns
    -------
    tuple of float
        ``(lower, upper)``; NaN when there are no episodes.

    Examples
    --------
    >>> lo, hi = oe_interval(7, [0.5] * 20)
    >>> round(lo, 6), round(hi, 6)
    (0.307818, 1.184377)
    """
    p = np.clip(np.asarray(list(probabilities), dtype=float), _EDGE, 1 - _EDGE)
    n, o = len(p), int(round(float(observed)))
    expected = float(p.sum())
    if n == 0 or not 0 <= o <= n:
        return (math.nan, math.nan)
    logits = special.logit(p)
    tail = (1 - level) / 2

    def upper_tail(theta: float) -> float:  # P_θ(O' ≥ o) − α/2, increasing in θ
        pmf = poisson_binomial_pmf(_shifted(logits, theta))
        return float(pmf[o:].sum()) - tail

    def lower_tail(theta: float) -> float:  # P_θ(O' ≤ o) − α/2, decreasing in θ
        pmf = poisson_binomial_pmf(_shifted(logits, theta))
        return float(pmf[: o + 1].sum()) - tail

    span = 50.0 + float(np.abs(logits).max())
    lower = upper = n / expected
    if o > 0:
        theta_l = optimize.brentq(upper_tail, -span, span, xtol=1e-12, rtol=1e-12)
        lower = float(_shifted(logits, theta_l).sum()) / expected
    else:
        lower = 0.0
    if o < n:
        theta_u = optimize.brentq(lower_tail, -span, span, xtol=1e-12, rtol=1e-12)
        upper = float(_shifted(logits, theta_u).sum()) / expected
    return (lower, upper)


def reference_unit(probabilities: Iterable[float], size: int) -> np.ndarray:
    """The probabilities of a unit of ``size`` episodes with the national case mix.

    The national probabilities' quantiles at (i − ½)/size, i = 1 … size
    (R's type-7 quantiles): a unit whose episodes spread over the national
    risks as the nation's do.

    Examples
    --------
    >>> reference_unit([0.1, 0.2, 0.3, 0.4, 0.5], 2).round(6).tolist()
    [0.2, 0.4]
    """
    p = np.asarray(list(probabilities), dtype=float)
    return np.quantile(p, (np.arange(size) + 0.5) / size)


def oe_funnel_limits(
    probabilities: Iterable[float],
    sizes: Iterable[int],
    levels: Sequence[float] = FUNNEL_LEVELS,
) -> pd.DataFrame:
    """Funnel lines of O/E: the control limits of units with the national case mix.

    For each size m, :func:`oe_control_limits` of :func:`reference_unit`
    (m episodes at the national quantiles of p̂), at x = its E. A unit whose
    case mix is that of the nation has these limits; a unit's own limits
    (:func:`oe_control_limits` of its own p̂) decide whether it is outside.

    Parameters
    ----------
    probabilities
        Every episode's p̂ from the national model.
    sizes
        Numbers of episodes to draw the lines at.

    Returns
    -------
    DataFrame
        ``expected, level, lower, upper``, sorted by expected.
    """
    p = np.asarray(list(probabilities), dtype=float)
    frames = [
        oe_control_limits(reference_unit(p, int(m)), levels) for m in sorted(set(sizes)) if m > 0
    ]
    if not frames:
        return pd.DataFrame(columns=["expected", "level", "lower", "upper"])
    return pd.concat(frames, ignore_index=True)
