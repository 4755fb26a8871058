"""Results by institution: the outcome indicators per unit, the labelled funnel, the trends.

Every number here is a view of the disclosed aggregated indicators
(:func:`arr_stats.report.tables.indicator_table`): a hidden unit shows the
small-group label and gets no point, and the national and rest-of-country
values it is compared with pool only the units that are shown (as
:func:`arr_stats.indicators.aggregate_indicators` makes them).
"""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter
from matplotlib.transforms import Bbox

from arr_stats import indicators
from arr_stats.domain import DEFAULT_CLUSTER
from arr_stats.publication import disclosure
from arr_stats.report import figures
from arr_stats.report.context import (
    ReportContext,
    needs_outcome_cohort,
)
from arr_stats.report.formats import (
    LEVEL_COLOURS,
    LEVEL_KEYS,
    VALUE_FORMAT,
    HtmlBlock,
    format_interval,
    format_spread,
    format_value,
    html_table,
    level_text,
    nb_number,
    nb_percent,
    target_text,
)
from arr_stats.report.tables import _flag_text, _row, _shown, _unit_rows
from arr_stats.stats.clustering import indicator_interval_note

#: Columns of :func:`unit_results`.
UNIT_RESULT_COLUMNS = (
    "orgnr",
    "name",
    "short_name",
    "shown",
    "own",
    "value",
    "lower",
    "upper",
    "denominator",
    "level",
    "coverage_flag",
)

#: Indicators drawn as a funnel plot (value against denominator, binomial limits);
#: the others (mean, median) as a dot per unit with its interval.
FUNNEL_STATISTICS = ("proportion", "cumulative_incidence")


def short_unit_names(names: dict[str, str]) -> dict[str, str]:
    """A short label per unit: the first word of its name, or the full name where that repeats.

    Examples
    --------
    >>> short_unit_names({"1": "Fjellro rehab", "2": "Nord A", "3": "Nord B"})
    {'1': 'Fjellro', '2': 'Nord A', '3': 'Nord B'}
    """
    first = {unit: (name.split() or [name])[0] for unit, name in names.items()}
    counts = pd.Series(list(first.values()), dtype=object).value_counts()
    return {unit: word if counts[word] == 1 else names[unit] for unit, word in first.items()}


def unit_results(agg: pd.DataFrame, ctx: ReportContext, ind_id: str) -> pd.DataFrame:
    """One indicator of the report year per institution, as the report may show it.

    Parameters
    ----------
    agg
        The disclosed aggregated indicators (:func:`arr_stats.report.tables.indicator_table`).
    ctx
        The edition (its own unit is marked ``own``).
    ind_id
        Indicator id.

    Returns
    -------
    DataFrame
        :data:`UNIT_RESULT_COLUMNS`, one row per institution listed in ``agg``
        for the year, sorted by name. ``shown`` is False for a unit the
        disclosure rules hide; its value, interval, denominator and level are
        then empty. ``lower``, ``upper`` are the spread the report prints with
        the value (:func:`arr_stats.report.formats.format_spread`): the 95 %
        interval, or a median's quartiles. ``agg`` is not modified.
    """
    this = agg[
        (agg["year"] == ctx.year)
        & (agg["ind_id"] == ind_id)
        & (agg["unit"] == indicators.UNIT_INSTITUTION)
    ]
    names = ctx.institution_names()
    units = sorted(this["orgnr"].astype(str).unique(), key=lambda u: (names.get(u, u), u))
    short = short_unit_names({u: names.get(u, u) for u in units})
    rows = []
    for unit in units:
        row = _row(this[this["orgnr"].astype(str) == unit].set_index("ind_id"), ind_id)
        entry = {
            "orgnr": unit,
            "name": names.get(unit, unit),
            "short_name": short[unit],
            "shown": row is not None,
            "own": unit == ctx.institution,
        }
        low, high = _spread_columns(ind_id)
        for column, source in (
            ("value", "value"),
            ("lower", low),
            ("upper", high),
            ("denominator", "denominator"),
        ):
            entry[column] = math.nan if row is None else float(row[source])
        entry["level"] = None if row is None else row["level"]
        flag = None if row is None else row["coverage_flag"]
        entry["coverage_flag"] = flag if isinstance(flag, str) else None
        rows.append(entry)
    out = pd.DataFrame(rows, columns=list(UNIT_RESULT_COLUMNS))
    out["shown"] = out["shown"].astype(bool)
    out["own"] = out["own"].astype(bool)
    return out


