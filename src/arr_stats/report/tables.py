"""The report's tables, section by section; every count passes through the disclosure rules."""

from __future__ import annotations

import hashlib
import html
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from IPython.display import Markdown
from scipy.stats import norm

from arr_stats import domain, indicators, labels, stats
from arr_stats.config import PROJECT_ROOT, RunConfig, config_to_dict
from arr_stats.derive.load import Derived
from arr_stats.indicators.casemix import (
    CHECK_FEW_EVENTS,
    CHECK_NOT_CONVERGED,
    CHECK_SEPARATION,
    CHECK_UNBOUNDED,
    MAX_STD_ERROR,
)
from arr_stats.labels import t
from arr_stats.publication import disclosure, linked
from arr_stats.report import year_results
from arr_stats.report.context import (
    TREND_YEARS,
    UNKNOWN_LABEL,
    ReportContext,
    _own_responses,
    needs_outcome_cohort,
)
from arr_stats.report.figures import _pooled
from arr_stats.report.formats import (
    HtmlBlock,
    code_label,
    format_interval,
    format_spread,
    format_value,
    html_table,
    level_text,
    nb_number,
    nb_percent,
    shown_path,
    target_text,
)
from arr_stats.stats.clustering import (
    OE_INTERVAL_NOTES,
    indicator_interval_note,
    interval_note,
)
from arr_stats.stats.work_ability import resolve_cluster


def indicator_table(ctx: ReportContext) -> pd.DataFrame:
    """The disclosed aggregated indicators of the trend years (``indicators.csv`` rows).

    The rows hidden are the year's protected publication's
    (:meth:`~arr_stats.publication.linked.YearPublication.hidden_indicators`),
    so that no indicator row, combined with another row or table of the
    year, gives a count of 1 … ``min_cell − 1`` away. The same for every
    edition of the year: computed once
    (:func:`arr_stats.report.year_results.aggregated_indicators`).
    """
    agg = year_results.shared(ctx, year_results.INDICATORS, year_results.aggregated_indicators)
    return agg.copy()


def published_indicators(derived: Derived, year: int) -> pd.DataFrame:
    """The indicator rows the outputs of report year ``year`` show, as the publication protects them.

    For notebooks and other outputs made from the same build: the rows of
    the report's trend years (``year`` and up to four before), with the rows
    the year's protected publication hides left empty, and the rest of the
    country and the nation pooled over the shown units only – the same
    numbers as the editions and ``indicators.csv``, so that no output of the
    year can be subtracted from another.

    Parameters
    ----------
    derived
        A loaded build (:func:`arr_stats.load_build`).
    year
        The report year.

    Returns
    -------
    DataFrame
        :data:`arr_stats.indicators.AGGREGATE_COLUMNS`.
    """
    return indicator_table(ReportContext(derived, int(year), None, None, ""))


def hidden_indicator_units(ctx: ReportContext, ind_id: str, year: int | None = None) -> set[str]:
    """The units whose ``ind_id`` row of ``year`` (default: the report year) the publication hides."""
    hidden = year_publication(ctx).hidden_indicators()
    year = ctx.year if year is None else year
    rows = hidden[(hidden["ind_id"] == ind_id) & (hidden["year"] == year)]
    return set(rows["unit"].astype(str))


def casemix_result(ctx: ReportContext, ind_id: str = "arr_rtw12") -> indicators.CaseMixResult:
    """The case-mix model of ``ind_id``, without the units whose indicator the publication hides.

    Computed once a year (:func:`arr_stats.report.year_results.shared_casemix`).
    """
    return year_results.shared_casemix(ctx, ind_id)


def _unit_rows(agg: pd.DataFrame, ctx: ReportContext, year: int) -> dict[str, pd.DataFrame]:
    this = agg[agg["year"] == year]
    national = this[this["unit"] == indicators.UNIT_NATIONAL].set_index("ind_id")
    if ctx.is_national:
        return {"own": national, "national": national}
    mine = this[this["orgnr"].astype(str) == ctx.institution]
    return {
        "own": mine[mine["unit"] == indicators.UNIT_INSTITUTION].set_index("ind_id"),
        "rest": mine[mine["unit"] == indicators.UNIT_REST].set_index("ind_id"),
        "national": national,
    }


def _row(frame: pd.DataFrame, ind_id: str) -> pd.Series | None:
    if ind_id not in frame.index:
        return None
    row = frame.loc[ind_id]
    if bool(row["suppressed"]) or pd.isna(row["value"]):
        return None
    return row


def _shown(row: pd.Series | None, ind_id: str, params: Any, lang: str = "nb") -> str:
    if row is None:
        return disclosure.small_group_label(params)
    return format_value(ind_id, row["value"], signed=True, lang=lang)


def _flag_text(flag: object, ctx: ReportContext) -> str | None:
    """A unit's coverage flag in the edition's language, or ``None`` without one."""
    if not isinstance(flag, str):
        return None
    return ctx.t("flag.low_coverage") if flag == indicators.LOW_COVERAGE_LABEL else flag


