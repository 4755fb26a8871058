"""Kaplan–Meier estimate of time to an event, with R ``survfit``'s standard errors and intervals."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import pandas as pd
from lifelines import KaplanMeierFitter

from arr_stats.domain import DEFAULT_CLUSTER, EVENT_CENSORED, EVENT_RTW
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
    median_time,
)
from arr_stats.stats.fitted import Fitted


@dataclass
class KaplanMeier(Fitted):
    """Kaplan–Meier estimator of the probability of no ``event`` yet (lifelines-like).

    Time to sustainable RTW by default: ``rtw_event == event`` is the event,
    every other code (censoring, disability, death) is treated as censored.
    With competing events, ``1 − estimate`` overstates the cumulative
    incidence; use :class:`arr_stats.stats.competing_risks.CumulativeIncidence`
    for that. Standard error and interval are R's
    ``survfit(Surv(time, status) ~ 1)`` defaults (``docs/survival.md``).

    Parameters
    ----------
    event
        The event code whose time is estimated.
    alpha
        1 − confidence level of the pointwise interval.
    conf_type
        The pointwise interval (:func:`~arr_stats.stats.curves.confidence_interval`):
        ``"log"`` (R's default, S·exp(∓z·se(log S)), capped at 1),
        ``"log-log"`` (lifelines' exponential Greenwood interval) or ``"plain"``.
    time_col, event_col
        ``rtw_emp_time``/``rtw_emp_event`` give the employment-confirmed variant.
    cluster
        Column grouping the episodes of one person (default ``"person_id"``,
        :data:`~arr_stats.domain.DEFAULT_CLUSTER`): the standard error is then
        the grouped infinitesimal jackknife, each person's episodes' influences
        summed before squaring (R's ``survfit(..., id = episode_id,
        cluster = person_id)``). ``None``, or a table without the column,
        gives Greenwood's standard error (episodes independent).

    Attributes
    ----------
    curve_ : DataFrame
        :data:`~arr_stats.stats.curves.CURVE_COLUMNS`: one row per group and
        distinct time (a first row at time 0), ``at_risk`` just before
        ``time``, ``events``, ``censored`` (everyone else leaving the risk set
        at ``time``: code 0 and the other event codes), ``competing`` (of
        whom, other event codes), ``estimate`` (survival probability S),
        ``std_error`` (the Greenwood standard error of S itself,
        S·sqrt(Σ d/(n(n − d))) – what R's ``summary(survfit)`` prints as
        ``std.err``; R's ``fit$std.err`` is the same divided by S),
        ``lower``/``upper`` (the ``conf_type`` interval). Once S reaches 0 the
        standard error and the limits are missing, as in R.
    median_ : DataFrame
        The median time per group with its interval
        (:func:`~arr_stats.stats.curves.median_time`).
    by_ : str or None
        The grouping column of the fit.
    variance : str
        ``"greenwood"`` (episodes independent) or ``"ij"`` (grouped by
        ``cluster_``), the variance of the standard errors.
    cluster_ : str or None
        The column the variance was grouped by; ``None`` when episodes were
        treated as independent (:func:`~arr_stats.stats.clustering.interval_note`
        says so in words).

    Examples
    --------
    >>> outcomes = pd.DataFrame({"rtw_time": [2, 2, 3, 4, 4, 6],
    ...                          "rtw_event": [1, 2, 0, 1, 1, 0]})
    >>> km = KaplanMeier().fit(outcomes)
    >>> km.curve_["estimate"].round(4).tolist()  # 5/6, then 5/6 · 1/3 = 5/18
    [1.0, 0.8333, 0.8333, 0.2778, 0.2778]
    >>> float(km.median_["median"].iloc[0]), km.conf_type, km.variance
    (4.0, 'log', 'greenwood')
    """

    _result: ClassVar[str] = "curve_"
    event: int = EVENT_RTW
    alpha: float = 0.05
    conf_type: str = "log"
    time_col: str = "rtw_time"
    event_col: str = "rtw_event"
    cluster: str | None = DEFAULT_CLUSTER
    variance: str = field(default="greenwood", init=False)
    curve_: pd.DataFrame | None = field(default=None, init=False, repr=False)
    median_: pd.DataFrame | None = field(default=None, init=False, repr=False)
    by_: str | None = field(default=None, init=False)
    cluster_: str | None = field(default=None, init=False)

    def fit(self, outcomes: pd.DataFrame, by: str | None = None) -> KaplanMeier:
        """Fit to one row per episode with the time and event columns (not modified).

        Parameters
        ----------
        outcomes
            One row per episode with ``time_col`` and ``event_col`` (and ``by``).
        by
            Column to group by (a categorical keeps its category order); rows
            with a missing ``by`` value are left out.

        Returns
        -------
        KaplanMeier
            ``self``, fitted.
        """
        clustered = cluster_codes(outcomes, self.cluster) is not None
        self.curve_ = _kaplan_meier_curve(
            outcomes,
            by,
            self.event,
            self.alpha,
            self.time_col,
            self.event_col,
            self.conf_type,
            self.cluster if clustered else None,
        )
        self.median_ = median_time(self.curve_)
        self.by_ = by
        self.cluster_ = self.cluster if clustered else None
        self.variance = "ij" if clustered else "greenwood"
        return self


def kaplan_meier(
    outcomes: pd.DataFrame,
    by: str | None = None,
    event: int = EVENT_RTW,
    alpha: float = 0.05,
    time_col: str = "rtw_time",
    event_col: str = "rtw_event",
    conf_type: str = "log",
    cluster: str | None = DEFAULT_CLUSTER,
) -> pd.DataFrame:
    """The Kaplan–Meier curve as a tidy table: ``KaplanMeier(...).fit(outcomes, by).curve_``.

    Parameters and the table are those of :class:`KaplanMeier`.

    Examples
    --------
    >>> outcomes = pd.DataFrame({"rtw_time": [2, 2, 3, 4, 4, 6],
    ...                          "rtw_event": [1, 2, 0, 1, 1, 0]})
    >>> kaplan_meier(outcomes)["estimate"].round(4).tolist()
    [1.0, 0.8333, 0.8333, 0.2778, 0.2778]
    """
    fitted = KaplanMeier(
        event=event,
        alpha=alpha,
        conf_type=conf_type,
        time_col=time_col,
        event_col=event_col,
        cluster=cluster,
    )
    return fitted.fit(outcomes, by=by).summary


def _kaplan_meier_curve(
    outcomes: pd.DataFrame,
    by: str | None,
    event: int,
    alpha: float,
    time_col: str,
    event_col: str,
    conf_type: str,
    cluster: str | None = None,
) -> pd.DataFrame:
    _z(alpha)
    _check_choice(conf_type, CONF_TYPES, "conf_type")
    pieces = []
    for value, rows in _groups(outcomes, by):
        time, codes = _time_event(rows, time_col, event_col)
        table = _risk_table(time, codes, event)
        fitter = KaplanMeierFitter(alpha=alpha).fit(time, event_observed=codes == event)
        estimate = fitter.survival_function_.iloc[:, 0].reindex(table["time"]).to_numpy()
        # Greenwood: Var log S = Σ d / (n (n − d)). Summed here rather than
        # taken from lifelines, which skips the term where n = d (everyone
        # left has the event); R makes it infinite, so se and limits are NA
        # once S = 0.
        n = table["at_risk"].to_numpy(dtype=float)
        d = table["events"].to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(d > 0, np.where(n > d, d / (n * (n - d)), np.inf), 0.0)
            std_error = estimate * np.sqrt(np.cumsum(terms))
        std_error = np.where(estimate == 0, np.nan, std_error)
        codes_of = cluster_codes(rows, cluster)
        if codes_of is not None:
            # S = 1 − F of an Aalen–Johansen curve without competing events
            only = np.where(codes == event, event, EVENT_CENSORED)
            std_error = np.sqrt(grouped_ij_variance(time, only, event, codes_of))
        lower, upper = confidence_interval(estimate, std_error, conf_type, alpha)
        table["estimate"] = estimate
        table["std_error"] = std_error
        table["lower"] = lower
        table["upper"] = upper
        table.insert(0, "group", [value] * len(table))
        pieces.append(table)
    return _finish_curve(pieces)
