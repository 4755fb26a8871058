"""The house style for figures, and the report's standard plots.

Every function takes a tidy, already disclosed table (from
:mod:`arr_stats.stats`, passed through :mod:`arr_stats.publication.disclosure`) and
returns a :class:`matplotlib.figure.Figure`; nothing is shown or saved here.
Figures are built without pyplot, so they work headless (Agg) and leave no
global figure state behind. Labels are Norwegian bokmål by default and
English with ``lang="en"``; every label is in :data:`LABELS` (state names,
axis titles, from :mod:`arr_stats.labels`) or in the data dictionary (diagnosis groups).

Counts (numbers at risk, n) may arrive as strings such as ``"<5"`` from the
disclosure module; they are printed as they are.

Examples
--------
>>> import pandas as pd
>>> from arr_stats.stats import kaplan_meier
>>> outcomes = pd.DataFrame({"rtw_time": [2, 2, 3, 4, 4, 6],
...                          "rtw_event": [1, 2, 0, 1, 1, 0]})
>>> fig = plot_survival(kaplan_meier(outcomes), lang="en")
>>> fig.axes[0].get_xlabel()
'Days after discharge'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullLocator

from arr_stats import labels as _catalogue
from arr_stats.dictionary import load_dictionary
from arr_stats.domain import DEFAULT_STATE_ORDER, MERGED_STATE, month_day
from arr_stats.labels import LANGUAGES

_DICTIONARY = load_dictionary()

#: Every label the figures print, by language: axis titles from the label
#: catalogue (:mod:`arr_stats.labels`, keys ``plot.*``); the labels of
#: the daily states (``states``) and of the ``rtw_event`` codes (``events``)
#: from the data dictionary (codelists/states.yaml, codelists/rtw_events.yaml),
#: added below; diagnosis-group labels from codelists/diagnosis_groups.yaml.
LABELS: dict[str, dict[str, Any]] = {
    lang: {
        **{k: v for k, v in _catalogue.group("plot", lang).items() if "." not in k},
        "points": _catalogue.group("plot.points", lang),
        "variables": _catalogue.group("plot.variables", lang),
    }
    for lang in LANGUAGES
}

for _lang, _key in (("nb", "label"), ("en", "label_en")):
    LABELS[_lang]["states"] = {s: v[_key] for s, v in _DICTIONARY.states.items()}
    LABELS[_lang]["events"] = {code: v[_key] for code, v in _DICTIONARY.rtw_events.items()}

#: One colour per daily state, the same in every figure (codelists/states.yaml);
#: the merged small states of a protected figure are light grey.
STATE_COLOURS: dict[str, str] = {s: v["colour"] for s, v in _DICTIONARY.states.items()}
STATE_COLOURS[MERGED_STATE] = "#d9d9d9"

#: Group colours (Okabe–Ito, readable with colour-vision deficiency).
PALETTE: tuple[str, ...] = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#000000",
)

#: Days of the x-axis ticks (and default numbers-at-risk columns): 0, 3, 6, 9
#: and 12 months by outcomes.md's rule round(m × 365.25 / 12).
MONTH_TICKS: tuple[int, ...] = tuple(month_day(m) for m in (0, 3, 6, 9, 12))

#: matplotlib settings of the house style.
HOUSE_RC: dict[str, Any] = {
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e5e5e5",
    "grid.linewidth": 0.6,
    "axes.prop_cycle": mpl.cycler(color=list(PALETTE)),
    "lines.linewidth": 1.6,
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
    "svg.hashsalt": "arr-stats",  # same figure, same SVG bytes
}

FIGSIZE: tuple[float, float] = (7.0, 4.5)

#: Candidate ticks of the hazard-ratio axis (log scale).
FOREST_TICKS: tuple[float, ...] = (0.1, 0.2, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 4.0, 5.0, 10.0)


def set_house_style() -> None:
    """Apply the house style globally (seaborn theme + :data:`HOUSE_RC`).

    The plot functions below apply the style themselves; call this for
    figures of one's own in a notebook.
    """
    import seaborn as sns

    sns.set_theme(context="notebook", style="whitegrid", palette=list(PALETTE))
    mpl.rcParams.update(HOUSE_RC)


# --------------------------------------------------------------------------
# labels
# --------------------------------------------------------------------------


def _labels(lang: str) -> dict[str, Any]:
    if lang not in LABELS:
        raise ValueError(f"lang must be one of {list(LABELS)}, got {lang!r}")
    return LABELS[lang]


def label(key: str, lang: str = "nb") -> str:
    """An axis or legend label from :data:`LABELS`."""
    return _labels(lang)[key]


def state_label(state: str, lang: str = "nb") -> str:
    """The printed name of a daily state (or of the merged small states)."""
    if str(state) == MERGED_STATE:
        return label("merged_states", lang)
    return _labels(lang)["states"].get(str(state), str(state))


def group_label(value: object, lang: str = "nb") -> str:
    """The printed name of a group value.

    Diagnosis groups take their label from the data dictionary, the
    all-episodes group from :data:`LABELS`; anything else is printed as is.

    Examples
    --------
    >>> group_label("musculoskeletal"), group_label("mental", "en"), group_label("I01")
    ('Muskel og skjelett', 'mental health', 'I01')
    """
    labels = _labels(lang)
    if isinstance(value, str):
        if value == "all":
            return labels["all"]
        groups = load_dictionary().diagnosis_groups
        if value in groups:
            return groups[value]["label" if lang == "nb" else "label_en"]
    return str(value)


def _percent_formatter(lang: str) -> FuncFormatter:
    # Norwegian writes a space before the per cent sign (50 %).
    suffix = " %" if lang == "nb" else "%"
    return FuncFormatter(lambda y, _pos: f"{100 * y:.0f}{suffix}")


def _number_formatter(lang: str) -> FuncFormatter:
    # Norwegian writes a decimal comma (0,5).
    comma = lang == "nb"
    return FuncFormatter(lambda x, _pos: f"{x:g}".replace(".", ",") if comma else f"{x:g}")


def _count_text(value: object) -> str:
    """A count as printed: numbers without decimals, strings ("<5") as they are."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, str):
        return value
    try:
        return f"{int(value)}"
    except (TypeError, ValueError):
        return str(value)