def summary_table(agg: pd.DataFrame, ctx: ReportContext) -> HtmlBlock:
    """Section 1's table: each indicator with interval, target level, rest and nation."""
    units = _unit_rows(agg, ctx, ctx.year)
    params = ctx.config.disclosure
    rows, levels, flags = [], [], []
    lang = ctx.lang
    col_level = ctx.t("col.level")
    for ind_id in indicators.INDICATOR_NAMES:
        own = _row(units["own"], ind_id)
        level = None if own is None else own["level"]
        text, css = level_text(level, lang) or ("–", None)
        entry = {
            ctx.t("col.indicator"): ctx.t(f"indicator.{ind_id}"),
            ctx.unit_label if ctx.is_national else ctx.own_label: _shown(own, ind_id, params, lang),
            ctx.t("col.interval"): "–" if own is None else format_spread(ind_id, own, lang)[1],
            "n": "–" if own is None else ctx.number(own["denominator"]),
            col_level: text,
        }
        if not ctx.is_national:
            entry[ctx.rest_label] = _shown(_row(units["rest"], ind_id), ind_id, params, lang)
            entry[ctx.national_label] = _shown(
                _row(units["national"], ind_id), ind_id, params, lang
            )
        if ctx.is_national:  # the institution table is wide already; the sentences name it
            entry[ctx.t("col.target")] = target_text(ind_id, ctx.config, lang)
        rows.append(entry)
        levels.append(css)
        flag = None if own is None or ctx.is_national else own.get("coverage_flag")
        flags.append(_flag_text(flag, ctx))
    table = pd.DataFrame(rows)
    text_columns = (ctx.t("col.indicator"), col_level, ctx.t("col.target"))
    numeric = [c for c in table.columns if c not in text_columns]
    note = ctx.t(
        "table.summary_note",
        interval_note=indicator_interval_note(domain.DEFAULT_CLUSTER, lang),
        label=disclosure.small_group_label(params),
    )
    if any(flags):
        note += ctx.t("table.summary_flag_note", flag=ctx.t("flag.low_coverage"))
    return html_table(
        table,
        caption=ctx.t("caption.summary", year=ctx.year, unit=ctx.unit_label),
        numeric=numeric,
        cell_classes={col_level: levels},
        note=note,
    )


def trend_table(agg: pd.DataFrame, ctx: ReportContext) -> HtmlBlock:
    """Each indicator over the trend years (own unit against the rest in an institution edition)."""
    params = ctx.config.disclosure
    years = ctx.trend_years or [ctx.year]  # a first report year has no earlier year
    rows, classes = [], []
    for ind_id in indicators.INDICATOR_NAMES:
        name = ctx.t(f"indicator.{ind_id}")
        series = ["own"] if ctx.is_national else ["own", "rest"]
        for which in series:
            entry = {ctx.t("col.indicator"): name if which == "own" else ""}
            if not ctx.is_national:
                entry[ctx.t("col.unit")] = ctx.own_label if which == "own" else ctx.rest_label
            for year in years:
                units = _unit_rows(agg, ctx, year)
                entry[str(year)] = _shown(_row(units[which], ind_id), ind_id, params, ctx.lang)
            rows.append(entry)
            classes.append("own" if which == "own" and not ctx.is_national else "")
    table = pd.DataFrame(rows)
    return html_table(
        table,
        caption=ctx.t("caption.trend", first=years[0], last=years[-1], unit=ctx.unit_label),
        numeric=[str(y) for y in years],
        row_classes=classes,
        note=ctx.t("table.trend_note"),
    )


def episodes_by_institution(ctx: ReportContext) -> HtmlBlock:
    """Registered (consenting) episodes per institution and discharge year, with totals.

    The cells are the year's jointly protected publication's (:func:`year_publication`).
    """
    names = ctx.institution_names()
    suppressed = year_publication(ctx).grid(linked.EPISODES_TABLE, [(linked.NATIONAL, "")])
    shown = suppressed.display
    total = ctx.total_label
    row_labels = [names.get(i, i) if i != linked.TOTAL else total for i in shown.index]
    shown = shown.set_axis(row_labels).rename(columns={linked.TOTAL: total})
    shown = pd.concat([shown.drop(index=total).sort_index(), shown.loc[[total]]])
    own_name = names.get(ctx.institution) if ctx.institution else None
    column = ctx.t("col.institution")
    table = shown.reset_index(names=column)
    return html_table(
        table,
        caption=ctx.t("caption.episodes"),
        numeric=list(shown.columns),
        row_classes=[
            "total" if name == total else ("own" if own_name and name == own_name else "")
            for name in table[column]
        ],
        note=ctx.t(
            "table.episodes_note",
            small=disclosure.small_count_label(ctx.config.disclosure),
            hidden=disclosure.HIDDEN_MARK,
        ),
    )


def publication_folder(derived_dir: Path, year: int) -> Path:
    """Where the year's protected publication is written: ``publication/<year>/`` in the build."""
    return Path(derived_dir) / "publication" / str(year)


def _publication_fingerprint(ctx: ReportContext) -> str:
    """What the year's publication is made from: the tables read and the parameters."""
    digest = hashlib.sha256()
    for name in ("episodes", "outcomes", "responses", "institutions"):
        path = ctx.derived.directory / f"{name}.parquet"
        digest.update(path.read_bytes() if path.is_file() else b"")
    settings = config_to_dict(ctx.config)  # the one serialised form: same settings, same text
    shaping = {k: settings[k] for k in ("nav", "outcomes", "disclosure")}
    digest.update(json.dumps([ctx.year, ctx.trend_years, shaping], sort_keys=True).encode())
    digest.update(repr((list(PARTICIPANT_VARIABLES), TREND_YEARS, UNKNOWN_LABEL)).encode())
    return digest.hexdigest()


def _compute_publication(ctx: ReportContext) -> linked.YearPublication:
    return linked.year_publication(
        ctx.derived.episodes,
        ctx.process_cohort(),
        ctx.outcome_cohort(),
        ctx.config,
        ctx.year,
        list(PARTICIPANT_VARIABLES),
        TREND_YEARS,
        UNKNOWN_LABEL,
        linked.IndicatorData(
            ctx.derived.responses,
            ctx.derived.outcomes,
            ctx.derived.institutions,
            tuple(ctx.trend_years),
        ),
    )


def year_publication(ctx: ReportContext) -> linked.YearPublication:
    """The jointly protected linked count tables of the edition's year.

    Read from ``publication/<year>/`` in the build when ``arr-stats report``
    wrote it from the same tables and parameters (:func:`write_year_publication`),
    else computed; either way once per loaded build, year and disclosure
    parameters (:func:`arr_stats.publication.linked.cached`). Every table of
    every edition therefore reads the same protected cells.
    """

    def load_or_compute() -> linked.YearPublication:
        # only tables read from the build's files may use what was written from
        # them: a build changed in memory (dataclasses.replace: no digest) has
        # the same files on disk but other numbers
        if not ctx.derived.digest:
            return _compute_publication(ctx)
        folder = publication_folder(ctx.derived.directory, ctx.year)
        saved = linked.read_publication(folder, _publication_fingerprint(ctx))
        return saved if saved is not None else _compute_publication(ctx)

    return linked.cached(ctx.derived, (ctx.year, ctx.config.disclosure), load_or_compute)


