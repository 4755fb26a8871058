"""Tests of arr_stats.indicators on tiny hand-made derived tables worked by hand."""

from __future__ import annotations

import dataclasses
import datetime as dt
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from arr_stats.config import DisclosureParams, IndicatorTarget, OutcomeParams, RunConfig
from arr_stats.derive.load import load_build
from arr_stats.indicators.aggregate import aggregate_indicators
from arr_stats.indicators.casemix import casemix
from arr_stats.indicators.definitions import (
    INDICATOR_STATISTIC,
    LEVEL_HIGH,
    LEVEL_LOW,
    LEVEL_MODERATE,
    LOW_COVERAGE_LABEL,
    UPLOAD_COLUMNS,
    classify_target,
    episode_indicators,
    t0_items,
)
from arr_stats.stats.funnel import funnel_limits
from arr_stats.stats.intervals import clustered_wilson_interval, t_interval, wilson_interval
from tools import PROJECT_ROOT, run_r

CONFIG = RunConfig(
    registry_dir=Path("."),
    nav_dir=Path("."),
    derived_dir=Path("."),
    outcomes=OutcomeParams(data_end=dt.date(2025, 12, 31)),
)
ITEMS = [
    "rehab_mode",
    "diagnosis_code",
    "sick_leave_status",
    "sick_leave_percent",
    "sick_leave_weeks",
    "education",
    "work_ability",
    "rtw_expectation",
]


def _episodes(unit: str, n: int, discharge: str, first: int = 0) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "episode_id": [f"{unit}{discharge[:4]}-{i:02d}" for i in range(first, first + n)],
            "person_id": [f"p{unit}{discharge[:4]}{i}" for i in range(first, first + n)],
            "institution_id": unit,
            "discharge_date": pd.Timestamp(discharge),
        }
    )
    for item in ITEMS:
        frame[item] = 1.0
    frame["work_ability"] = 4.0
    return frame


@pytest.fixture
def tables():
    # Report year 2025; data_end 2025-12-31; T2 due 183 days, T3 365 days after discharge.
    ep = pd.concat(
        [
            _episodes("A", 12, "2025-01-15"),  # T1, T2 due; T3 due 2026-01-15: not yet
            _episodes("B", 10, "2025-08-01"),  # T1 due; T2 due 2026-01-31: not yet
            _episodes("C", 3, "2025-03-01"),  # T1, T2 due (2025-08-31)
            _episodes("A", 12, "2024-03-01"),
            _episodes("B", 10, "2024-03-01"),
            _episodes("C", 3, "2024-03-01"),
        ],
        ignore_index=True,
    )
    # completeness, A 2025: two episodes lack 4 of the 8 items
    a25 = ep.index[ep["episode_id"].isin(["A2025-00", "A2025-01"])]
    ep.loc[a25, ["education", "sick_leave_percent", "sick_leave_weeks", "rtw_expectation"]] = np.nan

    def answered(ids, point, work_ability=np.nan):
        return pd.DataFrame({"episode_id": ids, "point": point, "work_ability": work_ability})

    resp = pd.concat(
        [
            answered([f"A2025-{i:02d}" for i in range(9)], "T1"),  # 9 of 12
            answered([f"A2025-{i:02d}" for i in range(6)], "T2"),  # 6 of 12
            answered([f"B2025-{i:02d}" for i in range(10)], "T1"),  # 10 of 10
            answered(["C2025-00"], "T1"),  # 1 of 3
            # T3 of the 2024 cohort, A: T0 = 4 everywhere, changes 1,2,3,1,2,3,1,2,3,2
            answered([f"A2024-{i:02d}" for i in range(10)], "T3", [5, 6, 7, 5, 6, 7, 5, 6, 7, 6]),
        ],
        ignore_index=True,
    )
    resp["point"] = pd.Categorical(resp["point"], categories=["T0", "T1", "T2", "T3"], ordered=True)

    out = ep[ep["discharge_date"].dt.year == 2024][
        ["episode_id", "institution_id", "discharge_date"]
    ].reset_index(drop=True)
    out["rtw_12m"] = pd.array(
        [True] * 8 + [False] * 3 + [None] + [True] * 6 + [False] * 4 + [True] * 3, dtype="boolean"
    )
    # A: RTW at day 10 (3) and 100 (3), disability at 50 (2), censored at 365 (4);
    # B: RTW at 20 (5), censored at 365 (5); C: RTW at 30 (3)
    out["rtw_event"] = [1, 1, 1, 1, 1, 1, 2, 2, 0, 0, 0, 0] + [1] * 5 + [0] * 5 + [1] * 3
    out["rtw_time"] = [10, 10, 10, 100, 100, 100, 50, 50, 365, 365, 365, 365] + (
        [20] * 5 + [365] * 5 + [30] * 3
    )
    out["hrb_days_12m"] = pd.array(
        [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, None] + [5] * 10 + [1, 2, 3], dtype="Int64"
    )
    inst = pd.DataFrame(
        {
            "institution_id": ["A", "B", "C", "A", "B", "C"],
            "year": [2025, 2025, 2025, 2024, 2024, 2024],
            "n_patients": [24, 12, 6, 15, 10, 3],
        }
    )
    return ep, resp, out, inst


