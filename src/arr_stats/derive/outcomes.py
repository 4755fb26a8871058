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
come from :func:`arr_stats.derive.spells.day_facts`, which works on spell boundaries
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

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from arr_stats.config import OutcomeParams
from arr_stats.derive.spells import FULL_GRADE, NO_DAY, DayFacts, day_facts, day_numbers
from arr_stats.dictionary import load_dictionary
from arr_stats.domain import DEAD_STATE, EVENT_CENSORED, EVENT_DEATH, EVENT_DISABILITY, EVENT_RTW

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

_REQUIRED_EPISODE_COLUMNS = (
    "episode_id",
    "person_id",
    "admission_date",
    "discharge_date",
    "linked",
)

#: Episodes processed together. Chunks keep the sorts cache-sized and the
#: memory bounded, so the time grows linearly with the number of episodes.
_CHUNK_EPISODES = 100_000


@dataclass(frozen=True)
class _Cohort:
    """Day numbers of the linked episodes (position = group): discharge,
    admission, death (NO_DAY when none) and obs_last."""

    discharge: np.ndarray
    admission: np.ndarray
    death: np.ndarray
    obs_last: np.ndarray

    def __len__(self) -> int:
        return len(self.discharge)

    def part(self, first: int, stop: int) -> _Cohort:
        """The episodes ``first … stop - 1``."""
        return _Cohort(
            self.discharge[first:stop],
            self.admission[first:stop],
            self.death[first:stop],
            self.obs_last[first:stop],
        )

    @property
    def observed_days(self) -> np.ndarray:
        """``o``: obs_last − discharge_date in days."""
        return self.obs_last - self.discharge

    @property
    def death_day(self) -> np.ndarray:
        """death_date − discharge_date in days (NO_DAY when no death)."""
        return np.where(self.death == NO_DAY, NO_DAY, self.death - self.discharge)


Window = Callable[[_Cohort, OutcomeParams], tuple[np.ndarray, np.ndarray]]


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
    linked, cohort = _linked_cohort(episodes, persons, params)
    chunks = [
        _chunk_outcomes(part, facts, params)
        for part, facts in _facts_by_chunk(
            linked, cohort, benefits, employment, params, _outcome_window
        )
    ]
    values = {name: np.concatenate([c[name] for c in chunks]) for name in chunks[0]}
    o = cohort.observed_days
    f = params.followup_days
    out = linked[[c for c in OUTCOME_COVARIATES if c in linked]].reset_index(drop=True)
    for name in ("rtw_event", "rtw_time", "rtw_emp_event", "rtw_emp_time"):
        out[name] = values[name].astype(np.int64)
    out["rtw_12m"] = _masked_bool(values["rtw_12m"], values["rtw_12m_missing"])
    out["hrb_days_12m"] = pd.arrays.IntegerArray(values["hrb_days_12m"].astype(np.int64), o < f)
    out["hrb_fte_days_12m"] = np.where(o < f, np.nan, values["hrb_fte_days_12m"]).astype(float)
    out["hrb_days_pre_12m"] = pd.arrays.IntegerArray(
        values["hrb_days_pre_12m"].astype(np.int64), np.zeros(len(o), dtype=bool)
    )
    out["employed_12m"] = _masked_bool(values["employed_12m"], o < _month_day(params, 12))
    for months in sorted(params.month_days):
        out[f"state_{months}m"] = pd.Categorical.from_codes(
            values[f"state_{months}m"].astype(np.int16), categories=list(params.state_order)
        )
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
    linked, cohort = _linked_cohort(episodes, persons, params)
    days = np.arange(first_day, last_day + 1, dtype=np.int64)

    def window(part: _Cohort, _: OutcomeParams) -> tuple[np.ndarray, np.ndarray]:
        return part.discharge + first_day, part.discharge + last_day + 1

    blocks = [np.empty((0, len(days)), dtype=np.int16)]
    if len(days):
        blocks += [
            _censor(
                facts.tiling.per_day(facts.state).reshape(len(part), len(days)), days, part, params
            )
            for part, facts in _facts_by_chunk(linked, cohort, benefits, employment, params, window)
        ]
    codes = np.concatenate(blocks)
    return pd.DataFrame(
        {
            "episode_id": np.repeat(linked["episode_id"].to_numpy(), len(days)),
            "day": np.tile(days.astype(np.int16), len(cohort)),
            "state": pd.Categorical.from_codes(codes.ravel(), categories=list(params.state_order)),
        }
    )


# --- one chunk of episodes ---------------------------------------------------


