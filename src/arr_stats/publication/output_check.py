"""The output check of a report year: what each file shows, under which rules, and the audit.

The person who approves export of a report year's outputs from TSD reads one
page, ``output-check.html``, and the CSV files beside it. They are written
into the year's publication folder in the build (``publication/<year>/``),
not into the year folder that is exported: the check says which hidden cells
are primary (counts of 1 … ``min_cell`` − 1) and which secondary, and the
bounds a reader can prove, where every edition prints all hidden cells
alike. Exported with the outputs it would tell a reader which hidden cells
are small counts. A check found in the year folder fails.

``output-check.csv``
    One row per file (:func:`file_rows`): every file in the year folder
    (``reports/_output/<year>/``, walked: editions, web figures, their alt
    texts, ``indicators.csv``, anything else found there) and the files of the
    year that ``arr-stats report`` writes into the build folder (the protected
    publication ``publication/<year>/`` and the results-portal uploads). For
    each: its kind, the edition and unit it belongs to, size and SHA-256, what
    it contains (for an edition: the publication's tables and units it shows),
    the disclosure rules that applied with their values from the run
    configuration (``config.disclosure``), how many of its cells are shown,
    hidden by the primary rule and hidden by secondary suppression, the
    identifier check's result, and a verdict (pass, fail, review).
``output-check-cells.csv``
    One row per hidden cell of the publication (:func:`hidden_cells`): its
    table, unit, row, column, status (primary or secondary), the rule that
    hid it, and the bounds the audit proved a reader can reach (low, high).
    Never its value.
``output-check-audit.csv``
    The year's verdict (:func:`verdict`): whether the audit passed, the number
    of cells and equations, the audit's seconds, the files by verdict.
``output-check-rules.csv``
    The disclosure parameters of the run configuration and what each means
    (:func:`rules_table`).

The summary is a view of files: it reads the written publication (``cells``,
``relations``, ``audit``, ``publication.json``), in which hidden cells have
no value, so no hidden value can reach it. It refuses a publication
protected with other parameters than the run configuration's (a primary
cell whose rule names another ``min_cell``, or a shown count of 1 …
``min_cell`` − 1). The tables are made by pure functions; all reading and
writing is in :func:`write_output_check`. The output is deterministic: rows
sorted, no time other than the audit's seconds that the publication record
holds (left out there when ``SOURCE_DATE_EPOCH`` is set).

Which files belong to which edition, and which rules each figure went
through, is the report stage's knowledge; it hands it over as an
:class:`OutputLayout` (this stage does not import the report stage).

What is taken from ACRO (the ``acro`` package for output checking in trusted
research environments) is the shape of its output summary: one record per
output with its type, the checks applied and their outcome per cell, and a
status of pass, fail or review that tells the output checker where to look
(files this command did not write are "review", as ACRO's custom outputs
are). ``acro`` is not a dependency, here or for researchers' tables in the
notebooks (decided in issue 14 and still so): its thresholds come from its
own ``default.yaml``, a second source beside the run configuration; it
protects each table on its own and recomputes totals from the shown cells,
where this project protects a year's linked tables together and proves the
result by an audit; and it pins ``pandas<=2.3.3``. A researcher's table in a
notebook goes through :mod:`arr_stats.publication.disclosure`, with the same
parameters.
"""

from __future__ import annotations

import dataclasses
import hashlib
import html
import json
import re
import shutil
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pandas as pd

from arr_stats.config import DisclosureParams, RunConfig
from arr_stats.errors import ArrStatsError
from arr_stats.labels import DEFAULT_LANGUAGE, LANGUAGES, t
from arr_stats.publication import linked
from arr_stats.publication.audit import OK
from arr_stats.publication.cohorts import COHORTS_TABLE, INDICATOR_PREFIX, row_rules
from arr_stats.publication.disclosure import (
    DisclosureError,
    check_no_identifiers,
    readable_text,
)

#: The page and the CSV files of the check, beside the publication in the build.
HTML_FILE = "output-check.html"
FILES_CSV = "output-check.csv"
CELLS_CSV = "output-check-cells.csv"
AUDIT_CSV = "output-check-audit.csv"
RULES_CSV = "output-check-rules.csv"
SUMMARY_FILES: tuple[str, ...] = (HTML_FILE, FILES_CSV, CELLS_CSV, AUDIT_CSV, RULES_CSV)

#: Folders of the files table: the year folder (exported) and the build folder (in TSD).
REPORT_FOLDER, BUILD_FOLDER = "report", "build"

#: Kinds of file.
EDITION_HTML, EDITION_PDF = "edition_html", "edition_pdf"
FIGURE_PNG, FIGURE_SVG, FIGURE_ALT = "figure_png", "figure_svg", "figure_alt"
INDICATORS, UPLOAD = "indicators", "upload"
PUBLICATION_TABLE, PUBLICATION_RECORD = "publication_table", "publication_record"
OUTPUT_CHECK, OTHER = "output_check", "other"

#: Results of the identifier check of a file.
ID_PASS, ID_FAIL, ID_BINARY, ID_UNCHECKED, ID_SELF = "pass", "fail", "binary", "unchecked", "self"

#: A file's verdict (ACRO's statuses).
PASS, FAIL, REVIEW = "pass", "fail", "review"

