"""arr_stats.plotting: the figures carry the expected artists, data and labels.

Runs headless on the Agg backend; every figure is also rendered to PNG so a
drawing error surfaces here and not in a report.
"""

from __future__ import annotations

import io

import matplotlib as mpl

mpl.use("Agg")

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure

from arr_stats import plotting as pl
from arr_stats import stats
from arr_stats.config import DisclosureParams
from arr_stats.domain import DEFAULT_STATE_ORDER, MERGED_STATE
from arr_stats.publication.disclosure import pool_survival_steps

TINY = pd.DataFrame({"rtw_time": [2, 2, 3, 4, 4, 6], "rtw_event": [1, 2, 0, 1, 1, 0]})


def render(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    assert buffer.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"
    return buffer.getvalue()


def two_group_outcomes(n: int = 400, seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "rtw_time": rng.integers(1, 366, n),
            "rtw_event": rng.choice([0, 1, 2, 3], n, p=[0.3, 0.5, 0.15, 0.05]),
            "diagnosis_group": pd.Categorical(
                rng.choice(["musculoskeletal", "mental"], n),
                categories=["musculoskeletal", "mental", "other", "unknown"],
            ),
        }
    )


def curve_lines(ax):
    # the step curves (the at-risk axes holds texts only)
    return [line for line in ax.get_lines() if line.get_label() and line.get_xdata().size > 1]


# --------------------------------------------------------------------------
# survival and cumulative incidence
# --------------------------------------------------------------------------


def test_survival_curve_is_drawn_as_post_steps_through_the_estimates():
    fig = pl.plot_survival(stats.kaplan_meier(TINY), at_risk=False)
    render(fig)
    (ax,) = fig.axes
    (line,) = ax.get_lines()
    assert line.get_drawstyle() == "steps-post"
    # hand-worked in test_survival: 1, 5/6 from day 2, 5/18 from day 4
    np.testing.assert_allclose(line.get_xdata(), [0, 2, 3, 4, 6])
    np.testing.assert_allclose(line.get_ydata(), [1, 5 / 6, 5 / 6, 5 / 18, 5 / 18])
    # the interval band: one filled area, itself a post-step polygon
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 1
    assert ax.get_ylabel() == "Andel ikke tilbake i arbeid"
    assert ax.get_xlabel() == "Dager etter utskrivning"


def test_pooled_curve_starts_at_the_origin_and_has_one_line_per_group():
    outcomes = two_group_outcomes()
    curve = pool_survival_steps(
        stats.cumulative_incidence(outcomes, by="diagnosis_group"), DisclosureParams()
    )
    assert (curve.groupby("group", observed=True)["time"].min() > 0).all()  # pooling drops day 0
    fig = pl.plot_cumulative_incidence(curve, lang="en")
    render(fig)
    ax = fig.axes[0]
    lines = curve_lines(ax)
    assert len(lines) == 2
    for line in lines:
        assert line.get_drawstyle() == "steps-post"
        assert line.get_xdata()[0] == 0 and line.get_ydata()[0] == 0.0
        assert np.all(np.diff(line.get_ydata()) >= 0)  # a CIF never falls
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "musculoskeletal",
        "mental health",
    ]  # labels from the data dictionary (label_en)
    assert ax.get_ylabel() == "Cumulative proportion returned to work"
    assert ax.get_xlabel() == "Days after discharge"


def test_numbers_at_risk_table_accepts_disclosed_strings():
    # a disclosed curve: counts as strings, small ones "<5"
    curve = pd.DataFrame(
        {
            "group": ["A"] * 4 + ["B"] * 3,
            "time": [0, 100, 200, 300, 0, 150, 360],
            "at_risk": ["40", "25", "12", "<5", "30", "14", "<5"],
            "estimate": [1.0, 0.8, 0.6, 0.4, 1.0, 0.7, 0.5],
            "lower": [1.0, 0.7, 0.5, 0.2, 1.0, 0.6, 0.3],
            "upper": [1.0, 0.9, 0.7, 0.6, 1.0, 0.8, 0.7],
        }
    )
    fig = pl.plot_survival(curve, at_risk_times=[0, 91, 183, 274, 365])
    render(fig)
    assert len(fig.axes) == 2
    table = fig.axes[1]
    texts = {(round(t.get_position()[0]), t.get_position()[1]): t.get_text() for t in table.texts}
    # row of A (top, y = 1): at risk at day d = the risk set of the first row at or after d
    assert [texts[(d, 1)] for d in (0, 91, 183, 274, 365)] == ["40", "25", "12", "<5", "0"]
    assert [texts[(d, 0)] for d in (0, 91, 183, 274, 365)] == ["30", "14", "<5", "<5", "0"]
    assert table.get_title(loc="left") == "Antall i risiko"
    assert [t.get_text() for t in table.get_yticklabels()] == ["B", "A"]
    assert len(curve_lines(fig.axes[0])) == 2