def _chunk_outcomes(
    cohort: _Cohort, facts: DayFacts, params: OutcomeParams
) -> dict[str, np.ndarray]:
    """The outcome values of a chunk of episodes, with the missing-value masks
    that do not follow from ``obs_days`` alone."""
    tiling = facts.tiling
    disch = cohort.discharge
    f, length = params.followup_days, params.rtw_min_days
    o = cohort.observed_days
    death_day = cohort.death_day
    benefit_free = ~facts.hrb

    # Competing events; each candidate is a day relative to discharge, or NO_DAY.
    d_death = np.where((death_day >= 1) & (death_day <= f), death_day, NO_DAY)
    d_dis = _relative(
        tiling.first_day_where(facts.full_disability, disch + 1, disch + np.minimum(f, o) + 1),
        disch,
    )
    run_args = (disch + 1, disch + f, cohort.obs_last + 1, length)
    d_rtw = _relative(tiling.first_run_start(benefit_free, *run_args), disch)
    d_rtw_emp = _relative(tiling.first_run_start(benefit_free & facts.employed, *run_args), disch)
    censor_time = np.maximum(0, np.minimum(f, o - length + 1))
    values: dict[str, np.ndarray] = {}
    values["rtw_event"], values["rtw_time"] = _first_event(d_death, d_dis, d_rtw, censor_time)
    values["rtw_emp_event"], values["rtw_emp_time"] = _first_event(
        d_death, d_dis, d_rtw_emp, censor_time
    )

    first12, last12 = params.rtw12_first_day, params.rtw12_last_day
    values["rtw_12m"] = tiling.days_where(facts.hrb, disch + first12, disch + last12 + 1) == 0
    values["rtw_12m_missing"] = (o < last12) | (death_day <= last12)
    values["hrb_days_12m"] = tiling.days_where(facts.hrb, disch + 1, disch + f + 1)
    values["hrb_fte_days_12m"] = tiling.sum_days(
        facts.hrb_grade / FULL_GRADE, disch + 1, disch + f + 1
    )
    values["hrb_days_pre_12m"] = tiling.days_where(
        facts.hrb, cohort.admission - params.pre_admission_days, cohort.admission
    )
    day12 = _month_day(params, 12)
    values["employed_12m"] = facts.employed[tiling.segment_on_day(disch + day12)]
    for months, day in params.month_days.items():
        state = facts.state[tiling.segment_on_day(disch + day)]
        values[f"state_{months}m"] = _censor(state[:, None], np.array([day]), cohort, params)[:, 0]
    return values


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


# --- the cohort and its spells -----------------------------------------------


def _linked_cohort(
    episodes: pd.DataFrame, persons: pd.DataFrame, params: OutcomeParams
) -> tuple[pd.DataFrame, _Cohort]:
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
    try:
        discharge = day_numbers(linked["discharge_date"])
        admission = day_numbers(linked["admission_date"])
    except ValueError as exc:
        raise ValueError("a linked episode lacks its admission or discharge date") from exc
    obs_last = np.minimum(np.minimum(_data_end(params), emigration - 1), death - 1)
    return linked, _Cohort(discharge, admission, death, obs_last)


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