#: Columns of the files table.
FILE_COLUMNS: tuple[str, ...] = (
    "folder",
    "path",
    "kind",
    "edition",
    "institution",
    "lang",
    "size_bytes",
    "sha256",
    "contents",
    "rules",
    "cells_shown",
    "cells_primary",
    "cells_secondary",
    "identifier_check",
    "identifier_note",
    "verdict",
)

#: Columns of the hidden-cells table.
HIDDEN_COLUMNS: tuple[str, ...] = (
    "cell",
    "table",
    "unit",
    "row",
    "column",
    "status",
    "rule",
    "low",
    "high",
    "exact",
)

#: The rules every edition goes through (it shows tables and figures of every kind).
EDITION_RULES: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(DisclosureParams))

#: The rules of the indicator file and the uploads (views of it).
INDICATOR_RULES: tuple[str, ...] = ("min_cell", "min_denominator")

#: The rules of the publication's tables.
PUBLICATION_RULES: tuple[str, ...] = ("min_cell", "complementary_suppression")

#: Suffixes the identifier check does not read as text (others are read as UTF-8; PDF by pdftotext).
_BINARY_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".parquet", ".zip", ".gz"})


@dataclass(frozen=True)
class OutputLayout:
    """Where the report stage writes a year's files, and what they are.

    Attributes
    ----------
    editions
        File stem of every edition the year may have (every language) →
        ``(institution id or None for the national edition, language)``.
    unit_names
        Institution id → its name, for the page.
    indicators_file
        Name of the indicator file in the year folder.
    figures_dir
        Folder of the web figures in the year folder (one folder per edition stem).
    figures_index
        Name of the alt-text file in each edition's figure folder.
    figure_rules
        Figure label → the names of the :class:`DisclosureParams` fields its
        numbers went through.
    upload_files
        Name of each results-portal upload in the build folder → ``fractions``
        or ``values``.
    """

    editions: Mapping[str, tuple[str | None, str]]
    indicators_file: str
    figures_dir: str
    figures_index: str
    unit_names: Mapping[str, str] = field(default_factory=dict)
    figure_rules: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    upload_files: Mapping[str, str] = field(default_factory=dict)


# --------------------------------------------------------------------------------------
# rules


def _value_text(value: object) -> str:
    """A parameter's value as the check prints it (a switch as ``on``/``off``)."""
    return ("on" if value else "off") if isinstance(value, bool) else str(value)


def _rule_key(name: str, value: object) -> str:
    """The catalogue key of what a parameter means (a switch: per state)."""
    suffix = f".{_value_text(value)}" if isinstance(value, bool) else ""
    return f"check.rule.{name}{suffix}"


def rule_text(params: DisclosureParams, names: Iterable[str]) -> str:
    """The rules a file went through, with their values: ``name=value; …``.

    Examples
    --------
    >>> rule_text(DisclosureParams(min_cell=7), ["min_cell", "survival_pooling"])
    'min_cell=7; survival_pooling=on'
    """
    parts = []
    for name in names:
        parts.append(f"{name}={_value_text(getattr(params, name))}")
    return "; ".join(parts)


def rules_table(params: DisclosureParams, lang: str = DEFAULT_LANGUAGE) -> pd.DataFrame:
    """Every disclosure parameter of the run configuration, its value and what it means.

    Returns
    -------
    DataFrame
        ``parameter, value, meaning`` in the order of :class:`DisclosureParams`.

    Examples
    --------
    >>> rules_table(DisclosureParams(min_cell=3), "en").iloc[0].tolist()
    ['min_cell', '3', 'counts of 1–2 persons are not shown (“<3” or hidden); 0 may be shown']
    """
    rows = []
    for f in dataclasses.fields(params):
        value = getattr(params, f.name)
        meaning = t(
            _rule_key(f.name, value),
            lang,
            value=value,
            min_cell=params.min_cell,
            last=params.min_cell - 1,
        )
        rows.append({"parameter": f.name, "value": _value_text(value), "meaning": meaning})
    return pd.DataFrame(rows, columns=["parameter", "value", "meaning"])


# --------------------------------------------------------------------------------------
# the publication's cells by edition