def test_at_risk_label_column_is_preferred():
    curve = stats.kaplan_meier(TINY).assign(at_risk_label=["6", "6", "<5", "<5", "<5"])
    fig = pl.plot_survival(curve, at_risk_times=[0, 3])
    assert [t.get_text() for t in fig.axes[1].texts] == ["6", "<5"]


def test_unknown_language_is_refused():
    with pytest.raises(ValueError, match="lang"):
        pl.plot_survival(stats.kaplan_meier(TINY), lang="sv")


# --------------------------------------------------------------------------
# state occupation
# --------------------------------------------------------------------------


def occupation_fixture() -> pd.DataFrame:
    # two groups, three days; every observed day has shares summing to 1
    rows = []
    for group, shares in {"I01": [0.5, 0.25, 0.25], "I02": [0.2, 0.3, 0.5]}.items():
        for day in range(3):
            for state in DEFAULT_STATE_ORDER:
                share = {"aap": shares[0], "sick_leave_full": shares[1], "working": shares[2]}
                rows.append((group, day, state, share.get(state, 0.0)))
    table = pd.DataFrame(rows, columns=["group", "day", "state", "share"])
    table["state"] = pd.Categorical(table["state"], categories=list(DEFAULT_STATE_ORDER))
    return table


def test_state_occupation_stacks_every_state_in_priority_order_with_fixed_colours():
    fig = pl.plot_state_occupation(occupation_fixture())
    render(fig)
    assert len(fig.axes) == 2
    for ax in fig.axes:
        areas = [c for c in ax.collections if isinstance(c, PolyCollection)]
        assert len(areas) == len(DEFAULT_STATE_ORDER)
        # drawn bottom-up from the last state (working) to the first (dead)
        drawn = [
            mpl.colors.to_hex(a.get_facecolor()[0]) for a in areas
        ]  # one colour per area, in drawing order
        assert drawn == [pl.STATE_COLOURS[s].lower() for s in reversed(DEFAULT_STATE_ORDER)]
        # the stack reaches exactly 100 %
        top = max(v[:, 1].max() for a in areas for v in [a.get_paths()[0].vertices])
        assert top == pytest.approx(1.0)
    assert [ax.get_title() for ax in fig.axes] == ["I01", "I02"]
    legend = fig.legends[0]
    assert [t.get_text() for t in legend.get_texts()] == [
        pl.LABELS["nb"]["states"][s] for s in DEFAULT_STATE_ORDER
    ]
    assert legend.get_title().get_text() == "Tilstand"


def test_state_occupation_in_english_from_the_survival_table():
    states = pd.Categorical(
        ["aap", "working", None, "working", "dead", "working"], categories=list(DEFAULT_STATE_ORDER)
    )
    daily = pd.DataFrame(
        {"episode_id": ["a", "b", "c"] * 2, "day": [0, 0, 0, 1, 1, 1], "state": states}
    )
    fig = pl.plot_state_occupation(stats.state_occupation(daily), lang="en")
    render(fig)
    (ax,) = fig.axes
    assert ax.get_xlabel() == "Days after discharge" and ax.get_ylabel() == "Share"
    assert "No benefit (working)" in [t.get_text() for t in fig.legends[0].get_texts()]


# --------------------------------------------------------------------------
# work ability and forest
# --------------------------------------------------------------------------


