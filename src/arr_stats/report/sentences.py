"""Sentences generated from the numbers, so they cannot go stale."""

from __future__ import annotations

import pandas as pd
from IPython.display import Markdown

from arr_stats import indicators
from arr_stats.publication import disclosure
from arr_stats.report.context import ReportContext
from arr_stats.report.formats import (
    LEVEL_TEXT,
    bullet_list,
    format_spread,
    format_value,
    nb_number,
    target_text,
)
from arr_stats.report.tables import _row, _unit_rows


def indicator_sentence(
    ind_id: str, own: pd.Series | None, rest: pd.Series | None, ctx: ReportContext
) -> str:
    """One generated sentence about an indicator, e.g.

    ``I arbeid 12 måneder etter: 54 % (95 % KI 48–60 %, n = 212), høy måloppnåelse
    (høy ≥ 60 %, lav < 40 %).`` Every number and the level come from the row;
    a unit below ``min_denominator`` gets "ikke vist".
    """
    name = indicators.INDICATOR_NAMES[ind_id]
    params = ctx.config.disclosure
    if own is None:
        return (
            f"**{name}**: ikke vist – færre enn {params.min_denominator} personer "
            f"({disclosure.small_group_label(params)})."
        )
    interval, interval_text = format_spread(ind_id, own)
    level = LEVEL_TEXT.get(own["level"], ("ukjent", None))[0].lower()
    text = (
        f"**{name}**: {format_value(ind_id, own['value'], signed=True)} "
        f"({interval} {interval_text}, "
        f"n = {nb_number(own['denominator'])}), {level} måloppnåelse "
        f"({target_text(ind_id, ctx.config)})."
    )
    if not ctx.is_national:
        if rest is not None:
            text += f" Resten av landet: {format_value(ind_id, rest['value'], signed=True)}."
        flag = own.get("coverage_flag")
        if isinstance(flag, str):
            text += f" {flag}: tolk resultatet med forsiktighet."
    return text


def summary_sentences(agg: pd.DataFrame, ctx: ReportContext) -> Markdown:
    """One generated sentence per indicator (section 1)."""
    units = _unit_rows(agg, ctx, ctx.year)
    lines = []
    for ind_id in indicators.INDICATOR_NAMES:
        rest = _row(units["rest"], ind_id) if "rest" in units else None
        lines.append(indicator_sentence(ind_id, _row(units["own"], ind_id), rest, ctx))
    return bullet_list(lines)