def edition_views(cells: pd.DataFrame, institution: str | None) -> list[tuple[str, str]]:
    """The publication's ``(table, unit)`` pairs an edition shows.

    The same choice as the report's tables (:mod:`arr_stats.report.tables`):
    every edition shows the registered episodes (the nation's table); the
    national edition the nation's status and participants tables; an
    institution edition its own status table when the publication has one
    (a unit too small in the outcome cohort has none), and its own and its
    rest of the country's participants tables, or the nation's when the unit
    is too small to have its own.

    Parameters
    ----------
    cells
        The publication's cells (``table, unit``); not modified.
    institution
        The institution id, or ``None`` for the national edition.

    Returns
    -------
    list of tuple
        In the order the tables appear in the publication.

    Examples
    --------
    >>> cells = pd.DataFrame({"table": ["episodes", "status", "status", "participants:sex",
    ...     "participants:sex", "participants:sex"], "unit": ["national", "national", "unit:A",
    ...     "national", "unit:A", "rest:A"]})
    >>> edition_views(cells, "A")
    [('episodes', 'national'), ('status', 'unit:A'), ('participants:sex', 'unit:A'), ('participants:sex', 'rest:A')]
    >>> edition_views(cells, "B")
    [('episodes', 'national'), ('participants:sex', 'national')]
    """
    pairs = set(zip(cells["table"], cells["unit"], strict=True))
    tables = list(dict.fromkeys(cells["table"]))
    views = []
    for table in tables:
        if table == COHORTS_TABLE:
            continue  # latent counts: printed nowhere
        if table.startswith(INDICATOR_PREFIX):
            # the indicator rows: every unit's in the national edition (the
            # per-unit results), the own unit's in an institution edition (its
            # rest of the country and the nation are sums of shown rows)
            units = sorted({u for t, u in pairs if t == table})
            mine = [linked.unit_key(institution)] if institution is not None else units
            views += [(table, unit) for unit in mine if (table, unit) in pairs]
            continue
        if table == linked.EPISODES_TABLE:
            wanted = [linked.NATIONAL]
        elif institution is None:
            wanted = [linked.NATIONAL]
        elif table == linked.STATUS_TABLE:
            wanted = [linked.unit_key(institution)]
        elif (table, linked.unit_key(institution)) in pairs:
            wanted = [linked.unit_key(institution), linked.rest_key(institution)]
        else:
            wanted = [linked.NATIONAL]
        views += [(table, unit) for unit in wanted if (table, unit) in pairs]
    return views


def views_text(views: Sequence[tuple[str, str]]) -> str:
    """The ``(table, unit)`` pairs an edition shows, short: tables with the same units together.

    Examples
    --------
    >>> views_text([("episodes", "national"), ("participants:sex", "unit:A"),
    ...     ("participants:sex", "rest:A"), ("participants:education", "unit:A"),
    ...     ("participants:education", "rest:A")])
    'episodes (national); participants: sex, education (unit:A, rest:A)'
    """
    units: dict[str, list[str]] = {}
    for table, unit in views:
        units.setdefault(table, []).append(unit)
    groups: list[tuple[list[str], list[str]]] = []
    for table, its_units in units.items():
        prefix = table.split(":", 1)[0] if ":" in table else table
        last = groups[-1] if groups else None
        if last and last[1] == its_units and last[0][0].split(":", 1)[0] == prefix:
            last[0].append(table)
        else:
            groups.append(([table], its_units))
    parts = []
    for tables, its_units in groups:
        if len(tables) > 1 and all(":" in name for name in tables):
            prefix = tables[0].split(":", 1)[0]
            names = f"{prefix}: " + ", ".join(name.split(":", 1)[1] for name in tables)
        else:
            names = ", ".join(tables)
        parts.append(f"{names} ({', '.join(its_units)})")
    return "; ".join(parts)


def _status_counts(cells: pd.DataFrame) -> dict[str, int]:
    counts = cells["status"].value_counts()
    return {
        "cells_shown": int(counts.get(linked.SHOWN, 0)),
        "cells_primary": int(counts.get(linked.PRIMARY, 0)),
        "cells_secondary": int(counts.get(linked.SECONDARY, 0)),
    }


def _view_cells(cells: pd.DataFrame, views: Sequence[tuple[str, str]]) -> pd.DataFrame:
    keys = pd.MultiIndex.from_tuples(list(views), names=["table", "unit"]) if views else None
    if keys is None:
        return cells.iloc[0:0]
    return cells[pd.MultiIndex.from_frame(cells[["table", "unit"]]).isin(keys)]


def check_parameters(cells: pd.DataFrame, params: DisclosureParams) -> None:
    """Refuse a publication protected with other parameters than ``params``.

    A primary cell carries the primary rule of the ``min_cell`` it was hidden
    by (:func:`arr_stats.publication.linked.primary_rule`) or an indicator
    row's rule with these parameters
    (:func:`arr_stats.publication.cohorts.row_rules`), and no shown count is
    1 … ``min_cell`` − 1.

    Raises
    ------
    ArrStatsError
        The publication does not match the run configuration.
    """
    primary = cells.loc[cells["status"] == linked.PRIMARY, "rule"]
    expected = {linked.primary_rule(params), *row_rules(params)}
    values = pd.to_numeric(cells.loc[cells["status"] == linked.SHOWN, "value"], errors="coerce")
    if (~primary.isin(expected)).any() or values.between(1, params.min_cell - 1).any():
        raise ArrStatsError(
            "the written publication was protected with other disclosure parameters than "
            f"the run configuration (min_cell = {params.min_cell}); run arr-stats report again"
        )


# --------------------------------------------------------------------------------------
# the files


