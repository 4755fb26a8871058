"""What the annual report shows: its editions' cohorts, tables and generated sentences.

``reports/arsrapport.qmd`` only calls functions: this module holds the
presentation side (cohorts of an edition, HTML tables, Norwegian number
formats, sentences that are generated from the numbers so they cannot go
stale), and :mod:`arr_stats.indicators`, :mod:`arr_stats.survival`,
:mod:`arr_stats.disclosure` and :mod:`arr_stats.plotting` do the statistics.
Every table of counts passes through :mod:`arr_stats.disclosure` here.

The functions return objects a Jupyter kernel displays (``HTML``,
``Markdown``, matplotlib figures), which both rendering paths (Quarto and the
fallback of :mod:`arr_stats.report`) turn into the page.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from IPython.display import HTML, Markdown
from matplotlib.figure import Figure
from scipy import stats

from arr_stats import disclosure, indicators, survival
from arr_stats.config import DEMO_CONFIG, RunConfig, config_from_dict, load_config
from arr_stats.derived import Derived, load_derived

#: Years shown in the development tables (the report year and the four before).
TREND_YEARS = 5
#: How each indicator's value is printed; indicators not named are shares.
VALUE_FORMAT: dict[str, str] = {"arr_hrbdays": "days", "arr_wa_change": "points"}
#: Printed names of the target levels and their CSS classes.
LEVEL_TEXT = {
    indicators.LEVEL_HIGH: ("Høy", "level-high"),
    indicators.LEVEL_MODERATE: ("Moderat", "level-moderate"),
    indicators.LEVEL_LOW: ("Lav", "level-low"),
}
#: Inline colours of the level cells, so that they survive Quarto's Typst (PDF) tables.
LEVEL_COLOURS = {"level-high": "#cfe8d5", "level-moderate": "#fbe8b5", "level-low": "#f6cfcb"}
#: Label of the pooled other institutions.
REST_LABEL = "Resten av landet"
NATIONAL_LABEL = "Nasjonalt"
OWN_LABEL = "Egen enhet"
UNKNOWN_LABEL = "Ukjent"


# ---------------------------------------------------------------- formats


def nb_number(value: float, decimals: int = 0) -> str:
    """A number in Norwegian style: decimal comma, thin space between thousands.

    Examples
    --------
    >>> nb_number(1234.5, 1), nb_number(-0.25, 2), nb_number(float("nan"))
    ('1\\u202f234,5', '−0,25', '–')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)) or pd.isna(value):
        return "–"
    text = f"{abs(float(value)):,.{decimals}f}".replace(",", "\u202f").replace(".", ",")
    return ("−" if float(value) < 0 and text.strip("0,\u202f") else "") + text


def nb_percent(share: float, decimals: int = 0) -> str:
    """A share as a Norwegian percentage.

    Examples
    --------
    >>> nb_percent(0.5432)
    '54\\xa0%'
    """
    if share is None or pd.isna(share):
        return "–"
    return f"{nb_number(100 * float(share), decimals)}\u00a0%"


def format_value(ind_id: str, value: float, signed: bool = False) -> str:
    """An indicator value with its unit.

    Examples
    --------
    >>> format_value("arr_rtw12", 0.54), format_value("arr_hrbdays", 118.0)
    ('54\\xa0%', '118 dager')
    >>> format_value("arr_wa_change", 1.37, signed=True)
    '+1,4 poeng'
    """
    if value is None or pd.isna(value):
        return "–"
    kind = VALUE_FORMAT.get(ind_id, "share")
    if kind == "days":
        return f"{nb_number(value)} dager"
    if kind == "points":
        sign = "+" if signed and value > 0 else ""
        return f"{sign}{nb_number(value, 1)} poeng"
    return nb_percent(value)


def format_interval(ind_id: str, lower: float, upper: float) -> str:
    """``lower–upper`` in the indicator's unit (without repeating it in the middle)."""
    if lower is None or upper is None or pd.isna(lower) or pd.isna(upper):
        return "–"
    kind = VALUE_FORMAT.get(ind_id, "share")
    if kind == "days":
        return f"{nb_number(lower)}–{nb_number(upper)} dager"
    if kind == "points":
        return f"{nb_number(lower, 1)} til {nb_number(upper, 1)}"
    return f"{nb_number(100 * lower)}–{nb_percent(upper)}"


def interval_name(kind: str) -> str:
    """The printed name of an interval kind of :data:`arr_stats.indicators.INTERVAL_KIND`."""
    return "kvartilbredde" if kind == "iqr" else "95\u00a0% KI"


def target_text(ind_id: str, config: RunConfig) -> str:
    """The target levels of an indicator, e.g. ``høy ≥ 60 %, lav < 40 %``."""
    target = config.targets[ind_id]
    high, low = ("≥", "<") if target.direction == "higher" else ("≤", ">")
    return (
        f"høy {high} {format_value(ind_id, target.level_green)}, "
        f"lav {low} {format_value(ind_id, target.level_yellow)}"
    )


# ---------------------------------------------------------------- HTML tables


def html_table(
    table: pd.DataFrame,
    caption: str | None = None,
    numeric: Iterable[str] = (),
    row_classes: Sequence[str] | None = None,
    cell_classes: dict[str, Sequence[str | None]] | None = None,
    note: str | None = None,
) -> HTML:
    """A DataFrame as a clean HTML table (no index, escaped text, right-aligned numbers).

    Cells with a level class (``level-high`` …) get an inline background too,
    so the colour survives Quarto's HTML → Typst table translation.

    Examples
    --------
    >>> t = html_table(pd.DataFrame({"Enhet": ["A&B"], "n": ["12"]}), numeric=["n"])
    >>> "<td>A&amp;B</td>" in t.data and '<td class="num">12</td>' in t.data
    True
    """
    numeric = set(numeric)
    cell_classes = cell_classes or {}
    head = "".join(
        f'<th class="num">{html.escape(str(c))}</th>'
        if c in numeric
        else f"<th>{html.escape(str(c))}</th>"
        for c in table.columns
    )
    rows = []
    for i, (_, row) in enumerate(table.iterrows()):
        cells = []
        for column in table.columns:
            classes = []
            if column in numeric:
                classes.append("num")
            extra = cell_classes.get(column)
            style = ""
            if extra is not None and extra[i]:
                classes.append(extra[i])
                if extra[i] in LEVEL_COLOURS:
                    style = f' style="background-color: {LEVEL_COLOURS[extra[i]]}"'
            attr = f' class="{" ".join(classes)}"' if classes else ""
            value = row[column]
            text = "" if value is None or (not isinstance(value, str) and pd.isna(value)) else value
            cells.append(f"<td{attr}{style}>{html.escape(str(text))}</td>")
        row_class = row_classes[i] if row_classes is not None and row_classes[i] else None
        tr = f'<tr class="{row_class}">' if row_class else "<tr>"
        rows.append(tr + "".join(cells) + "</tr>")
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    foot = f'<p class="table-note">{html.escape(note)}</p>' if note else ""
    return HTML(
        f'<div class="table-wrap"><table class="arr-table">{cap}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>{foot}</div>"
    )


