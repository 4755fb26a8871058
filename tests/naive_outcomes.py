"""A naive, day-by-day reference implementation of docs/spec/outcomes.md.

Written from the specification text alone, for testing: plain Python loops
over calendar dates, one rule of outcomes.md per function, no interval
arithmetic and nothing shared with :mod:`arr_stats.derive.spells` or
:mod:`arr_stats.derive.outcomes`. It is slow on purpose: every day is looked at.

The decisions where outcomes.md is silent follow
docs/outcomes-implementation.md (they are repeated where they are used):

- no spell covers a day after ``data_end`` (nothing after it is observed);
- ``working`` is the state of an observed day no benefit state applies to;
- on a tie between the RTW day and a competing day the competing event wins
  (shown impossible in tests/test_outcomes_handworked.py);
- ``hrb_days_pre_12m`` counts the registered HRB days of the window
  regardless of emigration and death;
- ``employed_12m`` reads the day ``month_days[12]``.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import pandas as pd

from arr_stats.config import OutcomeParams
from arr_stats.dictionary import load_dictionary

ONE_DAY = dt.timedelta(days=1)


def _date(value) -> dt.date | None:
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    if pd.isna(value):
        return None
    return pd.Timestamp(value).date()


@dataclass
class Spell:
    code: str
    start: dt.date
    end: dt.date  # inclusive; an open spell runs to data_end
    grade: float


@dataclass
class Job:
    start: dt.date
    end: dt.date
    percent: float


class PersonDays:
    """Everything outcomes.md says about one person's days."""

    def __init__(self, spells, jobs, death, emigration, params: OutcomeParams):
        self.dd = load_dictionary()
        self.spells = spells
        self.jobs = jobs
        self.death = death
        self.params = params
        self.data_end = params.data_end
        # obs_last: the earliest of data_end, the day before emigration, the day before death.
        candidates = [self.data_end]
        if emigration is not None:
            candidates.append(emigration - ONE_DAY)
        if death is not None:
            candidates.append(death - ONE_DAY)
        self.obs_last = min(candidates)

    def observed(self, day: dt.date) -> bool:
        return day <= self.obs_last

    def covering(self, day: dt.date) -> list[Spell]:
        """Spells with grade > 0 that cover the day (grade 0 covers no day)."""
        if day > self.data_end:
            return []
        return [s for s in self.spells if s.start <= day <= s.end and s.grade > 0]

    def hrb_grade(self, day: dt.date) -> float:
        grades = [s.grade for s in self.covering(day) if self.dd.benefits[s.code].is_health]
        return max(grades) if grades else 0.0

    def is_hrb(self, day: dt.date) -> bool:
        return self.hrb_grade(day) > 0

    def benefit_free(self, day: dt.date) -> bool:
        return self.observed(day) and not self.is_hrb(day)

    def employed(self, day: dt.date) -> bool:
        if day > self.data_end:
            return False
        return sum(j.percent for j in self.jobs if j.start <= day <= j.end) > 0

    def full_disability(self, day: dt.date) -> bool:
        return any(
            "disability" in self.dd.benefits[s.code].categories and s.grade == 100
            for s in self.covering(day)
        )

    def state(self, day: dt.date) -> str | None:
        if self.death is not None and day >= self.death:
            return "dead"
        if day > self.obs_last:
            return None
        applicable = set()
        for s in self.covering(day):
            benefit = self.dd.benefits[s.code]
            applicable.add(benefit.state_full if s.grade == 100 else benefit.state_partial)
        for state in self.params.state_order:
            if state in applicable:
                return state
        return "working"


def _event_days(discharge: dt.date, days: PersonDays, params: OutcomeParams) -> dict:
    """d_rtw, d_rtw_emp, d_dis and d_death of outcomes.md (None where there is none)."""
    f, length = params.followup_days, params.rtw_min_days

    def on(d: int) -> dt.date:
        return discharge + dt.timedelta(days=d)

    def first_run(need_employed: bool) -> int | None:
        for d in range(1, f + 1):
            if all(
                days.benefit_free(on(d + k)) and (not need_employed or days.employed(on(d + k)))
                for k in range(length)
            ):
                return d
        return None

    d_dis = None
    for d in range(1, f + 1):
        if days.observed(on(d)) and days.full_disability(on(d)):
            d_dis = d
            break
    d_death = None
    if days.death is not None and 1 <= (days.death - discharge).days <= f:
        d_death = (days.death - discharge).days
    return {
        "d_rtw": first_run(False),
        "d_rtw_emp": first_run(True),
        "d_dis": d_dis,
        "d_death": d_death,
    }


