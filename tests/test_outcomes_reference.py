"""The fast outcomes agree with a naive day-by-day reference on random histories.

Hypothesis draws random NAV histories – benefits of every code with grade 0,
partial, full and empty grades, open-ended, overlapping and adjacent spells,
employment, deaths, emigrations, several episodes per person, unlinked
episodes – and random outcome parameters (short follow-up so that every
boundary is hit often, and the defaults of the specification).
:func:`arr_stats.derive.outcomes.derive_outcomes` and
:func:`arr_stats.derive.outcomes.daily_states` must agree with
``tests/naive_outcomes.py`` on every column and every day.
"""

from __future__ import annotations

import datetime as dt
import math
from unittest import mock

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from naive_outcomes import naive_daily_states, naive_event_days, naive_outcomes

from arr_stats.config import OutcomeParams
from arr_stats.derive import outcomes
from arr_stats.derive.outcomes import daily_states, derive_outcomes
from arr_stats.dictionary import load_dictionary
from arr_stats.domain import DEFAULT_STATE_ORDER

BASE = dt.date(2024, 1, 1)
CODES = sorted(load_dictionary().benefits)
#: Every code, with the disability codes (the competing event) drawn more often.
SOME_CODE = st.sampled_from(
    CODES + [c for c, b in load_dictionary().benefits.items() if "disability" in b.categories] * 3
)
PEOPLE = ["P0", "P1", "P2", "P3"]  # P3 is never in `persons`
#: Grades: full (most often), empty (= 100), zero, partial, any number in 0–100.
GRADES = st.sampled_from([100.0, 100.0, 100.0, math.nan, 0.0, 50.0, 1.0, 99.5, None]).flatmap(
    lambda g: st.floats(0, 100, allow_nan=False) if g is None else st.just(g)
)
PERCENTS = st.sampled_from([0.0, 20.0, 50.0, 100.0, 100.0, 150.0, 200.0])
#: Most people are alive and at home at data end; some die or emigrate.
RARELY = st.sampled_from([False, False, False, True])

