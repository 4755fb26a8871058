"""Sentences generated from the numbers, so they cannot go stale."""

from __future__ import annotations

import pandas as pd
from IPython.display import Markdown

from arr_stats import indicators
from arr_stats.publication import disclosure
from arr_stats.report.context import ReportContext
from arr_stats.report.formats import (
    bullet_list,
    format_spread,
    format_value,
    level_text,
    target_text,
)
from arr_stats.report.tables import _flag_text, _row, _unit_rows


def indicator_sentence(
    ind_id: str, own: pd.Series | None, rest: pd.Series | None, ctx: ReportContext
) -> str:
    """One generated sentence about an indicator, e.g.

    ``I arbeid 12 måneder etter: 54 % (95 % KI 48–60 %, n = 212), høy måloppnåelse
    (høy ≥ 60 %, lav < 40 %).`` Every number and the level come from the row;
    a unit below ``min_denominator`` gets "ikke vist".
    """
    lang = ctx.lang
    name = ctx.t(f"indicator.{ind_id}")
    params = ctx.config.disclosure
    if own is None:
        return ctx.t(
            "sentence.hidden",
            name=name,
            n=params.min_denominator,
            label=disclosure.small_group_label(params),
        )
    interval, interval_text = format_spread(ind_id, own, lang)
    level = (level_text(own["level"], lang) or (ctx.t("format.level_unknown"), None))[0].lower()
    text = ctx.t(
        "sentence.indicator",
        name=name,
        value=format_value(ind_id, own["value"], signed=True, lang=lang),
        interval=interval,
        interval_text=interval_text,
        n=ctx.number(own["denominator"]),
        level=level,
        target=target_text(ind_id, ctx.config, lang),
    )
    if not ctx.is_national:
        if rest is not None:
            value = format_value(ind_id, rest["value"], signed=True, lang=lang)
            text += ctx.t("sentence.rest", value=value)
        flag = _flag_text(own.get("coverage_flag"), ctx)
        if flag is not None:
            text += ctx.t("sentence.flag", flag=flag)
    return text


def summary_sentences(agg: pd.DataFrame, ctx: ReportContext) -> Markdown:
    """One generated sentence per indicator (section 1)."""
    units = _unit_rows(agg, ctx, ctx.year)
    lines = []
    for ind_id in indicators.INDICATOR_NAMES:
        rest = _row(units["rest"], ind_id) if "rest" in units else None
        lines.append(indicator_sentence(ind_id, _row(units["own"], ind_id), rest, ctx))
    return bullet_list(lines)