@dataclass(frozen=True)
class _SpellPairs:
    """Every spell paired with every linked episode of its person, ordered by chunk."""

    rows: np.ndarray  # row position in the spell table
    group: np.ndarray  # episode position
    chunk_bounds: np.ndarray  # the pairs of chunk i: chunk_bounds[i] … chunk_bounds[i + 1] - 1

    def chunk(self, i: int, first_group: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows and chunk-local groups of chunk ``i`` (whose first episode is ``first_group``)."""
        part = slice(self.chunk_bounds[i], self.chunk_bounds[i + 1])
        return self.rows[part], self.group[part] - first_group


def _pair_spells(
    episode_person: pd.Series, spell_person: pd.Series | None, n_chunks: int
) -> _SpellPairs:
    if spell_person is None or len(spell_person) == 0:
        empty = np.empty(0, dtype=np.int64)
        return _SpellPairs(empty, empty, np.zeros(n_chunks + 1, dtype=np.int64))
    person_of_episode, persons = pd.factorize(episode_person)
    spell_code = _person_codes(pd.Index(persons), spell_person.to_numpy())
    rows = np.flatnonzero(spell_code >= 0)
    spell_code = spell_code[rows]
    # Episodes grouped by person; each spell is repeated once per episode of its person.
    by_person = np.argsort(person_of_episode, kind="stable")
    n_episodes = np.bincount(person_of_episode, minlength=len(persons))
    first_episode = np.cumsum(n_episodes) - n_episodes
    repeats = n_episodes[spell_code]
    rows = np.repeat(rows, repeats)
    within = np.arange(len(rows)) - np.repeat(np.cumsum(repeats) - repeats, repeats)
    group = by_person[np.repeat(first_episode[spell_code], repeats) + within].astype(np.int64)
    chunk = group // _CHUNK_EPISODES
    if n_chunks > 1:
        order = np.argsort(chunk.astype(np.uint16), kind="stable")  # a linear radix sort
        rows, group, chunk = rows[order], group[order], chunk[order]
    bounds = np.searchsorted(chunk, np.arange(n_chunks + 1))
    return _SpellPairs(rows, group, bounds)


def _person_codes(persons: pd.Index, spell_person: np.ndarray) -> np.ndarray:
    """Position of each spell's person in ``persons`` (-1 if absent).

    NAV files list a person's spells together, so the ids are looked up once
    per run of equal ids rather than once per spell (same answer in any order).
    """
    new_run = np.ones(len(spell_person), dtype=bool)
    new_run[1:] = spell_person[1:] != spell_person[:-1]
    heads = np.flatnonzero(new_run)
    run_length = np.diff(np.append(heads, len(spell_person)))
    return np.repeat(persons.get_indexer(spell_person[heads]), run_length)


def _spell_bounds(table: pd.DataFrame, data_end: np.int64) -> tuple[np.ndarray, np.ndarray]:
    """``[start, stop)`` day numbers of spells; an open end (NaT) runs to data_end.

    Nothing after data_end is observed, so no spell covers a later day.
    """
    start = day_numbers(table["start_date"])
    end = day_numbers(table["end_date"], missing=int(data_end))
    return start, np.minimum(end, data_end) + 1


def _present(table: pd.DataFrame | None) -> bool:
    return table is not None and len(table) > 0


def _facts_by_chunk(
    linked: pd.DataFrame,
    cohort: _Cohort,
    benefits: pd.DataFrame | None,
    employment: pd.DataFrame | None,
    params: OutcomeParams,
    window: Window,
) -> Iterator[tuple[_Cohort, DayFacts]]:
    """Yield ``(episodes, their DayFacts)`` for consecutive chunks of the linked episodes."""
    dictionary = load_dictionary()
    data_end = _data_end(params)
    n_chunks = max(1, -(-len(cohort) // _CHUNK_EPISODES))  # one, maybe empty, at least
    if n_chunks > np.iinfo(np.uint16).max:
        raise ValueError("too many episodes for the chunk size")
    b_pairs = _pair_spells(
        linked["person_id"], benefits["person_id"] if _present(benefits) else None, n_chunks
    )
    e_pairs = _pair_spells(
        linked["person_id"], employment["person_id"] if _present(employment) else None, n_chunks
    )
    if _present(benefits):
        b_start, b_stop = _spell_bounds(benefits, data_end)
        empty_grade = dictionary.table("benefits").variable("grade").empty_means
        grade = benefits["grade"].to_numpy(dtype=np.float64, na_value=np.nan)
        grade = np.where(np.isnan(grade), empty_grade, grade)
        code = pd.Categorical(benefits["benefit"])
    else:
        b_start = b_stop = np.empty(0, dtype=np.int64)
        grade = np.empty(0)
        code = pd.Categorical([], categories=list(dictionary.benefits))
    if _present(employment):
        e_start, e_stop = _spell_bounds(employment, data_end)
        percent = employment["position_percent"].to_numpy(dtype=np.float64, na_value=np.nan)
        percent = np.nan_to_num(percent, nan=0.0)
    else:
        e_start = e_stop = np.empty(0, dtype=np.int64)
        percent = np.empty(0)

    for i in range(n_chunks):
        first = i * _CHUNK_EPISODES
        part = cohort.part(first, first + _CHUNK_EPISODES)
        b_rows, b_group = b_pairs.chunk(i, first)
        e_rows, e_group = e_pairs.chunk(i, first)
        facts = day_facts(
            *window(part, params),
            b_group,
            code.take(b_rows),
            grade[b_rows],
            b_start[b_rows],
            b_stop[b_rows],
            e_group,
            percent[e_rows],
            e_start[e_rows],
            e_stop[e_rows],
            codelist=dictionary.benefits,
            state_order=params.state_order,
        )
        yield part, facts


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
    event = np.array([EVENT_DEATH, EVENT_DISABILITY, EVENT_RTW], dtype=np.int64)[first]
    censored = time == NO_DAY
    return (
        np.where(censored, EVENT_CENSORED, event).astype(np.int64),
        np.where(censored, censor_time, time).astype(np.int64),
    )


def _masked_bool(values: np.ndarray, missing: np.ndarray) -> pd.arrays.BooleanArray:
    return pd.arrays.BooleanArray(np.asarray(values, dtype=bool), np.asarray(missing, dtype=bool))


def _month_day(params: OutcomeParams, months: int) -> int:
    if months not in params.month_days:
        raise ValueError(f"OutcomeParams.month_days needs the day of {months} months")
    return params.month_days[months]