def write_year_publication(
    config: RunConfig, derived_dir: Path, year: int, build: Derived | None = None
) -> list[Path]:
    """Compute the year's publication once and write it into the build (Parquet + CSV).

    ``arr-stats report`` calls this before the editions, which then read it
    (:func:`year_publication`) instead of computing it each.

    The audit written is the protection's: for each hidden cell, values it
    is proven able to take (``exact`` where they are its exact bounds), which
    give the same verdict as every cell's exact bounds
    (:func:`arr_stats.publication.audit.witness_ranges`). Exact bounds for
    every cell – two integer programmes each, over a thousand cells and more
    once the indicators' cohorts are in – would take minutes. ``build`` is
    the build already loaded with ``config`` (else it is loaded here).

    Returns
    -------
    list of Path
        The files written (:func:`arr_stats.publication.linked.write_publication`).
    """
    from arr_stats.derive.load import load_build

    derived = build if build is not None else load_build(derived_dir, config, lazy=True)
    ctx = ReportContext(derived, int(year), None, None, "")
    publication = _compute_publication(ctx)
    folder = publication_folder(ctx.derived.directory, year)
    return linked.write_publication(publication, folder, _publication_fingerprint(ctx))


def _shares(suppressed: disclosure.SuppressedTable, column: str, lang: str = "nb") -> list[str]:
    """A column's shares of its total, printed where the count and the total are shown."""
    totals = suppressed.counts.loc[linked.TOTAL]
    show = linked.share_shown(suppressed.mask)[column].to_numpy()
    share = (suppressed.counts[column] / totals[column]).to_numpy() if totals[column] else None
    return [
        nb_percent(share[i], 0, lang) if share is not None and show[i] else ""
        for i in range(len(show))
    ]


def _row_label(variable: str, label: str, ctx: ReportContext) -> str:
    """A row of a protected participants table (bokmål, as protected) in the edition's language.

    The publication is protected once for every edition, with the bokmål
    labels of :func:`arr_stats.plotting.group_label` and :data:`UNKNOWN_LABEL`;
    an edition in another language prints them from the data dictionary.
    """
    if ctx.lang == labels.DEFAULT_LANGUAGE:
        return label
    if label == linked.TOTAL:
        return ctx.total_label
    if label == UNKNOWN_LABEL:
        return ctx.unknown_label
    from arr_stats.dictionary import load_dictionary
    from arr_stats.plotting import group_label

    if variable == "diagnosis_group":
        groups = load_dictionary().diagnosis_groups
        key = next((k for k, v in groups.items() if v["label"] == label), None)
        return label if key is None else str(group_label(key, ctx.lang))
    return str(code_label(variable, label, ctx.lang))


def indicator_by_institution(
    agg: pd.DataFrame, ctx: ReportContext, ind_ids: Sequence[str], caption: str
) -> HtmlBlock:
    """Some indicators of the report year per institution, with the national value."""
    this = agg[(agg["year"] == ctx.year) & agg["ind_id"].isin(ind_ids)]
    params = ctx.config.disclosure
    names = ctx.institution_names()
    inst = this[this["unit"] == indicators.UNIT_INSTITUTION]
    units = sorted(inst["orgnr"].astype(str).unique(), key=lambda u: names.get(u, u))
    rows, classes = [], []
    column = ctx.t("col.institution")
    for unit in [*units, None]:
        entry = {column: ctx.national_label if unit is None else names.get(unit, unit)}
        for ind_id in ind_ids:
            if unit is None:
                pick = this[(this["ind_id"] == ind_id) & (this["unit"] == indicators.UNIT_NATIONAL)]
            else:
                pick = inst[(inst["ind_id"] == ind_id) & (inst["orgnr"].astype(str) == unit)]
            row = _row(pick.set_index("ind_id"), ind_id)
            entry[ctx.t(f"indicator.{ind_id}")] = _shown(row, ind_id, params, ctx.lang)
            flag = None if row is None else _flag_text(row["coverage_flag"], ctx)
            if unit is not None and flag is not None and flag not in entry[column]:
                entry[column] += f" ({flag})"
        rows.append(entry)
        classes.append("total" if unit is None else ("own" if unit == ctx.institution else ""))
    table = pd.DataFrame(rows)
    return html_table(table, caption=caption, numeric=list(table.columns[1:]), row_classes=classes)


def _count_text(counts: pd.Series, params: Any, lang: str = "nb") -> list[str]:
    """Counts as the report prints them: "<5" for 1 … ``min_cell`` − 1
    (:func:`~arr_stats.publication.disclosure.is_small_count`), else in the style of ``lang``."""
    small = disclosure.is_small_count(counts, params)
    return [
        disclosure.small_count_label(params) if s else nb_number(v, 0, lang)
        for s, v in zip(small, counts, strict=True)
    ]


def linkage_table(ctx: ReportContext) -> HtmlBlock:
    """The linkage rate of episodes and persons to the NAV data.

    A share is shown with its base, so it is hidden (like any proportion,
    :func:`~arr_stats.publication.disclosure.hidden_statistic_mask`) when
    the linked or the unlinked count is 1 … ``min_cell`` − 1 or the base is
    below ``min_denominator``: 98,0 % of 200 would give back 4 unlinked.
    """
    linkage = ctx.derived.linkage.set_index("measure")["value"]
    params = ctx.config.disclosure
    measure_column = ctx.t("col.measure")
    measures = [
        {measure_column: what, "part": linkage[part], "whole": linkage[whole]}
        for what, part, whole in (
            (ctx.t("table.linked_episodes"), "episodes_linked", "episodes"),
            (ctx.t("table.linked_persons"), "persons_matched", "persons"),
        )
        if part in linkage and whole in linkage and linkage[whole] > 0
    ]
    frame = pd.DataFrame(measures, columns=[measure_column, "part", "whole"])
    hidden = disclosure.hidden_statistic_mask(frame, "whole", params, "part").to_numpy()
    share_column, base_column = ctx.t("col.share"), ctx.t("col.base")
    table = pd.DataFrame(
        {
            measure_column: frame[measure_column],
            share_column: [
                disclosure.small_group_label(params) if h else ctx.percent(p / w, 1)
                for h, p, w in zip(hidden, frame["part"], frame["whole"], strict=True)
            ],
            base_column: _count_text(frame["whole"], params, ctx.lang),
        }
    )
    return html_table(
        table,
        caption=ctx.t("caption.linkage"),
        numeric=[share_column, base_column],
        note=ctx.t(
            "table.linkage_note",
            label=disclosure.small_group_label(params),
            min_cell=params.min_cell,
        ),
    )


