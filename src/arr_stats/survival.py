"""Time to return to work, state occupation and work ability: tidy estimates.

Thin over lifelines and statsmodels. Every function takes the derived tables
of ``docs/architecture.md`` (``outcomes``, ``daily_states``, ``responses``),
never mutates them, and returns a tidy DataFrame (one row per group and time)
that the disclosure module can pool and :mod:`arr_stats.plotting` can draw.
The Cox model is a lifelines-style fitted object (settings in the
constructor, ``fit`` returns ``self``, results in attributes ending in ``_``).

What each estimator estimates, the variance and interval choices and how
tied days are handled are written up in ``docs/survival.md``.

Event codes (``rtw_event``, outcomes.md): 0 censored, 1 sustainable RTW,
2 full disability benefit first, 3 death first.

Examples
--------
>>> import pandas as pd
>>> outcomes = pd.DataFrame({"rtw_time": [2, 2, 3, 4, 4, 6],
...                          "rtw_event": [1, 2, 0, 1, 1, 0]})
>>> cif = cumulative_incidence(outcomes, event=1)
>>> cif[["time", "at_risk", "events", "competing", "censored"]].to_numpy().tolist()
[[0, 6, 0, 0, 0], [2, 6, 1, 1, 1], [3, 4, 0, 0, 1], [4, 3, 2, 0, 0], [6, 1, 0, 0, 1]]
>>> round(float(cif["estimate"].iloc[-1]), 6)  # 1/6 + (2/3)(2/3) = 11/18
0.611111
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.statistics import proportional_hazard_test
from scipy import stats

from arr_stats.config import DEFAULT_STATE_ORDER

#: The ``rtw_event`` codes of outcomes.md.
EVENT_CENSORED = 0
EVENT_RTW = 1
EVENT_DISABILITY = 2
EVENT_DEATH = 3

#: Value of the ``group`` column when no ``by`` is given.
ALL_GROUP = "all"

#: The project's age groups: lower edges of the groups above the first
#: (``age < 30`` is the first group, ``age >= 60`` the last). The one place
#: these bins live; :func:`age_group` reads them.
AGE_GROUP_EDGES: tuple[int, ...] = (30, 40, 50, 60)

#: Covariates of the cause-specific Cox model of time to RTW (the case-mix
#: variables of indicators-and-report.md plus the institution).
DEFAULT_COX_COVARIATES: tuple[str, ...] = (
    "age_group",
    "sex",
    "diagnosis_group",
    "hrb_days_pre_12m",
    "rehab_mode",
    "institution_id",
)

#: Units of numeric Cox covariates: the hazard ratio is per this many units
#: (per 30 days on health-related benefits rather than per day).
DEFAULT_COX_PER: dict[str, float] = {"hrb_days_pre_12m": 30}

#: Columns of the tidy time-to-event tables (Kaplan–Meier and Aalen–Johansen).
CURVE_COLUMNS: tuple[str, ...] = (
    "group",
    "time",
    "at_risk",
    "events",
    "competing",
    "censored",
    "estimate",
    "std_error",
    "lower",
    "upper",
)


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


def _z(alpha: float) -> float:
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha}")
    return float(stats.norm.ppf(1 - alpha / 2))


def _check_columns(df: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise KeyError(f"{what} has no column(s) {missing}")


def _time_event(df: pd.DataFrame, time_col: str, event_col: str) -> tuple[np.ndarray, np.ndarray]:
    """Times and event codes as int arrays; missing values are an error."""
    _check_columns(df, [time_col, event_col], "outcomes")
    if df[time_col].isna().any() or df[event_col].isna().any():
        raise ValueError(
            f"{time_col}/{event_col} have missing values; time-to-event estimates need "
            "both for every row (outcomes has them for every linked episode)"
        )
    time = df[time_col].to_numpy(dtype=float)
    if (time < 0).any():
        raise ValueError(f"{time_col} has negative values")
    return time, df[event_col].to_numpy(dtype=int)


def _groups(df: pd.DataFrame, by: str | None) -> list[tuple[object, pd.DataFrame]]:
    """(group value, rows) in a deterministic order; rows with a missing ``by`` are left out.

    A categorical ``by`` keeps its category order (empty categories are
    dropped); otherwise values are sorted.
    """
    if by is None:
        return [(ALL_GROUP, df)]
    _check_columns(df, [by], "the table")
    return [(value, rows) for value, rows in df.groupby(by, observed=True, sort=True)]


def _risk_table(time: np.ndarray, event: np.ndarray, event_of_interest: int) -> pd.DataFrame:
    """Counts at every distinct time, with a leading row at time 0.

    ``at_risk`` is the number with time >= t (the risk set just before t);
    ``events`` counts the event of interest; ``censored`` everyone else who
    leaves the risk set at t (code 0 and the competing events, the contract
    of :func:`arr_stats.disclosure.pool_survival_steps`), of whom
    ``competing`` had another event. So at_risk(t_next) = at_risk − events −
    censored.
    """
    frame = pd.DataFrame(
        {
            "time": time,
            "events": event == event_of_interest,
            "competing": (event != event_of_interest) & (event != EVENT_CENSORED),
            "censored": event != event_of_interest,
        }
    )
    counts = frame.groupby("time", sort=True)[["events", "competing", "censored"]].sum()
    if 0.0 not in counts.index:
        counts.loc[0.0] = 0
        counts = counts.sort_index()
    counts = counts.astype(int)
    leaving = (counts["events"] + counts["censored"]).to_numpy()
    at_risk = len(time) - np.concatenate([[0], np.cumsum(leaving)[:-1]])
    out = counts.reset_index()
    out.insert(1, "at_risk", at_risk.astype(int))
    return out


def _time_dtype(values: pd.Series) -> pd.Series:
    """Whole-number times (days) as int64, otherwise float."""
    if np.all(np.mod(values.to_numpy(), 1) == 0):
        return values.astype("int64")
    return values


#: The interval types of R's ``survfit`` that :func:`kaplan_meier` and
#: :func:`cumulative_incidence` offer (``conf_type``); ``"log"`` is R's default.
CONF_TYPES: tuple[str, ...] = ("log", "log-log", "plain")

#: The variances :func:`cumulative_incidence` offers (``variance``); ``"ij"``
#: (the infinitesimal jackknife) is R's default for Aalen–Johansen curves.
AJ_VARIANCES: tuple[str, ...] = ("ij", "delta")


def _check_choice(value: str, choices: Sequence[str], what: str) -> None:
    if value not in choices:
        raise ValueError(f"{what} must be one of {list(choices)}, got {value!r}")


def confidence_interval(
    estimate: np.ndarray, std_error: np.ndarray, conf_type: str = "log", alpha: float = 0.05
) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise interval of a probability from its standard error, as R's ``survfit``.

    The rules of R survival's ``survfit_confint`` (called with the standard
    error of the estimate itself, ``logse = FALSE``, and ``ulimit = TRUE``).
    With p the estimate, se its standard error and z the normal quantile:

    - ``"log"``: p·exp(∓z·se/p), the upper limit capped at 1 (R's default);
    - ``"log-log"``: exp(−exp(log(−log p) ∓ z·(se/p)/log p)), i.e.
      p^exp(±z·se/(p·|log p|));
    - ``"plain"``: p ∓ z·se, cut to [0, 1].

    Where se = 0 both limits are p. Where the transformation is undefined
    and se ≠ 0 (p = 0 for ``"log"``; p = 0 or 1 for ``"log-log"``) the
    limits are missing (R prints ``NA``); a missing se gives missing limits.

    Parameters
    ----------
    estimate
        The probabilities p (a survival or a cumulative incidence).
    std_error
        The standard error of p itself (not of log p).
    conf_type
        One of :data:`CONF_TYPES`.
    alpha
        1 − confidence level.

    Returns
    -------
    (lower, upper)
        Arrays of the limits.

    Examples
    --------
    >>> lower, upper = confidence_interval(np.array([0.5, 0.9]), np.array([0.1, 0.1]))
    >>> # 0.5·exp(∓1.96·0.1/0.5) = 0.5·exp(∓0.392); 0.9·exp(∓0.2178), capped at 1
    >>> np.round(lower, 4).tolist(), np.round(upper, 4).tolist()
    ([0.3379, 0.7239], [0.74, 1.0])
    """
    _check_choice(conf_type, CONF_TYPES, "conf_type")
    z = _z(alpha)
    p = np.asarray(estimate, dtype=float)
    se = np.asarray(std_error, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        se_log = np.where(se == 0, 0.0, se / p)  # se of log p; R: ifelse(se == 0, 0, se/p)
        if conf_type == "plain":
            half = se_log * p * z
            lower = np.fmax(p - half, 0.0)
            upper = np.fmin(p + half, 1.0)
            # fmax/fmin skip NaN; R's pmax/pmin keep NA: put it back
            lower = np.where(np.isnan(half), np.nan, lower)
            upper = np.where(np.isnan(half), np.nan, upper)
        elif conf_type == "log":
            x = np.where(p == 0, np.nan, p)
            lower = np.where(se_log == 0, p, np.exp(np.log(x) - z * se_log))
            upper = np.where(se_log == 0, p, np.exp(np.log(x) + z * se_log))
            upper = np.where(np.isnan(upper), np.nan, np.fmin(upper, 1.0))
        else:  # log-log
            x = np.where((p == 0) | (p == 1), np.nan, p)
            shift = z * se_log / np.log(x)  # negative: log x < 0
            lower = np.where(se_log == 0, p, np.exp(-np.exp(np.log(-np.log(x)) - shift)))
            upper = np.where(se_log == 0, p, np.exp(-np.exp(np.log(-np.log(x)) + shift)))
    return lower, upper


# --------------------------------------------------------------------------
# Kaplan–Meier
# --------------------------------------------------------------------------


def kaplan_meier(
    outcomes: pd.DataFrame,
    by: str | None = None,
    event: int = EVENT_RTW,
    alpha: float = 0.05,
    time_col: str = "rtw_time",
    event_col: str = "rtw_event",
    conf_type: str = "log",
) -> pd.DataFrame:
    """Kaplan–Meier estimate of the probability of no ``event`` yet (lifelines).

    Time to sustainable RTW by default: ``rtw_event == event`` is the event,
    every other code (censoring, disability, death) is treated as censored.
    With competing events, ``1 − estimate`` overstates the cumulative
    incidence; use :func:`cumulative_incidence` for that. Standard error and
    interval are R's ``survfit(Surv(time, status) ~ 1)`` defaults (see
    ``docs/survival.md``).

    Parameters
    ----------
    outcomes
        One row per episode with ``time_col`` and ``event_col`` (and ``by``).
    by
        Column to group by (a categorical keeps its category order); rows with
        a missing ``by`` value are left out.
    event
        The event code whose time is estimated.
    alpha
        1 − confidence level of the pointwise interval.
    time_col, event_col
        ``rtw_emp_time``/``rtw_emp_event`` give the employment-confirmed variant.
    conf_type
        The pointwise interval (:func:`confidence_interval`): ``"log"`` (R's
        default, S·exp(∓z·se(log S)), capped at 1), ``"log-log"`` (lifelines'
        exponential Greenwood interval) or ``"plain"``.

    Returns
    -------
    DataFrame
        :data:`CURVE_COLUMNS`: one row per group and distinct time (a first
        row at time 0), ``at_risk`` just before ``time``, ``events``,
        ``censored`` (everyone else leaving the risk set at ``time``: code 0
        and the other event codes), ``competing`` (of whom, other event
        codes), ``estimate`` (survival probability S), ``std_error`` (the
        Greenwood standard error of S itself, S·sqrt(Σ d/(n(n − d))) – what
        R's ``summary(survfit)`` prints as ``std.err``; R's ``fit$std.err``
        is the same divided by S), ``lower``/``upper`` (the ``conf_type``
        interval). Once S reaches 0 the standard error and the limits are
        missing, as in R. ``attrs`` records ``conf_type`` and ``variance``
        (``"greenwood"``).

    Examples
    --------
    >>> outcomes = pd.DataFrame({"rtw_time": [2, 2, 3, 4, 4, 6],
    ...                          "rtw_event": [1, 2, 0, 1, 1, 0]})
    >>> km = kaplan_meier(outcomes)
    >>> km["estimate"].round(4).tolist()  # 5/6, then 5/6 · 1/3 = 5/18
    [1.0, 0.8333, 0.8333, 0.2778, 0.2778]
    """
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
        lower, upper = confidence_interval(estimate, std_error, conf_type, alpha)
        table["estimate"] = estimate
        table["std_error"] = std_error
        table["lower"] = lower
        table["upper"] = upper
        table.insert(0, "group", [value] * len(table))
        pieces.append(table)
    return _finish_curve(pieces, by, conf_type=conf_type, variance="greenwood")


def _ordered_groups(out: pd.DataFrame) -> pd.DataFrame:
    """Make ``group`` a Categorical in the order the groups were produced.

    So the order of a categorical ``by`` (e.g. the diagnosis groups) survives
    sorting group-bys downstream (disclosure, plotting).
    """
    order = list(dict.fromkeys(out["group"].tolist()))
    return out.assign(group=pd.Categorical(out["group"], categories=order))


def _finish_curve(pieces: list[pd.DataFrame], by: str | None, **attrs: str) -> pd.DataFrame:
    out = _ordered_groups(pd.concat(pieces, ignore_index=True))
    out["time"] = _time_dtype(out["time"])
    out = out[list(CURVE_COLUMNS)]
    out.attrs["by"] = by
    out.attrs.update(attrs)
    return out


# --------------------------------------------------------------------------
# Aalen–Johansen cumulative incidence
# --------------------------------------------------------------------------


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

    Returns
    -------
    DataFrame
        ``time, at_risk, events, competing, censored, estimate, variance,
        survival`` (survival = all-cause KM), one row per distinct time and
        a first row at time 0.
    """
    _check_choice(variance, AJ_VARIANCES, "variance")
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
    if variance == "ij":
        censored = table["censored"].to_numpy(dtype=float) - d_other  # code 0 only
        var = _ij_variance(n, d_k, d_other, censored, survival_before, cif)
    else:
        var = _delta_variance(n, d_k, d, survival_before, cif)
    table["estimate"] = cif
    # rounding can leave −1e−18 where the variance is 0 (before the first event)
    table["variance"] = np.clip(var, 0.0, None)
    table["survival"] = survival
    return table


def cumulative_incidence(
    outcomes: pd.DataFrame,
    event: int = EVENT_RTW,
    by: str | None = None,
    alpha: float = 0.05,
    time_col: str = "rtw_time",
    event_col: str = "rtw_event",
    conf_type: str = "log",
    variance: str = "ij",
) -> pd.DataFrame:
    """Aalen–Johansen cumulative incidence of ``event`` with the other events competing.

    For sustainable RTW (``event=1``), full disability (2) and death (3)
    are competing events; code 0 is censoring. Exact with tied days (see
    :func:`aalen_johansen`); lifelines' AalenJohansenFitter is not used
    because it breaks ties by random jitter. Estimate, standard error and
    interval are those of R's ``survfit(Surv(time, factor(event)) ~ 1)``
    (``pstate``, ``std.err``, ``lower``, ``upper`` of the event's state).

    Parameters
    ----------
    outcomes
        One row per episode with ``time_col`` and ``event_col`` (and ``by``).
    event
        The event code whose cumulative incidence is estimated.
    by
        Column to group by; rows with a missing ``by`` value are left out.
    alpha
        1 − confidence level of the pointwise interval.
    time_col, event_col
        ``rtw_emp_time``/``rtw_emp_event`` give the employment-confirmed variant.
    conf_type
        The pointwise interval of F (:func:`confidence_interval`): ``"log"``
        (R's default, F·exp(∓z·se/F), capped at 1), ``"log-log"`` (on F, as
        R) or ``"plain"``.
    variance
        ``"ij"`` (R's infinitesimal jackknife, default) or ``"delta"``
        (Marubini–Valsecchi); equal without case weights, see
        :func:`aalen_johansen`.

    Returns
    -------
    DataFrame
        :data:`CURVE_COLUMNS` (``censored`` counts censoring and competing
        events, ``competing`` the latter alone, as in :func:`kaplan_meier`):
        ``estimate`` is the cumulative incidence F, ``std_error`` the
        standard error of F itself (R's ``std.err`` of ``pstate``),
        ``lower``/``upper`` the ``conf_type`` interval. ``attrs`` records
        ``conf_type`` and ``variance``.

    Examples
    --------
    >>> outcomes = pd.DataFrame({"rtw_time": [2, 2, 3, 4, 4, 6],
    ...                          "rtw_event": [1, 2, 0, 1, 1, 0]})
    >>> cumulative_incidence(outcomes, event=2)["estimate"].round(4).tolist()
    [0.0, 0.1667, 0.1667, 0.1667, 0.1667]
    """
    _z(alpha)
    _check_choice(conf_type, CONF_TYPES, "conf_type")
    _check_choice(variance, AJ_VARIANCES, "variance")
    pieces = []
    for value, rows in _groups(outcomes, by):
        time, codes = _time_event(rows, time_col, event_col)
        table = aalen_johansen(time, codes, event, variance=variance)
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
    return _finish_curve(pieces, by, conf_type=conf_type, variance=variance)


def naive_cumulative_incidence(
    outcomes: pd.DataFrame,
    event: int = EVENT_RTW,
    by: str | None = None,
    alpha: float = 0.05,
    time_col: str = "rtw_time",
    event_col: str = "rtw_event",
) -> pd.DataFrame:
    """One minus the Kaplan–Meier estimate of ``event``, competing events censored.

    The naive cumulative incidence that :func:`cumulative_incidence` corrects:
    it treats a person with a competing event as if the event could still
    happen later, so it overstates the cumulative incidence, the more so the
    more frequent the competing events. For showing why competing risks
    matter beside the Aalen–Johansen estimate; not for reporting.

    Parameters
    ----------
    outcomes, event, by, alpha, time_col, event_col
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
        outcomes, by=by, event=event, alpha=alpha, time_col=time_col, event_col=event_col
    )
    out = km.assign(estimate=1 - km["estimate"], lower=1 - km["upper"], upper=1 - km["lower"])
    out.attrs = dict(km.attrs)
    return out


def value_at(curve: pd.DataFrame, day: float) -> pd.DataFrame:
    """Read a tidy curve at ``day``: the last step at or before ``day``, per group.

    Parameters
    ----------
    curve
        Output of :func:`kaplan_meier` or :func:`cumulative_incidence`.
    day
        The time point.

    Returns
    -------
    DataFrame
        ``group, day, n, at_risk, events, estimate, std_error, lower, upper``:
        ``n`` the group's size (at risk at time 0), ``at_risk`` the number
        still at risk after ``day`` (time > day), ``events`` the cumulative
        number of events of interest up to and including ``day``.
    """
    rows = []
    for value, group in curve.groupby("group", observed=True, sort=False):
        group = group.sort_values("time")
        upto = group[group["time"] <= day]
        last = upto.iloc[-1]
        later = group[group["time"] > day]
        rows.append(
            {
                "group": value,
                "day": day,
                "n": int(group["at_risk"].iloc[0]),
                "at_risk": int(later["at_risk"].iloc[0]) if len(later) else 0,
                "events": int(upto["events"].sum()),
                "estimate": float(last["estimate"]),
                "std_error": float(last["std_error"]),
                "lower": float(last["lower"]),
                "upper": float(last["upper"]),
            }
        )
    return _ordered_groups(pd.DataFrame(rows))


def median_time(curve: pd.DataFrame) -> pd.DataFrame:
    """Median time of a Kaplan–Meier curve, with its interval, per group.

    R's rule (``quantile.survfit`` of the survival package): the median is
    the first time the estimate is at or below 0.5, except where the curve
    is exactly 0.5 (within ``sqrt(machine epsilon)``) over a stretch: then it
    is the midpoint of that stretch, i.e. of the time it reached 0.5 and the
    time of its next drop (or, when the curve ends at 0.5, of that time and
    the last observed time). The interval limits apply the same rule to the
    pointwise ``lower`` and ``upper`` curves. A value the curve never
    reaches is missing ("not reached").

    Parameters
    ----------
    curve
        Output of :func:`kaplan_meier` (a survival-type curve, decreasing).

    Returns
    -------
    DataFrame
        ``group, n, events, median, lower, upper``: ``n`` the group's size
        (at risk at time 0), ``events`` its events of interest in all.

    Examples
    --------
    >>> outcomes = pd.DataFrame({"rtw_time": [2, 2, 3, 4, 4, 6],
    ...                          "rtw_event": [1, 2, 0, 1, 1, 0]})
    >>> # S: 1 (day 0), 5/6 (days 2, 3), 5/18 (day 4 on): first at or below 0.5 on day 4
    >>> median_time(kaplan_meier(outcomes))[["n", "events", "median"]].to_numpy().tolist()
    [[6.0, 3.0, 4.0]]
    >>> # Four events on days 1-4: S = 3/4, 1/2, 1/4, 0 is exactly 1/2 on [2, 3): median 2.5
    >>> four = pd.DataFrame({"rtw_time": [1, 2, 3, 4], "rtw_event": [1, 1, 1, 1]})
    >>> float(median_time(kaplan_meier(four))["median"].iloc[0])
    2.5
    """
    rows = []
    for value, group in curve.groupby("group", observed=True, sort=False):
        group = group.sort_values("time")
        times = group["time"].to_numpy(dtype=float)
        rows.append(
            {
                "group": value,
                "n": int(group["at_risk"].iloc[0]),
                "events": int(group["events"].sum()),
                **{
                    name: _quantile_time(times, group[column].to_numpy(dtype=float), 0.5)
                    for name, column in (
                        ("median", "estimate"),
                        ("lower", "lower"),
                        ("upper", "upper"),
                    )
                },
            }
        )
    return _ordered_groups(pd.DataFrame(rows))


def _quantile_time(times: np.ndarray, surv: np.ndarray, p: float) -> float:
    """The time a survival curve reaches ``p``, with R's midpoint rule for flats.

    ``times`` are the curve's distinct times in order (censoring times
    included) and ``surv`` its values there; missing values are ignored.
    """
    keep = ~np.isnan(surv)
    times, surv = times[keep], surv[keep]
    if len(times) == 0:
        return np.nan
    tol = np.sqrt(np.finfo(float).eps)
    last_time = times[-1]
    # Only the times where the curve changes level matter (censoring times are repeats).
    first_of_level = np.r_[True, np.diff(surv) != 0]
    times, surv = times[first_of_level], surv[first_of_level]
    reached = np.flatnonzero(surv <= p + tol)  # at p (within tol) or below
    if len(reached) == 0:
        return np.nan
    first = reached[0]
    if abs(surv[first] - p) >= tol:  # crossed p in a jump: no flat at p
        return float(times[first])
    below = np.flatnonzero(surv < p - tol)  # the next drop below the flat
    end = times[below[0]] if len(below) else last_time
    return float((times[first] + end) / 2)


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
) -> pd.DataFrame:
    """Cumulative incidence of ``event`` at ``day`` with its interval, per group.

    The indicator ``arr_srtw`` is this at day 365 for sustainable RTW.

    Parameters
    ----------
    outcomes, event, by, alpha, time_col, event_col, conf_type, variance
        As for :func:`cumulative_incidence` (R's defaults: log interval,
        infinitesimal-jackknife standard error).
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
    )
    return value_at(curve, day)


# --------------------------------------------------------------------------
# Cox proportional hazards (cause-specific)
# --------------------------------------------------------------------------


def age_group(age: pd.Series, edges: Sequence[int] = AGE_GROUP_EDGES) -> pd.Series:
    """The project's age groups (:data:`AGE_GROUP_EDGES`) as an ordered Categorical.

    Parameters
    ----------
    age
        Age in whole years (``age_at_admission``); missing stays missing.
    edges
        Lower edges of every group but the first.

    Returns
    -------
    Series
        Categorical with labels ``"<30", "30–39", "40–49", "50–59", "60+"``
        for the default edges; the input is not modified.

    Examples
    --------
    >>> age_group(pd.Series([18, 29, 30, 59, 60, None], dtype="Int64")).tolist()
    ['<30', '<30', '30–39', '50–59', '60+', nan]
    """
    edges = list(edges)
    labels = [f"<{edges[0]}"]
    labels += [f"{lo}–{hi - 1}" for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    labels += [f"{edges[-1]}+"]
    bins = [-np.inf, *edges, np.inf]
    values = pd.to_numeric(age, errors="coerce").astype(float)
    return pd.cut(values, bins=bins, right=False, labels=labels, ordered=True).rename("age_group")


@dataclass
class CauseSpecificCox:
    """Cause-specific Cox model of time to one event (lifelines CoxPHFitter, Efron ties).

    Other event codes are censored at their time: the hazard ratios are for
    the cause-specific hazard of ``event``. Categorical covariates (and
    strings, booleans) are dummy-coded against their first level; numeric
    covariates enter linearly, per ``per[var]`` units (default per 1).
    ``age_group`` is made from
    ``age_at_admission`` with :func:`age_group` when the data lack it.

    Parameters
    ----------
    covariates
        Columns of the outcomes table.
    strata
        Columns to stratify the baseline hazard by (no coefficient).
    event
        The event code modelled (1 = sustainable RTW).
    alpha
        1 − confidence level of the hazard ratio intervals.
    penalizer
        lifelines' ridge penalty (0 = the ordinary partial likelihood).
    time_col, event_col
        Time and event columns.
    per
        Units per numeric covariate: its hazard ratio is per this many units
        (default :data:`DEFAULT_COX_PER`, per 30 days for
        ``hrb_days_pre_12m``).

    Attributes
    ----------
    model_ : lifelines.CoxPHFitter
    summary_ : DataFrame
        ``term, variable, level, reference, per, n, events, coef, std_error,
        hazard_ratio, lower, upper, p`` (one row per model term; ``per`` the
        units of a numeric covariate's hazard ratio, missing for a level;
        ``n`` and ``events`` the rows in the level and their events, every
        row used for a numeric covariate, so the disclosure rules can hide
        a term of a small group).
    ph_test_ : DataFrame
        Schoenfeld-residual test of proportional hazards per term
        (lifelines' ``proportional_hazard_test``, rank and KM time
        transforms): ``term, transform, test_statistic, p``.
    n_, n_events_ : int
        Rows used and events of the modelled type.
    dropped_missing_ : int
        Rows left out for a missing covariate.
    """

    covariates: Sequence[str] = DEFAULT_COX_COVARIATES
    strata: Sequence[str] | None = None
    event: int = EVENT_RTW
    alpha: float = 0.05
    penalizer: float = 0.0
    time_col: str = "rtw_time"
    event_col: str = "rtw_event"
    per: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_COX_PER))
    model_: CoxPHFitter | None = field(default=None, init=False, repr=False)
    summary_: pd.DataFrame | None = field(default=None, init=False, repr=False)
    ph_test_: pd.DataFrame | None = field(default=None, init=False, repr=False)
    n_: int | None = field(default=None, init=False)
    n_events_: int | None = field(default=None, init=False)
    dropped_missing_: int | None = field(default=None, init=False)

    def _design(self, outcomes: pd.DataFrame) -> tuple[pd.DataFrame, list[dict[str, object]]]:
        data = outcomes.copy()
        if (
            "age_group" in self.covariates
            and "age_group" not in data.columns
            and "age_at_admission" in data.columns
        ):
            data["age_group"] = age_group(data["age_at_admission"])
        strata = list(self.strata or [])
        columns = [self.time_col, self.event_col, *self.covariates, *strata]
        _check_columns(data, columns, "outcomes")
        data = data[columns]
        complete = data.dropna()
        self.dropped_missing_ = len(data) - len(complete)
        design = pd.DataFrame(index=complete.index)
        design["duration"] = complete[self.time_col].astype(float)
        design["observed"] = (complete[self.event_col].astype(int) == self.event).astype(int)
        terms: list[dict[str, object]] = []
        for var in self.covariates:
            col = complete[var]
            if (
                isinstance(col.dtype, pd.CategoricalDtype)
                or not pd.api.types.is_numeric_dtype(col)
                or pd.api.types.is_bool_dtype(col)
            ):
                if isinstance(col.dtype, pd.CategoricalDtype):
                    levels = [c for c in col.cat.categories if (col == c).any()]
                else:
                    levels = sorted(col.unique(), key=str)
                for level in levels[1:]:
                    name = f"{var}[{level}]"
                    design[name] = (col == level).astype(float)
                    terms.append(
                        {
                            "term": name,
                            "variable": var,
                            "level": level,
                            "reference": levels[0],
                            "per": np.nan,
                            # persons behind the term, for the disclosure rules
                            "n": int((col == level).sum()),
                            "events": int(design.loc[col == level, "observed"].sum()),
                        }
                    )
            else:
                per = float(self.per.get(var, 1.0))
                design[var] = col.astype(float) / per
                terms.append(
                    {
                        "term": var,
                        "variable": var,
                        "level": None,
                        "reference": None,
                        "per": per,
                        "n": len(design),
                        "events": int(design["observed"].sum()),
                    }
                )
        for s in strata:
            design[s] = complete[s].astype(str)
        return design, terms

    def fit(self, outcomes: pd.DataFrame) -> CauseSpecificCox:
        """Fit to the outcomes table (not modified); returns ``self``."""
        design, terms = self._design(outcomes)
        model = CoxPHFitter(alpha=self.alpha, penalizer=self.penalizer)
        model.fit(
            design,
            duration_col="duration",
            event_col="observed",
            strata=list(self.strata) if self.strata else None,
        )
        s = model.summary
        z = _z(self.alpha)
        summary = pd.DataFrame(terms)
        coef = s.loc[summary["term"], "coef"].to_numpy()
        se = s.loc[summary["term"], "se(coef)"].to_numpy()
        summary["coef"] = coef
        summary["std_error"] = se
        summary["hazard_ratio"] = np.exp(coef)
        summary["lower"] = np.exp(coef - z * se)
        summary["upper"] = np.exp(coef + z * se)
        summary["p"] = s.loc[summary["term"], "p"].to_numpy()
        self.model_ = model
        self.summary_ = summary
        self.ph_test_ = _ph_test(model, design)
        self.n_ = len(design)
        self.n_events_ = int(design["observed"].sum())
        return self


def _ph_test(model: CoxPHFitter, design: pd.DataFrame) -> pd.DataFrame:
    """lifelines' Schoenfeld-residual PH test as a tidy table."""
    result = proportional_hazard_test(model, design, time_transform=["rank", "km"])
    table = result.summary.reset_index()
    table.columns = ["term", "transform", *table.columns[2:]]
    return table[["term", "transform", "test_statistic", "p"]]


def cox_rtw(
    outcomes: pd.DataFrame,
    covariates: Sequence[str] = DEFAULT_COX_COVARIATES,
    strata: Sequence[str] | None = None,
    event: int = EVENT_RTW,
    alpha: float = 0.05,
    penalizer: float = 0.0,
    time_col: str = "rtw_time",
    event_col: str = "rtw_event",
    per: Mapping[str, float] | None = None,
) -> CauseSpecificCox:
    """Fit the cause-specific Cox model of time to sustainable RTW.

    Competing events (disability, death) are censored at their time. See
    :class:`CauseSpecificCox` for the parameters and the fitted attributes
    (``summary_`` hazard ratios with intervals, ``ph_test_``).
    """
    return CauseSpecificCox(
        covariates=tuple(covariates),
        strata=tuple(strata) if strata else None,
        event=event,
        alpha=alpha,
        penalizer=penalizer,
        time_col=time_col,
        event_col=event_col,
        per=dict(DEFAULT_COX_PER if per is None else per),
    ).fit(outcomes)


# --------------------------------------------------------------------------
# State occupation
# --------------------------------------------------------------------------


def state_occupation(
    daily_states: pd.DataFrame,
    outcomes: pd.DataFrame | None = None,
    by: str | None = None,
    first_day: int = 0,
    last_day: int = 365,
) -> pd.DataFrame:
    """Share of episodes in each daily state per day, among those observed that day.

    Censored days (``state`` missing) are left out of the denominator.

    Parameters
    ----------
    daily_states
        ``episode_id, day, state`` (state Categorical in priority order;
        otherwise the configuration's default order is used).
    outcomes
        Source of the ``by`` column when ``daily_states`` lacks it (joined
        on ``episode_id``).
    by
        Column to group by; episodes with a missing ``by`` are left out.
    first_day, last_day
        Days kept (inclusive).

    Returns
    -------
    DataFrame
        ``group, day, state, n, n_observed, share``: one row per group, day
        and state (every state, zero counts included, in priority order);
        ``share = n / n_observed`` (missing when nobody is observed).

    Examples
    --------
    >>> states = pd.Categorical(["aap", "working", None, "working"],
    ...                         categories=["aap", "working"])
    >>> ds = pd.DataFrame({"episode_id": ["a", "b", "c", "a"], "day": [1, 1, 1, 2],
    ...                    "state": states})
    >>> occ = state_occupation(ds)
    >>> occ[["day", "state", "n", "n_observed", "share"]].to_numpy().tolist()
    [[1, 'aap', 1, 2, 0.5], [1, 'working', 1, 2, 0.5], [2, 'aap', 0, 1, 0.0], [2, 'working', 1, 1, 1.0]]
    """
    _check_columns(daily_states, ["episode_id", "day", "state"], "daily_states")
    data = daily_states[["episode_id", "day", "state"]]
    data = data[(data["day"] >= first_day) & (data["day"] <= last_day)]
    state = data["state"]
    categories = (
        list(state.cat.categories)
        if isinstance(state.dtype, pd.CategoricalDtype)
        else list(DEFAULT_STATE_ORDER)
    )
    unknown = set(state.dropna().unique()) - set(categories)
    if unknown:
        raise ValueError(f"daily_states has states outside the state order: {sorted(unknown)}")
    data = data.assign(
        state=pd.Categorical(state, categories=categories), day=data["day"].astype(int)
    )
    if by is not None:
        if by in daily_states.columns:
            data = data.assign(**{by: daily_states.loc[data.index, by]})
        else:
            if outcomes is None:
                raise KeyError(f"daily_states has no column {by!r}; pass outcomes to take it from")
            _check_columns(outcomes, ["episode_id", by], "outcomes")
            data = data.merge(outcomes[["episode_id", by]], on="episode_id", how="left")
    pieces = []
    for value, rows in _groups(data, by):
        observed = rows[rows["state"].notna()]
        days = np.arange(int(rows["day"].min()), int(rows["day"].max()) + 1)
        counts = (
            observed.groupby(["day", "state"], observed=False)
            .size()
            .reindex(pd.MultiIndex.from_product([days, categories], names=["day", "state"]))
            .fillna(0)
            .astype(int)
            .rename("n")
            .reset_index()
        )
        n_observed = observed.groupby("day").size().reindex(days, fill_value=0)
        counts["n_observed"] = n_observed.loc[counts["day"]].to_numpy().astype(int)
        with np.errstate(divide="ignore", invalid="ignore"):
            counts["share"] = np.where(
                counts["n_observed"] > 0, counts["n"] / counts["n_observed"], np.nan
            )
        counts.insert(0, "group", [value] * len(counts))
        pieces.append(counts)
    out = _ordered_groups(pd.concat(pieces, ignore_index=True))
    out["state"] = pd.Categorical(out["state"], categories=categories, ordered=True)
    out.attrs["by"] = by
    return out


# --------------------------------------------------------------------------
# Work ability
# --------------------------------------------------------------------------


def _responses_with_group(
    responses: pd.DataFrame, by: str | None, episodes: pd.DataFrame | None
) -> pd.DataFrame:
    _check_columns(responses, ["episode_id", "point", "work_ability"], "responses")
    columns = ["episode_id", "point", "work_ability"]
    if by is None or by in responses.columns:
        return responses[columns + ([by] if by else [])]
    if episodes is None:
        raise KeyError(f"responses has no column {by!r}; pass episodes to take it from")
    _check_columns(episodes, ["episode_id", by], "episodes")
    return responses[columns].merge(episodes[["episode_id", by]], on="episode_id", how="left")


def _t_summary(values: np.ndarray, alpha: float) -> dict[str, float]:
    n = len(values)
    mean = float(np.mean(values)) if n else np.nan
    sd = float(np.std(values, ddof=1)) if n > 1 else np.nan
    if n > 1:
        half = stats.t.ppf(1 - alpha / 2, n - 1) * sd / np.sqrt(n)
        lower, upper = mean - half, mean + half
    else:
        lower = upper = np.nan
    return {"n": n, "mean": mean, "sd": sd, "lower": float(lower), "upper": float(upper)}


def work_ability_by_point(
    responses: pd.DataFrame,
    by: str | None = None,
    episodes: pd.DataFrame | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Mean work ability (0–10) at each registration point with a t interval.

    Parameters
    ----------
    responses
        Long ``responses``: ``episode_id, point, work_ability``.
    by
        Column to group by, from ``responses`` or else from ``episodes``.
    episodes
        Source of ``by`` (joined on ``episode_id``).
    alpha
        1 − confidence level.

    Returns
    -------
    DataFrame
        ``group, point, n, mean, sd, lower, upper`` (answers with a missing
        work ability are not counted).
    """
    data = _responses_with_group(responses, by, episodes)
    points = (
        list(data["point"].cat.categories)
        if isinstance(data["point"].dtype, pd.CategoricalDtype)
        else sorted(data["point"].dropna().unique())
    )
    rows = []
    for value, group in _groups(data, by):
        for point in points:
            answers = group.loc[group["point"] == point, "work_ability"].dropna()
            rows.append(
                {"group": value, "point": point, **_t_summary(answers.to_numpy(float), alpha)}
            )
    out = _ordered_groups(pd.DataFrame(rows))
    out["point"] = pd.Categorical(out["point"], categories=points, ordered=True)
    return out


def work_ability_change(
    responses: pd.DataFrame,
    from_point: str = "T0",
    to_point: str = "T3",
    by: str | None = None,
    episodes: pd.DataFrame | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Paired change in work ability from one point to another, with a t interval.

    Only episodes with a work ability at both points count (the cohort of
    ``arr_wa_change``).

    Parameters
    ----------
    responses
        Long ``responses``: ``episode_id, point, work_ability``.
    from_point, to_point
        Registration points (``T0`` … ``T3``).
    by
        Column to group by, from ``responses`` or else from ``episodes``.
    episodes
        Source of ``by`` (joined on ``episode_id``).
    alpha
        1 − confidence level.

    Returns
    -------
    DataFrame
        ``group, from_point, to_point, n, mean_from, mean_to, mean_change, sd,
        lower, upper``: ``sd`` of the paired differences, ``lower``/``upper``
        the t interval of the mean change (n − 1 degrees of freedom).

    Examples
    --------
    >>> responses = pd.DataFrame({"episode_id": ["a", "b", "c", "a", "b", "c"],
    ...                           "point": ["T0"] * 3 + ["T3"] * 3,
    ...                           "work_ability": [2, 4, 6, 5, 5, 8]})
    >>> change = work_ability_change(responses)
    >>> change[["n", "mean_change", "sd"]].to_numpy().tolist()  # changes 3, 1, 2
    [[3.0, 2.0, 1.0]]
    """
    data = _responses_with_group(responses, by, episodes)
    rows = []
    for value, group in _groups(data, by):
        wide = group.pivot_table(
            index="episode_id",
            columns="point",
            values="work_ability",
            aggfunc="first",
            observed=True,
        )
        if from_point in wide.columns and to_point in wide.columns:
            pairs = wide[[from_point, to_point]].dropna()
        else:
            pairs = pd.DataFrame(columns=[from_point, to_point], dtype=float)
        diff = (pairs[to_point] - pairs[from_point]).to_numpy(float)
        summary = _t_summary(diff, alpha)
        rows.append(
            {
                "group": value,
                "from_point": from_point,
                "to_point": to_point,
                "n": summary["n"],
                "mean_from": float(pairs[from_point].mean()) if len(pairs) else np.nan,
                "mean_to": float(pairs[to_point].mean()) if len(pairs) else np.nan,
                "mean_change": summary["mean"],
                "sd": summary["sd"],
                "lower": summary["lower"],
                "upper": summary["upper"],
            }
        )
    return _ordered_groups(pd.DataFrame(rows))


def work_ability_mixed_model(
    responses: pd.DataFrame,
    episodes: pd.DataFrame | None = None,
    covariates: Sequence[str] = (),
    alpha: float = 0.05,
    reference_point: str = "T0",
) -> pd.DataFrame:
    """Linear mixed model of work ability over the points (statsmodels MixedLM, REML).

    ``work_ability ~ point (+ covariates)`` with a random intercept per
    episode, so every answered point counts, also of episodes missing some
    points (valid under missing at random).

    Parameters
    ----------
    responses
        Long ``responses``: ``episode_id, point, work_ability``.
    episodes
        Source of the covariates (joined on ``episode_id``).
    covariates
        Episode-level fixed effects besides ``point`` (e.g. ``diagnosis_group``).
    alpha
        1 − confidence level.
    reference_point
        The point the point effects are measured from.

    Returns
    -------
    DataFrame
        ``term, estimate, std_error, lower, upper, p``: fixed effects
        (``Intercept``, ``point[T1]`` …), then the variance components
        ``var(episode)`` and ``var(residual)`` (estimates only).
    """
    import statsmodels.formula.api as smf

    _check_columns(responses, ["episode_id", "point", "work_ability"], "responses")
    data = responses[["episode_id", "point", "work_ability"]]
    covariates = list(covariates)
    if covariates:
        if episodes is None:
            raise KeyError("covariates need the episodes table")
        _check_columns(episodes, ["episode_id", *covariates], "episodes")
        data = data.merge(episodes[["episode_id", *covariates]], on="episode_id", how="left")
    data = data.dropna().copy()
    data["point"] = data["point"].astype(str)
    data = data.sort_values(["episode_id", "point"], kind="stable").reset_index(drop=True)
    terms = [f"C(point, Treatment(reference={reference_point!r}))"]
    terms += [f"C({c})" if not pd.api.types.is_numeric_dtype(data[c]) else c for c in covariates]
    formula = "work_ability ~ " + " + ".join(terms)
    model = smf.mixedlm(formula, data, groups=data["episode_id"])
    result = model.fit(reml=True)
    fixed = result.fe_params.index
    ci = result.conf_int(alpha=alpha).loc[fixed]
    out = pd.DataFrame(
        {
            "term": [_tidy_term(t) for t in fixed],
            "estimate": result.fe_params.to_numpy(),
            "std_error": result.bse_fe.to_numpy(),
            "lower": ci.iloc[:, 0].to_numpy(),
            "upper": ci.iloc[:, 1].to_numpy(),
            "p": result.pvalues.loc[fixed].to_numpy(),
        }
    )
    variances = pd.DataFrame(
        {
            "term": ["var(episode)", "var(residual)"],
            "estimate": [float(result.cov_re.iloc[0, 0]), float(result.scale)],
        }
    )
    out = pd.concat([out, variances], ignore_index=True)
    out.attrs["n_episodes"] = int(data["episode_id"].nunique())
    out.attrs["n_answers"] = len(data)
    return out


def _tidy_term(term: str) -> str:
    """``C(point, Treatment(reference='T0'))[T.T3]`` → ``point[T3]``."""
    if term.startswith("C(") and "[T." in term:
        variable = term[2:].split(",")[0].split(")")[0]
        level = term.split("[T.", 1)[1].rstrip("]")
        return f"{variable}[{level}]"
    return term