def _row(table, ind_id, unit, orgnr=None):
    sel = (table["ind_id"] == ind_id) & (table["unit"] == unit)
    sel &= table["orgnr"].isna() if orgnr is None else table["orgnr"] == orgnr
    rows = table[sel]
    assert len(rows) == 1
    return rows.iloc[0]


# --- small statistics ----------------------------------------------------------------------


@pytest.mark.parametrize("x,n", [(0, 10), (1, 10), (8, 10), (10, 10), (37, 123), (500, 1000)])
def test_wilson_interval_matches_statsmodels(x, n):
    lo, hi = proportion_confint(x, n, alpha=0.05, method="wilson")
    assert wilson_interval(x, n) == pytest.approx((lo, hi), abs=1e-12)


def test_wilson_interval_of_all_successes_by_hand():
    # 14 of 14: p = 1, so centre and half both reduce to z²/2n:
    # lower = 1/(1 + z²/n) = 14/(14 + 3.841459) = 0.784689; upper = (1 + z²/n)/(1 + z²/n) = 1
    lo, hi = wilson_interval(14, 14)
    assert lo == pytest.approx(14 / 17.841459, abs=1e-6)
    assert hi == pytest.approx(1.0, abs=1e-12) and hi <= 1.0


def test_completeness_interval_of_a_small_unit_stays_in_0_1(tables):
    # The unit: 14 episodes, 11 with all 8 items, 3 missing one item
    # (shares 1 × 11, 0.875 × 3): mean 0.973214, sd 0.053227. Its t interval,
    # 0.973214 ± t(0.975; 13) · 0.053227/√14 = ± 2.160369 · 0.014226, reaches 1.0039.
    ep, resp, out, inst = tables
    unit = _episodes("D", 14, "2025-05-01")
    unit.loc[unit.index[:3], "education"] = np.nan
    shares = [1.0] * 11 + [0.875] * 3
    assert t_interval(shares)[1] == pytest.approx(1.0039, abs=1e-4)
    agg = aggregate_indicators(
        pd.concat([ep, unit], ignore_index=True), resp, out, inst, CONFIG, [2025], disclose=False
    )
    d = _row(agg, "arr_compl", "institution", "D")
    assert d["value"] == pytest.approx(13.625 / 14)
    # v = s²/14 = 0.0028331/14; p(1 − p)/v = 128.8 > 112 items, so n_eff is capped at the
    # 112 answers: Wilson of 109 of 112. 1 + z²/n = 1.0342987; centre 0.9732143 + 0.0171494;
    # half 1.959964 · sqrt(0.026068/112 + z²/50176) = 0.034470 → (0.924194, 0.990849)
    assert (d["lower"], d["upper"]) == pytest.approx((0.924194, 0.990849), abs=1e-5)
    assert 0.0 <= d["lower"] <= d["value"] <= d["upper"] <= 1.0


def test_clustered_wilson_interval_edges():
    # every share 1: no variance between episodes → n_eff = all 5·8 = 40 answers,
    # the Wilson interval of 40 of 40: 40/(40 + z²) = 0.912360 to 1
    lo, hi = clustered_wilson_interval([1.0] * 5, 8)
    assert lo == pytest.approx(40 / 43.841459, abs=1e-6) and hi == pytest.approx(1.0)
    assert clustered_wilson_interval([0.5], 8) == pytest.approx((np.nan, np.nan), nan_ok=True)
    # answers that cluster completely (an episode answers all items or none) carry only
    # the episodes' information: shares 1 × 6, 0 × 4 → p = 0.6, s² = 0.24·10/9,
    # v = s²/10 = 0.026667 → n_eff = 0.24/v = 9 (not 80 items): Wilson of 5.4 of 9
    lo, hi = clustered_wilson_interval([1.0] * 6 + [0.0] * 4, 8)
    assert (lo, hi) == pytest.approx(wilson_interval(5.4, 9), abs=1e-12)


def test_every_proportion_interval_on_the_demo_lies_in_0_1(demo_derived):
    derived = load_build(demo_derived)
    years = sorted(set(derived.episodes["discharge_year"]))
    agg = aggregate_indicators(
        derived.episodes,
        derived.responses,
        derived.outcomes,
        derived.institutions,
        derived.config,
        years,
        disclose=False,
    )
    shares = [k for k, v in INDICATOR_STATISTIC.items() if v not in ("mean", "median")]
    rows = agg[agg["ind_id"].isin(shares) & agg["lower"].notna()]
    assert set(rows["ind_id"]) == set(shares)  # every share indicator has intervals to check
    assert len(rows) > 100
    assert rows["lower"].between(0.0, 1.0).all() and rows["upper"].between(0.0, 1.0).all()
    assert (rows["lower"] <= rows["value"] + 1e-12).all()
    assert (rows["value"] <= rows["upper"] + 1e-12).all()