#: Background variables of section 3 (columns of ``episodes``) and their printed names (nb;
#: every language in :mod:`arr_stats.labels`, keys ``variable.*``).
PARTICIPANT_VARIABLES: dict[str, str] = labels.group("variable")


def participants_table(ctx: ReportContext, variable: str) -> HtmlBlock:
    """Distribution of one background variable in the report year (own unit and the rest).

    The cells are the year's jointly protected publication's (:func:`year_publication`):
    the own unit's, the rest of the country's and the nation's columns are
    protected together with every other edition's.
    """
    cohort = ctx.process_cohort()
    small_unit = ctx.own_is_small(cohort)
    table = linked.participants_table_name(variable)
    if ctx.is_national or small_unit:
        columns = [(linked.NATIONAL, ctx.national_label)]
    else:
        columns = [
            (linked.unit_key(ctx.institution), ctx.own_label),
            (linked.rest_key(ctx.institution), ctx.rest_label),
        ]
    suppressed = year_publication(ctx).grid(table, columns)
    display = suppressed.display
    name = ctx.t(f"variable.{variable}")
    out = pd.DataFrame({name: [_row_label(variable, str(v), ctx) for v in display.index]})
    for _, column in columns:
        out[ctx.t("col.n_suffix", column=column)] = display[column].to_numpy()
        out[ctx.t("col.pct_suffix", column=column)] = _shares(suppressed, column, ctx.lang)
    return html_table(
        out,
        caption=ctx.t("caption.participants", variable=name, year=ctx.year),
        numeric=list(out.columns[1:]),
        row_classes=["total" if v == ctx.total_label else "" for v in out.iloc[:, 0]],
        note=ctx.t("table.participants_small_note", unit=ctx.unit_label) if small_unit else None,
    )


def institutions_table(ctx: ReportContext) -> HtmlBlock:
    """The institutions' background forms of the report year.

    The patient count is a count of persons (:func:`~arr_stats.publication.
    disclosure.suppress_counts`), and the form's statistics of those persons
    (mean age, waiting time, programme length) are hidden for an institution
    with fewer than ``min_denominator`` patients (or none given): a mean age
    of one patient is that patient's age.
    """
    forms = ctx.derived.institutions
    forms = forms[forms["year"] == ctx.year].sort_values("name")
    params = ctx.config.disclosure
    small = disclosure.small_group_mask(forms, "n_patients", params).to_numpy()
    label = disclosure.small_group_label(params)

    def statistic(column: str, decimals: int) -> list[str]:
        return [
            label if s else ctx.number(v, decimals)
            for s, v in zip(small, forms[column], strict=True)
        ]

    numbers = {
        ctx.t("col.arr_patients"): _count_text(forms["n_patients"], params, ctx.lang),
        ctx.t("col.mean_age"): statistic("mean_age", 1),
        ctx.t("col.waiting_days"): statistic("waiting_days", 0),
        ctx.t("col.programme_weeks"): statistic("programme_weeks", 1),
    }
    column = ctx.t("col.institution")
    table = pd.DataFrame(
        {
            column: forms["name"].astype(str).to_numpy(),
            ctx.t("col.region"): forms["health_region"]
            .astype(object)
            .fillna("–")
            .astype(str)
            .to_numpy(),
            **numbers,
        }
    )
    own_name = ctx.institution_name
    return html_table(
        table,
        caption=ctx.t("caption.institutions", year=ctx.year),
        numeric=list(numbers),
        row_classes=["own" if own_name and n == own_name else "" for n in table[column]],
        note=ctx.t("table.institutions_note", label=label),
    )


@needs_outcome_cohort
def status_table(ctx: ReportContext) -> HtmlBlock:
    """Daily state 3, 6 and 12 months after discharge (own unit), counts and shares."""
    from arr_stats.plotting import state_label

    if ctx.own_is_small(ctx.outcome_cohort()):
        return ctx.small_unit_note()
    unit = linked.NATIONAL if ctx.is_national else linked.unit_key(ctx.institution)
    suppressed = year_publication(ctx).grid(linked.STATUS_TABLE, [(unit, "")])
    index = [
        state_label(s, ctx.lang) if s != linked.TOTAL else ctx.total_label
        for s in suppressed.display.index
    ]
    state_column = ctx.t("col.state")
    months = {linked.month_label(m): m for m in ctx.config.outcomes.month_days}
    out = pd.DataFrame({state_column: index})
    for column in suppressed.counts.columns:
        printed = (
            ctx.t("col.months", months=months[column])
            if column in months
            else ctx.total_label
            if column == linked.TOTAL
            else column
        )
        out[ctx.t("col.n_suffix", column=printed)] = suppressed.display[column].to_numpy()
        out[ctx.t("col.pct_suffix", column=printed)] = _shares(suppressed, column, ctx.lang)
    return html_table(
        out,
        caption=ctx.t("caption.status", unit=ctx.unit_label, year=ctx.year - 1),
        numeric=list(out.columns[1:]),
        row_classes=["total" if v == ctx.total_label else "" for v in out[state_column]],
        note=ctx.t("table.status_note"),
    )