# --------------------------------------------------------------------------
# curves
# --------------------------------------------------------------------------


def _curve_groups(curve: pd.DataFrame) -> list[tuple[object, pd.DataFrame]]:
    for column in ("group", "time", "estimate"):
        if column not in curve.columns:
            raise KeyError(f"the curve has no column {column!r}")
    return [
        (v, g.sort_values("time")) for v, g in curve.groupby("group", sort=False, observed=True)
    ]


def _with_origin(group: pd.DataFrame, start: float) -> pd.DataFrame:
    """Prepend the curve's value at time 0 when the (pooled) table starts later."""
    if len(group) and group["time"].iloc[0] > 0:
        origin = {c: np.nan for c in group.columns}
        origin.update({"time": 0, "estimate": start, "lower": start, "upper": start})
        group = pd.concat([pd.DataFrame([origin]), group], ignore_index=True)
    return group


def _at_risk_at(group: pd.DataFrame, day: float) -> str:
    """Number at risk at ``day``: the risk set of the first row at or after ``day``."""
    column = "at_risk_label" if "at_risk_label" in group.columns else "at_risk"
    later = group[(group["time"] >= day) & group[column].notna()]
    if later.empty:
        return "0"
    return _count_text(later[column].iloc[0])


def _plot_curves(
    curve: pd.DataFrame,
    lang: str,
    start: float,
    ylabel: str,
    confidence: bool,
    at_risk: bool,
    at_risk_times: Sequence[float] | None,
    title: str | None,
) -> Figure:
    groups = _curve_groups(curve)
    with mpl.rc_context(HOUSE_RC):
        fig = Figure(
            figsize=(FIGSIZE[0], FIGSIZE[1] + (0.25 * len(groups) + 0.4 if at_risk else 0)),
            layout="constrained",
        )
        if at_risk:
            grid = fig.add_gridspec(2, 1, height_ratios=[4, 0.35 * len(groups) + 0.5])
            ax = fig.add_subplot(grid[0])
            table_ax = fig.add_subplot(grid[1], sharex=ax)
        else:
            ax = fig.add_subplot()
        last_day = float(curve["time"].max()) if len(curve) else 0.0
        for i, (value, group) in enumerate(groups):
            colour = PALETTE[i % len(PALETTE)]
            drawn = _with_origin(group, start)
            ax.step(
                drawn["time"],
                drawn["estimate"],
                where="post",
                color=colour,
                label=group_label(value, lang),
            )
            if confidence and {"lower", "upper"} <= set(drawn.columns):
                ax.fill_between(
                    drawn["time"].to_numpy(float),
                    drawn["lower"].to_numpy(float),
                    drawn["upper"].to_numpy(float),
                    step="post",
                    color=colour,
                    alpha=0.15,
                    linewidth=0,
                )
        ax.set_ylim(0, 1)
        ax.yaxis.set_major_formatter(_percent_formatter(lang))
        ax.set_ylabel(ylabel)
        ticks = [t for t in MONTH_TICKS if t <= max(last_day, MONTH_TICKS[1])]
        ax.set_xticks(ticks)
        ax.set_xlim(0, max(last_day, 1))
        if len(groups) > 1:
            ax.legend(loc="best")
        if title:
            ax.set_title(title)
        if at_risk:
            times = list(at_risk_times) if at_risk_times is not None else ticks
            _at_risk_table(table_ax, groups, times, lang)
            ax.tick_params(labelbottom=True)
        ax.set_xlabel(label("days", lang))
    return fig


