"""Results by institution (report.units): the per-unit table, the labelled funnel, the trends.

Values are worked out by hand from the outcome cohort of the demo build
(count / n per institution, the disclosure rule written out), target levels
from the configuration's thresholds written out, and the figures read back
from the matplotlib objects the report embeds.
"""

from __future__ import annotations

import html.parser
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from arr_stats import indicators
from arr_stats.derive.load import load_derived
from arr_stats.report import context, tables, units

QMD = Path(__file__).resolve().parents[1] / "reports" / "arsrapport.qmd"


@pytest.fixture(scope="module")
def edition(demo_derived, demo_delivery, demo_params, config_for):
    """``edition(institution)``: an edition of the demo build's last year and its indicators."""
    config = config_for(demo_delivery, demo_derived, demo_params.data_end)
    derived = load_derived(config, demo_derived)
    year = demo_params.years[1]
    made = {}

    def make(institution: str | None = None) -> tuple[context.ReportContext, pd.DataFrame]:
        if institution not in made:
            name = derived.institution_names().get(institution) if institution else None
            ctx = context.ReportContext(derived, year, institution, name, "fixed")
            made[institution] = (ctx, tables.indicator_table(ctx))
        return made[institution]

    return make


def _rtw12_by_hand(ctx: context.ReportContext) -> pd.DataFrame:
    """``arr_rtw12`` per institution from the outcome cohort: k / n and whether it may be shown.

    Cohort: episodes discharged in Y − 1 with an observed ``rtw_12m``.
    Shown when n ≥ min_denominator and neither k nor n − k is 1 … min_cell − 1
    (a share and its n give both counts back).
    """
    params = ctx.config.disclosure
    outcomes = ctx.derived.outcomes
    cohort = outcomes[
        (outcomes["discharge_date"].dt.year == ctx.year - 1) & outcomes["rtw_12m"].notna()
    ]
    k = cohort.groupby(cohort["institution_id"].astype(str))["rtw_12m"].sum().astype(int)
    n = cohort.groupby(cohort["institution_id"].astype(str)).size()
    out = pd.DataFrame({"k": k, "n": n})
    small = lambda count: (count >= 1) & (count < params.min_cell)  # noqa: E731
    out["shown"] = (
        (out["n"] >= params.min_denominator) & ~small(out["k"]) & ~small(out["n"] - out["k"])
    )
    return out


class _Table(html.parser.HTMLParser):
    """Rows of an HTML table: cell texts, the row's class and each cell's class."""

    def __init__(self) -> None:
        super().__init__()
        self.head: list[str] = []
        self.rows: list[dict] = []
        self._cell: list[str] | None = None
        self._in_head = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "thead":
            self._in_head = True
        if tag == "tr" and not self._in_head:
            self.rows.append({"class": a.get("class", ""), "cells": [], "cell_classes": []})
        if tag in ("td", "th"):
            self._cell = []
            if tag == "td":
                self.rows[-1]["cell_classes"].append(a.get("class", ""))

    def handle_endtag(self, tag):
        if tag == "thead":
            self._in_head = False
        if tag in ("td", "th") and self._cell is not None:
            text = "".join(self._cell).strip()
            (self.head if self._in_head else self.rows[-1]["cells"]).append(text)
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _parse(table_html: str) -> tuple[list[str], list[dict]]:
    parser = _Table()
    parser.feed(table_html)
    return parser.head, parser.rows