@needs_outcome_cohort
def cumulative_incidence_table(ctx: ReportContext) -> HtmlBlock:
    """Cumulative incidence at 3, 6 and 12 months by diagnosis group (own unit).

    The values are those the pooled curve of Figure "etter diagnosegruppe"
    passes through (:func:`~arr_stats.publication.disclosure.pooled_values_at`):
    the fixed days are block boundaries of that curve, so a shown value is the
    exact estimate; where the events before a day could not be made safe the
    value is hidden (a value there would give back how many returned between
    two drawn steps).
    """
    from arr_stats.plotting import group_label

    if ctx.own_is_small(ctx.outcome_cohort()):
        return ctx.small_unit_note()
    cohort = ctx.own(ctx.outcome_cohort())
    params = ctx.config.disclosure
    fitted = stats.CumulativeIncidence(event=domain.EVENT_RTW).fit(cohort, by="diagnosis_group")
    curve = fitted.curve_
    month_days = sorted(ctx.config.outcomes.month_days.items())
    values = disclosure.pooled_values_at(curve, params, [day for _, day in month_days])
    values = values.assign(group=values["group"].astype(object)).set_index(["group", "time"])
    groups = list(curve["group"].astype(object).drop_duplicates())
    n = cohort.groupby(cohort["diagnosis_group"].astype(object), observed=True).size()
    # The n column and its total (the cohort, published elsewhere too) are one
    # line: a small group's n is hidden with a complement, so that the total
    # minus the shown groups does not give it back.
    line = disclosure.suppress_with_margins(
        pd.DataFrame({"n": [int(n.get(g, 0)) for g in groups]}, index=groups), params
    )
    sizes = line.display["n"]
    shown_groups = set(_pooled(curve, ctx)["group"].astype(object))
    rows = []
    for group in groups:
        entry = {
            ctx.t("col.diagnosis_group"): str(group_label(group, ctx.lang)),
            "n": sizes.loc[group],
        }
        for months, day in month_days:
            column = ctx.t("col.months", months=months)
            if group not in shown_groups:
                entry[column] = disclosure.small_group_label(params)
                continue
            if line.mask.loc[group, "n"]:  # an interval's width would tell the hidden n
                entry[column] = disclosure.HIDDEN_MARK
                continue
            r = values.loc[(group, day)]
            if not r["shown"]:
                entry[column] = disclosure.HIDDEN_MARK
                continue
            entry[column] = (
                f"{ctx.percent(r['estimate'])} "
                f"({ctx.number(100 * r['lower'])}–{ctx.percent(r['upper'])})"
            )
        rows.append(entry)
    rows.append({ctx.t("col.diagnosis_group"): ctx.total_label, "n": sizes.iloc[-1]})
    table = pd.DataFrame(rows).fillna("")
    return html_table(
        table,
        caption=ctx.t("caption.cumulative", unit=ctx.unit_label, year=ctx.year - 1),
        numeric=list(table.columns[1:]),
        row_classes=[
            "total" if v == ctx.total_label else "" for v in table[ctx.t("col.diagnosis_group")]
        ],
        note=ctx.t(
            "table.cumulative_note",
            hidden=disclosure.HIDDEN_MARK,
            min_cell=params.min_cell,
            interval_note=interval_note(fitted.cluster_, ctx.lang),
        ),
    )


def _work_ability_groups(ctx: ReportContext) -> pd.DataFrame:
    """The pairs of ``arr_wa_change`` labelled as the table shows them (``report_unit``).

    The cohort is the indicator's (:func:`arr_stats.indicators.work_ability_pairs`)
    and so are the pooled units (those whose ``arr_wa_change`` row the year's
    publication shows, :func:`hidden_indicator_units`):
    "resten av landet" and the nation pool only the units whose indicator
    is shown, so each n here is the indicator's n of the same unit, rest or
    nation. The own unit is always its own row (hidden when small); when it
    is hidden, or too small for a table of its own (:meth:`ReportContext.
    own_is_small`), it is compared with the nation instead of the rest.
    """
    d = ctx.derived
    pairs = indicators.work_ability_pairs(d.episodes, d.responses, ctx.year)
    unit = pairs["institution_id"].astype(str)
    sizes = unit.value_counts().sort_index().rename("n").to_frame()
    shown = set(sizes.index.astype(str)) - hidden_indicator_units(ctx, "arr_wa_change")
    earlier = d.episodes[d.episodes["discharge_year"] == ctx.year - 1]
    pooled = unit.isin(shown)
    if ctx.is_national or ctx.own_is_small(ctx.reportable(earlier)):
        return pairs[pooled].assign(report_unit=ctx.national_label)
    own = unit == ctx.institution
    others = pooled & ~own
    label = ctx.rest_label if ctx.institution in shown else ctx.national_label
    return pd.concat(
        [pairs[own].assign(report_unit=ctx.own_label), pairs[others].assign(report_unit=label)],
        ignore_index=True,
    )


@needs_outcome_cohort
def work_ability_change_table(ctx: ReportContext) -> HtmlBlock:
    """Paired change in work ability T0 → T3 with a t interval, on the cohort of ``arr_wa_change``."""
    groups = _work_ability_groups(ctx)
    params = ctx.config.disclosure
    if groups.empty:  # no unit with enough pairs to show (the nation pools none)
        text = ctx.t("table.wa_no_pairs", label=disclosure.small_group_label(params))
        return HtmlBlock(f'<p class="table-note">{html.escape(text)}</p>')
    long = pd.concat(
        [
            groups[["episode_id"]].assign(point=point, work_ability=groups[column])
            for point, column in (("T0", "work_ability_t0"), ("T3", "work_ability_t3"))
        ],
        ignore_index=True,
    )
    change = stats.work_ability_change(long, by="report_unit", episodes=groups)
    order = [ctx.own_label, ctx.rest_label, ctx.national_label]
    change = change.sort_values(
        "group", key=lambda g: g.astype(object).map(order.index), kind="mergesort"
    )
    rows = []
    for _, r in change.iterrows():
        small = r["n"] < params.min_denominator
        change_column = ctx.t("col.change_ci")
        rows.append(
            {
                ctx.t("col.unit"): str(r["group"]),
                "n": ctx.number(r["n"])
                if not small
                else disclosure.small_count_label(params)
                if r["n"] < params.min_cell
                else ctx.number(r["n"]),
                "T0": "" if small else ctx.number(r["mean_from"], 1),
                "T3": "" if small else ctx.number(r["mean_to"], 1),
                change_column: disclosure.small_group_label(params)
                if small
                else f"{format_value('arr_wa_change', r['mean_change'], True, ctx.lang)} "
                f"({format_interval('arr_wa_change', r['lower'], r['upper'], ctx.lang)})",
            }
        )
    table = pd.DataFrame(rows)
    cluster = resolve_cluster(domain.DEFAULT_CLUSTER, long, groups)
    return html_table(
        table,
        caption=ctx.t("caption.wa_change", year=ctx.year - 1),
        numeric=["n", "T0", "T3", ctx.t("col.change_ci")],
        note=interval_note(cluster, ctx.lang),
    )


