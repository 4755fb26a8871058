"""Intervals grouped by person: hand-worked cases, the one-episode identities, the wiring.

The comparison with R (a sandwich of ``lm(y ~ 1)`` written by hand, ``nlme::lme``
with episodes nested in persons) is in ``tests/test_r_reference.py``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from arr_stats import stats
from arr_stats.derive.load import load_build
from arr_stats.indicators.aggregate import aggregate_indicators
from arr_stats.indicators.definitions import INDICATOR_STATISTIC, UNIT_NATIONAL, _episode_values
from arr_stats.stats.clustering import (
    INDICATOR_INTERVAL_NOTES,
    OE_INTERVAL_NOTES,
    indicator_interval_note,
)
from arr_stats.stats.intervals import (
    clustered_wilson_interval,
    grouped_mean_variance,
    grouped_wilson_interval,
    t_summary,
    wilson_interval,
)

Z = 1.959963984540054


def _wilson_by_hand(p: float, n: float) -> tuple[float, float]:
    centre = (p + Z**2 / (2 * n)) / (1 + Z**2 / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z**2 / (4 * n**2)) / (1 + Z**2 / n)
    return (centre - half, centre + half)


def test_grouped_wilson_by_hand():
    # persons a (1, 1), b (0), c (1): p = 3/4; residuals 1/4, 1/4 | −3/4 | 1/4,
    # summed per person 1/2, −3/4, 1/4 → v = (1/4 + 9/16 + 1/16)/16 = 7/128;
    # n_eff = (3/16)/(7/128) = 24/7 (< 4 episodes: the two of a count as less)
    y, persons = [1, 1, 0, 1], ["a", "a", "b", "c"]
    variance, groups = grouped_mean_variance(y, persons, small_sample=False)
    assert variance == pytest.approx(7 / 128, abs=1e-15) and groups == 3
    got = grouped_wilson_interval(y, persons)
    assert got == pytest.approx(_wilson_by_hand(0.75, 24 / 7), abs=1e-12)
    assert got[1] - got[0] > np.subtract(*wilson_interval(3, 4)[::-1])


def test_grouped_wilson_with_one_episode_per_person_is_plain_wilson():
    rng = np.random.default_rng(3)
    y = (rng.random(57) < 0.3).astype(float)
    persons = [f"p{i}" for i in range(57)]
    assert grouped_wilson_interval(y, persons) == pytest.approx(
        wilson_interval(float(y.sum()), 57), abs=1e-12
    )
    assert grouped_wilson_interval(y) == wilson_interval(float(y.sum()), 57)


def test_grouped_wilson_credits_no_design_effect_below_one():
    # each person one 1 and one 0: per-person residual sums are 0, v = 0 < p(1 − p)/n;
    # n_eff is capped at the n = 4 episodes (Korn & Graubard), so plain Wilson
    y, persons = [1, 0, 1, 0], ["a", "a", "b", "b"]
    assert grouped_mean_variance(y, persons, small_sample=False)[0] == 0.0
    assert grouped_wilson_interval(y, persons) == pytest.approx(wilson_interval(2, 4), abs=1e-12)
    # all yes: v = 0, n_eff = n, the interval of 3 of 3
    assert grouped_wilson_interval([1, 1, 1], ["a", "a", "b"]) == pytest.approx(
        wilson_interval(3, 3), abs=1e-12
    )
    assert all(math.isnan(v) for v in grouped_wilson_interval([], []))
    assert all(math.isnan(v) for v in grouped_wilson_interval([0.5, 1], ["a", "b"]))


def test_grouped_t_interval_by_hand():
    # values 1, 3 (person a), 2 (b), 6 (c): mean 3, residuals −2, 0 | −1 | 3, sums
    # −2, −1, 3 → Σ² = 14; se² = 3/2 · 14/16 = 21/16; t on 3 − 1 = 2 df
    summary = t_summary([1, 3, 2, 6], cluster=["a", "a", "b", "c"])
    half = sps.t.ppf(0.975, 2) * math.sqrt(21 / 16)
    assert summary["mean"] == 3.0 and summary["n"] == 4
    assert summary["sd"] == pytest.approx(np.std([1, 3, 2, 6], ddof=1), abs=1e-15)
    assert (summary["lower"], summary["upper"]) == pytest.approx((3 - half, 3 + half), abs=1e-12)
    # one value per person: the ordinary t interval
    plain = t_summary([1, 3, 2, 6])
    singles = t_summary([1, 3, 2, 6], cluster=["a", "b", "c", "d"])
    assert (singles["lower"], singles["upper"]) == pytest.approx(
        (plain["lower"], plain["upper"]), abs=1e-12
    )
    # one person: no variance between persons can be estimated
    assert math.isnan(t_summary([1, 2], cluster=["a", "a"])["lower"])
    with pytest.raises(ValueError, match="missing"):
        t_summary([1, 2], cluster=["a", None])


def test_item_share_grouped_by_person_by_hand():
    # shares 1, 0.5 (person a), 0.75 (b), 1 (c), 4 items each: p = 0.8125;
    # residuals 0.1875, −0.3125 | −0.0625 | 0.1875 → sums −0.125, −0.0625, 0.1875;
    # Σ² = 0.015625 + 0.00390625 + 0.03515625 = 0.0546875; v = 3/2 · Σ²/16;
    # n_eff = p(1 − p)/v = 29.71: above 4 · 4 = 16 items (capped there), below 4 · 100
    shares, persons = [1, 0.5, 0.75, 1], ["a", "a", "b", "c"]
    v = 1.5 * 0.0546875 / 16
    n_eff = 0.8125 * 0.1875 / v
    assert n_eff == pytest.approx(29.714285714, abs=1e-8)
    got = clustered_wilson_interval(shares, 100, cluster=persons)
    assert got == pytest.approx(_wilson_by_hand(0.8125, n_eff), abs=1e-12)
    got = clustered_wilson_interval(shares, 4, cluster=persons)
    assert got == pytest.approx(_wilson_by_hand(0.8125, 16), abs=1e-12)
    # one episode per person: the episodes-only interval (s²/n)
    assert clustered_wilson_interval(shares, 4, cluster=list("abcd")) == pytest.approx(
        clustered_wilson_interval(shares, 4), abs=1e-12
    )


def test_work_ability_change_grouped_by_person_by_hand():
    # changes 3 (e1, person a), 1 (e2, a), 2 (e3, b), 6 (e4, c)
    responses = pd.DataFrame(
        {
            "episode_id": ["e1", "e2", "e3", "e4"] * 2,
            "point": ["T0"] * 4 + ["T3"] * 4,
            "work_ability": [2, 4, 6, 1, 5, 5, 8, 7],
        }
    )
    episodes = pd.DataFrame({"episode_id": ["e1", "e2", "e3", "e4"], "person_id": list("aabc")})
    fitted = stats.WorkAbilityChange().fit(responses, episodes)
    row = fitted.table_.iloc[0]
    want = t_summary([3, 1, 2, 6], cluster=["a", "a", "b", "c"])
    assert fitted.cluster_ == "person_id"
    assert (row["lower"], row["upper"]) == pytest.approx((want["lower"], want["upper"]), abs=1e-12)
    # without persons: the paired t interval, and cluster_ says so
    alone = stats.WorkAbilityChange().fit(responses)
    assert alone.cluster_ is None
    assert alone.table_.iloc[0]["upper"] == pytest.approx(t_summary([3, 1, 2, 6])["upper"])
    by_point = stats.work_ability_by_point(responses, episodes=episodes)
    t3 = by_point[by_point["point"] == "T3"].iloc[0]
    assert t3["upper"] == pytest.approx(t_summary([5, 5, 8, 7], cluster=list("aabc"))["upper"])


def test_indicator_footnote_names_the_grouping():
    assert "gruppert på person" in indicator_interval_note("person_id")
    assert "uavhengige" in indicator_interval_note(None)
    assert "independent" in indicator_interval_note(None, "en")
    assert set(INDICATOR_INTERVAL_NOTES) == set(OE_INTERVAL_NOTES) == {"nb", "en"}
    assert "uavhengige" in OE_INTERVAL_NOTES["nb"]
    with pytest.raises(ValueError):
        indicator_interval_note(None, "de")


def test_aggregated_intervals_are_grouped_by_person_by_default(demo_derived):
    derived = load_build(demo_derived)
    years = sorted(set(derived.episodes["discharge_year"]))
    tables = (derived.episodes, derived.responses, derived.outcomes, derived.institutions)
    grouped = aggregate_indicators(*tables, derived.config, years, disclose=False)
    naive = aggregate_indicators(*tables, derived.config, years, disclose=False, cluster=None)
    checked = set()
    for year in years:
        values = _episode_values(
            derived.episodes, derived.responses, derived.outcomes, derived.config, year
        )
        for ind_id, kind in INDICATOR_STATISTIC.items():
            x = values[(values["ind_id"] == ind_id) & values["var"].notna()]
            if kind not in ("proportion", "mean", "item_share") or len(x) < 2:
                continue
            y, persons = x["var"].to_numpy(), x["person_id"].to_numpy()
            if kind == "proportion":
                want, plain = grouped_wilson_interval(y, persons), grouped_wilson_interval(y)
            elif kind == "mean":
                g, p = t_summary(y, cluster=persons), t_summary(y)
                want, plain = (g["lower"], g["upper"]), (p["lower"], p["upper"])
            else:
                items = int(x["items"].iloc[0])
                want = clustered_wilson_interval(y, items, cluster=persons)
                plain = clustered_wilson_interval(y, items)
            at = (grouped["ind_id"] == ind_id) & (grouped["year"] == year)
            at &= grouped["unit"] == UNIT_NATIONAL
            assert (grouped.loc[at, "lower"].item(), grouped.loc[at, "upper"].item()) == (
                pytest.approx(want, abs=1e-12)
            )
            assert (naive.loc[at, "lower"].item(), naive.loc[at, "upper"].item()) == (
                pytest.approx(plain, abs=1e-12)
            )
            if x["person_id"].duplicated().any():
                checked.add(ind_id)
    # some national cohort has a person with two episodes, and there the two differ
    assert checked
    width = grouped["upper"] - grouped["lower"]
    naive_width = naive["upper"] - naive["lower"]
    assert ((width - naive_width).abs() > 1e-9).any()