@pytest.mark.slow
def test_unit_table_has_a_row_per_unit_with_the_values_worked_out_by_hand(edition):
    ctx, agg = edition(None)
    params = ctx.config.disclosure
    hand = _rtw12_by_hand(ctx)
    results = units.unit_results(agg, ctx, "arr_rtw12").set_index("orgnr")
    # the demo has units on both sides of the rule, else the test would prove little
    assert hand["shown"].sum() >= 3 and (~hand["shown"]).sum() >= 1
    # every unit of the cohort has a row; units without cohort rows are hidden ones
    assert set(hand.index) <= set(results.index)
    assert not results.loc[sorted(set(results.index) - set(hand.index)), "shown"].any()
    for unit, h in hand.iterrows():
        r = results.loc[unit]
        assert bool(r["shown"]) == bool(h["shown"]), unit
        if h["shown"]:
            assert r["value"] == pytest.approx(h["k"] / h["n"], abs=1e-12)
            assert r["denominator"] == h["n"]
        else:
            assert math.isnan(r["value"]) and math.isnan(r["denominator"])
    # the same numbers as aggregate_indicators' institution rows
    inst = agg[
        (agg["year"] == ctx.year)
        & (agg["ind_id"] == "arr_rtw12")
        & (agg["unit"] == indicators.UNIT_INSTITUTION)
    ].set_index("orgnr")
    pd.testing.assert_series_equal(
        results["value"], inst.loc[results.index, "value"], check_names=False
    )

    head, rows = _parse(units.unit_results_table(agg, ctx, "arr_rtw12").data)
    assert head == ["Institusjon", "Verdi", "95\u00a0% KI", "n", "Måloppnåelse"]
    assert len(rows) == len(results) + 1  # one per unit, the nation last
    names = ctx.institution_names()
    by_name = {r["cells"][0].split(" (")[0]: r for r in rows}
    for unit, h in hand.iterrows():
        cells = by_name[names[unit]]["cells"]
        if h["shown"]:
            assert cells[1] == f"{round(100 * h['k'] / h['n'])}\u00a0%"
            assert cells[3] == str(h["n"])
        else:  # no value, interval, n or level of a hidden unit
            assert cells[1:] == [f"n < {params.min_denominator}", "–", "–", "–"]
    # the national value pools only the shown units
    shown = hand[hand["shown"]]
    national = rows[-1]["cells"]
    assert national[0] == context.NATIONAL_LABEL and rows[-1]["class"] == "total"
    assert national[1] == f"{round(100 * shown['k'].sum() / shown['n'].sum())}\u00a0%"
    assert national[3] == f"{shown['n'].sum():,}".replace(",", "\u202f")


def _level_by_hand(value: float, green: float, yellow: float, higher: bool) -> str:
    if higher:
        return (
            "level-high" if value >= green else "level-low" if value < yellow else "level-moderate"
        )
    return "level-high" if value <= green else "level-low" if value > yellow else "level-moderate"


@pytest.mark.slow
@pytest.mark.parametrize("ind_id", ["arr_rtw12", "arr_hrbdays"])
def test_target_colours_follow_the_configured_levels(edition, ind_id):
    ctx, agg = edition(None)
    target = ctx.config.targets[ind_id]
    results = units.unit_results(agg, ctx, ind_id)
    head, rows = _parse(units.unit_results_table(agg, ctx, ind_id).data)
    column = head.index("Måloppnåelse")
    seen = set()
    for (_, r), row in zip(results.iterrows(), rows, strict=False):
        css = row["cell_classes"][column]
        if not r["shown"]:
            assert "level-" not in css
            continue
        expected = _level_by_hand(
            r["value"], target.level_green, target.level_yellow, target.direction == "higher"
        )
        assert expected in css.split(), (r["name"], r["value"], css)
        seen.add(expected)
    assert len(seen) >= 2  # the demo's units reach more than one level


def _labels(fig) -> dict[str, tuple[float, float]]:
    """The point labels (annotations; a note such as "too few units" is no label)."""
    ax = fig.axes[0]
    return {t.get_text(): tuple(t.xy) for t in ax.texts if t.get_text() and hasattr(t, "xy")}


@pytest.mark.slow
@pytest.mark.parametrize("ind_id", ["arr_rtw12", "arr_srtw"])
def test_funnel_labels_exactly_the_shown_units_without_overlap(edition, ind_id):
    ctx, agg = edition(None)
    results = units.unit_results(agg, ctx, ind_id)
    shown = results[results["shown"]]
    fig = units.unit_figure(agg, ctx, ind_id)
    labels = _labels(fig)
    if not any(len(c.get_offsets()) for c in fig.axes[0].collections):
        # no funnel drawn (too few units to centre it): no label floats without its point
        assert labels == {}
        return
    assert set(labels) == set(shown["short_name"])
    for _, r in shown.iterrows():
        assert labels[r["short_name"]] == pytest.approx((r["denominator"], r["value"]))
    # the points drawn are the shown units, nothing for a hidden one
    drawn = np.concatenate(
        [c.get_offsets() for c in fig.axes[0].collections if len(c.get_offsets())]
    )
    assert sorted(map(tuple, drawn)) == sorted(
        zip(shown["denominator"], shown["value"], strict=True)
    )
    # readable: no two labels overlap, and each label is inside the axes
    renderer = units._canvas(fig)
    boxes = [t.get_window_extent(renderer) for t in fig.axes[0].texts if t.get_text()]
    area = fig.axes[0].get_window_extent(renderer)
    for i, a in enumerate(boxes):
        assert area.x0 <= a.x0 and a.x1 <= area.x1 and area.y0 <= a.y0 and a.y1 <= area.y1
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b)


@pytest.mark.slow
def test_short_names_are_unique():
    assert units.short_unit_names({"1": "Nord A", "2": "Nord B", "3": "Sør"}) == {
        "1": "Nord A",
        "2": "Nord B",
        "3": "Sør",
    }


