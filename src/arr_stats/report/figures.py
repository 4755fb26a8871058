"""The report's figures: each builds a matplotlib figure from disclosed numbers."""

from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from arr_stats import domain, indicators, stats
from arr_stats.publication import disclosure
from arr_stats.report import year_results
from arr_stats.report.context import (
    ReportContext,
    _own_hidden,
    _own_responses,
    _unit_groups,
    needs_outcome_cohort,
)
from arr_stats.report.formats import nb_percent
from arr_stats.stats.clustering import OE_INTERVAL_NOTES, interval_note
from arr_stats.stats.work_ability import resolve_cluster


@needs_outcome_cohort
def state_occupation_figure(ctx: ReportContext) -> Figure:
    """Stacked daily states over the 12 months after discharge (own unit; rest beside it)."""
    from arr_stats.plotting import plot_state_occupation

    groups = _unit_groups(ctx, ctx.outcome_cohort())
    outcomes = ctx.config.outcomes
    params = ctx.config.disclosure
    # the units' counts (computed once a year) added up into the edition's groups: the
    # counts of stats.state_occupation(daily states, groups, by="report_unit")
    units = year_results.shared(ctx, year_results.STATE_COUNTS, year_results.unit_state_counts)
    pooled = dict(zip(groups["institution_id"].astype(str), groups["report_unit"], strict=True))
    occupation = stats.occupation_shares(stats.pool_state_counts(units, pooled))
    days = disclosure.state_grid(params, outcomes.month_days.values(), outcomes.followup_days)
    return plot_state_occupation(
        disclosure.protect_state_occupation(occupation, params, days),
        lang=ctx.lang,
        state_order=outcomes.state_order,
        ncols=2 if not ctx.is_national else 1,
        title=ctx.t(
            "figure.state_title",
            grid=params.state_grid_days,
            months=", ".join(str(m) for m in sorted(outcomes.month_days)),
            min_cell=params.min_cell,
        ),
    )


def _funnel(
    ctx: ReportContext,
    points: pd.DataFrame,
    limits: pd.DataFrame,
    centre: float,
    centre_label: str,
    xlabel: str,
    ylabel: str,
    percent: bool,
    limits_label: str,
    note: str,
    outside: pd.Series | None = None,
) -> Figure:
    """Draw a funnel plot: ``points`` (``orgnr, x, y``), ``limits`` (``x, level, lower, upper``).

    ``limits_label`` names the limits in the legend; ``note`` (which limits,
    the overdispersion estimate) is written under the axes. ``outside``
    (boolean, aligned with ``points``) rings the points outside their own
    95 % limits, where those differ from the drawn lines.
    """
    import matplotlib as mpl

    from arr_stats.plotting import HOUSE_RC, PALETTE

    with mpl.rc_context(HOUSE_RC):
        fig = Figure(figsize=(7.0, 4.2))
        ax = fig.subplots()
        if points.empty or not np.isfinite(centre):
            ax.text(0.5, 0.5, ctx.t("figure.too_few"), ha="center", transform=ax.transAxes)
            return fig
        for level, style in ((0.95, "--"), (0.998, ":")):
            lim = limits[limits["level"] == level]
            shown = ctx.number(100 * level, 1 if level > 0.99 else 0)
            text = ctx.t("figure.limit", level=shown, limits=limits_label)
            ax.plot(lim["x"], lim["lower"], style, color="#555", lw=1, label=text)
            ax.plot(lim["x"], lim["upper"], style, color="#555", lw=1)
        ax.axhline(centre, color="#222", lw=1, label=centre_label)
        own = points["orgnr"].astype(str) == (ctx.institution or "")
        ax.scatter(
            points.loc[~own, "x"],
            points.loc[~own, "y"],
            s=28,
            color=PALETTE[0],
            zorder=3,
            label=ctx.t("unit.institutions"),
        )
        if own.any():
            ax.scatter(
                points.loc[own, "x"],
                points.loc[own, "y"],
                s=70,
                color=PALETTE[1],
                marker="D",
                zorder=4,
                label=ctx.own_label,
            )
        if outside is not None and outside.any():
            ax.scatter(
                points.loc[outside, "x"],
                points.loc[outside, "y"],
                s=150,
                facecolors="none",
                edgecolors="#b2182b",
                linewidths=1.2,
                zorder=5,
                label=ctx.t("figure.outside"),
            )
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        if percent:
            ax.yaxis.set_major_formatter(
                mpl.ticker.FuncFormatter(lambda v, _: nb_percent(v, 0, ctx.lang))
            )
        ax.legend(loc="lower right", fontsize=8)
        fig.text(0.01, 0.01, note, fontsize=7, ha="left", va="bottom", wrap=True)
        fig.subplots_adjust(bottom=0.22)
    return fig