def _spread_columns(ind_id: str) -> tuple[str, str]:
    """The aggregated columns of the spread shown with a value (as :func:`format_spread`).

    A median's quartiles (``q1``, ``q3``), every other indicator's 95 % interval.
    """
    if indicators.INDICATOR_STATISTIC[ind_id] == "median":
        return "q1", "q3"
    return "lower", "upper"


def _spread_name(ind_id: str, lang: str = "nb") -> str:
    """The printed name of that spread ("95 % KI" or "kvartilbredde")."""
    return format_spread(ind_id, pd.Series(dtype=float), lang)[0]


def _national(agg: pd.DataFrame, ctx: ReportContext, ind_id: str) -> pd.Series | None:
    return _row(_unit_rows(agg, ctx, ctx.year)["national"], ind_id)


@needs_outcome_cohort
def unit_results_table(agg: pd.DataFrame, ctx: ReportContext, ind_id: str) -> HtmlBlock:
    """Table of one outcome indicator per institution: value, interval, n, target level.

    The national value closes the table; the edition's own unit is in bold.
    """
    params = ctx.config.disclosure
    results = unit_results(agg, ctx, ind_id)
    lang = ctx.lang
    interval_column = _spread_name(ind_id, lang)
    interval_column = interval_column[0].upper() + interval_column[1:]
    unit_column, value_column, level_column = (
        ctx.t("col.institution"),
        ctx.t("col.value"),
        ctx.t("col.level"),
    )
    rows, levels, classes = [], [], []
    for _, r in results.iterrows():
        flag = _flag_text(r["coverage_flag"], ctx)
        name = r["name"] + (f" ({flag})" if flag else "")
        text, css = level_text(r["level"], lang) or ("–", None)
        rows.append(
            {
                unit_column: name,
                value_column: format_value(ind_id, r["value"], signed=True, lang=lang)
                if r["shown"]
                else disclosure.small_group_label(params),
                interval_column: format_interval(ind_id, r["lower"], r["upper"], lang)
                if r["shown"]
                else "–",
                "n": ctx.number(r["denominator"]) if r["shown"] else "–",
                level_column: text,
            }
        )
        levels.append(css)
        classes.append("own" if r["own"] else "")
    national = _national(agg, ctx, ind_id)
    text, css = level_text(None if national is None else national["level"], lang) or ("–", None)
    rows.append(
        {
            unit_column: ctx.national_label,
            value_column: _shown(national, ind_id, params, lang),
            interval_column: "–" if national is None else format_spread(ind_id, national, lang)[1],
            "n": "–" if national is None else ctx.number(national["denominator"]),
            level_column: text,
        }
    )
    levels.append(css)
    classes.append("total")
    table = pd.DataFrame(rows)
    return html_table(
        table,
        caption=ctx.t(
            "units.caption",
            name=ctx.t(f"indicator.{ind_id}"),
            year=ctx.year,
            discharged=ctx.year - 1,
        ),
        numeric=[value_column, interval_column, "n"],
        row_classes=classes,
        cell_classes={level_column: levels},
        note=ctx.t(
            "units.note",
            target=target_text(ind_id, ctx.config, lang),
            label=disclosure.small_group_label(params),
        )
        + (f" {indicator_interval_note(DEFAULT_CLUSTER, lang)}" if _has_interval(ind_id) else ""),
    )


def _has_interval(ind_id: str) -> bool:
    """Whether the indicator's spread is a confidence interval (not the median's quartiles)."""
    return indicators.INTERVAL_KIND[indicators.INDICATOR_STATISTIC[ind_id]] is not None


# ---------------------------------------------------------------- figures