SETTINGS = settings(
    max_examples=200,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def ts(day: int | None) -> pd.Timestamp:
    return pd.NaT if day is None else pd.Timestamp(BASE + dt.timedelta(days=day))


def optional(strategy):
    return st.one_of(st.none(), strategy)


@st.composite
def rare_day(draw, span: int) -> int | None:
    return draw(st.integers(-5, span)) if draw(RARELY) else None


@st.composite
def often_day(draw, span: int) -> int | None:
    """Emigration is drawn often: censoring before data end must be exercised."""
    return draw(st.integers(-5, span)) if draw(st.booleans()) else None


def some_person():
    """Mostly the first two people, so that spells pile up on few episodes."""
    return st.sampled_from(["P0", "P0", "P0", "P1", "P1", "P2", "P3"])


@st.composite
def small_params(draw) -> OutcomeParams:
    """Short follow-up and runs, so that every rule's boundary is met often."""
    f = draw(st.integers(1, 30))
    first12 = draw(st.integers(1, f + 3))
    order = draw(st.one_of(st.just(DEFAULT_STATE_ORDER), st.permutations(DEFAULT_STATE_ORDER)))
    return OutcomeParams(
        data_end=BASE + dt.timedelta(days=draw(st.integers(-5, 90))),
        followup_days=f,
        rtw_min_days=draw(st.integers(1, 8)),
        month_days={m: draw(st.integers(0, f + 3)) for m in (3, 6, 12)},
        rtw12_first_day=first12,
        rtw12_last_day=draw(st.integers(first12, f + 4)),
        pre_admission_days=draw(st.integers(1, 20)),
        state_order=tuple(order),
    )


@st.composite
def histories(draw, span: int, max_length: int, max_spells: int):
    """Episodes, benefits, employment and persons over roughly ``span`` days."""
    persons = pd.DataFrame(
        {
            "person_id": PEOPLE[:3],
            "birth_year": pd.array([1970, 1980, 1990], dtype="Int64"),
            "death_date": [ts(draw(rare_day(span))) for _ in range(3)],
            "emigration_date": [ts(draw(often_day(span))) for _ in range(3)],
        }
    )
    n_episodes = draw(st.integers(1, 4))
    episode_rows = []
    for i in range(n_episodes):
        person = draw(some_person())
        discharge = draw(st.integers(0, span // 2))
        stay = draw(st.integers(0, 10))
        linked = person != "P3" and draw(st.booleans() | st.just(True))
        episode_rows.append(
            {
                "episode_id": f"E{i}",
                "person_id": person,
                "institution_id": "I1",
                "admission_date": ts(discharge - stay),
                "discharge_date": ts(discharge),
                "linked": linked,
            }
        )
    episodes = pd.DataFrame(episode_rows)

    benefit_rows = []
    for _ in range(draw(st.integers(0, max_spells))):
        start = draw(st.integers(-span // 2, span))
        length = draw(optional(st.integers(0, max_length)))
        benefit_rows.append(
            {
                "person_id": draw(some_person()),
                "benefit": draw(SOME_CODE),
                "start_date": ts(start),
                "end_date": ts(None if length is None else start + length),
                "grade": draw(GRADES),
            }
        )
    benefits = pd.DataFrame(
        benefit_rows, columns=["person_id", "benefit", "start_date", "end_date", "grade"]
    )
    benefits["benefit"] = pd.Categorical(benefits["benefit"], categories=CODES)
    benefits["grade"] = benefits["grade"].astype("float64")
    for column in ("start_date", "end_date"):
        benefits[column] = benefits[column].astype("datetime64[ns]")

    job_rows = []
    for j in range(draw(st.integers(0, 5))):
        start = draw(st.integers(-span // 2, span))
        length = draw(optional(st.integers(0, max_length)))
        job_rows.append(
            {
                "person_id": draw(some_person()),
                "employer_id": f"A{j}",
                "start_date": ts(start),
                "end_date": ts(None if length is None else start + length),
                "position_percent": draw(PERCENTS),
            }
        )
    employment = pd.DataFrame(
        job_rows, columns=["person_id", "employer_id", "start_date", "end_date", "position_percent"]
    )
    employment["position_percent"] = employment["position_percent"].astype("float64")
    for column in ("start_date", "end_date"):
        employment[column] = employment[column].astype("datetime64[ns]")
    return episodes, benefits, employment, persons


def as_values(series: pd.Series) -> list:
    """Comparable plain values, None for missing."""
    return [None if pd.isna(v) else (v.item() if hasattr(v, "item") else v) for v in series]


def assert_agree(episodes, benefits, employment, persons, params) -> None:
    fast = derive_outcomes(episodes, benefits, employment, persons, params)
    naive = naive_outcomes(episodes, benefits, employment, persons, params)
    assert fast["episode_id"].tolist() == (naive["episode_id"].tolist() if len(naive) else [])
    if not len(naive):
        return
    for column in naive.columns:
        if column == "hrb_fte_days_12m":
            np.testing.assert_allclose(
                fast[column].to_numpy(), naive[column].to_numpy(dtype=float), rtol=1e-9
            )
        else:
            assert as_values(fast[column]) == as_values(naive[column]), column


def assert_daily_agree(episodes, benefits, employment, persons, params, first, last) -> None:
    fast = daily_states(episodes, benefits, employment, persons, params, first, last)
    naive = naive_daily_states(episodes, benefits, employment, persons, params, first, last)
    got = list(
        zip(fast["episode_id"], fast["day"].astype(int), as_values(fast["state"]), strict=True)
    )
    assert got == naive


@SETTINGS
@given(data=st.data())
def test_short_followup_agrees_with_naive(data):
    params = data.draw(small_params())
    history = data.draw(histories(span=60, max_length=25, max_spells=8))
    assert_agree(*history, params)


@SETTINGS
@given(data=st.data())
def test_daily_states_agree_with_naive(data):
    params = data.draw(small_params())
    history = data.draw(histories(span=60, max_length=25, max_spells=8))
    first = data.draw(st.integers(-5, 5))
    last = data.draw(st.integers(first - 1, 40))
    assert_daily_agree(*history, params, first, last)


@settings(SETTINGS, max_examples=40)
@given(data=st.data())
def test_default_parameters_agree_with_naive(data):
    params = OutcomeParams(data_end=BASE + dt.timedelta(days=data.draw(st.integers(300, 1300))))
    history = data.draw(histories(span=800, max_length=400, max_spells=10))
    assert_agree(*history, params)


def test_empty_tables_agree_with_naive():
    params = OutcomeParams(data_end=dt.date(2025, 12, 31))
    episodes = pd.DataFrame(
        {
            "episode_id": ["E0"],
            "person_id": ["P0"],
            "admission_date": [ts(0)],
            "discharge_date": [ts(10)],
            "linked": [True],
        }
    )
    persons = pd.DataFrame(
        {"person_id": ["P0"], "death_date": [pd.NaT], "emigration_date": [pd.NaT]}
    )
    empty_benefits = pd.DataFrame(
        {
            "person_id": pd.Series([], dtype=object),
            "benefit": pd.Categorical([], categories=CODES),
            "start_date": pd.Series([], dtype="datetime64[ns]"),
            "end_date": pd.Series([], dtype="datetime64[ns]"),
            "grade": pd.Series([], dtype="float64"),
        }
    )
    empty_employment = empty_benefits.drop(columns=["benefit", "grade"]).assign(
        position_percent=pd.Series([], dtype="float64")
    )
    assert_agree(episodes, empty_benefits, empty_employment, persons, params)
    assert_daily_agree(episodes, empty_benefits, empty_employment, persons, params, 0, 30)


@settings(SETTINGS, max_examples=100)
@given(data=st.data())
def test_chunks_of_one_episode_agree_with_naive(data):
    # Episodes are processed in chunks; with a chunk of one episode a person's
    # episodes (and their spells) fall into different chunks.
    params = data.draw(small_params())
    history = data.draw(histories(span=60, max_length=25, max_spells=8))
    with mock.patch.object(outcomes, "_CHUNK_EPISODES", 1):
        assert_agree(*history, params)
        assert_daily_agree(*history, params, 0, params.followup_days)


@SETTINGS
@given(data=st.data())
def test_rtw_day_never_ties_with_a_competing_day(data):
    """The reasoning behind the tie rule (docs/outcomes-implementation.md), checked:

    - the RTW day is benefit-free, a full-disability day is an HRB day, so
      ``d_rtw != d_dis`` (same for the employment-confirmed run);
    - the whole run lies on observed days, which end the day before death, so
      ``d_rtw + L - 1 < d_death``;
    - ``d_dis`` is an observed day, so ``d_dis < d_death``.
    """
    params = data.draw(small_params())
    history = data.draw(histories(span=60, max_length=25, max_spells=8))
    length = params.rtw_min_days
    for days in naive_event_days(*history, params):
        for rtw in (days["d_rtw"], days["d_rtw_emp"]):
            if rtw is not None and days["d_dis"] is not None:
                assert rtw != days["d_dis"]
            if rtw is not None and days["d_death"] is not None:
                assert rtw + length - 1 < days["d_death"]
        if days["d_dis"] is not None and days["d_death"] is not None:
            assert days["d_dis"] < days["d_death"]