def _funnel_sizes(x: pd.Series) -> np.ndarray:
    """Whole denominators spanning the points, where the limits are drawn."""
    grid = np.linspace(max(5.0, float(x.min()) * 0.6), float(x.max()) * 1.1, 200)
    return np.unique(np.round(grid).astype(int))


def _dispersion_note(dispersion: stats.Overdispersion, ctx: ReportContext) -> str:
    """Which limits are drawn and the overdispersion estimate, in words."""
    p = dispersion.p_value
    test = ctx.t("figure.p_small") if p < 0.001 else f"p = {ctx.number(p, 3)}"
    estimate = ctx.t(
        "figure.estimate", phi=ctx.number(dispersion.phi, 2), k=dispersion.k, test=test
    )
    if dispersion.present:
        tau2 = ctx.number(dispersion.tau2, 4)
        return ctx.t("figure.overdispersed", tau2=tau2, estimate=estimate)
    return ctx.t("figure.not_overdispersed", estimate=estimate)


def funnel_figure(agg: pd.DataFrame, ctx: ReportContext, ind_id: str = "arr_rtw12") -> Figure:
    """Funnel plot: each institution's value against its denominator, 95 % and 99,8 % limits.

    The limits are exact binomial around the national value, or adjusted for
    overdispersion when the χ² test of φ finds it
    (:func:`arr_stats.stats.proportion_funnel_limits`); the figure says which.
    """
    this = agg[(agg["year"] == ctx.year) & (agg["ind_id"] == ind_id)]
    national = this[this["unit"] == indicators.UNIT_NATIONAL]
    units = this[(this["unit"] == indicators.UNIT_INSTITUTION) & ~this["suppressed"]]
    p = float(national["value"].iloc[0]) if len(national) else math.nan
    points = units.assign(x=units["denominator"], y=units["value"])
    limits = pd.DataFrame(columns=["x", "level", "lower", "upper"])
    label, note = ctx.t("figure.exact_binomial"), ""
    if not points.empty and np.isfinite(p):
        dispersion = stats.overdispersion(
            units["numerator"].astype(float), units["denominator"].astype(float), p
        )
        limits = stats.proportion_funnel_limits(p, _funnel_sizes(points["x"]), dispersion)
        limits = limits.rename(columns={"denominator": "x"})
        label = ctx.t("figure.adjusted") if dispersion.present else label
        note = _dispersion_note(dispersion, ctx)
    return _funnel(
        ctx,
        points,
        limits,
        p,
        ctx.t("figure.national_value", value=ctx.percent(p)),
        ctx.t("figure.denominator"),
        ctx.t(f"indicator.{ind_id}"),
        percent=True,
        limits_label=label,
        note=note,
    )


@needs_outcome_cohort
def casemix_funnel_figure(ctx: ReportContext, ind_id: str = "arr_rtw12") -> Figure:
    """Funnel plot of the observed / expected ratios against the expected count.

    The lines are the exact limits of O/E (Poisson-binomial O) for a unit
    with the national case mix (:func:`arr_stats.stats.oe_funnel_limits`).
    """
    from arr_stats.report.tables import casemix_result

    result = casemix_result(ctx, ind_id)
    units = result.institutions[~result.institutions["suppressed"]]
    points = units.assign(x=units["expected"], y=units["ratio"])
    limits = year_results.shared(
        ctx,
        year_results.casemix_limits_name(ind_id),
        functools.partial(year_results.casemix_limits, ind_id=ind_id),
    )
    return _funnel(
        ctx,
        points,
        limits,
        1.0,
        ctx.t("figure.as_expected"),
        ctx.t("figure.expected"),
        ctx.t("figure.oe", indicator=ctx.t(f"indicator.{ind_id}").lower()),
        percent=False,
        limits_label=ctx.t("figure.exact"),
        note=f"{ctx.t('figure.oe_note')} {OE_INTERVAL_NOTES[ctx.lang]}",
        outside=(points["y"] < points["limit95_lower"]) | (points["y"] > points["limit95_upper"]),
    )