def _canvas(fig: Figure) -> RendererAgg:
    """The Agg renderer of ``fig`` (text sizes for label placement)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    return canvas.get_renderer()


#: Label offsets (points) tried in turn: beside the point first, further out after.
_LABEL_OFFSETS: tuple[tuple[float, float], ...] = tuple(
    (r * dx, r * dy)
    for r in (1.0, 2.0, 3.2, 4.6)
    for dx, dy in ((7, 0), (-7, 0), (0, 7), (0, -7), (6, 6), (-6, 6), (6, -6), (-6, -6))
)


#: How many of :data:`_LABEL_OFFSETS` (the two nearest rings) are tried clear of the lines.
_NEAR_OFFSETS = 16


def _overlaps(box: Bbox, boxes: list[Bbox]) -> bool:
    return any(box.overlaps(other) for other in boxes)


def _line_pixels(ax: Axes, step: float = 2.0) -> np.ndarray:
    """Points every ``step`` pixels along the lines drawn in ``ax`` (limits, centre line)."""
    pieces = [np.empty((0, 2))]
    for line in ax.get_lines():
        xy = line.get_transform().transform(np.asarray(line.get_xydata(), dtype=float))
        xy = xy[np.isfinite(xy).all(axis=1)]
        for a, b in zip(xy[:-1], xy[1:], strict=True):
            count = max(2, int(np.hypot(*(b - a)) / step) + 1)
            pieces.append(a + np.linspace(0.0, 1.0, count)[:, None] * (b - a))
    return np.concatenate(pieces)


def _crosses(box: Bbox, pixels: np.ndarray) -> bool:
    inside = (
        (pixels[:, 0] >= box.x0)
        & (pixels[:, 0] <= box.x1)
        & (pixels[:, 1] >= box.y0)
        & (pixels[:, 1] <= box.y1)
    )
    return bool(inside.any())


def label_points(
    ax: Axes, points: pd.DataFrame, own: str | None = None, obstacles: list | None = None
) -> list:
    """Label scatter points so that no two labels, and no label and point, overlap.

    A deterministic greedy placement: points are taken in order of ``x`` then
    ``y``; each label goes to the first of :data:`_LABEL_OFFSETS` where it
    lies inside the axes and clear of every point, every placed label and
    the ``obstacles`` (display-space boxes, e.g. the legend) – preferring the
    nearest places that also keep clear of the drawn lines (control limits,
    centre line). A label set away from its point gets a thin leader line.
    Where no place is free the nearest offset is used.

    Parameters
    ----------
    ax
        Axes with the points drawn and the limits final.
    points
        ``x, y, label`` (and ``orgnr`` to find ``own``).
    own
        ``orgnr`` of the unit whose label is bold.
    obstacles
        Further display-space boxes to keep clear of.

    Returns
    -------
    list
        The annotations, in the order placed.
    """
    fig = ax.figure
    renderer = _canvas(fig)
    ax.set_xlim(ax.get_xlim())  # freeze: the transform must not move while placing
    ax.set_ylim(ax.get_ylim())
    order = points.sort_values(["x", "y", "label"], kind="mergesort")
    xy = ax.transData.transform(order[["x", "y"]].to_numpy(dtype=float))
    # half a marker in pixels; the own unit's highlighted marker is larger
    pads = [
        (6.0 if own is not None and str(o) == own else 4.0) * fig.dpi / 72
        for o in order.get("orgnr", pd.Series([None] * len(order)))
    ]
    taken = [
        Bbox.from_extents(px - pad, py - pad, px + pad, py + pad)
        for (px, py), pad in zip(xy, pads, strict=True)
    ]
    taken += list(obstacles or [])
    area = ax.get_window_extent(renderer)
    lines = _line_pixels(ax)
    placed = []
    for _, p in order.iterrows():
        bold = own is not None and str(p.get("orgnr")) == own
        ann = ax.annotate(
            str(p["label"]),
            xy=(p["x"], p["y"]),
            textcoords="offset points",
            xytext=_LABEL_OFFSETS[0],
            fontsize=8,
            fontweight="bold" if bold else "normal",
            color="#222",
            # readable where it crosses a control limit or the centre line
            bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.8},
            zorder=5,
        )
        chosen = None
        # near places clear of the drawn lines first, then any place clear of points and labels
        tries = [(o, True) for o in _LABEL_OFFSETS[:_NEAR_OFFSETS]]
        tries += [(o, False) for o in _LABEL_OFFSETS]
        for (dx, dy), clear_of_lines in tries:
            ann.set_position((dx, dy))
            ann.set_ha("left" if dx > 0 else "right" if dx < 0 else "center")
            ann.set_va("bottom" if dy > 0 else "top" if dy < 0 else "center")
            box = ann.get_window_extent(renderer)
            inside = area.x0 <= box.x0 and box.x1 <= area.x1 and area.y0 <= box.y0
            if not (inside and box.y1 <= area.y1) or _overlaps(box, taken):
                continue
            if clear_of_lines and _crosses(box, lines):
                continue
            chosen = (dx, dy)
            break
        if chosen is None:  # crowded: the first place, over whatever is there
            chosen = _LABEL_OFFSETS[0]
            ann.set_position(chosen)
            ann.set_ha("left")
            ann.set_va("center")
        if math.hypot(*chosen) > 10:
            ax.annotate(
                "",
                xy=(p["x"], p["y"]),
                xytext=chosen,
                textcoords="offset points",
                arrowprops={"arrowstyle": "-", "color": "#888", "lw": 0.6, "shrinkA": 0},
                zorder=4,
            )
        taken.append(ann.get_window_extent(renderer))
        placed.append(ann)
    return placed


@needs_outcome_cohort
def unit_funnel_figure(agg: pd.DataFrame, ctx: ReportContext, ind_id: str) -> Figure:
    """The funnel plot of :func:`arr_stats.report.figures.funnel_figure` with every point named.

    The points are the units :func:`unit_results` shows, labelled with their
    short names (:func:`short_unit_names`); the edition's own unit is the
    highlighted point with a bold label. Only for proportion-type indicators
    (:data:`FUNNEL_STATISTICS`); the limits treat a cumulative incidence as a
    proportion of its cohort.
    """
    if indicators.INDICATOR_STATISTIC[ind_id] not in FUNNEL_STATISTICS:
        raise ValueError(f"{ind_id} is not a proportion: use unit_interval_figure")
    fig = figures.funnel_figure(agg, ctx, ind_id)  # the one place the limits are drawn
    results = unit_results(agg, ctx, ind_id)
    shown = results[results["shown"]]
    if shown.empty or not fig.axes:
        return fig
    ax = fig.axes[0]
    if not any(len(c.get_offsets()) for c in ax.collections):
        return fig  # no funnel drawn (no national value to centre it): no point to name
    legend = ax.get_legend()
    if legend is not None:  # under the axes, out of the labels' way; the note stays at the foot
        handles, texts = ax.get_legend_handles_labels()
        legend.remove()
        fig.set_size_inches(7.0, 5.4)
        fig.subplots_adjust(bottom=0.3)
        fig.legend(
            handles,
            texts,
            loc="lower center",
            bbox_to_anchor=(0.5, 0.075),
            ncol=2,
            fontsize=8,
            frameon=False,
        )
    # room for labels at the ends of the axis
    low, high = ax.get_xlim()
    ax.set_xlim(low, high + 0.08 * (high - low))
    points = shown.assign(x=shown["denominator"], y=shown["value"], label=shown["short_name"])
    label_points(ax, points, own=ctx.institution)
    return fig


def _level_bands(ax: Axes, ind_id: str, ctx: ReportContext, vertical: bool) -> None:
    """Shade the target levels (high, moderate, low) behind the data."""
    target = ctx.config.targets[ind_id]
    green, yellow = float(target.level_green), float(target.level_yellow)
    lo, hi = ax.get_xlim() if vertical else ax.get_ylim()
    lo, hi = min(lo, yellow, green), max(hi, yellow, green)
    span = hi - lo
    lo, hi = lo - 0.05 * span, hi + 0.05 * span
    if target.direction == "higher":
        bands = (
            ("level-low", lo, yellow),
            ("level-moderate", yellow, green),
            ("level-high", green, hi),
        )
    else:
        bands = (
            ("level-high", lo, green),
            ("level-moderate", green, yellow),
            ("level-low", yellow, hi),
        )
    draw = ax.axvspan if vertical else ax.axhspan
    for css, a, b in bands:
        draw(a, b, color=LEVEL_COLOURS[css], alpha=0.55, lw=0, zorder=0)
    (ax.set_xlim if vertical else ax.set_ylim)(lo, hi)


def _value_formatter(ind_id: str, lang: str = "nb") -> FuncFormatter:
    """Axis ticks in the indicator's unit (:data:`arr_stats.report.formats.VALUE_FORMAT`)."""
    kind = VALUE_FORMAT.get(ind_id, "share")
    if kind == "share":
        return FuncFormatter(lambda v, _: nb_percent(v, 0, lang))
    decimals = 1 if kind == "points" else 0
    return FuncFormatter(lambda v, _: nb_number(v, decimals, lang))


