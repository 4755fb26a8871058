"""Tests of arr_stats.publication.disclosure: the small-cell rules of docs/spec/disclosure.md."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arr_stats.config import DisclosureParams
from arr_stats.publication.disclosure import (
    HIDDEN_MARK,
    NATIONAL_ID_PATTERN,
    DisclosureError,
    check_no_identifiers,
    hidden_cell_ranges,
    pool_survival_steps,
    pooled_values_at,
    protect_state_occupation,
    state_grid,
    suppress_counts,
    suppress_statistics,
    suppress_with_margins,
)

PARAMS = DisclosureParams()


# --- counts and statistics -------------------------------------------------------------


def test_suppress_counts_shows_small_counts_as_below_min_cell_and_keeps_zero():
    table = pd.DataFrame({"unit": list("ABCDE"), "n": [0, 1, 4, 5, None]})
    before = table.copy()
    out = suppress_counts(table, ["n"], PARAMS)
    assert out["n"].tolist() == ["0", "<5", "<5", "5", ""]
    assert out["unit"].tolist() == list("ABCDE")
    pd.testing.assert_frame_equal(table, before)  # input untouched


def test_suppress_counts_reads_min_cell_from_params():
    table = pd.DataFrame({"n": [2, 3, 9]})
    out = suppress_counts(table, ["n"], dataclasses.replace(PARAMS, min_cell=3))
    assert out["n"].tolist() == ["<3", "3", "9"]


def test_suppress_statistics_hides_values_of_small_groups():
    table = pd.DataFrame(
        {"unit": ["A", "B", "C"], "n": [9, 10, 0], "share": [0.5, 0.3, np.nan], "lo": [0.2, 0.1, 0]}
    )
    before = table.copy()
    out = suppress_statistics(table, ["share", "lo"], "n", PARAMS)
    assert out["share"].tolist() == ["n < 10", 0.3, "n < 10"]
    assert out["lo"].tolist() == ["n < 10", 0.1, "n < 10"]
    assert out["n"].tolist() == [9, 10, 0]
    pd.testing.assert_frame_equal(table, before)


# --- two-way tables with margins ---------------------------------------------------------


def test_margins_two_by_two_hides_the_whole_inner_table():
    # Inner table and margins:
    #           Mann Kvinne | Totalt
    #   A          3     30 |  33
    #   B         20     40 |  60
    #   Totalt    23     70 |  93
    # Primary: A/Mann = 3. Without more, A/Mann = 33 − 30. Row A has one hidden
    # cell: the smallest other non-zero cell of row A is 30 (< 33) → hidden.
    # Column Mann then has one hidden cell: smallest other is B/Mann 20 (< 23).
    # Column Kvinne has one (30): smallest other is 40 (< 70). Row B: 20, 40
    # hidden with total 60 shown; hidden sum 60 ≥ 5. Margins stay shown.
    table = pd.DataFrame({"Mann": [3, 20], "Kvinne": [30, 40]}, index=["A", "B"])
    before = table.copy()
    result = suppress_with_margins(table, PARAMS)
    expected_mask = [[True, True, False], [True, True, False], [False, False, False]]
    assert result.mask.to_numpy().tolist() == expected_mask
    assert result.display.loc["A"].tolist() == [HIDDEN_MARK, HIDDEN_MARK, "33"]
    assert result.display.loc["Totalt"].tolist() == ["23", "70", "93"]
    assert result.counts.loc["Totalt", "Totalt"] == 93
    pd.testing.assert_frame_equal(table, before)


def test_margins_small_row_total_is_protected_through_the_total_column():
    # Inner table and margins:
    #           1   2   3 | Totalt
    #   A       2   0   1 |  3
    #   B      10  12   8 | 30
    #   C      15  20  25 | 60
    #   Totalt 27  32  34 | 93
    # Primary: A1 = 2, A3 = 1 and the row total A = 3.
    # Without complements column 1 gives A1 = 27 − 10 − 15 = 2.
    # Column 1: A1 alone → smallest other is B1 = 10. Column 3: A3 alone → B3 = 8.
    # Total column: A-total alone → smallest other is B-total = 30.
    # Row B then has 10, 8 and 30 hidden (its total is hidden: fine). The zero
    # A2 stays shown. Checking by hand that A1 is free: A1 + B1 = 12,
    # A3 + B3 = 9, A-total + B-total = 33, A1 + A3 = A-total,
    # B1 + B3 + 12 = B-total: 6 unknowns, rank 4, A1 can be anything in 1 … 11.
    table = pd.DataFrame(
        {"1": [2, 10, 15], "2": [0, 12, 20], "3": [1, 8, 25]}, index=["A", "B", "C"]
    )
    result = suppress_with_margins(table, PARAMS)
    hidden = {
        (r, c) for r in result.mask.index for c in result.mask.columns if result.mask.loc[r, c]
    }
    assert hidden == {
        ("A", "1"),
        ("A", "3"),
        ("A", "Totalt"),
        ("B", "1"),
        ("B", "3"),
        ("B", "Totalt"),
    }
    assert result.display.loc["A", "2"] == "0"
    ranges = hidden_cell_ranges(result.counts, result.mask).set_index(["row", "column"])
    assert ranges.loc[("A", "1"), "low"] == pytest.approx(1)
    assert ranges.loc[("A", "1"), "high"] == pytest.approx(11)
    # Without complementary suppression A1 is recovered exactly.
    primary_only = suppress_with_margins(
        table, dataclasses.replace(PARAMS, complementary_suppression=False)
    )
    ranges = hidden_cell_ranges(primary_only.counts, primary_only.mask).set_index(["row", "column"])
    assert ranges.loc[("A", "1"), "low"] == pytest.approx(2)
    assert ranges.loc[("A", "1"), "high"] == pytest.approx(2)


def test_margins_small_hidden_sum_gets_a_complement():
    # Inner table and margins:
    #           1   2   3 | Totalt
    #   A       1   1  50 |  52
    #   B      20  30  40 |  90
    #   Totalt 21  31  90 | 142
    # Primary: A1 = 1, A2 = 1. Row A has two hidden cells, but its total is
    # shown and 52 − 50 = 2: the two hidden cells sum to 2 and, being non-zero,
    # are both 1. So the smallest other non-zero cell of row A (50) is hidden.
    # Then each column has one hidden cell: B1 = 20, B2 = 30, B3 = 40 follow.
    table = pd.DataFrame({"1": [1, 20], "2": [1, 30], "3": [50, 40]}, index=["A", "B"])
    result = suppress_with_margins(table, PARAMS)
    assert result.mask.loc[["A", "B"], ["1", "2", "3"]].to_numpy().all()
    assert not result.mask.loc["Totalt"].any()
    assert not result.mask["Totalt"].any()


def test_margins_audit_catches_what_single_lines_miss():
    # Inner table:
    #           1   2   3 | Totalt
    #   A       1   6  12 | 19
    #   B       1  30  20 | 51
    #   C      12  12   2 | 26
    #   D       0   2   1 |  3
    #   Totalt 14  50  35 | 99
    # The line rules alone hide A1, A2, A-total, B1, B3, C1, C3, D2, D3,
    # D-total: every line has 0 or ≥ 2 hidden cells. Yet, by hand:
    # column 1: A1 + B1 + C1 = 14; row B: B1 + B3 = 51 − 30 = 21;
    # row C: C1 + C3 = 26 − 12 = 14; column 3: B3 + C3 + D3 = 35 − 12 = 23.
    # So B1 + C1 = 35 − (B3 + C3) = 35 − (23 − D3) = 12 + D3 and
    # A1 = 14 − 12 − D3 = 2 − D3; with A1, D3 ≥ 1 both are exactly 1.
    table = pd.DataFrame(
        {"1": [1, 1, 12, 0], "2": [6, 30, 12, 2], "3": [12, 20, 2, 1]}, index=list("ABCD")
    )
    counts = suppress_with_margins(table, PARAMS).counts
    lines_only = pd.DataFrame(False, index=counts.index, columns=counts.columns)
    for row, column in [
        ("A", "1"),
        ("A", "2"),
        ("A", "Totalt"),
        ("B", "1"),
        ("B", "3"),
        ("C", "1"),
        ("C", "3"),
        ("D", "2"),
        ("D", "3"),
        ("D", "Totalt"),
    ]:
        lines_only.loc[row, column] = True
    ranges = hidden_cell_ranges(counts, lines_only).set_index(["row", "column"])
    assert ranges.loc[("A", "1"), "determined"]
    assert ranges.loc[("D", "3"), "determined"]
    result = suppress_with_margins(table, PARAMS)
    assert (result.mask | ~lines_only).all().all()  # at least the line-rule cells
    assert not hidden_cell_ranges(result.counts, result.mask)["determined"].any()


def _linearly_determined(counts: np.ndarray, mask: np.ndarray) -> list[tuple[int, int]]:
    """Independent check: hidden cells fixed by the margin equations alone (rank test).

    A hidden cell x_k is determined iff its column in the equations restricted
    to hidden cells is not a combination of the other hidden cells' columns.
    """
    n_rows, n_cols = counts.shape
    equations = []
    for i in range(n_rows):  # each row: inner cells − total = 0
        eq = np.zeros((n_rows, n_cols))
        eq[i, :-1] = 1
        eq[i, -1] = -1
        equations.append(eq.ravel())
    for j in range(n_cols):
        eq = np.zeros((n_rows, n_cols))
        eq[:-1, j] = 1
        eq[-1, j] = -1
        equations.append(eq.ravel())
    matrix = np.array(equations)[:, mask.ravel()]
    cells = [(i, j) for i in range(n_rows) for j in range(n_cols) if mask[i, j]]
    rank = np.linalg.matrix_rank(matrix) if cells else 0
    return [
        cells[k]
        for k in range(len(cells))
        if np.linalg.matrix_rank(np.delete(matrix, k, axis=1)) < rank
    ]


small_biased_count = st.one_of(st.integers(0, 6), st.integers(0, 60))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(1, 5).flatmap(
        lambda r: st.integers(1, 5).flatmap(
            lambda c: st.lists(
                st.lists(small_biased_count, min_size=c, max_size=c), min_size=r, max_size=r
            )
        )
    ),
    st.sampled_from([3, 5]),
)
def test_margins_properties(cells, min_cell):
    params = dataclasses.replace(PARAMS, min_cell=min_cell)
    table = pd.DataFrame(cells, columns=[f"c{j}" for j in range(len(cells[0]))])
    before = table.copy()
    result = suppress_with_margins(table, params)
    pd.testing.assert_frame_equal(table, before)
    counts = result.counts.to_numpy()
    mask = result.mask.to_numpy()
    # margins are the sums of the inner cells
    assert (counts[:-1, -1] == np.asarray(cells).sum(axis=1)).all()
    # every non-zero cell below min_cell (margins included) is hidden; zeros never
    assert mask[(counts > 0) & (counts < min_cell)].all()
    assert not mask[counts == 0].any()
    # no row or column (margins included) has exactly one hidden cell
    assert (mask.sum(axis=1) != 1).all()
    assert (mask.sum(axis=0) != 1).all()
    # a line with a shown total never has a small hidden sum
    for line_counts, line_mask in [
        *zip(counts, mask, strict=True),
        *zip(counts.T, mask.T, strict=True),
    ]:
        if line_mask.any() and not line_mask[-1]:
            assert line_counts[line_mask].sum() >= min_cell
    # independent rank check: no hidden cell is fixed by the equations
    assert _linearly_determined(counts, mask) == []
    # display: hidden cells show the mark, shown cells their count
    shown = result.display.to_numpy()
    assert (shown[mask] == HIDDEN_MARK).all()
    assert (shown[~mask] == counts[~mask].astype(str)).all()


# --- survival curves ---------------------------------------------------------------------


def _naive_km(times: list[int], events: list[int], group: str = "A") -> pd.DataFrame:
    """Reference Kaplan–Meier in tidy form, written out step by step."""
    data = pd.DataFrame({"time": times, "event": events})
    rows = []
    at_risk = len(data)
    survival = 1.0
    for t in sorted(data["time"].unique()):
        at_t = data[data["time"] == t]
        d = int(at_t["event"].sum())
        c = len(at_t) - d
        survival *= 1 - d / at_risk
        rows.append(
            {
                "group": group,
                "time": t,
                "at_risk": at_risk,
                "events": d,
                "censored": c,
                "estimate": survival,
                "lower": max(0.0, survival - 0.1),
                "upper": min(1.0, survival + 0.1),
            }
        )
        at_risk -= len(at_t)
    return pd.DataFrame(rows)


def test_pool_survival_steps_by_hand():
    # 20 persons. time: events/censored → at risk before the time
    #   1: 2/0 → 20    2: 2/0 → 18    3: 1/0 → 16    4: 0/3 → 15
    #   5: 0/2 → 12    6: 3/0 → 10    7: 2/0 →  7    8: 0/5 →  5
    # Block 1: times 1–3 (5 events, 5 left) → drawn at time 3, at risk 20.
    # Block 2: time 4 (0 events, 3 left) is not enough; with time 5 it has
    #   0 events and 5 left → closes at time 5, at risk 15, flat.
    # Block 3: times 6–7 (5 events, 5 left) → drawn at time 7, at risk 10.
    # Block 4: time 8 (0 events, 5 left) → drawn at 8, at risk 5.
    times = [1, 1, 2, 2, 3, 4, 4, 4, 5, 5, 6, 6, 6, 7, 7, 8, 8, 8, 8, 8]
    events = [1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0]
    curve = _naive_km(times, events)
    before = curve.copy()
    pooled = pool_survival_steps(curve, PARAMS)
    pd.testing.assert_frame_equal(curve, before)
    assert pooled["time"].tolist() == [3, 5, 7, 8]
    assert pooled["at_risk"].tolist() == [20, 15, 10, 5]
    assert pooled["events"].tolist() == [5, 0, 5, 0]
    assert pooled["censored"].tolist() == [0, 5, 0, 5]
    # estimates at block ends are the true values: S(3) = 18/20 · 16/18 · 15/16
    # = 15/20 = 0.75; S(5) = 0.75; S(7) = 0.75 · 7/10 · 5/7 = 0.375.
    assert pooled["estimate"].tolist() == pytest.approx([0.75, 0.75, 0.375, 0.375])
    assert pooled["at_risk_label"].tolist() == ["20", "15", "10", "5"]


def test_pool_survival_steps_merges_an_unsafe_tail():
    # 12 persons: 5 events at time 1, then 2 events at time 2 and 5 censored at 3.
    # Block 1: time 1 (5 events). Then time 2 (2 events, 2 left) is not safe;
    # time 2–3 has 7 left but 2 events (1 … 4): not safe, and it is the tail, so
    # it merges with block 1 into one block (times 1–3: 7 events, 5 censored),
    # drawn at its last event, time 2, not at the censoring time 3.
    curve = _naive_km([1] * 5 + [2] * 2 + [3] * 5, [1] * 7 + [0] * 5)
    pooled = pool_survival_steps(curve, PARAMS)
    assert pooled["time"].tolist() == [2]
    assert pooled["block_end"].tolist() == [3]
    assert pooled["events"].tolist() == [7]
    assert pooled["at_risk"].tolist() == [12]
    assert pooled["estimate"].tolist() == pytest.approx([5 / 12])


def test_pool_survival_steps_drops_small_groups_and_labels_small_at_risk():
    small = _naive_km(list(range(1, 10)), [1] * 9, group="small")  # 9 persons
    big = _naive_km([1] * 5 + [2] * 5 + [3] * 4, [1] * 14, group="big")
    curve = pd.concat([small, big], ignore_index=True)
    pooled = pool_survival_steps(curve, PARAMS)
    assert set(pooled["group"]) == {"big"}
    off = pool_survival_steps(curve, dataclasses.replace(PARAMS, survival_pooling=False))
    # without pooling every step is kept; at risk 4 (before time 3) reads "<5"
    assert off["time"].tolist() == [1, 2, 3]
    assert off["at_risk_label"].tolist() == ["14", "9", "<5"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 40), st.booleans()), min_size=10, max_size=120))
def test_pooled_curve_reveals_no_small_event_count(persons):
    times = [t for t, _ in persons]
    events = [int(e) for _, e in persons]
    curve = _naive_km(times, events)
    pooled = pool_survival_steps(curve, PARAMS)
    if pooled.empty:
        return
    full = curve.set_index("time")
    # drawn steps pass through the true curve at block ends
    assert np.allclose(pooled["estimate"], full.loc[pooled["time"], "estimate"])
    # successive numbers at risk differ by the persons who left: at least min_cell
    at_risk = pooled["at_risk"].tolist()
    after_last = full.loc[pooled["block_end"].iloc[-1], "at_risk"] - (
        full.loc[pooled["block_end"].iloc[-1], ["events", "censored"]].sum()
    )
    differences = np.diff([*at_risk, after_last])
    assert (-differences >= PARAMS.min_cell).all()
    # each estimate jump covers 0 or at least min_cell events, counted from the raw data
    starts = [0, *pooled["time"].tolist()[:-1]]
    for start, end in zip(starts, pooled["time"], strict=True):
        in_block = [e for t, e in zip(times, events, strict=True) if start < t <= end]
        assert sum(in_block) == 0 or sum(in_block) >= PARAMS.min_cell
    # a KM jump over a block with no events is none at all
    estimates = [1.0, *pooled["estimate"].tolist()]
    for k, n_events in enumerate(pooled["events"]):
        if n_events == 0:
            assert estimates[k + 1] == pytest.approx(estimates[k])


def test_pooled_curve_never_draws_events_later_than_they_happened():
    # The case the output checker found: one unit's group, 12 persons.
    #   day 10: 5 RTW (at risk 12)  day 33: 1 (at risk 7)  day 150: 1 (6)
    #   day 317: 1 (5)              day 365: 4 censored (4)
    # Days 91, 183 and 365 are block boundaries.
    # (0, 91]:   day 10 closes a block (5 events); day 33 alone (1 event) is not
    #            safe and joins it: one block, days 10–33, 6 events, drawn at 33.
    # (91, 183]: day 150 (1 event) cannot be made safe: it waits.
    # (183, 365]: days 150–365 hold 2 events (1 … 4): never safe, not drawn.
    # Before this rule the whole tail was merged backwards and drawn at day 365.
    curve = _naive_km([10] * 5 + [33, 150, 317] + [365] * 4, [1] * 8 + [0] * 4)
    pooled = pool_survival_steps(curve, PARAMS)
    assert pooled["time"].tolist() == [33]
    assert pooled["block_end"].tolist() == [33]
    assert pooled["events"].tolist() == [6]
    # S(33) = 7/12 · 6/7 = 1/2
    assert pooled["estimate"].tolist() == pytest.approx([0.5])
    values = pooled_values_at(curve, PARAMS, [91, 183, 365]).set_index("time")
    # S(91) = S(33) = 0.5, exact; at 183 and 365 the estimate would count the
    # 1 and 2 events since day 33, so they are hidden.
    assert values["shown"].tolist() == [True, False, False]
    assert values.loc[91, "estimate"] == pytest.approx(0.5)
    assert values.loc[[183, 365], "estimate"].isna().all()


def test_fixed_times_are_block_boundaries():
    # 20 persons, 5 events on each of days 80, 85, 100, 190 (at risk 20, 15, 10, 5).
    # Without boundaries day 80 and 85 are two blocks anyway; the point is day
    # 100: a block may not reach back over day 91, so the estimate at 91 is
    # S(85) exactly: 15/20 · 10/15 = 0.5; at 183 it is S(100) = 0.25.
    curve = _naive_km([80] * 5 + [85] * 5 + [100] * 5 + [190] * 5, [1] * 20)
    values = pooled_values_at(curve, PARAMS, [91, 183, 365]).set_index("time")
    assert values["shown"].all()
    assert values["estimate"].tolist() == pytest.approx([0.5, 0.25, 0.0])
    # 3 events on day 90 and 2 on day 95: (0, 91] holds only the 3, which no
    # block can take, so day 91 is hidden and they are drawn with day 95's 2.
    curve = _naive_km([90] * 3 + [95] * 2 + [300] * 10, [1] * 5 + [0] * 10)
    pooled = pool_survival_steps(curve, PARAMS)
    assert pooled["time"].tolist() == [95, 300]
    assert pooled["events"].tolist() == [5, 0]
    values = pooled_values_at(curve, PARAMS, [91, 183]).set_index("time")
    assert values["shown"].tolist() == [False, True]
    assert values.loc[183, "estimate"] == pytest.approx(10 / 15)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 40), st.booleans()), min_size=10, max_size=120),
    st.lists(st.integers(1, 40), min_size=0, max_size=4),
)
def test_pooled_curve_passes_through_exact_values_at_fixed_times(persons, boundaries):
    times = [t for t, _ in persons]
    events = [int(e) for _, e in persons]
    curve = _naive_km(times, events)
    pooled = pool_survival_steps(curve, PARAMS, boundaries)
    # every drawn step is drawn at the last event it holds, never later
    previous_end = 0
    for _, step in pooled.iterrows():
        held = [
            t
            for t, e in zip(times, events, strict=True)
            if previous_end < t <= step["block_end"] and e
        ]
        if step["events"]:
            assert max(held) == step["time"]
        previous_end = step["block_end"]
    values = pooled_values_at(curve, PARAMS, sorted(set(boundaries)), boundaries)
    # a value is hidden only where it is needed: the events up to that time not
    # yet drawn are 1 … 4 (a shown value there would give their number back),
    # or nothing is drawn yet and the curve's starting level is unknown
    if not pooled.empty:
        for _, v in values[~values["shown"]].iterrows():
            happened = curve.loc[curve["time"] <= v["time"], "events"].sum()
            drawn = pooled.loc[pooled["time"] <= v["time"], "events"]
            assert happened - drawn.sum() < PARAMS.min_cell
            assert happened - drawn.sum() >= 1 or drawn.empty
    full = curve.sort_values("time")
    for _, v in values[values["shown"]].iterrows():
        exact = full.loc[full["time"] <= v["time"], "estimate"]
        assert v["estimate"] == pytest.approx(exact.iloc[-1] if len(exact) else 1.0)


# --- identifiers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["fnr 01019012345 i tabellen", "010190 12345", "<td>12345678901</td>"]
)
def test_check_no_identifiers_rejects_national_id_patterns(text):
    with pytest.raises(DisclosureError, match="11-digit"):
        check_no_identifiers(text)


def test_check_no_identifiers_accepts_ordinary_numbers():
    check_no_identifiers("Andel 52,3 % (n = 1234); år 2025; 123456789012 kr")


def test_check_no_identifiers_rejects_pseudonyms():
    ids = ["P000123", "P000124"]
    check_no_identifiers("Institusjon P0001234 og 1234", ids)  # no whole-word match
    with pytest.raises(DisclosureError, match="pseudonym"):
        check_no_identifiers("<td>P000124</td>", ids)


def test_pool_survival_steps_counts_competing_events_as_leaving():
    from arr_stats.stats.competing_risks import cumulative_incidence

    # 12 persons: RTW (1) at day 2 ×5; disability (2) at day 3 ×3, day 4 ×2; censored day 5 ×2.
    # In the curve, ``censored`` counts everyone leaving without RTW (competing included).
    # Block 1: time 0 (nobody) + day 2: 5 events → closes at day 2, at risk 12.
    # Day 3: 3 competing, 0 events → 3 left: not enough; day 3–4: 5 left, 0 events → closes
    # at day 4 (at risk 7). Day 5: 2 censored → tail unsafe → merged: one block days 3–5.
    outcomes = pd.DataFrame(
        {
            "rtw_time": [2] * 5 + [3] * 3 + [4] * 2 + [5] * 2,
            "rtw_event": [1] * 5 + [2] * 5 + [0] * 2,
        }
    )
    pooled = pool_survival_steps(cumulative_incidence(outcomes, event=1), PARAMS)
    assert pooled["time"].tolist() == [2, 5]
    assert pooled["at_risk"].tolist() == [12, 7]
    assert pooled["events"].tolist() == [5, 0]
    assert pooled["competing"].tolist() == [0, 5]
    assert pooled["censored"].tolist() == [0, 7]
    assert pooled["estimate"].tolist() == pytest.approx([5 / 12, 5 / 12])


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("fnr 01019012345.", True),  # 11 digits standing alone
        ("(010190 12345)", True),  # 6 + space + 5
        ("b3923cb201fe80c6b6cc85189167608f94621fb5", False),  # git commit with 11 digits inside
        ("sha 1234567890123", False),  # 13 digits: not an identity number
        ("n = 12345678901x", False),  # glued to a letter: part of a token
    ],
)
def test_identity_number_pattern_is_a_token_of_its_own(text, flagged):
    assert bool(NATIONAL_ID_PATTERN.search(text)) is flagged


# --- daily states -----------------------------------------------------------------------


def _occupation(counts: dict[str, int], day: int = 0, group: str = "all") -> pd.DataFrame:
    observed = sum(counts.values())
    return pd.DataFrame(
        {
            "group": group,
            "day": day,
            "state": pd.Categorical(list(counts), categories=list(counts)),
            "n": list(counts.values()),
            "n_observed": observed,
        }
    )


def test_small_states_are_merged_until_the_merged_count_is_safe():
    # 3 dead + 3 on AAP: both small, together 6 >= 5: one grey band of 6/40;
    # sick leave 0 stays 0 (a zero may be shown), working 34/40.
    occ = _occupation({"dead": 3, "aap": 3, "sick_leave_full": 0, "working": 34})
    drawn = protect_state_occupation(occ, PARAMS, [0]).set_index("state")["share"]
    assert drawn.to_dict() == pytest.approx(
        {"dead": 0, "aap": 0, "sick_leave_full": 0, "working": 34 / 40, "merged": 6 / 40}
    )
    # 1 dead alone: the merged band would be 1 person, so the smallest other
    # non-zero state (AAP, 9) joins it: 10/40; working 30/40 stays.
    occ = _occupation({"dead": 1, "aap": 9, "sick_leave_full": 0, "working": 30})
    drawn = protect_state_occupation(occ, PARAMS, [0]).set_index("state")["share"]
    assert drawn.to_dict() == pytest.approx(
        {"dead": 0, "aap": 0, "sick_leave_full": 0, "working": 30 / 40, "merged": 10 / 40}
    )


def test_days_off_the_grid_and_small_days_are_not_drawn():
    occ = pd.concat(
        [
            _occupation({"dead": 0, "working": 20}, day=0),
            _occupation({"dead": 1, "working": 19}, day=1),  # the day of a single death
            _occupation({"dead": 1, "working": 8}, day=7),  # 9 observed < min_denominator
        ],
        ignore_index=True,
    )
    drawn = protect_state_occupation(occ, PARAMS, state_grid(PARAMS, [], 7))
    assert sorted(set(drawn["day"])) == [0]


def test_drawn_daily_states_give_back_no_small_count_on_the_demo(demo_derived):
    # The attack of the output checker: share × persons observed (known from the
    # report's n, and the day-0 total) must never be a count of 1 … 4, for any
    # drawn state or the merged band, in any unit's panel; shown states are exact.
    from arr_stats import stats
    from arr_stats.derive.load import load_build

    data = load_build(demo_derived)
    outcomes = data.outcomes[data.outcomes["discharge_year"] == 2024]
    states = data.daily_states[data.daily_states["episode_id"].isin(outcomes["episode_id"])]
    occupation = stats.state_occupation(
        states, outcomes, by="institution_id", last_day=data.config.outcomes.followup_days
    )
    days = state_grid(PARAMS, data.config.outcomes.month_days.values(), 365)
    drawn = protect_state_occupation(occupation, PARAMS, days)
    assert set(drawn["day"]) <= set(days)
    truth = occupation.assign(state=occupation["state"].astype(object)).set_index(
        ["group", "day", "state"]
    )
    observed = truth["n_observed"].groupby(level=["group", "day"], observed=True).first()
    merged_somewhere = False
    for (group, day), rows in drawn.groupby(["group", "day"], observed=True):
        n_observed = observed.loc[(group, day)]
        assert n_observed >= PARAMS.min_denominator
        for state, share in zip(rows["state"].astype(object), rows["share"], strict=True):
            count = round(share * n_observed)
            assert abs(count - share * n_observed) < 1e-9
            assert count == 0 or count >= PARAMS.min_cell, (group, day, state, count)
            if state == "merged":
                merged_somewhere |= count > 0
            elif count > 0:
                assert count == truth.loc[(group, day, state), "n"]
    assert merged_somewhere, "the demo has small states; the test would be empty"