def _at_risk_table(
    ax: Axes, groups: list[tuple[object, pd.DataFrame]], times: Sequence[float], lang: str
) -> None:
    """Numbers at risk beneath the curves: one row per group, one column per time."""
    n = len(groups)
    for row, (_value, group) in enumerate(groups):
        y = n - 1 - row
        for day in times:
            ax.text(
                day,
                y,
                _at_risk_at(group, day),
                ha="center",
                va="center",
                color=PALETTE[row % len(PALETTE)],
            )
    ax.set_ylim(-0.5, n - 0.5)
    ax.set_yticks(range(n))
    ax.set_yticklabels([group_label(v, lang) for v, _ in reversed(groups)])
    ax.set_title(label("at_risk", lang), loc="left", fontsize=HOUSE_RC["axes.labelsize"])
    ax.grid(False)
    ax.tick_params(axis="x", labelbottom=False, length=0)
    # pad keeps the group names clear of the first column (day 0 sits on the axis)
    ax.tick_params(axis="y", length=0, pad=22)
    for side in ("left", "bottom", "top", "right"):
        ax.spines[side].set_visible(False)


def plot_survival(
    curve: pd.DataFrame,
    lang: str = "nb",
    at_risk: bool = True,
    at_risk_times: Sequence[float] | None = None,
    confidence: bool = True,
    title: str | None = None,
    ylabel: str | None = None,
) -> Figure:
    """Kaplan–Meier step curves, with the numbers at risk beneath.

    Parameters
    ----------
    curve
        Output of :func:`arr_stats.stats.kaplan_meier.kaplan_meier`, disclosed (pooled
        steps; ``at_risk_label`` or ``at_risk`` may hold strings like "<5").
    lang
        ``"nb"`` (default) or ``"en"``.
    at_risk
        Draw the numbers-at-risk table beneath the curves.
    at_risk_times
        Days of the table's columns; default the x-axis ticks (0, 3, 6, 9,
        12 months).
    confidence
        Shade the pointwise interval (``lower``/``upper``) as steps too.
    title, ylabel
        Optional title; y-axis label other than the default.

    Returns
    -------
    Figure
        ``axes[0]`` the curves; ``axes[1]`` the at-risk table when drawn.
    """
    return _plot_curves(
        curve,
        lang,
        1.0,
        ylabel or label("survival", lang),
        confidence,
        at_risk,
        at_risk_times,
        title,
    )


def plot_cumulative_incidence(
    curve: pd.DataFrame,
    lang: str = "nb",
    at_risk: bool = False,
    at_risk_times: Sequence[float] | None = None,
    confidence: bool = True,
    title: str | None = None,
    ylabel: str | None = None,
) -> Figure:
    """Aalen–Johansen cumulative incidence step curves (sustainable RTW by default label).

    Parameters are those of :func:`plot_survival`; the curve is the output of
    :func:`arr_stats.stats.competing_risks.cumulative_incidence`, disclosed. Pass
    ``ylabel`` when the event is not sustainable RTW.
    """
    return _plot_curves(
        curve,
        lang,
        0.0,
        ylabel or label("cumulative_incidence", lang),
        confidence,
        at_risk,
        at_risk_times,
        title,
    )


# --------------------------------------------------------------------------
# state occupation
# --------------------------------------------------------------------------