@needs_outcome_cohort
def unit_interval_figure(agg: pd.DataFrame, ctx: ReportContext, ind_id: str) -> Figure:
    """Each shown unit's value with its interval, beside the national value and the target levels.

    For the mean and median indicators, where a binomial funnel does not
    apply: one row per unit, named on the axis; the edition's own unit is
    highlighted.
    """
    import matplotlib as mpl

    from arr_stats.plotting import HOUSE_RC, PALETTE

    results = unit_results(agg, ctx, ind_id)
    shown = results[results["shown"]].sort_values(["value", "name"], kind="mergesort")
    national = _national(agg, ctx, ind_id)
    with mpl.rc_context(HOUSE_RC):
        fig = Figure(figsize=(7.0, 0.9 + 0.32 * max(len(shown), 3)))
        ax = fig.subplots()
        if shown.empty:
            ax.text(0.5, 0.5, ctx.t("figure.too_few"), ha="center", transform=ax.transAxes)
            return fig
        y = np.arange(len(shown))
        colours = [PALETTE[1] if own else PALETTE[0] for own in shown["own"]]
        ax.errorbar(
            shown["value"],
            y,
            xerr=[shown["value"] - shown["lower"], shown["upper"] - shown["value"]],
            fmt="none",
            ecolor="#555",
            elinewidth=1,
            capsize=2,
            zorder=2,
        )
        ax.scatter(
            shown["value"], y, c=colours, s=[60 if o else 30 for o in shown["own"]], zorder=3
        )
        if national is not None:
            ax.axvline(
                national["value"],
                color="#222",
                lw=1,
                label=ctx.t(
                    "figure.national_value",
                    value=format_value(ind_id, national["value"], lang=ctx.lang),
                ),
            )
        ax.set_yticks(y, shown["name"].tolist())
        for tick, own in zip(ax.get_yticklabels(), shown["own"], strict=True):
            if own:
                tick.set_fontweight("bold")
        ax.set_ylim(-0.6, len(shown) - 0.4)
        ax.grid(axis="y", visible=False)
        _level_bands(ax, ind_id, ctx, vertical=True)
        ax.xaxis.set_major_formatter(_value_formatter(ind_id, ctx.lang))
        ax.set_xlabel(f"{ctx.t(f'indicator.{ind_id}')} ({_spread_name(ind_id, ctx.lang)})")
        if national is not None:
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), fontsize=8, frameon=False)
    return fig