def test_work_ability_plot_has_one_errorbar_line_per_group():
    table = pd.DataFrame(
        {
            "group": ["mental"] * 4 + ["musculoskeletal"] * 4,
            "point": pd.Categorical(
                ["T0", "T1", "T2", "T3"] * 2, categories=["T0", "T1", "T2", "T3"]
            ),
            "n": ["40", "35", "<5", "30"] * 2,
            "mean": [3.0, 4.0, np.nan, 5.5, 4.0, 4.5, 5.0, 6.0],
            "lower": [2.5, 3.4, np.nan, 4.8, 3.5, 4.0, 4.4, 5.4],
            "upper": [3.5, 4.6, np.nan, 6.2, 4.5, 5.0, 5.6, 6.6],
        }
    )
    fig = pl.plot_work_ability(table, lang="nb")
    render(fig)
    (ax,) = fig.axes
    assert len(ax.containers) == 2
    means = [c.lines[0].get_ydata() for c in ax.containers]
    np.testing.assert_allclose(means[1], [4.0, 4.5, 5.0, 6.0])
    assert np.isnan(means[0][2])  # the suppressed mean leaves a gap
    assert [t.get_text() for t in ax.get_xticklabels()] == [
        "T0 før",
        "T1 etter",
        "T2 6 mnd",
        "T3 12 mnd",
    ]
    assert ax.get_ylabel() == "Arbeidsevne (0–10)"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "Psykiske lidelser",
        "Muskel og skjelett",
    ]


def test_forest_plot_on_a_log_axis_with_readable_terms():
    rng = np.random.default_rng(3)
    n = 500
    outcomes = pd.DataFrame(
        {
            "rtw_time": rng.integers(1, 366, n),
            "rtw_event": rng.choice([0, 1, 2], n, p=[0.4, 0.5, 0.1]),
            "diagnosis_group": pd.Categorical(
                rng.choice(["musculoskeletal", "mental", "other"], n),
                categories=["musculoskeletal", "mental", "other", "unknown"],
            ),
            "hrb_days_pre_12m": rng.integers(0, 366, n),
        }
    )
    summary = stats.cox_rtw(outcomes, covariates=["diagnosis_group", "hrb_days_pre_12m"]).summary_
    for lang, expected in {
        "nb": [
            "Diagnosegruppe: Psykiske lidelser",
            "Diagnosegruppe: Annet",
            "Dager med helserelaterte ytelser siste år før (per 30)",
        ],
        "en": [
            "Diagnosis group: mental health",
            "Diagnosis group: other",
            "Days on health-related benefits in the year before (per 30)",
        ],
    }.items():
        fig = pl.plot_forest(summary, lang=lang)
        render(fig)
        (ax,) = fig.axes
        assert ax.get_xscale() == "log"
        # first term on top
        ticks = sorted(zip(ax.get_yticks(), ax.get_yticklabels(), strict=True), key=lambda t: -t[0])
        assert [label.get_text() for _, label in ticks] == expected
        reference = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
        assert len(reference) == 1 and list(reference[0].get_xdata()) == [1.0, 1.0]
        points = ax.containers[0].lines[0]
        np.testing.assert_allclose(points.get_xdata(), summary["hazard_ratio"])
    assert fig.axes[0].get_xlabel() == "Hazard ratio (95% CI)"


def test_set_house_style_sets_the_rc_and_labels_are_in_one_place():
    with mpl.rc_context():
        mpl.rcParams["font.size"] = 20
        pl.set_house_style()
        assert mpl.rcParams["font.size"] == pl.HOUSE_RC["font.size"]
        assert mpl.rcParams["axes.prop_cycle"].by_key()["color"] == list(pl.PALETTE)
    # both languages label the same things, and every daily state has a colour and a label
    assert pl.LABELS["nb"].keys() == pl.LABELS["en"].keys()
    for lang in pl.LANGUAGES:
        assert set(pl.LABELS[lang]["states"]) == set(DEFAULT_STATE_ORDER)
    # ... and the merged small states of a protected figure have their own grey
    assert set(pl.STATE_COLOURS) == {*DEFAULT_STATE_ORDER, MERGED_STATE}
    assert len(set(pl.STATE_COLOURS.values())) == len(DEFAULT_STATE_ORDER) + 1
    assert pl.state_label(MERGED_STATE, "en") == pl.label("merged_states", "en")
    assert pl.group_label("all", "nb") == "Alle" and pl.group_label("all", "en") == "All"
