"""The register outcomes of docs/spec/outcomes.md, one row per linked episode.

Two public functions, both pure (they never modify their inputs):

- :func:`derive_outcomes` – sustainable return to work (time to event, with
  full disability and death as competing events, and its employment-confirmed
  variant), the fixed-horizon outcomes (``rtw_12m``, HRB days and full-time
  equivalents in follow-up, HRB days before admission, employment and state at
  3, 6 and 12 months) and the observed follow-up;
- :func:`daily_states` – the daily state of every linked episode on every day
  of a range, for state-occupation plots.

The day-level facts (HRB day and grade, benefit-free, employed, benefit state)
come from :func:`arr_stats.spells.day_facts`, which works on spell boundaries
rather than on a day grid; see docs/outcomes-implementation.md for the method,
its speed and every decision where outcomes.md is silent.

Example
-------
The worked example of outcomes.md: discharged 2024-03-01, full sick leave to
2024-04-15 (days 1–45), half sick leave to 2024-05-20 (days 46–80), then no
benefits.

>>> import datetime as dt
>>> from arr_stats.config import OutcomeParams
>>> day = pd.Timestamp
>>> episodes = pd.DataFrame({
...     "episode_id": ["E1"], "person_id": ["P1"], "linked": [True],
...     "admission_date": [day("2024-02-01")], "discharge_date": [day("2024-03-01")]})
>>> benefits = pd.DataFrame({
...     "person_id": ["P1", "P1"], "benefit": pd.Categorical(["SP", "SP"]),
...     "start_date": [day("2023-11-01"), day("2024-04-16")],
...     "end_date": [day("2024-04-15"), day("2024-05-20")], "grade": [100.0, 50.0]})
>>> persons = pd.DataFrame({"person_id": ["P1"], "death_date": [pd.NaT],
...     "emigration_date": [pd.NaT]})
>>> out = derive_outcomes(episodes, benefits, None, persons,
...     OutcomeParams(data_end=dt.date(2025, 12, 31)))
>>> columns = ["rtw_event", "rtw_time", "state_3m", "rtw_12m", "hrb_days_12m", "hrb_fte_days_12m"]
>>> out.loc[0, columns].astype(str).tolist()
['1', '81', 'working', 'True', '80', '62.5']
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from arr_stats.config import OutcomeParams
from arr_stats.dictionary import load_dictionary
from arr_stats.spells import FULL_GRADE, NO_DAY, DayFacts, day_facts, day_numbers

#: Episode columns carried into ``outcomes`` (docs/architecture.md), when present.
OUTCOME_COVARIATES: tuple[str, ...] = (
    "episode_id",
    "person_id",
    "institution_id",
    "discharge_date",
    "discharge_year",
    "admission_date",
    "age_at_admission",
    "sex",
    "diagnosis_group",
    "rehab_mode",
    "education",
    "sick_leave_status",
    "sick_leave_weeks",
    "work_ability",
)

#: ``rtw_event`` codes (outcomes.md).
CENSORED, RTW, FULL_DISABILITY, DEATH = 0, 1, 2, 3

#: The state of a day on or after the death date (outcomes.md, order 1).
DEAD_STATE = "dead"

_REQUIRED_EPISODE_COLUMNS = (
    "episode_id",
    "person_id",
    "admission_date",
    "discharge_date",
    "linked",
)


@dataclass(frozen=True)
class _Cohort:
    """The linked episodes and their per-episode day numbers (index = group)."""

    episodes: pd.DataFrame
    discharge: np.ndarray
    admission: np.ndarray
    death: np.ndarray  # NO_DAY when alive at data end
    obs_last: np.ndarray

    @property
    def observed_days(self) -> np.ndarray:
        """``o``: obs_last − discharge_date in days."""
        return self.obs_last - self.discharge

    @property
    def death_day(self) -> np.ndarray:
        """death_date − discharge_date in days (NO_DAY when no death)."""
        return np.where(self.death == NO_DAY, NO_DAY, self.death - self.discharge)


def derive_outcomes(
    episodes: pd.DataFrame,
    benefits: pd.DataFrame | None,
    employment: pd.DataFrame | None,
    persons: pd.DataFrame,
    params: OutcomeParams,
) -> pd.DataFrame:
    """The outcomes of outcomes.md, one row per linked episode.

    Parameters
    ----------
    episodes
        The ``episodes`` table; only rows with ``linked`` True get an outcome row.
    benefits
        Cleaned benefit spells (``person_id, benefit, start_date, end_date, grade``);
        may be empty or ``None``.
    employment
        Employment relationships (``person_id, start_date, end_date, position_percent``);
        may be empty or ``None``.
    persons
        NAV persons (``person_id, death_date, emigration_date``).
    params
        The outcome parameters of the run configuration.

    Returns
    -------
    pandas.DataFrame
        The ``outcomes`` table of docs/architecture.md, in the order of ``episodes``.
    """
    cohort = _cohort(episodes, persons, params)
    facts = _facts(cohort, benefits, employment, params, *_outcome_window(cohort, params))
    tiling = facts.tiling
    disch = cohort.discharge
    f, length = params.followup_days, params.rtw_min_days
    o = cohort.observed_days
    death_day = cohort.death_day
    benefit_free = ~facts.hrb

    # Competing events; each candidate is a day number relative to discharge or NO_DAY.
    d_death = np.where((death_day >= 1) & (death_day <= f), death_day, NO_DAY)
    d_dis = _relative(
        tiling.first_day_where(facts.full_disability, disch + 1, disch + np.minimum(f, o) + 1),
        disch,
    )
    run_args = (disch + 1, disch + f, cohort.obs_last + 1, length)
    d_rtw = _relative(tiling.first_run_start(benefit_free, *run_args), disch)
    d_rtw_emp = _relative(tiling.first_run_start(benefit_free & facts.employed, *run_args), disch)
    censor_time = np.maximum(0, np.minimum(f, o - length + 1))
    rtw_event, rtw_time = _first_event(d_death, d_dis, d_rtw, censor_time)
    emp_event, emp_time = _first_event(d_death, d_dis, d_rtw_emp, censor_time)

    first12, last12 = params.rtw12_first_day, params.rtw12_last_day
    hrb_month12 = tiling.days_where(facts.hrb, disch + first12, disch + last12 + 1)
    rtw_12m = _masked_bool(hrb_month12 == 0, (o < last12) | (death_day <= last12))
    hrb_days = tiling.days_where(facts.hrb, disch + 1, disch + f + 1)
    hrb_fte = tiling.sum_days(facts.hrb_grade / FULL_GRADE, disch + 1, disch + f + 1)
    pre_start = cohort.admission - params.pre_admission_days
    hrb_pre = tiling.days_where(facts.hrb, pre_start, cohort.admission)
    day12 = _month_day(params, 12)
    employed_12m = _masked_bool(facts.employed[tiling.segment_on_day(disch + day12)], o < day12)

    out = cohort.episodes[[c for c in OUTCOME_COVARIATES if c in cohort.episodes]].reset_index(
        drop=True
    )
    out["rtw_event"] = rtw_event
    out["rtw_time"] = rtw_time
    out["rtw_emp_event"] = emp_event
    out["rtw_emp_time"] = emp_time
    out["rtw_12m"] = rtw_12m
    out["hrb_days_12m"] = pd.arrays.IntegerArray(hrb_days, o < f)
    out["hrb_fte_days_12m"] = np.where(o < f, np.nan, hrb_fte)
    out["hrb_days_pre_12m"] = pd.arrays.IntegerArray(hrb_pre, np.zeros(len(hrb_pre), bool))
    out["employed_12m"] = employed_12m
    for months, day in sorted(params.month_days.items()):
        out[f"state_{months}m"] = _state_on_day(facts, cohort, params, day)
    out["obs_days"] = o.astype(np.int64)
    return out


def daily_states(
    episodes: pd.DataFrame,
    benefits: pd.DataFrame | None,
    employment: pd.DataFrame | None,
    persons: pd.DataFrame,
    params: OutcomeParams,
    first_day: int = 0,
    last_day: int | None = None,
) -> pd.DataFrame:
    """The daily state of every linked episode on days ``first_day … last_day``.

    Parameters
    ----------
    episodes, benefits, employment, persons, params
        As for :func:`derive_outcomes`.
    first_day, last_day
        The days (relative to discharge; day 0 = discharge day) to report;
        ``last_day`` defaults to ``F`` (``params.followup_days``).

    Returns
    -------
    pandas.DataFrame
        Long table ``episode_id, day`` (int16), ``state`` (Categorical of
        ``params.state_order``; missing = censored: after ``obs_last`` and alive),
        sorted by episode (in the order of ``episodes``) and day.
    """
    last_day = params.followup_days if last_day is None else last_day
    cohort = _cohort(episodes, persons, params)
    days = np.arange(first_day, last_day + 1, dtype=np.int64)
    n_groups = len(cohort.discharge)
    if len(days) == 0 or n_groups == 0:
        codes = np.empty((n_groups, len(days)), dtype=np.int16)
    else:
        facts = _facts(
            cohort,
            benefits,
            employment,
            params,
            cohort.discharge + first_day,
            cohort.discharge + last_day + 1,
        )
        codes = _censor(facts.tiling.per_day(facts.state), days, cohort, params)
    return pd.DataFrame(
        {
            "episode_id": np.repeat(cohort.episodes["episode_id"].to_numpy(), len(days)),
            "day": np.tile(days.astype(np.int16), n_groups),
            "state": pd.Categorical.from_codes(codes.ravel(), categories=list(params.state_order)),
        }
    )


# --- the cohort and its spells ---------------------------------------------


def _cohort(episodes: pd.DataFrame, persons: pd.DataFrame, params: OutcomeParams) -> _Cohort:
    missing = [c for c in _REQUIRED_EPISODE_COLUMNS if c not in episodes]
    if missing:
        raise ValueError(f"episodes lacks the columns {missing}")
    linked = episodes[episodes["linked"].fillna(False).astype(bool).to_numpy()]
    person = pd.Index(persons["person_id"]).get_indexer(linked["person_id"])
    has_person = person >= 0
    death = np.full(len(linked), NO_DAY, dtype=np.int64)
    emigration = np.full(len(linked), NO_DAY, dtype=np.int64)
    death[has_person] = day_numbers(persons["death_date"], missing=NO_DAY)[person[has_person]]
    emigration[has_person] = day_numbers(persons["emigration_date"], missing=NO_DAY)[
        person[has_person]
    ]
    data_end = _data_end(params)
    try:
        discharge = day_numbers(linked["discharge_date"])
        admission = day_numbers(linked["admission_date"])
    except ValueError as exc:
        raise ValueError("a linked episode lacks its admission or discharge date") from exc
    obs_last = np.minimum(np.minimum(data_end, emigration - 1), death - 1)
    return _Cohort(linked, discharge, admission, death, obs_last)


def _data_end(params: OutcomeParams) -> np.int64:
    return np.int64(day_numbers(pd.Series([pd.Timestamp(params.data_end)]))[0])


def _outcome_window(cohort: _Cohort, params: OutcomeParams) -> tuple[np.ndarray, np.ndarray]:
    """The days any outcome reads: the pre-admission window, then day 0 to the
    last day an RTW run starting on day F can reach (and the month days)."""
    month_days = list(params.month_days.values())
    first = min(0, 1, *month_days, params.rtw12_first_day)
    last = max(
        params.followup_days + params.rtw_min_days - 1,
        params.followup_days,
        params.rtw12_last_day,
        *month_days,
    )
    lo = np.minimum(cohort.admission - params.pre_admission_days, cohort.discharge + first)
    hi = np.maximum(cohort.discharge + last + 1, cohort.admission)
    return lo, hi


def _spell_groups(cohort: _Cohort, spell_person: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Pair every spell with every linked episode of its person.

    Returns the spell row positions and the episode (group) of each pair.
    """
    episode_person, persons = pd.factorize(cohort.episodes["person_id"])
    spell_code = pd.Index(persons).get_indexer(spell_person)
    spells = np.flatnonzero(spell_code >= 0)
    spell_code = spell_code[spells]
    by_person = np.argsort(episode_person, kind="stable")
    n_episodes = np.bincount(episode_person, minlength=len(persons))
    first_episode = np.cumsum(n_episodes) - n_episodes
    repeats = n_episodes[spell_code]
    pair_spell = np.repeat(spells, repeats)
    within = np.arange(len(pair_spell)) - np.repeat(np.cumsum(repeats) - repeats, repeats)
    group = by_person[np.repeat(first_episode[spell_code], repeats) + within]
    return pair_spell, group.astype(np.int64)