#: Register day of each follow-up point (T1 at discharge, T2 6 and T3 12 months after).
POINT_MONTHS = domain.RESPONSE_POINT_MONTHS


def _share_or_label(numerator: int, n: int, params: Any, lang: str = "nb") -> str:
    """``numerator / n`` as a percentage, or the small-group label where it may not be shown."""
    frame = pd.DataFrame({"n": [n], "numerator": [numerator]})
    if disclosure.hidden_statistic_mask(frame, "n", params, "numerator").iloc[0]:
        return disclosure.small_group_label(params)
    return nb_percent(numerator / n, 0, lang)


@needs_outcome_cohort
def work_status_table(ctx: ReportContext) -> HtmlBlock:
    """Self-reported work status at T1–T3 beside the register state at the same points."""
    from arr_stats.plotting import state_label

    responses, cohort = _own_responses(ctx)
    if ctx.own_is_small(cohort):
        return ctx.small_unit_note()
    cohort = ctx.own(cohort)
    responses = responses[responses["episode_id"].isin(cohort["episode_id"])]
    params = ctx.config.disclosure
    # the register states of the cohort's units (whole units: reportable() keeps or drops a unit)
    register = year_results.shared(ctx, year_results.REGISTER_COUNTS, year_results.register_counts)
    register = register[register["unit"].isin(set(cohort["institution_id"].astype(str)))]
    register = register.groupby("day")[["observed", "in_state"]].sum()
    counts = []
    for point, months in POINT_MONTHS.items():
        answered = responses[(responses["point"] == point) & responses["work_status"].notna()]
        day = ctx.config.outcomes.month_days.get(months, 0)
        on_day = register.loc[day] if day in register.index else {"observed": 0, "in_state": 0}
        counts.append(
            {
                "point": point,
                "months": months,
                "n": len(answered),
                "working": answered["work_status"].astype(str).str.startswith("I arbeid").sum(),
                "observed": int(on_day["observed"]),
                "register": int(on_day["in_state"]),
            }
        )
    counts = pd.DataFrame(counts)
    # those followed at T1, T2, T3 are nested: a drop of 1–4 would be a count
    left = disclosure.hidden_running_totals(counts["observed"], params)
    shown_n = disclosure.suppress_counts(counts, ["n", "observed"], params)
    rows = []
    for i, c in counts.iterrows():
        rows.append(
            {
                ctx.t("col.point"): ctx.t("col.point_value", point=c["point"], months=c["months"]),
                ctx.t("col.answers_n"): shown_n["n"].iloc[i],
                ctx.t("col.self_working"): _share_or_label(c["working"], c["n"], params, ctx.lang),
                ctx.t("col.followed_n"): disclosure.HIDDEN_MARK
                if left[i]
                else shown_n["observed"].iloc[i],
                ctx.t("col.register_state", state=state_label("working", ctx.lang)): (
                    disclosure.HIDDEN_MARK
                    if left[i]
                    else _share_or_label(c["register"], c["observed"], params, ctx.lang)
                ),
            }
        )
    table = pd.DataFrame(rows)
    return html_table(
        table,
        caption=ctx.t("caption.work_status", unit=ctx.unit_label, year=ctx.year - 1),
        numeric=list(table.columns[1:]),
        note=ctx.t(
            "table.work_status_note", hidden=disclosure.HIDDEN_MARK, min_cell=params.min_cell
        ),
    )


def parameters_table(ctx: ReportContext) -> HtmlBlock:
    """The outcome and disclosure parameters of the run (section 8)."""
    out = ctx.config.outcomes
    dis = ctx.config.disclosure
    t = ctx.t
    rows = [
        (t("table.param_followup"), t("table.param_followup_value", days=out.followup_days)),
        (t("table.param_srtw"), t("table.param_srtw_value", days=out.rtw_min_days)),
        (
            t("table.param_rtw12"),
            t("table.param_rtw12_value", first=out.rtw12_first_day, last=out.rtw12_last_day),
        ),
        (
            t("table.param_status"),
            ", ".join(t("table.param_day", day=d) for _, d in sorted(out.month_days.items())),
        ),
        (t("table.param_data_end"), out.data_end.isoformat()),
        (
            t("table.param_min_cell"),
            t(
                "table.param_min_cell_value",
                n=dis.min_cell,
                label=disclosure.small_count_label(dis),
            ),
        ),
        (
            t("table.param_min_denominator"),
            t("table.param_min_denominator_value", n=dis.min_denominator),
        ),
        (
            t("table.param_complementary"),
            t("table.on") if dis.complementary_suppression else t("table.off"),
        ),
        (
            t("table.param_low_coverage"),
            t(
                "table.param_low_coverage_value",
                share=ctx.percent(ctx.config.low_coverage_threshold),
            ),
        ),
    ]
    return html_table(
        pd.DataFrame(rows, columns=[t("col.parameter"), t("col.value")]),
        caption=t("caption.parameters"),
    )


