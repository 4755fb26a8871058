"""The proportional-hazards test of R's ``cox.zph`` (survival ≥ 3.0).

Grambsch and Therneau (1994) test proportional hazards by adding, for each
covariate x, a term x·g(t) to the fitted Cox model: g is a transform of time
and the test is the score test of the added coefficients being zero, at the
fitted coefficients of the model. survival 3.0 (2019) computes this score
test exactly, with the full 2p × 2p information matrix of the model with the
added terms (before 3.0 R, and lifelines today, approximate it from scaled
Schoenfeld residuals). :func:`cox_zph` computes it as survival 3.5's
``cox.zph`` and its C routine ``zph1`` do:

- ``gtime`` is the transformed time minus its mean over the events;
  ``"km"`` is 1 − S(t−), the left-continuous Kaplan–Meier curve of all rows
  pooled (strata and weights ignored), ``"rank"`` the rank of the time among
  all rows with ties given their average rank, ``"identity"`` and ``"log"``
  the time itself and its logarithm. Each transform is a function of the
  time, so tied times get the same value and no result depends on the order
  of the rows.
- Ties are handled by Efron's approximation (or Breslow's), as in the model
  fit; strata each have their own risk sets, the time transform is pooled.
- The score of the p model coefficients is taken as zero (they are at the
  maximum); the score of the p time terms is U = Σ g(t)·(x − x̄(t)) over the
  events, and a term's test statistic is U_j' I⁻¹ U_j from the rows and
  columns of the information matrix of all p model coefficients and the
  term's own time terms. A term is a covariate, or every dummy column of a
  categorical variable together (R's default ``terms = TRUE``: one test per
  variable, with as many degrees of freedom as columns). GLOBAL tests all
  time terms at once (p degrees of freedom).

References: Grambsch PM, Therneau TM (1994), Proportional hazards tests and
diagnostics based on weighted residuals, Biometrika 81:515–526; Therneau TM,
*Survival package ≥ 3.0*, the ``cox.zph`` help page and the vignette
"The survival package" (section on testing proportional hazards).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats as sps

#: The time transforms of R's ``cox.zph``, with "km" its default.
TRANSFORMS: tuple[str, ...] = ("km", "rank", "identity", "log")


def zph_time_transform(time: np.ndarray, event: np.ndarray, transform: str) -> np.ndarray:
    """The transformed times ``cox.zph`` uses (before centring), one per row.

    Parameters
    ----------
    time
        Follow-up times, one per row.
    event
        True where the row's time is an event.
    transform
        ``"km"`` (1 − the left-continuous Kaplan–Meier estimate of all rows at
        the time), ``"rank"`` (average ranks of the times among all rows),
        ``"identity"`` or ``"log"``.

    Returns
    -------
    numpy.ndarray
        The transformed time of every row.

    Raises
    ------
    ValueError
        For an unknown transform, or ``"log"`` with an event time ≤ 0.
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=bool)
    if transform == "identity":
        return time.copy()
    if transform == "log":
        if (time[event] <= 0).any():
            raise ValueError("the log time transform needs event times above 0")
        with np.errstate(divide="ignore"):
            return np.log(time)
    if transform == "rank":
        return sps.rankdata(time, method="average")
    if transform == "km":
        unique = np.unique(time)
        at_risk = len(time) - np.searchsorted(np.sort(time), unique, side="left")
        deaths = np.bincount(np.searchsorted(unique, time[event]), minlength=len(unique))
        survival = np.cumprod(1.0 - deaths / at_risk)
        # R: findInterval(times, km$time, left.open = TRUE) -> S just before t
        before = np.searchsorted(unique, time, side="left")
        return 1.0 - np.concatenate([[1.0], survival])[before]
    raise ValueError(f"unknown time transform {transform!r}; use one of {', '.join(TRANSFORMS)}")