def _spell_bounds(
    table: pd.DataFrame, rows: np.ndarray, data_end: np.int64
) -> tuple[np.ndarray, np.ndarray]:
    """``[start, stop)`` day numbers of spells; an open end (NaT) runs to data_end.

    Nothing after data_end is observed, so no spell covers a later day.
    """
    start = day_numbers(table["start_date"])[rows]
    end = day_numbers(table["end_date"], missing=int(data_end))[rows]
    return start, np.minimum(end, data_end) + 1


def _facts(
    cohort: _Cohort,
    benefits: pd.DataFrame | None,
    employment: pd.DataFrame | None,
    params: OutcomeParams,
    lo: np.ndarray,
    hi: np.ndarray,
) -> DayFacts:
    dictionary = load_dictionary()
    data_end = _data_end(params)
    empty = np.empty(0, dtype=np.int64)

    if benefits is not None and len(benefits):
        b_rows, b_group = _spell_groups(cohort, benefits["person_id"])
        b_start, b_stop = _spell_bounds(benefits, b_rows, data_end)
        empty_grade = dictionary.table("benefits").variable("grade").empty_means
        grade = benefits["grade"].to_numpy(dtype=np.float64, na_value=np.nan)
        grade = np.where(np.isnan(grade), empty_grade, grade)[b_rows]
        code = np.asarray(benefits["benefit"].astype(object).to_numpy())[b_rows]
    else:
        b_group, b_start, b_stop, grade = empty, empty, empty, np.empty(0)
        code = np.empty(0, dtype=object)

    if employment is not None and len(employment):
        e_rows, e_group = _spell_groups(cohort, employment["person_id"])
        e_start, e_stop = _spell_bounds(employment, e_rows, data_end)
        percent = employment["position_percent"].to_numpy(dtype=np.float64, na_value=np.nan)
        percent = np.nan_to_num(percent[e_rows], nan=0.0)
    else:
        e_group, e_start, e_stop, percent = empty, empty, empty, np.empty(0)

    return day_facts(
        lo,
        hi,
        b_group,
        code,
        grade,
        b_start,
        b_stop,
        e_group,
        percent,
        e_start,
        e_stop,
        codelist=dictionary.benefits,
        state_order=params.state_order,
    )