def plot_state_occupation(
    occupation: pd.DataFrame,
    lang: str = "nb",
    state_order: Sequence[str] | None = None,
    ncols: int = 2,
    title: str | None = None,
) -> Figure:
    """Stacked areas of the daily states, one panel per group.

    Parameters
    ----------
    occupation
        Output of :func:`arr_stats.stats.state_occupation.state_occupation` (``group, day,
        state, share``), disclosed (a suppressed share may be missing; it is
        drawn as 0).
    lang
        ``"nb"`` or ``"en"``.
    state_order
        The states from first to last priority; default the ``state``
        column's categories, else the configuration's default order. The
        first state is stacked on top, the last (working) at the bottom, and
        the legend lists them from the top down, so legend and areas read
        in the same order.
    ncols
        Panels per row when there are several groups.
    title
        Optional figure title.

    Returns
    -------
    Figure
        One axes per group (plus none else); each holds one filled area per
        state, coloured by :data:`STATE_COLOURS`, drawn as daily steps.
    """
    for column in ("group", "day", "state", "share"):
        if column not in occupation.columns:
            raise KeyError(f"the occupation table has no column {column!r}")
    if state_order is None:
        state = occupation["state"]
        state_order = (
            list(state.cat.categories)
            if isinstance(state.dtype, pd.CategoricalDtype)
            else list(DEFAULT_STATE_ORDER)
        )
    if MERGED_STATE in set(occupation["state"].astype(object)) and MERGED_STATE not in state_order:
        state_order = [MERGED_STATE, *state_order]  # merged small states on top
    groups = list(occupation.groupby("group", sort=False, observed=True))
    ncols = max(1, min(ncols, len(groups)))
    nrows = int(np.ceil(len(groups) / ncols))
    with mpl.rc_context(HOUSE_RC):
        fig = Figure(
            figsize=(FIGSIZE[0] * (1.25 if ncols == 1 else 1.6), 3.4 * nrows + 0.8),
            layout="constrained",
        )
        axes = fig.subplots(nrows, ncols, squeeze=False, sharex=True, sharey=True)
        for k, (value, group) in enumerate(groups):
            ax = axes.flat[k]
            wide = (
                group.pivot_table(
                    index="day", columns="state", values="share", aggfunc="first", observed=False
                )
                .reindex(columns=list(state_order))
                .fillna(0.0)
                .sort_index()
            )
            days = wide.index.to_numpy(float)
            bottom = np.zeros(len(days))
            for state in reversed(list(state_order)):
                top = bottom + wide[state].to_numpy(float)
                ax.fill_between(
                    days,
                    bottom,
                    top,
                    step="post",
                    color=STATE_COLOURS.get(state, "#999999"),
                    linewidth=0,
                    label=state_label(state, lang),
                )
                bottom = top
            ax.set_ylim(0, 1)
            ax.set_xlim(days.min() if len(days) else 0, days.max() if len(days) else 1)
            ax.set_xticks([t for t in MONTH_TICKS if len(days) and t <= days.max()])
            ax.yaxis.set_major_formatter(_percent_formatter(lang))
            ax.grid(False)
            if len(groups) > 1 or value != "all":
                ax.set_title(group_label(value, lang))
            ax.set_xlabel(label("days", lang))
            if k % ncols == 0:
                ax.set_ylabel(label("share", lang))
        for ax in axes.flat[len(groups) :]:
            ax.remove()
        handles, names = axes.flat[0].get_legend_handles_labels()
        fig.legend(
            handles[::-1],
            names[::-1],
            loc="outside right center",
            title=label("state", lang),
        )
        if title:
            fig.suptitle(title)
    return fig


# --------------------------------------------------------------------------
# work ability
# --------------------------------------------------------------------------


