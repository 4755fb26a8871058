"""Variances that account for several episodes of one person: grouped influences.

A person may have several rehabilitation episodes; their outcomes are not
independent. The estimators with a variance take ``cluster`` (default
:data:`~arr_stats.domain.DEFAULT_CLUSTER`, ``"person_id"``): the influence
of every episode on the estimate is summed within the person before
squaring, the variance R's ``survfit(..., id = episode, cluster = person)``
and ``coxph(..., cluster = person)`` report (``docs/survival.md``).

- :func:`grouped_ij_variance` – Kaplan–Meier and Aalen–Johansen curves;
- :func:`efron_score_residuals` – the Cox model's robust (sandwich) variance;
- :data:`INTERVAL_NOTES` / :func:`interval_note`, :data:`INDICATOR_INTERVAL_NOTES`
  / :func:`indicator_interval_note`, :data:`OE_INTERVAL_NOTES` – the sentence
  a table or figure prints to say which variance its intervals use.

The proportions, shares and means (Wilson at the effective sample size, the t
interval) take ``cluster`` too; their grouped variance of a mean is
:func:`arr_stats.stats.intervals.grouped_mean_variance`. The work-ability
mixed model nests episodes in persons
(:class:`arr_stats.stats.work_ability.WorkAbilityMixedModel`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from arr_stats.domain import EVENT_CENSORED
from arr_stats.stats.curves import _risk_table

#: What the intervals of a clustered (``True``) or unclustered (``False``)
#: estimate rest on, per language: the one source of the report's and the
#: notebooks' footnotes.
INTERVAL_NOTES: dict[str, dict[bool, str]] = {
    "nb": {
        True: (
            "Konfidensintervallene tar hensyn til at samme person kan ha flere opphold "
            "(robust varians, gruppert på person)."
        ),
        False: (
            "Konfidensintervallene behandler oppholdene som uavhengige, også når samme "
            "person har flere opphold."
        ),
    },
    "en": {
        True: (
            "The confidence intervals allow for one person having several episodes "
            "(robust variance, grouped by person)."
        ),
        False: (
            "The confidence intervals treat episodes as independent, also when one "
            "person has several episodes."
        ),
    },
}


#: The indicator tables' footnote, by whether the intervals were grouped by
#: person (``True``: :func:`~arr_stats.indicators.aggregate_indicators`'s
#: default ``cluster="person_id"``) or not. Every interval of an episode
#: indicator is grouped (Wilson at the effective sample size, the t interval of
#: ``arr_wa_change``, the cumulative incidence); ``arr_dg`` counts the patients on
#: the institution's form, who are not identified, and is not.
INDICATOR_INTERVAL_NOTES: dict[str, dict[bool, str]] = {
    "nb": {
        True: (
            "Intervallene tar hensyn til at samme person kan ha flere opphold (variansen "
            "er gruppert på person; for andeler Wilson med effektivt utvalg, for "
            "gjennomsnitt t med antall personer − 1 frihetsgrader). Dekningsgraden "
            "teller pasienter fra institusjonens skjema og er ikke gruppert."
        ),
        False: (
            "Intervallene behandler oppholdene som uavhengige, også når samme person har "
            "flere opphold."
        ),
    },
    "en": {
        True: (
            "The intervals allow for one person having several episodes (variance grouped "
            "by person; for proportions Wilson at the effective sample size, for means t "
            "on persons − 1 degrees of freedom). Coverage counts the patients on the "
            "institution's form and is not grouped."
        ),
        False: (
            "The intervals treat episodes as independent, also when one person has "
            "several episodes."
        ),
    },
}

#: The footnote of observed / expected ratios and their funnel limits: the
#: exact Poisson-binomial distribution assumes independent episodes, also two
#: of one person (docs/indicators.md says why that is kept).
OE_INTERVAL_NOTES: dict[str, str] = {
    "nb": (
        "KI og kontrollgrensene behandler oppholdene som uavhengige, også to opphold av "
        "samme person; i ett års kull er det nesten aldri mer enn ett opphold per person."
    ),
    "en": (
        "The interval and the control limits treat episodes as independent, also two "
        "episodes of one person; one year's cohort almost never has more than one "
        "episode per person."
    ),
}


def _checked(lang: str) -> str:
    if lang not in INTERVAL_NOTES:
        raise ValueError(f"lang must be one of {sorted(INTERVAL_NOTES)}, got {lang!r}")
    return lang


def indicator_interval_note(cluster: str | None, lang: str = "nb") -> str:
    """The indicator table's footnote: whether its intervals were grouped by person.

    Parameters
    ----------
    cluster
        The ``cluster`` the indicators were aggregated with (``None``:
        episodes independent).
    lang
        ``"nb"`` or ``"en"``.

    Returns
    -------
    str

    Examples
    --------
    >>> indicator_interval_note(None, "en")
    'The intervals treat episodes as independent, also when one person has several episodes.'
    """
    return INDICATOR_INTERVAL_NOTES[_checked(lang)][cluster is not None]


def interval_note(cluster: str | None, lang: str = "nb") -> str:
    """The footnote saying which variance an estimate's intervals use.

    Parameters
    ----------
    cluster
        The fitted object's ``cluster_`` (the column the variance was grouped
        by, or ``None`` when episodes were treated as independent).
    lang
        ``"nb"`` or ``"en"``.

    Returns
    -------
    str

    Examples
    --------
    >>> interval_note("person_id", "en")
    'The confidence intervals allow for one person having several episodes (robust variance, grouped by person).'
    """
    return INTERVAL_NOTES[_checked(lang)][cluster is not None]


def cluster_codes(df: pd.DataFrame, cluster: str | None) -> np.ndarray | None:
    """Integer codes 0 … G − 1 of the ``cluster`` column, or ``None``.

    ``None`` (episodes independent) when ``cluster`` is ``None`` or the table
    has no such column (a hand-made table without persons); the fitted
    objects record which in ``cluster_``. A missing cluster value is an
    error.

    Parameters
    ----------
    df
        The rows of one fit.
    cluster
        The grouping column.

    Returns
    -------
    ndarray or None
    """
    if cluster is None or cluster not in df.columns:
        return None
    values = df[cluster]
    if values.isna().any():
        raise ValueError(f"{cluster} has missing values; a clustered variance needs every row's")
    codes, _ = pd.factorize(values.astype(str), sort=True)
    return codes.astype(np.int64)


def grouped_ij_variance(
    time: np.ndarray,
    event: np.ndarray,
    event_of_interest: int,
    cluster: np.ndarray,
) -> np.ndarray:
    """Grouped infinitesimal-jackknife variance of an Aalen–Johansen curve at every distinct time.

    Var F_k(t) = Σ_g (Σ_{i ∈ g} U_i(t))², U_i(t) = ∂F_k(t)/∂w_i the influence
    of episode i (see ``arr_stats.stats.competing_risks._ij_variance``), summed
    within each cluster g before squaring: R's ``survfit(..., id =,
    cluster =)``. With one episode per cluster it is the ungrouped IJ. For a
    Kaplan–Meier curve pass the codes with every other event set to 0: F is
    then 1 − S and has S's variance.

    An episode's influence at t_J is x_i − φ y_i once it has left (x, y fixed
    by its exit day and type, φ = F_k(t_J)) and −c = −(P_J − φ Q_J) while it
    is at risk. So a cluster's sum is X_g − φ Y_g − m_g c, with X_g, Y_g the
    sums over its members that have left and m_g the number still at risk,
    and

        Σ_g (X_g − φ Y_g − m_g c)² = ΣX² − 2φ ΣXY + φ² ΣY²
                                     − 2c (ΣmX − φ ΣmY) + c² Σm²,

    each sum over clusters a step function of t that changes only when a
    member leaves: O(episodes + distinct times), no influence matrix.

    Parameters
    ----------
    time, event
        Follow-up time and event code (0 = censored) per episode.
    event_of_interest
        The event code whose cumulative incidence the variance is of.
    cluster
        Integer cluster code per episode (:func:`cluster_codes`).

    Returns
    -------
    ndarray
        The variance at each row of ``_risk_table(time, event, event_of_interest)``.
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=int)
    cluster = np.asarray(cluster, dtype=np.int64)
    table = _risk_table(time, event, event_of_interest)
    n = table["at_risk"].to_numpy(dtype=float)
    d_k = table["events"].to_numpy(dtype=float)
    d_other = table["competing"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        live = n > 0
        hazard = np.where(live, (d_k + d_other) / n, 0.0)
        hazard_k = np.where(live, d_k / n, 0.0)
        survival_before = np.concatenate([[1.0], np.cumprod(1 - hazard)[:-1]])
        phi = np.cumsum(survival_before * hazard_k)
        u = np.where(hazard < 1, 1 / (1 - hazard), 0.0)
        v = phi * u
        inv_n = np.where(live, 1 / n, 0.0)
    p_sum = np.cumsum((survival_before * hazard_k + v * hazard) * inv_n)
    q_sum = np.cumsum(u * hazard * inv_n)
    # x, y of each episode from its exit day j and type (as in _ij_variance)
    j = np.searchsorted(table["time"].to_numpy(dtype=float), time)
    is_k = event == event_of_interest
    is_other = ~is_k & (event != EVENT_CENSORED)
    x = -p_sum[j] + np.where(is_k, survival_before[j] * inv_n[j], 0.0)
    x = x + np.where(is_k | is_other, v[j] * inv_n[j], 0.0)
    y = -q_sum[j] + np.where(is_k | is_other, u[j] * inv_n[j], 0.0)
    # members of a cluster in exit order; sums over the earlier ones
    order = np.lexsort((j, cluster))
    g, j, x, y = cluster[order], j[order], x[order], y[order]
    first = np.r_[True, g[1:] != g[:-1]]
    start = np.flatnonzero(first)
    size = np.diff(np.r_[start, len(g)])
    start_of = np.repeat(start, size)
    rank = np.arange(len(g)) - start_of
    x_cum, y_cum = np.cumsum(x), np.cumsum(y)
    x_base = np.r_[0.0, x_cum][start_of]
    y_base = np.r_[0.0, y_cum][start_of]
    x_after = x_cum - x_base
    y_after = y_cum - y_base
    x_before, y_before = x_after - x, y_after - y
    m_before = np.repeat(size, size) - rank
    m_after = m_before - 1
    rows = len(table)

    def stepped(increment: np.ndarray, initial: float = 0.0) -> np.ndarray:
        return initial + np.cumsum(np.bincount(j, weights=increment, minlength=rows))

    sxx = stepped(x_after**2 - x_before**2)
    sxy = stepped(x_after * y_after - x_before * y_before)
    syy = stepped(y_after**2 - y_before**2)
    smx = stepped(m_after * x_after - m_before * x_before)
    smy = stepped(m_after * y_after - m_before * y_before)
    smm = stepped(m_after**2 - m_before**2, float(np.sum(size.astype(float) ** 2)))
    c = p_sum - phi * q_sum
    variance = sxx - 2 * phi * sxy + phi**2 * syy - 2 * c * (smx - phi * smy) + c**2 * smm
    # rounding can leave −1e−18 where the variance is 0 (before the first event)
    return np.clip(variance, 0.0, None)


def efron_score_residuals(
    time: np.ndarray,
    observed: np.ndarray,
    covariates: np.ndarray,
    coef: np.ndarray,
    strata: np.ndarray | None = None,
) -> np.ndarray:
    """Score residuals of a Cox model with Efron's handling of ties (R ``residuals(fit, "score")``).

    At an event time with d tied events, Efron's partial likelihood has d
    terms; in term k (k = 0 … d − 1) every tied event counts with weight
    1 − k/d, everyone else at risk with weight 1: denominator
    D_k = Σ_risk r − (k/d) Σ_tied r and mean x̄_k = (Σ_risk r x − (k/d) Σ_tied r x)/D_k.
    Episode i's residual sums over the event times at which it is at risk

        Σ_k (x_i − x̄_k) (δ_i / d − r_i c_ik / D_k),

    c_ik = 1 − k/d if i is one of the tied events, else 1; δ_i = 1 at its own
    event time. The residuals sum to the score (0 at the estimate). The
    robust variance is V (RᵀR) V with V the model-based variance and R the
    residuals summed per cluster (``coxph(cluster = )``).

    Parameters
    ----------
    time, observed
        Follow-up time and event indicator (0/1) per row.
    covariates
        The design matrix (rows × terms), on the scale of ``coef``.
    coef
        The fitted coefficients.
    strata
        Integer stratum code per row, or ``None``.

    Returns
    -------
    ndarray
        Rows × terms.
    """
    time = np.asarray(time, dtype=float)
    observed = np.asarray(observed, dtype=int)
    covariates = np.asarray(covariates, dtype=float)
    strata = np.zeros(len(time), dtype=np.int64) if strata is None else np.asarray(strata)
    out = np.zeros_like(covariates)
    for stratum in np.unique(strata):
        rows = np.flatnonzero(strata == stratum)
        out[rows] = _efron_stratum(time[rows], observed[rows], covariates[rows], coef)
    return out


def _efron_stratum(
    time: np.ndarray, observed: np.ndarray, covariates: np.ndarray, coef: np.ndarray
) -> np.ndarray:
    x = covariates - covariates.mean(axis=0)  # residuals do not depend on centring
    r = np.exp(x @ coef)
    times = np.unique(time)
    index = np.searchsorted(times, time)
    rows = len(times)
    width = x.shape[1]
    # sums over the risk set (time ≥ t) and over the events at t
    s0 = np.cumsum(np.bincount(index, weights=r, minlength=rows)[::-1])[::-1]
    s1 = np.zeros((rows, width))
    s1_tied = np.zeros((rows, width))
    event = observed == 1
    for column in range(width):
        per_time = np.bincount(index, weights=r * x[:, column], minlength=rows)
        s1[:, column] = np.cumsum(per_time[::-1])[::-1]
        s1_tied[:, column] = np.bincount(
            index[event], weights=(r * x[:, column])[event], minlength=rows
        )
    s0_tied = np.bincount(index[event], weights=r[event], minlength=rows)
    tied = np.bincount(index[event], minlength=rows)
    # per event time: A = Σ_k 1/D_k, B = Σ_k x̄_k/D_k; the tied events' A', B'
    # with weights 1 − k/d; M = Σ_k x̄_k / d
    a_all, a_tied = np.zeros(rows), np.zeros(rows)
    b_all, b_tied, mean = np.zeros((rows, width)), np.zeros((rows, width)), np.zeros((rows, width))
    for t in np.flatnonzero(tied):
        d = tied[t]
        frac = np.arange(d) / d
        denom = s0[t] - frac * s0_tied[t]
        xbar = (s1[t] - frac[:, None] * s1_tied[t]) / denom[:, None]
        a_all[t] = np.sum(1 / denom)
        a_tied[t] = np.sum((1 - frac) / denom)
        b_all[t] = np.sum(xbar / denom[:, None], axis=0)
        b_tied[t] = np.sum(((1 - frac) / denom)[:, None] * xbar, axis=0)
        mean[t] = xbar.mean(axis=0)
    # sums over the event times strictly before each row's time
    a_before = np.r_[0.0, np.cumsum(a_all)[:-1]][index]
    b_before = np.vstack([np.zeros((1, width)), np.cumsum(b_all, axis=0)[:-1]])[index]
    resid = -r[:, None] * (x * a_before[:, None] - b_before)
    own_a = np.where(event, a_tied[index], a_all[index])
    own_b = np.where(event[:, None], b_tied[index], b_all[index])
    resid -= r[:, None] * (x * own_a[:, None] - own_b)
    resid += np.where(event[:, None], x - mean[index], 0.0)
    return resid


def robust_variance(residuals: np.ndarray, variance: np.ndarray, cluster: np.ndarray) -> np.ndarray:
    """The sandwich V (RᵀR) V with R the score residuals summed per cluster.

    Parameters
    ----------
    residuals
        Score residuals, rows × terms (:func:`efron_score_residuals`).
    variance
        The model-based variance (inverse information), terms × terms.
    cluster
        Integer cluster code per row.

    Returns
    -------
    ndarray
        Terms × terms.
    """
    groups = int(cluster.max()) + 1 if len(cluster) else 0
    summed = np.zeros((groups, residuals.shape[1]))
    np.add.at(summed, cluster, residuals)
    dfbeta = summed @ variance
    return dfbeta.T @ dfbeta