def _classify(folder: str, path: str, layout: OutputLayout) -> tuple[str, str | None]:
    """A file's kind and the edition stem it belongs to."""
    parts = PurePosixPath(path).parts
    name = parts[-1]
    suffix = PurePosixPath(name).suffix
    if name in SUMMARY_FILES and (folder == BUILD_FOLDER or len(parts) == 1):
        return OUTPUT_CHECK, None
    if folder == BUILD_FOLDER:
        if len(parts) == 1 and name in layout.upload_files:
            return UPLOAD, None
        if name == linked.RECORD_FILE:
            return PUBLICATION_RECORD, None
        if PurePosixPath(name).stem in ("cells", "relations", "audit") and suffix in (
            ".csv",
            ".parquet",
        ):
            return PUBLICATION_TABLE, None
        return OTHER, None
    if len(parts) == 1:
        if name == layout.indicators_file:
            return INDICATORS, None
        stem = name[: -len(suffix)] if suffix else name
        if stem in layout.editions and suffix in (".html", ".pdf"):
            return (EDITION_HTML if suffix == ".html" else EDITION_PDF), stem
        return OTHER, None
    if len(parts) == 3 and parts[0] == layout.figures_dir and parts[1] in layout.editions:
        if name == layout.figures_index:
            return FIGURE_ALT, parts[1]
        if suffix in (".png", ".svg"):
            return (FIGURE_PNG if suffix == ".png" else FIGURE_SVG), parts[1]
    return OTHER, None


def file_rows(
    files: pd.DataFrame,
    cells: pd.DataFrame,
    relations: pd.DataFrame,
    audit: pd.DataFrame,
    params: DisclosureParams,
    layout: OutputLayout,
    figure_index: pd.DataFrame | None = None,
    indicators: pd.DataFrame | None = None,
    audit_passed: bool = True,
    lang: str = DEFAULT_LANGUAGE,
    own_paths: Sequence[str] = (),
) -> pd.DataFrame:
    """One row per file: what it is and shows, the rules, the cells, the checks, the verdict.

    Parameters
    ----------
    files
        ``folder, path, size_bytes, sha256, identifier_check, identifier_note``:
        one row per file found (:data:`REPORT_FOLDER` paths relative to the
        year folder, :data:`BUILD_FOLDER` paths relative to the build folder);
        not modified.
    cells, relations, audit
        The written publication's tables
        (:func:`arr_stats.publication.linked.publication_tables`).
    params
        The run configuration's disclosure parameters.
    layout
        What the report stage writes where.
    figure_index
        The figures' alt texts: ``edition, png, svg, section, label, alt``.
    indicators
        The indicator file's rows (``unit``, ``suppressed``), when there is one.
    audit_passed
        The audit's verdict: an edition or publication file of a failing
        publication fails.
    lang
        The language of the ``contents`` column.
    own_paths
        The check's own files (in the build folder, relative to it): listed
        without size and hash (they are being written), in place of any
        found there.

    Returns
    -------
    DataFrame
        :data:`FILE_COLUMNS`, sorted by folder (report first) and path; cell
        counts are empty where the file holds no counts of the publication
        (figures, alt texts, uploads).
    """
    own = pd.DataFrame(
        {
            "folder": BUILD_FOLDER,
            "path": list(own_paths),
            "size_bytes": pd.NA,
            "sha256": "",
            "identifier_check": ID_SELF,
            "identifier_note": "",
        }
    )
    found = files[~((files["folder"] == BUILD_FOLDER) & files["path"].isin(own_paths))]
    every = pd.concat([found, own], ignore_index=True)
    figure_index = figure_index if figure_index is not None else pd.DataFrame()
    alt_by_file: dict[tuple[str, str], tuple[str, str, str]] = {}
    for row in figure_index.to_dict("records"):
        entry = (str(row.get("section", "")), str(row.get("label", "")), str(row.get("alt", "")))
        for column in ("png", "svg"):
            alt_by_file[(str(row["edition"]), str(row[column]))] = entry
    n_figures = figure_index.groupby("edition").size().to_dict() if len(figure_index) else {}
    rows = []
    for file in every.to_dict("records"):
        kind, stem = _classify(file["folder"], file["path"], layout)
        institution, edition_lang = layout.editions.get(stem, (None, "")) if stem else (None, "")
        counts: dict[str, Any] = {
            "cells_shown": pd.NA,
            "cells_primary": pd.NA,
            "cells_secondary": pd.NA,
        }
        rules: Sequence[str] = ()
        name = PurePosixPath(file["path"]).name
        if kind in (EDITION_HTML, EDITION_PDF):
            views = edition_views(cells, institution)
            counts = _status_counts(_view_cells(cells, views))
            contents = t("check.contents.edition", lang, tables=views_text(views))
            rules = EDITION_RULES
        elif kind in (FIGURE_PNG, FIGURE_SVG):
            section, label, alt = alt_by_file.get((stem, name), ("", "", ""))
            numbered = re.match(r"(\d+)-(\d+)_", name)
            number = f"{int(numbered[1])}.{numbered[2]}" if numbered else section
            contents = t("check.contents.figure", lang, number=number, label=label, alt=alt)
            rules = layout.figure_rules.get(label, EDITION_RULES)
        elif kind == FIGURE_ALT:
            contents = t("check.contents.figure_alt", lang, n=n_figures.get(stem, 0))
        elif kind == INDICATORS:
            contents = t(
                "check.contents.indicators", lang, n=0 if indicators is None else len(indicators)
            )
            rules = INDICATOR_RULES
            if indicators is not None:
                counts = _indicator_counts(indicators)
        elif kind == UPLOAD:
            which = layout.upload_files.get(name, "values")
            contents = t(f"check.contents.upload_{which}", lang)
            rules = INDICATOR_RULES
        elif kind == PUBLICATION_TABLE:
            table = PurePosixPath(name).stem
            rules = PUBLICATION_RULES
            if table == "cells":
                contents = t("check.contents.cells", lang, n=len(cells))
                counts = _status_counts(cells)
            elif table == "audit":
                contents = t("check.contents.audit", lang, n=len(audit))
                hidden = cells[cells["cell"].isin(audit["cell"])]
                counts = _status_counts(hidden) | {"cells_shown": 0}
            else:
                contents = t(
                    "check.contents.relations", lang, n=int(relations["relation"].nunique())
                )
        elif kind == PUBLICATION_RECORD:
            contents = t("check.contents.record", lang)
        elif kind == OUTPUT_CHECK:
            where = "output_check" if file["folder"] == BUILD_FOLDER else "output_check_exported"
            contents = t(f"check.contents.{where}", lang)
        else:
            contents = t("check.contents.other", lang)
        rows.append(
            {
                **file,
                "kind": kind,
                "edition": stem or "",
                "institution": institution or "",
                "lang": edition_lang,
                "contents": contents,
                "rules": rule_text(params, rules),
                **counts,
                "verdict": _file_verdict(
                    kind, file["folder"], file["identifier_check"], audit_passed
                ),
            }
        )
    out = pd.DataFrame(rows, columns=list(FILE_COLUMNS))
    for column in ("size_bytes", "cells_shown", "cells_primary", "cells_secondary"):
        out[column] = out[column].astype("Int64")
    order = out["folder"].map({REPORT_FOLDER: 0, BUILD_FOLDER: 1})
    out = out.assign(_order=order).sort_values(["_order", "path"], kind="mergesort")
    return out.drop(columns="_order").reset_index(drop=True)