def plot_work_ability(table: pd.DataFrame, lang: str = "nb", title: str | None = None) -> Figure:
    """Mean work ability at T0–T3 with intervals, one line per group.

    Parameters
    ----------
    table
        Output of :func:`arr_stats.stats.work_ability.work_ability_by_point` (``group,
        point, mean, lower, upper``), disclosed (a suppressed mean is
        missing and leaves a gap).
    lang
        ``"nb"`` or ``"en"``.
    title
        Optional title.

    Returns
    -------
    Figure
        One errorbar line per group; the x axis has one tick per point.
    """
    for column in ("group", "point", "mean", "lower", "upper"):
        if column not in table.columns:
            raise KeyError(f"the work-ability table has no column {column!r}")
    point = table["point"]
    points = (
        list(point.cat.categories)
        if isinstance(point.dtype, pd.CategoricalDtype)
        else sorted(point.dropna().unique())
    )
    position = {p: i for i, p in enumerate(points)}
    groups = list(table.groupby("group", sort=False, observed=True))
    with mpl.rc_context(HOUSE_RC):
        fig = Figure(figsize=FIGSIZE, layout="constrained")
        ax = fig.add_subplot()
        offsets = np.linspace(-0.08, 0.08, len(groups)) if len(groups) > 1 else [0.0]
        for i, ((value, group), offset) in enumerate(zip(groups, offsets, strict=True)):
            group = group.assign(x=group["point"].map(position).astype(float) + offset)
            group = group.sort_values("x")
            mean = pd.to_numeric(group["mean"], errors="coerce").to_numpy(float)
            lower = pd.to_numeric(group["lower"], errors="coerce").to_numpy(float)
            upper = pd.to_numeric(group["upper"], errors="coerce").to_numpy(float)
            ax.errorbar(
                group["x"].to_numpy(float),
                mean,
                yerr=np.vstack([mean - lower, upper - mean]),
                marker="o",
                capsize=3,
                color=PALETTE[i % len(PALETTE)],
                label=group_label(value, lang),
            )
        names = _labels(lang)["points"]
        ax.set_xticks(range(len(points)))
        ax.set_xticklabels([names.get(str(p), str(p)) for p in points])
        ax.set_xlim(-0.4, len(points) - 0.6)
        ax.set_ylim(0, 10)
        ax.set_xlabel(label("point", lang))
        ax.set_ylabel(label("work_ability", lang))
        if len(groups) > 1:
            ax.legend(loc="best")
        if title:
            ax.set_title(title)
    return fig


# --------------------------------------------------------------------------
# forest plot
# --------------------------------------------------------------------------


def _term_label(row: Mapping[str, Any], lang: str) -> str:
    variables = _labels(lang)["variables"]
    variable = row.get("variable")
    level = row.get("level")
    if variable is None or (isinstance(variable, float) and np.isnan(variable)):
        return str(row["term"])
    name = variables.get(str(variable), str(variable))
    if level is None or (isinstance(level, float) and np.isnan(level)):
        per = row.get("per")
        if isinstance(per, int | float) and np.isfinite(per) and per != 1:
            return f"{name} (per {per:g})"
        return name
    return f"{name}: {group_label(level, lang)}"


def plot_forest(summary: pd.DataFrame, lang: str = "nb", title: str | None = None) -> Figure:
    """Hazard ratios with 95 % intervals on a log scale, first term on top.

    Parameters
    ----------
    summary
        ``CauseSpecificCox.summary_`` (``term, hazard_ratio, lower, upper``;
        ``variable`` and ``level`` give readable labels when present).
    lang
        ``"nb"`` or ``"en"``.
    title
        Optional title.

    Returns
    -------
    Figure
        One axes: the estimates as points with horizontal interval bars, a
        dashed reference line at 1, one y tick per term.
    """
    for column in ("term", "hazard_ratio", "lower", "upper"):
        if column not in summary.columns:
            raise KeyError(f"the summary has no column {column!r}")
    n = len(summary)
    y = np.arange(n)[::-1]
    hr = summary["hazard_ratio"].to_numpy(float)
    lower = summary["lower"].to_numpy(float)
    upper = summary["upper"].to_numpy(float)
    with mpl.rc_context(HOUSE_RC):
        fig = Figure(figsize=(FIGSIZE[0], 0.35 * n + 1.2), layout="constrained")
        ax = fig.add_subplot()
        ax.axvline(1.0, color="#666666", linestyle="--", linewidth=1)
        ax.errorbar(
            hr,
            y,
            xerr=np.vstack([hr - lower, upper - hr]),
            fmt="o",
            color=PALETTE[0],
            capsize=2,
        )
        ax.set_xscale("log")
        low = np.nanmin(np.r_[lower, 1.0])
        high = np.nanmax(np.r_[upper, 1.0])
        ticks = [t for t in FOREST_TICKS if low / 1.3 <= t <= high * 1.3]
        ax.set_xticks(ticks)
        ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_major_formatter(_number_formatter(lang))
        ax.set_yticks(y)
        ax.set_yticklabels([_term_label(row, lang) for row in summary.to_dict("records")])
        ax.set_ylim(-0.7, n - 0.3)
        ax.set_xlabel(label("hazard_ratio", lang))
        ax.grid(axis="y", visible=False)
        if title:
            ax.set_title(title)
    return fig