def issues_table(ctx: ReportContext) -> HtmlBlock:
    """Validation issues by table, rule and severity (row counts, small counts hidden)."""
    issues = ctx.derived.issues
    if issues.empty:
        return html_table(pd.DataFrame({ctx.t("col.finding"): [ctx.t("table.no_issues")]}))
    rows_column = ctx.t("col.rows")
    counts = (
        issues.groupby(["table", "rule", "severity"], observed=True)
        .size()
        .rename(rows_column)
        .reset_index()
        .sort_values(["table", "rule", "severity"])
    )
    counts["severity"] = (
        counts["severity"]
        .map({"error": ctx.t("table.severity_error"), "warning": ctx.t("table.severity_warning")})
        .fillna(counts["severity"])
    )
    shown = disclosure.suppress_counts(counts, [rows_column], ctx.config.disclosure)
    shown = shown.rename(
        columns={
            "table": ctx.t("col.table"),
            "rule": ctx.t("col.rule"),
            "severity": ctx.t("col.severity"),
        }
    )
    return html_table(shown, caption=ctx.t("caption.issues"), numeric=[rows_column])


def _casemix_term_label(term: str, lang: str = "nb") -> str:
    """A model term as a reader would name it: ``sex_Mann`` → "Kjønn: Mann"."""
    from arr_stats.plotting import group_label

    if term == "const":
        return t("table.term_const", lang)
    if term == "hrb_days_pre_12m":
        per = int(domain.COVARIATE_UNITS["hrb_days_pre_12m"])
        return t("table.term_hrb_days", lang, per=per)
    for variable in domain.CASEMIX_CATEGORICAL:
        if term.startswith(f"{variable}_"):
            level = code_label(variable, term[len(variable) + 1 :], lang)
            return f"{t(f'variable.{variable}', lang)}: {group_label(level, lang)}"
    return term


@needs_outcome_cohort
def casemix_table(ctx: ReportContext, ind_id: str = "arr_rtw12") -> HtmlBlock:
    """Coefficients of the national case-mix model (odds ratios with 95 % KI).

    ``hrb_days_pre_12m`` is shown per 30 days (the unit of the Cox model,
    :data:`arr_stats.domain.COVARIATE_UNITS`): OR = exp(30·β) with the
    interval exp(30·(β ± z·se)); per day it would read 1,00 (0,99–1,00).
    """
    from arr_stats.plotting import group_label

    # fitted on the units large enough to report, like every other published number
    result = casemix_result(ctx, ind_id)
    if result.n == 0:
        label = disclosure.small_group_label(ctx.config.disclosure)
        text = ctx.t("table.casemix_no_model", label=label)
        return HtmlBlock(f'<p class="table-note">{html.escape(text)}</p>')
    coef = result.coefficients[result.coefficients["estimate"].notna()]
    z = norm.ppf(0.975)
    scale = np.where(
        coef["term"] == "hrb_days_pre_12m", domain.COVARIATE_UNITS["hrb_days_pre_12m"], 1.0
    )
    odds_ratio = np.exp(scale * coef["estimate"])
    lower = np.exp(scale * (coef["estimate"] - z * coef["std_error"]))
    upper = np.exp(scale * (coef["estimate"] + z * coef["std_error"]))
    lang = ctx.lang
    odds_column, ci_column = ctx.t("col.odds_ratio"), ctx.t("col.ci95")
    table = pd.DataFrame(
        {
            ctx.t("col.term"): [
                _casemix_term_label(term, lang) for term in coef["term"].astype(str)
            ],
            odds_column: [ctx.number(v, 2) for v in odds_ratio],
            ci_column: [
                f"{ctx.number(a, 2)}–{ctx.number(b, 2)}" for a, b in zip(lower, upper, strict=True)
            ],
            "p": [ctx.number(v, 3) for v in coef["p_value"]],
        }
    )
    references = ", ".join(
        f"{ctx.t(f'variable.{variable}').lower()} "
        f"{group_label(code_label(variable, level, lang), lang)}"
        for variable, level in result.references.items()
    )
    return html_table(
        table,
        caption=ctx.t(
            "caption.casemix",
            indicator=ctx.t(f"indicator.{ind_id}").lower(),
            n=_casemix_n_text(result, ctx.config.disclosure, ctx.lang),
        ),
        numeric=[odds_column, ci_column, "p"],
        note=ctx.t("table.casemix_references", references=references)
        + _casemix_checks_note(result, ind_id, ctx),
    )


def _outside_limits(row: pd.Series, lang: str = "nb") -> str:
    """Whether a unit's O/E is above, below or within its own 95 % funnel limits."""
    if row["ratio"] > row["limit95_upper"]:
        return t("table.limits_over", lang)
    if row["ratio"] < row["limit95_lower"]:
        return t("table.limits_under", lang)
    return t("table.limits_within", lang)


#: Why a case-mix term is not shown: catalogue keys of the report's words.
_CHECK_TEXT = {
    CHECK_SEPARATION: "table.check_separation",
    CHECK_NOT_CONVERGED: "table.check_not_converged",
}


def _casemix_n_text(result: Any, params: Any, lang: str = "nb") -> str:
    """ ", n = …" for the caption: the model's n unless it would give a small count back.

    The model's episodes and those left out for an unknown outcome add up to
    the cohort, whose size other outputs show; so the two are one line with a
    total (:func:`~arr_stats.publication.disclosure.suppress_with_margins`),
    and when the count left out is hidden, the model's n is hidden too.
    """
    line = pd.DataFrame({"model": [result.n], "left_out": [result.unknown_outcome]})
    if disclosure.suppress_with_margins(line, params).mask.loc[0, "model"]:
        return ""
    return f", n = {nb_number(result.n, 0, lang)}"


def _casemix_checks_note(result: Any, ind_id: str, ctx: ReportContext) -> str:
    """The case-mix table's note on the model checks and on the episodes left out."""
    params = ctx.config.disclosure
    texts = {check: ctx.t(key) for check, key in _CHECK_TEXT.items()} | {
        CHECK_FEW_EVENTS: ctx.t("table.check_few_events", min_cell=params.min_cell),
        CHECK_UNBOUNDED: ctx.t("table.check_unbounded", max_se=MAX_STD_ERROR),
    }
    hidden = result.coefficients[result.coefficients["estimate"].isna()]
    parts = []
    if not result.converged:
        parts.append(ctx.t("table.casemix_not_converged"))
    elif len(hidden):
        listed = "; ".join(
            f"{_casemix_term_label(str(r['term']), ctx.lang)} ({texts[r['check']]})"
            for _, r in hidden.iterrows()
        )
        parts.append(ctx.t("table.casemix_hidden", listed=listed))
    left_out = result.unknown_outcome
    count = (
        disclosure.small_count_label(params)
        if 0 < left_out < params.min_cell
        else ctx.number(left_out)
    )
    if ind_id == "arr_srtw":
        days = ctx.config.outcomes.followup_days
        parts.append(ctx.t("table.casemix_censored", count=count, days=days))
    elif left_out:
        parts.append(ctx.t("table.casemix_unknown", count=count))
    return " ".join(parts)


