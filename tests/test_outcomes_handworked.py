"""Hand-worked cases for every rule and boundary of docs/spec/outcomes.md.

Unless a test says otherwise: one episode ``E1`` of person ``P1``, discharged
2024-03-01 (day 0), admitted 28 days earlier, F = 365, L = 28, month days
91/183/365, the rtw_12m window days 335…365, data end far away (day 700).
Spells are written in days relative to discharge: ``("SP", 1, 45)`` is
sickness benefit on days 1 to 45 inclusive, ``None`` as last day = open.
Each expected value is worked out in the comments, never read off the code.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from arr_stats.config import OutcomeParams
from arr_stats.derive.outcomes import daily_states, derive_outcomes
from arr_stats.dictionary import load_dictionary

DISCHARGE = pd.Timestamp("2024-03-01")
CODES = list(load_dictionary().benefits)


def d(n: int) -> pd.Timestamp:
    """The calendar date of day ``n`` after discharge."""
    return DISCHARGE + pd.Timedelta(days=n)


def tables(benefits=(), jobs=(), death=None, emigration=None, admission=-28, episodes=None):
    """episodes, benefits, employment, persons in the canonical columns and dtypes."""
    if episodes is None:
        episodes = [("E1", "P1", d(admission), DISCHARGE, True)]
    episodes = pd.DataFrame(
        episodes, columns=["episode_id", "person_id", "admission_date", "discharge_date", "linked"]
    )
    benefit_rows = [
        ("P1", *b) if len(b) == 4 else b for b in benefits
    ]  # (code, first, last, grade) or (person, code, first, last, grade)
    benefits = pd.DataFrame(
        {
            "person_id": pd.Series([b[0] for b in benefit_rows], dtype=object),
            "benefit": pd.Categorical([b[1] for b in benefit_rows], categories=CODES),
            "start_date": pd.Series([d(b[2]) for b in benefit_rows], dtype="datetime64[ns]"),
            "end_date": pd.Series(
                [pd.NaT if b[3] is None else d(b[3]) for b in benefit_rows],
                dtype="datetime64[ns]",
            ),
            "grade": pd.Series([b[4] for b in benefit_rows], dtype="float64"),
        }
    )
    employment = pd.DataFrame(
        {
            "person_id": pd.Series(["P1"] * len(jobs), dtype=object),
            "employer_id": pd.Series([f"A{i}" for i in range(len(jobs))], dtype=object),
            "start_date": pd.Series([d(j[0]) for j in jobs], dtype="datetime64[ns]"),
            "end_date": pd.Series(
                [pd.NaT if j[1] is None else d(j[1]) for j in jobs], dtype="datetime64[ns]"
            ),
            "position_percent": pd.Series([j[2] for j in jobs], dtype="float64"),
        }
    )
    persons = pd.DataFrame(
        {
            "person_id": ["P1", "P2"],
            "birth_year": pd.array([1970, 1980], dtype="Int64"),
            "death_date": pd.Series(
                [pd.NaT if death is None else d(death), pd.NaT], dtype="datetime64[ns]"
            ),
            "emigration_date": pd.Series(
                [pd.NaT if emigration is None else d(emigration), pd.NaT], dtype="datetime64[ns]"
            ),
        }
    )
    return episodes, benefits, employment, persons


def params(data_end: int = 700, **changes) -> OutcomeParams:
    return OutcomeParams(data_end=d(data_end).date(), **changes)


def outcome(benefits=(), jobs=(), death=None, emigration=None, data_end=700, admission=-28, **kw):
    """The outcome row of episode E1."""
    out = derive_outcomes(
        *tables(benefits, jobs, death, emigration, admission), params(data_end, **kw)
    )
    assert len(out) == 1
    return out.iloc[0]


def missing(value) -> bool:
    return pd.isna(value)


# --- the worked example of outcomes.md -----------------------------------------


def test_worked_example():
    # Discharge 2024-03-01, data_end 2025-12-31 (= day 670: 365 days to 2025-03-01,
    # then 31+30+31+30+31+31+30+31+30+30 = 305 more). SP 100 % 2023-11-01 … 2024-04-15
    # (2024-04-15 = day 30 + 15 = day 45), SP 50 % 2024-04-16 … 2024-05-20 (days 46 … 80).
    episodes = pd.DataFrame(
        {
            "episode_id": ["E1"],
            "person_id": ["P1"],
            "admission_date": [pd.Timestamp("2024-02-01")],
            "discharge_date": [pd.Timestamp("2024-03-01")],
            "linked": [True],
        }
    )
    benefits = pd.DataFrame(
        {
            "person_id": ["P1", "P1"],
            "benefit": pd.Categorical(["SP", "SP"], categories=CODES),
            "start_date": pd.to_datetime(["2023-11-01", "2024-04-16"]),
            "end_date": pd.to_datetime(["2024-04-15", "2024-05-20"]),
            "grade": [100.0, 50.0],
        }
    )
    persons = pd.DataFrame(
        {"person_id": ["P1"], "death_date": [pd.NaT], "emigration_date": [pd.NaT]}
    ).astype({"death_date": "datetime64[ns]", "emigration_date": "datetime64[ns]"})
    out = derive_outcomes(
        episodes, benefits, None, persons, OutcomeParams(data_end=dt.date(2025, 12, 31))
    ).iloc[0]
    # Day 81 (2024-05-21) starts a benefit-free run far longer than 28 days.
    assert (out.rtw_event, out.rtw_time) == (1, 81)
    assert out.state_3m == "working"  # day 91 is benefit-free
    assert out.state_6m == "working" and out.state_12m == "working"
    assert out.rtw_12m == True  # noqa: E712 – days 335…365 are free
    assert out.hrb_days_12m == 80  # days 1…80
    assert out.hrb_fte_days_12m == pytest.approx(45 + 35 * 0.5)  # = 62.5
    # No employment: no employed run; censored at min(365, 670 − 28 + 1 = 643) = 365.
    assert (out.rtw_emp_event, out.rtw_emp_time) == (0, 365)
    assert out.employed_12m == False  # noqa: E712
    # Pre-admission window 2023-02-01 … 2024-01-31; SP from 2023-11-01:
    # 30 (Nov) + 31 (Dec) + 31 (Jan) = 92 HRB days.
    assert out.hrb_days_pre_12m == 92
    assert out.obs_days == 670


# --- sustainable RTW: the length and position of the run ---------------------------


def test_run_of_27_days_is_not_a_return_to_work():
    # HRB to day 10; free days 11…37 = 27 days; HRB again from day 38 to day 400.
    out = outcome([("SP", -10, 10, 100.0), ("SP", 38, 400, 100.0)])
    # No run of 28 in 1…365 → censored at min(365, 700 − 28 + 1 = 673) = 365.
    assert (out.rtw_event, out.rtw_time) == (0, 365)


def test_run_of_28_days_is_a_return_to_work():
    # Free days 11…38 = 28 days, HRB from day 39.
    out = outcome([("SP", -10, 10, 100.0), ("SP", 39, 400, 100.0)])
    assert (out.rtw_event, out.rtw_time) == (1, 11)


def test_benefit_free_from_the_day_after_discharge():
    # HRB until discharge day 0 only; days 1…28 free → d_rtw = 1 (outcomes.md).
    out = outcome([("SP", -30, 0, 100.0)])
    assert (out.rtw_event, out.rtw_time) == (1, 1)


@pytest.mark.parametrize(
    ("last_hrb_day", "expected"),
    [
        (358, (1, 359)),  # run 359…386 starts inside follow-up, ends after day F
        (364, (1, 365)),  # run 365…392 starts on day F itself
        (365, (0, 365)),  # first free day 366 > F: no RTW, censored at min(365, 673)
    ],
)
def test_run_starting_before_day_f_may_end_after_it(last_hrb_day, expected):
    out = outcome([("AAP", -10, last_hrb_day, 100.0)])
    assert (out.rtw_event, out.rtw_time) == expected


def test_run_may_not_reach_past_obs_last():
    # HRB to day 364, data end day 391: run 365…391 has only 27 observed days.
    # Censored at max(0, min(365, 391 − 28 + 1 = 364)) = 364.
    out = outcome([("AAP", -10, 364, 100.0)], data_end=391)
    assert (out.rtw_event, out.rtw_time) == (0, 364)
    # One more observed day (data end 392): run 365…392 is 28 days → RTW on day 365.
    out = outcome([("AAP", -10, 364, 100.0)], data_end=392)
    assert (out.rtw_event, out.rtw_time) == (1, 365)


def test_a_gap_of_one_day_or_adjacent_spells_do_not_break_hrb():
    # SP 1…20 then SP 21…40 (adjacent): HRB 1…40, RTW on day 41.
    out = outcome([("SP", 1, 20, 100.0), ("SP", 21, 40, 100.0)])
    assert (out.rtw_event, out.rtw_time, out.hrb_days_12m) == (1, 41, 40)
    # SP 1…20 then SP 22…40: day 21 is free but a run of 1; RTW still on day 41; 39 HRB days.
    out = outcome([("SP", 1, 20, 100.0), ("SP", 22, 40, 100.0)])
    assert (out.rtw_event, out.rtw_time, out.hrb_days_12m) == (1, 41, 39)


# --- censoring -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("data_end", "expected"),
    [
        (20, (0, 0)),  # o = 20: max(0, min(365, 20 − 27)) = 0
        (27, (0, 0)),  # o = 27: 27 − 28 + 1 = 0; days 1…27 cannot hold a 28-day run
        (28, (1, 1)),  # o = 28: days 1…28 all observed and free → RTW on day 1
    ],
)
def test_censoring_by_data_end_without_benefits(data_end, expected):
    out = outcome([], data_end=data_end)
    assert (out.rtw_event, out.rtw_time) == expected
    assert out.obs_days == data_end


def test_censoring_time_stops_l_minus_1_days_before_observation_ends():
    # HRB to day 80, data end day 100: run 81…100 = 20 days, not confirmed.
    # Censored at 100 − 28 + 1 = 73: a run starting on day 73 would need days 73…100.
    out = outcome([("SP", -10, 80, 100.0)], data_end=100)
    assert (out.rtw_event, out.rtw_time) == (0, 73)
    # Observed only to day 100 < 365: every 12-month outcome is missing.
    assert missing(out.rtw_12m) and missing(out.hrb_days_12m)
    assert missing(out.hrb_fte_days_12m) and missing(out.employed_12m)
    assert out.state_3m == "working"  # day 91 ≤ 100 is observed and free
    assert missing(out.state_6m) and missing(out.state_12m)  # days 183, 365 > 100


def test_censoring_by_emigration():
    # Emigrated on day 50 → obs_last = day 49. HRB to day 30; free 31…49 = 19 days.
    out = outcome([("SP", -10, 30, 100.0)], jobs=[(-100, None, 100.0)], emigration=50)
    assert out.obs_days == 49
    assert (out.rtw_event, out.rtw_time) == (0, 22)  # 49 − 28 + 1 = 22
    assert missing(out.state_3m)  # day 91 > 49, alive: censored
    assert missing(out.rtw_12m) and missing(out.employed_12m) and missing(out.hrb_days_12m)


def test_emigration_the_day_after_a_full_run():
    # Free from day 1, emigrated on day 29 → obs_last day 28: days 1…28 observed → RTW day 1.
    assert tuple(outcome([], emigration=29)[["rtw_event", "rtw_time"]]) == (1, 1)
    # Emigrated on day 28 → obs_last day 27: no run; censored at max(0, 27 − 27) = 0.
    assert tuple(outcome([], emigration=28)[["rtw_event", "rtw_time"]]) == (0, 0)


# --- death ---------------------------------------------------------------------------


def test_death_during_follow_up_is_a_competing_event():
    # Full sick leave days −10…400, death on day 200 → obs_last day 199.
    out = outcome([("SP", -10, 400, 100.0)], death=200)
    assert (out.rtw_event, out.rtw_time) == (3, 200)
    assert (out.rtw_emp_event, out.rtw_emp_time) == (3, 200)
    assert out.state_3m == "sick_leave_full"  # day 91 observed
    assert out.state_6m == "sick_leave_full"  # day 183 ≤ 199
    assert out.state_12m == "dead"  # day 365 ≥ day 200: dead is a state, not censored
    assert missing(out.rtw_12m) and missing(out.hrb_days_12m)
    assert out.obs_days == 199


def test_death_the_day_after_discharge():
    # Death on day 1: d_death = 1 ∈ 1…F; obs_last = day 0.
    out = outcome([], death=1)
    assert (out.rtw_event, out.rtw_time) == (3, 1)
    assert out.obs_days == 0
    assert out.state_3m == "dead" and out.state_12m == "dead"


def test_death_on_the_discharge_day_is_not_an_event_in_follow_up():
    # Death on day 0: d_death = 0 is outside 1…F; obs_last = day −1, o = −1.
    # Censored at max(0, min(365, −1 − 27)) = 0; day 91 is after death: dead.
    out = outcome([], death=0)
    assert (out.rtw_event, out.rtw_time) == (0, 0)
    assert out.state_3m == "dead" and out.obs_days == -1


def test_death_the_day_after_a_full_run_does_not_prevent_rtw():
    # Free from day 1, death day 29 → obs_last day 28: run 1…28 confirmed → RTW day 1 < 29.
    assert tuple(outcome([], death=29)[["rtw_event", "rtw_time"]]) == (1, 1)
    # Death day 28 → obs_last 27: days 1…27 free is not enough; death on day 28 comes first.
    assert tuple(outcome([], death=28)[["rtw_event", "rtw_time"]]) == (3, 28)


@pytest.mark.parametrize(
    ("death", "expected_event", "rtw_12m_missing", "state_12m"),
    [
        (365, (3, 365), True, "dead"),  # dead by day 365
        (366, (0, 365), False, "aap"),  # obs_last = day 365: observed through day 365
    ],
)
def test_death_around_day_365(death, expected_event, rtw_12m_missing, state_12m):
    out = outcome([("AAP", -10, None, 100.0)], death=death)
    # Death on day 366 is outside 1…F: no event; censored at min(365, 365 − 27 = 338) = 338.
    expected = expected_event if death == 365 else (0, 338)
    assert (out.rtw_event, out.rtw_time) == expected
    assert missing(out.rtw_12m) == rtw_12m_missing
    assert out.state_12m == state_12m
    if not rtw_12m_missing:
        assert out.rtw_12m == False  # noqa: E712 – AAP covers 335…365
        assert out.hrb_days_12m == 365


# --- competing full disability, partial disability ---------------------------------


def test_full_disability_is_a_competing_event():
    # SP days −30…99, then UFT 100 % from day 100, open.
    out = outcome([("SP", -30, 99, 100.0), ("UFT", 100, None, 100.0)])
    assert (out.rtw_event, out.rtw_time) == (2, 100)
    assert (out.rtw_emp_event, out.rtw_emp_time) == (2, 100)
    assert out.state_12m == "disability_full"
    assert out.hrb_days_12m == 365 and out.hrb_fte_days_12m == pytest.approx(365.0)
    assert out.rtw_12m == False  # noqa: E712


def test_full_disability_running_at_discharge_counts_from_day_1():
    out = outcome([("UFT", -100, None, 100.0)])
    assert (out.rtw_event, out.rtw_time) == (2, 1)  # first observed day in 1…F


def test_rtw_before_full_disability():
    # Free days 1…40, UFT 100 % from day 41: the run 1…28 comes first.
    out = outcome([("UFT", 41, None, 100.0)])
    assert (out.rtw_event, out.rtw_time) == (1, 1)


def test_full_disability_after_the_last_observed_day_is_not_seen():
    # UFT from day 100, death day 100: day 100 is unobserved, so d_dis does not exist
    # and no tie with death arises; death (day 100) is the event.
    out = outcome([("SP", -10, 99, 100.0), ("UFT", 100, None, 100.0)], death=100)
    assert (out.rtw_event, out.rtw_time) == (3, 100)
    # UFT from day 99, death day 100: full disability is observed on day 99 < 100.
    out = outcome([("SP", -10, 98, 100.0), ("UFT", 99, None, 100.0)], death=100)
    assert (out.rtw_event, out.rtw_time) == (2, 99)
    # Emigration on day 100 hides a UFT spell starting on day 100: censored at 99 − 27 = 72.
    out = outcome([("SP", -10, 99, 100.0), ("UFT", 100, None, 100.0)], emigration=100)
    assert (out.rtw_event, out.rtw_time) == (0, 72)


def test_partial_disability_is_hrb_but_not_competing():
    # UFT 50 % over the whole follow-up: every day HRB at grade 50.
    out = outcome([("UFT", -100, None, 50.0)])
    assert (out.rtw_event, out.rtw_time) == (0, 365)  # no RTW, no competing event
    assert out.hrb_days_12m == 365
    assert out.hrb_fte_days_12m == pytest.approx(365 * 0.5)  # = 182.5
    assert out.state_3m == "disability_partial"


def test_partial_disability_and_full_sick_leave_state_priority():
    # UFT 50 % and SP 100 % on the same days: sick_leave_full (order 5) before
    # disability_partial (order 7); HRB grade = max(50, 100) = 100.
    out = outcome([("UFT", -100, None, 50.0), ("SP", 80, 100, 100.0)])
    assert out.state_3m == "sick_leave_full"
    # FTE: 365 days at 0.5, plus 0.5 more on days 80…100 (21 days): 182.5 + 10.5 = 193.
    assert out.hrb_fte_days_12m == pytest.approx(193.0)


def test_state_priority_aap_before_sick_leave_and_full_disability_first():
    out = outcome([("SP", 80, 100, 100.0), ("AAP", 85, 95, 40.0), ("DP", 0, None, 100.0)])
    assert out.state_3m == "aap"  # day 91: SP 100 %, AAP 40 %, DP: aap is order 4
    out = outcome([("AAP", 80, 100, 100.0), ("UFT", 91, 91, 100.0)])
    assert out.state_3m == "disability_full"  # order 3 beats aap


# --- benefits that are not HRB, grades -----------------------------------------------


@pytest.mark.parametrize(("code", "state"), [("DP", "unemployed"), ("TP", "other_benefit")])
def test_unemployment_and_other_benefits_are_benefit_free(code, state):
    # DP / TP from day −10, open: no HRB day at all.
    out = outcome([(code, -10, None, 100.0)])
    assert (out.rtw_event, out.rtw_time) == (1, 1)
    assert out.state_3m == state and out.state_12m == state
    assert out.hrb_days_12m == 0 and out.hrb_fte_days_12m == 0.0
    assert out.rtw_12m == True  # noqa: E712


def test_unemployment_beats_other_benefit_and_partial_sick_leave_beats_both():
    out = outcome([("DP", 0, None, 100.0), ("OVG", 0, None, 100.0)])
    assert out.state_3m == "unemployed"  # order 8 before 9
    out = outcome([("DP", 0, None, 100.0), ("SP", 0, None, 20.0)])
    assert out.state_3m == "sick_leave_partial"  # order 6 before 8


def test_empty_grade_means_100():
    # SP with an empty grade on days 1…50 → grade 100: 50 HRB days, 50.0 FTE days.
    out = outcome([("SP", 1, 50, float("nan"))])
    assert out.hrb_days_12m == 50 and out.hrb_fte_days_12m == pytest.approx(50.0)
    assert out.state_3m == "working" and (out.rtw_event, out.rtw_time) == (1, 51)


def test_grade_zero_covers_no_day():
    # SP 0 % and UFT 0 % over all follow-up: no HRB, no disability, state working.
    out = outcome([("SP", -10, None, 0.0), ("UFT", 5, None, 0.0)])
    assert (out.rtw_event, out.rtw_time) == (1, 1)
    assert out.hrb_days_12m == 0 and out.state_3m == "working"


def test_overlapping_adjacent_and_open_ended_spells():
    # SP 100 % 1…30, SP 50 % 20…60 (overlap 20…30), AAP 60 % 61…90 (adjacent),
    # AAP 100 % from day 200, open (runs to data end).
    out = outcome(
        [
            ("SP", 1, 30, 100.0),
            ("SP", 20, 60, 50.0),
            ("AAP", 61, 90, 60.0),
            ("AAP", 200, None, 100.0),
            ("SP", 1, 30, 100.0),  # an exact duplicate must not double-count
        ]
    )
    # HRB days: 1…90 (90) + 200…365 (166) = 256.
    assert out.hrb_days_12m == 256
    # FTE: 1…30 at max(100, 50) → 30; 31…60 at 0.5 → 15; 61…90 at 0.6 → 18;
    # 200…365 at 1.0 → 166. Total 229.
    assert out.hrb_fte_days_12m == pytest.approx(229.0)
    # Free 91…199 (109 days) → RTW on day 91.
    assert (out.rtw_event, out.rtw_time) == (1, 91)
    assert out.state_3m == "working" and out.state_12m == "aap"
    assert out.rtw_12m == False  # noqa: E712


# --- rtw_12m, employed_12m, hrb_days_pre_12m boundaries ----------------------------------


@pytest.mark.parametrize(
    ("spell", "expected"),
    [
        (("SP", 1, 334, 100.0), True),  # ends the day before the window 335…365
        (("SP", 1, 335, 100.0), False),  # covers the window's first day
        (("SP", 365, 365, 100.0), False),  # covers the window's last day
        (("SP", 366, 400, 100.0), True),  # starts after the window
        (("DP", 300, 400, 100.0), True),  # unemployment benefit is not HRB
    ],
)
def test_rtw_12m_window(spell, expected):
    assert outcome([spell]).rtw_12m == expected


@pytest.mark.parametrize(
    ("jobs", "data_end", "expected"),
    [
        ([(-100, 364, 100.0)], 700, False),  # ends the day before day 365
        ([(-100, 365, 100.0)], 700, True),  # ends on day 365
        ([(-100, None, 100.0)], 364, None),  # not observed through day 365
        ([(-100, None, 0.0)], 700, False),  # 0 % does not make an employed day
        ([(-100, None, 0.0), (365, 365, 20.0)], 700, True),  # 0 + 20 > 0
    ],
)
def test_employed_12m(jobs, data_end, expected):
    value = outcome([], jobs=jobs, data_end=data_end).employed_12m
    assert (None if missing(value) else bool(value)) == expected


def test_hrb_days_before_admission():
    # Admission on day −28 (2024-02-02); the window is days −393 … −29 (365 days).
    out = outcome([("SP", -400, -380, 100.0)])  # overlaps −393…−380: 14 days
    assert out.hrb_days_pre_12m == 14
    out = outcome([("SP", -500, -394, 100.0), ("SP", -28, 0, 100.0)])  # both outside
    assert out.hrb_days_pre_12m == 0
    out = outcome([("SP", -29, -29, 100.0), ("DP", -300, -100, 100.0)])  # day before admission
    assert out.hrb_days_pre_12m == 1
    # Emigration before admission (a person who came back) does not hide these days.
    out = outcome([("AAP", -100, -50, 100.0)], emigration=-200)
    assert out.hrb_days_pre_12m == 51


def test_state_on_a_censored_day_is_missing_but_observed_day_is_not():
    # Data end day 90: day 91 unobserved; data end day 91: observed.
    assert missing(outcome([], data_end=90).state_3m)
    assert outcome([], data_end=91).state_3m == "working"


# --- employment-confirmed RTW --------------------------------------------------------


def test_employment_ending_and_starting_inside_a_run():
    # Benefit-free from day 1. Job 100 % days −100…10 ends inside the run; a 0 %
    # relationship covers 11…19 (not employed); a 50 % job starts on day 20, open.
    out = outcome([], jobs=[(-100, 10, 100.0), (11, 19, 0.0), (20, None, 50.0)])
    assert (out.rtw_event, out.rtw_time) == (1, 1)
    # Employed and free: 1…10 (10 days, too short), then 20 onwards: 20…47 → day 20.
    assert (out.rtw_emp_event, out.rtw_emp_time) == (1, 20)
    assert out.employed_12m == True  # noqa: E712


def test_employment_starting_inside_a_run_and_hrb_interrupting_it():
    # HRB to day 10; job from day 5; SP again on days 30…31. Free runs: 11…29 (19 days),
    # then 32 onwards → d_rtw = 32 and, employed from day 5, d_rtw_emp = 32 too.
    out = outcome([("SP", -10, 10, 100.0), ("SP", 30, 31, 100.0)], jobs=[(5, None, 100.0)])
    assert (out.rtw_event, out.rtw_time) == (1, 32)
    assert (out.rtw_emp_event, out.rtw_emp_time) == (1, 32)


def test_employment_confirmed_rtw_censored_when_never_employed():
    out = outcome([], jobs=[], data_end=300)
    assert (out.rtw_emp_event, out.rtw_emp_time) == (0, 273)  # 300 − 28 + 1


# --- several episodes, linkage, empty tables -------------------------------------------


def test_several_episodes_of_one_person_each_on_its_own_time_origin():
    # E1 discharged 2024-03-01, E2 discharged 2024-09-01 (day 184 of E1).
    # SP 100 % from 2024-02-20 (day −10) to 2024-09-15 (day 198 of E1 = day 14 of E2).
    second = d(184)
    episodes = [
        ("E1", "P1", d(-28), DISCHARGE, True),
        ("E2", "P1", second - pd.Timedelta(days=20), second, True),
        ("E3", "P2", d(-28), DISCHARGE, False),  # not linked: no row
    ]
    data = tables([("SP", -10, 198, 100.0)], episodes=episodes)
    out = derive_outcomes(*data, params()).set_index("episode_id")
    assert list(out.index) == ["E1", "E2"]
    assert out.loc["E1", "rtw_time"] == 199 and out.loc["E2", "rtw_time"] == 15
    assert out.loc["E1", "hrb_days_12m"] == 198 and out.loc["E2", "hrb_days_12m"] == 14
    # E2's pre-admission window (days −385…−21 of E2 = −201…163 of E1) holds
    # E1's HRB days −10…163: 174 days.
    assert out.loc["E2", "hrb_days_pre_12m"] == 174


def test_no_benefits_and_no_employment_tables():
    episodes, _, _, persons = tables()
    for benefits, employment in [(None, None), (pd.DataFrame(), pd.DataFrame())]:
        out = derive_outcomes(episodes, benefits, employment, persons, params()).iloc[0]
        assert (out.rtw_event, out.rtw_time) == (1, 1)
        assert (out.rtw_emp_event, out.rtw_emp_time) == (0, 365)


def test_no_linked_episode_gives_an_empty_table_with_the_columns():
    episodes, benefits, employment, persons = tables()
    episodes["linked"] = False
    out = derive_outcomes(episodes, benefits, employment, persons, params())
    assert len(out) == 0
    assert {"rtw_event", "state_12m", "obs_days", "hrb_days_pre_12m"} <= set(out.columns)
    states = daily_states(episodes, benefits, employment, persons, params())
    assert len(states) == 0 and list(states.columns) == ["episode_id", "day", "state"]


def test_column_types():
    out = derive_outcomes(*tables([("SP", 1, 10, 100.0)]), params())
    assert out["rtw_event"].dtype == "int64" and out["rtw_time"].dtype == "int64"
    assert out["rtw_12m"].dtype == "boolean" and out["employed_12m"].dtype == "boolean"
    assert out["hrb_days_12m"].dtype == "Int64" and out["hrb_days_pre_12m"].dtype == "Int64"
    assert out["hrb_fte_days_12m"].dtype == "float64" and out["obs_days"].dtype == "int64"
    assert list(out["state_3m"].cat.categories) == list(params().state_order)


def test_inputs_are_not_modified():
    data = tables([("SP", 1, 10, float("nan"))], jobs=[(0, None, 50.0)])
    copies = [t.copy(deep=True) for t in data]
    derive_outcomes(*data, params())
    daily_states(*data, params())
    for original, copy in zip(data, copies, strict=True):
        pd.testing.assert_frame_equal(original, copy)


# --- parameters are read, not hard-coded ---------------------------------------------


def test_other_followup_and_run_length():
    # F = 100, L = 10: HRB to day 94, free from 95 → run 95…104 reaches past F.
    out = outcome([("SP", -10, 94, 100.0)], followup_days=100, rtw_min_days=10)
    assert (out.rtw_event, out.rtw_time) == (1, 95)
    assert out.hrb_days_12m == 94  # days 1…94 of 1…100
    # HRB to day 100: first free day 101 > F; censored at min(100, 700 − 10 + 1) = 100.
    out = outcome([("SP", -10, 100, 100.0)], followup_days=100, rtw_min_days=10)
    assert (out.rtw_event, out.rtw_time) == (0, 100)


# --- daily states --------------------------------------------------------------------


def test_daily_states_day_by_day():
    # SP 100 % days 0…2, DP day 3, nothing on day 4, death on day 5 (obs_last day 4).
    data = tables([("SP", -5, 2, 100.0), ("DP", 3, 3, 100.0)], death=5)
    states = daily_states(*data, params(), first_day=-1, last_day=6)
    assert states["day"].tolist() == list(range(-1, 7))
    assert states["day"].dtype == "int16"
    assert states["state"].astype(object).tolist() == [
        "sick_leave_full",  # day −1
        "sick_leave_full",  # day 0 (discharge day)
        "sick_leave_full",
        "sick_leave_full",  # day 2
        "unemployed",  # day 3
        "working",  # day 4 = obs_last
        "dead",  # day 5 = death
        "dead",
    ]


def test_daily_states_missing_after_emigration():
    data = tables([("AAP", -5, None, 100.0)], emigration=3)
    states = daily_states(*data, params(), last_day=4)["state"]
    # obs_last = day 2: days 0…2 aap, days 3 and 4 censored.
    assert states.astype(object).tolist()[:3] == ["aap"] * 3
    assert states.isna().tolist() == [False, False, False, True, True]
    # The default range is days 0…F.
    assert len(daily_states(*data, params())) == 366


def test_daily_states_agree_with_the_month_states():
    data = tables([("SP", -5, 100, 60.0), ("AAP", 150, 200, 100.0)], death=300)
    out = derive_outcomes(*data, params()).iloc[0]
    states = daily_states(*data, params()).set_index("day")["state"]
    assert out.state_3m == states[91] == "sick_leave_partial"
    assert out.state_6m == states[183] == "aap"
    assert out.state_12m == states[365] == "dead"
