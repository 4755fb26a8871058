"""Aalen–Johansen cumulative incidence with competing events, exact with tied days.

For sustainable RTW (``rtw_event`` 1) full disability (2) and death (3)
compete; code 0 is censoring. Estimates, standard errors and intervals are
those of R's ``survfit`` (``docs/survival.md``).

Examples
--------
>>> import pandas as pd
>>> outcomes = pd.DataFrame({"rtw_time": [2, 2, 3, 4, 4, 6],
...                          "rtw_event": [1, 2, 0, 1, 1, 0]})
>>> cif = cumulative_incidence(outcomes, event=1)
>>> cif[["time", "at_risk", "events", "competing", "censored"]].to_numpy().tolist()
[[0, 6, 0, 0, 0], [2, 6, 1, 1, 1], [3, 4, 0, 0, 1], [4, 3, 2, 0, 0], [6, 1, 0, 0, 1]]
>>> round(float(cif["estimate"].iloc[-1]), 6)  # 1/6 + (2/3)(2/3) = 11/18
0.611111"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import pandas as pd

from arr_stats.domain import DEFAULT_CLUSTER, EVENT_RTW
from arr_stats.stats.clustering import cluster_codes, grouped_ij_variance
from arr_stats.stats.curves import (
    CONF_TYPES,
    _check_choice,
    _finish_curve,
    _groups,
    _risk_table,
    _time_event,
    _z,
    confidence_interval,
    value_at,
)
from arr_stats.stats.fitted import Fitted
from arr_stats.stats.kaplan_meier import kaplan_meier

#: The variances :func:`cumulative_incidence` offers (``variance``); ``"ij"``
#: (the infinitesimal jackknife) is R's default for Aalen–Johansen curves.
AJ_VARIANCES: tuple[str, ...] = ("ij", "delta")


def _delta_variance(
    n: np.ndarray,
    d_k: np.ndarray,
    d: np.ndarray,
    survival_before: np.ndarray,
    cif: np.ndarray,
) -> np.ndarray:
    """Marubini–Valsecchi delta-method variance of F_k at every distinct time.

    Var F_k(t_J) expanded so that (F_J − F_j)² and (F_J − F_j) become
    cumulative sums (one pass instead of a double loop). When everyone at
    risk has an event (n_j = d_j) S drops to 0, F is constant afterwards and
    the first term's factor (F_J − F_j) is 0: that term contributes 0.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where((n > d) & (n > 0), d / (n * (n - d)), 0.0)
        b = np.where(n > 0, survival_before**2 * d_k * (n - d_k) / n**3, 0.0)
        c = np.where(n > 0, survival_before * d_k / n**2, 0.0)
    return (
        cif**2 * np.cumsum(a)
        - 2 * cif * np.cumsum(cif * a)
        + np.cumsum(cif**2 * a)
        + np.cumsum(b)
        - 2 * cif * np.cumsum(c)
        + 2 * np.cumsum(cif * c)
    )