def bullet_list(lines: Iterable[str]) -> Markdown:
    """Markdown bullet list."""
    return Markdown("\n".join(f"- {line}" for line in lines) + "\n")


# ---------------------------------------------------------------- the edition


@dataclass(frozen=True)
class ReportContext:
    """One edition of the report: the derived tables, the year, the unit.

    Attributes
    ----------
    derived
        The derived tables (:func:`arr_stats.derived.load_derived`).
    year
        Report year ``Y``: process measures use episodes discharged in ``Y``,
        12-month outcomes episodes discharged in ``Y − 1`` (outcomes.md).
    institution
        Institution id of the edition; ``None`` for the national edition.
    institution_name
        Its name from the background form.
    render_time
        When the edition was rendered (provenance).
    """

    derived: Derived
    year: int
    institution: str | None
    institution_name: str | None
    render_time: str

    @property
    def config(self) -> RunConfig:
        """The run configuration of the edition."""
        return self.derived.config

    @property
    def is_national(self) -> bool:
        """Whether this is the national edition."""
        return self.institution is None

    @property
    def unit_label(self) -> str:
        """How the edition's own unit is named in text."""
        return NATIONAL_LABEL if self.is_national else (self.institution_name or self.institution)

    @property
    def trend_years(self) -> list[int]:
        """The report years of the development tables that have data."""
        first = int(self.derived.episodes["discharge_year"].min()) + 1
        return [y for y in range(self.year - TREND_YEARS + 1, self.year + 1) if y >= first]

    def institution_names(self) -> dict[str, str]:
        """Institution id → name (the latest background form)."""
        forms = self.derived.institutions.sort_values("year")
        names = forms.drop_duplicates("institution_id", keep="last")
        return dict(
            zip(names["institution_id"].astype(str), names["name"].astype(str), strict=True)
        )

    def own(self, table: pd.DataFrame) -> pd.DataFrame:
        """The rows of the edition's own unit (all rows in the national edition)."""
        if self.is_national:
            return table
        return table[table["institution_id"].astype(str) == self.institution]

    def rest(self, table: pd.DataFrame) -> pd.DataFrame:
        """The rows of all other institutions (empty in the national edition)."""
        if self.is_national:
            return table.iloc[0:0]
        return table[table["institution_id"].astype(str) != self.institution]

    def own_is_small(self, cohort: pd.DataFrame) -> bool:
        """Whether the edition's own unit has fewer than ``min_denominator`` rows in ``cohort``.

        (After :meth:`reportable` such a unit has no rows left at all.)

        Such a unit gets no distribution of its own in any table: even its
        zeros would tell which categories its few persons are in. And its
        "rest of the country" column would give its distribution away by
        difference with the national edition, so its edition shows the
        national distribution instead (see :func:`participants_table`).
        """
        if self.is_national:
            return False
        return len(self.own(cohort)) < self.config.disclosure.min_denominator

    def small_unit_note(self) -> HTML:
        """The note shown where a small unit's own table is withheld."""
        label = disclosure.small_group_label(self.config.disclosure)
        return HTML(
            f'<p class="table-note">{html.escape(self.unit_label)}: for få opphold i '
            f"kohorten ({html.escape(label)}); tabellen vises ikke av personvernhensyn.</p>"
        )

    def reportable(self, cohort: pd.DataFrame) -> pd.DataFrame:
        """The rows of ``cohort`` that may enter a published number.

        A unit with fewer than ``min_denominator`` rows in a cohort is left out
        of every number computed from that cohort, in every edition – national
        and "resten av landet" included – as :func:`arr_stats.indicators.
        aggregate_indicators` leaves out the units it hides. Otherwise the same
        statistic over two nested populations (e.g. a national value with and
        without the unit) would give the small unit's value back by difference.
        Its episodes are still counted in the table of registered episodes.
        """
        unit = cohort["institution_id"].astype(str)
        size = unit.map(unit.value_counts())
        return cohort[size >= self.config.disclosure.min_denominator]

    def process_cohort(self) -> pd.DataFrame:
        """Episodes discharged in ``Y``, of the units large enough to report (:meth:`reportable`)."""
        episodes = self.derived.episodes
        return self.reportable(episodes[episodes["discharge_year"] == self.year])

    def outcome_cohort(self) -> pd.DataFrame:
        """Outcomes of episodes discharged in ``Y − 1``, of the units large enough to report."""
        outcomes = self.derived.outcomes
        return self.reportable(outcomes[outcomes["discharge_year"] == self.year - 1])


