"""Tidy time-to-event curves: the shared table shape, risk sets, pointwise intervals and reading a curve.

Every curve of :mod:`arr_stats.stats` (Kaplan–Meier, Aalen–Johansen) is a
DataFrame with the columns :data:`CURVE_COLUMNS`, one row per group and
distinct time. The helpers here make and read that shape; the variance and
interval choices are written up in ``docs/survival.md``."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from arr_stats.domain import EVENT_CENSORED

#: Value of the ``group`` column when no ``by`` is given.
ALL_GROUP = "all"

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
    of :func:`arr_stats.publication.disclosure.pool_survival_steps`), of whom
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

    Where se = 0 both limits are p, except where the transformation is
    undefined (p = 0 for ``"log"``; p = 0 or 1 for ``"log-log"``): there the
    limits are missing whatever se is, as R gives ``NA`` (survival 3.5-3;
    e.g. a cumulative incidence before its first event has no interval). A
    missing se gives missing limits.

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
            # R: xx <- ifelse(p == 0, NA, p): no interval at p = 0, even where se = 0
            x = np.where(p == 0, np.nan, p)
            lower = np.exp(np.log(x) - z * se_log)
            upper = np.exp(np.log(x) + z * se_log)
            upper = np.where(np.isnan(upper), np.nan, np.fmin(upper, 1.0))
        else:  # log-log
            # R: xx <- ifelse(p == 0 | p == 1, NA, p): none at p = 0 or 1, even where se = 0
            x = np.where((p == 0) | (p == 1), np.nan, p)
            shift = z * se_log / np.log(x)  # negative: log x < 0
            lower = np.exp(-np.exp(np.log(-np.log(x)) - shift))
            upper = np.exp(-np.exp(np.log(-np.log(x)) + shift))
    return lower, upper


def _ordered_groups(out: pd.DataFrame) -> pd.DataFrame:
    """Make ``group`` a Categorical in the order the groups were produced.

    So the order of a categorical ``by`` (e.g. the diagnosis groups) survives
    sorting group-bys downstream (disclosure, plotting).
    """
    order = list(dict.fromkeys(out["group"].tolist()))
    return out.assign(group=pd.Categorical(out["group"], categories=order))


def _finish_curve(pieces: list[pd.DataFrame]) -> pd.DataFrame:
    """The groups' curves as one table of :data:`CURVE_COLUMNS`, groups in order."""
    out = _ordered_groups(pd.concat(pieces, ignore_index=True))
    out["time"] = _time_dtype(out["time"])
    return out[list(CURVE_COLUMNS)]


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
    >>> from arr_stats.stats.kaplan_meier import kaplan_meier
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