def _indicator_counts(indicators: pd.DataFrame) -> dict[str, int]:
    """Rows shown; institution rows hidden (their rule); rest and nation rows hidden with them."""
    hidden = indicators["suppressed"].astype(str).str.lower().isin(["true", "1"])
    own = indicators["unit"].astype(str) == "institution"
    return {
        "cells_shown": int((~hidden).sum()),
        "cells_primary": int((hidden & own).sum()),
        "cells_secondary": int((hidden & ~own).sum()),
    }


def _file_verdict(kind: str, folder: str, identifiers: str, audit_passed: bool) -> str:
    if identifiers == ID_FAIL:
        return FAIL
    if kind == OUTPUT_CHECK and folder == REPORT_FOLDER:
        return FAIL  # an output check tells primary from secondary cells: never exported
    if not audit_passed and kind in (EDITION_HTML, EDITION_PDF, PUBLICATION_TABLE):
        return FAIL
    if kind == OTHER or identifiers == ID_UNCHECKED:
        return REVIEW
    return PASS


# --------------------------------------------------------------------------------------
# hidden cells and the verdict


def hidden_cells(cells: pd.DataFrame, audit: pd.DataFrame) -> pd.DataFrame:
    """One row per hidden cell: where it is, why it is hidden, what a reader can prove.

    Parameters
    ----------
    cells
        The written publication's cells (``cell, table, unit, row, column,
        status, rule``; ``value`` is not read).
    audit
        The written audit (``cell, low, high, exact``).

    Returns
    -------
    DataFrame
        :data:`HIDDEN_COLUMNS`, sorted by table and unit, in the publication's
        row and column order within them. No value.

    Examples
    --------
    >>> cells = pd.DataFrame({"cell": ["t|u|a|n", "t|u|b|n"], "table": "t", "unit": "u",
    ...     "row": ["a", "b"], "column": "n", "value": [pd.NA, 9], "status": ["primary", "shown"],
    ...     "rule": ["count 1–4 (min_cell)", ""]})
    >>> audit = pd.DataFrame({"cell": ["t|u|a|n"], "low": [1.0], "high": [6.0], "exact": [True]})
    >>> hidden_cells(cells, audit)[["row", "status", "low", "high"]].values.tolist()
    [['a', 'primary', 1.0, 6.0]]
    """
    hidden = cells[cells["status"] != linked.SHOWN]
    out = hidden.merge(audit[["cell", "low", "high", "exact"]], on="cell", how="left")
    out = out.reindex(columns=list(HIDDEN_COLUMNS))
    return out.sort_values(["table", "unit"], kind="mergesort").reset_index(drop=True)


def verdict(
    year: int,
    cells: pd.DataFrame,
    relations: pd.DataFrame,
    audit: pd.DataFrame,
    files: pd.DataFrame,
    seconds: float | None,
    fingerprint: str = "",
) -> pd.DataFrame:
    """The year's verdict as ``measure, value`` rows.

    ``audit_passed``: every hidden cell the audit bounded is safe (``ok``),
    and every hidden cell of the publication is bounded. ``audit_seconds``
    is empty when the publication record holds none.
    """
    hidden = cells["status"] != linked.SHOWN
    bounded = set(audit["cell"])
    passed = bool((audit["reason"] == OK).all()) and set(cells.loc[hidden, "cell"]) <= bounded
    by_verdict = files["verdict"].value_counts()
    measures: list[tuple[str, object]] = [
        ("year", int(year)),
        ("audit_passed", passed),
        ("cells", len(cells)),
        ("cells_shown", int((cells["status"] == linked.SHOWN).sum())),
        ("cells_primary", int((cells["status"] == linked.PRIMARY).sum())),
        ("cells_secondary", int((cells["status"] == linked.SECONDARY).sum())),
        ("cells_latent", int((cells["status"] == linked.LATENT).sum())),
        ("equations", int(relations["relation"].nunique())),
        ("hidden_bounded", len(bounded)),
        ("bounds_exact", bool(audit["exact"].astype(bool).all())),
        ("audit_seconds", "" if seconds is None else f"{float(seconds):.1f}"),
        ("fingerprint", fingerprint),
        ("files", len(files)),
        ("files_pass", int(by_verdict.get(PASS, 0))),
        ("files_fail", int(by_verdict.get(FAIL, 0))),
        ("files_review", int(by_verdict.get(REVIEW, 0))),
    ]
    return pd.DataFrame(
        {"measure": [m for m, _ in measures], "value": [_plain(v) for _, v in measures]}
    )