def _ij_variance(
    n: np.ndarray,
    d_k: np.ndarray,
    d_other: np.ndarray,
    censored: np.ndarray,
    survival_before: np.ndarray,
    cif: np.ndarray,
) -> np.ndarray:
    """Infinitesimal-jackknife variance Σ_i U_i(t)² of F_k at every distinct time.

    U_i(t) = ∂F_k(t)/∂w_i is the influence of episode i (the derivative of
    the case-weighted estimate with respect to its weight, at unit weights),
    exactly what R's ``survfit`` sums for the standard error of ``pstate``.
    With h_j = d_j/n_j, h_kj = d_kj/n_j, the influence on the hazards is
    (dN_ik(t_j) − Y_i(t_j) h_kj)/n_j, and by the chain rule, for J ≥ j,

        ∂F_k(t_J)/∂h_k'j = S(t_{j−1}) [k' = k] − g_j,
        g_j = (F_k(t_J) − F_k(t_j)) / (1 − h_j)      (0 where h_j = 1).

    An episode's influence therefore depends only on its exit time and
    type: with φ = F_k(t_J), u_j = 1/(1 − h_j), v_j = F_k(t_j) u_j,
    P_j = Σ_{l≤j} (S(t_{l−1}) h_kl + v_l h_l)/n_l and Q_j = Σ_{l≤j} u_l h_l/n_l,

    - still at risk after t_J:     U = −(P_J − φ Q_J);
    - censored at t_j ≤ t_J:       U = −(P_j − φ Q_j);
    - other event at t_j ≤ t_J:    U = (v_j − φ u_j)/n_j − (P_j − φ Q_j);
    - event k at t_j ≤ t_J:        U = (S(t_{j−1}) + v_j − φ u_j)/n_j − (P_j − φ Q_j).

    Each is x − φ·y with x, y fixed per exit time, so Σ_i U_i² is a quadratic
    in φ whose coefficients are cumulative sums: O(number of distinct times)
    time and memory, whatever the number of episodes, exact with ties.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        live = n > 0
        hazard = np.where(live, (d_k + d_other) / n, 0.0)
        hazard_k = np.where(live, d_k / n, 0.0)
        u = np.where(hazard < 1, 1 / (1 - hazard), 0.0)
        v = cif * u
        inv_n = np.where(live, 1 / n, 0.0)
    p_sum = np.cumsum((survival_before * hazard_k + v * hazard) * inv_n)
    q_sum = np.cumsum(u * hazard * inv_n)
    # (x, y) of the three kinds of exit at t_j; weights = how many exit so
    x_k, y_k = (survival_before + v) * inv_n - p_sum, u * inv_n - q_sum
    x_o, y_o = v * inv_n - p_sum, u * inv_n - q_sum
    x_c, y_c = -p_sum, -q_sum
    xx = np.cumsum(d_k * x_k**2 + d_other * x_o**2 + censored * x_c**2)
    xy = np.cumsum(d_k * x_k * y_k + d_other * x_o * y_o + censored * x_c * y_c)
    yy = np.cumsum(d_k * y_k**2 + d_other * y_o**2 + censored * y_c**2)
    remaining = n - d_k - d_other - censored  # at risk after t_J
    phi = cif
    return xx - 2 * phi * xy + phi**2 * yy + remaining * (p_sum - phi * q_sum) ** 2


def aalen_johansen(
    time: np.ndarray,
    event: np.ndarray,
    event_of_interest: int = EVENT_RTW,
    variance: str = "ij",
    cluster: np.ndarray | None = None,
) -> pd.DataFrame:
    """Aalen–Johansen cumulative incidence of one event type, exact with ties.

    At each distinct time t_j with n_j at risk, d_kj events of the type of
    interest and d_j events of any type (codes other than 0):

    - S(t_j) = Π_{i≤j} (1 − d_i / n_i)  (Kaplan–Meier of all causes),
    - F_k(t) = Σ_{t_j ≤ t} S(t_{j−1}) d_kj / n_j.

    Variance (``variance``):

    - ``"ij"`` (default, R's ``survfit``): the infinitesimal jackknife
      Σ_i (∂F_k(t)/∂w_i)², the squared influences of the episodes summed,
      computed in closed form over the distinct times (see ``_ij_variance``);
    - ``"delta"``: the delta-method (Greenwood-type) variance of Marubini and
      Valsecchi (1995),
      Var F_k(t) = Σ_{t_j ≤ t} [ (F_k(t) − F_k(t_j))² d_j / (n_j (n_j − d_j))
      + S(t_{j−1})² d_kj (n_j − d_kj) / n_j³
      − 2 (F_k(t) − F_k(t_j)) S(t_{j−1}) d_kj / n_j² ].

    Without case weights the two are algebraically equal (the influences of
    the hazard increments have exactly the empirical multinomial covariance
    the delta method uses, and no covariance across times; see
    ``docs/survival.md``): two independent computations of one number.
    Ties need no breaking: all events at a day enter that day's increment.

    Parameters
    ----------
    time, event
        Follow-up time and event code (0 = censored) per individual.
    event_of_interest
        The event code whose cumulative incidence is estimated.
    variance
        One of :data:`AJ_VARIANCES`.
    cluster
        Integer cluster (person) code per individual: the ``"ij"`` variance
        is then grouped, the influences summed within a cluster before
        squaring (:func:`~arr_stats.stats.clustering.grouped_ij_variance`).
        The delta method has no grouped form.

    Returns
    -------
    DataFrame
        ``time, at_risk, events, competing, censored, estimate, variance,
        survival`` (survival = all-cause KM), one row per distinct time and
        a first row at time 0.
    """
    _check_choice(variance, AJ_VARIANCES, "variance")
    if cluster is not None and variance != "ij":
        raise ValueError(
            f"variance={variance!r} has no clustered form; use variance='ij' or cluster=None"
        )
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=int)
    table = _risk_table(time, event, event_of_interest)
    n = table["at_risk"].to_numpy(dtype=float)
    d_k = table["events"].to_numpy(dtype=float)
    d_other = table["competing"].to_numpy(dtype=float)
    d = d_k + d_other
    with np.errstate(divide="ignore", invalid="ignore"):
        hazard = np.where(n > 0, d / n, 0.0)
        hazard_k = np.where(n > 0, d_k / n, 0.0)
    survival = np.cumprod(1 - hazard)
    survival_before = np.concatenate([[1.0], survival[:-1]])
    cif = np.cumsum(survival_before * hazard_k)
    if cluster is not None:
        var = grouped_ij_variance(time, event, event_of_interest, cluster)
    elif variance == "ij":
        censored = table["censored"].to_numpy(dtype=float) - d_other  # code 0 only
        var = _ij_variance(n, d_k, d_other, censored, survival_before, cif)
    else:
        var = _delta_variance(n, d_k, d, survival_before, cif)
    # a probability: the cumulative sum can round to 1 + 2e−16 where every episode had
    # the event (7 of 7 by day 365), which would put the estimate and its interval above 1
    table["estimate"] = np.clip(cif, 0.0, 1.0)
    # rounding can leave −1e−18 where the variance is 0 (before the first event)
    table["variance"] = np.clip(var, 0.0, None)
    table["survival"] = survival
    return table


@dataclass
class CumulativeIncidence(Fitted):
    """Aalen–Johansen cumulative incidence of ``event`` with the other events competing.

    For sustainable RTW (``event=1``), full disability (2) and death (3)
    are competing events; code 0 is censoring. Exact with tied days (see
    :func:`aalen_johansen`); lifelines' AalenJohansenFitter is not used
    because it breaks ties by random jitter. Estimate, standard error and
    interval are those of R's ``survfit(Surv(time, factor(event)) ~ 1)``
    (``pstate``, ``std.err``, ``lower``, ``upper`` of the event's state).

    Parameters
    ----------
    event
        The event code whose cumulative incidence is estimated.
    alpha
        1 − confidence level of the pointwise interval.
    conf_type
        The pointwise interval of F (:func:`~arr_stats.stats.curves.confidence_interval`):
        ``"log"`` (R's default, F·exp(∓z·se/F), capped at 1), ``"log-log"``
        (on F, as R) or ``"plain"``.
    variance
        ``"ij"`` (R's infinitesimal jackknife, default) or ``"delta"``
        (Marubini–Valsecchi); equal without case weights, see
        :func:`aalen_johansen`.
    time_col, event_col
        ``rtw_emp_time``/``rtw_emp_event`` give the employment-confirmed variant.
    cluster
        Column grouping the episodes of one person (default ``"person_id"``,
        :data:`~arr_stats.domain.DEFAULT_CLUSTER`): the IJ variance is then
        grouped, each person's influences summed before squaring (R's
        ``survfit(..., id = episode_id, cluster = person_id)``). ``None``, or
        a table without the column, treats episodes as independent. Only
        ``variance="ij"`` has a grouped form.

    Attributes
    ----------
    curve_ : DataFrame
        :data:`~arr_stats.stats.curves.CURVE_COLUMNS` (``censored`` counts
        censoring and competing events, ``competing`` the latter alone, as in
        :class:`~arr_stats.stats.kaplan_meier.KaplanMeier`): ``estimate`` is the
        cumulative incidence F, ``std_error`` the standard error of F itself
        (R's ``std.err`` of ``pstate``), ``lower``/``upper`` the ``conf_type``
        interval.
    by_ : str or None
        The grouping column of the fit.
    cluster_ : str or None
        The column the variance was grouped by; ``None`` when episodes were
        treated as independent.

    Examples
    --------
    >>> outcomes = pd.DataFrame({"rtw_time": [2, 2, 3, 4, 4, 6],
    ...                          "rtw_event": [1, 2, 0, 1, 1, 0]})
    >>> fitted = CumulativeIncidence(event=2).fit(outcomes)
    >>> fitted.curve_["estimate"].round(4).tolist(), fitted.variance
    ([0.0, 0.1667, 0.1667, 0.1667, 0.1667], 'ij')
    """

    _result: ClassVar[str] = "curve_"
    event: int = EVENT_RTW
    alpha: float = 0.05
    conf_type: str = "log"
    variance: str = "ij"
    time_col: str = "rtw_time"
    event_col: str = "rtw_event"
    cluster: str | None = DEFAULT_CLUSTER
    curve_: pd.DataFrame | None = field(default=None, init=False, repr=False)
    by_: str | None = field(default=None, init=False)
    cluster_: str | None = field(default=None, init=False)

    def fit(self, outcomes: pd.DataFrame, by: str | None = None) -> CumulativeIncidence:
        """Fit to one row per episode with the time and event columns (not modified).

        Parameters
        ----------
        outcomes
            One row per episode with ``time_col`` and ``event_col`` (and ``by``).
        by
            Column to group by; rows with a missing ``by`` value are left out.

        Returns
        -------
        CumulativeIncidence
            ``self``, fitted.
        """
        self.curve_ = _cumulative_incidence_curve(
            outcomes,
            self.event,
            by,
            self.alpha,
            self.time_col,
            self.event_col,
            self.conf_type,
            self.variance,
            self.cluster,
        )
        self.by_ = by
        self.cluster_ = self.cluster if cluster_codes(outcomes, self.cluster) is not None else None
        return self


def cumulative_incidence(
    outcomes: pd.DataFrame,
    event: int = EVENT_RTW,
    by: str | None = None,
    alpha: float = 0.05,
    time_col: str = "rtw_time",
    event_col: str = "rtw_event",
    conf_type: str = "log",
    variance: str = "ij",
    cluster: str | None = DEFAULT_CLUSTER,
) -> pd.DataFrame:
    """The Aalen–Johansen curve as a tidy table: ``CumulativeIncidence(...).fit(outcomes, by).curve_``.

    Parameters and the table are those of :class:`CumulativeIncidence`.

    Examples
    --------
    >>> outcomes = pd.DataFrame({"rtw_time": [2, 2, 3, 4, 4, 6],
    ...                          "rtw_event": [1, 2, 0, 1, 1, 0]})
    >>> cumulative_incidence(outcomes, event=2)["estimate"].round(4).tolist()
    [0.0, 0.1667, 0.1667, 0.1667, 0.1667]
    """
    fitted = CumulativeIncidence(
        event=event,
        alpha=alpha,
        conf_type=conf_type,
        variance=variance,
        time_col=time_col,
        event_col=event_col,
        cluster=cluster,
    )
    return fitted.fit(outcomes, by=by).summary


def _cumulative_incidence_curve(
    outcomes: pd.DataFrame,
    event: int,
    by: str | None,
    alpha: float,
    time_col: str,
    event_col: str,
    conf_type: str,
    variance: str,
    cluster: str | None = None,
) -> pd.DataFrame:
    _z(alpha)
    _check_choice(conf_type, CONF_TYPES, "conf_type")
    _check_choice(variance, AJ_VARIANCES, "variance")
    pieces = []
    for value, rows in _groups(outcomes, by):
        time, codes = _time_event(rows, time_col, event_col)
        table = aalen_johansen(
            time, codes, event, variance=variance, cluster=cluster_codes(rows, cluster)
        )
        std_error = np.sqrt(table.pop("variance").to_numpy())
        lower, upper = confidence_interval(
            table["estimate"].to_numpy(), std_error, conf_type, alpha
        )
        table = table.drop(columns="survival")
        table["std_error"] = std_error
        table["lower"] = lower
        table["upper"] = upper
        table.insert(0, "group", [value] * len(table))
        pieces.append(table)
    return _finish_curve(pieces)


def naive_cumulative_incidence(
    outcomes: pd.DataFrame,
    event: int = EVENT_RTW,
    by: str | None = None,
    alpha: float = 0.05,
    time_col: str = "rtw_time",
    event_col: str = "rtw_event",
    cluster: str | None = DEFAULT_CLUSTER,
) -> pd.DataFrame:
    """One minus the Kaplan–Meier estimate of ``event``, competing events censored.

    The naive cumulative incidence that :func:`cumulative_incidence` corrects:
    it treats a person with a competing event as if the event could still
    happen later, so it overstates the cumulative incidence, the more so the
    more frequent the competing events. For showing why competing risks
    matter beside the Aalen–Johansen estimate; not for reporting.

    Parameters
    ----------
    outcomes, event, by, alpha, time_col, event_col, cluster
        As for :func:`cumulative_incidence`.

    Returns
    -------
    DataFrame
        :data:`CURVE_COLUMNS` of :func:`kaplan_meier` with ``estimate`` =
        1 − S, ``lower`` = 1 − upper(S), ``upper`` = 1 − lower(S).

    Examples
    --------
    >>> outcomes = pd.DataFrame({"rtw_time": [2, 2, 3, 4, 4, 6],
    ...                          "rtw_event": [1, 2, 0, 1, 1, 0]})
    >>> # S = 5/6, then 5/6 · 1/3 = 5/18: 1 − S = 1/6, 13/18 (Aalen–Johansen: 11/18)
    >>> naive_cumulative_incidence(outcomes)["estimate"].round(4).tolist()
    [0.0, 0.1667, 0.1667, 0.7222, 0.7222]
    """
    km = kaplan_meier(
        outcomes,
        by=by,
        event=event,
        alpha=alpha,
        time_col=time_col,
        event_col=event_col,
        cluster=cluster,
    )
    return km.assign(estimate=1 - km["estimate"], lower=1 - km["upper"], upper=1 - km["lower"])


def cumulative_incidence_at(
    outcomes: pd.DataFrame,
    day: float = 365,
    event: int = EVENT_RTW,
    by: str | None = None,
    alpha: float = 0.05,
    time_col: str = "rtw_time",
    event_col: str = "rtw_event",
    conf_type: str = "log",
    variance: str = "ij",
    cluster: str | None = DEFAULT_CLUSTER,
) -> pd.DataFrame:
    """Cumulative incidence of ``event`` at ``day`` with its interval, per group.

    The indicator ``arr_srtw`` is this at day 365 for sustainable RTW.

    Parameters
    ----------
    outcomes, event, by, alpha, time_col, event_col, conf_type, variance, cluster
        As for :func:`cumulative_incidence` (R's defaults: log interval,
        infinitesimal-jackknife standard error, grouped by person).
    day
        The time point (days after discharge).

    Returns
    -------
    DataFrame
        One row per group: see :func:`value_at`.

    Examples
    --------
    >>> outcomes = pd.DataFrame({"rtw_time": [2, 2, 3, 4, 4, 6],
    ...                          "rtw_event": [1, 2, 0, 1, 1, 0]})
    >>> at = cumulative_incidence_at(outcomes, day=3)
    >>> at[["n", "at_risk", "events"]].to_numpy().tolist(), round(float(at["estimate"][0]), 4)
    ([[6, 3, 1]], 0.1667)
    """
    curve = cumulative_incidence(
        outcomes,
        event=event,
        by=by,
        alpha=alpha,
        time_col=time_col,
        event_col=event_col,
        conf_type=conf_type,
        variance=variance,
        cluster=cluster,
    )
    return value_at(curve, day)