@needs_outcome_cohort
def casemix_ratios_table(ctx: ReportContext, ind_id: str = "arr_rtw12") -> HtmlBlock:
    """Observed / expected ratio per institution with its exact interval (disclosed).

    The interval is the exact one for a sum of 0/1 outcomes
    (:func:`arr_stats.stats.oe_interval`); the last column says whether the
    ratio is outside the unit's own 95 % funnel limits
    (:func:`arr_stats.stats.oe_control_limits`).
    """
    # fitted on the units large enough to report, like every other published number
    result = casemix_result(ctx, ind_id)
    names = ctx.institution_names()
    params = ctx.config.disclosure
    rows, classes = [], []
    for _, r in result.institutions.iterrows():
        shown = not bool(r["suppressed"])
        rows.append(
            {
                ctx.t("col.institution"): names.get(str(r["orgnr"]), str(r["orgnr"])),
                "O/E": ctx.number(r["ratio"], 2) if shown else disclosure.small_group_label(params),
                ctx.t("col.ci95"): f"{ctx.number(r['lower'], 2)}–{ctx.number(r['upper'], 2)}"
                if shown
                else "",
                ctx.t("col.vs_limits"): _outside_limits(r, ctx.lang) if shown else "",
            }
        )
        classes.append("own" if str(r["orgnr"]) == ctx.institution else "")
    return html_table(
        pd.DataFrame(rows),
        caption=ctx.t("caption.casemix_ratios", indicator=ctx.t(f"indicator.{ind_id}").lower()),
        numeric=["O/E", ctx.t("col.ci95")],
        row_classes=classes,
        note=f"{ctx.t('table.casemix_ratios_note')} {OE_INTERVAL_NOTES[ctx.lang]}",
    )


def provenance_table(ctx: ReportContext) -> HtmlBlock:
    """Git commit, versions, render time, data dictionary version."""
    from arr_stats import provenance
    from arr_stats.dictionary import load_dictionary

    build = ctx.derived.build
    git = provenance.git_state()
    t = ctx.t
    version = build.get("dictionary_version", load_dictionary().version)
    rows = [
        (t("table.rendered"), ctx.render_time),
        (t("table.report_code"), _git_text(git, ctx.lang)),
        (t("table.build_code"), _git_text(build.get("git"), ctx.lang)),
        (t("table.dictionary"), t("table.dictionary_value", version=version)),
        (
            t("table.configuration"),
            shown_configuration(ctx.config)["source"] or t("table.configuration_in_code"),
        ),
    ]
    rows += [
        (t("table.package", name=k), v or t("table.not_installed"))
        for k, v in provenance.package_versions().items()
    ]
    return html_table(
        pd.DataFrame(rows, columns=[t("col.what"), t("col.value")]),
        caption=t("caption.provenance"),
    )


def _git_text(git: Any, lang: str = "nb") -> str:
    if not isinstance(git, dict) or not git.get("commit"):
        return t("table.unknown", lang)
    state = {True: t("table.git_dirty", lang), False: t("table.git_clean", lang)}.get(
        git.get("dirty"), t("table.unknown", lang)
    )
    return f"{git['commit']} ({state})"


def input_hashes_table(ctx: ReportContext) -> HtmlBlock:
    """SHA-256 of every input file of the build (from build.json)."""
    build = ctx.derived.build
    hashes = build.get("inputs") or build.get("input_hashes") or {}
    if isinstance(hashes, dict):
        items = sorted(hashes.items())
    else:
        items = []
    table = pd.DataFrame(
        [(k, v if isinstance(v, str) else json.dumps(v, sort_keys=True)) for k, v in items],
        columns=[ctx.t("col.file"), "SHA-256"],
    )
    return html_table(table, caption=ctx.t("caption.inputs"))


def provenance_base(config: RunConfig) -> Path | None:
    """The folder the provenance appendix shows paths relative to.

    The project (the source checkout) when the configuration file lies in it,
    as ``analysis/*.toml`` does; else the configuration file's folder; ``None``
    for a configuration made in code.
    """
    if config.source is None:
        return None
    source = Path(config.source).resolve()
    return PROJECT_ROOT if source.is_relative_to(PROJECT_ROOT) else source.parent


def shown_configuration(config: RunConfig) -> dict[str, Any]:
    """The run configuration as the report shows it: every path relative.

    The serialised form (:func:`arr_stats.config.config_to_dict`) with its
    paths (``paths.*``, ``report.out``, ``report.text``, ``source``) printed by
    :func:`~arr_stats.report.formats.shown_path` against
    :func:`provenance_base`: the appendix names no absolute path.
    """
    raw = config.to_dict()
    base = provenance_base(config)
    raw["paths"] = {key: shown_path(value, base) for key, value in raw["paths"].items()}
    raw["report"] = {
        **raw["report"],
        **{
            key: shown_path(raw["report"][key], base)
            for key in ("out", "text")
            if raw["report"].get(key)
        },
    }
    raw["source"] = shown_path(raw["source"], base) if raw["source"] else None
    return raw


def configuration_block(ctx: ReportContext) -> Markdown:
    """The run configuration as JSON (section 9), its paths relative (:func:`shown_configuration`)."""
    text = json.dumps(shown_configuration(ctx.config), indent=2, sort_keys=True, ensure_ascii=False)
    # no language: Quarto would colour JSON and the fallback not (one look on both)
    return Markdown(f"```\n{text}\n```\n")