# --- small helpers -----------------------------------------------------------


def _relative(day: np.ndarray, discharge: np.ndarray) -> np.ndarray:
    return np.where(day == NO_DAY, NO_DAY, day - discharge)


def _first_event(
    d_death: np.ndarray, d_dis: np.ndarray, d_rtw: np.ndarray, censor_time: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The earliest event; on a tie death, then full disability, then RTW."""
    candidates = np.stack([d_death, d_dis, d_rtw])
    first = np.argmin(candidates, axis=0)  # argmin keeps the first row on a tie
    time = candidates.min(axis=0)
    event = np.array([DEATH, FULL_DISABILITY, RTW], dtype=np.int64)[first]
    censored = time == NO_DAY
    return (
        np.where(censored, CENSORED, event).astype(np.int64),
        np.where(censored, censor_time, time).astype(np.int64),
    )


def _masked_bool(values: np.ndarray, missing: np.ndarray) -> pd.arrays.BooleanArray:
    return pd.arrays.BooleanArray(np.asarray(values, dtype=bool), np.asarray(missing, dtype=bool))


def _month_day(params: OutcomeParams, months: int) -> int:
    if months not in params.month_days:
        raise ValueError(f"OutcomeParams.month_days needs the day of {months} months")
    return params.month_days[months]


def _state_on_day(
    facts: DayFacts, cohort: _Cohort, params: OutcomeParams, day: int
) -> pd.Categorical:
    """The state on one day after discharge, for every episode."""
    segment = facts.tiling.segment_on_day(cohort.discharge + day)
    code = _censor(facts.state[segment][:, None], np.array([day]), cohort, params)
    return pd.Categorical.from_codes(code[:, 0], categories=list(params.state_order))


def _censor(
    state: np.ndarray, days: np.ndarray, cohort: _Cohort, params: OutcomeParams
) -> np.ndarray:
    """Apply death and censoring to benefit states (episodes × ``days`` after discharge).

    ``dead`` on and after the death date (order 1 of outcomes.md), missing
    (code -1) on the other days after ``obs_last``, the benefit state otherwise.
    """
    censored = days[None, :] > cohort.observed_days[:, None]
    dead = days[None, :] >= cohort.death_day[:, None]
    dead_code = params.state_order.index(DEAD_STATE)
    return np.where(dead, dead_code, np.where(censored, -1, state)).astype(np.int16)