def casemix_funnel_limits(result: indicators.CaseMixResult) -> pd.DataFrame:
    """The lines of the case-mix funnel: exact limits of O/E against the expected count.

    For a unit with the national case mix (:func:`arr_stats.stats.oe_funnel_limits`),
    over the sizes of the units shown; ``x, level, lower, upper`` (empty
    without a unit to show).
    """
    units = result.institutions[~result.institutions["suppressed"]]
    if units.empty:
        return pd.DataFrame(columns=["x", "level", "lower", "upper"])
    limits = stats.oe_funnel_limits(
        result.episodes["expected"], _funnel_sizes(units["n"].astype(float))
    )
    return limits.rename(columns={"expected": "x"})


def _with_interval_note(figure: Figure, cluster: str | None, lang: str = "nb") -> Figure:
    """The footnote under a figure with intervals: which variance they use (``interval_note``)."""
    figure.text(0.01, 0.0, interval_note(cluster, lang), fontsize=7, ha="left", va="top")
    return figure


def _pooled(curve: pd.DataFrame, ctx: ReportContext) -> pd.DataFrame:
    """The drawn curve: steps pooled, the tables' fixed times as block boundaries."""
    return disclosure.pool_survival_steps(
        curve, ctx.config.disclosure, ctx.config.outcomes.month_days.values()
    )


@needs_outcome_cohort
def cumulative_incidence_figure(ctx: ReportContext, by: str | None = None) -> Figure:
    """Cumulative incidence of sustainable RTW (competing: disability, death), pooled steps."""
    from arr_stats.plotting import plot_cumulative_incidence

    cohort = ctx.outcome_cohort()
    if not ctx.own_is_small(cohort):  # a small unit's edition shows the national curve
        cohort = ctx.own(cohort)
    if by == "institution_id":
        names = ctx.institution_names()
        cohort = cohort.assign(institution=cohort["institution_id"].astype(str).map(names))
        by = "institution"
    fitted = stats.CumulativeIncidence(event=domain.EVENT_RTW).fit(cohort, by=by)
    figure = plot_cumulative_incidence(
        _pooled(fitted.curve_, ctx), lang=ctx.lang, confidence=by is None
    )
    return _with_interval_note(figure, fitted.cluster_, ctx.lang) if by is None else figure


@needs_outcome_cohort
def kaplan_meier_figure(ctx: ReportContext) -> Figure:
    """Kaplan–Meier curve of time to sustainable RTW with numbers at risk (own unit vs rest)."""
    from arr_stats.plotting import plot_survival

    cohort = _unit_groups(ctx, ctx.outcome_cohort())
    fitted = stats.KaplanMeier().fit(cohort, by="report_unit")
    figure = plot_survival(_pooled(fitted.curve_, ctx), lang=ctx.lang)
    return _with_interval_note(figure, fitted.cluster_, ctx.lang)


@needs_outcome_cohort
def work_ability_figure(ctx: ReportContext) -> Figure:
    """Mean work ability T0–T3 with 95 % intervals (own unit against the rest)."""
    from arr_stats.plotting import plot_work_ability

    responses, cohort = _own_responses(ctx)
    table = stats.work_ability_by_point(responses, by="report_unit", episodes=cohort)
    if _own_hidden(table, ctx.config.disclosure, ctx.own_label):  # then nation, not the rest
        responses, cohort = _own_responses(ctx, national=True)
        table = stats.work_ability_by_point(responses, by="report_unit", episodes=cohort)
    table = disclosure.suppress_statistics(
        table, ["mean", "lower", "upper"], "n", ctx.config.disclosure
    )
    table = table[table["mean"].map(lambda v: not isinstance(v, str))]
    for column in ("mean", "lower", "upper"):
        table[column] = table[column].astype(float)
    cluster = resolve_cluster(domain.DEFAULT_CLUSTER, responses, cohort)
    return _with_interval_note(plot_work_ability(table, lang=ctx.lang), cluster, ctx.lang)