def open_report(
    year: int,
    institution: str | int | None = None,
    config: str | Path | None = None,
    derived_dir: str | Path | None = None,
    config_json: str | None = None,
    render_time: str | None = None,
) -> ReportContext:
    """Open one edition: what the document's first cell calls with its parameters.

    Parameters
    ----------
    year
        Report year.
    institution
        Institution id, or ``None``/empty for the national edition.
    config
        Path of a TOML run configuration (default: the demo).
    derived_dir
        Folder of the derived tables (default: the configuration's).
    config_json
        The run configuration as JSON (:func:`config_to_json`); overrides
        ``config``. ``arr-stats report`` passes it, so that flags that
        override the TOML file reach the document.
    render_time
        Shown in the provenance appendix; default now (UTC).
    """
    if config_json:
        raw = json.loads(config_json)
        source = raw.pop("source", None)
        run = config_from_dict(raw, base=Path("/"), source=Path(source) if source else None)
    else:
        run = load_config(config or DEMO_CONFIG)
    derived = load_derived(run, derived_dir)
    inst = None if institution in (None, "", "None") else str(institution)
    names = derived.institutions.sort_values("year").drop_duplicates("institution_id", keep="last")
    name_of = dict(zip(names["institution_id"].astype(str), names["name"].astype(str), strict=True))
    when = render_time or dt.datetime.now(tz=dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return ReportContext(derived, int(year), inst, name_of.get(inst) if inst else None, when)


def config_to_json(config: RunConfig) -> str:
    """The run configuration in the shape of its TOML file, as JSON (for :func:`open_report`).

    Examples
    --------
    >>> from arr_stats.config import load_config, DEMO_CONFIG
    >>> c = load_config(DEMO_CONFIG)
    >>> raw = json.loads(config_to_json(c)); raw.pop("source") is not None
    True
    >>> config_from_dict(raw, base=Path("/")) == dataclasses_replace_source(c)
    True
    """
    out = config.outcomes
    raw = {
        "paths": {
            "registry": str(config.registry_dir),
            "nav": str(config.nav_dir),
            "derived": str(config.derived_dir),
        },
        "nav": {"data_end": out.data_end.isoformat(), "encoding": config.nav_encoding},
        "outcomes": {
            "followup_days": out.followup_days,
            "rtw_min_days": out.rtw_min_days,
            "rtw12_first_day": out.rtw12_first_day,
            "rtw12_last_day": out.rtw12_last_day,
            "pre_admission_days": out.pre_admission_days,
            "month_days": {str(k): v for k, v in out.month_days.items()},
            "state_order": list(out.state_order),
        },
        "disclosure": {
            "min_cell": config.disclosure.min_cell,
            "min_denominator": config.disclosure.min_denominator,
            "complementary_suppression": config.disclosure.complementary_suppression,
            "survival_pooling": config.disclosure.survival_pooling,
        },
        "targets": {
            k: {
                "level_green": t.level_green,
                "level_yellow": t.level_yellow,
                "direction": t.direction,
            }
            for k, t in config.targets.items()
        },
        "report": {
            "out": str(config.report_dir),
            "low_coverage_threshold": config.low_coverage_threshold,
        },
        "source": str(config.source) if config.source else None,
    }
    return json.dumps(raw, sort_keys=True, ensure_ascii=False)


def dataclasses_replace_source(config: RunConfig) -> RunConfig:
    """The configuration without its ``source`` (for comparing round trips)."""
    import dataclasses

    return dataclasses.replace(config, source=None)


# ---------------------------------------------------------------- 1 Sammendrag


def needs_outcome_cohort(section: Callable[..., Any]) -> Callable[..., Any]:
    """Show a note instead of ``section`` when the outcome cohort is too small to report.

    Every table and figure of 12-month outcomes reads the episodes discharged
    in ``Y − 1``. In a registry's first report year, or when that cohort
    has fewer than ``min_denominator`` reportable episodes, there is nothing
    to show: the section says so rather than failing or drawing empty axes.
    """

    @functools.wraps(section)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        ctx = next(a for a in (*args, *kwargs.values()) if isinstance(a, ReportContext))
        if len(ctx.outcome_cohort()) < ctx.config.disclosure.min_denominator:
            return HTML(
                f'<p class="table-note">Ingen 12-månedersutfall å vise: for få opphold '
                f"avsluttet i {ctx.year - 1} ({disclosure.small_group_label(ctx.config.disclosure)}).</p>"
            )
        return section(*args, **kwargs)

    return guarded


def indicator_table(ctx: ReportContext) -> pd.DataFrame:
    """The disclosed aggregated indicators of the trend years (``indicators.csv`` rows)."""
    d = ctx.derived
    return indicators.aggregate_indicators(
        d.episodes, d.responses, d.outcomes, d.institutions, d.config, ctx.trend_years
    )


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


def _shown(row: pd.Series | None, ind_id: str, params: Any) -> str:
    if row is None:
        return disclosure.small_group_label(params)
    return format_value(ind_id, row["value"], signed=True)


def summary_table(agg: pd.DataFrame, ctx: ReportContext) -> HTML:
    """Section 1's table: each indicator with interval, target level, rest and nation."""
    units = _unit_rows(agg, ctx, ctx.year)
    params = ctx.config.disclosure
    rows, levels, flags = [], [], []
    for ind_id, name in indicators.INDICATOR_NAMES.items():
        own = _row(units["own"], ind_id)
        level = None if own is None else own["level"]
        text, css = LEVEL_TEXT.get(level, ("–", None))
        entry = {
            "Indikator": name,
            ctx.unit_label if ctx.is_national else OWN_LABEL: _shown(own, ind_id, params),
            "Intervall": "–"
            if own is None
            else f"{format_interval(ind_id, own['lower'], own['upper'])}",
            "n": "–" if own is None else nb_number(own["denominator"]),
            "Måloppnåelse": text,
        }
        if not ctx.is_national:
            entry[REST_LABEL] = _shown(_row(units["rest"], ind_id), ind_id, params)
            entry[NATIONAL_LABEL] = _shown(_row(units["national"], ind_id), ind_id, params)
        if ctx.is_national:  # the institution table is wide already; the sentences name it
            entry["Målnivå"] = target_text(ind_id, ctx.config)
        rows.append(entry)
        levels.append(css)
        flag = None if own is None or ctx.is_national else own.get("coverage_flag")
        flags.append(flag if isinstance(flag, str) else None)
    table = pd.DataFrame(rows)
    numeric = [c for c in table.columns if c not in ("Indikator", "Måloppnåelse", "Målnivå")]
    note = (
        "Intervall: 95 % konfidensintervall (Wilson for andeler, t for gjennomsnitt, "
        "Aalen–Johansen for kumulativ andel); for medianen kvartilbredden. "
        f"«{disclosure.small_group_label(params)}»: for få personer til å vise verdien."
    )
    if any(flags):
        note += f" Enheten er merket «{indicators.LOW_COVERAGE_LABEL}»."
    return html_table(
        table,
        caption=f"Kvalitetsindikatorer {ctx.year}, {ctx.unit_label}",
        numeric=numeric,
        cell_classes={"Måloppnåelse": levels},
        note=note,
    )


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
    interval = interval_name(own["interval"])
    level = LEVEL_TEXT.get(own["level"], ("ukjent", None))[0].lower()
    text = (
        f"**{name}**: {format_value(ind_id, own['value'], signed=True)} "
        f"({interval} {format_interval(ind_id, own['lower'], own['upper'])}, "
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


def trend_table(agg: pd.DataFrame, ctx: ReportContext) -> HTML:
    """Each indicator over the trend years (own unit against the rest in an institution edition)."""
    params = ctx.config.disclosure
    years = ctx.trend_years or [ctx.year]  # a first report year has no earlier year
    rows, classes = [], []
    for ind_id, name in indicators.INDICATOR_NAMES.items():
        series = ["own"] if ctx.is_national else ["own", "rest"]
        for which in series:
            entry = {"Indikator": name if which == "own" else ""}
            if not ctx.is_national:
                entry["Enhet"] = OWN_LABEL if which == "own" else REST_LABEL
            for year in years:
                units = _unit_rows(agg, ctx, year)
                entry[str(year)] = _shown(_row(units[which], ind_id), ind_id, params)
            rows.append(entry)
            classes.append("own" if which == "own" and not ctx.is_national else "")
    table = pd.DataFrame(rows)
    return html_table(
        table,
        caption=f"Utvikling {years[0]}–{years[-1]}, {ctx.unit_label}",
        numeric=[str(y) for y in years],
        row_classes=classes,
        note="Rapportår: prosessmål gjelder opphold avsluttet i året, "
        "12-månedersutfall opphold avsluttet året før.",
    )


# ---------------------------------------------------------------- 2 Datagrunnlag


def episodes_by_institution(ctx: ReportContext) -> HTML:
    """Registered (consenting) episodes per institution and discharge year, with totals."""
    episodes = ctx.derived.episodes
    years = [y for y in range(ctx.year - TREND_YEARS + 1, ctx.year + 1)]
    recent = episodes[episodes["discharge_year"].isin(years)]
    names = ctx.institution_names()
    counts = pd.crosstab(recent["institution_id"].astype(str), recent["discharge_year"])
    counts = counts.reindex(columns=[y for y in years if y in counts.columns], fill_value=0)
    counts.index = [names.get(i, i) for i in counts.index]
    counts = counts.sort_index()
    counts.columns = [str(c) for c in counts.columns]
    shown = disclosure.suppress_with_margins(counts, ctx.config.disclosure).display
    own_name = names.get(ctx.institution) if ctx.institution else None
    table = shown.reset_index(names="Institusjon")
    return html_table(
        table,
        caption="Registrerte opphold med samtykke, etter institusjon og utskrivningsår",
        numeric=list(shown.columns),
        row_classes=[
            "total" if name == "Totalt" else ("own" if own_name and name == own_name else "")
            for name in table["Institusjon"]
        ],
        note=f"«{disclosure.small_count_label(ctx.config.disclosure)}» og "
        f"«{disclosure.HIDDEN_MARK}»: skjult av personvernhensyn (små tall og "
        "tall som ellers kunne regnes ut fra summene).",
    )


def indicator_by_institution(
    agg: pd.DataFrame, ctx: ReportContext, ind_ids: Sequence[str], caption: str
) -> HTML:
    """Some indicators of the report year per institution, with the national value."""
    this = agg[(agg["year"] == ctx.year) & agg["ind_id"].isin(ind_ids)]
    params = ctx.config.disclosure
    names = ctx.institution_names()
    inst = this[this["unit"] == indicators.UNIT_INSTITUTION]
    units = sorted(inst["orgnr"].astype(str).unique(), key=lambda u: names.get(u, u))
    rows, classes = [], []
    for unit in [*units, None]:
        entry = {"Institusjon": NATIONAL_LABEL if unit is None else names.get(unit, unit)}
        for ind_id in ind_ids:
            if unit is None:
                pick = this[(this["ind_id"] == ind_id) & (this["unit"] == indicators.UNIT_NATIONAL)]
            else:
                pick = inst[(inst["ind_id"] == ind_id) & (inst["orgnr"].astype(str) == unit)]
            row = _row(pick.set_index("ind_id"), ind_id)
            entry[indicators.INDICATOR_NAMES[ind_id]] = _shown(row, ind_id, params)
            flag = None if row is None else row["coverage_flag"]
            if unit is not None and isinstance(flag, str) and flag not in entry["Institusjon"]:
                entry["Institusjon"] += f" ({flag})"
        rows.append(entry)
        classes.append("total" if unit is None else ("own" if unit == ctx.institution else ""))
    table = pd.DataFrame(rows)
    return html_table(table, caption=caption, numeric=list(table.columns[1:]), row_classes=classes)


def linkage_table(ctx: ReportContext) -> HTML:
    """The linkage rate of episodes and persons to the NAV data."""
    linkage = ctx.derived.linkage.set_index("measure")["value"]
    rows = []
    for what, part, whole in (
        ("Opphold koblet til NAV-data", "episodes_linked", "episodes"),
        ("Personer koblet til NAV-data", "persons_matched", "persons"),
    ):
        if part in linkage and whole in linkage and linkage[whole] > 0:
            rows.append(
                {
                    "Mål": what,
                    "Andel": nb_percent(linkage[part] / linkage[whole], 1),
                    "Grunnlag": nb_number(linkage[whole]),
                }
            )
    return html_table(
        pd.DataFrame(rows),
        caption="Kobling til NAV-data (alle år i leveransen)",
        numeric=["Andel", "Grunnlag"],
    )


# ---------------------------------------------------------------- 3 Deltakerne


#: Background variables of section 3 (columns of ``episodes``) and their printed names.
PARTICIPANT_VARIABLES: dict[str, str] = {
    "age_group": "Aldersgruppe",
    "sex": "Kjønn",
    "diagnosis_group": "Diagnosegruppe",
    "sick_leave_status": "Sykmeldingsstatus ved T0",
    "rehab_mode": "Rehabiliteringstype",
    "education": "Utdanning",
}


def participants_table(ctx: ReportContext, variable: str) -> HTML:
    """Distribution of one background variable in the report year (own unit and the rest)."""
    from arr_stats.plotting import group_label

    cohort = ctx.process_cohort()
    if variable == "age_group":
        raw = survival.age_group(cohort["age_at_admission"])
    else:
        raw = cohort[variable]
    categories = list(raw.cat.categories) if isinstance(raw.dtype, pd.CategoricalDtype) else []
    # dict.fromkeys: a category labelled like the missing values ("Ukjent") is listed once
    order = list(dict.fromkeys([str(group_label(c)) for c in categories] + [UNKNOWN_LABEL]))
    values = raw.astype(object)
    values = values.where(values.notna(), UNKNOWN_LABEL).map(lambda v: str(group_label(v)))
    small_unit = ctx.own_is_small(cohort)
    if ctx.is_national or small_unit:
        unit = pd.Series(NATIONAL_LABEL, index=cohort.index)
    else:
        own = cohort["institution_id"].astype(str) == ctx.institution
        unit = pd.Series(np.where(own, OWN_LABEL, REST_LABEL), index=cohort.index)
    counts = pd.crosstab(values, unit)
    counts = counts[[c for c in (NATIONAL_LABEL, OWN_LABEL, REST_LABEL) if c in counts.columns]]
    known = [o for o in order if o in counts.index]
    counts = counts.reindex(known + sorted(set(counts.index) - set(known)))
    suppressed = disclosure.suppress_with_margins(counts, ctx.config.disclosure)
    display = suppressed.display.copy()
    totals = suppressed.counts.loc["Totalt"]
    out = pd.DataFrame({PARTICIPANT_VARIABLES[variable]: display.index})
    for column in counts.columns:
        out[f"{column}, n"] = display[column].to_numpy()
        share = suppressed.counts[column] / totals[column] if totals[column] else np.nan
        hidden = suppressed.mask[column].to_numpy()
        out[f"{column}, %"] = [
            "" if h else nb_percent(s) for h, s in zip(hidden, np.asarray(share), strict=True)
        ]
    return html_table(
        out,
        caption=f"{PARTICIPANT_VARIABLES[variable]}, opphold avsluttet i {ctx.year}",
        numeric=list(out.columns[1:]),
        row_classes=["total" if v == "Totalt" else "" for v in out.iloc[:, 0]],
        note=(
            f"{ctx.unit_label} har for få opphold til å vise egen fordeling; "
            "tabellen viser landet samlet."
        )
        if small_unit
        else None,
    )


# ---------------------------------------------------------------- 4 Institusjonene


def institutions_table(ctx: ReportContext) -> HTML:
    """The institutions' background forms of the report year."""
    forms = ctx.derived.institutions
    forms = forms[forms["year"] == ctx.year].sort_values("name")
    table = pd.DataFrame(
        {
            "Institusjon": forms["name"].astype(str),
            "Helseregion": forms["health_region"].astype(object).fillna("–").astype(str),
            "ARR-pasienter": [nb_number(v) for v in forms["n_patients"]],
            "Snittalder": [nb_number(v, 1) for v in forms["mean_age"]],
            "Ventetid (dager)": [nb_number(v) for v in forms["waiting_days"]],
            "Varighet (uker)": [nb_number(v, 1) for v in forms["programme_weeks"]],
        }
    )
    own_name = ctx.institution_name
    return html_table(
        table,
        caption=f"Institusjonsskjema {ctx.year}",
        numeric=["ARR-pasienter", "Snittalder", "Ventetid (dager)", "Varighet (uker)"],
        row_classes=["own" if own_name and n == own_name else "" for n in table["Institusjon"]],
        note="Antall ARR-pasienter er institusjonens eget tall (registrert eller ikke) og er "
        "nevneren i dekningsgraden.",
    )


# ---------------------------------------------------------------- 5 Arbeidsdeltakelse


@needs_outcome_cohort
def state_occupation_figure(ctx: ReportContext) -> Figure:
    """Stacked daily states over the 12 months after discharge (own unit; rest beside it)."""
    from arr_stats.plotting import plot_state_occupation

    cohort = ctx.outcome_cohort()
    groups = _unit_groups(ctx, cohort)
    states = ctx.derived.daily_states
    states = states[states["episode_id"].isin(cohort["episode_id"])]
    occupation = survival.state_occupation(
        states, groups, by="report_unit", last_day=ctx.config.outcomes.followup_days
    )
    return plot_state_occupation(
        occupation,
        state_order=ctx.config.outcomes.state_order,
        ncols=2 if not ctx.is_national else 1,
    )


def _unit_groups(ctx: ReportContext, cohort: pd.DataFrame, national: bool = False) -> pd.DataFrame:
    """Label each row ``report_unit``: own unit against the rest, or all national.

    A unit too small to be shown (:meth:`ReportContext.own_is_small`), or any
    edition when ``national`` is asked for, is compared with the national
    figures instead of "resten av landet": national (from the national
    edition) minus the rest would give back the small unit's own values.
    """
    if ctx.is_national or national or ctx.own_is_small(cohort):
        return cohort.assign(report_unit=NATIONAL_LABEL)
    own = cohort["institution_id"].astype(str) == ctx.institution
    return cohort.assign(report_unit=np.where(own, OWN_LABEL, REST_LABEL))


def _own_hidden(table: pd.DataFrame, params: Any) -> bool:
    """Whether any statistic of the own unit in a ``group, n`` table is hidden."""
    own = table[table["group"].astype(object) == OWN_LABEL]
    return bool(disclosure.small_group_mask(own, "n", params).any())


@needs_outcome_cohort
def status_table(ctx: ReportContext) -> HTML:
    """Daily state 3, 6 and 12 months after discharge (own unit), counts and shares."""
    from arr_stats.plotting import state_label

    if ctx.own_is_small(ctx.outcome_cohort()):
        return ctx.small_unit_note()
    cohort = ctx.own(ctx.outcome_cohort())
    columns = {f"state_{m}m": f"{m} mnd" for m in sorted(ctx.config.outcomes.month_days)}
    order = list(ctx.config.outcomes.state_order)
    counts = pd.DataFrame(
        {
            label: cohort[col].astype(object).value_counts().reindex(order, fill_value=0)
            for col, label in columns.items()
            if col in cohort
        }
    )
    counts.index = [state_label(s) for s in counts.index]
    suppressed = disclosure.suppress_with_margins(counts, ctx.config.disclosure)
    out = pd.DataFrame({"Tilstand": suppressed.display.index})
    totals = suppressed.counts.loc["Totalt"]
    for column in counts.columns:
        out[f"{column}, n"] = suppressed.display[column].to_numpy()
        hidden = suppressed.mask[column].to_numpy()
        share = (suppressed.counts[column] / totals[column]).to_numpy()
        out[f"{column}, %"] = [
            "" if h else nb_percent(s) for h, s in zip(hidden, share, strict=True)
        ]
    return html_table(
        out,
        caption=f"Tilstand 3, 6 og 12 måneder etter utskrivning, {ctx.unit_label}, "
        f"utskrevet {ctx.year - 1}",
        numeric=list(out.columns[1:]),
        row_classes=["total" if v == "Totalt" else "" for v in out["Tilstand"]],
        note="Sensurerte opphold (ikke fulgt så lenge) er ikke med i kolonnen.",
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
) -> Figure:
    """Draw a funnel plot: ``points`` (``orgnr, x, y``), ``limits`` (``x, level, lower, upper``)."""
    import matplotlib as mpl

    from arr_stats.plotting import HOUSE_RC, PALETTE

    with mpl.rc_context(HOUSE_RC):
        fig = Figure(figsize=(7.0, 4.2))
        ax = fig.subplots()
        if points.empty or not np.isfinite(centre):
            ax.text(0.5, 0.5, "For få personer til å vise", ha="center", transform=ax.transAxes)
            return fig
        for level, style in ((0.95, "--"), (0.998, ":")):
            lim = limits[limits["level"] == level]
            text = f"{nb_number(100 * level, 1 if level > 0.99 else 0)} % grense"
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
            label="Institusjoner",
        )
        if own.any():
            ax.scatter(
                points.loc[own, "x"],
                points.loc[own, "y"],
                s=70,
                color=PALETTE[1],
                marker="D",
                zorder=4,
                label=OWN_LABEL,
            )
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        if percent:
            ax.yaxis.set_major_formatter(mpl.ticker.FuncFormatter(lambda v, _: nb_percent(v)))
        ax.legend(loc="lower right", fontsize=8)
    return fig


def _funnel_grid(x: pd.Series) -> np.ndarray:
    return np.linspace(max(5.0, float(x.min()) * 0.6), float(x.max()) * 1.1, 200)


def funnel_figure(agg: pd.DataFrame, ctx: ReportContext, ind_id: str = "arr_rtw12") -> Figure:
    """Funnel plot: each institution's value against its denominator, 95 % and 99,8 % limits."""
    this = agg[(agg["year"] == ctx.year) & (agg["ind_id"] == ind_id)]
    national = this[this["unit"] == indicators.UNIT_NATIONAL]
    units = this[(this["unit"] == indicators.UNIT_INSTITUTION) & ~this["suppressed"]]
    p = float(national["value"].iloc[0]) if len(national) else math.nan
    points = units.assign(x=units["denominator"], y=units["value"])
    limits = pd.DataFrame(columns=["x", "level", "lower", "upper"])
    if not points.empty and np.isfinite(p):
        limits = indicators.funnel_limits(p, _funnel_grid(points["x"]))
        limits = limits.rename(columns={"denominator": "x"})
    return _funnel(
        ctx,
        points,
        limits,
        p,
        f"Nasjonalt ({nb_percent(p)})",
        "Antall opphold i nevneren",
        indicators.INDICATOR_NAMES[ind_id],
        percent=True,
    )


@needs_outcome_cohort
def casemix_funnel_figure(ctx: ReportContext, ind_id: str = "arr_rtw12") -> Figure:
    """Funnel plot of the observed / expected ratios against the expected count."""
    result = indicators.casemix(ctx.outcome_cohort(), ctx.config, ctx.year, ind_id=ind_id)
    units = result.institutions[~result.institutions["suppressed"]]
    points = units.assign(x=units["expected"], y=units["ratio"])
    limits = pd.DataFrame(columns=["x", "level", "lower", "upper"])
    if not points.empty:
        limits = indicators.oe_funnel_limits(_funnel_grid(points["x"]))
        limits = limits.rename(columns={"expected": "x"})
    return _funnel(
        ctx,
        points,
        limits,
        1.0,
        "Som forventet (O/E = 1)",
        "Forventet antall (E)",
        f"O/E, {indicators.INDICATOR_NAMES[ind_id].lower()}",
        percent=False,
    )


# ---------------------------------------------------------------- 6 Tid til tilbakeføring


def _pooled(curve: pd.DataFrame, ctx: ReportContext) -> pd.DataFrame:
    return disclosure.pool_survival_steps(curve, ctx.config.disclosure)


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
    curve = survival.cumulative_incidence(cohort, event=survival.EVENT_RTW, by=by)
    return plot_cumulative_incidence(_pooled(curve, ctx), confidence=by is None)


@needs_outcome_cohort
def kaplan_meier_figure(ctx: ReportContext) -> Figure:
    """Kaplan–Meier curve of time to sustainable RTW with numbers at risk (own unit vs rest)."""
    from arr_stats.plotting import plot_survival

    cohort = _unit_groups(ctx, ctx.outcome_cohort())
    curve = survival.kaplan_meier(cohort, by="report_unit")
    return plot_survival(_pooled(curve, ctx))


@needs_outcome_cohort
def cumulative_incidence_table(ctx: ReportContext) -> HTML:
    """Cumulative incidence at 3, 6 and 12 months by diagnosis group (own unit).

    The values are read from the pooled curve that Figure "etter
    diagnosegruppe" draws, not from the exact curve: a table of exact values
    at 3 and 6 months would give back what the pooling of steps hides (how
    many returned between two drawn steps).
    """
    from arr_stats.plotting import group_label

    if ctx.own_is_small(ctx.outcome_cohort()):
        return ctx.small_unit_note()
    cohort = ctx.own(ctx.outcome_cohort())
    params = ctx.config.disclosure
    curve = survival.cumulative_incidence(cohort, event=survival.EVENT_RTW, by="diagnosis_group")
    start = curve[curve["time"] == 0]  # the pooled curve starts at its first drawn step
    pooled = _pooled(curve, ctx)
    readable = pd.concat([start, pooled[start.columns]], ignore_index=True)
    n = cohort.groupby(cohort["diagnosis_group"].astype(object), observed=True).size()
    shown_groups = set(pooled["group"].astype(object))
    rows = []
    for group in start["group"].drop_duplicates():
        size = int(n.get(group, 0))
        entry = {
            "Diagnosegruppe": str(group_label(group)),
            "n": disclosure.suppress_counts(pd.DataFrame({"n": [size]}), ["n"], params)["n"].iloc[
                0
            ],
        }
        group_curve = readable[readable["group"].astype(object) == group]
        for months, day in sorted(ctx.config.outcomes.month_days.items()):
            if group not in shown_groups:
                entry[f"{months} mnd"] = disclosure.small_group_label(params)
                continue
            r = survival.value_at(group_curve, day).iloc[0]
            entry[f"{months} mnd"] = (
                f"{nb_percent(r['estimate'])} "
                f"({nb_number(100 * r['lower'])}–{nb_percent(r['upper'])})"
            )
        rows.append(entry)
    table = pd.DataFrame(rows)
    return html_table(
        table,
        caption=f"Kumulativ andel bærekraftig tilbake i arbeid (95 % KI), {ctx.unit_label}, "
        f"utskrevet {ctx.year - 1}",
        numeric=list(table.columns[1:]),
    )


# ---------------------------------------------------------------- 7 Selvrapportert


def _own_responses(ctx: ReportContext, national: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    cohort = ctx.derived.episodes
    cohort = ctx.reportable(cohort[cohort["discharge_year"] == ctx.year - 1])
    cohort = _unit_groups(ctx, cohort, national)
    responses = ctx.derived.responses
    return responses[responses["episode_id"].isin(cohort["episode_id"])], cohort


@needs_outcome_cohort
def work_ability_figure(ctx: ReportContext) -> Figure:
    """Mean work ability T0–T3 with 95 % intervals (own unit against the rest)."""
    from arr_stats.plotting import plot_work_ability

    responses, cohort = _own_responses(ctx)
    table = survival.work_ability_by_point(responses, by="report_unit", episodes=cohort)
    if _own_hidden(table, ctx.config.disclosure):  # then compare with the nation, not the rest
        responses, cohort = _own_responses(ctx, national=True)
        table = survival.work_ability_by_point(responses, by="report_unit", episodes=cohort)
    table = disclosure.suppress_statistics(
        table, ["mean", "lower", "upper"], "n", ctx.config.disclosure
    )
    table = table[table["mean"].map(lambda v: not isinstance(v, str))]
    for column in ("mean", "lower", "upper"):
        table[column] = table[column].astype(float)
    return plot_work_ability(table)


@needs_outcome_cohort
def work_ability_change_table(ctx: ReportContext) -> HTML:
    """Paired change in work ability T0 → T3 with a t interval."""
    responses, cohort = _own_responses(ctx)
    change = survival.work_ability_change(responses, by="report_unit", episodes=cohort)
    params = ctx.config.disclosure
    if _own_hidden(change, params):  # own row stays (hidden); the rest becomes the nation
        national_responses, national_cohort = _own_responses(ctx, national=True)
        national = survival.work_ability_change(
            national_responses, by="report_unit", episodes=national_cohort
        )
        own = change[change["group"].astype(object) == OWN_LABEL]
        change = pd.concat([own, national], ignore_index=True)
    rows = []
    for _, r in change.iterrows():
        small = r["n"] < params.min_denominator
        rows.append(
            {
                "Enhet": str(r["group"]),
                "n": nb_number(r["n"])
                if not small
                else disclosure.small_count_label(params)
                if r["n"] < params.min_cell
                else nb_number(r["n"]),
                "T0": "" if small else nb_number(r["mean_from"], 1),
                "T3": "" if small else nb_number(r["mean_to"], 1),
                "Endring (95 % KI)": disclosure.small_group_label(params)
                if small
                else f"{format_value('arr_wa_change', r['mean_change'], signed=True)} "
                f"({format_interval('arr_wa_change', r['lower'], r['upper'])})",
            }
        )
    table = pd.DataFrame(rows)
    return html_table(
        table,
        caption=f"Parret endring i arbeidsevne (0–10) fra T0 til T3, utskrevet {ctx.year - 1}",
        numeric=["n", "T0", "T3", "Endring (95 % KI)"],
    )


#: Register day of each follow-up point (T1 at discharge, T2 6 and T3 12 months after).
POINT_MONTHS = indicators.RESPONSE_POINT_MONTHS


def _share_or_label(numerator: int, n: int, params: Any) -> str:
    """``numerator / n`` as a percentage, or the small-group label where it may not be shown."""
    frame = pd.DataFrame({"n": [n], "numerator": [numerator]})
    if disclosure.hidden_statistic_mask(frame, "n", params, "numerator").iloc[0]:
        return disclosure.small_group_label(params)
    return nb_percent(numerator / n)


@needs_outcome_cohort
def work_status_table(ctx: ReportContext) -> HTML:
    """Self-reported work status at T1–T3 beside the register state at the same points."""
    from arr_stats.plotting import state_label

    responses, cohort = _own_responses(ctx)
    if ctx.own_is_small(cohort):
        return ctx.small_unit_note()
    cohort = ctx.own(cohort)
    responses = responses[responses["episode_id"].isin(cohort["episode_id"])]
    params = ctx.config.disclosure
    rows = []
    for point, months in POINT_MONTHS.items():
        answered = responses[(responses["point"] == point) & responses["work_status"].notna()]
        n = len(answered)
        working = answered["work_status"].astype(str).str.startswith("I arbeid").sum()
        day = ctx.config.outcomes.month_days.get(months, 0)
        states = ctx.derived.daily_states
        states = states[states["episode_id"].isin(cohort["episode_id"]) & (states["day"] == day)]
        observed = states["state"].notna().sum()
        register = (states["state"].astype(object) == "working").sum()
        rows.append(
            {
                "Tidspunkt": f"{point} ({months} mnd)",
                "Svar, n": disclosure.suppress_counts(pd.DataFrame({"n": [n]}), ["n"], params)[
                    "n"
                ].iloc[0],
                "Selvrapportert i arbeid": _share_or_label(working, n, params),
                "Fulgt i registeret, n": disclosure.suppress_counts(
                    pd.DataFrame({"n": [observed]}), ["n"], params
                )["n"].iloc[0],
                f"Registerstatus «{state_label('working')}»": _share_or_label(
                    register, observed, params
                ),
            }
        )
    table = pd.DataFrame(rows)
    return html_table(
        table,
        caption=f"Arbeid selvrapportert og i registeret, {ctx.unit_label}, utskrevet {ctx.year - 1}",
        numeric=list(table.columns[1:]),
        note="Selvrapportert i arbeid: full eller redusert stilling. Registerstatus: ingen "
        "registrert ytelse den dagen (outcomes.md).",
    )


# ---------------------------------------------------------------- 8 Metode


def parameters_table(ctx: ReportContext) -> HTML:
    """The outcome and disclosure parameters of the run (section 8)."""
    out = ctx.config.outcomes
    dis = ctx.config.disclosure
    rows = [
        ("Oppfølgingstid F", f"{out.followup_days} dager"),
        (
            "Bærekraftig tilbakeføring L",
            f"{out.rtw_min_days} sammenhengende dager uten helserelatert ytelse",
        ),
        (
            "I arbeid 12 måneder etter",
            f"ingen helserelatert ytelse dag {out.rtw12_first_day}–{out.rtw12_last_day}",
        ),
        (
            "Status ved 3, 6, 12 mnd",
            ", ".join(f"dag {d}" for _, d in sorted(out.month_days.items())),
        ),
        ("NAV-data hentet ut", out.data_end.isoformat()),
        (
            "Minste viste antall",
            f"{dis.min_cell} (mindre vises som «{disclosure.small_count_label(dis)}»)",
        ),
        ("Minste gruppe for andeler og kurver", f"{dis.min_denominator} personer"),
        ("Komplementær undertrykking", "på" if dis.complementary_suppression else "av"),
        ("Lav dekningsgrad", f"under {nb_percent(ctx.config.low_coverage_threshold)}"),
    ]
    return html_table(
        pd.DataFrame(rows, columns=["Parameter", "Verdi"]), caption="Parametre i kjøringen"
    )


def issues_table(ctx: ReportContext) -> HTML:
    """Validation issues by table, rule and severity (row counts, small counts hidden)."""
    issues = ctx.derived.issues
    if issues.empty:
        return html_table(pd.DataFrame({"Funn": ["Ingen funn i valideringen"]}))
    counts = (
        issues.groupby(["table", "rule", "severity"], observed=True)
        .size()
        .rename("Rader")
        .reset_index()
        .sort_values(["table", "rule", "severity"])
    )
    counts["severity"] = (
        counts["severity"]
        .map({"error": "avvist", "warning": "advarsel"})
        .fillna(counts["severity"])
    )
    shown = disclosure.suppress_counts(counts, ["Rader"], ctx.config.disclosure)
    shown = shown.rename(columns={"table": "Tabell", "rule": "Regel", "severity": "Alvorlighet"})
    return html_table(shown, caption="Funn i valideringen av leveransen", numeric=["Rader"])


def _casemix_term_label(term: str) -> str:
    """A model term as a reader would name it: ``sex_Mann`` → "Kjønn: Mann"."""
    from arr_stats.plotting import group_label

    if term == "const":
        return "Konstantledd"
    if term == "hrb_days_pre_12m":
        per = int(survival.DEFAULT_COX_PER["hrb_days_pre_12m"])
        return f"Dager med helserelaterte ytelser året før innskrivning (per {per} dager)"
    for variable in indicators.CASEMIX_CATEGORICAL:
        if term.startswith(f"{variable}_"):
            level = term[len(variable) + 1 :]
            return f"{PARTICIPANT_VARIABLES[variable]}: {group_label(level)}"
    return term


@needs_outcome_cohort
def casemix_table(ctx: ReportContext, ind_id: str = "arr_rtw12") -> HTML:
    """Coefficients of the national case-mix model (odds ratios with 95 % KI).

    ``hrb_days_pre_12m`` is shown per 30 days (the unit of the Cox model,
    :data:`arr_stats.survival.DEFAULT_COX_PER`): OR = exp(30·β) with the
    interval exp(30·(β ± z·se)); per day it would read 1,00 (0,99–1,00).
    """
    from arr_stats.plotting import group_label

    # fitted on the units large enough to report, like every other published number
    result = indicators.casemix(ctx.outcome_cohort(), ctx.config, ctx.year, ind_id=ind_id)
    coef = result.coefficients
    z = stats.norm.ppf(0.975)
    scale = np.where(
        coef["term"] == "hrb_days_pre_12m", survival.DEFAULT_COX_PER["hrb_days_pre_12m"], 1.0
    )
    odds_ratio = np.exp(scale * coef["estimate"])
    lower = np.exp(scale * (coef["estimate"] - z * coef["std_error"]))
    upper = np.exp(scale * (coef["estimate"] + z * coef["std_error"]))
    table = pd.DataFrame(
        {
            "Ledd": [_casemix_term_label(t) for t in coef["term"].astype(str)],
            "Oddsratio": [nb_number(v, 2) for v in odds_ratio],
            "95 % KI": [
                f"{nb_number(a, 2)}–{nb_number(b, 2)}" for a, b in zip(lower, upper, strict=True)
            ],
            "p": [nb_number(v, 3) for v in coef["p_value"]],
        }
    )
    references = ", ".join(
        f"{PARTICIPANT_VARIABLES[variable].lower()} {group_label(level)}"
        for variable, level in result.references.items()
    )
    return html_table(
        table,
        caption=f"Case-mix-modell for {indicators.INDICATOR_NAMES[ind_id].lower()} "
        f"(logistisk, nasjonal, n = {nb_number(result.n)})",
        numeric=["Oddsratio", "95 % KI", "p"],
        note=f"Referansekategorier: {references}.",
    )


@needs_outcome_cohort
def casemix_ratios_table(ctx: ReportContext, ind_id: str = "arr_rtw12") -> HTML:
    """Observed / expected ratio per institution (disclosed)."""
    # fitted on the units large enough to report, like every other published number
    result = indicators.casemix(ctx.outcome_cohort(), ctx.config, ctx.year, ind_id=ind_id)
    names = ctx.institution_names()
    params = ctx.config.disclosure
    rows, classes = [], []
    for _, r in result.institutions.iterrows():
        shown = not bool(r["suppressed"])
        rows.append(
            {
                "Institusjon": names.get(str(r["orgnr"]), str(r["orgnr"])),
                "O/E": nb_number(r["ratio"], 2) if shown else disclosure.small_group_label(params),
                "95 % KI": f"{nb_number(r['lower'], 2)}–{nb_number(r['upper'], 2)}"
                if shown
                else "",
            }
        )
        classes.append("own" if str(r["orgnr"]) == ctx.institution else "")
    return html_table(
        pd.DataFrame(rows),
        caption=f"Observert / forventet, {indicators.INDICATOR_NAMES[ind_id].lower()}",
        numeric=["O/E", "95 % KI"],
        row_classes=classes,
    )


# ---------------------------------------------------------------- 9 Proveniens


def provenance_table(ctx: ReportContext) -> HTML:
    """Git commit, versions, render time, data dictionary version."""
    from arr_stats import provenance
    from arr_stats.dictionary import load_dictionary

    build = ctx.derived.build
    git = provenance.git_state()
    rows = [
        ("Rendret", ctx.render_time),
        ("Rapportkode (git)", _git_text(git)),
        ("Avledede tabeller bygget fra (git)", _git_text(build.get("git"))),
        ("Datadictionary", f"versjon {build.get('dictionary_version', load_dictionary().version)}"),
        ("Konfigurasjon", str(ctx.config.source or "(laget i kode)")),
    ]
    rows += [
        (f"Pakke {k}", v or "ikke installert") for k, v in provenance.package_versions().items()
    ]
    return html_table(pd.DataFrame(rows, columns=["Hva", "Verdi"]), caption="Versjoner og tid")


def _git_text(git: Any) -> str:
    if not isinstance(git, dict) or not git.get("commit"):
        return "ukjent"
    state = {True: "med ulagrede endringer", False: "ren"}.get(git.get("dirty"), "ukjent")
    return f"{git['commit']} ({state})"


def input_hashes_table(ctx: ReportContext) -> HTML:
    """SHA-256 of every input file of the build (from build.json)."""
    build = ctx.derived.build
    hashes = build.get("inputs") or build.get("input_hashes") or {}
    if isinstance(hashes, dict):
        items = sorted(hashes.items())
    else:
        items = []
    table = pd.DataFrame(
        [(k, v if isinstance(v, str) else json.dumps(v, sort_keys=True)) for k, v in items],
        columns=["Fil", "SHA-256"],
    )
    return html_table(table, caption="Inndata (SHA-256)")


def configuration_block(ctx: ReportContext) -> Markdown:
    """The run configuration as JSON (section 9)."""
    text = json.dumps(ctx.config.to_dict(), indent=2, sort_keys=True, ensure_ascii=False)
    return Markdown(f"```json\n{text}\n```\n")