def _score_and_information(
    time: np.ndarray,
    event: np.ndarray,
    x: np.ndarray,
    risk: np.ndarray,
    weights: np.ndarray,
    strata: np.ndarray,
    gtime: np.ndarray,
    efron: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """U (2p) and the information matrix (2p × 2p) of the model with x·g(t) terms added."""
    p = x.shape[1]
    u = np.zeros(2 * p)
    info = np.zeros((p, p))  # Σ over deaths of the weighted risk-set variance
    info_g = np.zeros((p, p))  # the same, times g(t)
    info_gg = np.zeros((p, p))  # the same, times g(t)²
    order = np.lexsort((-time, strata))  # by stratum, latest time first
    time, event, x, risk, weights, strata, gtime = (
        a[order] for a in (time, event, x, risk, weights, strata, gtime)
    )
    # blocks of rows with the same stratum and time
    new_block = np.ones(len(time), dtype=bool)
    new_block[1:] = (time[1:] != time[:-1]) | (strata[1:] != strata[:-1])
    starts = np.flatnonzero(new_block)
    ends = np.append(starts[1:], len(time))
    s0, s1, s2 = 0.0, np.zeros(p), np.zeros((p, p))
    for start, end in zip(starts, ends, strict=True):
        if start == 0 or strata[start] != strata[start - 1]:
            s0, s1, s2 = 0.0, np.zeros(p), np.zeros((p, p))
        xb, rb = x[start:end], risk[start:end]
        s0 = s0 + rb.sum()
        s1 = s1 + rb @ xb
        s2 = s2 + xb.T @ (rb[:, None] * xb)
        dead = event[start:end]
        n_dead = int(dead.sum())
        if n_dead == 0:
            continue
        xd, rd, wd = xb[dead], rb[dead], weights[start:end][dead]
        d0, d1, d2 = rd.sum(), rd @ xd, xd.T @ (rd[:, None] * xd)
        # Efron: the deaths leave the risk set in n_dead equal steps
        frac = np.arange(n_dead) / n_dead if efron else np.zeros(n_dead)
        denom = s0 - frac * d0
        means = (s1[None, :] - frac[:, None] * d1[None, :]) / denom[:, None]
        second = (s2[None, :, :] - frac[:, None, None] * d2[None, :, :]) / denom[:, None, None]
        wtave = wd.sum() / n_dead
        variance = wtave * (second - means[:, :, None] * means[:, None, :]).sum(axis=0)
        score = wd @ xd - wtave * means.sum(axis=0)
        g = gtime[start]
        u[:p] += score
        u[p:] += g * score
        info += variance
        info_g += g * variance
        info_gg += g * g * variance
    information = np.block([[info, info_g], [info_g, info_gg]])
    return u, information


def cox_zph(
    time: Sequence[float] | np.ndarray | pd.Series,
    event: Sequence[bool] | np.ndarray | pd.Series,
    covariates: pd.DataFrame,
    coef: Sequence[float] | np.ndarray | pd.Series,
    *,
    strata: Sequence[object] | np.ndarray | pd.Series | None = None,
    weights: Sequence[float] | np.ndarray | pd.Series | None = None,
    transform: str = "km",
    terms: Mapping[str, Sequence[str]] | None = None,
    ties: str = "efron",
    global_test: bool = True,
) -> pd.DataFrame:
    """R's ``cox.zph`` test of proportional hazards for a fitted Cox model.

    Parameters
    ----------
    time, event
        Follow-up time and event indicator (true/1 = event), one per row, as
        the model was fitted (right-censored data).
    covariates
        The model's design matrix (numeric columns, dummy columns for the
        levels of a categorical variable), one row per row of ``time``.
    coef
        The fitted coefficients, in the order of ``covariates``' columns (a
        Series is aligned to the columns by name).
    strata
        Stratum of each row (a stratified model), or ``None``.
    weights
        Case weights of the fit, or ``None`` (all 1).
    transform
        Time transform: ``"km"`` (R's default), ``"rank"``, ``"identity"``
        or ``"log"``; see :func:`zph_time_transform`.
    terms
        Term name → its columns, tested together (R's ``terms = TRUE`` for a
        categorical variable's dummies). Default: every column its own term
        (R's ``terms = FALSE``). Every column must be in exactly one term.
    ties
        ``"efron"`` (as ``coxph``'s default and lifelines) or ``"breslow"``.
    global_test
        Add the GLOBAL row (all time terms at once).

    Returns
    -------
    DataFrame
        ``term, transform, chisq, df, p``: one row per term in the order of
        ``terms`` (or the columns), then ``GLOBAL``; ``p`` is the upper tail
        of the χ² distribution with ``df`` degrees of freedom.

    Raises
    ------
    ValueError
        For lengths that do not match, missing values, an unknown transform
        or ties method, or terms that do not cover the columns once.
    """
    if ties not in ("efron", "breslow"):
        raise ValueError(f"unknown ties method {ties!r}; use 'efron' or 'breslow'")
    columns = list(covariates.columns)
    if terms is None:
        terms = {c: [c] for c in columns}
    listed = [c for cols in terms.values() for c in cols]
    if sorted(listed) != sorted(columns) or len(set(listed)) != len(listed):
        raise ValueError("terms must name every covariate column exactly once")
    x = covariates.to_numpy(dtype=float)
    n, p = x.shape
    t = np.asarray(time, dtype=float)
    d = np.asarray(event).astype(bool)
    beta = (
        coef.reindex(columns).to_numpy(dtype=float)
        if isinstance(coef, pd.Series)
        else np.asarray(coef, dtype=float)
    )
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    codes = (
        np.zeros(n, dtype=int)
        if strata is None
        else pd.factorize(pd.Series(np.asarray(strata, dtype=object)), sort=True)[0]
    )
    if not (len(t) == len(d) == len(w) == len(codes) == n) or len(beta) != p:
        raise ValueError("time, event, covariates, coef, strata and weights do not match")
    if np.isnan(x).any() or np.isnan(t).any() or np.isnan(beta).any() or (codes < 0).any():
        raise ValueError("missing values: fit and test the complete rows only")
    # centre the covariates as R does (for numerical stability; the test is invariant)
    x = x - x.mean(axis=0)
    eta = x @ beta
    risk = np.exp(eta - eta.max()) * w  # a common factor cancels
    ttimes = zph_time_transform(t, d, transform)
    gtime = ttimes - ttimes[d].mean()
    u, information = _score_and_information(t, d, x, risk, w, codes, gtime, efron=(ties == "efron"))
    position = {c: i for i, c in enumerate(columns)}
    rows = []
    tests = [(name, [position[c] for c in cols]) for name, cols in terms.items()]
    if global_test:
        tests.append(("GLOBAL", list(range(p))))
    for name, cols in tests:
        keep = list(range(p)) + [p + j for j in cols]
        score = np.concatenate([np.zeros(p), u[[p + j for j in cols]]])
        chisq = float(score @ np.linalg.solve(information[np.ix_(keep, keep)], score))
        rows.append(
            {
                "term": name,
                "transform": transform,
                "chisq": chisq,
                "df": len(cols),
                "p": float(sps.chi2.sf(chisq, len(cols))),
            }
        )
    return pd.DataFrame(rows, columns=["term", "transform", "chisq", "df", "p"])