def test_wilson_interval_by_hand():
    # 8 of 10, z = 1.959964, z² = 3.841459: centre 0.8 + z²/20 = 0.992073;
    # half = z·sqrt(0.016 + z²/400) = 0.313617; divide by 1 + z²/10 = 1.384146
    lo, hi = wilson_interval(8, 10)
    assert lo == pytest.approx(0.678456 / 1.384146, abs=1e-5)
    assert hi == pytest.approx(1.305690 / 1.384146, abs=1e-5)


@pytest.mark.parametrize(
    "value,expected",
    [(0.6, LEVEL_HIGH), (0.5999, LEVEL_MODERATE), (0.4, LEVEL_MODERATE), (0.3999, LEVEL_LOW)],
)
def test_classify_target_higher_is_better_boundaries(value, expected):
    assert classify_target(value, IndicatorTarget(0.6, 0.4, "higher")) == expected


@pytest.mark.parametrize(
    "value,expected",
    [(120, LEVEL_HIGH), (120.01, LEVEL_MODERATE), (200, LEVEL_MODERATE), (200.01, LEVEL_LOW)],
)
def test_classify_target_lower_is_better_boundaries(value, expected):
    assert classify_target(value, IndicatorTarget(120, 200, "lower")) == expected


def test_classify_target_uses_unrounded_value():
    # 0.5996 rounds to 60 % but is below the green level of 0.6
    assert classify_target(0.5996, IndicatorTarget(0.6, 0.4, "higher")) == LEVEL_MODERATE
    assert classify_target(np.nan, IndicatorTarget(0.6, 0.4, "higher")) is None


def test_funnel_limits_are_exact_binomial():
    # p = 0.2, n = 64, 95 %: the lower limit is Spiegelhalter's interpolated 2.5 %
    # quantile of Binomial(64, 0.2) over 64 (worked by hand in tests/test_funnel.py for
    # n = 20); it lies between the integer quantile and one count below it.
    f = funnel_limits(0.2, [64]).set_index("level")
    from scipy.stats import binom

    r = binom.ppf(0.025, 64, 0.2)
    assert (r - 1) / 64 <= f.loc[0.95, "lower"] <= r / 64
    assert funnel_limits(0.05, [4])["lower"].min() == 0.0


# --- definitions on the hand-made tables -------------------------------------------------------


def test_t0_items_from_the_dictionary(tables):
    ep, *_ = tables
    assert t0_items(ep) == ITEMS


def test_exact_values_without_disclosure(tables):
    ep, resp, out, inst = tables
    before = [t.copy() for t in tables]
    agg = aggregate_indicators(ep, resp, out, inst, CONFIG, [2025], disclose=False)
    for t, b in zip(tables, before, strict=True):
        pd.testing.assert_frame_equal(t, b)
    # response T1: A 9/12, B 10/10, C 1/3; national 20/25
    assert _row(agg, "arr_resp_t1", "institution", "A")["value"] == pytest.approx(0.75)
    assert _row(agg, "arr_resp_t1", "national")[["numerator", "denominator"]].tolist() == [20, 25]
    # T2 due for A (2025-01-15 + 183 = 2025-07-17) and C (2025-08-31), not B (2026-01-31)
    assert _row(agg, "arr_resp_t2", "institution", "A")["value"] == pytest.approx(0.5)
    assert _row(agg, "arr_resp_t2", "institution", "B")["denominator"] == 0
    assert _row(agg, "arr_resp_t2", "national")[["numerator", "denominator"]].tolist() == [6, 15]
    # T3 due nowhere yet (A 2026-01-15): every unit has an empty cohort
    t3 = agg[agg["ind_id"] == "arr_resp_t3"]
    assert t3.loc[t3["unit"] == "institution", "denominator"].eq(0).all()
    # completeness A: 10 episodes complete, 2 with 4 of 8 items → (10 + 2·0.5)/12
    compl = _row(agg, "arr_compl", "institution", "A")
    assert compl["value"] == pytest.approx(11 / 12)
    # its interval: Wilson at the effective sample size (answers cluster in episodes).
    # s² = (10·(1/12)² + 2·(5/12)²)/11 = 60/1584; v = s²/12; p(1 − p) = 11/144
    # → n_eff = (11/144)/(60/19008) = 24.2 (< 96 items). Wilson at n = 24.2, p = 11/12:
    # 1 + z²/n = 1.158738; centre p + z²/2n = 0.996036;
    # half z·sqrt(p(1 − p)/n + z²/4n²) = 0.135740 → (0.860296, 1.131776)/1.158738
    assert compl["interval"] == "wilson95_neff"
    assert (compl["lower"], compl["upper"]) == pytest.approx((0.742442, 0.976731), abs=1e-5)
    # rtw12 A: 8 of 11 observed (one missing)
    a = _row(agg, "arr_rtw12", "institution", "A")
    assert (a["numerator"], a["denominator"]) == (8, 11)
    assert (a["lower"], a["upper"]) == pytest.approx(wilson_interval(8, 11))
    # srtw A by hand (Aalen–Johansen): day 10: 3/12 → 0.25, S = 0.75; day 50: 2
    # competing of 9 → S = 0.75·7/9; day 100: + S·3/7 = 0.25 → 0.5
    srtw = _row(agg, "arr_srtw", "institution", "A")
    assert srtw["value"] == pytest.approx(0.5)
    assert (srtw["numerator"], srtw["denominator"]) == (6, 12)
    assert srtw["lower"] < 0.5 < srtw["upper"]
    # hrb days A: 0 … 100 by 10 (11 values): median 50, IQR 25–75 (linear quantiles)
    hrb = _row(agg, "arr_hrbdays", "institution", "A")
    assert [hrb["value"], hrb["q1"], hrb["q3"]] == [50, 25, 75]
    # quartiles are not an interval: lower/upper stay empty, and no interval kind is named
    assert pd.isna(hrb["lower"]) and pd.isna(hrb["upper"]) and pd.isna(hrb["interval"])
    # work ability change A: changes 1,2,3,1,2,3,1,2,3,2: mean 2, sd = sqrt(6/9),
    # se = 0.258199, t(0.975; 9) = 2.262157 → 2 ± 0.584087
    wa = _row(agg, "arr_wa_change", "institution", "A")
    assert wa["value"] == pytest.approx(2.0)
    assert (wa["lower"], wa["upper"]) == pytest.approx((1.415913, 2.584087), abs=1e-5)
    # coverage 2025: A 12/24, B 10/12, C 3/6
    assert _row(agg, "arr_dg", "institution", "A")["value"] == pytest.approx(0.5)
    assert _row(agg, "arr_dg", "national")[["numerator", "denominator"]].tolist() == [25, 42]