def unit_figure(agg: pd.DataFrame, ctx: ReportContext, ind_id: str) -> Figure:
    """The figure beside :func:`unit_results_table`: funnel for shares, intervals otherwise."""
    if indicators.INDICATOR_STATISTIC[ind_id] in FUNNEL_STATISTICS:
        return unit_funnel_figure(agg, ctx, ind_id)
    return unit_interval_figure(agg, ctx, ind_id)


def trend_points(agg: pd.DataFrame, ctx: ReportContext) -> pd.DataFrame:
    """The values drawn in :func:`trend_figure`: shown values only, per indicator, series, year.

    Returns
    -------
    DataFrame
        ``ind_id, series, year, value, lower, upper`` (the 95 % interval, or a
        median's quartiles, as :func:`unit_results`); ``series`` is the
        edition's own unit and "resten av landet" in an institution edition,
        the nation in the national edition. A hidden value has no row.
    """
    years = ctx.trend_years or [ctx.year]
    which = (
        {"own": ctx.national_label}
        if ctx.is_national
        else {"own": ctx.own_label, "rest": ctx.rest_label}
    )
    rows = []
    for year in years:
        units = _unit_rows(agg, ctx, year)
        for ind_id in indicators.INDICATOR_NAMES:
            for key, label in which.items():
                row = _row(units[key], ind_id)
                if row is None:
                    continue
                rows.append(
                    {
                        "ind_id": ind_id,
                        "series": label,
                        "year": year,
                        "value": float(row["value"]),
                        "lower": float(row[_spread_columns(ind_id)[0]]),
                        "upper": float(row[_spread_columns(ind_id)[1]]),
                    }
                )
    return pd.DataFrame(rows, columns=["ind_id", "series", "year", "value", "lower", "upper"])