@pytest.mark.slow
def test_institution_edition_marks_its_own_unit(edition):
    national, agg = edition(None)
    shown = units.unit_results(agg, national, "arr_rtw12")
    median = units.unit_results(agg, national, "arr_hrbdays").set_index("orgnr")["shown"]
    own = shown[shown["shown"] & shown["orgnr"].map(median)].iloc[0]
    ctx, agg = edition(own["orgnr"])
    # table: the own row (and only it) is bold, the others as in the national edition
    _, rows = _parse(units.unit_results_table(agg, ctx, "arr_rtw12").data)
    marked = [r["cells"][0].split(" (")[0] for r in rows if r["class"] == "own"]
    assert marked == [own["name"]]
    # funnel: the own unit is the highlighted point, its label bold
    fig = units.unit_figure(agg, ctx, "arr_rtw12")
    ax = fig.axes[0]
    highlighted = [c for c in ax.collections if c.get_label() == context.OWN_LABEL]
    assert len(highlighted) == 1
    assert tuple(highlighted[0].get_offsets()[0]) == pytest.approx(
        (own["denominator"], own["value"])
    )
    bold = [t.get_text() for t in ax.texts if t.get_text() and t.get_fontweight() == "bold"]
    assert bold == [own["short_name"]]
    # interval figure of a median: the own unit's name is the bold tick label
    fig = units.unit_figure(agg, ctx, "arr_hrbdays")
    ticks = fig.axes[0].get_yticklabels()
    assert [t.get_text() for t in ticks if t.get_fontweight() == "bold"] == [own["name"]]


def _hand_value(ctx: context.ReportContext, year: int, unit: str | None, rest: bool) -> float:
    """``arr_rtw12`` of report year ``year`` by hand: a unit, the rest, or the nation.

    Pools the shown units only (a hidden unit enters no pooled number).
    """
    shifted = context.ReportContext(ctx.derived, year, None, None, "fixed")
    hand = _rtw12_by_hand(shifted)
    hand = hand[hand["shown"]]
    if unit is not None and not rest:
        if unit not in hand.index:
            return math.nan
        hand = hand.loc[[unit]]
    elif rest:
        hand = hand.drop(index=unit, errors="ignore")
    return hand["k"].sum() / hand["n"].sum() if hand["n"].sum() else math.nan


@pytest.mark.slow
@pytest.mark.parametrize("which", ["national", "institution"])
def test_trend_figure_has_a_panel_per_indicator_and_the_trend_years(edition, which):
    national, agg = edition(None)
    inst = None
    if which == "institution":
        inst = units.unit_results(agg, national, "arr_rtw12").query("shown")["orgnr"].iloc[0]
    ctx, agg = edition(inst)
    fig = units.trend_figure(agg, ctx)
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert len(panels) == len(indicators.INDICATOR_NAMES) == 9
    years = ctx.trend_years
    assert len(years) == 4  # the demo starts in 2021: report years 2022–2025
    for ax in panels:  # the years on every panel, labelled on the bottom row (shared axis)
        assert list(ax.get_xticks()) == years
    assert [t.get_text() for t in panels[-1].get_xticklabels()] == [str(y) for y in years]
    first = panels[0]  # arr_rtw12
    assert first.get_title().replace("\n", " ") == indicators.INDICATOR_NAMES["arr_rtw12"]
    containers = first.containers  # one errorbar per series: its label and its data line
    lines = [c.lines[0] for c in containers]
    series = (
        [context.NATIONAL_LABEL] if which == "national" else [context.OWN_LABEL, context.REST_LABEL]
    )
    assert [c.get_label() for c in containers] == series
    for line, label in zip(lines, series, strict=True):
        expected = [
            _hand_value(ctx, y, inst, rest=label == context.REST_LABEL)
            if label != context.NATIONAL_LABEL
            else _hand_value(ctx, y, None, rest=False)
            for y in years
        ]
        assert np.asarray(line.get_ydata(), dtype=float) == pytest.approx(expected, nan_ok=True)


def _section_of(qmd: str, call: str) -> str:
    """The level-2 heading the first cell containing ``call`` stands under."""
    at = qmd.index(call)
    return re.findall(r"^## (.+?) \{", qmd[:at], flags=re.M)[-1]