def test_targets_and_coverage_flag(tables):
    agg = aggregate_indicators(*tables, CONFIG, [2025])
    # resp T2: A 6/12 = 0.5 against green 0.6 / yellow 0.4 → moderat;
    # resp T1: B 1.0 against green 0.8 → høy
    assert _row(agg, "arr_resp_t2", "institution", "A")["level"] == LEVEL_MODERATE
    assert _row(agg, "arr_resp_t1", "institution", "B")["level"] == LEVEL_HIGH
    # coverage A in 2025 = 0.5 < 0.6: process measures flagged; outcome measures
    # use the 2024 cohort's coverage (12/15 = 0.8): not flagged
    assert _row(agg, "arr_resp_t2", "institution", "A")["coverage_flag"] == LOW_COVERAGE_LABEL
    assert pd.isna(_row(agg, "arr_rtw12", "institution", "A")["coverage_flag"])
    assert pd.isna(_row(agg, "arr_resp_t1", "institution", "B")["coverage_flag"])


def test_rest_of_country_and_national_pool_the_shown_units(tables):
    agg = aggregate_indicators(*tables, CONFIG, [2025])
    # resp T1: C (3 episodes) is suppressed, and so is A (9 of 12: the 3
    # non-responders are a count of 1 … 4); only B (10/10) is shown. A's rest
    # and C's rest are B alone; B's rest pools no shown unit; national = B.
    assert _row(agg, "arr_resp_t1", "institution", "A")["suppressed"]
    assert _row(agg, "arr_resp_t1", "rest", "A")["value"] == pytest.approx(1.0)
    assert pd.isna(_row(agg, "arr_resp_t1", "rest", "B")["value"])
    national = _row(agg, "arr_resp_t1", "national")
    assert national[["numerator", "denominator"]].tolist() == [10, 10]
    assert _row(agg, "arr_resp_t1", "rest", "C")["value"] == pytest.approx(1.0)


def test_a_proportion_whose_complement_is_small_is_hidden(tables):
    # disclosure.md: a proportion with its base counts as the counts it implies,
    # n·p and n·(1 − p). A's T1 response 9 of 12 (75 % of 12) gives back the 3
    # who did not answer; B's coverage 10 of 12 patients gives back 2 not
    # registered. Both are hidden; without disclosure both are there.
    agg = aggregate_indicators(*tables, CONFIG, [2025])
    raw = aggregate_indicators(*tables, CONFIG, [2025], disclose=False)
    for ind_id, unit, value in (("arr_resp_t1", "A", 9 / 12), ("arr_dg", "B", 10 / 12)):
        assert _row(agg, ind_id, "institution", unit)["suppressed"]
        assert pd.isna(_row(agg, ind_id, "institution", unit)["value"])
        assert _row(raw, ind_id, "institution", unit)["value"] == pytest.approx(value)