def trend_figure(agg: pd.DataFrame, ctx: ReportContext) -> Figure:
    """Small multiples: each indicator over the trend years, with intervals and target levels.

    One panel per indicator (:data:`arr_stats.indicators.INDICATOR_NAMES`), the
    years of :attr:`ReportContext.trend_years` on every x-axis. The national
    edition draws the nation; an institution edition its own unit against
    the rest of the country. A hidden value is not drawn (the line breaks).
    """
    import matplotlib as mpl

    from arr_stats.plotting import HOUSE_RC, PALETTE

    points = trend_points(agg, ctx)
    years = ctx.trend_years or [ctx.year]
    ids = list(indicators.INDICATOR_NAMES)
    series = [ctx.national_label] if ctx.is_national else [ctx.own_label, ctx.rest_label]
    ncols = 3
    nrows = math.ceil(len(ids) / ncols)
    with mpl.rc_context(HOUSE_RC):
        fig = Figure(figsize=(7.4, 2.15 * nrows + 0.5))
        axes = fig.subplots(nrows, ncols, squeeze=False, sharex=True)
        for i, ind_id in enumerate(ids):
            ax = axes.flat[i]
            for j, label in enumerate(series):
                part = points[(points["ind_id"] == ind_id) & (points["series"] == label)]
                line = pd.DataFrame({"year": years}).merge(part, on="year", how="left")
                value, lower, upper = (
                    line[c].to_numpy(dtype=float) for c in ("value", "lower", "upper")
                )
                offset = 0.0 if len(series) == 1 else (j - 0.5) * 0.12
                colour = PALETTE[0] if j == 0 else PALETTE[5]
                ax.errorbar(
                    line["year"].to_numpy(dtype=float) + offset,
                    value,
                    yerr=np.vstack([value - lower, upper - value]),
                    color=colour,
                    marker="o" if j == 0 else "s",
                    ms=3.5,
                    lw=1.3,
                    elinewidth=0.8,
                    capsize=0,
                    label=label,
                    zorder=3,
                )
            ax.set_title("\n".join(textwrap.wrap(ctx.t(f"indicator.{ind_id}"), 28)), fontsize=9)
            _level_bands(ax, ind_id, ctx, vertical=False)
            ax.yaxis.set_major_formatter(_value_formatter(ind_id, ctx.lang))
            ax.yaxis.set_major_locator(mpl.ticker.MaxNLocator(4, steps=[1, 2, 5, 10]))
            ax.set_xticks(years, [str(y) for y in years])
            ax.set_xlim(years[0] - 0.5, years[-1] + 0.5)
            ax.tick_params(labelsize=7.5)
            ax.grid(axis="x", visible=False)
        for ax in axes.flat[len(ids) :]:
            ax.set_visible(False)
        handles, labels = axes.flat[0].get_legend_handles_labels()
        levels = [level_text(level, ctx.lang) for level in LEVEL_KEYS]
        handles += [mpl.patches.Patch(color=LEVEL_COLOURS[css]) for _, css in levels]
        labels += [ctx.t("units.level_legend", level=text.lower()) for text, _ in levels]
        fig.legend(
            handles, labels, loc="lower center", ncol=len(labels), fontsize=7.5, frameon=False
        )
        fig.tight_layout(rect=(0, 0.05, 1, 1), h_pad=0.8, w_pad=0.6)
    return fig