def _episode_outcomes(ep, days: PersonDays, params: OutcomeParams) -> dict:
    f, length = params.followup_days, params.rtw_min_days
    discharge = _date(ep["discharge_date"])
    admission = _date(ep["admission_date"])

    def on(d: int) -> dt.date:
        return discharge + dt.timedelta(days=d)

    o = (days.obs_last - discharge).days

    event_days = _event_days(discharge, days, params)
    d_death, d_dis = event_days["d_death"], event_days["d_dis"]

    def outcome(d_rtw: int | None) -> tuple[int, int]:
        # Earliest; ties: death, then disability, then RTW.
        best = None
        for event, d in ((3, d_death), (2, d_dis), (1, d_rtw)):
            if d is not None and (best is None or d < best[1]):
                best = (event, d)
        if best is None:
            return 0, max(0, min(f, o - length + 1))
        return best

    rtw_event, rtw_time = outcome(event_days["d_rtw"])
    emp_event, emp_time = outcome(event_days["d_rtw_emp"])

    a, b = params.rtw12_first_day, params.rtw12_last_day
    dead_by_b = days.death is not None and (days.death - discharge).days <= b
    if o < b or dead_by_b:
        rtw_12m = None
    else:
        rtw_12m = not any(days.is_hrb(on(d)) for d in range(a, b + 1))

    if o < f:
        hrb_days, hrb_fte = None, math.nan
    else:
        hrb_days = sum(days.is_hrb(on(d)) for d in range(1, f + 1))
        hrb_fte = sum(days.hrb_grade(on(d)) / 100 for d in range(1, f + 1))

    hrb_pre = 0
    day = admission - dt.timedelta(days=params.pre_admission_days)
    while day < admission:
        hrb_pre += days.is_hrb(day)
        day += ONE_DAY

    d12 = params.month_days[12]
    employed_12m = None if o < d12 else days.employed(on(d12))

    row = {
        "episode_id": ep["episode_id"],
        "rtw_event": rtw_event,
        "rtw_time": rtw_time,
        "rtw_emp_event": emp_event,
        "rtw_emp_time": emp_time,
        "rtw_12m": rtw_12m,
        "hrb_days_12m": hrb_days,
        "hrb_fte_days_12m": hrb_fte,
        "hrb_days_pre_12m": hrb_pre,
        "employed_12m": employed_12m,
    }
    for months, d in params.month_days.items():
        row[f"state_{months}m"] = days.state(on(d))
    row["obs_days"] = o
    return row


def _person_days(pid, benefits, employment, persons, params) -> PersonDays:
    dd = load_dictionary()
    empty_grade = dd.table("benefits").variable("grade").empty_means
    spells = []
    if benefits is not None and len(benefits):
        for b in benefits[benefits["person_id"] == pid].itertuples():
            end = _date(b.end_date) or params.data_end
            grade = empty_grade if pd.isna(b.grade) else float(b.grade)
            spells.append(Spell(str(b.benefit), _date(b.start_date), end, grade))
    jobs = []
    if employment is not None and len(employment):
        for j in employment[employment["person_id"] == pid].itertuples():
            end = _date(j.end_date) or params.data_end
            jobs.append(Job(_date(j.start_date), end, float(j.position_percent)))
    person = persons[persons["person_id"] == pid]
    death = _date(person["death_date"].iloc[0]) if len(person) else None
    emigration = _date(person["emigration_date"].iloc[0]) if len(person) else None
    return PersonDays(spells, jobs, death, emigration, params)


def naive_outcomes(episodes, benefits, employment, persons, params: OutcomeParams) -> pd.DataFrame:
    """One dict-row per linked episode, every outcome computed day by day."""
    rows = []
    for _, ep in episodes.iterrows():
        if not bool(ep["linked"]):
            continue
        days = _person_days(ep["person_id"], benefits, employment, persons, params)
        rows.append(_episode_outcomes(ep, days, params))
    return pd.DataFrame(rows)


def naive_daily_states(
    episodes, benefits, employment, persons, params: OutcomeParams, first_day: int, last_day: int
) -> list[tuple[str, int, str | None]]:
    """(episode_id, day, state) for every linked episode and day, day by day."""
    out = []
    for _, ep in episodes.iterrows():
        if not bool(ep["linked"]):
            continue
        days = _person_days(ep["person_id"], benefits, employment, persons, params)
        discharge = _date(ep["discharge_date"])
        for d in range(first_day, last_day + 1):
            out.append((ep["episode_id"], d, days.state(discharge + dt.timedelta(days=d))))
    return out


def naive_event_days(episodes, benefits, employment, persons, params: OutcomeParams) -> list[dict]:
    """The candidate event days of every linked episode, before the earliest is chosen."""
    out = []
    for _, ep in episodes.iterrows():
        if not bool(ep["linked"]):
            continue
        days = _person_days(ep["person_id"], benefits, employment, persons, params)
        out.append(_event_days(_date(ep["discharge_date"]), days, params))
    return out