def test_tiny_unit_is_empty_and_cannot_be_recovered(tables):
    ep, resp, out, inst = tables
    agg = aggregate_indicators(ep, resp, out, inst, CONFIG, [2025])
    c_rows = agg[(agg["orgnr"] == "C") & (agg["unit"] == "institution")]
    assert len(c_rows) == 9  # every indicator lists C …
    assert c_rows["suppressed"].all()  # … with its values empty
    assert c_rows[["numerator", "denominator", "value", "lower", "upper"]].isna().all().all()
    assert c_rows["level"].isna().all()
    # C's coverage (3/6) is hidden, so C carries no "Lav dekningsgrad" flag either
    assert c_rows["coverage_flag"].isna().all()
    # Nothing published depends on C's data: change every value of C (answers,
    # outcomes, completeness) and the published table stays the same.
    ep2 = ep.copy()
    c_eps = ep2["institution_id"] == "C"
    ep2.loc[c_eps, ITEMS] = np.nan
    resp2 = pd.concat(
        [
            resp[~resp["episode_id"].str.startswith("C")],
            pd.DataFrame(
                {
                    "episode_id": ["C2025-00", "C2025-01", "C2025-02", "C2025-01"],
                    "point": pd.Categorical(
                        ["T1", "T1", "T1", "T2"], categories=["T0", "T1", "T2", "T3"]
                    ),
                    "work_ability": np.nan,
                }
            ),
        ],
        ignore_index=True,
    )
    out2 = out.copy()
    c_out = out2["institution_id"] == "C"
    out2.loc[c_out, "rtw_12m"] = False
    out2.loc[c_out, "rtw_event"] = 2
    out2.loc[c_out, "hrb_days_12m"] = 365
    agg2 = aggregate_indicators(ep2, resp2, out2, inst, CONFIG, [2025])
    pd.testing.assert_frame_equal(agg, agg2)
    # National minus the shown units is zero: no remainder to attribute to C.
    for ind_id in ("arr_resp_t1", "arr_rtw12", "arr_compl"):
        shown = agg[(agg["ind_id"] == ind_id) & (agg["unit"] == "institution")]
        shown = shown[~shown["suppressed"].astype(bool)]
        national = _row(agg, ind_id, "national")
        if shown.empty:  # nothing shown: no national number either
            assert pd.isna(national["denominator"])
        else:
            assert national["denominator"] == shown["denominator"].sum()
    # With disclosure off, C's data do move the national value.
    raw = aggregate_indicators(ep, resp, out, inst, CONFIG, [2025], disclose=False)
    raw2 = aggregate_indicators(ep2, resp2, out2, inst, CONFIG, [2025], disclose=False)
    assert (
        _row(raw, "arr_resp_t1", "national")["value"]
        != _row(raw2, "arr_resp_t1", "national")["value"]
    )


def test_upload_rows(tables):
    ep, resp, out, inst = tables
    up = episode_indicators(ep, resp, out, CONFIG, [2025])
    assert tuple(up.columns) == UPLOAD_COLUMNS
    assert set(up["context"]) == {"caregiver"}
    assert set(up["denominator"]) == {1}
    assert set(up["year"]) == {2025}
    counts = up.groupby(["ind_id", "orgnr"]).size()
    assert counts[("arr_rtw12", "A")] == 11  # one missing rtw_12m
    assert counts[("arr_resp_t1", "A")] == 12
    assert counts[("arr_resp_t2", "C")] == 3
    assert ("arr_resp_t2", "B") not in counts.index
    assert counts[("arr_srtw", "A")] == 12  # none censored before day 365
    assert "arr_dg" not in set(up["ind_id"])
    a_rtw = up[(up["ind_id"] == "arr_rtw12") & (up["orgnr"] == "A")]["var"]
    assert a_rtw.sum() == 8
    # srtw 0/1: 6 RTW; 2 disability and 4 complete follow-up count as 0
    a_srtw = up[(up["ind_id"] == "arr_srtw") & (up["orgnr"] == "A")]["var"]
    assert sorted(a_srtw.tolist()) == [0.0] * 6 + [1.0] * 6


# --- case mix --------------------------------------------------------------------------------