def _plain(value: object) -> str:
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    return str(value)


def output_check_tables(
    files: pd.DataFrame,
    publication: Mapping[str, pd.DataFrame],
    record: Mapping[str, Any],
    params: DisclosureParams,
    layout: OutputLayout,
    figure_index: pd.DataFrame | None = None,
    indicators: pd.DataFrame | None = None,
    lang: str = DEFAULT_LANGUAGE,
    own_paths: Sequence[str] = (),
) -> dict[str, pd.DataFrame]:
    """Every table of the check from the files found and the written publication.

    Parameters
    ----------
    files
        The files found (:func:`file_rows`).
    publication
        ``cells``, ``relations``, ``audit`` as written
        (:func:`arr_stats.publication.linked.publication_tables`).
    record
        The publication record (``year``, ``fingerprint``, ``audit_seconds``).
    params
        The run configuration's disclosure parameters (the publication must
        have been protected with them: :func:`check_parameters`).
    layout, figure_index, indicators, lang, own_paths
        As in :func:`file_rows`.

    Returns
    -------
    dict
        ``files``, ``cells`` (hidden cells), ``audit`` (the verdict) and
        ``rules``.
    """
    cells, relations, audit = (publication[k] for k in ("cells", "relations", "audit"))
    check_parameters(cells, params)
    passed = bool((audit["reason"] == OK).all())
    table = file_rows(
        files,
        cells,
        relations,
        audit,
        params,
        layout,
        figure_index,
        indicators,
        passed,
        lang,
        own_paths,
    )
    seconds = record.get("audit_seconds")
    return {
        "files": table,
        "cells": hidden_cells(cells, audit),
        "audit": verdict(
            int(record["year"]),
            cells,
            relations,
            audit,
            table,
            None if seconds is None else float(seconds),
            str(record.get("fingerprint", "")),
        ),
        "rules": rules_table(params, lang),
    }