def test_the_report_places_each_unit_result_in_its_section():
    from arr_stats.labels import localise_document

    qmd = localise_document(QMD.read_text(encoding="utf-8"), "nb")  # headings from the catalogue
    expected = {
        "units.trend_figure(agg, ctx)": "Sammendrag",
        'units.unit_results_table(agg, ctx, "arr_rtw12")': "Arbeidsdeltakelse",
        'units.unit_figure(agg, ctx, "arr_rtw12")': "Arbeidsdeltakelse",
        'units.unit_results_table(agg, ctx, "arr_hrbdays")': "Arbeidsdeltakelse",
        'units.unit_figure(agg, ctx, "arr_hrbdays")': "Arbeidsdeltakelse",
        'units.unit_results_table(agg, ctx, "arr_srtw")': "Tid til tilbakeføring",
        'units.unit_figure(agg, ctx, "arr_srtw")': "Tid til tilbakeføring",
        'units.unit_results_table(agg, ctx, "arr_wa_change")': "Selvrapportert arbeid og arbeidsevne",
        'units.unit_figure(agg, ctx, "arr_wa_change")': "Selvrapportert arbeid og arbeidsevne",
    }
    for call, section in expected.items():
        assert _section_of(qmd, call) == section, call
    # every figure has a caption
    for call in expected:
        if "figure" in call:
            cell = qmd[: qmd.index(call)].rsplit("```{python}", 1)[1]
            assert "#| fig-cap:" in cell and "#| label: fig-" in cell, call


@pytest.mark.slow
def test_a_first_report_year_shows_notes_not_empty_results(demo_derived, edition, demo_params):
    ctx, _ = edition(None)
    first = context.ReportContext(ctx.derived, demo_params.years[0], None, None, "fixed")
    assert first.outcome_cohort().empty
    agg = tables.indicator_table(first)
    for ind_id in indicators.OUTCOME_INDICATORS:
        for section in (units.unit_results_table, units.unit_figure):
            shown = section(agg, first, ind_id)
            assert "Ingen 12-månedersutfall å vise" in shown.data, (section.__name__, ind_id)
    fig = units.trend_figure(agg, first)  # one year, nothing hidden drawn
    assert [list(ax.get_xticks()) for ax in fig.axes if ax.get_visible()] == [[first.year]] * 9


def test_labels_of_crowded_points_neither_overlap_nor_leave_the_axes():
    # Eight units within a few pixels of each other, beside a line through them:
    # every label finds a free place (further out, with a leader line).
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5, 3.5))
    ax = fig.subplots()
    x = np.array([100, 102, 104, 101, 103, 99, 105, 100.5])
    y = np.array([0.50, 0.505, 0.50, 0.495, 0.51, 0.50, 0.495, 0.51])
    ax.scatter(x, y)
    ax.plot([50, 150], [0.5, 0.5])
    ax.set_xlim(50, 150)
    ax.set_ylim(0.3, 0.7)
    points = pd.DataFrame({"x": x, "y": y, "label": [f"Enhet {i}" for i in range(8)]})
    placed = units.label_points(ax, points)
    assert sorted(t.get_text() for t in placed) == sorted(points["label"])
    renderer = units._canvas(fig)
    boxes = [t.get_window_extent(renderer) for t in placed]
    area = ax.get_window_extent(renderer)
    dots = ax.transData.transform(np.column_stack([x, y]))
    for i, a in enumerate(boxes):
        assert area.x0 <= a.x0 and a.x1 <= area.x1 and area.y0 <= a.y0 and a.y1 <= area.y1
        assert not any(a.contains(px, py) for px, py in dots)
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b)
    # labels away from their point have a leader line (an empty annotation with an arrow)
    leaders = [t for t in ax.texts if not t.get_text()]
    assert leaders and all(t.arrow_patch is not None for t in leaders)
    # the same input gives the same places
    again = Figure(figsize=(5, 3.5)).subplots()
    again.scatter(x, y)
    again.plot([50, 150], [0.5, 0.5])
    again.set_xlim(50, 150)
    again.set_ylim(0.3, 0.7)
    assert [t.get_position() for t in units.label_points(again, points)] == [
        t.get_position() for t in placed
    ]


@pytest.mark.slow
def test_a_hidden_units_own_edition_shows_its_row_hidden_and_no_point(edition):
    national, agg = edition(None)
    results = units.unit_results(agg, national, "arr_rtw12")
    hidden = results[~results["shown"]].iloc[0]
    ctx, agg = edition(hidden["orgnr"])
    _, rows = _parse(units.unit_results_table(agg, ctx, "arr_rtw12").data)
    own = [r for r in rows if r["class"] == "own"]
    assert len(own) == 1 and own[0]["cells"][0].startswith(hidden["name"])
    assert own[0]["cells"][1:] == [f"n < {ctx.config.disclosure.min_denominator}", "–", "–", "–"]
    fig = units.unit_figure(agg, ctx, "arr_rtw12")
    ax = fig.axes[0]
    assert not [c for c in ax.collections if c.get_label() == context.OWN_LABEL]
    assert hidden["short_name"] not in _labels(fig)
    assert not [t for t in ax.texts if t.get_text() and t.get_fontweight() == "bold"]
