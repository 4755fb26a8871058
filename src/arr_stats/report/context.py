"""One edition of the annual report: its year, its unit and the cohorts it reads."""

from __future__ import annotations

import datetime as dt
import functools
import html
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from arr_stats.config import RunConfig, config_from_dict
from arr_stats.derive.load import Derived, load_build
from arr_stats.errors import ArrStatsError
from arr_stats.labels import DEFAULT_LANGUAGE, check_language, t
from arr_stats.publication import disclosure
from arr_stats.report.formats import HtmlBlock

#: Years shown in the development tables (the report year and the four before).
TREND_YEARS = 5

#: Label of the pooled other institutions (bokmål; :attr:`ReportContext.rest_label` per language).
REST_LABEL = t("unit.rest")

NATIONAL_LABEL = t("unit.national")

OWN_LABEL = t("unit.own")

UNKNOWN_LABEL = t("unit.unknown")


@dataclass(frozen=True)
class ReportContext:
    """One edition of the report: the derived tables, the year, the unit.

    Attributes
    ----------
    derived
        The derived tables (:func:`arr_stats.derive.load.load_derived`).
    year
        Report year ``Y``: process measures use episodes discharged in ``Y``,
        12-month outcomes episodes discharged in ``Y − 1`` (outcomes.md).
    institution
        Institution id of the edition; ``None`` for the national edition.
    institution_name
        Its name from the background form.
    render_time
        When the edition was rendered (provenance).
    lang
        The language of the edition (:data:`arr_stats.labels.LANGUAGES`);
        every label comes from :mod:`arr_stats.labels` in it.
    shared
        The results every edition of the year shares, once computed or read
        (:func:`arr_stats.report.year_results.shared`); not compared.
    """

    derived: Derived
    year: int
    institution: str | None
    institution_name: str | None
    render_time: str
    lang: str = DEFAULT_LANGUAGE
    shared: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def t(self, key: str, /, **fields: Any) -> str:
        """The label ``key`` in the edition's language (:func:`arr_stats.labels.t`)."""
        return t(key, self.lang, **fields)

    def number(self, value: float, decimals: int = 0) -> str:
        """A number in the edition's language (:func:`~arr_stats.report.formats.nb_number`)."""
        from arr_stats.report.formats import nb_number

        return nb_number(value, decimals, self.lang)

    def percent(self, share: float, decimals: int = 0) -> str:
        """A share as a percentage in the edition's language."""
        from arr_stats.report.formats import nb_percent

        return nb_percent(share, decimals, self.lang)

    @property
    def national_label(self) -> str:
        """The nation as a group ("Nasjonalt")."""
        return self.t("unit.national")

    @property
    def own_label(self) -> str:
        """The edition's own unit as a group ("Egen enhet")."""
        return self.t("unit.own")

    @property
    def rest_label(self) -> str:
        """The other institutions pooled ("Resten av landet")."""
        return self.t("unit.rest")

    @property
    def unknown_label(self) -> str:
        """A missing value ("Ukjent")."""
        return self.t("unit.unknown")

    @property
    def total_label(self) -> str:
        """The margin row of a table ("Totalt")."""
        return self.t("unit.total")

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
        if self.is_national:
            return self.national_label
        return self.institution_name or self.institution

    @property
    def trend_years(self) -> list[int]:
        """The report years of the development tables that have data."""
        first = int(self.derived.episodes["discharge_year"].min()) + 1
        return [y for y in range(self.year - TREND_YEARS + 1, self.year + 1) if y >= first]

    def institution_names(self) -> dict[str, str]:
        """Institution id → name (the latest background form)."""
        return self.derived.institution_names()

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

    def small_unit_note(self) -> HtmlBlock:
        """The note shown where a small unit's own table is withheld."""
        label = disclosure.small_group_label(self.config.disclosure)
        text = self.t("note.small_unit", unit=self.unit_label, label=label)
        return HtmlBlock(f'<p class="table-note">{html.escape(text)}</p>')

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

    def has_outcome_cohort(self) -> bool:
        """Whether the outcome cohort has at least ``min_denominator`` reportable episodes.

        Without, no table or figure of 12-month outcomes is shown
        (:func:`needs_outcome_cohort`).
        """
        return len(self.outcome_cohort()) >= self.config.disclosure.min_denominator