# --------------------------------------------------------------------------------------
# the page

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; max-width: 110em; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.5em; text-align: left; vertical-align: top; }
th { background: #f0f0f0; position: sticky; top: 0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.wide { min-width: 30em; }
code { font-size: 0.9em; white-space: nowrap; }
code.digest { font-size: 0.75em; color: #666; }
.pass { color: #1a6b1a; } .fail { color: #b00020; font-weight: bold; } .review { color: #a05a00; }
p.note { font-size: 0.9em; max-width: 60em; }
p.stays { border-left: 4px solid #b00020; padding-left: 0.6em; font-weight: bold; }
"""


def _cell(text: object, numeric: bool = False, klass: str = "") -> str:
    shown = "" if text is None or (not isinstance(text, str) and pd.isna(text)) else str(text)
    classes = " ".join(c for c in ("num" if numeric else "", klass) if c)
    attribute = f' class="{classes}"' if classes else ""
    return f"<td{attribute}>{html.escape(shown)}</td>"


def _table(header: Sequence[str], rows: Iterable[str]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    return (
        f"<table><thead><tr>{head}</tr></thead><tbody>\n" + "\n".join(rows) + "\n</tbody></table>"
    )


def _bound(value: object, lang: str) -> str:
    if value is None or pd.isna(value):
        return ""
    number = float(value)
    return t("check.unbounded", lang) if np.isinf(number) else str(int(number))


def _edition_label(row: Mapping[str, Any], layout: OutputLayout, lang: str) -> str:
    if not row["edition"]:
        return ""
    institution = row["institution"]
    label = (
        t("unit.national", lang)
        if not institution
        else f"{layout.unit_names.get(institution) or institution} ({institution})"
        if layout.unit_names.get(institution)
        else institution
    )
    return label if row["lang"] in ("", DEFAULT_LANGUAGE) else f"{label} · {row['lang']}"


def output_check_html(
    tables: Mapping[str, pd.DataFrame],
    params: DisclosureParams,
    layout: OutputLayout,
    lang: str = DEFAULT_LANGUAGE,
) -> str:
    """The check as one self-contained HTML page (no external resources).

    Headings, column names and fixed texts come from the label catalogue
    (:mod:`arr_stats.labels`, keys ``check.*``) in ``lang``; table, unit,
    rule and parameter names are the publication's and the configuration's
    own, as in the CSV files.
    """
    verdict_values = dict(zip(tables["audit"]["measure"], tables["audit"]["value"], strict=True))
    year = verdict_values["year"]
    last = params.min_cell - 1

    def measure_value(measure: str, value: str) -> str:
        if value in ("true", "false"):
            return t("check.yes" if value == "true" else "check.no", lang)
        if measure == "audit_seconds" and value == "":
            return t("check.not_recorded", lang)
        return value

    verdict_rows = [
        "<tr>"
        + _cell(t(f"check.measure.{m}", lang))
        + _cell(
            measure_value(m, v),
            numeric=m not in ("fingerprint", "audit_passed", "bounds_exact"),
            klass=("pass" if v == "true" else "fail") if m == "audit_passed" else "",
        )
        + "</tr>"
        for m, v in verdict_values.items()
    ]
    rule_rows = [
        "<tr>" + _cell(r.parameter) + _cell(r.value, numeric=True) + _cell(r.meaning) + "</tr>"
        for r in tables["rules"].itertuples(index=False)
    ]
    file_rows_html = []
    for row in tables["files"].to_dict("records"):
        identifiers = t(f"check.id.{row['identifier_check']}", lang)
        if row["identifier_note"]:
            identifiers += f": {row['identifier_note']}"
        file_rows_html.append(
            "<tr>"
            + _cell(t(f"check.folder.{row['folder']}", lang))
            + f'<td><code class="path">{html.escape(row["path"])}</code><br>'
            + f'<code class="digest">{html.escape(row["sha256"])}</code></td>'
            + _cell(t(f"check.kind.{row['kind']}", lang))
            + _cell(_edition_label(row, layout, lang))
            + _cell(row["size_bytes"], numeric=True)
            + _cell(row["contents"], klass="wide")
            + _cell(row["rules"])
            + _cell(row["cells_shown"], numeric=True)
            + _cell(row["cells_primary"], numeric=True)
            + _cell(row["cells_secondary"], numeric=True)
            + _cell(identifiers)
            + _cell(t(f"check.verdict.{row['verdict']}", lang), klass=row["verdict"])
            + "</tr>"
        )
    hidden_rows = [
        f'<tr data-cell="{html.escape(row["cell"])}">'
        + _cell(row["table"])
        + _cell(row["unit"])
        + _cell(row["row"])
        + _cell(row["column"])
        + _cell(t(f"check.suppression.{row['status']}", lang))
        + _cell(row["rule"])
        + _cell(_bound(row["low"], lang), numeric=True)
        + _cell(_bound(row["high"], lang), numeric=True)
        + "</tr>"
        for row in tables["cells"].to_dict("records")
    ]
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{html.escape(t("doc.lang", lang))}"><head><meta charset="utf-8">',
        f"<title>{html.escape(t('check.title', lang, year=year))}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(t('check.title', lang, year=year))}</h1>",
        f'<p class="note">{html.escape(t("check.intro", lang))}</p>',
        f'<p class="note stays">{html.escape(t("check.stays", lang))}</p>',
        f'<h2 id="verdict">{html.escape(t("check.sec.verdict", lang))}</h2>',
        _table([t("col.measure", lang), t("col.value", lang)], verdict_rows),
        f'<h2 id="rules">{html.escape(t("check.sec.rules", lang))}</h2>',
        _table(
            [t("col.parameter", lang), t("col.value", lang), t("check.col.meaning", lang)],
            rule_rows,
        ),
        f'<h2 id="files">{html.escape(t("check.sec.files", lang))}</h2>',
        _table(
            [
                t("check.col.folder", lang),
                f"{t('col.file', lang)} · SHA-256",
                t("check.col.kind", lang),
                t("check.col.edition", lang),
                t("check.col.size", lang),
                t("check.col.contents", lang),
                t("check.col.rules", lang),
                t("check.col.shown", lang),
                t("check.col.primary", lang),
                t("check.col.secondary", lang),
                t("check.col.identifiers", lang),
                t("check.col.verdict", lang),
            ],
            file_rows_html,
        ),
        f'<h2 id="hidden">{html.escape(t("check.sec.hidden", lang))}</h2>',
        f'<p class="note">{html.escape(t("check.hidden_note", lang, last=last))}</p>',
        _table(
            [
                t("col.table", lang),
                t("col.unit", lang),
                t("check.col.row", lang),
                t("check.col.column", lang),
                t("check.col.suppression", lang),
                t("col.rule", lang),
                t("check.col.low", lang),
                t("check.col.high", lang),
            ],
            hidden_rows,
        ),
        f'<h2 id="limits">{html.escape(t("check.sec.limits", lang))}</h2>',
        f'<p class="note">{html.escape(t("check.limits", lang))}</p>',
        "</body></html>",
        "",
    ]
    return "\n".join(parts)


# --------------------------------------------------------------------------------------
# reading the folders and writing the check


def _identifier_check(path: Path, person_ids: Sequence[str] | None) -> tuple[str, str]:
    """The identifier check of one file (:func:`check_no_identifiers` on its readable text)."""
    if path.suffix.lower() in _BINARY_SUFFIXES:
        return ID_BINARY, ""
    if path.suffix.lower() == ".pdf":
        pdftotext = shutil.which("pdftotext")
        if pdftotext is None:
            return ID_UNCHECKED, "pdftotext not found"
        done = subprocess.run(
            [pdftotext, "-q", "-enc", "UTF-8", str(path), "-"],
            capture_output=True,
            check=False,
        )
        if done.returncode != 0:
            return ID_UNCHECKED, "pdftotext could not read it"
        text = done.stdout.decode("utf-8", errors="replace")
    else:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            return ID_BINARY, ""
    try:
        check_no_identifiers(readable_text(text), person_ids)
    except DisclosureError as exc:
        return ID_FAIL, str(exc)
    return ID_PASS, ""


def _found(folder: str, root: Path, paths: Iterable[Path], person_ids) -> list[dict[str, Any]]:
    rows = []
    for path in paths:
        data = path.read_bytes()
        check, note = _identifier_check(path, person_ids)
        rows.append(
            {
                "folder": folder,
                "path": path.relative_to(root).as_posix(),
                "size_bytes": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
                "identifier_check": check,
                "identifier_note": note,
            }
        )
    return rows


def _read_figure_index(year_dir: Path, layout: OutputLayout) -> pd.DataFrame:
    pieces = []
    for index in sorted((year_dir / layout.figures_dir).glob(f"*/{layout.figures_index}")):
        frame = pd.read_csv(index, dtype=str, keep_default_na=False)
        pieces.append(frame.assign(edition=index.parent.name))
    columns = ["edition", "png", "svg", "section", "label", "alt"]
    return pd.concat(pieces, ignore_index=True) if pieces else pd.DataFrame(columns=columns)


def _read_publication(folder: Path) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    from arr_stats.io import read_parquet

    record_path = folder / linked.RECORD_FILE
    if not record_path.is_file():
        raise ArrStatsError(
            f"no protected publication in {folder}: run arr-stats report for the year first"
        )
    tables = {name: read_parquet(folder / f"{name}.parquet") for name in ("cells", "relations")}
    tables["audit"] = read_parquet(folder / "audit.parquet")
    record = json.loads(record_path.read_text(encoding="utf-8"))
    return tables, record


def write_output_check(
    year_dir: Path,
    build_dir: Path,
    publication_dir: Path,
    config: RunConfig,
    layout: OutputLayout,
    person_ids: Sequence[str] | None = None,
    lang: str = DEFAULT_LANGUAGE,
) -> list[Path]:
    """Walk a report year's files, read its publication, and write the check beside the publication.

    Parameters
    ----------
    year_dir
        The year folder (``reports/_output/<year>/``): every file in it is listed.
    build_dir
        The build folder: the upload files of ``layout`` found there are listed.
    publication_dir
        The year's written publication (``publication/<year>/`` in the build):
        every file in it is listed, its tables are read, and the check is
        written into it.
    config
        The run configuration (its ``disclosure`` parameters).
    layout
        What the report stage writes where (:class:`OutputLayout`).
    person_ids
        The pseudonyms of the build, for the identifier check.
    lang
        The language of the page (:data:`arr_stats.labels.LANGUAGES`).

    Returns
    -------
    list of Path
        ``output-check.html`` and the four CSV files, in ``publication_dir``
        (in the build, which stays in TSD: the check tells which hidden
        cells are small, which the editions never do).

    Raises
    ------
    ArrStatsError
        No written publication, or one protected with other parameters.
    """
    if lang not in LANGUAGES:
        raise ArrStatsError(f"unknown language {lang!r}")
    year_dir, build_dir, publication_dir = Path(year_dir), Path(build_dir), Path(publication_dir)
    publication, record = _read_publication(publication_dir)
    report_files = sorted(p for p in year_dir.rglob("*") if p.is_file())
    own = [publication_dir / name for name in SUMMARY_FILES]
    build_files = sorted(p for p in publication_dir.rglob("*") if p.is_file() and p not in own)
    build_files += [
        build_dir / name for name in sorted(layout.upload_files) if (build_dir / name).is_file()
    ]
    files = pd.DataFrame(
        _found(REPORT_FOLDER, year_dir, report_files, person_ids)
        + _found(BUILD_FOLDER, build_dir, build_files, person_ids),
        columns=[
            "folder",
            "path",
            "size_bytes",
            "sha256",
            "identifier_check",
            "identifier_note",
        ],
    )
    indicators_path = year_dir / layout.indicators_file
    indicators = (
        pd.read_csv(indicators_path, dtype=str, keep_default_na=False)
        if indicators_path.is_file()
        else None
    )
    tables = output_check_tables(
        files,
        publication,
        record,
        config.disclosure,
        layout,
        _read_figure_index(year_dir, layout),
        indicators,
        lang,
        [p.relative_to(build_dir).as_posix() for p in own],
    )
    written = []
    csv_files = {FILES_CSV: "files", CELLS_CSV: "cells", AUDIT_CSV: "audit", RULES_CSV: "rules"}
    for name, key in csv_files.items():
        path = publication_dir / name
        tables[key].to_csv(path, index=False, lineterminator="\n")
        written.append(path)
    page = publication_dir / HTML_FILE
    page.write_text(output_check_html(tables, config.disclosure, layout, lang), encoding="utf-8")
    return [page, *written]


__all__ = [
    "OutputLayout",
    "check_parameters",
    "edition_views",
    "file_rows",
    "hidden_cells",
    "output_check_html",
    "output_check_tables",
    "rule_text",
    "rules_table",
    "verdict",
    "views_text",
    "write_output_check",
]