def _casemix_outcomes(seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 3000
    frame = pd.DataFrame(
        {
            "episode_id": [f"e{i}" for i in range(n)],
            "institution_id": rng.choice(["A", "B", "C"], size=n, p=[0.5, 0.4, 0.1]),
            "discharge_date": pd.Timestamp("2024-05-01"),
            "age_at_admission": rng.integers(20, 67, size=n),
            "sex": rng.choice(["Mann", "Kvinne"], size=n),
            "diagnosis_group": rng.choice(["musculoskeletal", "mental", "other"], size=n),
            "rehab_mode": rng.choice(["Døgn", "Dag", None], size=n),
            "hrb_days_pre_12m": rng.integers(0, 366, size=n),
        }
    )
    # true model: logit = 1 − 0.005·pre-days − 0.7·mental
    logit = 1 - 0.005 * frame["hrb_days_pre_12m"] - 0.7 * (frame["diagnosis_group"] == "mental")
    frame["rtw_12m"] = pd.array(rng.random(n) < 1 / (1 + np.exp(-logit)), dtype="boolean")
    frame["rtw_event"] = 0
    frame["rtw_time"] = 365
    frame.loc[frame.index[:3], "institution_id"] = "D"  # a tiny unit
    return frame


def test_casemix_recovers_the_model_and_balances_observed_and_expected():
    outcomes = _casemix_outcomes()
    result = casemix(outcomes, CONFIG, 2025, disclose=False)
    coef = result.coefficients.set_index("term")["estimate"]
    assert coef["hrb_days_pre_12m"] == pytest.approx(-0.005, abs=0.0015)
    # "mental" is the reference level, so the other groups' coefficients are +0.7
    assert coef["diagnosis_group_musculoskeletal"] == pytest.approx(0.7, abs=0.25)
    assert coef["diagnosis_group_other"] == pytest.approx(0.7, abs=0.25)
    # a logistic model with an intercept reproduces the total: Σ expected = Σ observed
    units = result.institutions
    assert units["expected"].sum() == pytest.approx(units["observed"].sum(), rel=1e-6)
    assert result.n == 3000


def test_casemix_interval_is_exact_for_a_sum_of_bernoullis_and_tiny_unit_is_empty():
    outcomes = _casemix_outcomes()
    result = casemix(outcomes, CONFIG, 2025)
    a = result.institutions.set_index("orgnr").loc["A"]
    from arr_stats.stats.observed_expected import oe_control_limits, oe_interval

    p = result.episodes.loc[result.episodes["orgnr"] == "A", "expected"]
    assert a["expected"] == pytest.approx(p.sum())
    assert a["variance"] == pytest.approx((p * (1 - p)).sum())
    assert (a["lower"], a["upper"]) == pytest.approx(oe_interval(a["observed"], p))
    limits = oe_control_limits(p).set_index("level")
    assert a["limit95_upper"] == pytest.approx(limits.loc[0.95, "upper"])
    assert a["limit998_lower"] == pytest.approx(limits.loc[0.998, "lower"])
    # the binomial variance is smaller than the Poisson E, so the interval is narrower
    # than the exact Poisson one: chi2(0.025; 2O)/2 … chi2(0.975; 2O + 2)/2, over E
    from scipy.stats import chi2

    o, e = a["observed"], a["expected"]
    poisson = (chi2.ppf(0.025, 2 * o) / 2 / e, chi2.ppf(0.975, 2 * o + 2) / 2 / e)
    assert poisson[0] < a["lower"] < a["ratio"] < a["upper"] < poisson[1]
    d = result.institutions.set_index("orgnr").loc["D"]
    assert d["suppressed"] and pd.isna(d["ratio"]) and pd.isna(d["observed"])
    assert d[["variance", "lower", "limit95_lower", "limit998_upper"]].isna().all()


def test_tiny_unit_coverage_is_hidden_even_with_a_large_patient_count(tables):
    # C has 3 consenting episodes discharged 2025. Its institution form now says
    # 20 patients, so the coverage denominator (20) is above min_denominator
    # (10); 3/20 = 15 % would still give back the count 3 (15 % × 20), so C's
    # arr_dg must be empty, and C carries no low-coverage flag (15 % < 60 %).
    ep, resp, out, inst = tables
    inst = inst.copy()
    inst.loc[(inst["institution_id"] == "C") & (inst["year"] == 2025), "n_patients"] = 20
    agg = aggregate_indicators(ep, resp, out, inst, CONFIG, [2025])
    c_rows = agg[(agg["orgnr"] == "C") & (agg["unit"] == "institution")]
    assert c_rows["suppressed"].all()
    assert c_rows[["numerator", "denominator", "value", "lower", "upper"]].isna().all().all()
    assert c_rows["coverage_flag"].isna().all()
    # The national coverage pools only the shown units: A (12 of 24); B (10 of
    # 12: 2 not registered) is hidden by the complement rule.
    assert _row(agg, "arr_dg", "national")[["numerator", "denominator"]].tolist() == [12, 24]
    # Without disclosure, C's 3/20 is there: the rule, not the data, hides it.
    raw = aggregate_indicators(ep, resp, out, inst, CONFIG, [2025], disclose=False)
    assert _row(raw, "arr_dg", "institution", "C")["value"] == pytest.approx(3 / 20)


def test_casemix_names_its_reference_levels():
    # Levels in the synthetic cohort: ages 20–66 → all five groups; sex Mann/Kvinne;
    # diagnosis musculoskeletal/mental/other; rehab mode Døgn/Dag/missing. The
    # reference is the level with no term: for each variable, the one the
    # coefficients table lacks ("mental" as in the test above).
    result = casemix(_casemix_outcomes(), CONFIG, 2025, disclose=False)
    terms = set(result.coefficients["term"])
    assert result.references["diagnosis_group"] == "mental"
    assert result.references["sex"] == "Kvinne" and "sex_Mann" in terms
    assert result.references["rehab_mode"] == "Dag" and "rehab_mode_Døgn" in terms
    assert result.references["age_group"] == "30–39"
    assert not any(f"{v}_{level}" in terms for v, level in result.references.items())


def _casemix_table_for_r(outcomes: pd.DataFrame) -> pd.DataFrame:
    """The model's data as R reads it: covariates coded in the test, not by the package."""
    age = outcomes["age_at_admission"]
    bands = pd.cut(age, [-np.inf, 29, 39, 49, 59, np.inf], labels=False)
    labels = np.array(["<30", "30–39", "40–49", "50–59", "60+"])
    return pd.DataFrame(
        {
            "y": outcomes["rtw_12m"].astype(int),
            "age_group": labels[bands.to_numpy()],
            "sex": outcomes["sex"],
            "diagnosis_group": outcomes["diagnosis_group"],
            "rehab_mode": outcomes["rehab_mode"].fillna("ukjent"),
            "hrb_days_pre_12m": outcomes["hrb_days_pre_12m"],
        }
    )


def test_casemix_clean_fit_reports_every_term_and_agrees_with_r_glm(tmp_path):
    outcomes = _casemix_outcomes()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a clean fit warns of nothing
        result = casemix(outcomes, CONFIG, 2025)
    coef = result.coefficients.set_index("term")
    assert result.converged and result.notes == () and result.unknown_outcome == 0
    assert coef["check"].isna().all() and coef["estimate"].notna().all()
    assert len(coef) == 11  # const, 4 age, 1 sex, 2 diagnosis, 2 rehab mode, pre-days

    # with disclosure the model is fitted on the units whose ratio is shown:
    # the tiny unit D (3 episodes) is left out, in R too
    assert result.n == 3000 - 3
    shown = outcomes[outcomes["institution_id"] != "D"]
    _casemix_table_for_r(shown).to_csv(tmp_path / "casemix.csv", index=False)
    run_r((PROJECT_ROOT / "tests" / "r" / "glm_check.R").read_text(), tmp_path)
    reference = pd.read_csv(tmp_path / "glm_coefficients.csv").set_index("term")
    assert pd.read_csv(tmp_path / "glm_fit.csv")["converged"].item()
    assert sorted(reference.index) == sorted(coef.index)
    reference = reference.loc[coef.index]
    np.testing.assert_allclose(coef["estimate"], reference["estimate"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(coef["std_error"], reference["std_error"], rtol=0, atol=1e-6)


def _separated_outcomes() -> pd.DataFrame:
    # The case: a diagnosis group of 2 persons, both back at work (odds ratio
    # 262 538 535 before the check). Every other term has thousands of episodes.
    outcomes = _casemix_outcomes()
    two = outcomes.index[[10, 11]]
    outcomes.loc[two, "diagnosis_group"] = "unknown"
    outcomes.loc[two, "rtw_12m"] = True
    return outcomes


def test_separation_is_detected_and_the_term_is_not_reported():
    import statsmodels.api as sm

    from arr_stats.indicators.casemix import _casemix_design, separated_terms

    outcomes = _separated_outcomes()
    design, _ = _casemix_design(outcomes)
    y = outcomes["rtw_12m"].astype(float).to_numpy()
    assert separated_terms(design, y) == ["diagnosis_group_unknown"]
    # the unchecked fit runs the term off towards infinity
    raw = sm.GLM(y, design, family=sm.families.Binomial()).fit()
    assert raw.params["diagnosis_group_unknown"] > 10

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # reported as a note, not as warnings
        for disclose in (True, False):
            result = casemix(outcomes, CONFIG, 2025, disclose=disclose)
            coef = result.coefficients.set_index("term")
            term = coef.loc["diagnosis_group_unknown"]
            assert term["check"] == "separation"
            assert term[["estimate", "std_error", "odds_ratio", "p_value"]].isna().all()
            others = coef.drop(index="diagnosis_group_unknown")
            assert others["check"].isna().all() and others["estimate"].notna().all()
            assert any("diagnosis_group_unknown" in note for note in result.notes)
    # the other terms keep their meaning: the true pre-days effect is −0.005 per day
    assert coef.loc["hrb_days_pre_12m", "estimate"] == pytest.approx(-0.005, abs=0.0015)


def test_term_with_fewer_than_min_cell_events_is_not_reported():
    # A diagnosis group of 8 with 3 returning to work: not separated, but 3 < min_cell = 5
    outcomes = _casemix_outcomes()
    eight = outcomes.index[20:28]
    outcomes.loc[eight, "diagnosis_group"] = "unknown"
    outcomes.loc[eight, "rtw_12m"] = [True] * 3 + [False] * 5
    assert CONFIG.disclosure.min_cell == 5
    coef = casemix(outcomes, CONFIG, 2025).coefficients.set_index("term")
    assert coef.loc["diagnosis_group_unknown", "check"] == "few_events"
    assert pd.isna(coef.loc["diagnosis_group_unknown", "estimate"])
    assert coef.drop(index="diagnosis_group_unknown")["estimate"].notna().all()
    # inside TSD (disclose=False) the estimate is there, still flagged
    exact = casemix(outcomes, CONFIG, 2025, disclose=False).coefficients.set_index("term")
    assert exact.loc["diagnosis_group_unknown", "check"] == "few_events"
    assert np.isfinite(exact.loc["diagnosis_group_unknown", "estimate"])
    # min_cell comes from the run configuration: at 3 the term is reported
    relaxed = dataclasses.replace(CONFIG, disclosure=DisclosureParams(min_cell=3))
    coef3 = casemix(outcomes, relaxed, 2025).coefficients.set_index("term")
    assert pd.isna(coef3.loc["diagnosis_group_unknown", "check"])
    assert np.isfinite(coef3.loc["diagnosis_group_unknown", "estimate"])


def test_casemix_counts_the_srtw_episodes_censored_before_day_f():
    outcomes = _casemix_outcomes()
    # 7 episodes censored before day 365 (no event), 3 with a competing event
    # first; none of the tiny unit D (its first 3 rows), which is not in the model
    outcomes.loc[outcomes.index[3:10], ["rtw_event", "rtw_time"]] = [0, 200]
    outcomes.loc[outcomes.index[10:13], ["rtw_event", "rtw_time"]] = [2, 100]
    result = casemix(outcomes, CONFIG, 2025, ind_id="arr_srtw")
    assert result.unknown_outcome == 7
    assert result.n == 3000 - 3 - 7


def test_a_fit_that_does_not_converge_reports_no_term(monkeypatch):
    import statsmodels.api as sm

    fit = sm.GLM.fit

    def one_iteration(self, *args, **kwargs):
        return fit(self, *args, **(kwargs | {"maxiter": 1}))

    monkeypatch.setattr(sm.GLM, "fit", one_iteration)
    result = casemix(_casemix_outcomes(), CONFIG, 2025, disclose=False)
    assert not result.converged
    coef = result.coefficients
    assert (coef["check"] == "not_converged").all() and coef["estimate"].isna().all()
    assert any("did not converge" in note for note in result.notes)


@pytest.mark.parametrize(("returned", "why"), [(3, "O = 3"), (12, "n − O = 3")])
def test_oe_of_a_unit_whose_counts_are_small_is_hidden_and_left_out_of_the_model(returned, why):
    # Issue 10: an O/E ratio with its exact interval was printed for a unit
    # whose indicator was hidden, and the interval gave O back. Unit E: 15
    # episodes (above min_denominator), of whom 3 (or all but 3) returned.
    outcomes = _casemix_outcomes()
    unit_e = outcomes.index[100:115]
    outcomes.loc[unit_e, "institution_id"] = "E"
    outcomes.loc[unit_e, "rtw_12m"] = [True] * returned + [False] * (15 - returned)
    from arr_stats.stats.observed_expected import oe_interval

    # The attack on the unprotected numbers: of the 16 possible O, one gives
    # the interval as printed (two decimals).
    exact = casemix(outcomes, CONFIG, 2025, disclose=False)
    e = exact.institutions.set_index("orgnr").loc["E"]
    p = exact.episodes.loc[exact.episodes["orgnr"] == "E", "expected"]
    printed = np.round([e["lower"], e["upper"]], 2)
    fits = [o for o in range(16) if (np.round(oe_interval(o, p), 2) == printed).all()]
    assert fits == [returned], why
    # Its arr_rtw12 is hidden (the same counts) ...
    from arr_stats.indicators.casemix import hidden_units

    y = outcomes["rtw_12m"].astype(float)
    assert hidden_units(outcomes["institution_id"], y, "arr_rtw12", CONFIG.disclosure) == {
        "D",
        "E",
    }
    # ... and so is its O/E: no ratio, interval or limits, and no episode of
    # E in the model (its n, the funnel lines, the shown units' E).
    result = casemix(outcomes, CONFIG, 2025)
    row = result.institutions.set_index("orgnr").loc["E"]
    assert row["suppressed"]
    assert row.drop("suppressed").isna().all()
    assert "E" not in set(result.episodes["orgnr"])
    assert result.n == 3000 - 3 - 15
    shown = result.institutions[~result.institutions["suppressed"]]
    assert sorted(shown["orgnr"]) == ["A", "B", "C"]


def test_srtw_oe_is_hidden_when_the_indicator_is_hidden_by_its_censored_episodes():
    # Unit F: 20 episodes, 17 back at work by day 365 and 3 censored before
    # it. The model sees 17 of 17 (n − O = 0), but arr_srtw counts all 20
    # (20 − 17 = 3 not back): the indicator is hidden, so the ratio is too.
    outcomes = _casemix_outcomes()
    unit_f = outcomes.index[200:220]
    outcomes.loc[unit_f, "institution_id"] = "F"
    outcomes.loc[unit_f[:17], ["rtw_event", "rtw_time"]] = [1, 100]
    outcomes.loc[unit_f[17:], ["rtw_event", "rtw_time"]] = [0, 200]
    result = casemix(outcomes, CONFIG, 2025, ind_id="arr_srtw")
    row = result.institutions.set_index("orgnr").loc["F"]
    assert row["suppressed"] and pd.isna(row["ratio"])
    assert "F" not in set(result.episodes["orgnr"])
    assert result.unknown_outcome == 0  # F's 3 censored are not counted either


def test_casemix_with_no_unit_to_show_fits_no_model():
    # One unit of 15 episodes, 3 back at work: its ratio would give O = 3,
    # so it is hidden, and with it every episode of the model.
    outcomes = _casemix_outcomes().iloc[:15].assign(institution_id="A")
    outcomes["rtw_12m"] = pd.array([True] * 3 + [False] * 12, dtype="boolean")
    result = casemix(outcomes, CONFIG, 2025)
    assert result.n == 0 and not result.converged
    assert result.coefficients.empty
    assert result.institutions["suppressed"].all() and result.institutions["ratio"].isna().all()
