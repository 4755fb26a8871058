"""The quality indicators of ``docs/spec/indicators-and-report.md``: cohorts and per-episode values.

``year`` is always the report year Y: process measures use episodes
discharged in Y, 12-month outcomes episodes discharged in Y − 1. Every
definition is written up in ``docs/indicators.md``."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from arr_stats.config import IndicatorTarget, RunConfig
from arr_stats.dictionary import load_dictionary
from arr_stats.domain import DEFAULT_CLUSTER, EVENT_RTW, RESPONSE_POINT_MONTHS
from arr_stats.labels import group, t

#: Indicator ids (stable) and the statistic each is summarised with.
INDICATOR_STATISTIC: dict[str, str] = {
    "arr_rtw12": "proportion",
    "arr_srtw": "cumulative_incidence",
    "arr_hrbdays": "median",
    "arr_wa_change": "mean",
    "arr_resp_t1": "proportion",
    "arr_resp_t2": "proportion",
    "arr_resp_t3": "proportion",
    "arr_dg": "coverage",
    "arr_compl": "item_share",
}

#: Indicator names (nb), as in the specification (the label catalogue,
#: :mod:`arr_stats.labels`, holds them in every language).
INDICATOR_NAMES: dict[str, str] = group("indicator")

#: Indicators on 12-month outcomes: cohort = episodes discharged in Y − 1.
OUTCOME_INDICATORS = ("arr_rtw12", "arr_srtw", "arr_hrbdays", "arr_wa_change")


#: Target levels (høy / moderat / lav måloppnåelse).
LEVEL_HIGH, LEVEL_MODERATE, LEVEL_LOW = "høy", "moderat", "lav"

#: The flag of a unit whose coverage is below ``RunConfig.low_coverage_threshold``.
LOW_COVERAGE_LABEL = t("flag.low_coverage")

#: ``context`` of every upload row.
UPLOAD_CONTEXT = "caregiver"

#: Columns of the upload shape.
UPLOAD_COLUMNS = ("ind_id", "orgnr", "year", "var", "denominator", "context")

#: ``unit`` values of the aggregated table.
UNIT_INSTITUTION, UNIT_REST, UNIT_NATIONAL = "institution", "rest", "national"

#: How each statistic's interval (``lower``, ``upper``) is made; a median has
#: none (its spread is the interquartile range, in ``q1``, ``q3``).
INTERVAL_KIND = {
    "proportion": "wilson95",
    "coverage": "wilson95",
    "item_share": "wilson95_neff",
    "mean": "t95",
    "median": None,
    "cumulative_incidence": "aalen_johansen95",
}


def classify_target(value: float, target: IndicatorTarget) -> str | None:
    """Target level of an (unrounded) value: høy, moderat or lav; None when missing.

    Higher is better: ≥ green is high, < yellow is low, else moderate. Lower is
    better: ≤ green is high, > yellow is low, else moderate.

    Examples
    --------
    >>> t = IndicatorTarget(0.6, 0.4, "higher")
    >>> classify_target(0.6, t), classify_target(0.4, t), classify_target(0.3999, t)
    ('høy', 'moderat', 'lav')
    """
    if value is None or pd.isna(value):
        return None
    if target.direction == "higher":
        if value >= target.level_green:
            return LEVEL_HIGH
        return LEVEL_LOW if value < target.level_yellow else LEVEL_MODERATE
    if target.direction == "lower":
        if value <= target.level_green:
            return LEVEL_HIGH
        return LEVEL_LOW if value > target.level_yellow else LEVEL_MODERATE
    raise ValueError(f"direction must be 'higher' or 'lower', not {target.direction!r}")


def _discharged(table: pd.DataFrame, year: int) -> pd.DataFrame:
    return table[table["discharge_date"].dt.year == year]


def t0_items(episodes: pd.DataFrame) -> list[str]:
    """The T0 items counted by ``arr_compl``: the optional, non-date variables of skjema_t0.

    Read from the data dictionary (``required: false``, type not ``date``) and
    kept when present in ``episodes``.
    """
    table = load_dictionary().table("skjema_t0")
    return [
        v.name
        for v in table.variables
        if not v.required and v.type != "date" and v.name in episodes.columns
    ]


def _srtw_var(cohort: pd.DataFrame, followup_days: int) -> pd.Series:
    """1 = sustainable RTW by day F; 0 = a competing event first, or no event with
    follow-up to day F; NaN = censored before day F (outcome unknown)."""
    reached = (cohort["rtw_event"] == EVENT_RTW) & (cohort["rtw_time"] <= followup_days)
    other_event = (cohort["rtw_event"] != 0) & ~reached
    complete = (cohort["rtw_event"] == 0) & (cohort["rtw_time"] >= followup_days)
    var = pd.Series(np.nan, index=cohort.index)
    var[reached] = 1.0
    var[other_event | complete] = 0.0
    return var


def work_ability_pairs(episodes: pd.DataFrame, responses: pd.DataFrame, year: int) -> pd.DataFrame:
    """The cohort of ``arr_wa_change`` in report year ``year``: one definition for every output.

    Episodes discharged in ``year − 1`` with a work ability on the T0 form
    (``episodes``) and on the T3 answer (``responses``). The indicator and
    the report's table of paired change both read this, so their n's are
    the same and no difference between them can give a count back.

    Parameters
    ----------
    episodes, responses
        Derived tables; not modified.
    year
        Report year.

    Returns
    -------
    DataFrame
        The episodes' rows with ``work_ability_t0``, ``work_ability_t3``
        (floats) and ``change`` (T3 − T0).

    Examples
    --------
    >>> ep = pd.DataFrame({"episode_id": ["a", "b", "c"], "institution_id": "X",
    ...                    "discharge_date": pd.to_datetime(["2024-03-01"] * 2 + ["2025-03-01"]),
    ...                    "work_ability": [2.0, None, 4.0]})
    >>> resp = pd.DataFrame({"episode_id": ["a", "b", "c"], "point": "T3",
    ...                      "work_ability": [5.0, 6.0, 7.0]})
    >>> work_ability_pairs(ep, resp, 2025)[["episode_id", "change"]].to_numpy().tolist()
    [['a', 3.0]]
    """
    earlier = _discharged(episodes, year - 1)
    t3 = responses[responses["point"].astype(str) == "T3"][["episode_id", "work_ability"]]
    paired = earlier.merge(t3, on="episode_id", how="inner", suffixes=("_t0", "_t3"))
    paired = paired[paired["work_ability_t0"].notna() & paired["work_ability_t3"].notna()]
    paired = paired.assign(
        work_ability_t0=paired["work_ability_t0"].astype(float),
        work_ability_t3=paired["work_ability_t3"].astype(float),
    )
    return paired.assign(change=paired["work_ability_t3"] - paired["work_ability_t0"])


def _rows(ind_id: str, year: int, frame: pd.DataFrame, var: pd.Series) -> pd.DataFrame:
    rows = pd.DataFrame(
        {
            "ind_id": ind_id,
            "orgnr": frame["institution_id"].astype(str).to_numpy(),
            "year": year,
            "episode_id": frame["episode_id"].astype(str).to_numpy(),
            "var": pd.to_numeric(var, errors="coerce").astype(float).to_numpy(),
        }
    )
    if DEFAULT_CLUSTER in frame.columns:  # the intervals are grouped by person
        persons = frame[DEFAULT_CLUSTER]
        rows[DEFAULT_CLUSTER] = persons.astype(str).where(persons.notna()).to_numpy()
    return rows


def _episode_values(
    episodes: pd.DataFrame,
    responses: pd.DataFrame,
    outcomes: pd.DataFrame,
    config: RunConfig,
    year: int,
) -> pd.DataFrame:
    """Every cohort member of every per-episode indicator of report year ``year``.

    ``var`` is NaN for a cohort member without a value (only ``arr_srtw``:
    censored before day F); ``person_id`` (the intervals' cluster) rides along
    where the source table has it, ``rtw_time``/``rtw_event`` for
    ``arr_srtw``, ``items`` (the number of T0 items) for ``arr_compl``.
    """
    params = config.outcomes
    pieces = []

    cohort = _discharged(outcomes, year - 1)
    observed = cohort[cohort["rtw_12m"].notna()]
    pieces.append(_rows("arr_rtw12", year, observed, observed["rtw_12m"].astype(float)))

    srtw = _rows("arr_srtw", year, cohort, _srtw_var(cohort, params.followup_days))
    srtw["rtw_time"] = cohort["rtw_time"].to_numpy()
    srtw["rtw_event"] = cohort["rtw_event"].to_numpy()
    pieces.append(srtw)

    hrb = cohort[cohort["hrb_days_12m"].notna()]
    pieces.append(_rows("arr_hrbdays", year, hrb, hrb["hrb_days_12m"]))

    paired = work_ability_pairs(episodes, responses, year)
    pieces.append(_rows("arr_wa_change", year, paired, paired["change"]))

    current = _discharged(episodes, year)
    data_end = pd.Timestamp(params.data_end)
    for point, months in RESPONSE_POINT_MONTHS.items():
        offset = 0 if months == 0 else params.month_days[months]
        due = current[current["discharge_date"] + pd.Timedelta(days=offset) <= data_end]
        answered_ids = set(responses.loc[responses["point"].astype(str) == point, "episode_id"])
        answered = due["episode_id"].isin(answered_ids).astype(float)
        pieces.append(_rows(f"arr_resp_{point.lower()}", year, due, answered))

    items = t0_items(current)
    share = current[items].notna().mean(axis=1) if items else pd.Series(dtype=float)
    compl = _rows("arr_compl", year, current, share)
    compl["items"] = len(items)  # the trials behind each episode's share
    pieces.append(compl)

    out = pd.concat(pieces, ignore_index=True)
    return out.sort_values(["ind_id", "orgnr", "episode_id"], kind="mergesort", ignore_index=True)


def episode_indicators(
    episodes: pd.DataFrame,
    responses: pd.DataFrame,
    outcomes: pd.DataFrame,
    config: RunConfig,
    years: Iterable[int],
) -> pd.DataFrame:
    """Per-episode indicator rows in the results-portal upload shape.

    Parameters
    ----------
    episodes, responses, outcomes
        Derived tables (docs/architecture.md); not modified.
    config
        The run configuration (``data_end``, follow-up, month days).
    years
        Report years.

    Returns
    -------
    DataFrame
        ``ind_id, orgnr, year, var, denominator, context``: one row per
        episode of the indicator's cohort with a value (``var`` 0/1 for
        proportions, the value for ``arr_hrbdays``, ``arr_wa_change`` and
        ``arr_compl``), ``denominator`` 1, ``context`` "caregiver". ``year``
        is the report year. ``arr_dg`` has no per-episode rows (its
        denominator is the institution form's patient count). These rows are
        row-level data: for the results-portal upload only, never for a report.
    """
    pieces = [_episode_values(episodes, responses, outcomes, config, y) for y in sorted(years)]
    rows = pd.concat(pieces, ignore_index=True)
    rows = rows[rows["var"].notna()]
    out = rows.assign(denominator=1, context=UPLOAD_CONTEXT)[list(UPLOAD_COLUMNS)]
    return out.reset_index(drop=True)