def config_of_json(config_json: str | None) -> RunConfig | None:
    """The run configuration an edition is given as JSON (``None`` without)."""
    if not config_json:
        return None
    raw = json.loads(config_json)
    return config_from_dict(raw, source=Path(raw["source"]) if raw.get("source") else None)


def open_report(
    year: int,
    institution: str | int | None = None,
    derived_dir: str | Path | None = None,
    config_json: str | None = None,
    render_time: str | None = None,
    lang: str | None = None,
) -> ReportContext:
    """Open one edition: what the document's first cell calls with its parameters.

    Parameters
    ----------
    year
        Report year.
    institution
        Institution id, or ``None``/empty for the national edition.
    derived_dir
        The build folder (:func:`arr_stats.derive.load.load_build`); its
        ``build.json`` gives the configuration.
    config_json
        A run configuration as JSON (:func:`arr_stats.config.config_to_dict`)
        whose disclosure, target and report parameters apply; ``arr-stats
        report`` passes it, so that flags and the TOML file reach the
        document. Its outcome parameters must be the build's.
    render_time
        Shown in the provenance appendix; default now (UTC).
    lang
        The edition's language, default bokmål (:data:`arr_stats.labels.LANGUAGES`).
    """
    if derived_dir is None:
        raise ArrStatsError("open_report needs derived_dir: the folder of a build")
    derived = load_build(derived_dir, config_of_json(config_json), lazy=True)  # daily states unread
    inst = None if institution in (None, "", "None") else str(institution)
    name = derived.institution_names().get(inst) if inst else None
    when = render_time or dt.datetime.now(tz=dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    language = check_language(lang or DEFAULT_LANGUAGE)
    return ReportContext(derived, int(year), inst, name, when, language)


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
        if not ctx.has_outcome_cohort():
            label = disclosure.small_group_label(ctx.config.disclosure)
            text = ctx.t("note.no_outcomes", year=ctx.year - 1, label=label)
            return HtmlBlock(f'<p class="table-note">{html.escape(text)}</p>')
        return section(*args, **kwargs)

    return guarded


def _unit_groups(ctx: ReportContext, cohort: pd.DataFrame, national: bool = False) -> pd.DataFrame:
    """Label each row ``report_unit``: own unit against the rest, or all national.

    A unit too small to be shown (:meth:`ReportContext.own_is_small`), or any
    edition when ``national`` is asked for, is compared with the national
    figures instead of "resten av landet": national (from the national
    edition) minus the rest would give back the small unit's own values.
    """
    if ctx.is_national or national or ctx.own_is_small(cohort):
        return cohort.assign(report_unit=ctx.national_label)
    own = cohort["institution_id"].astype(str) == ctx.institution
    return cohort.assign(report_unit=np.where(own, ctx.own_label, ctx.rest_label))


def _own_hidden(table: pd.DataFrame, params: Any, own_label: str = OWN_LABEL) -> bool:
    """Whether any statistic of the own unit in a ``group, n`` table is hidden."""
    own = table[table["group"].astype(object) == own_label]
    return bool(disclosure.small_group_mask(own, "n", params).any())


def _own_responses(ctx: ReportContext, national: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    cohort = ctx.derived.episodes
    cohort = ctx.reportable(cohort[cohort["discharge_year"] == ctx.year - 1])
    cohort = _unit_groups(ctx, cohort, national)
    responses = ctx.derived.responses
    return responses[responses["episode_id"].isin(cohort["episode_id"])], cohort
